"""Gradient clipping over every parameter's gradient at once: the global norm is ONE fused C++ reduction
(accumulated in double, the same value for any thread count), the rescale one fused in-place pass."""
import math

import numpy as np

from .. import _C
from .._tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters):
    params = [parameters] if isinstance(parameters, Tensor) else parameters
    return [p.grad for p in params if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    r"""Scale the gradients in place so that their global norm is at most ``max_norm``::

        total = (sum over all gradient elements of |g|^p)^(1/p)      (max |g| for p = inf)
        g *= min(1, max_norm / (total + 1e-6))

    Returns the total norm (before clipping) as a 0-d tensor; it is NaN or inf when a gradient holds
    NaN or inf (then the gradients become NaN, as in torch), or raises RuntimeError with
    ``error_if_nonfinite=True``."""
    grads = _grads(parameters)
    norm_type = float(norm_type)
    dtype = np.result_type(*[g.dtype for g in grads]) if grads else np.float32
    if not grads:
        return _C._to_tensor(np.zeros((), dtype))
    total = _C._global_norm(grads, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"the total norm of order {norm_type} of the gradients is non-finite ({total}), so "
                           f"it cannot be clipped; pass error_if_nonfinite=False to scale by it anyway")
    coef = float(max_norm) / (total + 1e-6)
    if not coef >= 1.0:  # below 1, or NaN (which, as in torch, makes every gradient NaN)
        _C._scale_(grads, coef)
    return _C._to_tensor(np.array(total, dtype))


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element into [-clip_value, clip_value], in place (NaN stays NaN)."""
    clip_value = float(clip_value)
    if not clip_value >= 0:
        raise ValueError(f"clip_value must be non-negative, got {clip_value}")
    _C._clamp_(_grads(parameters), -clip_value, clip_value)
