"""Brian2 peer runner (issue 12): runs one of snn-limits' networks in Brian2's C++
standalone mode on the connectivity and initial V that snn-limits wrote
(`snn-bench run … --save-initial-weights DIR --monitor state:v:all:1s`), and writes the
spikes and a meta file for `snn-bench peer-record` (scripts/peers/common.py).

    .venv-peers/brian2/bin/python scripts/peers/brian2_run.py --network va --simtime 2 \
        --weights W_DIR --initial-v M_DIR/state-v-all.npy --spikes S.npy --meta M.json

The models are written to do snn-limits' arithmetic in snn-limits' order (see each
builder): the same time step, the same delays in steps, the same refractory updates.

Step mapping. snn-limits' step s integrates from s·dt to (s+1)·dt and writes a spike at
s when the neuron crossed threshold in that update. Brian2's step i (t = i·dt) runs the
state updaters (t → t + dt), then the thresholds: a spike Brian2 records at t = i·dt is
a crossing in the update from i·dt to (i+1)·dt, snn-limits' step i. So step =
round(t / dt), counted from the start of the priming run as snn-limits counts (a run
with --priming P writes the spikes of steps P/dt … (P + simtime)/dt − 1 only).
"""

import common  # first: the process clock starts at its import

import os
import sys
import time

NETWORKS = ["va", "brunel", "zenke25k"]

args = common.parse_args("Run an snn-limits network in Brian2 (C++ standalone).", networks=NETWORKS)

import numpy as np  # noqa: E402

t_import = time.perf_counter()
import brian2  # noqa: E402
from brian2 import (  # noqa: E402
    Network, NeuronGroup, PoissonInput, SpikeMonitor, Synapses, defaultclock, device, ms, mV, Hz,
    prefs, second, set_device, seed,
)
from brian2.utils.logger import BrianLogger  # noqa: E402
import_wall_s = time.perf_counter() - t_import
# "OpenMP code is not yet well tested": said on every run with openmp_threads > 0.
BrianLogger.suppress_name("openmp")


def fail(msg):
    sys.exit(f"brian2_run: error: {msg}")


# ---- inputs -----------------------------------------------------------------------

def read_weights(name, n_pre, n_post):
    """snn-limits' weight file NAME (ee.mtx …) of an n_pre × n_post pathway, checked."""
    return common.read_weights(os.path.join(args.weights, name), n_pre, n_post,
                               f"the {name.split('.')[0].upper()} weights of {args.network}", fail)


def read_v0(n):
    if not os.path.isfile(args.initial_v):
        fail(f"{args.initial_v}: initial-V file not found (write it with snn-bench run "
             f"{args.network} --monitor state:v:all:1s --monitor-dir DIR: DIR/state-v-all.npy)")
    try:
        v0 = common.read_initial_v(args.initial_v, n)  # exits with a message on a bad shape
    except (ValueError, OSError) as e:
        fail(f"{args.initial_v}: not a NumPy .npy state monitor: {e}")
    if not np.all(np.isfinite(v0)):
        fail(f"{args.initial_v}: non-finite V in row 0")
    return v0


def read_v0_any(n, n_with_inputs):
    """As read_v0, for a network with Poisson inputs: snn-limits' monitor of v on all
    may list the inputs too (their V is never used); take the first n."""
    try:
        shape = np.load(args.initial_v, mmap_mode="r").shape
    except Exception:  # noqa: BLE001  (read_v0 says what is wrong)
        return read_v0(n)
    return read_v0(n_with_inputs)[:n] if len(shape) == 2 and shape[1] == n_with_inputs else read_v0(n)


def steps(t):
    """A time (s) as a whole number of steps of dt, checked."""
    k = round(t / args.dt)
    if abs(k * args.dt - t) > 1e-6 * args.dt:
        fail(f"{t} s is not a whole number of steps of dt = {args.dt} s")
    return k


# ---- the device ---------------------------------------------------------------------

work = os.path.dirname(os.path.abspath(args.meta)) or "."
build_dir = os.path.join(work, f"brian2-build-{args.network}{'-plastic' if args.plastic else ''}-{os.getpid()}")
set_device("cpp_standalone", directory=build_dir, build_on_run=False)
prefs.devices.cpp_standalone.openmp_threads = args.threads
defaultclock.dt = args.dt * second
seed(args.seed)

steps(args.delay)  # checked: a whole number of steps (the pathways' delay)
priming_steps = steps(args.priming) if args.priming > 0 else 0
sim_steps = steps(args.simtime)
synapse_objects = {}  # file name -> (Synapses, n_pre, n_post)
input_groups = []  # (PoissonGroup, id of its first neuron)


def read_all_weights(NE, NI):
    """The four pathways' files, all read and checked before any Brian2 object exists
    (so that an error leaves no 'unused object' warnings behind)."""
    return {name: (read_weights(name, n_pre, n_post), n_pre, n_post)
            for name, n_pre, n_post in [("ee.mtx", NE, NE), ("ei.mtx", NE, NI),
                                        ("ie.mtx", NI, NE), ("ii.mtx", NI, NI)]}


def connect(name, S, weights, unit=1):
    (pre, post, w), n_pre, n_post = weights[name]
    S.connect(i=pre, j=post)
    S.w = w * unit
    synapse_objects[name] = (S, n_pre, n_post)


# ---- va: Vogels–Abbott COBA ---------------------------------------------------------

def build_va():
    """snn-limits' coba neuron (sim-core/src/neuron/coba.rs), step s:
    V += dt/τ·[(E_L − V) − g_e(V − E_e) − g_i(V − E_i) + I_bg] (forward Euler, on V and g
    of the step's start; V = E_L while refractory), then g ← g·e^{−dt/τ_syn}, then the
    threshold V > θ; spikes emitted at s − delay are added to g after the update (they act
    from step s + 1). Brian2: v by method 'euler' (unless refractory), the conductances
    decayed by a run_regularly after the state updater in the same 'groups' slot, the
    pathway in the default 'synapses' slot after the threshold: the same order.
    Refractory: snn-limits clamps the 50 updates after the spike's step (5 ms / dt);
    Brian2's refractory R clamps the steps k with timestep(t − lastspike) < timestep(R),
    i.e. R/dt − 1 updates: so R = (50 + 1)·dt."""
    NE, NI = 3200, 800
    N = NE + NI
    v0 = read_v0(N)
    weights = read_all_weights(NE, NI)
    ns = dict(tau_m=20 * ms, E_L=-60 * mV, v_reset=-60 * mV, v_th=-50 * mV, E_e=0 * mV,
              E_i=-80 * mV, I_bg=20 * mV,
              decay_e=float(np.exp(-args.dt / 5e-3)), decay_i=float(np.exp(-args.dt / 10e-3)))
    ref_steps = round(5e-3 / args.dt)
    eqs = """
    dv/dt = ((E_L - v) - ge*(v - E_e) - gi*(v - E_i) + I_bg)/tau_m : volt (unless refractory)
    ge : 1
    gi : 1
    """
    G = NeuronGroup(N, eqs, threshold="v > v_th", reset="v = v_reset",
                    refractory=(ref_steps + 1) * args.dt * second, method="euler",
                    namespace=ns, name="va")
    G.run_regularly("ge = ge*decay_e\ngi = gi*decay_i", when="groups", order=1, name="va_decay")
    G.v = v0 * brian2.volt
    E, I = G[:NE], G[NE:]
    for name, src, tgt, var in [("ee.mtx", E, E, "ge"), ("ei.mtx", E, I, "ge"),
                                ("ie.mtx", I, E, "gi"), ("ii.mtx", I, I, "gi")]:
        S = Synapses(src, tgt, "w : 1", on_pre=f"{var}_post += w", delay=args.delay * second,
                     name="syn_" + name[:2])
        connect(name, S, weights)
    return G, [G]


# ---- brunel -------------------------------------------------------------------------

def build_brunel():
    """snn-limits' delta neuron (sim-core/src/neuron/delta.rs), step s:
    V ← E_L + (V − E_L)·e^{−dt/τ} + (recurrent input delivered at s − 1, i.e. emitted at
    s − 1 − delay) + (this step's external Poisson jumps), unless refractory (V = V_reset,
    the input lost); then the threshold V ≥ θ. Brian2: v by method 'exact' (unless
    refractory); the pathways and the PoissonInput in the 'before_thresholds' slot, after
    the state updater: a pathway there takes the spikes of the previous step's threshold,
    so with the delay D a spike of step s lands at step s + 1 + D before that step's
    threshold, undecayed, as in snn-limits. Input during refractoriness is dropped
    (× int(not_refractory), which the state updater has set for this step).
    Refractory 2 ms = 20 clamped updates → Brian2's refractory (20 + 1)·dt (see va).

    Plastic (E→E, sim-core/src/plasticity.rs, multiplicative pair STDP, μ± = 1): on an
    arrival w ← w·max(1 − λαK₋, 0), then the input, then K₊ += 1; on a postsynaptic
    spike w ← min(w + λ(w_max − w)K₊, w_max), then K₋ += 1; arrivals of a step before its
    postsynaptic spikes (Brian2: 'pre' pathway order −1 before 'post' order +1, both
    'before_thresholds', so both see their events one step late and in order). The
    traces are per synapse, event-driven (exact decay), equal to snn-limits' per-neuron
    traces decayed every step up to rounding."""
    NE, NI = 8000, 2000
    N = NE + NI
    v0 = read_v0(N)
    weights = read_all_weights(NE, NI)
    J0 = 0.1 * mV
    ns = dict(tau_m=20 * ms, E_L=0 * mV, v_reset=10 * mV, theta=20 * mV, J0=J0,
              lam=0.01, lambda_alpha=0.01 * 2.02, wmax=3 * 0.1 * mV,
              tau_plus=20 * ms, tau_minus=20 * ms)
    ref_steps = round(2e-3 / args.dt)
    G = NeuronGroup(N, "dv/dt = (E_L - v)/tau_m : volt (unless refractory)",
                    threshold="v >= theta", reset="v = v_reset",
                    refractory=(ref_steps + 1) * args.dt * second, method="exact",
                    namespace=ns, name="brunel")
    G.v = v0 * brian2.volt
    # η·ν_thr·C_E = 20 kHz per neuron as C_E = 800 inputs at 2·ν_thr = 25 Hz.
    # BRIAN2_RUN_NO_DRIVE=1: no external drive (a deterministic check of the update order
    # against `snn-bench run … --input-rate 0`).
    drive = [] if os.environ.get("BRIAN2_RUN_NO_DRIVE") else [
        PoissonInput(G, "v", N=800, rate=25 * Hz, weight="J0*int(not_refractory)",
                     when="before_thresholds")]
    E, I = G[:NE], G[NE:]
    for name, src, tgt in [("ee.mtx", E, E), ("ei.mtx", E, I), ("ie.mtx", I, E), ("ii.mtx", I, I)]:
        if name == "ee.mtx" and args.plastic:
            S = Synapses(src, tgt, """w : volt
                         learning : 1 (shared)
                         dKp/dt = -Kp/tau_plus : 1 (event-driven)
                         dKm/dt = -Km/tau_minus : 1 (event-driven)""",
                         on_pre="""w = w*clip(1 - learning*lambda_alpha*Km, 0, inf)
                         v_post += w*int(not_refractory_post)
                         Kp += 1""",
                         on_post="""w = clip(w + learning*lam*(wmax - w)*Kp, 0*mV, wmax)
                         Km += 1""",
                         delay={"pre": args.delay * second}, namespace=ns, name="syn_ee")
            S.post.when = "before_thresholds"
        else:
            S = Synapses(src, tgt, "w : volt", on_pre="v_post += w*int(not_refractory_post)",
                         delay=args.delay * second, namespace=ns, name="syn_" + name[:2])
        S.pre.when = "before_thresholds"
        connect(name, S, weights, unit=brian2.volt)  # the files hold volts (SI)
    return G, [G, *drive]


# ---- zenke25k -----------------------------------------------------------------------

def build_zenke25k():
    """snn-limits' ampa_nmda neuron (sim-core/src/neuron/ampa_nmda.rs), step s: with the
    values of the step's start, V += dt/τ_m·[(E_L − V) − (a·g_ampa + (1 − a)·g_nmda)·V
    − g_gaba·(V − E_i)] (forward Euler), V clipped to [E_i, 0]; g_nmda += (1 − e^{−dt/τ_nmda})
    (g_ampa − g_nmda); g_ampa, g_gaba and θ_dyn decay exactly; then the threshold
    V > θ + θ_dyn (reset V, θ_dyn = θ_spike; no other refractoriness); arrivals add to
    g_ampa (excitatory) or g_gaba after the update, as in va. Brian2: v by 'euler', the
    rest in a run_regularly after the state updater in the 'groups' slot. The 2500
    Poisson inputs (ids 25000–27499, after the neurons, as in snn-limits' spike files) are
    a PoissonGroup with Brian2's own random numbers.

    Plastic (E→E, sim-core/src/plasticity.rs, triplet rule): on an arrival
    w ← max(w − C·x_post·h², 0) (x_post, h after this step's decay, before this step's
    postsynaptic spikes), then the input, then x_pre += 1; on a postsynaptic spike
    w ← min(w + A3+·x_pre·y_post, w_max) (y_post before the spike's own jump), then
    x_post, y_post, h += 1. Brian2: x_pre per synapse, event-driven; x_post, y_post, h per
    neuron, decayed in the run_regularly and bumped in the reset (the 'resets' slot runs
    after the synapses' 'pre' and 'post' pathways of the same step)."""
    NE, NI, NP = 20000, 5000, 2500
    N = NE + NI
    v0 = read_v0_any(N, N + NP)
    weights = read_all_weights(NE, NI)
    weights["pe.mtx"] = (read_weights("pe.mtx", NP, NE), NP, NE)
    dt = args.dt
    tau_hom = 10.0  # s: snn-limits' default (--tau-hom), the paper's benchmark value
    tau_plus, tau_minus, tau_y, kappa, a3 = 16.8e-3, 33.7e-3, 114e-3, 3.0, 6.5e-3
    ns = dict(E_L=-70 * mV, v_reset=-70 * mV, E_i=-80 * mV, v_th=-50 * mV, a=0.5,
              theta_spike=100 * mV, nmda_step=float(1 - np.exp(-dt / 100e-3)),
              decay_ampa=float(np.exp(-dt / 5e-3)), decay_gaba=float(np.exp(-dt / 10e-3)),
              decay_theta=float(np.exp(-dt / 5e-3)),
              decay_xpost=float(np.exp(-dt / tau_minus)), decay_y=float(np.exp(-dt / tau_y)),
              decay_h=float(np.exp(-dt / tau_hom)), tau_plus=tau_plus * second,
              a3_plus=a3, C=a3 * tau_plus * tau_y / (tau_minus * kappa * tau_hom ** 2), wmax=1.0)
    eqs = """
    dv/dt = ((E_L - v) - (a*ga + (1 - a)*gn)*v - gg*(v - E_i))/tau_m : volt
    tau_m : second (constant)
    ga : 1
    gn : 1
    gg : 1
    th : volt
    xpost : 1
    ypost : 1
    hpost : 1
    """
    G = NeuronGroup(N, eqs, threshold="v > v_th + th",
                    reset="v = v_reset\nth = theta_spike\nxpost += 1\nypost += 1\nhpost += 1",
                    method="euler", namespace=ns, name="zenke")
    G.run_regularly("""v = clip(v, E_i, 0*mV)
                    gn = gn + nmda_step*(ga - gn)
                    ga = ga*decay_ampa
                    gg = gg*decay_gaba
                    th = th*decay_theta
                    xpost = xpost*decay_xpost
                    ypost = ypost*decay_y
                    hpost = hpost*decay_h""", when="groups", order=1, name="zenke_decay")
    G.v = v0 * brian2.volt
    G.tau_m = np.r_[np.full(NE, 20e-3), np.full(NI, 10e-3)] * second
    from brian2 import PoissonGroup
    P = PoissonGroup(NP, 2 * Hz, name="inputs")
    input_groups.append((P, N))
    E, I = G[:NE], G[NE:]
    for name, src, tgt, var in [("ee.mtx", E, E, "ga"), ("ei.mtx", E, I, "ga"), ("ie.mtx", I, E, "gg"),
                                ("ii.mtx", I, I, "gg"), ("pe.mtx", P, E, "ga")]:
        if name == "ee.mtx" and args.plastic:
            S = Synapses(src, tgt, """w : 1
                         learning : 1 (shared)
                         dxpre/dt = -xpre/tau_plus : 1 (event-driven)""",
                         on_pre="""w = clip(w - learning*C*xpost_post*hpost_post**2, 0, wmax)
                         ga_post += w
                         xpre += 1""",
                         on_post="w = clip(w + learning*a3_plus*xpre*ypost_post, 0, wmax)",
                         delay={"pre": args.delay * second}, namespace=ns, name="syn_ee")
        else:
            S = Synapses(src, tgt, "w : 1", on_pre=f"{var}_post += w", delay=args.delay * second,
                         name="syn_" + name[:2])
        connect(name, S, weights)
    return G, [G, P]


if args.plastic and args.network == "va":
    fail(f"--plastic: {args.network} has no plastic variant")
G, objects = {"va": build_va, "brunel": build_brunel, "zenke25k": build_zenke25k}[args.network]()
mon = SpikeMonitor(G, name="spikes")
# Poisson inputs' spikes too, numbered after the neurons (as snn-limits' spike files).
input_mons = [(SpikeMonitor(P, name=f"spikes_{P.name}"), offset) for P, offset in input_groups]
net = Network(*objects, mon, *[m for m, _ in input_mons], *[S for S, _, _ in synapse_objects.values()])
plastic_syn = synapse_objects["ee.mtx"][0] if args.plastic else None

if priming_steps:
    if plastic_syn is not None:
        plastic_syn.learning = 0
    net.run(priming_steps * args.dt * second)
if plastic_syn is not None:
    plastic_syn.learning = 1
net.run(sim_steps * args.dt * second)

t_build = time.perf_counter()
try:
    device.build(directory=build_dir, compile=True, run=True, debug=False, clean=False,
                 with_output=False)
except Exception as e:  # noqa: BLE001  (the compiler's or the binary's failure)
    fail(f"Brian2's C++ standalone build or run failed ({build_dir}): {e}")
build_wall_s = time.perf_counter() - t_build
make_s = device.timers["compile"]["make"] or 0.0
clean_s = device.timers["compile"]["clean"] or 0.0
run_binary_s = device.timers["run_binary"] or 0.0
loop_wall_s = float(device._last_run_time)
# From process start to the start of the measured loop: imports, code generation,
# compilation, the binary's start-up (reading the synapses) and any priming run (the
# binary's few ms after the loop, writing its results, are counted here too).
setup_wall_s = (t_build + build_wall_s - common.PROCESS_START) - loop_wall_s

# ---- outputs ------------------------------------------------------------------------
t_out = time.perf_counter()
t_idx = np.concatenate([np.round(np.asarray(m.t_[:]) / args.dt).astype(np.int64)
                        for m in [mon, *[m for m, _ in input_mons]]])
ids = np.concatenate([np.asarray(mon.i[:], dtype=np.int64),
                      *[np.asarray(m.i[:], dtype=np.int64) + off for m, off in input_mons]])
keep = t_idx >= priming_steps  # snn-limits counts the priming's steps too (its spikes are not written)
common.write_spikes(args.spikes, t_idx[keep], ids[keep])
n_syn = 0
for name, (S, n_pre, n_post) in synapse_objects.items():
    n_syn += len(S)
if args.save_weights:
    os.makedirs(args.save_weights, exist_ok=True)
    for name, (S, n_pre, n_post) in synapse_objects.items():
        w = np.asarray(S.w_[:])  # SI (volts for brunel), as snn-limits writes them
        common.write_mtx(os.path.join(args.save_weights, name), n_pre, n_post,
                         np.asarray(S.i[:], dtype=np.int64), np.asarray(S.j[:], dtype=np.int64), w)
output_wall_s = time.perf_counter() - t_out
if not os.environ.get("BRIAN2_RUN_KEEP_BUILD"):
    # The build's data (the synapses as static arrays, the binary's results: ≈ 0.5 GB for
    # brunel) are read back by now; the generated sources and the binary stay.
    import shutil
    for d in ("static_arrays", "results"):
        shutil.rmtree(os.path.join(build_dir, d), ignore_errors=True)

spikes = int(keep.sum())
n_all = int(len(G) + sum(len(P) for P, _ in input_groups))  # snn-limits counts the inputs
common.write_meta(
    args.meta, args,
    simulator={"name": "brian2", "version": brian2.__version__,
               "solver": "cpp_standalone, " + ("exact (V)" if args.network == "brunel"
                                                else "euler (V), exact decay (g)"),
               "threads": args.threads},
    setup_wall_s=setup_wall_s,
    loop_wall_s=loop_wall_s,
    neurons=n_all,
    synapses=n_syn,
    spike_count=spikes,
    mean_rate_hz=spikes / (n_all * args.simtime),
    compile_wall_s=make_s + clean_s,
    import_wall_s=import_wall_s,
    build_wall_s=build_wall_s,
    run_binary_wall_s=run_binary_s,
    output_wall_s=output_wall_s,
    build_dir=build_dir,
    priming_steps=priming_steps,
)
print(f"brian2_run: {args.network}{' plastic' if args.plastic else ''}: {spikes} spikes, "
      f"{spikes / (n_all * args.simtime):.2f} Hz; loop {loop_wall_s:.3f} s, "
      f"compile {make_s + clean_s:.1f} s, build+run {build_wall_s:.1f} s")
