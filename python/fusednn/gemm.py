"""Matrix products with NumPy semantics on fusednn's own GEMM: ``matmul`` (batched, broadcasting),
``dot``, ``inner``, ``outer``, ``tensordot``, ``vdot`` and a ``linalg`` namespace.

    matmul(a, b)[..., i, j] = sum_k a[..., i, k] * b[..., k, j]

float32/float64 run on the packed, multi-threaded GEMM, or on the CUDA GEMM when the operands are on a
device (float32 there on TF32 tensor cores if ``fnn.backends.cuda.matmul.allow_tf32``); bool/int32/int64 on
a plain integer loop (host only); mixed dtypes are promoted as NumPy promotes them. Operands on different
devices raise ValueError naming both.

Gradient of matmul: dA = dY @ B^T, dB = A^T @ dY (transposed views, no copies; autograd sums over
broadcast batch dims). dot, inner, outer, tensordot and vdot are built from matmul, multiply and
differentiable reshapes/transposes, so they get their gradients from those.
"""
import types

import numpy as np

from . import _C
from ._tensor import Tensor, as_tensor, implements, method
from .autograd import _Mode, record, wants_grad
from .elementwise import multiply
from .shape import reshape, transpose

__all__ = ["matmul", "dot", "inner", "outer", "tensordot", "vdot", "linalg"]

_swapaxes_c = _C.Tensor.swapaxes  # the C++ view (shape.py wraps the method for autograd)


def _store(result, out):
    if out is None:
        return result
    out[...] = result
    return out


@implements(np.matmul, ufunc="matmul")
def matmul(x1, x2, out=None):
    """Matrix product a @ b: 1-D operands are promoted to a row (a) or column (b) and the added dim
    removed; dims before the last two are batch dims, broadcast against each other."""
    return _store(_matmul(x1, x2), out)


def _matmul(a, b):
    y = _C.matmul(a, b)
    if _Mode.enabled and (getattr(a, "requires_grad", False) or getattr(b, "requires_grad", False)):
        record("matmul", y, _matmul_grad, (a, b), (a, b))
    return y


def _matmul_grad(dy, a, b):
    a, b = as_tensor(a), as_tensor(b)
    # 1-D operands act as a row (a) or a column (b): put the dim matmul removed back into dy.
    a2 = _C.reshape(a, (1, a.shape[0])) if a.ndim == 1 else a
    b2 = _C.reshape(b, (b.shape[0], 1)) if b.ndim == 1 else b
    dy2 = dy
    if a.ndim == 1:
        dy2 = _C.expand_dims(dy2, dy2.ndim - 1 if b.ndim > 1 else 0)
    if b.ndim == 1:
        dy2 = _C.expand_dims(dy2, dy2.ndim)
    da = db = None
    if wants_grad(a):
        da = _C.matmul(dy2, _swapaxes_c(b2, -1, -2))
        if a.ndim == 1:
            da = _C.squeeze(da, da.ndim - 2)  # (..., 1, k) -> (..., k): autograd sums the batch dims
    if wants_grad(b):
        if b2.ndim == 2 and a2.ndim > 2:  # a batch against one matrix (a linear layer): one GEMM
            k = a2.shape[-1]
            db = _C.matmul(_swapaxes_c(_C.reshape(a2, (-1, k)), 0, 1), _C.reshape(dy2, (-1, dy2.shape[-1])))
        else:
            db = _C.matmul(_swapaxes_c(a2, -1, -2), dy2)
        if b.ndim == 1:
            db = _C.squeeze(db, db.ndim - 1)
    return da, db


@implements(np.tensordot)
def tensordot(a, b, axes=2):
    """Sum of products over the given axes: an int n (a's last n with b's first n) or a pair of axis lists.
    The result has a's free axes, then b's."""
    a, b = as_tensor(a), as_tensor(b)
    if isinstance(axes, (int, np.integer)):
        axes_a, axes_b = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        axes_a, axes_b = ([x] if isinstance(x, (int, np.integer)) else list(x) for x in axes)
    if len(axes_a) != len(axes_b):
        raise ValueError("tensordot: shape-mismatch for sum (different numbers of axes)")
    axes_a = [x % a.ndim if a.ndim else x for x in axes_a]
    axes_b = [x % b.ndim if b.ndim else x for x in axes_b]
    for x, y in zip(axes_a, axes_b):
        if a.shape[x] != b.shape[y]:
            raise ValueError(f"tensordot: shape-mismatch for sum: {a.shape} axis {x} != {b.shape} axis {y}")
    free_a = [x for x in range(a.ndim) if x not in axes_a]
    free_b = [x for x in range(b.ndim) if x not in axes_b]
    def size(t, axes):
        return int(np.prod([t.shape[x] for x in axes], dtype=np.int64))
    k = size(a, axes_a)
    a2 = reshape(transpose(a, free_a + axes_a), (size(a, free_a), k))
    b2 = reshape(transpose(b, axes_b + free_b), (k, size(b, free_b)))
    shape = tuple(a.shape[x] for x in free_a) + tuple(b.shape[x] for x in free_b)
    return reshape(_matmul(a2, b2), shape)


@implements(np.dot)
def dot(a, b, out=None):
    """NumPy's dot: scalars multiply; otherwise sum over a's last axis and b's second-to-last (its only
    axis when 1-D)."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        result = multiply(a, b)
    elif b.ndim <= 2:
        result = _matmul(a, b)
    else:
        result = tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 2]))
    return _store(result, out)


@implements(np.inner)
def inner(a, b):
    """Sum of products over the last axes of a and b (a scalar operand multiplies)."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    return tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 1]))


@implements(np.outer)
def outer(a, b, out=None):
    """outer(a, b)[i, j] = a.ravel()[i] * b.ravel()[j]."""
    return _store(_matmul(reshape(as_tensor(a), (-1, 1)), reshape(as_tensor(b), (1, -1))), out)


@implements(np.vdot)
def vdot(a, b):
    """Dot product of the flattened operands (real dtypes: no conjugation)."""
    a, b = as_tensor(a), as_tensor(b)
    if a.size != b.size:
        raise ValueError(f"vdot: vectors have different lengths: {a.size} and {b.size}")
    return _matmul(reshape(a, (-1,)), reshape(b, (-1,)))


linalg = types.ModuleType("fusednn.linalg", "Linear algebra (NumPy's np.linalg names): matmul so far.")
linalg.matmul = matmul
if hasattr(np, "linalg") and hasattr(np.linalg, "matmul"):
    implements(np.linalg.matmul)(matmul)

method("dot")(dot)
Tensor.__matmul__ = _matmul
Tensor.__rmatmul__ = lambda self, other: _matmul(other, self)
