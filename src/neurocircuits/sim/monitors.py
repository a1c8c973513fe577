"""Monitors: what a simulation records.

- :class:`SpikeMonitor` spikes of a population (or the whole network) as a
  :class:`~neurocircuits.data.spikes.SpikeTrains` (times ``step * dt`` in ms, ids local to the
  population). With ``stream_to=path`` the spikes of each chunk of steps are appended to two
  raw files on disk instead of memory, so memory stays flat on long runs.
- :class:`StateMonitor` state variables (``"v"`` in mV and the synaptic variables ``"I_e"``,
  ``"I_i"`` in mV for :class:`~models.LIF`, ``"g_e"``, ``"g_i"`` in units of g_L for
  :class:`~models.LIFCond`) of chosen neurons every ``every_steps`` steps, sampled at the start
  of the step (so the first sample is the initial state).
- :class:`RateMonitor` spike count of a population per step, as a population rate in Hz.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurocircuits.data.spikes import SpikeTrains
from neurocircuits.validation import check_float, check_int


def _pop_range(net, pop):
    if pop is None:
        return 0, net.n_neurons
    from neurocircuits.sim.network import Population

    if not isinstance(pop, Population) or pop not in net.populations:
        raise ValueError(f"monitor target must be a population of this network, got {pop!r}")
    return pop.start, pop.stop


class SpikeMonitor:
    def __init__(self, pop=None, stream_to=None):
        self.pop = pop
        self.stream_to = None if stream_to is None else Path(stream_to)
        self._steps: list[np.ndarray] = []
        self._ids: list[np.ndarray] = []

    def attach(self, net):
        self.net = net
        self.start, self.stop = _pop_range(net, self.pop)
        if self.stream_to is not None:
            self.stream_to.parent.mkdir(parents=True, exist_ok=True)
            for suffix in (".steps.i64", ".ids.i64"):
                Path(str(self.stream_to) + suffix).write_bytes(b"")

    @property
    def n(self) -> int:
        return self.stop - self.start

    def reset(self) -> None:
        self._steps, self._ids = [], []
        if self.stream_to is not None:
            self.attach(self.net)

    def _consume(self, steps: np.ndarray, ids: np.ndarray) -> None:
        m = (ids >= self.start) & (ids < self.stop)
        s, i = steps[m].astype(np.int64), (ids[m] - self.start).astype(np.int64)
        if self.stream_to is not None:
            with open(str(self.stream_to) + ".steps.i64", "ab") as fh:
                fh.write(s.tobytes())
            with open(str(self.stream_to) + ".ids.i64", "ab") as fh:
                fh.write(i.tobytes())
        else:
            self._steps.append(s)
            self._ids.append(i)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(steps, local ids) of all recorded spikes, in time order."""
        if self.stream_to is not None:
            s = np.fromfile(str(self.stream_to) + ".steps.i64", dtype=np.int64)
            i = np.fromfile(str(self.stream_to) + ".ids.i64", dtype=np.int64)
            return s, i
        if not self._steps:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(self._steps), np.concatenate(self._ids)

    def spike_trains(self) -> SpikeTrains:
        if self.net.t_step == 0:
            raise RuntimeError("nothing recorded yet: run the network first")
        s, i = self.arrays()
        return SpikeTrains(s * self.net.dt_ms, i, self.n, self.net.t_step * self.net.dt_ms)

    def counts(self) -> np.ndarray:
        _, i = self.arrays()
        return np.bincount(i, minlength=self.n)


class StateMonitor:
    def __init__(self, pop, variables=("v",), neurons=None, every_steps: int = 1):
        if pop is None:
            raise ValueError("StateMonitor needs a population")
        if isinstance(variables, str):
            variables = (variables,)
        self.pop = pop
        self.variables = tuple(variables)
        self.every_steps = check_int("every_steps", every_steps, min_value=1)
        self.neurons = neurons
        self._rows: list[np.ndarray] = []
        self._steps: list[np.ndarray] = []

    def attach(self, net):
        self.net = net
        start, stop = _pop_range(net, self.pop)
        names = self.pop.model.state_vars
        if not names:
            raise ValueError(f"population {self.pop.name!r} is a source and has no state variables")
        if not self.variables:
            raise ValueError("variables must name at least one state variable")
        for v in self.variables:
            if v not in names:
                raise ValueError(f"population {self.pop.name!r} has no variable {v!r}; it has {names}")
        n = stop - start
        sel = np.arange(n) if self.neurons is None else np.asarray(self.neurons)
        if sel.ndim != 1 or sel.size == 0 or sel.dtype.kind not in "iu":
            raise ValueError(f"neurons must be a non-empty 1-D integer list, got {self.neurons!r}")
        if sel.min() < 0 or sel.max() >= n:
            raise ValueError(f"neurons must lie in [0, {n}), got range [{sel.min()}, {sel.max()}]")
        self.local = sel.astype(np.int64)
        codes = [names.index(v) for v in self.variables]
        self.col_idx = np.concatenate([start + self.local for _ in codes]).astype(np.int64)
        self.col_var = np.repeat(np.array(codes, dtype=np.int64), sel.size)

    def reset(self) -> None:
        self._rows, self._steps = [], []

    def _consume(self, steps: np.ndarray, rows: np.ndarray) -> None:
        self._steps.append(steps.copy())
        self._rows.append(rows.copy())

    @property
    def times_ms(self) -> np.ndarray:
        s = np.concatenate(self._steps) if self._steps else np.zeros(0, np.int64)
        return s * self.net.dt_ms

    def __getitem__(self, var: str) -> np.ndarray:
        """Samples of ``var``: ``[n_samples, n_neurons]``."""
        if var not in self.variables:
            raise KeyError(f"variable {var!r} was not recorded; recorded {self.variables}")
        k = self.variables.index(var)
        n = self.local.size
        if not self._rows:
            return np.zeros((0, n))
        rows = np.concatenate(self._rows)
        return rows[:, k * n:(k + 1) * n]


class RateMonitor:
    def __init__(self, pop=None):
        self.pop = pop
        self._counts: list[np.ndarray] = []

    def attach(self, net):
        self.net = net
        if self.pop is None:
            self.pops = list(range(len(net.populations)))
            self.n = net.n_neurons
        else:
            _pop_range(net, self.pop)
            self.pops = [self.pop.index]
            self.n = self.pop.n

    def reset(self) -> None:
        self._counts = []

    def _consume(self, counts: np.ndarray) -> None:
        self._counts.append(counts[:, self.pops].sum(axis=1).astype(np.int64))

    def counts(self) -> np.ndarray:
        """Spikes of the population in each step."""
        return np.concatenate(self._counts) if self._counts else np.zeros(0, np.int64)

    def rate_hz(self, bin_ms: float | None = None) -> np.ndarray:
        """Population rate (spikes per neuron per second) per bin of ``bin_ms`` (default dt)."""
        c = self.counts()
        dt = self.net.dt_ms
        k = 1 if bin_ms is None else int(round(check_float("bin_ms", bin_ms, positive=True) / dt))
        if k < 1:
            raise ValueError(f"bin_ms = {bin_ms} is shorter than dt_ms = {dt}")
        nb = c.size // k
        c = c[:nb * k].reshape(nb, k).sum(axis=1)
        return c / (self.n * k * dt * 1e-3)
