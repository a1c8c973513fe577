"""Character-level text shipped with the package, and a memory-retention task.

Text: ``shakespeare_coriolanus.txt`` (31,994 characters, 58 distinct) is the opening of
William Shakespeare's *Coriolanus* (Act I, to the middle of scene 9), a public-domain work,
as laid out in the "tiny Shakespeare" corpus (Karpathy 2015, github.com/karpathy/char-rnn,
``data/tinyshakespeare/input.txt``, first 31,994 characters, cut at a line end). See
``shakespeare_coriolanus_NOTICE.txt`` beside it.

- :func:`load_text` returns the text, :class:`CharVocab` maps characters to integer ids.
- :func:`char_corpus` splits the ids into a training part (the first ``1 - val_fraction``)
  and a validation part (the rest, contiguous, so no validation window overlaps training).
- :func:`char_batches` draws seeded random windows ``(x, y)`` of shape ``[T, B]`` with ``y``
  the next character of ``x``; :func:`eval_windows` tiles a part into consecutive windows.
- :func:`unigram_entropy_bits`: entropy of the character frequencies, H = -Σ p log2 p
  (bits per character): the cross-entropy of the best model that ignores context.
- :func:`retention_task`: store one of ``K`` symbols, hold it through ``D`` distractor
  symbols, recall it at a cue.
"""

from __future__ import annotations

import math
from importlib import resources

import numpy as np
import torch

from neurocircuits.validation import check_float, check_int, check_tensor

__all__ = [
    "TEXTS",
    "load_text",
    "CharVocab",
    "char_corpus",
    "char_batches",
    "eval_windows",
    "one_hot",
    "unigram_entropy_bits",
    "retention_task",
    "bits_per_char",
]

#: Texts shipped with the package: name -> file in ``neurocircuits/data``.
TEXTS = {"coriolanus": "shakespeare_coriolanus.txt"}


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(check_int("seed", seed, min_value=0))


def load_text(name: str = "coriolanus") -> str:
    """The shipped text ``name`` (one of :data:`TEXTS`) as a Python string."""
    if name not in TEXTS:
        raise ValueError(f"text name must be one of {sorted(TEXTS)}, got {name!r}")
    return resources.files("neurocircuits.data").joinpath(TEXTS[name]).read_text(encoding="utf-8")


class CharVocab:
    """Sorted set of the characters of a text; ``encode`` / ``decode`` map str <-> int64 ids."""

    def __init__(self, text: str):
        if not isinstance(text, str) or not text:
            raise ValueError(f"text must be a non-empty str, got {type(text).__name__} "
                             f"of length {len(text) if isinstance(text, str) else 'n/a'}")
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> torch.Tensor:
        bad = sorted(set(text) - set(self.index))
        if bad:
            raise ValueError(f"text contains characters outside the vocabulary: {bad[:10]!r}")
        return torch.tensor([self.index[c] for c in text], dtype=torch.int64)

    def decode(self, ids) -> str:
        ids = torch.as_tensor(ids).reshape(-1).tolist()
        bad = [i for i in ids if not 0 <= i < len(self.chars)]
        if bad:
            raise ValueError(f"ids must lie in [0, {len(self.chars) - 1}], got {bad[:10]}")
        return "".join(self.chars[i] for i in ids)


def char_corpus(name: str = "coriolanus", val_fraction: float = 0.1):
    """``(vocab, train_ids, val_ids)``: the text's ids split at ``1 - val_fraction`` of its
    length (training first, validation last; deterministic, no shuffling)."""
    f = check_float("val_fraction", val_fraction, min_value=0.0, max_value=1.0)
    if not 0.0 < f < 1.0:
        raise ValueError(f"val_fraction must lie strictly between 0 and 1, got {f}")
    text = load_text(name)
    vocab = CharVocab(text)
    ids = vocab.encode(text)
    cut = int(round(len(ids) * (1.0 - f)))
    return vocab, ids[:cut], ids[cut:]


def _check_ids(ids, seq_len: int):
    check_tensor("ids", ids, ndim=1, dtype_kind="int")
    if ids.numel() < seq_len + 1:
        raise ValueError(f"ids must hold at least seq_len + 1 = {seq_len + 1} characters, got "
                         f"{ids.numel()}")


def char_batches(ids: torch.Tensor, seq_len: int, batch: int, seed):
    """Random windows: ``x`` [seq_len, batch] ids and ``y`` [seq_len, batch] the next ids
    (``y[t] = ids[start + t + 1]``). Start positions are uniform, drawn from ``seed`` (an int or
    a ``numpy.random.Generator``, advanced in place)."""
    T = check_int("seq_len", seq_len, min_value=1)
    B = check_int("batch", batch, min_value=1)
    _check_ids(ids, T)
    starts = torch.from_numpy(_rng(seed).integers(0, ids.numel() - T, size=B))
    idx = starts[None, :] + torch.arange(T)[:, None]
    return ids[idx], ids[idx + 1]


def eval_windows(ids: torch.Tensor, seq_len: int):
    """All consecutive non-overlapping windows: ``x, y`` [seq_len, M] with ``M = (len - 1) //
    seq_len``; every character after the first is predicted exactly once (except a tail)."""
    T = check_int("seq_len", seq_len, min_value=1)
    _check_ids(ids, T)
    m = (ids.numel() - 1) // T
    x = ids[: m * T].reshape(m, T).t()
    y = ids[1: m * T + 1].reshape(m, T).t()
    return x.contiguous(), y.contiguous()


def one_hot(ids: torch.Tensor, n_classes: int, dtype=torch.float32) -> torch.Tensor:
    """One-hot ``[..., n_classes]`` encoding of integer ``ids``."""
    check_tensor("ids", ids, dtype_kind="int")
    k = check_int("n_classes", n_classes, min_value=1)
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= k):
        raise ValueError(f"ids must lie in [0, {k - 1}], got range [{int(ids.min())}, {int(ids.max())}]")
    return torch.nn.functional.one_hot(ids, k).to(dtype)


def unigram_entropy_bits(ids: torch.Tensor, n_classes: int | None = None) -> float:
    """H = -Σ_c p_c log2 p_c of the character frequencies in ``ids`` (bits per character)."""
    check_tensor("ids", ids, ndim=1, dtype_kind="int")
    if ids.numel() == 0:
        raise ValueError("ids must not be empty")
    counts = torch.bincount(ids, minlength=n_classes or 0).double()
    p = counts[counts > 0] / counts.sum()
    return float(-(p * torch.log2(p)).sum())


def retention_task(n: int, delays, seed, *, n_symbols: int = 4, n_steps: int | None = None):
    """Memory retention with distractors.

    Each sample stores one of ``K = n_symbols`` symbols, then sees ``D`` distractor symbols
    (uniform over the K, never flagged), then a recall cue; the target is the stored symbol.
    ``D`` is drawn uniformly from ``delays`` per sample. All samples have length ``T =
    n_steps`` (default ``max(delays) + 2``, the shortest that fits): the store step sits at
    ``t0 = T - 2 - D`` (uniform distractors before it as well), the cue at the last step.

    Input channels ``K + 2``: one-hot symbol (K), store flag (channel K, only at t0), recall
    cue (channel K + 1, only at T - 1, where no symbol is shown). Returns ``(x [T, n, K + 2]
    float32, y [n] int64 in [0, K), d [n] int64 delays)``; chance accuracy is 1 / K.
    """
    n = check_int("n", n, min_value=1)
    k = check_int("n_symbols", n_symbols, min_value=2)
    if isinstance(delays, (int, np.integer)) and not isinstance(delays, bool):
        delays = [delays]
    if not isinstance(delays, (list, tuple, np.ndarray)):
        raise TypeError(f"delays must be an int or a sequence of ints, got {type(delays).__name__}")
    delays = [check_int(f"delays[{i}]", d, min_value=0) for i, d in enumerate(list(delays))]
    if not delays:
        raise ValueError("delays must hold at least one delay (>= 0 steps)")
    rng = _rng(seed)
    dmax = max(delays)
    T = dmax + 2 if n_steps is None else check_int("n_steps", n_steps, min_value=dmax + 2)
    d = rng.choice(np.asarray(delays), size=n)
    y = rng.integers(0, k, size=n)
    sym = rng.integers(0, k, size=(T - 1, n))
    t0 = T - 2 - d
    cols = np.arange(n)
    sym[t0, cols] = y
    x = np.zeros((T, n, k + 2), dtype=np.float32)
    for t in range(T - 1):
        x[t, cols, sym[t]] = 1.0
    x[t0, cols, k] = 1.0
    x[T - 1, :, k + 1] = 1.0
    return torch.from_numpy(x), torch.from_numpy(y.astype(np.int64)), torch.from_numpy(d.astype(np.int64))


def bits_per_char(nll_nats: float) -> float:
    """Convert a mean cross-entropy in nats per character to bits per character."""
    return float(nll_nats) / math.log(2.0)
