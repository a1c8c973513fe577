"""The activity-sparse EGRU backward (SparseEGRUFunction) against dense autograd."""

import pytest
import torch

from neurocircuits.neurons.egru import EGRU, EGRUState, SparseEGRUFunction


def make(width: float, seed: int = 0) -> EGRU:
    m = EGRU(5, 9, threshold_init=0.3, threshold_spread=0.2, width=width, seed=seed).double()
    with torch.no_grad():
        m.W.mul_(4.0)  # strong input so that units fire
    return m


def grads(m: EGRU, x, state, sparse: bool, weights):
    m.zero_grad()
    for t in (x, state.c, state.y):
        t.grad = None
    y, e, c = m(x, state=state, sparse_backward=sparse)
    loss = sum((o * w).sum() for o, w in zip((y, e, c), weights))
    loss.backward()
    return [y.detach(), e.detach(), c.detach()] + [p.grad.clone() for p in m.parameters()] + [
        x.grad.clone(), state.c.grad.clone(), state.y.grad.clone()]


@pytest.mark.parametrize("width", [1.0, 0.3, 0.05])
def test_sparse_backward_equals_dense_autograd(width):
    m = make(width)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(30, 4, 5, dtype=torch.float64, generator=g).requires_grad_()
    c0 = (0.5 * torch.randn(4, 9, dtype=torch.float64, generator=g)).requires_grad_()
    y0 = (torch.rand(4, 9, dtype=torch.float64, generator=g) * (torch.rand(4, 9, generator=g) < 0.3)
          ).requires_grad_()
    state = EGRUState(c0, y0)
    # Loss on all three outputs, so the event output's pseudo-derivative is exercised too.
    weights = [torch.randn(30, 4, 9, dtype=torch.float64, generator=g) for _ in range(3)]
    dense = grads(m, x, state, False, weights)
    sparse = grads(m, x, state, True, weights)
    names = ["y", "e", "c", "W", "V", "b", "theta", "x", "c0", "y0"]
    for name, a, b in zip(names, dense, sparse):
        rel = float((a - b).abs().max() / a.abs().max().clamp_min(1e-300))
        assert rel < 1e-6, f"{name}: relative error {rel}"
    assert float(dense[6].abs().max()) > 0  # threshold gradient is non-trivial
    rate = float(dense[1].mean())
    assert 0.05 < rate < 0.95


def test_backward_visits_only_events_and_near_threshold_units():
    m = make(0.05, seed=3)
    with torch.no_grad():
        m.theta.fill_(0.6)  # few events
    x = torch.randn(40, 2, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    y, e, c = m(x, sparse_backward=True)
    y.pow(2).sum().backward()
    T, H = 40, 9
    # Independent count: at step t the columns of units that fired at t-1 or lay within ε of
    # threshold, in any batch element (step 0: the initial output, all zero).
    near = ((c - m.theta).abs() < m.width) | (e > 0)
    expected = int(near[:-1].any(1).sum())
    expected_ev = int((y[:-1] != 0).any(1).sum())
    assert SparseEGRUFunction.last_backward_columns == expected
    assert SparseEGRUFunction.last_backward_event_columns == expected_ev
    assert 0 < expected < 0.5 * T * H  # far fewer than the dense T · H columns


def test_sparse_backward_float32_close_and_rejects_both_modes():
    m = EGRU(6, 16, threshold_init=0.3, threshold_spread=0.1, seed=0)
    x = torch.randn(12, 8, 6, generator=torch.Generator().manual_seed(0))
    out_d = m(x)
    gd = torch.autograd.grad(out_d[2][-1].sum() + out_d[0].sum(), list(m.parameters()))
    out_s = m(x, sparse_backward=True)
    gs = torch.autograd.grad(out_s[2][-1].sum() + out_s[0].sum(), list(m.parameters()))
    for a, b in zip(gd, gs):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="event_driven and sparse_backward"):
        m(x, event_driven=True, sparse_backward=True)
