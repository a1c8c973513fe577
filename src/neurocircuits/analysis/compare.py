"""Comparing representations: CKA, RSA, Procrustes shape distance, ridge predictivity.

All functions take two representations of the same ``n`` conditions (stimuli, time points):
``X`` ``[n, p]`` and ``Y`` ``[n, q]`` (rows = conditions, columns = units); ``p`` and ``q`` may
differ.

Centred kernel alignment (Kornblith, Norouzi, Lee & Hinton 2019, "Similarity of neural network
representations revisited", ICML, arXiv:1905.00414). With centred Gram matrices
``K̃ = H K H``, ``L̃ = H L H`` (``H = 1 - 11ᵀ/n``),

    HSIC(K, L) = tr(K̃ L̃) / (n - 1)²,   CKA = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)).

Linear kernels give ``CKA = ||Yᶜᵀ Xᶜ||_F² / (||Xᶜᵀ Xᶜ||_F ||Yᶜᵀ Yᶜ||_F)`` (Xᶜ column-centred).
It is invariant to orthogonal maps and isotropic scaling of either representation, not to
general invertible linear maps. The debiased variant uses the unbiased HSIC estimator of Song
et al. 2012 (JMLR 13:1393), whose expectation is 0 for independent representations.

RSA (Kriegeskorte, Mur & Bandettini 2008, Front. Syst. Neurosci. 2:4,
doi:10.3389/neuro.06.004.2008): representational dissimilarity matrices (RDM) of condition
pairs, ``1 - Pearson r`` of response patterns ("correlation") or Euclidean distance, compared by
the Spearman / Kendall rank correlation of their upper triangles.

Procrustes shape distance (Williams, Kunz, Kornblith & Linderman 2021, "Generalized shape
metrics on neural representations", NeurIPS, arXiv:2110.14739): centre, scale to unit Frobenius
norm, zero-pad to equal width, then

    θ(X, Y) = arccos( max_{Q orthogonal} tr(Xᵀ Y Q) ) = arccos( ||Xᵀ Y||_* )   (radians),

a metric on shapes modulo rotation, reflection, translation and isotropic scaling.

Ridge predictivity (e.g. Yamins et al. 2014): cross-validated coefficient of determination of
``Y`` predicted linearly from ``X`` by ridge regression, pooled over the units of ``Y``:
``R² = 1 - Σ (y - ŷ)² / Σ (y - ȳ_train)²`` on held-out folds. It is asymmetric and invariant to
any invertible linear map of ``X`` when ``alpha`` → 0.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from neurocircuits.validation import check_array, check_float, check_int

__all__ = [
    "linear_cka",
    "rbf_cka",
    "rdm",
    "rsa",
    "procrustes_distance",
    "ridge_predictivity",
]


def _pair(x, y, min_n: int = 3) -> tuple[np.ndarray, np.ndarray]:
    a = check_array("X", x, ndim=2)
    b = check_array("Y", y, ndim=2)
    for name, m in (("X", a), ("Y", b)):
        if m.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold real numbers, got dtype {m.dtype}")
        if m.shape[1] < 1:
            raise ValueError(f"{name} must have at least one column (unit), got shape {m.shape}")
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"X and Y must have the same number of rows (conditions), got {a.shape[0]} "
                         f"and {b.shape[0]}")
    if a.shape[0] < min_n:
        raise ValueError(f"need at least {min_n} conditions (rows), got {a.shape[0]}")
    return a.astype(np.float64), b.astype(np.float64)


def _hsic(k: np.ndarray, l: np.ndarray, debiased: bool) -> float:
    n = k.shape[0]
    if not debiased:
        kc = k - k.mean(0) - k.mean(1)[:, None] + k.mean()
        lc = l - l.mean(0) - l.mean(1)[:, None] + l.mean()
        return float(np.einsum("ij,ij->", kc, lc)) / (n - 1) ** 2
    if n < 4:
        raise ValueError(f"debiased HSIC needs at least 4 conditions, got {n}")
    k = k.copy()
    l = l.copy()
    np.fill_diagonal(k, 0.0)
    np.fill_diagonal(l, 0.0)
    kl = float(np.einsum("ij,ij->", k, l))
    sk, sl = k.sum(), l.sum()
    term2 = sk * sl / ((n - 1) * (n - 2))
    term3 = 2.0 * float(k.sum(0) @ l.sum(0)) / (n - 2)
    return (kl + term2 - term3) / (n * (n - 3))


def _cka_from_grams(k, l, debiased: bool) -> float:
    kl = _hsic(k, l, debiased)
    kk = _hsic(k, k, debiased)
    ll = _hsic(l, l, debiased)
    if not (kk > 0 and ll > 0):
        raise ValueError("CKA is undefined: a representation has no variance across conditions")
    return float(kl / np.sqrt(kk * ll))


def linear_cka(x, y, *, debiased: bool = False) -> float:
    """Linear CKA in [0, 1] (debiased: can dip slightly below 0). 1 for representations that
    differ by an orthogonal map and isotropic scaling."""
    a, b = _pair(x, y, 4 if debiased else 2)
    a = a - a.mean(0)
    b = b - b.mean(0)
    if not debiased and a.shape[0] > max(a.shape[1], b.shape[1]):
        num = np.linalg.norm(b.T @ a) ** 2
        den = np.linalg.norm(a.T @ a) * np.linalg.norm(b.T @ b)
        if not den > 0:
            raise ValueError("CKA is undefined: a representation has no variance across conditions")
        return float(num / den)
    return _cka_from_grams(a @ a.T, b @ b.T, debiased)


def _rbf_gram(a: np.ndarray, sigma_frac: float) -> np.ndarray:
    sq = np.sum(a * a, 1)
    d2 = np.clip(sq[:, None] + sq[None, :] - 2 * a @ a.T, 0.0, None)
    med = np.median(np.sqrt(d2[np.triu_indices_from(d2, 1)]))
    if not med > 0:
        raise ValueError("RBF CKA is undefined: the conditions' responses are all identical")
    s = sigma_frac * med
    return np.exp(-d2 / (2 * s * s))


def rbf_cka(x, y, *, sigma_frac: float = 0.8, debiased: bool = False) -> float:
    """CKA with Gaussian kernels ``exp(-||x_i - x_j||² / (2 σ²))``, σ = ``sigma_frac`` times the
    median pairwise distance of each representation (Kornblith et al. 2019, Sec. 3)."""
    a, b = _pair(x, y, 4 if debiased else 2)
    s = check_float("sigma_frac", sigma_frac, positive=True)
    return _cka_from_grams(_rbf_gram(a, s), _rbf_gram(b, s), debiased)


def rdm(x, *, metric: str = "correlation") -> np.ndarray:
    """Representational dissimilarity matrix ``[n, n]`` of the rows of ``x`` ``[n, p]``:
    ``metric="correlation"`` (1 − Pearson r between response patterns, needs p >= 2 and
    non-constant rows) or ``"euclidean"``."""
    a = check_array("x", x, ndim=2).astype(np.float64)
    if a.shape[0] < 2 or a.shape[1] < 1:
        raise ValueError(f"x must be [n >= 2 conditions, p >= 1 units], got shape {a.shape}")
    if metric == "euclidean":
        sq = np.sum(a * a, 1)
        d = np.sqrt(np.clip(sq[:, None] + sq[None, :] - 2 * a @ a.T, 0.0, None))
        np.fill_diagonal(d, 0.0)
        return d
    if metric == "correlation":
        if a.shape[1] < 2:
            raise ValueError("correlation distance needs at least 2 units (columns)")
        c = a - a.mean(1, keepdims=True)
        nrm = np.linalg.norm(c, axis=1)
        if np.any(nrm == 0):
            raise ValueError(f"correlation distance is undefined for constant rows: "
                             f"{int((nrm == 0).sum())} row(s) have zero variance")
        c /= nrm[:, None]
        d = 1.0 - np.clip(c @ c.T, -1.0, 1.0)
        np.fill_diagonal(d, 0.0)
        return d
    raise ValueError(f"metric must be 'correlation' or 'euclidean', got {metric!r}")


def rsa(x, y, *, metric: str = "correlation", method: str = "spearman") -> float:
    """Rank correlation (``method`` = 'spearman', 'kendall' or 'pearson') between the upper
    triangles of the RDMs of X and Y. Needs at least 3 conditions."""
    a, b = _pair(x, y, 3)
    if method not in ("spearman", "kendall", "pearson"):
        raise ValueError(f"method must be 'spearman', 'kendall' or 'pearson', got {method!r}")
    iu = np.triu_indices(a.shape[0], 1)
    da, db = rdm(a, metric=metric)[iu], rdm(b, metric=metric)[iu]
    if np.ptp(da) == 0 or np.ptp(db) == 0:
        raise ValueError("RSA is undefined: an RDM is constant across condition pairs")
    if method == "spearman":
        r = stats.spearmanr(da, db).statistic
    elif method == "kendall":
        r = stats.kendalltau(da, db).statistic
    else:
        r = stats.pearsonr(da, db).statistic
    return float(r)


def procrustes_distance(x, y, *, kind: str = "angular") -> float:
    """Shape distance of Williams et al. 2021 between X and Y modulo translation, isotropic
    scaling and orthogonal maps: ``kind="angular"``: arccos of the Procrustes similarity
    ``||XᵀY||_*`` (radians, in [0, π/2]); ``"euclidean"``: ``sqrt(2 - 2 ||XᵀY||_*)``."""
    a, b = _pair(x, y, 2)
    if kind not in ("angular", "euclidean"):
        raise ValueError(f"kind must be 'angular' or 'euclidean', got {kind!r}")
    a = a - a.mean(0)
    b = b - b.mean(0)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if not (na > 0 and nb > 0):
        raise ValueError("Procrustes distance is undefined: a representation has no variance")
    a /= na
    b /= nb
    width = max(a.shape[1], b.shape[1])
    a = np.pad(a, ((0, 0), (0, width - a.shape[1])))
    b = np.pad(b, ((0, 0), (0, width - b.shape[1])))
    sim = float(np.clip(np.linalg.svd(a.T @ b, compute_uv=False).sum(), 0.0, 1.0))
    if kind == "angular":
        return float(np.arccos(sim))
    return float(np.sqrt(max(2.0 - 2.0 * sim, 0.0)))


def ridge_predictivity(x, y, *, alpha: float = 1.0, n_folds: int = 5, seed=0) -> float:
    """Cross-validated R² of ridge regression predicting Y ``[n, q]`` from X ``[n, p]`` (with
    intercept; ``alpha`` >= 0 the L2 penalty on standardised-free raw features). Conditions are
    split into ``n_folds`` random folds; R² pools the squared errors of all units and folds
    against the training-fold means. 1 = perfect prediction, 0 = no better than the mean,
    negative = worse."""
    a, b = _pair(x, y, 4)
    lam = check_float("alpha", alpha, min_value=0.0)
    k = check_int("n_folds", n_folds, min_value=2, max_value=a.shape[0])
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(
        check_int("seed", seed, min_value=0))
    folds = np.array_split(rng.permutation(a.shape[0]), k)
    sse = sst = 0.0
    for f in folds:
        train = np.ones(a.shape[0], bool)
        train[f] = False
        xa, ya = a[train], b[train]
        mx, my = xa.mean(0), ya.mean(0)
        xc, yc = xa - mx, ya - my
        p = xc.shape[1]
        if p <= xc.shape[0]:
            coef = np.linalg.lstsq(xc.T @ xc + lam * np.eye(p), xc.T @ yc, rcond=None)[0]
        else:  # dual form when features outnumber samples
            coef = xc.T @ np.linalg.lstsq(xc @ xc.T + lam * np.eye(xc.shape[0]), yc, rcond=None)[0]
        pred = (a[f] - mx) @ coef + my
        sse += float(np.sum((b[f] - pred) ** 2))
        sst += float(np.sum((b[f] - my) ** 2))
    if not sst > 0:
        raise ValueError("ridge predictivity is undefined: Y has no variance on held-out folds")
    return 1.0 - sse / sst
