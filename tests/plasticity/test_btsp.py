import math

import numpy as np
import pytest

from neurocircuits.plasticity.btsp import BTSPParams, btsp_step, exponential_trace, run_lap, scaled_sigmoid


def test_scaled_sigmoid_end_points_and_monotone():
    s = np.linspace(0, 1, 101)
    q = scaled_sigmoid(s, 0.3, 15.0)
    assert q[0] == pytest.approx(0.0, abs=1e-12) and q[-1] == pytest.approx(1.0)
    assert np.all(np.diff(q) > 0)


def test_weight_ode_matches_closed_form_for_constant_signal():
    """Under a constant signal the rule is linear in W: exponential approach to W*."""
    p = BTSPParams()
    s = np.array([0.5])
    qp = p.k_plus_per_s * scaled_sigmoid(s, p.q_plus_threshold, p.q_plus_slope)[0]
    qm = p.k_minus_per_s * scaled_sigmoid(s, p.q_minus_threshold, p.q_minus_slope)[0]
    w_star = p.w_max * qp / (qp + qm)
    w = np.array([1.0])
    for _ in range(100):
        w = btsp_step(w, s, 0.005, p)
    expected = w_star + (1.0 - w_star) * math.exp(-(qp + qm) * 0.5)
    assert w[0] == pytest.approx(expected, rel=1e-12)


def test_weight_ode_against_fine_euler():
    p = BTSPParams()
    rng = np.random.default_rng(1)
    signal = rng.uniform(0, 1, size=(200, 5))
    w_exact = np.full(5, 2.0)
    w_euler = w_exact.copy()
    dt = 0.01
    for t in range(200):
        w_exact = btsp_step(w_exact, signal[t], dt, p)
        qp = p.k_plus_per_s * scaled_sigmoid(signal[t], p.q_plus_threshold, p.q_plus_slope)
        qm = p.k_minus_per_s * scaled_sigmoid(signal[t], p.q_minus_threshold, p.q_minus_slope)
        for _ in range(1000):
            w_euler = w_euler + dt / 1000 * ((p.w_max - w_euler) * qp - w_euler * qm)
    np.testing.assert_allclose(w_exact, w_euler, rtol=1e-3)


def test_weak_weights_potentiate_strong_weights_depress():
    p = BTSPParams()
    s = np.full(2, 0.6)
    w = btsp_step(np.array([0.2, p.w_max]), s, 0.1, p)
    assert w[0] > 0.2 and w[1] < p.w_max


def test_exponential_trace_step_response():
    dt, tau = 0.01, 0.44
    y = exponential_trace(np.ones((300, 1)), dt, tau)
    t = np.arange(1, 301) * dt
    np.testing.assert_allclose(y[:, 0], 1 - np.exp(-t / tau), rtol=1e-12)


def test_no_plateau_no_change():
    rng = np.random.default_rng(0)
    rates = rng.random((100, 8))
    w = rng.uniform(0.5, 2.0, 8)
    w2, _, _ = run_lap(w, rates, np.zeros(100), 0.01, BTSPParams())
    np.testing.assert_array_equal(w, w2)


@pytest.mark.parametrize("kwargs, match", [
    (dict(tau_et_s=0.0), "tau_et_s"),
    (dict(k_plus_per_s=-1.0), "k_plus_per_s"),
    (dict(q_minus_threshold=1.5), "q_minus_threshold"),
    (dict(w_max=float("nan")), "w_max"),
])
def test_bad_params(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BTSPParams(**kwargs)


def test_bad_lap_input():
    p = BTSPParams()
    with pytest.raises(ValueError, match="plateau has 5 steps"):
        run_lap(np.ones(3), np.zeros((4, 3)), np.zeros(5), 0.01, p)
    with pytest.raises(ValueError, match="w has 2 synapses"):
        run_lap(np.ones(2), np.zeros((4, 3)), np.zeros(4), 0.01, p)
    with pytest.raises(ValueError, match="NaN"):
        run_lap(np.ones(3), np.full((4, 3), np.nan), np.zeros(4), 0.01, p)
    with pytest.raises(ValueError, match="dt_s"):
        run_lap(np.ones(3), np.zeros((4, 3)), np.zeros(4), -0.01, p)
    with pytest.raises(ValueError, match="w_max"):
        run_lap(np.full(3, 9.0), np.zeros((4, 3)), np.zeros(4), 0.01, p)
