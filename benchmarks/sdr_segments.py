"""Benchmark: DendriticSegments (CSR index, compiled kernel) vs a dense matrix product.

Workload: K = 10,000 segments of s = 40 synapses each on n = 2048 cells, matched against
B = 1,000 SDRs of a = 40 active cells (Ahmad & Hawkins 2016, arXiv:1601.00720, model of §2.1).
The sparse path visits only active synapses (on average a·K·s/n ≈ 7,800 per SDR); the dense
baseline computes the overlaps as float32 [B, n] @ [n, K] with torch and thresholds them. Both
produce the same bool [B, K] "fired" matrix (checked). Reported: active-synapse updates per
second of the sparse path and the time ratio dense / sparse, measured in the same run at 1
thread and at the machine's thread count (best and median of the repeats).

Run:  .venv/bin/python benchmarks/sdr_segments.py [--repeats 7]
Writes benchmarks/results/sdr_segments.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from neurocircuits.sdr import DendriticSegments, random_sdr, to_dense

N, A, S, K, B, THETA = 2048, 40, 40, 10_000, 1_000, 10


def _times(fn, repeats):
    fn()  # warm-up (compilation, caches)
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "sdr_segments.json"))
    args = ap.parse_args()

    segs = random_sdr(K, N, S, seed=1)
    x = random_sdr(B, N, A, seed=2)
    ds = DendriticSegments(N, segs, THETA)
    w = ds.to_dense(torch.float32)  # [n, K]
    xd = to_dense(x, N).float()  # [B, n]
    # active synapse updates: sum over inputs of the synapses on their active cells
    deg = torch.bincount(segs.reshape(-1), minlength=N)
    updates = int(deg[x].sum())
    # both paths agree
    assert torch.equal(ds.match(x).fired, (xd @ w) >= THETA)

    max_threads = os.cpu_count() or 1
    rows = []
    for threads in sorted({1, max_threads}):
        torch.set_num_threads(threads)
        t_sparse = _times(lambda: ds.match(x, num_threads=threads), args.repeats)
        t_dense = _times(lambda: (xd @ w) >= THETA, args.repeats)
        best_s, best_d = min(t_sparse), min(t_dense)
        med_s, med_d = statistics.median(t_sparse), statistics.median(t_dense)
        rows.append({
            "threads": threads,
            "sparse_best_s": best_s, "sparse_median_s": med_s,
            "dense_best_s": best_d, "dense_median_s": med_d,
            "updates_per_s_best": updates / best_s, "updates_per_s_median": updates / med_s,
            "speedup_best": best_d / best_s, "speedup_median": med_d / med_s,
        })
    result = {
        "benchmark": "sdr_segments",
        "workload": {"n": N, "a": A, "s": S, "segments": K, "batch": B, "theta": THETA,
                     "active_synapse_updates": updates},
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {max_threads} cores, {platform.platform()}",
        "torch": torch.__version__,
        "repeats": args.repeats,
        "rows": rows,
        "targets": {"updates_per_s": 1e8, "speedup_vs_dense": 20},
    }
    print(f"DendriticSegments: K={K} segments x s={S} synapses, B={B} SDRs, n={N}, a={A}; "
          f"{updates:,} active-synapse updates per batch")
    print(f"{'threads':>7} | {'sparse (ms)':>11} | {'dense (ms)':>10} | {'updates/s':>10} | {'dense/sparse':>12}")
    print("-" * 64)
    for r in rows:
        print(f"{r['threads']:>7} | {1e3 * r['sparse_best_s']:>11.1f} | {1e3 * r['dense_best_s']:>10.1f} | "
              f"{r['updates_per_s_best']:>10.3g} | {r['speedup_best']:>11.1f}x")
    print("(best of repeats; medians in the JSON)")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")
    return result


if __name__ == "__main__":
    main()
