"""Keras-style training for every ``nn.Module`` (Sequential or a user's subclass): compile / fit / evaluate /
predict / summary, attached to Module when fusednn is imported. fit's batches are one C++ row gather
per batch (``_C._take_rows``) from the source arrays into buffers reused all epoch; unshuffled batches
are zero-copy slices. A model on a CUDA device (or fit(device="cuda")) trains there: batches are gathered
on the host as above and copied to the device once per batch; the loss and the metrics are computed from
host copies of the (small) per-batch outputs."""
import sys
import time

import numpy as np

from . import _C
from . import callbacks as _callbacks
from . import losses as _losses
from . import metrics as _metrics
from . import optim as _optim
from . import random as _random
from ._tensor import Tensor
from .autograd import no_grad
from .creation import asarray, empty
from .data.dataset import Dataset, TensorDataset
from .data.loader import DataLoader
from .nn.module import Module
from .shape import concatenate

__all__ = ["History"]

History = _callbacks.History


class _Compiled:
    """What compile() chose: the optimizer (or its name and options, until the model is built), the loss
    and the streaming metrics."""

    def __init__(self, optimizer, options, loss, metrics, spec):
        self.optimizer, self.options, self.loss, self.metrics, self.spec = optimizer, options, loss, metrics, spec


def compile(self, optimizer="adam", loss=None, metrics=None, lr=None, from_logits=False, **optimizer_options):
    """Configure training: ``optimizer`` a name (sgd, adam, adamw, rmsprop, adagrad, adamax, nadam; created
    over the parameters that require grad, so freeze before compiling and re-compile after unfreezing)
    or an Optimizer; ``loss`` a Keras name (mse, mae, huber, binary_crossentropy, categorical_crossentropy,
    sparse_categorical_crossentropy; ``from_logits`` as Keras'), a fusednn.losses.Loss or fn(y_true,
    y_pred); ``metrics`` names/Metric objects/functions (fusednn.metrics.get). ``lr`` and
    ``optimizer_options`` go to a named optimizer's constructor."""
    if loss is None:
        raise ValueError("compile: a loss is required (e.g. loss='mse')")
    if isinstance(optimizer, _optim.Optimizer) and (lr is not None or optimizer_options):
        raise ValueError("compile: lr and optimizer options apply to a named optimizer, not an Optimizer instance")
    options = dict(optimizer_options)
    if lr is not None:
        options["lr"] = float(lr)
    loss_fn = _losses.get(loss, from_logits=from_logits)
    metric_objs = [_metrics.get(m) for m in (metrics or [])]
    spec = {"optimizer": None if isinstance(optimizer, _optim.Optimizer) else str(optimizer).lower(),
            "options": options, "metrics": [m for m in (metrics or []) if isinstance(m, str)],
            "loss": None if isinstance(loss_fn, _losses._Function) else
            {"class": type(loss_fn).__name__, "config": loss_fn.get_config()}}
    self.__dict__["_compiled"] = _Compiled(optimizer if isinstance(optimizer, _optim.Optimizer) else None,
                                           options, loss_fn, metric_objs, spec)
    self.__dict__["optimizer"] = None
    if isinstance(optimizer, _optim.Optimizer):
        self.__dict__["optimizer"] = optimizer
    elif _is_built(self):
        _create_optimizer(self)
    return self


def _compiled(model, what):
    state = model.__dict__.get("_compiled")
    if state is None:
        raise RuntimeError(f"{what}: the model must be compiled first: model.compile(optimizer=..., loss=...)")
    return state


def _is_built(model):
    return all(getattr(m, "built", True) for m in model.modules())


def _create_optimizer(model):
    state = model._compiled
    trainable = [p for p in model.parameters() if p.requires_grad]
    if not trainable:
        raise ValueError("compile: the model has no trainable parameters (all are frozen)")
    name = state.spec["optimizer"]
    state.optimizer = _optim.get(name, trainable, **state.options)
    model.__dict__["optimizer"] = state.optimizer


def _build(model, sample):
    """Create lazily built layers (Dense without input_shape) with one eval-mode forward of ``sample`` (a
    host batch, copied to the model's device)."""
    if not _is_built(model):
        was_training = model.training
        model.eval()
        try:
            with no_grad():
                model(_on(_model_device(model), sample[:1]))
        finally:
            model.train(was_training)
    if model._compiled.optimizer is None:
        _create_optimizer(model)
    if model.__dict__.get("_input_shape") is None and hasattr(sample, "shape"):
        model.__dict__["_input_shape"] = tuple(sample.shape[1:])


# ---------------------------------------------------------------- data

def _param_dtype(model):
    for p in model.parameters():
        return p.dtype
    return np.dtype(np.float32)


def _model_device(model):
    """The device of the model's parameters ("cpu" for a model without any)."""
    for p in model.parameters():
        return p.device
    return "cpu"


def _host(t):
    """t as a host Tensor (array-likes converted, device tensors copied back)."""
    return t.cpu() if isinstance(t, Tensor) else asarray(t)


def _on(device, t):
    """t on ``device``: itself on the host, one copy to a CUDA device per batch."""
    if device == "cpu":
        return t
    return _C._to_device(t if isinstance(t, Tensor) else asarray(t), device)


def _as_input(x, dtype):
    """A C-contiguous host Tensor; floating inputs in the model's dtype (converted once, not per batch)."""
    t = _host(x)
    if t.dtype.kind == "f" and t.dtype != dtype:
        t = _C.astype(t, dtype)
    elif t.ndim and not t.is_contiguous():
        t = t.copy()
    return t


class _Batches:
    """Batches of ``arrays`` (same first dim). shuffle: a permutation from fusednn.random's global generator
    each epoch and one C++ row gather per array per batch into buffers allocated once; otherwise
    zero-copy slices."""

    def __init__(self, arrays, batch_size, shuffle):
        self.arrays, self.batch_size, self.shuffle = arrays, int(batch_size), shuffle
        self.n = arrays[0].shape[0]
        if batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        size = min(self.batch_size, self.n)
        self.buffers = [empty((size,) + tuple(a.shape[1:]), dtype=a.dtype) for a in arrays] if shuffle else None

    def __len__(self):
        return -(-self.n // self.batch_size)

    def sample(self):
        return self.arrays[0][:1]

    def __iter__(self):
        n, b = self.n, self.batch_size
        if not self.shuffle:
            for start in range(0, n, b):
                yield tuple(a[start:start + b] for a in self.arrays)
            return
        order = _random._global.permutation(n)
        take = _C._take_rows
        for start in range(0, n, b):
            stop = min(start + b, n)
            idx = order[start:stop]
            outs = self.buffers if stop - start == self.buffers[0].shape[0] else \
                [buf[:stop - start] for buf in self.buffers]
            for a, out in zip(self.arrays, outs):
                take(a, idx, out)
            yield outs


class _Loader:
    """Batches of a Dataset or DataLoader, as (x, y) pairs."""

    def __init__(self, loader):
        self.loader = loader

    def __len__(self):
        return len(self.loader)

    def sample(self):
        return next(iter(self))[0]

    def __iter__(self):
        for batch in self.loader:
            if not isinstance(batch, (tuple, list)) or len(batch) != 2:
                raise ValueError("fit/evaluate: a Dataset or DataLoader must yield (x, y) pairs")
            yield batch


def _batches(model, x, y, batch_size, shuffle, what):
    """(batches, number of samples) for arrays/tensors x, y or a Dataset/DataLoader x."""
    if isinstance(x, DataLoader):
        if y is not None:
            raise ValueError(f"{what}: y must be None when x is a DataLoader (it yields (x, y) pairs)")
        return _Loader(x), len(x.dataset)
    if isinstance(x, TensorDataset) and len(x.tensors) == 2 and y is None:
        x, y = x.tensors
    elif isinstance(x, Dataset):
        if y is not None:
            raise ValueError(f"{what}: y must be None when x is a Dataset (it yields (x, y) pairs)")
        return _Loader(DataLoader(x, batch_size=batch_size, shuffle=shuffle)), len(x)
    if y is None:
        raise ValueError(f"{what}: y is required when x is an array or tensor")
    x, y = _as_input(x, _param_dtype(model)), _as_input(y, _param_dtype(model))
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"{what}: x and y have different numbers of samples: {x.shape[0]} and {y.shape[0]}")
    if x.shape[0] == 0:
        raise ValueError(f"{what}: no samples")
    return _Batches([x, y], batch_size, shuffle), x.shape[0]


def _split_validation(x, y, fraction):
    """Keras' validation_split: the last ``fraction`` of the samples (before any shuffling)."""
    if isinstance(x, (Dataset, DataLoader)):
        raise ValueError("fit: validation_split needs arrays or tensors, not a Dataset; pass validation_data")
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fit: validation_split must be in [0, 1), got {fraction}")
    x, y = _host(x), _host(y)
    n_val = int(x.shape[0] * fraction)
    split = x.shape[0] - n_val
    if n_val == 0 or split == 0:
        raise ValueError(f"fit: validation_split={fraction} of {x.shape[0]} samples leaves an empty part")
    return (x[:split], y[:split]), (x[split:], y[split:])


# ---------------------------------------------------------------- progress

class _Progress:
    """verbose=1: a tqdm bar per epoch (running loss, metrics, samples/s), refreshed at most every 0.1 s;
    verbose=2: one line per epoch; 0: silent."""

    def __init__(self, verbose, epoch, epochs, total):
        self.verbose, self.bar, self.start = verbose, None, time.perf_counter()
        self.last = self.start
        self.prefix = f"Epoch {epoch + 1}/{epochs}"
        if verbose == 1:
            try:
                from tqdm.auto import tqdm  # noqa: PLC0415
            except ImportError:
                self.verbose = 2
            else:
                self.bar = tqdm(total=total, desc=self.prefix, unit="sample", unit_scale=True, leave=True,
                                file=sys.stdout, dynamic_ncols=True, mininterval=0.1)

    def update(self, n, logs_fn):
        if self.bar is None:
            return
        self.bar.update(n)
        now = time.perf_counter()
        if now - self.last >= 0.1:
            self.last = now
            self.bar.set_postfix_str(_format(logs_fn()), refresh=False)

    def close(self, logs, samples):
        elapsed = time.perf_counter() - self.start
        rate = samples / elapsed if elapsed > 0 else float("inf")
        if self.bar is not None:
            self.bar.set_postfix_str(_format(logs), refresh=False)
            self.bar.close()
        elif self.verbose == 2:
            print(f"{self.prefix} - {elapsed:.2f}s - {_format(logs)} - {rate:,.0f} samples/s", flush=True)
        return rate


def _format(logs):
    return " - ".join(f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}" for k, v in logs.items())


# ---------------------------------------------------------------- fit / evaluate / predict

def fit(self, x=None, y=None, batch_size=32, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
        validation_data=None, shuffle=True, initial_epoch=0, device=None):
    """Train for ``epochs - initial_epoch`` epochs of mini-batch steps (zero_grad, forward, loss +
    regularization_loss(), backward, optimizer step). x, y: NumPy arrays or Tensors, or x a Dataset /
    DataLoader yielding (x, y) (y None). validation_split takes the last fraction of the samples;
    validation_data is (x_val, y_val). shuffle draws each epoch's order from fusednn.random's global
    generator. callbacks: fusednn.callbacks objects or optim.lr_scheduler schedulers (stepped per
    epoch). device: "cuda" (or "cuda:N", "cpu") moves the model there first (in place; lazily built layers
    are built on the host before the move); by default training runs where the parameters are. Returns a
    History: ``history.history`` maps loss, each metric, val_* and lr to per-epoch lists."""
    state = _compiled(self, "fit")
    if validation_split and validation_data is None:
        (x, y), validation_data = _split_validation(x, y, validation_split)
    train, n = _batches(self, x, y, batch_size, shuffle, "fit")
    val = None
    if validation_data is not None:
        if isinstance(validation_data, (Dataset, DataLoader)):
            val = _batches(self, validation_data, None, batch_size, False, "fit (validation_data)")[0]
        else:
            val = _batches(self, validation_data[0], validation_data[1], batch_size, False, "fit (validation_data)")[0]
    if state.optimizer is None or not _is_built(self):
        _build(self, train.sample())
    if device is not None:
        self.to(device)
    history = History()
    cbs = _callbacks.CallbackList([_callbacks.as_callback(c) for c in (callbacks or [])] + [history], self,
                                  {"epochs": epochs, "steps": len(train), "samples": n, "verbose": verbose})
    _attach_schedulers(self, cbs.callbacks)
    self.stop_training = False
    was_training = self.training
    logs = {}
    cbs.call("on_train_begin", {})
    for epoch in range(initial_epoch, epochs):
        cbs.call("on_epoch_begin", epoch, {})
        lr = float(state.optimizer.param_groups[0]["lr"])
        self.train()
        logs = _train_epoch(self, state, train, cbs, _Progress(verbose, epoch, epochs, n), n)
        if val is not None:
            logs.update({"val_" + k: v for k, v in _run_eval(self, state, val).items()})
        logs["lr"] = lr
        self.__dict__["_epoch"] = epoch + 1
        cbs.call("on_epoch_end", epoch, logs)
        if self.stop_training:
            break
    self.train(was_training)
    cbs.call("on_train_end", logs)
    return history


def _train_epoch(model, state, batches, cbs, progress, n):
    opt, loss_fn, metrics = state.optimizer, state.loss, state.metrics
    device = _model_device(model)
    regularized = any(m.__dict__.get("kernel_regularizer") is not None for m in model.modules())
    batch_hooks = bool(cbs.batch_hooks)
    for m in metrics:
        m.reset_state()
    total, seen = 0.0, 0
    logs_fn = lambda: {"loss": total / max(seen, 1), **{m.name: m.result() for m in metrics}}  # noqa: E731
    for step, (xb, yb) in enumerate(batches):
        size = xb.shape[0]
        if batch_hooks:
            cbs.call_batch("on_batch_begin", step, {"batch": step, "size": size})
        opt.zero_grad()
        pred = model(_on(device, xb))
        loss = loss_fn(_on(device, yb), pred)
        if regularized:
            loss = loss + model.regularization_loss()
        loss.backward()
        opt.step()
        total += float(loss) * size
        seen += size
        if metrics:
            with no_grad():
                yh, pred = _host(yb), _host(pred)
                for m in metrics:
                    m.update_state(yh, pred)
        if batch_hooks:
            cbs.call_batch("on_batch_end", step, logs_fn())
        progress.update(size, logs_fn)
        if model.stop_training:
            break
    logs = logs_fn()
    progress.close(logs, seen)
    return logs


def _run_eval(model, state, batches):
    """{"loss": sample-weighted mean loss (+ regularization), metric: value} over ``batches``, in eval
    mode without gradients."""
    was_training = model.training
    device = _model_device(model)
    model.eval()
    for m in state.metrics:
        m.reset_state()
    total, seen = 0.0, 0
    try:
        with no_grad():
            reg = float(model.regularization_loss())
            for xb, yb in batches:
                pred = model(_on(device, xb))
                total += (float(state.loss(_on(device, yb), pred)) + reg) * xb.shape[0]
                seen += xb.shape[0]
                if state.metrics:
                    yb, pred = _host(yb), _host(pred)
                for m in state.metrics:
                    m.update_state(yb, pred)
    finally:
        model.train(was_training)
    return {"loss": total / max(seen, 1), **{m.name: m.result() for m in state.metrics}}


def evaluate(self, x=None, y=None, batch_size=32, verbose=1, return_dict=False):
    """The loss (plus the regularization penalty, as in training) and metrics over (x, y), batched, in eval
    mode without gradients. Returns Keras' result: the loss alone when there are no metrics, else the
    list [loss, *metrics] (names in ``model.metrics_names``); return_dict=True gives {name: value}."""
    state = _compiled(self, "evaluate")
    batches = _batches(self, x, y, batch_size, False, "evaluate")[0]
    start = time.perf_counter()
    result = _run_eval(self, state, batches)
    if verbose:
        print(f"evaluate - {time.perf_counter() - start:.2f}s - {_format(result)}", flush=True)
    if return_dict:
        return result
    values = list(result.values())
    return values[0] if len(values) == 1 else values


@property
def metrics_names(self):
    """["loss", metric names...] in the order evaluate() returns them."""
    state = self.__dict__.get("_compiled")
    return ["loss"] + ([m.name for m in state.metrics] if state is not None else [])


def predict(self, x, batch_size=32, verbose=0):
    """The model's outputs for x (array, Tensor or Dataset of inputs), computed in batches in eval mode
    without gradients (on the model's device), concatenated into one host Tensor."""
    if isinstance(x, (Dataset, DataLoader)):
        loader = x if isinstance(x, DataLoader) else DataLoader(x, batch_size=batch_size)
        batches = (b[0] if isinstance(b, (tuple, list)) else b for b in loader)
    else:
        x = _as_input(x, _param_dtype(self))
        batches = (x[i:i + batch_size] for i in range(0, x.shape[0], batch_size))
    was_training = self.training
    device = _model_device(self)
    self.eval()
    try:
        with no_grad():
            outputs = [_host(self(_on(device, xb))) for xb in batches]
    finally:
        self.train(was_training)
    if verbose:
        print(f"predict - {sum(o.shape[0] for o in outputs)} samples", flush=True)
    return outputs[0] if len(outputs) == 1 else concatenate(outputs)


def train_on_batch(self, x, y):
    """One optimizer step on one batch; returns the loss (a float)."""
    state = _compiled(self, "train_on_batch")
    if state.optimizer is None or not _is_built(self):
        _build(self, _as_input(x, _param_dtype(self)))
    device = _model_device(self)
    x, y = _on(device, _as_input(x, _param_dtype(self))), _on(device, _as_input(y, _param_dtype(self)))
    self.train()
    state.optimizer.zero_grad()
    loss = state.loss(y, self(x))
    if any(m.__dict__.get("kernel_regularizer") is not None for m in self.modules()):
        loss = loss + self.regularization_loss()
    loss.backward()
    state.optimizer.step()
    return float(loss)


# ---------------------------------------------------------------- summary

def summary(self, input_shape=None, print_fn=print):
    """Print a table of the leaf layers (name, type, output shape, parameter count) and the total,
    trainable and non-trainable parameter counts. Output shapes come from one eval-mode forward of a
    zero batch of ``input_shape`` (per sample; default: the shape seen by fit, or the first layer's
    in_features); without one they show as '?'."""
    shapes = _output_shapes(self, input_shape)
    rows = [("Layer (type)", "Output Shape", "Param #")]
    for name, m in self.named_modules():
        if name and not m._modules:
            count = sum(p.size for p in m.parameters())
            rows.append((f"{name} ({type(m).__name__})", shapes.get(name, "?"), f"{count:,}"))
    widths = [max(len(r[i]) for r in rows) + 2 for i in range(3)]
    line = "=" * sum(widths)
    total = self.num_parameters()
    trainable = self.num_parameters(trainable_only=True)
    text = [f'Model: "{type(self).__name__}"', line]
    text += ["".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows[:1]] + [line]
    text += ["".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows[1:]] + [line]
    text += [f"Total params: {total:,}", f"Trainable params: {trainable:,}",
             f"Non-trainable params: {total - trainable:,}"]
    print_fn("\n".join(text))


def _first_in_features(model):
    """(in_features,) of the first layer that takes features, if it is built; None otherwise."""
    for m in model.modules():
        if hasattr(m, "in_features"):
            return (m.in_features,) if isinstance(m.in_features, int) else None
        if hasattr(m, "num_embeddings"):
            return None
    return None


def _output_shapes(model, input_shape):
    """{leaf name: '(None, ...)'} from one forward with the leaves' forward wrapped to record shapes."""
    input_shape = input_shape or model.__dict__.get("_input_shape") or _first_in_features(model)
    if input_shape is None:
        return {}
    shapes = {}
    wrapped = []
    for name, m in model.named_modules():
        if name and not m._modules:
            def record(*args, _m=m, _name=name, _forward=type(m).forward):
                out = _forward(_m, *args)
                shapes[_name] = "(None, " + ", ".join(str(d) for d in tuple(out.shape)[1:]) + ")"
                return out
            m.__dict__["forward"] = record
            wrapped.append(m)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(_C._full((1,) + tuple(input_shape), 0, _param_dtype(model), _model_device(model)))
    finally:
        for m in wrapped:
            del m.__dict__["forward"]
        model.train(was_training)
    model.__dict__.setdefault("_input_shape", tuple(input_shape))
    return shapes


def _attach_schedulers(model, cbs):
    """Remember fit's lr schedulers (model.save stores their state); states loaded by fnn.load go into the
    schedulers given to the next fit(), in order, when their classes match."""
    schedulers = [cb.scheduler for cb in cbs if isinstance(cb, _callbacks._SchedulerStep)]
    model.__dict__["_schedulers"] = schedulers
    pending = model.__dict__.pop("_pending_schedulers", None) or []
    for sched, saved in zip(schedulers, pending):
        if type(sched).__name__ == saved["class"]:
            sched.load_state_dict(saved["state"])


def _attach():
    for fn in (compile, fit, evaluate, predict, summary, train_on_batch):
        setattr(Module, fn.__name__, fn)
    Module.metrics_names = metrics_names
    Module.stop_training = False


_attach()
