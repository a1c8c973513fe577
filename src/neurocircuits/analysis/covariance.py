"""Spike-count covariances, their population statistics, and the bulk eigenvalue radius of the
effective connectivity estimated from them.

Covariances are accumulated in a stream over time, chunk by chunk, so that a recording of
``N`` neurons and ``T`` bins never needs more than ``O(N^2 + chunk * N)`` memory: the
``[T, N]`` count matrix is never formed.

Estimator of the bulk radius (Dahmen, Grün, Diesmann & Helias 2019, "Second type of criticality
in the brain uncovers rich multiple-neuron dynamics", PNAS 116:13051, doi:10.1073/pnas.1818972116,
arXiv:1711.10930). For a network linearised around its stationary state, the long-time-window
(zero-frequency) spike-count covariance is

    C = (1 - W)^{-1} D (1 - W)^{-T},

with ``W`` the effective connectivity (dimensionless) and ``D`` a diagonal matrix of
(unit-homogeneous) noise intensities. For a random ``W`` whose bulk of eigenvalues fills a disk
of radius ``R`` (``R^2 = N var(W_ij)``), random-matrix theory gives, for large ``N``,

    N δc² / ā² = 1 / (1 - R²)² - 1,   i.e.   R² = 1 - sqrt( ā² / (ā² + N δc²) ),

where ``ā`` is the mean autocovariance (mean of ``C_ii``) and ``δc²`` the variance of the
cross-covariances ``C_ij`` (``i != j``) across pairs; ``N`` is the number of neurons of the
*network*, which may exceed the number recorded: ``ā`` and ``δc²`` are population statistics
that a random subsample of neurons estimates without bias.

Finite recordings add sampling noise to every ``C_ij``, which inflates ``δc²``. With ``K``
independent samples (time windows) and approximately Gaussian window counts, the sample
covariance is Wishart with ``n = K - 1`` degrees of freedom, and

    E[Ĉ_ij²]      = C_ij² + (C_ij² + C_ii C_jj) / n,
    E[Ĉ_ii Ĉ_jj]  = C_ii C_jj + 2 C_ij² / n,

which we solve for an unbiased estimate of the mean of ``C_ij²`` over pairs (``bias_correct``).
Units: covariances are in counts² per window (or the squared units of the input signals).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurocircuits.data.spikes import SpikeTrains
from neurocircuits.validation import check_float, check_int

__all__ = [
    "CovarianceAccumulator",
    "CovarianceStatistics",
    "count_covariance",
    "covariance_statistics",
    "bulk_radius_from_statistics",
    "estimate_bulk_radius",
]


class CovarianceAccumulator:
    """Streaming sample covariance of ``N`` signals: feed ``[n_samples, N]`` chunks to
    :meth:`update`, read :meth:`covariance`.

    Integer chunks (spike counts) are multiplied in float32 when that is exact (every chunk sum
    of products below 2^24) and summed in float64, so raw moments are exact; floating chunks
    are merged with the pairwise (Chan et al.) update of mean and centred second moment, which
    is stable when means are large compared with the spread. Memory: two ``N x N`` float64
    matrices plus one chunk.
    """

    def __init__(self, n_signals: int):
        self.n = check_int("n_signals", n_signals, min_value=1)
        self.count = 0
        self._mean = np.zeros(self.n)
        self._m2 = np.zeros((self.n, self.n))

    def update(self, chunk) -> "CovarianceAccumulator":
        x = np.asarray(chunk)
        if x.ndim != 2 or x.shape[1] != self.n:
            raise ValueError(f"chunk must be [n_samples, {self.n}], got shape {x.shape}")
        if x.dtype.kind not in "biuf":
            raise TypeError(f"chunk must hold numbers, got dtype {x.dtype}")
        k = x.shape[0]
        if k == 0:
            return self
        if x.dtype.kind == "f" and not np.isfinite(x).all():
            raise ValueError(f"chunk contains {int((~np.isfinite(x)).sum())} NaN or infinite value(s)")
        if x.dtype.kind in "biu":
            if x.dtype.kind == "i" and x.min() < 0:
                raise ValueError("integer chunks must hold non-negative counts")
            s = x.sum(axis=0, dtype=np.int64).astype(np.float64)
            peak = int(x.max())
            if peak * peak * k < 2**24:  # every entry of X^T X is an exact float32 integer
                xf = x.astype(np.float32)
                raw = (xf.T @ xf).astype(np.float64)
            else:
                xf = x.astype(np.float64)
                raw = xf.T @ xf
            mean_b = s / k
            m2_b = raw - np.outer(s, mean_b)
        else:
            xf = x.astype(np.float64)
            mean_b = xf.mean(axis=0)
            xc = xf - mean_b
            m2_b = xc.T @ xc
        n_a = self.count
        n_ab = n_a + k
        delta = mean_b - self._mean
        self._m2 += m2_b + np.outer(delta, delta) * (n_a * k / n_ab)
        self._mean += delta * (k / n_ab)
        self.count = n_ab
        return self

    @property
    def mean(self) -> np.ndarray:
        return self._mean.copy()

    def covariance(self, ddof: int = 1) -> np.ndarray:
        """Sample covariance ``[N, N]`` with divisor ``n_samples - ddof``."""
        ddof = check_int("ddof", ddof, min_value=0)
        if self.count - ddof < 1:
            raise ValueError(f"covariance needs more than {ddof} sample(s), got {self.count}")
        c = self._m2 / (self.count - ddof)
        return 0.5 * (c + c.T)


def count_covariance(data, *, bin_ms: float | None = None, chunk_bins: int = 4096,
                     neurons=None, return_mean: bool = False):
    """Spike-count covariance ``[N, N]`` (counts² per bin), streaming over time.

    ``data`` is a :class:`SpikeTrains` (then ``bin_ms`` > 0 is the counting window, ms) or an
    array ``[T, N]`` of counts / signals (``bin_ms`` must be None). ``chunk_bins`` bins are
    processed at a time, so memory stays ``O(N^2 + chunk_bins * N)``. Returns the unbiased
    covariance (divisor ``T - 1``) and, with ``return_mean``, the mean per bin and ``T``.
    """
    chunk_bins = check_int("chunk_bins", chunk_bins, min_value=1)
    if isinstance(data, SpikeTrains):
        if bin_ms is None:
            raise ValueError("bin_ms is required for SpikeTrains input")
        b = check_float("bin_ms", bin_ms, positive=True)
        n_bins = data.bin_edges(b).size - 1
        if n_bins < 2:
            raise ValueError(f"need at least 2 bins of {b} ms, the recording of {data.duration_ms} ms has {n_bins}")
        if neurons is None:
            n = data.n_neurons
            pos = None
        else:
            sel = np.asarray(neurons, dtype=np.int64)
            if sel.ndim != 1 or sel.size == 0 or sel.min() < 0 or sel.max() >= data.n_neurons:
                raise ValueError(f"neurons must be a non-empty 1-D list of ids in [0, {data.n_neurons})")
            n = sel.size
            pos = np.full(data.n_neurons, -1, dtype=np.int64)
            pos[sel] = np.arange(n)
        acc = CovarianceAccumulator(n)
        t, ids = data.times_ms, data.ids
        all_bins = np.minimum((t / b).astype(np.int64), n_bins - 1)
        starts = np.searchsorted(all_bins, np.arange(0, n_bins, chunk_bins), side="left")
        starts = np.append(starts, all_bins.size)
        for c, b0 in enumerate(range(0, n_bins, chunk_bins)):
            nb = min(chunk_bins, n_bins - b0)
            lo, hi = starts[c], starts[c + 1]
            bi, ii = all_bins[lo:hi] - b0, ids[lo:hi]
            if pos is not None:
                keep = pos[ii] >= 0
                bi, ii = bi[keep], pos[ii[keep]]
            counts = np.bincount(bi * n + ii, minlength=nb * n).reshape(nb, n)
            acc.update(counts)
    else:
        if bin_ms is not None:
            raise ValueError("bin_ms applies to SpikeTrains only; arrays are already binned")
        x = np.asarray(data)
        if x.ndim != 2:
            raise ValueError(f"data must be SpikeTrains or a [T, N] array, got shape {x.shape}")
        if x.shape[0] < 2 or x.shape[1] < 1:
            raise ValueError(f"data must have at least 2 samples and 1 signal, got shape {x.shape}")
        if neurons is not None:
            x = x[:, np.asarray(neurons, dtype=np.int64)]
        acc = CovarianceAccumulator(x.shape[1])
        for s in range(0, x.shape[0], chunk_bins):
            acc.update(x[s:s + chunk_bins])
    cov = acc.covariance()
    if return_mean:
        return cov, acc.mean, acc.count
    return cov


@dataclass(frozen=True)
class CovarianceStatistics:
    """Population statistics of a covariance matrix.

    mean_auto: ā, mean of the diagonal. mean_cross: mean of the off-diagonal entries.
    cross_var: δc², variance of the off-diagonal entries across pairs (bias-corrected for
    finite samples when ``n_samples`` was given). n: number of neurons the matrix covers.
    """

    mean_auto: float
    mean_cross: float
    cross_var: float
    n: int
    n_samples: int | None = None

    @property
    def cross_sd(self) -> float:
        return math.sqrt(self.cross_var)


def _check_cov(cov) -> np.ndarray:
    c = np.asarray(cov, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ValueError(f"covariance must be a square [N, N] matrix, got shape {c.shape}")
    if c.shape[0] < 2:
        raise ValueError(f"covariance statistics need N >= 2 neurons, got {c.shape[0]}")
    if not np.isfinite(c).all():
        raise ValueError(f"covariance contains {int((~np.isfinite(c)).sum())} NaN or infinite value(s)")
    if np.any(np.diag(c) < 0):
        raise ValueError("covariance has negative diagonal entries (variances)")
    return c


def covariance_statistics(cov, *, n_samples: int | None = None) -> CovarianceStatistics:
    """Mean autocovariance ā, mean cross-covariance and the dispersion δc² of cross-covariances.

    Without ``n_samples`` the plain statistics of the given matrix are returned. With
    ``n_samples = K`` (the number of independent samples the matrix was estimated from, e.g. time
    windows), the sampling inflation of δc² is removed using the Wishart moments in the module
    docstring (Gaussian approximation); the corrected δc² is clipped at 0 (documented degenerate
    answer when sampling noise dominates).
    """
    c = _check_cov(cov)
    n = c.shape[0]
    diag = np.diag(c)
    n_pairs = n * (n - 1)
    tr = diag.sum()
    sum_all = c.sum()
    mean_auto = tr / n
    sum_off = sum_all - tr
    mean_cross = sum_off / n_pairs
    fro2 = float(np.einsum("ij,ij->", c, c))
    sq_diag = float((diag * diag).sum())
    u = fro2 - sq_diag  # sum_{i!=j} Ĉ_ij²
    if n_samples is None:
        mean_sq = u / n_pairs
        cross_var = mean_sq - mean_cross**2
        ns = None
    else:
        ns = check_int("n_samples", n_samples, min_value=3)
        dof = ns - 1
        v = tr * tr - sq_diag  # sum_{i!=j} Ĉ_ii Ĉ_jj
        a_sum = (u - v / dof) / (1.0 + 1.0 / dof - 2.0 / dof**2)
        mean_sq = a_sum / n_pairs
        # variance of the estimated mean cross-covariance, removed from its square
        one_c = c.sum(axis=1)
        var_sum_off = (2.0 / dof) * (sum_all**2 - 2.0 * float(one_c @ one_c) + fro2)
        mean_cross_sq = mean_cross**2 - max(var_sum_off, 0.0) / n_pairs**2
        cross_var = mean_sq - mean_cross_sq
    cross_var = max(float(cross_var), 0.0)
    return CovarianceStatistics(float(mean_auto), float(mean_cross), cross_var, n, ns)


def bulk_radius_from_statistics(mean_auto: float, cross_var: float, n_network: int) -> float:
    """R = sqrt(1 - sqrt(ā² / (ā² + N δc²))) (Dahmen et al. 2019, Eq. 2); dimensionless.

    ``n_network`` is N, the size of the network the recorded neurons belong to.
    """
    a = check_float("mean_auto", mean_auto, positive=True)
    d = check_float("cross_var", cross_var, min_value=0.0)
    n = check_int("n_network", n_network, min_value=2)
    r2 = 1.0 - math.sqrt(a * a / (a * a + n * d))
    return math.sqrt(max(r2, 0.0))


def estimate_bulk_radius(cov, *, n_network: int | None = None, n_samples: int | None = None) -> float:
    """Bulk eigenvalue radius of the effective connectivity from a long-window covariance matrix
    of (a random subsample of) the network's neurons.

    ``n_network`` defaults to the number of neurons in ``cov``; pass the full network size when
    ``cov`` covers a subsample. ``n_samples`` enables the finite-sample correction of δc².
    Raises ValueError when the mean autocovariance is not positive (silent neurons).
    """
    st = covariance_statistics(cov, n_samples=n_samples)
    if not st.mean_auto > 0:
        raise ValueError(f"mean autocovariance must be > 0 to estimate R, got {st.mean_auto}")
    n_net = st.n if n_network is None else check_int("n_network", n_network, min_value=st.n)
    return bulk_radius_from_statistics(st.mean_auto, st.cross_var, n_net)
