"""Fused optimizers (torch.optim's rules; one C++ pass over every parameter per step), learning-rate
schedules, and ``get(name, params, **kwargs)`` to name an optimizer by string (for ``compile()``)."""
from .optimizer import Optimizer
from .sgd import SGD
from .adam import Adam, AdamW
from .rmsprop import RMSprop
from .adagrad import Adagrad
from .adamax import Adamax
from .nadam import NAdam
from . import lr_scheduler

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "NAdam", "lr_scheduler", "get"]

_BY_NAME = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad,
            "adamax": Adamax, "nadam": NAdam}


def get(name, params, **kwargs):
    """The optimizer called ``name`` (case-insensitive: sgd, adam, adamw, rmsprop, adagrad, adamax, nadam)
    over ``params``; an Optimizer instance is returned as is."""
    if isinstance(name, Optimizer):
        return name
    cls = _BY_NAME.get(str(name).lower())
    if cls is None:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(sorted(_BY_NAME))}")
    return cls(params, **kwargs)
