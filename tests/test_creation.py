"""Creation functions against NumPy: values, dtypes (float32 default for floats), shapes, zero-size,
zero-copy rules of asarray, and bad input."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import fusednn as fnn
from strategies import DTYPES, arrays


def check(t, expected, dtype=None):
    assert isinstance(t, fnn.Tensor)
    expected = np.asarray(expected)
    assert t.shape == expected.shape
    assert t.dtype == (expected.dtype if dtype is None else dtype)
    np.testing.assert_array_equal(np.asarray(t), expected)


# ---- tensor / asarray / array ----

def test_tensor_default_dtypes_and_copies():
    check(fnn.tensor([1.5, 2]), np.array([1.5, 2], np.float32))
    check(fnn.tensor([[1, 2], [3, 4]]), np.array([[1, 2], [3, 4]], np.int64))
    check(fnn.tensor([True, False]), np.array([True, False]))
    check(fnn.tensor(2.5), np.float32(2.5))
    check(fnn.tensor([], dtype=np.float64), np.zeros(0))
    a = np.arange(6.0).reshape(2, 3)
    t = fnn.tensor(a)
    check(t, a)  # NumPy arrays keep their dtype
    a[0, 0] = 99
    assert np.asarray(t)[0, 0] == 0  # a copy
    u = fnn.tensor(t, dtype=np.int32)
    check(u, np.asarray(t).astype(np.int32))
    assert fnn.tensor(t)._data_ptr != t._data_ptr


@given(arrays(st.sampled_from(DTYPES)), st.sampled_from(DTYPES + [None]))
def test_asarray_matches_numpy(a, dtype):
    t = fnn.asarray(a, dtype=dtype)
    check(t, np.asarray(a, dtype=dtype))
    if dtype is None or np.dtype(dtype) == a.dtype:
        assert a.size == 0 or t._data_ptr == a.__array_interface__["data"][0]  # zero-copy


def test_asarray_copy_rules():
    a = np.arange(4.0)
    t = fnn.asarray(a)
    assert fnn.asarray(t) is t and fnn.asarray(t, dtype=np.float64) is t
    a[1] = 7
    assert np.asarray(t)[1] == 7  # shares memory with the array
    c = fnn.asarray(t, copy=True)
    assert c._data_ptr != t._data_ptr
    assert fnn.array(t)._data_ptr != t._data_ptr  # array copies by default
    assert fnn.array(t, copy=None) is t
    assert fnn.asarray(t[::2])._data_ptr == t._data_ptr  # non-contiguous views stay views
    with pytest.raises(ValueError, match="copy=False"):
        fnn.asarray(t, dtype=np.float32, copy=False)
    with pytest.raises(ValueError, match="copy=False"):
        fnn.asarray([1, 2], copy=False)
    check(fnn.asarray([1, 2], dtype=np.float64), np.array([1.0, 2.0]))
    check(fnn.asarray(a[::-2]), a[::-2])
    assert fnn.from_numpy is fnn._C.from_numpy


def test_tensor_bad_input():
    with pytest.raises(TypeError, match="not understood|unsupported dtype"):
        fnn.tensor([1, 2], dtype="complex64")
    with pytest.raises(TypeError, match="sequence of numbers"):
        fnn.tensor([object()])
    with pytest.raises(ValueError, match="inhomogeneous"):
        fnn.tensor([[1, 2], [3]])


# ---- filled tensors ----

@pytest.mark.parametrize("shape", [(), 0, 5, (2, 3), (3, 0, 2), [4, 1]])
@pytest.mark.parametrize("dtype", [None] + DTYPES)
def test_zeros_ones_empty_full(shape, dtype):
    expected_dtype = np.float32 if dtype is None else dtype
    check(fnn.zeros(shape, dtype=dtype), np.zeros(shape, expected_dtype))
    check(fnn.ones(shape, dtype=dtype), np.ones(shape, expected_dtype))
    check(fnn.full(shape, 3, dtype=dtype), np.full(shape, 3, expected_dtype if dtype else np.int64))
    e = fnn.empty(shape, dtype=dtype)
    assert e.shape == np.zeros(shape).shape and e.dtype == expected_dtype


def test_full_value_kinds():
    check(fnn.full((2,), 7), np.array([7, 7], np.int64))
    check(fnn.full((2,), 7.5), np.array([7.5, 7.5], np.float32))
    check(fnn.full((2,), True), np.array([True, True]))
    check(fnn.full((2,), np.float64(0.1)), np.full(2, 0.1))
    check(fnn.full((2,), 2**62 + 1), np.full(2, 2**62 + 1))  # exact beyond 2^53
    check(fnn.full((2, 3), 2.7, dtype=np.int32), np.full((2, 3), 2.7).astype(np.int32))
    check(fnn.full((2, 3), np.array([1.0, 2.0, 3.0])), np.full((2, 3), np.array([1.0, 2.0, 3.0])))
    check(fnn.full((3,), np.nan), np.full(3, np.nan, np.float32))
    with pytest.raises(ValueError, match="out of bounds for int32"):
        fnn.full((2,), 2**40, dtype=np.int32)
    with pytest.raises(TypeError, match="fill value"):
        fnn.full((2,), "x")


@given(arrays(st.sampled_from(DTYPES)), st.sampled_from(DTYPES + [None]))
def test_like_functions(a, dtype):
    expected_dtype = a.dtype if dtype is None else np.dtype(dtype)
    for fn, np_fn in [(fnn.zeros_like, np.zeros_like), (fnn.ones_like, np.ones_like)]:
        check(fn(a, dtype=dtype), np_fn(a, dtype=expected_dtype))
        check(fn(fnn.asarray(a), dtype=dtype), np_fn(a, dtype=expected_dtype))
    check(fnn.full_like(a, 1, dtype=dtype), np.full_like(a, 1, dtype=expected_dtype))
    e = fnn.empty_like(fnn.asarray(a), dtype=dtype)
    assert e.shape == a.shape and e.dtype == expected_dtype


def test_like_dispatch_and_shape():
    t = fnn.ones((2, 3), dtype=np.int32)
    z = np.zeros_like(t)
    assert isinstance(z, fnn.Tensor) and z.dtype == np.int32 and z.shape == (2, 3)
    check(fnn.full_like([1.5, 2.5], 4), np.array([4, 4], np.float32))
    check(fnn.ones_like(t, shape=(4,)), np.ones(4, np.int32))


def test_filled_bad_input():
    with pytest.raises(ValueError, match="negative dimensions"):
        fnn.zeros((2, -1))
    with pytest.raises(ValueError, match="negative dimensions"):
        fnn.ones(-3)
    with pytest.raises(MemoryError):
        fnn.zeros(10**15)
    with pytest.raises(MemoryError):
        fnn.empty((10**9, 10**9))
    with pytest.raises(ValueError, match="too big"):
        fnn.zeros((10**10, 10**10, 10**10))
    with pytest.raises(TypeError):
        fnn.zeros(2.5)
    with pytest.raises(TypeError, match="unsupported dtype"):
        fnn.zeros(3, dtype=np.complex64)


# ---- ranges ----

@pytest.mark.parametrize("args", [(5,), (0,), (-3,), (2, 9), (9, 2), (9, 2, -2), (-7, 20, 3), (3, 3),
                                  (-2**62, 2**62, 2**60), (2**63 - 10, 2**63 - 1, 3), (-2**63, 2**63 - 1, 2**62)])
def test_arange_integers_exact(args):
    check(fnn.arange(*args), np.arange(*args, dtype=np.int64))
    if max(map(abs, args)) < 2**31:
        check(fnn.arange(*args, dtype=np.int32), np.arange(*args, dtype=np.int32))


@pytest.mark.parametrize("args", [(0.0, 1.0, 0.1), (1, 2.5), (-1.5, 1.5, 0.25), (10.0, 0.0, -0.3), (0.5,),
                                  (0, 1e-3, 1e-7), (1e16, 1e16 + 100, 7.0), (3, 2.0)])
def test_arange_floats(args):
    # float64 exactly as NumPy (start + i * ((start + step) - start)); float32 rounds that once, where
    # NumPy's float32 arange accumulates in float32 (off by up to ~1e-5 relative for (10, 0, -0.3)).
    expected = np.arange(*args, dtype=np.float64)
    check(fnn.arange(*args, dtype=np.float64), expected)
    check(fnn.arange(*args), expected.astype(np.float32))
    ours, numpy32 = np.asarray(fnn.arange(*args), np.float64), np.arange(*args, dtype=np.float32)
    assert np.all(np.abs(ours - expected) <= np.abs(numpy32 - expected))


def test_arange_large_parallel(threads):
    for t in (1, 2):
        fnn.set_num_threads(t)
        check(fnn.arange(1_000_003), np.arange(1_000_003))
        check(fnn.arange(0.0, 100.0, 1e-4, dtype=np.float64), np.arange(0.0, 100.0, 1e-4))


def test_arange_bad_input():
    with pytest.raises(ValueError, match="step must not be zero"):
        fnn.arange(0, 5, 0)
    with pytest.raises(ValueError, match="step must not be zero"):
        fnn.arange(0.0, 5.0, 0.0)
    with pytest.raises(ValueError, match="length"):
        fnn.arange(0, np.nan)
    with pytest.raises(ValueError, match="maximum allowed size"):
        fnn.arange(0, np.inf)
    with pytest.raises(MemoryError):
        fnn.arange(10**15)
    with pytest.raises(TypeError, match="real number"):
        fnn.arange("3")
    with pytest.raises(TypeError, match="bool"):
        fnn.arange(3, dtype=np.bool_)


@pytest.mark.parametrize("start,stop", [(0, 1), (-3.5, 7.25), (5, -5), (1e-8, 1e-8), (0, 1e-320), (2, 3e30)])
@pytest.mark.parametrize("num", [0, 1, 2, 7, 50, 1001])
@pytest.mark.parametrize("endpoint", [True, False])
def test_linspace_matches_numpy(start, stop, num, endpoint):
    expected, step = np.linspace(start, stop, num, endpoint=endpoint, retstep=True)
    got, got_step = fnn.linspace(start, stop, num, endpoint=endpoint, retstep=True, dtype=np.float64)
    check(got, expected)
    assert got_step == step or (np.isnan(step) and np.isnan(got_step))
    check(fnn.linspace(start, stop, num, endpoint=endpoint), expected.astype(np.float32))


def test_linspace_dtypes_and_dispatch():
    check(fnn.linspace(-5, 5, 11, dtype=np.int64), np.linspace(-5, 5, 11, dtype=np.int64))
    check(fnn.linspace(-2.5, 2.5, 9, dtype=np.int32), np.linspace(-2.5, 2.5, 9, dtype=np.int32))
    assert fnn.linspace(0, 1).shape == (50,)
    check(fnn.linspace(fnn.tensor(0.0), fnn.tensor(2.0), 3), np.array([0, 1, 2], np.float32))
    with pytest.raises(ValueError, match="must be non-negative"):
        fnn.linspace(0, 1, -1)
    with pytest.raises(TypeError):
        fnn.linspace(0, 1, 2.5)


@pytest.mark.parametrize("n,m,k", [(0, None, 0), (1, None, 0), (3, None, 0), (3, 5, 1), (5, 3, -2), (4, 4, 7),
                                   (4, 4, -9), (2, 3, 2**62), (3, 0, 0), (130, 257, 3)])
@pytest.mark.parametrize("dtype", [None] + DTYPES)
def test_eye(n, m, k, dtype):
    check(fnn.eye(n, m, k=k, dtype=dtype), np.eye(n, m, k=k, dtype=np.float32 if dtype is None else dtype))


def test_identity_and_eye_bad_input():
    check(fnn.identity(4), np.identity(4, np.float32))
    check(fnn.identity(3, dtype=np.int64), np.identity(3, np.int64))
    with pytest.raises(ValueError, match="negative dimensions"):
        fnn.eye(-1)
    with pytest.raises(ValueError, match="negative dimensions"):
        fnn.eye(2, -2)
    with pytest.raises(MemoryError):
        fnn.eye(10**8)
    with pytest.raises(TypeError):
        fnn.eye(2.0)
