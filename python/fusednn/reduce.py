"""Reductions with NumPy's names, signatures and result dtypes: sum, prod, max/amax, min/amin, mean, var,
std, all, any, argmax, argmin. Each is a function, a Tensor method and the target of NumPy's dispatch.

Gradients (beside each forward) broadcast dy, reshaped to the keepdims shape, back over the reduced axes:
d sum = dy, d mean = dy / n, d max = dy split evenly among the elements equal to the max, d prod =
dy * (product of the other elements), d var = dy * 2 (x - mean) / (n - ddof), d std = d var / (2 std).
argmax/argmin, all and any are not differentiable.
"""
import numpy as np

from . import _C
from ._tensor import implements, method
from .autograd import _Mode, record

_B = _C.BinaryOp

__all__ = ["sum", "prod", "max", "amax", "min", "amin", "mean", "var", "std", "all", "any", "argmax", "argmin"]


@implements(np.sum, reduce_of="add")
@method
def sum(x, axis=None, dtype=None, keepdims=False):
    """Sum over ``axis`` (None: all axes; an int or a tuple): s = sum_i x_i. bool and int32 sum into
    int64, as NumPy's; ``dtype`` sets the accumulator and result dtype. Float sums accumulate in blocks
    and combine the blocks in double, so float32 results are close to the exact sum. Empty: 0."""
    y = _C._reduce("sum", x, axis, dtype, keepdims)
    if _Mode.enabled and getattr(x, "requires_grad", False):
        record("sum", y, _sum_grad, (x,), (x.shape, axis))
    return y


def _axes(axis, ndim):
    """The reduced axes as a set of non-negative ints (the forward has validated them)."""
    if axis is None:
        return set(range(ndim))
    if isinstance(axis, (tuple, list)):
        return {int(a) % ndim for a in axis}
    return {int(axis) % ndim}


def _keep(dy, shape, axis):
    """dy (the reduction's output gradient) reshaped to the keepdims shape of a reduction of ``shape``."""
    axes = _axes(axis, len(shape))
    return _C.reshape(dy, tuple(1 if i in axes else n for i, n in enumerate(shape)))


def _count(shape, axis):
    axes = _axes(axis, len(shape))
    n = 1
    for i in axes:
        n *= shape[i]
    return n


def _sum_grad(dy, shape, axis):
    return (_C.broadcast_to(_keep(dy, shape, axis), shape),)


@implements(np.prod, reduce_of="multiply")
@method
def prod(x, axis=None, dtype=None, keepdims=False):
    """Product over ``axis``: p = prod_i x_i (bool and int32 into int64; integers wrap). Empty: 1."""
    y = _C._reduce("prod", x, axis, dtype, keepdims)
    if _Mode.enabled and getattr(x, "requires_grad", False):
        record("prod", y, _prod_grad, (x,), (x, axis))
    return y


def _prod_grad(dy, x, axis):
    # With no zero in a slice, d/dx_i = prod / x_i; with exactly one, only the zero's gradient is
    # nonzero (the product of the others); with two or more, every gradient is 0. No division by 0.
    zero = _C.binary(_B.equal, x, 0)
    zeros = _C._reduce("sum", zero, axis, None, True)
    others = _C._reduce("prod", _C.where(zero, 1, x), axis, None, True)  # product of the nonzeros
    grad = _C.where(_C.binary(_B.equal, zeros, 0), _C.binary(_B.divide, others, _C.where(zero, 1, x)),
                    _C.where(_C.binary(_B.logical_and, zero, _C.binary(_B.equal, zeros, 1)), others, 0))
    return (_C.binary(_B.multiply, grad, _keep(dy, x.shape, axis)),)


@implements(np.max, np.amax, reduce_of="maximum")
@method
def max(x, axis=None, keepdims=False):
    """Largest element over ``axis``: max_i x_i, keeping x's dtype; NaN propagates. ValueError when an
    output would reduce zero elements (no identity)."""
    return _extremum("max", x, axis, keepdims)


def _extremum(name, x, axis, keepdims):
    y = _C._reduce(name, x, axis, None, keepdims)
    if _Mode.enabled and getattr(x, "requires_grad", False):
        record(name, y, _extremum_grad, (x,), (x, y, axis))
    return y


def _extremum_grad(dy, x, y, axis):
    # The gradient is split evenly among the elements equal to the extremum (ties), as torch.amax.
    hit = _C.binary(_B.equal, x, _keep(y, x.shape, axis))
    share = _C.binary(_B.divide, _keep(dy, x.shape, axis), _C._reduce("sum", hit, axis, None, True))
    return (_C.where(hit, share, 0),)


@implements(np.min, np.amin, reduce_of="minimum")
@method
def min(x, axis=None, keepdims=False):
    """Smallest element over ``axis``: min_i x_i, keeping x's dtype; NaN propagates. ValueError when an
    output would reduce zero elements (no identity)."""
    return _extremum("min", x, axis, keepdims)


amax = max
amin = min


@implements(np.mean)
@method
def mean(x, axis=None, dtype=None, keepdims=False):
    """Arithmetic mean over ``axis``: sum_i x_i / n. Integers and bool give float64, float32 stays
    float32 (the sum is accumulated in double). Empty: nan."""
    y = _C._reduce("mean", x, axis, dtype, keepdims)
    if _Mode.enabled and getattr(x, "requires_grad", False):
        record("mean", y, _mean_grad, (x,), (x.shape, axis))
    return y


def _mean_grad(dy, shape, axis):
    return (_C.broadcast_to(_C.binary(_B.divide, _keep(dy, shape, axis), _count(shape, axis)), shape),)


@implements(np.var)
@method
def var(x, axis=None, dtype=None, ddof=0, keepdims=False):
    """Variance over ``axis``: sum_i (x_i - mean)^2 / (n - ddof), computed in two passes in double
    (accurate when the mean is large against the spread). Integers give float64. n <= ddof: inf or nan."""
    y = _C._reduce("var", x, axis, dtype, keepdims, ddof)
    if _Mode.enabled and getattr(x, "requires_grad", False):
        record("var", y, _var_grad, (x,), (x, y, axis, ddof, False))
    return y


def _var_grad(dy, x, y, axis, ddof, is_std):
    # d var / dx_i = 2 (x_i - mean) / (n - ddof); d std = d var / (2 std).
    centred = _C.binary(_B.subtract, x, _C._reduce("mean", x, axis, None, True))
    scale = _C.binary(_B.divide, _keep(dy, x.shape, axis), _count(x.shape, axis) - ddof)
    scale = _C.binary(_B.divide, scale, _keep(y, x.shape, axis)) if is_std else _C.binary(_B.multiply, scale, 2)
    return (_C.binary(_B.multiply, centred, scale),)


@implements(np.std)
@method
def std(x, axis=None, dtype=None, ddof=0, keepdims=False):
    """Standard deviation over ``axis``: sqrt(sum_i (x_i - mean)^2 / (n - ddof)); see ``var``."""
    y = _C._reduce("std", x, axis, dtype, keepdims, ddof)
    if _Mode.enabled and getattr(x, "requires_grad", False):
        record("std", y, _var_grad, (x,), (x, y, axis, ddof, True))
    return y


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

