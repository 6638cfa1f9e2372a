"""fusednn: neural-network training on our own fused C++ kernels, with a NumPy-compatible Tensor.

    import fusednn as fnn
    x = fnn.asarray(np.random.rand(64, 784).astype(np.float32))   # zero-copy from NumPy
    h = fnn.exp(x).sum(axis=1, keepdims=True)
    np.asarray(h)                                                  # zero-copy back
"""
import numpy as np

from . import _C
from ._C import AxisError, Tensor, empty_cache, from_dlpack, from_numpy
from . import _tensor  # noqa: F401  (gives Tensor its NumPy protocols)
from .config import get_num_threads, set_num_threads, show_config
from . import cuda
from . import backends
from .elementwise import *  # noqa: F401,F403
from .reduce import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403
from .creation import *  # noqa: F401,F403
from .gemm import *  # noqa: F401,F403
from . import random  # noqa: E402
from . import autograd
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled

__version__ = _C.__version__

# dtypes are NumPy's, so t.dtype == np.float32 and np.zeros(3, dtype=t.dtype) just work.
bool_ = np.bool_
int32 = np.int32
int64 = np.int64
float32 = np.float32
float64 = np.float64
dtype = np.dtype
newaxis = None
pi, e, inf, nan = np.pi, np.e, np.inf, np.nan

# Layers, optimizers and training tools build on the namespace above, so they come last.
from . import nn, optim  # noqa: E402
from . import data, metrics, io  # noqa: E402

# Keras-style training attached to every nn.Module (compile/fit/evaluate/predict/summary, save/load_weights)
from . import losses, callbacks, training, checkpoint  # noqa: E402
from .checkpoint import load  # noqa: E402
