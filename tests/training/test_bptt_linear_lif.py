"""Fused event-driven linear + LIF layer (training.linear_lif) against plain autograd."""

import itertools

import pytest
import torch

from neurocircuits import kernels
from neurocircuits.neurons.lif import LIFParams, LIFState, lif_sequence
from neurocircuits.surrogate import ATan, FastSigmoid, Gaussian, Sigmoid, Surrogate, Triangle
from neurocircuits.training import bptt
from neurocircuits.training.bptt import spiking_linear
from neurocircuits.training.linear_lif import linear_lif, linear_lif_applies

COMPILED = [name for name in kernels.NAMES if kernels.available(name)]
pytestmark = pytest.mark.skipif(not COMPILED, reason="no compiled kernels (C++ library or Numba) here")


@pytest.fixture(autouse=True, params=COMPILED or [None])
def backend(request):
    """Every test runs on each compiled kernel backend available here."""
    with kernels.use(request.param):
        yield request.param

F64 = dict(dtype=torch.float64)


def _problem(seed, T=6, B=3, n_in=40, N=40, p=0.25, values=False):
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(T, B, n_in, generator=g, **F64) < p).double()
    if values:  # sparse but not binary
        x = x * (torch.rand(T, B, n_in, generator=g, **F64) * 2 + 0.5)
    W = torch.randn(N, n_in, generator=g, **F64) * 0.6
    b = torch.randn(N, generator=g, **F64) * 0.2
    v0 = torch.rand(B, N, generator=g, **F64) * 0.5
    log_tau = torch.rand(N, generator=g, **F64) + 1.5
    w_out = torch.randn(T, B, N, generator=g, **F64)
    return x, W, b, v0, log_tau, w_out


def _grads(fused, x, W, b, v0, log_tau, w_out, sg, reset, detach):
    leaves = [t.clone().requires_grad_() for t in (x, W, b, v0, log_tau)]
    xl, Wl, bl, v0l, lt = leaves
    p = LIFParams(torch.exp(-1.0 / torch.exp(lt)), None, 1.0, reset, detach, sg)
    if fused:
        S, st = linear_lif(xl, Wl, bl, p, LIFState(v0l))
    else:
        S, st = lif_sequence(torch.nn.functional.linear(xl, Wl, bl), LIFState(v0l), p)
    loss = (S * w_out).sum() + (st.v ** 2).sum()
    return S.detach(), torch.autograd.grad(loss, leaves)


@pytest.mark.parametrize("N", [10, 40, 200])  # narrow variant; event-driven (one and several vectors)
def test_gradients_match_autograd_every_surrogate_and_reset(N):
    sgs = [FastSigmoid(), ATan(), Triangle(), Sigmoid(), Gaussian()]
    worst, spikes = 0.0, 0
    for k, (sg, reset, detach) in enumerate(itertools.product(sgs, ("subtract", "zero", "none"),
                                                              (False, True))):
        prob = _problem(k, N=N, values=(k % 2 == 1))
        S0, g0 = _grads(False, *prob, sg, reset, detach)
        S1, g1 = _grads(True, *prob, sg, reset, detach)
        assert torch.equal(S0, S1)
        spikes += int(S1.sum())
        for a, c in zip(g0, g1):
            worst = max(worst, float((a - c).norm() / a.norm().clamp_min(1e-300)))
    assert spikes > 0
    assert worst < 1e-6, worst


@pytest.mark.parametrize("N", [40, 200])  # one partial tile; several tiles, the last partial
def test_gradients_without_input_gradient_match_autograd(N):
    # x without grad: ∂L/∂i is kept in tiles of neurons for the weight gradient
    worst = 0.0
    for k, (sg, reset) in enumerate(itertools.product([FastSigmoid(), Gaussian()], ("subtract", "zero"))):
        x, W, b, v0, log_tau, w_out = _problem(20 + k, N=N, values=(k % 2 == 1))
        leaves = [t.clone().requires_grad_() for t in (W, b, v0, log_tau)]
        outs = []
        for fused in (False, True):
            Wl, bl, v0l, lt = leaves
            p = LIFParams(torch.exp(-1.0 / torch.exp(lt)), None, 1.0, reset, False, sg)
            if fused:
                S, st = linear_lif(x, Wl, bl, p, LIFState(v0l))
            else:
                S, st = lif_sequence(torch.nn.functional.linear(x, Wl, bl), LIFState(v0l), p)
            outs.append(torch.autograd.grad((S * w_out).sum() + (st.v ** 2).sum(), leaves))
        for a, c in zip(*outs):
            worst = max(worst, float((a - c).norm() / a.norm().clamp_min(1e-300)))
    assert worst < 1e-6, worst


@pytest.mark.parametrize("N", [150, 256])  # a partial last tile; whole aligned tiles (streamed stores)
def test_float32_matches_separate_layers_and_leaves_inputs_alone(N):
    g = torch.Generator().manual_seed(3)
    x = torch.bernoulli(torch.full((8, 5, 60), 0.1), generator=g)
    W = (torch.randn(N, 60, generator=g) * 0.8).requires_grad_()
    b = torch.zeros(N, requires_grad=True)
    v0 = torch.rand(5, N, generator=g)
    v0_copy = v0.clone()
    p = LIFParams(0.9)
    S1, st1 = linear_lif(x, W, b, p, LIFState(v0))
    S0, st0 = lif_sequence(spiking_linear(x, W, b), LIFState(v0), p, fused=True)
    assert torch.equal(v0, v0_copy)  # the initial state is not updated in place
    assert (S1 != S0).float().mean() < 1e-3  # summation order may flip a spike at threshold
    torch.testing.assert_close(st1.v, st0.v, rtol=1e-4, atol=1e-4)
    gv = torch.randn(5, N, generator=g)
    gv_copy = gv.clone()
    gw1 = torch.autograd.grad((S1.sum(0) ** 2).sum() + (st1.v * gv).sum(), W)[0]
    gw0 = torch.autograd.grad((S0.sum(0) ** 2).sum() + (st0.v * gv).sum(), W)[0]
    assert torch.equal(gv, gv_copy)
    assert float((gw1 - gw0).norm() / gw0.norm()) < 1e-4


def test_same_numbers_on_one_and_two_threads():
    x, W, b, v0, _, w_out = _problem(5, N=300)
    x, W, b, v0, w_out = (t.float() for t in (x, W, b, v0, w_out))
    W.requires_grad_()
    out = []
    old = torch.get_num_threads()
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            S, _ = linear_lif(x, W, b, LIFParams(0.9), LIFState(v0))
            out.append((S, torch.autograd.grad((S * w_out).sum(), W)[0]))
    finally:
        torch.set_num_threads(old)
    assert torch.equal(out[0][0], out[1][0]) and torch.equal(out[0][1], out[1][1])


class _Cubic(Surrogate):
    def derivative(self, h):
        return 1.0 / (1.0 + self.scale * h * h)


def test_fallback_for_other_surrogates_gives_the_same_result():
    x, W, b, v0, _, w_out = _problem(7)
    p = LIFParams(0.9, None, 1.0, "subtract", False, _Cubic(2.0))
    assert not linear_lif_applies(x, W, p)
    assert linear_lif_applies(x, W, p._replace(surrogate=FastSigmoid()))
    S, st = linear_lif(x, W, b, p, LIFState(v0))
    S0, st0 = lif_sequence(torch.nn.functional.linear(x, W, b), LIFState(v0), p)
    assert torch.equal(S, S0)
    torch.testing.assert_close(st.v, st0.v)


@pytest.mark.parametrize("N", [1, 10, 31])
def test_narrow_layers_match_the_dense_product_with_input_gradient(N):
    # the narrow variant (no input index, x scanned again for ∂L/∂W) also returns ∂L/∂x,
    # as for a readout fed by a trained layer
    x, W, b, v0, _, w_out = _problem(8, N=N, n_in=70, values=True)
    p = LIFParams(0.9, threshold=0.5)
    assert W.shape[0] < bptt.EVENT_MIN_OUT and linear_lif_applies(x, W, p)
    leaves = [t.clone().requires_grad_() for t in (x, W, b, v0)]
    S, st = linear_lif(leaves[0], leaves[1], leaves[2], p, LIFState(leaves[3]))
    g1 = torch.autograd.grad((S * w_out).sum() + (st.v ** 2).sum(), leaves)
    leaves0 = [t.clone().requires_grad_() for t in (x, W, b, v0)]
    S0, st0 = lif_sequence(torch.nn.functional.linear(leaves0[0], leaves0[1], leaves0[2]),
                           LIFState(leaves0[3]), p)
    g0 = torch.autograd.grad((S0 * w_out).sum() + (st0.v ** 2).sum(), leaves0)
    assert torch.equal(S, S0) and S.sum() > 0
    torch.testing.assert_close(st.v, st0.v)
    for a, c in zip(g1, g0):
        torch.testing.assert_close(a, c, rtol=1e-10, atol=1e-10)


def test_narrow_layer_rejects_nan_and_inf_naming_the_count():
    x = (torch.rand(4, 3, 50, generator=torch.Generator().manual_seed(0)) < 0.3).float()
    W = torch.randn(10, 50)
    for bad_value in (float("nan"), float("inf"), -float("inf")):
        bad = x.clone()
        bad[2, 1, 7] = bad_value
        bad[3, 0, 0] = bad_value
        with pytest.raises(ValueError, match="x contains 2 NaN or infinite"):
            linear_lif(bad, W, None, LIFParams(0.9))


def test_bad_input_is_rejected_with_clear_messages():
    x = torch.zeros(4, 2, 10)
    W = torch.zeros(6, 10)
    with pytest.raises(ValueError, match="n_in = 10"):
        linear_lif(torch.zeros(4, 2, 9), W, None, LIFParams(0.9))
    with pytest.raises(TypeError, match="dtype"):
        linear_lif(x.double(), W, None, LIFParams(0.9))
    with pytest.raises(ValueError, match="alpha"):
        linear_lif(x, W, None, LIFParams(0.9, 0.8))
    with pytest.raises(TypeError, match="LIFParams"):
        linear_lif(x, W, None, (0.9,))
    with pytest.raises(ValueError, match="bias"):
        linear_lif(x, W, torch.zeros(5), LIFParams(0.9))
    with pytest.raises(ValueError, match="state.v"):
        linear_lif(x, W, None, LIFParams(0.9), LIFState(torch.zeros(3, 6)))
    with pytest.raises(ValueError, match="T > 0"):
        linear_lif(torch.zeros(0, 2, 10), W, None, LIFParams(0.9))
    with pytest.raises(ValueError):
        linear_lif(x, W, None, LIFParams(1.5))  # beta outside (0, 1)
    bad = x.clone()
    bad[1, 0, 3] = float("nan")
    with pytest.raises(ValueError):
        linear_lif(bad, W, None, LIFParams(0.9))


@pytest.mark.parametrize("T,B,n_in,N,p", [(1, 1, 5, 33, 0.5), (3, 2, 7, 40, 0.0), (2, 17, 300, 50, 0.05)])
def test_edge_shapes_silent_input_and_more_rows_than_blocks(T, B, n_in, N, p):
    from neurocircuits.training.linear_lif import BLOCKS

    assert 17 > BLOCKS  # the last case has more batch rows than work blocks
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(T, B, n_in, generator=g, **F64) < p).double()
    W = torch.randn(N, n_in, generator=g, **F64).requires_grad_()
    b = torch.randn(N, generator=g, **F64).requires_grad_()
    S, st = linear_lif(x, W, b, LIFParams(0.9))
    S0, st0 = lif_sequence(torch.nn.functional.linear(x, W, b), LIFState(torch.zeros(B, N, **F64)),
                           LIFParams(0.9))
    assert torch.equal(S, S0)
    w_out = torch.arange(N, **F64)
    g1 = torch.autograd.grad((S * w_out).sum() + st.v.sum(), (W, b))
    g0 = torch.autograd.grad((S0 * w_out).sum() + st0.v.sum(), (W, b))
    for a, c in zip(g1, g0):
        torch.testing.assert_close(a, c, rtol=1e-10, atol=1e-10)
