"""Reductions with NumPy's names, signatures and result dtypes: sum, prod, max/amax, min/amin, mean, var,
std, all, any, argmax, argmin. Each is a function, a Tensor method and the target of NumPy's dispatch."""
import numpy as np

from . import _C
from ._tensor import implements, method

__all__ = ["sum", "prod", "max", "amax", "min", "amin", "mean", "var", "std", "all", "any", "argmax", "argmin"]


@implements(np.sum, reduce_of="add")
@method
def sum(x, axis=None, dtype=None, keepdims=False):
    """Sum over ``axis`` (None: all axes; an int or a tuple): s = sum_i x_i. bool and int32 sum into
    int64, as NumPy's; ``dtype`` sets the accumulator and result dtype. Float sums accumulate in blocks
    and combine the blocks in double, so float32 results are close to the exact sum. Empty: 0."""
    return _C._reduce("sum", x, axis, dtype, keepdims)


@implements(np.prod, reduce_of="multiply")
@method
def prod(x, axis=None, dtype=None, keepdims=False):
    """Product over ``axis``: p = prod_i x_i (bool and int32 into int64; integers wrap). Empty: 1."""
    return _C._reduce("prod", x, axis, dtype, keepdims)


@implements(np.max, np.amax, reduce_of="maximum")
@method
def max(x, axis=None, keepdims=False):
    """Largest element over ``axis``: max_i x_i, keeping x's dtype; NaN propagates. ValueError when an
    output would reduce zero elements (no identity)."""
    return _C._reduce("max", x, axis, None, keepdims)


@implements(np.min, np.amin, reduce_of="minimum")
@method
def min(x, axis=None, keepdims=False):
    """Smallest element over ``axis``: min_i x_i, keeping x's dtype; NaN propagates. ValueError when an
    output would reduce zero elements (no identity)."""
    return _C._reduce("min", x, axis, None, keepdims)


amax = max
amin = min


@implements(np.mean)
@method
def mean(x, axis=None, dtype=None, keepdims=False):
    """Arithmetic mean over ``axis``: sum_i x_i / n. Integers and bool give float64, float32 stays
    float32 (the sum is accumulated in double). Empty: nan."""
    return _C._reduce("mean", x, axis, dtype, keepdims)


@implements(np.var)
@method
def var(x, axis=None, dtype=None, ddof=0, keepdims=False):
    """Variance over ``axis``: sum_i (x_i - mean)^2 / (n - ddof), computed in two passes in double
    (accurate when the mean is large against the spread). Integers give float64. n <= ddof: inf or nan."""
    return _C._reduce("var", x, axis, dtype, keepdims, ddof)


@implements(np.std)
@method
def std(x, axis=None, dtype=None, ddof=0, keepdims=False):
    """Standard deviation over ``axis``: sqrt(sum_i (x_i - mean)^2 / (n - ddof)); see ``var``."""
    return _C._reduce("std", x, axis, dtype, keepdims, ddof)


@implements(np.all, reduce_of="logical_and")
@method
def all(x, axis=None, keepdims=False):
    """Whether every element over ``axis`` is nonzero (NaN counts as true): AND_i (x_i != 0). Empty: True."""
    return _C._reduce("all", x, axis, None, keepdims)


@implements(np.any, reduce_of="logical_or")
@method
def any(x, axis=None, keepdims=False):
    """Whether any element over ``axis`` is nonzero (NaN counts as true): OR_i (x_i != 0). Empty: False."""
    return _C._reduce("any", x, axis, None, keepdims)


@implements(np.argmax)
@method
def argmax(x, axis=None, *, keepdims=False):
    """Index of the first largest element along ``axis`` (None: of the flattened tensor), int64; the first
    NaN wins, as in NumPy. ValueError for an empty sequence."""
    return _C._argreduce(True, x, axis, keepdims)


@implements(np.argmin)
@method
def argmin(x, axis=None, *, keepdims=False):
    """Index of the first smallest element along ``axis`` (None: of the flattened tensor), int64; the
    first NaN wins, as in NumPy. ValueError for an empty sequence."""
    return _C._argreduce(False, x, axis, keepdims)

