"""Saving and loading models: ``model.save(path)`` / ``fnn.load(path)`` and ``model.save_weights(path)`` /
``model.load_weights(path, strict=True)``, one safetensors file each (fusednn.io: atomic writes, readable
by the ``safetensors`` package, nothing executed on load).

A saved model holds its weights under their state_dict names, and in the header's ``__metadata__``
(key "fusednn", JSON): the architecture config (Sequential of fusednn.nn layers), the compile settings,
the frozen parameters, the optimizer's groups and step counts (its state buffers are tensors named
"optimizer/<index>/<name>"), lr scheduler states, the epoch count, fusednn.random's global generator
state and an attached ``model.scaler`` ("scaler/<name>" tensors): enough to resume training exactly.

Models and optimizers on a CUDA device are saved from host copies of their tensors (the file does not
record the device). ``load_weights`` copies the values into the model's parameters wherever they are;
``fnn.load`` rebuilds the model, and its optimizer state, on the CPU: move it with ``model.to("cuda")``.
"""
import json
import os

from . import losses as _losses
from . import nn
from . import optim as _optim
from . import random as _random
from .data import preprocessing as _preprocessing
from .io import load_tensors, save_tensors
from .nn import regularizers as _regularizers
from .nn.module import Module

__all__ = ["load"]

_FORMAT = 1
_OPTIMIZER, _SCALER = "optimizer/", "scaler/"

# Constructor arguments of the rebuildable layers, read back from attributes of the same name.
_LAYER_ARGS = {
    "Identity": (), "ReLU": (), "GELU": (), "SiLU": (), "Sigmoid": (), "Tanh": (),
    "LeakyReLU": ("negative_slope",), "ELU": ("alpha",), "Softplus": ("beta",),
    "Softmax": ("dim",), "LogSoftmax": ("dim",), "Dropout": ("p",), "Flatten": ("start_dim", "end_dim"),
    "Embedding": ("num_embeddings", "embedding_dim"),
    "LayerNorm": ("normalized_shape", "eps", "elementwise_affine"),
    "BatchNorm1d": ("num_features", "eps", "momentum", "affine", "track_running_stats"),
    "Linear": ("in_features", "out_features", "activation", "negative_slope"),
    "Dense": ("activation",),
}


def _layer_config(m):
    """{"class", "config"} for a fusednn.nn layer, {"class", "layers": [[name, config]...]} for a
    Sequential; None when ``m`` (a user's subclass, say) cannot be rebuilt from a config."""
    name = type(m).__name__
    if type(m) is nn.Sequential:
        layers = [[k, _layer_config(child)] for k, child in m._modules.items()]
        return None if any(c is None for _, c in layers) else {"class": name, "layers": layers}
    if name not in _LAYER_ARGS or type(m) is not getattr(nn, name):
        return None
    config = {k: getattr(m, k) for k in _LAYER_ARGS[name]}
    if "normalized_shape" in config:
        config["normalized_shape"] = list(config["normalized_shape"])
    if name == "LayerNorm":
        config["bias"] = m.bias is not None
    if name in ("Linear", "Dense"):
        config["bias" if name == "Linear" else "use_bias"] = m._use_bias
        reg = m.kernel_regularizer
        if reg is not None:
            if type(reg).__name__ not in _regularizers.__dict__:
                return None
            config["kernel_regularizer"] = {"class": type(reg).__name__, "config": reg.get_config()}
    if name == "Dense":
        config["units"] = m.out_features
        config["input_shape"] = [m.in_features] if m.built else None
    tensors = [t for t in list(m._parameters.values()) + list(m._buffers.values())
               if t is not None and t.dtype.kind == "f"]
    if tensors or name == "Dense":
        config["dtype"] = str(tensors[0].dtype if tensors else m._dtype)
    return {"class": name, "config": config}


def _from_config(spec):
    name = spec.get("class")
    if name == "Sequential":
        from collections import OrderedDict  # noqa: PLC0415
        return nn.Sequential(OrderedDict((k, _from_config(c)) for k, c in spec["layers"]))
    if name not in _LAYER_ARGS:
        raise ValueError(f"load: unknown layer class {name!r} in the saved config")
    config = dict(spec.get("config", {}))
    reg = config.get("kernel_regularizer")
    if reg is not None:
        config["kernel_regularizer"] = getattr(_regularizers, reg["class"])(**reg["config"])
    return getattr(nn, name)(**config)


# ---------------------------------------------------------------- weights

def _split(tensors):
    weights = {k: v for k, v in tensors.items() if not k.startswith((_OPTIMIZER, _SCALER))}
    return weights, {k: v for k, v in tensors.items() if k not in weights}


def save_weights(self, path):
    """Write the model's state_dict (parameters and persistent buffers, host copies of device tensors)
    to ``path`` (safetensors)."""
    save_tensors({k: v for k, v in self.state_dict().items()}, path, {"format": "fusednn.weights"})


def load_weights(self, path, strict=True):
    """Copy the weights in ``path`` (written by save_weights, save, or any safetensors file with
    state_dict names) into this model. strict: every key must match (KeyError naming missing and
    unexpected keys); a shape mismatch is a ValueError naming the key. Returns (missing, unexpected).
    The values go into the parameters and buffers in place, on their device; layers that the load builds
    (a Dense not called yet) join the device of the model's other tensors."""
    weights, _ = _split(load_tensors(path)[0])
    device = _device_of(self)
    result = _load_state(self, weights, strict, path)
    if device not in (None, "cpu"):
        self.to(device)  # moves only the tensors the load created (on the host); the others stay as they are
    return result


def _device_of(model):
    """The device all of the model's parameters and buffers are on; None when it has none or several."""
    devices = {t.device for t in list(model.parameters()) + list(model.buffers())}
    return devices.pop() if len(devices) == 1 else None


def _load_state(model, weights, strict, path):
    try:
        return model.load_state_dict(weights, strict=strict)
    except (KeyError, ValueError) as e:
        message = e.args[0] if e.args else str(e)
        raise type(e)(f"{os.fspath(path)}: {message}") from None


# ---------------------------------------------------------------- full model

def _optimizer_state(model, opt):
    """(JSON part, tensors) of the optimizer: groups with parameter names, step counts, state buffers."""
    names = {id(p): k for k, p in model.named_parameters()}
    sd = opt.state_dict()
    index = 0
    groups = []
    for group in opt.param_groups:
        options = {k: v for k, v in group.items() if k != "params"}
        groups.append({"params": [names.get(id(p)) for p in group["params"]], "options": options})
        index += len(group["params"])
    if any(n is None for g in groups for n in g["params"]):
        raise ValueError("save: the optimizer holds tensors that are not parameters of this model")
    tensors, steps = {}, {}
    for i, entry in sd["state"].items():
        steps[str(i)] = {k: v for k, v in entry.items() if isinstance(v, float)}
        tensors.update({f"{_OPTIMIZER}{i}/{k}": v for k, v in entry.items() if not isinstance(v, float)})
    return {"class": type(opt).__name__, "groups": groups, "steps": steps}, tensors


def _scheduler_states(model):
    states = []
    for sched in model.__dict__.get("_schedulers", []):
        state = sched.state_dict()
        try:
            json.dumps(state)
        except TypeError:
            continue  # a schedule holding functions cannot be saved; it restarts from its constructor
        states.append({"class": type(sched).__name__, "state": state})
    return states


def _scaler_state(scaler):
    if scaler is None:
        return None, {}
    name = type(scaler).__name__
    if getattr(_preprocessing, name, None) is not type(scaler):
        raise ValueError(f"save: model.scaler must be a fusednn.data scaler, not {name}")
    params = {"with_mean": scaler.with_mean, "with_std": scaler.with_std} if name == "StandardScaler" else \
        {"feature_range": list(scaler.feature_range)}
    tensors = {f"{_SCALER}{k}": v for k, v in scaler.state_dict().items()}
    return {"class": name, "params": params}, tensors


def save(self, path, include_optimizer=True):
    """Write the model to ``path``: weights, architecture config (for Sequential models of fusednn.nn
    layers; other models save everything but can only be reloaded with load_weights), compile settings,
    optimizer and lr scheduler states, epoch, RNG state and ``model.scaler``. Atomic."""
    tensors = dict(self.state_dict())
    compiled = self.__dict__.get("_compiled")
    info = {"format": _FORMAT, "class": type(self).__name__, "config": _layer_config(self),
            "frozen": [k for k, p in self.named_parameters() if not p.requires_grad],
            "compile": compiled.spec if compiled is not None else None,
            "epoch": self.__dict__.get("_epoch", 0), "rng": _random.get_state(),
            "schedulers": _scheduler_states(self), "optimizer": None}
    opt = self.__dict__.get("optimizer")
    if include_optimizer and opt is not None:
        info["optimizer"], opt_tensors = _optimizer_state(self, opt)
        tensors.update(opt_tensors)
    info["scaler"], scaler_tensors = _scaler_state(self.__dict__.get("scaler"))
    tensors.update(scaler_tensors)
    save_tensors(tensors, path, {"format": "fusednn.model", "fusednn": json.dumps(info)})


def _info(path, metadata):
    if "fusednn" not in metadata:
        raise ValueError(f"{os.fspath(path)}: holds weights only (no model config): construct the model and call "
                         f"model.load_weights(path)")
    try:
        info = json.loads(metadata["fusednn"])
    except json.JSONDecodeError as e:
        raise ValueError(f"{os.fspath(path)}: corrupt model metadata ({e})") from None
    if not isinstance(info, dict) or info.get("format") != _FORMAT:
        raise ValueError(f"{os.fspath(path)}: unsupported model format {info.get('format') if isinstance(info, dict) else info!r}")
    return info


def load(path, compile=True, restore_rng=True):
    """Rebuild a model written by ``model.save(path)``: architecture, weights, frozen parameters and (with
    compile=True, when it was compiled with named parts) the compile settings with the optimizer's state;
    lr scheduler states go into the schedulers passed to the next fit(). restore_rng: set fusednn.random's
    global generator to its saved state, so resumed training replays exactly. Models that are not
    Sequential stacks of fusednn.nn layers cannot be rebuilt: load_weights into a constructed model.
    The model and its optimizer state are rebuilt on the CPU, whatever device they were saved from:
    ``model.to("cuda")`` moves the model in place, and the optimizer's state follows at its next step."""
    tensors, metadata = load_tensors(path)
    info = _info(path, metadata)
    if info.get("config") is None:
        raise ValueError(f"{os.fspath(path)}: the model is a {info.get('class')}, which fusednn cannot rebuild from a "
                         f"config (only Sequential stacks of fusednn.nn layers): construct a {info.get('class')} "
                         f"and call model.load_weights(path)")
    model = _from_config(info["config"])
    weights, extra = _split(tensors)
    _load_state(model, weights, True, path)
    frozen = set(info.get("frozen", []))
    for name, p in model.named_parameters():
        p.requires_grad = name not in frozen
    model.__dict__["_epoch"] = info.get("epoch", 0)
    spec = info.get("compile")
    if compile and spec is not None and spec.get("loss") is not None:
        _restore_compile(model, spec, info.get("optimizer"), extra, path)
    if info.get("schedulers"):
        model.__dict__["_pending_schedulers"] = info["schedulers"]
    if info.get("scaler"):
        scaler = getattr(_preprocessing, info["scaler"]["class"])(**info["scaler"]["params"])
        scaler.load_state_dict({k[len(_SCALER):]: v for k, v in extra.items() if k.startswith(_SCALER)})
        model.__dict__["scaler"] = scaler
    if restore_rng and info.get("rng"):
        _random.set_state(info["rng"])
    return model


def _restore_compile(model, spec, opt_info, tensors, path):
    optimizer = spec.get("optimizer") or "adam"
    if opt_info is not None:
        optimizer = _build_optimizer(model, opt_info, tensors, path)
    model.compile(optimizer=optimizer, loss=_losses.from_config(spec["loss"]), metrics=spec.get("metrics"),
                  **({} if opt_info is not None else spec.get("options", {})))
    if opt_info is not None:
        model.__dict__["_compiled"].spec.update(optimizer=spec.get("optimizer"), options=spec.get("options", {}))


def _build_optimizer(model, info, tensors, path):
    """The saved optimizer over this model's parameters (by name), with its state loaded."""
    cls = {c.__name__: c for c in vars(_optim).values() if isinstance(c, type) and issubclass(c, _optim.Optimizer)}
    if info["class"] not in cls:
        raise ValueError(f"{os.fspath(path)}: unknown optimizer class {info['class']!r}")
    params = dict(model.named_parameters())
    missing = [n for g in info["groups"] for n in g["params"] if n not in params]
    if missing:
        raise ValueError(f"{os.fspath(path)}: the optimizer state names parameters the model lacks: {missing}")
    groups = [{"params": [params[n] for n in g["params"]],
               **{k: tuple(v) if isinstance(v, list) else v for k, v in g["options"].items()}}
              for g in info["groups"]]
    opt = cls[info["class"]](groups)
    state = {}
    for i, steps in info["steps"].items():
        entry = dict(steps)
        prefix = f"{_OPTIMIZER}{i}/"
        entry.update({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
        state[int(i)] = entry
    numbered, index = [], 0
    for g in groups:
        numbered.append({**{k: v for k, v in g.items() if k != "params"}, "params": list(range(index, index + len(g["params"])))})
        index += len(g["params"])
    opt.load_state_dict({"state": state, "param_groups": numbered})
    return opt


def _attach():
    Module.save = save
    Module.save_weights = save_weights
    Module.load_weights = load_weights


_attach()
