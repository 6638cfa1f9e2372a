"""Shape ops against NumPy: reshape/ravel/transpose/moveaxis/squeeze/expand_dims as views (and copies
where the strides forbid a view), broadcasting, concatenate/stack/split, pad, and NumPy dispatch."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import fusednn as fnn
from strategies import DTYPES, arrays, maybe_strided

T = fnn.Tensor


def same(got, expected):
    assert isinstance(got, fnn.Tensor)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_array_equal(np.asarray(got), expected)


def is_view(t, a):
    return t.size == 0 or np.shares_memory(np.asarray(t), a)


@given(st.data())
def test_reshape_matches_numpy(data):
    a = data.draw(maybe_strided(data.draw(arrays(st.sampled_from(DTYPES)))))
    target = list(data.draw(st.permutations(a.shape))) if a.ndim else []
    target = [a.size] if data.draw(st.booleans()) or not target else target
    if a.size and target and data.draw(st.booleans()):
        target[data.draw(st.integers(0, len(target) - 1))] = -1
    got = fnn.reshape(a, target)
    same(got, a.reshape(target))
    # a view exactly when NumPy can make one
    assert is_view(got, a) == (a.size == 0 or np.shares_memory(a.reshape(target), a))


def test_reshape_forms_and_views():
    a = np.arange(24, dtype=np.float32)
    t = T(a)
    for got in [t.reshape(2, 3, 4), t.reshape((2, 3, 4)), t.reshape([2, -1, 4]), np.reshape(t, (2, 3, 4))]:
        same(got, a.reshape(2, 3, 4))
        assert is_view(got, a)
    same(T(np.float64(3.0) * np.ones(())).reshape(1, 1), np.full((1, 1), 3.0))
    same(t.reshape(2, 3, 4)[:, 1].reshape(-1), a.reshape(2, 3, 4)[:, 1].reshape(-1))
    nc = T(a.reshape(4, 6).T)
    r = nc.reshape(24)  # not expressible as a view: a copy
    same(r, a.reshape(4, 6).T.reshape(24))
    assert not is_view(r, a)


@pytest.mark.parametrize("shape, match", [((4,), r"cannot reshape array of size 6 into shape \(4,\)"),
                                          ((-1, 4), "cannot reshape array of size 6"),
                                          ((-1, -1), "can only specify one unknown dimension"),
                                          ((-2, 3), "negative dimensions not allowed")])
def test_reshape_errors(shape, match):
    with pytest.raises(ValueError, match=match):
        T(np.zeros(6)).reshape(shape)


def test_reshape_zero_size():
    same(fnn.reshape(np.zeros((0, 3)), (3, 0, 5)), np.zeros((3, 0, 5)))
    with pytest.raises(ValueError, match="cannot reshape array of size 0"):
        fnn.reshape(np.zeros((0, 3)), (-1, 0))


@given(st.data())
def test_transpose_family(data):
    a = data.draw(maybe_strided(data.draw(arrays(st.sampled_from(DTYPES)))))
    axes = data.draw(st.permutations(range(a.ndim)))
    t = T(a)
    for got, expected in [(t.T, a.T), (t.transpose(), a.transpose()), (fnn.transpose(a), a.T),
                          (fnn.transpose(a, axes), a.transpose(axes)), (t.transpose(axes), a.transpose(axes)),
                          (t.transpose(*axes), a.transpose(*axes)), (t.permute(*axes), a.transpose(axes)),
                          (np.transpose(t, axes), a.transpose(axes))]:
        same(got, expected)
        assert is_view(got, a)
    if a.ndim:
        src = data.draw(st.lists(st.integers(-a.ndim, a.ndim - 1), unique_by=lambda x: x % a.ndim, max_size=a.ndim))
        dst = data.draw(st.lists(st.integers(-a.ndim, a.ndim - 1), unique_by=lambda x: x % a.ndim,
                                 min_size=len(src), max_size=len(src)))
        same(fnn.moveaxis(a, src, dst), np.moveaxis(a, src, dst))
        i, j = data.draw(st.integers(-a.ndim, a.ndim - 1)), data.draw(st.integers(-a.ndim, a.ndim - 1))
        same(fnn.swapaxes(a, i, j), np.swapaxes(a, i, j))
        same(t.swapaxes(i, j), np.swapaxes(a, i, j))


def test_transpose_errors():
    with pytest.raises(ValueError, match="repeated axis"):
        fnn.transpose(np.zeros((2, 3)), (0, 0))
    with pytest.raises(ValueError, match="don't match"):
        fnn.transpose(np.zeros((2, 3)), (0,))
    with pytest.raises(fnn.AxisError, match="axis 2 is out of bounds for array of dimension 2"):
        T(np.zeros((2, 3))).transpose(0, 2)
    with pytest.raises(ValueError, match="same number of elements"):
        fnn.moveaxis(np.zeros((2, 3)), [0, 1], [0])
    with pytest.raises(ValueError, match="repeated axis in `source`"):
        fnn.moveaxis(np.zeros((2, 3)), [0, -2], [0, 1])


def test_expand_dims_squeeze():
    a = np.arange(6.0).reshape(1, 2, 1, 3)
    for axis in [0, -1, (0, 2), (1, -1), (0, 1, 2, 3, 4, 5)]:
        got = fnn.expand_dims(a, axis)
        same(got, np.expand_dims(a, axis))
        assert is_view(got, a)
    for axis in [None, 0, 2, (0, 2), -2]:
        same(fnn.squeeze(a, axis), np.squeeze(a, axis))
        same(T(a).squeeze(axis), np.squeeze(a, axis))
    same(np.squeeze(T(a)), np.squeeze(a))
    same(fnn.squeeze(np.ones(())), np.ones(()))
    same(fnn.expand_dims(np.ones(()), 0), np.ones((1,)))
    with pytest.raises(ValueError, match="cannot select an axis to squeeze out which has size not equal to one"):
        fnn.squeeze(a, 1)
    with pytest.raises(ValueError, match="repeated axis"):
        fnn.expand_dims(a, (0, 0))
    with pytest.raises(fnn.AxisError):
        fnn.expand_dims(a, 6)


@given(st.data())
def test_ravel_flatten(data):
    a = data.draw(maybe_strided(data.draw(arrays(st.sampled_from(DTYPES)))))
    r = fnn.ravel(a)
    same(r, np.ravel(a))
    if a.flags.c_contiguous:
        assert is_view(r, a)
    f = T(a).flatten()
    same(f, a.flatten())
    assert not (f.size and np.shares_memory(np.asarray(f), a))
    same(T(a).ravel(), np.ravel(a))


def test_broadcast_to_and_arrays():
    a = np.arange(3, dtype=np.int32)
    got = fnn.broadcast_to(a, (2, 4, 3))
    same(got, np.broadcast_to(a, (2, 4, 3)))
    assert got.strides == (0, 0, 4)
    same(fnn.broadcast_to(np.ones(()), ()), np.ones(()))
    same(np.broadcast_to(T(a), (0, 3)), np.zeros((0, 3), np.int32))
    with pytest.raises(ValueError, match=r"\(3,\) and requested shape \(4,\)"):
        fnn.broadcast_to(a, (4,))
    with pytest.raises(ValueError, match="non-negative"):
        fnn.broadcast_to(a, (-1, 3))
    x, y, z = fnn.broadcast_arrays(np.ones((2, 1)), a, np.float32(2))
    for g, e in zip((x, y, z), np.broadcast_arrays(np.ones((2, 1)), a, np.float32(2))):
        same(g, e)
    with pytest.raises(ValueError, match="could not be broadcast"):
        fnn.broadcast_arrays(np.ones(2), np.ones(3))


@given(st.data())
def test_concatenate_stack(data):
    ndim = data.draw(st.integers(1, 3))
    base = data.draw(hnp.array_shapes(min_dims=ndim, max_dims=ndim, min_side=0, max_side=4))
    axis = data.draw(st.integers(-ndim, ndim - 1))
    parts = []
    for _ in range(data.draw(st.integers(1, 4))):
        shape = list(base)
        shape[axis] = data.draw(st.integers(0, 4))
        part = data.draw(arrays(st.sampled_from(DTYPES), tuple(shape)))
        parts.append(part[..., ::-1] if data.draw(st.booleans()) else part)  # non-contiguous too
    same(fnn.concatenate(parts, axis=axis), np.concatenate(parts, axis=axis))
    same(fnn.concatenate([T(p) for p in parts], axis=None), np.concatenate(parts, axis=None))
    same(np.concatenate([T(p) for p in parts], axis), np.concatenate(parts, axis))
    equal = [parts[0], parts[0][::-1]] * len(parts)
    stack_axis = data.draw(st.integers(-ndim - 1, ndim))
    same(fnn.stack(equal, stack_axis), np.stack(equal, stack_axis))


def test_concatenate_dtype_promotion_and_errors():
    a32, a64, f32, b = (np.ones(2, np.int32), np.ones(2, np.int64), np.ones(2, np.float32), np.ones(2, bool))
    for parts in [(a32, f32), (b, a32), (a32, a64), (f32, np.ones(2)), (b, b)]:
        same(fnn.concatenate(parts), np.concatenate(parts))
    same(fnn.concatenate(np.arange(6).reshape(2, 3)), np.concatenate(np.arange(6).reshape(2, 3)))
    with pytest.raises(ValueError, match=r"along dimension 1, the array at index 0 has size 3 and the array at "
                                         r"index 1 has size 4 \(shapes \(2, 3\) and \(2, 4\), concatenating along axis 0\)"):
        fnn.concatenate([np.zeros((2, 3)), np.zeros((2, 4))])
    with pytest.raises(ValueError, match="same number of dimensions"):
        fnn.concatenate([np.zeros((2, 3)), np.zeros(3)])
    with pytest.raises(ValueError, match="zero-dimensional arrays cannot be concatenated"):
        fnn.concatenate([np.zeros(()), np.zeros(())])
    with pytest.raises(ValueError, match="need at least one array"):
        fnn.concatenate([])
    with pytest.raises(fnn.AxisError):
        fnn.concatenate([np.zeros(3)], axis=1)
    with pytest.raises(ValueError, match="must have the same shape"):
        fnn.stack([np.zeros(3), np.zeros(2)])


@pytest.mark.parametrize("sections", [1, 2, 3, 4, 7, [2, 5], [0, 0, 3], [-2], [3, 1, 9], []])
@pytest.mark.parametrize("axis", [0, -1])
def test_split_array_split(sections, axis):
    a = np.arange(24).reshape(12, 2) if axis == 0 else np.arange(24).reshape(2, 12)
    if isinstance(sections, list) or 12 % sections == 0:
        got, expected = fnn.split(a, sections, axis), np.split(a, sections, axis)
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            same(g, e)
            assert is_view(g, a)
    else:
        with pytest.raises(ValueError, match="array split does not result in an equal division"):
            fnn.split(a, sections, axis)
    got, expected = fnn.array_split(a, sections, axis), np.array_split(a, sections, axis)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        same(g, e)
    with pytest.raises(ValueError, match="number sections must be larger than 0"):
        fnn.array_split(a, 0)


@given(st.data())
def test_pad_matches_numpy(data):
    a = data.draw(maybe_strided(data.draw(arrays(st.sampled_from(DTYPES), hnp.array_shapes(min_dims=1, max_dims=3,
                                                                                           min_side=1, max_side=4)))))
    mode = data.draw(st.sampled_from(["constant", "edge", "reflect"]))
    form = data.draw(st.sampled_from(["int", "pair", "per_axis"]))
    w = st.integers(0, 6)
    pad_width = {"int": data.draw(w), "pair": (data.draw(w), data.draw(w)),
                 "per_axis": [(data.draw(w), data.draw(w)) for _ in range(a.ndim)]}[form]
    kwargs = {}
    if mode == "constant":
        kwargs["constant_values"] = data.draw(st.sampled_from([0, 1, (2, 3), [(4, 5)] * a.ndim]))
    same(fnn.pad(a, pad_width, mode=mode, **kwargs), np.pad(a, pad_width, mode=mode, **kwargs))


def test_pad_forms_and_errors():
    a = np.arange(6.0).reshape(2, 3)
    same(np.pad(T(a), ((1, 0), (2, 1)), constant_values=((1, 2), (3, 4))),
         np.pad(a, ((1, 0), (2, 1)), constant_values=((1, 2), (3, 4))))
    same(fnn.pad(np.zeros((0, 2)), 1), np.pad(np.zeros((0, 2)), 1))
    same(fnn.pad(np.zeros((0, 2)), ((0, 0), (1, 1)), mode="edge"), np.pad(np.zeros((0, 2)), ((0, 0), (1, 1)), mode="edge"))
    with pytest.raises(ValueError, match="can't extend empty axis 0"):
        fnn.pad(np.zeros((0, 2)), 1, mode="reflect")
    with pytest.raises(ValueError, match="negative"):
        fnn.pad(a, -1)
    with pytest.raises(ValueError, match="mode 'wrap' is not supported"):
        fnn.pad(a, 1, mode="wrap")
    with pytest.raises(ValueError, match="pad_width"):
        fnn.pad(a, ((1, 2, 3),))


def test_copies_on_every_isa(isa):
    """concatenate and pad copy through the elementwise loops, which differ per ISA."""
    a, b = np.arange(37, dtype=np.int32).reshape(1, 37), np.linspace(0, 1, 74).reshape(2, 37)
    same(fnn.concatenate([a, b]), np.concatenate([a, b]))
    same(fnn.pad(b, ((1, 2), (3, 0)), mode="reflect"), np.pad(b, ((1, 2), (3, 0)), mode="reflect"))


# ---- on a device: views stay there, copies are made there (cpu runs the same checks)

from conftest import DEVICES  # noqa: E402


def on(device, x):
    return fnn.asarray(x).to(device)


def same_on(device, got, expected):
    assert isinstance(got, fnn.Tensor) and got.device == fnn.empty(0, device=device).device
    same(got.cpu(), expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
def test_device_views_and_copying_reshapes(device, dtype):
    a = (np.arange(2 * 3 * 4) % 5).astype(dtype).reshape(2, 3, 4)
    t = on(device, a)
    same_on(device, t.reshape(3, 8), a.reshape(3, 8))
    same_on(device, t.reshape(-1), a.reshape(-1))
    same_on(device, t.transpose(2, 0, 1).reshape(4, 6), a.transpose(2, 0, 1).reshape(4, 6))  # a copy on the device
    same_on(device, fnn.reshape(t.T, (6, 4)), a.T.reshape(6, 4))
    same_on(device, t.T, a.T)
    same_on(device, t.permute(1, 2, 0), a.transpose(1, 2, 0))
    same_on(device, fnn.transpose(t, (0, 2, 1)), a.transpose(0, 2, 1))
    same_on(device, fnn.moveaxis(t, 0, -1), np.moveaxis(a, 0, -1))
    same_on(device, t.swapaxes(0, 2), a.swapaxes(0, 2))
    same_on(device, fnn.expand_dims(t, (0, 3)), np.expand_dims(a, (0, 3)))
    same_on(device, fnn.squeeze(t[:1, :, 1:2]), np.squeeze(a[:1, :, 1:2]))
    same_on(device, t[:, ::-1, ::2].ravel(), a[:, ::-1, ::2].ravel())
    same_on(device, t.T.flatten(), a.T.flatten())
    same_on(device, fnn.broadcast_to(t[:, :1], (5, 2, 3, 4)), np.broadcast_to(a[:, :1], (5, 2, 3, 4)))
    for g, e in zip(fnn.broadcast_arrays(t, t[0, 0]), np.broadcast_arrays(a, a[0, 0])):
        same_on(device, g, e)
    for g, e in zip(fnn.array_split(t, 3, axis=2), np.array_split(a, 3, axis=2)):
        same_on(device, g, e)
    for g, e in zip(fnn.split(t, [1, 2], axis=1), np.split(a, [1, 2], axis=1)):
        same_on(device, g, e)
    view = t.reshape(6, 4)  # a view: writes reach t
    view[1] = 7
    expected = a.copy()
    expected.reshape(6, 4)[1] = 7
    same_on(device, t, expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
def test_device_concatenate_stack_pad(device, dtype):
    a = (np.arange(2 * 3 * 4) % 5).astype(dtype).reshape(2, 3, 4)
    b = (np.arange(2 * 5 * 4) % 3).astype(np.int32).reshape(2, 5, 4)
    ta, tb = on(device, a), on(device, b)
    same_on(device, fnn.concatenate([ta, tb], axis=1), np.concatenate([a, b], axis=1))
    same_on(device, fnn.concatenate([ta.T, tb.T], axis=1), np.concatenate([a.T, b.T], axis=1))
    same_on(device, fnn.concatenate([ta, tb], axis=None), np.concatenate([a, b], axis=None))
    same_on(device, fnn.concatenate(ta), np.concatenate(a))
    same_on(device, fnn.stack([ta, ta[::-1]], axis=2), np.stack([a, a[::-1]], axis=2))
    same_on(device, fnn.stack([ta[0, 0, 0], 3]), np.stack([a[0, 0, 0], 3]))  # a host scalar joins the device
    for mode, kw in (("constant", {"constant_values": ((1, 2), (3, 4), (5, 6))}), ("edge", {}), ("reflect", {})):
        widths = ((1, 0), (2, 3), (0, 2))
        same_on(device, fnn.pad(ta, widths, mode=mode, **kw), np.pad(a, widths, mode=mode, **kw))


@pytest.mark.skipif(not fnn.cuda.is_available(), reason="no CUDA device on this machine")
def test_device_joining_mixed_devices_names_both():
    d, h = fnn.ones((2, 3)).cuda(), fnn.ones((2, 3))
    with pytest.raises(ValueError, match="concatenate: .*(cuda:0 and cpu|cpu and cuda:0)"):
        fnn.concatenate([d, h])
    with pytest.raises(ValueError, match="stack: .*(cuda:0 and cpu|cpu and cuda:0)"):
        fnn.stack([h, d])


@pytest.mark.parametrize("device", DEVICES)
def test_device_shape_gradients(device):
    host = np.arange(12, dtype=np.float32).reshape(3, 4)
    w = np.linspace(-1, 1, 3 * 11).astype(np.float32).reshape(3, 11)
    grads = []
    for dev in ("cpu", device):
        x = fnn.asarray(host, requires_grad=True, device=dev)
        parts = fnn.split(x.T.reshape(2, 6), 2, axis=1)
        y = fnn.concatenate([fnn.pad(x, ((0, 0), (1, 2)), mode="reflect"), fnn.stack(parts).reshape(3, 4)], axis=1)
        (y * fnn.asarray(w).to(dev)).sum().backward()
        assert x.grad.device == x.device
        grads.append(np.asarray(x.grad.cpu()))
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-6)
