"""Elementwise ops with NumPy names, broadcasting and NumPy 2 dtype rules: unary math, arithmetic,
comparisons, logic, where, clip, round, casts and copies; plus the Tensor operators built on them.

Python scalars are "weak" (NEP 50): ``float32_tensor + 1.5`` stays float32. Where NumPy would return
float16 or int8 (``exp`` of bool, ``square`` of bool) fusednn returns float32 or int32.
"""
import numpy as np

from . import _C
from ._tensor import Tensor, implements, method

_U = _C.UnaryOp
_B = _C.BinaryOp

__all__ = ["astype", "copy", "ascontiguousarray", "where", "clip", "round", "around", "rint", "abs",
           "divide", "mod", "sigmoid", "bitwise_not", "positive"]


def _unary(name, formula, np_func=None):
    op = getattr(_U, name)

    def fn(x):
        return _C.unary(op, x)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {formula}."
    implements(*([np_func] if np_func is not None else []), ufunc=name if np_func is not None else None)(fn)
    __all__.append(name)
    return fn


def _binary(name, formula):
    op = getattr(_B, name)

    def fn(x1, x2):
        return _C.binary(op, x1, x2)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {formula}, with broadcasting."
    implements(getattr(np, name), ufunc=name)(fn)
    __all__.append(name)
    return fn


negative = _unary("negative", "-x", np.negative)
absolute = _unary("absolute", "|x|", np.absolute)
sign = _unary("sign", "sign(x) in {-1, 0, 1} (NaN stays NaN)", np.sign)
square = _unary("square", "x * x", np.square)
sqrt = _unary("sqrt", "sqrt(x)", np.sqrt)
reciprocal = _unary("reciprocal", "1 / x", np.reciprocal)
exp = _unary("exp", "e^x", np.exp)
expm1 = _unary("expm1", "e^x - 1, accurate for small x", np.expm1)
log = _unary("log", "natural logarithm ln(x)", np.log)
log1p = _unary("log1p", "ln(1 + x), accurate for small x", np.log1p)
sin = _unary("sin", "sin(x)", np.sin)
cos = _unary("cos", "cos(x)", np.cos)
tanh = _unary("tanh", "tanh(x) = (e^2x - 1) / (e^2x + 1)", np.tanh)
sigmoid = _unary("sigmoid", "sigmoid(x) = 1 / (1 + e^-x)")
floor = _unary("floor", "floor(x), the largest integer <= x", np.floor)
ceil = _unary("ceil", "ceil(x), the smallest integer >= x", np.ceil)
logical_not = _unary("logical_not", "not x, as bool", np.logical_not)
isnan = _unary("isnan", "x is NaN", np.isnan)
isinf = _unary("isinf", "x is +-inf", np.isinf)
isfinite = _unary("isfinite", "x is neither inf nor NaN", np.isfinite)
invert = _unary("invert", "bitwise not ~x (logical not for bool)", np.invert)
bitwise_not = invert
abs = absolute

add = _binary("add", "x1 + x2")
subtract = _binary("subtract", "x1 - x2")
multiply = _binary("multiply", "x1 * x2")
floor_divide = _binary("floor_divide", "floor(x1 / x2) (integer division by 0 gives 0)")
remainder = _binary("remainder", "x1 - floor(x1 / x2) * x2, with the sign of x2 (integer x2 = 0 gives 0)")
power = _binary("power", "x1 ** x2 (integer x2 < 0 raises ValueError)")
maximum = _binary("maximum", "max(x1, x2), NaN if either is NaN")
minimum = _binary("minimum", "min(x1, x2), NaN if either is NaN")
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
    return _C.binary(_B.divide, x1, x2)


true_divide = divide
mod = remainder
__all__.append("true_divide")


@implements(np.positive, ufunc="positive")
def positive(x):
    """Elementwise +x: a copy of x."""
    return _C.astype(x, _C._to_tensor(x).dtype)


@implements(np.round, np.around)
def round(a, decimals=0):
    """Round half to even to ``decimals`` places: round(x * 10^decimals) / 10^decimals. Integers change
    only for negative ``decimals``; bool gives float32."""
    return _C.round(a, int(decimals))


around = round


@implements(np.rint, ufunc="rint")
def rint(x):
    """Round half to even to the nearest integer, as a float (integers give float64, bool float32)."""
    t = _C._to_tensor(x)
    if t.dtype.kind != "f":
        t = _C.astype(t, np.float32 if t.dtype == np.bool_ else np.float64)
    return _C.round(t, 0)


@implements(np.where)
def where(condition, x, y):
    """Elementwise ``x if condition else y`` with broadcasting; the result dtype is that of x and y."""
    return _C.where(condition, x, y)


@implements(np.clip)
def clip(a, a_min=None, a_max=None):
    """Elementwise min(max(a, a_min), a_max); either bound may be None. NaN in a or a bound gives NaN."""
    if a_min is None and a_max is None:
        raise ValueError("One of max or min must be given")
    return _C.clip(a, a_min, a_max)


@implements(np.astype)
def astype(x, dtype, /, *, copy=True):
    """x converted to ``dtype`` (a new C-contiguous tensor; x itself when copy=False and the dtype matches).
    Float to integer truncates toward zero; NaN and out-of-range values give the most negative integer."""
    if not copy and isinstance(x, Tensor) and x.dtype == np.dtype(dtype):
        return x
    return _C.astype(x, dtype)


@implements(np.copy)
def copy(a):
    """A C-contiguous copy of a."""
    t = _C._to_tensor(a)
    return _C.astype(t, t.dtype)


@implements(np.ascontiguousarray)
def ascontiguousarray(a, dtype=None):
    """a as a C-contiguous tensor: a itself when it already is one (and has ``dtype``), else a copy."""
    t = _C._to_tensor(a)
    if dtype is not None and t.dtype != np.dtype(dtype):
        return _C.astype(t, dtype)
    return a if isinstance(a, Tensor) and a.is_contiguous() else _C.contiguous(t)


# ---- Tensor methods and operators ----

method("astype")(lambda self, dtype, copy=True: astype(self, dtype, copy=copy))
method("copy")(copy)
method("fill")(lambda self, value: _C.fill(self, value))
method("clip")(clip)
method("round")(round)

_OPERATORS = {
    "add": _B.add, "sub": _B.subtract, "mul": _B.multiply, "truediv": _B.divide, "floordiv": _B.floor_divide,
    "mod": _B.remainder, "pow": _B.power, "and": _B.bitwise_and, "or": _B.bitwise_or, "xor": _B.bitwise_xor,
}


def _operators(name, op):
    def forward(self, other):
        return _C.binary(op, self, other)

    def reflected(self, other):
        return _C.binary(op, other, self)

    def inplace(self, other):
        _C.binary_inplace(op, self, other)
        return self
    for prefix, fn in (("", forward), ("r", reflected), ("i", inplace)):
        setattr(Tensor, f"__{prefix}{name}__", fn)


for _name, _op in _OPERATORS.items():
    _operators(_name, _op)

for _name, _op in {"eq": _B.equal, "ne": _B.not_equal, "lt": _B.less, "le": _B.less_equal,
                   "gt": _B.greater, "ge": _B.greater_equal}.items():
    setattr(Tensor, f"__{_name}__", (lambda op: lambda self, other: _C.binary(op, self, other))(_op))

Tensor.__neg__ = negative
Tensor.__pos__ = positive
Tensor.__abs__ = absolute
Tensor.__invert__ = invert
