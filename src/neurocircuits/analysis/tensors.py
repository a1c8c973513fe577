"""Non-negative tensor factorisation and the dynamic functional connectome pipeline.

Non-negative CP decomposition. A tensor ``X`` with ``d`` modes is approximated by ``R``
rank-one components with non-negative factors ``A^(1..d)``:

    X ≈ X̂ = Σ_r  a^(1)_r ∘ a^(2)_r ∘ ... ∘ a^(d)_r,   min ||X - X̂||_F²  s.t.  A^(m) >= 0,

solved by hierarchical alternating least squares (HALS; Cichocki & Phan 2009, IEICE Trans.
Fundamentals E92-A:708, doi:10.1587/transfun.E92.A.708): with ``G = ⊛_{m≠n} A^(m)ᵀA^(m)``
(element-wise product of Gram matrices) and ``M = X_(n) (⊙_{m≠n} A^(m))`` (MTTKRP), each
column is updated in closed form

    a^(n)_r ← max(ε, a^(n)_r + (M_{:,r} - A^(n) G_{:,r}) / G_{rr}),

which never increases the error. Components are returned with unit-norm factors and a weight
vector ``λ`` (sorted descending).

Dynamic functional connectome (Dyballa, Lang, Haslund-Gourley, Yemini & Zucker 2024,
"Learning dynamic representations of the functional connectome in neurobiological networks",
ICLR, arXiv:2402.14102): (1) pairwise non-linear affinities between neurons' traces in sliding
time windows, (2) a ``pairs x windows x animals`` tensor factorised by NTF, each component an
affinity pattern with its time course and animal loading, (3) communities in each component's
affinity matrix (seen as a weighted graph). Our affinity (a choice of this library, in the spirit of the paper's
non-linear pairwise affinities) is a Gaussian kernel on the distance between the neurons'
standardised signals in each window: with ``z_i`` the trace (or, with ``signal="derivative"``,
its first difference) standardised to zero mean and unit SD *within* window ``w``,

    d_ij(w) = mean_{t in w} (z_i(t) - z_j(t))² / 2 = 1 - ρ_ij(w),    a_ij(w) = exp(-d_ij(w) / σ),

with ``ρ_ij(w)`` the Pearson correlation in the window; ``σ`` (dimensionless) sets how sharply co-varying pairs stand out. Communities (:func:`affinity_communities`): spectral clustering of the affinity graph, the
number of communities chosen by the largest gap among the smallest eigenvalues of the
normalised Laplacian ``1 - D^{-1/2} A D^{-1/2}`` (von Luxburg 2007, Stat. Comput. 17:395);
the paper uses a nested weighted stochastic block model here.
"""

from __future__ import annotations

import numpy as np

from neurocircuits.validation import check_array, check_float, check_int

__all__ = [
    "ntf_hals",
    "cp_reconstruct",
    "window_affinities",
    "pairs_to_matrix",
    "component_communities",
    "affinity_communities",
]

_LETTERS = "abcdefghijklmnopq"


def cp_reconstruct(factors, weights=None) -> np.ndarray:
    """Full tensor ``Σ_r λ_r a^(1)_r ∘ ... ∘ a^(d)_r`` from factor matrices ``[I_m, R]``."""
    fs = [np.asarray(f, dtype=np.float64) for f in factors]
    r = fs[0].shape[1]
    lam = np.ones(r) if weights is None else np.asarray(weights, dtype=np.float64)
    d = len(fs)
    spec = ",".join(f"{_LETTERS[m]}z" for m in range(d)) + ",z->" + _LETTERS[:d]
    return np.einsum(spec, *fs, lam)


def _mttkrp(x: np.ndarray, fs: list[np.ndarray], n: int) -> np.ndarray:
    d = x.ndim
    idx = _LETTERS[:d]
    ops = [x] + [fs[m] for m in range(d) if m != n]
    spec = idx + "," + ",".join(f"{idx[m]}z" for m in range(d) if m != n) + f"->{idx[n]}z"
    return np.einsum(spec, *ops, optimize=True)


def ntf_hals(x, rank: int, *, n_iter: int = 300, tol: float = 1e-7, seed=0, n_restarts: int = 1,
             eps: float = 1e-12):
    """Non-negative CP decomposition by HALS (module docstring).

    ``x``: non-negative array with >= 2 modes, finite. Returns ``(weights [R], factors, rel_err)``
    with unit-norm factor columns, components sorted by weight, and the relative error
    ``||X - X̂||_F / ||X||_F``. ``n_restarts`` random initialisations; the best fit is kept.
    """
    t = check_array("x", x).astype(np.float64)
    if t.ndim < 2 or t.ndim > len(_LETTERS):
        raise ValueError(f"x must have 2 to {len(_LETTERS)} modes, got {t.ndim}")
    if t.size == 0 or min(t.shape) < 1:
        raise ValueError(f"x must be non-empty, got shape {t.shape}")
    if np.any(t < 0):
        raise ValueError(f"x must be non-negative, got minimum {t.min()}")
    rank = check_int("rank", rank, min_value=1)
    n_iter = check_int("n_iter", n_iter, min_value=1)
    n_restarts = check_int("n_restarts", n_restarts, min_value=1)
    tol = check_float("tol", tol, min_value=0.0)
    norm_x = np.linalg.norm(t)
    if norm_x == 0:
        raise ValueError("x is all zeros: nothing to factorise")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(
        check_int("seed", seed, min_value=0))
    best = None
    for _ in range(n_restarts):
        scale = (norm_x / np.sqrt(t.size)) ** (1.0 / t.ndim)
        fs = [rng.random((s, rank)) * scale + eps for s in t.shape]
        prev = np.inf
        for _ in range(n_iter):
            for n in range(t.ndim):
                g = np.ones((rank, rank))
                for m in range(t.ndim):
                    if m != n:
                        g *= fs[m].T @ fs[m]
                mk = _mttkrp(t, fs, n)
                a = fs[n]
                for r in range(rank):
                    if g[r, r] <= 0:
                        continue
                    a[:, r] = np.maximum(eps, a[:, r] + (mk[:, r] - a @ g[:, r]) / g[r, r])
                # balance: keep the scale in the last mode updated
                if n < t.ndim - 1:
                    nr = np.linalg.norm(a, axis=0)
                    nr[nr == 0] = 1.0
                    a /= nr
                    fs[-1] *= nr
            # error via ||X||² - 2<X, X̂> + ||X̂||² (no full reconstruction)
            g_all = np.ones((rank, rank))
            for f in fs:
                g_all *= f.T @ f
            inner = float(np.sum(_mttkrp(t, fs, t.ndim - 1) * fs[-1]))
            err2 = max(norm_x**2 - 2 * inner + float(g_all.sum()), 0.0)
            err = np.sqrt(err2) / norm_x
            if abs(prev - err) < tol:
                break
            prev = err
        if best is None or err < best[0]:
            best = (err, [f.copy() for f in fs])
    err, fs = best
    lam = np.ones(rank)
    for f in fs:
        nr = np.linalg.norm(f, axis=0)
        nr[nr == 0] = 1.0
        f /= nr
        lam *= nr
    order = np.argsort(-lam)
    return lam[order], [f[:, order] for f in fs], float(err)


def window_affinities(traces, window: int, step: int | None = None, *, sigma: float = 0.25,
                      signal: str = "trace"):
    """Affinities ``[n_pairs, n_windows]`` between all neuron pairs (i < j, in
    ``np.triu_indices(N, 1)`` order) of ``traces`` ``[T, N]`` in windows of ``window`` frames
    every ``step`` frames (default ``window // 2``); see the module docstring. Also returns the
    start frame of each window. A neuron that is constant within a window has correlation 0
    with every other neuron there (documented); one constant over the whole recording raises."""
    x = check_array("traces", traces, ndim=2).astype(np.float64)
    t_len, n = x.shape
    if n < 2:
        raise ValueError(f"need at least 2 neurons, got {n}")
    window = check_int("window", window, min_value=3)
    step = window // 2 if step is None else step
    step = check_int("step", step, min_value=1)
    s = check_float("sigma", sigma, positive=True)
    if signal == "derivative":
        x = np.diff(x, axis=0)
    elif signal != "trace":
        raise ValueError(f"signal must be 'trace' or 'derivative', got {signal!r}")
    if x.shape[0] < window:
        raise ValueError(f"traces have {x.shape[0]} usable frames, fewer than window = {window}")
    sd_all = x.std(0)
    if np.any(sd_all == 0):
        raise ValueError(f"{int((sd_all == 0).sum())} neuron(s) have constant traces: affinity undefined")
    iu = np.triu_indices(n, 1)
    starts = np.arange(0, x.shape[0] - window + 1, step)
    out = np.empty((iu[0].size, starts.size))
    for k, s0 in enumerate(starts):
        seg = x[s0:s0 + window]
        seg = seg - seg.mean(0)
        sd = seg.std(0)
        zs = np.divide(seg, sd, out=np.zeros_like(seg), where=sd > 0)
        rho = zs.T @ zs / window
        out[:, k] = np.exp(-np.clip(1.0 - rho[iu], 0.0, 2.0) / s)
    return out, starts


def pairs_to_matrix(pair_values, n: int) -> np.ndarray:
    """Symmetric ``[n, n]`` matrix from values on pairs in ``np.triu_indices(n, 1)`` order
    (zero diagonal)."""
    n = check_int("n", n, min_value=2)
    v = check_array("pair_values", pair_values).ravel()
    if v.size != n * (n - 1) // 2:
        raise ValueError(f"expected {n * (n - 1) // 2} pair values for n = {n}, got {v.size}")
    m = np.zeros((n, n))
    iu = np.triu_indices(n, 1)
    m[iu] = v
    return m + m.T


def component_communities(pair_factor, n: int, components) -> np.ndarray:
    """Community label of each neuron: the index (within ``components``) of the component in
    which its node strength ``Σ_m A_r[n, m]`` is largest (strengths normalised per component)."""
    pf = check_array("pair_factor", pair_factor, ndim=2)
    comps = list(components)
    if not comps:
        raise ValueError("components must name at least one component")
    strength = np.stack([pairs_to_matrix(pf[:, c], n).sum(1) for c in comps], axis=1)
    strength /= np.maximum(strength.max(0, keepdims=True), 1e-300)
    return strength.argmax(1)


def affinity_communities(affinity, n_communities: int | None = None, *, max_communities: int = 10,
                         seed: int = 0) -> np.ndarray:
    """Community labels ``[n]`` of a symmetric non-negative affinity matrix ``[n, n]`` by
    spectral clustering; ``n_communities`` None picks it by the eigengap of the normalised
    Laplacian (2 .. ``max_communities``)."""
    from sklearn.cluster import SpectralClustering

    a = check_array("affinity", affinity, ndim=2).astype(np.float64)
    n = a.shape[0]
    if a.shape != (n, n) or n < 3:
        raise ValueError(f"affinity must be a square matrix of at least 3 nodes, got shape {a.shape}")
    if np.any(a < 0):
        raise ValueError("affinity must be non-negative")
    a = 0.5 * (a + a.T)
    np.fill_diagonal(a, 0.0)
    deg = a.sum(1)
    if np.any(deg <= 0):
        raise ValueError(f"{int((deg <= 0).sum())} node(s) have no affinity to any other node")
    if n_communities is None:
        kmax = check_int("max_communities", max_communities, min_value=2)
        kmax = min(kmax, n - 1)
        lap = np.eye(n) - a / np.sqrt(np.outer(deg, deg))
        ev = np.linalg.eigvalsh(lap)[: kmax + 1]
        n_communities = int(np.argmax(np.diff(ev)[1:]) + 2)  # at least 2 communities
    k = check_int("n_communities", n_communities, min_value=1, max_value=n)
    if k == 1:
        return np.zeros(n, dtype=int)
    sc = SpectralClustering(k, affinity="precomputed", random_state=seed, assign_labels="kmeans")
    return sc.fit_predict(a)
