"""The Linear entry points _C._linear_forward / _C._linear_backward (one call per direction of nn.Linear)
against NumPy float64: every activation code, dtype and ISA, the z path, strided operands, requested
gradients only, empty batches, thread counts and bad input; the same calls on a CUDA device."""
import math

import numpy as np
import pytest

import fusednn as fnn
from fusednn import _C

from conftest import DEVICES

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sig(z):
    return 1 / (1 + np.exp(-z))


# code -> (name, act(z), act'(z)) in float64; codes are fusednn::Activation's values.
ACTS = {
    0: ("none", lambda z: z, lambda z: np.ones_like(z)),
    1: ("relu", lambda z: np.maximum(z, 0), lambda z: (z > 0) * 1.0),
    2: ("leaky_relu", lambda z: np.where(z > 0, z, 0.1 * z), lambda z: np.where(z > 0, 1.0, 0.1)),
    3: ("gelu", lambda z: 0.5 * z * (1 + _erf(z / math.sqrt(2))),
        lambda z: 0.5 * (1 + _erf(z / math.sqrt(2))) + z * np.exp(-z * z / 2) / math.sqrt(2 * math.pi)),
    4: ("tanh", np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    5: ("sigmoid", _sig, lambda z: _sig(z) * (1 - _sig(z))),
    6: ("silu", lambda z: z * _sig(z), lambda z: _sig(z) * (1 + z * (1 - _sig(z)))),
}
NEEDS_Z = {3, 6}  # gelu and silu read the pre-activation; the others the output y (leaky_relu: slope > 0)
SLOPE = 0.1


def _data(m, k, n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((n, k)).astype(dtype),
            rng.standard_normal(n).astype(dtype), rng.standard_normal((m, n)).astype(dtype))


def _reference(x, w, b, dy, code):
    x, w, dy = (a.astype(np.float64) for a in (x, w, dy))
    z = x @ w.T + (0 if b is None else b.astype(np.float64))
    _, act, grad = ACTS[code]
    dz = dy * grad(z)
    return z, act(z), dz @ w, dz.T @ x, dz.sum(0)


def _close(got, want, dtype):
    tol = 1e-10 if dtype == np.float64 else 2e-4
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=tol, atol=tol * max(1.0, np.abs(want).max()))


@pytest.mark.parametrize("code", sorted(ACTS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_and_backward_match_numpy(isa, code, dtype):
    x, w, b, dy = _data(7, 5, 19, dtype)
    z_ref, y_ref, dx_ref, dw_ref, db_ref = _reference(x, w, b, dy, code)
    tx, tw, tb, tdy = (fnn.asarray(a) for a in (x, w, b, dy))
    y = _C._linear_forward(tx, tw, tb, code, SLOPE, False)
    z, y_z = _C._linear_forward(tx, tw, tb, code, SLOPE, True)
    for got, want in ((y, y_ref), (z, z_ref), (y_z, y_ref)):
        assert got.shape == want.shape and got.dtype == dtype
        _close(got, want, dtype)
    np.testing.assert_array_equal(np.asarray(y), np.asarray(y_z))  # one epilogue code either way
    saved = z if code in NEEDS_Z else y
    dx, dw, db = _C._linear_backward(tdy, tx, tw, saved, code, SLOPE, True, True, True)
    for got, want in ((dx, dx_ref), (dw, dw_ref), (db, db_ref)):
        assert got.shape == want.shape and got.dtype == dtype
        _close(got, want, dtype)


def test_no_bias_strided_operands_and_requested_gradients_only():
    x, w, _, dy = _data(9, 6, 4, np.float64, seed=1)
    xs, ws, dys = np.repeat(x, 2, axis=1)[:, ::2], np.asfortranarray(w), dy.T.copy().T  # not C-contiguous
    z_ref, y_ref, dx_ref, dw_ref, _ = _reference(x, w, None, dy, 4)
    tx, tw, tdy = fnn.asarray(xs), fnn.asarray(ws), fnn.asarray(dys)
    y = _C._linear_forward(tx, tw, None, 4, SLOPE, False)
    _close(y, y_ref, np.float64)
    dx, dw, db = _C._linear_backward(tdy, tx, tw, y, 4, SLOPE, True, False, False)
    _close(dx, dx_ref, np.float64)
    assert dw is None and db is None
    dx, dw, db = _C._linear_backward(tdy, tx, tw, None, 0, SLOPE, False, True, False)  # no activation: dz = dy
    _close(dw, dy.T @ x, np.float64)
    assert dx is None and db is None


def test_empty_batch_and_empty_features():
    x, w, b, dy = _data(0, 3, 4, np.float32)
    y = _C._linear_forward(fnn.asarray(x), fnn.asarray(w), fnn.asarray(b), 1, SLOPE, False)
    assert y.shape == (0, 4)
    dx, dw, db = _C._linear_backward(fnn.asarray(dy), fnn.asarray(x), fnn.asarray(w), y, 1, SLOPE, True, True, True)
    assert dx.shape == (0, 3) and np.all(np.asarray(dw) == 0) and np.all(np.asarray(db) == 0)
    x, w, b, dy = _data(2, 0, 3, np.float32)  # K = 0: y = act(b)
    y = _C._linear_forward(fnn.asarray(x), fnn.asarray(w), fnn.asarray(b), 1, SLOPE, False)
    np.testing.assert_array_equal(np.asarray(y), np.maximum(np.broadcast_to(b, (2, 3)), 0))


def test_threads_give_identical_results(threads):
    x, w, b, dy = _data(300, 200, 150, np.float32, seed=2)
    tx, tw, tb, tdy = (fnn.asarray(a) for a in (x, w, b, dy))
    results = []
    for n in (1, 2):
        fnn.set_num_threads(n)
        y = _C._linear_forward(tx, tw, tb, 5, SLOPE, False)
        results.append([y, *_C._linear_backward(tdy, tx, tw, y, 5, SLOPE, True, True, True)])
    for one, two in zip(*results):
        np.testing.assert_array_equal(np.asarray(one), np.asarray(two))
    _close(results[0][0], _reference(x, w, b, dy, 5)[1], np.float32)


def test_bad_input():
    x, w, b, dy = (fnn.asarray(a) for a in _data(4, 3, 2, np.float32))
    with pytest.raises(ValueError, match="activation code 7"):
        _C._linear_forward(x, w, b, 7, SLOPE, False)
    with pytest.raises(ValueError, match="activation code -1"):
        _C._linear_backward(dy, x, w, None, -1, SLOPE, True, True, True)
    with pytest.raises(ValueError, match=r"3 features but weight has shape \(2, 4\)"):
        _C._linear_forward(x, fnn.ones((2, 4)), b, 0, SLOPE, False)
    with pytest.raises(ValueError, match="2-D"):
        _C._linear_forward(fnn.ones(3), w, b, 0, SLOPE, False)
    with pytest.raises(TypeError, match="float32 and float64"):
        _C._linear_forward(x, fnn.asarray(np.ones((2, 3))), b, 0, SLOPE, False)
    with pytest.raises(TypeError, match="float32 or both float64"):
        _C._linear_forward(fnn.asarray(np.ones((4, 3), np.int64)), fnn.asarray(np.ones((2, 3), np.int64)), None, 0,
                           SLOPE, False)
    with pytest.raises(ValueError, match=r"bias has shape \(3,\), expected \(2,\)"):
        _C._linear_forward(x, w, fnn.ones(3), 0, SLOPE, False)
    with pytest.raises(TypeError, match="bias has dtype float64"):
        _C._linear_forward(x, w, fnn.asarray(np.ones(2)), 0, SLOPE, False)
    with pytest.raises(ValueError, match=r"dy has shape \(4, 3\), expected \(4, 2\)"):
        _C._linear_backward(fnn.ones((4, 3)), x, w, None, 0, SLOPE, True, True, True)
    with pytest.raises(TypeError, match="dy has dtype float64"):
        _C._linear_backward(fnn.asarray(np.ones((4, 2))), x, w, None, 0, SLOPE, True, True, True)
    with pytest.raises(ValueError, match="needs its saved tensor"):
        _C._linear_backward(dy, x, w, None, 1, SLOPE, True, True, True)


def test_activation_codes_match_the_names():
    assert {"none": 0, **_C._linear_activation_codes} == {name: code for code, (name, _, _) in ACTS.items()}


# ---- on a CUDA device: the same calls on device copies, against the same float64 NumPy reference (each case
# also runs on the CPU, where it checks the test itself) ----

def _on(device, a):
    return fnn.asarray(a).to(device)


def _host(t, device):
    assert t.device == ("cpu" if device == "cpu" else "cuda:0")
    return np.asarray(t.cpu())


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("code", sorted(ACTS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m,k,n", [(7, 5, 19), (150, 131, 70)])  # one tile; ragged edges of several
def test_device_forward_and_backward_match_numpy(device, code, dtype, m, k, n):
    x, w, b, dy = _data(m, k, n, dtype, seed=3)
    z_ref, y_ref, dx_ref, dw_ref, db_ref = _reference(x, w, b, dy, code)
    tx, tw, tb, tdy = (_on(device, a) for a in (x, w, b, dy))
    y = _C._linear_forward(tx, tw, tb, code, SLOPE, False)
    z, y_z = _C._linear_forward(tx, tw, tb, code, SLOPE, True)
    for got, want in ((y, y_ref), (z, z_ref), (y_z, y_ref)):
        assert got.shape == want.shape and got.dtype == dtype
        _close(_host(got, device), want, dtype)
    np.testing.assert_array_equal(_host(y, device), _host(y_z, device))  # one epilogue code either way
    saved = z if code in NEEDS_Z else y
    dx, dw, db = _C._linear_backward(tdy, tx, tw, saved, code, SLOPE, True, True, True)
    for got, want in ((dx, dx_ref), (dw, dw_ref), (db, db_ref)):
        assert got.shape == want.shape and got.dtype == dtype
        _close(_host(got, device), want, dtype)


@pytest.mark.parametrize("device", DEVICES)
def test_device_strided_operands_and_requested_gradients_only(device):
    x, w, _, dy = _data(9, 6, 4, np.float64, seed=4)
    z_ref, y_ref, dx_ref, dw_ref, _ = _reference(x, w, None, dy, 4)
    tx = _on(device, np.ascontiguousarray(x.T)).T  # column-major views, made on the device
    tw = _on(device, np.ascontiguousarray(w.T)).T
    tdy = _on(device, np.ascontiguousarray(dy.T)).T
    y = _C._linear_forward(tx, tw, None, 4, SLOPE, False)
    _close(_host(y, device), y_ref, np.float64)
    dx, dw, db = _C._linear_backward(tdy, tx, tw, y, 4, SLOPE, True, False, False)
    _close(_host(dx, device), dx_ref, np.float64)
    assert dw is None and db is None
    dx, dw, db = _C._linear_backward(tdy, tx, tw, None, 0, SLOPE, False, True, False)  # dz is dy itself
    _close(_host(dw, device), dy.T @ x, np.float64)
    assert dx is None and db is None


@pytest.mark.parametrize("device", DEVICES)
def test_device_empty_batch_and_empty_features(device):
    x, w, b, dy = _data(0, 3, 4, np.float32)
    tx, tw = _on(device, x), _on(device, w)
    y = _C._linear_forward(tx, tw, _on(device, b), 1, SLOPE, False)
    assert y.shape == (0, 4)
    dx, dw, db = _C._linear_backward(_on(device, dy), tx, tw, y, 1, SLOPE, True, True, True)
    assert dx.shape == (0, 3) and np.all(_host(dw, device) == 0) and np.all(_host(db, device) == 0)
    x, w, b, _ = _data(2, 0, 3, np.float32)  # K = 0: y = act(b)
    y = _C._linear_forward(_on(device, x), _on(device, w), _on(device, b), 1, SLOPE, False)
    np.testing.assert_array_equal(_host(y, device), np.maximum(np.broadcast_to(b, (2, 3)), 0))


@pytest.mark.skipif(not fnn.cuda.is_available(), reason="no CUDA device on this machine")
def test_device_mixing_devices_names_both():
    x, w, b, dy = (fnn.asarray(a) for a in _data(4, 3, 2, np.float32))
    both = "cuda:0 and cpu|cpu and cuda:0"
    with pytest.raises(ValueError, match=both):
        _C._linear_forward(x.cuda(), w, b.cuda(), 0, SLOPE, False)
    with pytest.raises(ValueError, match=both):
        _C._linear_forward(x.cuda(), w.cuda(), b, 0, SLOPE, False)
    with pytest.raises(ValueError, match=both):
        _C._linear_backward(dy, x.cuda(), w.cuda(), None, 0, SLOPE, True, True, True)
