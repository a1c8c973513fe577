"""Training-step benchmark: 784-512-10 LIF MLP, T = 25, batch 128, Bernoulli(0.1) input spikes,
β = 0.9, threshold 1, cross-entropy on the summed output spikes, Adam (lr 1e-3), 2 threads.

Configurations, each in a fresh process pinned to ``--threads`` CPUs (so that its peak RSS is its
own), repeated ``--reps`` times in interleaved order:

  ours-fused        fused event-driven linear + LIF layers (linear_lif, the default path)
  ours-split        event-driven SpikingLinear layers, then the fused multi-step LIF
  ours-fused-dense  dense nn.Linear products + fused multi-step LIF
  ours-plain        dense products + plain autograd through the LIF step function
  roofline          the same dense matrix products alone (x W1ᵀ, h W2ᵀ, ∂W1, ∂W2, ∂h)
  snntorch, spikingjelly, norse   peers, when they import in this interpreter (else skipped
                    with the reason printed; they are never installed by this script)

Per configuration: median ms/step over ``--steps`` timed steps after ``--warmup`` (3 / 20),
steps/s, peak RSS (``VmHWM`` of the worker process: interpreter + libraries + tensors; what
``ru_maxrss`` measures for a process started from a shell, the method of the peers' table in
PERFORMANCE.md, without the parent's size that a forked worker's ``ru_maxrss`` starts from)
and the bytes autograd saves for backward
(``torch.autograd.graph.saved_tensors_hooks``). Medians of the per-process medians go to
``benchmarks/results/train_lif.json``.

Peers: run this script with an interpreter that has them and our package on the path, e.g.
``PYTHONPATH=src /path/to/peer-venv/bin/python benchmarks/train_lif.py``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3, help="fresh processes per configuration")
    ap.add_argument("--T", type=int, default=25)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--libs", default="", help="comma-separated subset of configurations")
    ap.add_argument("--out", default=str(HERE / "results" / "train_lif.json"))
    args = ap.parse_args(argv)

    from neurocircuits.experiments.spiking_framework import PEERS, measure_isolated, peer_available

    libs = ["ours-fused", "ours-split", "ours-fused-dense", "ours-plain", "roofline"]
    skipped = {}
    for lib in PEERS:
        ok, why = peer_available(lib)
        if ok:
            libs.append(lib)
        else:
            skipped[lib] = why
            print(f"skipping {lib}: {why}", flush=True)
    if args.libs:
        want = args.libs.split(",")
        libs = [lib for lib in libs if lib in want]
    work = dict(T=args.T, batch=args.batch, inputs=784, hidden=args.hidden, outputs=10,
                warmup=args.warmup, steps=args.steps)
    runs = {lib: [] for lib in libs}
    load_start = os.getloadavg()[0]
    for rep in range(args.reps):
        for lib in libs:
            r = measure_isolated(lib, threads=args.threads, **work, seed=rep)
            runs[lib].append(r)
            print(f"rep {rep} {lib:17s} {r['ms_per_step']:7.1f} ms/step  peak RSS "
                  f"{r['peak_rss_mb']:6.0f} MiB  saved {r.get('saved_for_backward_mb', float('nan')):6.1f} MiB",
                  flush=True)
    summary = {}
    for lib, rs in runs.items():
        med = statistics.median(r["ms_per_step"] for r in rs)
        summary[lib] = dict(
            version=rs[0]["version"], ms_per_step_median=med,
            ms_per_step_range=[min(r["ms_per_step"] for r in rs), max(r["ms_per_step"] for r in rs)],
            steps_per_s=1000.0 / med,
            peak_rss_mb=statistics.median(r["peak_rss_mb"] for r in rs),
            rss_after_import_mb=statistics.median(r["rss_after_import_mb"] for r in rs),
            saved_for_backward_mb=statistics.median(r.get("saved_for_backward_mb", float("nan")) for r in rs),
            hidden_spike_prob=rs[0].get("hidden_spike_prob"),
        )
    ours = summary.get("ours-fused")
    if ours:
        for lib, s in summary.items():
            s["fused_speedup"] = s["ms_per_step_median"] / ours["ms_per_step_median"]
    import torch

    res = dict(
        bench="train_lif", workload=dict(work, p_input=0.1, beta=0.9, threshold=1.0, lr=1e-3,
                                         gain=4.0, threads=args.threads),
        date_utc=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        machine=dict(platform=platform.platform(), processor=platform.processor(),
                     cpus=os.cpu_count(), loadavg_1m_at_start=load_start,
                     loadavg_1m_at_end=os.getloadavg()[0],
                     python=platform.python_version(), torch=torch.__version__),
        memory_method="peak RSS = VmHWM of a fresh process per configuration (MiB); "
                      "saved_for_backward = storages seen by autograd saved-tensor hooks",
        reps=args.reps, skipped=skipped, summary=summary, runs=runs,
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))
    print("\n| configuration | ms/step (median of per-process medians) | steps/s | x ours-fused time "
          "| peak RSS MiB | saved for backward MiB |")
    print("|---|---|---|---|---|---|")
    for lib, s in summary.items():
        print(f"| {lib} {s['version']} | {s['ms_per_step_median']:.1f} ({s['ms_per_step_range'][0]:.1f}-"
              f"{s['ms_per_step_range'][1]:.1f}) | {s['steps_per_s']:.1f} | {s.get('fused_speedup', 0):.2f} "
              f"| {s['peak_rss_mb']:.0f} | {s['saved_for_backward_mb']:.1f} |")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
