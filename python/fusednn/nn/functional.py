"""Functional forms of the layers (``import fusednn.nn.functional as F``): fusednn.activation's and
fusednn.loss's functions, plus linear, dropout, layer_norm, batch_norm, embedding and one_hot.

``linear(x, weight, bias, activation)`` is one GEMM with the bias + activation epilogue,
``y = act(x @ weight.T + bias)``, recorded as one autograd node whose backward is
``dz = dy * act'(z)``, ``db = sum_rows dz``, ``dx = dz @ weight``, ``dweight = dz.T @ x`` (transposed views,
no copies); ``dz`` and ``db`` come from one fused pass. Each direction is one C++ call (``_C._linear_forward``
and ``_C._linear_backward``, fusednn/linear.h).
"""

from .. import _C
from .. import activation as _activation
from .. import loss as _loss
from .._tensor import Tensor
from ..autograd import _Mode, record, wants_grad
from ..creation import asarray
from ..normalization import batch_norm, dropout, layer_norm

_B = _C.BinaryOp

# Activations the GEMM epilogue fuses, by their C++ code (fusednn::Activation). gelu, silu (and leaky_relu
# with a slope <= 0) need the pre-activation z for their gradient; the others get it from the output y.
_EPILOGUE = ("relu", "leaky_relu", "tanh", "sigmoid", "gelu", "silu")
_CODES = {None: 0, **_C._linear_activation_codes}


def _needs_z(act, slope):
    return act in ("gelu", "silu") or (act == "leaky_relu" and slope <= 0)


_ALIASES = {"linear": None, "none": None, "swish": "silu"}


def _activation_name(activation):
    """The epilogue name of an activation given as None, a name or one of F's functions."""
    if activation is None:
        return None
    if callable(activation):
        activation = getattr(activation, "__name__", "")
    name = _ALIASES.get(activation, activation)
    if name is not None and name not in _EPILOGUE:
        raise ValueError(f"unknown activation {activation!r}: expected None, 'linear' or one of {_EPILOGUE}")
    return name


def linear(x, weight, bias=None, activation=None, negative_slope=0.01):
    """``act(x @ weight.T + bias)`` for x of shape (..., in), weight (out, in), bias (out,): one GEMM with
    the bias + activation epilogue (activation: None, 'relu', 'leaky_relu', 'tanh', 'sigmoid', 'gelu',
    'silu')."""
    return _linear(x, weight, bias, _activation_name(activation), negative_slope)


def _linear(x, weight, bias, act, slope):
    if not isinstance(x, Tensor):
        x = asarray(x)
    x2 = x if x.ndim == 2 else _C.reshape(x, (-1, x.shape[-1]) if x.ndim else (1, 1))
    code = _CODES[act]
    grad = _Mode.enabled and (getattr(x, "requires_grad", False) or weight.requires_grad
                              or getattr(bias, "requires_grad", False))
    try:
        if grad and _needs_z(act, slope):
            saved, y = _C._linear_forward(x2, weight, bias, code, slope, True)  # (z, y)
        else:
            y = saved = _C._linear_forward(x2, weight, bias, code, slope, False)
    except (ValueError, TypeError) as e:
        raise type(e)(f"linear: input of shape {tuple(x.shape)} and weight of shape {tuple(weight.shape)} "
                      f"(out_features, in_features) do not fit: {e}") from None
    if x.ndim != 2:
        y = _C.reshape(y, x.shape[:-1] + (weight.shape[0],))
    if grad:
        record("linear", y, _linear_grad, (x, weight, bias), (x, x2, weight, bias, saved, code, slope))
    return y


def _linear_grad(dy, x, x2, weight, bias, saved, code, slope):
    """One C++ call: dz = dy * act'(saved) and db = sum_rows dz in one pass, then dx = dz @ weight and
    dweight = dz.T @ x2; saved is the 2-D output y, or z where the activation's gradient needs it."""
    if dy.ndim != 2:
        dy = _C.reshape(dy, (-1, weight.shape[0]))
    dx, dw, db = _C._linear_backward(dy, x2, weight, saved, code, slope, x.requires_grad, weight.requires_grad,
                                     wants_grad(bias))  # x and weight are Tensors (see _linear)
    if dx is not None and x.ndim != 2:
        dx = _C.reshape(dx, x.shape)
    return dx, dw, db


def embedding(indices, weight):
    """Rows of ``weight`` (num_embeddings, dim) at integer ``indices`` (any shape): shape indices.shape +
    (dim,). The gradient scatter-adds into weight's rows (repeated indices accumulate)."""
    return weight[indices if isinstance(indices, Tensor) else asarray(indices)]


def one_hot(labels, num_classes=-1):
    """int64 tensor of shape labels.shape + (num_classes,) with 1 at each label (num_classes=-1: max + 1)."""
    labels = labels if isinstance(labels, Tensor) else asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got {labels.dtype}")
    if num_classes < 0:
        num_classes = int(_C._reduce("max", labels, None, None, False)) + 1 if labels.size else 0
    if labels.size and (int(_C._reduce("min", labels, None, None, False)) < 0
                        or int(_C._reduce("max", labels, None, None, False)) >= num_classes):
        raise ValueError(f"one_hot: labels must lie in [0, {num_classes})")
    classes = _C._arange_int(0, num_classes, 1, labels.dtype)
    return _C.astype(_C.binary(_B.equal, _C.expand_dims(labels, -1), classes), "int64")


_exports = {name: getattr(_activation, name) for name in _activation.__all__}
_exports.update({name: getattr(_loss, name) for name in _loss.__all__})
globals().update(_exports)

__all__ = sorted(_exports) + ["linear", "dropout", "layer_norm", "batch_norm", "embedding", "one_hot"]
