"""Hypothesis strategies shared by the tests: NumPy arrays of every fusednn dtype and of random shapes
(0-size and 1-size axes included), broadcast-compatible shape pairs, and non-contiguous views."""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

DTYPES = [np.bool_, np.int32, np.int64, np.float32, np.float64]
FLOAT_DTYPES = [np.float32, np.float64]
NUMERIC_DTYPES = [np.int32, np.int64, np.float32, np.float64]

shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6)


def elements(dtype, lo=-100, hi=100, allow_nan=False):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return st.floats(lo, hi, allow_nan=allow_nan, allow_infinity=False, width=8 * dtype.itemsize)
    if dtype.kind == "i":
        return st.integers(lo, hi)
    return st.booleans()


def arrays(dtype, shape=shapes, lo=-100, hi=100, allow_nan=False):
    """Arrays of `dtype` (a dtype or a strategy of dtypes) and `shape` (a shape or a strategy)."""
    dtype_st = dtype if isinstance(dtype, st.SearchStrategy) else st.just(dtype)
    return dtype_st.flatmap(lambda d: hnp.arrays(d, shape, elements=elements(d, lo, hi, allow_nan)))


@st.composite
def broadcastable_pair(draw, dtype_a, dtype_b=None, lo=-100, hi=100):
    """Two arrays whose shapes broadcast against each other."""
    shape_a, shape_b = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=5)).input_shapes
    a = draw(arrays(dtype_a, shape_a, lo, hi))
    b = draw(arrays(dtype_b if dtype_b is not None else dtype_a, shape_b, lo, hi))
    return a, b


@st.composite
def maybe_strided(draw, array):
    """The same values and shape in another memory layout: contiguous, reversed, Fortran-ordered or
    stepped (every other element of a larger array)."""
    kind = draw(st.sampled_from(["contiguous", "reversed", "fortran", "stepped"]))
    if array.ndim == 0 or kind == "contiguous":
        return array
    if kind == "reversed":
        return array[..., ::-1]
    if kind == "fortran":
        return np.asfortranarray(array)
    big = np.repeat(array, 2, axis=-1)
    return big[..., ::2]
