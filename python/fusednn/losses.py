"""Keras-style losses for ``compile()``: objects called as ``loss(y_true, y_pred)`` (Keras' argument order)
on fusednn.loss's fused kernels, and ``get(name, from_logits=False)``; each averages over the batch.

    MeanSquaredError ("mse")   mean (p - t)^2        MeanAbsoluteError ("mae")   mean |p - t|
    Huber(delta) ("huber")     d^2 / 2 where |d| < delta, else delta (|d| - delta / 2), d = p - t
    BinaryCrossentropy         probabilities: -(t log p + (1 - t) log(1 - p)); from_logits: the stable
                               softplus form on logits
    CategoricalCrossentropy    one-hot t: logits -> cross_entropy(x, t); probabilities p ->
                               -sum t log(p / sum p) with p clipped to [eps, 1 - eps] (Keras' formula),
                               computed as cross_entropy(log(clip(p)), t) since log-softmax(log p) = log(p / sum p)
    SparseCategoricalCrossentropy  the same with integer labels
"""
import numpy as np

from . import _C
from . import loss as _loss
from ._tensor import Tensor
from .creation import asarray
from .elementwise import clip, log

__all__ = ["Loss", "MeanSquaredError", "MeanAbsoluteError", "Huber", "BinaryCrossentropy", "CategoricalCrossentropy",
           "SparseCategoricalCrossentropy", "get"]

_EPSILON = 1e-7  # Keras' backend epsilon: probabilities are clipped to [eps, 1 - eps] before the log


class Loss:
    """Base class: ``loss(y_true, y_pred)`` is the batch mean; subclasses define ``call(target, pred)``.
    ``target_kind`` says how targets are prepared: 'float' (same dtype and shape as the prediction) or
    'labels' (int64 of shape (N,))."""
    name = "loss"
    target_kind = "float"

    def __init__(self, from_logits=False):
        self.from_logits = bool(from_logits)

    def __call__(self, y_true, y_pred):
        return self.call(self.target(y_true, y_pred), y_pred)

    def target(self, y_true, y_pred):
        """y_true as the kernel wants it: cast (a copy only when the dtype differs), reshaped (a view) and on
        y_pred's device (a copy when it is elsewhere)."""
        t = y_true if isinstance(y_true, Tensor) else asarray(y_true)
        if self.target_kind == "labels":
            if t.dtype != np.int64:
                t = _C.astype(t, "int64")
            if t.ndim != 1:
                t = _C.reshape(t, (-1,))
        else:
            if t.dtype != y_pred.dtype:
                t = _C.astype(t, y_pred.dtype)
            if t.shape != y_pred.shape and t.size == y_pred.size:
                t = _C.reshape(t, y_pred.shape)
        return t.to(y_pred.device) if isinstance(y_pred, Tensor) else t

    def get_config(self):
        return {"from_logits": self.from_logits}

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


class MeanSquaredError(Loss):
    name = "mean_squared_error"

    def call(self, t, p):
        return _loss.mse_loss(p, t)


class MeanAbsoluteError(Loss):
    name = "mean_absolute_error"

    def call(self, t, p):
        return _loss.l1_loss(p, t)


class Huber(Loss):
    name = "huber_loss"

    def __init__(self, delta=1.0, from_logits=False):
        super().__init__(from_logits)
        self.delta = float(delta)

    def call(self, t, p):
        return _loss.huber_loss(p, t, delta=self.delta)

    def get_config(self):
        return {"delta": self.delta}


class BinaryCrossentropy(Loss):
    name = "binary_crossentropy"

    def call(self, t, p):
        if self.from_logits:
            return _loss.binary_cross_entropy_with_logits(p, t)
        return _loss.binary_cross_entropy(p, t)


class CategoricalCrossentropy(Loss):
    name = "categorical_crossentropy"

    def __init__(self, from_logits=False, label_smoothing=0.0):
        super().__init__(from_logits)
        self.label_smoothing = float(label_smoothing)

    def call(self, t, p):
        logits = p if self.from_logits else log(clip(p, _EPSILON, 1 - _EPSILON))
        return _loss.cross_entropy(logits, t, label_smoothing=self.label_smoothing)

    def get_config(self):
        return {"from_logits": self.from_logits, "label_smoothing": self.label_smoothing}


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    name = "sparse_categorical_crossentropy"
    target_kind = "labels"


class _Function(Loss):
    """A plain function ``fn(y_true, y_pred)`` used as a loss."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn
        self.name = getattr(fn, "__name__", "loss")

    def __call__(self, y_true, y_pred):
        return self.fn(y_true, y_pred)


_BY_NAME = {"mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
            "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
            "huber": Huber, "huber_loss": Huber,
            "binary_crossentropy": BinaryCrossentropy, "bce": BinaryCrossentropy,
            "categorical_crossentropy": CategoricalCrossentropy,
            "sparse_categorical_crossentropy": SparseCategoricalCrossentropy}
_CLASSES = {cls.__name__: cls for cls in _BY_NAME.values()}


def get(identifier, from_logits=False):
    """A Loss for a Keras name ('mse', 'mae', 'huber', 'binary_crossentropy', 'categorical_crossentropy',
    'sparse_categorical_crossentropy'), a Loss (as is), a Loss class, or a function fn(y_true, y_pred)."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier(from_logits=from_logits)
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            raise ValueError(f"unknown loss {identifier!r}; known names: {', '.join(sorted(_BY_NAME))}")
        return cls(from_logits=from_logits)
    if callable(identifier):
        return _Function(identifier)
    raise TypeError(f"a loss must be a name, a Loss or a function, got {type(identifier).__name__}")


def from_config(spec):
    """The Loss described by ``{"class": name, "config": {...}}`` (what compile state saves)."""
    cls = _CLASSES.get(spec.get("class"))
    if cls is None:
        raise ValueError(f"cannot rebuild loss {spec.get('class')!r}: known classes {sorted(_CLASSES)}")
    return cls(**spec.get("config", {}))
