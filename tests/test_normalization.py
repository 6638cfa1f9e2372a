"""Normalization kernels (layer norm, batch norm, dropout) against NumPy float64 formulas, on every ISA path
and thread count, with finite-difference gradient checks; on CUDA devices against the CPU kernels."""
import numpy as np
import pytest

import fusednn as fnn
from conftest import DEVICES
from fusednn import _C
from fusednn.autograd import gradcheck
from fusednn.normalization import batch_norm, dropout, layer_norm


def _ln_ref(x, w, b, k, eps=1e-5):
    axes = tuple(range(x.ndim - k, x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


@pytest.mark.parametrize("shape,k", [((1, 1), 1), ((3, 7), 1), ((4, 5, 33), 2), ((2, 129), 1), ((0, 4), 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_norm_forward(isa, shape, k, dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape) * 3 + 1
    w, b = rng.standard_normal(shape[-k:]), rng.standard_normal(shape[-k:])
    y = layer_norm(x.astype(dtype), shape[-k:], fnn.asarray(w.astype(dtype)), fnn.asarray(b.astype(dtype)))
    assert y.dtype == dtype and y.shape == shape
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(np.asarray(y), _ln_ref(x, w, b, k), atol=tol * 10, rtol=tol)


def test_layer_norm_threads_and_noncontiguous(threads):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((300, 200))
    expected = _ln_ref(x.T, 1, 0, 1)
    for n in (1, 2):
        fnn.set_num_threads(n)
        np.testing.assert_allclose(np.asarray(layer_norm(x.T, 300)), expected, atol=1e-12)


def test_layer_norm_gradcheck(isa):
    rng = np.random.default_rng(3)
    assert gradcheck(lambda x, w, b: layer_norm(x, (2, 3), w, b),
                     (rng.standard_normal((4, 2, 3)), rng.standard_normal((2, 3)), rng.standard_normal((2, 3))))
    assert gradcheck(lambda x: layer_norm(x, 5), (rng.standard_normal((3, 5)),))


def test_layer_norm_bad_input():
    with pytest.raises(ValueError, match=r"normalized_shape \(4,\).*\(3, 5\)"):
        layer_norm(np.zeros((3, 5)), 4)
    with pytest.raises(ValueError, match="weight has shape"):
        layer_norm(np.zeros((3, 5)), 5, np.ones(4))
    with pytest.raises(TypeError, match="float32 or float64"):
        layer_norm(np.zeros((3, 5), np.int64), 5)


def _bn_ref(x, w, b, eps=1e-5):
    axes = (0, 2) if x.ndim == 3 else (0,)
    shape = (1, -1, 1) if x.ndim == 3 else (1, -1)
    mu, var = x.mean(axis=axes), x.var(axis=axes)
    return (x - mu.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * w.reshape(shape) + b.reshape(shape), mu, var


@pytest.mark.parametrize("shape", [(2, 1), (5, 3), (64, 17), (4, 3, 9), (3, 2, 1)])
def test_batch_norm_train_and_running_stats(isa, shape):
    rng = np.random.default_rng(4)
    x = rng.standard_normal(shape) * 2 + 0.5
    C = shape[1]
    w, b = rng.standard_normal(C), rng.standard_normal(C)
    rm, rv = fnn.zeros(C, dtype=np.float64), fnn.ones(C, dtype=np.float64)
    y = batch_norm(x, rm, rv, fnn.asarray(w), fnn.asarray(b), training=True, momentum=0.25)
    ref, mu, var = _bn_ref(x, w, b)
    np.testing.assert_allclose(np.asarray(y), ref, atol=1e-12)
    M = x.size // C
    np.testing.assert_allclose(np.asarray(rm), 0.25 * mu, atol=1e-14)
    np.testing.assert_allclose(np.asarray(rv), 0.75 + 0.25 * var * M / (M - 1), atol=1e-14)
    # eval normalizes with the running statistics
    y_eval = batch_norm(x, rm, rv, fnn.asarray(w), fnn.asarray(b), training=False)
    shape_c = (1, -1, 1) if x.ndim == 3 else (1, -1)
    expected = (x - np.asarray(rm).reshape(shape_c)) / np.sqrt(np.asarray(rv).reshape(shape_c) + 1e-5)
    np.testing.assert_allclose(np.asarray(y_eval), expected * w.reshape(shape_c) + b.reshape(shape_c), atol=1e-12)


def test_batch_norm_gradcheck(isa):
    rng = np.random.default_rng(5)
    for shape in [(6, 3), (4, 2, 5)]:
        assert gradcheck(lambda x, w, b: batch_norm(x, None, None, w, b, training=True),
                         (rng.standard_normal(shape), rng.standard_normal(shape[1]), rng.standard_normal(shape[1])))
    rm, rv = rng.standard_normal(3), rng.random(3) + 0.5
    assert gradcheck(lambda x, w: batch_norm(x, rm, rv, w, None, training=False),
                     (rng.standard_normal((4, 3)), rng.standard_normal(3)))


def test_batch_norm_bad_input():
    with pytest.raises(ValueError, match=r"2-D \(N, C\) or 3-D"):
        batch_norm(np.zeros(4), None, None, training=True)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        batch_norm(np.zeros((1, 4)), None, None, training=True)
    with pytest.raises(ValueError, match="running_mean"):
        batch_norm(np.zeros((3, 4)), None, None, training=False)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_statistics(isa, dtype):
    fnn.random.seed(11)
    x = np.full(200_003, 2.0, dtype)
    p = 0.3
    y = np.asarray(dropout(x, p))
    kept = y != 0
    assert abs(kept.mean() - (1 - p)) < 4 * np.sqrt(p * (1 - p) / x.size)
    np.testing.assert_allclose(y[kept], 2.0 / (1 - p), rtol=1e-6)
    assert y.dtype == dtype


def test_dropout_reproducible_and_isa_independent(threads):
    x = np.arange(1, 1001, dtype=np.float32)
    runs = []
    for isa_name in fnn.config.supported_isas():
        for n in (1, 2):
            fnn.set_num_threads(n)
            with fnn.config.use_isa(isa_name):
                fnn.random.seed(5)
                runs.append(np.asarray(dropout(x, 0.5)))
    for r in runs[1:]:
        np.testing.assert_array_equal(r, runs[0])
    assert np.asarray(dropout(x, 0.5)).tolist() != runs[0].tolist()  # the stream moved on


def test_dropout_edges_and_gradient():
    x = fnn.asarray(np.ones((3, 4)))
    assert dropout(x, 0.5, training=False) is x
    assert dropout(x, 0.0) is x
    assert np.all(np.asarray(dropout(x, 1.0)) == 0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        dropout(x, 1.5)

    def fixed_mask(x):
        fnn.random.seed(3)
        return dropout(x, 0.4)
    assert gradcheck(fixed_mask, (np.random.default_rng(0).standard_normal((5, 7)),))
    # backward uses the forward's mask: the gradient is zero exactly where the output was dropped
    fnn.random.seed(9)
    t = fnn.asarray(np.ones(50))
    t.requires_grad = True
    y = dropout(t, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(np.asarray(t.grad), np.asarray(y))


# ---------------------------------------------------------------- devices: the same data, CPU vs device

TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}


def on(x, device):
    """A NumPy array (or None) as a tensor on `device`."""
    return None if x is None else fnn.tensor(x, device=device)


def assert_same(got, expected, dtype):
    """A device result (or None) against the CPU's."""
    if expected is None:
        assert got is None
        return
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_allclose(np.asarray(got.cpu()), np.asarray(expected), **TOL[dtype])


def run_both(device, fn, *arrays):
    """fn(*tensors) on the CPU and on `device`, the results as tuples."""
    return fn(*(on(a, "cpu") for a in arrays)), fn(*(on(a, device) for a in arrays))


LN_SHAPES = [((5, 1), 1), ((1, 1), 1), ((3, 7), 1), ((2, 4099), 1), ((4, 5, 33), 2), ((300, 24), 1), ((0, 4), 1)]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,k", LN_SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_device_matches_cpu(device, dtype, shape, k, affine):
    rng = np.random.default_rng(7)
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    D = int(np.prod(shape[-k:]))
    w = rng.standard_normal(D).astype(dtype) if affine else None
    b = rng.standard_normal(D).astype(dtype) if affine else None
    cpu, dev = run_both(device, lambda x, w, b: _C._layer_norm(x, D, w, b, 1e-5), x, w, b)
    for got, expected in zip(dev, cpu):
        assert got.device.startswith(device)
        assert_same(got, expected, dtype)
    _, mean, rstd = cpu
    _, mean_dev, rstd_dev = dev
    # need_dx/need_dweight/need_dbias are honoured together and one at a time
    for need in [(True, True, True), (True, False, False), (False, True, False), (False, False, True)]:
        grads_cpu = _C._layer_norm_backward(on(dy, "cpu"), on(x, "cpu"), mean, rstd, on(w, "cpu"), D, *need)
        grads_dev = _C._layer_norm_backward(on(dy, device), on(x, device), mean_dev, rstd_dev, on(w, device), D,
                                            *need)
        for got, expected, wanted in zip(grads_dev, grads_cpu, need):
            assert_same(got, expected if wanted else None, dtype)


@pytest.mark.parametrize("device", DEVICES)
def test_layer_norm_public_op_on_device(device):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((6, 2, 3)).astype(np.float32)
    w, b = rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal((2, 3)).astype(np.float32)
    y = layer_norm(on(x, device), (2, 3), on(w, device), on(b, device))
    assert y.device.startswith(device)
    np.testing.assert_allclose(np.asarray(y.cpu()), _ln_ref(x.astype(np.float64), w, b, 2), rtol=1e-5, atol=1e-5)


BN_CASES = [  # (shape, training)
    ((2, 1), True), ((5, 3), True), ((64, 17), True), ((4, 3, 9), True), ((3, 2, 1), True), ((7, 2, 600), True),
    ((1000, 3), True), ((5, 3), False), ((1, 4), False), ((1, 3, 5), False), ((4, 3, 9), False), ((0, 3), False),
    ((2, 3, 0), False),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,training", BN_CASES)
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_device_matches_cpu(device, dtype, shape, training, affine):
    rng = np.random.default_rng(9)
    C = shape[1]
    x = (rng.standard_normal(shape) * 2 + 0.5).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal(C).astype(dtype) if affine else None
    b = rng.standard_normal(C).astype(dtype) if affine else None
    rm = None if training else rng.standard_normal(C).astype(dtype)
    rv = None if training else (rng.random(C) + 0.5).astype(dtype)
    cpu, dev = run_both(device, lambda *a: _C._batch_norm(*a, training, 1e-5), x, w, b, rm, rv)
    for got, expected in zip(dev, cpu):
        assert got is None or got.device.startswith(device)
        assert_same(got, expected, dtype)
    _, mean, rstd, _ = cpu
    _, mean_dev, rstd_dev, _ = dev
    for need in [(True, True, True), (True, False, False), (False, True, False), (False, False, True)]:
        grads_cpu = _C._batch_norm_backward(on(dy, "cpu"), on(x, "cpu"), mean, rstd, on(w, "cpu"), training, *need)
        grads_dev = _C._batch_norm_backward(on(dy, device), on(x, device), mean_dev, rstd_dev, on(w, device),
                                            training, *need)
        for got, expected, wanted in zip(grads_dev, grads_cpu, need):
            assert_same(got, expected if wanted else None, dtype)


@pytest.mark.parametrize("device", DEVICES)
def test_batch_norm_running_stats_update_on_device(device):
    rng = np.random.default_rng(10)
    x = rng.standard_normal((16, 3, 5))
    results = []
    for where in ("cpu", device):
        rm, rv = fnn.zeros(3, dtype=np.float64, device=where), fnn.ones(3, dtype=np.float64, device=where)
        y = batch_norm(on(x, where), rm, rv, training=True, momentum=0.25)
        y_eval = batch_norm(on(x, where), rm, rv, training=False)
        assert rm.device.startswith(where) and y.device.startswith(where)
        results.append([np.asarray(t.cpu()) for t in (y, rm, rv, y_eval)])
    for got, expected in zip(results[1], results[0]):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
def test_batch_norm_device_errors(device):
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        batch_norm(fnn.zeros((1, 4), device=device), None, None, training=True)
    if device != "cpu":  # parameters on another device than x are refused before any kernel runs
        with pytest.raises(ValueError, match="one device"):
            batch_norm(fnn.zeros((3, 4), device=device), fnn.zeros(4), fnn.ones(4), training=False)
        with pytest.raises(ValueError, match="one device"):
            layer_norm(fnn.zeros((3, 4), device=device), 4, fnn.ones(4))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [0, 1, 7, 1000, 200_003])
@pytest.mark.parametrize("p", [0.3, 1.0])
def test_dropout_device_mask_equals_cpu(device, dtype, n, p):
    x = np.arange(1, n + 1, dtype=dtype)
    gen = _C._default_generator()
    fnn.random.seed(5)
    y, mask = _C._dropout(gen, on(x, "cpu"), p)
    state = fnn.random.get_state()
    fnn.random.seed(5)
    y_dev, mask_dev = _C._dropout(gen, on(x, device), p)
    assert fnn.random.get_state() == state  # the same blocks reserved
    assert y_dev.device.startswith(device) and mask_dev.dtype == dtype
    np.testing.assert_array_equal(np.asarray(mask_dev.cpu()), np.asarray(mask))
    np.testing.assert_array_equal(np.asarray(y_dev.cpu()), np.asarray(y))


@pytest.mark.parametrize("device", DEVICES)
def test_dropout_public_op_on_device(device):
    x = np.ones((40, 25), np.float32)
    fnn.random.seed(9)
    expected = np.asarray(dropout(x, 0.5))
    fnn.random.seed(9)
    y = dropout(on(x, device), 0.5)
    assert y.device.startswith(device)
    np.testing.assert_array_equal(np.asarray(y.cpu()), expected)
