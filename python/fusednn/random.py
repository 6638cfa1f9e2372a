"""Random numbers (``fnn.random``): a counter-based Philox4x32-10 generator written in C++.

Element ``i`` of a draw takes its bits from Philox block ``offset + i // E`` under the key derived from
the seed (``E`` = 4 for float32, 2 for float64 and integers), and each draw advances ``offset`` by the
blocks it used. So a seed fixes every value, independent of thread count and of how the work is split,
and ``get_state``/``set_state`` resume a stream exactly.

    fnn.random.seed(0); x = fnn.random.normal(size=(3, 4))
    rng = fnn.random.default_rng(42); rng.integers(0, 10, size=5)

Defaults follow deep learning, not NumPy: float results are float32 unless ``dtype`` says otherwise.
``device="cuda"`` draws on a CUDA device: the same blocks and the same values as on the CPU (uniform and
integers bitwise; normal to float rounding), and the offset advances exactly as a CPU draw would.
``permutation`` and ``shuffle`` run on the host (a device tensor is shuffled through a host copy).
"""
import operator
import os

import numpy as np

from . import _C
from ._tensor import Tensor

__all__ = ["Generator", "default_rng", "seed", "get_state", "set_state", "normal", "standard_normal",
           "uniform", "random", "rand", "randn", "randint", "integers", "permutation", "shuffle", "choice"]

_BIT_GENERATOR = "Philox4x32-10"
_INT64_MIN, _INT64_MAX = -2**63, 2**63 - 1


def _entropy():
    return int.from_bytes(os.urandom(8), "little")


def _seed_value(seed):
    if seed is None:
        return _entropy()
    try:
        seed = operator.index(seed)
    except TypeError:
        raise TypeError(f"seed must be an int or None, got {type(seed).__name__}") from None
    if not 0 <= seed < 2**64:
        raise ValueError(f"seed must be in [0, 2**64), got {seed}")
    return seed


def _scalar(x):
    """A Python number from a number, a 0-d array or a 0-d tensor; None for anything array-valued."""
    if isinstance(x, (bool, int, float, np.number, np.bool_)):
        return x
    if isinstance(x, (Tensor, np.ndarray)) and x.ndim == 0:
        return x.item()
    return None


def _size(size):
    return () if size is None else size


def _finish(t, size):
    """NumPy returns a Python scalar when size is None (a 0-d tensor when drawn on a device)."""
    return t.item() if size is None and t.device == "cpu" else t


class Generator:
    """A Philox4x32-10 stream with NumPy's Generator interface (``normal``, ``uniform``, ``integers``,
    ``random``, ``standard_normal``, ``permutation``, ``shuffle``, ``choice``)."""

    def __init__(self, seed=None, *, _state=None):
        self._g = _state if _state is not None else _C._Generator(_seed_value(seed))

    def __repr__(self):
        return f"Generator({_BIT_GENERATOR}, seed={self._g.seed}, offset={self._g.offset})"

    # ---- state ----
    def get_state(self):
        """The stream's position as a dict; ``set_state`` of it replays the same values."""
        return {"bit_generator": _BIT_GENERATOR, "seed": self._g.seed, "offset": self._g.offset}

    def set_state(self, state):
        if not isinstance(state, dict) or state.get("bit_generator") != _BIT_GENERATOR:
            raise ValueError(f"set_state expects a dict from get_state() of a {_BIT_GENERATOR} generator")
        offset = operator.index(state["offset"])
        if not 0 <= offset < 2**64:
            raise ValueError(f"state offset must be in [0, 2**64), got {offset}")
        self._g.set_state(_seed_value(state["seed"]), offset)

    def seed(self, seed=None):
        """Restart the stream from ``seed`` (fresh entropy when None)."""
        self._g.set_state(_seed_value(seed), 0)

    # ---- continuous ----
    def uniform(self, low=0.0, high=1.0, size=None, dtype=np.float32, device=None):
        """Samples of U[low, high): ``low + (high - low) * u`` with u = k / 2^24 (float32) or k / 2^53
        (float64) for a random integer k; results never reach ``high``. ``device``: where to draw."""
        lo, hi = _scalar(low), _scalar(high)
        if lo is None or hi is None:
            return self._broadcast(self.uniform, 0.0, 1.0, low, high, size, dtype, device,
                                   lambda u, a, b: a + (b - a) * u)
        return _finish(self._g.uniform(_size(size), dtype, float(lo), float(hi), device), size)

    def random(self, size=None, dtype=np.float32, device=None):
        """Samples of U[0, 1)."""
        return self.uniform(0.0, 1.0, size, dtype, device)

    def normal(self, loc=0.0, scale=1.0, size=None, dtype=np.float32, device=None):
        """Samples of N(loc, scale^2): ``loc + scale * z``, z by Box-Muller,
        ``z = sqrt(-2 log u1) * (cos, sin)(2 pi u2)``."""
        mu, sigma = _scalar(loc), _scalar(scale)
        if mu is None or sigma is None:
            return self._broadcast(self.normal, 0.0, 1.0, loc, scale, size, dtype, device, lambda z, a, b: a + b * z)
        return _finish(self._g.normal(_size(size), dtype, float(mu), float(sigma), device), size)

    def standard_normal(self, size=None, dtype=np.float32, device=None):
        """Samples of N(0, 1)."""
        return self.normal(0.0, 1.0, size, dtype, device)

    def _broadcast(self, draw, a0, b0, a, b, size, dtype, device, combine):
        """Array-valued parameters: a standard draw of the broadcast shape, then combined elementwise."""
        from .creation import asarray  # noqa: PLC0415
        a, b = asarray(a, device=device), asarray(b, device=device)
        shape = np.broadcast_shapes(a.shape, b.shape) if size is None else size
        return combine(draw(a0, b0, shape, dtype, device), a, b)

    # ---- discrete ----
    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False, device=None):
        """Uniform integers on [low, high) ([low, high] with endpoint=True; [0, low) when high is None):
        ``low + floor(x * (high - low) / 2^64)`` for 64 random bits x."""
        if high is None:
            low, high = 0, low
        low, high = operator.index(_scalar(low)), operator.index(_scalar(high))
        last = high if endpoint else high - 1
        if last < low:
            raise ValueError(f"low >= high (low={low}, high={high})" if not endpoint else
                             f"low > high (low={low}, high={high})")
        if low < _INT64_MIN or last > _INT64_MAX:
            raise ValueError(f"integers: bounds [{low}, {last}] out of range for {np.dtype(dtype)}")
        return _finish(self._g.integers(_size(size), dtype, low, last, device), size)

    def permutation(self, x):
        """A random permutation of ``range(x)`` (int64) or a shuffled copy of ``x`` along axis 0."""
        if isinstance(x, (int, np.integer)):
            return self._g.permutation(operator.index(x))
        from .creation import array  # noqa: PLC0415
        out = array(x)  # a copy, on x's device
        if out.ndim == 0:
            raise IndexError("x must be an integer or at least 1-dimensional")
        self._g.shuffle(out)
        return out

    def shuffle(self, x):
        """Shuffle a Tensor or NumPy array in place along axis 0 (Fisher-Yates over the stream)."""
        if not isinstance(x, (Tensor, np.ndarray)):
            raise TypeError(f"shuffle: expected a Tensor or NumPy array, got {type(x).__name__}")
        self._g.shuffle(x)

    def choice(self, a, size=None, replace=True):
        """Uniform samples from ``range(a)`` (a an int) or from the rows of ``a``, with or without
        replacement."""
        n = operator.index(a) if isinstance(a, (int, np.integer)) else len(a)
        count = int(np.prod(_size(size), dtype=np.int64))
        if n == 0 and count > 0:
            raise ValueError("a cannot be empty unless no samples are taken")
        if replace:
            index = self.integers(0, max(n, 1), size=_size(size))
        else:
            if count > n:
                raise ValueError("Cannot take a larger sample than population when replace=False")
            index = self._g.permutation(n)[:count].reshape(_size(size))
        if not isinstance(a, (int, np.integer)):
            from . import asarray  # noqa: PLC0415
            index = asarray(a)[index]
        return _finish(index, size)


def default_rng(seed=None):
    """A new Generator seeded with ``seed`` (fresh entropy when None), as ``numpy.random.default_rng``;
    a Generator passes through."""
    return seed if isinstance(seed, Generator) else Generator(seed)


# The module-level functions draw from the process-wide generator that C++ code (nn.init) also uses.
_global = Generator(_state=_C._default_generator())


def seed(seed=None):
    """Reseed the global generator (fresh entropy when None)."""
    _global.seed(seed)


def get_state():
    """The global generator's state (``{"bit_generator", "seed", "offset"}``)."""
    return _global.get_state()


def set_state(state):
    """Restore the global generator to a state from ``get_state``."""
    _global.set_state(state)


def normal(loc=0.0, scale=1.0, size=None, dtype=np.float32, device=None):
    """Samples of N(loc, scale^2) from the global generator."""
    return _global.normal(loc, scale, size, dtype, device)


def standard_normal(size=None, dtype=np.float32, device=None):
    return _global.standard_normal(size, dtype, device)


def uniform(low=0.0, high=1.0, size=None, dtype=np.float32, device=None):
    """Samples of U[low, high) from the global generator."""
    return _global.uniform(low, high, size, dtype, device)


def random(size=None, dtype=np.float32, device=None):
    """Samples of U[0, 1) from the global generator."""
    return _global.random(size, dtype, device)


def rand(*shape, device=None):
    """U[0, 1) samples of the given shape (float32; a Python float with no arguments)."""
    return _global.random(shape or None, device=device)


def randn(*shape, device=None):
    """N(0, 1) samples of the given shape (float32; a Python float with no arguments)."""
    return _global.standard_normal(shape or None, device=device)


def randint(low, high=None, size=None, dtype=np.int64, device=None):
    """Integers on [low, high) ([0, low) when high is None) from the global generator."""
    return _global.integers(low, high, size, dtype, device=device)


def integers(low, high=None, size=None, dtype=np.int64, endpoint=False, device=None):
    return _global.integers(low, high, size, dtype, endpoint, device)


def permutation(x):
    """A random permutation of range(x), or a shuffled copy of x along axis 0."""
    return _global.permutation(x)


def shuffle(x):
    """Shuffle x in place along axis 0."""
    _global.shuffle(x)


def choice(a, size=None, replace=True):
    return _global.choice(a, size, replace)
