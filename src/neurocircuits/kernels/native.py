"""The C++ kernels (``lif_kernels.cpp``): build with the system compiler, load through ctypes.

The library is compiled once per source version, compiler and CPU into a cache folder
(``$NEUROCIRCUITS_CACHE``, else ``~/.cache/neurocircuits``, else the temporary folder) and
loaded from there afterwards; ``make setup`` builds it (``python -m neurocircuits.kernels``).
Loading it costs a few MiB, where Numba brings a whole compiler into the process (about 100
MiB once its first kernel is compiled). Where no C++ compiler with OpenMP is found, or the
build fails, :func:`load` returns None and the Numba kernels are used instead.

The wrappers below take NumPy arrays (C-contiguous, of the dtype the kernel instance expects)
and pass their addresses; shapes are read from the arrays, so a call cannot be given
inconsistent sizes.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

SOURCE = Path(__file__).with_name("lif_kernels.cpp")
ABI_VERSION = 4
# No -ffast-math: the NaN / inf counts rely on IEEE comparisons, and sums keep their order.
# Without trapping math and signed zeros the adjoint's surrogate loop vectorises (1.5x faster).
FLAGS = ["-O3", "-march=native", "-fno-math-errno", "-fno-trapping-math", "-fno-signed-zeros",
         "-fopenmp", "-std=c++17", "-shared", "-fPIC", "-fvisibility=hidden"]

_lib = None
_error: str | None = None
_tried = False


def compiler() -> str | None:
    """The C++ compiler to use: ``$CXX``, else g++, else c++ (None if none is found)."""
    for name in (os.environ.get("CXX"), "g++", "c++"):
        if name and shutil.which(name):
            return name
    return None


def _cpu_signature() -> str:
    """What -march=native depends on: the machine and its CPU feature flags."""
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    flags = line
                    break
    except OSError:
        pass
    return platform.machine() + flags


def cache_dir() -> Path:
    env = os.environ.get("NEUROCIRCUITS_CACHE")
    if env:
        return Path(env) / "kernels"
    home = Path.home() / ".cache" / "neurocircuits" / "kernels"
    try:
        home.mkdir(parents=True, exist_ok=True)
        if os.access(home, os.W_OK):
            return home
    except OSError:
        pass
    return Path(tempfile.gettempdir()) / "neurocircuits-kernels"


def library_path(cxx: str) -> Path:
    """Where the library built from this source by ``cxx`` on this CPU lives."""
    version = subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout
    key = hashlib.sha256("\0".join([SOURCE.read_text(), cxx, version, " ".join(FLAGS),
                                    _cpu_signature()]).encode()).hexdigest()[:16]
    return cache_dir() / f"lif_kernels-{key}.so"


def build(verbose: bool = False) -> Path:
    """Compile the library unless a build of this source exists; returns its path. Raises
    RuntimeError with the compiler's message if there is no compiler or the build fails."""
    cxx = compiler()
    if cxx is None:
        raise RuntimeError("no C++ compiler found (set CXX, or install g++)")
    path = library_path(cxx)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    # build under a temporary name, then rename: concurrent builds never see a partial file
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=path.parent)
    os.close(fd)
    cmd = [cxx, *FLAGS, str(SOURCE), "-o", tmp]
    if verbose:
        print(" ".join(cmd), file=sys.stderr)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        os.unlink(tmp)
        raise RuntimeError(f"building {SOURCE.name} failed:\n{proc.stderr[-3000:]}")
    os.replace(tmp, path)
    return path


def load():
    """The loaded library (a ctypes CDLL with typed entry points), or None if it cannot be
    built or loaded (the reason is in :func:`error`). Tried once per process."""
    global _lib, _error, _tried
    if _tried:
        return _lib
    _tried = True
    import torch  # noqa: F401  (its OpenMP runtime must be loaded first: the library binds to it)

    try:
        lib = ctypes.CDLL(str(build()))
        if lib.nc_abi_version() != ABI_VERSION:
            raise RuntimeError("library built from another version of the source")
        _declare(lib)
        _lib = lib
    except Exception as exc:  # no compiler, failed build, unloadable library
        _error = str(exc)
        _lib = None
    return _lib


def error() -> str | None:
    """Why :func:`load` returned None (None if it has not failed)."""
    return _error


# ------------------------------------------------------------------ entry points
_P = ctypes.c_void_p
_I64 = ctypes.c_int64
_INT = ctypes.c_int


def _declare(lib) -> None:
    for s, real in (("f32", ctypes.c_float), ("f64", ctypes.c_double)):
        sig = {
            "row_counts": (_I64, [_P, _I64, _I64, _P, _I64, _INT]),
            "linear_lif_forward": (None, [_P, _I64, _I64, _I64, _I64, _P, _P, _P, _P, _P, _P, _P, _P,
                                          _P, _P, _I64, _INT]),
            "narrow_linear_lif_forward": (_I64, [_P, _I64, _I64, _I64, _I64, _P, _P, _P, _P, _P, _P, _P,
                                                 _I64, _INT]),
            "narrow_backward": (None, [_P, _P, _P, _P, _I64, _I64, _I64, _P, _I64, _INT]),
            "event_linear": (None, [_P, _I64, _I64, _I64, _P, _P, _P, _P, _P, _I64, _INT]),
            "linear_lif_adjoint": (None, [_P, _P, _P, _P, _P, _INT, _P, _P, _P, _P, _I64, _I64, _I64,
                                          _I64, _INT]),
            "weight_grad": (None, [_P, _P, _P, _P, _I64, _I64, _I64, _P, _I64, _I64, _INT]),
            "lif_forward": (None, [_P, _P, _P, _P, _P, _P, _P, real, real, _INT, _INT, _INT, _P, _P, _P,
                                   _I64, _I64, _I64, _I64, _INT]),
            "lif_backward": (None, [_P, _P, _INT, _P, _P, _P, _P, _P, _P, _P, _P, _P, real, real, _INT,
                                    _INT, _INT, _INT, _P, _P, _P, _P, _P, _P, _P, _P, _I64, _I64, _I64,
                                    _I64, _INT]),
            "count_nonfinite": (_I64, [_P, _I64, _INT]),
            "transpose": (None, [_P, _I64, _I64, _P, _INT]),
        }
        for name, (res, args) in sig.items():
            fn = getattr(lib, f"nc_{name}_{s}")
            fn.restype = res
            fn.argtypes = args
    lib.nc_abi_version.restype = _INT


def _fn(name: str, a: np.ndarray):
    suffix = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}.get(a.dtype)
    if suffix is None:
        raise TypeError(f"native kernels take float32 or float64 arrays, got {a.dtype}")
    return getattr(_lib, f"nc_{name}_{suffix}")


def _p(a: np.ndarray) -> int:
    if not a.flags.c_contiguous:  # an internal misuse, but never silently read strided memory
        raise ValueError(f"native kernels need C-contiguous arrays, got strides {a.strides}")
    return a.ctypes.data


# Wrappers with the same arguments as the Numba backend's (neurocircuits.kernels.numba_*).
def row_counts(x, counts, nb, nth) -> int:
    return int(_fn("row_counts", x)(_p(x), x.shape[0], x.shape[1], _p(counts), nb, nth))


def linear_lif_forward(x, indptr, idx, val, wt, bias, beta, v, prm, H, S, nb, nth) -> None:
    T, B, N = H.shape
    _fn("linear_lif_forward", x)(_p(x), T, B, x.shape[1], N, _p(indptr), _p(idx), _p(val), _p(wt),
                                 _p(bias), _p(beta), _p(v), _p(prm), _p(H), _p(S), nb, nth)


def narrow_linear_lif_forward(x, wt, bias, beta, v, prm, H, S, nb, nth) -> int:
    T, B, N = H.shape
    return int(_fn("narrow_linear_lif_forward", x)(_p(x), T, B, x.shape[1], N, _p(wt), _p(bias), _p(beta),
                                                   _p(v), _p(prm), _p(H), _p(S), nb, nth))


def narrow_backward(x, D, W, gx, part, nth) -> None:
    """part [nb, n_in, N]: partial ∂L/∂Wᵀ per block of rows; gx [R, n_in] = D W, or None."""
    _fn("narrow_backward", x)(_p(x), _p(D), _p(W), None if gx is None else _p(gx), x.shape[0], x.shape[1],
                              D.shape[1], _p(part), part.shape[0], nth)


def event_linear(x, indptr, idx, val, wt, y, nb, nth) -> None:
    _fn("event_linear", x)(_p(x), x.shape[0], x.shape[1], y.shape[1], _p(indptr), _p(idx), _p(val),
                           _p(wt), _p(y), nb, nth)


def linear_lif_adjoint(H, gS, v0, beta, prm, kind, lam, D, g_beta, db, nth) -> None:
    T, B, N = H.shape
    _fn("linear_lif_adjoint", H)(_p(H), _p(gS), _p(v0), _p(beta), _p(prm), kind, _p(lam), _p(D),
                                 _p(g_beta), _p(db), T, B, N, g_beta.shape[0], nth)


def weight_grad(indptr, idx, val, D, dwt, rb, nb, nth) -> None:
    _fn("weight_grad", D)(_p(indptr), _p(idx), _p(val), _p(D), D.shape[0], D.shape[1], dwt.shape[0],
                          _p(dwt), rb, nb, nth)


def lif_forward(x, v, i, a, beta, alpha, rho, thr0, b, reset, has_syn, has_adapt, H, S, I_traj,
                nb, nth) -> None:
    T, B, N = x.shape
    _fn("lif_forward", x)(_p(x), _p(v), _p(i), _p(a), _p(beta), _p(alpha), _p(rho), thr0, b, reset,
                          int(has_syn), int(has_adapt), _p(H), _p(S), _p(I_traj), T, B, N, nb, nth)


def lif_backward(H, SG, kind, prm, gS, I_traj, v0, i0, a0, beta, alpha, rho, thr0, b, reset, detach,
                 has_syn, has_adapt, lam_v, lam_i, lam_a, dX, g_beta, g_alpha, g_rho, A_prev,
                 nb, nth) -> None:
    T, B, N = H.shape
    _fn("lif_backward", H)(_p(H), _p(SG), kind, _p(prm), _p(gS), _p(I_traj), _p(v0), _p(i0), _p(a0),
                           _p(beta), _p(alpha), _p(rho), thr0, b, reset, int(detach), int(has_syn),
                           int(has_adapt), _p(lam_v), _p(lam_i), _p(lam_a), _p(dX), _p(g_beta),
                           _p(g_alpha), _p(g_rho), _p(A_prev), T, B, N, nb, nth)


def count_nonfinite(flat, nth) -> int:
    return int(_fn("count_nonfinite", flat)(_p(flat), flat.size, nth))


def transpose(src, dst, nth) -> None:
    """dst [cols, rows] = srcᵀ for src [rows, cols]."""
    _fn("transpose", src)(_p(src), src.shape[0], src.shape[1], _p(dst), nth)
