#!/usr/bin/env bash
# A scaling sweep under mpirun: builds snn-bench with MPI, then runs the sweep SPEC
# (see scripts/sweeps/), launching each configuration with `ranks` > 1 through mpirun
# with HOSTFILE (Open MPI format: `host [slots=N]` per line).
#   scripts/sweep-mpi.sh SPEC [HOSTFILE] [-- extra sweep options, e.g. --out FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 SPEC [HOSTFILE] [-- sweep options]" >&2; exit 2; }
spec=$1; shift
hostfile=""
if [ $# -ge 1 ] && [ "$1" != "--" ]; then hostfile=$1; shift; fi
[ "${1:-}" = "--" ] && shift
[ -f "$spec" ] || { echo "error: sweep spec '$spec' not found" >&2; exit 1; }
command -v mpirun >/dev/null 2>&1 || { echo "error: mpirun not found: run scripts/install-deps.sh (as root)" >&2; exit 1; }
cargo build --release -q -p bench-suite --features bench-suite/mpi
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
exec target/release/snn-bench sweep "$spec" ${hostfile:+--hostfile "$hostfile"} "$@"
