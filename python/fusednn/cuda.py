"""CUDA device queries. Every build answers them; a build without CUDA reports no devices."""
from . import _C


def is_built():
    """Whether this build of fusednn has CUDA kernels."""
    return _C._cuda.is_built()


def device_count():
    """Number of CUDA devices visible (0 without a driver or GPU)."""
    return _C._cuda.device_count()


def is_available():
    """Whether a CUDA device can be used now."""
    return device_count() > 0
