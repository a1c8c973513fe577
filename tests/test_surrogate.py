import copy
import io
import math
import pickle

import pytest
import torch

from neurocircuits.neurons.lif import LIF
from neurocircuits.surrogate import (
    SURROGATES,
    ATan,
    FastSigmoid,
    Gaussian,
    Sigmoid,
    SpikeFunction,
    Triangle,
    get_surrogate,
    spike,
)

ALL = [FastSigmoid(10.0), FastSigmoid(3.0), ATan(2.0), ATan(0.7), Triangle(1.0), Triangle(0.3),
       Sigmoid(4.0), Sigmoid(1.5), Gaussian(0.5), Gaussian(0.2)]
IDS = [repr(s) for s in ALL]


def _grid(sg):
    h = torch.linspace(-2.5, 2.5, 401, dtype=torch.float64)
    # keep away from the kinks of the triangle (h = 0, ±w) and |h| at 0
    kinks = torch.tensor([0.0, sg.scale, -sg.scale], dtype=torch.float64)
    keep = (h[:, None] - kinks[None, :]).abs().min(1).values > 1e-3
    return h[keep]


@pytest.mark.parametrize("sg", ALL, ids=IDS)
def test_forward_is_heaviside(sg):
    h = torch.tensor([-1.0, -1e-9, 0.0, 1e-9, 2.0], dtype=torch.float64)
    assert torch.equal(sg(h), torch.tensor([0.0, 0.0, 1.0, 1.0, 1.0], dtype=torch.float64))


@pytest.mark.parametrize("sg", ALL, ids=IDS)
def test_backward_equals_analytic_derivative(sg):
    h = _grid(sg).requires_grad_()
    w = torch.linspace(0.5, 1.5, h.numel(), dtype=torch.float64)
    (g,) = torch.autograd.grad((sg(h) * w).sum(), h)
    assert torch.allclose(g, w * sg.derivative(h.detach()), rtol=0, atol=1e-15)


@pytest.mark.parametrize("sg", ALL, ids=IDS)
def test_analytic_derivative_matches_finite_differences_of_smooth(sg):
    h = _grid(sg)
    eps = 1e-6
    fd = (sg.smooth(h + eps) - sg.smooth(h - eps)) / (2 * eps)
    assert torch.allclose(sg.derivative(h), fd, rtol=1e-6, atol=1e-8)
    # and against autograd through the smooth function
    hh = h.clone().requires_grad_()
    (ag,) = torch.autograd.grad(sg.smooth(hh).sum(), hh)
    assert torch.allclose(sg.derivative(h), ag, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("sg", ALL, ids=IDS)
def test_known_values(sg):
    zero = torch.zeros(1, dtype=torch.float64)
    peak = float(sg.derivative(zero))
    expected = {FastSigmoid: 1.0, ATan: sg.scale / 2, Triangle: 1 / sg.scale, Sigmoid: sg.scale / 4,
                Gaussian: 1 / (sg.scale * math.sqrt(2 * math.pi))}[type(sg)]
    assert peak == pytest.approx(expected, rel=1e-12)
    # unit-area surrogates integrate to 1 (trapezoid on a wide grid)
    if not isinstance(sg, FastSigmoid):
        h = torch.linspace(-400, 400, 800001, dtype=torch.float64)
        area = float(torch.trapezoid(sg.derivative(h), h))
        tol = 5e-3 if isinstance(sg, ATan) else 1e-6  # arctan tails decay like 1/h^2
        assert area == pytest.approx(1.0, abs=tol)


def test_triangle_zero_outside_width():
    sg = Triangle(0.5)
    h = torch.tensor([-0.6, -0.5, 0.5, 0.9], dtype=torch.float64)
    assert torch.equal(sg.derivative(h), torch.zeros(4, dtype=torch.float64))


@pytest.mark.parametrize("sg", ALL, ids=IDS)
def test_layer_near_threshold_gets_nonzero_gradient(sg):
    g = torch.Generator().manual_seed(0)
    layer = LIF(8, beta=0.9, surrogate=sg)
    x = (1.0 + 0.2 * torch.rand(40, 4, 8, generator=g, dtype=torch.float64)).requires_grad_()
    x_in = x * 0.1  # membrane approaches the threshold 1 from below, crossing it now and then
    spikes, _ = layer(x_in)
    assert 0 < float(spikes.detach().mean()) < 1
    (gx,) = torch.autograd.grad(spikes.sum(), x)
    assert torch.isfinite(gx).all()
    assert float(gx.abs().sum()) > 0
    assert float((gx != 0).double().mean()) > 0.5


@pytest.mark.parametrize("sg", ALL, ids=IDS)
def test_picklable_and_copyable(sg):
    assert pickle.loads(pickle.dumps(sg)) == sg
    assert copy.deepcopy(sg) == sg
    layer = LIF(3, surrogate=sg)
    buf = io.BytesIO()
    torch.save(layer, buf)  # whole module: pickles the surrogate inside it
    buf.seek(0)
    loaded = torch.load(buf, weights_only=False)
    assert loaded.surrogate == sg


def test_get_surrogate_and_spike():
    for name, cls in SURROGATES.items():
        assert isinstance(get_surrogate(name), cls)
    assert get_surrogate("atan", 3.0) == ATan(3.0)
    h = torch.tensor([0.3, -0.3], requires_grad=True)
    s = spike(h)
    assert s.tolist() == [1.0, 0.0]
    s.sum().backward()
    assert torch.allclose(h.grad, FastSigmoid().derivative(h.detach()))
    assert SpikeFunction.apply(h.detach(), ATan()).tolist() == [1.0, 0.0]


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_width_rejected(bad):
    for cls in (FastSigmoid, ATan, Triangle, Sigmoid, Gaussian):
        with pytest.raises(ValueError, match="must be"):
            cls(bad)


def test_bad_types_rejected():
    with pytest.raises(TypeError):
        FastSigmoid("wide")
    with pytest.raises(ValueError, match="surrogate must be one of"):
        get_surrogate("relu")
    with pytest.raises(TypeError, match="surrogate must be a Surrogate"):
        LIF(3, surrogate=lambda h: h)
    with pytest.raises(TypeError, match="floating-point"):
        spike(torch.tensor([1, 2]))
