"""Splitting data: ``train_test_split`` (scikit-learn's size rules, optional stratification), ``KFold`` and
``StratifiedKFold`` index generators, and ``cross_validate`` for Keras-style models (fit/evaluate).
Index sets are int64 tensors drawn with fusednn.random; rows are gathered with the C++ gather."""
import math
import numbers
import operator
import warnings

import numpy as np

from .. import random as _random
from ..creation import arange, empty, full
from ..elementwise import where
from ..indexing import flatnonzero
from ..reduce import argmax, mean, std
from ..shape import concatenate
from .dataset import as_tensor


def _rng(random_state):
    """None: the global generator (``fnn.random.seed`` makes splits reproducible); an int: a fresh
    generator with that seed; a Generator: itself."""
    return _random._global if random_state is None else _random.default_rng(random_state)


def _num_samples(arrays):
    lengths = [(a.shape[0] if a.ndim else None) if hasattr(a, "ndim") else len(a) for a in arrays]
    if None in lengths:
        raise ValueError("expected arrays with at least one dimension, got a 0-d one")
    if len(set(lengths)) > 1:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: {lengths}")
    return lengths[0]


def _encode_labels(y):
    """Class codes 0..C-1 (int64 tensor) in order of first appearance, and C. Labels may be any values
    NumPy can compare (strings too), so they are encoded at the NumPy boundary; one-hot rows are
    decoded by argmax first."""
    if isinstance(y, (list, tuple)):
        y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        y = argmax(y, axis=1)
    values = np.asarray(y).reshape(-1) if y.ndim <= 1 or y.shape[1:] == (1,) else None
    if values is None:
        raise ValueError(f"class labels must be 1-d (or one-hot 2-d), got shape {y.shape}")
    _, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return as_tensor(order[inverse].astype(np.int64)), len(first)


def _class_members(codes, n_classes):
    return [flatnonzero(codes == c) for c in range(n_classes)]


def _size_kind(size, name):
    if size is None:
        return None
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        return "i"
    if isinstance(size, numbers.Real) and not isinstance(size, bool):
        return "f"
    raise ValueError(f"Invalid value for {name}: {size!r}")


def _split_sizes(n, test_size, train_size):
    """(n_train, n_test) by scikit-learn's rules: a float is a fraction (test rounded up, train down), an
    int a count, None the complement of the other (test 0.25 when both are None)."""
    if test_size is None and train_size is None:
        test_size = 0.25
    kinds = {}
    for name, size in (("test_size", test_size), ("train_size", train_size)):
        kind = kinds[name] = _size_kind(size, name)
        if (kind == "i" and not 0 < size < n) or (kind == "f" and not 0 < size < 1):
            bound = f"a positive integer smaller than the number of samples {n}" if kind == "i" else \
                "a float in the (0, 1) range"
            raise ValueError(f"{name}={size!r} should be either {bound}")
    if kinds["test_size"] == kinds["train_size"] == "f" and train_size + test_size > 1:
        raise ValueError(f"The sum of test_size and train_size = {train_size + test_size}, should be in the "
                         f"(0, 1) range. Reduce test_size and/or train_size.")
    n_test = math.ceil(test_size * n) if kinds["test_size"] == "f" else test_size
    n_train = math.floor(train_size * n) if kinds["train_size"] == "f" else train_size
    if train_size is None:
        n_train = n - n_test
    elif test_size is None:
        n_test = n - n_train
    if n_train + n_test > n:
        raise ValueError(f"The sum of train_size and test_size = {n_train + n_test}, should be smaller than the "
                         f"number of samples {n}. Reduce test_size and/or train_size.")
    if n_train == 0:
        raise ValueError(f"With n_samples={n}, test_size={test_size} and train_size={train_size}, the resulting "
                         f"train set will be empty. Adjust any of the aforementioned parameters.")
    return int(n_train), int(n_test)


def _apportion(total, counts):
    """Split ``total`` over classes proportionally to ``counts`` (largest remainders, exact integers)."""
    whole = sum(counts)
    shares = [divmod(total * c, whole) for c in counts]
    result = [q for q, _ in shares]
    by_remainder = sorted(range(len(counts)), key=lambda i: -shares[i][1])
    for i in by_remainder[:total - sum(result)]:
        result[i] += 1
    return result


def _stratified_indices(stratify, n, n_train, n_test, rng):
    codes, n_classes = _encode_labels(stratify)
    if codes.shape[0] != n:
        raise ValueError(f"stratify has {codes.shape[0]} labels for {n} samples")
    members = _class_members(codes, n_classes)
    counts = [m.shape[0] for m in members]
    if min(counts) < 2:
        raise ValueError("The least populated class in y has only 1 member, which is too few. The minimum "
                         "number of groups for any class cannot be less than 2.")
    for name, size in (("train", n_train), ("test", n_test)):
        if size < n_classes:
            raise ValueError(f"The {name}_size = {size} should be greater or equal to the number of classes = "
                             f"{n_classes}")
    test_counts = _apportion(n_test, counts)
    train_counts = _apportion(n_train, [c - t for c, t in zip(counts, test_counts)])
    train, test = [], []
    for m, n_c, t_c, a_c in zip(members, counts, test_counts, train_counts):
        m = m[rng.permutation(n_c)]
        test.append(m[:t_c])
        train.append(m[t_c:t_c + a_c])
    train, test = concatenate(train), concatenate(test)
    return train[rng.permutation(n_train)], test[rng.permutation(n_test)]


def train_test_split(*arrays, test_size=None, train_size=None, shuffle=True, stratify=None, random_state=None):
    """Split arrays (Tensors, NumPy arrays or lists with the same first dimension) into random train and
    test parts: returns ``[a_train, a_test, b_train, b_test, ...]`` as fusednn Tensors.

    Sizes follow scikit-learn: a float is a fraction of the samples (the test part rounds up), an int a
    count, None the complement of the other; test_size defaults to 0.25. ``stratify`` (class labels)
    keeps each class's proportion in both parts. shuffle=False takes the first n_train rows for train
    and the next n_test for test (as views of the inputs).
    """
    if not arrays:
        raise ValueError("At least one array required as input")
    tensors = [as_tensor(a) for a in arrays]
    n = _num_samples(tensors)
    n_train, n_test = _split_sizes(n, test_size, train_size)
    if not shuffle:
        if stratify is not None:
            raise ValueError("Stratified train/test split is not implemented for shuffle=False")
        train, test = slice(0, n_train), slice(n_train, n_train + n_test)
    elif stratify is not None:
        train, test = _stratified_indices(stratify, n, n_train, n_test, _rng(random_state))
    else:
        order = _rng(random_state).permutation(n)
        test, train = order[:n_test], order[n_test:n_test + n_train]
    return [part for t in tensors for part in (t[train], t[test])]


class KFold:
    """K consecutive folds (shuffled first with shuffle=True); each fold is the test set once.
    ``split(X)`` yields ``(train_index, test_index)`` int64 tensors, both in increasing order. The first
    ``n % n_splits`` folds have one sample more than the others, as in scikit-learn."""

    def __init__(self, n_splits=5, shuffle=False, random_state=None):
        if isinstance(n_splits, bool) or not isinstance(n_splits, numbers.Integral) or n_splits < 2:
            raise ValueError(f"k-fold cross-validation requires at least one train/test split by setting "
                             f"n_splits=2 or more, got n_splits={n_splits!r}")
        if not shuffle and random_state is not None:
            raise ValueError("Setting a random_state has no effect since shuffle is False. You should leave "
                             "random_state to its default (None), or set shuffle=True.")
        self.n_splits = operator.index(n_splits)
        self.shuffle = bool(shuffle)
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None):
        return self.n_splits

    def split(self, X, y=None):
        n = _num_samples([X] if y is None else [X, y])
        if self.n_splits > n:
            raise ValueError(f"Cannot have number of splits n_splits={self.n_splits} greater than the number "
                             f"of samples: n_samples={n}.")
        folds = self._fold_ids(n, y)
        for i in range(self.n_splits):
            in_fold = folds == i
            yield flatnonzero(~in_fold), flatnonzero(in_fold)

    def _fold_ids(self, n, y):
        """The fold of each sample: position p of the (shuffled) order goes to fold p // (q + 1) among the
        first r = n % k folds of q + 1 samples, then to r + (p - r (q + 1)) // q."""
        q, r = divmod(n, self.n_splits)
        pos = arange(n)
        head = r * (q + 1)
        fold_of_pos = where(pos < head, pos // (q + 1), r + (pos - head) // q)
        if not self.shuffle:
            return fold_of_pos
        folds = empty(n, dtype=np.int64)
        folds[_rng(self.random_state).permutation(n)] = fold_of_pos
        return folds


class StratifiedKFold(KFold):
    """K folds that keep each class's proportion (scikit-learn's allocation: with shuffle=False the folds
    are the same as ``sklearn.model_selection.StratifiedKFold``). ``split(X, y)`` yields
    ``(train_index, test_index)`` int64 tensors."""

    def split(self, X, y):
        return super().split(X, y)

    def _fold_ids(self, n, y):
        codes, n_classes = _encode_labels(y)
        members = _class_members(codes, n_classes)
        counts = [m.shape[0] for m in members]
        k = self.n_splits
        if all(k > c for c in counts):
            raise ValueError(f"n_splits={k} cannot be greater than the number of members in each class.")
        if k > min(counts):
            warnings.warn(f"The least populated class in y has only {min(counts)} members, which is less than "
                          f"n_splits={k}.", UserWarning, stacklevel=3)
        rng = _rng(self.random_state) if self.shuffle else None
        folds = empty(n, dtype=np.int64)
        start = 0
        for m, count in zip(members, counts):
            # Sorted by class, sample j of the whole sequence falls in fold j % k: this class's share of
            # each fold; its members fill the folds in order (shuffled with shuffle=True).
            shares = [len(range(start + (i - start) % k, start + count, k)) for i in range(k)]
            fold_of_member = concatenate([full(s, i, dtype=np.int64) for i, s in enumerate(shares)])
            folds[m] = fold_of_member[rng.permutation(count)] if rng is not None else fold_of_member
            start += count
        return folds


def _named_metrics(model, result):
    """evaluate()'s result as {name: float}: a dict as is, a scalar as the loss, a list named by
    ``model.metrics_names`` (Keras) or as loss, metric_1, ..."""
    if isinstance(result, dict):
        return {str(k): float(v) for k, v in result.items()}
    if isinstance(result, (list, tuple)):
        names = list(getattr(model, "metrics_names", None) or [])
        if len(names) != len(result):
            names = ["loss"] + [f"metric_{i}" for i in range(1, len(result))]
        return {name: float(v) for name, v in zip(names, result)}
    return {"loss": float(result)}


def cross_validate(build_model, x, y, k=5, shuffle=True, stratified=False, random_state=None, **fit_kwargs):
    """K-fold cross-validation of a Keras-style model: for each fold, ``model = build_model()`` (a fresh
    compiled model), ``model.fit(x_train, y_train, verbose=0, **fit_kwargs)`` and
    ``model.evaluate(x_val, y_val, verbose=0)``.

    Returns ``{"folds": [{metric: value}, ...], "mean": {metric: mean}, "std": {metric: std}}`` (std with
    ddof=0). ``stratified=True`` uses StratifiedKFold on ``y``.
    """
    x, y = as_tensor(x), as_tensor(y)
    splitter = (StratifiedKFold if stratified else KFold)(k, shuffle, random_state if shuffle else None)
    folds = []
    for train, test in splitter.split(x, y):
        model = build_model()
        model.fit(x[train], y[train], verbose=0, **fit_kwargs)
        folds.append(_named_metrics(model, model.evaluate(x[test], y[test], verbose=0)))
    names = [name for name in folds[0] if all(name in f for f in folds)]
    values = {name: as_tensor(np.array([f[name] for f in folds], dtype=np.float64)) for name in names}
    return {"folds": folds,
            "mean": {name: float(mean(v)) for name, v in values.items()},
            "std": {name: float(std(v)) for name, v in values.items()}}
