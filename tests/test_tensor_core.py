"""The Tensor core: zero-copy NumPy and DLPack exchange, metadata, Python protocols, runtime settings
(threads, ISA, allocator, CUDA queries) and bad input."""
import copy
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import fusednn as fnn
from fusednn.config import supported_isas, use_isa

from conftest import DEVICES

DTYPES = [np.bool_, np.int32, np.int64, np.float32, np.float64]


def sample(dtype, shape=(3, 4)):
    return (np.arange(int(np.prod(shape))).reshape(shape) % 7).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_from_numpy_is_zero_copy_both_ways(dtype):
    a = sample(dtype)
    t = fnn.from_numpy(a)
    back = np.asarray(t)
    assert back.dtype == a.dtype and t.dtype == a.dtype
    assert np.shares_memory(a, back)
    value = np.array(1, dtype=dtype)
    back[1, 2] = value
    assert a[1, 2] == value
    a[0, 0] = value
    assert np.asarray(t)[0, 0] == value


@pytest.mark.parametrize("make", [
    lambda a: a.T,
    lambda a: a[::-1],
    lambda a: a[:, ::-2],
    lambda a: a[1:, 1:3],
    lambda a: a[:0],
], ids=["transposed", "reversed", "negative-step", "offset", "empty"])
def test_strided_views_are_shared(make):
    a = sample(np.float64, (5, 6))
    view = make(a)
    t = fnn.asarray(view)
    assert t.shape == view.shape
    assert t.strides == view.strides
    np.testing.assert_array_equal(np.asarray(t), view)
    if view.size:
        assert np.shares_memory(np.asarray(t), a)


def test_strides_that_are_not_whole_elements_are_copied_correctly():
    record = np.zeros(4, dtype=[("x", np.float32), ("y", np.int8)])
    record["x"] = [1, 2, 3, 4]
    t = fnn.asarray(record["x"])  # 5-byte stride
    np.testing.assert_array_equal(np.asarray(t), [1, 2, 3, 4])


def test_metadata_matches_numpy():
    a = np.zeros((2, 3, 4), dtype=np.float32)[:, 1:, ::2]
    t = fnn.asarray(a)
    assert (t.shape, t.ndim, t.size, t.itemsize, t.nbytes) == (a.shape, a.ndim, a.size, a.itemsize, a.nbytes)
    assert t.strides == a.strides
    assert t.dtype == np.float32 and t.device == "cpu"
    assert not t.is_contiguous() and fnn.asarray(np.zeros((2, 3))).is_contiguous()


def test_read_only_arrays_stay_read_only():
    a = np.arange(4.0)
    a.flags.writeable = False
    t = fnn.asarray(a)
    assert not t._writable
    assert not np.asarray(t).flags.writeable
    with pytest.raises(TypeError):
        memoryview(t)[0] = 1.0


def test_buffer_protocol():
    t = fnn.asarray(sample(np.int32))
    view = memoryview(t)
    assert view.shape == (3, 4) and view.itemsize == 4
    assert bytes(view) == sample(np.int32).tobytes()


def test_array_protocol_dtype_and_copy():
    t = fnn.asarray(sample(np.float32))
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    copied = np.array(t, copy=True)
    copied[0, 0] = 100
    assert np.asarray(t)[0, 0] != 100
    with pytest.raises(ValueError, match="copy"):
        t.__array__(dtype=np.float64, copy=False)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dlpack_with_numpy(dtype):
    a = sample(dtype)[:, ::-1]
    t = fnn.from_dlpack(a)
    np.testing.assert_array_equal(np.asarray(t), a)
    assert np.shares_memory(np.asarray(t), a)
    back = np.from_dlpack(t)
    np.testing.assert_array_equal(back, a)
    assert np.shares_memory(back, a)
    assert t.__dlpack_device__() == (1, 0)


def test_dlpack_with_torch():
    torch = pytest.importorskip("torch")
    source = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    t = fnn.from_dlpack(source)
    source[0, 0] = 42
    assert np.asarray(t)[0, 0] == 42
    mirror = torch.from_dlpack(fnn.asarray(np.ones((2, 2), np.float64)))
    assert mirror.dtype == torch.float64 and mirror.sum().item() == 4


def test_dlpack_capsule_is_consumed_once():
    capsule = fnn.asarray(np.ones(3)).__dlpack__()
    fnn.from_dlpack(capsule)
    with pytest.raises(ValueError, match="consumed"):
        fnn.from_dlpack(capsule)
    with pytest.raises(TypeError, match="__dlpack__"):
        fnn.from_dlpack(object())


def test_unsupported_dtypes_raise_type_error_naming_them():
    with pytest.raises(TypeError, match="uint8"):
        fnn.asarray(np.zeros(3, np.uint8))
    with pytest.raises(TypeError, match="complex"):
        fnn.asarray(np.zeros(3, np.complex64))
    with pytest.raises(ValueError, match="inhomogeneous"):
        fnn.asarray([[1, 2], [3]])  # as NumPy
    with pytest.raises(TypeError, match="sequence of numbers"):
        fnn.asarray([object()])


def test_python_sequences_take_deep_learning_defaults():
    assert fnn.asarray([1.5, 2.0]).dtype == np.float32
    assert fnn.asarray([1, 2]).dtype == np.int64
    assert fnn.asarray([True, False]).dtype == np.bool_
    assert fnn.asarray(np.array([1.5])).dtype == np.float64  # NumPy arrays keep theirs


def test_python_protocols():
    t = fnn.asarray(np.array([[1.0, 2.0], [3.0, 4.0]], np.float32))
    assert len(t) == 2
    assert [np.asarray(row).tolist() for row in t] == [[1.0, 2.0], [3.0, 4.0]]
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert t.item(1, 0) == 3.0
    one = fnn.asarray(np.array([2.5], np.float32))
    assert float(one) == 2.5 and int(one) == 2 and bool(one) and one.item() == 2.5
    assert [10, 20, 30][fnn.asarray(np.array(1))] == 20
    with pytest.raises(ValueError, match="ambiguous"):
        bool(t)
    with pytest.raises(ValueError, match="one element"):
        float(t)
    with pytest.raises(TypeError, match="unsized"):
        len(fnn.asarray(np.array(1.0)))
    with pytest.raises(TypeError, match="integer"):
        [1][fnn.asarray(np.array(0.5))]
    assert hash(t) != hash(fnn.asarray(np.zeros(1)))


def test_repr_and_str_look_like_numpy():
    assert repr(fnn.asarray(np.array([1.0, 2.5], np.float32))) == "tensor([1. , 2.5])"
    assert repr(fnn.asarray(np.array([1, 2], np.int32))) == "tensor([1, 2], dtype=int32)"
    assert repr(fnn.asarray(np.zeros((0, 3), np.float32))) == "tensor([], shape=(0, 3), dtype=float32)"
    assert repr(fnn.asarray(np.array(1.5, np.float64))) == "tensor(1.5, dtype=float64)"
    assert str(fnn.asarray(np.array([1, 2]))) == "[1 2]"


def test_format_spec_applies_to_the_value_of_a_0d_tensor():
    x = fnn.asarray(np.array(2.0 / 3, np.float32))
    assert f"{x:.3f}" == "0.667" and f"{fnn.asarray(np.array(7)):>3d}" == "  7"
    assert f"{x}" == str(x) and f"{fnn.asarray([1, 2])}" == "[1 2]"
    with pytest.raises(TypeError, match="format"):
        f"{fnn.asarray([1.0, 2.0]):.2f}"


def test_pickle_round_trip():
    t = fnn.asarray(sample(np.float32))
    restored = pickle.loads(pickle.dumps(t))
    np.testing.assert_array_equal(np.asarray(restored), np.asarray(t))
    assert not np.shares_memory(np.asarray(restored), np.asarray(t))


def test_numpy_function_we_do_not_implement_names_itself():
    t = fnn.asarray(np.eye(3))
    with pytest.raises(TypeError, match="numpy.linalg.svd"):
        np.linalg.svd(t)


def test_threads_setting(threads):
    fnn.set_num_threads(1)
    assert fnn.get_num_threads() == 1
    fnn.set_num_threads(2)
    assert fnn.get_num_threads() == 2
    with pytest.raises(ValueError, match="at least 1"):
        fnn.set_num_threads(0)


def test_isa_switching():
    isas = supported_isas()
    assert isas[-1] == "ref" and fnn.config.isa() in isas
    for name in isas:
        with use_isa(name):
            assert fnn.config.isa() == name
    with pytest.raises(ValueError, match="unknown ISA"):
        with use_isa("sse9"):
            pass


def run_python(code, **env):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


def test_fusednn_isa_environment_variable_forces_a_path():
    for name in supported_isas():
        result = run_python("import fusednn; print(fusednn.config.isa())", FUSEDNN_ISA=name)
        assert result.stdout.strip() == name, result.stderr
    bad = run_python("import fusednn", FUSEDNN_ISA="mmx")
    assert bad.returncode != 0 and "unknown ISA 'mmx'" in bad.stderr


def test_caching_allocator_reuses_freed_blocks():
    fnn.empty_cache()
    big = fnn.zeros((1 << 20,))
    del big
    cached = fnn._C._allocator_stats()["cached_bytes"]
    assert cached >= 4 << 20
    again = fnn.zeros((1 << 20,))
    assert fnn._C._allocator_stats()["cached_bytes"] == cached - (4 << 20)
    del again
    fnn.empty_cache()
    assert fnn._C._allocator_stats()["cached_bytes"] == 0


def test_impossible_allocation_raises_memory_error():
    with pytest.raises(MemoryError):
        fnn.zeros((10**15,))
    with pytest.raises(MemoryError):
        fnn.empty((10**8, 10**8), dtype=np.float64)


def test_cuda_queries_without_a_device():
    assert isinstance(fnn.cuda.is_built(), bool)
    if fnn.cuda.device_count() == 0:
        assert not fnn.cuda.is_available()


def test_show_config(capsys):
    fnn.show_config()
    out = capsys.readouterr().out
    for field in ["fusednn", "cpu isa", "threads", "cuda built", "cuda available"]:
        assert field in out


# ---------------------------------------------------------------- values of device tensors

@pytest.mark.parametrize("device", DEVICES)
def test_reading_values_copies_to_the_host_on_any_device(device):
    """item, float/int/bool, index, tolist, repr/str/format, iteration and pickling work on a device
    tensor through a host copy (as torch); np.asarray of one stays refused."""
    host = np.array([[1.5, -2.0, 3.25], [0.0, 4.0, -0.5]], np.float32)
    t = fnn.asarray(host, device=device)
    assert t.tolist() == host.tolist() and t.item(1, 2) == -0.5 and t.item(4) == 4.0
    one = fnn.asarray(np.array([2.75], np.float32), device=device)
    assert float(one) == 2.75 and int(one) == 2 and bool(one) and one.item() == 2.75
    assert not bool(fnn.asarray(np.array(0.0), device=device))
    assert [10, 20, 30][fnn.asarray(np.array(2), device=device)] == 30
    assert f"{fnn.asarray(np.array(1 / 3), device=device):.4f}" == "0.3333"
    with pytest.raises(ValueError, match="ambiguous"):
        bool(t)
    rows = list(t)
    assert [r.device for r in rows] == [t.device] * 2
    assert [r.tolist() for r in rows] == host.tolist()
    cpu = fnn.asarray(host)
    assert str(t) == str(cpu)
    assert repr(t) == (repr(cpu) if device == "cpu" else repr(cpu)[:-1] + ", device='cuda:0')")
    assert repr(fnn.asarray(np.array([1, 2], np.int32), device=device)).endswith(
        "dtype=int32)" if device == "cpu" else "dtype=int32, device='cuda:0')")
    for restored in (pickle.loads(pickle.dumps(t)), copy.deepcopy(t)):
        assert restored.device == t.device and restored.tolist() == host.tolist()
    if device != "cpu":
        with pytest.raises(TypeError, match=r"\.cpu\(\)"):
            np.asarray(t)
