"""Spike times on a simulation grid (t = k dt) binned with a bin of a whole number of steps.

In floating point k*dt / (m*dt) can fall just below an integer (0.9 / 0.30000000000000004 =
2.9999999999999996), which would put a spike that sits exactly on a bin edge into the bin
before it. Binning takes times within 1e-9 bin widths below an edge as on the edge."""

import numpy as np

from neurocircuits.analysis.avalanches import avalanches_from_times
from neurocircuits.data.spikes import SpikeTrains


def _grid_train(dt=0.1, n_steps=3000, every=1):
    k = np.arange(0, n_steps, every)
    return SpikeTrains(k * dt, np.zeros(k.size, dtype=np.int64), 1, n_steps * dt), k


def test_every_grid_step_lands_in_its_own_bin():
    dt = 0.1
    for m in (1, 2, 3, 7):  # bin = m steps
        st, k = _grid_train(dt)
        bin_ms = m * dt
        counts = st.population_counts(bin_ms)
        expected = np.bincount(k // m, minlength=counts.size)
        assert np.array_equal(counts, expected), m
        assert np.array_equal(st.binned(bin_ms)[:, 0], expected), m


def test_avalanches_of_grid_times_follow_the_step_indices():
    dt = 0.1
    rng = np.random.default_rng(0)
    k = np.sort(rng.choice(30000, size=6000, replace=False))
    for m in (2, 3, 7):
        av = avalanches_from_times(k * dt, 30000 * dt, m * dt)
        counts = np.bincount(k // m, minlength=-(-30000 // m))
        # reference: runs of non-empty bins of the integer-binned counts
        sizes, run = [], 0
        for c in counts:
            if c:
                run += c
            elif run:
                sizes.append(run)
                run = 0
        if run:
            sizes.append(run)
        assert np.array_equal(av.sizes, np.array(sizes)), m
