"""Shape manipulation with NumPy's names and semantics: reshape, transpose, moveaxis, squeeze,
expand_dims, ravel/flatten, broadcasting, concatenate/stack/split and pad.

Views share memory with their input (writes through one are seen by the other) wherever the strides
allow; ``flatten``, ``concatenate``, ``stack`` and ``pad`` always return new tensors.

Gradients: ops that only rearrange elements map dy back the inverse way (reshape back, the inverse
permutation, slices of dy for concatenate/stack, dy added into zeros at a split part's slice, broadcast
gradients summed by autograd). The C++-bound Tensor methods (reshape, transpose, .T, permute, ravel,
flatten, squeeze, swapaxes) are wrapped here with one branch of overhead when nothing needs a gradient.
"""
import numpy as np

from . import _C
from ._tensor import Tensor, as_tensor, implements
from .autograd import _Mode, record

_permute_c = Tensor.permute  # the C++ methods, called by the differentiable wrappers below = Tensor.permute
_T_c = Tensor.T.fget
_ravel_c = Tensor.ravel
_flatten_c = Tensor.flatten
_squeeze_c = Tensor.squeeze
_swapaxes_c = Tensor.swapaxes


def _reshape_grad(dy, shape):
    return (_C.reshape(dy, shape),)


def _as_shape_of(y, x, name):
    """Record y (any reshaping of x: same elements, same C order) with the gradient dy.reshape(x.shape)."""
    if _Mode.enabled and getattr(x, "requires_grad", False):
        record(name, y, _reshape_grad, (x,), (x.shape,))
    return y


def _permute_grad(dy, axes):
    return (_C.transpose(dy, sorted(range(len(axes)), key=axes.__getitem__)),)  # the inverse permutation


def _permuted(y, x, axes, name):
    """Record y = x with its axes permuted (axes=None reverses them)."""
    if _Mode.enabled and getattr(x, "requires_grad", False):
        axes = tuple(range(x.ndim))[::-1] if axes is None else tuple(int(a) % x.ndim for a in axes)
        record(name, y, _permute_grad, (x,), (axes,))
    return y

__all__ = ["reshape", "transpose", "permute_dims", "moveaxis", "swapaxes", "expand_dims", "squeeze",
           "ravel", "flatten", "broadcast_to", "broadcast_arrays", "concatenate", "stack", "split",
           "array_split", "pad"]


@implements(np.reshape)
def reshape(a, shape):
    """``a`` with a new shape of the same size; one entry may be -1 (inferred). A view when the strides
    allow it (always for contiguous inputs), else a C-ordered copy."""
    return _as_shape_of(_C.reshape(a, shape), a, "reshape")


@implements(np.transpose, np.permute_dims)
def transpose(a, axes=None):
    """View with axes permuted: ``out.shape[i] == a.shape[axes[i]]``; axes=None reverses them."""
    return _permuted(_C.transpose(a, axes), a, axes, "transpose")


permute_dims = transpose


@implements(np.moveaxis)
def moveaxis(a, source, destination):
    """View with the axes ``source`` moved to positions ``destination``; the others keep their order."""
    y = _C.moveaxis(a, source, destination)
    if _Mode.enabled and getattr(a, "requires_grad", False):
        record("moveaxis", y, _moveaxis_grad, (a,), (source, destination))
    return y


def _moveaxis_grad(dy, source, destination):
    return (_C.moveaxis(dy, destination, source),)


@implements(np.swapaxes)
def swapaxes(a, axis1, axis2):
    """View with ``axis1`` and ``axis2`` exchanged."""
    t = as_tensor(a)
    return _swap(_swapaxes_c(t, axis1, axis2), a, axis1, axis2)


def _swap(y, x, axis1, axis2):
    if _Mode.enabled and getattr(x, "requires_grad", False):
        record("swapaxes", y, _swapaxes_grad, (x,), (axis1, axis2))
    return y


def _swapaxes_grad(dy, axis1, axis2):
    return (_swapaxes_c(dy, axis1, axis2),)


@implements(np.expand_dims)
def expand_dims(a, axis):
    """View with size-1 axes inserted so that they sit at ``axis`` (an int or tuple) of the result."""
    return _as_shape_of(_C.expand_dims(a, axis), a, "expand_dims")


@implements(np.squeeze)
def squeeze(a, axis=None):
    """View without size-1 axes: all of them (axis=None) or the given ones (ValueError if not size 1)."""
    return _as_shape_of(_C.squeeze(a, axis), a, "squeeze")


@implements(np.ravel)
def ravel(a):
    """1-d view of ``a`` in C order when the strides allow it, else a copy."""
    return _as_shape_of(_C.ravel(a), a, "ravel")


def flatten(a):
    """1-d copy of ``a`` in C order."""
    return _as_shape_of(_C.flatten(a), a, "flatten")


@implements(np.broadcast_to)
def broadcast_to(array, shape):
    """View of ``array`` broadcast to ``shape`` (stride 0 along new and stretched axes).

    Unlike NumPy's, the view is writable when ``array`` is: a write to one element reaches every
    element that shares its memory."""
    y = _C.broadcast_to(array, shape)
    if _Mode.enabled and getattr(array, "requires_grad", False):
        record("broadcast_to", y, _identity_grad, (array,))  # autograd sums dy back to array's shape
    return y


def _identity_grad(dy):
    return (dy,)


@implements(np.broadcast_arrays)
def broadcast_arrays(*args):
    """Views of every argument broadcast to their common shape (a list, as NumPy 2 returns a tuple)."""
    outs = tuple(_C.broadcast_arrays(*args))
    if _Mode.enabled:
        for x, y in zip(args, outs):
            if getattr(x, "requires_grad", False):
                record("broadcast_arrays", y, _identity_grad, (x,))
    return outs


@implements(np.concatenate)
def concatenate(arrays, axis=0):
    """Join tensors along an existing axis (axis=None flattens each first). The dtype is the promotion
    of the inputs' dtypes; every other axis must match."""
    if not isinstance(arrays, (Tensor, np.ndarray, list, tuple)):
        arrays = list(arrays)  # a generator is read twice: by the forward and for the graph
    y = _C.concatenate(arrays, axis)
    parts = _graph_parts(arrays)
    if parts is not None:
        record("concatenate", y, _concatenate_grad, parts, ([p.shape for p in parts], axis))
    return y


def _graph_parts(arrays):
    """The joined arrays as a list when recording and any of them needs a gradient, else None. A tensor
    passed as the sequence of its rows becomes its (differentiable) rows."""
    if not _Mode.enabled:
        return None
    if isinstance(arrays, Tensor):
        return list(arrays) if arrays.requires_grad else None
    parts = list(arrays)
    return parts if any(getattr(p, "requires_grad", False) for p in parts) else None


def _concatenate_grad(dy, shapes, axis):
    if axis is None:
        sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
        pieces = _C.split(dy, np.cumsum(sizes)[:-1].tolist(), 0)
        return tuple(_C.reshape(p, s) for p, s in zip(pieces, shapes))
    axis = axis % dy.ndim
    return tuple(_C.split(dy, np.cumsum([s[axis] for s in shapes])[:-1].tolist(), axis))


@implements(np.stack)
def stack(arrays, axis=0):
    """Join same-shaped tensors along a new axis ``axis`` of the result."""
    if not isinstance(arrays, (Tensor, np.ndarray, list, tuple)):
        arrays = list(arrays)
    y = _C.stack(arrays, axis)
    parts = _graph_parts(arrays)
    if parts is not None:
        record("stack", y, _stack_grad, parts, (len(parts), axis % y.ndim))
    return y


def _stack_grad(dy, n, axis):
    head = (slice(None),) * axis
    return tuple(dy[head + (i,)] for i in range(n))


@implements(np.split)
def split(ary, indices_or_sections, axis=0):
    """Views of ``ary`` cut into N equal parts (ValueError if N does not divide the axis) or at the
    given indices: ``[ary[:i0], ary[i0:i1], ..., ary[ik:]]`` along ``axis``."""
    return _parts_of(_C.split(ary, indices_or_sections, axis), ary, axis, "split")


@implements(np.array_split)
def array_split(ary, indices_or_sections, axis=0):
    """Like ``split``, but N parts need not be equal: the first ``size % N`` are one longer."""
    return _parts_of(_C.array_split(ary, indices_or_sections, axis), ary, axis, "array_split")


def _parts_of(parts, x, axis, name):
    """Record each part (consecutive slices of x along axis) with the gradient: zeros of x's shape,
    with dy at the part's slice."""
    if _Mode.enabled and getattr(x, "requires_grad", False):
        axis = axis % x.ndim
        start = 0
        for part in parts:
            stop = start + part.shape[axis]
            key = (slice(None),) * axis + (slice(start, stop),)
            record(name, part, _slice_grad, (x,), (x.shape, key))
            start = stop
    return parts


def _slice_grad(dy, shape, key):
    """The gradient of x[key] for x of ``shape``: zeros on dy's device with dy added at ``key``."""
    grad = _C._full(shape, 0, dy.dtype, dy.device)
    _C._index_add(grad, key, dy)
    return (grad,)


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
    t = as_tensor(array)
    widths = _pairs(pad_width, t.ndim, "pad_width")
    if any(int(w) != w for pair in widths for w in pair):
        raise TypeError("pad: pad_width must be integers")
    values = _pairs(constant_values, t.ndim, "constant_values")
    widths = [(int(b), int(a)) for b, a in widths]
    y = _C.pad(t, widths, mode, [(float(b), float(a)) for b, a in values])
    if _Mode.enabled and getattr(array, "requires_grad", False):
        record("pad", y, _pad_grad, (array,), (t.shape, widths, mode))
    return y


def _pad_source(n, before, after, mode):
    """For each position along a padded axis, the index of the input element it copies: the forward pad
    itself, run on the indices 0 .. n-1."""
    return _C.pad(_C._arange_int(0, n, 1, np.dtype(np.int64)), [(before, after)], mode, [(0.0, 0.0)])


def _pad_grad(dy, shape, widths, mode):
    # Constant padding: the gradient is dy's inner slice. Edge and reflect copy input elements into the
    # border, so each axis (the last padded first: pad runs the axes in order) adds dy's positions back
    # onto their sources.
    if mode == "constant":
        return (dy[tuple(slice(b, b + n) for (b, _), n in zip(widths, shape))],)
    grad = dy
    for axis in reversed(range(len(shape))):
        before, after = widths[axis]
        if before == 0 and after == 0:
            continue
        n = shape[axis]
        target = _C._full(grad.shape[:axis] + (n,) + grad.shape[axis + 1:], 0, dy.dtype, dy.device)
        key = (slice(None),) * axis + (_pad_source(n, before, after, mode),)
        _C._index_add(target, key, grad)
        grad = target
    return (grad,)


# ---- Tensor methods: the C++ ones, recorded when the tensor needs a gradient ----

def _method_reshape(self, *shape):
    y = _C.reshape(self, shape[0] if len(shape) == 1 else shape)  # cheaper than forwarding *shape
    if _Mode.enabled and self.requires_grad:
        record("reshape", y, _reshape_grad, (self,), (self.shape,))
    return y


def _varargs_axes(axes):
    """t.transpose(), t.transpose(None), t.transpose(1, 0) and t.transpose((1, 0)) as None or a tuple."""
    if len(axes) == 1 and not isinstance(axes[0], (int, np.integer)):
        axes = axes[0]
    return None if axes is None or len(axes) == 0 else tuple(axes)


def _method_transpose(self, *axes):
    y = _C.transpose(self, (axes[0] if len(axes) == 1 else axes) or None)  # t.transpose((1, 0)), (None)
    if _Mode.enabled and self.requires_grad:
        _permuted(y, self, _varargs_axes(axes), "transpose")
    return y


def _method_permute(self, *axes):
    y = _permute_c(self, *axes)
    if _Mode.enabled and self.requires_grad:
        _permuted(y, self, _varargs_axes(axes), "permute")
    return y


def _method_T(self):
    y = _T_c(self)
    if _Mode.enabled and self.requires_grad:
        _permuted(y, self, None, "T")
    return y


def _reshaping_method(c_method, name):
    """A method that calls a C++ reshaping method (same elements, C order) and records it."""
    def fn(self, *args, **kwargs):
        y = c_method(self, *args, **kwargs)
        if _Mode.enabled and self.requires_grad:
            record(name, y, _reshape_grad, (self,), (self.shape,))
        return y
    return fn


def _method_swapaxes(self, axis1, axis2):
    return _swap(_swapaxes_c(self, axis1, axis2), self, axis1, axis2)


for _name, _fn in {"reshape": _method_reshape, "transpose": _method_transpose, "permute": _method_permute,
                   "ravel": _reshaping_method(_ravel_c, "ravel"), "flatten": _reshaping_method(_flatten_c, "flatten"),
                   "squeeze": _reshaping_method(_squeeze_c, "squeeze"), "swapaxes": _method_swapaxes}.items():
    _fn.__name__ = _fn.__qualname__ = _name
    _fn.__doc__ = getattr(Tensor, _name).__doc__
    setattr(Tensor, _name, _fn)
Tensor.T = property(_method_T, doc="The transpose (a view).")
