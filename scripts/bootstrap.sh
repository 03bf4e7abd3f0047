#!/usr/bin/env bash
# Shared set-up for ./run and ./test: a virtual environment with releasebot installed.
# Re-running is cheap: the install only happens when pyproject.toml changed. Quiet unless a
# step fails: one progress line per step, and the installer's own output only on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
log=.venv-setup.log

step() {
  # step "<what>" command…: one line saying what runs; the full output only if it fails.
  local what=$1
  shift
  echo "releasebot: $what…" >&2
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "releasebot: $what failed (full output above, also in $log)" >&2
    exit 1
  fi
}

if [ ! -x .venv/bin/python ]; then
  step "creating the virtual environment in .venv" "$PYTHON" -m venv .venv
fi
stamp=.venv/.releasebot-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  step "updating pip" .venv/bin/python -m pip install --quiet --upgrade pip
  step "installing releasebot and its dependencies (a minute on first use)" \
    .venv/bin/python -m pip install --quiet -e '.[dev]'
  touch "$stamp"
  rm -f "$log"
fi
