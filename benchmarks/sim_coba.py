"""COBA benchmark: Vogels & Abbott (2005) network as in Brette et al. (2007) benchmark 1.

Vogels T.P., Abbott L.F. (2005) J. Neurosci. 25:10786, doi:10.1523/JNEUROSCI.3508-05.2005;
Brette R. et al. (2007) J. Comput. Neurosci. 23:349, doi:10.1007/s10827-007-0038-6.

Same network as the peer harness (/work/shared/bench/sim_coba.py): 3,200 excitatory + 800
inhibitory conductance-based LIF neurons, Bernoulli connectivity p = 0.02 (autapses allowed),
tau_m 20 ms, V_rest = V_reset = -60 mV, V_th -50 mV, t_ref 5 ms, tau_e 5 ms, tau_i 10 ms,
E_e 0 mV, E_i -80 mV, I = 20 mV (200 pA into 10 nS), w_e 0.6 and w_i 6.7 (units of g_L),
dt 0.1 ms, V0 ~ Normal(-55, 5) mV, forward Euler for v (as the Brian2 benchmark; the
conductances decay exactly), synaptic delay one step:

    tau_m dv/dt = (E_L - v) + g_e (E_e - v) + g_i (E_i - v) + I      [mV, ms]
    tau_e dg_e/dt = -g_e,   tau_i dg_i/dt = -g_i                      [units of g_L]

Ours and the peers are timed in the same run, each on one pinned core. Ours: build (Python +
connectivity), compile (first call: Numba JIT or cache load), run (the time loop alone; median
of --reps runs of the same network). Peers (Brian2 runtime and C++ standalone, NEST, BrainPy)
run the shared harness in their own interpreter (--peer-python), one fresh process per
repetition, interleaved with ours; Brian2 gets one untimed priming run per configuration that
fills its code cache (reported as its cold total). A peer that fails is reported as skipped with
its error. Reported per engine and biological duration (--T-list, default 1 s and 5 s): wall
time of the run with and without build + compile, spike count, mean rate, synaptic events per
second of run time, and ours / fastest peer, flagged when the mean rates differ by more than 5 %.
Scaling: COBA at 4k / 16k / 40k neurons (p kept, synapses grow 100x) for ours and
--scaling-peers, with the log-log slope of run time against synapses.

    python benchmarks/sim_coba.py --peer-python /tmp/peers/.venv/bin/python [--reps 3]
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEER_ENGINES = ("brian2-runtime", "brian2-cpp", "nest", "brainpy")
HARNESS_FILES = ("common.py", "sim_coba.py", "sim_brunel.py")

PARAMS = dict(N_E=3200, N_I=800, p=0.02, tau_m=20.0, tau_e=5.0, tau_i=10.0, V_th=-50.0,
              V_reset=-60.0, E_L=-60.0, E_e=0.0, E_i=-80.0, I_bias=20.0, w_e=0.6, w_i=6.7,
              t_ref=5.0, V0_mean=-55.0, V0_std=5.0, dt=0.1, T=1000.0)


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
    import numba
    import numpy

    return dict(date_utc=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
                cpu=cpu, cores_visible=os.cpu_count(), python=platform.python_version(),
                numpy=numpy.__version__, numba=numba.__version__,
                loadavg_start=[round(x, 2) for x in os.getloadavg()])


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


# ---------------------------------------------------------------------------------- ours
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


class Ours:
    """Our engine on one network: built and compiled once, then timed runs from t = 0."""

    def __init__(self, build, P, scale: float, seed: int):
        from neurocircuits.sim.engine import run_steps

        self.run_steps, self.P = run_steps, P
        t0 = time.perf_counter()
        self.net = build(P, scale, seed)
        self.b = self.net.build()
        self.build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        self.net.state = self.net.initial_state()
        run_steps(self.net, self.b, self.net.state, 1, progress=False)
        self.compile_s = time.perf_counter() - t0

    def run(self, T_ms: float) -> dict:
        import numpy as np

        net, b = self.net, self.b
        n_steps = int(round(T_ms / self.P["dt"]))
        net.state = net.initial_state()
        net.t_step = 0
        c0, t0 = time.process_time(), time.perf_counter()
        self.run_steps(net, b, net.state, n_steps, progress=False)
        run_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
        counts = net.state["spike_count"]
        total = int(counts.sum())
        events = int((counts * np.diff(b.indptr)).sum())
        return dict(N=b.N, n_synapses=int(b.indptr[-1]), build_s=self.build_s, compile_s=self.compile_s,
                    run_s=run_s, cpu_s=cpu_s, total_s=self.build_s + self.compile_s + run_s,
                    total_spikes=total, mean_rate_hz=total / b.N / (T_ms * 1e-3), syn_events=events,
                    syn_events_per_s=events / run_s, cpu_share=cpu_s / run_s if run_s > 0 else float("nan"),
                    ns_per_neuron_step=cpu_s / (b.N * n_steps) * 1e9)


def time_ours(build, P, scale: float, seed: int, reps: int, T_ms: float | None = None) -> dict:
    """Build and compile once, then ``reps`` runs of ``T_ms``; medians over the runs."""
    o = Ours(build, P, scale, seed)
    runs = [o.run(T_ms or P["T"]) for _ in range(reps)]
    return summarise(runs)


def summarise(runs: list[dict]) -> dict:
    """Median of the timing fields over repetitions; the other fields of the last run."""
    out = dict(runs[-1])
    for k in ("run_s", "cpu_s", "total_s", "build_s", "compile_s", "cpu_share"):
        if k in out and out[k] is not None:
            out[k + "_all"] = [r[k] for r in runs]
            out[k] = median(out[k + "_all"])
    out["syn_events_per_s"] = out["syn_events"] / out["run_s"] if out["run_s"] else float("nan")
    out["reps"] = len(runs)
    return out


# --------------------------------------------------------------------------------- peers
class PeerFailed(RuntimeError):
    pass


def prepare_harness(src: str, workdir: str) -> Path:
    """Copy the peer harness into a writable folder (its caches live next to it)."""
    src_p, work = Path(src), Path(workdir)
    missing = [f for f in HARNESS_FILES if not (src_p / f).is_file()]
    if missing:
        raise FileNotFoundError(f"--peer-harness {src!r} lacks {missing}; expected the shared bench folder")
    work.mkdir(parents=True, exist_ok=True)
    for f in HARNESS_FILES:
        if not (work / f).exists() or (work / f).read_bytes() != (src_p / f).read_bytes():
            shutil.copyfile(src_p / f, work / f)
    return work


def run_peer(python: str, harness: Path, script: str, engine: str, T_ms: float, scale: float,
             seed: int, timeout_s: float) -> dict:
    """One fresh peer process on one pinned core; returns its RESULT JSON."""
    cmd = [python, str(harness / script), "--engine", engine, "--threads", "1", "--seed", str(seed),
           "--T", repr(float(T_ms)), "--scale", repr(float(scale))]
    ru0, w0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, cwd=str(harness))
    except subprocess.TimeoutExpired:
        raise PeerFailed(f"timed out after {timeout_s:.0f} s") from None
    except OSError as e:
        raise PeerFailed(f"cannot start {python!r}: {e}") from None
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            r = json.loads(line[len("RESULT "):])
            ru1, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter() - w0
            cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
            # share of the core the process got over its whole life (imports included)
            r["proc_cpu_s"], r["proc_wall_s"], r["cpu_share"] = cpu, wall, cpu / wall if wall > 0 else float("nan")
            return r
    tail = (p.stderr.strip().splitlines() or p.stdout.strip().splitlines() or ["no output"])[-1]
    raise PeerFailed(f"exit {p.returncode}: {tail[:300]}")


class Peers:
    """Peer engines driven through the shared harness; failures are kept as skip reasons."""

    def __init__(self, args, script: str):
        self.args, self.script = args, script
        self.skipped: dict[str, str] = {}
        self.primed: set = set()
        self.cold: dict = {}
        self.harness = None
        if not args.peer_python:
            for e in args.peers:
                self.skipped[e] = "no --peer-python given"
            return
        try:
            self.harness = prepare_harness(args.peer_harness, args.peer_workdir)
        except (FileNotFoundError, OSError) as e:
            for e_ in args.peers:
                self.skipped[e_] = str(e)

    def active(self, engines) -> list[str]:
        return [e for e in engines if e not in self.skipped and self.harness is not None]

    def once(self, engine: str, T_ms: float, scale: float, seed: int, timeout_s: float) -> dict | None:
        if engine in self.skipped or self.harness is None:
            return None
        key = (engine, T_ms, scale)
        try:
            if engine.startswith("brian2") and key not in self.primed:
                r0 = run_peer(self.args.peer_python, self.harness, self.script, engine, T_ms, scale, seed,
                              timeout_s)
                self.cold[f"{engine} T={T_ms:g} scale={scale:g}"] = dict(
                    total_s=r0["total_s"], compile_s=r0["compile_s"], build_s=r0["build_s"])
                self.primed.add(key)
            r = run_peer(self.args.peer_python, self.harness, self.script, engine, T_ms, scale, seed, timeout_s)
        except PeerFailed as e:
            self.skipped[engine] = str(e)
            print(f"  peer {engine} skipped: {e}", flush=True)
            return None
        r["syn_events_per_s"] = r["syn_events_per_wall_s"]
        return r


PEER_KEYS = ("N", "n_synapses", "build_s", "compile_s", "run_s", "total_s", "total_spikes", "mean_rate_hz",
             "syn_events", "syn_events_per_s", "version", "notes", "peak_rss_mb", "loadavg_1m", "cpu_share")


def compare(ours: dict, peers: dict) -> dict:
    """Ours / fastest peer (by run time), and whether the mean rates agree within 5 %."""
    if not peers:
        return dict(fastest_peer=None)
    name, f = min(peers.items(), key=lambda kv: kv[1]["run_s"])
    dr = ours["mean_rate_hz"] / f["mean_rate_hz"] - 1 if f["mean_rate_hz"] else float("nan")
    fastest_total = min(peers.items(), key=lambda kv: kv[1]["total_s"])
    return dict(fastest_peer=name, ratio_run=ours["run_s"] / f["run_s"],
                fastest_peer_total=fastest_total[0], ratio_total=ours["total_s"] / fastest_total[1]["total_s"],
                rate_rel_diff=dr, equal_rates=bool(abs(dr) <= 0.05))


def loglog_slope(x, y) -> float:
    lx, ly = [math.log(v) for v in x], [math.log(v) for v in y]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    sxx = sum((a - mx) ** 2 for a in lx)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sxx if sxx > 0 else float("nan")


def default_peer_python() -> str:
    env = os.environ.get("NEUROCIRCUITS_PEER_PYTHON")
    if env:
        return env
    cand = "/tmp/peers/.venv/bin/python"
    return cand if os.access(cand, os.X_OK) else sys.executable


def add_peer_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--peer-python", default=default_peer_python(),
                    help="interpreter of the peer environment (default: $NEUROCIRCUITS_PEER_PYTHON, else "
                         "/tmp/peers/.venv/bin/python when present, else this interpreter)")
    ap.add_argument("--peer-harness", default="/work/shared/bench", help="folder with the peer harness")
    ap.add_argument("--peer-workdir", default=os.path.join(tempfile.gettempdir(), "neurocircuits_peer_harness"),
                    help="writable copy of the harness (keeps the Brian2 caches between runs)")
    ap.add_argument("--peers", default=",".join(PEER_ENGINES),
                    type=lambda s: [e for e in s.split(",") if e], help="peer engines to time")
    ap.add_argument("--peer-timeout", type=float, default=600.0, help="seconds per peer process")


def check_peer_args(ap, args) -> None:
    bad = [e for e in args.peers if e not in PEER_ENGINES]
    if bad:
        ap.error(f"--peers: unknown engine(s) {bad}; expected a subset of {list(PEER_ENGINES)}")
    if args.reps < 1:
        ap.error(f"--reps must be >= 1, got {args.reps}")


def fmt_row(name: str, r: dict) -> str:
    return (f"  {name:<16} run {r['run_s']:8.3f} s  total {r['total_s']:8.2f} s  "
            f"(build {r['build_s']:.2f}, compile {r['compile_s']:.2f})  spikes {r['total_spikes']:>10d}  "
            f"rate {r['mean_rate_hz']:6.2f} Hz  {r['syn_events_per_s']:.3g} events/s  "
            f"core share {r.get('cpu_share') or float('nan'):.2f}")


def timed_comparison(build, script, P, args, T_list, peers: Peers) -> list[dict]:
    """For each duration: ``reps`` interleaved repetitions of ours and every active peer."""
    ours_net = Ours(build, P, 1.0, args.seed)
    rows = []
    for T in T_list:
        ours_runs, peer_runs = [], {e: [] for e in args.peers}
        for rep in range(args.reps):
            ours_runs.append(ours_net.run(T))
            print(f"  rep {rep + 1}:", fmt_row("ours", ours_runs[-1]).strip(), flush=True)
            for e in peers.active(args.peers):
                r = peers.once(e, T, 1.0, args.seed, args.peer_timeout)
                if r is not None:
                    peer_runs[e].append({k: r.get(k) for k in PEER_KEYS})
                    print(f"  rep {rep + 1}:", fmt_row(e, peer_runs[e][-1]).strip(), flush=True)
        ours = summarise(ours_runs)
        got = {e: summarise(v) for e, v in peer_runs.items() if v and e not in peers.skipped}
        rows.append(dict(T_ms=T, ours=ours, peers=got, **compare(ours, got)))
        print(f"T = {T:g} ms, median of {args.reps} (load {os.getloadavg()[0]:.2f}):", flush=True)
        print(fmt_row("ours", ours), flush=True)
        for e, r in got.items():
            print(fmt_row(e, r), flush=True)
        c = rows[-1]
        if c["fastest_peer"]:
            print(f"  ours / fastest peer ({c['fastest_peer']}): run {c['ratio_run']:.2f}; total / fastest "
                  f"total ({c['fastest_peer_total']}) {c['ratio_total']:.2f}; rates differ by "
                  f"{100 * c['rate_rel_diff']:+.1f} %" + ("" if c["equal_rates"] else " (more than 5 %)"),
                  flush=True)
    return rows


def scaling_series(args, P, peers: Peers) -> dict:
    """COBA at each scale: ours (1 run after build + compile) and --scaling-peers (1 run each)."""
    rows = []
    for s in args.scales:
        r = time_ours(build_coba, P, s, args.seed, 1)
        row = dict(scale=s, ours={k: r[k] for k in ("N", "n_synapses", "build_s", "run_s", "cpu_s", "mean_rate_hz",
                                                    "syn_events", "syn_events_per_s", "ns_per_neuron_step")},
                   peers={})
        for e in peers.active(args.scaling_peers):
            pr = peers.once(e, P["T"], s, args.seed, args.peer_timeout)
            if pr is not None:
                row["peers"][e] = {k: pr.get(k) for k in PEER_KEYS}
        rows.append(row)
        print(f"  scale {s:g}: N {r['N']}, {r['n_synapses']} synapses, ours run {r['run_s']:.3f} s "
              f"(cpu {r['cpu_s']:.3f}), build {r['build_s']:.2f} s, rate {r['mean_rate_hz']:.2f} Hz, "
              f"{r['syn_events']} events, {r['ns_per_neuron_step']:.2f} ns/neuron-step; "
              + ", ".join(f"{e} run {v['run_s']:.3f} s rate {v['mean_rate_hz']:.2f} Hz"
                          for e, v in row["peers"].items()), flush=True)
    out = dict(rows=rows)
    if len(rows) > 1:
        syn = [r["ours"]["n_synapses"] for r in rows]
        for who in ["ours"] + list(args.scaling_peers):
            pts = [(r["ours"]["n_synapses"], r[who]["run_s"] if who == "ours" else r["peers"].get(who, {}).get("run_s"))
                   for r in rows]
            pts = [(a, b) for a, b in pts if b]
            if len(pts) == len(rows):
                out[f"slope_run_vs_synapses_{who}"] = loglog_slope([a for a, _ in pts], [b for _, b in pts])
        out["slope_events_vs_synapses"] = loglog_slope(syn, [max(r["ours"]["syn_events"], 1) for r in rows])
        print("  log-log slope of run time vs synapses: "
              + ", ".join(f"{k.split('_')[-1]} {v:.2f}" for k, v in out.items() if k.startswith("slope_run")),
              f"(events vs synapses {out['slope_events_vs_synapses']:.2f}; 1 = linear)", flush=True)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--T-list", default="1000,5000", help="biological durations in ms, comma-separated")
    ap.add_argument("--scales", default="1,4,10", type=lambda s: [float(x) for x in s.split(",") if x],
                    help="network size factors for the scaling run (empty: no scaling run)")
    ap.add_argument("--scaling-peers", default="brian2-cpp", type=lambda s: [e for e in s.split(",") if e],
                    help="peers also timed in the scaling run")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--cold-cache", action="store_true", help="compile ours into an empty Numba cache")
    add_peer_args(ap)
    ap.add_argument("--out", default=str(HERE / "results" / "sim_coba.json"))
    args = ap.parse_args(argv)
    check_peer_args(ap, args)
    T_list = [float(x) for x in args.T_list.split(",") if x]
    if not T_list or min(T_list) <= 0:
        ap.error(f"--T-list must hold positive durations in ms, got {args.T_list!r}")
    if any(s <= 0 for s in args.scales):
        ap.error(f"--scales must be positive, got {args.scales}")
    if args.cold_cache:
        os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="nc_numba_")
    pin_one_core()
    t0 = time.perf_counter()
    import neurocircuits.sim.engine  # noqa: F401  (import cost reported separately)
    import_s = time.perf_counter() - t0

    P = dict(PARAMS)
    peers = Peers(args, "sim_coba.py")
    info = machine()
    print(f"COBA, 1 pinned core each, load {info['loadavg_start']}", flush=True)
    rows = timed_comparison(build_coba, "sim_coba.py", P, args, T_list, peers)
    scaling = scaling_series(args, P, peers) if args.scales else None
    info["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    res = dict(bench="coba", machine=info, import_s=import_s, comparison=rows, scaling=scaling,
               peers_skipped=peers.skipped, peers_cold=peers.cold, peer_python=args.peer_python,
               argv=sys.argv[1:] if argv is None else argv)
    for e, why in peers.skipped.items():
        print(f"  skipped {e}: {why}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1))
    print(f"  -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
