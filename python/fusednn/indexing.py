"""Indexing functions with NumPy's names: take, nonzero, argwhere, flatnonzero.

``Tensor.__getitem__``/``__setitem__`` are defined in C++ (csrc/bindings/indexing.cpp): basic indices
(ints, slices, None, Ellipsis) give views; integer/boolean arrays gather into a new tensor (or scatter,
last write wins), following NumPy's rules for where the broadcast index dimensions go. They are wrapped
here for autograd: the gradient of x[key] is zeros with dy added at key (repeated indices accumulate);
assigning into a tensor that requires grad is refused while recording.
"""
import numpy as np

from . import _C
from ._tensor import Tensor, as_tensor, implements, method
from .autograd import _Mode, record
from .shape import _slice_grad, ravel

_getitem_c = Tensor.__getitem__  # the C++ methods, called by the wrappers below
_setitem_c = Tensor.__setitem__


def _getitem(self, key):
    y = _getitem_c(self, key)
    if _Mode.enabled and self.requires_grad:
        record("getitem", y, _slice_grad, (self,), (self.shape, key))
    return y


def _setitem(self, key, value):
    if _Mode.enabled and self.requires_grad:
        raise RuntimeError("item assignment into a tensor that requires grad would corrupt its gradient; "
                           "build a new tensor (fnn.where, fnn.concatenate), or assign under fnn.no_grad()")
    _setitem_c(self, key, value)


Tensor.__getitem__ = _getitem
Tensor.__setitem__ = _setitem

__all__ = ["take", "nonzero", "argwhere", "flatnonzero"]


@implements(np.take)
def take(a, indices, axis=None):
    """Elements of ``a`` at ``indices`` along ``axis`` (of the flattened ``a`` when axis=None):
    ``out[i..., j..., k...] = a[i..., indices[j...], k...]``. Negative indices count from the end;
    out-of-range ones raise IndexError."""
    t = as_tensor(a)
    if axis is None:
        return ravel(t)[indices]
    axis = _axis(axis, t.ndim)
    return t[(slice(None),) * axis + (indices,)]


def _axis(axis, ndim):
    if not -ndim <= axis < ndim:
        raise _C.AxisError(f"axis {axis} is out of bounds for array of dimension {ndim}")
    return axis % ndim


@implements(np.nonzero)
def nonzero(a):
    """Indices of the nonzero elements: a tuple of int64 tensors, one per axis (C order)."""
    return _C.nonzero(a)


@implements(np.argwhere)
def argwhere(a):
    """Indices of the nonzero elements as a (count, ndim) int64 tensor."""
    return _C.argwhere(a)


@implements(np.flatnonzero)
def flatnonzero(a):
    """Indices of the nonzero elements of the flattened ``a`` (an int64 tensor)."""
    return _C.nonzero(_C.ravel(a))[0]


method("nonzero")(nonzero)
