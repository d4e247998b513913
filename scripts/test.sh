#!/usr/bin/env bash
# The README's test command: set-up, format, lints and every test. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
step() { printf '\n== %s (%ss)\n' "$1" "$((SECONDS - started))"; }

step "set-up"
scripts/setup.sh

step "UI: type check, lint, unit tests, build"
(cd ui && npm run --silent check && npm run --silent lint && npm run --silent test && npm run --silent build)

step "format"
cargo fmt --all --check

step "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "rust tests (real Secret Service on a private D-Bus session; includes the TS bindings check)"
cargo build --workspace --all-targets --locked
scripts/with-keyring.sh cargo test --workspace --locked

step "conformance: the public Python QuickBooks clients against qbo-sandbox"
QBO_SANDBOX_BIN="$PWD/target/debug/qbo-sandbox" .venv/bin/python -m pytest -q tests/conformance

step "end-to-end: the desktop app in its real webview (WebDriver, Xvfb)"
scripts/e2e.sh

step "done"
