"""Spike nonlinearity with surrogate gradients.

A spiking neuron emits ``s = H(h)`` where ``h = v - θ`` is the distance of the membrane
potential from threshold (same units as ``v``, dimensionless in the LIF models of this
package, whose threshold is 1) and ``H`` is the Heaviside step (``H(0) = 1``). ``H`` has zero
derivative almost everywhere, so gradient-based training replaces ``dH/dh`` in the backward
pass by the derivative ``σ'(h)`` of a smooth function ``σ`` (Neftci, Mostafa & Zenke 2019,
"Surrogate gradient learning in spiking neural networks", arXiv:1901.09948). The forward pass
stays exactly binary.

Each surrogate here is a plain class (no lambdas or closures, so it pickles and travels inside
a module's ``torch.save``) with

- ``smooth(h)``: the smooth function ``σ`` whose derivative is used,
- ``derivative(h)``: ``σ'(h)`` in closed form,
- ``__call__(h)``: ``H(h)`` forward, ``σ'(h) · grad`` backward, through
  :class:`SpikeFunction` (a ``torch.autograd.Function``).

=====================  ===========================================  ==========================
class                  σ'(h)                                          σ(h)
=====================  ===========================================  ==========================
``FastSigmoid(k)``     1 / (1 + k|h|)²   (SuperSpike, peak 1)          h / (1 + k|h|)
``ATan(alpha)``        (α/2) / (1 + (π α h / 2)²)                    ½ + arctan(π α h / 2) / π
``Triangle(width)``    max(0, 1 - |h|/w) / w   (unit area)             piecewise quadratic ramp
``Sigmoid(slope)``     k · sig(k h) · (1 - sig(k h))                  sig(k h)
``Gaussian(sigma)``    exp(-h² / 2σ²) / (σ √(2π))   (unit area)        Φ(h / σ)
=====================  ===========================================  ==========================

References: FastSigmoid is SuperSpike's surrogate (Zenke & Ganguli 2018, Neural Computation
30:1514, arXiv:1705.11146); ATan as in Fang et al. 2021 (ICCV, arXiv:2007.05785); the triangle
("piecewise linear") surrogate of Esser et al. 2016 (PNAS, arXiv:1603.08270) and Bellec et al.
2018 (arXiv:1803.09574); the Gaussian of Yin, Corradi & Bohté 2021 (arXiv:2103.12593).
"""

from __future__ import annotations

import math

import torch

from neurocircuits.validation import check_float, check_tensor

__all__ = [
    "Surrogate",
    "FastSigmoid",
    "SuperSpike",
    "ATan",
    "Triangle",
    "Sigmoid",
    "Gaussian",
    "SpikeFunction",
    "spike",
    "get_surrogate",
    "SURROGATES",
]


class Surrogate:
    """Base class: ``derivative`` and ``smooth`` are closed forms; calling the object applies
    the Heaviside step with this surrogate derivative in the backward pass."""

    #: name of the width/slope parameter, for ``repr`` and ``get_surrogate``
    param_name = "scale"

    def __init__(self, scale: float):
        self.scale = check_float(f"{type(self).__name__} {self.param_name}", scale, positive=True)

    def derivative(self, h: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def smooth(self, h: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, h: torch.Tensor) -> torch.Tensor:
        return SpikeFunction.apply(h, self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.param_name}={self.scale:g})"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.scale == other.scale

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.scale))


class FastSigmoid(Surrogate):
    """SuperSpike surrogate (Zenke & Ganguli 2018): σ'(h) = 1 / (1 + k|h|)², the derivative of
    the fast sigmoid σ(h) = h / (1 + k|h|). Peak 1 at threshold; ``slope`` k (1 / units of h)
    sets the width (half maximum at |h| = (√2 - 1)/k)."""

    param_name = "slope"

    def __init__(self, slope: float = 10.0):
        super().__init__(slope)

    @property
    def slope(self) -> float:
        return self.scale

    def derivative(self, h):
        return 1.0 / (1.0 + self.scale * h.abs()) ** 2

    def smooth(self, h):
        return h / (1.0 + self.scale * h.abs())


SuperSpike = FastSigmoid


class ATan(Surrogate):
    """Arctangent surrogate (Fang et al. 2021): σ(h) = ½ + arctan(π α h / 2) / π,
    σ'(h) = (α / 2) / (1 + (π α h / 2)²). Peak α/2, unit area."""

    param_name = "alpha"

    def __init__(self, alpha: float = 2.0):
        super().__init__(alpha)

    @property
    def alpha(self) -> float:
        return self.scale

    def derivative(self, h):
        a = self.scale
        return (a / 2.0) / (1.0 + (math.pi / 2.0 * a * h) ** 2)

    def smooth(self, h):
        return 0.5 + torch.atan(math.pi / 2.0 * self.scale * h) / math.pi


class Triangle(Surrogate):
    """Triangle (piecewise-linear) surrogate: σ'(h) = max(0, 1 - |h|/w) / w, unit area, zero
    for |h| >= w. Its σ is the piecewise-quadratic ramp from 0 (h <= -w) to 1 (h >= w).
    Note: the derivative is exactly zero farther than ``width`` from threshold."""

    param_name = "width"

    def __init__(self, width: float = 1.0):
        super().__init__(width)

    @property
    def width(self) -> float:
        return self.scale

    def derivative(self, h):
        w = self.scale
        return torch.clamp(1.0 - h.abs() / w, min=0.0) / w

    def smooth(self, h):
        w = self.scale
        c = torch.clamp(h, -w, w)
        # integral of the triangle from -w to c
        left = (c + w) ** 2 / (2 * w * w)
        right = 1.0 - (w - c) ** 2 / (2 * w * w)
        return torch.where(c < 0, left, right)


class Sigmoid(Surrogate):
    """Logistic surrogate: σ(h) = 1 / (1 + exp(-k h)), σ'(h) = k σ(h)(1 - σ(h)). Peak k/4."""

    param_name = "slope"

    def __init__(self, slope: float = 4.0):
        super().__init__(slope)

    @property
    def slope(self) -> float:
        return self.scale

    def derivative(self, h):
        s = torch.sigmoid(self.scale * h)
        return self.scale * s * (1.0 - s)

    def smooth(self, h):
        return torch.sigmoid(self.scale * h)


class Gaussian(Surrogate):
    """Gaussian surrogate: σ'(h) = exp(-h² / (2 s²)) / (s √(2π)) (unit area), the derivative of
    the normal CDF Φ(h / s) = ½ (1 + erf(h / (s √2)))."""

    param_name = "sigma"

    def __init__(self, sigma: float = 0.5):
        super().__init__(sigma)

    @property
    def sigma(self) -> float:
        return self.scale

    def derivative(self, h):
        s = self.scale
        return torch.exp(-0.5 * (h / s) ** 2) / (s * math.sqrt(2.0 * math.pi))

    def smooth(self, h):
        return 0.5 * (1.0 + torch.erf(h / (self.scale * math.sqrt(2.0))))


class SpikeFunction(torch.autograd.Function):
    """``H(h)`` forward (1 where h >= 0, else 0, in h's dtype); ``σ'(h) · grad`` backward."""

    @staticmethod
    def forward(ctx, h, surrogate):
        ctx.save_for_backward(h)
        ctx.surrogate = surrogate
        return (h >= 0).to(h.dtype)

    @staticmethod
    def backward(ctx, grad):
        (h,) = ctx.saved_tensors
        return grad * ctx.surrogate.derivative(h), None


def spike(h: torch.Tensor, surrogate: Surrogate | None = None) -> torch.Tensor:
    """Heaviside spike of ``h = v - threshold`` with a surrogate gradient (default FastSigmoid)."""
    check_tensor("h", h, dtype_kind="float", finite=False)
    sg = FastSigmoid() if surrogate is None else check_surrogate(surrogate)
    return sg(h)


SURROGATES = {
    "fast_sigmoid": FastSigmoid,
    "superspike": FastSigmoid,
    "atan": ATan,
    "triangle": Triangle,
    "sigmoid": Sigmoid,
    "gaussian": Gaussian,
}


def get_surrogate(name: str, scale: float | None = None) -> Surrogate:
    """A surrogate by name (one of :data:`SURROGATES`), with its default or a given width/slope."""
    if not isinstance(name, str) or name.lower() not in SURROGATES:
        raise ValueError(f"surrogate must be one of {sorted(SURROGATES)}, got {name!r}")
    cls = SURROGATES[name.lower()]
    return cls() if scale is None else cls(scale)


def check_surrogate(surrogate) -> Surrogate:
    """Accept a :class:`Surrogate` instance or a name from :data:`SURROGATES`."""
    if isinstance(surrogate, str):
        return get_surrogate(surrogate)
    if not isinstance(surrogate, Surrogate):
        raise TypeError(f"surrogate must be a Surrogate instance or one of {sorted(SURROGATES)}, "
                        f"got {surrogate!r} ({type(surrogate).__name__})")
    return surrogate
