"""Procedural tasks: generated on the fly from a seed, nothing downloaded.

- :func:`yin_yang`: the Yin-Yang data set of Kriener, Göltz & Petrovici (2022), "The Yin-Yang
  dataset", NICE 2022, arXiv:2102.08211. Points ``(x, y)`` uniform in the disc of radius
  ``r_big`` centred at ``(r_big, r_big)``; class *dot* (2) within ``r_small`` of either eye
  ``(r_big/2, r_big)`` / ``(3 r_big/2, r_big)``; *yin* (1) if inside the right eye, or within
  ``r_big/2`` of the left eye centre (outside its dot), or above the centre line and farther
  than ``r_big/2`` from the right eye centre; *yang* (0) otherwise. As in the paper, each sample
  first draws its class uniformly and then rejection-samples a point of that class, so the
  classes are balanced in expectation. Features: ``(x, y, 1 - x, 1 - y)`` (mirrored axes).
- :func:`spiking_digits`: scikit-learn's 8x8 handwritten digits (1,797 images shipped with the
  package, ``sklearn.datasets.load_digits``), one latency-coded spike per pixel (brighter =
  earlier; blank pixels do not spike), split into train/test by a seeded permutation.
- :func:`sequential_digits`: the same digits presented row by row: ``[8, n, 8]`` sequences.
- :func:`adding_problem`: Hochreiter & Schmidhuber (1997) adding problem: channel 0 holds
  uniform values in [0, 1], channel 1 marks two positions (one in each half); the target is the
  sum of the two marked values.
- :func:`delayed_recall`: copy task: a sequence of ``seq_len`` symbols, ``delay`` blank steps,
  a recall cue, then the model must output the symbols in order.
"""

from __future__ import annotations

import numpy as np
import torch

from neurocircuits.data.encoders import latency
from neurocircuits.validation import check_float, check_int

__all__ = ["yin_yang", "yin_yang_class", "spiking_digits", "sequential_digits", "adding_problem",
           "delayed_recall", "IGNORE_INDEX"]

#: Target value for steps without a target (``torch.nn.functional.cross_entropy`` ignores it).
IGNORE_INDEX = -100


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(check_int("seed", seed, min_value=0))


def yin_yang_class(x, y, r_small: float = 0.1, r_big: float = 0.5) -> np.ndarray:
    """Class (0 yang, 1 yin, 2 dot) of points ``(x, y)`` (arrays), per Kriener et al. 2022."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    d_right = np.hypot(x - 1.5 * r_big, y - r_big)
    d_left = np.hypot(x - 0.5 * r_big, y - r_big)
    yin = (d_right <= r_small) | ((d_left > r_small) & (d_left <= 0.5 * r_big)) | \
          ((y > r_big) & (d_right > 0.5 * r_big))
    dot = (d_right < r_small) | (d_left < r_small)
    return np.where(dot, 2, yin.astype(np.int64)).astype(np.int64)


def yin_yang(n: int, seed, *, r_small: float = 0.1, r_big: float = 0.5):
    """``n`` Yin-Yang samples: features ``[n, 4]`` float32 ``(x, y, 1-x, 1-y)`` (coordinates
    divided by ``2 r_big``) and labels ``[n]`` int64."""
    n = check_int("n", n, min_value=1)
    rs = check_float("r_small", r_small, positive=True)
    rb = check_float("r_big", r_big, positive=True)
    if rs >= rb / 2:
        raise ValueError(f"r_small = {rs} must be < r_big / 2 = {rb / 2}")
    rng = _rng(seed)
    goal = rng.integers(0, 3, size=n)
    pts = np.empty((n, 2))
    for c in range(3):
        idx = np.nonzero(goal == c)[0]
        got = []
        need = idx.size
        while need > 0:
            cand = rng.random((max(4 * need, 64), 2)) * 2 * rb
            inside = np.hypot(cand[:, 0] - rb, cand[:, 1] - rb) <= rb
            cand = cand[inside]
            cand = cand[yin_yang_class(cand[:, 0], cand[:, 1], rs, rb) == c][:need]
            got.append(cand)
            need -= cand.shape[0]
        if idx.size:
            pts[idx] = np.concatenate(got)[: idx.size]
    x, y = pts[:, 0], pts[:, 1]
    # (x, y, 1 - x, 1 - y) for the standard r_big = 0.5; scaled to [0, 1] otherwise
    feats = np.stack([x, y, 2 * rb - x, 2 * rb - y], axis=1) / (2 * rb)
    return torch.tensor(feats, dtype=torch.float32), torch.tensor(goal, dtype=torch.int64)


def _digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.images.astype(np.float64) / 16.0, d.target.astype(np.int64)


def _split(n_total: int, test_fraction: float, seed):
    frac = check_float("test_fraction", test_fraction, min_value=0.0, max_value=0.9)
    perm = _rng(seed).permutation(n_total)
    n_test = int(round(frac * n_total))
    return perm[n_test:], perm[:n_test]


def spiking_digits(seed, *, t_max_ms: float = 20.0, t_min_ms: float = 0.0, test_fraction: float = 0.25):
    """Latency-coded 8x8 digits. Returns ``(train_times, train_labels, test_times,
    test_labels)``: spike times ``[n, 64]`` (ms, float64, ``inf`` for blank pixels) and labels
    ``[n]``; pixel value ``v`` in [0, 1] spikes at ``t_min + (1 - v)(t_max - t_min)``."""
    images, labels = _digits()
    x = torch.tensor(images.reshape(len(images), 64))
    t = latency(x, t_max_ms, t_min_ms=t_min_ms, mode="linear", threshold_value=1e-9)
    tr, te = _split(len(images), test_fraction, seed)
    lab = torch.tensor(labels)
    return t[tr], lab[tr], t[te], lab[te]


def sequential_digits(seed, *, test_fraction: float = 0.25):
    """Digits row by row: ``(train_x [8, n, 8], train_y [n], test_x, test_y)``, values in
    [0, 1] (time = image row, features = the 8 pixels of the row)."""
    images, labels = _digits()
    x = torch.tensor(images, dtype=torch.float32).permute(1, 0, 2).contiguous()  # [8, n, 8]
    tr, te = _split(len(images), test_fraction, seed)
    lab = torch.tensor(labels)
    return x[:, tr], lab[tr], x[:, te], lab[te]


def adding_problem(n: int, n_steps: int, seed):
    """``(x [n_steps, n, 2] float32, y [n] float32)``: channel 0 uniform [0, 1], channel 1 is 1
    at one step in the first half and one in the second half; ``y`` = sum of the marked values."""
    n = check_int("n", n, min_value=1)
    T = check_int("n_steps", n_steps, min_value=2)
    rng = _rng(seed)
    vals = rng.random((T, n))
    half = T // 2
    i1 = rng.integers(0, half, size=n)
    i2 = rng.integers(half, T, size=n)
    marks = np.zeros((T, n))
    cols = np.arange(n)
    marks[i1, cols] = 1.0
    marks[i2, cols] = 1.0
    y = vals[i1, cols] + vals[i2, cols]
    x = np.stack([vals, marks], axis=-1)
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)


def delayed_recall(n: int, seed, *, n_symbols: int = 4, seq_len: int = 5, delay: int = 10):
    """Copy task. Returns ``(x [T, n, n_symbols + 2], y [T, n])`` with ``T = 2 seq_len + delay
    + 1``: one-hot symbols for ``seq_len`` steps, blanks (channel ``n_symbols``) during the
    delay, a cue (channel ``n_symbols + 1``) at step ``seq_len + delay``, then blanks while the
    target ``y`` lists the symbols in order; ``y = IGNORE_INDEX`` where there is no target."""
    n = check_int("n", n, min_value=1)
    k = check_int("n_symbols", n_symbols, min_value=2)
    L = check_int("seq_len", seq_len, min_value=1)
    D = check_int("delay", delay, min_value=0)
    rng = _rng(seed)
    T = 2 * L + D + 1
    sym = rng.integers(0, k, size=(L, n))
    x = np.zeros((T, n, k + 2), dtype=np.float32)
    cols = np.arange(n)
    for t in range(L):
        x[t, cols, sym[t]] = 1.0
    x[L:L + D, :, k] = 1.0
    x[L + D, :, k + 1] = 1.0
    x[L + D + 1:, :, k] = 1.0
    y = np.full((T, n), IGNORE_INDEX, dtype=np.int64)
    y[L + D + 1:] = sym
    return torch.tensor(x), torch.tensor(y)
