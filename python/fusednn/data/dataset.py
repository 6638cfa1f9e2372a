"""Datasets: the abstract ``Dataset`` (``__len__`` + ``__getitem__``), ``TensorDataset`` over tensors that
share their first dimension, and ``Subset`` (a dataset restricted to some indices)."""
import operator

from .. import _C
from .._tensor import Tensor


class Dataset:
    """A map-style dataset: ``len(ds)`` samples, ``ds[i]`` the i-th one. Subclasses define both."""

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


def as_tensor(x):
    """A fusednn Tensor for a Tensor (itself), a NumPy array (zero-copy) or a nested list."""
    return x if isinstance(x, Tensor) else _C._asarray(x, None, None)


class TensorDataset(Dataset):
    """Samples ``(t0[i], t1[i], ...)`` of tensors (or NumPy arrays, converted zero-copy) that share their
    first dimension. ``ds[index_tensor]`` gathers a whole batch of every tensor at once."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        self.tensors = tuple(as_tensor(t) for t in tensors)
        for t in self.tensors:
            if t.ndim == 0:
                raise ValueError("TensorDataset: tensors must have at least one dimension, got a 0-d one")
        lengths = [t.shape[0] for t in self.tensors]
        if len(set(lengths)) > 1:
            raise ValueError(f"TensorDataset: tensors must have the same first dimension, got lengths {lengths}")

    def __len__(self):
        return self.tensors[0].shape[0]

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices`` (a sequence of ints or an int tensor), in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = [operator.index(i) for i in (indices.tolist() if hasattr(indices, "tolist") else indices)]

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[self.indices[index]]
