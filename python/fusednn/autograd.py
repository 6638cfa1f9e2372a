"""Reverse-mode automatic differentiation.

Differentiable ops record a ``Node`` on their output: the backward function (defined beside the op's
forward) and the inputs it maps the output's gradient to. ``Tensor.backward()`` walks the graph once,
in reverse topological order (iteratively, so graphs of any depth work), reduces broadcast gradients
back to each input's shape and accumulates leaf gradients into ``.grad``. The order needs no separate
graph traversal: every node has a sequence number, and a node's inputs were recorded before it, so
running the pending nodes from the highest number down runs each after every node that feeds it.

    with fnn.no_grad(): ...        # record nothing (also a decorator)
    fnn.autograd.gradcheck(f, (x, y))
"""
import contextlib
import functools
import heapq
import itertools

import numpy as np

from . import _C
from ._tensor import Tensor, method


class _Mode:
    enabled = True  # read by every differentiable op: a class attribute is the fastest global to check


def is_grad_enabled():
    """Whether differentiable ops currently record the graph."""
    return _Mode.enabled


class set_grad_enabled(contextlib.ContextDecorator):
    """Context manager and decorator that turns recording on or off; also works as a plain call."""

    def __init__(self, mode):
        self.previous = _Mode.enabled
        self.mode = bool(mode)
        _Mode.enabled = self.mode

    def __enter__(self):
        _Mode.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _Mode.enabled = self.previous
        return False


class _ModeBlock:
    """A block (or decorated function, used as ``@cls`` or ``@cls()``) that runs with recording ``mode``."""
    mode = True

    def __new__(cls, fn=None):
        self = super().__new__(cls)
        return self if fn is None else self(fn)

    def __enter__(self):
        self.previous = _Mode.enabled
        _Mode.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _Mode.enabled = self.previous
        return False

    def __call__(self, fn):
        cls = type(self)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with cls():  # a fresh block per call: recursion and threads restore their own state
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_ModeBlock):
    """Record no graph inside the block (or the decorated function): inference and parameter updates."""
    mode = False


class enable_grad(_ModeBlock):
    """Record the graph inside the block even within no_grad."""
    mode = True


class _Output:
    """Stands in a Node's saved tuple for the op's own output (see Node)."""
    __slots__ = ()

    def __repr__(self):
        return "<output>"


_OUTPUT = _Output()
_sequence = itertools.count()  # next() is atomic under the GIL: threads recording at once get distinct numbers


class Node:
    """One recorded op. ``backward(dy, *saved)`` returns one gradient (or None) per input.

    The op's output is not stored in ``saved`` (output -> node -> output would be a reference cycle:
    activations would live until the cyclic GC ran): ``_OUTPUT`` stands in its place, and backward
    passes the output it reached the node through. ``versions`` holds each saved tensor's version at
    record time (None for non-tensors), checked before backward reads them. ``sequence`` numbers nodes
    in recording order (see the module docstring)."""
    __slots__ = ("name", "backward", "inputs", "saved", "versions", "sequence")

    def __init__(self, name, backward, inputs, saved, output=_OUTPUT):
        self.sequence = next(_sequence)
        self.name = name
        self.backward = backward
        self.inputs = inputs
        if type(saved) is not tuple:
            saved = tuple(saved)
        # One C++ call per recorded op: the versions, and saved with _OUTPUT in place of output.
        self.versions, self.saved = _C._versions(saved, output, _OUTPUT)

    def __repr__(self):
        return f"<{self.name}Backward>"


def requires_grad(x):
    """Whether x is a tensor that needs a gradient and recording is on: the test a forward makes."""
    return _Mode.enabled and getattr(x, "requires_grad", False)


def wants_grad(x):
    """Whether x is a tensor that needs a gradient: the test a backward makes (it runs under no_grad)."""
    return getattr(x, "requires_grad", False)


def record(name, output, backward, inputs, saved=()):
    """Make ``output`` the result of a differentiable op: attaches a Node and returns output. ``saved``
    (passed to backward after dy) may include output itself and non-tensors."""
    output.grad_fn = Node(name, backward, inputs, saved, output)
    output.requires_grad = True
    return output


def _sum_to_shape(grad, shape):
    """Reduce a broadcast gradient back to ``shape`` (sum over the axes broadcasting added or stretched)."""
    gshape = grad.shape
    if gshape == shape:
        return grad
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and gshape[i + lead] != 1)
    summed = _C._reduce("sum", grad, axes, None, True) if axes else grad
    return _C.reshape(summed, shape)


def _on_device_of(tensor, grad):
    """``grad`` on ``tensor``'s device: gradients live where their tensors do (a host seed or a value given
    from the host is copied over)."""
    device = tensor.device
    return grad if grad.device == device else _C._to_device(grad, device)


def _check_versions(node, versions):
    """Raise RuntimeError: a tensor node saved was modified in place after it was recorded."""
    for version, now in zip(node.versions, versions):
        if version != now:
            raise RuntimeError(
                f"one of the tensors needed to compute the gradient of {node.name} has been modified by "
                f"an in-place operation (version {version} -> {now}); compute a copy first, or run the "
                f"in-place update under fnn.no_grad() after backward")


def backward(tensor, grad=None, retain_graph=False):
    """Accumulate d(tensor)/d(leaf) * grad into every leaf's ``.grad``. ``grad`` defaults to 1 for a
    one-element tensor. Gradients are made and accumulated on each tensor's own device. The graph is freed
    afterwards unless ``retain_graph``."""
    if not getattr(tensor, "requires_grad", False):
        raise RuntimeError("backward: the tensor does not require grad and has no grad_fn "
                           "(did you create it under no_grad, or from tensors without requires_grad=True?)")
    if grad is None:
        if tensor.size != 1:
            raise RuntimeError(f"backward: grad can be implied only for a one-element output, not shape "
                               f"{tensor.shape}; pass grad= explicitly")
        grad = _C._full(tensor.shape, 1, tensor.dtype, tensor.device)
    else:
        if not isinstance(grad, Tensor):
            grad = _C._to_tensor(grad)
        if grad.shape != tensor.shape:
            raise ValueError(f"backward: grad has shape {grad.shape} but the tensor has shape {tensor.shape}")
        grad = _on_device_of(tensor, grad)
    root = tensor.grad_fn
    # ids of the gradient tensors handed out so far (and the caller's): a leaf gets a copy of these, so
    # that an in-place update of one .grad (an optimizer's) cannot change another's or the caller's.
    shared = {id(grad)}
    if root is None:
        _C._accumulate_grad(tensor, grad, shared)
        return
    pending = {root: [grad, tensor]}  # node -> [gradient of its output so far, its output]
    ready = [(-root.sequence, root)]  # heap of the pending nodes, highest sequence number first
    previous, _Mode.enabled = _Mode.enabled, False  # as no_grad(), without its cost
    try:
        while ready:
            node = heapq.heappop(ready)[1]
            dy, output = pending.pop(node)
            backward_fn = node.backward
            if backward_fn is None:
                raise RuntimeError(f"backward through {node.name} a second time: the graph was freed by the "
                                   f"first backward; pass retain_graph=True to it")
            versions, saved = _C._versions(node.saved, _OUTPUT, output)  # saved, with the output back in
            if versions != node.versions:
                _check_versions(node, versions)
            for inp, g in zip(node.inputs, backward_fn(dy, *saved)):
                if g is None or not isinstance(inp, Tensor) or not inp.requires_grad:
                    continue
                if not isinstance(g, Tensor):
                    g = _on_device_of(inp, _C._to_tensor(g))
                shape = inp.shape
                if g.shape != shape:
                    g = _sum_to_shape(g, shape)
                fn = inp.grad_fn
                if fn is None:
                    _C._accumulate_grad(inp, g, shared)  # inp.grad += g, copying g where shared
                else:
                    into = pending.get(fn)
                    if into is None:
                        pending[fn] = [g, inp]
                        heapq.heappush(ready, (-fn.sequence, fn))
                    else:
                        into[0] = into[0] + g
            if not retain_graph:
                node.backward = None
                node.saved = ()
    finally:
        _Mode.enabled = previous


class FunctionContext:
    """What a custom Function's forward saves for its backward."""

    def save_for_backward(self, *tensors):
        self.saved_tensors = tensors


class Function:
    """A user-defined differentiable op, as in PyTorch::

        class Cube(fnn.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x * x
            @staticmethod
            def backward(ctx, dy):
                (x,) = ctx.saved_tensors
                return 3 * x * x * dy

        y = Cube.apply(x)
    """

    @classmethod
    def apply(cls, *args):
        ctx = FunctionContext()
        with no_grad():
            output = cls.forward(ctx, *args)
        if any(requires_grad(a) for a in args):
            def backward(dy, ctx):
                grads = cls.backward(ctx, dy)
                return grads if isinstance(grads, tuple) else (grads,)
            record(cls.__name__, output, backward, args, (ctx,))
        return output


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Compare fn's autograd gradients with central finite differences, in float64.

    ``inputs`` are array-likes; each is converted to a float64 tensor that requires grad. fn returns a
    tensor; the check uses the scalar sum(fn(*inputs) * w) for a fixed random w. Returns True, or raises
    AssertionError naming the input and the worst element.
    """
    xs = [_C._to_tensor(np.array(x, dtype=np.float64)) for x in inputs]
    for x in xs:
        x.requires_grad = True
    out = fn(*xs)
    weights = np.random.default_rng(0).standard_normal(out.shape)
    (out * _C._to_tensor(weights)).sum().backward()
    for i, x in enumerate(xs):
        analytic = np.zeros(x.shape) if x.grad is None else np.array(x.grad, dtype=np.float64)
        numeric = np.zeros(x.shape)
        data = np.asarray(x)
        with no_grad():
            for index in np.ndindex(*x.shape):
                saved = data[index]
                data[index] = saved + eps
                plus = float((np.asarray(fn(*xs), dtype=np.float64) * weights).sum())
                data[index] = saved - eps
                minus = float((np.asarray(fn(*xs), dtype=np.float64) * weights).sum())
                data[index] = saved
                numeric[index] = (plus - minus) / (2 * eps)
        if not np.allclose(analytic, numeric, atol=atol, rtol=rtol):
            worst = np.unravel_index(np.argmax(np.abs(analytic - numeric)), x.shape) if x.ndim else ()
            raise AssertionError(f"gradcheck: input {i} (shape {x.shape}) at {worst}: autograd "
                                 f"{analytic[worst]:.6g} vs finite difference {numeric[worst]:.6g}")
    return True


# ---- Tensor attributes and methods ----
Tensor.requires_grad = False
Tensor.grad = None
Tensor.grad_fn = None
Tensor.is_leaf = property(lambda self: self.grad_fn is None, doc="Whether no recorded op produced this tensor.")
method("backward")(backward)


@method
def requires_grad_(self, requires_grad=True):
    """Set whether this leaf tensor needs a gradient; returns self. Only floating tensors can."""
    if requires_grad and self.dtype.kind != "f":
        raise TypeError(f"only floating-point tensors can require gradients, not {self.dtype}")
    if not requires_grad and self.grad_fn is not None:
        raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use .detach() instead")
    self.requires_grad = bool(requires_grad)
    return self


@method
def detach(self):
    """A tensor sharing this one's memory, outside the graph (no grad_fn, no requires_grad)."""
    return Tensor(self)


@method
def zero_grad_(self):
    """Drop the accumulated gradient."""
    self.grad = None
    return self
