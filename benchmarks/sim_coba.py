"""COBA benchmark: Vogels & Abbott (2005) network as in Brette et al. (2007) benchmark 1.

Same network as the peer harness (/work/shared/bench/sim_coba.py): 3,200 excitatory + 800
inhibitory conductance-based LIF neurons, Bernoulli connectivity p = 0.02 (autapses allowed),
tau_m 20 ms, V_rest = V_reset = -60 mV, V_th -50 mV, t_ref 5 ms, tau_e 5 ms, tau_i 10 ms,
E_e 0 mV, E_i -80 mV, I = 20 mV (200 pA into 10 nS), w_e 0.6 and w_i 6.7 (units of g_L),
dt 0.1 ms, 1 s, V0 ~ Normal(-55, 5) mV, forward Euler for v (as the Brian2 benchmark; the
conductances decay exactly), synaptic delay one step.

Measures, for our compiled engine pinned to one core: build (Python + connectivity), compile
(first call: Numba JIT or cache load), run (1 s of biological time; median of --reps), spikes,
mean rate and synaptic events per second; plus the cost scaling at 4k / 16k / 40k neurons
(p kept, so synapses grow 100x). Peers are timed in the same run when importable (Brian2);
otherwise the table cites the numbers the peer harness measured on this machine type
(/work/shared/bench/RESULTS.md, 2026-11-22), and says so.

    python benchmarks/sim_coba.py [--reps 3] [--scales 1,4,10] [--cold-cache]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

PARAMS = dict(N_E=3200, N_I=800, p=0.02, tau_m=20.0, tau_e=5.0, tau_i=10.0, V_th=-50.0,
              V_reset=-60.0, E_L=-60.0, E_e=0.0, E_i=-80.0, I_bias=20.0, w_e=0.6, w_i=6.7,
              t_ref=5.0, V0_mean=-55.0, V0_std=5.0, dt=0.1, T=1000.0)

#: Peer numbers measured by the shared harness (RESULTS.md, 2026-11-22, 2-core VM, 1 thread,
#: run time only, median of 3): engine -> (run_s, mean rate Hz).
PEERS_RESULTS_MD = {
    "brian2-cpp": (0.126, 21.41),
    "brian2-runtime": (0.320, 21.41),
    "brainpy": (1.42, 21.00),
    "nest": (9.14, 19.93),
}


def pin_one_core():
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[-1]})
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = "1"


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return dict(date_utc=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
                cpu=cpu, cores_visible=os.cpu_count(), python=platform.python_version(),
                loadavg_1m=round(os.getloadavg()[0], 2))


def build_coba(P, scale: float, seed: int):
    from neurocircuits.sim import connectors as cn
    from neurocircuits.sim import models
    from neurocircuits.sim.network import Network

    ne, ni = int(round(P["N_E"] * scale)), int(round(P["N_I"] * scale))
    kw = dict(tau_m_ms=P["tau_m"], v_th_mV=P["V_th"], v_reset_mV=P["V_reset"], E_L_mV=P["E_L"],
              t_ref_ms=P["t_ref"], I_bias_mV=P["I_bias"], tau_e_ms=P["tau_e"], tau_i_ms=P["tau_i"],
              E_e_mV=P["E_e"], E_i_mV=P["E_i"], method="euler")
    net = Network(dt_ms=P["dt"], seed=seed)
    v0 = cn.Normal(P["V0_mean"], P["V0_std"])
    E = net.add(models.LIFCond(ne, **kw), "E", v_init_mV=v0)
    I = net.add(models.LIFCond(ni, **kw), "I", v_init_mV=v0)
    net.connect(E, [E, I], cn.FixedProbability(P["p"]), weight=P["w_e"], receptor="exc")
    net.connect(I, [E, I], cn.FixedProbability(P["p"]), weight=P["w_i"], receptor="inh")
    return net


def time_ours(build, P, scale: float, seed: int, reps: int) -> dict:
    """Build, compile (first 1-step call), then ``reps`` fresh 1 s runs of the same network."""
    import numpy as np

    from neurocircuits.sim.engine import run_steps

    t0 = time.perf_counter()
    net = build(P, scale, seed)
    b = net.build()
    build_s = time.perf_counter() - t0
    n_steps = int(round(P["T"] / P["dt"]))
    t0 = time.perf_counter()
    net.state = net.initial_state()
    run_steps(net, b, net.state, 1, progress=False)
    compile_s = time.perf_counter() - t0
    runs, cpu, counts = [], [], None
    for _ in range(reps):
        net.state = net.initial_state()
        net.t_step = 0
        c0, t0 = time.process_time(), time.perf_counter()
        run_steps(net, b, net.state, n_steps, progress=False)
        runs.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        counts = net.state["spike_count"].copy()
    out_degree = np.diff(b.indptr)
    run_s = float(np.median(runs))
    total = int(counts.sum())
    events = int((counts * out_degree).sum())
    return dict(N=b.N, n_synapses=int(b.indptr[-1]), build_s=build_s, compile_s=compile_s,
                run_s=run_s, run_s_all=runs, cpu_s=float(np.median(cpu)), total_spikes=total,
                mean_rate_hz=total / b.N / (P["T"] * 1e-3), syn_events=events,
                syn_events_per_s=events / run_s, events_per_cpu_s=events / float(np.median(cpu)),
                ns_per_neuron_step=float(np.median(cpu)) / (b.N * n_steps) * 1e9)


def time_brian2_coba(P, seed: int) -> dict | None:
    """Brian2 (runtime, Cython) on the same network, when brian2 is importable."""
    try:
        import brian2 as b2
    except ImportError:
        return None
    import numpy as np
    from brian2 import mV, ms

    b2.prefs.codegen.target = "cython"
    b2.seed(seed)
    b2.defaultclock.dt = P["dt"] * ms
    N = P["N_E"] + P["N_I"]
    ns = dict(taum=P["tau_m"] * ms, taue=P["tau_e"] * ms, taui=P["tau_i"] * ms, Vt=P["V_th"] * mV,
              Vr=P["V_reset"] * mV, El=P["E_L"] * mV, Ee=P["E_e"] * mV, Ei=P["E_i"] * mV,
              I=P["I_bias"] * mV, we=P["w_e"], wi=P["w_i"])
    eqs = ("dv/dt = (ge*(Ee-v) + gi*(Ei-v) - (v-El) + I) / taum : volt (unless refractory)\n"
           "dge/dt = -ge/taue : 1\ndgi/dt = -gi/taui : 1")
    G = b2.NeuronGroup(N, eqs, threshold="v>Vt", reset="v=Vr", refractory=P["t_ref"] * ms,
                       method="euler", namespace=ns)
    G.v = (P["V0_mean"] + P["V0_std"] * np.random.default_rng(seed).standard_normal(N)) * mV
    Ce = b2.Synapses(G[:P["N_E"]], G, on_pre="ge += we", namespace=ns)
    Ci = b2.Synapses(G[P["N_E"]:], G, on_pre="gi += wi", namespace=ns)
    Ce.connect(p=P["p"])
    Ci.connect(p=P["p"])
    mon = b2.SpikeMonitor(G, record=False)
    net = b2.Network(G, Ce, Ci, mon)
    net.run(0 * ms)
    t0 = time.perf_counter()
    net.run(P["T"] * ms)
    run_s = time.perf_counter() - t0
    return dict(run_s=run_s, mean_rate_hz=float(np.sum(mon.count[:])) / N / (P["T"] * 1e-3),
                version=b2.__version__)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--scales", default="1,4,10", help="network size factors for the scaling run")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--cold-cache", action="store_true", help="compile into an empty Numba cache")
    ap.add_argument("--rate-seeds", type=int, default=5,
                    help="network realisations for the mean rate (COBA's rate varies with the draw)")
    ap.add_argument("--out", default=str(HERE / "results" / "sim_coba.json"))
    args = ap.parse_args(argv)
    if args.cold_cache:
        os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="nc_numba_")
    pin_one_core()
    t0 = time.perf_counter()
    import neurocircuits.sim.engine  # noqa: F401  (import cost reported separately)
    import_s = time.perf_counter() - t0

    P = dict(PARAMS)
    ours = time_ours(build_coba, P, 1.0, args.seed, args.reps)
    ours["import_s"] = import_s
    rates = [ours["mean_rate_hz"]]
    for k in range(1, args.rate_seeds):
        rates.append(time_ours(build_coba, P, 1.0, args.seed + k, 1)["mean_rate_hz"])
    ours["rate_over_seeds_hz"] = rates
    scaling = []
    for s in [float(x) for x in args.scales.split(",") if x]:
        r = ours if s == 1.0 else time_ours(build_coba, P, s, args.seed, 1)
        scaling.append(dict(scale=s, **{k: r[k] for k in ("N", "n_synapses", "run_s", "cpu_s", "mean_rate_hz",
                                                          "syn_events", "events_per_cpu_s",
                                                          "ns_per_neuron_step")}))
    peers = {}
    b2 = time_brian2_coba(P, args.seed)
    if b2 is not None:
        peers["brian2-runtime (same run)"] = b2
    peer_source = "timed in this run" if peers else "RESULTS.md of the shared harness (2026-11-22); not importable here"
    if not peers:
        peers = {k: dict(run_s=v[0], mean_rate_hz=v[1]) for k, v in PEERS_RESULTS_MD.items()}
    fastest = min(peers.items(), key=lambda kv: kv[1]["run_s"])
    res = dict(bench="coba", machine=machine(), ours=ours, scaling=scaling, peers=peers,
               peer_source=peer_source, fastest_peer=fastest[0],
               ratio_to_fastest=ours["run_s"] / fastest[1]["run_s"],
               cpu_ratio_to_fastest=ours["cpu_s"] / fastest[1]["run_s"],
               rate_rel_diff=ours["mean_rate_hz"] / fastest[1]["mean_rate_hz"] - 1,
               rate_mean_over_seeds_rel_diff=float(sum(rates) / len(rates)) / fastest[1]["mean_rate_hz"] - 1)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1))
    print(f"COBA {ours['N']} neurons, {ours['n_synapses']} synapses, 1 thread "
          f"(load {res['machine']['loadavg_1m']})")
    print(f"  ours: build {ours['build_s']:.2f} s, compile/load {ours['compile_s']:.2f} s, "
          f"run {ours['run_s']:.3f} s (cpu {ours['cpu_s']:.3f} s), rate {ours['mean_rate_hz']:.2f} Hz, "
          f"{ours['syn_events_per_s']:.3g} events/s")
    for k, v in peers.items():
        print(f"  {k}: run {v['run_s']:.3f} s, rate {v['mean_rate_hz']:.2f} Hz")
    print(f"  peers: {peer_source}")
    print(f"  run time / fastest peer ({fastest[0]}): wall {res['ratio_to_fastest']:.2f}, "
          f"cpu {res['cpu_ratio_to_fastest']:.2f}; rate difference {100 * res['rate_rel_diff']:+.1f} %")
    print("  scaling (scale, N, synapses, cpu s, rate Hz, events per cpu s, ns per neuron-step):")
    for r in scaling:
        print(f"    {r['scale']:g} {r['N']} {r['n_synapses']} {r['cpu_s']:.3f} {r['mean_rate_hz']:.2f} "
              f"{r['events_per_cpu_s']:.3g} {r['ns_per_neuron_step']:.2f}")
    import numpy as np

    print(f"  rate over {len(rates)} network draws: {np.mean(rates):.2f} +- {np.std(rates):.2f} Hz "
          f"({100 * res['rate_mean_over_seeds_rel_diff']:+.1f} % vs {fastest[0]})")
    print(f"  -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
