#!/usr/bin/env bash
# Timer overhead: the same run with phase timers on and off, alternated N times so a
# drift of this shared machine hits both alike; prints the median wall time of each and
# their ratio. Usage: scripts/timer-overhead.sh [N=7] [SIMTIME=60] [THREADS=1] [PRECISION=f32]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-7}; simtime=${2:-60}; threads=${3:-1}; precision=${4:-f32}
bin=target/release/snn-bench
[ -x "$bin" ] || cargo build --release -p bench-suite
out=$(mktemp -d)/runs.jsonl
for i in $(seq "$n"); do
  for t in on off; do
    "$bin" run va --quiet --simtime "$simtime" --threads "$threads" --precision "$precision" \
      --timers "$t" --out "$out"
  done
done
"$bin" table "$out"
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
wall = {True: [], False: []}
for r in rows:
    wall[r["config"]["timers"]].append(r["result"]["run"]["wall_s"])
on, off = statistics.median(wall[True]), statistics.median(wall[False])
print(f"median wall: timers on {on:.4f} s, off {off:.4f} s; overhead {100 * (on / off - 1):+.2f} %")
PY
