import math
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import numpy as np
import pytest
import torch

from neurocircuits.data.text import (
    TEXTS,
    CharVocab,
    bits_per_char,
    char_batches,
    char_corpus,
    eval_windows,
    load_text,
    one_hot,
    retention_task,
    unigram_entropy_bits,
)

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_text_and_notice():
    text = load_text()
    assert len(text) == 31_994 and text.startswith("First Citizen:\nBefore we proceed")
    assert text.endswith("Then reason safely with you.\n")
    data_dir = ROOT / "src" / "neurocircuits" / "data"
    notice = (data_dir / "shakespeare_coriolanus_NOTICE.txt").read_text()
    assert "public domain" in notice and "Coriolanus" in notice
    # every shipped file is matched by the package-data globs of pyproject.toml
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["neurocircuits"]
    for name in list(TEXTS.values()) + ["shakespeare_coriolanus_NOTICE.txt"]:
        assert any(fnmatch(f"data/{name}", g) for g in globs), name
    with pytest.raises(ValueError, match="text name must be one of"):
        load_text("hamlet")


def test_vocab_roundtrip_and_errors():
    v = CharVocab("hello world")
    assert v.chars == sorted(set("hello world")) and len(v) == 8
    ids = v.encode("low")
    assert ids.dtype == torch.int64 and v.decode(ids) == "low"
    with pytest.raises(ValueError, match="outside the vocabulary"):
        v.encode("xyz")
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 7\]"):
        v.decode([8])
    with pytest.raises(ValueError, match="non-empty str"):
        CharVocab("")


def test_corpus_split_is_contiguous_and_complete():
    vocab, tr, va = char_corpus(val_fraction=0.1)
    text = load_text()
    assert len(tr) + len(va) == len(text) and len(va) == round(0.1 * len(text))
    assert vocab.decode(torch.cat([tr, va])) == text
    with pytest.raises(ValueError, match="val_fraction must lie strictly between 0 and 1"):
        char_corpus(val_fraction=0.0)


def test_batches_shift_by_one_and_are_seeded():
    ids = torch.arange(100)
    x, y = char_batches(ids, 10, 5, seed=3)
    assert x.shape == (10, 5) and torch.equal(y, x + 1)
    assert torch.equal(x[1:], x[:-1] + 1)  # consecutive characters along time
    x2, _ = char_batches(ids, 10, 5, seed=3)
    x3, _ = char_batches(ids, 10, 5, seed=4)
    assert torch.equal(x, x2) and not torch.equal(x, x3)
    with pytest.raises(ValueError, match="at least seq_len \\+ 1 = 101"):
        char_batches(ids, 100, 2, seed=0)
    with pytest.raises(TypeError, match="integer tensor"):
        char_batches(ids.float(), 10, 2, seed=0)


def test_eval_windows_tile_the_sequence():
    ids = torch.arange(23)
    x, y = eval_windows(ids, 5)
    assert x.shape == (5, 4)
    assert torch.equal(x.t().reshape(-1), ids[:20]) and torch.equal(y.t().reshape(-1), ids[1:21])


def test_one_hot_and_entropy():
    oh = one_hot(torch.tensor([0, 2]), 3)
    assert torch.equal(oh, torch.tensor([[1.0, 0, 0], [0, 0, 1]]))
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 2\]"):
        one_hot(torch.tensor([3]), 3)
    assert unigram_entropy_bits(torch.tensor([0, 1, 2, 3] * 5)) == pytest.approx(2.0)
    p = np.array([0.5, 0.25, 0.25])
    assert unigram_entropy_bits(torch.tensor([0, 0, 1, 2])) == pytest.approx(-(p * np.log2(p)).sum())
    assert bits_per_char(math.log(2.0)) == pytest.approx(1.0)


def test_retention_task_structure():
    K, delays = 4, [1, 3, 7]
    x, y, d = retention_task(500, delays, seed=0, n_symbols=K)
    T = max(delays) + 2
    assert x.shape == (T, 500, K + 2) and y.shape == (500,) and set(d.tolist()) == set(delays)
    for i in range(500):
        t0 = T - 2 - int(d[i])
        assert x[:, i, K].nonzero().reshape(-1).tolist() == [t0]  # one store flag
        assert int(x[t0, i, :K].argmax()) == int(y[i])  # the stored symbol is the target
        assert x[-1, i].tolist() == [0.0] * K + [0.0, 1.0]  # recall cue only at the end
        assert torch.all(x[:-1, i, :K].sum(-1) == 1)  # one symbol at every other step
    # uniform targets, about 1/K each
    freq = torch.bincount(y, minlength=K).float() / 500
    assert float((freq - 1 / K).abs().max()) < 0.06
    x2, y2, _ = retention_task(500, delays, seed=0, n_symbols=K)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    xl, _, dl = retention_task(10, 2, seed=1, n_steps=9)
    assert xl.shape[0] == 9 and int(xl[:, 0, 4].nonzero()) == 9 - 2 - 2
    with pytest.raises(ValueError, match="n_steps must be >= 9"):
        retention_task(3, [7], seed=0, n_steps=8)
    with pytest.raises(ValueError, match=r"delays\[1\] must be >= 0"):
        retention_task(3, [2, -1], seed=0)
    with pytest.raises(ValueError, match="n_symbols must be >= 2"):
        retention_task(3, [2], seed=0, n_symbols=1)
