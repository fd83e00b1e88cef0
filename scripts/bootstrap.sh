#!/usr/bin/env bash
# Creates the project-local virtualenv (.venv) with the Python tools the scripts use:
# scripts/requirements.txt (what the tests use); with WITH_RUN_TOOLS=1 also
# requirements-run.txt (cargo-lambda); with WITH_CI_TOOLS=1 both and requirements-ci.txt.
# Safe to run again: it installs a list only when it changed, and is silent otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null || { echo "bootstrap: $PYTHON not found; install Python 3.9+ first" >&2; exit 1; }
command -v cargo >/dev/null || { echo "bootstrap: cargo not found; install Rust with rustup first" >&2; exit 1; }

lists=(requirements)
[ "${WITH_RUN_TOOLS:-0}" = 1 ] || [ "${WITH_CI_TOOLS:-0}" = 1 ] && lists+=(requirements-run)
[ "${WITH_CI_TOOLS:-0}" = 1 ] && lists+=(requirements-ci)

# One stamp per list, named after its content: .venv/.installed-<list>-<hash>.
stamp() { echo ".venv/.installed-$1-$(sha256sum <"scripts/$1.txt" | cut -c1-16)"; }
todo=()
for list in "${lists[@]}"; do
  [ -f "$(stamp "$list")" ] || todo+=("$list")
done
[ ${#todo[@]} -gt 0 ] || exit 0

args=()
packages=()
for list in "${todo[@]}"; do
  args+=(-r "scripts/$list.txt")
  read -ra names <<<"$(grep -v '^\s*#' "scripts/$list.txt" | sed 's/[=<>!~ ].*//' | paste -sd ' ' -)"
  packages+=("${names[@]}")
done
case " ${todo[*]} " in
  *" requirements-ci "*) about="1 to 2 min" ;;
  *) about="under a minute" ;;
esac
echo "bootstrap: installing ${packages[*]} into .venv with pip, from PyPI ($about the first time)"
start=$SECONDS
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# --no-compile: no .pyc files written at install (Python compiles what it imports, when
# it imports it); the install is then about a third faster.
.venv/bin/python -m pip install --quiet --no-compile "${args[@]}"
for list in "${todo[@]}"; do
  rm -f .venv/.installed-"$list"-*
  touch "$(stamp "$list")"
done
echo "bootstrap: .venv ready ($((SECONDS - start)) s)"
