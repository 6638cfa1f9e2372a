"""Preprocessing: ``StandardScaler`` and ``MinMaxScaler`` (scikit-learn's formulas, with ``state_dict`` so
a fitted scaler can be saved beside a model), ``normalize`` (rows to unit norm) and ``one_hot``."""
import numbers

import numpy as np

from ..creation import arange, ones_like, zeros_like
from ..elementwise import abs, astype, floor, sqrt, where
from ..reduce import max, mean, min, sum, var
from .dataset import as_tensor


def _float(x):
    """x as a float tensor: float32/float64 kept, integers and bool to float32."""
    x = as_tensor(x)
    return x if x.dtype.kind == "f" else astype(x, np.float32)


class _Scaler:
    """Shared plumbing: fit_transform, the fitted check, the feature-count check and (de)serialisation of
    the fitted statistics named in ``_state``."""
    _state = ()

    def fit_transform(self, x):
        return self.fit(x).transform(x)

    def _check(self, x):
        x = _float(x)
        if getattr(self, self._state[0], None) is None:
            raise RuntimeError(f"This {type(self).__name__} instance is not fitted yet; call fit(x) first")
        n_features = getattr(self, self._state[0]).shape[0]
        if x.ndim != 2 or x.shape[1] != n_features:
            raise ValueError(f"x has shape {x.shape}, but {type(self).__name__} was fitted with {n_features} "
                             f"features: expected (n_samples, {n_features})")
        return x

    @staticmethod
    def _samples(x):
        x = _float(x)
        if x.ndim != 2 or x.shape[0] == 0:
            raise ValueError(f"expected a 2-d array (n_samples, n_features) with at least one sample, "
                             f"got shape {x.shape}")
        return x

    def state_dict(self):
        """The fitted statistics as {name: tensor} (empty before fit)."""
        return {k: getattr(self, k) for k in self._state if getattr(self, k, None) is not None}

    def load_state_dict(self, state):
        """Restore statistics from ``state_dict()``; every name must be present with one common length."""
        missing = [k for k in self._state if k not in state]
        unexpected = [k for k in state if k not in self._state]
        if missing or unexpected:
            raise ValueError(f"{type(self).__name__}.load_state_dict: missing keys {missing}, unexpected keys "
                             f"{unexpected}")
        values = {k: _float(state[k]) for k in self._state}
        shapes = {v.shape for v in values.values()}
        if len(shapes) != 1 or len(next(iter(shapes))) != 1:
            raise ValueError(f"{type(self).__name__}.load_state_dict: expected 1-d statistics of one length, "
                             f"got shapes {[v.shape for v in values.values()]}")
        for k, v in values.items():
            setattr(self, k, v)
        return self


class StandardScaler(_Scaler):
    """Standardise features: ``z = (x - mean) / scale`` with the per-feature mean and population standard
    deviation (ddof=0) of the fitted data; a feature with zero variance gets scale 1."""
    _state = ("mean_", "scale_")

    def __init__(self, with_mean=True, with_std=True):
        self.with_mean, self.with_std = with_mean, with_std
        self.mean_ = self.scale_ = None

    def fit(self, x):
        x = self._samples(x)
        m = mean(x, axis=0)
        self.mean_ = m if self.with_mean else zeros_like(m)
        s = sqrt(var(x, axis=0))
        self.scale_ = where(s == 0, 1, s) if self.with_std else ones_like(s)
        return self

    def transform(self, x):
        return (self._check(x) - self.mean_) / self.scale_

    def inverse_transform(self, z):
        return self._check(z) * self.scale_ + self.mean_


class MinMaxScaler(_Scaler):
    """Scale features to ``feature_range = (lo, hi)``: ``y = x * scale + min`` with
    ``scale = (hi - lo) / (data_max - data_min)`` (1 where the range is 0) and ``min = lo - data_min * scale``."""
    _state = ("data_min_", "data_max_", "scale_", "min_")

    def __init__(self, feature_range=(0, 1)):
        lo, hi = feature_range
        if not lo < hi:
            raise ValueError(f"Minimum of desired feature range must be smaller than maximum. Got {feature_range}.")
        self.feature_range = (lo, hi)
        self.data_min_ = self.data_max_ = self.scale_ = self.min_ = None

    def fit(self, x):
        x = self._samples(x)
        lo, hi = self.feature_range
        self.data_min_, self.data_max_ = min(x, axis=0), max(x, axis=0)
        span = self.data_max_ - self.data_min_
        self.scale_ = (hi - lo) / where(span == 0, 1, span)
        self.min_ = lo - self.data_min_ * self.scale_
        return self

    def transform(self, x):
        return self._check(x) * self.scale_ + self.min_

    def inverse_transform(self, y):
        return (self._check(y) - self.min_) / self.scale_


_NORMS = {"l1": lambda x, axis: sum(abs(x), axis=axis, keepdims=True),
          "l2": lambda x, axis: sqrt(sum(x * x, axis=axis, keepdims=True)),
          "max": lambda x, axis: max(abs(x), axis=axis, keepdims=True)}


def normalize(x, axis=1, norm="l2"):
    """Scale each vector along ``axis`` to unit norm: ``x / ||x||`` with ``||x||`` the l1, l2 or max norm
    (vectors of norm 0 are left unchanged). Integer inputs give float32."""
    if norm not in _NORMS:
        raise ValueError(f"norm must be one of {sorted(_NORMS)}, got {norm!r}")
    x = _float(x)
    n = _NORMS[norm](x, axis)
    return x / where(n == 0, 1, n)


def one_hot(labels, num_classes=None, dtype=np.float32):
    """One-hot rows for integer class labels: ``out[..., c] = (labels[...] == c)``, shape
    ``labels.shape + (num_classes,)``; num_classes defaults to max(labels) + 1. Float labels must be whole
    numbers. ValueError for labels outside [0, num_classes)."""
    labels = as_tensor(labels)
    if labels.dtype.kind == "f":
        if labels.size and not bool((labels == floor(labels)).all()):
            raise ValueError("one_hot: labels must be whole numbers, got fractional values")
        labels = astype(labels, np.int64)
    elif labels.dtype.kind not in "iub":
        raise TypeError(f"one_hot: labels must be integers, got dtype {labels.dtype}")
    low = int(min(labels)) if labels.size else 0
    high = int(max(labels)) if labels.size else -1
    if num_classes is None:
        num_classes = high + 1
    elif isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < 0:
        raise ValueError(f"one_hot: num_classes must be a non-negative integer, got {num_classes!r}")
    if low < 0 or high >= num_classes:
        bad = low if low < 0 else high
        raise ValueError(f"one_hot: label {bad} is out of range for num_classes={num_classes} "
                         f"(labels must be in [0, {num_classes}))")
    return astype(labels[..., None] == arange(num_classes), dtype)
