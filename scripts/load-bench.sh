#!/usr/bin/env bash
# The barrier under external load (README, "On a busy machine"): va on 1 and 2 threads,
# quiet and beside one busy loop, interleaved, for this build and optionally another
# (`BASE=path/to/old/snn-bench`); prints the median run wall (from the records) of each.
#   scripts/load-bench.sh [SIMTIME=20] [REPS=5]
# Run it on an otherwise idle machine: anything else running is more load.
set -euo pipefail
cd "$(dirname "$0")/.."
simtime=${SIMTIME:-20}
reps=${REPS:-5}
new=target/release/snn-bench
[ -x "$new" ] || { echo "error: $new missing: run make build first" >&2; exit 1; }
bins=("$new")
[ -n "${BASE:-}" ] && bins+=("$BASE")
tmp=$(mktemp -d)
busy=
trap '[ -n "$busy" ] && kill "$busy" 2>/dev/null; rm -rf "$tmp"' EXIT

# Run wall of the last record of a JSON Lines file (no jq needed: the field is unique).
wall() { tail -1 "$1" | grep -o '"run":{[^}]*}' | grep -o '"wall_s":[0-9.e+-]*' | cut -d: -f2; }

for load in quiet busy; do
  if [ "$load" = busy ]; then
    sh -c 'while :; do :; done' &
    busy=$!
    sleep 0.5
  fi
  for r in $(seq "$reps"); do
    for b in "${bins[@]}"; do
      for t in 1 2; do
        label="$load $b threads=$t"
        out="$tmp/$(echo "$label" | tr ' /=' '___').jsonl"
        "$b" run va --simtime "$simtime" --threads "$t" --quiet --out "$out" >/dev/null
        echo "$label $(wall "$out")" >>"$tmp/walls"
      done
    done
  done
  if [ "$load" = busy ]; then kill "$busy"; busy=; fi
done
uptime
# Median per configuration.
awk '{ k = $1 " " $2 " " $3; v[k] = v[k] " " $4 } END { for (k in v) print k, v[k] }' "$tmp/walls" |
  sort | while read -r l b t rest; do
    med=$(echo "$rest" | tr ' ' '\n' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    printf '%-6s %-40s %-10s median %s s  (%s)\n' "$l" "$b" "$t" "$med" "$rest"
  done
