"""Inhibitory spike-timing-dependent plasticity of Vogels, Sprekeler, Zenke, Clopath & Gerstner
(2011), "Inhibitory plasticity balances excitation and inhibition in sensory pathways and memory
networks", Science 334:1569, doi:10.1126/science.1211095.

Symmetric rule on inhibitory-to-excitatory synapses, with traces ``x_pre``, ``x_post``
(dimensionless, decay ``tau_ms``, +1 per spike)::

    presynaptic (inhibitory) spike:  w <- w + eta (x_post - alpha)
    postsynaptic (excitatory) spike: w <- w + eta x_pre
    alpha = 2 rho0 tau

clipped to ``[w_min, w_max]``. Near-coincident pre/post spikes strengthen inhibition, lone
presynaptic spikes weaken it; the fixed point of the postsynaptic rate is ``rho0``
(``<x_post> = rho0 tau`` for Poisson firing, so ``<dw>`` per pre spike vanishes when the pair
term ``rho0 tau`` (at pre spikes) plus the symmetric post term balance ``alpha``). Weights are
conductances (units of g_L) onto the ``"inh"`` receptor of a :class:`~neurocircuits.sim.models.LIFCond`
population, or positive magnitudes in general. Runs inside the compiled loop of
:mod:`neurocircuits.sim.engine` (same trace conventions as :mod:`neurocircuits.plasticity.stdp`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurocircuits.plasticity.stdp import (N_RCOLS, R_ALPHA, R_APOST, R_APRE, R_DPOST, R_DPRE, R_KIND,
                                           R_WMAX, R_WMIN, RULE_VOGELS)
from neurocircuits.validation import check_float


@dataclass(frozen=True)
class InhibitorySTDP:
    """Vogels et al. (2011) rule; ``eta`` in weight units, ``rho0_hz`` target rate."""

    eta: float = 1e-3
    rho0_hz: float = 3.0
    tau_ms: float = 20.0
    w_min: float = 0.0
    w_max: float = 1e3

    def __post_init__(self):
        check_float("eta", self.eta, min_value=0.0)
        check_float("rho0_hz", self.rho0_hz, min_value=0.0)
        check_float("tau_ms", self.tau_ms, positive=True)
        check_float("w_min", self.w_min)
        check_float("w_max", self.w_max)
        if self.w_max < self.w_min:
            raise ValueError(f"w_max ({self.w_max}) must be >= w_min ({self.w_min})")

    @property
    def alpha(self) -> float:
        """alpha = 2 rho0 tau (dimensionless: rate in 1/ms times ms)."""
        return 2.0 * self.rho0_hz * 1e-3 * self.tau_ms

    def table_row(self, dt_ms: float) -> np.ndarray:
        row = np.zeros(N_RCOLS)
        row[R_KIND] = RULE_VOGELS
        d = math.exp(-dt_ms / self.tau_ms)
        row[R_DPRE] = row[R_DPOST] = d
        row[R_APRE] = row[R_APOST] = self.eta
        row[R_ALPHA] = self.alpha
        row[R_WMIN], row[R_WMAX] = self.w_min, self.w_max
        return row
