"""``Module`` (the base of every layer and model) and ``Parameter`` (a Tensor that a Module trains).

Assigning a Parameter, a Module or (through ``register_buffer``) a buffer to a Module attribute registers
it, as in PyTorch; the value also lives in the instance ``__dict__`` so attribute reads stay plain
dictionary hits (per-call overhead matters for small models).
"""
import collections

import numpy as np

from .. import _C
from .._tensor import Tensor
from ..autograd import no_grad
from ..cuda import _device_name, _to_arguments


class Parameter(Tensor):
    """A tensor that a Module owns and trains: ``requires_grad`` is True unless said otherwise.
    ``Parameter(data)`` views ``data`` (a Tensor or NumPy array) without copying."""

    def __init__(self, data, requires_grad=True):
        super().__init__(data)
        if requires_grad and self.dtype.kind != "f":
            raise TypeError(f"only floating-point parameters can require gradients, not {self.dtype}")
        self.requires_grad = bool(requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + Tensor.__repr__(self)


_IncompatibleKeys = collections.namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of layers and models: subclasses set their parameters and sub-modules as attributes in
    ``__init__`` (after ``super().__init__()``) and define ``forward``. ``module(x)`` calls ``forward``."""

    def __init__(self):
        d = self.__dict__
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent"] = set()
        d["_modules"] = {}
        d["training"] = True

    # ---- registration ----
    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, (Parameter, Module)) and params is None:
            raise AttributeError(f"cannot assign {type(value).__name__} '{name}' before Module.__init__() call")
        if params is not None:
            if isinstance(value, Parameter):
                self._forget(name)
                params[name] = value
            elif isinstance(value, Module):
                self._forget(name)
                d["_modules"][name] = value
            elif name in params:
                if value is not None:
                    raise TypeError(f"cannot assign {type(value).__name__} as parameter '{name}' "
                                    f"(a Parameter or None is required)")
                params[name] = None
            elif name in d["_modules"]:
                if value is not None:
                    raise TypeError(f"cannot assign {type(value).__name__} as child module '{name}'")
                d["_modules"][name] = None
            elif name in d["_buffers"]:
                if value is not None and not isinstance(value, Tensor):
                    raise TypeError(f"cannot assign {type(value).__name__} as buffer '{name}' (a Tensor or None)")
                d["_buffers"][name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._forget(name)
        object.__delattr__(self, name)

    def _forget(self, name):
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            d[registry].pop(name, None)
        d["_non_persistent"].discard(name)

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter or None) as ``self.<name>``."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: '{name}' must be a Parameter or None, not {type(param).__name__}")
        self._forget(name)
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """A tensor the module keeps but does not train (running statistics): in ``state_dict`` unless
        ``persistent=False``, cast by ``to``, never returned by ``parameters()``."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: '{name}' must be a Tensor or None, not {type(tensor).__name__}")
        self._forget(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)
        object.__setattr__(self, name, tensor)

    def add_module(self, name, module):
        """Register ``module`` as the child ``self.<name>``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: '{name}' must be a Module or None, not {type(module).__name__}")
        self._forget(name)
        self._modules[name] = module
        object.__setattr__(self, name, module)

    register_module = add_module

    # ---- calling ----
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ---- traversal ----
    def named_modules(self, memo=None, prefix=""):
        """(name, module) for self and every descendant, each module once."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, registry, prefix, recurse):
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in module.__dict__[registry].items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix="", recurse=True):
        """(dotted name, Parameter) over self and its descendants; a shared parameter appears once."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True):
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ---- modes and gradients ----
    def train(self, mode=True):
        """Training mode (dropout drops, batch norm uses batch statistics) for self and descendants."""
        for m in self.modules():
            m.__dict__["training"] = bool(mode)
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Drop (or zero) every parameter's gradient."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                _C.fill(p.grad, 0)

    def requires_grad_(self, requires_grad=True):
        """Freeze (False) or unfreeze every parameter; frozen ones still appear in ``parameters()``."""
        for p in self.parameters():
            p.requires_grad = bool(requires_grad)
        return self

    @property
    def trainable(self):
        """Keras' flag: whether any parameter is trained; setting it freezes or unfreezes them all."""
        return any(p.requires_grad for p in self.parameters())

    @trainable.setter
    def trainable(self, value):
        self.requires_grad_(bool(value))

    def num_parameters(self, trainable_only=False):
        """Number of parameter elements (shared parameters counted once)."""
        return sum(p.size for p in self.parameters() if p.requires_grad or not trainable_only)

    def count_params(self):
        """Keras' name for ``num_parameters()``."""
        return self.num_parameters()

    def regularization_loss(self):
        """Sum of every layer's ``kernel_regularizer(weight)`` (0.0 when no layer has one): add it to
        the loss to train with weight penalties."""
        total = 0.0
        for m in self.modules():
            reg = m.__dict__.get("kernel_regularizer")
            weight = m.__dict__.get("weight")
            if reg is not None and weight is not None:
                total = total + reg(weight)
        return total

    # ---- device and dtype ----
    def to(self, *args, device=None, dtype=None):
        """Move and/or cast every parameter and buffer IN PLACE: ``to(device)``, ``to(dtype)``,
        ``to(device, dtype)``, keywords, or ``to(tensor)`` (its device and dtype). Devices: "cpu", "cuda",
        "cuda:N" or an index; the dtype applies to floating parameters and buffers only. The tensor objects
        stay the same (``_C._set_data`` gives them the new memory), so references to them and an optimizer
        made earlier stay valid (it moves its state at its next step); gradients move and cast with their
        parameters. Every tensor is converted before any is changed: on an error (no usable CUDA device, a
        non-floating dtype) the model is left as it was. Returns self."""
        device, dtype = _to_arguments(args, device, dtype)
        if dtype is not None:
            dtype = np.dtype(dtype)
            if dtype.kind != "f":
                raise TypeError(f"Module.to: expected a floating dtype, got {dtype}")
        if device is not None:
            device = _device_name(device)
            if device != "cpu":  # RuntimeError naming the problem (no CUDA build, no device), even for no tensors
                _C._full((), 0, np.float32, device)
        tensors = {}  # id -> tensor: shared parameters, buffers and gradients are converted once
        for m in self.modules():
            for registry in (m._parameters, m._buffers):
                for t in registry.values():
                    if t is not None:
                        tensors[id(t)] = t
                        if isinstance(t.grad, Tensor):
                            tensors[id(t.grad)] = t.grad
        with no_grad():
            converted = [(t, t.to(device=device, dtype=dtype if t.dtype.kind == "f" else None))
                         for t in tensors.values()]
        for t, new in converted:
            if new is not t:
                _C._set_data(t, new)
        return self

    def cuda(self, device=None):
        """``to`` a CUDA device (device 0 unless given), in place."""
        return self.to("cuda" if device is None else device)

    def cpu(self):
        """``to`` the host, in place."""
        return self.to("cpu")

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    # ---- state ----
    def state_dict(self, prefix=""):
        """Ordered {dotted name: tensor} of parameters and persistent buffers; the tensors share the
        module's memory (copy them to snapshot). Names and (out, in) weight layouts match PyTorch's."""
        state = collections.OrderedDict()
        for module_prefix, m in self.named_modules(prefix=prefix):
            for name, p in m._parameters.items():
                if p is not None:
                    state[_join(module_prefix, name)] = Tensor(p)
            for name, b in m._buffers.items():
                if b is not None and name not in m._non_persistent:
                    state[_join(module_prefix, name)] = b
        return state

    def load_state_dict(self, state_dict, strict=True):
        """Copy ``state_dict``'s tensors (Tensors, NumPy arrays or torch tensors) into the parameters and
        buffers, in place (references to them stay valid). strict: KeyError naming missing and unexpected
        keys. A shape mismatch is always a ValueError naming the key and both shapes.
        Returns (missing_keys, unexpected_keys)."""
        for module_prefix, m in self.named_modules():
            m._prepare_load(state_dict, _join(module_prefix, ""))
        own = {}
        for module_prefix, m in self.named_modules():
            for registry in (m._parameters, m._buffers):
                for name, t in registry.items():
                    if t is not None and name not in m._non_persistent:
                        own[_join(module_prefix, name)] = t
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        values = {}
        for key, target in own.items():
            if key in state_dict:
                value = _as_array(state_dict[key])
                if tuple(value.shape) != tuple(target.shape):
                    raise ValueError(f"load_state_dict: size mismatch for '{key}': the checkpoint has shape "
                                     f"{tuple(value.shape)}, the module {tuple(target.shape)}")
                values[key] = value
        with no_grad():
            for key, value in values.items():
                own[key][...] = value
        return _IncompatibleKeys(missing, unexpected)

    def _prepare_load(self, state_dict, prefix):
        """Hook for lazily built layers: create parameters from the shapes in ``state_dict``."""

    # ---- repr ----
    def extra_repr(self):
        return ""

    def _repr_body(self):
        lines = [f"({name}): " + _indent(child._repr_body()) for name, child in self._modules.items()
                 if child is not None]
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}(" + (extra if extra else "")
        return head + "\n  " + "\n  ".join(lines) + "\n)"

    def __repr__(self):
        total = self.num_parameters()
        trainable = self.num_parameters(trainable_only=True)
        counts = f"{total:,} parameters" + ("" if trainable == total else f", {trainable:,} trainable")
        return f"{self._repr_body()}  # {counts}"


def _join(prefix, name):
    return f"{prefix}.{name}" if prefix else name


def _indent(text):
    return text.replace("\n", "\n  ")


def _as_array(value):
    if isinstance(value, (Tensor, np.ndarray)):
        return value
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)
