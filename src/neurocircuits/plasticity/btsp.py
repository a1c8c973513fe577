"""Weight-dependent behavioral-timescale synaptic plasticity (BTSP).

Milstein, Li, Bittner, Grienberger, Soltesz, Magee & Romani (2021), "Bidirectional synaptic
plasticity rapidly modifies hippocampal representations", eLife 10:e73046.

A dendritic plateau potential in a CA1 neuron changes the weights of inputs that were active
seconds before or after it. Each synapse carries a slow presynaptic *eligibility trace* ET, the
neuron a slower-decaying *instructive signal* IS triggered by plateaus; their product is the
signal that drives plasticity, and whether a synapse potentiates or depresses depends on its
current weight:

.. math::

    \\tau_{ET} \\, dET_i/dt = -ET_i + r_i(t)                      (presynaptic rate, normalised)
    \\tau_{IS} \\, dIS/dt   = -IS + p(t)                          (plateau indicator p in {0, 1})
    dW_i/dt = (W_{max} - W_i) \\, k_+ \\, q_+(s_i) - W_i \\, k_- \\, q_-(s_i),   s_i = ET_i \\cdot IS

with :math:`q_\\pm(s)` sigmoids rescaled to ``q(0) = 0, q(1) = 1``. Weak synapses (W far below
the fixed point) potentiate; strong synapses depress. Time constants from the paper:
``tau_ET = 1.66 s``, ``tau_IS = 0.44 s``. The sigmoid thresholds and slopes, the rates k± and
``W_max`` here are our own choice within the published form (the paper fits them to data): the
depression sigmoid has the lower threshold, so synapses with a weak, distant overlap with a
plateau depress while those close to it potentiate.

Within one time step the traces are held constant and the weight ODE, which is then linear in W,
is integrated exactly: ``W <- W* + (W - W*) exp(-(k+ q+ + k- q-) dt)`` with
``W* = W_max k+ q+ / (k+ q+ + k- q-)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurocircuits.validation import check_array, check_float


@dataclass(frozen=True)
class BTSPParams:
    """Parameters of the weight-dependent BTSP rule (times in seconds, rates in 1/s)."""

    tau_et_s: float = 1.66
    tau_is_s: float = 0.44
    w_max: float = 5.0
    k_plus_per_s: float = 4.0
    k_minus_per_s: float = 1.0
    q_plus_threshold: float = 0.35
    q_plus_slope: float = 15.0
    q_minus_threshold: float = 0.05
    q_minus_slope: float = 40.0

    def __post_init__(self) -> None:
        for name in ("tau_et_s", "tau_is_s", "w_max", "k_plus_per_s", "k_minus_per_s",
                     "q_plus_slope", "q_minus_slope"):
            check_float(name, getattr(self, name), positive=True)
        for name in ("q_plus_threshold", "q_minus_threshold"):
            check_float(name, getattr(self, name), min_value=0.0, max_value=1.0)


def scaled_sigmoid(s: np.ndarray, threshold: float, slope: float) -> np.ndarray:
    """Sigmoid of ``slope * (s - threshold)`` rescaled so that ``q(0) = 0`` and ``q(1) = 1``."""
    lo = 1.0 / (1.0 + math.exp(slope * threshold))
    hi = 1.0 / (1.0 + math.exp(-slope * (1.0 - threshold)))
    q = 1.0 / (1.0 + np.exp(-slope * (np.asarray(s, dtype=float) - threshold)))
    return np.clip((q - lo) / (hi - lo), 0.0, 1.0)


def btsp_step(w: np.ndarray, signal: np.ndarray, dt_s: float, p: BTSPParams) -> np.ndarray:
    """Advance weights ``w`` by ``dt_s`` seconds under plasticity signal ``signal = ET * IS``
    (held constant over the step; integrated exactly)."""
    qp = p.k_plus_per_s * scaled_sigmoid(signal, p.q_plus_threshold, p.q_plus_slope)
    qm = p.k_minus_per_s * scaled_sigmoid(signal, p.q_minus_threshold, p.q_minus_slope)
    rate = qp + qm
    w_star = np.divide(p.w_max * qp, rate, out=np.zeros_like(rate), where=rate > 0)
    return w_star + (w - w_star) * np.exp(-rate * dt_s)


def exponential_trace(x: np.ndarray, dt_s: float, tau_s: float, x0: np.ndarray | float = 0.0) -> np.ndarray:
    """Low-pass filter ``tau dy/dt = -y + x`` along axis 0 of ``x`` ([T, ...]), exact for input
    held constant over each step."""
    x = check_array("x", x)
    check_float("dt_s", dt_s, positive=True)
    check_float("tau_s", tau_s, positive=True)
    decay = math.exp(-dt_s / tau_s)
    y = np.empty_like(x, dtype=float)
    prev = np.broadcast_to(np.asarray(x0, dtype=float), x.shape[1:]).copy()
    for t in range(x.shape[0]):
        prev = x[t] + (prev - x[t]) * decay
        y[t] = prev
    return y


def run_lap(w: np.ndarray, rates: np.ndarray, plateau: np.ndarray, dt_s: float, p: BTSPParams,
            et0: np.ndarray | None = None, is0: float = 0.0, et_scale: float = 1.0, is_scale: float = 1.0):
    """Run BTSP over one traversal.

    rates: ``[T, N]`` presynaptic rates normalised to peak 1; plateau: ``[T]`` 0/1 indicator.
    The sigmoids read ``(ET / et_scale) * (IS / is_scale)``: pass the peak values the traces
    reach in the protocol (e.g. ``is_scale = 1 - exp(-plateau_s / tau_is_s)``) so that the
    signal lies in [0, 1]. Returns the new weights and the final (ET, IS), so that consecutive
    laps can be chained.
    """
    rates = check_array("rates", rates, ndim=2)
    plateau = check_array("plateau", plateau, ndim=1)
    check_float("dt_s", dt_s, positive=True)
    if plateau.shape[0] != rates.shape[0]:
        raise ValueError(f"plateau has {plateau.shape[0]} steps but rates has {rates.shape[0]}")
    w = check_array("w", w, ndim=1).astype(float)
    if w.shape[0] != rates.shape[1]:
        raise ValueError(f"w has {w.shape[0]} synapses but rates has {rates.shape[1]} inputs")
    if np.any(w < 0) or np.any(w > p.w_max):
        raise ValueError(f"weights must lie in [0, w_max = {p.w_max}]")
    et = exponential_trace(rates, dt_s, p.tau_et_s, 0.0 if et0 is None else et0)
    is_ = exponential_trace(plateau[:, None], dt_s, p.tau_is_s, is0)[:, 0]
    check_float("et_scale", et_scale, positive=True)
    check_float("is_scale", is_scale, positive=True)
    et_n = np.minimum(et / et_scale, 1.0)
    is_n = np.minimum(is_ / is_scale, 1.0)
    for t in range(rates.shape[0]):
        if is_n[t] > 0:
            w = btsp_step(w, et_n[t] * is_n[t], dt_s, p)
    return w, et[-1], float(is_[-1])
