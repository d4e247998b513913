#!/usr/bin/env bash
# Shows the desktop app where there is no display: starts it in demo mode on a virtual
# display and saves what its window shows to target/app-screenshot.png (open it with
# any image viewer). Also prints how long the window took to show its first screen
# and the app's memory once idle.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
QBCONNECTOR_DEMO=1 exec scripts/e2e.sh tests/e2e/screenshot.mjs
