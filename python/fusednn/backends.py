"""Process-wide backend switches, spelled as PyTorch spells them:

    fnn.backends.cuda.matmul.allow_tf32 = True   # float32 products on CUDA devices may use TF32

TF32 keeps float32's range but rounds each product's inputs to 10 mantissa bits (relative error about
2**-10 per product, float32 accumulation) for several times the throughput on tensor cores (compute
capability 8.0 and newer). Off by default; the CPU never uses it.
"""
import types

from . import _C

__all__ = ["cuda"]


class _Matmul:
    """``fnn.backends.cuda.matmul``: switches of the matrix products on CUDA devices."""

    __slots__ = ()  # a misspelt switch raises AttributeError instead of being silently ignored

    @property
    def allow_tf32(self):
        """Whether float32 products on CUDA devices may use TF32 tensor cores (default False)."""
        return _C._allow_tf32()

    @allow_tf32.setter
    def allow_tf32(self, value):
        _C._set_allow_tf32(bool(value))

    def __repr__(self):
        return f"fusednn.backends.cuda.matmul(allow_tf32={self.allow_tf32})"


cuda = types.SimpleNamespace(matmul=_Matmul())
