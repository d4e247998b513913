#!/usr/bin/env bash
# Runs a command against a real Secret Service that is nobody's keyring: a private
# D-Bus session with gnome-keyring's secrets component, unlocked, under a temporary
# HOME and XDG directories. Tests use the OS keyring for real and never touch yours.
#
#   scripts/with-keyring.sh cargo test --workspace
set -euo pipefail

if [ "${QBC_KEYRING_SESSION:-}" != "1" ]; then
  scratch=$(mktemp -d "${TMPDIR:-/tmp}/qbc-keyring.XXXXXX")
  trap 'rm -rf "$scratch"' EXIT
  mkdir -p "$scratch/home" "$scratch/config" "$scratch/data" "$scratch/cache" "$scratch/runtime"
  chmod 700 "$scratch/runtime"
  # Cargo and rustup must still be found where they really are.
  export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
  status=0
  HOME="$scratch/home" XDG_CONFIG_HOME="$scratch/config" XDG_DATA_HOME="$scratch/data" \
  XDG_CACHE_HOME="$scratch/cache" XDG_RUNTIME_DIR="$scratch/runtime" QBC_KEYRING_SESSION=1 \
    dbus-run-session -- "$0" "$@" || status=$?
  # Tests must use their own temporary directories: the app-data directory of this
  # (scratch) HOME must still be untouched.
  if [ -e "$scratch/data/qbconnector" ]; then
    echo "with-keyring: something wrote into the app-data directory ($scratch/data/qbconnector); tests must use temporary directories" >&2
    ls -la "$scratch/data/qbconnector" >&2 || true
    [ "$status" -eq 0 ] && status=1
  fi
  exit "$status"
fi

# Inside the private session: start and unlock the keyring daemon, then run the command.
# The daemon's output goes to a file, not a pipe that closes once its variables are read.
printf '%s' 'test-keyring-password' \
  | gnome-keyring-daemon --unlock --components=secrets >"$XDG_RUNTIME_DIR/keyring.env" 2>/dev/null
eval "$(grep -E '^[A-Z_]+=' "$XDG_RUNTIME_DIR/keyring.env")"
export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK 2>/dev/null || true
status=0
"$@" || status=$?
# A daemon that died mid-run (it once crashed in GLib) makes later requests fail as "locked":
# say so, rather than leave the failures to look like ours.
if [ "$status" -ne 0 ] && ! pgrep -f -- 'gnome-keyring-daemon --unlock' >/dev/null; then
  echo "with-keyring: gnome-keyring-daemon is gone; failures about a locked keyring above come from that" >&2
fi
exit "$status"
