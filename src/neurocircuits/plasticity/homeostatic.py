"""Homeostatic synaptic scaling, run inside the compiled simulation loop of
:mod:`neurocircuits.sim.engine`.

Turrigiano, Leslie, Desai, Rutherford & Nelson (1998), "Activity-dependent scaling of quantal
amplitude in neocortical neurons", Nature 391:892, doi:10.1038/36103, found that chronic changes
of activity scale all excitatory synapses of a neuron by a common factor. In the form of
van Rossum, Bi & Turrigiano (2000), J. Neurosci. 20:8812,
doi:10.1523/JNEUROSCI.20-23-08812.2000, every synapse onto neuron ``i`` follows::

    dw/dt = gamma w (rho_target - rho_i)          [w in the projection's units, t in s]
    tau_rho drho_i/dt = -rho_i + sum_k delta(t - t_i^k)  (rho_i in Hz)

with ``gamma`` in 1/(Hz s) and ``rho_i`` a slow low-pass estimate of the postsynaptic rate.
Discretisation (step ``dt``): ``rho_i <- rho_i e^{-dt/tau_rho}`` each step, plus
``(1 - e^{-dt/tau_rho}) / dt`` (in Hz) at each spike, so the estimate of a stationary train of
rate ``r`` has mean exactly ``r``. Every ``every_steps = k`` steps the weights take the exact
solution of the weight equation over ``k dt`` with ``rho`` frozen::

    w <- clip(w exp(gamma k dt (rho_target - rho_i)), w_min, w_max)

All synapses onto one neuron get the same factor, so their ratios are kept (until a bound
clips). With ``inhibitory=True`` the sign of the exponent is flipped (inhibitory synapses grow
when the neuron fires above target), which is the homeostatic direction for inhibition.
The rate estimates start at ``rho_target`` (no start-up transient).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurocircuits.validation import check_float, check_int

#: Columns of the engines' table of scaling rules.
H_DECAY, H_INC, H_GAIN, H_TARGET, H_WMIN, H_WMAX, H_EVERY = range(7)
N_HCOLS = 7


@dataclass(frozen=True)
class SynapticScaling:
    """Multiplicative homeostatic scaling of the synapses of a projection.

    target_rate_hz: rho_target (Hz); tau_rate_ms: time constant of the rate estimate (ms);
    gamma_per_hz_s: gamma in 1/(Hz s); every_steps: the weights are scaled every that many
    steps; w_min, w_max: bounds (projection units); inhibitory: flip the direction."""

    target_rate_hz: float = 5.0
    tau_rate_ms: float = 1000.0
    gamma_per_hz_s: float = 0.05
    every_steps: int = 10
    w_min: float = 0.0
    w_max: float = 1e3
    inhibitory: bool = False

    def __post_init__(self):
        check_float("target_rate_hz", self.target_rate_hz, min_value=0.0)
        check_float("tau_rate_ms", self.tau_rate_ms, positive=True)
        check_float("gamma_per_hz_s", self.gamma_per_hz_s, positive=True)
        check_int("every_steps", self.every_steps, min_value=1)
        check_float("w_min", self.w_min)
        check_float("w_max", self.w_max)
        if self.w_max < self.w_min:
            raise ValueError(f"w_max ({self.w_max}) must be >= w_min ({self.w_min})")
        if not isinstance(self.inhibitory, bool):
            raise TypeError(f"inhibitory must be a bool, got {self.inhibitory!r}")

    def table_row(self, dt_ms: float) -> np.ndarray:
        if self.tau_rate_ms <= dt_ms:
            raise ValueError(f"tau_rate_ms ({self.tau_rate_ms}) must exceed dt_ms ({dt_ms})")
        d = math.exp(-dt_ms / self.tau_rate_ms)
        sign = -1.0 if self.inhibitory else 1.0
        row = np.zeros(N_HCOLS)
        row[H_DECAY] = d
        row[H_INC] = (1.0 - d) / (dt_ms * 1e-3)
        row[H_GAIN] = sign * self.gamma_per_hz_s * self.every_steps * dt_ms * 1e-3
        row[H_TARGET] = self.target_rate_hz
        row[H_WMIN], row[H_WMAX] = self.w_min, self.w_max
        row[H_EVERY] = self.every_steps
        return row
