#!/usr/bin/env bash
# The README's run command. Until the desktop app lands it starts qbo-sandbox, the
# local QuickBooks Online server, with its five demo companies.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --system
cargo build --release -p qbo-sandbox
exec target/release/qbo-sandbox --auto-approve first "$@"
