import pytest
import torch

from neurocircuits.training.fptt import FPTT


def _quadratic(w, target):
    return ((w - target) ** 2).sum()


def test_alpha_zero_is_plain_optimiser():
    torch.manual_seed(0)
    w1 = torch.nn.Parameter(torch.randn(4))
    w2 = torch.nn.Parameter(w1.detach().clone())
    target = torch.randn(4)
    o1, o2 = torch.optim.SGD([w1], lr=0.1), torch.optim.SGD([w2], lr=0.1)
    f = FPTT([w1], o1, alpha=0.0)
    for _ in range(5):
        o1.zero_grad(); _quadratic(w1, target).backward(); f.step()
        o2.zero_grad(); _quadratic(w2, target).backward(); o2.step()
    torch.testing.assert_close(w1, w2)


def test_update_matches_the_equations():
    """One step by hand: grad = g + α(W − W̄ − g_prev/2α); W̄' = ½(W̄ + W') − g/2α."""
    alpha, lr = 0.7, 0.05
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    target = torch.tensor([0.5, 0.5])
    opt = torch.optim.SGD([w], lr=lr)
    f = FPTT([w], opt, alpha=alpha)
    w_bar = w.detach().clone()
    g_prev = torch.zeros(2)
    for _ in range(3):
        w0 = w.detach().clone()
        g = 2 * (w0 - target)
        expected_w = w0 - lr * (g + alpha * (w0 - w_bar - g_prev / (2 * alpha)))
        opt.zero_grad(); _quadratic(w, target).backward(); f.step()
        torch.testing.assert_close(w.detach(), expected_w)
        w_bar = 0.5 * (w_bar + expected_w) - g / (2 * alpha)
        g_prev = g
        torch.testing.assert_close(f.w_bar[0], w_bar)


def test_converges_to_minimum_of_a_quadratic():
    w = torch.nn.Parameter(torch.zeros(3))
    target = torch.tensor([1.0, -1.0, 2.0])
    opt = torch.optim.SGD([w], lr=0.1)
    f = FPTT([w], opt, alpha=0.5)
    for _ in range(300):
        opt.zero_grad(); _quadratic(w, target).backward(); f.step()
    torch.testing.assert_close(w.detach(), target, atol=1e-4, rtol=0)
    assert f.regulariser() >= 0


def test_bad_input():
    w = torch.nn.Parameter(torch.zeros(2))
    with pytest.raises(ValueError, match="alpha"):
        FPTT([w], torch.optim.SGD([w], lr=0.1), alpha=-1.0)
    with pytest.raises(ValueError, match="requires grad"):
        FPTT([torch.zeros(2)], torch.optim.SGD([w], lr=0.1))
