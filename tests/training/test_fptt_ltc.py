import math

import pytest
import torch

from neurocircuits.neurons.ltc import LTCSpiking


def test_gate_bias_starts_at_the_fixed_decay():
    """σ(b_α) = e^{-1/τ_m} and σ(b_ρ) = e^{-1/τ_adp}: learned and fixed variants start equal."""
    m = LTCSpiking(2, 6, 1, tau_m_steps=20.0, tau_adp_steps=200.0, seed=0)
    torch.testing.assert_close(torch.sigmoid(m.b_alpha), torch.full((6,), math.exp(-1 / 20)))
    torch.testing.assert_close(torch.sigmoid(m.b_rho), torch.full((6,), math.exp(-1 / 200)))
    f = LTCSpiking(2, 6, 1, learn_tau=False, tau_m_steps=20.0, seed=0)
    torch.testing.assert_close(f.alpha_fixed, torch.full((6,), math.exp(-1 / 20)))


def test_time_constant_range_is_log_uniform_and_seeded():
    lo, hi = 5.0, 500.0
    m = LTCSpiking(2, 400, 1, tau_m_steps=(lo, hi), seed=3)
    tau = -1.0 / torch.log(torch.sigmoid(m.b_alpha.detach().double()))
    assert tau.min() >= lo * (1 - 1e-4) and tau.max() <= hi * (1 + 1e-4)
    # log-uniform: log τ has mean (log lo + log hi) / 2 and SD (log hi - log lo) / sqrt(12)
    lt = tau.log()
    assert abs(lt.mean().item() - 0.5 * math.log(lo * hi)) < 0.15
    assert abs(lt.std().item() - math.log(hi / lo) / math.sqrt(12)) < 0.1
    again = LTCSpiking(2, 400, 1, tau_m_steps=(lo, hi), seed=3)
    assert torch.equal(again.b_alpha, m.b_alpha)
    fixed = LTCSpiking(2, 400, 1, learn_tau=False, tau_m_steps=(lo, hi), seed=3)
    torch.testing.assert_close(fixed.alpha_fixed, torch.sigmoid(m.b_alpha.detach()), rtol=1e-5, atol=1e-6)


def test_bad_time_constants():
    with pytest.raises(ValueError, match=r"tau_m_steps\[0\] must be > 0"):
        LTCSpiking(2, 4, 1, tau_m_steps=(0.0, 10.0))
    with pytest.raises(ValueError, match="lo <= hi"):
        LTCSpiking(2, 4, 1, tau_adp_steps=(50.0, 10.0))
    with pytest.raises(ValueError, match="pair"):
        LTCSpiking(2, 4, 1, tau_m_steps=(1.0, 2.0, 3.0))
