#!/usr/bin/env bash
# Creates (or updates) the Brian2 peer's virtual environment .venv-peers/brian2 at the
# repository root, with CPython 3.13 and scripts/peers/requirements-brian2.txt from PyPI.
# Idempotent: an existing venv with the pinned set is left as it is (pip finds nothing to do).
# Needs: python3.13 (on PATH, or pyenv's 3.13.x), g++ (Brian2's C++ standalone build).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/.venv-peers/brian2"
req="$here/requirements-brian2.txt"
start=$(date +%s%N)

fail() { echo "setup-brian2: error: $*" >&2; exit 1; }

# Find a CPython 3.13: $PYTHON313, then python3.13 on PATH (a pyenv shim only works
# when 3.13 is among the selected versions), then pyenv's installed 3.13.x.
find_python() {
    local c
    for c in "${PYTHON313:-}" python3.13; do
        [ -n "$c" ] || continue
        if "$c" -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1; then
            command -v "$c" || echo "$c"; return 0
        fi
    done
    local pyroot
    pyroot="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"
    for c in $(ls -d "$pyroot"/versions/3.13.*/bin/python3.13 2>/dev/null | sort -V -r); do
        if "$c" -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1; then
            echo "$c"; return 0
        fi
    done
    return 1
}

py="$(find_python)" || fail "no CPython 3.13 found (tried \$PYTHON313, python3.13, pyenv's versions/3.13.*); Brian2 2.11 needs >= 3.13"
command -v g++ >/dev/null || fail "g++ not found: Brian2's C++ standalone mode needs a C++ compiler (apt-get install g++)"
[ -f "$req" ] || fail "$req missing"

if [ -x "$venv/bin/python" ] && ! "$venv/bin/python" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
    echo "setup-brian2: $venv is not a Python 3.13 venv; recreating it"
    rm -rf "$venv"
fi
if [ ! -x "$venv/bin/python" ]; then
    echo "setup-brian2: creating $venv with $py"
    mkdir -p "$(dirname "$venv")"
    "$py" -m venv "$venv" || fail "could not create the venv $venv with $py"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" \
    || fail "pip install -r $req into $venv failed (PyPI reachable?)"
"$venv/bin/python" -c 'import brian2, scipy; print("setup-brian2: brian2", brian2.__version__, "scipy", scipy.__version__)' \
    || fail "brian2 does not import from $venv"

ms=$(( ($(date +%s%N) - start) / 1000000 ))
printf 'setup-brian2: ready in %d.%03d s (%s, %s)\n' $((ms / 1000)) $((ms % 1000)) "$venv" "$(du -sh "$venv" | cut -f1)"
