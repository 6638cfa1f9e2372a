"""Callbacks for ``fit()`` with Keras' semantics: the ``Callback`` base, History, EarlyStopping,
ModelCheckpoint, LearningRateScheduler, ReduceLROnPlateau, CSVLogger and TerminateOnNaN. A
``fusednn.optim.lr_scheduler`` scheduler given to fit() is stepped once per epoch (ReduceLROnPlateau with
the monitored value)."""
import csv
import math
import os
import warnings

from . import _C
from .optim import lr_scheduler as _lr_scheduler

__all__ = ["Callback", "History", "EarlyStopping", "ModelCheckpoint", "LearningRateScheduler", "ReduceLROnPlateau",
           "CSVLogger", "TerminateOnNaN"]


class Callback:
    """Hooks called by fit(): on_train_begin/end(logs), on_epoch_begin/end(epoch, logs) and
    on_batch_begin/end(batch, logs) (batch logs hold the running mean loss and metrics of the epoch).
    ``self.model`` is the model being trained; set ``self.model.stop_training = True`` to stop."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass


class History(Callback):
    """Records every epoch's logs: ``history.history[name]`` is the list of values per epoch and
    ``history.epoch`` the epoch numbers. fit() returns one."""

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


class _SchedulerStep(Callback):
    """Steps an optim.lr_scheduler scheduler at each epoch end; ReduceLROnPlateau gets ``monitor``'s value
    (val_loss when there is validation data, else loss)."""

    def __init__(self, scheduler):
        super().__init__()
        self.scheduler = scheduler

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if isinstance(self.scheduler, _lr_scheduler.ReduceLROnPlateau):
            self.scheduler.step(logs.get("val_loss", logs.get("loss")))
        else:
            self.scheduler.step()


def as_callback(obj):
    """A Callback for ``obj``: a Callback itself, or a Callback stepping an lr scheduler."""
    if isinstance(obj, Callback):
        return obj
    if isinstance(obj, (_lr_scheduler.LRScheduler, _lr_scheduler.ReduceLROnPlateau)):
        return _SchedulerStep(obj)
    raise TypeError(f"callbacks must be Callback objects or lr schedulers, got {type(obj).__name__}")


def _overrides(cb, name):
    return getattr(type(cb), name) is not getattr(Callback, name)


class CallbackList:
    """Calls each hook on every callback in order; batch hooks only where a callback defines them."""

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)
        self.batch_hooks = [cb for cb in self.callbacks
                            if _overrides(cb, "on_batch_begin") or _overrides(cb, "on_batch_end")]

    def call(self, name, *args):
        for cb in self.callbacks:
            getattr(cb, name)(*args)

    def call_batch(self, name, batch, logs):
        for cb in self.batch_hooks:
            getattr(cb, name)(batch, logs)


def _monitor_mode(mode, monitor):
    """'min' or 'max' for Keras' mode argument ('auto': max for accuracy-like names)."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    return "max" if any(k in monitor for k in ("acc", "precision", "recall", "f1", "auc", "r2")) else "min"


def _monitored(logs, monitor, who):
    """The monitored value as a Python float (a one-element tensor, on any device, is read back), or None
    with a warning when the logs lack it."""
    value = (logs or {}).get(monitor)
    if value is None:
        warnings.warn(f"{who}: the monitored quantity '{monitor}' is not in the logs (available: "
                      f"{', '.join(sorted(logs or {}))})", RuntimeWarning, stacklevel=3)
        return None
    return float(value)


def _snapshot(model):
    """A copy of the state_dict, each tensor copied on its own device (no host round trip)."""
    return {k: _C.astype(v, v.dtype) for k, v in model.state_dict().items()}


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs
    (Keras' rule: improved means current - min_delta > best for 'max', current + min_delta < best for
    'min'). restore_best_weights: on stopping, load the weights of the best epoch."""

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor, self.patience, self.verbose = monitor, patience, verbose
        self.mode = _monitor_mode(mode, monitor)
        self.min_delta = abs(min_delta)
        self.baseline, self.restore_best_weights, self.start_from_epoch = baseline, restore_best_weights, start_from_epoch

    def _improved(self, current, reference):
        if self.mode == "max":
            return current - self.min_delta > reference
        return current + self.min_delta < reference

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch = 0, 0, 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        current = _monitored(logs, self.monitor, "EarlyStopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = _snapshot(self.model)  # something to restore even if nothing improves
        self.wait += 1
        if self._improved(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = _snapshot(self.model)
            if self.baseline is None or self._improved(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                self.model.load_state_dict(self.best_weights)
                if self.verbose:
                    print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")


class ModelCheckpoint(Callback):
    """Save the model (``model.save``) or its weights (save_weights_only) after each epoch to ``filepath``,
    which may name ``{epoch}`` (1-based) and any log (``{val_loss:.4f}``). save_best_only: only when
    ``monitor`` improves (mode as EarlyStopping), overwriting the file."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto"):
        super().__init__()
        self.filepath, self.monitor, self.verbose = os.fspath(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.mode = _monitor_mode(mode, monitor)
        self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            current = _monitored(logs, self.monitor, "ModelCheckpoint")
            if current is None or not (current > self.best if self.mode == "max" else current < self.best):
                return
            if self.verbose:
                print(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {current:.5f}, "
                      f"saving model to {path}")
            self.best = current
        (self.model.save_weights if self.save_weights_only else self.model.save)(path)


class LearningRateScheduler(Callback):
    """At each epoch's start set every parameter group's lr to ``schedule(epoch, lr)`` (or
    ``schedule(epoch)`` for a one-argument function), lr being the current rate."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        groups = self.model.optimizer.param_groups
        try:
            lr = self.schedule(epoch, float(groups[0]["lr"]))
        except TypeError:
            lr = self.schedule(epoch)
        lr = float(lr)
        if not math.isfinite(lr):
            raise ValueError(f"LearningRateScheduler: the schedule returned lr={lr} at epoch {epoch}")
        for group in groups:
            group["lr"] = lr
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")


class ReduceLROnPlateau(Callback):
    """Keras' rule: when ``monitor`` has not improved by more than min_delta for ``patience`` epochs,
    lr = max(lr * factor, min_lr), then wait ``cooldown`` epochs before counting again."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0):
        super().__init__()
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau does not support a factor >= 1.0")
        self.monitor, self.factor, self.patience, self.verbose = monitor, factor, patience, verbose
        self.mode = _monitor_mode(mode, monitor)
        self.min_delta, self.cooldown, self.min_lr = min_delta, cooldown, min_lr

    def on_train_begin(self, logs=None):
        self.wait, self.cooldown_counter = 0, 0
        self.best = math.inf if self.mode == "min" else -math.inf

    def _improved(self, current):
        if self.mode == "min":
            return current < self.best - self.min_delta
        return current > self.best + self.min_delta

    def on_epoch_end(self, epoch, logs=None):
        current = _monitored(logs, self.monitor, "ReduceLROnPlateau")
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(current):
            self.best, self.wait = current, 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience:
                for group in self.model.optimizer.param_groups:
                    old = float(group["lr"])
                    if old > self.min_lr:
                        group["lr"] = max(old * self.factor, self.min_lr)
                        if self.verbose:
                            print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {group['lr']}.")
                self.cooldown_counter, self.wait = self.cooldown, 0


class CSVLogger(Callback):
    """Append one row per epoch (epoch, then the logs in sorted order) to the CSV file ``filename``;
    append=False starts a new file, append=True continues an existing one without repeating the header."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.separator, self.append = os.fspath(filename), separator, append
        self.file = self.writer = None

    def on_train_begin(self, logs=None):
        has_rows = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self.file = open(self.filename, "a" if self.append else "w", newline="")
        self.keys = None if not has_rows else []

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.writer is None:
            self.writer = csv.writer(self.file, delimiter=self.separator)
            if self.keys is None:
                self.writer.writerow(["epoch"] + sorted(logs))
            self.keys = sorted(logs)
        if not self.keys:
            self.keys = sorted(logs)
        self.writer.writerow([epoch] + [logs.get(k, "NA") for k in self.keys])
        self.file.flush()

    def on_train_end(self, logs=None):
        if self.file is not None:
            self.file.close()
        self.file = self.writer = None


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            print(f"Batch {batch}: invalid loss, terminating training")
            self.model.stop_training = True
