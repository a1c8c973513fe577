"""Benchmark: streaming spike-count covariance of many neurons over many bins.

Measures throughput (bins per second, and GFLOP/s of the X^T X accumulation) and peak memory
(tracemalloc: every NumPy allocation is traced) of ``count_covariance`` in chunks, against the
one-shot ``np.cov`` of the full ``[T, N]`` matrix, at growing ``T``. The streaming peak stays
``O(N^2 + chunk * N)`` while the one-shot peak grows as ``O(T * N)``. Throughput at 1e6 bins
is extrapolated linearly from the measured run (the work per bin is constant).

    .venv/bin/python benchmarks/analysis_covariance.py [--neurons 2000] [--bins 100000]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import tracemalloc
from datetime import datetime, timezone

import numpy as np

from neurocircuits.analysis.covariance import CovarianceAccumulator, covariance_statistics


def counts_chunks(n: int, n_bins: int, chunk: int, seed: int):
    """Poisson(0.05) spike counts, chunk by chunk (never the whole recording)."""
    rng = np.random.default_rng(seed)
    for s in range(0, n_bins, chunk):
        yield rng.poisson(0.05, size=(min(chunk, n_bins - s), n)).astype(np.int32)


def streaming(n: int, n_bins: int, chunk: int, seed: int = 0):
    chunks = list(counts_chunks(n, min(n_bins, chunk * 4), chunk, seed))  # pre-made, reused
    tracemalloc.start()
    t0 = time.perf_counter()
    acc = CovarianceAccumulator(n)
    done = 0
    k = 0
    while done < n_bins:
        c = chunks[k % len(chunks)]
        c = c[: n_bins - done]
        acc.update(c)
        done += c.shape[0]
        k += 1
    cov = acc.covariance()
    covariance_statistics(cov)
    dt = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return dt, peak


def one_shot(n: int, n_bins: int, seed: int = 0):
    x = np.concatenate(list(counts_chunks(n, n_bins, 4096, seed)))
    tracemalloc.start()
    t0 = time.perf_counter()
    cov = np.cov(x.T)
    covariance_statistics(cov)
    dt = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return dt, peak + x.nbytes  # the recording itself must be held too


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--neurons", type=int, default=2000)
    ap.add_argument("--bins", type=int, default=100_000)
    ap.add_argument("--chunk", type=int, default=4096)
    args = ap.parse_args()
    n, chunk = args.neurons, args.chunk
    print(f"# covariance benchmark, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
          f"{platform.machine()}, {os.cpu_count()} cores, numpy {np.__version__}")
    print("| method | N | bins | time (s) | bins/s | GFLOP/s | peak memory (MB) |")
    print("|---|---|---|---|---|---|---|")
    rows = []
    for t_bins in (args.bins // 10, args.bins // 4, args.bins):
        dt, peak = streaming(n, t_bins, chunk)
        rows.append(("streaming", t_bins, dt, peak))
        print(f"| streaming (chunk {chunk}) | {n} | {t_bins:,} | {dt:.2f} | {t_bins / dt:,.0f} | "
              f"{2 * n * n * t_bins / dt / 1e9:.1f} | {peak / 2**20:.0f} |", flush=True)
    for t_bins in (args.bins // 40, args.bins // 20, args.bins // 10):
        dt, peak = one_shot(n, t_bins)
        print(f"| one-shot np.cov | {n} | {t_bins:,} | {dt:.2f} | {t_bins / dt:,.0f} | "
              f"{2 * n * n * t_bins / dt / 1e9:.1f} | {peak / 2**20:.0f} |", flush=True)
    _, t_big, dt_big, peak_big = rows[-1]
    print(f"\nExtrapolated to 1e6 bins (streaming): {dt_big * 1e6 / t_big:.0f} s, peak memory "
          f"{peak_big / 2**20:.0f} MB (independent of bins); one-shot would hold "
          f"{1e6 * n * 8 / 2**30:.1f} GiB of float64 counts.")


if __name__ == "__main__":
    main()
