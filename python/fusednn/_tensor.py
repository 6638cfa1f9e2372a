"""The Tensor type (defined in C++) and the registries through which each family module gives it
methods and answers NumPy's ``__array_function__`` and ``__array_ufunc__`` protocols.

A family module registers each public function once::

    @implements(np.exp, ufunc="exp")
    def exp(x): ...

and attaches Tensor methods with ``@method`` (or ``method("name")``).
"""
import numpy as np

from . import _C

Tensor = _C.Tensor

_numpy_functions = {}      # NumPy function object -> fusednn implementation
_numpy_ufuncs = {}         # ufunc name -> fusednn implementation
_numpy_ufunc_reduce = {}   # ufunc name -> fusednn reduction f(x, axis=..., keepdims=...)


def implements(*numpy_functions, ufunc=None, reduce_of=None):
    """Register the decorated function as fusednn's version of these NumPy functions (for
    ``__array_function__``), of a ufunc by name (``__array_ufunc__``), and as the ``reduce`` method of
    a ufunc (``np.add.reduce`` -> sum)."""
    def register(fn):
        for f in numpy_functions:
            _numpy_functions[f] = fn
        if ufunc is not None:
            _numpy_ufuncs[ufunc] = fn
        if reduce_of is not None:
            _numpy_ufunc_reduce[reduce_of] = fn
        return fn
    return register


def method(*names):
    """Attach the decorated function to Tensor under its own name, or under each of ``names``."""
    def attach(fn):
        for name in names or (fn.__name__,):
            setattr(Tensor, name, fn)
        return fn
    if len(names) == 1 and callable(names[0]):  # used bare: @method
        fn, names = names[0], ()
        return attach(fn)
    return attach


def _array_function(self, func, types, args, kwargs):
    impl = _numpy_functions.get(func)
    if impl is None:
        raise TypeError(f"fusednn does not implement {func.__module__}.{func.__name__}; "
                        f"convert with np.asarray(tensor) to use NumPy's version")
    if not all(issubclass(t, (Tensor, np.ndarray)) for t in types):
        return NotImplemented
    return impl(*args, **kwargs)


def _array_ufunc(self, ufunc, method_name, *inputs, **kwargs):
    out = kwargs.pop("out", None)
    if method_name == "__call__":
        impl = _numpy_ufuncs.get(ufunc.__name__)
        call = lambda: impl(*inputs, **kwargs)
    elif method_name == "reduce":
        impl = _numpy_ufunc_reduce.get(ufunc.__name__)
        kwargs.setdefault("axis", 0)
        call = lambda: impl(*inputs, **kwargs)
    else:
        impl = None
    if impl is None:
        suffix = "" if method_name == "__call__" else f".{method_name}"
        raise TypeError(f"fusednn does not implement numpy.{ufunc.__name__}{suffix}; "
                        f"convert with np.asarray(tensor) to use NumPy's version")
    result = call()
    if out is None:
        return result
    target = out[0] if isinstance(out, tuple) else out
    target[...] = result
    return target


def as_tensor(a):
    """a itself when it is a Tensor (on any device), else a new CPU tensor from the array-like."""
    return a if isinstance(a, Tensor) else _C._to_tensor(a)


def host_array(t):
    """t's values as a NumPy array: a zero-copy view of a host tensor; for a tensor on a CUDA device, a host
    copy, which waits for the device's queued work (as torch's printing and ``.item()`` do). For the
    value-reading methods below and file writers; ``np.asarray(device_tensor)`` itself keeps raising
    TypeError, so that NumPy code never copies device memory behind the user's back."""
    return np.asarray(t if t.device == "cpu" else _C._to_device(t, "cpu"))


def _repr(self):
    """Like NumPy's repr, with "tensor(" and the dtype shown only when it is not a default one; a device
    tensor ends with its device (``device='cuda:0'``), as in torch."""
    body = np.array2string(host_array(self), separator=", ", prefix="tensor(")
    extras = []
    if self.size == 0 and self.ndim != 1:
        extras.append(f"shape={self.shape}")
    if self.size == 0 or self.dtype not in (np.float32, np.int64, np.bool_):
        extras.append(f"dtype={self.dtype}")
    if self.device != "cpu":
        extras.append(f"device='{self.device}'")
    return "tensor(" + ", ".join([body] + extras) + ")"


def _str(self):
    return np.array2string(host_array(self))


def _format(self, spec):
    """``f"{t:.4f}"`` formats a 0-d tensor's value; other tensors accept only the empty spec (str(t))."""
    if self.ndim == 0 and spec:
        return format(_one_element(self, "scalar"), spec)
    return object.__format__(self, spec)


def _one_element(self, kind):
    if self.size != 1:
        raise ValueError(f"only a tensor with one element can be converted to a Python {kind}; "
                         f"this one has shape {self.shape}")
    return host_array(self).reshape(()).item()


def _bool(self):
    if self.size != 1:
        raise ValueError("The truth value of a tensor with more than one element is ambiguous. "
                         "Use a.any() or a.all()")
    return bool(_one_element(self, "bool"))


def _index(self):
    if self.ndim != 0 or self.dtype.kind not in "iub":
        raise TypeError("only integer scalar tensors can be converted to a scalar index")
    return int(_one_element(self, "int"))


def _item(self, *index):
    """The element at ``index`` (or the only element) as a Python scalar (a device tensor with an index is
    copied to the host whole)."""
    if index:
        return host_array(self).item(*index)
    return _one_element(self, "scalar")


def _iter(self):
    """The sub-tensors along axis 0: views, on this tensor's device (as torch's)."""
    if self.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    for i in range(self.shape[0]):
        yield self[i]


def _reduce(self):
    """Pickling (and copy.deepcopy) keeps the device: the values travel as a host copy."""
    if self.device == "cpu":
        return (_C.from_numpy, (np.array(self),))
    return (_C._to_device, (_C._to_device(self, "cpu"), self.device))


for _name, _fn in {
    "__array_function__": _array_function,
    "__array_ufunc__": _array_ufunc,
    "__array_priority__": 100,
    "__repr__": _repr,
    "__str__": _str,
    "__format__": _format,
    "__bool__": _bool,
    "__float__": lambda self: float(_one_element(self, "float")),
    "__int__": lambda self: int(_one_element(self, "int")),
    "__index__": _index,
    "__iter__": _iter,
    "__reduce__": _reduce,
    "__hash__": object.__hash__,
    "item": _item,
    "tolist": lambda self: host_array(self).tolist(),
}.items():
    setattr(Tensor, _name, _fn)
