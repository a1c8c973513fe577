import math

import pytest
import torch

from neurocircuits.neurons.ltc import LTCSpiking, detach_state


def test_shapes_and_state_chaining():
    m = LTCSpiking(3, 8, 2, seed=0)
    x = torch.rand(10, 4, 3)
    y, s, state = m(x)
    assert y.shape == (10, 4, 2) and s.shape == (10, 4, 8)
    assert set(s.unique().tolist()) <= {0.0, 1.0}
    # running in two pieces with the state carried over gives the same outputs
    y1, _, st = m(x[:4])
    y2, _, _ = m(x[4:], st)
    torch.testing.assert_close(torch.cat([y1, y2]), y)


def test_fixed_tau_is_a_plain_lif_recursion():
    """learn_tau=False: u_t = a u + (1 - a) I - s θ0, s = H(u - θ0) with constant a."""
    torch.manual_seed(0)
    m = LTCSpiking(2, 5, 1, learn_tau=False, tau_m_steps=10.0, theta0=0.3, seed=1).double()
    x = torch.rand(30, 3, 2, dtype=torch.float64) * 3
    _, s, _ = m(x)
    a = math.exp(-1 / 10.0)
    u = torch.zeros(3, 5, dtype=torch.float64)
    prev = torch.zeros_like(u)
    for t in range(30):
        i_t = x[t] @ m.w_in.T + prev @ m.w_rec.T
        u = a * u + (1 - a) * i_t - prev * 0.3
        prev = (u >= 0.3).double()
        torch.testing.assert_close(s[t], prev)
    assert s.sum() > 0


def test_gradients_reach_every_parameter():
    m = LTCSpiking(2, 16, 1, seed=0)
    x = torch.rand(20, 8, 2) * 2
    y, _, _ = m(x)
    y[-1].pow(2).sum().backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_detach_state_cuts_graph():
    m = LTCSpiking(2, 4, 1, seed=0)
    _, _, st = m(torch.rand(5, 2, 2))
    st2 = detach_state(st)
    assert not st2[0].u.requires_grad and not st2[1].requires_grad


def test_bad_input():
    with pytest.raises(ValueError, match="n_hidden"):
        LTCSpiking(2, 0, 1)
    with pytest.raises(ValueError, match="tau_m_steps"):
        LTCSpiking(2, 4, 1, tau_m_steps=-1.0)
    m = LTCSpiking(2, 4, 1)
    with pytest.raises(ValueError, match="3 dimensions"):
        m(torch.rand(5, 2))
    with pytest.raises(ValueError, match="input channels"):
        m(torch.rand(5, 2, 3))
    with pytest.raises(ValueError, match="T = 0"):
        m(torch.rand(0, 2, 2))
    with pytest.raises(ValueError, match="NaN"):
        m(torch.full((5, 2, 2), float("nan")))
    _, _, st = m(torch.rand(3, 2, 2))
    with pytest.raises(ValueError, match="do not match batch"):
        m(torch.rand(3, 5, 2), st)
