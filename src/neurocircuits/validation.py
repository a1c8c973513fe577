"""Checks at the boundary: bad input is rejected with a message naming the value and what was
expected, before any kernel runs."""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch


def check_int(name: str, value, *, min_value: int | None = None, max_value: int | None = None) -> int:
    """An integer (Python or NumPy, not bool) within [min_value, max_value]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if min_value is not None and value < min_value:
        raise ValueError(f"{name} must be >= {min_value}, got {value}")
    if max_value is not None and value > max_value:
        raise ValueError(f"{name} must be <= {max_value}, got {value}")
    return value


def check_float(name: str, value, *, positive: bool = False, min_value: float | None = None,
                max_value: float | None = None) -> float:
    """A finite real number; ``positive`` demands > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    if min_value is not None and value < min_value:
        raise ValueError(f"{name} must be >= {min_value}, got {value}")
    if max_value is not None and value > max_value:
        raise ValueError(f"{name} must be <= {max_value}, got {value}")
    return value


def check_probability(name: str, value) -> float:
    return check_float(name, value, min_value=0.0, max_value=1.0)


def check_tensor(name: str, x, *, ndim: int | tuple[int, ...] | None = None, dtype_kind: str | None = None,
                 finite: bool = True) -> torch.Tensor:
    """A torch tensor with the given number of dimensions; ``dtype_kind`` is 'float', 'int' or
    'bool'; ``finite`` rejects NaN and inf (floating tensors)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if ndim is not None:
        dims = (ndim,) if isinstance(ndim, int) else ndim
        if x.dim() not in dims:
            want = " or ".join(str(d) for d in dims)
            raise ValueError(f"{name} must have {want} dimensions, got shape {tuple(x.shape)}")
    if dtype_kind == "float" and not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if dtype_kind == "int" and (x.is_floating_point() or x.is_complex() or x.dtype == torch.bool):
        raise TypeError(f"{name} must be an integer tensor, got dtype {x.dtype}")
    if dtype_kind == "bool" and x.dtype != torch.bool:
        raise TypeError(f"{name} must be a bool tensor, got dtype {x.dtype}")
    if finite and x.is_floating_point() and x.numel() and not bool(torch.isfinite(x).all()):
        bad = int((~torch.isfinite(x)).sum())
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s)")
    return x


def check_array(name: str, x, *, ndim: int | None = None, finite: bool = True) -> np.ndarray:
    """A NumPy array (lists are converted) with the given number of dimensions, finite values."""
    arr = np.asarray(x)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {arr.shape}")
    if finite and arr.dtype.kind == "f" and arr.size and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains {int((~np.isfinite(arr)).sum())} NaN or infinite value(s)")
    return arr


def check_last_dim(name: str, x: torch.Tensor, n: int) -> None:
    """``x`` has ``n`` features in its last dimension (the layer's input size)."""
    if x.shape[-1] != n:
        raise ValueError(f"{name} must have {n} features in its last dimension, got shape "
                         f"{tuple(x.shape)}")
