"""Brunel (2000) model A benchmark: sparse balanced E/I network of delta-synapse LIF neurons.

Same network as the peer harness (/work/shared/bench/sim_brunel.py; Brunel 2000, J. Comput.
Neurosci. 8:183, doi:10.1023/A:1008925309027, AI state of Fig. 8C): N_E = 10,000, N_I = 2,500,
fixed in-degree C_E = 1,000 and C_I = 250 (multapses and autapses allowed), tau_m 20 ms,
theta 20 mV, V_r 10 mV, t_ref 2 ms (voltage clamped, inputs discarded), J = 0.1 mV, g = 5,
D = 1.5 ms, external Poisson drive of C_E inputs at nu_ext = 2 nu_thr (nu_thr = theta /
(J C_E tau_m) = 10 Hz) onto every neuron, dt 0.1 ms, 1 s, V0 ~ Uniform(0, theta).
15.6 M synapses; ~5.8e8 recurrent synaptic events per second of biological time.

    python benchmarks/sim_brunel.py [--reps 2] [--scale 1.0] [--cold-cache]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from sim_coba import machine, pin_one_core, time_ours  # noqa: E402

PARAMS = dict(N_E=10000, N_I=2500, C_E=1000, C_I=250, tau_m=20.0, theta=20.0, V_reset=10.0, t_ref=2.0,
              J=0.1, g=5.0, eta=2.0, D=1.5, dt=0.1, T=1000.0)

#: RESULTS.md of the shared harness (2026-11-22, 2-core VM, run time only, median of 3):
#: engine -> (run_s, mean rate Hz).
PEERS_RESULTS_MD = {
    "brainpy (1 thread)": (12.80, 37.51),
    "brian2-cpp (1 thread)": (13.74, 37.38),
    "brian2-runtime (1 thread)": (14.36, 37.38),
    "nest (1 thread)": (25.57, 37.52),
    "brian2-cpp (2 threads)": (11.62, 37.53),
    "nest (2 threads)": (12.44, 37.65),
}


def build_brunel(P, scale: float, seed: int):
    from neurocircuits.sim import connectors as cn
    from neurocircuits.sim import models
    from neurocircuits.sim.network import Network

    ne, ni = int(round(P["N_E"] * scale)), int(round(P["N_I"] * scale))
    nu_thr_hz = P["theta"] / (P["J"] * P["C_E"] * P["tau_m"]) * 1000.0
    kw = dict(tau_m_ms=P["tau_m"], v_th_mV=P["theta"], v_reset_mV=P["V_reset"], t_ref_ms=P["t_ref"])
    net = Network(dt_ms=P["dt"], seed=seed)
    v0 = cn.Uniform(0.0, P["theta"])
    E = net.add(models.brunel2000_A(ne, **kw), "E", v_init_mV=v0)
    I = net.add(models.brunel2000_A(ni, **kw), "I", v_init_mV=v0)
    net.connect(E, [E, I], cn.FixedInDegree(P["C_E"]), weight=P["J"], delay_ms=P["D"], receptor="v")
    net.connect(I, [E, I], cn.FixedInDegree(P["C_I"]), weight=-P["g"] * P["J"], delay_ms=P["D"],
                receptor="v")
    for pop in (E, I):
        net.poisson_input(pop, P["C_E"], P["eta"] * nu_thr_hz, P["J"], "v")
    return net


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--T", type=float, default=1000.0, help="biological time in ms")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--cold-cache", action="store_true", help="compile into an empty Numba cache")
    ap.add_argument("--out", default=str(HERE / "results" / "sim_brunel.json"))
    args = ap.parse_args(argv)
    if args.cold_cache:
        os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="nc_numba_")
    pin_one_core()
    t0 = time.perf_counter()
    import neurocircuits.sim.engine  # noqa: F401
    import_s = time.perf_counter() - t0
    P = dict(PARAMS, T=args.T)
    ours = time_ours(build_brunel, P, args.scale, args.seed, args.reps)
    ours["import_s"] = import_s
    peers = {k: dict(run_s=v[0], mean_rate_hz=v[1]) for k, v in PEERS_RESULTS_MD.items()}
    peer_source = ("RESULTS.md of the shared harness (2026-11-22, same machine type); brian2 / NEST / "
                   "BrainPy are not importable here")
    fastest = min(peers.items(), key=lambda kv: kv[1]["run_s"])
    f1 = peers["brainpy (1 thread)"]
    scale_t = 1000.0 / args.T  # compare per second of biological time
    res = dict(bench="brunel", machine=machine(), ours=ours, peers=peers, peer_source=peer_source,
               fastest_peer=fastest[0],
               ratio_to_fastest=ours["run_s"] * scale_t / fastest[1]["run_s"],
               cpu_ratio_to_fastest=ours["cpu_s"] * scale_t / fastest[1]["run_s"],
               cpu_ratio_to_fastest_1thread=ours["cpu_s"] * scale_t / f1["run_s"],
               rate_rel_diff=ours["mean_rate_hz"] / fastest[1]["mean_rate_hz"] - 1)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1))
    print(f"Brunel model A, {ours['N']} neurons, {ours['n_synapses']} synapses, {args.T:g} ms, 1 thread "
          f"(load {res['machine']['loadavg_1m']})")
    print(f"  ours: build {ours['build_s']:.2f} s, compile/load {ours['compile_s']:.2f} s, "
          f"run {ours['run_s']:.3f} s (cpu {ours['cpu_s']:.3f} s), rate {ours['mean_rate_hz']:.2f} Hz, "
          f"{ours['syn_events_per_s']:.3g} events/s ({ours['events_per_cpu_s']:.3g} per cpu s)")
    for k, v in peers.items():
        print(f"  {k}: run {v['run_s']:.2f} s, rate {v['mean_rate_hz']:.2f} Hz")
    print(f"  peers: {peer_source}")
    print(f"  per s of biological time / fastest peer ({fastest[0]}): wall {res['ratio_to_fastest']:.2f}, "
          f"cpu {res['cpu_ratio_to_fastest']:.2f}; rate difference {100 * res['rate_rel_diff']:+.1f} %")
    print(f"  -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
