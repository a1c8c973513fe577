import pytest
import torch

from neurocircuits.models import count_parameters
from neurocircuits.neurons.egru import EGRU, activity_loss, event


def reference(model: EGRU, x: torch.Tensor, straight_through: bool = False):
    """Independent loop over the module-doc equations. With ``straight_through`` the
    Heaviside is H(v) = F(v) + (H(v) - F(v)).detach(), F the integral of the triangle, so the
    gradient is the pseudo-derivative by construction."""
    H = model.hidden
    W, V, b, th = model.W, model.V, model.b, model.theta
    Wu, Wr, Wz = W[:H], W[H:2 * H], W[2 * H:]
    Vu, Vr, Vz = V[:H], V[H:2 * H], V[2 * H:]
    bu, br, bz = b[:H], b[H:2 * H], b[2 * H:]
    c = torch.zeros(x.shape[1], H, dtype=x.dtype)
    y = torch.zeros_like(c)
    ys, es = [], []
    g, eps = model.gamma, model.width
    for t in range(x.shape[0]):
        u = torch.sigmoid(x[t] @ Wu.T + y @ Vu.T + bu)
        r = torch.sigmoid(x[t] @ Wr.T + y @ Vr.T + br)
        z = torch.tanh(x[t] @ Wz.T + (r * y) @ Vz.T + bz)
        c = u * z + (1 - u) * c - y
        v = c - th
        hard = (v > 0).to(x.dtype)
        if straight_through:
            a = torch.clamp(v, -eps, eps)
            soft = g * (a - a * a.abs() / (2 * eps))  # ∫ γ max(0, 1 - |s|/ε) ds
            e = soft + (hard - soft).detach()
        else:
            e = hard
        y = e * c
        ys.append(y)
        es.append(e)
    return torch.stack(ys), torch.stack(es)


def make(seed=0, **kw):
    m = EGRU(5, 7, threshold_init=0.2, threshold_spread=0.1, seed=seed, **kw).double()
    with torch.no_grad():
        m.W.mul_(4.0)  # strong input so that units fire
    return m


def test_forward_matches_reference_equations():
    m = make()
    x = torch.randn(25, 3, 5, dtype=torch.float64)
    y, e, c = m(x)
    y_ref, e_ref = reference(m, x)
    torch.testing.assert_close(y, y_ref)
    torch.testing.assert_close(e, e_ref)
    rate = e.mean().item()
    assert 0.02 < rate < 0.98  # both events and silence occur
    # Output is the cell state where an event occurred and exactly zero elsewhere.
    assert torch.all(y[e == 0] == 0) and torch.equal(y[e == 1], c[e == 1])
    assert torch.all(c[e == 1] > m.theta.expand_as(c)[e == 1])


def test_gradients_match_straight_through_reference():
    m = make(seed=1)
    x = torch.randn(15, 4, 5, dtype=torch.float64)
    w = torch.randn(15, 4, 7, dtype=torch.float64)
    y, e, _ = m(x)
    loss = (y * w).sum() + 0.5 * activity_loss(e)
    g = torch.autograd.grad(loss, list(m.parameters()))
    y2, e2 = reference(m, x, straight_through=True)
    loss2 = (y2 * w).sum() + 0.5 * activity_loss(e2)
    g2 = torch.autograd.grad(loss2, list(m.parameters()))
    for a, b in zip(g, g2):
        torch.testing.assert_close(a, b)
    assert g[-1].abs().sum() > 0  # thresholds learn


def test_pseudo_derivative_shape():
    v = torch.tensor([-2.0, -0.5, 0.0, 0.25, 0.5, 1.5], requires_grad=True)
    out = event(v, 0.3, 1.0)
    assert out.tolist() == [0, 0, 0, 1, 1, 1]
    (gv,) = torch.autograd.grad(out.sum(), v)
    torch.testing.assert_close(gv, torch.tensor([0.0, 0.15, 0.3, 0.225, 0.15, 0.0]))


def test_threshold_controls_activity_and_param_count():
    x = torch.randn(20, 8, 5)
    hi = EGRU(5, 16, threshold_init=0.95, seed=0)
    lo = EGRU(5, 16, threshold_init=0.01, seed=0)
    assert hi(x)[1].mean() < lo(x)[1].mean()
    assert count_parameters(hi) == hi.param_count() == 3 * 16 * (5 + 16 + 1) + 16


def test_same_seed_same_numbers():
    x = torch.randn(6, 2, 5)
    torch.testing.assert_close(EGRU(5, 4, seed=3)(x)[2], EGRU(5, 4, seed=3)(x)[2])


@pytest.mark.parametrize("kwargs,match", [
    (dict(threshold_init=0.0), "threshold_init must lie in"),
    (dict(threshold_init=1.2), "threshold_init must lie in"),
    (dict(threshold_init=-0.3), "threshold_init must lie in"),
    (dict(threshold_init=0.2, threshold_spread=0.3), "inside"),
    (dict(gamma=0.0), "gamma"),
    (dict(width=-1.0), "width"),
])
def test_bad_construction(kwargs, match):
    with pytest.raises(ValueError, match=match):
        EGRU(3, 4, **kwargs)


def test_bad_input():
    m = EGRU(3, 4)
    with pytest.raises(ValueError, match=r"\[T, B, 3\]"):
        m(torch.zeros(5, 2, 4))
    with pytest.raises(ValueError, match="NaN"):
        m(torch.full((5, 2, 3), float("nan")))
    with pytest.raises(ValueError, match="hidden"):
        EGRU(3, 0)


def test_event_driven_path_same_numbers_and_gradients():
    m = make(seed=2)
    x = torch.randn(12, 3, 5, dtype=torch.float64)
    outs = [m(x, event_driven=flag) for flag in (False, True)]
    for a, b in zip(*outs):
        torch.testing.assert_close(a, b)
    grads = [torch.autograd.grad((o[0] ** 2).sum() + o[2].sum(), list(m.parameters())) for o in outs]
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b)
