#!/usr/bin/env bash
# Installs what building and testing need on a fresh Debian 12 machine, and
# nothing twice: a second run with everything present takes about a second.
#
#   scripts/setup.sh            system packages + Rust components + Python venv
#   scripts/setup.sh --system   system packages only
set -euo pipefail
cd "$(dirname "$0")/.."

# Building the core crates (keyring talks D-Bus) and running their tests
# against a real Secret Service (gnome-keyring on a private session bus).
CORE_PACKAGES=(pkg-config build-essential libdbus-1-dev libssl-dev dbus dbus-x11 gnome-keyring libsecret-tools python3-venv)
# The desktop app (Tauri 2: WebKitGTK, tray, icons) and its end-to-end tests in the
# real webview (Xvfb, WebKitWebDriver).
DESKTOP_PACKAGES=(libwebkit2gtk-4.1-dev libgtk-3-dev libsoup-3.0-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev file
  xdg-utils xvfb xauth webkit2gtk-driver desktop-file-utils x11-apps imagemagick)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

install_system_packages() {
  local missing
  missing=$(missing_packages "$@")
  [ -z "$missing" ] && return 0
  echo "setup: installing Debian packages: $(echo $missing)" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # shellcheck disable=SC2086
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

install_rust_components() {
  rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
}

install_python_env() {
  # The public QuickBooks Python clients drive the sandbox in the conformance test.
  local venv=.venv
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  if ! cmp -s tests/conformance/requirements.txt "$venv/.requirements.installed" 2>/dev/null; then
    "$venv/bin/pip" install -q --disable-pip-version-check -r tests/conformance/requirements.txt
    cp tests/conformance/requirements.txt "$venv/.requirements.installed"
  fi
}

install_node_packages() {
  # npm ci in $1 only when its lock file changed since the last install.
  if ! cmp -s "$1/package-lock.json" "$1/node_modules/.package-lock.installed" 2>/dev/null; then
    (cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$1/package-lock.json" "$1/node_modules/.package-lock.installed"
  fi
}

install_tauri_driver() {
  # The WebDriver bridge the end-to-end tests talk to; it drives WebKitWebDriver.
  local version=2.1.0
  if ! tools/bin/tauri-driver --version 2>/dev/null | grep -q "$version"; then
    cargo install --locked --quiet --root tools tauri-driver --version "$version"
  fi
}

install_system_packages "${CORE_PACKAGES[@]}" "${DESKTOP_PACKAGES[@]}"
[ "${1:-}" = "--system" ] && exit 0
install_rust_components
[ -f tests/conformance/requirements.txt ] && install_python_env
[ -f ui/package-lock.json ] && install_node_packages ui
if [ "${1:-}" != "--no-e2e" ]; then
  install_tauri_driver
  install_node_packages tests/e2e
fi
exit 0
