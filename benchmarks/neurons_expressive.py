"""Expressive single-neuron models against equal-parameter conventional baselines.

1. ELM forward + backward vs an LSTM (PyTorch's fused ``nn.LSTM``) of equal parameter count,
   on the delayed-recall input shape of the ``elm-neuron`` reproduction (T = 500, batch 64).
2. k-tree neuron (k = 16, 64 inputs) vs a dense one-hidden-layer MLP of equal parameters, and vs
   the same tree written as dense masked (block-diagonal) matrices.
3. EGRU backward time at about 10 %, 30 % and 100 % activity: dense autograd vs the activity-sparse
   backward (``EGRU(..., sparse_backward=True)``), T = 50, H = 1024, batch 1 and 8.

``--only egru`` (or elm, ktree) runs one part and merges it into the existing results file.

Times are medians of repeated runs of the process's CPU time (one thread), measured in the same
process; compare the ratios, not absolute times (shared, noisy machines). Writes benchmarks/results/neurons_expressive.json.
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch
import torch.nn.functional as F

from neurocircuits.models import MLP, RecurrentClassifier, count_parameters, lstm_param_count, match_hidden, mlp_param_count
from neurocircuits.neurons.dendritic_tree import KTree, ktree_param_count
from neurocircuits.neurons.egru import EGRU, SparseEGRUFunction
from neurocircuits.neurons.elm import ELM


def median_time(fn, repeats: int = 5, warmup: int = 1) -> float:
    """Median CPU time of this process (one thread): robust to other processes on the machine."""
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        ts.append(time.process_time() - t0)
    return statistics.median(ts)


def bench_elm(repeats: int) -> list[dict]:
    rows = []
    T, B, n_in, n_out = 500, 64, 17, 8
    x = torch.rand(T, B, n_in)
    for d_m in (10, 50):
        elm = ELM(n_in, n_out, d_m, tau_max_ms=1000.0, seed=0)
        h = match_hidden(elm.param_count(), lambda h: lstm_param_count(n_in, h, n_out))
        lstm = RecurrentClassifier("lstm", n_in, h, n_out, seed=0)

        def fb(model):
            def f():
                model.zero_grad()
                model(x)[-1].sum().backward()
            return f

        t_elm = median_time(fb(elm), repeats)
        t_lstm = median_time(fb(lstm), repeats)
        rows.append(dict(d_m=d_m, elm_params=count_parameters(elm), lstm_hidden=h,
                         lstm_params=count_parameters(lstm), elm_ms=1e3 * t_elm,
                         lstm_ms=1e3 * t_lstm, elm_seq_per_s=B / t_elm, lstm_seq_per_s=B / t_lstm,
                         elm_over_lstm_time=t_elm / t_lstm))
    return rows


def bench_ktree(repeats: int) -> list[dict]:
    rows = []
    B = 4096
    x = torch.rand(B, 64)
    target = torch.randint(0, 2, (B,)).float()
    for k in (1, 16):
        tree = KTree(64, k, seed=0)
        h = match_hidden(ktree_param_count(64, k), lambda h: mlp_param_count(64, h, 1))
        mlp = MLP(64, h, 1, activation="leaky_relu", seed=0)
        mats = [M.detach().requires_grad_() for M in tree.dense_weights()]
        biases = [c.detach().reshape(-1).requires_grad_() for c in tree.c]

        def masked():
            hh = x.repeat(1, k)
            for M, c in zip(mats, biases):
                hh = F.leaky_relu(hh @ M.t() + c, 0.01)
            out = hh @ tree.v.detach()
            F.binary_cross_entropy_with_logits(out, target).backward()

        def fb(model):
            def f():
                model.zero_grad()
                F.binary_cross_entropy_with_logits(model(x).reshape(-1), target).backward()
            return f

        t_tree = median_time(fb(tree), repeats)
        t_mlp = median_time(fb(mlp), repeats)
        t_masked = median_time(masked, repeats)
        rows.append(dict(k=k, tree_params=ktree_param_count(64, k), mlp_hidden=h,
                         mlp_params=mlp_param_count(64, h, 1), tree_ms=1e3 * t_tree,
                         mlp_ms=1e3 * t_mlp, dense_masked_ms=1e3 * t_masked,
                         tree_over_mlp_time=t_tree / t_mlp, masked_over_tree_time=t_masked / t_tree))
    return rows


def _set_activity(model: EGRU, x: torch.Tensor, target: float) -> float:
    """Choose one global threshold so that the event rate is close to ``target``."""
    with torch.no_grad():
        if target >= 1.0:
            model.theta.fill_(-10.0)  # every unit fires at every step
            return float(model(x)[1].mean())
        for _ in range(8):  # fixed point: events change the cell states through the reset
            _, _, c = model(x)
            model.theta.fill_(float(torch.quantile(c.flatten(), 1.0 - target)))
        return float(model(x)[1].mean())


def bench_egru(repeats: int) -> list[dict]:
    """Backward time of the dense autograd graph vs the activity-sparse SparseEGRUFunction."""
    rows = []
    T, n_in, H = 50, 64, 1024
    for B, width, target in [(B, w, a) for B in (1, 8) for w in (1.0, 0.05) for a in (0.1, 0.3, 1.0)]:
        x = torch.randn(T, B, n_in, generator=torch.Generator().manual_seed(0))
        model = EGRU(n_in, H, seed=0, width=width)
        with torch.no_grad():
            model.W.mul_(3.0)
        act = _set_activity(model, x, target)

        def fwd_bwd(sparse):
            def f():
                model.zero_grad()
                y, e, c = model(x, sparse_backward=sparse)
                loss = y.pow(2).sum()
                f.t0 = time.process_time()
                loss.backward()
                f.bwd = time.process_time() - f.t0
            return f

        out = {}
        for mode in (False, True):
            f = fwd_bwd(mode)
            bwds = []
            f()
            for _ in range(repeats):
                f()
                bwds.append(f.bwd)
            out[mode] = statistics.median(bwds)
        rows.append(dict(batch=B, hidden=H, T=T, pseudo_width=width, target_activity=target,
                         activity=act,
                         backward_columns_fraction=SparseEGRUFunction.last_backward_columns / (T * H),
                         weight_grad_columns_fraction=(
                             SparseEGRUFunction.last_backward_event_columns / (T * H)),
                         dense_backward_ms=1e3 * out[False],
                         sparse_backward_ms=1e3 * out[True],
                         sparse_over_dense=out[True] / out[False]))
    return rows


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["elm", "ktree", "egru"], default=None,
                    help="run one part and merge it into the existing results file")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error(f"--repeats must be >= 1, got {args.repeats}")
    torch.set_num_threads(1)
    repeats = args.repeats
    out = Path(__file__).resolve().parent / "results"
    path = out / "neurons_expressive.json"
    res = json.loads(path.read_text()) if args.only and path.exists() else {}
    stamp = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "torch": torch.__version__, "threads": 1,
    }
    parts = {"elm": ("elm_vs_lstm", bench_elm), "ktree": ("ktree_vs_mlp", bench_ktree),
             "egru": ("egru_backward", bench_egru)}
    for name, (key, fn) in parts.items():
        if args.only in (None, name):
            res[key] = fn(repeats)
            res[key + "_run"] = stamp
    res.update(stamp if args.only is None else {})
    print("ELM vs equal-parameter LSTM, forward+backward, T=500, batch 64")
    for r in res.get("elm_vs_lstm", []) if args.only in (None, "elm") else []:
        print(f"  d_m={r['d_m']:3d}  ELM {r['elm_params']} params {r['elm_ms']:.1f} ms | LSTM h={r['lstm_hidden']} "
              f"{r['lstm_params']} params {r['lstm_ms']:.1f} ms | ELM/LSTM time {r['elm_over_lstm_time']:.2f}")
    print("k-tree vs equal-parameter MLP, forward+backward, batch 4096")
    for r in res.get("ktree_vs_mlp", []) if args.only in (None, "ktree") else []:
        print(f"  k={r['k']:2d}  tree {r['tree_ms']:.2f} ms | MLP h={r['mlp_hidden']} {r['mlp_ms']:.2f} ms | "
              f"dense masked {r['dense_masked_ms']:.2f} ms | tree/MLP {r['tree_over_mlp_time']:.2f} | "
              f"masked/tree {r['masked_over_tree_time']:.2f}")
    print("EGRU backward (T=50, H=1024): dense autograd vs activity-sparse")
    for r in res.get("egru_backward", []) if args.only in (None, "egru") else []:
        print(f"  B={r['batch']} eps={r['pseudo_width']:<5} activity {r['activity']:.2f} (columns kept "
              f"{r['backward_columns_fraction']:.2f}, weight-gradient columns "
              f"{r['weight_grad_columns_fraction']:.2f}) dense {r['dense_backward_ms']:.1f} ms | "
              f"sparse {r['sparse_backward_ms']:.1f} ms | ratio {r['sparse_over_dense']:.2f}")
    out.mkdir(exist_ok=True)
    path.write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
