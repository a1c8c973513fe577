"""Discrete power laws: exact maximum likelihood, x_min by minimum KS distance, goodness of fit
and likelihood-ratio comparison with discrete lognormal and exponential alternatives.

Method of Clauset, Shalizi & Newman (2009), "Power-law distributions in empirical data",
SIAM Review 51:661, arXiv:0706.1062; likelihood-ratio test of Vuong (1989), Econometrica 57:307.

Model (integers ``x_min <= x <= x_max``, ``x_max = inf`` when untruncated)::

    p(x) = x^(-alpha) / Z(alpha),   Z(alpha) = zeta(alpha, x_min) - zeta(alpha, x_max + 1)

with the Hurwitz zeta ``zeta(a, q) = sum_{k>=0} (k + q)^(-a)``. The log-likelihood of ``n``
tail samples is ``-n log Z(alpha) - alpha sum_i log x_i``; it is concave in alpha (log Z is a
cumulant generating function), so a bounded scalar search finds the exact MLE. The standard
error is ``1 / sqrt(n I(alpha))`` with the Fisher information ``I = d^2 log Z / d alpha^2 =
Var_model[log x]``. ``x_min`` is the candidate minimising the Kolmogorov-Smirnov distance
``D = max_x |F_emp(x) - F_model(x)|`` between the tail's empirical and model CDFs (taken exactly
over all integers of the support).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

from neurocircuits.validation import check_float, check_int

__all__ = [
    "PowerLawFit",
    "LRTest",
    "fit_power_law",
    "compare_distributions",
    "power_law_gof",
    "power_law_pmf",
    "power_law_cdf",
    "sample_discrete_power_law",
    "fit_discrete_exponential",
    "fit_discrete_lognormal",
    "PowerLawDeviation",
    "power_law_deviation",
]

_ALPHA_BOUNDS = (1.0 + 1e-6, 8.0)


# ---------------------------------------------------------------------------------------------
# input checks
def _as_positive_integers(name: str, data) -> np.ndarray:
    x = np.asarray(data)
    if x.ndim != 1:
        x = x.ravel()
    if x.size == 0:
        raise ValueError(f"{name} is empty: a power-law fit needs samples")
    if x.dtype.kind == "f":
        if not np.isfinite(x).all():
            raise ValueError(f"{name} contains {int((~np.isfinite(x)).sum())} NaN or infinite value(s)")
        if not np.all(x == np.round(x)):
            raise TypeError(f"{name} must hold integers (discrete power law), got non-integer floats")
    elif x.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer array, got dtype {x.dtype}")
    x = x.astype(np.int64)
    if x.min() < 1:
        raise ValueError(f"{name} must hold integers >= 1, got minimum {x.min()}")
    return x


def _check_alpha(alpha) -> float:
    a = check_float("alpha", alpha)
    if a <= 1.0:
        raise ValueError(f"alpha must be > 1 for a normalisable power law, got {a}")
    return a


def _check_xmax(xmax, xmin: int):
    if xmax is None:
        return None
    xm = check_int("xmax", xmax, min_value=1)
    if xm < xmin:
        raise ValueError(f"xmax must be >= xmin = {xmin}, got {xm}")
    return xm


# ---------------------------------------------------------------------------------------------
# the model
def _log_norm(alpha: float, xmin: int, xmax: int | None) -> float:
    z = special.zeta(alpha, xmin)
    if xmax is not None:
        z -= special.zeta(alpha, xmax + 1.0)
    return math.log(z)


def power_law_pmf(x, alpha: float, xmin: int = 1, xmax: int | None = None) -> np.ndarray:
    """``p(x) = x^-alpha / Z`` for integers in ``[xmin, xmax]`` (0 outside)."""
    a = _check_alpha(alpha)
    xmin = check_int("xmin", xmin, min_value=1)
    xmax = _check_xmax(xmax, xmin)
    x = np.asarray(x, dtype=np.float64)
    logz = _log_norm(a, xmin, xmax)
    inside = (x >= xmin) & ((x <= xmax) if xmax is not None else True)
    out = np.zeros_like(x)
    out[inside] = np.exp(-a * np.log(x[inside]) - logz)
    return out


def power_law_cdf(x, alpha: float, xmin: int = 1, xmax: int | None = None) -> np.ndarray:
    """``P(X <= x)`` of the discrete power law (``x`` real; floor is taken)."""
    a = _check_alpha(alpha)
    xmin = check_int("xmin", xmin, min_value=1)
    xmax = _check_xmax(xmax, xmin)
    x = np.floor(np.asarray(x, dtype=np.float64))
    return _cdf(x, a, xmin, xmax)


def _cdf(x: np.ndarray, a: float, xmin: int, xmax: int | None) -> np.ndarray:
    z0 = special.zeta(a, xmin)
    zend = special.zeta(a, xmax + 1.0) if xmax is not None else 0.0
    xc = np.clip(x, xmin - 1, xmax if xmax is not None else np.inf)
    out = (z0 - special.zeta(a, xc + 1.0)) / (z0 - zend)
    return np.where(x < xmin, 0.0, np.clip(out, 0.0, 1.0))


def _fisher(alpha: float, xmin: int, xmax: int | None) -> float:
    """``Var_model[log x] = d^2 log Z / d alpha^2`` by a central difference (step 1e-3)."""
    h = 1e-3
    a = max(alpha, _ALPHA_BOUNDS[0] + h)
    return (_log_norm(a + h, xmin, xmax) - 2 * _log_norm(a, xmin, xmax) + _log_norm(a - h, xmin, xmax)) / h**2


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PowerLawFit:
    """A fitted discrete power law.

    alpha: exponent; sigma: its standard error (Fisher information); xmin/xmax: support;
    n_tail: samples in the support; n_total: samples given; ks: KS distance of the tail;
    loglik: log-likelihood of the tail; candidates/ks_scan: the x_min scan (KS per candidate).
    """

    alpha: float
    sigma: float
    xmin: int
    xmax: int | None
    n_tail: int
    n_total: int
    ks: float
    loglik: float
    candidates: np.ndarray
    ks_scan: np.ndarray

    def pmf(self, x) -> np.ndarray:
        return power_law_pmf(x, self.alpha, self.xmin, self.xmax)

    def cdf(self, x) -> np.ndarray:
        return power_law_cdf(x, self.alpha, self.xmin, self.xmax)

    def tail(self, data) -> np.ndarray:
        """The samples of ``data`` inside the fitted support."""
        x = _as_positive_integers("data", data)
        m = x >= self.xmin
        if self.xmax is not None:
            m &= x <= self.xmax
        return x[m]

    def to_dict(self) -> dict:
        return {"alpha": self.alpha, "sigma": self.sigma, "xmin": self.xmin, "xmax": self.xmax,
                "n_tail": self.n_tail, "n_total": self.n_total, "ks": self.ks, "loglik": self.loglik}


def _mle_alpha(n: int, sum_log: float, xmin: int, xmax: int | None) -> float:
    def nll(a):
        return n * _log_norm(a, xmin, xmax) + a * sum_log

    r = optimize.minimize_scalar(nll, bounds=_ALPHA_BOUNDS, method="bounded",
                                 options={"xatol": 1e-8, "maxiter": 200})
    return float(r.x)


def _ks_tail(vals: np.ndarray, cnts: np.ndarray, a: float, xmin: int, xmax: int | None) -> float:
    """Exact sup over integers of |F_emp - F_model| for the tail given as sorted unique values
    and their counts. Between observed values F_emp is flat and F_model rises, so the sup is at
    an observed value or just before the next one."""
    n = cnts.sum()
    femp = np.cumsum(cnts) / n
    fm_at = _cdf(vals.astype(np.float64), a, xmin, xmax)
    d = np.abs(femp - fm_at).max()
    # just below each next observed value (also at xmin - 1 = 0 below the first: F_emp=0, F_mod=0)
    if vals.size > 1:
        before_next = _cdf(vals[1:].astype(np.float64) - 1.0, a, xmin, xmax)
        d = max(d, np.abs(femp[:-1] - before_next).max())
    # below the first observed value (values xmin..vals[0]-1 unobserved): F_emp = 0
    if vals[0] > xmin:
        d = max(d, float(_cdf(np.array([vals[0] - 1.0]), a, xmin, xmax)[0]))
    # above the largest observed value F_emp = 1 and F_model <= 1: covered at vals[-1]
    return float(d)


def fit_power_law(data, xmin: int | None = None, xmax: int | None = None, *, min_tail: int = 50,
                  max_candidates: int = 200) -> PowerLawFit:
    """Fit a discrete power law to positive integer ``data`` (sizes, durations).

    ``xmin=None`` scans candidates (the distinct data values leaving at least ``min_tail``
    samples in the tail; when there are more than ``max_candidates`` of them, a log-spaced subset
    of that many, always including the smallest) and keeps the one with the smallest KS distance
    (Clauset et al. 2009, Sec. 3.3). ``xmax`` truncates the support (samples above it are left out
    of the fit). Raises ValueError when fewer than ``min_tail`` (>= 10) samples lie in the support
    or the tail holds a single distinct value. The exponent is searched in ``(1, 8]``: a result at
    8 means a tail steeper than any power law in that range (a cutoff, not a power law).
    """
    x = _as_positive_integers("data", data)
    min_tail = check_int("min_tail", min_tail, min_value=10)
    max_candidates = check_int("max_candidates", max_candidates, min_value=1)
    n_total = x.size
    if xmax is not None:
        xmax = check_int("xmax", xmax, min_value=1)
        x = x[x <= xmax]
    vals, cnts = np.unique(x, return_counts=True)
    if xmin is not None:
        xmin = check_int("xmin", xmin, min_value=1)
        if xmax is not None and xmax < xmin:
            raise ValueError(f"xmax must be >= xmin = {xmin}, got {xmax}")
        cands = np.array([xmin], dtype=np.int64)
    else:
        tail_n = np.cumsum(cnts[::-1])[::-1]
        cands = vals[tail_n >= min_tail]
        if cands.size > max_candidates:
            pos = np.unique(np.round(np.geomspace(1, cands.size, max_candidates)).astype(np.int64) - 1)
            cands = cands[pos]
    if cands.size == 0:
        raise ValueError(f"fewer than min_tail = {min_tail} samples to fit (got {x.size} in the support)")
    logv = np.log(vals.astype(np.float64))
    suffix_n = np.cumsum(cnts[::-1])[::-1]
    suffix_log = np.cumsum((cnts * logv)[::-1])[::-1]
    best = None
    ks_scan = np.empty(cands.size)
    for j, xm in enumerate(cands):
        xm = int(xm)
        k = int(np.searchsorted(vals, xm))
        if k >= vals.size:
            ks_scan[j] = np.inf
            continue
        n = int(suffix_n[k])
        if n < min_tail:
            if xmin is not None:
                raise ValueError(f"fewer than min_tail = {min_tail} samples at or above xmin = {xm} "
                                 f"(got {n})")
            ks_scan[j] = np.inf
            continue
        if k == vals.size - 1:  # one distinct value: the likelihood rises without bound in alpha
            if xmin is not None:
                raise ValueError(f"all {n} samples at or above xmin = {xm} equal {vals[k]}: the exponent "
                                 "is not identifiable")
            ks_scan[j] = np.inf
            continue
        a = _mle_alpha(n, float(suffix_log[k]), xm, xmax)
        d = _ks_tail(vals[k:], cnts[k:], a, xm, xmax)
        ks_scan[j] = d
        if best is None or d < best[0]:
            best = (d, xm, a, n, float(suffix_log[k]))
    if best is None:
        raise ValueError(f"fewer than min_tail = {min_tail} samples to fit")
    d, xm, a, n, slog = best
    fisher = _fisher(a, xm, xmax)
    sigma = 1.0 / math.sqrt(n * fisher) if fisher > 0 else math.inf
    loglik = -n * _log_norm(a, xm, xmax) - a * slog
    return PowerLawFit(alpha=a, sigma=sigma, xmin=xm, xmax=xmax, n_tail=n, n_total=n_total, ks=d,
                       loglik=loglik, candidates=cands, ks_scan=ks_scan)


# ---------------------------------------------------------------------------------------------
# alternatives on the same support (x >= xmin, x <= xmax)
def _trunc_logsf(z: np.ndarray) -> np.ndarray:
    return stats.norm.logsf(z)


def _log_diff(la: np.ndarray, lb: np.ndarray) -> np.ndarray:
    """log(exp(la) - exp(lb)) for la >= lb."""
    with np.errstate(divide="ignore"):
        return la + np.log1p(-np.exp(np.minimum(lb - la, 0.0)))


def fit_discrete_exponential(data, xmin: int = 1, xmax: int | None = None) -> dict:
    """Discrete exponential ``p(x) = (1 - e^-lam) e^{-lam (x - xmin)}`` on ``x >= xmin``
    (renormalised to ``[xmin, xmax]`` when truncated); MLE of ``lam`` (closed form untruncated:
    ``lam = log(1 + 1/(mean - xmin))``). Returns ``{"lam", "loglik", "logpdf"}`` where
    ``logpdf(x)`` evaluates the fitted log-pmf."""
    x = _as_positive_integers("data", data)
    xmin = check_int("xmin", xmin, min_value=1)
    xmax = _check_xmax(xmax, xmin)
    x = x[(x >= xmin) & ((x <= xmax) if xmax is not None else True)]
    if x.size < 2:
        raise ValueError(f"need at least 2 samples in the support to fit an exponential, got {x.size}")
    y = (x - xmin).astype(np.float64)
    span = None if xmax is None else xmax - xmin + 1

    def logpdf_lam(lam, yy):
        base = np.log(-np.expm1(-lam)) - lam * yy
        if span is not None:
            base = base - np.log(-np.expm1(-lam * span))
        return base

    if y.mean() == 0:
        lam = 50.0
    elif span is None:
        lam = math.log1p(1.0 / y.mean())
    else:
        r = optimize.minimize_scalar(lambda l: -logpdf_lam(l, y).sum(), bounds=(1e-9, 50.0),
                                     method="bounded", options={"xatol": 1e-10})
        lam = float(r.x)

    def logpdf(v):
        v = np.asarray(v, dtype=np.float64)
        return logpdf_lam(lam, v - xmin)

    return {"lam": lam, "loglik": float(logpdf_lam(lam, y).sum()), "logpdf": logpdf}


def fit_discrete_lognormal(data, xmin: int = 1, xmax: int | None = None) -> dict:
    """Discrete lognormal: ``p(x) ∝ S(x) - S(x + 1)`` with ``S(x) = P(Y >= x)`` of a continuous
    lognormal ``Y`` with parameters ``mu, s`` (the law of ``floor(Y)``), renormalised to the
    support ``[xmin, xmax]``. Maximum likelihood over ``(mu, log s)`` (L-BFGS-B). Returns
    ``{"mu", "s", "loglik", "logpdf"}``."""
    x = _as_positive_integers("data", data)
    xmin = check_int("xmin", xmin, min_value=1)
    xmax = _check_xmax(xmax, xmin)
    x = x[(x >= xmin) & ((x <= xmax) if xmax is not None else True)]
    if x.size < 2:
        raise ValueError(f"need at least 2 samples in the support to fit a lognormal, got {x.size}")
    vals, cnts = np.unique(x, return_counts=True)
    lv, lv1 = np.log(vals.astype(np.float64)), np.log(vals + 1.0)
    lmin = math.log(xmin)
    lmax1 = None if xmax is None else math.log(xmax + 1.0)

    def logpdf_par(mu, s, la, la1):
        num = _log_diff(_trunc_logsf((la - mu) / s), _trunc_logsf((la1 - mu) / s))
        den = _trunc_logsf(np.array([(lmin - mu) / s]))
        if lmax1 is not None:
            den = _log_diff(den, _trunc_logsf(np.array([(lmax1 - mu) / s])))
        return num - den[0]

    def nll(p):
        v = logpdf_par(p[0], math.exp(p[1]), lv, lv1)
        if not np.all(np.isfinite(v)):
            return 1e300
        return -float((cnts * v).sum())

    ly = np.log(x + 0.5)
    s0 = max(float(ly.std()), 0.1)
    best = None
    for mu0 in (float(ly.mean()), float(ly.mean()) - 2 * s0, lmin):
        r = optimize.minimize(nll, x0=[mu0, math.log(s0)], method="L-BFGS-B",
                              bounds=[(-60.0, 60.0), (math.log(1e-3), math.log(50.0))])
        if best is None or r.fun < best.fun:
            best = r
    mu, s = float(best.x[0]), float(math.exp(best.x[1]))

    def logpdf(v):
        v = np.asarray(v, dtype=np.float64)
        return logpdf_par(mu, s, np.log(v), np.log(v + 1.0))

    return {"mu": mu, "s": s, "loglik": -float(best.fun), "logpdf": logpdf}


@dataclass(frozen=True)
class LRTest:
    """Vuong's likelihood-ratio test of the power law against ``alternative``.

    R: total log-likelihood ratio (power law minus alternative; > 0 favours the power law);
    normalized: ``R / (sigma sqrt(n))`` with ``sigma`` the standard deviation of the pointwise
    log-ratios; p: two-sided significance ``erfc(|normalized| / sqrt 2)``; preferred: the
    favoured model, or ``"undecided"`` when ``p >= significance``."""

    alternative: str
    R: float
    normalized: float
    p: float
    preferred: str
    params: dict


def compare_distributions(data, fit: PowerLawFit, alternative: str = "lognormal", *,
                          significance: float = 0.1) -> LRTest:
    """Compare the fitted power law with a discrete ``"lognormal"`` or ``"exponential"`` fitted
    by maximum likelihood on the same support (Clauset et al. 2009, Sec. 5; Vuong 1989)."""
    if alternative not in ("lognormal", "exponential"):
        raise ValueError(f"alternative must be 'lognormal' or 'exponential', got {alternative!r}")
    if not isinstance(fit, PowerLawFit):
        raise TypeError(f"fit must be a PowerLawFit, got {type(fit).__name__}")
    significance = check_float("significance", significance, min_value=0.0, max_value=1.0)
    x = fit.tail(data)
    if x.size < 2:
        raise ValueError(f"need at least 2 samples in the fitted support, got {x.size}")
    alt = (fit_discrete_lognormal if alternative == "lognormal" else fit_discrete_exponential)(
        x, xmin=fit.xmin, xmax=fit.xmax)
    l1 = -fit.alpha * np.log(x.astype(np.float64)) - _log_norm(fit.alpha, fit.xmin, fit.xmax)
    l2 = alt["logpdf"](x)
    d = l1 - l2
    R = float(d.sum())
    sd = float(d.std())
    n = x.size
    if sd == 0:
        norm_r = 0.0 if R == 0 else math.copysign(math.inf, R)
        p = 1.0 if R == 0 else 0.0
    else:
        norm_r = R / (sd * math.sqrt(n))
        p = float(special.erfc(abs(norm_r) / math.sqrt(2)))
    pref = "undecided" if p >= significance else ("power_law" if R > 0 else alternative)
    params = {k: v for k, v in alt.items() if k not in ("logpdf",)}
    return LRTest(alternative, R, norm_r, p, pref, params)


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PowerLawDeviation:
    """How far, and which way, a distribution departs from its best power law over a range.

    alpha: the power law fitted (maximum likelihood, truncated to ``[xmin, xmax]``); xmin, xmax:
    the range (``xmax`` the ``upper_percentile`` of the data); n_range/n_total: samples in the
    range / given; edges: the logarithmic bins ``[edges[k], edges[k+1])``; centres: their
    geometric centres; model_probability: the fitted power law's probability of each bin (given
    the range; ``model_probability * 10**log_ratio`` is the empirical one); log_ratio:
    ``log10(P_emp / P_model)`` per bin (NaN for an empty bin);
    deviation: mean ``|log_ratio|`` over the non-empty bins (0 for a perfect power law);
    curvature: the quadratic coefficient of ``log_ratio`` against the log size rescaled to
    [-1, 1] over the range (decades; > 0: both ends above the fitted line, a bump of large values;
    < 0: both ends below it, a cutoff); curvature_ci: its bootstrap confidence interval (None
    without a bootstrap)."""

    alpha: float
    xmin: int
    xmax: int
    n_range: int
    n_total: int
    edges: np.ndarray
    centres: np.ndarray
    model_probability: np.ndarray
    log_ratio: np.ndarray
    deviation: float
    curvature: float
    curvature_ci: tuple[float, float] | None

    def to_dict(self) -> dict:
        return {"alpha": self.alpha, "xmin": self.xmin, "xmax": self.xmax, "n_range": self.n_range,
                "n_total": self.n_total, "n_bins": int(self.edges.size - 1), "deviation": self.deviation,
                "curvature": self.curvature,
                "curvature_ci": list(self.curvature_ci) if self.curvature_ci is not None else None}


def _log_bin_edges(xmin: int, xmax: int, per_decade: int) -> np.ndarray:
    """Integer edges of logarithmic bins covering ``xmin..xmax`` (bins ``[e_k, e_{k+1})``; the
    smallest bins hold single integers)."""
    n = max(1, int(math.ceil(per_decade * math.log10((xmax + 1) / xmin))))
    return np.unique(np.round(np.geomspace(xmin, xmax + 1, n + 1)).astype(np.int64))


class _BinnedPowerLaw:
    """The bins of a range and the power-law mass of each bin for a given exponent."""

    def __init__(self, xmin: int, xmax: int, per_decade: int):
        self.xmin, self.xmax = xmin, xmax
        self.edges = _log_bin_edges(xmin, xmax, per_decade)
        self.centres = np.sqrt(self.edges[:-1] * (self.edges[1:] - 1.0))
        lo, hi = math.log10(xmin), math.log10(xmax)
        self.u = (np.log10(self.centres) - 0.5 * (lo + hi)) / (0.5 * (hi - lo))  # log size on [-1, 1]
        self._edges_f = self.edges.astype(np.float64)

    def mass(self, alpha: float) -> np.ndarray:
        # Σ_{x=a}^{b-1} x^-alpha = ζ(alpha, a) - ζ(alpha, b): O(bins), whatever the range's length
        m = -np.diff(special.zeta(alpha, self._edges_f))
        return m / m.sum()

    def measure(self, x_in: np.ndarray):
        """alpha, the bins' model probabilities, per-bin log10 ratios, mean |ratio| and curvature
        for the in-range samples."""
        a = _mle_alpha(x_in.size, float(np.log(x_in.astype(np.float64)).sum()), self.xmin, self.xmax)
        cnt = np.histogram(x_in, bins=self.edges)[0]
        mass = self.mass(a)
        ok = cnt > 0
        lr = np.full(cnt.size, np.nan)
        lr[ok] = np.log10(cnt[ok] / (mass[ok] * x_in.size))
        if ok.sum() < 3:
            raise ValueError(f"need at least 3 non-empty bins in [{self.xmin}, {self.xmax}] to measure a "
                             f"curvature, got {int(ok.sum())}")
        u = self.u[ok]
        coef = np.linalg.lstsq(np.vstack([np.ones_like(u), u, u * u]).T, lr[ok], rcond=None)[0]
        return a, mass, lr, float(np.abs(lr[ok]).mean()), float(coef[2])


def power_law_deviation(data, *, xmin: int = 1, upper_percentile: float = 99.0, bins_per_decade: int = 10,
                        n_boot: int = 0, confidence: float = 0.95, seed=None) -> PowerLawDeviation:
    """Deviation of the empirical distribution of positive integers (avalanche sizes, durations)
    from the power law fitted to it over ``[xmin, x_q]``, ``x_q`` the ``upper_percentile`` of the
    data: how large (``deviation``) and which way (``curvature``).

    The deviation of the size distribution from a power law over a percentile range is the κ that
    Safavi, Chalk, Logothetis & Levina (2024, PNAS 121:e2302730121) track against noise: a
    distance, smallest where the distribution is closest to scale-free. Here the range is cut into
    logarithmic bins ``B_k`` (``bins_per_decade``; the first ones hold single integers) and

        r_k = log10( P(B_k | range) / Σ_{x in B_k} x^-alpha / Z ),   deviation = mean_k |r_k|,

    with alpha the truncated maximum-likelihood exponent on the range (as :func:`fit_power_law`
    with fixed ``xmin`` and ``xmax``; searched in (1, 8]) and ``Z`` its normaliser. Empty bins are
    left out. (Bins rather than single values: where most values of a sparse tail are unobserved,
    the observed ones, each at 1/n, would lie far above the model and bias the deviation up.)

    ``curvature`` is the coefficient ``c_2`` of the least-squares fit
    ``r_k = c_0 + c_1 u_k + c_2 u_k²``, ``u_k`` the log of the bin's geometric centre rescaled to
    [-1, 1] over the range: a bump of large events bends the log-log distribution upwards
    (``c_2 > 0``, supercritical), a cutoff bends it down (``c_2 < 0``, subcritical); a power law
    gives 0. ``n_boot > 0`` adds a percentile bootstrap interval of the curvature (resampling the
    data; the range and the bins are kept)."""
    x = _as_positive_integers("data", data)
    xmin = check_int("xmin", xmin, min_value=1)
    q = check_float("upper_percentile", upper_percentile, positive=True, max_value=100.0)
    per_decade = check_int("bins_per_decade", bins_per_decade, min_value=1)
    n_boot = check_int("n_boot", n_boot, min_value=0)
    conf = check_float("confidence", confidence, positive=True)
    if conf >= 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {conf}")
    xmax = int(np.percentile(x, q, method="inverted_cdf"))
    if xmax <= xmin:
        raise ValueError(f"the {q:g}th percentile of the data is {xmax}, not above xmin = {xmin}: "
                         "no range to compare with a power law")
    x_in = x[(x >= xmin) & (x <= xmax)]
    if np.unique(x_in).size < 3:
        raise ValueError(f"need at least 3 distinct values in [{xmin}, {xmax}], got {np.unique(x_in).size}")
    model = _BinnedPowerLaw(xmin, xmax, per_decade)
    a, mass, lr, dev, curv = model.measure(x_in)
    ci = None
    if n_boot:
        rng = np.random.default_rng(seed)
        boots = np.empty(n_boot)
        for b in range(n_boot):
            xb = x[rng.integers(0, x.size, x.size)]
            boots[b] = model.measure(xb[(xb >= xmin) & (xb <= xmax)])[4]
        lo, hi = np.percentile(boots, [50 * (1 - conf), 50 * (1 + conf)])
        ci = (float(lo), float(hi))
    return PowerLawDeviation(a, xmin, xmax, x_in.size, x.size, model.edges, model.centres, mass, lr, dev, curv,
                             ci)


# ---------------------------------------------------------------------------------------------
def sample_discrete_power_law(alpha: float, size: int, xmin: int = 1, xmax: int | None = None,
                              seed=None) -> np.ndarray:
    """Exact samples of the discrete power law ``p(x) ∝ x^-alpha``, ``xmin <= x <= xmax``.

    Rejection sampling: propose ``k = floor(U)`` with ``U`` a continuous Pareto on
    ``[xmin, inf)`` of density ``∝ u^-alpha``, so ``q(k) ∝ ∫_k^{k+1} u^-alpha du <= k^-alpha``;
    accept with probability ``(k^-alpha / ∫_k^{k+1} u^-alpha du) / M`` where
    ``M`` is that ratio at ``k = xmin`` (its maximum: the ratio falls towards 1 as k grows).
    Proposals above ``xmax`` are rejected. ``seed``: int or ``numpy.random.Generator``."""
    a = _check_alpha(alpha)
    size = check_int("size", size, min_value=0)
    xmin = check_int("xmin", xmin, min_value=1)
    xmax = _check_xmax(xmax, xmin)
    rng = np.random.default_rng(seed)

    def ratio(k):
        k = k.astype(np.float64)
        integral = -np.exp((1 - a) * np.log(k)) * np.expm1((1 - a) * np.log1p(1 / k)) / (a - 1)
        return np.exp(-a * np.log(k)) / integral

    m = float(ratio(np.array([xmin]))[0])
    out = np.empty(size, dtype=np.int64)
    filled = 0
    while filled < size:
        want = int((size - filled) * 1.3 * m) + 16
        u = rng.random(want)
        cont = xmin * np.exp(-np.log1p(-u) / (a - 1))  # Pareto(u >= xmin), density ∝ u^-alpha
        cont = np.minimum(cont, 9e18)
        k = np.floor(cont).astype(np.int64)
        ok = k >= xmin
        if xmax is not None:
            ok &= k <= xmax
        k = k[ok]
        acc = rng.random(k.size) * m <= ratio(k)
        k = k[acc][: size - filled]
        out[filled:filled + k.size] = k
        filled += k.size
    return out


def power_law_gof(data, fit: PowerLawFit, n_boot: int = 100, seed=None, *,
                  max_candidates: int = 50) -> float:
    """Semi-parametric bootstrap p-value of the KS goodness of fit (Clauset et al. 2009, Sec.
    4.1): each synthetic set draws ``Binomial(n, n_tail/n)`` samples from the fitted power law and
    the rest from the data below ``xmin``, is refitted with its own x_min scan (fixed x_min when
    ``fit`` used one candidate), and the p-value is the fraction of synthetic KS distances
    ``>=`` the observed one. p < 0.1 rules the power law out."""
    if not isinstance(fit, PowerLawFit):
        raise TypeError(f"fit must be a PowerLawFit, got {type(fit).__name__}")
    n_boot = check_int("n_boot", n_boot, min_value=1)
    x = _as_positive_integers("data", data)
    if fit.xmax is not None:
        x = x[x <= fit.xmax]
    rng = np.random.default_rng(seed)
    below = x[x < fit.xmin]
    n = x.size
    p_tail = fit.n_tail / n
    fixed = fit.candidates.size == 1
    exceed = 0
    for _ in range(n_boot):
        nt = int(rng.binomial(n, p_tail))
        tail = sample_discrete_power_law(fit.alpha, nt, fit.xmin, fit.xmax, seed=rng)
        body = below[rng.integers(0, below.size, n - nt)] if below.size else np.empty(0, np.int64)
        synth = np.concatenate([body, tail])
        try:
            f = fit_power_law(synth, xmin=fit.xmin if fixed else None, xmax=fit.xmax,
                              min_tail=min(50, max(10, nt)), max_candidates=max_candidates)
            exceed += f.ks >= fit.ks
        except ValueError:
            exceed += 1
    return exceed / n_boot
