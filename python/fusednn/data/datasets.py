"""Dataset loaders that never download: scikit-learn's bundled sets (digits, breast_cancer, iris,
diabetes), MNIST/Fashion-MNIST IDX files from a local directory (gzipped or not), CSV and npz files.
Features come back as float32 tensors; class labels as int64."""
import csv
import gzip
import os
import struct
import zlib

import numpy as np

from ..creation import array


class Bunch(dict):
    """A dict whose keys are also attributes (``bunch.data``, ``bunch.target``), like scikit-learn's."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


def _sklearn_datasets():
    try:
        from sklearn import datasets  # noqa: PLC0415
    except ImportError:
        raise ImportError("this loader reads the data files bundled with scikit-learn, which is not "
                          "installed: pip install scikit-learn") from None
    return datasets


def _sklearn_loader(name, target_dtype):
    def load(return_X_y=True):
        bunch = getattr(_sklearn_datasets(), name)()
        x = array(np.asarray(bunch.data, dtype=np.float32))
        y = array(np.asarray(bunch.target, dtype=target_dtype))
        if return_X_y:
            return x, y
        return Bunch(data=x, target=y, feature_names=list(bunch.get("feature_names", [])),
                     target_names=list(bunch.get("target_names", [])), DESCR=bunch.get("DESCR", ""))
    load.__name__ = load.__qualname__ = name
    load.__doc__ = (f"scikit-learn's bundled ``{name.removeprefix('load_')}`` data set (no download): "
                    f"``(X float32, y {np.dtype(target_dtype)})`` tensors, or with return_X_y=False a Bunch "
                    f"with data, target, feature_names, target_names and DESCR.")
    return load


load_digits = _sklearn_loader("load_digits", np.int64)
load_breast_cancer = _sklearn_loader("load_breast_cancer", np.int64)
load_iris = _sklearn_loader("load_iris", np.int64)
load_diabetes = _sklearn_loader("load_diabetes", np.float32)

# IDX element types: code -> big-endian NumPy dtype.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """The array in an IDX file (gzipped or not): two zero bytes, a type code, the number of dimensions
    n, n big-endian uint32 sizes, then the elements in C order. ValueError names the path and what is
    wrong for a corrupt or truncated file."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(f"{path}: corrupt gzip data ({e})") from None
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{path}: not an IDX file (bad magic number {raw[:4].hex() or 'empty'})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(raw)} bytes, expected {header})")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        state = "truncated" if len(raw) - header < expected else "corrupt"
        raise ValueError(f"{path}: {state} IDX file: shape {shape} needs {expected} data bytes, "
                         f"found {len(raw) - header}")
    return np.frombuffer(raw, dtype, offset=header).reshape(shape)


def _idx_file(directory, kind, what):
    """The first existing file of the usual MNIST names: '{kind}-{what}-idx?-ubyte' or with a '.' before
    idx, each optionally '.gz'."""
    rank = 3 if what == "images" else 1
    names = [f"{kind}-{what}{sep}idx{rank}-ubyte{gz}" for sep in ("-", ".") for gz in ("", ".gz")]
    for name in names:
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate):
            return candidate
    raise FileNotFoundError(f"load_mnist: no {kind} {what} file in {directory!r} (looked for {', '.join(names)})")


def load_mnist(path, kind="train", normalize=True, flatten=False):
    """MNIST (or Fashion-MNIST, same format) from the IDX files in directory ``path``; kind='train' or
    't10k'. Returns ``(images, labels)``: float32 images of shape (n, 28, 28) ((n, 784) with
    flatten=True), scaled to [0, 1] with normalize=True (else 0..255), and int64 labels."""
    if kind not in ("train", "t10k"):
        raise ValueError(f"load_mnist: kind must be 'train' or 't10k', got {kind!r}")
    directory = os.fspath(path)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"load_mnist: {directory!r} is not a directory")
    images_path, labels_path = _idx_file(directory, kind, "images"), _idx_file(directory, kind, "labels")
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3:
        raise ValueError(f"{images_path}: expected 3-d images, got shape {images.shape}")
    if labels.ndim != 1:
        raise ValueError(f"{labels_path}: expected 1-d labels, got shape {labels.shape}")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"load_mnist: {images.shape[0]} images in {images_path} but {labels.shape[0]} labels "
                         f"in {labels_path}")
    x = array(images.astype(np.float32))
    if normalize:
        x /= 255
    if flatten:
        x = x.reshape(x.shape[0], -1)
    return x, array(labels.astype(np.int64))


def _whole(values):
    return all(float(v).is_integer() for v in values)


def load_csv(path, target_column=-1, delimiter=",", skip_header=False):
    """A numeric CSV file as ``(X, y)``: ``y`` is column ``target_column`` (an index, or a name when
    skip_header=True and the first line names the columns; None: no target, X only), X the other
    columns as float32. y is int64 when every value is a whole number, float32 otherwise. ValueError
    names the line and column of a non-numeric cell or a row of the wrong length."""
    path = os.fspath(path)
    with open(path, newline="") as f:
        rows = [(i, row) for i, row in enumerate(csv.reader(f, delimiter=delimiter), 1) if row]
    names = None
    if skip_header and rows:
        names = [n.strip() for n in rows.pop(0)[1]]
    if not rows:
        raise ValueError(f"{path}: no data rows")
    width = len(rows[0][1])
    table = []
    for line, row in rows:
        if len(row) != width:
            raise ValueError(f"{path}, line {line}: {len(row)} columns, expected {width}")
        try:
            table.append([float(cell) for cell in row])
        except ValueError:
            column = next(j for j, cell in enumerate(row) if not _is_number(cell))
            raise ValueError(f"{path}, line {line}, column {column + 1}: not a number: {row[column]!r}") from None
    data = np.array(table, dtype=np.float64)
    if target_column is None:
        return array(data.astype(np.float32))
    t = _column_index(target_column, names, width, path)
    target = data[:, t]
    x = np.delete(data, t, axis=1).astype(np.float32)
    y = target.astype(np.int64) if _whole(target) else target.astype(np.float32)
    return array(x), array(y)


def _is_number(cell):
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _column_index(column, names, width, path):
    if isinstance(column, str):
        if names is None:
            raise ValueError(f"{path}: target_column={column!r} is a name, which needs skip_header=True and "
                             f"a header line")
        if column not in names:
            raise ValueError(f"{path}: no column named {column!r}; columns are {names}")
        return names.index(column)
    if not -width <= column < width:
        raise ValueError(f"{path}: target_column={column} is out of range for {width} columns")
    return column % width


def _supported_dtype(a):
    """fusednn holds bool, int32, int64, float32 and float64: smaller integers widen to int32, unsigned
    32/64-bit ones to int64, float16 to float32."""
    if a.dtype.kind in "iu" and a.dtype.itemsize < 4:
        return a.astype(np.int32)
    if a.dtype.kind == "u":
        return a.astype(np.int64)
    if a.dtype == np.float16:
        return a.astype(np.float32)
    return a


def load_npz(path, x_key="x", y_key="y"):
    """Arrays ``x_key`` and ``y_key`` (None: X only) of a NumPy .npz file as tensors (uint8/int16 widen to
    int32, float16 to float32). Pickled object arrays are refused (loading never runs code)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_npz: no such file: {path!r}")
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: not a readable .npz file ({e})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: not an .npz archive (a single .npy array?)")
    with archive:
        keys = [k for k in (x_key, y_key) if k is not None]
        missing = [k for k in keys if k not in archive.files]
        if missing:
            raise KeyError(f"{path}: no array named {missing[0]!r}; the file holds {archive.files}")
        try:
            loaded = [array(_supported_dtype(archive[k])) for k in keys]
        except ValueError as e:
            raise ValueError(f"{path}: cannot read array ({e})") from None
    return tuple(loaded) if y_key is not None else loaded[0]
