"""Pair-based spike-timing-dependent plasticity with synaptic traces (run inside the compiled
simulation loop of :mod:`neurocircuits.sim.engine`).

Each neuron carries a presynaptic trace ``x_pre`` and a postsynaptic trace ``x_post``
(dimensionless), decaying with ``tau_plus_ms`` / ``tau_minus_ms`` and incremented by 1 at each
of its spikes (all-to-all pairing; Morrison, Diesmann & Gerstner 2008, Biol. Cybern. 98:459,
doi:10.1007/s00422-008-0233-1). At a presynaptic spike the synapse is depressed, at a
postsynaptic spike potentiated:

additive (Song, Miller & Abbott 2000, Nat. Neurosci. 3:919, doi:10.1038/78829)::

    pre spike:  w <- w - A_minus x_post
    post spike: w <- w + A_plus  x_pre

multiplicative (van Rossum, Bi & Turrigiano 2000, J. Neurosci. 20:8812)::

    pre spike:  w <- w - A_minus w x_post
    post spike: w <- w + A_plus (w_max - w) x_pre

then ``w`` is clipped to ``[w_min, w_max]``. For one pre/post pair at lag ``s = t_post - t_pre``
the change is ``A_plus e^{-s/tau_plus}`` (s > 0) or ``-A_minus e^{s/tau_minus}`` (s < 0)
(additive case; :func:`pair_dw`). Traces are read before the spikes of the current step are
added, so a pre and a post spike in the same step do not interact. Weight updates happen before
the spike is delivered (NEST's convention).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurocircuits.validation import check_float

#: Rule kinds and the columns of the rule table read by the engines.
RULE_STDP_ADD, RULE_STDP_MULT, RULE_VOGELS = 0, 1, 2
R_KIND, R_DPRE, R_DPOST, R_APRE, R_APOST, R_ALPHA, R_WMIN, R_WMAX = range(8)
N_RCOLS = 8


@dataclass(frozen=True)
class STDP:
    """Pair STDP; weights in the projection's units (mV or units of g_L)."""

    tau_plus_ms: float = 20.0
    tau_minus_ms: float = 20.0
    A_plus: float = 0.01
    A_minus: float = 0.012
    w_min: float = 0.0
    w_max: float = 1.0
    multiplicative: bool = False

    def __post_init__(self):
        check_float("tau_plus_ms", self.tau_plus_ms, positive=True)
        check_float("tau_minus_ms", self.tau_minus_ms, positive=True)
        check_float("A_plus", self.A_plus, min_value=0.0)
        check_float("A_minus", self.A_minus, min_value=0.0)
        check_float("w_min", self.w_min)
        check_float("w_max", self.w_max)
        if self.w_max < self.w_min:
            raise ValueError(f"w_max ({self.w_max}) must be >= w_min ({self.w_min})")

    def table_row(self, dt_ms: float) -> np.ndarray:
        row = np.zeros(N_RCOLS)
        row[R_KIND] = RULE_STDP_MULT if self.multiplicative else RULE_STDP_ADD
        row[R_DPRE] = math.exp(-dt_ms / self.tau_plus_ms)    # decay of x_pre
        row[R_DPOST] = math.exp(-dt_ms / self.tau_minus_ms)  # decay of x_post
        row[R_APRE] = self.A_minus
        row[R_APOST] = self.A_plus
        row[R_WMIN], row[R_WMAX] = self.w_min, self.w_max
        return row

    def pair_dw(self, lag_ms):
        """Weight change of the additive rule for one pair at ``lag = t_post - t_pre`` (ms)."""
        s = np.asarray(lag_ms, dtype=np.float64)
        return np.where(s > 0, self.A_plus * np.exp(-s / self.tau_plus_ms),
                        np.where(s < 0, -self.A_minus * np.exp(s / self.tau_minus_ms), 0.0))
