import math

import numpy as np
import pytest
import torch

from neurocircuits.data.tasks import (IGNORE_INDEX, adding_problem, delayed_recall, sequential_digits,
                                      spiking_digits, yin_yang, yin_yang_class)


def test_yin_yang_shapes_determinism_balance_disc():
    X, y = yin_yang(3000, seed=5)
    X2, y2 = yin_yang(3000, seed=5)
    X3, _ = yin_yang(3000, seed=6)
    assert X.shape == (3000, 4) and y.shape == (3000,) and y.dtype == torch.int64
    assert torch.equal(X, X2) and torch.equal(y, y2) and not torch.equal(X, X3)
    counts = torch.bincount(y, minlength=3).numpy()
    # classes drawn uniformly: each count within 4 binomial SE of n/3
    se = math.sqrt(3000 * (1 / 3) * (2 / 3))
    assert np.all(np.abs(counts - 1000) < 4 * se)
    x, yy = X[:, 0].numpy(), X[:, 1].numpy()
    assert np.all(np.hypot(x - 0.5, yy - 0.5) <= 0.5 + 1e-6)
    assert torch.allclose(X[:, 2], 1 - X[:, 0]) and torch.allclose(X[:, 3], 1 - X[:, 1])
    # labels agree with the geometric definition
    assert np.array_equal(yin_yang_class(x.astype(np.float64), yy.astype(np.float64)), y.numpy())


def test_yin_yang_class_landmarks():
    # eyes are dots; just above the centre far right of the right eye is yin; lower-right is yang
    assert yin_yang_class(0.25, 0.5) == 2 and yin_yang_class(0.75, 0.5) == 2
    assert yin_yang_class(0.5, 0.9) == 1
    assert yin_yang_class(0.5, 0.1) == 0
    assert yin_yang_class(0.25, 0.7) == 1   # within r_big/2 of the left eye
    assert yin_yang_class(0.75, 0.3) == 0   # within r_big/2 of the right eye, below
    with pytest.raises(ValueError, match="r_small"):
        yin_yang(10, 0, r_small=0.3)
    with pytest.raises(ValueError, match="n must be"):
        yin_yang(0, 0)


def test_spiking_digits():
    tr, ytr, te, yte = spiking_digits(seed=0, t_max_ms=20.0, test_fraction=0.25)
    assert tr.shape[1] == 64 and tr.shape[0] + te.shape[0] == 1797
    assert te.shape[0] == round(0.25 * 1797)
    fin = tr[torch.isfinite(tr)]
    assert fin.min() >= 0 and fin.max() <= 20.0
    assert torch.isinf(tr).any()  # blank pixels do not spike
    assert set(ytr.unique().tolist()) == set(range(10))
    tr2, ytr2, _, _ = spiking_digits(seed=0, t_max_ms=20.0)
    assert torch.equal(tr, tr2) and torch.equal(ytr, ytr2)
    # brightest pixel (value 16/16) spikes at t = 0
    assert (tr == 0).any()


def test_sequential_digits():
    x, y, xt, yt = sequential_digits(seed=1)
    assert x.shape[0] == 8 and x.shape[2] == 8 and x.shape[1] == y.shape[0]
    assert x.min() >= 0 and x.max() <= 1
    assert x.shape[1] + xt.shape[1] == 1797


def test_adding_problem_targets_are_marked_sums():
    x, y = adding_problem(50, 40, seed=2)
    assert x.shape == (40, 50, 2) and y.shape == (50,)
    marks = x[:, :, 1]
    assert torch.all(marks.sum(0) == 2)
    assert torch.all(marks[:20].sum(0) == 1) and torch.all(marks[20:].sum(0) == 1)
    assert torch.allclose((x[:, :, 0] * marks).sum(0), y)
    x2, y2 = adding_problem(50, 40, seed=2)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    with pytest.raises(ValueError, match="n_steps"):
        adding_problem(5, 1, seed=0)


def test_delayed_recall_structure():
    x, y = delayed_recall(7, seed=3, n_symbols=4, seq_len=5, delay=10)
    T = 2 * 5 + 10 + 1
    assert x.shape == (T, 7, 6) and y.shape == (T, 7)
    assert torch.all(x.sum(-1) == 1)  # one active channel per step
    sym = x[:5, :, :4].argmax(-1)
    assert torch.equal(y[-5:], sym)  # targets repeat the symbols in order
    assert torch.all(y[:-5] == IGNORE_INDEX)
    assert torch.all(x[15, :, 5] == 1)  # cue
    with pytest.raises(ValueError, match="n_symbols"):
        delayed_recall(3, 0, n_symbols=1)
