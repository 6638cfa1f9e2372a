"""Metrics (``fnn.metrics``): functions over a whole set of predictions (accuracy, precision, recall, f1,
confusion_matrix, mean_squared_error, mean_absolute_error, r2_score) and streaming metric objects with
Keras's interface (``update_state(y_true, y_pred)``, ``result()``, ``reset_state()``); ``get(name)``
resolves Keras names ("accuracy", "mse", ...). Class metrics come from the confusion matrix, counted
with one GEMM of one-hot matrices."""
import numbers

import numpy as np

from . import _C
from .creation import arange, ones, zeros
from .elementwise import abs, astype, square, where
from .reduce import amax, amin, argmax, sum
from .shape import pad, ravel, reshape
from .data.dataset import as_tensor

__all__ = ["accuracy", "precision", "recall", "f1", "confusion_matrix", "mean_squared_error",
           "mean_absolute_error", "r2_score", "Metric", "Mean", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy",
           "CategoricalAccuracy", "SparseCategoricalAccuracy", "Precision", "Recall", "F1Score",
           "MeanSquaredError", "MeanAbsoluteError", "R2Score", "get"]

_ACCURACY_KINDS = ("binary", "categorical", "sparse", "labels")
_AVERAGES = ("binary", "micro", "macro", "weighted", None)


def _same_shape(y_true, y_pred):
    """Both as tensors of one shape; a trailing axis of size 1 on either side is dropped ((n,) vs (n, 1))."""
    y_true, y_pred = as_tensor(y_true), as_tensor(y_pred)
    if y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        y_pred = y_pred[..., 0]
    elif y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred have incompatible shapes {y_true.shape} and {y_pred.shape}")
    return y_true, y_pred


def _has_class_axis(y):
    return y.ndim >= 2 and y.shape[-1] > 1


# ---------------------------------------------------------------- accuracy

def _accuracy_kind(y_true, y_pred):
    """Keras's choice for "accuracy": class scores (last axis > 1) against one-hot rows are categorical,
    against integer labels sparse; float scores otherwise are binary probabilities; else exact labels."""
    if _has_class_axis(y_pred):
        return "categorical" if y_true.shape == y_pred.shape else "sparse"
    return "binary" if y_pred.dtype.kind == "f" else "labels"


def _correct(y_true, y_pred, kind, threshold):
    """A bool tensor: which predictions are right."""
    y_true, y_pred = as_tensor(y_true), as_tensor(y_pred)
    kind = kind or _accuracy_kind(y_true, y_pred)
    if kind not in _ACCURACY_KINDS:
        raise ValueError(f"accuracy kind must be one of {_ACCURACY_KINDS} or None, got {kind!r}")
    if kind == "categorical":
        if y_true.shape != y_pred.shape or y_pred.ndim == 0:
            raise ValueError(f"categorical accuracy needs one-hot y_true of y_pred's shape, got {y_true.shape} "
                             f"and {y_pred.shape}")
        return argmax(y_true, axis=-1) == argmax(y_pred, axis=-1)
    if kind == "sparse":
        if y_pred.ndim == 0 or y_true.size != y_pred.size // max(y_pred.shape[-1], 1):
            raise ValueError(f"sparse accuracy needs one integer label per row of y_pred, got shapes "
                             f"{y_true.shape} and {y_pred.shape}")
        return reshape(y_true, y_pred.shape[:-1]) == argmax(y_pred, axis=-1)
    y_true, y_pred = _same_shape(y_true, y_pred)
    return y_true == (y_pred > threshold) if kind == "binary" else y_true == y_pred


def accuracy(y_true, y_pred, kind=None, threshold=0.5):
    """The fraction of right predictions. kind: "binary" (``y_true == (y_pred > threshold)``),
    "categorical" (``argmax y_true == argmax y_pred`` over the last axis, one-hot y_true), "sparse"
    (``y_true == argmax y_pred``, integer labels), "labels" (``y_true == y_pred``), or None to choose
    from the shapes and dtypes as Keras's "accuracy" does. 0.0 for no samples."""
    c = _correct(y_true, y_pred, kind, threshold)
    return float(sum(c)) / c.size if c.size else 0.0


# ---------------------------------------------------------------- classification from the confusion matrix

def _labels(y, threshold=None):
    """Integer class labels (1-d int64): argmax of class scores / one-hot rows; float predictions with a
    threshold become 0/1; a trailing size-1 axis is dropped."""
    y = as_tensor(y)
    if _has_class_axis(y):
        y = argmax(y, axis=-1)
    elif y.ndim >= 2 and y.shape[-1] == 1:
        y = y[..., 0]
    if threshold is not None and y.dtype.kind == "f":
        y = y > threshold
    return astype(ravel(y), np.int64)


def _check_num_classes(num_classes):
    if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral)
                                    or num_classes < 1):
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")


def _label_range(t, p):
    """(smallest, largest) label in t and p; (0, -1) when both are empty."""
    ends = [(int(amin(y)), int(amax(y))) for y in (t, p) if y.size]
    return (min(e[0] for e in ends), max(e[1] for e in ends)) if ends else (0, -1)


def _confusion(t, p, num_classes):
    """counts[i, j] = #{k : t[k] = i and p[k] = j}: one scatter-add of ones at the flat cells t * C + p."""
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred have different numbers of samples: {t.shape[0]} and {p.shape[0]}")
    low, high = _label_range(t, p)
    _check_num_classes(num_classes)
    if num_classes is None:
        num_classes = high + 1
    if low < 0 or high >= num_classes:
        bad = low if low < 0 else high
        raise ValueError(f"class label {bad} is out of range for num_classes={num_classes} "
                         f"(labels must be in [0, {num_classes}))")
    counts = zeros(num_classes * num_classes, dtype=np.int64)
    cells = astype(t, np.int64) * num_classes + astype(p, np.int64)
    _C._index_add(counts, cells, ones(cells.shape, dtype=np.int64))
    return reshape(counts, (num_classes, num_classes))


def confusion_matrix(y_true, y_pred, num_classes=None, threshold=0.5):
    """The (C, C) int64 matrix of counts: ``cm[i, j]`` = samples of true class i predicted as j. Labels are
    integers (class scores and one-hot rows are argmax-ed; float 1-d predictions are thresholded);
    C = num_classes or max label + 1. ValueError for labels outside [0, C)."""
    return _confusion(_labels(y_true), _labels(y_pred, threshold), num_classes)


def _divide(num, den):
    """num / den, 0 where den == 0 (scikit-learn's zero_division=0)."""
    return where(den > 0, num / where(den > 0, den, 1), 0.0)


def _scores(cm, average, pos_label):
    """(precision, recall, f1) from a confusion matrix: per class ``P = tp / predicted``,
    ``R = tp / actual``, ``F1 = 2 tp / (predicted + actual)``; averaged as scikit-learn does."""
    if average not in _AVERAGES:
        raise ValueError(f"average must be one of {list(_AVERAGES)}, got {average!r}")
    cm = astype(cm, np.float64)
    if average == "binary" and cm.shape[0] < 2:   # only negatives seen: the positive class has no counts
        cm = pad(cm, ((0, 2 - cm.shape[0]),) * 2)
    c = arange(cm.shape[0])
    tp, predicted, actual = cm[c, c], sum(cm, axis=0), sum(cm, axis=1)
    if average == "binary":
        if cm.shape[0] > 2:
            raise ValueError(f"Target is multiclass ({cm.shape[0]} classes) but average='binary'. Please choose "
                             f"another average setting, one of [None, 'micro', 'macro', 'weighted'].")
        if not 0 <= pos_label < cm.shape[0]:
            raise ValueError(f"pos_label={pos_label} is not a valid label: labels are 0..{cm.shape[0] - 1}")
        tp, predicted, actual = tp[pos_label], predicted[pos_label], actual[pos_label]
    elif average == "micro":
        tp, predicted, actual = sum(tp), sum(predicted), sum(actual)
    scores = (_divide(tp, predicted), _divide(tp, actual), _divide(2 * tp, predicted + actual))
    if average in ("binary", "micro"):
        return tuple(float(s) for s in scores)
    if average is None:
        return scores
    # Classes that occur in neither y_true nor y_pred do not count, as in scikit-learn.
    weights = astype(predicted + actual > 0, np.float64) if average == "macro" else actual
    total = float(sum(weights))
    return tuple(float(sum(s * weights)) / total if total else 0.0 for s in scores)


def _classification(y_true, y_pred, average, pos_label, num_classes, threshold):
    return _scores(confusion_matrix(y_true, y_pred, num_classes, threshold), average, pos_label)


_AVERAGE_DOC = """average: "binary" (class ``pos_label`` only; labels must be 0/1), "micro" (from the summed
    counts; equals accuracy for single-label data), "macro" (unweighted mean over the classes present in
    y_true or y_pred), "weighted" (mean weighted by support), or None (a float64 tensor per class). A
    zero denominator gives 0."""


def precision(y_true, y_pred, average="binary", pos_label=1, num_classes=None, threshold=0.5):
    return _classification(y_true, y_pred, average, pos_label, num_classes, threshold)[0]


def recall(y_true, y_pred, average="binary", pos_label=1, num_classes=None, threshold=0.5):
    return _classification(y_true, y_pred, average, pos_label, num_classes, threshold)[1]


def f1(y_true, y_pred, average="binary", pos_label=1, num_classes=None, threshold=0.5):
    return _classification(y_true, y_pred, average, pos_label, num_classes, threshold)[2]


precision.__doc__ = "Precision tp / (tp + fp): the fraction of predicted positives that are right.\n    " + _AVERAGE_DOC
recall.__doc__ = "Recall tp / (tp + fn): the fraction of actual positives found.\n    " + _AVERAGE_DOC
f1.__doc__ = "F1 = 2 P R / (P + R) = 2 tp / (2 tp + fp + fn).\n    " + _AVERAGE_DOC


# ---------------------------------------------------------------- regression

def _float_pair(y_true, y_pred):
    y_true, y_pred = _same_shape(y_true, y_pred)
    return astype(y_true, np.float64), astype(y_pred, np.float64)


def mean_squared_error(y_true, y_pred):
    """MSE = mean((y_true - y_pred)^2) over all elements (accumulated in float64)."""
    t, p = _float_pair(y_true, y_pred)
    return float(sum(square(t - p))) / t.size if t.size else 0.0


def mean_absolute_error(y_true, y_pred):
    """MAE = mean(|y_true - y_pred|) over all elements (accumulated in float64)."""
    t, p = _float_pair(y_true, y_pred)
    return float(sum(abs(t - p))) / t.size if t.size else 0.0


def _r2(n, sum_t, sum_t2, ss_res):
    """R^2 = 1 - SS_res / SS_tot per output (SS_tot = sum t^2 - (sum t)^2 / n), averaged over outputs; an
    output with SS_tot = 0 scores 1 if SS_res = 0 else 0 (scikit-learn's force_finite); NaN for n < 2."""
    if n < 2:
        return float("nan")
    ss_tot = sum_t2 - square(sum_t) / n
    per_output = where(ss_tot > 0, 1 - ss_res / where(ss_tot > 0, ss_tot, 1), where(ss_res == 0, 1.0, 0.0))
    return float(sum(per_output)) / per_output.size


def _r2_sums(y_true, y_pred):
    """n and per-output (sum t, sum t^2, sum (t - p)^2) for outputs along the last axis of 2-d data."""
    t, p = _float_pair(y_true, y_pred)
    if t.ndim > 2:
        raise ValueError(f"r2_score expects 1-d or 2-d (n_samples, n_outputs) data, got shape {t.shape}")
    if t.ndim < 2:
        t, p = reshape(t, (-1, 1)), reshape(p, (-1, 1))
    return t.shape[0], sum(t, axis=0), sum(square(t), axis=0), sum(square(t - p), axis=0)


def r2_score(y_true, y_pred):
    """Coefficient of determination R^2 = 1 - sum (t - p)^2 / sum (t - mean t)^2, per output column and
    averaged uniformly (scikit-learn's default); NaN with fewer than two samples."""
    return _r2(*_r2_sums(y_true, y_pred))


# ---------------------------------------------------------------- streaming metrics

class Metric:
    """A metric accumulated over batches: ``update_state(y_true, y_pred)`` adds a batch, ``result()`` is
    the value so far (a Python float), ``reset_state()`` starts over; calling it updates and returns the
    result."""
    default_name = "metric"

    def __init__(self, name=None):
        self.name = name or self.default_name
        self.reset_state()

    def reset_state(self):
        raise NotImplementedError

    def update_state(self, y_true, y_pred):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} result={self.result():.6g}>"


class Mean(Metric):
    """The (weighted) mean of the values given to ``update_state(values, sample_weight=None)`` (losses)."""
    default_name = "mean"

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None):
        values = astype(as_tensor(values), np.float64)
        if sample_weight is None:
            self.total += float(sum(values))
            self.count += values.size
        else:
            weight = astype(as_tensor(sample_weight), np.float64) + values * 0  # broadcast to values' shape
            self.total += float(sum(values * weight))
            self.count += float(sum(weight))

    def result(self):
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred)`` over all samples seen: per-sample values are averaged; a scalar
    per batch counts once for each sample of the batch."""

    def __init__(self, fn, name=None):
        self.fn = fn
        super().__init__(name or getattr(fn, "__name__", "metric"))

    def update_state(self, y_true, y_pred):
        value = as_tensor(self.fn(y_true, y_pred))
        if value.ndim:
            super().update_state(value)
        else:
            y_true = as_tensor(y_true)
            n = y_true.shape[0] if y_true.ndim else 1
            super().update_state(value, sample_weight=n)


class Accuracy(Metric):
    """Running accuracy; ``kind`` and ``threshold`` as in ``accuracy`` (None: chosen per batch from the
    shapes and dtypes, as Keras's "accuracy")."""
    default_name = "accuracy"
    kind = None

    def __init__(self, name=None, kind=None, threshold=0.5):
        if kind is not None:
            if kind not in _ACCURACY_KINDS:
                raise ValueError(f"accuracy kind must be one of {_ACCURACY_KINDS} or None, got {kind!r}")
            self.kind = kind
        self.threshold = threshold
        super().__init__(name)

    def reset_state(self):
        self.correct, self.count = 0, 0

    def update_state(self, y_true, y_pred):
        c = _correct(y_true, y_pred, self.kind, self.threshold)
        self.correct += int(sum(c))
        self.count += c.size

    def result(self):
        return self.correct / self.count if self.count else 0.0


class BinaryAccuracy(Accuracy):
    """Running ``mean(y_true == (y_pred > threshold))``."""
    default_name, kind = "binary_accuracy", "binary"


class CategoricalAccuracy(Accuracy):
    """Running ``mean(argmax y_true == argmax y_pred)`` for one-hot y_true."""
    default_name, kind = "categorical_accuracy", "categorical"


class SparseCategoricalAccuracy(Accuracy):
    """Running ``mean(y_true == argmax y_pred)`` for integer labels."""
    default_name, kind = "sparse_categorical_accuracy", "sparse"


class _ConfusionMetric(Metric):
    """Accumulates the confusion matrix (growing it when larger labels appear unless num_classes is
    fixed) and scores it like ``precision``/``recall``/``f1``."""
    score = 0

    def __init__(self, name=None, average="binary", pos_label=1, num_classes=None, threshold=0.5):
        if average not in _AVERAGES[:-1]:
            raise ValueError(f"average must be one of {list(_AVERAGES[:-1])}, got {average!r}")
        _check_num_classes(num_classes)
        self.average, self.pos_label, self.threshold = average, pos_label, threshold
        self.num_classes = num_classes
        super().__init__(name)

    def reset_state(self):
        self.matrix = zeros((self.num_classes or 0,) * 2, dtype=np.int64)

    def update_state(self, y_true, y_pred):
        t, p = _labels(y_true), _labels(y_pred, self.threshold)
        cm = _confusion(t, p, self.num_classes or max(_label_range(t, p)[1] + 1, self.matrix.shape[0]))
        grow = cm.shape[0] - self.matrix.shape[0]
        self.matrix = (pad(self.matrix, ((0, grow), (0, grow))) if grow else self.matrix) + cm

    def result(self):
        if self.matrix.shape[0] == 0:
            return 0.0
        return _scores(self.matrix, self.average, self.pos_label)[self.score]


class Precision(_ConfusionMetric):
    """Running precision tp / (tp + fp) (``average`` as in ``precision``)."""
    default_name, score = "precision", 0


class Recall(_ConfusionMetric):
    """Running recall tp / (tp + fn) (``average`` as in ``recall``)."""
    default_name, score = "recall", 1


class F1Score(_ConfusionMetric):
    """Running F1 = 2 tp / (2 tp + fp + fn) (``average`` as in ``f1``)."""
    default_name, score = "f1_score", 2


class MeanSquaredError(Mean):
    """Running mean of (y_true - y_pred)^2 over all elements."""
    default_name = "mean_squared_error"

    def update_state(self, y_true, y_pred):
        t, p = _float_pair(y_true, y_pred)
        super().update_state(square(t - p))


class MeanAbsoluteError(Mean):
    """Running mean of |y_true - y_pred| over all elements."""
    default_name = "mean_absolute_error"

    def update_state(self, y_true, y_pred):
        t, p = _float_pair(y_true, y_pred)
        super().update_state(abs(t - p))


class R2Score(Metric):
    """Running R^2 from per-output sums (n, sum t, sum t^2, sum (t - p)^2), uniform over outputs."""
    default_name = "r2_score"

    def reset_state(self):
        self.sums = None

    def update_state(self, y_true, y_pred):
        sums = _r2_sums(y_true, y_pred)
        if self.sums is not None and self.sums[1].shape != sums[1].shape:
            raise ValueError(f"R2Score: {sums[1].shape[0]} outputs in this batch, {self.sums[1].shape[0]} before")
        self.sums = sums if self.sums is None else tuple(a + b for a, b in zip(self.sums, sums))

    def result(self):
        return _r2(*self.sums) if self.sums is not None else 0.0


_REGISTRY = {
    "accuracy": Accuracy, "acc": Accuracy,
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "precision": Precision, "recall": Recall, "f1": F1Score, "f1_score": F1Score,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "r2": R2Score, "r2_score": R2Score, "mean": Mean,
}


def get(identifier):
    """A new Metric for a Keras name ("accuracy"/"acc", "mse", "mae", "precision", "recall", "f1", ...;
    named as given), a Metric class, or a function ``fn(y_true, y_pred)`` (wrapped in MeanMetricWrapper);
    a Metric instance is returned as is."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        cls = _REGISTRY.get(identifier.lower())
        if cls is None:
            raise ValueError(f"unknown metric {identifier!r}; known names: {', '.join(sorted(_REGISTRY))}")
        return cls(name=identifier)
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise TypeError(f"a metric must be a name, a Metric or a function, got {type(identifier).__name__}")
