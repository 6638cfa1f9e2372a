"""compile / fit / evaluate / predict / summary on nn.Module (Keras semantics), the C++ batch gather, and
the Keras-style losses."""
import numpy as np
import pytest

import fusednn as fnn
from fusednn import _C, nn
from fusednn.losses import BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy

from conftest import DEVICES


def blobs(n=256, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = (rng.normal(size=(n, 4)) + 3 * np.eye(3, 4)[y]).astype(np.float32)
    return x, y.astype(np.int64)


def mlp(out=3, act=None, input_shape=None):
    return nn.Sequential(nn.Dense(16, activation="relu", input_shape=input_shape), nn.Dense(out, activation=act))


# ---- the batch gather
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.bool_])
def test_take_rows_matches_numpy(dtype):
    src = (np.arange(7 * 3 * 2) % 5).astype(dtype).reshape(7, 3, 2)
    idx = np.array([6, 0, -1, 3], dtype=np.int64)
    out = fnn.empty((4, 3, 2), dtype=dtype)
    _C._take_rows(fnn.asarray(src), fnn.asarray(idx), out)
    np.testing.assert_array_equal(np.asarray(out), src[idx])


def test_take_rows_strided_index_and_errors():
    src = fnn.asarray(np.arange(20, dtype=np.float32).reshape(10, 2))
    idx = fnn.asarray(np.array([9, 8, 7, 6, 5, 4], dtype=np.int64))[::2]
    out = fnn.empty((3, 2))
    _C._take_rows(src, idx, out)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(src)[[9, 7, 5]])
    with pytest.raises(IndexError, match="out of bounds"):
        _C._take_rows(src, fnn.asarray(np.array([10], dtype=np.int64)), fnn.empty((1, 2)))
    with pytest.raises(ValueError, match="shape"):
        _C._take_rows(src, fnn.asarray(np.array([1], dtype=np.int64)), fnn.empty((1, 3)))
    with pytest.raises(TypeError, match="dtype"):
        _C._take_rows(src, fnn.asarray(np.array([1], dtype=np.int64)), fnn.empty((1, 2), dtype=np.float64))
    with pytest.raises(TypeError, match="int64"):
        _C._take_rows(src, fnn.asarray(np.array([1], dtype=np.int32)), fnn.empty((1, 2)))


@pytest.mark.parametrize("n_threads", [1, 2])
def test_take_rows_large_threaded(threads, n_threads):
    fnn.set_num_threads(n_threads)
    src = np.random.default_rng(0).random((3000, 100), dtype=np.float32)
    idx = np.random.default_rng(1).permutation(3000)[:2500]
    out = fnn.empty((2500, 100))
    _C._take_rows(fnn.asarray(src), fnn.asarray(idx), out)
    np.testing.assert_array_equal(np.asarray(out), src[idx])


def test_fit_reuses_one_batch_buffer():
    """Shuffled batches are gathered into the same buffer every step (one copy per batch, no allocation)."""
    seen = []

    class Spy(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 3)

        def forward(self, x):
            seen.append(x.__array_interface__["data"][0] if hasattr(x, "__array_interface__") else
                        np.asarray(x).__array_interface__["data"][0])
            return self.lin(x)

    x, y = blobs(64)
    model = Spy()
    model.compile("sgd", "sparse_categorical_crossentropy", from_logits=True)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert len(seen) == 8 and len(set(seen)) == 1


def test_fit_categorical_crossentropy_on_softmax_probabilities():
    fnn.random.seed(8)
    x, y = blobs(200)
    onehot = np.eye(3, dtype=np.float32)[y]
    model = nn.Sequential(nn.Dense(16, activation="relu"), nn.Dense(3), nn.Softmax())
    model.compile("adam", "categorical_crossentropy", metrics=["categorical_accuracy"], lr=0.02)
    h = model.fit(x, onehot, epochs=10, batch_size=20, verbose=0)
    assert h.history["categorical_accuracy"][-1] > 0.85
    probabilities = np.asarray(model.predict(x))
    np.testing.assert_allclose(probabilities.sum(1), 1, rtol=1e-5)


# ---- fit
def test_fit_learns_and_history_has_keras_keys():
    fnn.random.seed(0)
    x, y = blobs()
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"], lr=0.02, from_logits=True)
    h = model.fit(x, y, epochs=8, batch_size=32, validation_split=0.25, verbose=0)
    assert set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert all(len(v) == 8 for v in h.history.values()) and h.epoch == list(range(8))
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert h.history["val_accuracy"][-1] > 0.85
    assert h.history["lr"] == [0.02] * 8


def test_fit_loss_equals_hand_written_loop():
    """fit's steps are exactly zero_grad / forward / loss / backward / step over the same batches."""
    x, y = blobs(100)
    results = []
    for use_fit in (True, False):
        fnn.random.seed(3)
        model = mlp()
        model(fnn.asarray(x[:1]))  # builds the lazy layers, so compile creates the optimizer
        model.compile("sgd", "sparse_categorical_crossentropy", lr=0.1, from_logits=True)
        if use_fit:
            model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
        else:
            opt = model.optimizer
            for _ in range(2):
                for i in range(0, 100, 16):
                    opt.zero_grad()
                    loss = nn.functional.cross_entropy(model(fnn.asarray(x[i:i + 16])), fnn.asarray(y[i:i + 16]))
                    loss.backward()
                    opt.step()
        results.append(np.asarray(model[0].weight).copy())
    np.testing.assert_array_equal(results[0], results[1])


def test_fit_shuffle_is_reproducible_and_uses_global_rng():
    x, y = blobs(64)
    weights = []
    for _ in range(2):
        fnn.random.seed(11)
        model = mlp()
        model.compile("adam", "sparse_categorical_crossentropy", from_logits=True)
        model.fit(x, y, epochs=2, batch_size=10, verbose=0)
        weights.append(np.asarray(model[1].weight).copy())
    np.testing.assert_array_equal(weights[0], weights[1])


@pytest.mark.parametrize("device", DEVICES)
def test_fit_on_a_device_matches_the_cpu_loss_curve(device):
    """fit(device=...) builds the lazy layers on the host, moves the model in place and trains there with
    batches gathered on the host; losses, metrics, evaluate, predict and train_on_batch follow the CPU run."""
    x, y = blobs(200, seed=4)
    runs = []
    for where in ("cpu", device):
        fnn.random.seed(21)
        model = mlp()
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"], lr=0.02, from_logits=True)
        h = model.fit(x, y, epochs=3, batch_size=32, validation_split=0.2, verbose=0, device=where)
        params = list(model.parameters())
        assert all(p.device == fnn.cuda._device_name(where) for p in params)
        assert all(a is b for a, b in zip(model.optimizer.param_groups[0]["params"], params))
        pred = model.predict(x[:50], batch_size=16)
        assert pred.device == "cpu"
        runs.append((h.history, model.evaluate(x, y, verbose=0, return_dict=True), np.asarray(pred),
                     model.train_on_batch(x[:32], y[:32])))
    (h0, e0, p0, t0), (h1, e1, p1, t1) = runs
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(h1[key], h0[key], rtol=1e-4)
    assert abs(h1["accuracy"][-1] - h0["accuracy"][-1]) <= 0.01
    np.testing.assert_allclose(e1["loss"], e0["loss"], rtol=1e-4)
    np.testing.assert_allclose(p1, p0, rtol=1e-4, atol=1e-5)
    assert t1 == pytest.approx(t0, rel=1e-4)


@pytest.mark.parametrize("kind", ["arrays", "tensors", "dataset", "loader"])
def test_fit_accepts_arrays_tensors_datasets(kind):
    fnn.random.seed(1)
    x, y = blobs(96)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["acc"], from_logits=True, lr=0.02)
    if kind == "arrays":
        h = model.fit(x, y, epochs=3, verbose=0)
    elif kind == "tensors":
        h = model.fit(fnn.asarray(x), fnn.asarray(y), epochs=3, verbose=0)
    elif kind == "dataset":
        h = model.fit(fnn.data.TensorDataset(x, y), epochs=3, verbose=0)
    else:
        h = model.fit(fnn.data.DataLoader(fnn.data.TensorDataset(x, y), batch_size=16, shuffle=True), epochs=3,
                      verbose=0, validation_data=fnn.data.DataLoader(fnn.data.TensorDataset(x, y), batch_size=32))
        assert "val_acc" in h.history
    assert h.history["loss"][-1] < h.history["loss"][0]


def test_fit_requires_compile_and_y():
    model = mlp()
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(np.zeros((4, 4), np.float32), np.zeros(4, np.int64))
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match="y is required"):
        model.fit(np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError, match="different numbers of samples"):
        model.fit(np.zeros((4, 4), np.float32), np.zeros((5, 3), np.float32))
    with pytest.raises(ValueError, match="unknown loss"):
        model.compile("adam", "nope")
    with pytest.raises(ValueError, match="unknown optimizer"):
        mlp().compile("nope", "mse").fit(np.zeros((4, 4), np.float32), np.zeros((4, 3), np.float32), verbose=0)


def test_lazy_dense_builds_before_optimizer():
    model = mlp()
    model.compile("adam", "mse")
    assert model.optimizer is None  # not built yet
    model.fit(np.ones((8, 5), np.float32), np.ones((8, 3), np.float32), epochs=1, verbose=0)
    assert model[0].weight.shape == (16, 5)
    assert len(model.optimizer.param_groups[0]["params"]) == 4


def test_regularization_is_added_to_the_loss():
    fnn.random.seed(2)
    x = np.ones((8, 3), np.float32)
    model = nn.Sequential(nn.Linear(3, 1, kernel_regularizer=nn.regularizers.L2(10.0)))
    model.compile("sgd", "mse", lr=0.0)
    penalty = float(model.regularization_loss())
    plain = float(nn.functional.mse_loss(model(fnn.asarray(x)), fnn.zeros((8, 1))))
    h = model.fit(x, np.zeros((8, 1), np.float32), epochs=1, batch_size=8, verbose=0)
    assert h.history["loss"][0] == pytest.approx(plain + penalty, rel=1e-5)
    assert model.evaluate(x, np.zeros((8, 1), np.float32), verbose=0) == pytest.approx(plain + penalty, rel=1e-5)


# ---- losses by name
def test_binary_crossentropy_probabilities_and_logits():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(20, 1))
    t = rng.integers(0, 2, (20,)).astype(np.float64)
    p = 1 / (1 + np.exp(-z))
    ref = -np.mean(t[:, None] * np.log(p) + (1 - t[:, None]) * np.log(1 - p))
    assert float(BinaryCrossentropy()(t, fnn.asarray(p))) == pytest.approx(ref, rel=1e-9)
    assert float(BinaryCrossentropy(from_logits=True)(t, fnn.asarray(z))) == pytest.approx(ref, rel=1e-9)


def test_categorical_crossentropy_keras_formula():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(6, 4))
    labels = rng.integers(0, 4, 6)
    onehot = np.eye(4)[labels]
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    ref = -np.mean(np.log(p[np.arange(6), labels]))
    assert float(CategoricalCrossentropy()(onehot, fnn.asarray(p))) == pytest.approx(ref, rel=1e-9)
    assert float(CategoricalCrossentropy(from_logits=True)(onehot, fnn.asarray(logits))) == pytest.approx(ref, rel=1e-9)
    assert float(SparseCategoricalCrossentropy()(labels, fnn.asarray(p))) == pytest.approx(ref, rel=1e-9)
    # unnormalised probabilities are renormalised, as Keras does
    assert float(CategoricalCrossentropy()(onehot, fnn.asarray(2 * p * 0.5))) == pytest.approx(ref, rel=1e-9)


def test_loss_gradients_flow_through_probabilities():
    p = fnn.asarray(np.array([[0.2, 0.3, 0.5]]))
    p.requires_grad = True
    CategoricalCrossentropy()(np.array([[0.0, 0.0, 1.0]]), p).backward()
    # d/dp of -log(p_2 / sum p) = -1/p_2 e_2 + 1/sum p
    np.testing.assert_allclose(np.asarray(p.grad), [[1.0, 1.0, 1 - 1 / 0.5]], rtol=1e-6)


# ---- evaluate / predict / summary
def test_evaluate_return_forms_and_predict():
    fnn.random.seed(4)
    x, y = blobs(70)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"], from_logits=True)
    values = model.evaluate(x, y, batch_size=16, verbose=0)
    d = model.evaluate(x, y, batch_size=7, verbose=0, return_dict=True)
    assert model.metrics_names == ["loss", "accuracy"] and list(d) == ["loss", "accuracy"]
    np.testing.assert_allclose(values, list(d.values()), rtol=1e-6)
    logits = np.asarray(model.predict(x, batch_size=16))
    ref_loss = np.mean(np.log(np.exp(logits).sum(1)) - logits[np.arange(70), y])
    assert d["loss"] == pytest.approx(ref_loss, rel=1e-5)
    assert d["accuracy"] == pytest.approx(np.mean(logits.argmax(1) == y))
    assert model.training  # modes are restored
    single = mlp(1)
    single.compile("sgd", "mse")
    assert isinstance(single.evaluate(x, y.astype(np.float32), verbose=0), float)


def test_predict_uses_eval_mode():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.9))
    x = np.ones((5, 4), np.float32)
    a, b = np.asarray(model.predict(x)), np.asarray(model.predict(x))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, np.asarray(model[0](fnn.asarray(x))), rtol=1e-6)


def test_summary_counts_and_shapes():
    model = nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.BatchNorm1d(4), nn.Linear(4, 2))
    model[0].requires_grad_(False)
    lines = []
    model.summary(print_fn=lines.append)
    text = lines[0]
    assert "(None, 4)" in text and "(None, 2)" in text
    assert "Total params: 54" in text and "Trainable params: 18" in text and "Non-trainable params: 36" in text


class TwoTower(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 8, activation="tanh")
        self.b = nn.Linear(8, 1)

    def forward(self, x):
        return self.b(self.a(x))


def test_subclass_trains_keras_style():
    fnn.random.seed(5)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(200, 3)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5]) + 0.3).astype(np.float32)[:, None]
    model = TwoTower()
    model.compile("adam", "mse", metrics=["mae"], lr=0.03)
    h = model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    assert h.history["loss"][-1] < 0.05 * h.history["loss"][0]
    lines = []
    model.summary(print_fn=lines.append)
    assert "a (Linear)" in lines[0] and "(None, 8)" in lines[0]


def test_frozen_parameters_stay_fixed_and_recompile_unfreezes():
    fnn.random.seed(6)
    x, y = blobs(64)
    model = mlp()
    model(fnn.asarray(x[:1]))
    model[0].trainable = False
    frozen = np.asarray(model[0].weight).copy()
    model.compile("adam", "sparse_categorical_crossentropy", from_logits=True)
    assert len(model.optimizer.param_groups[0]["params"]) == 2
    model.fit(x, y, epochs=2, verbose=0)
    np.testing.assert_array_equal(np.asarray(model[0].weight), frozen)
    model[0].trainable = True
    model.compile("adam", "sparse_categorical_crossentropy", from_logits=True, lr=1e-4)
    model.fit(x, y, epochs=1, verbose=0)
    assert not np.array_equal(np.asarray(model[0].weight), frozen)


def test_verbose_modes(capsys):
    x, y = blobs(40)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"], from_logits=True)
    model.fit(x, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(x, y, epochs=2, verbose=2)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2 and out[1].startswith("Epoch 2/2") and "samples/s" in out[1] and "accuracy" in out[1]
    pytest.importorskip("tqdm")
    model.fit(x, y, epochs=1, verbose=1)
    assert "Epoch 1/1" in capsys.readouterr().out


def test_train_on_batch():
    model = mlp(1)
    model.compile("sgd", "mse", lr=0.1)
    x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    first = model.train_on_batch(x, y)
    assert model.train_on_batch(x, y) < first
