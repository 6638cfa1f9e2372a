"""Autograd: gradcheck (float64 central differences) for every differentiable op, and the engine's
behaviour (accumulation, retain_graph, deep and diamond graphs, grad modes, in-place and version checks,
custom Functions, NumPy dispatch), with a 3-layer MLP against a hand-written NumPy forward and backward."""
import numpy as np
import pytest

import fusednn as fnn
from fusednn.autograd import gradcheck

rng = np.random.default_rng(42)


def rand(*shape, low=-1.0, high=1.0):
    return rng.uniform(low, high, shape)


def grad_of(fn, *arrays):
    """Autograd gradients of sum(fn(*xs)) with respect to each float64 input."""
    xs = [fnn.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    fn(*xs).sum().backward()
    return [np.asarray(x.grad) for x in xs]


# ---- elementwise ----

UNARY = {
    "negative": (fnn.negative, rand(3, 4)), "absolute": (fnn.absolute, rand(3, 4)),
    "square": (fnn.square, rand(3, 4)), "sqrt": (fnn.sqrt, rand(3, 4, low=0.5, high=2)),
    "reciprocal": (fnn.reciprocal, rand(3, 4, low=0.5, high=2)), "exp": (fnn.exp, rand(3, 4)),
    "expm1": (fnn.expm1, rand(3, 4)), "log": (fnn.log, rand(3, 4, low=0.5, high=2)),
    "log1p": (fnn.log1p, rand(3, 4, low=0, high=2)), "sin": (fnn.sin, rand(3, 4)), "cos": (fnn.cos, rand(3, 4)),
    "tanh": (fnn.tanh, rand(3, 4)), "sigmoid": (fnn.sigmoid, rand(3, 4)), "floor": (fnn.floor, rand(3, 4) + 0.5),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradcheck(name):
    fn, x = UNARY[name]
    assert gradcheck(fn, (x,))


BINARY = ["add", "subtract", "multiply", "divide", "power", "maximum", "minimum", "remainder"]


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 4)), ((), (2, 3))])
def test_binary_gradcheck_broadcasting(name, shapes):
    fn = getattr(fnn, name)
    a, b = rand(*shapes[0], low=0.5, high=2), rand(*shapes[1], low=0.5, high=2)
    assert gradcheck(fn, (a, b))


@pytest.mark.parametrize("op", [lambda x: x + 2.5, lambda x: 2.5 - x, lambda x: x * 3, lambda x: 3 / x,
                                lambda x: x ** 2, lambda x: 2 ** x, lambda x: -x, lambda x: abs(x)])
def test_operators_with_python_scalars(op):
    assert gradcheck(op, (rand(2, 3, low=0.5, high=2),))


def test_maximum_minimum_split_ties_evenly():
    a = fnn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = fnn.tensor([1.0, 5.0, 0.0], requires_grad=True)
    (fnn.maximum(a, b) + 2 * fnn.minimum(a, b)).sum().backward()
    np.testing.assert_allclose(np.asarray(a.grad), [1.5, 2.0, 1.0])
    np.testing.assert_allclose(np.asarray(b.grad), [1.5, 1.0, 2.0])


def test_where_clip_astype():
    cond = rand(3, 4) > 0
    assert gradcheck(lambda x, y: fnn.where(cond, x, y), (rand(3, 4), rand(4)))
    assert gradcheck(lambda x: fnn.clip(x, -0.5, 0.5), (rand(3, 4),))
    assert gradcheck(lambda x: fnn.clip(x, None, 0.2), (rand(3, 4),))
    x = fnn.tensor(rand(3), requires_grad=True)  # float64 -> float32 -> float64: the grad keeps x's dtype
    (x.astype(np.float32) * 2).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(np.asarray(x.grad), 2)


# ---- reductions ----

AXES = [None, 0, 1, -1, (0, 2)]


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "prod", "var", "std"])
def test_reduction_gradcheck(name, axis, keepdims):
    fn = getattr(fnn, name)
    assert gradcheck(lambda x: fn(x, axis=axis, keepdims=keepdims), (rand(2, 3, 4, low=0.5, high=2),))


@pytest.mark.parametrize("ddof", [0, 1])
def test_var_std_ddof(ddof):
    assert gradcheck(lambda x: fnn.var(x, axis=1, ddof=ddof), (rand(3, 5),))
    assert gradcheck(lambda x: x.std(ddof=ddof), (rand(3, 5),))


def test_sum_dtype_and_methods():
    x = fnn.tensor(rand(2, 3).astype(np.float32), requires_grad=True)
    x.sum(dtype=np.float64).backward()
    assert x.grad.dtype == np.float32 and np.all(np.asarray(x.grad) == 1)
    assert gradcheck(lambda t: t.mean(axis=0) + t.max(axis=0) * t.prod(axis=1).sum(), (rand(3, 2),))


def test_amax_ties_split_evenly():
    (g,) = grad_of(lambda x: fnn.amax(x, axis=1), [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    np.testing.assert_allclose(g, [[0, 0.5, 0.5], [1 / 3] * 3])
    (g,) = grad_of(fnn.min, [[1.0, 3.0], [1.0, 0.5]])
    np.testing.assert_allclose(g, [[0, 0], [0, 1]])


@pytest.mark.parametrize("values,expected", [
    ([2.0, 3.0, 4.0], [12.0, 8.0, 6.0]),
    ([2.0, 0.0, 4.0], [0.0, 8.0, 0.0]),    # one zero: only it gets the product of the others
    ([0.0, 3.0, 0.0], [0.0, 0.0, 0.0]),    # two zeros: every gradient is 0
])
def test_prod_with_zeros(values, expected):
    (g,) = grad_of(fnn.prod, values)
    np.testing.assert_allclose(g, expected)
    assert gradcheck(lambda x: fnn.prod(x, axis=1), (np.array([values, [1.0, 2.0, 0.5]]),))


def test_non_differentiable_reductions_record_nothing():
    x = fnn.tensor(rand(3, 4), requires_grad=True)
    for y in (fnn.argmax(x), fnn.argmin(x, axis=0), fnn.all(x), fnn.any(x, axis=1), x > 0):
        assert not y.requires_grad and y.grad_fn is None


# ---- shape ----

SHAPE_OPS = {
    "reshape": lambda x: fnn.reshape(x, (4, 6)), "reshape_method": lambda x: x.reshape(6, -1),
    "reshape_tuple": lambda x: x.reshape((24,)),
    "transpose": lambda x: fnn.transpose(x), "transpose_axes": lambda x: fnn.transpose(x, (1, 2, 0)),
    "T": lambda x: x.T, "transpose_method": lambda x: x.transpose(2, 0, 1),
    "transpose_method_tuple": lambda x: x.transpose((0, 2, 1)), "permute": lambda x: x.permute(1, 0, 2),
    "moveaxis": lambda x: fnn.moveaxis(x, 0, -1), "swapaxes": lambda x: fnn.swapaxes(x, 0, 2),
    "swapaxes_method": lambda x: x.swapaxes(1, 2), "expand_dims": lambda x: fnn.expand_dims(x, (0, 3)),
    "squeeze": lambda x: fnn.squeeze(fnn.expand_dims(x, 1), 1), "squeeze_method": lambda x: x[:, None].squeeze(),
    "flatten": lambda x: x.flatten(), "flatten_fn": fnn.flatten, "ravel": fnn.ravel,
    "ravel_method": lambda x: x.T.ravel(), "broadcast_to": lambda x: fnn.broadcast_to(x[:, :1], (5, 2, 3, 4)),
    "broadcast_arrays": lambda x: fnn.broadcast_arrays(x[:1], x)[0] * 2,
    "concatenate": lambda x: fnn.concatenate([x, x[:, :1] * 2, x], axis=1),
    "concatenate_none": lambda x: fnn.concatenate([x, x[0]], axis=None),
    "concatenate_rows": lambda x: fnn.concatenate(x, axis=-1), "stack": lambda x: fnn.stack([x, 3 * x], axis=-1),
    "split": lambda x: fnn.split(x, 3, axis=1)[1] * fnn.split(x, [1], axis=1)[0],
    "array_split": lambda x: fnn.array_split(x, 2, axis=2)[1] ** 2,
    "pad_constant": lambda x: fnn.pad(x, ((1, 0), (0, 2), (1, 1)), constant_values=5),
    "pad_edge": lambda x: fnn.pad(x, ((1, 2), (0, 1), (2, 1)), mode="edge"),
    "pad_reflect": lambda x: fnn.pad(x, ((1, 1), (2, 0), (3, 5)), mode="reflect"),
}


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
def test_shape_gradcheck(name):
    assert gradcheck(SHAPE_OPS[name], (rand(2, 3, 4),))


def test_split_outputs_are_separate_slices():
    x = fnn.tensor(rand(6), requires_grad=True)
    a, b, c = fnn.split(x, 3)
    (a.sum() + 2 * b.sum()).backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [1, 1, 2, 2, 0, 0])


# ---- indexing ----

INDEX_OPS = {
    "int": lambda x: x[1], "slice": lambda x: x[:, ::2], "negative_step": lambda x: x[::-1, 1:],
    "newaxis_ellipsis": lambda x: x[None, ..., 1], "gather": lambda x: x[[0, 2, 2, 0]],
    "gather_2d": lambda x: x[[0, 1, 2], [3, 3, 1]], "gather_tensor_index": lambda x: x[:, fnn.asarray([1, 1, 0])],
    "bool_mask": lambda x: x[np.asarray(x) > 0], "mixed": lambda x: x[1:, [0, 0, 2]],
    "take": lambda x: fnn.take(x, [5, 5, 0]), "take_axis": lambda x: fnn.take(x, [[1, 0], [1, 1]], axis=1),
    "iterate": lambda x: list(x)[2] * list(x)[0],
}


@pytest.mark.parametrize("name", sorted(INDEX_OPS))
def test_indexing_gradcheck(name):
    assert gradcheck(INDEX_OPS[name], (rand(3, 4),))


def test_gather_duplicates_accumulate():
    (g,) = grad_of(lambda x: x[[0, 0, 2, 0]], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(g, [3, 0, 1])


def test_index_add_accumulates_and_setitem_keeps_last_write():
    t = fnn.zeros(4)
    fnn._C._index_add(t, [1, 1, 3], fnn.asarray([1.0, 2.0, 4.0], dtype=np.float32))
    np.testing.assert_array_equal(np.asarray(t), [0, 3, 0, 4])
    t[[0, 0]] = fnn.asarray([5.0, 6.0], dtype=np.float32)
    assert float(t[0]) == 6
    m = fnn.zeros((2, 3), dtype=np.int64)
    fnn._C._index_add(m, (slice(None), [2, 2]), 1)
    np.testing.assert_array_equal(np.asarray(m), [[0, 0, 2], [0, 0, 2]])


def test_index_add_bad_input():
    t = fnn.zeros((2, 3))
    with pytest.raises(IndexError, match="out of bounds"):
        fnn._C._index_add(t, [0, 2], 1.0)
    with pytest.raises(ValueError, match="could not be broadcast"):
        fnn._C._index_add(t, [0, 1, 1], fnn.ones(4))
    np.testing.assert_array_equal(np.asarray(t), 0)  # nothing written


def test_setitem_on_graph_refused():
    x = fnn.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        x[0] = 2.0
    with fnn.no_grad():
        x[0] = 2.0
    assert float(x[0].item()) == 2.0


# ---- matrix products ----

MATMUL_SHAPES = [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 5)),
                 ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (3, 4, 2)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_gradcheck(shapes):
    assert gradcheck(fnn.matmul, (rand(*shapes[0]), rand(*shapes[1])))
    assert gradcheck(lambda a, b: a @ b, (rand(*shapes[0]), rand(*shapes[1])))


def test_rmatmul_and_transposed_operands():
    w = rand(4, 3)
    assert gradcheck(lambda a: w @ a, (rand(3, 2),))            # ndarray @ tensor -> __rmatmul__
    assert gradcheck(lambda a, b: a.T @ b.T, (rand(4, 3), rand(2, 4)))


@pytest.mark.parametrize("name,shapes", [
    ("dot", ((3, 4), (4, 2))), ("dot", ((4,), (4,))), ("dot", ((2, 3, 4), (2, 4, 3))), ("dot", ((), (3,))),
    ("inner", ((3, 4), (2, 4))), ("outer", ((3,), (2, 2))), ("vdot", ((2, 3), (3, 2))),
    ("tensordot", ((2, 3, 4), (3, 4, 2))),
])
def test_products_gradcheck(name, shapes):
    assert gradcheck(getattr(fnn, name), (rand(*shapes[0]), rand(*shapes[1])))


def test_tensordot_axes_pairs():
    assert gradcheck(lambda a, b: fnn.tensordot(a, b, axes=([0, 2], [2, 0])), (rand(2, 3, 4), rand(4, 5, 2)))


@pytest.mark.parametrize("isa_fn", ["matmul", "exp_sum", "gather"])
def test_representative_ops_on_every_isa(isa, isa_fn):
    fn = {"matmul": lambda a, b: fnn.tanh(a @ b).sum(axis=0),
          "exp_sum": lambda a, b: fnn.exp(a).sum(axis=1) * fnn.maximum(b[0], 0.1).mean(),
          "gather": lambda a, b: a[[1, 1, 0]] * b[:3, :4].sum()}[isa_fn]
    assert gradcheck(fn, (rand(3, 4), rand(4, 5)))


# ---- creation ----

@pytest.mark.parametrize("make", [
    lambda: fnn.tensor([1.0, 2.0], requires_grad=True), lambda: fnn.asarray(np.ones(2), requires_grad=True),
    lambda: fnn.array([1.0], requires_grad=True), lambda: fnn.zeros(2, requires_grad=True),
    lambda: fnn.ones((2, 1), requires_grad=True), lambda: fnn.full(2, 1.5, requires_grad=True),
    lambda: fnn.empty(2, requires_grad=True), lambda: fnn.zeros_like(np.ones(2), requires_grad=True),
    lambda: fnn.ones_like(fnn.ones(2), requires_grad=True), lambda: fnn.full_like(np.ones(2), 3.0, requires_grad=True),
    lambda: fnn.empty_like(fnn.ones(2), requires_grad=True), lambda: fnn.arange(0.0, 2.0, requires_grad=True),
    lambda: fnn.linspace(0, 1, 3, requires_grad=True), lambda: fnn.eye(2, requires_grad=True),
    lambda: fnn.identity(2, requires_grad=True),
])
def test_creation_requires_grad(make):
    x = make()
    assert x.requires_grad and x.is_leaf
    (x * 2).sum().backward()
    np.testing.assert_array_equal(np.asarray(x.grad), np.full(x.shape, 2))


def test_creation_requires_grad_integer_refused():
    with pytest.raises(TypeError, match="floating"):
        fnn.arange(3, requires_grad=True)
    with pytest.raises(TypeError, match="floating"):
        fnn.tensor([1, 2]).requires_grad_()
    assert not fnn.zeros(2).requires_grad


# ---- engine ----

def test_accumulates_across_backward_calls():
    x = fnn.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (3 * x).sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), [5.0, 7.0])
    x.zero_grad_()
    assert x.grad is None


def test_leaf_gradients_do_not_alias():
    a, b = fnn.ones(2, requires_grad=True), fnn.ones(2, requires_grad=True)
    (a + b).backward(fnn.ones(2))
    a.grad += 1  # an optimizer's in-place update of one gradient must leave the other alone
    np.testing.assert_array_equal(np.asarray(b.grad), 1)


def test_leaf_gradient_is_a_contiguous_copy_of_the_callers_in_the_leafs_dtype():
    x = fnn.ones((2, 3), requires_grad=True)  # float32
    g64 = fnn.asarray(np.arange(12.0).reshape(3, 4)).T[1:3]  # float64, not contiguous
    x.backward(g64.T.T)
    assert x.grad.dtype == np.float32 and x.grad.is_contiguous()
    g = fnn.asarray(np.ones((2, 3), np.float32))
    x.grad = None
    x.backward(g)
    assert x.grad is not g
    x.grad += 1  # the caller's tensor is left alone
    np.testing.assert_array_equal(np.asarray(g), 1)
    x.backward(g)  # accumulates out of place
    np.testing.assert_array_equal(np.asarray(x.grad), 3)


def test_outputs_are_freed_without_the_cyclic_gc():
    import gc
    import weakref
    x = fnn.ones(3, requires_grad=True)
    y = fnn.exp(x)  # exp saves its own output
    ref = weakref.ref(y)
    gc.disable()
    try:
        del y
        assert ref() is None
    finally:
        gc.enable()


def test_retain_graph():
    x = fnn.tensor([1.0, 2.0], requires_grad=True)
    y = (fnn.exp(x) * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(np.asarray(x.grad), 4 * np.exp([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_deep_chain_has_no_recursion_limit():
    x = fnn.tensor([1.0], dtype=np.float64, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), [1.0001 ** 10_000], rtol=1e-9)
    del y


def test_diamond_graph():
    x = fnn.tensor([2.0, 3.0], requires_grad=True)
    a = x * x      # x used twice, and a used twice below
    y = (a + fnn.sin(a) * x).sum()
    y.backward()
    xv = np.array([2.0, 3.0])
    np.testing.assert_allclose(np.asarray(x.grad), 2 * xv + np.cos(xv ** 2) * 2 * xv * xv + np.sin(xv ** 2))


def test_no_grad_context_and_decorator():
    x = fnn.ones(2, requires_grad=True)
    with fnn.no_grad():
        assert not fnn.is_grad_enabled()
        assert not (x * 2).requires_grad
    assert fnn.is_grad_enabled()

    @fnn.no_grad()
    def f(t):
        return t * 2

    @fnn.no_grad
    def g(t):
        return t * 2
    assert not f(x).requires_grad and not g(x).requires_grad and fnn.is_grad_enabled()
    with fnn.no_grad():
        with fnn.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad


def test_set_grad_enabled():
    x = fnn.ones(2, requires_grad=True)
    with fnn.set_grad_enabled(False):
        assert not (x + 1).requires_grad
    assert (x + 1).requires_grad
    fnn.set_grad_enabled(False)
    try:
        assert not fnn.is_grad_enabled()
    finally:
        fnn.set_grad_enabled(True)
    assert fnn.is_grad_enabled()


def test_detach_shares_memory_outside_the_graph():
    x = fnn.ones(3, requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad and y.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_requires_grad_on_integer_tensor_raises():
    with pytest.raises(TypeError, match="floating"):
        fnn.arange(3).requires_grad_()


def test_inplace_refused_on_tensor_that_requires_grad():
    x = fnn.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        x += 1
    with pytest.raises(RuntimeError, match="in-place"):
        x.fill(0)
    with fnn.no_grad():
        x -= 1  # parameter updates happen this way
    np.testing.assert_array_equal(np.asarray(x), 0)


def test_saved_tensor_modified_under_no_grad_is_detected():
    x = fnn.tensor([1.0, 2.0], requires_grad=True)
    y = fnn.exp(x)           # saves x and y
    z = (y * 1).sum()
    with fnn.no_grad():
        y *= 2
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.backward()


def test_custom_function():
    class Cube(fnn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, dy):
            (x,) = ctx.saved_tensors
            return 3 * x * x * dy

    assert gradcheck(Cube.apply, (rand(3),))
    y = Cube.apply(fnn.tensor([2.0], requires_grad=True))
    assert repr(y.grad_fn) == "<CubeBackward>"


def test_numpy_dispatch_is_differentiable():
    assert gradcheck(lambda x: np.sum(np.exp(x) * np.tanh(x), axis=0), (rand(3, 2),))
    assert gradcheck(lambda x: np.matmul(x, x.T) + np.mean(x), (rand(2, 3),))


def test_backward_errors():
    x = fnn.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="one-element"):
        (x * 2).backward()
    with pytest.raises(ValueError, match="shape"):
        (x * 2).backward(fnn.ones(2))
    (x * 2).backward(fnn.ones(3))
    np.testing.assert_array_equal(np.asarray(x.grad), 2)


def test_float32_gradients_keep_dtype():
    x = fnn.ones((2, 3), requires_grad=True)
    w = fnn.tensor(rand(3, 4).astype(np.float32), requires_grad=True)
    (x @ w).mean().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32
    np.testing.assert_allclose(np.asarray(w.grad), np.full((3, 4), 1 / 4), rtol=1e-6)


def test_mlp_against_numpy():
    """A 3-layer MLP (matmul, +, maximum, sum) against a hand-written float64 forward and backward."""
    sizes = [5, 7, 6, 1]
    xs = rand(8, 5)
    ws = [rand(a, b) for a, b in zip(sizes, sizes[1:])]
    bs = [rand(b) for b in sizes[1:]]

    params = [fnn.tensor(p, requires_grad=True) for pair in zip(ws, bs) for p in pair]
    h = fnn.asarray(xs)
    for i in range(3):
        h = h @ params[2 * i] + params[2 * i + 1]
        if i < 2:
            h = fnn.maximum(h, 0.0)
    loss = (h * h).sum() / 8
    loss.backward()

    acts, pre = [xs], []
    for i in range(3):
        z = acts[-1] @ ws[i] + bs[i]
        pre.append(z)
        acts.append(np.maximum(z, 0) if i < 2 else z)
    np.testing.assert_allclose(float(loss), (acts[-1] ** 2).sum() / 8, rtol=1e-12)
    dz = 2 * acts[-1] / 8
    for i in reversed(range(3)):
        np.testing.assert_allclose(np.asarray(params[2 * i].grad), acts[i].T @ dz, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(np.asarray(params[2 * i + 1].grad), dz.sum(axis=0), rtol=1e-10, atol=1e-12)
        if i > 0:
            dz = (dz @ ws[i].T) * (pre[i - 1] > 0)
