"""Inference of directed connectivity from spike trains, and its scoring against ground truth.

Two estimators, both returning a score matrix ``S[i, j]`` for the edge ``j -> i`` (row =
target, column = source, like a weight matrix):

1. Cross-correlogram excess (e.g. Perkel, Gerstein & Moore 1967; English et al. 2017,
   Neuron 96:505). With counts ``y[t, i]`` in bins and ``T`` bins, the coincidences of a spike
   of ``j`` followed by one of ``i`` at lags 1..L bins are

       c_ij = Σ_{k=1..L} Σ_t y_j(t) y_i(t + k),

   whose expectation for independent stationary trains is ``e_ij = Σ_k n_j n_i (T - k) / T²``
   (``n`` the spike totals); the score is the Poisson z-score ``(c_ij - e_ij) / sqrt(e_ij)``.

2. Poisson GLM (Pillow et al. 2008, Nature 454:995, doi:10.1038/nature07140; Truccolo et al.
   2005, J. Neurophysiol. 93:1074). Each neuron's count is Poisson with log-rate

       log λ_i(t) = b_i + Σ_j w_ij h_j(t),   h_j(t) = e^{-1/τ} h_j(t - 1) + y_j(t - 1),

   (``τ`` in bins: an exponential spike-history basis), fitted by maximum likelihood with an L2
   penalty ``(l2 / 2) Σ w_ij²`` (the biases are not penalised), using L-BFGS (scipy) on all
   neurons at once (the objective is a sum of independent per-neuron terms, each scaled by
   1 / r_i, which leaves the minimiser unchanged), in whitened history coordinates. Score: ``ŵ_ij``.

Scoring (:func:`score_edges`): ROC AUC (Mann–Whitney statistic, ties counted half), average
precision, and precision / recall when the top-``K`` scores are called edges, ``K`` the number
of true edges (there precision = recall).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import solve_triangular
from scipy.optimize import minimize
from scipy.signal import lfilter
from scipy.stats import rankdata

from neurocircuits.data.spikes import SpikeTrains
from neurocircuits.validation import check_array, check_float, check_int

__all__ = [
    "spike_counts",
    "ccg_scores",
    "history_features",
    "fit_poisson_glm",
    "roc_auc",
    "average_precision",
    "score_edges",
]


def spike_counts(data, bin_ms: float | None = None) -> np.ndarray:
    """Counts ``[T, N]`` from a :class:`SpikeTrains` (binned at ``bin_ms``) or a count array."""
    if isinstance(data, SpikeTrains):
        if bin_ms is None:
            raise ValueError("bin_ms is required for SpikeTrains input")
        check_float("bin_ms", bin_ms, positive=True)
        return data.binned(bin_ms)
    y = check_array("counts", data, ndim=2)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"counts must be numeric, got dtype {y.dtype}")
    if y.shape[0] < 2 or y.shape[1] < 2:
        raise ValueError(f"counts must be [T >= 2 bins, N >= 2 neurons], got shape {y.shape}")
    if y.size and y.min() < 0:
        raise ValueError("counts must be non-negative")
    return y


def ccg_scores(data, *, max_lag_bins: int = 5, bin_ms: float | None = None) -> np.ndarray:
    """Cross-correlogram z-scores ``[N, N]`` for edges ``j -> i`` (module docstring); the
    diagonal is 0. Neurons without spikes get score 0."""
    y = spike_counts(data, bin_ms).astype(np.float64)
    lmax = check_int("max_lag_bins", max_lag_bins, min_value=1)
    t_len, n = y.shape
    if t_len <= lmax:
        raise ValueError(f"need more than max_lag_bins = {lmax} bins, got {t_len}")
    c = np.zeros((n, n))
    for k in range(1, lmax + 1):
        c += y[k:].T @ y[:-k]  # [i, j] = Σ_t y_i(t + k) y_j(t)
    tot = y.sum(0)
    frac = sum((t_len - k) for k in range(1, lmax + 1)) / t_len**2
    e = np.outer(tot, tot) * frac
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(e > 0, (c - e) / np.sqrt(np.where(e > 0, e, 1.0)), 0.0)
    np.fill_diagonal(z, 0.0)
    return z


def history_features(counts, tau_bins: float) -> np.ndarray:
    """``h[t, j] = e^{-1/τ} h[t-1, j] + y[t-1, j]`` (strictly causal exponential filter)."""
    y = spike_counts(counts).astype(np.float64)
    tau = check_float("tau_bins", tau_bins, positive=True)
    d = math.exp(-1.0 / tau)
    return lfilter([0.0, 1.0], [1.0, -d], y, axis=0)


def fit_poisson_glm(data, *, tau_bins: float = 5.0, l2: float = 1.0, bin_ms: float | None = None,
                    max_iter: int = 200, tol: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """Fit the coupled Poisson GLM (module docstring); returns ``(W_hat [N, N], b_hat [N])``,
    ``W_hat[i, j]`` the coupling ``j -> i`` in log-rate per filtered spike, ``b_hat`` the log
    counts per bin at zero history. Self-coupling (``w_ii``, refractoriness / bursting) is fitted
    too. ``l2`` is the penalty per bin of data times ``T`` (so its effect shrinks with longer
    recordings as in a fixed Gaussian prior)."""
    y = spike_counts(data, bin_ms).astype(np.float64)
    lam = check_float("l2", l2, min_value=0.0)
    max_iter = check_int("max_iter", max_iter, min_value=1)
    tol = check_float("tol", tol, positive=True)
    t_len, n = y.shape
    tot = y.sum(0)
    if np.any(tot == 0):
        raise ValueError(f"{int((tot == 0).sum())} neuron(s) never spike: their GLM has no "
                         "maximum-likelihood solution (drop them first)")
    h = history_features(y, tau_bins)
    h_mean = h.mean(0)
    hc = h - h_mean  # centring decouples bias and weights
    # Whitened features z = hc L^{-T} (G = hcᵀhc / T = L Lᵀ) and per-neuron loss scaling by the
    # mean count r_i make the Hessian of every neuron's problem ≈ identity when couplings are
    # moderate, so L-BFGS converges in few iterations.
    gram = hc.T @ hc / t_len
    try:
        chol = np.linalg.cholesky(gram + 1e-12 * np.trace(gram) / n * np.eye(n))
    except np.linalg.LinAlgError as exc:
        raise ValueError("spike-history features are linearly dependent (duplicate or silent "
                         "neurons?)") from exc
    z = solve_triangular(chol, hc.T, lower=True).T
    rate = tot / t_len
    c_pen = lam / t_len

    def unpack(p):
        return p[: n * n].reshape(n, n), p[n * n:]

    def fun(p):
        v, b = unpack(p)
        eta = z @ v + b
        mu = np.exp(np.minimum(eta, 50.0))
        nll = float(((mu - y * eta).sum(0) / rate).sum()) / t_len
        resid = (mu - y) / (rate * t_len)
        gv = z.T @ resid
        gb = resid.sum(0)
        w_ = solve_triangular(chol.T, v, lower=False)  # w = L^{-T} v
        pen = 0.5 * c_pen * float(((w_ * w_).sum(0) / rate).sum())
        gv += c_pen * solve_triangular(chol, w_ / rate, lower=True)
        return nll + pen, np.concatenate([gv.ravel(), gb])

    # warm start: least squares of the counts on z (linearised model λ ≈ r (1 + z v))
    v0 = (z.T @ (y - rate)) / t_len / rate
    p0 = np.concatenate([v0.ravel(), np.log(rate)])
    res = minimize(fun, p0, jac=True, method="L-BFGS-B",
                   options={"maxiter": max_iter, "gtol": tol, "ftol": tol * 1e-3, "maxcor": 20})
    v, b = unpack(res.x)
    w_src = solve_triangular(chol.T, v, lower=False)
    w_hat = w_src.T.copy()
    b_hat = b - h_mean @ w_src
    if not (np.isfinite(w_hat).all() and np.isfinite(b_hat).all()):
        raise ValueError("GLM fit diverged (non-finite weights): increase l2")
    return w_hat, b_hat


def _labels_scores(scores, labels):
    s = check_array("scores", scores).astype(np.float64).ravel()
    lab = np.asarray(labels).ravel()
    if s.shape != lab.shape:
        raise ValueError(f"scores and labels must have equal size, got {s.size} and {lab.size}")
    if lab.dtype != bool:
        if not np.isin(lab, (0, 1)).all():
            raise ValueError("labels must be boolean or 0/1")
        lab = lab.astype(bool)
    n_pos, n_neg = int(lab.sum()), int((~lab).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"need both positive and negative labels, got {n_pos} positive and {n_neg} negative")
    return s, lab, n_pos, n_neg


def roc_auc(scores, labels) -> float:
    """Area under the ROC curve = P(score of a random positive > a random negative), ties ½."""
    s, lab, n_pos, n_neg = _labels_scores(scores, labels)
    r = rankdata(s)
    return float((r[lab].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision(scores, labels) -> float:
    """Mean of the precision at the rank of each positive (scores sorted descending; ties
    resolved by a stable sort, documented)."""
    s, lab, n_pos, _ = _labels_scores(scores, labels)
    order = np.argsort(-s, kind="stable")
    hits = lab[order]
    prec = np.cumsum(hits) / np.arange(1, hits.size + 1)
    return float(prec[hits].sum() / n_pos)


def score_edges(score, w_true, *, exclude_diagonal: bool = True, absolute: bool = True) -> dict:
    """Score an inferred ``[N, N]`` matrix against the true weights (edge = nonzero weight):
    ``auc``, ``average_precision``, ``precision``/``recall`` of the top-K edges (K = number of
    true edges). ``absolute`` ranks by |score| (detects excitatory and inhibitory edges)."""
    s = check_array("score", score, ndim=2).astype(np.float64)
    w = check_array("w_true", w_true, ndim=2)
    if s.shape != w.shape or s.shape[0] != s.shape[1]:
        raise ValueError(f"score and w_true must be equal square matrices, got {s.shape} and {w.shape}")
    mask = ~np.eye(s.shape[0], dtype=bool) if exclude_diagonal else np.ones(s.shape, bool)
    sv = np.abs(s[mask]) if absolute else s[mask]
    lab = w[mask] != 0
    auc = roc_auc(sv, lab)
    ap = average_precision(sv, lab)
    k = int(lab.sum())
    top = np.argsort(-sv, kind="stable")[:k]
    tp = int(lab[top].sum())
    return {"auc": auc, "average_precision": ap, "precision": tp / k, "recall": tp / k,
            "n_edges": k, "n_pairs": int(lab.size)}
