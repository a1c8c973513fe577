import numpy as np
import pytest

from neurocircuits.analysis.tensors import (
    affinity_communities,
    component_communities,
    cp_reconstruct,
    ntf_hals,
    pairs_to_matrix,
    window_affinities,
)


def test_cp_reconstruct_matches_loops():
    rng = np.random.default_rng(0)
    fs = [rng.random((3, 2)), rng.random((4, 2)), rng.random((2, 2))]
    x = cp_reconstruct(fs, [2.0, 0.5])
    i, j, k = 2, 3, 1
    ref = sum(w * fs[0][i, r] * fs[1][j, r] * fs[2][k, r] for r, w in enumerate([2.0, 0.5]))
    assert x[i, j, k] == pytest.approx(ref)


def test_ntf_recovers_exact_nonnegative_cp_tensor():
    rng = np.random.default_rng(1)
    fs = [rng.random((12, 3)) for _ in range(3)]
    x = cp_reconstruct(fs)
    lam, f, err = ntf_hals(x, 3, n_iter=800, tol=1e-12, seed=2, n_restarts=2)
    assert err < 1e-3
    assert np.all(lam[:-1] >= lam[1:])
    assert all(np.all(m >= 0) for m in f)
    for m in range(3):  # factors match up to permutation (congruence near 1)
        c = np.abs(np.corrcoef(np.hstack([fs[m], f[m]]).T)[:3, 3:])
        assert np.all(c.max(1) > 0.99)
    np.testing.assert_allclose(cp_reconstruct(f, lam), x, atol=1e-2 * x.max())
    # the same seed gives the same factors
    lam2, _, err2 = ntf_hals(x, 3, n_iter=50, seed=5)
    lam3, _, err3 = ntf_hals(x, 3, n_iter=50, seed=5)
    assert np.array_equal(lam2, lam3) and err2 == err3


def test_ntf_matrix_case_error_is_monotone_in_rank():
    rng = np.random.default_rng(3)
    x = rng.random((20, 15))
    errs = [ntf_hals(x, r, n_iter=300, seed=0)[2] for r in (1, 3, 6)]
    assert errs[0] > errs[1] > errs[2]


def test_window_affinities_closed_form():
    rng = np.random.default_rng(4)
    t = rng.standard_normal((200, 3))
    t[:, 1] = t[:, 0] * 2 + 5  # perfectly correlated with neuron 0
    aff, starts = window_affinities(t, 50, 25, sigma=0.5)
    assert aff.shape == (3, starts.size) and list(starts[:3]) == [0, 25, 50]
    assert np.allclose(aff[0], 1.0)  # pair (0, 1): rho = 1 -> exp(0)
    seg = t[25:75]
    rho = np.corrcoef(seg[:, 0], seg[:, 2])[0, 1]
    assert aff[1, 1] == pytest.approx(np.exp(-(1 - rho) / 0.5))
    m = pairs_to_matrix(aff[:, 0], 3)
    assert m[1, 0] == m[0, 1] == aff[0, 0] and m[2, 2] == 0


def test_communities_of_planted_blocks():
    n = 12
    lab = np.repeat([0, 1, 2], 4)
    a = np.where(lab[:, None] == lab[None, :], 1.0, 0.05)
    rng = np.random.default_rng(0)
    a = a + 0.02 * rng.random((n, n))
    got = affinity_communities(a)  # number of communities from the eigengap
    from sklearn.metrics import adjusted_rand_score
    assert adjusted_rand_score(lab, got) == 1.0
    iu = np.triu_indices(n, 1)
    pf = np.stack([(lab[:, None] == k) & (lab[None, :] == k) for k in range(3)], -1)[iu].astype(float)
    assert adjusted_rand_score(lab, component_communities(pf, n, [0, 1, 2])) == 1.0


def test_bad_input():
    with pytest.raises(ValueError, match="non-negative"):
        ntf_hals(-np.ones((3, 3)), 1)
    with pytest.raises(ValueError, match="all zeros"):
        ntf_hals(np.zeros((3, 3)), 1)
    with pytest.raises(ValueError, match="NaN"):
        ntf_hals(np.full((3, 3), np.nan), 1)
    with pytest.raises(ValueError, match="rank"):
        ntf_hals(np.ones((3, 3)), 0)
    with pytest.raises(ValueError, match="modes"):
        ntf_hals(np.ones(3), 1)
    with pytest.raises(ValueError, match="constant"):
        window_affinities(np.ones((50, 3)), 10)
    with pytest.raises(ValueError, match="fewer than window"):
        window_affinities(np.random.default_rng(0).random((5, 3)), 10)
    with pytest.raises(ValueError, match="signal"):
        window_affinities(np.random.default_rng(0).random((50, 3)), 10, signal="foo")
    with pytest.raises(ValueError, match="pair values"):
        pairs_to_matrix(np.ones(4), 3)
    with pytest.raises(ValueError, match="no affinity"):
        affinity_communities(np.zeros((4, 4)))
