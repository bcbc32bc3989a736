#!/usr/bin/env bash
# `make bench-compare BASE=<commit>`: a regression check of this tree against BASE.
#
# Builds BASE in a git worktree (target/bench-compare/, its own target directory),
# runs the va suite with both builds interleaved (per repetition and configuration one
# run of each, the order alternating between repetitions, so that a machine getting
# slower or faster over the minutes hits both alike), then compares them with
# `snn-bench compare --fail-slower THRESHOLD`: the exit status is non-zero if a
# configuration is slower than BASE by more than THRESHOLD percent with a bootstrap
# interval that excludes no change. Environment (defaults): SIMTIME (20 s of model time
# per run), REPS (5), THRESHOLD (5), OUT (results/bench-compare/BASE-vs-HEAD),
# HEAD_BIN (target/release/snn-bench, this tree's build). BASE needs `snn-bench run
# --quiet --out` (d189e51 and later).
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:-}
if [ -z "$base" ]; then
    echo "usage: make bench-compare BASE=<commit> (or scripts/bench-compare.sh COMMIT)" >&2
    exit 2
fi
if ! sha=$(git rev-parse --verify --quiet "$base^{commit}"); then
    echo "error: BASE=$base: not a commit of this repository" >&2
    exit 2
fi
short=${sha:0:9}
head_bin=${HEAD_BIN:-target/release/snn-bench}
if [ ! -x "$head_bin" ]; then
    echo "error: $head_bin: not built (make build)" >&2
    exit 2
fi
simtime=${SIMTIME:-20}
reps=${REPS:-5}
threshold=${THRESHOLD:-5}
head_name=$(git rev-parse --short=9 HEAD)$(git diff --quiet HEAD 2>/dev/null || echo +)
out=${OUT:-results/bench-compare/$short-vs-$head_name}
# Nothing already written is lost: a second check goes into a directory of its own.
if [ -e "$out/base" ] || [ -e "$out/head" ]; then
    echo "error: $out: already holds a check's runs; remove it or set OUT=" >&2
    exit 2
fi
work=target/bench-compare
src=$work/src-$short-$$
mkdir -p "$work"
git worktree add --detach "$src" "$sha" >/dev/null 2>&1
trap 'git worktree remove --force "$src" >/dev/null 2>&1 || true' EXIT
echo "bench-compare: building $short (in $src)"
(cd "$src" && CARGO_TARGET_DIR="$(cd .. && pwd)/target" cargo build --release -p bench-suite --quiet)
base_bin=$work/target/release/snn-bench
mkdir -p "$out/base" "$out/head"
configs=("--threads 1" "--threads 2" "--threads 1 --precision f64")
echo "bench-compare: va ${simtime} s, ${#configs[@]} configurations × $reps repetitions × 2 builds; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq "$reps"); do
    order="base head"
    [ $((rep % 2)) -eq 0 ] && order="head base"
    for c in "${configs[@]}"; do
        for side in $order; do
            bin=$base_bin
            [ "$side" = head ] && bin=$head_bin
            # shellcheck disable=SC2086 # the configuration's flags are words
            "$bin" run va --simtime "$simtime" $c --quiet --out "$out/$side/runs.jsonl" >/dev/null
        done
    done
done
echo "bench-compare: runs done; load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$head_bin" compare "$out/base" "$out/head" --out "$out/report" --fail-slower "$threshold"
