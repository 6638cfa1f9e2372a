"""Loss functions on fused C++ kernels (value and gradient), torch semantics; re-exported by
``fusednn.nn.functional``. ``reduction`` is 'mean' (default), 'sum' or 'none'.

    mse_loss        (x - t)^2
    l1_loss         |x - t|
    huber_loss      d^2 / 2 where |d| < delta, else delta (|d| - delta / 2), d = x - t
    binary_cross_entropy              -w (t log p + (1 - t) log(1 - p)), logs clamped at -100
    binary_cross_entropy_with_logits  w (pw t softplus(-x) + (1 - t) softplus(x))  (stable for any x)
    cross_entropy   log-softmax + NLL in one kernel; int labels (N,) or probabilities (N, C), label smoothing,
                    ignore_index, class weights; 'mean' divides by the summed weight of counted labels
    nll_loss        -w_t log_probs[t]

Gradients flow to the input (logits, predictions, probabilities); the target gets one only for mse, l1,
huber and bce_with_logits, when it is a float tensor that requires grad.
"""
from . import _C
from .autograd import _Mode, record, wants_grad

_P = _C.PointwiseLoss

__all__ = ["mse_loss", "l1_loss", "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "cross_entropy", "nll_loss"]


def _pointwise(kind, name, input, target, weight, pos_weight, reduction, delta, target_grad):
    loss = _C._pointwise_loss(kind, input, target, weight, pos_weight, reduction, delta)
    if _Mode.enabled and (getattr(input, "requires_grad", False)
                          or (target_grad and getattr(target, "requires_grad", False))):
        record(name, loss, _pointwise_grad, (input, target if target_grad else None),
               (input, target, weight, pos_weight, kind, reduction, delta))
    return loss


def _pointwise_grad(dy, input, target, weight, pos_weight, kind, reduction, delta):
    dx = _C._pointwise_loss_backward(kind, dy, input, target, weight, pos_weight, reduction, delta)
    if not wants_grad(target):
        return dx, None
    if kind != _P.bce_with_logits:
        return dx, -dx  # the loss depends on x - t only
    # d/dt = w ((pw - 1) softplus(-x) - x), times dy (/ n for mean)
    from .activation import softplus
    scale = dy if reduction != "mean" else dy / max(input.size, 1)
    pw = 1.0 if pos_weight is None else pos_weight
    dt = scale * ((pw - 1.0) * softplus(-input) - input)
    return dx, dt if weight is None else dt * weight


def mse_loss(input, target, reduction="mean"):
    """Mean squared error: reduce((input - target)^2). input and target must have one shape."""
    return _pointwise(_P.mse, "mse_loss", input, target, None, None, reduction, 0.0, True)


def l1_loss(input, target, reduction="mean"):
    """Mean absolute error: reduce(|input - target|)."""
    return _pointwise(_P.l1, "l1_loss", input, target, None, None, reduction, 0.0, True)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """Huber loss: d^2 / 2 where |d| < delta, else delta (|d| - delta / 2), with d = input - target."""
    return _pointwise(_P.huber, "huber_loss", input, target, None, None, reduction, float(delta), True)


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-weight (t log(p) + (1 - t) log(1 - p)) on probabilities p = input in [0, 1] (ValueError otherwise);
    each log is clamped at -100, as torch does, so p = 0 or 1 gives a finite loss."""
    return _pointwise(_P.bce, "binary_cross_entropy", input, target, weight, None, reduction, 0.0, False)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """Binary cross-entropy on logits x: weight (pos_weight t softplus(-x) + (1 - t) softplus(x)), with
    softplus(z) = max(z, 0) + log1p(e^-|z|); stable for any x. pos_weight broadcasts along the last axis."""
    return _pointwise(_P.bce_with_logits, "binary_cross_entropy_with_logits", input, target, weight, pos_weight,
                      reduction, 0.0, True)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Cross-entropy of logits ``input`` (N, C) against int labels (N,) or probabilities (N, C), fused:
    log-softmax and NLL in one pass per row. With eps = label_smoothing and lse the row's log-sum-exp:
    labels: (1 - eps) w_t (lse - x_t) + eps / C sum_c w_c (lse - x_c) ('mean' divides by the summed w_t of
    rows whose label is not ignore_index); probabilities: -sum_c w_c t'_c (x_c - lse), t' = (1 - eps) t + eps / C
    ('mean' divides by N). Labels outside [0, C) raise ValueError; float (N,) targets raise TypeError."""
    loss, lse = _C._cross_entropy(input, target, weight, reduction, ignore_index, label_smoothing)
    if _Mode.enabled and getattr(input, "requires_grad", False):
        record("cross_entropy", loss, _cross_entropy_grad, (input,),
               (input, target, weight, lse, reduction, ignore_index, label_smoothing))
    return loss


def _cross_entropy_grad(dy, input, target, weight, lse, reduction, ignore_index, label_smoothing):
    return (_C._cross_entropy_backward(dy, input, target, weight, lse, reduction, ignore_index, label_smoothing),)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of log-probabilities ``input`` (N, C) at int labels (N,): -w_t input[i, t];
    'mean' divides by the summed w_t of rows whose label is not ignore_index."""
    loss = _C._nll_loss(input, target, weight, reduction, ignore_index)
    if _Mode.enabled and getattr(input, "requires_grad", False):
        record("nll_loss", loss, _nll_grad, (input,), (input, target, weight, reduction, ignore_index))
    return loss


def _nll_grad(dy, input, target, weight, reduction, ignore_index):
    return (_C._nll_loss_backward(dy, input, target, weight, reduction, ignore_index),)
