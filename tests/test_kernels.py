"""The compiled kernel backends (neurocircuits.kernels): choice, build errors, agreement of the
C++ and Numba implementations, and what loading them brings into the process."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from neurocircuits import kernels
from neurocircuits.kernels import native
from neurocircuits.neurons.lif import LIFParams, LIFState, lif_sequence
from neurocircuits.training.bptt import SpikingLinear
from neurocircuits.training.linear_lif import linear_lif

# The C++ kernels need a compiler, so their tests skip without one; Numba is a core dependency,
# so a Numba backend that fails to load is an error, not a skip.
needs_native = pytest.mark.skipif(not kernels.available("native"),
                                  reason=f"C++ kernels unavailable: {native.error()}")


def backend_or_skip(name):
    """Backend ``name``'s kernels; skips (saying why) only when the C++ library cannot load."""
    k = kernels.get(name)
    if k is None and name == "native":
        pytest.skip(f"native kernels unavailable here: {native.error()}")
    assert k is not None, f"{name} kernels failed to load, although Numba is a core dependency"
    return k


def test_bad_backend_names_are_rejected(monkeypatch):
    with pytest.raises(ValueError, match="'cuda'"):
        with kernels.use("cuda"):
            pass
    with pytest.raises(ValueError, match="'fortran'"):
        kernels.get("fortran")
    monkeypatch.setenv("NEUROCIRCUITS_KERNELS", "fast")
    with pytest.raises(ValueError, match="NEUROCIRCUITS_KERNELS.*'fast'"):
        kernels.get()


@pytest.mark.parametrize("name", kernels.NAMES)
def test_every_backend_provides_every_kernel(name):
    k = backend_or_skip(name)
    missing = [f for f in kernels.FUNCTIONS if not callable(getattr(k, f, None))]
    assert not missing


def test_loaded_lists_backends_without_loading_any():
    before = kernels.loaded()
    assert set(before) <= set(kernels.NAMES)
    kernels.get()  # the default backend, now loaded
    assert kernels.backend() in kernels.loaded()


@pytest.mark.parametrize("name", kernels.NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transpose_of_odd_shapes(name, dtype):
    k = backend_or_skip(name)
    a = np.random.default_rng(0).standard_normal((37, 70)).astype(dtype)  # not multiples of 32
    out = np.empty((70, 37), dtype=dtype)
    k.transpose(a, out, 2)
    assert np.array_equal(out, a.T)


@needs_native
def test_native_wrappers_refuse_strided_arrays():
    a = np.zeros((8, 6), dtype=np.float32)
    with pytest.raises(ValueError, match="C-contiguous"):
        native.transpose(a.T, np.empty((8, 6), dtype=np.float32), 1)


def test_weight_gradient_arrives_in_the_weights_layout():
    # a contiguous gradient is kept as .grad as it is (a transposed view would be copied)
    W = torch.randn(40, 60, requires_grad=True)
    S, _ = linear_lif((torch.rand(3, 2, 60) < 0.3).float(), W, None, LIFParams(0.9, threshold=0.2))
    S.sum().backward()
    assert W.grad.is_contiguous() and W.grad.shape == W.shape


def test_input_major_weight_is_read_and_returned_without_copies():
    # SpikingLinear stores W [N, n_in] as a contiguous Wᵀ: the kernels read it as it is and the
    # gradient arrives in that layout (same strides), with the numbers of a contiguous W
    layer = SpikingLinear(60, 40, generator=torch.Generator().manual_seed(0))
    W = layer.weight
    assert W.shape == (40, 60) and W.t().is_contiguous() and not W.is_contiguous()
    x = (torch.rand(3, 2, 60, generator=torch.Generator().manual_seed(1)) < 0.3).float()
    p = LIFParams(0.9, threshold=0.2)
    S, _ = linear_lif(x, W, layer.bias, p)
    (S * torch.arange(S.numel()).reshape(S.shape)).sum().backward()
    assert W.grad.stride() == W.stride()
    W2 = W.detach().contiguous().requires_grad_(True)
    S2, _ = linear_lif(x, W2, layer.bias.detach(), p)
    (S2 * torch.arange(S2.numel()).reshape(S2.shape)).sum().backward()
    assert torch.equal(S, S2) and torch.allclose(W.grad, W2.grad, rtol=1e-6, atol=1e-6)
    # a state dict saved from the layer loads into the same layout
    other = SpikingLinear(60, 40)
    other.load_state_dict(layer.state_dict())
    assert torch.equal(other.weight, layer.weight) and other.weight.t().is_contiguous()


def test_none_leaves_layers_on_torch_with_the_same_numbers():
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(5, 4, 60, generator=g) < 0.2).float()
    W = torch.randn(40, 60, generator=g) * 0.5
    p = LIFParams(0.9)
    with kernels.use("none"):
        assert kernels.backend() is None
        S0, st0 = linear_lif(x, W, None, p)
    S1, st1 = linear_lif(x, W, None, p)
    assert torch.equal(S0, S1)
    assert torch.allclose(st0.v, st1.v, atol=1e-5)


def test_build_without_compiler_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("NEUROCIRCUITS_CACHE", str(tmp_path))
    monkeypatch.setattr(native, "compiler", lambda: None)
    with pytest.raises(RuntimeError, match="no C\\+\\+ compiler"):
        native.build()


@pytest.mark.skipif(native.compiler() is None, reason="no C++ compiler")
def test_failed_build_reports_the_compiler_message_and_leaves_no_file(monkeypatch, tmp_path):
    bad = tmp_path / "broken.cpp"
    bad.write_text("int f( { return 0; }\n")
    monkeypatch.setenv("NEUROCIRCUITS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(native, "SOURCE", bad)
    with pytest.raises(RuntimeError, match="broken.cpp failed"):
        native.build()
    assert not list((tmp_path / "cache" / "kernels").glob("*.so"))


@needs_native
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_native_and_numba_agree(dtype):
    g = torch.Generator().manual_seed(3)
    T, B, n_in, N = 12, 9, 150, 70
    x = (torch.rand(T, B, n_in, generator=g) < 0.15).to(dtype)
    W = (torch.randn(N, n_in, generator=g) * 0.3).to(dtype)
    b = (torch.randn(N, generator=g) * 0.1).to(dtype)
    cur = torch.rand(T, B, N, generator=g, dtype=dtype) * 0.7
    w_out = torch.randn(T, B, N, generator=g, dtype=dtype)
    res = {}
    for name in ("native", "numba"):
        with kernels.use(name):
            Wl = W.clone().requires_grad_()
            S, st = linear_lif(x, Wl, b, LIFParams(0.85, threshold=0.5))
            gW = torch.autograd.grad((S * w_out).sum() + st.v.sum(), Wl)[0]
            xl = cur.clone().requires_grad_()
            S2, st2 = lif_sequence(xl, LIFState(torch.zeros(B, N, dtype=dtype)), LIFParams(0.9), fused=True)
            gx = torch.autograd.grad((S2 * w_out).sum() + st2.v.sum(), xl)[0]
            res[name] = (S, gW, S2, gx)
    tol = 1e-4 if dtype == torch.float32 else 1e-10
    a, c = res["native"], res["numba"]
    assert a[0].sum() > 0 and a[2].sum() > 0
    assert torch.equal(a[0], c[0]) and torch.equal(a[2], c[2])
    assert torch.allclose(a[1], c[1], rtol=tol, atol=tol)
    assert torch.allclose(a[3], c[3], rtol=tol, atol=tol)


@needs_native
def test_native_path_loads_no_jit_compiler_and_one_openmp_runtime():
    # The C++ kernels keep the process light: training a fused layer must not import Numba,
    # and the library must share torch's OpenMP runtime rather than load a second one.
    code = textwrap.dedent("""
        import sys, torch
        from neurocircuits.training.linear_lif import linear_lif
        from neurocircuits.neurons.lif import LIFParams
        W = torch.randn(64, 100, requires_grad=True)
        S, _ = linear_lif((torch.rand(4, 3, 100) < 0.2).float(), W, None, LIFParams(0.9))
        S.sum().backward()
        maps = open("/proc/self/maps").read() if sys.platform.startswith("linux") else ""
        gomp = {line.split()[-1] for line in maps.splitlines() if "gomp" in line}
        print("numba" in sys.modules, len(gomp))
    """)
    env = dict(os.environ, NEUROCIRCUITS_KERNELS="native")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    numba_loaded, n_gomp = out.stdout.split()
    assert numba_loaded == "False"
    if sys.platform.startswith("linux"):
        assert int(n_gomp) <= 1


@pytest.mark.parametrize("n_in", [16, 37, 48])
@pytest.mark.parametrize("density", [0.0, 0.5, 1.0])
def test_input_compaction_edges(n_in, density):
    # vector-width multiples and tails; silent, half-active and fully active rows with
    # negative values: the event-driven forward must equal the dense one
    g = torch.Generator().manual_seed(n_in)
    x = torch.randn(4, 3, n_in, generator=g) * (torch.rand(4, 3, n_in, generator=g) < density)
    W = torch.randn(40, n_in, generator=g) * 0.4
    p = LIFParams(0.9, threshold=0.3)
    S, st = linear_lif(x, W, None, p)
    S_ref, st_ref = lif_sequence(torch.nn.functional.linear(x, W), LIFState(torch.zeros(3, 40)), p)
    assert torch.equal(S, S_ref)
    assert torch.allclose(st.v, st_ref.v, atol=1e-5)


def test_event_index_refuses_more_rows_than_int32_holds():
    # row numbers are int32 in the kernels: refused before any kernel runs (a zero-stride view
    # gives the shape without the memory)
    from neurocircuits.training.linear_lif import _CSR

    huge = np.lib.stride_tricks.as_strided(np.zeros(1, np.float32), shape=(2**31, 4), strides=(0, 0))
    with pytest.raises(ValueError, match="2\\*\\*31"):
        _CSR(huge)


def test_nonfinite_values_of_an_input_major_weight_are_found_and_counted():
    from neurocircuits.neurons.lif import check_finite

    layer = SpikingLinear(60, 40)
    with torch.no_grad():
        layer.weight[3, 7] = float("nan")
        layer.weight[39, 0] = float("inf")
    assert not layer.weight.is_contiguous()
    with pytest.raises(ValueError, match="weight contains 2 NaN or infinite"):
        check_finite("weight", layer.weight)
    with pytest.raises(ValueError, match="weight contains 2 NaN or infinite"):
        linear_lif(torch.zeros(2, 1, 60), layer.weight, None, LIFParams(0.9))
