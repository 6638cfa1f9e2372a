"""Shape manipulation with NumPy's names and semantics: reshape, transpose, moveaxis, squeeze,
expand_dims, ravel/flatten, broadcasting, concatenate/stack/split and pad.

Views share memory with their input (writes through one are seen by the other) wherever the strides
allow; ``flatten``, ``concatenate``, ``stack`` and ``pad`` always return new tensors.
"""
import numpy as np

from . import _C
from ._tensor import implements

__all__ = ["reshape", "transpose", "permute_dims", "moveaxis", "swapaxes", "expand_dims", "squeeze",
           "ravel", "flatten", "broadcast_to", "broadcast_arrays", "concatenate", "stack", "split",
           "array_split", "pad"]


@implements(np.reshape)
def reshape(a, shape):
    """``a`` with a new shape of the same size; one entry may be -1 (inferred). A view when the strides
    allow it (always for contiguous inputs), else a C-ordered copy."""
    return _C.reshape(a, shape)


@implements(np.transpose, np.permute_dims)
def transpose(a, axes=None):
    """View with axes permuted: ``out.shape[i] == a.shape[axes[i]]``; axes=None reverses them."""
    return _C.transpose(a, axes)


permute_dims = transpose


@implements(np.moveaxis)
def moveaxis(a, source, destination):
    """View with the axes ``source`` moved to positions ``destination``; the others keep their order."""
    return _C.moveaxis(a, source, destination)


@implements(np.swapaxes)
def swapaxes(a, axis1, axis2):
    """View with ``axis1`` and ``axis2`` exchanged."""
    return _C._to_tensor(a).swapaxes(axis1, axis2)


@implements(np.expand_dims)
def expand_dims(a, axis):
    """View with size-1 axes inserted so that they sit at ``axis`` (an int or tuple) of the result."""
    return _C.expand_dims(a, axis)


@implements(np.squeeze)
def squeeze(a, axis=None):
    """View without size-1 axes: all of them (axis=None) or the given ones (ValueError if not size 1)."""
    return _C.squeeze(a, axis)


@implements(np.ravel)
def ravel(a):
    """1-d view of ``a`` in C order when the strides allow it, else a copy."""
    return _C.ravel(a)


def flatten(a):
    """1-d copy of ``a`` in C order."""
    return _C.flatten(a)


@implements(np.broadcast_to)
def broadcast_to(array, shape):
    """View of ``array`` broadcast to ``shape`` (stride 0 along new and stretched axes).

    Unlike NumPy's, the view is writable when ``array`` is: a write to one element reaches every
    element that shares its memory."""
    return _C.broadcast_to(array, shape)


@implements(np.broadcast_arrays)
def broadcast_arrays(*args):
    """Views of every argument broadcast to their common shape (a list, as NumPy 2 returns a tuple)."""
    return tuple(_C.broadcast_arrays(*args))


@implements(np.concatenate)
def concatenate(arrays, axis=0):
    """Join tensors along an existing axis (axis=None flattens each first). The dtype is the promotion
    of the inputs' dtypes; every other axis must match."""
    return _C.concatenate(arrays, axis)


@implements(np.stack)
def stack(arrays, axis=0):
    """Join same-shaped tensors along a new axis ``axis`` of the result."""
    return _C.stack(arrays, axis)


@implements(np.split)
def split(ary, indices_or_sections, axis=0):
    """Views of ``ary`` cut into N equal parts (ValueError if N does not divide the axis) or at the
    given indices: ``[ary[:i0], ary[i0:i1], ..., ary[ik:]]`` along ``axis``."""
    return _C.split(ary, indices_or_sections, axis)


@implements(np.array_split)
def array_split(ary, indices_or_sections, axis=0):
    """Like ``split``, but N parts need not be equal: the first ``size % N`` are one longer."""
    return _C.array_split(ary, indices_or_sections, axis)


def _pairs(value, ndim, name):
    """NumPy's per-axis (before, after) forms: scalar, (v,), (b, a), ((b, a),), ((b0, a0), (b1, a1), ...)."""
    arr = np.asarray(value)
    if arr.ndim > 2 or (arr.ndim == 2 and arr.shape[1] != 2) or (arr.ndim == 1 and arr.shape[0] > 2):
        raise ValueError(f"pad: {name} must be a scalar, a (before, after) pair or one pair per axis, got {value!r}")
    try:
        return np.broadcast_to(arr, (ndim, 2)).tolist()
    except ValueError:
        raise ValueError(f"pad: could not broadcast {name} of shape {arr.shape} to ({ndim}, 2)") from None


@implements(np.pad)
def pad(array, pad_width, mode="constant", constant_values=0):
    """Pad each axis with ``pad_width`` (before, after) elements.

    mode='constant': fill with ``constant_values``; 'edge': repeat the edge value; 'reflect': mirror
    without repeating the edge (``[1 2 3]`` padded by 2 -> ``[3 2 1 2 3 2 1]``). Axes are padded in
    order, so corners take the value of the last axis, as in NumPy."""
    t = _C._to_tensor(array)
    widths = _pairs(pad_width, t.ndim, "pad_width")
    if any(int(w) != w for pair in widths for w in pair):
        raise TypeError("pad: pad_width must be integers")
    values = _pairs(constant_values, t.ndim, "constant_values")
    return _C.pad(t, [(int(b), int(a)) for b, a in widths], mode, [(float(b), float(a)) for b, a in values])

