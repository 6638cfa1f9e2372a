"""Reductions against NumPy: every op and dtype, axis forms, keepdims, dtype=, empty inputs, NaN, strided
layouts (rows, columns, general), every ISA path, float accuracy and thread-count determinism, errors."""
import contextlib
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fusednn as fnn
from strategies import DTYPES, FLOAT_DTYPES, arrays, maybe_strided

@contextlib.contextmanager
def quiet():
    """NumPy warns about empty means and ddof >= n; fusednn does not have to. Silences the oracle."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


OPS = ["sum", "prod", "max", "min", "all", "any", "mean", "var", "std"]


@st.composite
def axis_for(draw, ndim):
    """None, an int or a tuple of distinct axes (negative forms included) for an array of ndim dims."""
    kind = draw(st.sampled_from(["none", "int", "tuple"] if ndim else ["none", "empty"]))
    if kind == "none":
        return None
    if kind == "empty":
        return ()
    wrap = lambda a: draw(st.sampled_from([a, a - ndim]))
    if kind == "int":
        return wrap(draw(st.integers(0, ndim - 1)))
    chosen = draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim))
    return tuple(wrap(a) for a in chosen)


def oracle(op, x, **kw):
    """NumPy's answer; float ops are computed in float64 on the same data and cast to NumPy's dtype."""
    expected = getattr(np, op)(x, **kw)
    if x.dtype.kind == "f" and op in ("sum", "mean", "var", "std") and "dtype" not in kw:
        expected = getattr(np, op)(x.astype(np.float64), **kw).astype(expected.dtype)
    return np.asarray(expected)


def assert_matches(op, got, x, **kw):
    expected = oracle(op, x, **kw)
    got = np.asarray(got)
    assert got.dtype == expected.dtype, (op, got.dtype, expected.dtype)
    assert got.shape == expected.shape, (op, got.shape, expected.shape)
    if expected.dtype.kind == "f":
        # The oracle is exact up to the final rounding (float64 sums), except prod: NumPy's own order.
        eps = 1e-6 if expected.dtype == np.float32 else 1e-13
        rtol = 100 * eps if op == "prod" else eps
        scale = np.abs(x.astype(np.float64)).max() if x.size else 1.0
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=eps * scale * max(x.size, 1), equal_nan=True)
    else:
        np.testing.assert_array_equal(got, expected)


@given(st.data())
def test_every_op_dtype_axis_layout(data):
    op = data.draw(st.sampled_from([o for o in OPS if o != "prod"]))
    x = data.draw(arrays(st.sampled_from(DTYPES)))
    x = data.draw(maybe_strided(x))
    axis = data.draw(axis_for(x.ndim))
    keepdims = data.draw(st.booleans())
    kw = dict(axis=axis, keepdims=keepdims)
    n = x.size if axis is None else int(np.prod([x.shape[a] for a in np.atleast_1d(axis)], dtype=np.int64))
    if op in ("max", "min") and n == 0:
        with pytest.raises(ValueError, match="zero-size array to reduction operation"):
            getattr(fnn, op)(x, **kw)
        return
    with quiet():
        assert_matches(op, getattr(fnn, op)(x, **kw), x, **kw)


@given(st.data())
def test_prod(data):
    dtype = data.draw(st.sampled_from(DTYPES))
    lo, hi = (-1.25, 1.25) if np.dtype(dtype).kind == "f" else (-3, 3)
    x = data.draw(maybe_strided(data.draw(arrays(dtype, lo=lo, hi=hi))))
    axis = data.draw(axis_for(x.ndim))
    assert_matches("prod", fnn.prod(x, axis=axis), x, axis=axis)


@given(st.data())
def test_var_std_ddof(data):
    x = data.draw(maybe_strided(data.draw(arrays(st.sampled_from(DTYPES)))))
    axis = data.draw(axis_for(x.ndim))
    ddof = data.draw(st.sampled_from([0, 1, 2]))
    for op in ("var", "std"):
        with quiet():
            assert_matches(op, getattr(fnn, op)(x, axis=axis, ddof=ddof), x, axis=axis, ddof=ddof)


@given(st.data())
def test_argmax_argmin(data):
    x = data.draw(arrays(st.sampled_from(DTYPES), lo=-5, hi=5))
    x = data.draw(maybe_strided(x))
    if x.dtype.kind == "f" and x.size and data.draw(st.booleans()):
        x = x.copy()
        x.flat[data.draw(st.integers(0, x.size - 1))] = np.nan
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1)) if x.ndim else None
    keepdims = data.draw(st.booleans())
    for op in ("argmax", "argmin"):
        n = x.size if axis is None else x.shape[axis]
        if n == 0:
            with pytest.raises(ValueError, match=f"attempt to get {op} of an empty sequence"):
                getattr(fnn, op)(x, axis=axis, keepdims=keepdims)
            continue
        got = np.asarray(getattr(fnn, op)(x, axis=axis, keepdims=keepdims))
        expected = getattr(np, op)(x, axis=axis, keepdims=keepdims)
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("src", DTYPES)
@pytest.mark.parametrize("dst", DTYPES)
def test_dtype_argument(src, dst):
    x = (np.arange(-20, 40) % 7).astype(src).reshape(6, 10)
    for op in ("sum", "prod", "mean"):
        for axis in (None, 0, 1):
            if op == "prod":
                x = np.minimum(x, 1 if src != np.bool_ else True)
            got = np.asarray(getattr(fnn, op)(x, axis=axis, dtype=dst))
            expected = np.asarray(getattr(np, op)(x, axis=axis, dtype=dst))
            assert got.dtype == expected.dtype == np.dtype(dst)
            np.testing.assert_allclose(got.astype(np.float64), expected.astype(np.float64), rtol=1e-6)


def test_result_dtypes_follow_numpy2():
    for dtype in DTYPES:
        x = np.ones((2, 3), dtype)
        for op in OPS:
            assert getattr(fnn, op)(x).dtype == getattr(np, op)(x).dtype, (op, dtype)
        assert fnn.argmax(x).dtype == np.int64


def test_empty_reductions():
    for dtype in DTYPES:
        x = np.zeros((0, 3), dtype)
        assert fnn.sum(x).item() == 0 and fnn.prod(x).item() == 1
        assert fnn.all(x).item() is True and fnn.any(x).item() is False
        assert np.isnan(fnn.mean(x).item()) and np.isnan(fnn.var(x).item())
        assert fnn.sum(x, axis=0).shape == (3,)
        np.testing.assert_array_equal(np.asarray(fnn.prod(x, axis=0)), np.ones(3))
        assert fnn.max(x, axis=1).shape == (0,)       # nothing reduced to zero elements: fine
        assert fnn.argmax(x, axis=1).shape == (0,)
        for op, name in (("max", "maximum"), ("min", "minimum")):
            with pytest.raises(ValueError, match=f"zero-size array to reduction operation {name} which has no identity"):
                getattr(fnn, op)(x, axis=0)
        with pytest.raises(ValueError, match="attempt to get argmin of an empty sequence"):
            fnn.argmin(x)


@pytest.mark.parametrize("shape,axis", [((1000,), None), ((150_001,), None), ((40, 300), 1), ((300, 40), 0), ((7, 70, 5), (0, 2))])
def test_nan_propagates_and_first_nan_wins(isa, shape, axis):
    rng = np.random.default_rng(1)
    for dtype in FLOAT_DTYPES:
        x = rng.standard_normal(shape).astype(dtype)
        x.flat[[x.size // 2 + 7, x.size - 5]] = np.nan   # in a later block of the 1-d case
        for op in ("max", "min", "sum"):
            np.testing.assert_array_equal(np.isnan(np.asarray(getattr(fnn, op)(x, axis=axis))),
                                          np.isnan(getattr(np, op)(x, axis=axis)))
        ax = axis if isinstance(axis, int) else None
        for op in ("argmax", "argmin"):
            np.testing.assert_array_equal(np.asarray(getattr(fnn, op)(x, axis=ax)), getattr(np, op)(x, axis=ax))
        assert np.isnan(fnn.max(np.array([1.0, np.inf, np.nan, 2.0])).item())
        assert np.isnan(fnn.min(np.array([np.nan, -np.inf])).item())
        assert fnn.all(np.array([np.nan, 1.0])).item() is True


# Layouts that reach each kernel: rows (reduced axes innermost), columns (kept axis innermost), strided,
# reversed, broadcast (stride 0), several blocks (> 65536 reduced elements), vector tails.
def _layouts():
    rng = np.random.default_rng(2)
    big = rng.standard_normal(150_001)
    mat = rng.standard_normal((67, 1031))
    cube = rng.standard_normal((9, 33, 41))
    return [
        ("1d-multiblock", big, None),
        ("rows", mat, 1),
        ("columns", mat, 0),
        ("columns-tall", rng.standard_normal((70_001, 3)), 0),
        ("transposed-rows", mat.T, 0),
        ("transposed-cols", mat.T, 1),
        ("reversed", mat[::-1, ::-1], (0, 1)),
        ("stepped", mat[:, ::3], 1),
        ("outer+inner", cube, (0, 2)),
        ("middle", cube, 1),
        ("outer2", cube, (0, 1)),
        ("broadcast", np.broadcast_to(mat[:1], (67, 1031)), 0),
    ]


@pytest.mark.parametrize("dtype", DTYPES)
def test_layouts_every_isa(isa, dtype):
    for name, base, axis in _layouts():
        x = (base * 4).astype(dtype) if np.dtype(dtype).kind != "b" else base > 0.3
        if name == "1d-multiblock" and dtype == np.bool_:
            x = np.ones_like(x)                     # all() true over several blocks
        for op in ("sum", "max", "min", "all", "any", "mean", "var"):
            assert_matches(op, getattr(fnn, op)(x, axis=axis), x, axis=axis)
        small = np.minimum(np.abs(x), 1).astype(dtype)  # products that stay finite and exact for ints
        assert_matches("prod", fnn.prod(small, axis=axis), small, axis=axis)
        if isinstance(axis, int) or axis is None:
            for op in ("argmax", "argmin"):
                np.testing.assert_array_equal(np.asarray(getattr(fnn, op)(x, axis=axis)),
                                              getattr(np, op)(x, axis=axis), err_msg=f"{op} {name} {dtype}")


def test_float32_sum_is_accurate(isa):
    rng = np.random.default_rng(3)
    x = rng.random(3_000_001, dtype=np.float32) + np.float32(1e3)
    exact = x.astype(np.float64).sum()
    assert abs(float(fnn.sum(x)) - exact) <= 2 * np.spacing(np.float32(exact))
    m = x[:2_000_000].reshape(1000, 2000)
    for axis in (0, 1):
        exact = m.astype(np.float64).sum(axis=axis)
        np.testing.assert_allclose(np.asarray(fnn.sum(m, axis=axis)), exact, rtol=2e-7)


def test_variance_with_large_mean(isa):
    rng = np.random.default_rng(4)
    x = (np.float32(1e4) + rng.standard_normal((500, 400)).astype(np.float32) * np.float32(0.01)).astype(np.float32)
    exact = x.astype(np.float64)
    for axis in (None, 0, 1):
        np.testing.assert_allclose(np.asarray(fnn.var(x, axis=axis)), exact.var(axis=axis), rtol=1e-5)
        np.testing.assert_allclose(np.asarray(fnn.std(x, axis=axis, ddof=1)), exact.std(axis=axis, ddof=1),
                                   rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bitwise_same_for_one_and_two_threads(threads, dtype):
    rng = np.random.default_rng(5)
    # Above the 2**20-element threshold where reductions start using threads.
    m = rng.standard_normal((1200, 1800)).astype(dtype)
    cases = [(rng.standard_normal(3_000_001).astype(dtype), None), (m, 0), (m, 1), (m.T, 1),
             (rng.standard_normal((60, 200, 200)).astype(dtype), (0, 2))]
    for x, axis in cases:
        results = []
        for n in (1, 2):
            fnn.set_num_threads(n)
            results.append([np.asarray(getattr(fnn, op)(x, axis=axis)).tobytes()
                            for op in ("sum", "mean", "var", "prod", "max")])
        assert results[0] == results[1], axis


def test_numpy_dispatch_and_methods():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = fnn.from_numpy(x)
    for f in (np.sum, np.prod, np.max, np.amax, np.min, np.amin, np.mean, np.var, np.std, np.all, np.any,
              np.argmax, np.argmin):
        r = f(t, axis=0)
        assert isinstance(r, fnn.Tensor), f
        np.testing.assert_allclose(np.asarray(r), f(x, axis=0), rtol=1e-6)
    for ufunc, op in ((np.add, np.sum), (np.multiply, np.prod), (np.maximum, np.max), (np.minimum, np.min),
                      (np.logical_and, np.all), (np.logical_or, np.any)):
        r = ufunc.reduce(t)
        assert isinstance(r, fnn.Tensor)
        np.testing.assert_allclose(np.asarray(r), op(x, axis=0))
    np.testing.assert_allclose(np.asarray(t.sum(axis=1, keepdims=True)), x.sum(axis=1, keepdims=True))
    assert t.max().item() == 11 and t.argmin().item() == 0 and t.std(ddof=1).item() == pytest.approx(x.std(ddof=1))
    assert fnn.amax is fnn.max and t.mean(axis=(0, 1)).shape == ()
    assert fnn.sum([1, 2, 3]).item() == 6 and fnn.sum([1, 2, 3]).dtype == np.int64
    assert fnn.sum(2.5).item() == 2.5 and fnn.any([0, 0]).item() is False


def test_bad_arguments():
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(fnn.AxisError, match="axis 2 is out of bounds for array of dimension 2"):
        fnn.sum(x, axis=2)
    with pytest.raises(fnn.AxisError, match="-3"):
        fnn.mean(x, axis=(0, -3))
    with pytest.raises(ValueError, match="duplicate value in 'axis'"):
        fnn.sum(x, axis=(1, -1))
    with pytest.raises(fnn.AxisError):
        fnn.argmax(x, axis=5)
    with pytest.raises(TypeError):
        fnn.argmax(x, axis=(0, 1))
    with pytest.raises(TypeError, match="dtype"):
        fnn.max(x, dtype=np.float64)
    with pytest.raises(TypeError, match="unsupported dtype float16"):
        fnn.sum(np.zeros(3, np.float16))
    with pytest.raises(TypeError, match="not understood"):
        fnn.sum(x, dtype="nonsense")


# ---- on a device: the same data reduced there, held to the same oracle (cpu runs the same checks)

from conftest import DEVICES  # noqa: E402

SHAPES = [(3, 5, 7), (1, 1, 1), (0, 4, 3), (4, 0, 5)]
AXES = [None, 0, -1, (0, 2)]


def sample(dtype, shape, seed=0, lo=-9, hi=10):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "b":
        return rng.random(shape) < 0.5
    if np.dtype(dtype).kind == "i":
        return rng.integers(lo, hi, shape).astype(dtype)
    return (rng.standard_normal(shape) * 4).astype(dtype)


def on(device, x):
    return fnn.asarray(x).to(device)


def layouts(x):
    """(name, host view, maker of the same view of a tensor): contiguous, permuted and stepped."""
    stepped = np.repeat(x, 2, axis=-1)
    return [("contiguous", x, lambda t: t),
            ("permuted", x.transpose(2, 0, 1), lambda t: t.transpose(2, 0, 1)),
            ("stepped", stepped[..., ::2], lambda t: t[..., ::2])]


def check_on(device, op, x, make_view=lambda t: t, base=None, **kw):
    """op over a device view equals NumPy's on the host view (or raises the same ValueError)."""
    t = make_view(on(device, x if base is None else base))
    n = x.size if kw.get("axis") is None else int(np.prod([x.shape[a] for a in np.atleast_1d(kw["axis"])]))
    if op in ("max", "min") and n == 0:
        with pytest.raises(ValueError, match="zero-size array to reduction operation"):
            getattr(fnn, op)(t, **kw)
        return
    got = getattr(fnn, op)(t, **kw)
    assert got.device == t.device
    with quiet():
        assert_matches(op, got.cpu(), x, **kw)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("device", DEVICES)
def test_device_every_op_axis_layout(device, op, dtype):
    for shape in SHAPES:
        x = sample(dtype, shape, lo=-2, hi=3) if op == "prod" else sample(dtype, shape)
        if op == "prod" and x.dtype.kind == "f":
            x = np.clip(x, -1.25, 1.25)
        for name, view, make in layouts(x):
            base = np.repeat(x, 2, axis=-1) if name == "stepped" else x
            for axis in AXES:
                for keepdims in (False, True):
                    check_on(device, op, view, make, base=base, axis=axis, keepdims=keepdims)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
def test_device_large_and_several_chunks(device, dtype):
    big = sample(dtype, (1 << 20,), seed=1)
    wide = sample(dtype, (5, 3 * (1 << 14) + 7), seed=2)   # rows cut into several chunks, and a tail
    tall = sample(dtype, ((1 << 14) + 3, 3), seed=3)       # columns: moved last by a device copy
    for op in ("sum", "max", "min", "all", "any", "mean", "var", "std"):
        for axis in (None, 0, -1):
            check_on(device, op, big, axis=axis)
        for axis in (None, 0, 1):
            check_on(device, op, wide, axis=axis)
            check_on(device, op, tall, axis=axis)
    # Products exact in any order: +-1 for integers, powers of two spread over the chunks for floats.
    ones = np.where(big > 0, 1, -1).astype(dtype) if dtype != np.bool_ else big
    if ones.dtype.kind == "f":
        ones = np.ones_like(ones)
        ones[np.random.default_rng(4).permutation(ones.size)[:40]] = [2.0] * 30 + [0.5] * 10
    np.testing.assert_array_equal(fnn.prod(on(device, ones)).cpu(), np.prod(ones))


@pytest.mark.parametrize("device", DEVICES)
def test_device_nan_propagates_and_first_nan_wins(device):
    rng = np.random.default_rng(5)
    for dtype in FLOAT_DTYPES:
        for shape, axis in (((1 << 20,), None), ((300, 41), 0), ((41, 300), 1), ((7, 70, 5), (0, 2))):
            x = rng.standard_normal(shape).astype(dtype)
            x.flat[[x.size // 2 + 7, x.size - 5, 3]] = np.nan
            t = on(device, x)
            for op in ("max", "min", "sum", "mean", "var"):
                got = getattr(fnn, op)(t, axis=axis).cpu()
                np.testing.assert_array_equal(np.isnan(np.asarray(got)), np.isnan(getattr(np, op)(x, axis=axis)))
            ax = axis if isinstance(axis, int) else None
            for op in ("argmax", "argmin"):
                np.testing.assert_array_equal(getattr(fnn, op)(t, axis=ax).cpu(), getattr(np, op)(x, axis=ax))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
def test_device_argmax_argmin_ties_nan_and_chunks(device, dtype):
    x = sample(dtype, (6, 9, 5), lo=-2, hi=2)  # many ties
    if x.dtype.kind == "f":
        x[2, 3, 1] = x[4, 0, 0] = x[4, 8, 4] = np.nan
    big = np.zeros(3 * (1 << 14) + 11, dtype)   # the extremes tie across chunks: the first must win
    big[[40_000, 20_000, 45_000]] = 1
    big[[30_000, 47_000]] = -1 if dtype != np.bool_ else 0
    for view, make, base in ((x, lambda t: t, x), (x.transpose(1, 2, 0), lambda t: t.transpose(1, 2, 0), x),
                             (big, lambda t: t, big)):
        t = make(on(device, base))
        for op in ("argmax", "argmin"):
            for axis in [None] + list(range(-view.ndim, view.ndim)):
                for keepdims in (False, True):
                    got = getattr(fnn, op)(t, axis=axis, keepdims=keepdims)
                    assert got.device == t.device and got.dtype == np.int64
                    np.testing.assert_array_equal(got.cpu(), getattr(np, op)(view, axis=axis, keepdims=keepdims),
                                                  err_msg=f"{op} axis={axis}")
    with pytest.raises(ValueError, match="attempt to get argmax of an empty sequence"):
        fnn.argmax(on(device, np.zeros((3, 0), dtype)), axis=1)


@pytest.mark.parametrize("src", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
def test_device_dtype_argument_and_ddof(device, src):
    x = (np.arange(-20, 40) % 7).astype(src).reshape(6, 10)
    for dst in DTYPES:
        for op in ("sum", "prod", "mean"):
            v = np.minimum(x, 1 if src != np.bool_ else True) if op == "prod" else x
            for axis in (None, 0, 1):
                got = getattr(fnn, op)(on(device, v), axis=axis, dtype=dst).cpu()
                expected = np.asarray(getattr(np, op)(v, axis=axis, dtype=dst))
                assert got.dtype == expected.dtype
                np.testing.assert_allclose(np.asarray(got).astype(np.float64), expected.astype(np.float64), rtol=1e-6)
    for ddof in (0, 1, 6, 11):
        for op in ("var", "std"):
            with quiet():
                check_on(device, op, x, axis=0, ddof=ddof)
                check_on(device, op, x, axis=None, ddof=ddof)


@pytest.mark.parametrize("device", DEVICES)
def test_device_gradients_of_reductions(device):
    rng = np.random.default_rng(6)
    host = rng.standard_normal((4, 6)).astype(np.float32)
    host[1, 2] = host[1, 4] = host[1].max() + 1  # a tie for max
    w = rng.standard_normal(4).astype(np.float32)
    for op in ("sum", "mean", "max", "min", "prod", "var", "std"):
        grads = []
        for dev in ("cpu", device):
            x = fnn.asarray(host, requires_grad=True, device=dev)
            (getattr(fnn, op)(x, axis=1) * fnn.asarray(w).to(dev)).sum().backward()
            assert x.grad.device == x.device
            grads.append(np.asarray(x.grad.cpu()))
        np.testing.assert_allclose(grads[1], grads[0], rtol=1e-5, atol=1e-6, err_msg=op)
