"""The Optimizer base class: parameter groups, optimizer state in one flat buffer per group, (device, dtype)
and state name, and ``step()`` as ONE fused C++ call over every parameter of every group (one kernel launch
per CUDA device).

Parameters stay the user's own tensors (``layer.weight`` sees each update): the C++ step walks the list of
parameters and reads each ``p.grad`` where autograd left it (parameters whose grad is None are skipped,
as in torch). Per-parameter step counts live in a float64 ``(n, 2)`` host tensor per group, so a parameter
that had no gradient on some step keeps its own bias correction, as in torch; the step's scalars are
computed from them on the host for every device. State buffers live on their parameters' devices and
follow them when ``Module.to`` moves or casts the parameters in place (at the next ``step()``).
"""
import math

import numpy as np

from .. import _C
from .._tensor import Tensor
from ..autograd import enable_grad
from ..creation import zeros

__all__ = ["Optimizer"]


def _host_copy(t):
    """A copy of t on the host (t may be on a device)."""
    return t.copy() if t.device == "cpu" else _C._to_device(t, "cpu")


class Optimizer:
    """Base class of fused optimizers (torch.optim's interface).

    Subclasses set ``algo`` (the C++ rule), ``state_names(group)`` (up to three state buffers, None for
    an unused slot) and ``check_group(group)`` (raise ValueError on bad values), and may override
    ``initial_state(name, group)`` (the value a state buffer starts at: 0).
    """
    algo = None

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.param_groups = []
        self.state = {}
        self._plans = []
        if isinstance(params, Tensor):
            raise TypeError("params must be an iterable of Tensors or of dicts, not a single Tensor")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @staticmethod
    def state_names(group):
        raise NotImplementedError

    @staticmethod
    def check_group(group):
        raise NotImplementedError

    @staticmethod
    def initial_state(name, group):
        return 0.0

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])

    def add_param_group(self, param_group):
        """Add a group of parameters (a dict with "params" and any per-group option) to optimize."""
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group must be a dict, not {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if params is None:
            raise ValueError("a parameter group needs a 'params' entry")
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, not {type(p).__name__}")
            if p.dtype.kind != "f":
                raise TypeError(f"optimizer can only optimize float32/float64 tensors, not {p.dtype}")
            if p.grad_fn is not None:
                raise ValueError("can't optimize a non-leaf Tensor (one computed by a recorded op)")
            if not p.is_contiguous():
                raise ValueError(f"can't optimize a non-contiguous tensor of shape {p.shape}")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or any(id(p) in seen for p in params):
            raise ValueError("some parameters appear more than once (in this or in another parameter group)")
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self.check_group(group)
        self.param_groups.append(group)
        self._plans.append(self._make_plan(group))

    def _make_plan(self, group, old=None):
        """(group, params, state views per name, scalars, names); ``old``'s buffers and counts are kept."""
        params = group["params"]
        names = self.state_names(group)
        kept = {} if old is None else {n: s for n, s in zip(old[4], old[2]) if n is not None}
        states = tuple(None if n is None else kept.get(n) or
                       _C._optim_state_buffers(params, self.initial_state(n, group)) for n in names)
        if old is None:
            scalars = zeros((len(params), 2), dtype=np.float64)
            if len(params):
                scalars[:, 1] = 1.0  # NAdam's product of momentum coefficients starts at 1
        else:
            scalars = old[3]
        for j, p in enumerate(params):
            entry = {"step": scalars[j, 0]}
            entry.update((n, s[j]) for n, s in zip(names, states) if n is not None)
            self.state[p] = entry
        return (group, params, states, scalars, names)

    def _follow_params(self):
        """Move (or cast) every state buffer whose parameter is now on another device or in another dtype
        (``Module.to`` changes parameters in place): new flat buffers where the parameters are, the values
        copied over. ``step()`` calls it when the fused step reports such a mismatch."""
        for i, (group, params, states, scalars, names) in enumerate(self._plans):
            moved = []
            for views in states:
                if views is not None and any(v.device != p.device or v.dtype != p.dtype
                                             for v, p in zip(views, params)):
                    fresh = _C._optim_state_buffers(params, 0.0)
                    for new, old in zip(fresh, views):
                        _C._copy_into(new, old)  # across devices, cast to the parameter's dtype
                    views = fresh
                moved.append(views)
            self._plans[i] = self._make_plan(group, (group, params, tuple(moved), scalars, names))

    def zero_grad(self, set_to_none=True):
        """Drop every parameter's gradient (``set_to_none``), or set it to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    _C.fill(p.grad, 0)

    def step(self, closure=None):
        """One update of every parameter that has a gradient: a single fused C++ call.

        ``closure`` (optional) re-evaluates the model and returns the loss, which step returns."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for i, plan in enumerate(self._plans):
            if self.state_names(plan[0]) != plan[4]:  # an option that needs state was switched on
                self._plans[i] = self._make_plan(plan[0], plan)
        if not _C._optim_step(self.algo, self._plans):  # parameters moved or cast since the state was made
            self._follow_params()
            if not _C._optim_step(self.algo, self._plans):
                raise RuntimeError("optimizer step: the optimizer state could not follow its parameters")
        return loss

    # ---- checkpoints ----
    def state_dict(self):
        """A copy of the optimizer state: {"state": {index: {"step", buffers...}}, "param_groups": [...]},
        parameters numbered across groups in order (as torch.optim). Buffers are host copies whatever
        device they live on; ``load_state_dict`` puts them back on the parameters' devices."""
        state, groups, index = {}, [], 0
        for group, params, states, scalars, names in self._plans:
            numbers = list(range(index, index + len(params)))
            for j, i in enumerate(numbers):
                entry = {"step": float(scalars[j, 0])}
                if self.algo == "nadam":
                    entry["mu_product"] = float(scalars[j, 1])
                entry.update((n, _host_copy(s[j])) for n, s in zip(names, states) if n is not None)
                state[i] = entry
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": numbers})
            index += len(params)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict()``: resuming is bit-identical to an uninterrupted run."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(groups)} parameter groups; this optimizer has "
                             f"{len(self.param_groups)}")
        for saved, group in zip(groups, self.param_groups):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"loaded state dict has a group of {len(saved['params'])} parameters where "
                                 f"this optimizer has {len(group['params'])}")
        self._follow_params()  # the state is loaded where the parameters are now
        for saved, (group, params, states, scalars, names) in zip(groups, self._plans):
            for j, i in enumerate(saved["params"]):
                entry = state_dict["state"].get(i, state_dict["state"].get(str(i), {}))
                scalars[j, 0] = float(entry.get("step", 0.0))
                scalars[j, 1] = float(entry.get("mu_product", 1.0))
                for n, s in zip(names, states):
                    if n is None:
                        continue
                    value = entry.get(n)
                    shape = tuple(value.shape if hasattr(value, "shape") else np.shape(value))
                    if value is not None and shape != s[j].shape:
                        raise ValueError(f"loaded state '{n}' of parameter {i} has shape {shape}; the "
                                         f"parameter has shape {s[j].shape}")
                    _C._copy_into(s[j], self.initial_state(n, group) if value is None else value)
            group.update({k: v for k, v in saved.items() if k != "params"})


def check_nonnegative(group, *keys):
    """ValueError when any of these group options is negative (or NaN)."""
    for key in keys:
        value = group[key]
        if not value >= 0 or (isinstance(value, float) and math.isnan(value)):
            name = "learning rate" if key == "lr" else key.replace("_", " ")
            raise ValueError(f"Invalid {name}: {value}")


def check_betas(group, upper=1.0):
    betas = group["betas"]
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    for i, b in enumerate(betas):
        if not 0.0 <= b < upper:
            raise ValueError(f"Invalid beta parameter at index {i}: {b} (must be in [0, 1))")
