#!/usr/bin/env bash
# The 16-core strong-scaling sweep (scripts/jobs/strong16.toml, issue 13) on a lent
# machine, which has no package registry and maybe no MPI: build the binary here without
# MPI and carry it there,
#   cargo build --release -p bench-suite --target-dir target/device
#   (device) bash scripts/device-sweep.sh      carry: target/device/release/snn-bench
# then copy $OUT/results/<host>/ into results/ and run `snn-bench report --dir` on it.
# The binary is built for this machine's CPU (.cargo/config.toml: target-cpu=native); if
# it dies of an illegal instruction there, build it with
# RUSTFLAGS="-C target-cpu=x86-64-v3" (AVX2) instead, and say so beside the records.
# At most about 8 minutes of the sweep (see the spec) and 20 s of `machine`; the sweep is
# bounded to 8 minutes (what is recorded by then stays: the runner resumes).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/device/release/snn-bench
[ -x "$bin" ] || { echo "error: $bin missing: build it (see the top of this script)" >&2; exit 1; }
dir="${OUT:-/tmp/device-out}/results/$(hostname)"
mkdir -p "$dir"
echo "cores: $(nproc)"; uptime
status=0
timeout 480 "$bin" figures --spec scripts/jobs/strong16.toml --dir "$dir" || status=$?
"$bin" machine --out "$dir/machine.json"
uptime
exit "$status"
