"""Creation functions with NumPy's names and signatures: tensor/asarray/array, zeros/ones/full/empty and
their ``*_like`` forms, arange, linspace, eye and identity.

Float results default to float32 (the deep-learning default) where NumPy would pick float64; Python ints
give int64 and bools give bool; NumPy arrays and tensors passed in keep their dtype. ``requires_grad=True``
makes the result a leaf that autograd computes a gradient for (floating dtypes only: TypeError otherwise).
``device="cuda"`` places the result on a CUDA device (``*_like`` follow the prototype's device).
"""
import operator

import numpy as np

from . import _C
from ._C import from_numpy
from ._tensor import Tensor, implements
from .cuda import _move

__all__ = ["tensor", "asarray", "array", "from_numpy", "empty", "zeros", "ones", "full", "empty_like",
           "zeros_like", "ones_like", "full_like", "arange", "linspace", "eye", "identity"]

_FLOAT = np.dtype(np.float32)


def _value_dtype(value):
    """The dtype a fill value implies: bool -> bool, int -> int64, float -> float32, NumPy scalars and
    0-d arrays/tensors their own dtype."""
    if isinstance(value, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(value, (Tensor, np.ndarray, np.generic)):
        return np.dtype(value.dtype)
    if isinstance(value, int):
        return np.dtype(np.int64)
    if isinstance(value, float):
        return _FLOAT
    raise TypeError(f"fill value must be a number, got {type(value).__name__}")


def _leaf(t, requires_grad, device=None):
    """t placed on ``device`` (made on the host, then copied) and made a leaf that needs grad if asked."""
    if device is not None:
        t = _move(t, device)
    return t.requires_grad_(True) if requires_grad else t


def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new tensor holding a copy of ``data`` (a Tensor, array, sequence or scalar). Python floats give
    float32, ints int64, bools bool; arrays and tensors keep their dtype unless ``dtype`` is given."""
    return _leaf(_C._copy(data, dtype), requires_grad, device)


def asarray(a, dtype=None, copy=None, requires_grad=False, device=None):
    """``a`` as a tensor, sharing memory with a Tensor or NumPy array when the dtype already matches
    (zero-copy); a new tensor otherwise. copy=True always copies; copy=False raises ValueError when a
    copy would be needed."""
    return _leaf(_C._asarray(a, dtype, copy), requires_grad, device)


def array(object, dtype=None, copy=True, requires_grad=False, device=None):
    """Like ``asarray`` but copying by default, as ``numpy.array``."""
    return _leaf(_C._asarray(object, dtype, copy), requires_grad, device)


def _dtype(dtype, default=_FLOAT):
    return np.dtype(default) if dtype is None else dtype


def empty(shape, dtype=None, requires_grad=False, device=None):
    """An uninitialised tensor (float32 by default)."""
    return _leaf(_C.empty(shape, _dtype(dtype)), requires_grad, device)


def full(shape, fill_value, dtype=None, requires_grad=False, device=None):
    """A tensor with every element ``fill_value``; the value's kind picks the default dtype
    (bool, int64 or float32)."""
    return _leaf(_C._full(shape, fill_value, _dtype(dtype, _value_dtype(fill_value)), device), requires_grad)


def zeros(shape, dtype=None, requires_grad=False, device=None):
    """A tensor of zeros (float32 by default)."""
    return _leaf(_C._full(shape, 0, _dtype(dtype), device), requires_grad)


def ones(shape, dtype=None, requires_grad=False, device=None):
    """A tensor of ones (float32 by default)."""
    return _leaf(_C._full(shape, 1, _dtype(dtype), device), requires_grad)


def _like(prototype, dtype, shape, device):
    """(shape, dtype, device) of a *_like result: the prototype's unless given."""
    if not isinstance(prototype, (Tensor, np.ndarray)):
        prototype = asarray(prototype)
    if device is None and isinstance(prototype, Tensor) and prototype.device != "cpu":
        device = prototype.device
    return (prototype.shape if shape is None else shape), (prototype.dtype if dtype is None else dtype), device


@implements(np.empty_like)
def empty_like(prototype, dtype=None, shape=None, requires_grad=False, device=None):
    """An uninitialised tensor with the prototype's shape and dtype (unless given)."""
    shape, dtype, device = _like(prototype, dtype, shape, device)
    return empty(shape, dtype, requires_grad, device)


@implements(np.zeros_like)
def zeros_like(a, dtype=None, shape=None, requires_grad=False, device=None):
    """Zeros with the shape and dtype of ``a`` (unless given)."""
    shape, dtype, device = _like(a, dtype, shape, device)
    return zeros(shape, dtype, requires_grad, device)


@implements(np.ones_like)
def ones_like(a, dtype=None, shape=None, requires_grad=False, device=None):
    """Ones with the shape and dtype of ``a`` (unless given)."""
    shape, dtype, device = _like(a, dtype, shape, device)
    return ones(shape, dtype, requires_grad, device)


@implements(np.full_like)
def full_like(a, fill_value, dtype=None, shape=None, requires_grad=False, device=None):
    """``fill_value`` everywhere, with the shape and dtype of ``a`` (unless given)."""
    shape, dtype, device = _like(a, dtype, shape, device)
    return full(shape, fill_value, dtype, requires_grad, device)


def _number(x, name):
    if isinstance(x, (Tensor, np.ndarray)) and x.ndim == 0:
        x = x.item()
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    return x


def arange(start, stop=None, step=None, dtype=None, requires_grad=False, device=None):
    """Values ``start + i * step`` for i in range(ceil((stop - start) / step)), as ``numpy.arange``.
    All-integer arguments give int64 (exact), otherwise float32; ValueError for step 0."""
    if stop is None:
        start, stop = 0, start
    args = [_number(x, n) for x, n in ((start, "start"), (stop, "stop"), (1 if step is None else step, "step"))]
    integral = all(isinstance(x, (int, np.integer)) for x in args)
    dtype = _dtype(dtype, np.int64 if integral else _FLOAT)
    if integral:
        return _leaf(_C._arange_int(*(operator.index(x) for x in args), dtype), requires_grad, device)
    return _leaf(_C._arange_float(*(float(x) for x in args), dtype), requires_grad, device)


@implements(np.linspace)
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, requires_grad=False, device=None):
    """``num`` evenly spaced samples over [start, stop] (or [start, stop) without endpoint), computed as
    NumPy does in float64: ``start + i * step``, step = (stop - start) / (num - endpoint), the last
    sample exactly stop. float32 by default; with retstep, also returns step."""
    start, stop = float(_number(start, "start")), float(_number(stop, "stop"))
    samples, step = _C._linspace(start, stop, operator.index(num), bool(endpoint), _dtype(dtype))
    samples = _leaf(samples, requires_grad, device)
    return (samples, step) if retstep else samples


def eye(N, M=None, k=0, dtype=None, requires_grad=False, device=None):
    """An N x M matrix (M = N by default) with ones on diagonal k and zeros elsewhere (float32 by default)."""
    N = operator.index(N)
    M = N if M is None else operator.index(M)
    return _leaf(_C.eye(N, M, operator.index(k), _dtype(dtype)), requires_grad, device)


def identity(n, dtype=None, requires_grad=False, device=None):
    """The n x n identity matrix."""
    return eye(n, dtype=dtype, requires_grad=requires_grad, device=device)
