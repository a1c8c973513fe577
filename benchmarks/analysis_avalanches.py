"""Avalanche analysis benchmark: detection throughput on a long recording and the power-law
fit with x_min scan on many avalanches.

1. Detection: a recording of ``--spikes`` spikes from 10,000 neurons (bursty population activity:
   a driven branching process at m = 0.95, spikes spread uniformly inside 1 ms steps, sorted by
   construction). Timed: :func:`avalanches_from_times` (one compiled pass, memory O(avalanches)
   <= O(bins)), with and without the sortedness check, against a NumPy reference written the
   usual way (bin counts with ``bincount``, then runs of non-empty bins with ``diff``/
   ``flatnonzero``: several passes and O(bins) temporaries). Both must return the same sizes.
   Elephant has no avalanche analysis, so the NumPy reference is the baseline.
2. Fit: :func:`fit_power_law` with the x_min scan on ``--avalanches`` avalanche sizes (exact
   discrete power law alpha = 1.5 below a uniform body), median of --reps.
3. Shape: :func:`power_law_deviation` (deviation and curvature over sizes 1..99th percentile)
   on the same sizes, without and with a 20-resample bootstrap of the curvature.

    python benchmarks/analysis_avalanches.py [--spikes 1e7] [--avalanches 1e6] [--reps 3]

Writes benchmarks/results/analysis_avalanches.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from neurocircuits.analysis.avalanches import avalanches_from_times  # noqa: E402
from neurocircuits.analysis.powerlaw import (fit_power_law, power_law_deviation,  # noqa: E402
                                             sample_discrete_power_law)
from neurocircuits.sim.branching import driven_branching_process  # noqa: E402

HERE = Path(__file__).resolve().parent


def make_recording(n_spikes: int, n_neurons: int = 10_000, seed: int = 0):
    """Sorted spike times (ms) and ids with bursty population activity, about n_spikes spikes."""
    rng = np.random.default_rng(seed)
    m, mean_a = 0.95, 5.0
    n_steps = int(n_spikes / mean_a) + 1
    counts = driven_branching_process(m, mean_a * (1 - m), n_steps, seed=seed)
    steps = np.repeat(np.arange(n_steps, dtype=np.float64), counts)
    offs = rng.random(steps.size)  # uniform position inside the 1 ms step
    times = (steps + offs)[np.lexsort((offs, steps))]
    ids = rng.integers(0, n_neurons, times.size)
    return times, ids, float(n_steps)


def numpy_reference(times, duration_ms, bin_ms):
    """Avalanche sizes the usual NumPy way (several passes, O(bins) temporaries)."""
    n_bins = int(np.ceil(duration_ms / bin_ms - 1e-9))
    idx = np.minimum((times / bin_ms).astype(np.int64), n_bins - 1)
    counts = np.bincount(idx, minlength=n_bins)
    active = np.concatenate([[0], (counts > 0).astype(np.int8), [0]])
    edges = np.diff(active)
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    csum = np.concatenate([[0], np.cumsum(counts)])
    return csum[stops] - csum[starts], stops - starts


def timeit(fn, reps):
    ts = []
    out = None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spikes", type=float, default=1e7)
    ap.add_argument("--avalanches", type=float, default=1e6)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    n_spikes, n_av, reps = int(a.spikes), int(a.avalanches), a.reps

    times, ids, dur = make_recording(n_spikes)
    bin_ms = 1.0
    # warm-up (compile or load the cache) on a small slice
    t0 = time.perf_counter()
    avalanches_from_times(times[:1000], dur, bin_ms)
    compile_s = time.perf_counter() - t0

    t_fast, av = timeit(lambda: avalanches_from_times(times, dur, bin_ms, check_sorted=False), reps)
    t_chk, _ = timeit(lambda: avalanches_from_times(times, dur, bin_ms), reps)
    t_ref, (ref_sizes, ref_durs) = timeit(lambda: numpy_reference(times, dur, bin_ms), reps)
    if not (np.array_equal(av.sizes, ref_sizes) and np.array_equal(av.durations, ref_durs)):
        raise SystemExit("compiled and NumPy avalanche sizes differ")
    t_iei, av2 = timeit(lambda: avalanches_from_times(times, dur, None, check_sorted=False), reps)
    t_iei_chk, _ = timeit(lambda: avalanches_from_times(times, dur, None), reps)  # the default call

    rng = np.random.default_rng(1)
    n_tail = int(0.6 * n_av)
    data = np.concatenate([rng.integers(1, 5, n_av - n_tail),
                           sample_discrete_power_law(1.5, n_tail, xmin=5, seed=2)])
    fit_power_law(data[:5000])  # warm-up
    t_fit, fit = timeit(lambda: fit_power_law(data), reps)
    t_dev, dev = timeit(lambda: power_law_deviation(data), reps)
    t_boot, _ = timeit(lambda: power_law_deviation(data, n_boot=20, seed=0), reps)

    rows = [
        ("detect, compiled single pass (sorted input trusted)", t_fast, times.size / t_fast),
        ("detect, compiled single pass + sortedness/finite checks", t_chk, times.size / t_chk),
        ("detect, NumPy reference (bincount + diff)", t_ref, times.size / t_ref),
        ("detect, compiled, bin = mean inter-event interval (sorted input trusted)", t_iei, times.size / t_iei),
        ("detect, compiled, bin = mean inter-event interval + checks (the default call)", t_iei_chk,
         times.size / t_iei_chk),
    ]
    print(f"\nAvalanche detection: {times.size:,} spikes, 10,000 neurons, {dur:,.0f} ms, "
          f"{len(av):,} avalanches at 1 ms bins; compile/cache load {compile_s:.2f} s")
    print("| method | time (s) | spikes/s |\n|---|---|---|")
    for name, t, r in rows:
        print(f"| {name} | {t:.3f} | {r:.3g} |")
    print(f"| ratio NumPy / compiled (checked) | {t_ref / t_chk:.2f}x | |")
    print(f"\nPower-law fit with x_min scan: {data.size:,} sizes, {fit.candidates.size} candidates: "
          f"{t_fit:.2f} s (median of {reps}); alpha = {fit.alpha:.4f} ± {fit.sigma:.4f}, x_min = {fit.xmin}")
    print(f"Deviation and curvature (sizes 1..{dev.xmax}, {dev.edges.size - 1} bins): {t_dev:.3f} s; "
          f"with a 20-resample bootstrap {t_boot:.2f} s")

    res = {
        "date": datetime.date.today().isoformat(), "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "python": platform.python_version(), "n_spikes": int(times.size), "n_neurons": 10_000,
        "n_avalanches_detected": len(av), "compile_s": compile_s,
        "detect": {name: {"s": t, "spikes_per_s": r} for name, t, r in rows},
        "ratio_numpy_over_compiled_checked": t_ref / t_chk,
        "fit": {"n": int(data.size), "s": t_fit, "alpha": fit.alpha, "sigma": fit.sigma, "xmin": fit.xmin,
                "n_candidates": int(fit.candidates.size)},
        "deviation": {"n": int(data.size), "s": t_dev, "s_with_20_bootstrap": t_boot, "n_bins": int(dev.edges.size - 1),
                      "deviation": dev.deviation, "curvature": dev.curvature},
    }
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "analysis_avalanches.json").write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
