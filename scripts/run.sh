#!/usr/bin/env bash
# The README's run command: the desktop app in demo mode, with the bundled QuickBooks
# sandbox and a demo company ready to connect. Where there is no display it runs the
# headless demo instead (sandbox, connect, push, changes on both sides, sync) and says
# how to see the app on a virtual display.
set -euo pipefail
cd "$(dirname "$0")/.."
export QBCONNECTOR_DATA_DIR="${QBCONNECTOR_DATA_DIR:-$PWD/target/demo-data}"

with_keyring() {
  if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
    "$@"
  else
    echo "No desktop session: using a private, throwaway keyring for the demo." >&2
    scripts/with-keyring.sh "$@"
  fi
}

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  scripts/setup.sh --no-e2e
  (cd ui && npm run --silent build)
  cargo build -p qbconnector-app
  QBCONNECTOR_DEMO=1 with_keyring target/debug/qbconnector-app
  exit
fi

scripts/setup.sh --system
cargo build --release -p qbconnector -p qbo-sandbox
cat >&2 <<'NOTE'
No display here, so this is the headless demo. To see the desktop app instead:
  scripts/app-screenshot.sh        # starts it on a virtual display (Xvfb), saves target/app-screenshot.png
  xvfb-run -a make run             # or run it there yourself
NOTE
with_keyring target/release/qbconnector demo --keep-running
