"""Dimensionality of population activity: participation ratio and PCA variance explained.

Participation ratio (Gao & Ganguli 2015, Curr. Opin. Neurobiol. 32:148,
doi:10.1016/j.conb.2015.04.003; Recanatesi et al. 2022): with λ_k the eigenvalues of the
covariance matrix C,

    PR = (Σ_k λ_k)² / Σ_k λ_k² = (tr C)² / tr(C²),

which lies in [1, N]: 1 when one mode carries all variance, N when variance is spread evenly.
"""

from __future__ import annotations

import numpy as np

from neurocircuits.validation import check_array

__all__ = ["participation_ratio", "pca_variance_explained"]


def _covariance(x, covariance: bool) -> np.ndarray:
    a = check_array("x", x, ndim=2).astype(np.float64)
    if covariance:
        if a.shape[0] != a.shape[1]:
            raise ValueError(f"a covariance matrix must be square, got shape {a.shape}")
        if a.shape[0] == 0:
            raise ValueError("covariance matrix is empty")
        if np.any(np.diag(a) < 0):
            raise ValueError("covariance matrix has negative variances on its diagonal")
        return 0.5 * (a + a.T)
    if a.shape[0] < 2 or a.shape[1] < 1:
        raise ValueError(f"data must be [n_samples >= 2, n_features >= 1], got shape {a.shape}")
    a = a - a.mean(axis=0)
    return a.T @ a / (a.shape[0] - 1)


def participation_ratio(x, *, covariance: bool = False) -> float:
    """PR = (tr C)² / tr(C²) of data ``[n_samples, n_features]`` (or of a covariance matrix
    when ``covariance=True``). Raises ValueError for data without variance (PR undefined)."""
    c = _covariance(x, covariance)
    tr = float(np.trace(c))
    tr2 = float(np.einsum("ij,ij->", c, c))
    if not tr2 > 0:
        raise ValueError("participation ratio is undefined: the data have zero variance")
    return tr * tr / tr2


def pca_variance_explained(x, *, covariance: bool = False, cumulative: bool = False) -> np.ndarray:
    """Fraction of variance carried by each principal component, sorted descending
    (``cumulative`` gives running sums, ending at 1). Raises ValueError for zero variance."""
    c = _covariance(x, covariance)
    ev = np.clip(np.linalg.eigvalsh(c)[::-1], 0.0, None)
    total = ev.sum()
    if not total > 0:
        raise ValueError("variance explained is undefined: the data have zero variance")
    frac = ev / total
    return np.cumsum(frac) if cumulative else frac
