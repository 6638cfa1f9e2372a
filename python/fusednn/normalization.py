"""Normalization and dropout ops with their gradients, on the C++ normalization kernels.

    layer_norm:  y = (x - mean) / sqrt(var + eps) * weight + bias, statistics over the last dims
    batch_norm:  the same per channel of (N, C) or (N, C, L), statistics over N (and L) when training,
                 running statistics otherwise (running_var unbiased, as PyTorch's)
    dropout:     y = x * mask, mask = (u >= p) / (1 - p) for u ~ U[0, 1) from fusednn.random's generator

Parameter gradients come back from the kernels as fresh tensors (autograd accumulates them into .grad).
"""
import numbers

from . import _C
from ._tensor import Tensor, as_tensor
from .autograd import _Mode, record, wants_grad

__all__ = ["layer_norm", "batch_norm", "dropout"]


def _normalized_size(x, normalized_shape):
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    if len(shape) > x.ndim or tuple(x.shape[x.ndim - len(shape):]) != shape:
        raise ValueError(f"layer_norm: normalized_shape {shape} does not match the last dims of input shape "
                         f"{tuple(x.shape)}")
    size = 1
    for n in shape:
        size *= n
    return size


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the trailing ``normalized_shape`` dims:
    ``y = (x - mean) / sqrt(var + eps) * weight + bias`` (var biased; weight/bias of normalized_shape)."""
    x = as_tensor(x)
    D = _normalized_size(x, normalized_shape)
    y, mean, rstd = _C._layer_norm(x, D, weight, bias, eps)
    if _Mode.enabled and (getattr(x, "requires_grad", False) or getattr(weight, "requires_grad", False)
                          or getattr(bias, "requires_grad", False)):
        record("layer_norm", y, _layer_norm_grad, (x, weight, bias), (x, mean, rstd, weight, bias, D))
    return y


def _layer_norm_grad(dy, x, mean, rstd, weight, bias, D):
    dx, dw, db = _C._layer_norm_backward(dy, x, mean, rstd, weight, D, wants_grad(x), wants_grad(weight),
                                         wants_grad(bias))
    return dx, _shaped(dw, weight), _shaped(db, bias)


def _shaped(grad, param):
    return None if grad is None else grad.reshape(param.shape)


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalization of (N, C) or (N, C, L) per channel C (PyTorch's F.batch_norm).

    training: ``y = (x - mean_B) / sqrt(var_B + eps) * weight + bias`` with the batch's mean and biased
    variance over N (and L); the running statistics, when given, are updated in place:
    ``running = (1 - momentum) * running + momentum * batch`` (running_var takes the unbiased var_B * M / (M - 1)).
    Otherwise the running statistics normalize."""
    x = as_tensor(x)
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch_norm: running_mean and running_var are needed when training=False")
    y, mean, rstd, var = _C._batch_norm(x, weight, bias, running_mean, running_var, training, eps)
    if training and running_mean is not None:
        count = x.size // x.shape[1]
        from .autograd import no_grad  # noqa: PLC0415
        with no_grad():
            _assign(running_mean, running_mean * (1 - momentum) + mean * momentum)
            _assign(running_var, running_var * (1 - momentum) + var * (momentum * count / (count - 1)))
    if _Mode.enabled and (getattr(x, "requires_grad", False) or getattr(weight, "requires_grad", False)
                          or getattr(bias, "requires_grad", False)):
        record("batch_norm", y, _batch_norm_grad, (x, weight, bias), (x, mean, rstd, weight, bias, training))
    return y


def _assign(dst, value):
    """dst[...] = value in place; a Tensor on any device (the update runs where the statistics live)."""
    if isinstance(dst, Tensor):
        _C._copy_into(dst, value)
    else:
        dst[...] = value


def _batch_norm_grad(dy, x, mean, rstd, weight, bias, training):
    dx, dw, db = _C._batch_norm_backward(dy, x, mean, rstd, weight, training, wants_grad(x), wants_grad(weight),
                                         wants_grad(bias))
    return dx, _shaped(dw, weight), _shaped(db, bias)


def dropout(x, p=0.5, training=True):
    """Inverted dropout: ``y = x * (u >= p) / (1 - p)``, u drawn from fusednn.random's global generator
    (so ``fnn.random.seed`` makes it reproducible); x itself when not training or p == 0."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return x
    y, mask = _C._dropout(_GENERATOR, x, p)
    if _Mode.enabled and getattr(x, "requires_grad", False):
        record("dropout", y, _dropout_grad, (x,), (mask,))
    return y


def _dropout_grad(dy, mask):
    return (dy * mask,)


_GENERATOR = _C._default_generator()
