"""Brunel (2000) model A benchmark: sparse balanced E/I network of delta-synapse LIF neurons.

Brunel N. (2000) J. Comput. Neurosci. 8:183, doi:10.1023/A:1008925309027 (AI state of
Fig. 8C). Same network as the peer harness (/work/shared/bench/sim_brunel.py):
N_E = 10,000, N_I = 2,500, fixed in-degree C_E = 1,000 and C_I = 250 (10 % of each
population; multapses and autapses allowed), tau_m 20 ms, theta 20 mV, V_r 10 mV, t_ref 2 ms
(voltage clamped, inputs discarded), J = 0.1 mV, g = 5, D = 1.5 ms, external Poisson drive of
C_E inputs at nu_ext = 2 nu_thr (nu_thr = theta / (J C_E tau_m) = 10 Hz) onto every neuron,
dt 0.1 ms, V0 ~ Uniform(0, theta):

    tau_m dv/dt = -v + tau_m sum_j J_j sum_k delta(t - t_j^k - D)      [mV, ms]

15.6 M synapses; ~5.8e8 recurrent synaptic events per second of biological time.

Ours and the peers (Brian2 runtime and C++ standalone, NEST, BrainPy, through the shared
harness in their own interpreter) are timed in the same run, each on one pinned core, with
interleaved repetitions; see sim_coba.py for the protocol and the reported fields.

    python benchmarks/sim_brunel.py --peer-python /tmp/peers/.venv/bin/python [--reps 3]
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
from sim_coba import Peers, add_peer_args, check_peer_args, machine, pin_one_core, timed_comparison  # noqa: E402

PARAMS = dict(N_E=10000, N_I=2500, C_E=1000, C_I=250, tau_m=20.0, theta=20.0, V_reset=10.0, t_ref=2.0,
              J=0.1, g=5.0, eta=2.0, D=1.5, dt=0.1, T=1000.0)


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
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--T-list", default="1000", help="biological durations in ms, comma-separated")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--cold-cache", action="store_true", help="compile ours into an empty Numba cache")
    add_peer_args(ap)
    ap.add_argument("--out", default=str(HERE / "results" / "sim_brunel.json"))
    args = ap.parse_args(argv)
    check_peer_args(ap, args)
    T_list = [float(x) for x in args.T_list.split(",") if x]
    if not T_list or min(T_list) <= 0:
        ap.error(f"--T-list must hold positive durations in ms, got {args.T_list!r}")
    if args.cold_cache:
        os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="nc_numba_")
    pin_one_core()
    t0 = time.perf_counter()
    import neurocircuits.sim.engine  # noqa: F401
    import_s = time.perf_counter() - t0
    P = dict(PARAMS)
    peers = Peers(args, "sim_brunel.py")
    info = machine()
    print(f"Brunel model A, 1 pinned core each, load {info['loadavg_start']}", flush=True)
    rows = timed_comparison(build_brunel, "sim_brunel.py", P, args, T_list, peers)
    info["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    res = dict(bench="brunel", machine=info, import_s=import_s, comparison=rows, peers_skipped=peers.skipped,
               peers_cold=peers.cold, peer_python=args.peer_python, argv=sys.argv[1:] if argv is None else argv)
    for e, why in peers.skipped.items():
        print(f"  skipped {e}: {why}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1))
    print(f"  -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
