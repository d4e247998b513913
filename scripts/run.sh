#!/usr/bin/env bash
# The README's run command. Until the desktop app lands it runs the headless demo:
# a bundled QuickBooks Online sandbox, a connected instance, demo records pushed,
# changes on both sides synced; then the sandbox stays up for you to explore with
# the qbconnector CLI (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --system
cargo build --release -p qbconnector -p qbo-sandbox
export QBCONNECTOR_DATA_DIR="${QBCONNECTOR_DATA_DIR:-$PWD/target/demo-data}"
demo=(target/release/qbconnector demo --keep-running)
if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  exec "${demo[@]}"
fi
# No desktop session here: the demo's secrets go to a throwaway Secret Service.
echo "No desktop session: using a private, throwaway keyring for the demo." >&2
exec scripts/with-keyring.sh "${demo[@]}"
