#!/usr/bin/env bash
# End-to-end tests of the desktop app in its real webview: the built app, driven through
# WebDriver (tauri-driver → WebKitWebDriver) on a virtual display, with a private D-Bus
# session and keyring (scripts/with-keyring.sh) so the deep link and secrets are real.
# Screenshots of each screen land in target/e2e-screenshots/.
#
#   scripts/e2e.sh [script.mjs]   another WebDriver script instead of the test (app-screenshot.sh)
#   QBC_APP_PROFILE=release        drive the release build (what the benchmarks measure)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${QBC_E2E_INNER:-}" != "1" ]; then
  (cd ui && npm run --silent build ${E2E_VITE_ARGS:-})
  if [ "${QBC_APP_PROFILE:-debug}" = release ]; then
    cargo build --locked --release -p qbconnector-app
  else
    cargo build --locked -p qbconnector-app
  fi
  rm -rf target/e2e-screenshots
  export QBC_E2E_INNER=1
  exec scripts/with-keyring.sh xvfb-run -a -s "-screen 0 1400x900x24" "$0" "$@"
fi

root=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/qbc-e2e.XXXXXX")
export E2E_DIR=$work
export QBCONNECTOR_DATA_DIR=$work/data
export QBCONNECTOR_APP_BIN=$root/target/${QBC_APP_PROFILE:-debug}/qbconnector-app
export QBCONNECTOR_OPEN_URL_WITH=$root/tests/e2e/fake-browser.sh
export E2E_SCREENSHOTS=$root/target/e2e-screenshots

# The app starts in the scratch directory: what the webview downloads (History's Export CSV)
# lands there and goes with it, not in the checkout.
(cd "$work" && exec "$root/tools/bin/tauri-driver" --port 4444 --native-driver /usr/bin/WebKitWebDriver) >"$work/tauri-driver.log" 2>&1 &
driver=$!
trap 'kill $driver 2>/dev/null || true; rm -rf "$work"' EXIT
status=0
node "${1:-tests/e2e/app.e2e.mjs}" || status=$?
if [ "$status" -ne 0 ]; then
  echo "e2e: failed; tauri-driver said:" >&2
  tail -n 40 "$work/tauri-driver.log" >&2 || true
fi
exit "$status"
