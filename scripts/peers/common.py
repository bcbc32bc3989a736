"""What every peer runner (scripts/peers/*_run.py) shares: its command line, the files it
reads (snn-limits' Matrix Market weights and initial state) and the two files it writes
(the spikes, in the layout of `snn-bench run --spikes`, and a small JSON "meta" file that
`snn-bench peer-record` turns into a record of snn-limits' schema, so that the record is
written by one typed serde schema and never by hand in Python).

Imported first by a runner: the process clock starts at import, so `process_wall_s`
covers everything after the interpreter started (the imports of NEST or Brian2, the
build, the run, the output), not the interpreter's own start (≈ 20 ms here).
"""

import argparse
import json
import os
import resource
import sys
import time

PROCESS_START = time.perf_counter()

import numpy as np  # noqa: E402  (after the clock starts: its import is part of the cost)


def parse_args(description, networks):
    """The runners' common command line (scripts/peers/suite.py passes it)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--network", required=True, choices=networks)
    p.add_argument("--plastic", action="store_true", help="the plastic variant")
    p.add_argument("--simtime", type=float, required=True, help="model time (s) of the measured run")
    p.add_argument("--priming", type=float, default=0.0,
                   help="model time (s) run with plasticity off before the measured run")
    p.add_argument("--dt", type=float, default=1e-4, help="time step (s)")
    p.add_argument("--delay", type=float, default=8e-4, help="synaptic delay of every connection (s)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=1, help="the peer's own seed (its Poisson input)")
    p.add_argument("--weights", required=True,
                   help="directory of snn-limits' Matrix Market files (--save-initial-weights)")
    p.add_argument("--initial-v", required=True,
                   help="snn-limits' state monitor of V on all neurons (state-v-all.npy): row 0 is V at step 0")
    p.add_argument("--spikes", required=True, help="output: spikes as .npy, int64 (n, 2): step, neuron id")
    p.add_argument("--meta", required=True, help="output: the run's meta JSON for snn-bench peer-record")
    p.add_argument("--save-weights", help="output: the final weights as Matrix Market files in this directory")
    a = p.parse_args()
    for name, v in [("--simtime", a.simtime), ("--dt", a.dt), ("--delay", a.delay)]:
        if not (v > 0 and np.isfinite(v)):
            p.error(f"{name} {v}: expected a positive number")
    if a.priming < 0 or a.threads < 1:
        p.error("--priming must be >= 0 and --threads >= 1")
    return a


def read_mtx(path):
    """A Matrix Market coordinate file as 0-based (pre, post, weight) arrays."""
    from scipy.io import mmread

    m = mmread(path).tocoo()
    return m.row.astype(np.int64), m.col.astype(np.int64), m.data.astype(np.float64)


def read_weights(path, n_pre, n_post, what, fail):
    """snn-limits' weight file of an n_pre × n_post pathway (`ee.mtx` …), checked before
    its entries are stored: it exists, is a Matrix Market coordinate matrix of that shape,
    its `% pathway XX` comment (if any) names the file's pathway, it holds as many finite
    weights as its size line says. `what` says what the file should be, in messages;
    `fail(msg)` ends the run (each runner's own, so its messages carry its name)."""
    from scipy.io import mminfo

    if not os.path.isfile(path):
        fail(f"{path}: not found (expected {what}, {n_pre} x {n_post}, from snn-bench run "
             "--save-initial-weights)")
    try:
        rows, cols, entries, fmt, _, _ = mminfo(path)
    except Exception as e:  # noqa: BLE001  (any parse failure is the file's fault)
        fail(f"{path}: not a Matrix Market file: {e}")
    if fmt != "coordinate" or (rows, cols) != (n_pre, n_post):
        fail(f"{path}: {fmt} {rows} x {cols}, expected a {n_pre} x {n_post} coordinate "
             f"matrix ({what})")
    key = os.path.basename(path).split(".")[0].upper()
    with open(path, errors="replace") as f:
        for line in f:
            if not line.startswith("%"):
                break
            words = line[1:].split()
            if len(words) == 2 and words[0].lower() == "pathway" and words[1].upper() != key:
                fail(f"{path}: says pathway {words[1]}, expected {key}")
    try:
        pre, post, w = read_mtx(path)
    except Exception as e:  # noqa: BLE001
        fail(f"{path}: cannot read it as Matrix Market: {e}")
    if len(w) != entries:
        fail(f"{path}: the size line says {entries} entries, read {len(w)}")
    if not np.all(np.isfinite(w)):
        fail(f"{path}: non-finite weights")
    return pre, post, w


def write_mtx(path, n_pre, n_post, pre, post, w):
    """Weights in snn-limits' layout (1-based, sorted by row then column), so that
    `snn-bench`, Auryn and SciPy read them."""
    order = np.lexsort((post, pre))
    with open(path, "w") as f:
        f.write("%%MatrixMarket matrix coordinate real general\n")
        f.write(f"{n_pre} {n_post} {len(w)}\n")
        for i in order:
            f.write(f"{pre[i] + 1} {post[i] + 1} {w[i]:.9g}\n")


def read_initial_v(path, neurons):
    """V (volts) of every neuron at step 0: row 0 of an `state:v:all:EVERY` monitor file."""
    v = np.load(path)
    if v.ndim != 2 or v.shape[1] != neurons:
        sys.exit(f"{path}: expected a (samples, {neurons}) state monitor of v on all neurons, found shape {v.shape}")
    return v[0].astype(np.float64)


def write_spikes(path, steps, ids):
    """Spikes as snn-limits writes them: int64 (n, 2) rows (step, id), sorted by step then id."""
    steps = np.asarray(steps, dtype=np.int64)
    ids = np.asarray(ids, dtype=np.int64)
    order = np.lexsort((ids, steps))
    np.save(path, np.stack([steps[order], ids[order]], axis=1).reshape(-1, 2))


def write_meta(path, args, simulator, **fields):
    """The run's meta JSON. `simulator`: name, version, solver, threads. `fields` must hold
    setup_wall_s (build, before the simulation loop), loop_wall_s (the simulator's own timer
    of the loop), neurons, synapses; this adds the process's wall and CPU time and peak
    memory (children included: Brian2's standalone binary is one)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    meta = {
        "simulator": simulator,
        "network": args.network,
        "plastic": bool(args.plastic),
        "simtime_s": args.simtime,
        "priming_s": args.priming,
        "dt_s": args.dt,
        "delay_s": args.delay,
        "seed": args.seed,
        "weights": os.path.abspath(args.weights),
        "initial_v": os.path.abspath(args.initial_v),
        "spikes": os.path.abspath(args.spikes),
        "final_weights": os.path.abspath(args.save_weights) if args.save_weights else None,
        "process_wall_s": time.perf_counter() - PROCESS_START,
        "process_cpu_s": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
        # ru_maxrss is in KiB on Linux.
        "peak_rss_bytes": 1024 * max(me.ru_maxrss, kids.ru_maxrss),
    }
    meta.update(fields)
    with open(path, "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
