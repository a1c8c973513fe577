"""Memory of EventProp versus plain-autograd BPTT as the trial grows (T = 100, 300, 1000 steps).

Network: n_in -> n_hidden LIF -> n_out leaky integrator, tau_mem 20 ms, tau_syn 5 ms, dt 1 ms,
sum-exp readout, Poisson input (10 Hz), the same weights and input for both methods.

- EventProp (``neurocircuits.training.eventprop``): event-driven forward, adjoint backward; keeps
  the input events and, per spike, time, neuron and synaptic current.
- BPTT baseline (``neurocircuits.experiments.eventprop.bptt_reference``): the same network
  discretised with the exact per-step propagator, surrogate spike function, plain autograd
  through time: autograd keeps ``[T, B, N]`` worth of tensors.

Two measures per (method, T), each in a fresh process so the high-water mark is its own:

- ``stored``: bytes kept for the backward pass (EventProp: its event arrays; BPTT: distinct
  tensors saved by autograd, via ``torch.autograd.graph.saved_tensors_hooks``);
- ``peak``: growth of the process's peak RSS (``ru_maxrss``) during forward + backward, above
  the high-water mark after imports, weights and input were made.

Usage: ``python benchmarks/eventprop_memory.py [--batch 32] [--hidden 256] [--json PATH]``.
Writes a Markdown table to stdout and JSON to ``benchmarks/results/eventprop_memory.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path


def _child(method: str, T: int, batch: int, n_in: int, n_hidden: int, n_out: int, seed: int) -> dict:
    import torch

    torch.set_num_threads(1)
    from neurocircuits.data.encoders import poisson
    from neurocircuits.experiments.eventprop import bptt_reference, saved_bytes_of
    from neurocircuits.training.eventprop import EventPropConfig, SpikeEvents, eventprop_forward

    dt = 1.0
    gen = torch.Generator().manual_seed(seed)
    W1 = (0.25 + 0.25 * torch.randn(n_in, n_hidden, generator=gen)).requires_grad_()
    W2 = (0.3 * torch.randn(n_hidden, n_out, generator=gen)).requires_grad_()
    raster = poisson(torch.full((batch, n_in), 10.0), T, dt, seed=seed + T)
    ev = SpikeEvents.from_raster(raster, dt)
    cfg = EventPropConfig(duration_ms=T * dt, dt_ms=dt, readout="sum_exp")
    if method == "eventprop":  # compile / load the kernels before the baseline is taken
        eventprop_forward(SpikeEvents.from_raster(raster[:5, :1], dt),
                          [W1, W2], EventPropConfig(duration_ms=5.0, dt_ms=dt)).readout.sum().backward()
        W1.grad = W2.grad = None
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    if method == "eventprop":
        out = eventprop_forward(ev, [W1, W2], cfg)
        stored = out.stored_bytes
        out.readout.sum().backward()
        spikes = int(out.spike_counts[0].sum())
    else:
        R, stored = saved_bytes_of(lambda: bptt_reference(raster, [W1, W2], dt))
        R.sum().backward()
        spikes = -1
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"method": method, "T_steps": T, "stored_bytes": int(stored), "peak_rss_growth_bytes": int((peak - base) * 1024),
            "seconds": wall, "hidden_spikes": spikes, "input_events": ev.n_events}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--inputs", type=int, default=100)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--outputs", type=int, default=10)
    ap.add_argument("--steps", type=int, nargs="+", default=[100, 300, 1000])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "eventprop_memory.json")
    ap.add_argument("--child", nargs=2, metavar=("METHOD", "T"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    for name in ("batch", "inputs", "hidden", "outputs"):
        if getattr(a, name) < 1:
            ap.error(f"--{name} must be >= 1, got {getattr(a, name)}")
    if a.child:
        res = _child(a.child[0], int(a.child[1]), a.batch, a.inputs, a.hidden, a.outputs, a.seed)
        print(json.dumps(res))
        return 0
    env = dict(os.environ, OMP_NUM_THREADS="1")
    rows = []
    for T in a.steps:
        for method in ("eventprop", "bptt"):
            cmd = [sys.executable, __file__, "--child", method, str(T), "--batch", str(a.batch),
                   "--inputs", str(a.inputs), "--hidden", str(a.hidden), "--outputs", str(a.outputs),
                   "--seed", str(a.seed)]
            out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"EventProp vs BPTT, {a.inputs}-{a.hidden}-{a.outputs}, batch {a.batch}, dt 1 ms, 10 Hz Poisson input")
    print("| T (steps) | hidden spikes | EventProp stored | BPTT stored | ratio | EventProp peak RSS growth | BPTT peak RSS growth | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    table = []
    for T in a.steps:
        e = [r for r in rows if r["T_steps"] == T and r["method"] == "eventprop"][0]
        b = [r for r in rows if r["T_steps"] == T and r["method"] == "bptt"][0]
        rs = e["stored_bytes"] / b["stored_bytes"]
        rp = e["peak_rss_growth_bytes"] / max(b["peak_rss_growth_bytes"], 1)
        table.append({"T_steps": T, "eventprop": e, "bptt": b, "stored_ratio": rs, "peak_ratio": rp})
        mib = 2 ** 20
        print(f"| {T} | {e['hidden_spikes']} | {e['stored_bytes'] / mib:.2f} MiB | {b['stored_bytes'] / mib:.1f} MiB | "
              f"{rs:.3f} | {e['peak_rss_growth_bytes'] / mib:.1f} MiB | {b['peak_rss_growth_bytes'] / mib:.1f} MiB | {rp:.3f} |")
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(json.dumps({"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                                  "machine": f"{platform.machine()} {platform.processor()} {os.cpu_count()} cpus",
                                  "config": vars(a) | {"json": str(a.json), "child": None},
                                  "rows": table}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
