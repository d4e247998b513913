#!/usr/bin/env bash
# Stands in for the operator's browser in the end-to-end tests (the app runs it through
# QBCONNECTOR_OPEN_URL_WITH): it opens Intuit's consent page, which the demo sandbox
# approves at once, and follows the redirect: to the app's loopback listener, or to the
# https relay page, whose one job — handing the answer to qbconnector://oauth/callback —
# it does here by launching the app with the link, as the desktop would. The running
# app receives it from that second launch (single instance), which then exits.
#
# With the file $E2E_DIR/forge-next-state present, it first hands over a link with a
# forged state (then removes the file): the app must refuse it and still accept the next.
set -euo pipefail
authorize_url=$1
location=$(curl -s -o /dev/null -w '%{redirect_url}' "$authorize_url")
case "$location" in
  http://localhost:*|http://127.0.0.1:*)
    curl -s -o /dev/null "$location"
    ;;
  https://*)
    query=${location#*\?}
    if [ -e "$E2E_DIR/forge-next-state" ]; then
      rm -f "$E2E_DIR/forge-next-state"
      "$QBCONNECTOR_APP_BIN" "qbconnector://oauth/callback?$(printf '%s' "$query" | sed 's/state=[^&]*/state=forged/')"
    fi
    "$QBCONNECTOR_APP_BIN" "qbconnector://oauth/callback?$query"
    ;;
  *)
    echo "fake-browser: the consent page did not redirect ($location)" >&2
    exit 1
    ;;
esac
