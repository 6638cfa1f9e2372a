"""The device API: moving tensors between the host and CUDA devices, the caching device allocator, DLPack
for CUDA tensors, and the errors of a machine (or build) without a usable GPU. The GPU tests compare
against the host copy of the same data and are skipped, with the reason, where no device is present."""
import numpy as np
import pytest

import fusednn as fnn

requires_gpu = pytest.mark.skipif(not fnn.cuda.is_available(), reason="no CUDA device on this machine")
no_gpu = pytest.mark.skipif(fnn.cuda.is_available(), reason="a CUDA device is present")


# ---------------------------------------------------------------- every machine

def test_queries_agree():
    assert fnn.cuda.is_available() == (fnn.cuda.device_count() > 0)
    if not fnn.cuda.is_built():
        assert fnn.cuda.device_count() == 0


def test_to_on_the_same_device_is_the_tensor_itself():
    x = fnn.arange(6.0)
    assert x.to("cpu") is x and x.cpu() is x and x.to(x) is x
    assert x.to("cpu", copy=True) is not x
    np.testing.assert_array_equal(x.to("cpu", copy=True), np.arange(6.0, dtype=np.float32))


def test_to_casts_dtype_like_astype():
    x = fnn.asarray(np.array([1.5, -2.5, 3.25], np.float32))
    y = x.to(np.float64)
    assert y.dtype == np.float64 and y.device == "cpu"
    np.testing.assert_array_equal(y, [1.5, -2.5, 3.25])
    assert x.to("cpu", "float64").dtype == np.float64
    assert x.to(dtype=np.int64).dtype == np.int64


def test_to_is_differentiable_through_a_cast():
    x = fnn.asarray(np.array([1.0, 2.0], np.float32), requires_grad=True)
    (x.to(np.float64) * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    assert x.grad.dtype == np.float32


def test_memory_stats_without_a_device_are_zero():
    if fnn.cuda.is_available():
        pytest.skip("a CUDA device is present")
    assert fnn.cuda.memory_allocated() == 0 and fnn.cuda.memory_reserved() == 0
    fnn.cuda.empty_cache()  # nothing to return, and no error


@no_gpu
@pytest.mark.parametrize("make", [
    lambda: fnn.ones(3).cuda(),
    lambda: fnn.ones(3).to("cuda"),
    lambda: fnn.ones(3).to("cuda:0", np.float64),
    lambda: fnn.zeros((2, 2), device="cuda"),
    lambda: fnn.arange(4, device="cuda:0"),
    lambda: fnn.cuda.synchronize(),
], ids=["cuda()", "to", "to+dtype", "zeros", "arange", "synchronize"])
def test_without_a_device_cuda_requests_raise_runtime_error(make):
    with pytest.raises(RuntimeError, match="without CUDA|no CUDA device"):
        make()


@pytest.mark.parametrize("device", ["cuda:x", "cuda:-1", "gpu:0"])
def test_bad_device_names_raise(device):
    with pytest.raises((ValueError, TypeError), match="device|data type"):
        fnn.ones(2).to(device)


def test_bad_device_name_in_the_binding_raises_value_error():
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        fnn._C._to_device(fnn.ones(2), "tpu")


# ---------------------------------------------------------------- with a GPU

@requires_gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.bool_])
@pytest.mark.parametrize("shape", [(0,), (1,), (7,), (3, 5), (2, 3, 4), (1 << 20,)])
def test_round_trip_keeps_values(dtype, shape):
    host = (np.random.default_rng(0).standard_normal(shape) * 10).astype(dtype)
    x = fnn.asarray(host)
    d = x.to("cuda")
    assert d.device == "cuda:0" and d.dtype == dtype and d.shape == shape
    back = d.cpu()
    assert back.device == "cpu"
    np.testing.assert_array_equal(back, host)


@requires_gpu
def test_strided_device_views_come_back_in_their_layout():
    host = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    d = fnn.asarray(host).cuda()
    for view, ref in [(d.T, host.T), (d.transpose(1, 0, 2), host.transpose(1, 0, 2)), (d.swapaxes(0, 2), host.swapaxes(0, 2))]:
        np.testing.assert_array_equal(view.cpu(), ref)
    np.testing.assert_array_equal(d.T.to("cuda:0", copy=True).cpu(), host.T)


@requires_gpu
def test_creation_on_the_device_and_like_follows_the_prototype():
    z = fnn.zeros((2, 3), device="cuda")
    assert z.device == "cuda:0"
    np.testing.assert_array_equal(z.cpu(), np.zeros((2, 3), np.float32))
    o = fnn.ones_like(z)
    assert o.device == "cuda:0"
    np.testing.assert_array_equal(o.cpu(), np.ones((2, 3), np.float32))
    assert fnn.zeros_like(z, device="cpu").device == "cpu"


@requires_gpu
def test_allocator_reuses_freed_blocks():
    fnn.cuda.synchronize()
    before = fnn.cuda.memory_allocated()
    d = fnn.ones(1 << 20).cuda()
    assert fnn.cuda.memory_allocated() >= before + 4 * (1 << 20)
    reserved = fnn.cuda.memory_reserved()
    del d
    assert fnn.cuda.memory_allocated() == before
    assert fnn.cuda.memory_reserved() == reserved  # kept for reuse
    again = fnn.ones(1 << 20).cuda()
    assert fnn.cuda.memory_reserved() == reserved
    del again
    fnn.cuda.empty_cache()
    assert fnn.cuda.memory_reserved() == fnn.cuda.memory_allocated()


@requires_gpu
def test_huge_device_allocation_raises_memory_error_naming_the_device():
    with pytest.raises(MemoryError, match="cuda:0"):
        fnn.empty((1 << 40,), device="cuda")


@requires_gpu
def test_host_views_of_device_tensors_are_refused():
    d = fnn.ones(3).cuda()
    with pytest.raises(TypeError, match=r"\.cpu\(\)"):
        np.asarray(d)
    with pytest.raises((TypeError, BufferError)) as refused:
        memoryview(d)
    # pybind11 3 reports a failed buffer request as BufferError, with our TypeError as its cause
    assert ".cpu()" in str(refused.value) + str(refused.value.__cause__)


@requires_gpu
def test_ops_without_a_device_kernel_refuse_device_tensors_before_touching_memory():
    d = fnn.arange(6, device="cuda").reshape(2, 3)
    with pytest.raises(NotImplementedError, match=r"CUDA tensors.*\.cpu\(\)"):
        d @ d.T  # integer matmul runs on the host only


@requires_gpu
def test_asarray_and_tensor_keep_device_tensors_on_their_device():
    d = fnn.arange(4.0, device="cuda")
    assert fnn.asarray(d) is d
    copy = fnn.tensor(d)
    assert copy is not d and copy.device == "cuda:0"
    np.testing.assert_array_equal(copy.cpu(), np.arange(4.0, dtype=np.float32))
    assert fnn.asarray(d, dtype=np.float64).device == "cuda:0"
    np.testing.assert_array_equal(fnn.full((2, 4), d).cpu(), np.tile(np.arange(4.0, dtype=np.float32), (2, 1)))


@requires_gpu
@pytest.mark.parametrize("to", [np.float32, np.float64, np.int32, np.int64, np.bool_])
@pytest.mark.parametrize("source", [np.float32, np.float64, np.int32, np.int64, np.bool_])
def test_astype_on_the_device_matches_the_host(source, to):
    if np.dtype(source).kind == "f":  # out of range and NaN: the most negative integer, as on the host
        values = np.array([0.0, -1.5, 2.75, 1e10, -1e10, np.nan, np.inf, 3.0, -0.0]).astype(source)
    else:
        values = np.array([0, -1, 2, 7, 1, 0, -5, 3, 1]).astype(source)
    host = fnn.asarray(values)
    d = host.cuda().astype(to)
    assert d.device == "cuda:0" and d.dtype == to
    np.testing.assert_array_equal(d.cpu(), host.astype(to))


@requires_gpu
def test_fill_and_contiguous_run_on_the_device():
    d = fnn.zeros((3, 4), device="cuda")
    d.fill(2.5)
    np.testing.assert_array_equal(d.cpu(), np.full((3, 4), 2.5, np.float32))
    t = fnn.asarray(np.arange(12, dtype=np.float64).reshape(3, 4)).cuda().T
    c = fnn.ascontiguousarray(t)
    assert c.device == "cuda:0" and c.is_contiguous()
    np.testing.assert_array_equal(c.cpu(), np.arange(12, dtype=np.float64).reshape(3, 4).T)


UNARY = ["negative", "absolute", "sign", "square", "sqrt", "reciprocal", "exp", "expm1", "log", "log1p", "sin",
         "cos", "tanh", "sigmoid", "floor", "ceil", "rint", "logical_not", "isnan", "isinf", "isfinite", "invert"]
BINARY = ["add", "subtract", "multiply", "divide", "floor_divide", "remainder", "power", "maximum", "minimum",
          "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and", "logical_or",
          "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor"]
DTYPES = [np.bool_, np.int32, np.int64, np.float32, np.float64]


def _sample(dtype, n=257, seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "b":
        return rng.random(n) < 0.5
    if np.dtype(dtype).kind == "i":
        return rng.integers(-9, 10, n).astype(dtype)
    x = (rng.standard_normal(n) * 4).astype(dtype)
    x[:4] = [np.nan, np.inf, -np.inf, -0.0]
    return x


def _same_as_host(run, *hosts):
    """run(*device tensors) on the device equals run(*host tensors), or both raise the same error."""
    try:
        expected = run(*hosts)
    except (TypeError, ValueError) as e:
        with pytest.raises(type(e)):
            run(*(h.cuda() for h in hosts))
        return
    got = run(*(h.cuda() for h in hosts))
    assert got.device == "cuda:0" and got.dtype == expected.dtype and got.shape == expected.shape
    if expected.dtype.kind == "f":  # libm against our vectorised math: a few ulp apart
        rtol = 1e-5 if expected.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got.cpu(), expected, rtol=rtol, atol=rtol)
    else:
        np.testing.assert_array_equal(got.cpu(), expected)


@requires_gpu
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", UNARY)
def test_unary_ops_on_the_device_match_the_host(name, dtype):
    op = getattr(fnn._C.UnaryOp, name)
    _same_as_host(lambda x: fnn._C.unary(op, x), fnn.asarray(_sample(dtype)))


@requires_gpu
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", BINARY)
def test_binary_ops_on_the_device_match_the_host(name, dtype):
    op = getattr(fnn._C.BinaryOp, name)
    a, b = fnn.asarray(_sample(dtype)), fnn.asarray(_sample(dtype, seed=1))
    if name == "power" and np.dtype(dtype).kind == "i":
        b = fnn.asarray(np.abs(_sample(dtype, seed=1)) % 5)
    _same_as_host(lambda x, y: fnn._C.binary(op, x, y), a, b)


@requires_gpu
def test_broadcasting_scalars_and_views_on_the_device():
    a = fnn.asarray(np.arange(12, dtype=np.float32).reshape(3, 4))
    b = fnn.asarray(np.array([1.0, -2.0, 3.0, 0.5], np.float32))
    _same_as_host(lambda x, y: x * y + 1.5, a, b)
    _same_as_host(lambda x, y: x.T - y[:3], a, b)
    _same_as_host(lambda x: fnn.where(x > 4, x, -1.0), a)
    _same_as_host(lambda x: fnn.clip(x, 2, 7), a)
    _same_as_host(lambda x: fnn.round(x / 7, 2), a)
    with pytest.raises(ValueError, match="Integers to negative integer powers"):
        fnn.asarray(np.array([2, 3])).cuda() ** fnn.asarray(np.array([1, -1])).cuda()


@requires_gpu
def test_in_place_ops_on_the_device():
    host = np.arange(6, dtype=np.float32)
    d = fnn.asarray(host.copy()).cuda()
    d += 2
    d *= fnn.asarray(np.full(6, 3, np.float32)).cuda()
    np.testing.assert_array_equal(d.cpu(), (host + 2) * 3)


@requires_gpu
def test_mixing_devices_names_both():
    with pytest.raises(ValueError, match="cuda:0 and cpu|cpu and cuda:0"):
        fnn.ones(3).cuda() + fnn.ones(3)


@requires_gpu
def test_gradient_of_a_move_returns_to_the_source_device():
    x = fnn.asarray(np.array([1.0, 2.0, 3.0], np.float32), requires_grad=True)
    y = x.cuda()
    assert y.requires_grad
    y.cpu().sum().backward()
    assert x.grad.device == "cpu"
    np.testing.assert_array_equal(x.grad, [1.0, 1.0, 1.0])


@requires_gpu
def test_dlpack_with_torch_cuda_shares_memory():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA here")
    t = torch.arange(12, dtype=torch.float32, device="cuda").reshape(3, 4)
    x = fnn.from_dlpack(t)
    assert x.device == "cuda:0" and x.shape == (3, 4)
    np.testing.assert_array_equal(x.cpu(), t.cpu().numpy())
    back = torch.from_dlpack(fnn.ones((2, 2), device="cuda"))
    assert back.is_cuda
    np.testing.assert_array_equal(back.cpu().numpy(), np.ones((2, 2), np.float32))
