import io
import math

import numpy as np
import pytest
import torch

from neurocircuits.neurons.lif import (
    ALIF,
    LIF,
    RESET_MODES,
    ALIFParams,
    ALIFState,
    LeakyReadout,
    LIFParams,
    LIFState,
    RecurrentALIF,
    RecurrentLIF,
    alif_step,
    decay_from_tau,
    lif_sequence,
    lif_step,
)

F64 = torch.float64


def numpy_reference(x, beta, threshold, reset, alpha=None, rho=None, adapt=0.0, w_rec=None):
    """Independent element-by-element simulation of the documented equations."""
    T, B, N = x.shape
    v = np.zeros((B, N)); i = np.zeros((B, N)); a = np.zeros((B, N)); s = np.zeros((B, N))
    out = np.zeros((T, B, N))
    for t in range(T):
        for b in range(B):
            for n in range(N):
                cur = x[t, b, n] + (0.0 if w_rec is None else sum(w_rec[n, m] * s[b, m] for m in range(N)))
                i_new = cur if alpha is None else alpha * i[b, n] + cur
                u = beta * v[b, n] + i_new
                thr = threshold + adapt * a[b, n]
                sp = 1.0 if u - thr >= 0 else 0.0
                if reset == "subtract":
                    vn = u - sp * thr
                elif reset == "zero":
                    vn = u * (1 - sp)
                else:
                    vn = u
                out[t, b, n] = sp
                v[b, n], i[b, n] = vn, i_new
                if rho is not None:
                    a[b, n] = rho * a[b, n] + (1 - rho) * sp
        s = out[t].copy()
    return out, v


def test_subthreshold_closed_form():
    # constant input I from rest: v_t = I (1 - beta^(t+1)) / (1 - beta), never reaching threshold
    beta, I, T = 0.8, 0.1, 30
    layer = LIF(1, beta=beta, threshold=1.0).double()
    x = torch.full((T, 1, 1), I, dtype=F64)
    v = torch.zeros(1, 1, dtype=F64)
    state = LIFState(v)
    for t in range(T):
        s, state = lif_step(x[t], state, layer.params(F64))
        assert float(s) == 0.0
        assert float(state.v) == pytest.approx(I * (1 - beta ** (t + 1)) / (1 - beta), rel=1e-12)


def test_synaptic_current_impulse_response():
    # impulse at t = 0: i_t = alpha^t, v_t = (beta^(t+1) - alpha^(t+1)) / (beta - alpha)
    layer = LIF(1, tau_mem_ms=10.0, tau_syn_ms=5.0, dt_ms=1.0, threshold=100.0).double()
    beta, alpha = math.exp(-0.1), math.exp(-0.2)
    x = torch.zeros(25, 1, 1, dtype=F64)
    x[0] = 1.0
    state = layer.initial_state(1, dtype=F64)
    for t in range(25):
        _, state = layer(x[t], state)
        assert float(state.i) == pytest.approx(alpha ** t, rel=1e-12)
        assert float(state.v) == pytest.approx((beta ** (t + 1) - alpha ** (t + 1)) / (beta - alpha), rel=1e-12)


def test_regular_firing_period_closed_form():
    # constant input I > (1 - beta) theta with reset to zero: the membrane restarts from 0 after
    # each spike, so the period is the first k with I (1 - beta^k) / (1 - beta) >= theta.
    beta, I = 0.9, 0.25
    k = next(k for k in range(1, 100) if I * (1 - beta ** k) / (1 - beta) >= 1.0)
    layer = LIF(1, beta=beta, reset="zero").double()
    s, _ = layer(torch.full((10 * k, 1, 1), I, dtype=F64))
    times = torch.nonzero(s.view(-1)).view(-1)
    assert torch.equal(torch.diff(times), torch.full((times.numel() - 1,), k))
    assert int(times[0]) == k - 1


@pytest.mark.parametrize("reset", RESET_MODES)
@pytest.mark.parametrize("fused", [False, True])
def test_matches_numpy_reference(reset, fused):
    g = torch.Generator().manual_seed(3)
    x = torch.rand(15, 2, 4, generator=g, dtype=F64) * 0.6
    ref, v_ref = numpy_reference(x.numpy(), 0.85, 1.0, reset, alpha=0.5)
    layer = LIF(4, beta=0.85, tau_syn_ms=-1.0 / math.log(0.5), reset=reset, fused=fused).double()
    s, st = layer(x)
    assert np.array_equal(s.numpy(), ref)
    assert np.allclose(st.v.numpy(), v_ref, atol=1e-12)
    assert 0 < ref.mean() < 1


@pytest.mark.parametrize("fused", [False, True])
def test_recurrent_alif_matches_numpy_reference(fused):
    g = torch.Generator().manual_seed(4)
    layer = RecurrentALIF(5, beta=0.9, tau_adapt_ms=-1.0 / math.log(0.95), adapt=0.6, fused=fused,
                          generator=torch.Generator().manual_seed(1), rec_gain=1.5).double()
    x = torch.rand(20, 3, 5, generator=g, dtype=F64) * 0.7
    s, st = layer(x)
    ref, v_ref = numpy_reference(x.numpy(), 0.9, 1.0, "subtract", rho=0.95, adapt=0.6,
                                 w_rec=layer.w_rec.detach().numpy())
    assert np.array_equal(s.detach().numpy(), ref)
    assert np.allclose(st.v.detach().numpy(), v_ref, atol=1e-12)


def test_single_step_and_sequence_agree():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(12, 3, 6, generator=g, dtype=F64)
    for cls in (LIF, ALIF):
        layer = cls(6, tau_mem_ms=5.0, tau_syn_ms=3.0).double()
        s_seq, st_seq = layer(x)
        st = layer.initial_state(3, dtype=F64)
        outs = []
        for t in range(12):
            s, st = layer(x[t], st)
            outs.append(s)
        assert torch.equal(torch.stack(outs), s_seq)
        assert torch.allclose(st.v, st_seq.v, atol=1e-14)


def test_alif_threshold_rises_and_rate_falls():
    x = torch.full((200, 1, 1), 0.3, dtype=F64)
    s_lif, _ = LIF(1, beta=0.9).double()(x)
    s_alif, st = ALIF(1, beta=0.9, tau_adapt_ms=100.0, adapt=2.0).double()(x)
    assert float(s_alif[100:].sum()) < float(s_lif[100:].sum())
    assert float(st.a) > 0
    # adaptation closed form: a_t = (1 - rho) sum_k rho^(t-k) s_k
    rho = math.exp(-1 / 100.0)
    sp = s_alif.view(-1).numpy()
    a = sum((1 - rho) * rho ** (199 - k) * sp[k] for k in range(200))
    assert float(st.a) == pytest.approx(a, rel=1e-10)


def test_detach_reset_changes_gradient_not_spikes():
    g = torch.Generator().manual_seed(1)
    x0 = torch.rand(10, 2, 3, generator=g, dtype=F64)
    out = {}
    for det in (False, True):
        x = x0.clone().requires_grad_()
        s, _ = LIF(3, beta=0.9, detach_reset=det).double()(x * 0.8)
        (gx,) = torch.autograd.grad(s.sum(), x)
        out[det] = (s.detach(), gx)
    assert torch.equal(out[False][0], out[True][0])
    assert not torch.allclose(out[False][1], out[True][1])


def test_learnable_tau_and_decay():
    layer = LIF(4, tau_mem_ms=20.0, dt_ms=0.5, learn_tau=True, tau_syn_ms=torch.tensor([2.0, 3.0, 4.0, 5.0]))
    names = {n for n, _ in layer.named_parameters()}
    assert names == {"log_tau_mem_ms", "log_tau_syn_ms"}
    p = layer.params(F64)
    assert torch.allclose(p.beta, torch.full((4,), math.exp(-0.5 / 20.0), dtype=F64))
    assert torch.allclose(p.alpha, torch.exp(-0.5 / torch.tensor([2.0, 3.0, 4.0, 5.0], dtype=F64)))
    s, st = layer(torch.rand(8, 2, 4) * 2)
    (st.v.sum() + s.sum()).backward()
    assert layer.log_tau_mem_ms.grad is not None and layer.log_tau_mem_ms.grad.abs().sum() > 0
    fixed = LIF(4, tau_mem_ms=20.0)
    assert list(fixed.parameters()) == [] and "log_tau_mem_ms" in dict(fixed.named_buffers())
    assert decay_from_tau(10.0, 1.0) == pytest.approx(math.exp(-0.1))


def test_state_dict_roundtrip_weights_only():
    layer = RecurrentLIF(5, learn_tau=True, generator=torch.Generator().manual_seed(0))
    buf = io.BytesIO()
    torch.save(layer.state_dict(), buf)
    buf.seek(0)
    other = RecurrentLIF(5, learn_tau=True, generator=torch.Generator().manual_seed(9))
    other.load_state_dict(torch.load(buf, weights_only=True))
    assert torch.equal(other.w_rec, layer.w_rec)
    x = torch.rand(6, 2, 5)
    assert torch.equal(layer(x)[0], other(x)[0])


def test_recurrent_init_is_seeded():
    a = RecurrentLIF(6, generator=torch.Generator().manual_seed(5)).w_rec
    b = RecurrentLIF(6, generator=torch.Generator().manual_seed(5)).w_rec
    c = RecurrentLIF(6, generator=torch.Generator().manual_seed(6)).w_rec
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(torch.diagonal(a), torch.zeros(6))


def test_leaky_readout_closed_form():
    ro = LeakyReadout(2, tau_mem_ms=10.0, dt_ms=1.0).double()
    x = torch.ones(30, 1, 2, dtype=F64)
    y = ro(x)
    beta = math.exp(-0.1)
    t = torch.arange(30, dtype=F64)
    assert torch.allclose(y[:, 0, 0], (1 - beta ** (t + 1)) / (1 - beta))


def test_bad_inputs_rejected():
    layer = LIF(3)
    with pytest.raises(ValueError, match="dimensions"):
        layer(torch.zeros(3))
    with pytest.raises(ValueError, match="3 features"):
        layer(torch.zeros(2, 4))
    with pytest.raises(ValueError, match="NaN or infinite"):
        layer(torch.tensor([[0.0, float("nan"), 0.0]]))
    with pytest.raises(ValueError, match="NaN or infinite"):
        layer(torch.full((4, 1, 3), float("inf")))
    with pytest.raises(TypeError, match="floating-point"):
        layer(torch.zeros(2, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match="T > 0"):
        layer(torch.zeros(0, 2, 3))
    with pytest.raises(ValueError, match="shape"):
        layer(torch.zeros(4, 2, 3), LIFState(torch.zeros(5, 3)))
    with pytest.raises(TypeError, match="dtype"):
        layer(torch.zeros(4, 2, 3), LIFState(torch.zeros(2, 3, dtype=F64)))
    with pytest.raises(ValueError, match="> 0"):
        LIF(3, tau_mem_ms=0.0)
    with pytest.raises(ValueError, match="> 0"):
        LIF(3, tau_mem_ms=-5.0)
    with pytest.raises(ValueError, match="> 0"):
        LIF(3, dt_ms=0.0)
    with pytest.raises(ValueError, match="> 0 ms"):
        LIF(3, tau_mem_ms=torch.tensor([1.0, -1.0, 2.0]))
    with pytest.raises(ValueError, match="shape"):
        LIF(3, tau_mem_ms=torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        LIF(3, beta=1.5)
    with pytest.raises(ValueError, match="> 0"):
        LIF(3, threshold=0.0)
    with pytest.raises(ValueError, match="reset must be one of"):
        LIF(3, reset="soft")
    with pytest.raises(ValueError, match=">= 1"):
        LIF(0)
    with pytest.raises(TypeError, match="integer"):
        LIF(2.5)
    with pytest.raises(ValueError, match=">= 0"):
        ALIF(3, adapt=-1.0)
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        lif_step(torch.zeros(1, 3), LIFState(torch.zeros(1, 3)), LIFParams(beta=0.0))
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        alif_step(torch.zeros(1, 3), ALIFState(torch.zeros(1, 3), torch.zeros(1, 3)),
                  ALIFParams(beta=0.9, rho=1.0))
    with pytest.raises(ValueError, match="state.i"):
        lif_sequence(torch.zeros(2, 1, 3), LIFState(torch.zeros(1, 3)), LIFParams(beta=0.9, alpha=0.5))
    with pytest.raises(ValueError, match="w_rec"):
        lif_sequence(torch.zeros(2, 1, 3), LIFState(torch.zeros(1, 3), None, torch.zeros(1, 3)),
                     LIFParams(beta=0.9), w_rec=torch.zeros(2, 2))
    with pytest.raises(TypeError, match="LIFState"):
        lif_step(torch.zeros(1, 3), (torch.zeros(1, 3),), LIFParams(beta=0.9))
    with pytest.raises(ValueError, match="NaN or infinite"):
        lif_step(torch.zeros(1, 3), LIFState(torch.full((1, 3), float("nan"))), LIFParams(beta=0.9))
    with pytest.raises(ValueError, match="T > 0"):
        LeakyReadout(3)(torch.zeros(0, 1, 3))
