"""Gradient clipping over every parameter's gradient at once: the global norm is ONE fused C++ reduction per
device (accumulated in double, the same value for any thread count or launch), the rescale one fused
in-place pass per device."""
import math

import numpy as np

from .. import _C
from .._tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters):
    params = [parameters] if isinstance(parameters, Tensor) else parameters
    return [p.grad for p in params if p.grad is not None]


def _by_device(grads):
    """The gradients grouped by device, in order of first appearance: each group is one fused call."""
    groups = {}
    for g in grads:
        groups.setdefault(g.device, []).append(g)
    return list(groups.values())


def _global_norm(groups, norm_type):
    """The norm over every group: one reduction per device, the per-device norms combined on the host."""
    norms = [_C._global_norm(g, norm_type) for g in groups]
    if len(norms) == 1:
        return norms[0]
    if math.isinf(norm_type):
        return math.nan if any(math.isnan(n) for n in norms) else max(norms)
    return math.fsum(n ** norm_type for n in norms) ** (1.0 / norm_type)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    r"""Scale the gradients in place so that their global norm is at most ``max_norm``::

        total = (sum over all gradient elements of |g|^p)^(1/p)      (max |g| for p = inf)
        g *= min(1, max_norm / (total + 1e-6))

    Returns the total norm (before clipping) as a 0-d host tensor (the norm is read back to the host to
    decide the scale, so this costs nothing, and ``float()`` of it never waits); it is NaN or inf when a
    gradient holds NaN or inf (then the gradients become NaN, as in torch), or raises RuntimeError with
    ``error_if_nonfinite=True``. Gradients may live on several devices."""
    grads = _grads(parameters)
    norm_type = float(norm_type)
    dtype = np.result_type(*[g.dtype for g in grads]) if grads else np.float32
    if not grads:
        return _C._to_tensor(np.zeros((), dtype))
    groups = _by_device(grads)
    total = _global_norm(groups, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"the total norm of order {norm_type} of the gradients is non-finite ({total}), so "
                           f"it cannot be clipped; pass error_if_nonfinite=False to scale by it anyway")
    coef = float(max_norm) / (total + 1e-6)
    if not coef >= 1.0:  # below 1, or NaN (which, as in torch, makes every gradient NaN)
        for g in groups:
            _C._scale_(g, coef)
    return _C._to_tensor(np.array(total, dtype))


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element into [-clip_value, clip_value], in place (NaN stays NaN)."""
    clip_value = float(clip_value)
    if not clip_value >= 0:
        raise ValueError(f"clip_value must be non-negative, got {clip_value}")
    for g in _by_device(_grads(parameters)):
        _C._clamp_(g, -clip_value, clip_value)
