"""GEMM and matmul family against NumPy float64: edge shapes around the register tile (MR, NR) and the K
block (KC), every transpose and stride, alpha/beta, the fused epilogue, every ISA, thread determinism,
NumPy's matmul/dot/tensordot semantics and bad input; the CUDA GEMM (SIMT and TF32) on the same cases,
batched, strided and mixed with the host."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import fusednn as fnn
from fusednn import _C

from conftest import DEVICES
from strategies import arrays, maybe_strided

FLOATS = [np.float32, np.float64]
# Around the tile sizes of every ISA (MR 32/16/8, NR 12/6/4 for float32), the K blocks (512 / 256 at most,
# split evenly) and primes.
EDGE_DIMS = [1, 2, 3, 5, 7, 8, 11, 13, 15, 16, 17, 31, 32, 33, 47]
SHAPES = [(0, 3, 4), (3, 0, 4), (3, 4, 0), (1, 1, 1), (1, 50, 1), (50, 1, 50), (1, 1, 300), (31, 13, 97),
          (33, 25, 7), (17, 11, 383), (65, 37, 385), (7, 129, 193), (12, 13, 191), (97, 101, 769),
          (19, 23, 511), (29, 9, 513), (5, 33, 1025)]
LAYOUTS = ["c", "t", "stepped", "reversed"]


def rng(seed=0):
    return np.random.default_rng(seed)


def layout(x, kind):
    """x (2-D) in another memory layout with the same values: transposed storage, every other column of
    a wider array, or reversed rows (a negative stride)."""
    if kind == "t":
        return np.ascontiguousarray(x.T).T
    if kind == "stepped":
        wide = np.zeros((x.shape[0], 2 * x.shape[1] + 1), x.dtype)
        wide[:, 1::2] = x
        return wide[:, 1::2]
    if kind == "reversed":
        return np.ascontiguousarray(x[::-1])[::-1]
    return x.copy()


def check_close(got, a, b, expected, dtype):
    """|got - expected| within (K + 4) ulps of the magnitude |A| |B| (+ |expected| for the epilogue)."""
    got = np.asarray(got, dtype=np.float64)
    k = a.shape[-1]
    scale = np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64)) + np.abs(expected) + 1.0
    tol = (k + 4) * np.finfo(dtype).eps
    assert got.shape == expected.shape
    bad = ~(np.abs(got - expected) <= tol * scale)
    assert not bad.any(), f"{bad.sum()} elements off, worst {np.max(np.abs(got - expected) / scale)}"


def random_matrix(shape, dtype, seed):
    return np.asarray(rng(seed).standard_normal(shape)).astype(dtype)


# ---- the raw GEMM ----

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("m,n,k", SHAPES)
def test_gemm_shapes_every_isa(isa, dtype, m, n, k):
    a, b = random_matrix((m, k), dtype, 1), random_matrix((k, n), dtype, 2)
    got = _C._gemm(fnn.asarray(a), fnn.asarray(b))
    check_close(got, a, b, a.astype(np.float64) @ b.astype(np.float64), dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("la", LAYOUTS)
@pytest.mark.parametrize("lb", LAYOUTS)
@pytest.mark.parametrize("lc", ["c", "t", "stepped"])
def test_gemm_layouts(isa, dtype, la, lb, lc):
    m, n, k = 45, 29, 70
    a, b = random_matrix((m, k), dtype, 3), random_matrix((k, n), dtype, 4)
    c0 = random_matrix((m, n), dtype, 5)
    out = layout(c0, lc)
    _C._gemm(fnn.asarray(layout(a, la)), fnn.asarray(layout(b, lb)), out=fnn.asarray(out), alpha=-0.5, beta=0.75)
    expected = -0.5 * (a.astype(np.float64) @ b.astype(np.float64)) + 0.75 * c0
    check_close(out, a, b, expected, dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("m,n,k", [(40, 30, 20), (3, 5, 0), (300, 200, 500)])
def test_beta_zero_never_reads_c(isa, dtype, m, n, k):
    a, b = random_matrix((m, k), dtype, 6), random_matrix((k, n), dtype, 7)
    out = np.full((m, n), np.nan, dtype)
    _C._gemm(fnn.asarray(a), fnn.asarray(b), out=fnn.asarray(out), alpha=2.0, beta=0.0)
    check_close(out, a, b, 2.0 * (a.astype(np.float64) @ b.astype(np.float64)), dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("la", ["c", "t"])
@pytest.mark.parametrize("lb", ["c", "t"])
@pytest.mark.parametrize("lc", ["c", "t"])
@pytest.mark.parametrize("m,n,k", [(300, 270, 40), (270, 300, 530)])
def test_packed_panels_layouts(isa, dtype, la, lb, lc, m, n, k):
    """Shapes big enough that both operands are packed, in every storage order: contiguous runs copied a
    group of strips at a time (groups of ~1 KiB, crossed here, with a partial last strip) or transposed."""
    a, b = random_matrix((m, k), dtype, 6), random_matrix((k, n), dtype, 7)
    out = layout(np.zeros((m, n), dtype), lc)
    _C._gemm(fnn.asarray(layout(a, la)), fnn.asarray(layout(b, lb)), out=fnn.asarray(out))
    check_close(out, a, b, a.astype(np.float64) @ b.astype(np.float64), dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_k_zero_scales_c_then_epilogue(dtype):
    c0 = random_matrix((5, 7), dtype, 8)
    bias = random_matrix((7,), dtype, 9)
    out = c0.copy()
    _C._gemm(fnn.asarray(np.zeros((5, 0), dtype)), fnn.asarray(np.zeros((0, 7), dtype)), out=fnn.asarray(out),
             beta=0.5, bias=fnn.asarray(bias), bias_mode="col", activation="relu")
    np.testing.assert_allclose(out, np.maximum(0.5 * c0 + bias, 0), rtol=1e-6)


def gelu(x):
    """x Phi(x) in its erfc form, exact for large negative x (where 1 + erf cancels to 0)."""
    return 0.5 * x * np.vectorize(math.erfc)(-x / math.sqrt(2))


ACTIVATIONS = {
    None: lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "leaky_relu": lambda x: np.where(x < 0, 0.2 * x, x),
    "gelu": gelu,
    "tanh": np.tanh,
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "silu": lambda x: x / (1 + np.exp(-x)),
}


def epilogue_reference(a, b, c0, bias, bias_mode, activation):
    """act(1.5 a b + 0.5 c0 + bias) in float64: alpha 1.5 and beta 0.5, as the epilogue tests pass them."""
    pre = 1.5 * (a.astype(np.float64) @ b.astype(np.float64)) + 0.5 * c0
    if bias_mode == "row":
        pre += bias[:, None]
    elif bias_mode == "col":
        pre += bias[None, :]
    return ACTIVATIONS[activation](pre)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("bias_mode", ["none", "row", "col"])
@pytest.mark.parametrize("lc", ["c", "t"])
def test_epilogue(isa, dtype, activation, bias_mode, lc):
    m, n, k = 37, 26, 400  # two K blocks: the epilogue must run once, after the last
    a, b = random_matrix((m, k), dtype, 10) * 0.2, random_matrix((k, n), dtype, 11) * 0.2
    c0 = random_matrix((m, n), dtype, 12)
    bias = {"none": None, "row": random_matrix((m,), dtype, 13), "col": random_matrix((n,), dtype, 14)}[bias_mode]
    out = layout(c0, lc)
    _C._gemm(fnn.asarray(a), fnn.asarray(b), out=fnn.asarray(out), alpha=1.5, beta=0.5,
             bias=None if bias is None else fnn.asarray(bias), bias_mode=bias_mode, activation=activation,
             leaky_slope=0.2)
    check_close(out, a, b, epilogue_reference(a, b, c0, bias, bias_mode, activation), dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("m,n,k", [(45, 10, 70), (37, 3, 400), (10, 45, 70), (50, 1, 20), (45, 20, 33)])
@pytest.mark.parametrize("bias_mode", ["row", "col"])
@pytest.mark.parametrize("lc", ["c", "t"])
def test_narrow_side_stores_transposed(isa, dtype, m, n, k, bias_mode, lc):
    """A side of C narrower than a vector goes to the broadcast side of the register tile, which then
    stores transposed: beta, bias and activation must hold there too, for full and partial tiles."""
    a, b = random_matrix((m, k), dtype, 18), random_matrix((k, n), dtype, 19)
    c0 = random_matrix((m, n), dtype, 20)
    bias = random_matrix((m if bias_mode == "row" else n,), dtype, 21)
    expected = epilogue_reference(a, b, c0, bias, bias_mode, "leaky_relu")
    out = layout(c0, lc)  # may be c0 itself when n == 1: expected values are computed first
    _C._gemm(fnn.asarray(a), fnn.asarray(b), out=fnn.asarray(out), alpha=1.5, beta=0.5, bias=fnn.asarray(bias),
             bias_mode=bias_mode, activation="leaky_relu", leaky_slope=0.2)
    check_close(out, a, b, expected, dtype)


EXTREMES = np.array([-1e4, -800, -100, -20, -1e-6, 0, 1e-30, 1e-6, 20, 100, 800, 1e4, np.nan])


def check_extremes(got, x, activation, ulps, erf_form):
    """got = act(x) within `ulps` of the float64 value, NaN where it is NaN. float32 results below the
    normal range may flush to 0 where float64 keeps a subnormal. erf_form: GELU computed as
    x (1 + erf(x / sqrt2)) / 2 (the CPU epilogue), whose cancellation leaves an absolute error up to
    |x| eps / 2 where the true value is tiny (gelu(-20) = -5.5e-88 comes out as -0.0)."""
    eps, tiny = np.finfo(got.dtype).eps, np.finfo(got.dtype).tiny
    with np.errstate(over="ignore"):
        expected = ACTIVATIONS[activation](x.astype(np.float64))[:, None]
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    cancellation = 0.5 * np.abs(np.nan_to_num(x.astype(np.float64)))[:, None] * eps if erf_form and activation == "gelu" else 0
    np.testing.assert_array_less(np.abs(np.nan_to_num(got - expected)),
                                 ulps * eps * np.abs(np.nan_to_num(expected)) + cancellation + tiny)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "silu", "gelu"])
def test_epilogue_extremes(isa, dtype, activation):
    """Saturation, overflow of exp, tiny values and NaN pass through the activations as NumPy's would."""
    x = EXTREMES.astype(dtype)
    got = np.asarray(_C._gemm(fnn.asarray(x[:, None]), fnn.asarray(np.ones((1, 1), dtype)), activation=activation))
    check_extremes(got, x, activation, ulps=4, erf_form=True)


@pytest.mark.parametrize("dtype", FLOATS)
# (2100, 300, 1100): two packed panels of B (over 8 MiB), each thread packing its own copies, chunks claimed
# per panel
@pytest.mark.parametrize("m,n,k", [(1000, 1000, 300), (600, 40, 900), (40, 700, 500), (13, 3000, 64),
                                   (2100, 300, 1100)])
def test_threads_bitwise_equal(threads, dtype, m, n, k):
    a, b = random_matrix((m, k), dtype, 15), random_matrix((k, n), dtype, 16)
    bias = random_matrix((n,), dtype, 17)
    results = []
    for t in (1, 2):
        fnn.set_num_threads(t)
        results.append(np.asarray(_C._gemm(fnn.asarray(a), fnn.asarray(b), bias=fnn.asarray(bias), bias_mode="col",
                                           activation="gelu")))
    assert np.array_equal(results[0], results[1])
    check_close(results[0], a, b, gelu(a.astype(np.float64) @ b.astype(np.float64) + bias), dtype)


def test_large_square_every_isa(isa):
    a, b = random_matrix((1031, 1029), np.float32, 18), random_matrix((1029, 1033), np.float32, 19)
    check_close(fnn.matmul(a, b), a, b, a.astype(np.float64) @ b.astype(np.float64), np.float32)


def test_gemm_bad_arguments():
    a, b = fnn.asarray(np.ones((3, 4), np.float32)), fnn.asarray(np.ones((4, 5), np.float32))
    with pytest.raises(ValueError, match=r"\(3, 4\) and \(5, 4\)"):
        _C._gemm(a, fnn.asarray(np.ones((5, 4), np.float32)))
    with pytest.raises(TypeError, match="float32"):
        _C._gemm(a, fnn.asarray(np.ones((4, 5), np.float64)))
    with pytest.raises(TypeError):
        _C._gemm(fnn.asarray(np.ones((3, 4), np.int64)), fnn.asarray(np.ones((4, 5), np.int64)))
    with pytest.raises(ValueError, match="beta"):
        _C._gemm(a, b, beta=1.0)
    with pytest.raises(ValueError, match="out has shape"):
        _C._gemm(a, b, out=fnn.asarray(np.ones((3, 4), np.float32)))
    with pytest.raises(ValueError, match="bias has shape"):
        _C._gemm(a, b, bias=fnn.asarray(np.ones(3, np.float32)), bias_mode="col")
    with pytest.raises(ValueError, match="activation"):
        _C._gemm(a, b, activation="softmax")
    with pytest.raises(ValueError, match="bias_mode"):
        _C._gemm(a, b, bias_mode="diagonal")
    with pytest.raises(ValueError, match="overlap"):
        big = np.ones((4, 4), np.float32)
        _C._gemm(fnn.asarray(big), fnn.asarray(big), out=fnn.asarray(big))


# ---- matmul with NumPy semantics ----

@pytest.mark.parametrize("sa,sb", [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 5)), ((2, 3, 4), (4,)), ((4,), (2, 4, 5)),
                                   ((2, 1, 3, 4), (5, 4, 2)), ((1, 3, 4), (6, 4, 2)), ((0, 3, 4), (4, 2)),
                                   ((2, 3, 0), (0, 5)), ((7, 1, 5), (7, 5, 1))])
@pytest.mark.parametrize("dtype", FLOATS)
def test_matmul_broadcasting(sa, sb, dtype):
    a, b = random_matrix(sa, dtype, 20), random_matrix(sb, dtype, 21)
    got = fnn.matmul(a, b)
    expected = np.matmul(a, b)
    assert isinstance(got, fnn.Tensor) and got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("da,db", [(np.int32, np.float32), (np.int64, np.int32), (np.bool_, np.bool_),
                                   (np.float32, np.float64), (np.bool_, np.int32), (np.int32, np.int32)])
def test_matmul_dtype_promotion(da, db):
    a = (rng(22).integers(-3, 4, (5, 6)) > 0 if da == np.bool_ else rng(22).integers(-3, 4, (5, 6))).astype(da)
    b = (rng(23).integers(-3, 4, (6, 2)) > 0 if db == np.bool_ else rng(23).integers(-3, 4, (6, 2))).astype(db)
    got, expected = fnn.matmul(a, b), np.matmul(a, b)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(np.asarray(got), expected)


def test_integer_matmul_wraps_like_numpy():
    a = np.full((2, 3), 2**20, np.int32)
    np.testing.assert_array_equal(np.asarray(fnn.matmul(a, a.T)), a @ a.T)


@given(data=st.data())
def test_matmul_hypothesis(data):
    dtype = data.draw(st.sampled_from(FLOATS))
    m, k, n = (data.draw(st.integers(1, 40)) for _ in range(3))
    a = data.draw(maybe_strided(data.draw(arrays(dtype, (m, k), lo=-4, hi=4))))
    b = data.draw(maybe_strided(data.draw(arrays(dtype, (k, n), lo=-4, hi=4))))
    if a.shape[1] != b.shape[0]:
        with pytest.raises(ValueError, match="not aligned"):
            fnn.matmul(a, b)
        return
    check_close(fnn.matmul(a, b), a, b, a.astype(np.float64) @ b.astype(np.float64), dtype)


def test_matmul_errors():
    with pytest.raises(ValueError, match=r"matmul: shapes \(3, 4\) and \(5, 6\) not aligned: 4 \(dim 1\) != 5 \(dim 0\)"):
        fnn.matmul(np.ones((3, 4)), np.ones((5, 6)))
    with pytest.raises(ValueError, match=r"\(2, 3, 4\) and \(3, 2\)"):
        fnn.matmul(np.ones((2, 3, 4)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="broadcast"):
        fnn.matmul(np.ones((2, 3, 4)), np.ones((3, 4, 2)))
    with pytest.raises(ValueError, match="dimensions"):
        fnn.matmul(np.float32(2.0), np.ones(3))
    with pytest.raises(TypeError):
        fnn.matmul(np.ones((2, 2), np.complex64), np.ones((2, 2), np.complex64))
    with pytest.raises(TypeError):
        fnn.matmul(np.ones((2, 2), np.float16), np.ones((2, 2), np.float16))


def test_numpy_dispatch_and_operators():
    a = fnn.asarray(random_matrix((3, 4), np.float32, 24))
    b = fnn.asarray(random_matrix((4, 2), np.float32, 25))
    expected = np.asarray(a) @ np.asarray(b)
    for got in (np.matmul(a, b), np.dot(a, b), a @ b, np.asarray(a) @ b, a.dot(b), fnn.linalg.matmul(a, b)):
        assert isinstance(got, fnn.Tensor)
        np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-6)
    out = fnn.asarray(np.zeros((3, 2), np.float32))
    assert fnn.matmul(a, b, out=out) is out
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-6)


@pytest.mark.parametrize("sa,sb", [((), (3,)), ((3,), (3,)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((2, 3, 4), (5, 4, 6)),
                                   ((4,), (2, 4, 3))])
def test_dot_inner_outer_vdot(sa, sb):
    a, b = random_matrix(sa, np.float64, 26), random_matrix(sb, np.float64, 27)
    np.testing.assert_allclose(np.asarray(fnn.dot(a, b)), np.dot(a, b), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(fnn.outer(a, b)), np.outer(a, b), rtol=1e-12)
    if a.shape[-1:] == b.shape[-1:] or a.ndim == 0:
        np.testing.assert_allclose(np.asarray(fnn.inner(a, b)), np.inner(a, b), rtol=1e-12)
    if a.size == b.size:
        np.testing.assert_allclose(np.asarray(fnn.vdot(a, b)), np.vdot(a, b), rtol=1e-12)
    assert isinstance(np.dot(fnn.asarray(a), b), fnn.Tensor)


@pytest.mark.parametrize("axes", [0, 1, 2, ([1, 0], [0, 1]), ([2], [1]), (-1, 0)])
def test_tensordot(axes):
    a, b = random_matrix((3, 4, 5), np.float64, 28), random_matrix((4, 5, 2) if axes != ([2], [1]) else (2, 5, 3),
                                                                  np.float64, 29)
    if axes == 1:
        b = random_matrix((5, 2), np.float64, 30)
    if axes == ([1, 0], [0, 1]):
        b = random_matrix((4, 3, 2), np.float64, 31)
    if axes == (-1, 0):
        b = random_matrix((5, 6), np.float64, 32)
    np.testing.assert_allclose(np.asarray(fnn.tensordot(a, b, axes)), np.tensordot(a, b, axes), rtol=1e-12)
    with pytest.raises(ValueError, match="shape-mismatch"):
        fnn.tensordot(a, random_matrix((7, 7), np.float64, 33), 1)


# ---- the CUDA GEMM: each case runs on the CPU too (where it checks the test itself) and, with a GPU, on the
# device against the same float64 NumPy oracle ----

requires_gpu = pytest.mark.skipif(not fnn.cuda.is_available(), reason="no CUDA device on this machine")


def on(device, x, kind="c"):
    """NumPy x as a tensor on `device` in memory layout `kind` (as layout() above), the view made there."""
    if kind == "t":
        return fnn.asarray(np.ascontiguousarray(x.T)).to(device).T
    if kind == "stepped":
        wide = np.zeros((x.shape[0], 2 * x.shape[1] + 1), x.dtype)
        wide[:, 1::2] = x
        return fnn.asarray(wide).to(device)[:, 1::2]
    if kind == "reversed":
        return fnn.asarray(np.ascontiguousarray(x[::-1])).to(device)[::-1]
    return fnn.asarray(x.copy()).to(device)


def host(t, device):
    """A result tensor back on the host, checking that it stayed on the operands' device."""
    assert t.device == ("cpu" if device == "cpu" else "cuda:0")
    return np.asarray(t.cpu())


def check_tf32(got, a, b, expected):
    """TF32 rounds each input to 10 mantissa bits (relative error <= 2**-11 each, so <= 2**-10 + 2**-22 per
    product, products then exact in float32) and accumulates in float32: elementwise, |error| <= (2**-10 +
    (K + 4) eps32) (|A| |B|)_ij, plus float32 rounding of the epilogue (the |expected| term). For random
    data that is about 1e-3 relative to |A| |B|, i.e. some 1e-3 sqrt(K) of a typical |(AB)_ij|."""
    got = np.asarray(got, dtype=np.float64)
    scale = np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64)) + np.abs(expected) + 1.0
    tol = 2.0 ** -10 * 1.01 + (a.shape[-1] + 4) * np.finfo(np.float32).eps
    bad = ~(np.abs(got - expected) <= tol * scale)
    assert not bad.any(), f"{bad.sum()} elements off, worst {np.max(np.abs(got - expected) / scale)}"


@pytest.fixture
def tf32():
    """TF32 allowed for the test, then switched off again."""
    fnn.backends.cuda.matmul.allow_tf32 = True
    yield
    fnn.backends.cuda.matmul.allow_tf32 = False


DEVICE_SHAPES = [(0, 3, 4), (3, 0, 4), (3, 4, 0), (1, 1, 1), (1, 50, 1), (50, 1, 50), (1, 1, 300), (2, 3, 5),
                 (7, 11, 13), (31, 37, 41), (127, 128, 129), (129, 127, 128), (128, 128, 128), (257, 130, 9),
                 (8, 300, 520)]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("m,n,k", DEVICE_SHAPES)
def test_device_gemm_shapes(device, dtype, m, n, k):
    a, b = random_matrix((m, k), dtype, 40), random_matrix((k, n), dtype, 41)
    got = _C._gemm(on(device, a), on(device, b))
    check_close(host(got, device), a, b, a.astype(np.float64) @ b.astype(np.float64), dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("m,n,k", [(133, 67, 37), (128, 64, 48)])  # ragged edges, unaligned; whole vectors
@pytest.mark.parametrize("la", LAYOUTS)
@pytest.mark.parametrize("lb", LAYOUTS)
@pytest.mark.parametrize("lc", ["c", "t", "stepped"])
def test_device_gemm_layouts(device, dtype, m, n, k, la, lb, lc):
    """Every transpose combination and strided view of A, B and C, with alpha and beta."""
    a, b = random_matrix((m, k), dtype, 42), random_matrix((k, n), dtype, 43)
    c0 = random_matrix((m, n), dtype, 44)
    out = on(device, c0, lc)
    _C._gemm(on(device, a, la), on(device, b, lb), out=out, alpha=-0.5, beta=0.75)
    expected = -0.5 * (a.astype(np.float64) @ b.astype(np.float64)) + 0.75 * c0
    check_close(host(out, device), a, b, expected, dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("m,n,k", [(40, 30, 20), (3, 5, 0), (300, 200, 500)])
def test_device_beta_zero_never_reads_c(device, dtype, m, n, k):
    a, b = random_matrix((m, k), dtype, 45), random_matrix((k, n), dtype, 46)
    out = on(device, np.full((m, n), np.nan, dtype))
    _C._gemm(on(device, a), on(device, b), out=out, alpha=2.0, beta=0.0)
    check_close(host(out, device), a, b, 2.0 * (a.astype(np.float64) @ b.astype(np.float64)), dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_device_k_zero_scales_c_then_epilogue(device, dtype):
    c0 = random_matrix((5, 7), dtype, 47)
    bias = random_matrix((7,), dtype, 48)
    out = on(device, c0)
    _C._gemm(on(device, np.zeros((5, 0), dtype)), on(device, np.zeros((0, 7), dtype)), out=out, beta=0.5,
             bias=on(device, bias), bias_mode="col", activation="relu")
    np.testing.assert_allclose(host(out, device), np.maximum(0.5 * c0 + bias, 0), rtol=1e-6)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("bias_mode", ["none", "row", "col"])
@pytest.mark.parametrize("lc", ["c", "t"])
def test_device_epilogue(device, dtype, activation, bias_mode, lc):
    m, n, k = 137, 26, 400
    a, b = random_matrix((m, k), dtype, 49) * 0.2, random_matrix((k, n), dtype, 50) * 0.2
    c0 = random_matrix((m, n), dtype, 51)
    bias = {"none": None, "row": random_matrix((m,), dtype, 52), "col": random_matrix((n,), dtype, 53)}[bias_mode]
    out = on(device, c0, lc)
    _C._gemm(on(device, a), on(device, b, "t"), out=out, alpha=1.5, beta=0.5,
             bias=None if bias is None else on(device, bias), bias_mode=bias_mode, activation=activation,
             leaky_slope=0.2)
    check_close(host(out, device), a, b, epilogue_reference(a, b, c0, bias, bias_mode, activation), dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "silu", "gelu"])
def test_device_epilogue_extremes(device, dtype, activation):
    x = EXTREMES.astype(dtype)
    got = _C._gemm(on(device, x[:, None]), on(device, np.ones((1, 1), dtype)), activation=activation)
    # CUDA's libm: erfcf within 4 ulp, tanhf 2, expf 2, before our arithmetic; its GELU is the erfc form
    check_extremes(host(got, device), x, activation, ulps=4 if device == "cpu" else 16, erf_form=device == "cpu")


@pytest.mark.parametrize("device", DEVICES)
def test_device_large_square(device):
    a, b = random_matrix((1000, 1000), np.float32, 54), random_matrix((1000, 1000), np.float32, 55)
    check_close(host(on(device, a) @ on(device, b), device), a, b, a.astype(np.float64) @ b.astype(np.float64),
                np.float32)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("sa,sb", [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 5)), ((2, 3, 4), (4,)), ((4,), (2, 4, 5)),
                                   ((2, 1, 3, 4), (5, 4, 2)), ((3, 1, 5, 7), (1, 4, 7, 2)), ((0, 3, 4), (4, 2)),
                                   ((2, 3, 0), (0, 5)), ((7, 1, 5), (7, 5, 1)), ((6, 130, 9), (9, 131)),
                                   ((70000, 2, 3), (3, 2))])  # more batches than one launch's grid.z
def test_device_batched_matmul_broadcasting(device, dtype, sa, sb):
    a, b = random_matrix(sa, dtype, 56), random_matrix(sb, dtype, 57)
    got = fnn.matmul(on(device, a), on(device, b))
    expected = np.matmul(a.astype(np.float64), b.astype(np.float64))
    assert got.shape == expected.shape and got.dtype == dtype
    np.testing.assert_allclose(host(got, device), expected, rtol=1e-4 if dtype == np.float32 else 1e-12,
                               atol=1e-4 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("device", DEVICES)
def test_device_batched_views_and_operators(device):
    """Transposed batch views (no copies), the operators and NumPy's names, with promotion on the device."""
    a, b = random_matrix((3, 9, 6), np.float32, 58), random_matrix((3, 5, 9), np.float64, 59)
    da, db = on(device, a), on(device, b)
    expected = np.matmul(a.astype(np.float64).transpose(0, 2, 1), b.transpose(0, 2, 1))
    for got in (fnn.matmul(da.transpose(0, 2, 1), db.transpose(0, 2, 1)), da.transpose(0, 2, 1) @ db.transpose(0, 2, 1),
                np.matmul(da.transpose(0, 2, 1), db.transpose(0, 2, 1))):
        assert got.dtype == np.float64
        np.testing.assert_allclose(host(got, device), expected, rtol=1e-6, atol=1e-6)
    v = random_matrix((9,), np.float32, 60)
    np.testing.assert_allclose(host(fnn.dot(on(device, a[0]).T, on(device, v)), device), a[0].T @ v, rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (127, 129, 1000), (256, 256, 256), (33, 70, 17)])
@pytest.mark.parametrize("la,lb", [("c", "c"), ("c", "t"), ("t", "c"), ("t", "t"), ("stepped", "reversed")])
def test_device_tf32(device, tf32, m, n, k, la, lb):
    """float32 on TF32 tensor cores (where the device has them) within TF32's bound, epilogue included."""
    a, b = random_matrix((m, k), np.float32, 61), random_matrix((k, n), np.float32, 62)
    bias, c0 = random_matrix((n,), np.float32, 63), random_matrix((m, n), np.float32, 64)
    out = on(device, c0)
    _C._gemm(on(device, a, la), on(device, b, lb), out=out, alpha=0.5, beta=-1.0, bias=on(device, bias),
             bias_mode="col", activation="silu")
    pre = 0.5 * (a.astype(np.float64) @ b.astype(np.float64)) - c0 + bias
    got = host(out, device)
    check_tf32(got, a, b, ACTIVATIONS["silu"](pre))
    if device != "cpu" and k >= 256:  # the switch took effect: float32 products would be ~100x closer
        fnn.backends.cuda.matmul.allow_tf32 = False
        out32 = on(device, c0)
        _C._gemm(on(device, a, la), on(device, b, lb), out=out32, alpha=0.5, beta=-1.0, bias=on(device, bias),
                 bias_mode="col", activation="silu")
        assert not np.array_equal(host(out32, device), got)


def test_allow_tf32_switch():
    assert fnn.backends.cuda.matmul.allow_tf32 is False  # off by default
    try:
        fnn.backends.cuda.matmul.allow_tf32 = True
        assert fnn.backends.cuda.matmul.allow_tf32 is True and _C._allow_tf32() is True
        a, b = random_matrix((20, 30), np.float32, 65), random_matrix((30, 10), np.float32, 66)
        check_close(fnn.matmul(a, b), a, b, a.astype(np.float64) @ b.astype(np.float64), np.float32)  # host: fp32
    finally:
        fnn.backends.cuda.matmul.allow_tf32 = False
    assert _C._allow_tf32() is False
    with pytest.raises(AttributeError):
        fnn.backends.cuda.matmul.allow_tf23 = True


@requires_gpu
def test_device_mixing_devices_names_both():
    a, b = fnn.ones((3, 4)).cuda(), fnn.ones((4, 2))
    both = "cuda:0 and cpu|cpu and cuda:0"
    for op in (lambda: a @ b, lambda: b.T @ a.T, lambda: fnn.matmul(a, np.ones((4, 2), np.float32)),
               lambda: _C._gemm(a, b), lambda: _C._gemm(a, b.cuda(), out=fnn.zeros((3, 2))),
               lambda: _C._gemm(a, b.cuda(), bias=fnn.ones(2), bias_mode="col")):
        with pytest.raises(ValueError, match=both):
            op()


@requires_gpu
def test_device_integer_matmul_is_refused_clearly():
    with pytest.raises(NotImplementedError, match=r"int64.*CUDA tensors.*\.cpu\(\)"):
        fnn.asarray(np.ones((2, 2), np.int64)).cuda() @ fnn.asarray(np.ones((2, 2), np.int64)).cuda()


@pytest.mark.parametrize("device", DEVICES)
def test_device_matmul_gradients(device):
    """The backward products run where the operands are; a batch against one matrix sums dB over the batch."""
    a, b = random_matrix((2, 3, 4), np.float64, 67), random_matrix((4, 5), np.float64, 68)
    dy = random_matrix((2, 3, 5), np.float64, 69)
    ta, tb = on(device, a).requires_grad_(), on(device, b).requires_grad_()
    (ta @ tb).backward(on(device, dy))
    np.testing.assert_allclose(host(ta.grad, device), dy @ b.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(host(tb.grad, device), np.einsum("bik,bij->kj", a, dy), rtol=1e-12, atol=1e-12)
