"""DendriticSegments: sparse (CSR) matching against a dense reference, Monte Carlo vs theory."""

import math

import numpy as np
import pytest
import torch

from neurocircuits.sdr import DendriticSegments, random_sdr, to_dense
from neurocircuits.sdr import theory as T


def _random_segments(n, k, max_s, seed):
    g = torch.Generator().manual_seed(seed)
    sizes = torch.randint(1, max_s + 1, (k,), generator=g)
    return [torch.randperm(n, generator=g)[: int(s)] for s in sizes], g


@pytest.mark.parametrize("n, k, max_s, a, big", [(300, 60, 40, 50, False), (500, 20, 400, 200, True)])
def test_matches_dense_reference(n, k, max_s, a, big):
    segs, g = _random_segments(n, k, max_s, seed=n)
    theta = torch.randint(1, 9, (k,), generator=g)
    ds = DendriticSegments(n, segs, theta)
    assert ds._small is (not big)
    x = random_sdr(70, n, a, generator=g)
    ref = (to_dense(x, n).float() @ ds.to_dense()).int()
    for threads in (1, 3):
        m = ds.match(x, return_overlaps=True, num_threads=threads)
        assert torch.equal(m.overlaps, ref)
        assert torch.equal(m.fired, ref >= theta)
        assert torch.equal(ds.fire_counts(x, num_threads=threads), (ref >= theta).sum(0))
    assert torch.equal(ds.overlaps(x), ref)
    assert torch.equal(ds.match(to_dense(x, n)).fired, ref >= theta)  # dense input form
    assert torch.equal(ds.overlaps(x[3]), ref[3])  # a single SDR
    assert ds.match(x[3]).fired.shape == (k,)
    assert ds.n_synapses == sum(len(s) for s in segs)
    assert torch.equal(ds.segment(5), segs[5])


def test_fixed_size_tensor_and_dense_mask_constructors_agree():
    n = 128
    syn = random_sdr(40, n, 12, seed=1)
    a = DendriticSegments(n, syn, 3)
    b = DendriticSegments.from_dense(to_dense(syn, n), 3)
    x = random_sdr(25, n, 30, seed=2)
    assert torch.equal(a.overlaps(x), b.overlaps(x))
    assert torch.equal(a.match(x).fired, b.match(x).fired)
    # thresholds above the segment size never fire
    c = DendriticSegments(n, syn, 13)
    assert not bool(c.match(torch.arange(n).view(1, n)).fired.any())
    assert bool(DendriticSegments(n, syn, 12).match(torch.arange(n).view(1, n)).fired.all())


def test_many_inputs_cross_the_epoch_wraparound():
    # counters carry an epoch tag; with a 16-bit overlap field the epochs wrap after
    # 2^15 - 1 = 32767 inputs of one chunk, so a longer single-thread batch crosses the wrap
    n = 300
    segs = [torch.arange(0, 260), torch.arange(10, 20)]
    ds = DendriticSegments(n, segs, torch.tensor([5, 3]))
    assert not ds._small
    x = random_sdr(33_000, n, 40, seed=7)
    ref = (to_dense(x, n).float() @ ds.to_dense()).int()
    assert torch.equal(ds.fire_counts(x, num_threads=1), (ref >= torch.tensor([5, 3])).sum(0))


def test_monte_carlo_false_match_agrees_with_theory():
    n, a, s, theta = 512, 32, 24, 4
    p = T.false_match_probability(n, a, s, theta)
    ds = DendriticSegments(n, random_sdr(2000, n, s, seed=1), theta)
    x = random_sdr(500, n, a, seed=2)
    trials = 2000 * 500
    count = int(ds.fire_counts(x).sum())
    z = (count - trials * p) / math.sqrt(trials * p * (1 - p))
    assert abs(z) < 4, (count, trials * p)


def test_full_benchmark_shape_runs_and_matches_dense():
    n, a, s, k = 2048, 40, 40, 2000
    ds = DendriticSegments(n, random_sdr(k, n, s, seed=3), 3)
    x = random_sdr(100, n, a, seed=4)
    ref = (to_dense(x, n).float() @ ds.to_dense()) >= 3
    assert torch.equal(ds.match(x).fired, ref)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: DendriticSegments(0, torch.zeros(1, 1, dtype=torch.long), 1), ValueError, "n_cells must be >= 1"),
    (lambda: DendriticSegments(10, torch.tensor([[1, 10]]), 1), ValueError, "expected ids in \\[0, 10\\)"),
    (lambda: DendriticSegments(10, torch.tensor([[1, -1]]), 1), ValueError, "expected ids"),
    (lambda: DendriticSegments(10, torch.tensor([[1, 1]]), 1), ValueError, "two synapses on cell 1"),
    (lambda: DendriticSegments(10, torch.tensor([[1.0, 2.0]]), 1), TypeError, "integer tensor"),
    (lambda: DendriticSegments(10, torch.tensor([1, 2]), 1), ValueError, "2 dimensions"),
    (lambda: DendriticSegments(10, [torch.tensor([1]), torch.tensor([], dtype=torch.long)], 1),
     ValueError, "segment 1 has no synapses"),
    (lambda: DendriticSegments(10, [], 1), ValueError, "at least one segment"),
    (lambda: DendriticSegments(10, "abc", 1), TypeError, "synapses must be"),
    (lambda: DendriticSegments(10, torch.tensor([[1, 2]]), 0), ValueError, "theta must be >= 1"),
    (lambda: DendriticSegments(10, torch.tensor([[1, 2]]), -2), ValueError, "theta must be >= 1"),
    (lambda: DendriticSegments(10, torch.tensor([[1, 2]]), 1.5), TypeError, "theta must be an integer"),
    (lambda: DendriticSegments(10, torch.tensor([[1, 2], [3, 4]]), torch.tensor([1, 0])), ValueError,
     "theta must be >= 1"),
    (lambda: DendriticSegments(10, torch.tensor([[1, 2], [3, 4]]), torch.tensor([1, 2, 3])), ValueError,
     "one per segment"),
    (lambda: DendriticSegments.from_dense(torch.zeros(2, 5, dtype=torch.bool), 1), ValueError,
     "no synapses"),
])
def test_bad_construction(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("bad, exc, match", [
    (torch.tensor([[0, 12]]), ValueError, "expected ids in \\[0, 12\\)"),
    (torch.tensor([[3, 3]]), ValueError, "repeats a cell id"),
    (torch.tensor([[0.0, 1.0]]), TypeError, "integer tensor"),
    (torch.zeros(1, 11, dtype=torch.bool), ValueError, "expected n_cells = 12"),
    (torch.zeros(2, 2, 2, dtype=torch.long), ValueError, "1 or 2 dimensions"),
    (np.array([[0, 1]]), TypeError, "torch.Tensor"),
])
def test_bad_inputs_to_match(bad, exc, match):
    ds = DendriticSegments(12, torch.tensor([[0, 1, 2], [3, 4, 5]]), 2)
    with pytest.raises(exc, match=match):
        ds.match(bad)
    with pytest.raises(ValueError, match="num_threads must be >= 1"):
        ds.match(torch.tensor([[0, 1]]), num_threads=0)
