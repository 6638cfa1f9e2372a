"""Saving and loading (``fnn.io``): tensors in the safetensors format (an 8-byte little-endian header
length, a JSON header ``{name: {dtype, shape, data_offsets}, "__metadata__": {str: str}}``, then the raw
little-endian data; readable by the ``safetensors`` package) and JSON state. Writes are atomic (a
temporary file in the same directory, fsync, rename); loading parses data only, never code."""
import json
import math
import os
import secrets
import struct

import numpy as np

from ._tensor import Tensor, host_array
from .creation import asarray

__all__ = ["save_tensors", "load_tensors", "save_json", "load_json"]

_DTYPES = {"BOOL": np.dtype(np.bool_), "I32": np.dtype("<i4"), "I64": np.dtype("<i8"),
           "F32": np.dtype("<f4"), "F64": np.dtype("<f8")}
_CODES = {dtype.newbyteorder("="): code for code, dtype in _DTYPES.items()}
_MAX_HEADER = 100 * 1024 * 1024   # the safetensors package's limit


def _atomic_write(path, write):
    """Call ``write(file)`` on a new temporary file beside ``path``, flush and fsync it, then rename it
    over ``path``: readers see the old file or the complete new one, never a partial write. On any
    error the temporary file is removed and ``path`` is untouched."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)   # mode 0o666 & ~umask, like open()
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def _fsync_directory(directory):
    """Make the rename itself durable (where the OS lets a directory be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _as_array(name, value):
    if not isinstance(name, str) or name == "__metadata__":
        raise ValueError(f"save_tensors: tensor names must be strings other than '__metadata__', got {name!r}")
    if isinstance(value, Tensor):
        value = host_array(value)  # a device tensor is written from a host copy
    array = np.asarray(value, order="C")
    code = _CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(f"save_tensors: tensor {name!r} has dtype {array.dtype}, which fusednn does not "
                        f"support (bool, int32, int64, float32, float64)")
    return array.astype(_DTYPES[code], copy=False)


def _header(arrays, metadata):
    """The JSON header, padded with spaces to a multiple of 8 bytes so the data section starts aligned."""
    header, offset = {}, 0
    if metadata:
        header["__metadata__"] = metadata
    for name, array in arrays.items():
        header[name] = {"dtype": _CODES[array.dtype.newbyteorder("=")], "shape": list(array.shape),
                        "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    return text + b" " * (-len(text) % 8)


def _write_safetensors(f, header, arrays):
    f.write(struct.pack("<Q", len(header)))
    f.write(header)
    for array in arrays.values():
        f.write(memoryview(array.reshape(-1)).cast("B"))


def save_tensors(tensors, path, metadata=None):
    """Write ``{name: tensor}`` (Tensors on any device, or NumPy arrays) to ``path`` in the safetensors
    format, with optional ``metadata`` ({str: str}), atomically. Larger items come first so each tensor's
    data is aligned to its element size."""
    if metadata is not None and not (isinstance(metadata, dict) and
                                     all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise TypeError("save_tensors: metadata must be a dict of str -> str")
    arrays = {name: _as_array(name, value) for name, value in tensors.items()}
    arrays = dict(sorted(arrays.items(), key=lambda item: (-item[1].dtype.itemsize, item[0])))
    header = _header(arrays, metadata)
    _atomic_write(path, lambda f: _write_safetensors(f, header, arrays))


def _corrupt(path, problem):
    return ValueError(f"{path}: not a valid safetensors file: {problem}")


def _read_header(path, f, size):
    if size < 8:
        raise _corrupt(path, f"{size} bytes is too short for the 8-byte header length (truncated?)")
    (length,) = struct.unpack("<Q", f.read(8))
    if length > _MAX_HEADER or 8 + length > size:
        raise _corrupt(path, f"header length {length} does not fit in the file of {size} bytes (truncated "
                             f"or corrupt)")
    try:
        header = json.loads(f.read(length).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _corrupt(path, f"the header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise _corrupt(path, "the header is not a JSON object")
    return header, 8 + length


def _entries(path, header, data_size):
    """(name, dtype, shape, begin, end) per tensor in data order, checked: known dtype, sizes that
    match the shape, and offsets that tile the data section exactly."""
    entries = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict) or info.get("dtype") not in _DTYPES:
            dtype = info.get("dtype") if isinstance(info, dict) else None
            raise _corrupt(path, f"tensor {name!r} has dtype {dtype!r}; supported: {', '.join(_DTYPES)}")
        shape, offsets = info.get("shape"), info.get("data_offsets")
        if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)
                and isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
            raise _corrupt(path, f"tensor {name!r} has a malformed shape or data_offsets entry")
        dtype = _DTYPES[info["dtype"]]
        begin, end = offsets
        if end - begin != math.prod(shape) * dtype.itemsize:
            raise _corrupt(path, f"tensor {name!r} of shape {shape} and dtype {info['dtype']} needs "
                                 f"{math.prod(shape) * dtype.itemsize} bytes, its offsets span {end - begin}")
        entries.append((name, dtype, tuple(shape), begin, end))
    entries.sort(key=lambda e: (e[3], e[4]))
    position = 0
    for name, _, _, begin, end in entries:
        if begin != position:
            raise _corrupt(path, f"tensor {name!r} starts at byte {begin} of the data, expected {position} "
                                 f"(overlapping or missing data)")
        position = end
    if position > data_size:
        raise _corrupt(path, f"truncated: the tensors need {position} bytes of data, the file holds {data_size}")
    if position < data_size:
        raise _corrupt(path, f"{data_size - position} unexpected bytes after the last tensor")
    return entries


def load_tensors(path):
    """Read a safetensors file: returns ``({name: Tensor}, metadata)`` (host tensors; metadata {} when absent).
    FileNotFoundError for a missing file; ValueError naming the path and the problem for a truncated
    or corrupt one. Nothing in the file is executed: it is parsed as JSON and raw numbers."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_tensors: no such file: {path!r}")
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        header, start = _read_header(path, f, size)
        metadata = header.get("__metadata__", {})
        if not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
            raise _corrupt(path, "__metadata__ must map strings to strings")
        tensors = {}
        for name, dtype, shape, begin, end in _entries(path, header, size - start):
            array = np.empty(shape, dtype.newbyteorder("="))
            f.seek(start + begin)
            if f.readinto(memoryview(array.reshape(-1)).cast("B")) != end - begin:
                raise _corrupt(path, f"truncated while reading tensor {name!r}")
            tensors[name] = asarray(array)
    return tensors, dict(metadata)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable; arrays and tensors belong in "
                    f"save_tensors")


def save_json(obj, path):
    """Write ``obj`` (dicts, lists, strings, numbers, bools, None; NumPy scalars become Python numbers)
    as JSON to ``path``, atomically."""
    text = json.dumps(obj, indent=2, default=_json_default).encode()
    _atomic_write(path, lambda f: f.write(text))


def load_json(path):
    """The object in a JSON file; FileNotFoundError when missing, ValueError naming the path and the
    position of a syntax error."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_json: no such file: {path!r}")
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from None
