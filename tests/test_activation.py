"""Activation kernels against NumPy float64 formulas: values and gradients of every activation on every
ISA and float dtype (edge sizes, strided inputs), saturation for huge |x|, +-inf and NaN, softmax /
log_softmax along any axis, gradcheck, the fused bias + activation backward, bad input, and torch.
The CUDA kernels against the CPU's on the same data (skipped without a device), and their scalar formulas
(core/activation_ops.h) evaluated on the host against the CPU kernels on every machine."""
import math

import numpy as np
import pytest

import fusednn as fnn
from fusednn import _C
from fusednn import activation as F
from conftest import DEVICES

_erf = np.vectorize(math.erf, otypes=[np.float64])
SQRT2PI = math.sqrt(2 * math.pi)
# The NumPy oracles evaluate both branches of np.where, which overflow harmlessly on huge inputs.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _sig(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _gelu_tanh_u(x):
    return math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)


# name -> (fusednn function, NumPy forward, NumPy derivative), all in float64 on moderate x.
ACTS = {
    "relu": (F.relu, lambda x: np.maximum(x, 0), lambda x: (x > 0) * 1.0),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x),
                   lambda x: np.where(x > 0, 1.0, 0.2)),
    "elu": (lambda x: F.elu(x, 1.5), lambda x: np.where(x > 0, x, 1.5 * np.expm1(x)),
            lambda x: np.where(x > 0, 1.0, 1.5 * np.exp(x))),
    "gelu": (F.gelu, lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))),
             lambda x: 0.5 * (1 + _erf(x / math.sqrt(2))) + x * np.exp(-x * x / 2) / SQRT2PI),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), lambda x: 0.5 * x * (1 + np.tanh(_gelu_tanh_u(x))),
                  lambda x: 0.5 * (1 + np.tanh(_gelu_tanh_u(x))) + 0.5 * x * (1 - np.tanh(_gelu_tanh_u(x)) ** 2)
                  * math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x * x)),
    "silu": (F.silu, lambda x: x * _sig(x), lambda x: _sig(x) * (1 + x * (1 - _sig(x)))),
    "softplus": (lambda x: F.softplus(x, 2.0, 10.0), lambda x: np.where(2 * x > 10, x, np.log1p(np.exp(2 * x)) / 2),
                 lambda x: np.where(2 * x > 10, 1.0, _sig(2 * x))),
    "sigmoid": (F.sigmoid, _sig, lambda x: _sig(x) * (1 - _sig(x))),
    "tanh": (F.tanh, np.tanh, lambda x: 1 - np.tanh(x) ** 2),
}
KERNELS = ["relu", "leaky_relu", "elu", "gelu", "gelu_tanh", "silu", "softplus", "sigmoid", "tanh"]
PARAMS = {"leaky_relu": (0.2, 1.0, 20.0), "elu": (1.5, 1.0, 20.0), "softplus": (0.0, 2.0, 10.0)}
FROM_OUTPUT = {"relu", "sigmoid", "tanh"}
TOL = {np.float32: dict(rtol=2e-6, atol=2e-6), np.float64: dict(rtol=1e-13, atol=1e-14)}


def _kernel(name, x):
    return np.asarray(_C._act(getattr(_C.ActKind, name), x, *PARAMS.get(name, (0.01, 1.0, 20.0))))


def _kernel_grad(name, dy, saved):
    return np.asarray(_C._act_backward(getattr(_C.ActKind, name), dy, saved, *PARAMS.get(name, (0.01, 1.0, 20.0))))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [0, 1, 7, 33, 1000])
def test_kernels_match_numpy_on_every_isa(isa, dtype, n):
    rng = np.random.default_rng(n)
    x = (rng.standard_normal(2 * n) * 4).astype(dtype)[::2]  # strided
    dy = rng.standard_normal(n).astype(dtype)
    for name in KERNELS:
        _, fwd, deriv = ACTS[name]
        y = _kernel(name, x)
        assert y.dtype == dtype and y.shape == (n,)
        np.testing.assert_allclose(y, fwd(x.astype(np.float64)), **TOL[dtype], err_msg=name)
        saved = y if name in FROM_OUTPUT else x
        np.testing.assert_allclose(_kernel_grad(name, dy, saved), dy * deriv(x.astype(np.float64)),
                                   rtol=TOL[dtype]["rtol"] * 10, atol=TOL[dtype]["atol"] * 10, err_msg=name)


@pytest.mark.parametrize("name", list(ACTS))
def test_gradcheck(name):
    x = np.random.default_rng(1).standard_normal((3, 5)) * 3
    assert fnn.autograd.gradcheck(ACTS[name][0], (x,))


@pytest.mark.parametrize("dtype,big", [(np.float32, 1e4), (np.float64, 1e300)])
def test_large_values_inf_and_nan(isa, dtype, big):
    x = np.array([-np.inf, -big, -100, -30, 30, 100, big, np.inf, np.nan], dtype)
    finite = ~np.isnan(x)
    limits = {  # the mathematical limits at -inf and +inf
        "relu": (0, np.inf), "leaky_relu": (-np.inf, np.inf), "elu": (-1.5, np.inf), "gelu": (0, np.inf),
        "gelu_tanh": (0, np.inf), "silu": (0, np.inf), "softplus": (0, np.inf), "sigmoid": (0, 1), "tanh": (-1, 1)}
    for name in KERNELS:
        y = _kernel(name, x)
        assert np.isnan(y[-1]), name
        assert not np.isnan(y[finite]).any(), (name, y)
        assert (y[0], y[7]) == limits[name], (name, y)
        np.testing.assert_allclose(y[1:7], ACTS[name][1](x[1:7].astype(np.float64)).astype(dtype), rtol=1e-6,
                                   atol=1e-30, err_msg=name)
        g = _kernel_grad(name, np.ones_like(x), y if name in FROM_OUTPUT else x)
        assert np.isfinite(g[finite]).all(), (name, g)
        assert g[7] == ACTS[name][2](np.array([1e3]))[0], name  # the derivative's limit at +inf


def _np_softmax(x, axis, log):
    z = x - x.max(axis=axis, keepdims=True, initial=-np.inf)
    lse = np.log(np.exp(z).sum(axis=axis, keepdims=True))
    return z - lse if log else np.exp(z - lse)


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_any_axis(isa, log, dtype):
    rng = np.random.default_rng(2)
    fn = F.log_softmax if log else F.softmax
    for shape in [(0, 3), (1,), (5,), (3, 130), (4, 3, 70), (2, 100, 3)]:
        x = (rng.standard_normal(shape) * 5).astype(dtype)
        for axis in range(-len(shape), len(shape)):
            got = np.asarray(fn(x, axis=axis))
            np.testing.assert_allclose(got, _np_softmax(x.astype(np.float64), axis, log), rtol=1e-5 if dtype == np.float32
                                       else 1e-12, atol=1e-5 if dtype == np.float32 else 1e-13)
            dy = rng.standard_normal(shape).astype(dtype)
            y = np.asarray(fn(x, axis=axis)).astype(np.float64)
            expected = (dy - np.exp(y) * dy.sum(axis, keepdims=True)) if log else y * (dy - (dy * y).sum(axis, keepdims=True))
            np.testing.assert_allclose(np.asarray(_C._softmax_backward(dy, y.astype(dtype), axis, log)), expected,
                                       rtol=1e-4 if dtype == np.float32 else 1e-11, atol=1e-5 if dtype == np.float32 else 1e-13)
    x = np.random.default_rng(3).standard_normal((6, 8))
    np.testing.assert_allclose(np.asarray(fn(x.T, dim=0)), _np_softmax(x.T, 0, log), rtol=1e-12)  # strided, dim alias


def test_softmax_large_values_and_nan():
    x = np.array([[1e4, 0, -1e4], [-np.inf, 0, 1], [np.nan, 0, 1]], np.float32)
    y = np.asarray(F.softmax(x))
    np.testing.assert_allclose(y[0], [1, 0, 0])
    np.testing.assert_allclose(y[1], _np_softmax(np.array([-np.inf, 0.0, 1]), 0, False), rtol=1e-6)
    assert np.isnan(y[2]).all()
    np.testing.assert_allclose(np.asarray(F.log_softmax(x))[0], [0, -1e4, -2e4])


@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("log", [False, True])
def test_softmax_gradcheck(axis, log):
    x = np.random.default_rng(4).standard_normal((2, 3, 4))
    fn = F.log_softmax if log else F.softmax
    assert fnn.autograd.gradcheck(lambda t: fn(t, axis=axis), (x,))


GEMM_ACTS = {"none": ("relu", None), "relu": "relu", "leaky_relu": "leaky_relu", "gelu": "gelu", "tanh": "tanh",
             "sigmoid": "sigmoid", "silu": "silu"}


@pytest.mark.parametrize("act", list(GEMM_ACTS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bias_act_backward(isa, threads, act, dtype):
    rng = np.random.default_rng(5)
    for m, n in [(1, 1), (7, 13), (64, 2100)]:
        z = (rng.standard_normal((m, n)) * 3).astype(dtype)
        dy = rng.standard_normal((m, n)).astype(dtype)
        if act == "none":
            saved, expected = None, dy.astype(np.float64)
        else:
            slope = 0.01
            fwd, deriv = {"leaky_relu": (lambda v: np.where(v > 0, v, slope * v), lambda v: np.where(v > 0, 1.0, slope))}.get(
                act, ACTS[act][1:])
            saved = fwd(z.astype(np.float64)).astype(dtype) if act in FROM_OUTPUT else z
            expected = dy * deriv(z.astype(np.float64))
        tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
        results = []
        for t in (1, 2):
            fnn.set_num_threads(t)
            dz, db = _C._bias_act_backward(act, dy, saved, 0.01)
            np.testing.assert_allclose(np.asarray(dz), expected, **tol)
            np.testing.assert_allclose(np.asarray(db), expected.sum(0), rtol=tol["rtol"] * 10, atol=tol["atol"] * m)
            results.append(np.asarray(db).copy())
            acc = fnn.asarray(np.ones(n, dtype))
            _, db2 = _C._bias_act_backward(act, dy, saved, 0.01, acc)  # accumulates into acc
            assert np.shares_memory(np.asarray(db2), np.asarray(acc))
            np.testing.assert_allclose(np.asarray(acc), np.asarray(db) + 1, rtol=tol["rtol"] * 10, atol=tol["atol"] * m)
        np.testing.assert_array_equal(results[0], results[1])  # the same sums for any thread count


def test_bias_act_backward_bad_input():
    dy = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        _C._bias_act_backward("swish", dy, dy, 0.01)
    with pytest.raises(ValueError, match="must be 2-D"):
        _C._bias_act_backward("relu", np.ones(3, np.float32), np.ones(3, np.float32), 0.01)
    with pytest.raises(ValueError, match="does not match"):
        _C._bias_act_backward("relu", dy, np.ones((3, 2), np.float32), 0.01)
    with pytest.raises(ValueError, match="length 3"):
        _C._bias_act_backward("relu", dy, dy, 0.01, fnn.asarray(np.zeros(2, np.float32)))
    with pytest.raises(TypeError, match="float64"):
        _C._bias_act_backward("relu", dy, dy.astype(np.float64), 0.01)


def test_bad_input_and_dtypes():
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(np.ones(3), approximate="fast")
    with pytest.raises(fnn.AxisError):
        F.softmax(np.ones((2, 3)), axis=2)
    with pytest.raises(ValueError, match="does not match"):
        _C._act_backward(_C.ActKind.relu, np.ones(3), np.ones(4), 0.0, 1.0, 20.0)
    assert F.relu(np.array([1, -2], np.int64)).dtype == np.float64
    assert F.relu(np.array([True])).dtype == np.float32
    assert F.relu(np.ones(3, np.float32)).dtype == np.float32


def test_autograd_saves_and_chains():
    x = fnn.asarray(np.array([-1.0, 0.5, 2.0]))
    x.requires_grad = True
    F.relu(F.gelu(x)).sum().backward()
    d = ACTS["gelu"][2](np.array([-1.0, 0.5, 2.0])) * (ACTS["gelu"][1](np.array([-1.0, 0.5, 2.0])) > 0)
    np.testing.assert_allclose(np.asarray(x.grad), d, rtol=1e-13)
    assert F.sigmoid is fnn.sigmoid and F.tanh is fnn.tanh


def test_matches_torch():
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    x = np.random.default_rng(6).standard_normal((8, 17)) * 4
    pairs = {"relu": TF.relu, "leaky_relu": lambda t: TF.leaky_relu(t, 0.2), "elu": lambda t: TF.elu(t, 1.5),
             "gelu": TF.gelu, "gelu_tanh": lambda t: TF.gelu(t, approximate="tanh"), "silu": TF.silu,
             "softplus": lambda t: TF.softplus(t, 2.0, 10.0), "sigmoid": torch.sigmoid, "tanh": torch.tanh}
    pairs["softmax"], pairs["log_softmax"] = (lambda t: TF.softmax(t, 0)), (lambda t: TF.log_softmax(t, 1))
    ours = dict(ACTS)
    ours["softmax"], ours["log_softmax"] = (lambda t: F.softmax(t, dim=0), None), (lambda t: F.log_softmax(t, 1), None)
    for name, tf in pairs.items():
        tx = torch.tensor(x, requires_grad=True)
        ty = tf(tx)
        ty.backward(torch.ones_like(ty) * 0.5 + tx.detach())
        fx = fnn.asarray(x.copy())
        fx.requires_grad = True
        fy = ours[name][0](fx)
        fy.backward(fnn.asarray(np.full(x.shape, 0.5) + x))
        np.testing.assert_allclose(np.asarray(fy), ty.detach().numpy(), rtol=1e-12, atol=1e-14, err_msg=name)
        np.testing.assert_allclose(np.asarray(fx.grad), tx.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


# ---------------------------------------------------------------- CUDA devices

DEVICE_TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


def _edge_inputs(dtype, n, seed=8):
    """n values of dtype: the edges (+-inf, NaN, +-0, huge, saturating) first, then normal ones; and a dy."""
    rng = np.random.default_rng(seed)
    big = 1e4 if dtype == np.float32 else 1e300
    edges = [-np.inf, -big, -100, -30, -14.5, -1e-3, -0.0, 0.0, 1e-3, 14.5, 30, 100, big, np.inf, np.nan, -0.75]
    x = rng.standard_normal(n) * 6
    x[: min(n, len(edges))] = edges[:n]
    return x.astype(dtype), rng.standard_normal(n).astype(dtype)


def _close(got, want, dtype, what, scale=1.0):
    tol = DEVICE_TOL[dtype]
    np.testing.assert_allclose(got, want, rtol=tol["rtol"], atol=tol["atol"] * scale, equal_nan=True, err_msg=what)


def _host(t):
    return np.asarray(t.cpu())


def _dev(device):
    """The name a tensor on `device` reports."""
    return "cpu" if device == "cpu" else "cuda:0"


def _params(name):
    return PARAMS.get(name, (0.01, 1.0, 20.0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_device_formulas_match_cpu_kernels(isa, dtype):
    """The CUDA kernels' scalar formulas, run on the host, give the CPU kernels' results (edges included)."""
    x, dy = _edge_inputs(dtype, 4000)
    x[16:1000] = np.geomspace(1e-8, 1e4 if dtype == np.float32 else 1e300, 984) * np.resize([1, -1], 984)
    for name in KERNELS:
        kind = getattr(_C.ActKind, name)
        y = np.asarray(_C._act(kind, x, *_params(name)))
        _close(np.asarray(_C._act_reference(kind, x, None, *_params(name))), y, dtype, name)
        saved = y if name in FROM_OUTPUT else x
        _close(np.asarray(_C._act_reference(kind, saved, dy, *_params(name))),
               np.asarray(_C._act_backward(kind, dy, saved, *_params(name))), dtype, name + " backward")


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [0, 1, 7, 33, 1 << 20])
def test_device_activations_match_cpu(device, dtype, n):
    x, dy = _edge_inputs(dtype, n)
    xd, dyd = fnn.asarray(x, device=device), fnn.asarray(dy, device=device)
    for name in KERNELS:
        kind, p = getattr(_C.ActKind, name), _params(name)
        y, yd = _C._act(kind, x, *p), _C._act(kind, xd, *p)
        assert yd.device == _dev(device) and yd.dtype == dtype and yd.shape == (n,)
        _close(_host(yd), np.asarray(y), dtype, name)
        saved, saved_d = (y, yd) if name in FROM_OUTPUT else (x, xd)
        dx = _C._act_backward(kind, dyd, saved_d, *p)
        assert dx.device == _dev(device)
        _close(_host(dx), np.asarray(_C._act_backward(kind, dy, saved, *p)), dtype, name + " backward")


@pytest.mark.parametrize("device", DEVICES)
def test_device_activation_dtypes_and_devices(device):
    ints = fnn.asarray(np.array([1, -2, 3], np.int64), device=device)
    y = F.relu(ints)
    assert y.dtype == np.float64 and y.device == _dev(device)
    np.testing.assert_array_equal(_host(y), [1, 0, 3])
    assert F.gelu(fnn.asarray(np.array([True, False]), device=device)).dtype == np.float32
    if device != "cpu":
        with pytest.raises(ValueError, match="one device"):
            _C._act_backward(_C.ActKind.relu, np.ones(3), fnn.ones(3, device=device), 0.0, 1.0, 20.0)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_device_softmax_each_axis(device, log, dtype):
    rng = np.random.default_rng(9)
    # (2, 3, 1500): a last axis long enough for a block per row; the others a warp per row or, along a
    # strided axis, a thread per (outer, inner) pair.
    for shape in [(4, 3, 70), (2, 3, 1500), (3, 2, 0), (1, 1, 1)]:
        x = (rng.standard_normal(shape) * 5).astype(dtype)
        if x.size:
            x.flat[:3] = [1e4, -np.inf, -1e4]
            x.flat[-1] = np.nan
        xd = fnn.asarray(x, device=device)
        for axis in range(3):
            y, yd = _C._softmax(x, axis, log), _C._softmax(xd, axis, log)
            assert yd.device == _dev(device)
            _close(_host(yd), np.asarray(y), dtype, f"{shape} axis {axis}")
            dy = rng.standard_normal(shape).astype(dtype)
            dx = _C._softmax_backward(fnn.asarray(dy, device=device), yd, axis, log)
            want = np.asarray(_C._softmax_backward(dy, y, axis, log))
            _close(_host(dx), want, dtype, f"{shape} axis {axis} backward", scale=10)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("act", list(GEMM_ACTS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_device_bias_act_backward(device, act, dtype):
    rng = np.random.default_rng(10)
    for m, n in [(1, 1), (7, 13), (600, 70), (3, 2100), (0, 5), (5, 0)]:  # 600 rows: three row chunks
        z = (rng.standard_normal((m, n)) * 3).astype(dtype)
        dy = rng.standard_normal((m, n)).astype(dtype)
        saved = None
        if act != "none":
            saved = np.asarray(_C._act(getattr(_C.ActKind, act), z, 0.01, 1.0, 20.0)) if act in FROM_OUTPUT else z
        dz, db = (np.asarray(t) for t in _C._bias_act_backward(act, dy, saved, 0.01))
        on = (lambda a: None if a is None else fnn.asarray(a, device=device))
        dz_d, db_d = _C._bias_act_backward(act, on(dy), on(saved), 0.01)
        assert dz_d.device == _dev(device) and db_d.device == _dev(device) and db_d.shape == (n,)
        _close(_host(dz_d), dz, dtype, f"dz {m}x{n}")
        _close(_host(db_d), db, dtype, f"db {m}x{n}", scale=max(m, 1))
        acc = fnn.asarray(np.ones(n, dtype), device=device)
        dz2, db2 = _C._bias_act_backward(act, on(dy), on(saved), 0.01, acc)  # accumulates into acc
        np.testing.assert_array_equal(_host(db2), _host(acc))
        _close(_host(acc), db + 1, dtype, f"db += {m}x{n}", scale=max(m, 1))
        np.testing.assert_array_equal(_host(dz2), _host(dz_d))
        np.testing.assert_array_equal(_host(_C._bias_act_backward(act, on(dy), on(saved), 0.01)[1]), _host(db_d))
