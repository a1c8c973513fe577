"""Branching ratio of population activity and Shew's κ.

* Naive (conventional) estimator: the slope of the linear regression of ``A_{t+1}`` on ``A_t``.
  For a branching process with immigration ``E[A_{t+1} | A_t] = m A_t + h`` it is consistent
  when every unit is observed, but under subsampling (a fraction of units recorded) it is biased
  towards 0: ``r_1 = b m`` with ``b < 1`` (Wilting & Priesemann 2018).
* Multistep regression (MR) estimator (Wilting & Priesemann 2018, "Inferring collective
  dynamical states from widely unobserved systems", Nat. Commun. 9:2325,
  doi:10.1038/s41467-018-04725-4): the regression slopes of ``a_{t+k}`` on ``a_t``,

      r_k = Cov(a_t, a_{t+k}) / Var(a_t),   k = 1..k_max,

  of the *subsampled* activity ``a_t`` follow ``r_k = b m^k`` for a (sub)sampled branching
  process, with the unknown ``b`` absorbing the subsampling bias; fitting ``b`` and ``m`` by
  least squares gives ``m̂`` free of it. The autocorrelation time is ``τ = -Δt / ln m̂``.
* Shew's κ (Shew, Yang, Petermann, Roy & Plenz 2009, J. Neurosci. 29:15595,
  doi:10.1523/JNEUROSCI.3864-09.2009): with the measured avalanche-size CDF ``F`` and the CDF
  ``F_NA`` of the reference power law ``P(S) ∝ S^-β`` (β = 3/2) on the same size range,

      κ = 1 + (1/M) Σ_{j=1..M} [F_NA(s_j) - F(s_j)],

  at ``M = 10`` logarithmically spaced sizes ``s_j``. κ ≈ 1 at criticality, κ < 1 subcritical
  (too many small avalanches), κ > 1 supercritical (too many large ones).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from neurocircuits.validation import check_float, check_int

__all__ = ["branching_ratio_naive", "regression_slopes", "MRResult", "mr_estimator", "shew_kappa"]


def _activity(name: str, a) -> np.ndarray:
    x = np.asarray(a)
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1-D [n_steps], got shape {x.shape}")
    if x.dtype.kind not in "iufb":
        raise TypeError(f"{name} must be numeric, got dtype {x.dtype}")
    x = x.astype(np.float64)
    if x.size and not np.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def regression_slopes(activity, k_max: int) -> np.ndarray:
    """``r_k = Cov(a_t, a_{t+k}) / Var(a_t)`` over all pairs ``(t, t+k)``, ``k = 1..k_max``
    (each slope is the least-squares regression of ``a_{t+k}`` on ``a_t``)."""
    a = _activity("activity", activity)
    k_max = check_int("k_max", k_max, min_value=1)
    if a.size < k_max + 3:
        raise ValueError(f"activity needs more than k_max + 2 = {k_max + 2} steps, got {a.size}")
    r = np.empty(k_max)
    for k in range(1, k_max + 1):
        x, y = a[:-k], a[k:]
        xc = x - x.mean()
        vx = float(xc @ xc)
        if vx == 0:
            raise ValueError("activity is constant: the regression slopes are undefined")
        r[k - 1] = float(xc @ (y - y.mean())) / vx
    return r


def branching_ratio_naive(activity) -> float:
    """The conventional estimator: slope of ``A_{t+1}`` on ``A_t`` (= ``r_1``)."""
    return float(regression_slopes(activity, 1)[0])


@dataclass(frozen=True)
class MRResult:
    """MR estimate: m (branching ratio), b (subsampling factor), tau_steps (autocorrelation
    time ``-1/ln m`` in steps, inf for m >= 1), m_se (standard error of m from the fit's
    covariance), k and r_k (the slopes fitted)."""

    m: float
    b: float
    tau_steps: float
    m_se: float
    k: np.ndarray
    r_k: np.ndarray

    def to_dict(self) -> dict:
        return {"m": self.m, "b": self.b, "tau_steps": self.tau_steps, "m_se": self.m_se}


def mr_estimator(activity, k_max: int = 40, *, k_min: int = 1) -> MRResult:
    """Multistep-regression estimate of the branching ratio from (possibly subsampled)
    activity: fit ``r_k = b m^k`` for ``k = k_min..k_max`` by nonlinear least squares.

    Choose ``k_max`` of the order of a few autocorrelation times (for m = 0.98, τ ≈ 50 steps:
    k_max ≈ 100-200)."""
    k_max = check_int("k_max", k_max, min_value=2)
    k_min = check_int("k_min", k_min, min_value=1, max_value=k_max - 1)
    r = regression_slopes(activity, k_max)[k_min - 1:]
    k = np.arange(k_min, k_max + 1, dtype=np.float64)
    pos = r > 0
    if pos.sum() >= 2:  # starting point from a log-linear fit of the positive slopes
        sl, ic = np.polyfit(k[pos], np.log(r[pos]), 1)
        m0, b0 = float(np.clip(np.exp(sl), 1e-3, 1.2)), float(np.exp(ic))
    else:
        m0, b0 = 0.5, max(float(r[0]), 1e-3)

    def model(kk, b, m):
        return b * np.power(m, kk)

    try:
        (b, m), cov = optimize.curve_fit(model, k, r, p0=[b0, m0], bounds=([-np.inf, 0.0], [np.inf, 2.0]),
                                         maxfev=10000)
        m_se = float(math.sqrt(cov[1, 1])) if np.isfinite(cov[1, 1]) else math.inf
    except RuntimeError as e:  # pragma: no cover - reported, never silent
        raise ValueError(f"MR fit r_k = b m^k did not converge: {e}") from e
    tau = -1.0 / math.log(m) if 0 < m < 1 else math.inf
    return MRResult(float(m), float(b), tau, m_se, k.astype(np.int64), r)


def shew_kappa(sizes, *, beta: float = 1.5, n_points: int = 10, size_min: int | None = None,
               size_max: int | None = None) -> float:
    """Shew's κ of avalanche sizes against the discrete power law ``∝ s^-beta`` on
    ``[size_min, size_max]`` (defaults: smallest and largest size observed; Shew et al. used
    1 and the number of electrodes). The ``n_points`` evaluation sizes are logarithmically spaced
    in that range (rounded to integers). Needs at least 2 avalanches and ``size_max > size_min``."""
    s = np.asarray(sizes)
    if s.ndim != 1:
        raise ValueError(f"sizes must be 1-D, got shape {s.shape}")
    if s.size < 2:
        raise ValueError(f"shew_kappa needs at least 2 avalanche sizes, got {s.size}")
    if s.dtype.kind == "f" and not np.isfinite(s).all():
        raise ValueError("sizes contains NaN or infinite values")
    if s.min() < 1:
        raise ValueError(f"sizes must be >= 1, got minimum {s.min()}")
    beta = check_float("beta", beta, positive=True)
    if beta <= 1:
        raise ValueError(f"beta must be > 1, got {beta}")
    n_points = check_int("n_points", n_points, min_value=2)
    lo = int(s.min()) if size_min is None else check_int("size_min", size_min, min_value=1)
    hi = int(s.max()) if size_max is None else check_int("size_max", size_max, min_value=1)
    if hi <= lo:
        raise ValueError(f"size_max must be > size_min, got [{lo}, {hi}]")
    pts = np.unique(np.round(np.geomspace(lo, hi, n_points)).astype(np.int64))
    z_lo = special.zeta(beta, lo)
    z_hi = special.zeta(beta, hi + 1.0)
    f_ref = (z_lo - special.zeta(beta, pts + 1.0)) / (z_lo - z_hi)
    srt = np.sort(s.astype(np.float64))
    f_emp = np.searchsorted(srt, pts, side="right") / srt.size
    return float(1.0 + np.mean(f_ref - f_emp))
