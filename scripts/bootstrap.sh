#!/usr/bin/env bash
# Creates the project-local virtualenv (.venv) with the Python tools the scripts use.
# Safe to run again: it only reinstalls when scripts/requirements*.txt changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null || { echo "bootstrap: $PYTHON not found; install Python 3.9+ first" >&2; exit 1; }
command -v cargo >/dev/null || { echo "bootstrap: cargo not found; install Rust with rustup first" >&2; exit 1; }

reqs=(scripts/requirements.txt)
[ "${WITH_CI_TOOLS:-0}" = 1 ] && reqs+=(scripts/requirements-ci.txt)
stamp=.venv/.installed-$(cat "${reqs[@]}" | sha256sum | cut -c1-16)

if [ ! -f "$stamp" ]; then
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  args=()
  for r in "${reqs[@]}"; do args+=(-r "$r"); done
  .venv/bin/python -m pip install --quiet "${args[@]}"
  rm -f .venv/.installed-*
  touch "$stamp"
  echo "bootstrap: .venv ready"
fi
