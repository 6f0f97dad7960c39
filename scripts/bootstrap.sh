#!/usr/bin/env bash
# Set up everything govserve needs from its own files: a Python >= 3.12, uv,
# the locked Python dependencies, the locked npm packages and the static
# assets. Idempotent and quick when nothing changed. Prints the interpreter it
# chose to .venv/.python-found. Exit non-zero with a clear message otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'govserve setup: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

python_ok() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null
}

find_python() {
  local candidate
  if [ -n "${GOVSERVE_PYTHON:-}" ]; then
    python_ok "$GOVSERVE_PYTHON" && { echo "$GOVSERVE_PYTHON"; return; }
    die "GOVSERVE_PYTHON=$GOVSERVE_PYTHON is not a Python >= 3.12"
  fi
  for candidate in python3.13 python3.12 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then
      local resolved
      resolved=$(command -v "$candidate")
      # pyenv shims answer for versions that are not selected: ask them directly.
      if python_ok "$resolved"; then
        "$resolved" -c 'import sys; print(sys.executable)'
        return
      fi
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    for candidate in 3.13 3.12; do
      local version
      version=$(pyenv versions --bare 2>/dev/null | grep -E "^${candidate//./\\.}(\.[0-9]+)?$" | sort -V | tail -n 1 || true)
      if [ -n "$version" ]; then
        local interpreter
        interpreter=$(PYENV_VERSION="$version" pyenv which python 2>/dev/null || true)
        if [ -n "$interpreter" ] && python_ok "$interpreter"; then echo "$interpreter"; return; fi
      fi
    done
  fi
  die "no Python >= 3.12 found on PATH or through pyenv. Install one (Debian 13: apt-get install python3; elsewhere: pyenv install 3.12) and run this again."
}

PYTHON=$(find_python)
export UV_PYTHON="$PYTHON" UV_PYTHON_DOWNLOADS=never

if ! "$PYTHON" -m uv --version >/dev/null 2>&1 && ! command -v uv >/dev/null 2>&1; then
  say "installing uv with $PYTHON -m pip"
  "$PYTHON" -m pip install --quiet uv 2>/dev/null || "$PYTHON" -m pip install --quiet --user uv \
    || die "could not install uv: run '$PYTHON -m pip install uv' and try again"
fi
if "$PYTHON" -m uv --version >/dev/null 2>&1; then UV=("$PYTHON" -m uv); else UV=(uv); fi

stamp=.venv/.govserve-setup
# The Welsh catalogue counts too: build_assets.py compiles it when it changed.
inputs_hash=$(cat pyproject.toml uv.lock package.json package-lock.json govserve/locale/*/LC_MESSAGES/django.po 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$inputs_hash:$PYTHON" ] && [ -d govserve/web/static/govuk ]; then
  exit 0
fi

say "Python: $PYTHON"
"${UV[@]}" sync --frozen --quiet || die "uv sync failed (see above)"

command -v npm >/dev/null 2>&1 || die "npm not found: install Node.js 20+ (Debian: apt-get install nodejs npm) and try again"
if [ ! -d node_modules/govuk-frontend ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error || die "npm ci failed (see above)"
fi
.venv/bin/python scripts/build_assets.py
echo "$inputs_hash:$PYTHON" > "$stamp"
