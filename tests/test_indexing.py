"""Tensor indexing against NumPy: basic indices give views, integer/boolean arrays gather and scatter
(NumPy's placement rule for the broadcast dims), item assignment casts and broadcasts, and the
functions take, nonzero, argwhere, flatnonzero."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import fusednn as fnn
from strategies import DTYPES, arrays, maybe_strided

A = np.arange(4 * 5 * 6, dtype=np.float64).reshape(4, 5, 6)


def shares_memory(t, a):
    return np.shares_memory(np.asarray(t), a)


def check_get(a, index):
    expected = a[index]
    got = fnn.Tensor(a)[index]
    assert isinstance(got, fnn.Tensor)
    assert got.shape == np.shape(expected)
    assert got.dtype == a.dtype
    np.testing.assert_array_equal(np.asarray(got), expected)
    return got


BASIC = [0, -1, 3, slice(None), slice(1, 3), slice(None, None, -1), slice(-2, None, -2), slice(5, 1, -1),
         slice(10, 20), (0, 1), (0, 1, 2), (-1, -1, -1), (Ellipsis,), (Ellipsis, 0), (0, Ellipsis, 1),
         (None,), (slice(None), None), (None, 0, None, slice(None, None, 2), None), (Ellipsis, None),
         (slice(1, 3), slice(None, None, 3), -2), (), (np.int64(2), np.int32(-1)), np.array(1)]


@pytest.mark.parametrize("index", BASIC, ids=repr)
def test_basic_index_is_a_view(index):
    a = A.copy()
    got = check_get(a, index)
    if got.ndim > 0 and got.size > 0:
        assert shares_memory(got, a)


@given(st.data())
def test_basic_indices_hypothesis(data):
    a = data.draw(maybe_strided(data.draw(arrays(st.sampled_from(DTYPES)))))
    index = data.draw(hnp.basic_indices(a.shape, allow_newaxis=True, allow_ellipsis=True))
    check_get(a, index)


ADVANCED = [[0, 2], [[0, 1], [3, 2]], [-1, 0, -4], [], (slice(None), [4, 0]), ([0, 1], [1, 2]),
            ([0, 1], slice(None), [1, 2]), (slice(None), [0, 1], [1, 2]), (0, slice(None), [1, 2]),
            (slice(None), 0, [1, 2]), ([[0], [1]], slice(1, 3), [0, 5]), (Ellipsis, [1, 1, 1]),
            ([0], None, [0]), (slice(None), [0], Ellipsis, [0]), (None, [2, 3]),
            (np.array([1, 2], dtype=np.int32), 3), (slice(None, None, -1), [2], slice(None, None, 2)),
            ([0, 1], [[0], [1], [2]], [5]), np.array([[True, False, True, True, False]] * 4),
            np.array([True, False, True, False]), (slice(None), np.array([True, False, False, True, True])),
            (np.array([False] * 4),), (True,), (False,), (True, [0, 1]), ([0, 1], True), (Ellipsis, np.array([True] * 6)),
            (np.array([[True] * 5] * 4), [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1]),
            (np.uint8(1), [0]), (np.array([0, 1], dtype=np.uint16),), (fnn.Tensor(np.array([3, 0])),)]


@pytest.mark.parametrize("index", ADVANCED, ids=repr)
@pytest.mark.parametrize("dtype", DTYPES)
def test_advanced_index_gathers_like_numpy(index, dtype):
    a = A.astype(dtype)
    np_index = tuple(np.asarray(i) if isinstance(i, fnn.Tensor) else i for i in index) \
        if isinstance(index, tuple) else index
    expected = a[np_index]
    got = fnn.Tensor(a)[index]
    assert got.shape == expected.shape and got.dtype == a.dtype
    np.testing.assert_array_equal(np.asarray(got), expected)
    if got.size:
        assert not shares_memory(got, a)


@given(st.data())
def test_integer_array_indices_hypothesis(data):
    a = data.draw(maybe_strided(data.draw(arrays(st.sampled_from(DTYPES),
                                                 hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5)))))
    index = data.draw(hnp.integer_array_indices(a.shape, result_shape=hnp.array_shapes(min_dims=0, max_dims=2)))
    expected = a[index]
    np.testing.assert_array_equal(np.asarray(fnn.Tensor(a)[index]), expected)


@given(st.data())
def test_boolean_mask_hypothesis(data):
    a = data.draw(maybe_strided(data.draw(arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5)))))
    k = data.draw(st.integers(1, a.ndim))
    mask = data.draw(hnp.arrays(np.bool_, a.shape[:k]))
    np.testing.assert_array_equal(np.asarray(fnn.Tensor(a)[mask]), a[mask])
    np.testing.assert_array_equal(np.asarray(fnn.Tensor(a)[fnn.Tensor(mask)]), a[mask])


def test_non_contiguous_source_and_index():
    a = np.arange(40 * 30, dtype=np.float32).reshape(40, 30)[::-3, 1::2]
    idx = np.arange(24, dtype=np.int64)[::-2] % a.shape[0]
    for index in [idx, (slice(None), idx[:5] % 15), (idx[:, None], idx[None, :5] % 15), (idx[:3], 2)]:
        np.testing.assert_array_equal(np.asarray(fnn.Tensor(a)[index]), a[index])


@pytest.mark.parametrize("n", [1, 2])
def test_large_gather_any_thread_count(threads, n):
    fnn.set_num_threads(n)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3000, 257)).astype(np.float32)
    idx = rng.integers(-3000, 3000, 1000)
    np.testing.assert_array_equal(np.asarray(fnn.Tensor(x)[idx]), x[idx])
    np.testing.assert_array_equal(np.asarray(fnn.Tensor(x)[:, idx % 257]), x[:, idx % 257])
    np.testing.assert_array_equal(np.asarray(fnn.Tensor(x.T)[idx % 257]), x.T[idx % 257])


@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), ()])
def test_zero_size_and_0d(shape):
    a = np.zeros(shape, np.float32)
    t = fnn.Tensor(a)
    for index in [(), (Ellipsis,), (None,), (True,), (False,)]:
        np.testing.assert_array_equal(np.asarray(t[index]), a[index])
    if a.ndim:
        np.testing.assert_array_equal(np.asarray(t[[]]), a[[]])
        np.testing.assert_array_equal(np.asarray(t[np.zeros(shape[0], bool)]), a[np.zeros(shape[0], bool)])


def test_int_index_gives_0d_view_not_scalar():
    a = A.copy()
    t = fnn.Tensor(a)[1, 2, 3]
    assert isinstance(t, fnn.Tensor) and t.shape == () and float(t) == a[1, 2, 3]
    assert shares_memory(t, a)


@pytest.mark.parametrize("index, error, match", [
    (4, IndexError, "index 4 is out of bounds for axis 0 with size 4"),
    (-5, IndexError, "index -5 is out of bounds for axis 0 with size 4"),
    ((0, 7), IndexError, "index 7 is out of bounds for axis 1 with size 5"),
    ((None, 0, 0, 9), IndexError, "index 9 is out of bounds for axis 2 with size 6"),
    ([0, 4], IndexError, "index 4 is out of bounds for axis 0 with size 4"),
    ((slice(None), [1, -6]), IndexError, "index -6 is out of bounds for axis 1 with size 5"),
    ((0, 0, 0, 0), IndexError, "too many indices for array: array is 3-dimensional, but 4 were indexed"),
    ((Ellipsis, Ellipsis), IndexError, "single ellipsis"),
    (1.0, IndexError, "only integers, slices"),
    ("a", IndexError, "only integers, slices"),
    ([1.5], IndexError, "arrays used as indices must be of integer"),
    (np.array([True, False]), IndexError, "boolean index did not match indexed array along axis 0; size of axis is 4"),
    (([0, 1], [0, 1, 2]), IndexError, r"shape mismatch: indexing arrays could not be broadcast together with shapes \(2,\) \(3,\)"),
    (slice(None, None, 0), ValueError, "slice step cannot be zero"),
])
def test_bad_index(index, error, match):
    with pytest.raises(error, match=match):
        fnn.Tensor(A)[index]


def test_out_of_range_index_writes_nothing():
    a = np.zeros((4, 3))
    with pytest.raises(IndexError, match="index 9 is out of bounds"):
        fnn.Tensor(a)[[0, 1, 9]] = 7.0
    assert not a.any()


SET_CASES = [(0, 5), ((1, slice(None)), [1, 2, 3]), (slice(None, None, -2), 2.5), ((Ellipsis, 1), np.arange(4)),
             ([0, 0, 2], 1), ([0, 0, 2], [[1, 1, 1], [2, 2, 2], [3, 3, 3]]), ((slice(None), [2, 0]), 9),
             (np.array([True, False, True, False]), -1), (np.array([[1, 0, 1]] * 4, bool), list(range(8))),
             (([0, 3], [2, 2]), np.array([1.5, 2.5])), ((None, 1), [[4, 5, 6]]), (True, 3), ((), 8)]


@pytest.mark.parametrize("index, value", SET_CASES, ids=repr)
@pytest.mark.parametrize("dtype", DTYPES)
def test_setitem_like_numpy(index, value, dtype):
    a = np.arange(12).reshape(4, 3).astype(dtype)
    expected = a.copy()
    expected[index] = value
    fnn.Tensor(a)[index] = value  # writes through to a
    np.testing.assert_array_equal(a, expected)


def test_setitem_tensor_values_and_non_contiguous_destination():
    base = np.zeros((6, 8), np.float64)
    a = base[::2, ::-2]
    t = fnn.Tensor(a)
    t[1] = fnn.Tensor(np.arange(4, dtype=np.float32))
    t[[0, 2], 1:3] = fnn.Tensor(np.array([[1, 2]], dtype=np.int32))
    expected = np.zeros((6, 8))[::2, ::-2]
    expected[1] = np.arange(4)
    expected[[0, 2], 1:3] = [[1, 2]]
    np.testing.assert_array_equal(a, expected)


def test_setitem_python_float_keeps_float64_precision():
    a = np.zeros(3)
    fnn.Tensor(a)[1] = 0.1
    fnn.Tensor(a)[[2]] = 0.1
    assert a[1] == 0.1 and a[2] == 0.1


def test_setitem_overlapping_source():
    a = np.arange(10.0)
    expected = a.copy()
    expected[[1, 2, 3]] = expected[:3]
    t = fnn.Tensor(a)
    t[[1, 2, 3]] = t[:3]
    np.testing.assert_array_equal(a, expected)
    expected[1:] = expected[:-1].copy()
    t[1:] = t[:-1]
    np.testing.assert_array_equal(a, expected)


def test_setitem_duplicates_last_write_wins():
    a = np.zeros(3)
    fnn.Tensor(a)[[0, 0, 1, 0]] = [1.0, 2.0, 3.0, 4.0]
    np.testing.assert_array_equal(a, [4.0, 3.0, 0.0])


def test_setitem_errors():
    ro = np.zeros(3)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="assignment destination is read-only"):
        fnn.Tensor(ro)[0] = 1
    with pytest.raises(ValueError, match="assignment destination is read-only"):
        fnn.Tensor(ro)[[0]] = 1
    t = fnn.Tensor(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"shape mismatch: value array of shape \(2,\) could not be broadcast "
                                         r"to indexing result of shape \(3, 3\)"):
        t[[0, 1, 2]] = [1, 2]
    with pytest.raises(ValueError, match="broadcast"):
        t[0] = [1, 2]
    with pytest.raises(ValueError, match="inhomogeneous"):  # NumPy's own error for a ragged value
        t[0] = [[1], [2, 3]]
    with pytest.raises(TypeError, match="not a .*sequence of numbers"):
        t[0] = [object()]


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_take(axis):
    a = np.arange(20, dtype=np.int32).reshape(4, 5)
    idx = np.array([[0, -1], [2, 3]])
    np.testing.assert_array_equal(np.asarray(fnn.take(a, idx, axis=axis)), np.take(a, idx, axis=axis))
    assert isinstance(np.take(fnn.Tensor(a), idx, axis=axis), fnn.Tensor)
    with pytest.raises(IndexError, match="out of bounds"):
        fnn.take(a, [99], axis=axis)


def test_take_bad_axis():
    with pytest.raises(fnn.AxisError, match="axis 2 is out of bounds for array of dimension 2"):
        fnn.take(np.zeros((2, 2)), [0], axis=2)


@given(arrays(st.sampled_from(DTYPES), hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5), lo=-2, hi=2),
       st.data())
def test_nonzero_argwhere_flatnonzero(a, data):
    a = data.draw(maybe_strided(a))
    got = fnn.nonzero(a)
    expected = np.nonzero(a)
    assert isinstance(got, tuple) and len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.dtype == np.int64
        np.testing.assert_array_equal(np.asarray(g), e)
    np.testing.assert_array_equal(np.asarray(fnn.argwhere(a)), np.argwhere(a))
    np.testing.assert_array_equal(np.asarray(fnn.flatnonzero(a)), np.flatnonzero(a))
    np.testing.assert_array_equal(np.asarray(fnn.Tensor(a).nonzero()[0]), expected[0])


def test_nonzero_0d():
    with pytest.raises(ValueError, match="nonzero on 0d arrays"):
        fnn.nonzero(np.array(1.0))
    assert fnn.argwhere(np.array(3)).shape == (1, 0)
    assert fnn.argwhere(np.array(0)).shape == (0, 0)


def test_numpy_dispatch_returns_tensors():
    t = fnn.Tensor(np.array([[0, 1], [2, 0]]))
    assert all(isinstance(r, fnn.Tensor) for r in np.nonzero(t))
    assert isinstance(np.argwhere(t), fnn.Tensor)
    assert isinstance(np.flatnonzero(t), fnn.Tensor)


def test_copies_on_every_isa(isa):
    """Basic assignment goes through the elementwise copy loops, which differ per ISA."""
    a = np.zeros((5, 37), np.float32)
    t = fnn.Tensor(a)
    t[1:4, ::2] = np.arange(19, dtype=np.float64)
    t[[0, 4]] = 2
    expected = np.zeros((5, 37), np.float32)
    expected[1:4, ::2] = np.arange(19)
    expected[[0, 4]] = 2
    np.testing.assert_array_equal(a, expected)


# ---- on a device: gathers and scatters run there, index arrays from the host or the device (cpu runs the
# same checks)

from conftest import DEVICES  # noqa: E402


def on(device, x):
    return fnn.asarray(x).to(device)


def index_on(device, index):
    """The index with each array (not bool scalars) made a tensor on `device`."""
    def item(i):
        if not isinstance(i, (list, np.ndarray)):
            return i
        i = np.asarray(i)
        return on(device, i if i.dtype in (np.bool_, np.int32, np.int64) else i.astype(np.int64))
    return tuple(item(i) for i in index) if isinstance(index, tuple) else item(index)


def numpy_index(index):
    return tuple(np.asarray(i) if isinstance(i, fnn.Tensor) else i for i in index) \
        if isinstance(index, tuple) else index


@pytest.mark.parametrize("where", ["host", "device"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
def test_device_gather(device, dtype, where):
    a = A.astype(dtype)
    t = on(device, a)
    for index in ADVANCED + [[3, 3, 0, 3], (slice(None), [[4, 4], [0, 4]])]:
        index = numpy_index(index)
        got = t[index_on(device, index) if where == "device" else index]
        assert got.device == t.device and got.dtype == a.dtype
        np.testing.assert_array_equal(got.cpu(), a[index], err_msg=repr(index))
    whole = (np.arange(40 * 30) % 7).astype(dtype).reshape(40, 30)
    strided, host = on(device, whole)[::-3, 1::2], whole[::-3, 1::2]
    idx = np.arange(24, dtype=np.int64)[::-2] % host.shape[0]
    for index in [idx, (slice(None), idx[:5] % 15), (idx[:, None], idx[None, :5] % 15), (idx[:3], 2)]:
        np.testing.assert_array_equal(strided[index_on(device, index) if where == "device" else index].cpu(), host[index])


@pytest.mark.parametrize("device", DEVICES)
def test_device_basic_indices_are_views(device):
    t = on(device, A.copy())
    for index in BASIC:
        got = t[index]
        assert got.device == t.device
        np.testing.assert_array_equal(got.cpu(), A[index])
    row = t[1, ::2]
    row[...] = -1.0  # writes through the view, on the device
    expected = A.copy()
    expected[1, ::2] = -1.0
    np.testing.assert_array_equal(t.cpu(), expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
def test_device_setitem_like_numpy(device, dtype):
    for index, value in SET_CASES:
        a = np.arange(12).reshape(4, 3).astype(dtype)
        expected = a.copy()
        expected[index] = value
        t = on(device, a)
        t[index] = value
        np.testing.assert_array_equal(t.cpu(), expected, err_msg=repr(index))
        t = on(device, a)
        t[index_on(device, index)] = on(device, np.asarray(value)) if np.ndim(value) else value
        np.testing.assert_array_equal(t.cpu(), expected, err_msg=repr(index))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
def test_device_scatter_duplicates_last_write_wins(device, dtype):
    rng = np.random.default_rng(7)
    idx = rng.integers(-100, 100, 50_000)
    values = (np.arange(idx.size) % 97).astype(dtype)
    expected = np.zeros(100, dtype)
    expected[idx] = values
    t = on(device, np.zeros(100, dtype))
    t[on(device, idx)] = on(device, values)
    np.testing.assert_array_equal(t.cpu(), expected)
    expected2 = np.zeros((3, 100, 2), dtype)  # broadcast index dims in the middle, and a broadcast value
    expected2[:, idx[:1000]] = values[:1000, None]
    t2 = on(device, np.zeros((3, 100, 2), dtype))
    t2[:, idx[:1000]] = values[:1000, None]
    np.testing.assert_array_equal(t2.cpu(), expected2)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
def test_device_index_add_accumulates_repeats(device, dtype):
    rng = np.random.default_rng(8)
    idx = rng.integers(-20, 20, 5000)
    values = sample_values = (rng.integers(0, 3, (5000, 3)) if dtype != np.bool_ else rng.random((5000, 3)) < 0.1)
    values = sample_values.astype(dtype)
    expected = np.zeros((20, 3), dtype)
    np.add.at(expected, idx, values) if dtype != np.bool_ else np.logical_or.at(expected, idx, values)
    for index in (idx, on(device, idx)):
        t = on(device, np.zeros((20, 3), dtype))
        fnn._C._index_add(t, (index,), on(device, values))
        np.testing.assert_array_equal(t.cpu(), expected)  # small integers: exact in any order
    t = on(device, np.ones((4, 20), np.float32))
    fnn._C._index_add(t, (slice(None), idx[:64]), 0.25)
    expected = np.ones((4, 20), np.float32)
    np.add.at(expected, (slice(None), idx[:64]), np.float32(0.25))
    np.testing.assert_allclose(t.cpu(), expected, rtol=1e-6)


@pytest.mark.parametrize("where", ["host", "device"])
@pytest.mark.parametrize("device", DEVICES)
def test_device_out_of_range_raises_before_writing(device, where):
    def ix(i):
        return on(device, np.asarray(i)) if where == "device" else np.asarray(i)
    a = np.zeros((4, 3))
    t = on(device, a)
    cases = [((ix([0, 7, -9]),), "index 7 is out of bounds for axis 0 with size 4"),
             ((ix([0, -9, 7]),), "index -9 is out of bounds for axis 0 with size 4"),
             ((ix([0, 1]), ix([2, 3])), "index 3 is out of bounds for axis 1 with size 3"),
             ((slice(None), ix([[0], [-4]])), "index -4 is out of bounds for axis 1 with size 3")]
    for index, match in cases:
        with pytest.raises(IndexError, match=match):
            t[index]
        with pytest.raises(IndexError, match=match):
            t[index] = 7.0
        with pytest.raises(IndexError, match=match):
            fnn._C._index_add(t, index, 1.0)
    np.testing.assert_array_equal(t.cpu(), a)


@pytest.mark.parametrize("device", DEVICES)
def test_device_boolean_masks_nonzero_argwhere(device):
    rng = np.random.default_rng(9)
    a = rng.integers(-2, 3, (4, 5, 6)).astype(np.float32)
    t = on(device, a)
    for mask in (a > 0, (a > 0).any(axis=2), np.array(True), np.array(False)):
        for m in (mask, on(device, mask)):
            np.testing.assert_array_equal(t[m].cpu(), a[mask])
        b = a.copy()
        b[mask] = 9
        u = on(device, a)
        u[on(device, mask)] = 9
        np.testing.assert_array_equal(u.cpu(), b)
    got = fnn.nonzero(t)
    for g, e in zip(got, np.nonzero(a)):
        assert g.device == t.device and g.dtype == np.int64
        np.testing.assert_array_equal(g.cpu(), e)
    assert fnn.argwhere(t).device == t.device
    np.testing.assert_array_equal(fnn.argwhere(t).cpu(), np.argwhere(a))
    np.testing.assert_array_equal(fnn.flatnonzero(t).cpu(), np.flatnonzero(a))
    np.testing.assert_array_equal(fnn.take(t, [[0, -1], [2, 3]], axis=1).cpu(), np.take(a, [[0, -1], [2, 3]], axis=1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.bool_])
@pytest.mark.parametrize("device", DEVICES)
def test_device_take_rows(device, dtype):
    src = (np.arange(7 * 3 * 2) % 5).astype(dtype).reshape(7, 3, 2)
    idx = np.array([6, 0, -1, 3, 6], dtype=np.int64)
    for index in (fnn.asarray(idx), on(device, idx), on(device, np.repeat(idx, 2))[::2]):
        out = fnn.empty((5, 3, 2), dtype=dtype, device=device)
        fnn._C._take_rows(on(device, src), index, out)
        np.testing.assert_array_equal(out.cpu(), src[idx])
    for index in (fnn.asarray(np.array([1, 7])), on(device, np.array([1, -8]))):
        with pytest.raises(IndexError, match="take_rows: index (7|-8) is out of bounds for axis 0 with size 7"):
            fnn._C._take_rows(on(device, src), index, fnn.empty((2, 3, 2), dtype=dtype, device=device))


@pytest.mark.skipif(not fnn.cuda.is_available(), reason="no CUDA device on this machine")
def test_device_mixing_devices_names_both():
    d = fnn.ones((3, 2)).cuda()
    with pytest.raises(ValueError, match="cpu.*cuda:0|cuda:0.*cpu"):
        fnn.ones((3, 2))[fnn.asarray(np.array([0, 1])).cuda()]
    with pytest.raises(ValueError, match="cpu.*cuda:0|cuda:0.*cpu"):
        fnn._C._take_rows(d, fnn.asarray(np.array([0])), fnn.empty((1, 2)))


@pytest.mark.parametrize("device", DEVICES)
def test_device_getitem_gradient_accumulates_repeats(device):
    host = np.arange(12, dtype=np.float32).reshape(4, 3)
    grads = []
    for dev in ("cpu", device):
        x = fnn.asarray(host, requires_grad=True, device=dev)
        y = x[[0, 2, 0, 0]] * 2
        (y[:, 1:] * fnn.asarray(np.ones((4, 2), np.float32)).to(dev)).sum().backward()
        assert x.grad.device == x.device
        grads.append(np.asarray(x.grad.cpu()))
    np.testing.assert_array_equal(grads[1], grads[0])
    np.testing.assert_array_equal(grads[0], [[0, 6, 6], [0, 0, 0], [0, 2, 2], [0, 0, 0]])
