"""A spiking CA3 content-addressable memory (CAM).

In the spirit of Casanueva-Morato, Ayuso-Martinez, Dominguez-Morales, Jimenez-Fernandez &
Jimenez-Moreno (2022), "Bio-inspired computational memory model of the Hippocampus: an approach
to a neuromorphic spike-based Content-Addressable Memory" (arXiv:2310.05868): a memory is a
pair (cue, content). ``n_cues`` cue neurons (one per address) and ``n_content`` content neurons
(one per content bit) are linked both ways by plastic synapses; a lateral-inhibition
interneuron makes the cue layer winner-take-all; a learning gate switches plasticity on only
while a memory is being stored. The circuit below is our own design built from that description.

Neurons (dimensionless membrane, threshold 1, reset to 0, refractory ``t_ref_ms``):

.. math::

    \\tau_m \\, dv/dt = -v + I_{syn} - I_{inh}, \\qquad \\tau_s \\, dI_{syn}/dt = -I_{syn}

with a presynaptic spike adding ``psp_gain * w`` to ``I_syn`` of its targets; ``psp_gain`` is
set so that ``w = 1`` gives a PSP peaking exactly at threshold. Integration is exact for the
linear subthreshold dynamics (exponential propagators over ``dt_ms``).

Plasticity (only while the learning gate is open): symmetric spike-timing-dependent
plasticity, as measured at CA3 recurrent synapses (Mishra et al. 2016, Nat. Commun. 7:11552),
with traces ``x`` (pre) and ``y`` (post) of time constant ``tau_stdp_ms``:

- on a post spike: ``w += eta_plus * (w_max - w) * x_pre`` (potentiation, either order);
- on a pre spike:  ``w += eta_plus * (w_max - w) * y_post``;
- on any spike, synapses of the spiking neuron whose partner is silent depress
  heterosynaptically, ``w -= eta_minus * w`` (pre spike: all outgoing; post spike: all incoming),
  which is what erases an old association when a cue is stored again with new content.

While storing (gate open) the transmission between the layers is suppressed, as acetylcholine
suppresses recurrent CA3 transmission during encoding (Hasselmo 1999, Trends Cogn. Sci.
3:351). Recall (gate closed): stimulating a cue makes its content neurons fire (cue → content); a
fragment of a content makes the matching cue win the race to threshold (content → cue), and
the cue then completes the content.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurocircuits.validation import check_float, check_int


@dataclass(frozen=True)
class CAMParams:
    dt_ms: float = 0.1
    tau_m_ms: float = 10.0
    tau_s_ms: float = 2.0
    t_ref_ms: float = 2.0
    tau_stdp_ms: float = 10.0
    eta_plus: float = 0.5
    eta_minus: float = 0.4
    w_max_cue_to_content: float = 1.6  # one cue spike drives its content well above threshold
    w_max_content_to_cue: float = 0.9  # a few content spikes together drive the cue
    inhibition: float = 5.0  # current the interneuron injects into every cue per cue spike
    inhibition_delay_ms: float = 0.5

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            check_float(name, value, positive=True)
        if self.dt_ms >= self.tau_s_ms:
            raise ValueError(f"dt_ms = {self.dt_ms} must be smaller than tau_s_ms = {self.tau_s_ms}")


def _psp_gain(tau_m: float, tau_s: float) -> float:
    """Current jump that makes a single PSP peak at exactly 1 (the threshold)."""
    t_peak = math.log(tau_m / tau_s) * tau_m * tau_s / (tau_m - tau_s)
    peak = tau_s / (tau_m - tau_s) * (math.exp(-t_peak / tau_m) - math.exp(-t_peak / tau_s))
    return 1.0 / peak


class SpikingCAM:
    """Cue and content layers of LIF neurons with plastic synapses both ways.

    ``store(cue, content)`` writes a memory, ``recall_from_cue(cue)`` and
    ``recall_from_fragment(bits)`` read one back (returning the set of content neurons that
    fired, as a boolean vector). Weights are ``w_cue_content [n_cues, n_content]`` and
    ``w_content_cue [n_content, n_cues]``.
    """

    def __init__(self, n_cues: int, n_content: int, params: CAMParams | None = None):
        self.n_cues = check_int("n_cues", n_cues, min_value=1)
        self.n_content = check_int("n_content", n_content, min_value=1)
        self.p = params or CAMParams()
        self.w_cue_content = np.zeros((n_cues, n_content))
        self.w_content_cue = np.zeros((n_content, n_cues))
        self._gain = _psp_gain(self.p.tau_m_ms, self.p.tau_s_ms)

    # -- simulation --------------------------------------------------------------------------
    def _simulate(self, cue_drive: dict[int, list[float]], content_drive: dict[int, list[float]],
                  duration_ms: float, learn: bool):
        """Run the circuit. ``*_drive`` map neuron -> times (ms) of forced spikes (external
        stimulation). Returns the spike times of each cue and content neuron."""
        p = self.p
        n_steps = int(round(duration_ms / p.dt_ms))
        n = self.n_cues + self.n_content
        cue = slice(0, self.n_cues)
        con = slice(self.n_cues, n)
        v = np.zeros(n)
        i_syn = np.zeros(n)
        i_inh = np.zeros(self.n_cues)
        refractory = np.zeros(n)
        x = np.zeros(n)  # STDP traces of every neuron (it is pre for some synapses, post for others)
        dm, ds = math.exp(-p.dt_ms / p.tau_m_ms), math.exp(-p.dt_ms / p.tau_s_ms)
        dx = math.exp(-p.dt_ms / p.tau_stdp_ms)
        # exact propagator of (v, I) over one step for the linear subthreshold dynamics
        c_vi = p.tau_s_ms / (p.tau_m_ms - p.tau_s_ms) * (dm - ds)
        forced = np.zeros((n_steps, n), dtype=bool)
        for offset, drive in ((0, cue_drive), (self.n_cues, content_drive)):
            for k, times in drive.items():
                for t in times:
                    step = int(round(t / p.dt_ms))
                    if 0 <= step < n_steps:
                        forced[step, offset + k] = True
        delay = max(1, int(round(p.inhibition_delay_ms / p.dt_ms)))
        inh_queue = np.zeros(n_steps + delay)
        spikes = [[] for _ in range(n)]
        for step in range(n_steps):
            v = v * dm + i_syn * c_vi
            v[cue] -= i_inh * c_vi
            i_syn *= ds
            i_inh = i_inh * ds + inh_queue[step]
            refractory = np.maximum(refractory - p.dt_ms, 0.0)
            fired = ((v >= 1.0) & (refractory == 0)) | forced[step]
            if not fired.any():
                x *= dx
                continue
            v[fired] = 0.0
            refractory[fired] = p.t_ref_ms
            for k in np.flatnonzero(fired):
                spikes[k].append(step * p.dt_ms)
            f_cue, f_con = fired[cue], fired[con]
            # Transmission between the layers only when the gate is closed (recall). While storing,
            # it is suppressed, as acetylcholine suppresses recurrent CA3 transmission during
            # encoding (Hasselmo 1999), so that old associations cannot re-potentiate themselves.
            if not learn:
                i_syn[con] += self._gain * (f_cue @ self.w_cue_content)
                i_syn[cue] += self._gain * (f_con @ self.w_content_cue)
            if f_cue.any():
                inh_queue[step + delay] += p.inhibition * f_cue.sum()
            x *= dx
            if learn:
                self._plasticity(f_cue, f_con, x[cue], x[con])
            x[fired] += 1.0
        return spikes[: self.n_cues], spikes[self.n_cues :]

    def _plasticity(self, f_cue, f_con, x_cue, x_con):
        p = self.p
        for w, w_max, f_pre, f_post, x_pre, x_post in (
            (self.w_cue_content, p.w_max_cue_to_content, f_cue, f_con, x_cue, x_con),
            (self.w_content_cue, p.w_max_content_to_cue, f_con, f_cue, x_con, x_cue),
        ):
            pre, post = np.flatnonzero(f_pre), np.flatnonzero(f_post)
            if post.size:  # post spikes: potentiate from recent pre activity, depress silent inputs
                w[:, post] += p.eta_plus * (w_max - w[:, post]) * x_pre[:, None]
                w[:, post] -= p.eta_minus * w[:, post] * (x_pre[:, None] < 0.05)
            if pre.size:  # pre spikes: potentiate onto recently active posts, depress silent ones
                w[pre, :] += p.eta_plus * (w_max - w[pre, :]) * x_post[None, :]
                w[pre, :] -= p.eta_minus * w[pre, :] * (x_post[None, :] < 0.05)

    # -- memory operations -------------------------------------------------------------------
    def _check_cue(self, cue) -> int:
        return check_int("cue", cue, min_value=0, max_value=self.n_cues - 1)

    def _check_bits(self, bits, name="content") -> np.ndarray:
        b = np.asarray(bits)
        if b.shape != (self.n_content,) or b.dtype != bool:
            raise ValueError(f"{name} must be a boolean vector of length {self.n_content}, "
                             f"got shape {b.shape} and dtype {b.dtype}")
        return b

    def store(self, cue: int, content, repetitions: int = 5, period_ms: float = 8.0) -> None:
        """Write ``content`` (bool[n_content]) at address ``cue``: cue and content neurons are
        stimulated together, in bursts of ``repetitions`` spikes, with the learning gate open."""
        cue = self._check_cue(cue)
        content = self._check_bits(content)
        if not content.any():
            raise ValueError("content must have at least one active bit")
        check_int("repetitions", repetitions, min_value=1)
        times = [1.0 + r * period_ms for r in range(repetitions)]
        # content a little after the cue: symmetric STDP potentiates both directions
        self._simulate({cue: times}, {int(k): [t + 1.0 for t in times] for k in np.flatnonzero(content)},
                       duration_ms=times[-1] + 15.0, learn=True)

    def recall_from_cue(self, cue: int, window_ms: float = 15.0) -> np.ndarray:
        cue = self._check_cue(cue)
        _, con = self._simulate({cue: [1.0]}, {}, duration_ms=window_ms, learn=False)
        return np.array([len(s) > 0 for s in con])

    def recall_from_fragment(self, fragment, window_ms: float = 20.0) -> np.ndarray:
        """Stimulate the content neurons of ``fragment`` once; return every content neuron that
        fired (the fragment itself plus what the winning cue completed)."""
        fragment = self._check_bits(fragment, "fragment")
        if not fragment.any():
            raise ValueError("fragment must have at least one active bit")
        _, con = self._simulate({}, {int(k): [1.0] for k in np.flatnonzero(fragment)},
                                duration_ms=window_ms, learn=False)
        return np.array([len(s) > 0 for s in con])

    def cue_winners(self, fragment, window_ms: float = 20.0) -> list[int]:
        """Which cue neurons fire for a fragment (lateral inhibition should leave one)."""
        fragment = self._check_bits(fragment, "fragment")
        cues, _ = self._simulate({}, {int(k): [1.0] for k in np.flatnonzero(fragment)},
                                 duration_ms=window_ms, learn=False)
        return [k for k, s in enumerate(cues) if s]


def orthogonal_contents(n_memories: int, n_content: int, bits: int, rng: np.random.Generator) -> np.ndarray:
    """``n_memories`` contents with ``bits`` active bits each and no bit shared."""
    check_int("bits", bits, min_value=1)
    if n_memories * bits > n_content:
        raise ValueError(f"{n_memories} orthogonal memories of {bits} bits need "
                         f"{n_memories * bits} content neurons, got {n_content}")
    perm = rng.permutation(n_content)
    out = np.zeros((n_memories, n_content), dtype=bool)
    for m in range(n_memories):
        out[m, perm[m * bits : (m + 1) * bits]] = True
    return out


def random_contents(n_memories: int, n_content: int, bits: int, rng: np.random.Generator) -> np.ndarray:
    """``n_memories`` contents with ``bits`` active bits drawn independently (they may overlap)."""
    out = np.zeros((n_memories, n_content), dtype=bool)
    for m in range(n_memories):
        out[m, rng.choice(n_content, size=bits, replace=False)] = True
    return out


def fragment(content: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Keep ``ceil(fraction * active bits)`` of the active bits of ``content``, chosen at random."""
    check_float("fraction", fraction, min_value=0.0, max_value=1.0)
    on = np.flatnonzero(content)
    keep = rng.choice(on, size=max(1, math.ceil(fraction * on.size)), replace=False)
    out = np.zeros_like(content)
    out[keep] = True
    return out
