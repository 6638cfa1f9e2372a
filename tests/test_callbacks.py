"""Callbacks with Keras' semantics: EarlyStopping, ModelCheckpoint, LearningRateScheduler, ReduceLROnPlateau,
CSVLogger, TerminateOnNaN, custom callbacks and optim.lr_scheduler schedulers in fit()."""
import csv
import math

import numpy as np
import pytest

import fusednn as fnn
from fusednn import callbacks as cb
from fusednn import nn

from conftest import DEVICES


def data(n=64):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    return x, (x @ np.array([[1.0], [2.0], [-1.0]])).astype(np.float32)


def model(lr=0.01, opt="sgd"):
    fnn.random.seed(0)
    m = nn.Sequential(nn.Linear(3, 1))
    m.compile(opt, "mse", lr=lr)
    return m


class Scripted(cb.Callback):
    """Replaces the epoch's val_loss by a scripted sequence (so the rules are tested exactly)."""

    def __init__(self, values):
        super().__init__()
        self.values = values

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.values[epoch]


def test_hooks_are_called_in_order():
    events = []

    class Recorder(cb.Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"epoch_begin {epoch}")

        def on_batch_end(self, batch, logs=None):
            events.append(f"batch_end {batch} {'loss' in logs}")

        def on_epoch_end(self, epoch, logs=None):
            events.append(f"epoch_end {epoch} {sorted(logs)}")

        def on_train_end(self, logs=None):
            events.append("train_end")

    x, y = data(8)
    rec = Recorder()
    m = model()
    m.fit(x, y, epochs=2, batch_size=4, verbose=0, callbacks=[rec])
    assert rec.model is m and rec.params["epochs"] == 2 and rec.params["steps"] == 2
    assert events == ["train_begin", "epoch_begin 0", "batch_end 0 True", "batch_end 1 True",
                      "epoch_end 0 ['loss', 'lr']", "epoch_begin 1", "batch_end 0 True", "batch_end 1 True",
                      "epoch_end 1 ['loss', 'lr']", "train_end"]


@pytest.mark.parametrize("patience, stop_epoch", [(0, 2), (1, 2), (2, 3), (3, 4)])
def test_early_stopping_patience(patience, stop_epoch):
    # Keras counts the epoch itself before comparing with patience, so 0 and 1 stop at the same epoch
    values = [1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    x, y = data(8)
    h = model().fit(x, y, epochs=7, verbose=0, callbacks=[Scripted(values), cb.EarlyStopping(patience=patience)])
    assert len(h.history["loss"]) == stop_epoch + 1


def test_early_stopping_min_delta_mode_and_restore():
    x, y = data(8)
    es = cb.EarlyStopping(monitor="val_loss", min_delta=0.1, patience=1, restore_best_weights=True)
    snaps = []

    class Snap(cb.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snaps.append(np.asarray(self.model[0].weight).copy())

    m = model()
    # 0.95 improves by less than min_delta: not an improvement
    h = m.fit(x, y, epochs=6, verbose=0, callbacks=[Scripted([1.0, 0.95, 0.9, 0.5, 0.5, 0.5]), Snap(), es])
    assert len(h.history["loss"]) == 2 and es.best_epoch == 0
    np.testing.assert_array_equal(np.asarray(m[0].weight), snaps[0])
    assert cb.EarlyStopping(monitor="val_accuracy").mode == "max"
    with pytest.raises(ValueError, match="mode"):
        cb.EarlyStopping(mode="up")


def test_model_checkpoint_formats_and_best_only(tmp_path):
    x, y = data(16)
    pattern = str(tmp_path / "w-{epoch:02d}-{val_loss:.1f}.safetensors")
    model().fit(x, y, epochs=3, verbose=0, callbacks=[Scripted([3.0, 1.0, 2.0]),
                                                    cb.ModelCheckpoint(pattern, save_weights_only=True)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w-01-3.0.safetensors", "w-02-1.0.safetensors",
                                                         "w-03-2.0.safetensors"]
    best = tmp_path / "best.safetensors"
    saved = []

    class Watch(cb.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if best.exists():
                saved.append(best.stat().st_mtime_ns)

    m = model()
    m.fit(x, y, epochs=3, verbose=0, callbacks=[Scripted([3.0, 1.0, 2.0]),
                                               cb.ModelCheckpoint(str(best), save_best_only=True), Watch()])
    assert len(set(saved)) == 2  # written at epochs 1 and 2, not 3
    assert fnn.load(best).evaluate(x, y, verbose=0) >= 0


def test_learning_rate_scheduler_sets_lr_each_epoch():
    x, y = data(8)
    m = model(lr=0.1)
    h = m.fit(x, y, epochs=4, verbose=0, callbacks=[cb.LearningRateScheduler(lambda epoch, lr: lr * 0.5)])
    assert h.history["lr"] == [0.05, 0.025, 0.0125, 0.00625]
    h = model().fit(x, y, epochs=2, verbose=0, callbacks=[cb.LearningRateScheduler(lambda epoch: 0.1 * epoch)])
    assert h.history["lr"] == [0.0, 0.1]


def test_reduce_lr_on_plateau_keras_rule():
    x, y = data(8)
    values = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    m = model(lr=1.0)
    h = m.fit(x, y, epochs=7, verbose=0, callbacks=[
        Scripted(values), cb.ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1, min_lr=0.2)])
    # epoch 0 sets best; waits 1, 2 -> reduce after epoch 2; epoch 3 ends the cooldown and counts (Keras);
    # wait 2 at epoch 4 -> reduce; epochs 5, 6 -> reduce, floored at min_lr
    assert h.history["lr"] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    assert m.optimizer.param_groups[0]["lr"] == 0.2


def test_optim_schedulers_step_per_epoch():
    x, y = data(8)
    m = model(lr=1.0)
    m(fnn.asarray(x[:1]))
    sched = fnn.optim.lr_scheduler.StepLR(m.optimizer, step_size=2, gamma=0.1)
    h = m.fit(x, y, epochs=5, verbose=0, callbacks=[sched])
    np.testing.assert_allclose(h.history["lr"], [1.0, 1.0, 0.1, 0.1, 0.01])
    m = model(lr=1.0)
    plateau = fnn.optim.lr_scheduler.ReduceLROnPlateau(m.optimizer, patience=0, factor=0.5)
    h = m.fit(x, y, epochs=3, verbose=0, callbacks=[Scripted([1.0, 1.0, 1.0]), plateau])
    assert h.history["lr"] == [1.0, 1.0, 0.5]
    with pytest.raises(TypeError, match="callbacks"):
        m.fit(x, y, verbose=0, callbacks=[object()])


def test_csv_logger_new_and_append(tmp_path):
    path = tmp_path / "log.csv"
    x, y = data(8)
    m = model()
    m.fit(x, y, epochs=2, verbose=0, callbacks=[cb.CSVLogger(path)])
    m.fit(x, y, epochs=3, initial_epoch=2, verbose=0, callbacks=[cb.CSVLogger(path, append=True)])
    rows = list(csv.reader(open(path)))
    assert rows[0] == ["epoch", "loss", "lr"] and [r[0] for r in rows[1:]] == ["0", "1", "2"]
    assert float(rows[3][1]) < float(rows[1][1])
    m.fit(x, y, epochs=1, verbose=0, callbacks=[cb.CSVLogger(path)])
    assert len(list(csv.reader(open(path)))) == 2


def test_terminate_on_nan_stops_mid_epoch(capsys):
    x, y = data(32)
    m = model(lr=1e30)
    h = m.fit(x, y, epochs=5, batch_size=4, verbose=0, callbacks=[cb.TerminateOnNaN()])
    assert len(h.history["loss"]) == 1 and not math.isfinite(h.history["loss"][0])
    assert "invalid loss" in capsys.readouterr().out


@pytest.mark.parametrize("device", DEVICES)
def test_monitors_take_0d_tensors_on_any_device_and_restore_device_weights(device):
    """EarlyStopping and ReduceLROnPlateau read a monitored 0-d tensor with float(); restore_best_weights
    snapshots and restores a model that trains on a device."""

    class Weights(cb.Callback):
        def on_train_begin(self, logs=None):
            self.seen = []

        def on_epoch_end(self, epoch, logs=None):
            self.seen.append([np.asarray(p.cpu()).copy() for p in self.model.parameters()])

    x, y = data(8)
    values = [fnn.asarray(np.array(v, np.float32), device=device) for v in (3.0, 1.0, 2.0, 2.0, 2.0)]
    es, plateau, seen = cb.EarlyStopping(patience=2, restore_best_weights=True), cb.ReduceLROnPlateau(
        factor=0.5, patience=1), Weights()
    m = model(lr=0.1)
    h = m.fit(x, y, epochs=5, verbose=0, device=device, callbacks=[Scripted(values), es, plateau, seen])
    assert len(h.history["loss"]) == 4 and es.best == 1.0 and type(es.best) is float
    assert m.optimizer.param_groups[0]["lr"] == pytest.approx(0.025)  # reduced after epochs 2 and 3
    assert {p.device for p in m.parameters()} == {fnn.cuda._device_name(device)}
    for a, b in zip(seen.seen[-1], seen.seen[1]):  # the weights of epoch 1, restored at the stop
        np.testing.assert_array_equal(a, b)
