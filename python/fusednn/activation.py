"""Activation functions on C++ kernels (forward and backward, vectorised per ISA, or CUDA kernels for tensors
on a device), with torch semantics and NumPy-style names; re-exported by ``fusednn.nn.functional``. Each
records its gradient, computed by the matching backward kernel from the saved output (relu) or input (the others).

    relu(x)            max(x, 0)
    leaky_relu(x, a)   x if x > 0 else a x
    elu(x, alpha)      x if x > 0 else alpha (e^x - 1)
    gelu(x)            x Phi(x) = x erfc(-x / sqrt 2) / 2;  approximate='tanh': x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2
    silu(x)            x sigmoid(x)
    softplus(x, b, t)  log(1 + e^(b x)) / b, or x where b x > t
    softmax(x, axis)   e^(x - max) / sum e^(x - max) along axis;  log_softmax(x, axis) its logarithm
    sigmoid, tanh      fusednn.sigmoid / fusednn.tanh (the same objects)

Large |x| saturate without overflow (gelu(-1e4) = -0, silu(inf) = inf); NaN propagates.
"""
from . import _C
from .autograd import _Mode, record
from .elementwise import sigmoid, tanh

_A = _C.ActKind
_FROM_OUTPUT = (_A.relu,)  # backward reads y; the others read x (sigmoid/tanh live in elementwise.py)

__all__ = ["relu", "leaky_relu", "elu", "gelu", "silu", "softplus", "softmax", "log_softmax", "sigmoid", "tanh"]


def _activate(kind, name, x, alpha=0.0, beta=1.0, threshold=20.0):
    y = _C._act(kind, x, alpha, beta, threshold)
    if _Mode.enabled and getattr(x, "requires_grad", False):
        record(name, y, _activate_grad, (x,), (y if kind in _FROM_OUTPUT else x, kind, alpha, beta, threshold))
    return y


def _activate_grad(dy, saved, kind, alpha, beta, threshold):
    return (_C._act_backward(kind, dy, saved, alpha, beta, threshold),)


def relu(x):
    """max(x, 0) elementwise (NaN stays NaN); the gradient is 1 where the output is > 0, else 0."""
    return _activate(_A.relu, "relu", x)


def leaky_relu(x, negative_slope=0.01):
    """x where x > 0, else negative_slope * x."""
    return _activate(_A.leaky_relu, "leaky_relu", x, float(negative_slope))


def elu(x, alpha=1.0):
    """x where x > 0, else alpha * (e^x - 1)."""
    return _activate(_A.elu, "elu", x, float(alpha))


def gelu(x, approximate="none"):
    """Gaussian error linear unit x Phi(x) = x erfc(-x / sqrt 2) / 2; approximate='tanh' gives
    x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2, computed as x sigmoid(2 sqrt(2/pi) (x + 0.044715 x^3))."""
    if approximate == "none":
        return _activate(_A.gelu, "gelu", x)
    if approximate == "tanh":
        return _activate(_A.gelu_tanh, "gelu", x)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(x):
    """x * sigmoid(x) (also called swish)."""
    return _activate(_A.silu, "silu", x)


def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + e^(beta x)) / beta, or x itself where beta x > threshold (as torch)."""
    return _activate(_A.softplus, "softplus", x, 0.0, float(beta), float(threshold))


def _softmax(name, log, x, axis, dim):
    if dim is not None:
        axis = dim
    y = _C._softmax(x, axis, log)
    if _Mode.enabled and getattr(x, "requires_grad", False):
        record(name, y, _softmax_grad, (x,), (y, axis, log))
    return y


def _softmax_grad(dy, y, axis, log):
    return (_C._softmax_backward(dy, y, axis, log),)


def softmax(x, axis=-1, dim=None):
    """e^(x - m) / sum(e^(x - m)) along ``axis`` (``dim`` is accepted as torch's name for it), m the max."""
    return _softmax("softmax", False, x, axis, dim)


def log_softmax(x, axis=-1, dim=None):
    """x - m - log(sum(e^(x - m))) along ``axis`` (or ``dim``), m the max: log(softmax(x)) without underflow."""
    return _softmax("log_softmax", True, x, axis, dim)
