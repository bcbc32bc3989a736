#!/usr/bin/env bash
# Creates (or brings up to date) the NEST peer's virtual environment .venv-peers/nest
# under the repository root, with CPython 3.11 and scripts/peers/requirements-nest.txt
# from PyPI. Idempotent: a venv whose installed packages already match the requirements
# (checked by a stamp holding the requirements' checksum) is left as it is.
#
#   scripts/peers/setup-nest.sh            # then: .venv-peers/nest/bin/python scripts/peers/nest_run.py …
#   PYTHON=/path/to/python3.11 scripts/peers/setup-nest.sh
#
# Exits non-zero with a message saying what failed.
set -euo pipefail

start=$(date +%s.%N)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
venv="$root/.venv-peers/nest"
req="$here/requirements-nest.txt"
stamp="$venv/.requirements.sha256"

fail() { echo "setup-nest: $*" >&2; exit 1; }
elapsed() { awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }

[[ -f "$req" ]] || fail "$req: not found"

# CPython 3.11: $PYTHON, else the first of python3.11 on PATH (pyenv's shim), pyenv's
# 3.11 installs, /usr/bin/python3.11 that runs.
py=${PYTHON:-}
if [[ -z "$py" ]]; then
    candidates=()
    command -v python3.11 >/dev/null 2>&1 && candidates+=("$(command -v python3.11)")
    for d in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.11*; do
        [[ -x "$d/bin/python3.11" ]] && candidates+=("$d/bin/python3.11")
    done
    candidates+=(/usr/bin/python3.11 /usr/local/bin/python3.11)
    for c in "${candidates[@]}"; do
        if [[ -x "$c" ]] && "$c" -c 'import sys, venv' >/dev/null 2>&1; then py=$c; break; fi
    done
    [[ -n "$py" ]] || fail "no CPython 3.11 found (python3.11 on PATH, pyenv's 3.11, /usr/bin/python3.11); nest-simulator 3.10.0's wheels are for 3.11 - set PYTHON=/path/to/python3.11"
fi
ver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) \
    || fail "$py: does not run"
[[ "$ver" == "3.11" ]] || fail "$py is Python $ver; nest-simulator 3.10.0's wheels need CPython 3.11 (set PYTHON)"

want=$(sha256sum "$req" | cut -d' ' -f1)
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
    && PYNEST_QUIET=1 "$venv/bin/python" -c 'import nest, numpy, scipy' >/dev/null 2>&1; then
    echo "setup-nest: $venv is up to date ($(elapsed) s)"
    exit 0
fi

echo "setup-nest: creating $venv with $py (Python $ver)"
mkdir -p "$(dirname "$venv")"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$venv"
    "$py" -m venv "$venv" || fail "python -m venv $venv failed"
fi
rm -f "$stamp"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" \
    || fail "pip install -r $req failed (is PyPI reachable?)"
PYNEST_QUIET=1 "$venv/bin/python" -c 'import nest, numpy, scipy; assert nest.__version__ == "3.10.0", nest.__version__' \
    || fail "the installed nest-simulator does not import (see above)"
echo "$want" > "$stamp"
echo "setup-nest: installed nest-simulator 3.10.0 into $venv ($(du -sh "$venv" | cut -f1)) in $(elapsed) s"
