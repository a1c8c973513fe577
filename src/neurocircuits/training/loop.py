"""A minimal, reproducible training loop with checkpoints.

:func:`fit` runs ``epochs`` passes over a data set, one optimiser step per batch, and records
per-epoch metrics: the mean training loss (weighted by batch size), the accuracy when the task
is a classification (integer targets, scores with a class dimension), and the same two on
optional validation data. A progress bar (:func:`neurocircuits.progress.progress`) shows the
epochs.

**Reproducibility.** At the start of epoch ``e`` the global torch generator is seeded with
``seed * 1_000_003 + e`` and batches of a ``Dataset`` are drawn by a permutation from its own
generator seeded the same way. Every random choice of an epoch therefore depends on
``(seed, e)`` only, so training 4 epochs straight and training 2 epochs, saving, loading and
training 2 more give bit-identical weights on CPU.

**Checkpoints** (:func:`save_checkpoint`, :func:`load_checkpoint`) hold the model and optimiser
state dicts, the number of finished epochs, the seed and the metrics, written by ``torch.save``
and read back by ``torch.load(..., weights_only=True)``: a file holding any other Python object
is refused.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from torch import nn

from neurocircuits.progress import progress
from neurocircuits.validation import check_int

__all__ = ["fit", "evaluate", "save_checkpoint", "load_checkpoint", "CHECKPOINT_FORMAT"]

#: Tag stored in every checkpoint written by :func:`save_checkpoint`.
CHECKPOINT_FORMAT = "neurocircuits-checkpoint-1"
_EPOCH_SEED_STRIDE = 1_000_003


# --------------------------------------------------------------------------------------------
# checkpoints
# --------------------------------------------------------------------------------------------
def save_checkpoint(path, model: nn.Module, optimizer: torch.optim.Optimizer, epoch: int,
                    metrics: list[dict] | None = None, seed: int = 0) -> Path:
    """Write model + optimiser state dicts, finished epochs, seed and metrics to ``path``.

    Metrics must be a list of ``{name: number}`` dicts (one per epoch). The file is written to a
    temporary name first and renamed, so an interrupted save never leaves a truncated file."""
    _check_model_optimizer(model, optimizer)
    epoch = check_int("epoch", epoch, min_value=0)
    metrics = [] if metrics is None else metrics
    clean = []
    for i, row in enumerate(metrics):
        if not isinstance(row, dict):
            raise TypeError(f"metrics[{i}] must be a dict of numbers, got {type(row).__name__}")
        out = {}
        for k, v in row.items():
            if not isinstance(k, str) or isinstance(v, bool) or not isinstance(v, (int, float)):
                raise TypeError(f"metrics[{i}][{k!r}] = {v!r}: expected a str key and a number")
            out[k] = v
        clean.append(out)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"format": CHECKPOINT_FORMAT, "model": model.state_dict(),
                "optimizer": optimizer.state_dict(), "epoch": epoch, "seed": int(seed),
                "metrics": clean}, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(path) -> dict:
    """Read a checkpoint with ``torch.load(weights_only=True)``; returns its dict (keys
    ``model``, ``optimizer``, ``epoch``, ``seed``, ``metrics``). Files holding arbitrary Python
    objects, or not written by :func:`save_checkpoint`, raise ``ValueError``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises UnpicklingError for objects outside the allow-list
        raise ValueError(f"checkpoint {str(path)!r} could not be loaded safely (weights_only=True): "
                         f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}") from err
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{str(path)!r} is not a {CHECKPOINT_FORMAT} file (expected a dict with "
                         f"format = {CHECKPOINT_FORMAT!r})")
    missing = [k for k in ("model", "optimizer", "epoch", "seed", "metrics") if k not in ckpt]
    if missing:
        raise ValueError(f"checkpoint {str(path)!r} lacks the entries {missing}")
    return ckpt


# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------
def _is_dataset(data) -> bool:
    return isinstance(data, torch.utils.data.Dataset) and hasattr(data, "__len__")


def _batches(data, epoch: int, batch_size: int | None, shuffle: bool, seed: int, name: str):
    """Batches of one epoch. ``data``: a map-style Dataset of ``(x, y)`` pairs (batched here),
    a callable ``epoch -> iterable of batches`` (procedural data), or a re-iterable of batches."""
    if _is_dataset(data):
        n = len(data)
        if n == 0:
            raise ValueError(f"{name} is an empty Dataset")
        if batch_size is None:
            raise ValueError(f"{name} is a Dataset: pass batch_size (an integer >= 1)")
        if shuffle:
            g = torch.Generator().manual_seed(seed * _EPOCH_SEED_STRIDE + epoch)
            order = torch.randperm(n, generator=g).tolist()
        else:
            order = list(range(n))
        for k in range(0, n, batch_size):
            items = [data[i] for i in order[k:k + batch_size]]
            if not all(isinstance(it, (tuple, list)) and len(it) == 2 for it in items):
                raise ValueError(f"{name}: Dataset items must be (input, target) pairs")
            xs, ys = zip(*items)
            yield torch.stack([torch.as_tensor(v) for v in xs]), torch.stack([torch.as_tensor(v) for v in ys])
        return
    it = data(epoch) if callable(data) else data
    if iter(it) is it and not callable(data):
        raise TypeError(f"{name} is a one-shot iterator; pass a Dataset, a list of batches or a "
                        "callable epoch -> batches so that every epoch sees data")
    for b in it:
        yield b


def _is_classification(out: torch.Tensor, target: torch.Tensor) -> bool:
    return (not target.is_floating_point() and target.dtype != torch.bool
            and out.dim() == target.dim() + 1)


def _batch_stats(loss: torch.Tensor, out, target) -> tuple[float, int, int | None]:
    """(summed loss, number of samples, correct predictions or None)."""
    if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
        raise ValueError(f"the loss must be a scalar tensor, got "
                         f"{tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__}")
    if not torch.isfinite(loss):
        raise FloatingPointError(f"the loss became {loss.item()} (non-finite)")
    n = int(target.shape[0]) if isinstance(target, torch.Tensor) and target.dim() > 0 else 1
    correct = None
    if isinstance(out, torch.Tensor) and isinstance(target, torch.Tensor) and _is_classification(out, target):
        correct = int((out.detach().argmax(-1) == target).sum())
        n = int(target.numel())
    return loss.item() * n, n, correct


def _run_batch(model, batch, loss_fn, step_fn, forward):
    if step_fn is not None:
        res = step_fn(model, batch)
        if isinstance(res, torch.Tensor):
            return res, None, None
        if isinstance(res, tuple) and len(res) == 3:
            return res
        raise TypeError("step_fn must return a loss tensor or a tuple (loss, output, target)")
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
        raise ValueError("each batch must be a pair (input, target) when loss_fn is used")
    x, y = batch
    out = forward(model, x) if forward is not None else model(x)
    if isinstance(out, torch.Tensor) and isinstance(y, torch.Tensor) and out.dim() > 0 and y.dim() > 0 \
            and out.shape[0] != y.shape[0]:
        raise ValueError(f"model output has leading size {out.shape[0]} (shape {tuple(out.shape)}) but "
                         f"the target has {y.shape[0]} (shape {tuple(y.shape)}); expected equal batch sizes")
    return loss_fn(out, y), out, y


@torch.no_grad()
def evaluate(model: nn.Module, data, *, loss_fn: Callable | None = None, step_fn: Callable | None = None,
             forward: Callable | None = None, batch_size: int | None = None, epoch: int = 0) -> dict:
    """Mean loss (and accuracy for classification) of ``model`` on ``data`` without training."""
    if (loss_fn is None) == (step_fn is None):
        raise ValueError("pass exactly one of loss_fn and step_fn")
    was_training = model.training
    model.eval()
    try:
        tot, n, cor, cls = 0.0, 0, 0, True
        for batch in _batches(data, epoch, batch_size, False, 0, "val_data"):
            loss, out, y = _run_batch(model, batch, loss_fn, step_fn, forward)
            s, k, c = _batch_stats(loss, out, y)
            tot, n = tot + s, n + k
            cls = cls and c is not None
            cor += c or 0
    finally:
        model.train(was_training)
    if n == 0:
        raise ValueError("val_data yielded no batches")
    res = {"loss": tot / n}
    if cls:
        res["accuracy"] = cor / n
    return res


def _check_model_optimizer(model, optimizer):
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")


# --------------------------------------------------------------------------------------------
# fit
# --------------------------------------------------------------------------------------------
def fit(model: nn.Module, train_data, optimizer: torch.optim.Optimizer, *, epochs: int,
        loss_fn: Callable | None = None, step_fn: Callable | None = None, forward: Callable | None = None,
        val_data=None, batch_size: int | None = None, shuffle: bool = True, seed: int = 0,
        checkpoint: str | os.PathLike | None = None, resume: str | os.PathLike | None = None,
        max_grad_norm: float | None = None, desc: str = "fit") -> list[dict]:
    """Train ``model`` for ``epochs`` epochs; returns one metrics dict per epoch.

    - ``train_data``: a map-style ``torch.utils.data.Dataset`` of ``(x, y)`` pairs (batched by
      ``batch_size``, shuffled per epoch from ``seed``), a list (or other re-iterable) of
      ``(x, y)`` batches, or a callable ``epoch -> iterable of batches`` (procedural tasks such as
      :func:`neurocircuits.data.tasks.adding_problem` drawn fresh each epoch).
    - ``loss_fn(output, target) -> scalar`` with ``output = forward(model, x)`` (default
      ``model(x)``), *or* ``step_fn(model, batch) -> loss`` or ``(loss, output, target)`` for
      models whose call does not fit that pattern. Exactly one of the two.
    - Classification is detected from the batch (integer targets ``[B]``, scores ``[B, C]``):
      the metrics then include ``accuracy`` (fraction of ``argmax`` hits).
    - ``checkpoint``: path written after every epoch (:func:`save_checkpoint`). ``resume``: a
      checkpoint to continue from; epochs already done there are skipped and their metrics kept.
    - ``max_grad_norm``: optional gradient clipping (L2 norm over all parameters).

    Each row of the result holds ``epoch`` (1-based), ``loss``, optionally ``accuracy``,
    ``val_loss`` and ``val_accuracy``.
    """
    _check_model_optimizer(model, optimizer)
    epochs = check_int("epochs", epochs, min_value=1)
    seed = check_int("seed", seed, min_value=0)
    if (loss_fn is None) == (step_fn is None):
        raise ValueError("pass exactly one of loss_fn (with optional forward) and step_fn")
    if step_fn is not None and forward is not None:
        raise ValueError("forward is used with loss_fn only; step_fn calls the model itself")
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, min_value=1)
    if max_grad_norm is not None and not (isinstance(max_grad_norm, (int, float)) and max_grad_norm > 0
                                          and math.isfinite(max_grad_norm)):
        raise ValueError(f"max_grad_norm must be a finite number > 0, got {max_grad_norm!r}")
    if _is_dataset(train_data) and batch_size is None:
        raise ValueError("train_data is a Dataset: pass batch_size (an integer >= 1)")

    history: list[dict] = []
    start = 0
    if resume is not None:
        ckpt = load_checkpoint(resume)
        if ckpt["seed"] != seed:
            raise ValueError(f"checkpoint {str(resume)!r} was trained with seed {ckpt['seed']}, "
                             f"but fit was called with seed {seed}")
        if ckpt["epoch"] > epochs:
            raise ValueError(f"checkpoint {str(resume)!r} has {ckpt['epoch']} epochs done, more than "
                             f"epochs = {epochs}")
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        start = int(ckpt["epoch"])
        history = [dict(r) for r in ckpt["metrics"]]

    params = [p for g in optimizer.param_groups for p in g["params"]]
    bar = progress(range(start, epochs), desc=desc, total=epochs, initial=start)
    for epoch in bar:
        torch.manual_seed(seed * _EPOCH_SEED_STRIDE + epoch)
        model.train()
        tot, n, cor, cls, n_batches = 0.0, 0, 0, True, 0
        for batch in _batches(train_data, epoch, batch_size, shuffle, seed, "train_data"):
            loss, out, y = _run_batch(model, batch, loss_fn, step_fn, forward)
            s, k, c = _batch_stats(loss, out, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if max_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
            optimizer.step()
            tot, n, n_batches = tot + s, n + k, n_batches + 1
            cls = cls and c is not None
            cor += c or 0
        if n_batches == 0:
            raise ValueError(f"train_data yielded no batches in epoch {epoch + 1}")
        row = {"epoch": epoch + 1, "loss": tot / n}
        if cls:
            row["accuracy"] = cor / n
        if val_data is not None:
            v = evaluate(model, val_data, loss_fn=loss_fn, step_fn=step_fn, forward=forward,
                         batch_size=batch_size, epoch=epoch)
            row.update({f"val_{k}": val for k, val in v.items()})
        history.append(row)
        if hasattr(bar, "set_postfix"):
            bar.set_postfix({k: f"{v:.4g}" for k, v in row.items() if k != "epoch"})
        if checkpoint is not None:
            save_checkpoint(checkpoint, model, optimizer, epoch + 1, history, seed)
    return history
