"""Layers: Linear / Dense (one fused GEMM each way), Sequential, activation modules, Dropout, LayerNorm,
BatchNorm1d, Embedding, Flatten and Identity."""
import collections
import math
import numbers

import numpy as np

from .. import _C
from .._tensor import Tensor
from ..creation import empty, ones, zeros
from . import functional as F
from . import init
from .module import Module, Parameter


class Identity(Module):
    """y = x."""

    def forward(self, x):
        return x


class Linear(Module):
    """``y = act(x @ weight.T + bias)``: weight (out_features, in_features) and bias (out_features,), as in
    PyTorch (state_dicts map onto torch's), both ~ U(-1/sqrt(in), 1/sqrt(in)) (torch's default). The
    forward is one GEMM with the bias + activation epilogue, the backward one autograd node (see
    ``F.linear``). ``kernel_regularizer(weight)`` is added by ``Module.regularization_loss()``."""

    def __init__(self, in_features, out_features, bias=True, activation=None, kernel_regularizer=None,
                 negative_slope=0.01, dtype=np.float32):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.activation = F._activation_name(activation)
        self.negative_slope = negative_slope
        self.kernel_regularizer = kernel_regularizer
        self._use_bias = bias
        self._dtype = dtype
        if in_features is not None:
            self._create(in_features)
        else:
            self.weight = self.bias = None

    def _create(self, in_features, device="cpu"):
        self.in_features = in_features
        self.weight = Parameter(empty((self.out_features, in_features), dtype=self._dtype))
        self.bias = Parameter(empty((self.out_features,), dtype=self._dtype)) if self._use_bias else None
        # Initialised on the host, then moved: the same values as a layer built on the host and moved by
        # Module.to, whatever the device.
        self.reset_parameters()
        if device != "cpu":
            self.to(device)

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return F._linear(x, self.weight, self.bias, self.activation, self.negative_slope)

    def extra_repr(self):
        act = "" if self.activation is None else f", activation={self.activation!r}"
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self._use_bias}{act}"


class Dense(Linear):
    """Keras' Dense: ``Dense(units, activation=None, use_bias=True, input_shape=None)``, a Linear whose input
    size comes from ``input_shape`` (its last entry) or from the first call, which creates the parameters on
    the input's device. Weights are glorot-uniform and the bias zero (Keras' defaults). Until it is built
    (by ``input_shape``, ``build(input_shape)`` or the first call) it has no parameters: create optimizers
    after that."""

    def __init__(self, units, activation=None, use_bias=True, input_shape=None, kernel_regularizer=None,
                 dtype=np.float32):
        in_features = None if input_shape is None else _last(input_shape)
        super().__init__(in_features, units, use_bias, activation, kernel_regularizer, dtype=dtype)

    @property
    def units(self):
        return self.out_features

    @property
    def built(self):
        return self.weight is not None

    def build(self, input_shape, device="cpu"):
        """Create the parameters for inputs of ``input_shape`` (its last entry is the feature size), on
        ``device``."""
        if not self.built:
            self._create(_last(input_shape), device)
        return self

    def reset_parameters(self):
        init.xavier_uniform_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x):
        if self.weight is None:
            self.build(_shape_of(x), x.device if isinstance(x, Tensor) else "cpu")
        return F._linear(x, self.weight, self.bias, self.activation, self.negative_slope)

    def _prepare_load(self, state_dict, prefix):
        weight = state_dict.get(prefix + "weight")
        if not self.built and weight is not None and len(_shape_of(weight)) == 2:
            self.build(_shape_of(weight))

    def extra_repr(self):
        return super().extra_repr() if self.built else f"units={self.out_features}, unbuilt"


def _shape_of(x):
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def _last(shape):
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    if not shape:
        raise ValueError("Dense: input_shape must have at least one dim (the features)")
    return int(shape[-1])


class Sequential(Module):
    """Modules applied in order: ``Sequential(a, b, c)``, ``Sequential([a, b, c])`` or
    ``Sequential(OrderedDict(name=module))``; indexing (a slice gives a Sequential), len, iteration,
    ``append`` (Keras: ``add``)."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], collections.OrderedDict):
            for name, m in modules[0].items():
                self.add_module(name, m)
            return
        if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
            modules = modules[0]
        for m in modules:
            self.append(m)

    def append(self, module):
        if not isinstance(module, Module):
            raise TypeError(f"Sequential: {type(module).__name__} is not a Module")
        self.add_module(str(len(self._modules)), module)
        return self

    add = append

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __getitem__(self, index):
        layers = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(layers[index])
        return layers[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


def _activation_module(name, fn_name, doc, params=()):
    """A Module calling F.<fn_name>(x, *params) with the constructor's keyword defaults ``params``."""
    names = [p for p, _ in params]

    def __init__(self, *args, **kwargs):
        Module.__init__(self)
        values = dict(params)
        values.update(zip(names, args))
        for k, v in kwargs.items():
            if k not in values:
                raise TypeError(f"{name}() got an unexpected keyword argument '{k}'")
            values[k] = v
        for k in names:
            object.__setattr__(self, k, values[k])

    def forward(self, x):
        return getattr(F, fn_name)(x, *(getattr(self, k) for k in names))

    def extra_repr(self):
        return ", ".join(f"{k}={getattr(self, k)}" for k in names)

    return type(name, (Module,), {"__init__": __init__, "forward": forward, "extra_repr": extra_repr,
                                  "__doc__": doc, "__module__": __name__})


ReLU = _activation_module("ReLU", "relu", "max(x, 0).")
LeakyReLU = _activation_module("LeakyReLU", "leaky_relu", "x if x > 0 else negative_slope * x.",
                               [("negative_slope", 0.01)])
ELU = _activation_module("ELU", "elu", "x if x > 0 else alpha * (e^x - 1).", [("alpha", 1.0)])
GELU = _activation_module("GELU", "gelu", "x * Phi(x), Phi the standard normal CDF.")
SiLU = _activation_module("SiLU", "silu", "x * sigmoid(x).")
Sigmoid = _activation_module("Sigmoid", "sigmoid", "1 / (1 + e^-x).")
Tanh = _activation_module("Tanh", "tanh", "tanh(x).")
Softplus = _activation_module("Softplus", "softplus", "log(1 + e^(beta x)) / beta.", [("beta", 1.0)])


class Softmax(Module):
    """e^x / sum(e^x) along ``dim`` (Keras: ``axis``; default the last)."""

    def __init__(self, dim=None, axis=None):
        super().__init__()
        self.dim = -1 if dim is None and axis is None else (dim if dim is not None else axis)

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """x - log(sum(e^x)) along ``dim``."""

    def forward(self, x):
        return F.log_softmax(x, self.dim)


class Dropout(Module):
    """Inverted dropout: in training, each element is zeroed with probability p and the rest scaled by
    1 / (1 - p) (one C++ pass draws the mask from fusednn.random's generator and applies it); identity in
    eval mode."""

    def __init__(self, p=0.5):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class LayerNorm(Module):
    """Normalize over the trailing ``normalized_shape`` dims: ``(x - mean) / sqrt(var + eps) * weight + bias``
    (weight ones, bias zeros, of normalized_shape)."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=np.float32):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        self.weight = Parameter(ones(shape, dtype=dtype)) if elementwise_affine else None
        self.bias = Parameter(zeros(shape, dtype=dtype)) if elementwise_affine and bias else None

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class BatchNorm1d(Module):
    """Batch normalization of (N, C) or (N, C, L) inputs per channel. Training: batch mean and biased
    variance, and (track_running_stats) ``running = (1 - momentum) running + momentum batch`` with the
    unbiased variance, as PyTorch (momentum=None: cumulative average). Eval: the running statistics."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 dtype=np.float32):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Parameter(ones((num_features,), dtype=dtype)) if affine else None
        self.bias = Parameter(zeros((num_features,), dtype=dtype)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", zeros((num_features,), dtype=dtype))
            self.register_buffer("running_var", ones((num_features,), dtype=dtype))
            self.register_buffer("num_batches_tracked", zeros((), dtype=np.int64))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def reset_running_stats(self):
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            _C.fill(self.num_batches_tracked, 0)

    def forward(self, x):
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d: expected input of shape (N, {self.num_features}) or "
                             f"(N, {self.num_features}, L), got {tuple(x.shape)}")
        use_batch = self.training or not self.track_running_stats
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1  # in place, on the buffer's device
            if momentum is None:
                momentum = 1.0 / int(self.num_batches_tracked.cpu())
        update = self.training and self.track_running_stats
        return F.batch_norm(x, self.running_mean if update or not use_batch else None,
                            self.running_var if update or not use_batch else None,
                            self.weight, self.bias, use_batch, momentum, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class Embedding(Module):
    """A lookup table: ``y = weight[indices]`` with weight (num_embeddings, embedding_dim) ~ N(0, 1); the
    gradient scatter-adds into the looked-up rows."""

    def __init__(self, num_embeddings, embedding_dim, dtype=np.float32):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = Parameter(empty((num_embeddings, embedding_dim), dtype=dtype))
        init.normal_(self.weight)

    def forward(self, indices):
        return F.embedding(indices, self.weight)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"


class Flatten(Module):
    """Flatten dims start_dim..end_dim into one (a view when possible): (N, 2, 3) -> (N, 6)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        from ..shape import reshape  # noqa: PLC0415
        start = self.start_dim % x.ndim if x.ndim else 0
        end = self.end_dim % x.ndim if x.ndim else 0
        shape = tuple(x.shape)
        size = 1
        for n in shape[start:end + 1]:
            size *= n
        return reshape(x, shape[:start] + (size,) + shape[end + 1:])

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
