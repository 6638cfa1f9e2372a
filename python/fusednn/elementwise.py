"""Elementwise ops with NumPy names, broadcasting and NumPy 2 dtype rules: unary math, arithmetic,
comparisons, logic, where, clip, round, casts and copies; plus the Tensor operators built on them.

Python scalars are "weak" (NEP 50): ``float32_tensor + 1.5`` stays float32. Where NumPy would return
float16 or int8 (``exp`` of bool, ``square`` of bool) fusednn returns float32 or int32.

Each differentiable op names its gradient beside its forward: ``grad(dy, x, y)`` for unary ops and
``grad(dy, a, b, y)`` for binary ones, returning the gradient of each input (broadcast gradients are
reduced to the input's shape by autograd).
"""
import numpy as np

from . import _C
from ._tensor import Tensor, as_tensor, implements, method
from .autograd import _Mode, record, wants_grad

_U = _C.UnaryOp
_B = _C.BinaryOp

__all__ = ["astype", "copy", "ascontiguousarray", "where", "clip", "round", "around", "rint", "abs",
           "divide", "mod", "sigmoid", "bitwise_not", "positive"]


def _unary(name, formula, np_func=None, grad=None):
    op = getattr(_U, name)

    def fn(x):
        y = _C.unary(op, x)
        if grad is not None and _Mode.enabled and getattr(x, "requires_grad", False):
            record(name, y, grad, (x,), (x, y))
        return y
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {formula}."
    implements(*([np_func] if np_func is not None else []), ufunc=name if np_func is not None else None)(fn)
    __all__.append(name)
    return fn


def _binary(name, formula, grad=None):
    op = getattr(_B, name)

    def fn(x1, x2):
        y = _C.binary(op, x1, x2)
        if grad is not None and _Mode.enabled and (getattr(x1, "requires_grad", False)
                                                   or getattr(x2, "requires_grad", False)):
            record(name, y, grad, (x1, x2), (x1, x2, y))
        return y
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {formula}, with broadcasting."
    implements(getattr(np, name), ufunc=name)(fn)
    __all__.append(name)
    return fn


def _zero_grad(dy, *inputs):
    """Gradient of piecewise-constant ops (floor, sign, ...): zero almost everywhere."""
    return tuple(dy * 0 for _ in inputs[:-1])


def _extremum_grad(wins):
    """Gradient of maximum (wins = greater) or minimum (wins = less): dy goes to the winning input;
    ties split it evenly between the two, as in PyTorch."""
    def grad(dy, a, b, y):
        share = _C.where(_C.binary(_B.equal, a, b), 0.5, _C.where(_C.binary(wins, a, b), 1.0, 0.0))
        return (dy * share if wants_grad(a) else None, dy * (1.0 - share) if wants_grad(b) else None)
    return grad


def _power_grad(dy, a, b, y):
    # d(a^b)/da = b a^(b-1); d(a^b)/db = a^b ln a (computed only when b needs it: ln of a <= 0 is NaN).
    da = dy * b * a ** (b - 1) if wants_grad(a) else None
    db = dy * y * log(a) if wants_grad(b) else None
    return da, db


negative = _unary("negative", "-x", np.negative, lambda dy, x, y: (-dy,))
absolute = _unary("absolute", "|x|", np.absolute, lambda dy, x, y: (dy * sign(x),))
sign = _unary("sign", "sign(x) in {-1, 0, 1} (NaN stays NaN)", np.sign, _zero_grad)
square = _unary("square", "x * x", np.square, lambda dy, x, y: (dy * 2 * x,))
sqrt = _unary("sqrt", "sqrt(x)", np.sqrt, lambda dy, x, y: (dy * 0.5 / y,))
reciprocal = _unary("reciprocal", "1 / x", np.reciprocal, lambda dy, x, y: (-dy * y * y,))
exp = _unary("exp", "e^x", np.exp, lambda dy, x, y: (dy * y,))
expm1 = _unary("expm1", "e^x - 1, accurate for small x", np.expm1, lambda dy, x, y: (dy * (y + 1),))
log = _unary("log", "natural logarithm ln(x)", np.log, lambda dy, x, y: (dy / x,))
log1p = _unary("log1p", "ln(1 + x), accurate for small x", np.log1p, lambda dy, x, y: (dy / (x + 1),))
sin = _unary("sin", "sin(x)", np.sin, lambda dy, x, y: (dy * cos(x),))
cos = _unary("cos", "cos(x)", np.cos, lambda dy, x, y: (-dy * sin(x),))
tanh = _unary("tanh", "tanh(x) = (e^2x - 1) / (e^2x + 1)", np.tanh, lambda dy, x, y: (dy * (1 - y * y),))
sigmoid = _unary("sigmoid", "sigmoid(x) = 1 / (1 + e^-x)", None, lambda dy, x, y: (dy * y * (1 - y),))
floor = _unary("floor", "floor(x), the largest integer <= x", np.floor, _zero_grad)
ceil = _unary("ceil", "ceil(x), the smallest integer >= x", np.ceil, _zero_grad)
logical_not = _unary("logical_not", "not x, as bool", np.logical_not)
isnan = _unary("isnan", "x is NaN", np.isnan)
isinf = _unary("isinf", "x is +-inf", np.isinf)
isfinite = _unary("isfinite", "x is neither inf nor NaN", np.isfinite)
invert = _unary("invert", "bitwise not ~x (logical not for bool)", np.invert)
bitwise_not = invert
abs = absolute

add = _binary("add", "x1 + x2", lambda dy, a, b, y: (dy, dy))
subtract = _binary("subtract", "x1 - x2", lambda dy, a, b, y: (dy, -dy))
multiply = _binary("multiply", "x1 * x2", lambda dy, a, b, y: (dy * b, dy * a))
floor_divide = _binary("floor_divide", "floor(x1 / x2) (integer division by 0 gives 0)", _zero_grad)
remainder = _binary("remainder", "x1 - floor(x1 / x2) * x2, with the sign of x2 (integer x2 = 0 gives 0)",
                    lambda dy, a, b, y: (dy, -dy * floor_divide(a, b)))
power = _binary("power", "x1 ** x2 (integer x2 < 0 raises ValueError)", _power_grad)
maximum = _binary("maximum", "max(x1, x2), NaN if either is NaN", _extremum_grad(_B.greater))
minimum = _binary("minimum", "min(x1, x2), NaN if either is NaN", _extremum_grad(_B.less))
equal = _binary("equal", "x1 == x2")
not_equal = _binary("not_equal", "x1 != x2")
less = _binary("less", "x1 < x2")
less_equal = _binary("less_equal", "x1 <= x2")
greater = _binary("greater", "x1 > x2")
greater_equal = _binary("greater_equal", "x1 >= x2")
logical_and = _binary("logical_and", "x1 and x2, as bool")
logical_or = _binary("logical_or", "x1 or x2, as bool")
logical_xor = _binary("logical_xor", "x1 xor x2, as bool")
bitwise_and = _binary("bitwise_and", "x1 & x2 (bool and integers)")
bitwise_or = _binary("bitwise_or", "x1 | x2 (bool and integers)")
bitwise_xor = _binary("bitwise_xor", "x1 ^ x2 (bool and integers)")


@implements(np.divide, np.true_divide, ufunc="divide")
def divide(x1, x2):
    """Elementwise true division x1 / x2; integer and bool inputs give float64."""
    y = _C.binary(_B.divide, x1, x2)
    if _Mode.enabled and (getattr(x1, "requires_grad", False) or getattr(x2, "requires_grad", False)):
        record("divide", y, _divide_grad, (x1, x2), (x1, x2, y))
    return y


def _divide_grad(dy, a, b, y):
    return dy / b, (-dy * y / b) if wants_grad(b) else None


true_divide = divide
mod = remainder
__all__.append("true_divide")


@implements(np.positive, ufunc="positive")
def positive(x):
    """Elementwise +x: a copy of x."""
    return copy(x)


@implements(np.round, np.around)
def round(a, decimals=0):
    """Round half to even to ``decimals`` places: round(x * 10^decimals) / 10^decimals. Integers change
    only for negative ``decimals``; bool gives float32."""
    return _C.round(a, int(decimals))


around = round


@implements(np.rint, ufunc="rint")
def rint(x):
    """Round half to even to the nearest integer, as a float (integers give float64, bool float32)."""
    t = as_tensor(x)
    if t.dtype.kind != "f":
        t = _C.astype(t, np.float32 if t.dtype == np.bool_ else np.float64)
    return _C.round(t, 0)


@implements(np.where)
def where(condition, x, y):
    """Elementwise ``x if condition else y`` with broadcasting; the result dtype is that of x and y."""
    out = _C.where(condition, x, y)
    if _Mode.enabled and (getattr(x, "requires_grad", False) or getattr(y, "requires_grad", False)):
        record("where", out, _where_grad, (None, x, y), (condition,))
    return out


def _where_grad(dy, condition):
    return None, _C.where(condition, dy, 0), _C.where(condition, 0, dy)


@implements(np.clip)
def clip(a, a_min=None, a_max=None):
    """Elementwise min(max(a, a_min), a_max); either bound may be None. NaN in a or a bound gives NaN."""
    if a_min is None and a_max is None:
        raise ValueError("One of max or min must be given")
    out = _C.clip(a, a_min, a_max)
    if _Mode.enabled and getattr(a, "requires_grad", False):
        record("clip", out, _clip_grad, (a,), (a, a_min, a_max))
    return out


def _clip_grad(dy, a, a_min, a_max):
    # The gradient passes where a_min <= a <= a_max, as in PyTorch.
    inside = _C.binary(_B.greater_equal, a, a_min) if a_min is not None else None
    if a_max is not None:
        below = _C.binary(_B.less_equal, a, a_max)
        inside = below if inside is None else _C.binary(_B.logical_and, inside, below)
    return (_C.where(inside, dy, 0),)


@implements(np.astype)
def astype(x, dtype, /, *, copy=True):
    """x converted to ``dtype`` (a new C-contiguous tensor; x itself when copy=False and the dtype matches).
    Float to integer truncates toward zero; NaN and out-of-range values give the most negative integer."""
    if not copy and isinstance(x, Tensor) and x.dtype == np.dtype(dtype):
        return x
    out = _C.astype(x, dtype)
    if _Mode.enabled and getattr(x, "requires_grad", False) and out.dtype.kind == "f":
        record("astype", out, _astype_grad, (x,), (x.dtype,))
    return out


def _astype_grad(dy, dtype):
    return (_C.astype(dy, dtype),)


@implements(np.copy)
def copy(a):
    """A C-contiguous copy of a."""
    return astype(a, as_tensor(a).dtype)


@implements(np.ascontiguousarray)
def ascontiguousarray(a, dtype=None):
    """a as a C-contiguous tensor: a itself when it already is one (and has ``dtype``), else a copy."""
    t = as_tensor(a)
    if dtype is not None and t.dtype != np.dtype(dtype):
        return astype(a, dtype)
    return a if isinstance(a, Tensor) and a.is_contiguous() else astype(a, t.dtype)


# ---- Tensor methods and operators ----

method("astype")(lambda self, dtype, copy=True: astype(self, dtype, copy=copy))
method("copy")(copy)


@method
def fill(self, value):
    """Set every element to ``value`` in place."""
    _refuse_inplace_on_graph(self, "fill")
    _C.fill(self, value)

method("clip")(clip)
method("round")(round)

def _refuse_inplace_on_graph(tensor, op):
    if _Mode.enabled and getattr(tensor, "requires_grad", False):
        raise RuntimeError(f"in-place {op} on a tensor that requires grad would corrupt its gradient; use the "
                           f"out-of-place form, or update it under fnn.no_grad()")


def _operators(name, fn, op):
    def reflected(self, other):
        return fn(other, self)

    def inplace(self, other):
        _refuse_inplace_on_graph(self, f"__i{name}__")
        _C.binary_inplace(op, self, other)
        return self
    setattr(Tensor, f"__{name}__", fn)  # fn(x1, x2) is already fn(self, other)
    setattr(Tensor, f"__r{name}__", reflected)
    setattr(Tensor, f"__i{name}__", inplace)


for _name, _fn, _op in [("add", add, _B.add), ("sub", subtract, _B.subtract), ("mul", multiply, _B.multiply),
                        ("truediv", divide, _B.divide), ("floordiv", floor_divide, _B.floor_divide),
                        ("mod", remainder, _B.remainder), ("pow", power, _B.power),
                        ("and", bitwise_and, _B.bitwise_and), ("or", bitwise_or, _B.bitwise_or),
                        ("xor", bitwise_xor, _B.bitwise_xor)]:
    _operators(_name, _fn, _op)

def _comparison(fn):
    def compare(self, other):
        return NotImplemented if other is None else fn(self, other)  # t == None is False, as for any object
    return compare


for _name, _fn in {"eq": equal, "ne": not_equal, "lt": less, "le": less_equal, "gt": greater,
                   "ge": greater_equal}.items():
    setattr(Tensor, f"__{_name}__", _comparison(_fn))

Tensor.__neg__ = negative
Tensor.__pos__ = positive
Tensor.__abs__ = absolute
Tensor.__invert__ = invert
