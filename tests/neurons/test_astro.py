import io
import math

import numpy as np
import pytest
import torch
from scipy.integrate import solve_ivp

from neurocircuits.neurons.astro import (
    AstroLIF,
    AstroParams,
    AstroState,
    astro_lif_sequence,
    astro_lif_step,
    astro_update,
)
from neurocircuits.neurons.lif import RecurrentLIF
from neurocircuits.surrogate import FastSigmoid

F64 = torch.float64


def numpy_reference(x, w_rec, beta, gamma, k_thr, k_gain, theta, group, k_cur=None, rho=None):
    """Element-by-element simulation of the documented equations (subtractive reset)."""
    T, B, N = x.shape
    G = N // group
    v = np.zeros((B, N)); s = np.zeros((B, N)); c = np.zeros((B, G))
    out = np.zeros((T, B, N)); cs = np.zeros((T, B, G))
    for t in range(T):
        s_new = np.zeros((B, N))
        for b in range(B):
            for n in range(N):
                g = n // group
                cur = x[t, b, n] + sum(w_rec[n, m] * s[b, m] for m in range(N))
                if k_cur is not None:
                    cur += k_cur[g] * c[b, g]
                u = beta * v[b, n] + math.exp(k_gain[g] * c[b, g]) * cur
                thr = theta * math.exp(k_thr[g] * c[b, g])
                sp = 1.0 if u >= thr else 0.0
                v[b, n] = u - sp * thr
                s_new[b, n] = sp
        for b in range(B):
            for g in range(G):
                a = s_new[b, g * group:(g + 1) * group].mean()
                if rho is None:
                    c[b, g] = gamma * c[b, g] + (1 - gamma) * a
                else:  # exact step of dc/dt = -c/τ + a (1 - c)/τ_rise
                    rate = -math.log(gamma) + rho * a
                    c_inf = rho * a / rate
                    c[b, g] = c_inf + (c[b, g] - c_inf) * math.exp(-rate)
        s = s_new
        out[t] = s; cs[t] = c
    return out, v, cs


def _layer(n=6, n_astro=3, **kw):
    return AstroLIF(n, n_astro, tau_mem_ms=10.0, tau_astro_ms=30.0,
                    generator=torch.Generator().manual_seed(1), **kw).double()


def test_matches_numpy_reference():
    layer = _layer(k_thr=0.0)
    with torch.no_grad():
        layer.k_thr.copy_(torch.tensor([2.0, -1.0, 0.5], dtype=F64))
        layer.k_gain.copy_(torch.tensor([-0.5, 1.0, 0.3], dtype=F64))
    x = torch.randn(25, 2, 6, generator=torch.Generator().manual_seed(2), dtype=F64) * 1.2
    spikes, state, trace = layer(x, return_astro=True)
    ref_s, ref_v, ref_c = numpy_reference(
        x.numpy(), layer.w_rec.detach().numpy(), math.exp(-0.1), math.exp(-1 / 30), layer.k_thr.detach().numpy(),
        layer.k_gain.detach().numpy(), 1.0, 2)
    assert spikes.sum() > 5  # the reference is exercised with spikes, not only silence
    np.testing.assert_array_equal(spikes.detach().numpy(), ref_s)
    np.testing.assert_allclose(state.v.detach().numpy(), ref_v, atol=1e-12)
    np.testing.assert_allclose(trace.detach().numpy(), ref_c, atol=1e-12)


def test_fast_rise_and_feedback_current_match_numpy_reference():
    layer = _layer(k_thr=0.0, tau_rise_ms=2.0, k_cur=0.0)
    with torch.no_grad():
        layer.k_thr.copy_(torch.tensor([1.0, -1.0, 0.5], dtype=F64))
        layer.k_gain.copy_(torch.tensor([-0.5, 1.0, 0.3], dtype=F64))
        layer.k_cur.copy_(torch.tensor([0.8, -0.6, 1.5], dtype=F64))
    x = torch.randn(25, 2, 6, generator=torch.Generator().manual_seed(3), dtype=F64) * 1.2
    spikes, state, trace = layer(x, return_astro=True)
    ref_s, ref_v, ref_c = numpy_reference(
        x.numpy(), layer.w_rec.detach().numpy(), math.exp(-0.1), math.exp(-1 / 30),
        layer.k_thr.detach().numpy(), layer.k_gain.detach().numpy(), 1.0, 2,
        k_cur=layer.k_cur.detach().numpy(), rho=0.5)
    assert spikes.sum() > 5 and float(trace.detach().max()) > 0.3  # fast rise exercised
    np.testing.assert_array_equal(spikes.detach().numpy(), ref_s)
    np.testing.assert_allclose(state.v.detach().numpy(), ref_v, atol=1e-12)
    np.testing.assert_allclose(trace.detach().numpy(), ref_c, atol=1e-12)


def test_step_module_and_sequence_agree():
    layer = _layer()
    x = torch.randn(12, 3, 6, generator=torch.Generator().manual_seed(3), dtype=F64) * 1.5
    seq, final = layer(x)
    state = layer.initial_state(3, dtype=F64)
    p = layer.params(F64)
    for t in range(12):
        s_mod, st_mod = layer(x[t], state)
        s_fn, st_fn = astro_lif_step(x[t], state, p, layer.w_rec)
        assert torch.equal(s_mod, s_fn) and torch.equal(st_mod.c, st_fn.c)
        assert torch.equal(s_fn, seq[t])
        state = st_fn
    for a, b in zip(state, final):
        torch.testing.assert_close(a, b)


def test_state_in_out_continues_a_sequence():
    layer = _layer()
    x = torch.randn(20, 2, 6, generator=torch.Generator().manual_seed(4), dtype=F64) * 1.5
    full, fin = layer(x)
    a, st = layer(x[:9])
    b, st2 = layer(x[9:], st)
    assert torch.equal(torch.cat([a, b]), full)
    for u, w in zip(st2, fin):
        assert torch.equal(u, w)


@pytest.mark.parametrize("kw", [{}, {"tau_rise_ms": 1.0, "k_cur": 2.0}])
def test_disabled_astrocyte_is_plain_recurrent_lif(kw):
    layer = _layer(astro=False, **kw)
    ref = RecurrentLIF(6, tau_mem_ms=10.0, generator=torch.Generator().manual_seed(9), fused=False).double()
    with torch.no_grad():
        ref.w_rec.copy_(layer.w_rec)
    x = torch.randn(30, 2, 6, generator=torch.Generator().manual_seed(5), dtype=F64) * 1.5
    s_a, st_a = layer(x)
    s_r, st_r = ref(x)
    assert s_r.sum() > 5
    assert torch.equal(s_a, s_r)
    torch.testing.assert_close(st_a.v, st_r.v)
    assert not any(p.requires_grad for n, p in layer.named_parameters() if n.startswith("k_"))
    assert layer.params().k_thr == 0.0 and layer.params().k_cur == 0.0


def test_surrogate_gradient_matches_analytic_derivative():
    # one step from v = 0, c = c0: s = H(m x - A), m = exp(κ_g c0), A = θ exp(κ_θ c0)
    # so ds/dx = σ'(m x - A) · m and ds/dκ_θ = -σ'(m x - A) · A · c0.
    sg = FastSigmoid(4.0)
    k_thr, k_gain, c0 = 0.7, -0.4, 0.3
    x = torch.tensor([[0.2, 0.9, 1.6, 3.0]], dtype=F64, requires_grad=True)
    kt = torch.tensor(k_thr, dtype=F64, requires_grad=True)
    state = AstroState(torch.zeros(1, 4, dtype=F64), torch.zeros(1, 4, dtype=F64),
                       torch.full((1, 1), c0, dtype=F64))
    p = AstroParams(0.9, 0.99, kt, k_gain, 1.0, "subtract", False, sg)
    s, _ = astro_lif_step(x, state, p)
    s.sum().backward()
    m, A = math.exp(k_gain * c0), math.exp(k_thr * c0)
    h = m * x.detach() - A
    torch.testing.assert_close(x.grad, sg.derivative(h) * m)
    torch.testing.assert_close(kt.grad, (-sg.derivative(h) * A * c0).sum())
    assert float(x.grad.abs().min()) > 0


@pytest.mark.parametrize("rise", [None, 1.0])
def test_gradients_reach_all_parameters(rise):
    layer = AstroLIF(8, 2, learn_tau=True, tau_rise_ms=rise, k_cur=0.5,
                     generator=torch.Generator().manual_seed(0))
    x = torch.randn(15, 3, 8, generator=torch.Generator().manual_seed(1)) * 1.5
    spikes, _ = layer(x)
    spikes.sum().backward()
    for name, p in layer.named_parameters():
        assert p.grad is not None and float(p.grad.abs().sum()) > 0, name


def test_astrocyte_follows_its_ode_for_known_spike_trains():
    # Forced activity: neuron 0 of each pair always fires (huge input), neuron 1 never does,
    # so the group rate is ā = 1/2 and c_t = ā (1 - γ^t), the ODE τ dc/dt = -c + ā at t dt.
    tau, dt = 25.0, 1.0
    layer = AstroLIF(4, 2, tau_mem_ms=10.0, tau_astro_ms=tau, dt_ms=dt, k_thr=0.5,
                     recurrent=False, reset="zero").double()
    T = 60
    x = torch.zeros(T, 1, 4, dtype=F64)
    x[:, :, 0::2] = 100.0
    x[:, :, 1::2] = -100.0
    _, _, c = layer(x, return_astro=True)
    t = torch.arange(1, T + 1, dtype=F64)
    expected = 0.5 * (1 - torch.exp(-t * dt / tau))
    torch.testing.assert_close(c[:, 0, 0], expected)
    torch.testing.assert_close(c[:, 0, 1], expected)
    # silence afterwards: exponential decay c_t = c_0 exp(-t dt / τ)
    _, st = layer(x)
    _, _, c2 = layer(torch.full((T, 1, 4), -100.0, dtype=F64), st, return_astro=True)
    torch.testing.assert_close(c2[:, 0, 0], st.c[0, 0] * torch.exp(-t * dt / tau))


def test_astro_update_matches_ode_solver_for_random_spike_train():
    rng = np.random.default_rng(0)
    T, tau = 40, 7.0
    spikes = (rng.random((T, 1, 6)) < 0.3).astype(float)
    rate = spikes.reshape(T, 3, 2).mean(-1)  # 3 astrocytes, 2 neurons each
    gamma = math.exp(-1.0 / tau)
    c = torch.zeros(1, 3, dtype=F64)
    y = np.zeros(3)
    for t in range(T):
        c = astro_update(c, torch.tensor(spikes[t], dtype=F64), gamma)
        sol = solve_ivp(lambda _, z: (-z + rate[t]) / tau, (0.0, 1.0), y, rtol=1e-10, atol=1e-12)
        y = sol.y[:, -1]
        np.testing.assert_allclose(c[0].numpy(), y, atol=1e-8)


def test_fast_rise_uptake_follows_its_ode_for_known_spike_trains():
    # ā = 1/2 held: dc/dt = -c/τ + ā (1 - c)/τ_r has c(t) = c∞ (1 - exp(-k t)),
    # k = 1/τ + ā/τ_r, c∞ = (ā/τ_r) / k; in silence c decays as exp(-t/τ).
    tau, tau_r, dt = 40.0, 2.0, 0.5
    layer = AstroLIF(4, 2, tau_mem_ms=10.0, tau_astro_ms=tau, tau_rise_ms=tau_r, dt_ms=dt,
                     k_thr=0.5, recurrent=False, reset="zero").double()
    T = 30
    x = torch.zeros(T, 1, 4, dtype=F64)
    x[:, :, 0::2] = 100.0
    x[:, :, 1::2] = -100.0
    _, st, c = layer(x, return_astro=True)
    t = torch.arange(1, T + 1, dtype=F64) * dt
    k = 1 / tau + 0.5 / tau_r
    torch.testing.assert_close(c[:, 0, 0], (0.5 / tau_r) / k * (1 - torch.exp(-k * t)))
    assert float(c[0, 0, 0].detach()) > 0.09  # one step of half the group firing: ~25x the linear uptake
    _, _, c2 = layer(torch.full((T, 1, 4), -100.0, dtype=F64), st, return_astro=True)
    torch.testing.assert_close(c2[:, 0, 1], st.c[0, 1] * torch.exp(-t / tau))


def test_fast_rise_update_matches_ode_solver_for_random_spike_train():
    rng = np.random.default_rng(1)
    T, tau, tau_r = 40, 7.0, 0.8
    spikes = (rng.random((T, 1, 6)) < 0.3).astype(float)
    rate = spikes.reshape(T, 3, 2).mean(-1)
    c = torch.zeros(1, 3, dtype=F64)
    y = np.zeros(3)
    for t in range(T):
        c = astro_update(c, torch.tensor(spikes[t], dtype=F64), math.exp(-1.0 / tau), 1.0 / tau_r)
        sol = solve_ivp(lambda _, z: -z / tau + rate[t] * (1 - z) / tau_r, (0.0, 1.0), y,
                        rtol=1e-10, atol=1e-12)
        y = sol.y[:, -1]
        np.testing.assert_allclose(c[0].numpy(), y, atol=1e-8)
    assert 0.0 < float(c.min()) and float(c.max()) < 1.0


def test_threshold_coupling_lowers_sustained_rate():
    x = torch.full((200, 1, 4), 0.6)
    rates = []
    for k in (0.0, 3.0):
        layer = AstroLIF(4, 1, k_thr=k, recurrent=False, tau_astro_ms=50.0)
        s, _ = layer(x)
        rates.append(float(s[100:].detach().mean()))
    assert rates[0] > 0.2 and rates[1] < rates[0]


def test_state_dict_roundtrip_weights_only():
    layer = AstroLIF(8, 4, generator=torch.Generator().manual_seed(0))
    buf = io.BytesIO()
    torch.save(layer.state_dict(), buf)
    buf.seek(0)
    other = AstroLIF(8, 4)
    other.load_state_dict(torch.load(buf, weights_only=True))
    x = torch.randn(10, 2, 8, generator=torch.Generator().manual_seed(1)) * 1.5
    assert torch.equal(layer(x)[0], other(x)[0])


def test_bad_inputs_rejected():
    with pytest.raises(ValueError, match="tau_astro_ms"):
        AstroLIF(4, 2, tau_astro_ms=0.0)
    with pytest.raises(ValueError, match="tau_mem_ms"):
        AstroLIF(4, 2, tau_mem_ms=-1.0)
    with pytest.raises(ValueError, match="n_astro must divide n = 6"):
        AstroLIF(6, 4)
    with pytest.raises(ValueError, match="n must be >= 1"):
        AstroLIF(0)
    with pytest.raises(TypeError, match="astro must be a bool"):
        AstroLIF(4, astro=1)
    with pytest.raises(ValueError, match="reset must be one of"):
        AstroLIF(4, reset="hard")
    with pytest.raises(ValueError, match="tau_rise_ms"):
        AstroLIF(4, 2, tau_rise_ms=0.0)
    with pytest.raises(ValueError, match=r"rho \(dt/tau_rise\)"):
        astro_update(torch.zeros(1, 2), torch.zeros(1, 4), 0.9, -1.0)
    layer = AstroLIF(4, 2)
    with pytest.raises(ValueError, match="4 features"):
        layer(torch.zeros(3, 1, 5))
    with pytest.raises(ValueError, match="NaN"):
        layer(torch.full((3, 1, 4), float("nan")))
    with pytest.raises(ValueError, match="T > 0"):
        layer(torch.zeros(0, 1, 4))
    st = layer.initial_state(2)
    with pytest.raises(ValueError, match=r"state.v must have shape \(1, 4\)"):
        layer(torch.zeros(3, 1, 4), st)
    bad = AstroState(torch.zeros(1, 4), torch.zeros(1, 4), torch.zeros(1, 3))
    with pytest.raises(ValueError, match="G dividing N = 4"):
        layer(torch.zeros(3, 1, 4), bad)
    p = AstroParams(0.9, 1.5)
    with pytest.raises(ValueError, match="gamma must lie in"):
        astro_lif_sequence(torch.zeros(3, 1, 4), layer.initial_state(1), p)
    with pytest.raises(ValueError, match=r"k_thr must have shape \[\] or \[2\]"):
        astro_lif_step(torch.zeros(1, 4), layer.initial_state(1), AstroParams(0.9, 0.9, torch.zeros(3)))
    with pytest.raises(ValueError, match="G must divide N"):
        astro_update(torch.zeros(1, 3), torch.zeros(1, 4), 0.9)
