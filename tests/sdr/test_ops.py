"""SDR tools on torch tensors: sampling, conversion, overlap, union, noise, subsampling."""

import math

import pytest
import torch

from neurocircuits.sdr import add_noise, overlap, random_sdr, subsample, to_dense, to_indices, union


def test_random_sdr_shapes_sorted_distinct_and_seeded():
    x = random_sdr(200, 50, 7, seed=3)
    assert x.shape == (200, 7) and x.dtype == torch.int64
    assert bool((x[:, 1:] > x[:, :-1]).all())  # sorted, distinct
    assert int(x.min()) >= 0 and int(x.max()) < 50
    assert torch.equal(x, random_sdr(200, 50, 7, seed=3))
    assert not torch.equal(x, random_sdr(200, 50, 7, seed=4))
    g1, g2 = torch.Generator().manual_seed(9), torch.Generator().manual_seed(9)
    assert torch.equal(random_sdr(5, 30, 4, generator=g1), random_sdr(5, 30, 4, generator=g2))
    d = random_sdr(10, 40, 6, form="dense", seed=1)
    assert d.dtype == torch.bool and d.shape == (10, 40) and bool((d.sum(1) == 6).all())
    assert torch.equal(to_indices(d), random_sdr(10, 40, 6, seed=1))
    full = random_sdr(3, 8, 8, seed=0)
    assert torch.equal(full, torch.arange(8).expand(3, 8))


def test_random_sdr_is_uniform_over_subsets():
    # all C(6, 2) = 15 subsets equally likely: chi-square against uniform
    x = random_sdr(30_000, 6, 2, seed=11)
    codes = x[:, 0] * 6 + x[:, 1]
    counts = torch.bincount(codes, minlength=36)
    counts = counts[counts > 0].double()
    assert counts.numel() == 15
    expected = 30_000 / 15
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 36.1  # 99.9 % quantile of chi-square with 14 d.o.f.


def test_overlap_union_and_conversions():
    x = torch.tensor([[0, 2, 5], [1, 2, 3]])
    y = torch.tensor([[2, 5, 7], [4, 6, 7]])
    assert overlap(x, y, n=8).tolist() == [2, 0]
    xd, yd = to_dense(x, 8), to_dense(y, 8)
    assert overlap(xd, yd).tolist() == [2, 0]
    assert union(x, n=8).nonzero()[:, 0].tolist() == [0, 1, 2, 3, 5]
    assert union(torch.stack([xd, yd]), dim=0).sum(-1).tolist() == [4, 6]


def test_add_noise_replaces_exactly_v_cells():
    n, a, v = 100, 20, 7
    x = random_sdr(500, n, a, seed=1)
    y = add_noise(x, v, n, seed=2)
    assert y.shape == x.shape and bool((y[:, 1:] > y[:, :-1]).all())
    assert bool((overlap(x, y, n) == a - v).all())
    assert torch.equal(y, add_noise(x, v, n, seed=2))
    assert torch.equal(add_noise(x, 0, n, seed=2), x)
    # the new cells are uniform over the inactive cells: cell 99 is inactive in about
    # (n - a) / n of rows and then picked with probability v / (n - a)
    x0 = torch.arange(a).expand(4000, a).contiguous()  # cells 0..19 active
    y0 = add_noise(x0, v, n, seed=5)
    hits = to_dense(y0, n)[:, a:].sum(0).double()  # counts per inactive cell
    assert hits.sum() == 4000 * v
    p = v / (n - a)
    sd = math.sqrt(4000 * p * (1 - p))
    assert float((hits - 4000 * p).abs().max()) < 5 * sd


def test_subsample_picks_distinct_cells_of_the_pattern():
    x = random_sdr(300, 64, 16, seed=4)
    s = subsample(x, 5, seed=1)
    assert s.shape == (300, 5) and bool((s[:, 1:] > s[:, :-1]).all())
    assert bool((overlap(x, s, 64) == 5).all())
    # each position of the pattern is kept with probability 5/16
    kept = (to_dense(s, 64) & to_dense(x, 64)).sum()
    assert int(kept) == 300 * 5


@pytest.mark.parametrize("call, exc, match", [
    (lambda: random_sdr(4, 10, 11), ValueError, "a \\(active cells\\) must be <= n"),
    (lambda: random_sdr(0, 10, 2), ValueError, "batch must be >= 1"),
    (lambda: random_sdr(4, -5, 2), ValueError, "n must be >= 1"),
    (lambda: random_sdr(4, 10, 0), ValueError, "a must be >= 1"),
    (lambda: random_sdr(4, 10.0, 2), TypeError, "n must be an integer"),
    (lambda: random_sdr(4, 10, True), TypeError, "a must be an integer"),
    (lambda: random_sdr(4, 10, 2, form="sparse"), ValueError, "form"),
    (lambda: random_sdr(4, 10, 2, seed=1, generator=torch.Generator()), ValueError, "either"),
    (lambda: random_sdr(4, 10, 2, seed=-1), ValueError, "seed"),
    (lambda: to_dense(torch.tensor([[0, 10]]), 10), ValueError, "expected ids in \\[0, 10\\)"),
    (lambda: to_dense(torch.tensor([[1, 1]]), 10), ValueError, "repeats a cell id"),
    (lambda: to_dense(torch.tensor([[0.0, 1.0]]), 10), TypeError, "integer tensor"),
    (lambda: overlap(torch.tensor([[0, 1]]), torch.tensor([[0, 1]])), ValueError, "pass n"),
    (lambda: add_noise(torch.tensor([[0, 1, 2]]), 4, 10), ValueError, "v must be <= 3"),
    (lambda: add_noise(torch.tensor([[0, 1, 2]]), 2, 4), ValueError, "inactive cells"),
    (lambda: subsample(torch.tensor([[0, 1, 2]]), 4), ValueError, "s must be <= 3"),
    (lambda: to_indices(torch.tensor([[True, False], [True, True]])), ValueError, "different numbers"),
])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
