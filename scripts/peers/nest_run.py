"""NEST peer runner: snn-limits' va or brunel network on the *same* connectivity and
initial V, simulated by NEST 3.10 (scripts/peers/setup-nest.sh installs it).

    .venv-peers/nest/bin/python scripts/peers/nest_run.py --network va --simtime 2 \
        --weights W_DIR --initial-v M_DIR/state-v-all.npy --spikes nest.npy --meta nest.json

W_DIR is `snn-bench run … --save-initial-weights W_DIR` (ee/ei/ie/ii.mtx, rows presynaptic,
columns postsynaptic, within each population), the initial V row 0 of
`--monitor state:v:all:EVERY` of the same run. scripts/peers/common.py gives the command
line and the file formats.

Models (parameters as in networks/va.toml and networks/brunel.toml):
- va: `iaf_cond_exp` (GSL RKF45, adaptive step within each dt) with C_m 200 pF, τ_m 20 ms,
  so g_L = C_m/τ_m = 10 nS; snn-limits' weights are in units of g_L, so w_nS = w·g_L
  (excitatory > 0, inhibitory < 0: NEST's sign picks the channel); I_bg 20 mV is
  I_e = 20 mV·g_L = 200 pA.
- brunel: `iaf_psc_delta` (exact integration), weights are the V jumps in mV (signed);
  the external drive is one `poisson_generator` of 20 kHz connected to every neuron with
  weight J0 = 0.1 mV (NEST draws an independent train for each target). --plastic: E→E
  `stdp_synapse_hom` (τ+ 20 ms, λ 0.01, α 2.02, μ± 1, Wmax 3·J0; τ− 20 ms on the neuron).

Step convention (measured with one-neuron probes: a neuron started above threshold, a
target that a huge weight from it makes fire, a neuron under a constant current; in
snn-limits through network files of one neuron per population, in NEST the same):
snn-limits writes a spike at step s when V crossed threshold in the update from s·dt to
(s+1)·dt; NEST stamps that spike (s+1)·dt (spike_recorder with time_in_steps: step s+1),
so the spike file holds NEST's step − 1 (brunel: − 1 − its 2 lead steps, below).

Delays: with the same delay of D steps a spike of step s acts on an iaf_cond_exp target
from the update of step s+D+1 on, as in snn-limits; but iaf_psc_delta adds the jump in
the update of step s+D (snn-limits in s+D+1: its propagate of step s+D runs after that
step's update). So brunel's NEST connections get the delay D+1 steps (--delay + dt), which
makes the spike-to-jump latency of both simulators equal; the meta gives both
(delay_s, nest_delay_ms). What stays different: NEST's STDP takes the whole delay as
dendritic (pair timing t_post + d − t_pre), snn-limits' as axonal (t_post − t_pre − D);
NEST 3.10 has no axonal-delay stdp_synapse_hom.

External drive (brunel): a poisson_generator's first inputs reach V in the update of step
2 (it is active from the step starting at dt on, and NEST refuses a negative start or
origin); snn-limits' drive acts from step 0. So NEST first runs 2 lead steps with every
neuron frozen (τ_m huge, threshold off; nothing arrives then), checked to leave V as it
was, and NEST's step 2 + s is snn-limits' step s.

Priming (--priming S): NEST runs S model seconds first (plasticity off: λ = 0), its spikes
are not written; the measured run's steps continue the numbering, as snn-limits does.
The initial V is applied at step 0 of the priming.

Timers: loop_wall_s is NEST's kernel status time_simulate of the measured Simulate call
(NEST's own timer of the simulation loop; perf_counter around the call is in the meta as
nest_perf_counter_simulate_s); setup_wall_s is from the import of common to the start of
that call, less priming_wall_s (the lead steps and NEST's connection preparation, done in
the first Simulate call, count as setup for brunel). --save-weights: the learnt E→E weights
are read back from NEST (slow: ≈ 100 s for 6.4 M synapses, save_weights_wall_s), the
static pathways' files are copied from --weights.
"""

import common  # first: its clock starts at import

args = common.parse_args(
    "Run snn-limits' va or brunel network in NEST 3.10 from snn-limits' weights and initial V.",
    networks=["va", "brunel"],
)

import os  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402


def fail(msg):
    sys.exit(f"nest_run: {msg}")


# The networks' parameters (networks/va.toml, networks/brunel.toml).
NETWORKS = {
    "va": {
        "populations": [("E", 3200), ("I", 800)],
        # pathway: (pre, post, sign: "+" non-negative conductances, "-" inhibitory)
        "pathways": {"ee": ("E", "E"), "ei": ("E", "I"), "ie": ("I", "E"), "ii": ("I", "I")},
    },
    "brunel": {
        "populations": [("E", 8000), ("I", 2000)],
        "pathways": {"ee": ("E", "E"), "ei": ("E", "I"), "ie": ("I", "E"), "ii": ("I", "I")},
    },
}
VA = dict(C_m=200.0, tau_m=20.0, E_L=-60.0, V_reset=-60.0, V_th=-50.0, E_ex=0.0, E_in=-80.0,
          tau_syn_ex=5.0, tau_syn_in=10.0, t_ref=5.0, i_bg_mv=20.0)
BRUNEL = dict(tau_m=20.0, E_L=0.0, V_reset=10.0, V_th=20.0, t_ref=2.0, J0=0.1, g=5.0,
              nu_ext_hz=20000.0)
BRUNEL_STDP = dict(tau_plus=20.0, tau_minus=20.0, lam=0.01, alpha=2.02, mu_plus=1.0, mu_minus=1.0,
                   wmax=3 * 0.1)

spec = NETWORKS[args.network]
sizes = dict(spec["populations"])
starts = {}
n_total = 0
for name, size in spec["populations"]:
    starts[name] = n_total
    n_total += size

dt_ms = args.dt * 1e3
delay_steps = args.delay / args.dt
if abs(delay_steps - round(delay_steps)) > 1e-6 or round(delay_steps) < 1:
    fail(f"--delay {args.delay} s: expected a positive multiple of --dt {args.dt} s")
delay_steps = int(round(delay_steps))
for name, v in [("--simtime", args.simtime), ("--priming", args.priming)]:
    steps = v / args.dt
    if abs(steps - round(steps)) > 1e-6:
        fail(f"{name} {v} s: expected a multiple of --dt {args.dt} s")
if not 1 <= args.seed <= 2**32 - 1:
    fail(f"--seed {args.seed}: NEST's rng_seed must lie in [1, 2^32 - 1]")
if args.plastic and args.network != "brunel":
    fail(f"--plastic: network {args.network} has no plastic variant here (brunel has)")


# ---- inputs: every file checked before NEST is imported ------------------------------

def read_pathway(key):
    pre_pop, post_pop = spec["pathways"][key]
    path = os.path.join(args.weights, f"{key}.mtx")
    pre, post, w = common.read_weights(path, sizes[pre_pop], sizes[post_pop],
                                       f"the {key.upper()} weights, {pre_pop} -> {post_pop} of {args.network}",
                                       fail)
    if args.network == "va" and np.any(w < 0):
        fail(f"{path}: negative conductance weights (va's weights are in units of g_L, >= 0)")
    if args.plastic and key == "ee" and (np.any(w < 0) or np.any(w > BRUNEL_STDP["wmax"] * 1e-3 * (1 + 1e-6))):
        fail(f"{path}: plastic E->E weights must lie in [0, {BRUNEL_STDP['wmax']} mV]")
    return pre, post, w


if not os.path.isdir(args.weights):
    fail(f"--weights {args.weights}: not a directory")
weights = {key: read_pathway(key) for key in spec["pathways"]}
if not os.path.isfile(args.initial_v):
    fail(f"--initial-v {args.initial_v}: not found (expected state-v-all.npy of "
         "snn-bench run --monitor state:v:all:EVERY)")
with open(args.initial_v, "rb") as f:
    if f.read(6) != b"\x93NUMPY":
        fail(f"{args.initial_v}: not a NumPy .npy file (expected state-v-all.npy of "
             "snn-bench run --monitor state:v:all:EVERY)")
try:
    v0 = common.read_initial_v(args.initial_v, n_total)
except (OSError, ValueError, EOFError) as e:
    fail(f"{args.initial_v}: cannot read it as a .npy array: {e}")
if not np.all(np.isfinite(v0)):
    fail(f"{args.initial_v}: non-finite V in row 0")
for flag, path in [("--spikes", args.spikes), ("--meta", args.meta)]:
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d) or not os.access(d, os.W_OK):
        fail(f"{flag} {path}: directory {d} does not exist or is not writable")
if args.save_weights:
    os.makedirs(args.save_weights, exist_ok=True)

# ---- NEST -----------------------------------------------------------------------------

os.environ.setdefault("PYNEST_QUIET", "1")  # no banner
import nest  # noqa: E402

if hasattr(nest, "VerbosityLevel"):
    nest.verbosity = nest.VerbosityLevel.ERROR
else:
    nest.set_verbosity("M_ERROR")
nest.ResetKernel()
nest.SetKernelStatus({
    "resolution": dt_ms,
    "local_num_threads": args.threads,
    "rng_seed": args.seed,
    "print_time": False,
})

if args.network == "va":
    p = VA
    g_l = p["C_m"] / p["tau_m"]  # nS
    neurons = nest.Create("iaf_cond_exp", n_total, params={
        "C_m": p["C_m"], "g_L": g_l, "E_L": p["E_L"], "V_reset": p["V_reset"], "V_th": p["V_th"],
        "E_ex": p["E_ex"], "E_in": p["E_in"], "tau_syn_ex": p["tau_syn_ex"],
        "tau_syn_in": p["tau_syn_in"], "t_ref": p["t_ref"], "I_e": p["i_bg_mv"] * g_l,
    })
    nest_delay_ms = delay_steps * dt_ms
    solver = "iaf_cond_exp: GSL RKF45 with adaptive substeps within each dt (NEST default tolerances)"
    scale = {"E": g_l, "I": -g_l}  # w (units of g_L) -> nS, inhibition negative
else:
    p = BRUNEL
    neurons = nest.Create("iaf_psc_delta", n_total, params={
        "tau_m": p["tau_m"], "E_L": p["E_L"], "V_reset": p["V_reset"], "V_th": p["V_th"],
        "t_ref": p["t_ref"], "I_e": 0.0, "tau_minus": BRUNEL_STDP["tau_minus"],
        "refractory_input": False,
    })
    nest_delay_ms = (delay_steps + 1) * dt_ms  # see the module docstring
    solver = "iaf_psc_delta: exact integration"
    scale = {"E": 1e3, "I": 1e3}  # V -> mV (signs as in the files)
    if args.plastic:
        s = BRUNEL_STDP
        nest.CopyModel("stdp_synapse_hom", "stdp_ee", {
            "tau_plus": s["tau_plus"], "lambda": s["lam"], "alpha": s["alpha"],
            "mu_plus": s["mu_plus"], "mu_minus": s["mu_minus"], "Wmax": s["wmax"],
        })
neurons.V_m = v0 * 1e3

synapses = 0
first_id = neurons[0].global_id  # node ids are first_id + global snn-limits id
for key, (pre_pop, post_pop) in spec["pathways"].items():
    pre, post, w = weights[key]
    src = (pre + starts[pre_pop] + first_id).astype(np.int64)
    tgt = (post + starts[post_pop] + first_id).astype(np.int64)
    model = "stdp_ee" if (args.plastic and key == "ee") else "static_synapse"
    nest.Connect(src, tgt, "one_to_one", syn_spec={
        "synapse_model": model,
        "weight": w * scale[pre_pop],
        "delay": np.full(len(w), nest_delay_ms),
    })
    synapses += len(w)
    del src, tgt, pre, post, w
    del weights[key]  # free each pathway's arrays once NEST holds it

if args.network == "brunel":
    drive = nest.Create("poisson_generator", params={"rate": BRUNEL["nu_ext_hz"]})
    nest.Connect(drive, neurons, "all_to_all", syn_spec={"weight": BRUNEL["J0"], "delay": dt_ms})

recorder = nest.Create("spike_recorder", params={"time_in_steps": True})
nest.Connect(neurons, recorder)

# A poisson_generator is active from the step starting at t = dt on (start = 0 excludes
# the first step, and NEST refuses a negative start or origin), and what it emits in a
# step reaches V in the next update: its first inputs act in the update of step 2, while
# snn-limits' drive acts from step 0. So brunel runs LEAD = 2 steps with every neuron
# frozen first (τ_m huge, no threshold: nothing reaches V then, nothing decays or spikes),
# and NEST's step LEAD + s is snn-limits' step s.
lead_steps = 0
if args.network == "brunel":
    lead_steps = 2
    neurons.set({"tau_m": 1e15, "V_th": 1e9})
    nest.Simulate(lead_steps * dt_ms)
    neurons.set({"tau_m": BRUNEL["tau_m"], "V_th": BRUNEL["V_th"]})
    frozen_v = np.asarray(neurons.get("V_m"), dtype=np.float64)
    if np.max(np.abs(frozen_v - v0 * 1e3)) > 1e-6 or recorder.n_events != 0:
        fail("internal: the frozen lead steps changed the network's state")

priming_wall_s = 0.0
if args.priming > 0:
    t_priming = time.perf_counter()
    if args.plastic:
        nest.SetDefaults("stdp_ee", {"lambda": 0.0})
    nest.Simulate(args.priming * 1e3)
    if args.plastic:
        nest.SetDefaults("stdp_ee", {"lambda": BRUNEL_STDP["lam"]})
    recorder.n_events = 0  # drop the priming spikes
    priming_wall_s = time.perf_counter() - t_priming

t_sim = time.perf_counter()
setup_wall_s = t_sim - common.PROCESS_START - priming_wall_s  # the build, without priming
nest.Simulate(args.simtime * 1e3)
perf_loop_s = time.perf_counter() - t_sim
ks = nest.GetKernelStatus()

ev = recorder.get("events")
# NEST stamps a spike with the end of its step; brunel's lead steps shift NEST's clock.
steps = np.asarray(ev["times"], dtype=np.int64) - 1 - lead_steps
ids = np.asarray(ev["senders"], dtype=np.int64) - first_id
try:
    common.write_spikes(args.spikes, steps, ids)
except OSError as e:
    fail(f"--spikes {args.spikes}: {e}")

save_weights_wall_s = None
if args.save_weights:
    t_save = time.perf_counter()
    for key, (pre_pop, post_pop) in spec["pathways"].items():
        path = os.path.join(args.save_weights, f"{key}.mtx")
        src_file = os.path.join(args.weights, f"{key}.mtx")
        try:
            if not (args.plastic and key == "ee"):
                # A static pathway's weights are the ones read: the input file as it is.
                shutil.copyfile(src_file, path)
                continue
            # The learnt weights, read back from NEST in blocks of presynaptic neurons
            # (GetConnections(...).get builds a dictionary per synapse: all 6.4 M at once
            # took 20 GB).
            pre_nodes = neurons[starts[pre_pop]:starts[pre_pop] + sizes[pre_pop]]
            post_nodes = neurons[starts[post_pop]:starts[post_pop] + sizes[post_pop]]
            parts = []
            block = 250
            for b in range(0, sizes[pre_pop], block):
                c = nest.GetConnections(pre_nodes[b:b + block], post_nodes, synapse_model="stdp_ee")
                d = c.get(["source", "target", "weight"])
                parts.append((np.asarray(d["source"], dtype=np.int64),
                              np.asarray(d["target"], dtype=np.int64),
                              np.asarray(d["weight"], dtype=np.float64)))
                del c, d
            pre = np.concatenate([x[0] for x in parts]) - first_id - starts[pre_pop]
            post = np.concatenate([x[1] for x in parts]) - first_id - starts[post_pop]
            w = np.concatenate([x[2] for x in parts]) / scale[pre_pop]
            del parts
            common.write_mtx(path, sizes[pre_pop], sizes[post_pop], pre, post, w)
            del pre, post, w
        except OSError as e:
            fail(f"--save-weights {path}: {e}")
    save_weights_wall_s = time.perf_counter() - t_save


def kernel_time(name):
    """A kernel timer in seconds (per-thread timers, arrays, as their maximum)."""
    v = ks.get(name)
    return None if v is None else float(np.max(v))


loop_wall_s = kernel_time("time_simulate")
common.write_meta(
    args.meta, args,
    simulator={"name": "nest", "version": nest.__version__, "solver": solver, "threads": args.threads},
    setup_wall_s=setup_wall_s,
    loop_wall_s=loop_wall_s,
    loop_wall_source="NEST kernel status time_simulate (the last Simulate call)",
    neurons=n_total,
    synapses=synapses,
    nest_spike_count=int(len(steps)),
    nest_delay_ms=nest_delay_ms,
    nest_kernel_status_time_simulate=loop_wall_s,
    nest_kernel_status_time_simulate_cpu=kernel_time("time_simulate_cpu"),
    nest_kernel_status_time_construction_create=kernel_time("time_construction_create"),
    nest_kernel_status_time_construction_connect=kernel_time("time_construction_connect"),
    nest_kernel_status_time_communicate_prepare=kernel_time("time_communicate_prepare"),
    nest_perf_counter_simulate_s=perf_loop_s,
    nest_num_connections=int(ks["num_connections"]),
    nest_min_delay_ms=float(ks["min_delay"]),
    nest_max_delay_ms=float(ks["max_delay"]),
    priming_wall_s=priming_wall_s,
    # libgomp's barrier waits (NEST threads spin by default; PASSIVE sleeps, which was
    # faster on a machine busier than its cores, see the report of issue 12).
    omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"),
    nest_lead_steps=lead_steps,
    save_weights_wall_s=save_weights_wall_s,
    step_convention=f"snn-limits step = NEST spike step - 1 - {lead_steps} (lead steps)",
)
