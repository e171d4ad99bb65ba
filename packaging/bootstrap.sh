#!/usr/bin/env bash
# Set up everything Chainfolio needs on a fresh Debian/Ubuntu machine, then run it or its tests.
#   bash packaging/bootstrap.sh run [ARGS...]   set up, then start the app (ARGS go to chainfolio)
#   bash packaging/bootstrap.sh test [PYTEST ARGS...]   set up, then ruff, mypy and every test
#   bash packaging/bootstrap.sh setup           set up only (app + test tools)
set -euo pipefail
MODE="${1:-run}"; shift || true
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
UV_VERSION="0.13.9"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# --- system packages (only when root and something is missing) --------------------------------
APP_DEBS=(libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libegl1 libgl1
  libfontconfig1 libdbus-1-3 libglib2.0-0)
TEST_DEBS=(xvfb xauth dbus dbus-x11 gnome-keyring trayer nodejs npm x11-utils desktop-file-utils
  appstream microsocks postgresql)
need_debs=("${APP_DEBS[@]}")
[ "$MODE" = run ] || need_debs+=("${TEST_DEBS[@]}")
missing=()
if command -v dpkg-query >/dev/null; then
  for p in "${need_debs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
fi
# node/npm from elsewhere (nvm, nodesource) is fine too
if command -v node >/dev/null && command -v npm >/dev/null; then
  kept=(); for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || kept+=("$p"); done
  missing=("${kept[@]+"${kept[@]}"}")
fi
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "missing system packages (install them with sudo apt-get install): ${missing[*]}"
  fi
fi

# --- Python 3.12+ (3.11 works with the PySide6 6.11 pin) ----------------------------------------
find_python() {
  local c
  for c in python3.13 python3.12; do
    if command -v "$c" >/dev/null && "$c" -c 'import sys' 2>/dev/null; then command -v "$c"; return; fi
  done
  for c in "$HOME"/.pyenv/versions/3.13*/bin/python3 "$HOME"/.pyenv/versions/3.12*/bin/python3; do
    [ -x "$c" ] && { echo "$c"; return; }
  done
  if python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    command -v python3; return
  fi
  echo "Chainfolio needs Python 3.11 or newer (3.12+ recommended)." >&2; exit 1
}
PY="${CHAINFOLIO_PYTHON:-$(find_python)}"

# --- uv, pinned, in a private tools venv -------------------------------------------------------
UV="$ROOT/.tools/bin/uv"
if ! { [ -x "$UV" ] && "$UV" --version 2>/dev/null | grep -q " $UV_VERSION"; }; then
  say "installing uv $UV_VERSION"
  "$PY" -m venv "$ROOT/.tools" 2>/dev/null || {
    [ "$(id -u)" = 0 ] && apt-get install -y -qq python3-venv >/dev/null; "$PY" -m venv "$ROOT/.tools"; }
  "$ROOT/.tools/bin/python" -m pip install -q "uv==$UV_VERSION"
fi
export UV_PYTHON_DOWNLOADS=never
export UV_COMPILE_BYTECODE=1  # a faster first start: no compiling on import

if [ "$MODE" = run ]; then
  say "syncing the app environment from uv.lock ($("$PY" --version))"
  "$UV" sync --frozen --no-dev --inexact --python "$PY" -q
  exec "$ROOT/.venv/bin/chainfolio" "$@"
fi

say "syncing the development environment from uv.lock ($("$PY" --version))"
"$UV" sync --frozen --python "$PY" -q
# The dependency-rule checker, pinned in uv.lock too, in an environment of its own.
UV_PROJECT_ENVIRONMENT="$ROOT/.venv-lint" "$UV" sync --frozen --only-group lint --python "$PY" -q
if [ -f package.json ]; then
  say "installing test nodes (npm, pinned in package.json)"
  npm install --no-audit --no-fund --loglevel=error >/dev/null
fi
[ "$MODE" = setup ] && exit 0

say "ruff"
.venv/bin/ruff check app tests
.venv/bin/ruff format --check app tests
say "mypy"
.venv/bin/mypy
say "import contracts (the dependency rule)"
PYTHONPATH="$ROOT" "$ROOT/.venv-lint/bin/lint-imports" --no-cache
say "pytest"
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
# A private D-Bus session so the keyring and tray tests never touch the user's own.
exec dbus-run-session -- .venv/bin/python -m pytest "$@"
