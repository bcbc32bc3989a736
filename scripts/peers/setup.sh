#!/usr/bin/env bash
# The peers' Python environments (README, "Peers"): NEST 3.10 in .venv-peers/nest
# (CPython 3.11) and Brian2 2.11 in .venv-peers/brian2 (CPython 3.13), each from PyPI by
# its own script. Idempotent: an environment that matches its requirements is kept.
#
#   bash scripts/peers/setup.sh            # both
#   bash scripts/peers/setup.sh nest       # one
#
# Exits non-zero if any environment could not be made (each script says why).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
peers=("$@")
[[ ${#peers[@]} -gt 0 ]] || peers=(nest brian2)
status=0
for p in "${peers[@]}"; do
    [[ -f "$here/setup-$p.sh" ]] || { echo "setup: unknown peer $p (expected nest or brian2)" >&2; exit 2; }
    bash "$here/setup-$p.sh" || status=1
done
exit "$status"
