"""fnn.io: safetensors round trips (and interop with the safetensors package where installed), atomic
writes under simulated failures, clear errors for missing/truncated/corrupt files, JSON state."""
import json
import os
import struct

import numpy as np
import pytest

import fusednn as fnn
from fusednn import io

from conftest import DEVICES


def sample():
    rng = np.random.default_rng(0)
    return {"w": fnn.asarray(rng.normal(size=(3, 5)).astype(np.float32)),
            "b": rng.normal(size=7),
            "steps": np.array(12, dtype=np.int64),
            "idx": np.arange(-3, 3, dtype=np.int32),
            "mask": np.array([True, False, True]),
            "empty": np.zeros((0, 4), np.float32),
            "strided": fnn.asarray(np.arange(24.0).reshape(4, 6))[:, ::2]}


def assert_same(loaded, original):
    assert sorted(loaded) == sorted(original)
    for name, value in original.items():
        expected = np.asarray(value)
        assert isinstance(loaded[name], fnn.Tensor)
        assert loaded[name].dtype == expected.dtype and loaded[name].shape == expected.shape, name
        np.testing.assert_array_equal(np.asarray(loaded[name]), expected)


def test_roundtrip(tmp_path):
    path = tmp_path / "m.safetensors"
    io.save_tensors(sample(), path, metadata={"format": "fusednn", "epoch": "3"})
    tensors, metadata = io.load_tensors(path)
    assert_same(tensors, sample())
    assert metadata == {"format": "fusednn", "epoch": "3"}
    io.save_tensors({}, str(path))
    assert io.load_tensors(str(path)) == ({}, {})


@pytest.mark.parametrize("device", DEVICES)
def test_device_tensors_are_written_from_host_copies_and_load_on_the_host(tmp_path, device):
    path = tmp_path / "d.safetensors"
    io.save_tensors({k: fnn.asarray(v, device=device) for k, v in sample().items()}, path)
    tensors, _ = io.load_tensors(path)
    assert {t.device for t in tensors.values()} == {"cpu"}
    assert_same(tensors, sample())


def test_data_is_aligned(tmp_path):
    path = tmp_path / "m.safetensors"
    io.save_tensors(sample(), path)
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    assert length % 8 == 0
    header = json.loads(raw[8:8 + length])
    for name, info in header.items():
        itemsize = {"F64": 8, "I64": 8, "F32": 4, "I32": 4, "BOOL": 1}[info["dtype"]]
        assert info["data_offsets"][0] % itemsize == 0, name


def test_readable_by_safetensors_package(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    safetensors = pytest.importorskip("safetensors")
    path = tmp_path / "ours.safetensors"
    io.save_tensors(sample(), path, metadata={"k": "v"})
    theirs = st.load_file(str(path))
    for name, value in sample().items():
        np.testing.assert_array_equal(theirs[name], np.asarray(value))
    with safetensors.safe_open(str(path), "np") as f:
        assert f.metadata() == {"k": "v"}
    other = tmp_path / "theirs.safetensors"
    arrays = {k: np.ascontiguousarray(np.asarray(v)) for k, v in sample().items()}
    st.save_file(arrays, str(other), metadata={"a": "b"})
    tensors, metadata = io.load_tensors(other)
    assert_same(tensors, arrays)
    assert metadata == {"a": "b"}


def test_failed_save_leaves_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    io.save_tensors({"x": np.ones(3)}, path)
    before = path.read_bytes()

    def crash(f, header, arrays):
        f.write(struct.pack("<Q", len(header)) + header[:5])   # part of the file, then the "crash"
        raise OSError("disk full")
    monkeypatch.setattr(io, "_write_safetensors", crash)
    with pytest.raises(OSError, match="disk full"):
        io.save_tensors({"x": np.zeros(1000)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.safetensors"]   # the temporary file is gone


def test_failed_fsync_and_interrupt_leave_old_file(tmp_path, monkeypatch):
    path = tmp_path / "state.json"
    io.save_json({"epoch": 1}, path)

    def fail(fd):
        raise KeyboardInterrupt
    monkeypatch.setattr(io.os, "fsync", fail)
    with pytest.raises(KeyboardInterrupt):
        io.save_json({"epoch": 2}, path)
    monkeypatch.undo()
    assert io.load_json(path) == {"epoch": 1}
    assert os.listdir(tmp_path) == ["state.json"]


def test_saved_file_mode_follows_umask(tmp_path):
    old = os.umask(0o022)
    try:
        io.save_tensors({"x": np.ones(1)}, tmp_path / "m.safetensors")
    finally:
        os.umask(old)
    assert (tmp_path / "m.safetensors").stat().st_mode & 0o777 == 0o644


def test_save_errors(tmp_path):
    with pytest.raises(TypeError, match=r"tensor 'h' has dtype float16"):
        io.save_tensors({"h": np.ones(2, np.float16)}, tmp_path / "a")
    with pytest.raises(ValueError, match="names must be strings"):
        io.save_tensors({1: np.ones(2)}, tmp_path / "a")
    with pytest.raises(ValueError, match="__metadata__"):
        io.save_tensors({"__metadata__": np.ones(2)}, tmp_path / "a")
    with pytest.raises(TypeError, match="metadata must be a dict of str -> str"):
        io.save_tensors({"x": np.ones(2)}, tmp_path / "a", metadata={"epoch": 3})
    assert os.listdir(tmp_path) == []


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.safetensors"):
        io.load_tensors(tmp_path / "nope.safetensors")
    with pytest.raises(FileNotFoundError, match="nope.json"):
        io.load_json(tmp_path / "nope.json")


def test_every_truncation_is_a_clear_error(tmp_path):
    path = tmp_path / "m.safetensors"
    io.save_tensors({"a": np.arange(4.0), "b": np.ones(3, np.int32)}, path)
    raw = path.read_bytes()
    cut = tmp_path / "cut.safetensors"
    for n in range(len(raw)):
        cut.write_bytes(raw[:n])
        with pytest.raises(ValueError, match="cut.safetensors: not a valid safetensors file"):
            io.load_tensors(cut)


def write_raw(path, header, data=b"", length=None):
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text) if length is None else length) + text + data)


@pytest.mark.parametrize("header,data,length,message", [
    ({"x": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4, None, "dtype 'F16'"),
    ({"x": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8, None, "needs 12 bytes"),
    ({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 12, None, "4 unexpected bytes"),
    ({"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
      "y": {"dtype": "F32", "shape": [1], "data_offsets": [2, 6]}}, b"\0" * 6, None, "overlapping or missing"),
    ({"x": {"dtype": "F32", "shape": "2", "data_offsets": [0, 8]}}, b"\0" * 8, None, "malformed shape"),
    ({"__metadata__": {"epoch": 3}}, b"", None, "__metadata__ must map strings"),
    ([1, 2], b"", None, "not a JSON object"),
    ({}, b"", 2**40, "header length 1099511627776 does not fit"),
])
def test_corrupt_headers(tmp_path, header, data, length, message):
    path = tmp_path / "bad.safetensors"
    write_raw(path, header, data, length)
    with pytest.raises(ValueError, match=message):
        io.load_tensors(path)


def test_not_json_header(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(struct.pack("<Q", 6) + b"\x80nope!")
    with pytest.raises(ValueError, match="bad.safetensors: .*not valid JSON"):
        io.load_tensors(path)


def test_json_state_roundtrip(tmp_path):
    fnn.random.seed(2**64 - 1)
    fnn.random.normal(size=10)
    state = {"rng": fnn.random.get_state(), "lr": np.float32(0.5), "step": np.int64(7),
             "schedule": [1, 2.5, None, True], "name": "adam"}
    path = tmp_path / "state.json"
    io.save_json(state, path)
    loaded = io.load_json(path)
    assert loaded["rng"] == fnn.random.get_state() and loaded["lr"] == 0.5 and loaded["step"] == 7
    assert loaded["schedule"] == [1, 2.5, None, True] and loaded["name"] == "adam"
    expected = fnn.random.normal(size=3)
    fnn.random.set_state(loaded["rng"])
    np.testing.assert_array_equal(np.asarray(fnn.random.normal(size=3)), np.asarray(expected))


def test_json_errors(tmp_path):
    path = tmp_path / "s.json"
    with pytest.raises(TypeError, match="save_tensors"):
        io.save_json({"w": fnn.ones(3)}, path)
    assert not path.exists()
    path.write_text('{"a": 1,')
    with pytest.raises(ValueError, match="s.json: not valid JSON"):
        io.load_json(path)
