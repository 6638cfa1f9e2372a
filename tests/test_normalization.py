"""Normalization kernels (layer norm, batch norm, dropout) against NumPy float64 formulas, on every ISA path
and thread count, with finite-difference gradient checks."""
import numpy as np
import pytest

import fusednn as fnn
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
