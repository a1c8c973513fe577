import itertools

import numpy as np
import pytest
import torch

from neurocircuits.neurons.lif import (
    ALIF,
    LIF,
    RESET_MODES,
    ALIFParams,
    ALIFState,
    LIFParams,
    LIFState,
    RecurrentALIF,
    RecurrentLIF,
    alif_sequence,
    lif_sequence,
)
from neurocircuits.surrogate import ATan, FastSigmoid, Gaussian, Sigmoid, Triangle
from neurocircuits import kernels
from neurocircuits.training.bptt import SpikingLinear, fused_lif, spiking_linear

F64 = dict(dtype=torch.float64)
SURROGATES = [FastSigmoid(), ATan(), Triangle(0.8), Sigmoid(), Gaussian()]


def rel_err(a, b):
    return float((a - b).norm() / a.norm().clamp_min(1e-300))


def _problem(seed, adaptive, syn, rec, T=9, B=3, N=5):
    g = torch.Generator().manual_seed(seed)
    t = {}
    t["x"] = (torch.randn(T, B, N, generator=g, **F64) * 0.6 + 0.45).requires_grad_()
    t["v0"] = (torch.rand(B, N, generator=g, **F64) * 0.5).requires_grad_()
    t["log_tau"] = (torch.rand(N, generator=g, **F64) + 1.5).requires_grad_()
    if syn:
        t["i0"] = (torch.rand(B, N, generator=g, **F64) * 0.2).requires_grad_()
        t["log_tau_syn"] = torch.tensor(1.0, **F64, requires_grad=True)
    if adaptive:
        t["a0"] = (torch.rand(B, N, generator=g, **F64) * 0.3).requires_grad_()
        t["rho"] = (torch.rand(N, generator=g, **F64) * 0.2 + 0.7).requires_grad_()
    if rec:
        t["s0"] = ((torch.rand(B, N, generator=g, **F64) < 0.4).double()).requires_grad_()
        t["w"] = (torch.randn(N, N, generator=g, **F64) * 0.4).requires_grad_()
    t["gout"] = torch.randn(T, B, N, generator=g, **F64)
    return t


def _run(t, adaptive, reset, detach, sg, fused):
    beta = torch.exp(-1.0 / torch.exp(t["log_tau"]))
    alpha = torch.exp(-1.0 / torch.exp(t["log_tau_syn"])) if "i0" in t else None
    w = t.get("w")
    if adaptive:
        S, st = alif_sequence(t["x"], ALIFState(t["v0"], t["a0"], t.get("i0"), t.get("s0")),
                              ALIFParams(beta, t["rho"], 0.4, alpha, 1.0, reset, detach, sg), w, fused=fused)
    else:
        S, st = lif_sequence(t["x"], LIFState(t["v0"], t.get("i0"), t.get("s0")),
                             LIFParams(beta, alpha, 1.0, reset, detach, sg), w, fused=fused)
    loss = (S * t["gout"]).sum() + (st.v ** 2).sum()
    if st.i is not None:
        loss = loss + 0.7 * st.i.sum()
    if adaptive:
        loss = loss + 1.3 * st.a.sum()
    leaves = [v for k, v in t.items() if k != "gout"]
    return S.detach(), torch.autograd.grad(loss, leaves)


COMPILED = [name for name in kernels.NAMES if kernels.available(name)]
BACKENDS = ["torch"] + COMPILED


@pytest.fixture(params=COMPILED or [None])
def compiled(request):
    """Each compiled kernel backend available here in turn (skips if there is none)."""
    if request.param is None:
        pytest.skip("no compiled kernels (neither the C++ library nor Numba) here")
    with kernels.use(request.param):
        yield request.param


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("sg", SURROGATES, ids=repr)
@pytest.mark.parametrize("reset", RESET_MODES)
@pytest.mark.parametrize("detach", [False, True])
def test_fused_equals_autograd_lif(sg, reset, detach, backend):
    t = _problem(1, adaptive=False, syn=False, rec=False)
    S1, g1 = _run(t, False, reset, detach, sg, fused=False)
    S2, g2 = _run(t, False, reset, detach, sg, fused=backend)
    assert torch.equal(S1, S2)
    assert 0.05 < float(S1.mean()) < 0.95
    for a, b in zip(g1, g2):
        assert a.abs().sum() > 0
        assert rel_err(a, b) < 1e-6


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("adaptive,syn,rec", [c for c in itertools.product([False, True], repeat=3)
                                              if c != (False, False, False)])
@pytest.mark.parametrize("reset", RESET_MODES)
@pytest.mark.parametrize("detach", [False, True])
def test_fused_equals_autograd_variants(adaptive, syn, rec, reset, detach, backend):
    sg = SURROGATES[(int(adaptive) + 2 * int(syn) + int(rec) + len(reset)) % len(SURROGATES)]
    t = _problem(2, adaptive, syn, rec)
    S1, g1 = _run(t, adaptive, reset, detach, sg, fused=False)
    if rec and backend in kernels.NAMES:
        with pytest.raises(ValueError, match="feed-forward"):
            _run(t, adaptive, reset, detach, sg, fused=backend)
        return
    S2, g2 = _run(t, adaptive, reset, detach, sg, fused=backend)
    assert torch.equal(S1, S2)
    for a, b in zip(g1, g2):
        assert rel_err(a, b) < 1e-6


def test_fused_gradient_is_exact_where_the_function_is_smooth():
    # With the reset detached and the loss on the membrane only, no surrogate enters the
    # gradient: it is the true derivative of a piecewise-smooth map, so finite differences
    # (gradcheck) must agree as long as no spike flips under the perturbation.
    g = torch.Generator().manual_seed(5)
    x = (torch.rand(8, 2, 3, generator=g, **F64) * 0.5 + 0.1).requires_grad_()
    v0 = (torch.rand(2, 3, generator=g, **F64) * 0.3).requires_grad_()
    beta = torch.tensor([0.8, 0.85, 0.9], **F64, requires_grad=True)

    def f(x, v0, beta):
        S, st = lif_sequence(x, LIFState(v0), LIFParams(beta, None, 1.0, "subtract", True, FastSigmoid()),
                             fused=True)
        return st.v

    S, _ = lif_sequence(x.detach(), LIFState(v0.detach()), LIFParams(beta.detach()), fused=True)
    assert float(S.sum()) > 0  # spikes (and resets) happen
    assert torch.autograd.gradcheck(f, (x, v0, beta), eps=1e-7, atol=1e-6)


@pytest.mark.parametrize("cls", [LIF, ALIF, RecurrentLIF, RecurrentALIF])
def test_modules_fused_equals_plain_parameter_gradients(cls):
    # fused=True picks Numba for feed-forward layers on CPU, tensor ops for recurrent ones
    kw = dict(learn_tau=True, tau_syn_ms=4.0, reset="subtract")
    grads, spikes = [], []
    for fused in (False, True):
        if cls in (RecurrentLIF, RecurrentALIF):
            kw["generator"] = torch.Generator().manual_seed(0)
        layer = cls(6, tau_mem_ms=8.0, fused=fused, **kw).double()
        x = torch.rand(15, 4, 6, generator=torch.Generator().manual_seed(1), **F64) * 0.9
        s, st = layer(x)
        loss = (s * torch.linspace(-1, 1, 6, **F64)).sum() + st.v.pow(2).sum()
        names = [n for n, _ in layer.named_parameters()]
        grads.append(torch.autograd.grad(loss, list(layer.parameters())))
        spikes.append(s.detach())
    assert torch.equal(*spikes)
    assert "log_tau_mem_ms" in names and "log_tau_syn_ms" in names
    for a, b in zip(*grads):
        assert a.abs().sum() > 0
        assert rel_err(a, b) < 1e-6


class ScaledFastSigmoid(FastSigmoid):
    """A user-defined surrogate: the fused kernel must call its own derivative."""

    def derivative(self, h):
        return 0.5 * super().derivative(h)


@pytest.mark.parametrize("backend", BACKENDS)
def test_custom_surrogate_subclass(backend):
    t = _problem(3, adaptive=True, syn=True, rec=False)
    S1, g1 = _run(t, True, "zero", False, ScaledFastSigmoid(), fused=False)
    S2, g2 = _run(t, True, "zero", False, ScaledFastSigmoid(), fused=backend)
    _, g3 = _run(t, True, "zero", False, FastSigmoid(), fused=backend)
    assert torch.equal(S1, S2)
    for a, b in zip(g1, g2):
        assert rel_err(a, b) < 1e-6
    assert max(rel_err(a, b) for a, b in zip(g1, g3)) > 1e-3


def test_fused_lif_dispatch_and_float32():
    x = torch.rand(20, 8, 16) * 0.5
    p = LIFParams(0.9)
    S1, st1 = fused_lif(x, LIFState(torch.zeros(8, 16)), p)
    S2, st2 = lif_sequence(x, LIFState(torch.zeros(8, 16)), p)
    assert torch.equal(S1, S2) and torch.allclose(st1.v, st2.v, atol=1e-6)
    S4, _ = lif_sequence(x, LIFState(torch.zeros(8, 16)), p, fused="torch")
    assert torch.equal(S1, S4)
    with pytest.raises(ValueError, match="fused must be one of"):
        lif_sequence(x, LIFState(torch.zeros(8, 16)), p, fused="cuda")
    S3, st3 = fused_lif(x, ALIFState(torch.zeros(8, 16), torch.zeros(8, 16)), ALIFParams(0.9, 0.95))
    assert isinstance(st3, ALIFState) and S3.sum() <= S1.sum()


def _saved_bytes(fn):
    seen = {}

    def pack(t):
        seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return sum(seen.values())


def test_fused_stores_less_for_backward():
    x = (torch.rand(200, 16, 64) * 0.4).requires_grad_()
    sizes = {}
    for fused in (False, "torch", True):
        layer = ALIF(64, tau_syn_ms=5.0, learn_tau=True, fused=fused)
        sizes[fused] = _saved_bytes(lambda: layer(x)[0].sum())
    assert sizes["torch"] == sizes[True]
    per_step = 16 * 64 * 4
    assert sizes[True] <= 2.2 * 200 * per_step + x.numel() * 0  # h and the synaptic current
    assert sizes[False] > 2 * sizes[True]


# ------------------------------------------------------------------ event-driven linear
@pytest.fixture
def events_always(monkeypatch):
    import neurocircuits.training.bptt as bptt

    monkeypatch.setattr(bptt, "EVENT_MIN_OUT", 1)


@pytest.mark.parametrize("binary", [True, False])
def test_spiking_linear_matches_dense(binary, events_always, compiled):
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(7, 5, 40, generator=g, **F64) < 0.15).double()
    if not binary:
        x = x * torch.randn(7, 5, 40, generator=g, **F64)
    x[0, 0] = 0.0  # an all-silent row
    x.requires_grad_()
    w = torch.randn(9, 40, generator=g, **F64, requires_grad=True)
    b = torch.randn(9, generator=g, **F64, requires_grad=True)
    go = torch.randn(7, 5, 9, generator=g, **F64)
    y1 = spiking_linear(x, w, b, event_driven=True)
    y2 = torch.nn.functional.linear(x, w, b)
    assert torch.allclose(y1, y2, rtol=0, atol=1e-12)
    g1 = torch.autograd.grad((y1 * go).sum(), [x, w, b])
    g2 = torch.autograd.grad((y2 * go).sum(), [x, w, b])
    for a, c in zip(g1, g2):
        assert torch.allclose(a, c, rtol=0, atol=1e-12)


def test_spiking_linear_threads_and_no_input_grad(events_always, compiled):
    g = torch.Generator().manual_seed(1)
    x = (torch.rand(64, 30, generator=g) < 0.1).float()
    layer = SpikingLinear(30, 7, generator=torch.Generator().manual_seed(2))
    before = torch.get_num_threads()
    outs = []
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            layer.zero_grad()
            y = layer(x)
            y.pow(2).sum().backward()
            outs.append((y.detach(), layer.weight.grad.clone(), layer.bias.grad.clone()))
    finally:
        torch.set_num_threads(before)
    for a, c in zip(*outs):
        assert torch.allclose(a, c, atol=1e-5)
    dense = torch.nn.functional.linear(x, layer.weight, layer.bias)
    assert torch.allclose(outs[0][0], dense, atol=1e-5)
    assert x.grad is None
    a = SpikingLinear(30, 7, generator=torch.Generator().manual_seed(3)).weight
    b = SpikingLinear(30, 7, generator=torch.Generator().manual_seed(3)).weight
    assert torch.equal(a, b)


def test_spiking_linear_bad_input():
    layer = SpikingLinear(4, 3)
    with pytest.raises(ValueError, match="n_in = 4"):
        layer(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="NaN or infinite"):
        layer(torch.tensor([[0.0, float("nan"), 1.0, 0.0]]))
    with pytest.raises(TypeError, match="floating-point"):
        layer(torch.zeros(2, 4, dtype=torch.int32))
    with pytest.raises(TypeError, match="dtype"):
        layer(torch.zeros(2, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match=">= 1"):
        SpikingLinear(0, 3)
    with pytest.raises(TypeError, match="Generator"):
        SpikingLinear(3, 3, generator=5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_same_code_on_cuda():
    layer = ALIF(8, tau_syn_ms=3.0, learn_tau=True).double()
    x = torch.rand(12, 4, 8, **F64) * 0.8
    s_cpu, st_cpu = layer(x)
    s_gpu, st_gpu = layer.cuda()(x.cuda())
    assert torch.equal(s_cpu, s_gpu.cpu())
    assert torch.allclose(st_cpu.v, st_gpu.v.cpu(), atol=1e-12)
    lin = SpikingLinear(8, 3).double().cuda()
    assert torch.allclose(lin(x.cuda()), torch.nn.functional.linear(x.cuda(), lin.weight, lin.bias))


def test_fused_kernel_splits_large_layers_over_threads_with_the_same_numbers(compiled):
    from neurocircuits.training import bptt

    g = torch.Generator().manual_seed(4)
    T, B, N = 8, 16, 600  # T * B * N above PARALLEL_MIN_WORK: the rows are split over threads
    assert T * B * N >= bptt.PARALLEL_MIN_WORK
    x = (torch.rand(T, B, N, generator=g) * 0.6).requires_grad_()
    gout = torch.randn(T, B, N, generator=g)
    before = torch.get_num_threads()
    outs = []
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            S, st = lif_sequence(x, LIFState(torch.zeros(B, N)), LIFParams(0.9), fused=True)
            outs.append((S, st.v, torch.autograd.grad((S * gout).sum() + st.v.sum(), x)[0]))
    finally:
        torch.set_num_threads(before)
    assert outs[0][0].sum() > 0
    for a, c in zip(*outs):
        assert torch.equal(a, c)
