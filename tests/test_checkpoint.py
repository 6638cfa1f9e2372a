"""model.save / fnn.load / save_weights / load_weights: safetensors files readable by the safetensors
package, exact resume, rebuilt architectures, clear errors for corrupt or mismatched files, transfer learning."""
import json
import os

import numpy as np
import pytest

import fusednn as fnn
from fusednn import nn

from conftest import DEVICES


def data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    return (rng.normal(size=(n, 6)) + 2 * np.eye(3, 6)[y]).astype(np.float32), y.astype(np.int64)


def net():
    return nn.Sequential(nn.Linear(6, 16, activation="relu"), nn.Dropout(0.2), nn.BatchNorm1d(16),
                         nn.Dense(3, input_shape=(16,)))


def compiled(opt="adam"):
    m = net()
    m.compile(opt, "sparse_categorical_crossentropy", metrics=["accuracy"], from_logits=True, lr=0.01)
    return m


def weights(m):
    return {k: np.asarray(v).copy() for k, v in m.state_dict().items()}


@pytest.mark.parametrize("opt", ["adam", "sgd", "nadam"])
def test_resume_is_bitwise_identical(tmp_path, opt):
    """2 epochs, save, load, 1 more == 3 epochs (shuffle, dropout, batch norm, optimizer state)."""
    x, y = data()
    fnn.random.seed(7)
    ref = compiled(opt)
    ref(fnn.asarray(x[:2]))
    h_ref = ref.fit(x, y, epochs=3, batch_size=16, verbose=0)
    fnn.random.seed(7)
    m = compiled(opt)
    m(fnn.asarray(x[:2]))
    m.fit(x, y, epochs=2, batch_size=16, verbose=0)
    m.save(tmp_path / "ckpt.safetensors")
    fnn.random.seed(123)  # loading restores the generator
    resumed = fnn.load(tmp_path / "ckpt.safetensors")
    h = resumed.fit(x, y, epochs=3, initial_epoch=2, batch_size=16, verbose=0)
    assert h.history["loss"] == h_ref.history["loss"][2:]
    for k, v in weights(ref).items():
        np.testing.assert_array_equal(weights(resumed)[k], v, err_msg=k)


def test_resume_with_scheduler_state(tmp_path):
    x, y = data(48)
    fnn.random.seed(1)
    ref = compiled()
    ref(fnn.asarray(x[:2]))
    ref.fit(x, y, epochs=4, verbose=0, callbacks=[fnn.optim.lr_scheduler.StepLR(ref.optimizer, 1, 0.5)])
    fnn.random.seed(1)
    m = compiled()
    m(fnn.asarray(x[:2]))
    m.fit(x, y, epochs=2, verbose=0, callbacks=[fnn.optim.lr_scheduler.StepLR(m.optimizer, 1, 0.5)])
    m.save(tmp_path / "s.safetensors")
    r = fnn.load(tmp_path / "s.safetensors")
    assert r.optimizer.param_groups[0]["lr"] == 0.0025
    h = r.fit(x, y, epochs=4, initial_epoch=2, verbose=0,
              callbacks=[fnn.optim.lr_scheduler.StepLR(r.optimizer, 1, 0.5)])
    assert h.history["lr"] == [0.0025, 0.00125]
    np.testing.assert_array_equal(np.asarray(r[3].weight), np.asarray(ref[3].weight))


def test_file_is_safetensors_with_plain_names(tmp_path):
    safetensors = pytest.importorskip("safetensors.numpy")
    x, y = data(32)
    m = compiled()
    m.fit(x, y, epochs=1, verbose=0)
    m.save(tmp_path / "m.safetensors")
    loaded = safetensors.load_file(str(tmp_path / "m.safetensors"))
    for k, v in weights(m).items():
        np.testing.assert_array_equal(loaded[k], v)
    assert any(k.startswith("optimizer/") for k in loaded)
    m.save_weights(tmp_path / "w.safetensors")
    assert set(safetensors.load_file(str(tmp_path / "w.safetensors"))) == set(m.state_dict())


def test_load_rebuilds_every_layer_kind(tmp_path):
    m = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.LayerNorm(8, eps=1e-3), nn.Linear(8, 8, activation="tanh"),
                      nn.LeakyReLU(0.2), nn.ELU(0.5), nn.GELU(), nn.SiLU(), nn.Softplus(2.0), nn.Sigmoid(), nn.Tanh(),
                      nn.Dense(5, input_shape=(8,), kernel_regularizer=nn.regularizers.L2(0.01)),
                      nn.BatchNorm1d(5, momentum=0.3), nn.Dropout(0.1), nn.Identity(), nn.LogSoftmax(dim=1))
    m.save(tmp_path / "all.safetensors")
    r = fnn.load(tmp_path / "all.safetensors")
    assert repr(r) == repr(m)
    idx = np.array([[1, 2], [3, 9]], dtype=np.int64)
    m.eval(), r.eval()
    np.testing.assert_array_equal(np.asarray(r(fnn.asarray(idx))), np.asarray(m(fnn.asarray(idx))))
    assert r[11].kernel_regularizer.l2 == 0.01
    d = nn.Sequential(nn.Linear(3, 2, dtype=np.float64))
    d.save(tmp_path / "f64.safetensors")
    assert fnn.load(tmp_path / "f64.safetensors")[0].weight.dtype == np.float64


def test_load_uncompiled_model_and_compile_false(tmp_path):
    m = net()
    m.save(tmp_path / "u.safetensors")
    assert fnn.load(tmp_path / "u.safetensors").__dict__.get("_compiled") is None
    c = compiled()
    c.save(tmp_path / "c.safetensors")
    assert fnn.load(tmp_path / "c.safetensors", compile=False).__dict__.get("_compiled") is None
    assert fnn.load(tmp_path / "c.safetensors").metrics_names == ["loss", "accuracy"]


class Custom(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(6, 3)

    def forward(self, x):
        return self.body(x)


def test_subclass_saves_weights_and_load_explains(tmp_path):
    m = Custom()
    m.save(tmp_path / "c.safetensors")
    with pytest.raises(ValueError, match="Custom.*load_weights"):
        fnn.load(tmp_path / "c.safetensors")
    other = Custom()
    other.load_weights(tmp_path / "c.safetensors")
    np.testing.assert_array_equal(np.asarray(other.body.weight), np.asarray(m.body.weight))
    m.save_weights(tmp_path / "w.safetensors")
    with pytest.raises(ValueError, match="weights only"):
        fnn.load(tmp_path / "w.safetensors")


def test_load_weights_mismatches_name_the_problem(tmp_path):
    nn.Sequential(nn.Linear(6, 4)).save_weights(tmp_path / "a.safetensors")
    with pytest.raises(ValueError, match=r"a.safetensors.*'0.weight'.*\(4, 6\).*\(3, 6\)"):
        nn.Sequential(nn.Linear(6, 3)).load_weights(tmp_path / "a.safetensors")
    with pytest.raises(KeyError, match="missing keys.*1.weight"):
        nn.Sequential(nn.Linear(6, 4), nn.Linear(4, 2)).load_weights(tmp_path / "a.safetensors")
    missing, unexpected = nn.Sequential(nn.Linear(6, 4), nn.Linear(4, 2)).load_weights(
        tmp_path / "a.safetensors", strict=False)
    assert missing == ["1.weight", "1.bias"] and unexpected == []
    lazy = nn.Sequential(nn.Dense(4))
    lazy.load_weights(tmp_path / "a.safetensors")
    assert lazy[0].weight.shape == (4, 6)


def test_corrupt_and_truncated_files(tmp_path):
    path = tmp_path / "m.safetensors"
    compiled().save(path)
    raw = path.read_bytes()
    (tmp_path / "t.safetensors").write_bytes(raw[:-10])
    with pytest.raises(ValueError, match="t.safetensors.*truncated"):
        fnn.load(tmp_path / "t.safetensors")
    (tmp_path / "short.safetensors").write_bytes(raw[:5])
    with pytest.raises(ValueError, match="too short"):
        fnn.load(tmp_path / "short.safetensors")
    with pytest.raises(FileNotFoundError):
        fnn.load(tmp_path / "nope.safetensors")
    tensors, meta = fnn.io.load_tensors(path)
    meta["fusednn"] = meta["fusednn"][:-5]
    fnn.io.save_tensors(tensors, tmp_path / "bad.safetensors", meta)
    with pytest.raises(ValueError, match="corrupt model metadata"):
        fnn.load(tmp_path / "bad.safetensors")
    info = json.loads(fnn.io.load_tensors(path)[1]["fusednn"])
    info["config"]["layers"][0][1]["class"] = "os.system"
    fnn.io.save_tensors(tensors, tmp_path / "evil.safetensors", {"fusednn": json.dumps(info)})
    with pytest.raises(ValueError, match="unknown layer class 'os.system'"):
        fnn.load(tmp_path / "evil.safetensors")


def test_save_is_atomic_on_failure(tmp_path):
    path = tmp_path / "m.safetensors"
    m = compiled()
    m.save(path)
    before = path.read_bytes()
    m.scaler = object()
    with pytest.raises(ValueError, match="scaler"):
        m.save(path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.safetensors"]


def test_scaler_round_trip(tmp_path):
    x, _ = data(20)
    m = net()
    m.scaler = fnn.data.StandardScaler().fit(x)
    m.save(tmp_path / "s.safetensors")
    r = fnn.load(tmp_path / "s.safetensors")
    np.testing.assert_array_equal(np.asarray(r.scaler.transform(x)), np.asarray(m.scaler.transform(x)))


def test_transfer_learning_freeze_replace_head_finetune(tmp_path):
    x, y = data(120)
    fnn.random.seed(3)
    base = nn.Sequential(nn.Linear(6, 16, activation="relu"), nn.Linear(16, 16, activation="relu"), nn.Linear(16, 3))
    base.compile("adam", "sparse_categorical_crossentropy", from_logits=True, lr=0.01)
    base.fit(x, y, epochs=3, verbose=0)
    base.save_weights(tmp_path / "pre.safetensors")
    model = nn.Sequential(nn.Linear(6, 16, activation="relu"), nn.Linear(16, 16, activation="relu"), nn.Linear(16, 3))
    model.load_weights(tmp_path / "pre.safetensors")
    model[0].trainable = False
    model[1].requires_grad_(False)
    model._modules["2"] = None
    model.add_module("2", nn.Linear(16, 2))  # a new head for a 2-class task
    y2 = (y > 0).astype(np.int64)
    frozen = np.asarray(model[0].weight).copy()
    model.compile("adam", "sparse_categorical_crossentropy", from_logits=True, lr=1e-3)
    assert [p.shape for p in model.optimizer.param_groups[0]["params"]] == [(2, 16), (2,)]
    model.fit(x, y2, epochs=2, verbose=0)
    np.testing.assert_array_equal(np.asarray(model[0].weight), frozen)
    model.save(tmp_path / "ft.safetensors")
    r = fnn.load(tmp_path / "ft.safetensors")
    assert [p.requires_grad for p in r.parameters()] == [False] * 4 + [True] * 2
    model.trainable = True
    model.compile("adam", "sparse_categorical_crossentropy", from_logits=True, lr=1e-4)
    model.fit(x, y2, epochs=1, verbose=0)
    assert not np.array_equal(np.asarray(model[0].weight), frozen)


@pytest.mark.parametrize("device", DEVICES)
def test_model_on_a_device_saves_host_copies_and_loads_on_the_cpu_or_in_place(tmp_path, device):
    """save/save_weights of a model trained on a device (Adam state there too); fnn.load rebuilds it on
    the CPU and, moved back, resumes like the uninterrupted run; load_weights fills a model's parameters
    in place on their device, lazily built layers included."""
    where = fnn.cuda._device_name(device)
    x, y = data()
    fnn.random.seed(7)
    m = compiled()
    m.fit(x, y, epochs=2, batch_size=16, verbose=0, device=device)
    assert {p.device for p in m.parameters()} == {where}
    m.save(tmp_path / "m.safetensors")
    m.save_weights(tmp_path / "w.safetensors")
    saved = {k: np.asarray(v.cpu()).copy() for k, v in m.state_dict().items()}
    saved_opt = m.optimizer.state_dict()["state"]
    h_ref = m.fit(x, y, epochs=3, initial_epoch=2, batch_size=16, verbose=0)

    loaded = fnn.load(tmp_path / "m.safetensors")  # also restores the generator's state at the save
    assert {t.device for t in list(loaded.parameters()) + list(loaded.buffers())} == {"cpu"}
    for k, v in weights(loaded).items():
        np.testing.assert_array_equal(v, saved[k], err_msg=k)
    for i, entry in loaded.optimizer.state_dict()["state"].items():
        for name, value in entry.items():
            np.testing.assert_array_equal(np.asarray(value), np.asarray(saved_opt[i][name]), err_msg=name)
    h = loaded.fit(x, y, epochs=3, initial_epoch=2, batch_size=16, verbose=0, device=device)
    np.testing.assert_allclose(h.history["loss"], h_ref.history["loss"], rtol=1e-6)

    lazy = nn.Sequential(nn.Linear(6, 16, activation="relu"), nn.Dropout(0.2), nn.BatchNorm1d(16), nn.Dense(3))
    for model in (net().to(device), lazy.to(device)):
        before = list(model.parameters())
        model.load_weights(tmp_path / "w.safetensors")
        tensors = list(model.parameters()) + list(model.buffers())
        assert {t.device for t in tensors} == {where}  # the Dense that the load built too
        assert all(a is b for a, b in zip(model.parameters(), before))
        for k, v in model.state_dict().items():
            np.testing.assert_array_equal(np.asarray(v.cpu()), saved[k], err_msg=k)
