import pytest
import torch
import torch.nn.functional as F

from neurocircuits.models import MLP, count_parameters, match_hidden, mlp_param_count
from neurocircuits.neurons.dendritic_tree import KTree, ktree_param_count, pad_inputs


@pytest.mark.parametrize("n,k", [(2, 1), (8, 3), (64, 1), (64, 16)])
def test_param_count(n, k):
    t = KTree(n, k)
    assert count_parameters(t) == ktree_param_count(n, k) == k * (3 * n - 2) + 1


def test_matches_dense_masked_network_and_gradients():
    torch.manual_seed(0)
    t = KTree(16, 3, seed=2).double()
    with torch.no_grad():
        for c in t.c:
            c.normal_()
    x = torch.randn(5, 16, dtype=torch.float64)
    y = t(x)
    # Ground truth: dense matrices (zeros outside the 1x2 blocks) applied to the k-fold input.
    h = x.repeat(1, 3)
    for M, c in zip(t.dense_weights(), t.c):
        h = F.leaky_relu(h @ M.t() + c.reshape(-1), 0.01)
    y_ref = h @ t.v + t.c_soma
    torch.testing.assert_close(y, y_ref)
    # Each dense matrix has exactly two non-zeros per row, in adjacent columns of its block.
    for M in t.dense_weights():
        assert torch.all((M != 0).sum(1) == 2)
    g = torch.autograd.grad(y.sum(), list(t.parameters()))
    g_ref = torch.autograd.grad(y_ref.sum(), list(t.parameters()))
    for a, b in zip(g, g_ref):
        torch.testing.assert_close(a, b)


def test_one_tree_by_hand():
    # n = 4, k = 1: root = φ(a φ(w0 x0 + w1 x1) + b φ(w2 x2 + w3 x3)), soma = v root.
    t = KTree(4, 1).double()
    with torch.no_grad():
        t.w[0].copy_(torch.tensor([[[1.0, -2.0], [0.5, 0.5]]]))
        t.w[1].copy_(torch.tensor([[[2.0, -1.0]]]))
        t.v.fill_(3.0)
    x = torch.tensor([[1.0, 1.0, 2.0, 4.0]], dtype=torch.float64)
    l1 = torch.tensor([-1.0 * 0.01, 3.0])
    root = 2 * l1[0] - 1 * l1[1]  # negative -> leaky
    assert t(x).item() == pytest.approx(3 * 0.01 * root.item())


def test_pad_and_mlp_baseline():
    x = torch.rand(3, 60)
    assert pad_inputs(x, 64).shape == (3, 64) and torch.all(pad_inputs(x, 64)[:, 60:] == 0)
    mlp = MLP(64, 5, 1, seed=0)
    assert count_parameters(mlp) == mlp_param_count(64, 5, 1) == 66 * 5 + 1
    assert count_parameters(MLP(4, 3, 2, n_layers=3)) == mlp_param_count(4, 3, 2, 3)
    h = match_hidden(ktree_param_count(64, 16), lambda h: mlp_param_count(64, h, 1))
    assert h == 46


def test_same_seed_same_tree():
    x = torch.rand(4, 8)
    torch.testing.assert_close(KTree(8, 2, seed=1)(x), KTree(8, 2, seed=1)(x))


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(n_inputs=64, k=0), ValueError, "k must be >= 1"),
    (dict(n_inputs=60, k=1), ValueError, "power of two"),
    (dict(n_inputs=64, k=1.5), TypeError, "k must be an integer"),
    (dict(n_inputs=64, k=1, negative_slope=1.5), ValueError, "negative_slope"),
    (dict(n_inputs=64, k=1, negative_slope=-0.1), ValueError, "negative_slope"),
])
def test_bad_construction(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        KTree(**kwargs)


def test_bad_input():
    t = KTree(8, 2)
    with pytest.raises(ValueError, match=r"\[B, 8\]"):
        t(torch.zeros(3, 7))
    with pytest.raises(ValueError, match="NaN"):
        t(torch.full((3, 8), float("inf")))
    with pytest.raises(ValueError, match="more than"):
        pad_inputs(torch.zeros(2, 70), 64)
    with pytest.raises(ValueError, match="activation"):
        MLP(3, 3, 1, activation="gelu")
