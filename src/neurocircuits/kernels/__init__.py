"""Compiled CPU kernels of the training engine, and which implementation runs them.

Two implementations of the same kernels (fused LIF / ALIF time loop and its adjoint, the
event-driven linear + LIF layer, the NaN / inf count), with the same arguments:

- ``"native"``: C++ with OpenMP (:mod:`neurocircuits.kernels.native`), compiled once per
  machine by the system compiler (``make setup`` does it) and loaded through ctypes. The
  default: it needs no compiler inside the process, so it costs a few MiB where Numba costs
  about 100 MiB.
- ``"numba"``: the same algorithms JIT-compiled by Numba
  (:mod:`neurocircuits.kernels.numba_lif`, :mod:`neurocircuits.kernels.numba_linear_lif`);
  used where the C++ library cannot be built.

Both run on torch's OpenMP threads (``torch.set_num_threads``) and split work into a fixed
number of blocks, so results do not depend on the thread count. The environment variable
``NEUROCIRCUITS_KERNELS`` (``native``, ``numba`` or ``none``) or :func:`use` picks one;
``none`` leaves every layer on plain torch operations.
"""

from __future__ import annotations

import contextlib
import os
from types import SimpleNamespace

__all__ = ["backend", "available", "get", "use", "loaded", "NAMES"]

NAMES = ("native", "numba")
#: The functions every backend provides (arguments: see neurocircuits.kernels.native).
FUNCTIONS = ("row_counts", "linear_lif_forward", "narrow_linear_lif_forward", "narrow_backward",
             "event_linear", "linear_lif_adjoint", "weight_grad", "lif_forward", "lif_backward",
             "count_nonfinite", "transpose")
_choice: str | None = None  # set by use(); else the environment variable, else "auto"
_loaded: dict[str, object] = {}


def _load(name: str):
    """The backend ``name`` as a namespace of kernel functions, or None if it cannot load."""
    if name in _loaded:
        return _loaded[name]
    ns = None
    if name == "native":
        from neurocircuits.kernels import native

        if native.load() is not None:
            ns = native
    elif name == "numba":
        try:
            from neurocircuits.kernels import numba_lif, numba_linear_lif
        except ImportError:
            ns = None
        else:
            found = {k: getattr(m, k) for m in (numba_lif, numba_linear_lif) for k in FUNCTIONS
                     if hasattr(m, k)}
            ns = SimpleNamespace(__name__="numba", **found)
    _loaded[name] = ns
    return ns


_CHOICES = ("auto", "none") + NAMES


def _checked_choice(choice, source: str) -> str:
    if choice not in _CHOICES:
        raise ValueError(f"{source} must be one of {', '.join(_CHOICES)}; got {choice!r}")
    return choice


def _wanted() -> str:
    if _choice is not None:
        return _choice
    env = os.environ.get("NEUROCIRCUITS_KERNELS", "auto").strip().lower() or "auto"
    return _checked_choice(env, "NEUROCIRCUITS_KERNELS")


def get(name: str | None = None):
    """The kernels to run: backend ``name`` if given (None if it is unavailable), else the
    chosen one (:func:`use` / ``NEUROCIRCUITS_KERNELS``; by default native, else numba), or
    None when no compiled kernels are to run."""
    if name is not None:
        if name not in NAMES:
            raise ValueError(f"kernel backend must be one of {NAMES}, got {name!r}")
        return _load(name)
    choice = _wanted()
    if choice == "none":
        return None
    if choice != "auto":
        return _load(choice)
    return _load("native") or _load("numba")


def backend() -> str | None:
    """Name of the backend :func:`get` returns ("native", "numba"), or None."""
    k = get()
    if k is None:
        return None
    return "native" if k is _loaded.get("native") else "numba"


def available(name: str) -> bool:
    """Whether backend ``name`` ("native" or "numba") can run here."""
    return get(name) is not None


def loaded() -> list[str]:
    """Backends loaded in this process so far (without loading any); for run reports."""
    return [name for name in NAMES if _loaded.get(name) is not None]


@contextlib.contextmanager
def use(name: str | None):
    """Within the block run the kernels of backend ``name`` ("native", "numba", "none", or
    None / "auto" for the default)."""
    global _choice
    if name is not None:
        _checked_choice(name, "kernel backend")
    old = _choice
    _choice = name
    try:
        yield get()
    finally:
        _choice = old
