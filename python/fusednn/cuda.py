"""The device API: CUDA queries and synchronisation (answered by every build; a build without CUDA reports
no devices), and moving tensors between devices with ``Tensor.to`` / ``.cuda()`` / ``.cpu()``.

Moving is differentiable: the gradient of ``x.to("cuda")`` flows back to x on its own device. Work on a
device is queued on its stream; only reading values on the host (``.item()``, ``.numpy()`` after
``.cpu()``, printing) waits for it.
"""
import numpy as np

from . import _C
from ._tensor import Tensor
from .autograd import _Mode, record

__all__ = ["is_built", "is_available", "device_count", "synchronize", "memory_allocated", "memory_reserved",
           "empty_cache"]


def is_built():
    """Whether this build of fusednn has CUDA kernels."""
    return _C._cuda.is_built()


def device_count():
    """Number of CUDA devices visible (0 without a driver or GPU)."""
    return _C._cuda.device_count()


def is_available():
    """Whether a CUDA device can be used now."""
    return device_count() > 0


def _index(device):
    """The device index of None (device 0), an int, "cuda" or "cuda:N"."""
    if device is None:
        return 0
    if isinstance(device, int):
        return device
    name = str(device)
    if name == "cuda":
        return 0
    if name.startswith("cuda:") and name[5:].isdigit():
        return int(name[5:])
    raise ValueError(f"expected a CUDA device ('cuda', 'cuda:N' or an index), got {device!r}")


def synchronize(device=None):
    """Wait until all work queued on the device has finished (RuntimeError without a usable device)."""
    _C._cuda.synchronize(_index(device))


def memory_allocated(device=None):
    """Bytes of device memory held by live tensors (0 without a device)."""
    return _C._cuda.memory_stats(_index(device))[0]


def memory_reserved(device=None):
    """Bytes of device memory the caching allocator holds: live tensors plus cached free blocks."""
    return sum(_C._cuda.memory_stats(_index(device)))


def empty_cache():
    """Return the cached free blocks of every device to the driver (live tensors are untouched)."""
    _C._cuda.empty_cache()


# ---------------------------------------------------------------- moving tensors

def _is_device(arg):
    return (isinstance(arg, int) and not isinstance(arg, bool)) or (
        isinstance(arg, str) and (arg == "cpu" or arg.startswith("cuda")))


def _device_name(device):
    """ "cpu" or "cuda:N" for any accepted spelling of a device."""
    return "cpu" if str(device) == "cpu" else f"cuda:{_index(device)}"


def _to_arguments(args, device, dtype):
    """(device, dtype) from ``to``'s positional arguments (devices, dtypes, or a tensor giving both) and
    keywords, as torch's ``to`` reads them."""
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif _is_device(arg):
            device = arg
        else:
            dtype = arg
    return device, dtype


def _move(x, device):
    device = _device_name(device)
    if x.device == device:
        return x
    y = _C._to_device(x, device)
    if _Mode.enabled and x.requires_grad:
        record("to", y, _move_grad, (x,), (x.device,))
    return y


def _move_grad(dy, device):
    return (_C._to_device(dy, device),)


def _to(self, *args, device=None, dtype=None, copy=False):
    """``t.to(device)``, ``t.to(dtype)``, ``t.to(device, dtype)`` or ``t.to(other)`` (other's device and
    dtype), as in PyTorch: t itself when nothing changes (unless copy=True), otherwise a new tensor.
    Devices: "cpu", "cuda", "cuda:N" or an index."""
    device, dtype = _to_arguments(args, device, dtype)
    cast = dtype is not None and np.dtype(dtype) != self.dtype
    y = self
    if device is not None and cast and _device_name(device) == "cpu":  # cast where the kernels are
        y = _move(y, device)
    if cast:
        y = y.astype(dtype)
    if device is not None:
        y = _move(y, device)
    if copy and y is self:
        y = self.copy()
    return y


def _cuda(self, device=None):
    """This tensor on a CUDA device (device 0 by default); itself when already there."""
    return _move(self, _index(device))


def _cpu(self):
    """This tensor on the host; itself when already there. Waits for the device's queued work."""
    return _move(self, "cpu")


Tensor.to = _to
Tensor.cuda = _cuda
Tensor.cpu = _cpu
