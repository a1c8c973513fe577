import numpy as np
import pytest

from neurocircuits.analysis.compare import (
    linear_cka,
    procrustes_distance,
    rbf_cka,
    rdm,
    ridge_predictivity,
    rsa,
)


@pytest.fixture
def reps():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 12))
    q, _ = np.linalg.qr(rng.standard_normal((12, 12)))
    return rng, x, q


def _linear_cka_bruteforce(x, y):
    n = x.shape[0]
    h = np.eye(n) - np.ones((n, n)) / n
    k, l = h @ x @ x.T @ h, h @ y @ y.T @ h
    return np.trace(k @ l) / np.sqrt(np.trace(k @ k) * np.trace(l @ l))


def test_cka_known_values_and_invariances(reps):
    rng, x, q = reps
    y = rng.standard_normal((60, 5))
    assert linear_cka(x, y) == pytest.approx(_linear_cka_bruteforce(x, y), rel=1e-10)
    assert linear_cka(x, x) == pytest.approx(1.0)
    assert linear_cka(x, 3.7 * x @ q + 2.0) == pytest.approx(1.0)  # orthogonal, scale, shift
    assert linear_cka(x, x[:, ::-1]) == pytest.approx(1.0)  # permutation of units
    assert rbf_cka(x, 5.0 * x @ q) == pytest.approx(1.0)  # median-scaled bandwidth
    # not invariant to a general (anisotropic) linear map
    assert linear_cka(x, x * np.linspace(0.1, 10, 12)) < 0.95
    # independent representations: debiased CKA near 0 at large n, biased one is not
    big_x, big_y = rng.standard_normal((1500, 50)), rng.standard_normal((1500, 50))
    assert abs(linear_cka(big_x, big_y, debiased=True)) < 0.01
    assert linear_cka(big_x, big_y) < 0.1
    assert abs(rbf_cka(big_x[:400], big_y[:400], debiased=True)) < 0.02
    # debiased Gram path agrees with itself under permutation of units
    assert linear_cka(x, y, debiased=True) == pytest.approx(linear_cka(x[:, ::-1], y, debiased=True))


def test_rdm_and_rsa(reps):
    rng, x, q = reps
    d = rdm(x, metric="euclidean")
    assert d[3, 7] == pytest.approx(np.linalg.norm(x[3] - x[7]))
    dc = rdm(x)
    assert dc[1, 2] == pytest.approx(1 - np.corrcoef(x[1], x[2])[0, 1])
    assert np.allclose(np.diag(dc), 0) and np.allclose(dc, dc.T)
    assert rsa(x, x) == pytest.approx(1.0)
    assert rsa(x, x @ q, metric="euclidean") == pytest.approx(1.0)  # rotation keeps distances
    assert rsa(x, 2 * x[:, ::-1], method="kendall") == pytest.approx(1.0)
    # rank-based: any monotone transform of the distances keeps Spearman RSA = 1
    y = rng.standard_normal((60, 30))
    assert abs(rsa(x, y)) < 0.1
    from scipy.stats import spearmanr
    iu = np.triu_indices(60, 1)
    assert rsa(x, y) == pytest.approx(spearmanr(rdm(x)[iu], rdm(y)[iu]).statistic)


def test_procrustes_metric(reps):
    rng, x, q = reps
    assert procrustes_distance(x, 2 * x @ q + 1) == pytest.approx(0.0, abs=1e-6)
    y = rng.standard_normal((60, 12))
    z = rng.standard_normal((60, 8))
    dxy, dyz, dxz = procrustes_distance(x, y), procrustes_distance(y, z), procrustes_distance(x, z)
    assert dxy == pytest.approx(procrustes_distance(y, x))
    assert dxz <= dxy + dyz + 1e-12  # triangle inequality
    assert 0 < dxy <= np.pi / 2
    # brute-force check: the optimum over orthogonal maps is the nuclear norm
    xc = (x - x.mean(0)) / np.linalg.norm(x - x.mean(0))
    yc = (y - y.mean(0)) / np.linalg.norm(y - y.mean(0))
    u, _, vt = np.linalg.svd(xc.T @ yc)
    assert np.cos(dxy) == pytest.approx(np.trace(xc.T @ yc @ (u @ vt).T), rel=1e-10)
    assert procrustes_distance(x, y, kind="euclidean") == pytest.approx(np.sqrt(2 - 2 * np.cos(dxy)))


def test_ridge_predictivity(reps):
    rng, x, q = reps
    a = rng.standard_normal((12, 4))
    y = x @ a
    assert ridge_predictivity(x, y, alpha=1e-8) == pytest.approx(1.0, abs=1e-6)
    # invariant to invertible linear maps of the predictor (alpha -> 0)
    m = rng.standard_normal((12, 12))
    assert ridge_predictivity(x @ m, y, alpha=1e-8) == pytest.approx(1.0, abs=1e-5)
    noise = rng.standard_normal((60, 4))
    assert ridge_predictivity(x, noise, alpha=1.0) < 0.05
    assert ridge_predictivity(x, y, seed=3) == ridge_predictivity(x, y, seed=3)


def test_bad_input(reps):
    _, x, _ = reps
    with pytest.raises(ValueError, match="same number of rows"):
        linear_cka(x, x[:10])
    with pytest.raises(ValueError, match="NaN"):
        linear_cka(x, np.full_like(x, np.nan))
    with pytest.raises(ValueError, match="no variance"):
        linear_cka(x, np.ones_like(x))
    with pytest.raises(ValueError, match="dimensions"):
        rsa(x, x[:, 0])
    with pytest.raises(ValueError, match="metric"):
        rdm(x, metric="cosine")
    with pytest.raises(ValueError, match="constant rows"):
        rdm(np.ones((3, 4)))
    with pytest.raises(ValueError, match="method"):
        rsa(x, x, method="foo")
    with pytest.raises(ValueError, match="sigma_frac"):
        rbf_cka(x, x, sigma_frac=0)
    with pytest.raises(ValueError, match="alpha"):
        ridge_predictivity(x, x, alpha=-1)
    with pytest.raises(ValueError, match="n_folds"):
        ridge_predictivity(x, x, n_folds=1)
    with pytest.raises(TypeError, match="real numbers"):
        procrustes_distance(x.astype(complex), x)
