"""fnn.data: datasets and DataLoader, splits (against scikit-learn where installed), cross_validate with a
fake Keras-style model, preprocessing (against NumPy formulas and scikit-learn) and the local loaders."""
import gzip
import struct
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import fusednn as fnn
from fusednn.data import (DataLoader, Dataset, KFold, MinMaxScaler, StandardScaler, StratifiedKFold, Subset,
                          TensorDataset, cross_validate, load_csv, load_digits, load_mnist, load_npz, normalize,
                          one_hot, read_idx, train_test_split)


def rows(n, width=2):
    """Row i holds i, i + 0.5, ... so each row says which sample it is."""
    return np.arange(n, dtype=np.float32)[:, None] + np.arange(width, dtype=np.float32) / 2


def row_ids(t):
    return np.asarray(t)[:, 0].astype(np.int64).tolist()


# ---------------------------------------------------------------- datasets and loader

def test_tensor_dataset():
    ds = TensorDataset(rows(5), np.arange(5))
    assert len(ds) == 5
    x, y = ds[3]
    assert isinstance(x, fnn.Tensor) and np.asarray(x).tolist() == [3.0, 3.5] and int(y) == 3
    xb, yb = ds[fnn.asarray(np.array([4, 0]))]
    assert row_ids(xb) == [4, 0] and np.asarray(yb).tolist() == [4, 0]


def test_tensor_dataset_errors():
    with pytest.raises(ValueError, match=r"same first dimension.*\[5, 4\]"):
        TensorDataset(rows(5), np.arange(4))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(np.float32(1.0))


def test_dataset_is_abstract():
    with pytest.raises(NotImplementedError):
        len(Dataset())
    with pytest.raises(NotImplementedError):
        Dataset()[0]


@given(n=st.integers(0, 40), batch_size=st.integers(1, 12), drop_last=st.booleans(), shuffle=st.booleans(),
       seed=st.integers(0, 2**32))
def test_loader_batches_cover_dataset(n, batch_size, drop_last, shuffle, seed):
    x, y = rows(n), np.arange(n)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed)
    batches = list(loader)
    assert len(batches) == len(loader) == (n // batch_size if drop_last else -(-n // batch_size))
    sizes = [b[0].shape[0] for b in batches]
    assert all(s == batch_size for s in sizes[:-1]) and (not sizes or 0 < sizes[-1] <= batch_size)
    if drop_last:
        assert all(s == batch_size for s in sizes)
    seen = [i for xb, yb in batches for i in row_ids(xb)]
    assert seen == [i for xb, yb in batches for i in np.asarray(yb).tolist()]   # x and y stay paired
    assert len(set(seen)) == len(seen) == sum(sizes)
    if not shuffle:
        assert seen == list(range(sum(sizes)))
    elif not drop_last:
        assert sorted(seen) == list(range(n))


def test_loader_shuffle_reproducible_and_reshuffles():
    ds = TensorDataset(rows(50))
    a, b = DataLoader(ds, 8, shuffle=True, seed=3), DataLoader(ds, 8, shuffle=True, seed=3)
    epochs_a = [[i for (xb,) in a for i in row_ids(xb)] for _ in range(2)]
    epochs_b = [[i for (xb,) in b for i in row_ids(xb)] for _ in range(2)]
    assert epochs_a == epochs_b
    assert epochs_a[0] != epochs_a[1] and sorted(epochs_a[0]) == list(range(50))
    assert epochs_a[0] != [i for (xb,) in DataLoader(ds, 8, shuffle=True, seed=4) for i in row_ids(xb)]


def test_loader_global_generator_and_explicit_generator():
    ds = TensorDataset(rows(30))
    order = lambda loader: [i for (xb,) in loader for i in row_ids(xb)]  # noqa: E731
    fnn.random.seed(11)
    first = order(DataLoader(ds, 4, shuffle=True))
    fnn.random.seed(11)
    assert order(DataLoader(ds, 4, shuffle=True)) == first
    g1, g2 = fnn.random.default_rng(5), fnn.random.default_rng(5)
    assert order(DataLoader(ds, 4, shuffle=True, generator=g1)) == order(DataLoader(ds, 4, shuffle=True, generator=g2))


def test_loader_argument_errors():
    ds = TensorDataset(rows(3))
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="batch_size"):
            DataLoader(ds, batch_size=bad)
    with pytest.raises(ValueError, match="seed or generator"):
        DataLoader(ds, seed=1, generator=fnn.random.default_rng(1))


class Squares(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": np.full(3, i, np.float32), "y": i, "name": f"s{i}", "pair": (float(i), np.int64(i))}


def test_loader_generic_dataset_default_collate():
    batches = list(DataLoader(Squares(), batch_size=2))
    assert len(batches) == 3
    b = batches[0]
    assert isinstance(b["x"], fnn.Tensor) and b["x"].shape == (2, 3) and np.asarray(b["x"])[1].tolist() == [1, 1, 1]
    assert b["y"].dtype == np.int64 and np.asarray(b["y"]).tolist() == [0, 1]
    assert b["name"] == ["s0", "s1"]
    assert isinstance(b["pair"], tuple) and b["pair"][0].dtype == np.float32
    assert np.asarray(batches[2]["y"]).tolist() == [4]


def test_loader_custom_collate_and_subset():
    sub = Subset(TensorDataset(rows(10), np.arange(10)), [7, 2, 5])
    assert len(sub) == 3 and int(sub[1][1]) == 2
    batches = list(DataLoader(sub, batch_size=2, collate_fn=lambda samples: [int(y) for _, y in samples]))
    assert batches == [[7, 2], [5]]
    tb = list(DataLoader(TensorDataset(rows(4)), batch_size=4, collate_fn=lambda s: len(s)))
    assert tb == [4]   # a collate_fn is honoured for TensorDatasets too


# ---------------------------------------------------------------- train_test_split

SIZES = [(None, None), (0.25, None), (0.5, None), (0.1, 0.3), (3, None), (None, 0.6), (None, 7), (4, 5), (0.33, 0.67)]


@pytest.mark.parametrize("test_size,train_size", SIZES)
@pytest.mark.parametrize("n", [10, 17])
def test_split_sizes_match_sklearn(n, test_size, train_size):
    skl = pytest.importorskip("sklearn.model_selection")
    x = rows(n)
    expected = skl.train_test_split(x, test_size=test_size, train_size=train_size, random_state=0)
    xtr, xte = train_test_split(x, test_size=test_size, train_size=train_size, random_state=0)
    assert (xtr.shape, xte.shape) == (expected[0].shape, expected[1].shape)
    ids = row_ids(xtr) + row_ids(xte)
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("test_size,train_size", [(0, None), (1.0, None), (10, None), (-0.1, None), (0.6, 0.5),
                                                  (None, 10), (8, 8), ("a", None), (0.01, None)])
def test_split_size_errors_match_sklearn(test_size, train_size):
    x = rows(10)
    skl = pytest.importorskip("sklearn.model_selection")
    if test_size == 0.01:   # 1 test sample, 9 train: valid in both
        assert len(train_test_split(x, test_size=test_size)[1]) == len(skl.train_test_split(x, test_size=0.01)[1])
        return
    with pytest.raises(ValueError):
        skl.train_test_split(x, test_size=test_size, train_size=train_size)
    with pytest.raises(ValueError):
        train_test_split(x, test_size=test_size, train_size=train_size)


def test_split_keeps_arrays_paired_and_is_reproducible():
    x, y, z = rows(20), np.arange(20), fnn.arange(20) * 10
    out = train_test_split(x, y, z, test_size=0.3, random_state=4)
    assert len(out) == 6 and all(isinstance(t, fnn.Tensor) for t in out)
    for xs, ys, zs in ((out[0], out[2], out[4]), (out[1], out[3], out[5])):
        assert row_ids(xs) == np.asarray(ys).tolist() == (np.asarray(zs) // 10).tolist()
    again = train_test_split(x, y, z, test_size=0.3, random_state=4)
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(out, again))
    assert sorted(row_ids(out[0]) + row_ids(out[1])) == list(range(20))


def test_split_without_shuffle_and_errors():
    xtr, xte = train_test_split(rows(10), test_size=3, shuffle=False)
    assert row_ids(xtr) == list(range(7)) and row_ids(xte) == [7, 8, 9]
    with pytest.raises(ValueError, match="shuffle=False"):
        train_test_split(rows(10), shuffle=False, stratify=np.arange(10) % 2)
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[10, 9\]"):
        train_test_split(rows(10), np.arange(9))
    with pytest.raises(ValueError, match="At least one array"):
        train_test_split()


@pytest.mark.parametrize("labels", [np.array([0] * 30 + [1] * 60 + [2] * 10),
                                    np.array(["cat"] * 12 + ["dog"] * 28),
                                    np.eye(3)[np.array([0] * 9 + [1] * 9 + [2] * 18)]])
def test_split_stratified_keeps_proportions(labels):
    n = len(labels)
    ytr, yte = train_test_split(labels if labels.dtype.kind != "U" else np.arange(n), stratify=labels,
                                test_size=0.25, random_state=1)
    ids_tr = np.asarray(ytr) if labels.dtype.kind == "U" else None
    if ids_tr is None:
        codes = labels.argmax(1) if labels.ndim == 2 else labels
        test_codes = np.asarray(yte).argmax(1) if labels.ndim == 2 else np.asarray(yte)
    else:
        codes, test_codes = labels, labels[np.asarray(yte)]
    n_test = int(np.ceil(0.25 * n))
    assert len(test_codes) == n_test and len(ytr) == n - n_test
    for c in np.unique(codes):
        expected = n_test * np.mean(codes == c)
        assert abs(np.sum(test_codes == c) - expected) < 1


def test_split_stratified_errors():
    with pytest.raises(ValueError, match="only 1 member"):
        train_test_split(rows(6), stratify=[0, 0, 0, 1, 1, 2])
    with pytest.raises(ValueError, match="number of classes"):
        train_test_split(rows(8), stratify=[0, 0, 1, 1, 2, 2, 3, 3], test_size=2)


# ---------------------------------------------------------------- k-fold

@pytest.mark.parametrize("n,k", [(10, 2), (11, 3), (7, 7), (30, 4)])
def test_kfold_matches_sklearn(n, k):
    skl = pytest.importorskip("sklearn.model_selection")
    x = rows(n)
    ours = [(np.asarray(tr).tolist(), np.asarray(te).tolist()) for tr, te in KFold(k).split(x)]
    theirs = [(tr.tolist(), te.tolist()) for tr, te in skl.KFold(k).split(x)]
    assert ours == theirs
    shuffled = list(KFold(k, shuffle=True, random_state=0).split(x))
    assert sorted(i for _, te in shuffled for i in np.asarray(te).tolist()) == list(range(n))
    assert [len(te) for _, te in shuffled] == [len(te) for _, te in theirs]
    for tr, te in shuffled:
        assert sorted(np.asarray(tr).tolist() + np.asarray(te).tolist()) == list(range(n))


@given(st.lists(st.integers(0, 3), min_size=8, max_size=40), st.integers(2, 4), st.booleans())
def test_stratified_kfold_matches_sklearn(y, k, shuffle):
    skl = pytest.importorskip("sklearn.model_selection")
    y = np.array(y)
    if k > np.bincount(y).max():
        return
    x = rows(len(y))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = [(np.asarray(tr), np.asarray(te)) for tr, te in
                StratifiedKFold(k, shuffle, 0 if shuffle else None).split(x, y)]
    assert bool(caught) == (k > np.bincount(y)[np.bincount(y) > 0].min())   # too few members warns
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = list(skl.StratifiedKFold(k, shuffle=shuffle, random_state=0 if shuffle else None).split(x, y))
    for (tr, te), (str_, ste) in zip(ours, theirs):
        if not shuffle:
            assert tr.tolist() == str_.tolist() and te.tolist() == ste.tolist()
        assert np.array_equal(np.bincount(y[te], minlength=4), np.bincount(y[ste], minlength=4))
        assert sorted(tr.tolist() + te.tolist()) == list(range(len(y)))


def test_kfold_errors():
    with pytest.raises(ValueError, match="n_splits=2 or more"):
        KFold(1)
    with pytest.raises(ValueError, match="random_state has no effect"):
        KFold(3, shuffle=False, random_state=1)
    with pytest.raises(ValueError, match="greater than the number of samples"):
        list(KFold(5).split(rows(4)))
    with pytest.raises(ValueError, match="number of members in each class"):
        list(StratifiedKFold(3).split(rows(4), [0, 0, 1, 1]))


# ---------------------------------------------------------------- cross_validate

class FakeModel:
    """Keras-style: fit remembers the training rows; evaluate returns [loss, accuracy] where the
    "accuracy" is the mean test row id (so each fold's value is known)."""
    metrics_names = ["loss", "accuracy"]
    instances = []

    def __init__(self, as_dict=False):
        self.as_dict = as_dict
        FakeModel.instances.append(self)

    def fit(self, x, y, verbose=1, epochs=1):
        assert verbose == 0
        self.train_ids, self.epochs = row_ids(x), epochs
        assert self.train_ids == np.asarray(y).tolist()

    def evaluate(self, x, y, verbose=1):
        assert verbose == 0
        assert not set(row_ids(x)) & set(self.train_ids)
        values = [float(len(row_ids(x))), float(np.mean(row_ids(x)))]
        return dict(zip(self.metrics_names, values)) if self.as_dict else values


@pytest.mark.parametrize("as_dict", [False, True])
def test_cross_validate_with_fake_model(as_dict):
    FakeModel.instances.clear()
    x, y = rows(10), np.arange(10)
    result = cross_validate(lambda: FakeModel(as_dict), x, y, k=3, shuffle=False, epochs=4)
    assert len(FakeModel.instances) == 3 and all(m.epochs == 4 for m in FakeModel.instances)
    assert [f["loss"] for f in result["folds"]] == [4.0, 3.0, 3.0]
    assert [f["accuracy"] for f in result["folds"]] == [1.5, 5.0, 8.0]
    assert result["mean"]["accuracy"] == pytest.approx(np.mean([1.5, 5.0, 8.0]))
    assert result["std"]["loss"] == pytest.approx(np.std([4.0, 3.0, 3.0]))


def test_cross_validate_stratified_and_scalar_result():
    class ScalarModel:
        def fit(self, x, y, verbose=1):
            pass

        def evaluate(self, x, y, verbose=1):
            return float(np.mean(np.asarray(y)))   # the share of class 1 in the fold

    y = np.array([0, 1] * 10)
    result = cross_validate(ScalarModel, rows(20), y, k=5, stratified=True, random_state=0)
    assert [f["loss"] for f in result["folds"]] == [0.5] * 5 and result["mean"] == {"loss": 0.5}


# ---------------------------------------------------------------- preprocessing

def test_standard_scaler_against_numpy():
    x = np.random.default_rng(0).normal(3, 2, (40, 5)).astype(np.float64)
    x[:, 3] = 7.0
    s = StandardScaler()
    z = np.asarray(s.fit_transform(x))
    scale = x.std(0)
    scale[scale == 0] = 1
    np.testing.assert_allclose(z, (x - x.mean(0)) / scale, atol=1e-12)
    np.testing.assert_allclose(np.asarray(s.inverse_transform(z)), x, atol=1e-12)
    assert s.transform(rows(3, 5).astype(np.int64)).dtype == np.float64   # ints become float, stats promote
    z32 = StandardScaler().fit_transform(x.astype(np.float32))
    assert z32.dtype == np.float32
    np.testing.assert_allclose(np.asarray(z32), z, atol=1e-5)


def test_scalers_against_sklearn():
    pre = pytest.importorskip("sklearn.preprocessing")
    x = np.random.default_rng(1).uniform(-4, 9, (30, 4)).astype(np.float32)
    x[:, 1] = 2
    np.testing.assert_allclose(np.asarray(StandardScaler().fit_transform(x)), pre.StandardScaler().fit_transform(x),
                               atol=1e-5)
    np.testing.assert_allclose(np.asarray(StandardScaler(with_mean=False).fit_transform(x)),
                               pre.StandardScaler(with_mean=False).fit_transform(x), atol=1e-5)
    for rng in [(0, 1), (-1, 1), (2, 5)]:
        ours = MinMaxScaler(rng).fit(x)
        np.testing.assert_allclose(np.asarray(ours.transform(x)), pre.MinMaxScaler(rng).fit_transform(x), atol=1e-5)
        np.testing.assert_allclose(np.asarray(ours.inverse_transform(ours.transform(x))), x, atol=1e-5)
    for norm in ("l1", "l2", "max"):
        np.testing.assert_allclose(np.asarray(normalize(x, norm=norm)), pre.normalize(x, norm=norm), atol=1e-6)


def test_scaler_state_dict_roundtrip(tmp_path):
    x = np.random.default_rng(2).normal(size=(20, 3)).astype(np.float32)
    for cls, kwargs in ((StandardScaler, {}), (MinMaxScaler, {"feature_range": (-2, 2)})):
        fitted = cls(**kwargs).fit(x)
        fnn.io.save_tensors(fitted.state_dict(), tmp_path / "s.safetensors")
        state, _ = fnn.io.load_tensors(tmp_path / "s.safetensors")
        restored = cls(**kwargs).load_state_dict(state)
        np.testing.assert_array_equal(np.asarray(restored.transform(x)), np.asarray(fitted.transform(x)))
        with pytest.raises(ValueError, match="missing keys"):
            cls().load_state_dict({})
    with pytest.raises(ValueError, match="1-d statistics"):
        StandardScaler().load_state_dict({"mean_": np.zeros(3), "scale_": np.ones(4)})
    assert StandardScaler().state_dict() == {}


def test_scaler_errors():
    with pytest.raises(RuntimeError, match="not fitted"):
        StandardScaler().transform(rows(2))
    s = MinMaxScaler().fit(rows(4, 3))
    with pytest.raises(ValueError, match="fitted with 3 features"):
        s.transform(rows(4, 2))
    with pytest.raises(ValueError, match="at least one sample"):
        StandardScaler().fit(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="feature range"):
        MinMaxScaler((1, 1))


def test_normalize_zero_rows_and_axis():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(np.asarray(normalize(x)), [[0.6, 0.8], [0, 0]])
    np.testing.assert_allclose(np.asarray(normalize(x, axis=0, norm="max")), [[1, 1], [0, 0]])
    assert normalize([[1, 1]]).dtype == np.float32
    with pytest.raises(ValueError, match="norm must be one of"):
        normalize(x, norm="l3")


def test_one_hot():
    np.testing.assert_array_equal(np.asarray(one_hot([2, 0, 1])), np.eye(3, dtype=np.float32)[[2, 0, 1]])
    out = one_hot(np.array([[1], [3]]), num_classes=5, dtype=np.int64)
    assert out.shape == (2, 1, 5) and out.dtype == np.int64 and np.asarray(out)[1, 0].tolist() == [0, 0, 0, 1, 0]
    assert one_hot(np.array([1.0, 0.0])).dtype == np.float32
    assert one_hot(np.zeros(0, np.int64), num_classes=4).shape == (0, 4)
    with pytest.raises(ValueError, match="label 3 is out of range for num_classes=3"):
        one_hot([0, 3], num_classes=3)
    with pytest.raises(ValueError, match="label -1 is out of range"):
        one_hot([0, -1])
    with pytest.raises(ValueError, match="whole numbers"):
        one_hot([0.5])


# ---------------------------------------------------------------- loaders

@pytest.mark.parametrize("name", ["load_digits", "load_breast_cancer", "load_iris", "load_diabetes"])
def test_sklearn_loaders(name):
    datasets = pytest.importorskip("sklearn.datasets")
    x, y = getattr(fnn.data, name)()
    ref = getattr(datasets, name)()
    assert x.dtype == np.float32 and x.shape == ref.data.shape
    np.testing.assert_allclose(np.asarray(x), ref.data, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(y), ref.target, rtol=1e-6)
    assert y.dtype == (np.float32 if name == "load_diabetes" else np.int64)
    bunch = getattr(fnn.data, name)(return_X_y=False)
    assert bunch.data.shape == x.shape and bunch.target.shape == y.shape and len(bunch.feature_names) == x.shape[1]


def test_sklearn_loader_without_sklearn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        load_digits()


def write_idx(path, array, compress=False):
    codes = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D}
    raw = bytes([0, 0, codes[array.dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)


@pytest.mark.parametrize("compress,sep", [(False, "-"), (True, "-"), (True, ".")])
def test_load_mnist(tmp_path, compress, sep):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (7, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 7, dtype=np.uint8)
    gz = ".gz" if compress else ""
    write_idx(tmp_path / f"t10k-images{sep}idx3-ubyte{gz}", images, compress)
    write_idx(tmp_path / f"t10k-labels{sep}idx1-ubyte{gz}", labels, compress)
    x, y = load_mnist(tmp_path, kind="t10k")
    assert x.shape == (7, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(np.asarray(x), images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(y), labels)
    x, _ = load_mnist(str(tmp_path), kind="t10k", normalize=False, flatten=True)
    np.testing.assert_array_equal(np.asarray(x), images.reshape(7, -1).astype(np.float32))
    with pytest.raises(FileNotFoundError, match="no train images file"):
        load_mnist(tmp_path, kind="train")


def test_load_mnist_errors(tmp_path):
    with pytest.raises(ValueError, match="kind must be"):
        load_mnist(tmp_path, kind="test")
    with pytest.raises(FileNotFoundError, match="not a directory"):
        load_mnist(tmp_path / "nope")
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((3, 4, 4), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(2, np.uint8))
    with pytest.raises(ValueError, match="3 images .* but 2 labels"):
        load_mnist(tmp_path)
    images = tmp_path / "train-images-idx3-ubyte"
    full = images.read_bytes()
    images.write_bytes(full[:-5])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte: truncated IDX file"):
        load_mnist(tmp_path)
    images.write_bytes(b"\x01\x02" + full[2:])
    with pytest.raises(ValueError, match="not an IDX file"):
        load_mnist(tmp_path)
    images.write_bytes(gzip.compress(full)[:-10])
    with pytest.raises(ValueError, match="corrupt gzip"):
        load_mnist(tmp_path)
    images.write_bytes(full[:10])
    with pytest.raises(ValueError, match="truncated IDX header"):
        load_mnist(tmp_path)


def test_read_idx_other_types(tmp_path):
    a = np.arange(-6, 6, dtype=">i4").reshape(3, 4)
    write_idx(tmp_path / "a", a)
    np.testing.assert_array_equal(read_idx(tmp_path / "a"), a)
    f = np.linspace(0, 1, 5).astype(">f4")
    write_idx(tmp_path / "f", f, compress=True)
    np.testing.assert_array_equal(read_idx(tmp_path / "f"), f)


def test_load_csv(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,b,label\n1,2.5,0\n3,4,1\n\n5,6,1\n")
    x, y = load_csv(p, target_column="label", skip_header=True)
    assert x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(np.asarray(x), [[1, 2.5], [3, 4], [5, 6]])
    np.testing.assert_array_equal(np.asarray(y), [0, 1, 1])
    x, y = load_csv(p, target_column=0, skip_header=True)
    assert y.dtype == np.int64 and np.asarray(x)[0].tolist() == [2.5, 0.0]
    x, y = load_csv(p, target_column=1, skip_header=True)
    assert y.dtype == np.float32 and np.asarray(y).tolist() == [2.5, 4.0, 6.0]
    assert load_csv(p, target_column=None, skip_header=True).shape == (3, 3)
    (tmp_path / "t.tsv").write_text("1\t2\n3\t4\n")
    assert np.asarray(load_csv(tmp_path / "t.tsv", delimiter="\t")[1]).tolist() == [2, 4]


def test_load_csv_errors(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("1,2,3\n4,x,6\n")
    with pytest.raises(ValueError, match=r"line 2, column 2: not a number: 'x'"):
        load_csv(p)
    p.write_text("1,2,3\n4,5\n")
    with pytest.raises(ValueError, match="line 2: 2 columns, expected 3"):
        load_csv(p)
    p.write_text("a,b\n")
    with pytest.raises(ValueError, match="no data rows"):
        load_csv(p, skip_header=True)
    p.write_text("1,2\n")
    with pytest.raises(ValueError, match="needs skip_header=True"):
        load_csv(p, target_column="b")
    with pytest.raises(ValueError, match="out of range for 2 columns"):
        load_csv(p, target_column=2)
    with pytest.raises(FileNotFoundError):
        load_csv(tmp_path / "missing.csv")


def test_load_npz(tmp_path):
    p = tmp_path / "d.npz"
    np.savez(p, x=np.arange(6, dtype=np.uint8).reshape(3, 2), y=np.array([1, 0, 1]), h=np.ones(2, np.float16))
    x, y = load_npz(p)
    assert x.dtype == np.int32 and np.asarray(x).tolist() == [[0, 1], [2, 3], [4, 5]] and y.dtype == np.int64
    assert load_npz(p, x_key="h", y_key=None).dtype == np.float32
    with pytest.raises(KeyError, match="no array named 'z'"):
        load_npz(p, y_key="z")
    np.savez(p, x=np.array([{"a": 1}], dtype=object), y=np.zeros(1))
    with pytest.raises(ValueError, match="cannot read array"):
        load_npz(p)
    p.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="not a readable .npz"):
        load_npz(p)
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_npz(tmp_path / "none.npz")
