"""``DataLoader``: batches of a dataset, optionally shuffled by a fusednn.random generator. For a
``TensorDataset`` each batch is one gather per tensor (``t[indices]``, the C++ gather) or, unshuffled, a
zero-copy slice; other datasets are read sample by sample and combined by ``default_collate``."""
import numbers
import operator

import numpy as np

from .. import random as _random
from ..creation import tensor
from ..shape import stack
from .._tensor import Tensor
from .dataset import TensorDataset


def default_collate(samples):
    """Combine a list of samples into a batch: tensors/arrays are stacked along a new first axis, Python
    numbers become a 1-d tensor (float32 for floats, int64 for ints), tuples/lists and dicts are collated field by field, anything else
    (strings, ...) is returned as a list."""
    first = samples[0]
    if isinstance(first, (Tensor, np.ndarray)):
        return stack(samples)
    if isinstance(first, (numbers.Number, np.generic)):
        return tensor(samples)
    if isinstance(first, dict):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in samples):
            raise ValueError("default_collate: samples have different numbers of fields")
        fields = [default_collate(list(field)) for field in zip(*samples)]
        return type(first)(*fields) if hasattr(first, "_fields") else type(first)(fields)
    return list(samples)


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` samples.

    shuffle: a new random order every epoch, drawn from ``generator`` (a ``fusednn.random.Generator``),
    or from a private generator seeded with ``seed`` (the sequence of epochs is then reproducible), or
    from the global generator (``fnn.random.seed`` makes it reproducible). drop_last drops a final
    incomplete batch. ``len(loader)`` is the number of batches per epoch.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None, seed=None,
                 generator=None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if seed is not None and generator is not None:
            raise ValueError("DataLoader: give seed or generator, not both")
        self.dataset = dataset
        self.batch_size = operator.index(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.generator = generator if generator is not None else (
            _random.Generator(seed) if seed is not None else _random._global)

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _bounds(self):
        n, b = len(self.dataset), self.batch_size
        stop = n - n % b if self.drop_last else n
        return [(start, min(start + b, n)) for start in range(0, stop, b)]

    def __iter__(self):
        order = self.generator.permutation(len(self.dataset)) if self.shuffle else None
        if isinstance(self.dataset, TensorDataset) and self.collate_fn is None:
            yield from self._tensor_batches(order)
            return
        collate = self.collate_fn or default_collate
        order = order.tolist() if order is not None else None
        for start, stop in self._bounds():
            indices = order[start:stop] if order is not None else range(start, stop)
            yield collate([self.dataset[i] for i in indices])

    def _tensor_batches(self, order):
        tensors = self.dataset.tensors
        for start, stop in self._bounds():
            index = order[start:stop] if order is not None else slice(start, stop)
            yield tuple(t[index] for t in tensors)
