"""Elementwise ops against NumPy: values and dtypes for every op and dtype, broadcasting, strided inputs,
special values (inf, NaN, +-0, denormal boundaries) on every ISA path, accuracy of the vector math,
in-place ops, casts and copies, and the errors NumPy raises."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import fusednn as fnn
from strategies import DTYPES, arrays, broadcastable_pair, maybe_strided

UNARY = ["negative", "absolute", "sign", "square", "sqrt", "reciprocal", "exp", "expm1", "log", "log1p", "sin",
         "cos", "tanh", "floor", "ceil", "rint", "logical_not", "isnan", "isinf", "isfinite", "invert"]
BINARY = ["add", "subtract", "multiply", "divide", "floor_divide", "remainder", "power", "maximum", "minimum",
          "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and", "logical_or",
          "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor"]
# NumPy types we lack and what fusednn gives instead.
SUBSTITUTE = {np.dtype(np.float16): np.dtype(np.float32), np.dtype(np.int8): np.dtype(np.int32)}


def numpy_reference(name, *args):
    """NumPy's result (or its exception type), computed in float64 for float math so precision compares."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = getattr(np, name)(*args)
        except (TypeError, ValueError) as e:
            return None, TypeError if isinstance(e, TypeError) else ValueError
    dtype = SUBSTITUTE.get(np.asarray(expected).dtype, np.asarray(expected).dtype)
    if dtype.kind == "f":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = getattr(np, name)(*[np.asarray(a, np.float64) for a in args])
    return np.asarray(expected).astype(dtype), None


def check(name, result, expected):
    assert isinstance(result, fnn.Tensor)
    got = np.asarray(result)
    assert got.dtype == expected.dtype, (name, got.dtype, expected.dtype)
    assert got.shape == expected.shape
    if got.dtype == np.float32:
        np.testing.assert_allclose(got, expected, rtol=2e-6, atol=1e-30, equal_nan=True)
    elif got.dtype == np.float64:
        np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-300, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("name", UNARY)
@given(data=st.data())
def test_unary_matches_numpy(name, data):
    x = data.draw(arrays(st.sampled_from(DTYPES), lo=-30, hi=30))
    x = data.draw(maybe_strided(x))
    if name == "reciprocal" and x.dtype == bool:
        x = x | True  # 1/0 in NumPy's int8 is 0, in int32 (ours) the most negative int, as NumPy's int32
    expected, error = numpy_reference(name, x)
    fn = getattr(fnn, name)
    if error is not None:
        with pytest.raises(error):
            fn(x)
        return
    check(name, fn(x), expected)


@pytest.mark.parametrize("name", BINARY)
@given(data=st.data())
def test_binary_matches_numpy(name, data):
    a, b = data.draw(broadcastable_pair(st.sampled_from(DTYPES), st.sampled_from(DTYPES), lo=-20, hi=20))
    if name == "power":  # keep integer powers small and non-negative, floats positive-based
        a, b = np.abs(a) % 7 if a.dtype != bool else a, np.abs(b) % 5 if b.dtype != bool else b
    a = data.draw(maybe_strided(a))
    expected, error = numpy_reference(name, a, b)
    if error is not None:
        with pytest.raises(error):
            getattr(fnn, name)(a, b)
        return
    check(name, getattr(fnn, name)(fnn.Tensor(a), b), expected)


@pytest.mark.parametrize("scalar", [2, -3, 1.5, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["add", "multiply", "maximum", "less", "divide", "floor_divide", "subtract"])
def test_weak_python_scalars_on_either_side(name, dtype, scalar):
    x = (np.arange(7) - 3).astype(dtype)
    for args in ((x, scalar), (scalar, x)):
        expected, error = numpy_reference(name, *args)
        targs = [fnn.Tensor(a) if isinstance(a, np.ndarray) else a for a in args]
        if error is not None:
            with pytest.raises(error):
                getattr(fnn, name)(*targs)
            continue
        check(name, getattr(fnn, name)(*targs), expected)


SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1e-30, -1e-30, 1e-40, 1e-310, 2.5, -2.5, 1e-8, -1e-8,
           87.0, 88.5, 88.8, -87.5, -103.0, -104.5, 709.0, 709.9, -745.0, -746.0, 20.0, -20.0, 50.0, -50.0,
           1e4, -1e4, 3e5, 1e7, -1e7, 1e30, np.inf, -np.inf, np.nan, np.pi / 2, np.pi, 3 * np.pi / 4]
MATH = ["exp", "expm1", "log", "log1p", "sin", "cos", "tanh", "sqrt", "floor", "ceil", "rint", "sign"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", MATH + ["sigmoid"])
def test_special_values(isa, name, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = np.array(SPECIAL * 3, dtype)  # long enough for the vector paths
        x64 = x.astype(np.float64)
        if name == "sigmoid":
            expected = np.where(x64 >= 0, 1 / (1 + np.exp(-np.abs(x64))), np.exp(x64) / (1 + np.exp(x64)))
        else:
            expected = getattr(np, name)(x64)
    got = np.asarray(getattr(fnn, name)(x))
    assert got.dtype == dtype
    tol = dict(rtol=2e-6, atol=1e-37) if dtype == np.float32 else dict(rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(got, expected.astype(dtype), equal_nan=True, **tol)
    # signed zeros survive where NumPy keeps them
    zero_sign = np.signbit(got[:2])
    assert zero_sign.tolist() == np.signbit(expected.astype(dtype)[:2]).tolist()


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 1e-6), (np.float64, 4e-15)])
@pytest.mark.parametrize("name,lo,hi", [("exp", -100, 88), ("expm1", -5, 5), ("log", 1e-30, 1e30),
                                        ("log1p", -0.999, 10), ("sin", -1e4, 1e4), ("cos", -1e4, 1e4),
                                        ("tanh", -10, 10), ("sigmoid", -80, 80)])
def test_vector_math_accuracy(isa, name, lo, hi, dtype, rtol):
    rng = np.random.default_rng(0)
    if name == "log":
        x = np.exp(rng.uniform(np.log(lo), np.log(hi), 20001)).astype(dtype)
    else:
        x = rng.uniform(lo, hi, 20001).astype(dtype)
    x[:7] = [0.0, 1e-7, -1e-7, 1e-20, lo, hi, 0.25] if name != "log" else [1.0, 1 + 1e-7, 1 - 1e-7, lo, hi, 0.5, 2.0]
    x64 = x.astype(np.float64)
    expected = 1 / (1 + np.exp(-x64)) if name == "sigmoid" else getattr(np, name)(x64)
    got = np.asarray(getattr(fnn, name)(x)).astype(np.float64)
    # sin/cos near their zeros: an absolute error, relative to the argument's size (as NumPy's own)
    scale = np.maximum(np.abs(x64), 1) if name in ("sin", "cos") else 0
    atol = (1e-15 if dtype == np.float64 else 1e-9) * scale + (1e-300 if dtype == np.float64 else 2.0**-148)
    err = np.abs(got - expected)
    bad = err > atol + rtol * np.abs(expected)
    assert not bad.any(), (x[bad][:5], got[bad][:5], expected[bad][:5])


def test_integer_division_edge_cases():
    imin = np.iinfo(np.int64).min
    a = np.array([-7, 7, imin, 5, imin, 0], np.int64)
    b = np.array([0, -2, -1, 0, 1, 0], np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(np.asarray(fnn.floor_divide(a, b)), np.floor_divide(a, b))
        np.testing.assert_array_equal(np.asarray(fnn.remainder(a, b)), np.remainder(a, b))
        af, bf = np.array([-7.0, 7, 1, -0.0, 5, np.inf]), np.array([0.0, -2, np.inf, 3, 0.5, 2])
        np.testing.assert_array_equal(np.asarray(fnn.floor_divide(af, bf)), np.floor_divide(af, bf))
        np.testing.assert_array_equal(np.asarray(fnn.remainder(af, bf)), np.remainder(af, bf))
        ai = np.array([0, 1, 2, -1, -2], np.int32)
        np.testing.assert_array_equal(np.asarray(fnn.reciprocal(ai)), np.reciprocal(ai))
    assert np.asarray(fnn.negative(np.array([imin]))).tolist() == [imin]  # wraps like NumPy


def test_integer_power():
    a = np.array([2, 3, 0, -2, 7], np.int32)
    b = np.array([40, 2, 0, 3, 11], np.int32)
    np.testing.assert_array_equal(np.asarray(fnn.power(a, b)), np.power(a, b))
    with pytest.raises(ValueError, match="Integers to negative integer powers are not allowed"):
        fnn.power(np.arange(3), -1)
    with pytest.raises(ValueError, match="negative integer powers"):
        fnn.Tensor(np.arange(3)) ** np.array([1, -2, 3])


def test_bool_rules():
    t = fnn.Tensor(np.array([True, False, True]))
    with pytest.raises(TypeError, match="boolean subtract"):
        t - t
    with pytest.raises(TypeError, match="boolean negative"):
        -t
    assert np.asarray(t + t).dtype == np.bool_
    assert np.asarray(fnn.exp(t)).dtype == np.float32  # NumPy: float16
    assert np.asarray(~t).tolist() == [False, True, False]
    with pytest.raises(TypeError, match="bitwise_and"):
        fnn.bitwise_and(np.ones(2), np.ones(2))


@pytest.mark.parametrize("decimals", [-2, -1, 0, 1, 2])
@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float32, np.float64])
def test_round_decimals(dtype, decimals):
    x = np.array([1250, -1250, 1350, 5, -15, 25, 0, 1234567], dtype)
    if dtype in (np.float32, np.float64):
        x = x / np.array(100, dtype) + np.array([0, 0.005, 0, 0.5, 0, 0, 0, 0], dtype)
    got = np.asarray(fnn.round(x, decimals))
    np.testing.assert_allclose(got, np.round(x, decimals), rtol=1e-6)
    assert got.dtype == dtype


def test_operators_mixed_operands():
    a = np.arange(1, 7, dtype=np.float32).reshape(2, 3)
    t = fnn.Tensor(a)
    cases = [(t + 1, a + 1), (1 + t, 1 + a), (t - a, a - a), (a - t, a - a), (2 * t, 2 * a), (t / 2, a / 2),
             (1 / t, 1 / a), (t // 2, a // 2), (7 // t, 7 // a), (t % 4, a % 4), (5 % t, 5 % a), (t ** 2, a ** 2),
             (2 ** t, 2 ** a), (abs(-t), a), (+t, a), (t == a, a == a), (t != 2, a != 2), (t < 3, a < 3),
             (t <= 3, a <= 3), (t > 3, a > 3), (t >= 3, a >= 3), (np.add(t, 1), a + 1), (np.add(a, t), a + a),
             (np.maximum(t, 3.5), np.maximum(a, 3.5)), (np.float64(2.0) * t, np.float64(2.0) * a)]
    for got, expected in cases:
        assert isinstance(got, fnn.Tensor)
        np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-6)
        assert np.asarray(got).dtype == expected.dtype
    i = fnn.Tensor(np.array([12, 10], np.int32))
    np.testing.assert_array_equal(np.asarray((i & 6) | (i ^ 1)), (np.array([12, 10]) & 6) | (np.array([12, 10]) ^ 1))
    np.testing.assert_array_equal(np.asarray(3 & i), 3 & np.array([12, 10]))


def test_inplace_operators():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = fnn.from_numpy(a)
    t += np.ones(3)           # float64 operand, same_kind cast back to float32
    t *= 2
    t -= fnn.Tensor(np.array([[1.0], [2.0]], np.float32))
    t /= 2
    t **= 2
    t //= 3
    t %= 5
    expected = np.arange(6, dtype=np.float32).reshape(2, 3)
    expected += 1
    expected *= 2
    expected -= np.array([[1.0], [2.0]], np.float32)
    expected /= 2
    expected **= 2
    expected //= 3
    expected %= 5
    np.testing.assert_allclose(a, expected)
    assert np.asarray(t).dtype == np.float32
    i = fnn.Tensor(np.arange(4))
    with pytest.raises(TypeError, match="Cannot cast ufunc 'add' output from dtype\\('float64'\\) to dtype\\('int64'\\)"):
        i += 1.5
    with pytest.raises(TypeError, match="same_kind"):
        i /= 2
    i &= 6
    i |= 1
    i ^= 2
    np.testing.assert_array_equal(np.asarray(i), ((np.arange(4) & 6) | 1) ^ 2)
    with pytest.raises(ValueError, match="non-broadcastable output operand with shape \\(3,\\)"):
        t2 = fnn.Tensor(np.ones(3))
        t2 += np.ones((2, 3))


def test_inplace_with_overlapping_operand():
    a = np.arange(10, dtype=np.int64)
    dst = fnn.from_numpy(a[1:])
    dst += fnn.from_numpy(a[:-1])
    expected = np.arange(10)
    expected[1:] += np.arange(10)[:-1].copy()
    np.testing.assert_array_equal(a, expected)


def test_inplace_read_only():
    a = np.ones(3)
    a.flags.writeable = False
    t = fnn.from_numpy(a)
    with pytest.raises(ValueError, match="read-only"):
        t += 1
    with pytest.raises(ValueError, match="read-only"):
        t.fill(0)


@given(data=st.data())
def test_astype_every_pair(data):
    x = data.draw(arrays(st.sampled_from(DTYPES), lo=-1000, hi=1000))
    x = data.draw(maybe_strided(x))
    to = data.draw(st.sampled_from(DTYPES))
    got = fnn.Tensor(x).astype(to)
    assert got.is_contiguous()
    np.testing.assert_array_equal(np.asarray(got), x.astype(to))


def test_astype_float_to_int_special_values():
    x = np.array([np.nan, np.inf, -np.inf, 3e9, -3e9, 2.7, -2.7, 2147483647.0, -2147483648.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for to in (np.int32, np.int64):
            np.testing.assert_array_equal(np.asarray(fnn.astype(x, to)), x.astype(to))
        np.testing.assert_array_equal(np.asarray(fnn.astype(x.astype(np.float32), np.int32)),
                                      x.astype(np.float32).astype(np.int32))
    np.testing.assert_array_equal(np.asarray(fnn.astype(x, bool)), x.astype(bool))


def test_astype_copy_false_and_contiguous():
    t = fnn.Tensor(np.arange(6.0).reshape(2, 3))
    assert t.astype(np.float64, copy=False) is t
    assert t.astype(np.float64)._data_ptr != t._data_ptr
    assert fnn.ascontiguousarray(t) is t
    tt = fnn.Tensor(np.arange(6.0).reshape(2, 3).T)
    c = fnn.ascontiguousarray(tt)
    assert c.is_contiguous() and not tt.is_contiguous()
    np.testing.assert_array_equal(np.asarray(c), np.arange(6.0).reshape(2, 3).T)
    assert fnn.ascontiguousarray(tt, dtype=np.float32).dtype == np.float32
    cp = fnn.copy(t)
    assert cp._data_ptr != t._data_ptr and np.array_equal(np.asarray(cp), np.asarray(t))
    assert np.asarray(t.copy()).flags.c_contiguous


def test_copy_into_broadcast_cast_and_overlap():
    dst = np.zeros((2, 3), np.int32)
    fnn._C._copy_into(fnn.from_numpy(dst), np.array([1.7, -2.2, 3.9]))
    np.testing.assert_array_equal(dst, [[1, -2, 3]] * 2)
    fnn._C._copy_into(fnn.from_numpy(dst), np.ones((1, 1, 3)))  # leading size-1 axes drop, as NumPy
    fnn._C._copy_into(fnn.from_numpy(dst), 7)
    assert (dst == 7).all()
    big = np.zeros(2, np.float64)
    fnn._C._copy_into(fnn.from_numpy(big), 1e300)  # Python floats keep double precision
    assert big[0] == 1e300
    a = np.arange(10.0)
    t = fnn.from_numpy(a)
    fnn._C._copy_into(fnn.from_numpy(a[1:]), fnn.from_numpy(a[:-1]))  # overlapping source
    np.testing.assert_array_equal(a, [0, 0, 1, 2, 3, 4, 5, 6, 7, 8])
    fnn._C._copy_into(fnn.from_numpy(a[::-1]), t)  # reversal of itself
    np.testing.assert_array_equal(a, [8, 7, 6, 5, 4, 3, 2, 1, 0, 0])
    with pytest.raises(ValueError, match=r"could not broadcast input array from shape \(4,\) into shape \(2, 3\)"):
        fnn._C._copy_into(fnn.from_numpy(dst), np.ones(4))


def test_fill():
    for dtype, value in [(np.float32, 2.5), (np.int64, 2**62 + 1), (np.int32, -3), (np.bool_, True), (np.float64, np.nan)]:
        a = np.zeros((3, 4), dtype)
        fnn.from_numpy(a).fill(value)
        np.testing.assert_array_equal(a, np.full((3, 4), value, dtype))
    a = np.zeros((4, 4))
    fnn.from_numpy(a[:, ::2]).fill(1)  # strided destination
    np.testing.assert_array_equal(a, np.tile([1.0, 0.0], (4, 2)))
    with pytest.raises(ValueError, match="scalar"):
        fnn.Tensor(np.zeros(3)).fill(np.ones(2))


@given(data=st.data())
def test_where_and_clip(data):
    x, y = data.draw(broadcastable_pair(st.sampled_from(DTYPES), st.sampled_from(DTYPES)))
    cond = data.draw(arrays(np.bool_, shape=st.just(x.shape[-1:])))
    got = fnn.where(cond, x, y)
    expected = np.where(cond, x, y)
    assert np.asarray(got).dtype == expected.dtype
    np.testing.assert_array_equal(np.asarray(got), expected)
    z = data.draw(arrays(st.sampled_from([np.int32, np.int64, np.float32, np.float64])))
    lo, hi = data.draw(st.sampled_from([(-5, 5), (None, 3), (-2, None), (1.5, 2.5)]))
    got = fnn.clip(z, lo, hi)
    expected = np.clip(z, lo, hi)
    assert np.asarray(got).dtype == expected.dtype
    np.testing.assert_array_equal(np.asarray(got), expected)


def test_clip_nan_and_array_bounds():
    x = np.array([np.nan, -3.0, 0.5, 9.0])
    np.testing.assert_array_equal(np.asarray(fnn.clip(x, 0, 1)), np.clip(x, 0, 1))
    np.testing.assert_array_equal(np.asarray(fnn.clip(1.0 * np.ones(4), np.nan, 2)), np.clip(np.ones(4), np.nan, 2))
    bounds = np.array([0.0, -1.0, 1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(fnn.Tensor(x).clip(bounds, 5)), np.clip(x, bounds, 5))
    with pytest.raises(ValueError, match="One of max or min must be given"):
        fnn.clip(x)


@pytest.mark.parametrize("n", [0, 1, 7, 63, 64, 65, 1000, 100_003])
def test_sizes_and_every_isa(isa, n):
    rng = np.random.default_rng(n)
    a = rng.standard_normal(n).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(fnn.add(a, b)), a + b)
    np.testing.assert_array_equal(np.asarray(fnn.multiply(a, 3.0)), a * np.float32(3.0))
    np.testing.assert_array_equal(np.asarray(fnn.subtract(2.0, a)), np.float32(2.0) - a)
    np.testing.assert_array_equal(np.asarray(fnn.maximum(a[::-1], b)), np.maximum(a[::-1], b))
    np.testing.assert_allclose(np.asarray(fnn.exp(a)), np.exp(a.astype(np.float64)), rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(fnn.where(a > 0, a, b)), np.where(a > 0, a, b))
    np.testing.assert_array_equal(np.asarray(fnn.clip(a, -0.5, 0.5)), np.clip(a, -0.5, 0.5))


def test_threads_give_identical_results(threads):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((1000, 513)).astype(np.float32)
    results = []
    for n in (1, 2):
        fnn.set_num_threads(n)
        results.append((np.asarray(fnn.exp(a)), np.asarray(fnn.add(a, a.T[:513, :1].T)), np.asarray(fnn.sin(a[:, ::3]))))
    for x, y in zip(*results):
        np.testing.assert_array_equal(x, y)


def test_bad_input():
    with pytest.raises(ValueError, match=r"operands could not be broadcast together with shapes \(3,\) \(4,\)"):
        fnn.add(np.ones(3), np.ones(4))
    with pytest.raises(TypeError, match="float16"):
        fnn.exp(np.ones(3, np.float16))
    with pytest.raises(TypeError, match="invert"):
        fnn.invert(np.ones(3))
    with pytest.raises(TypeError):
        fnn.Tensor(np.ones(3)) + "a"
