"""Weight penalties (Keras names): callables mapping a weight tensor to a scalar tensor that autograd
differentiates, to add to the loss. L2 is also available as an optimizer's weight_decay (fused, cheaper)."""
from .._tensor import Tensor
from ..elementwise import absolute

__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1_penalty"]


class Regularizer:
    """Base class: ``penalty = regularizer(weight)``."""

    def __call__(self, weight):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v}' for k, v in self.get_config().items())})"

    def get_config(self):
        return dict(vars(self))


class L1(Regularizer):
    """l1 * sum(|w|)."""

    def __init__(self, l1=0.01):
        self.l1 = float(l1)

    def __call__(self, weight):
        return self.l1 * absolute(weight).sum()


class L2(Regularizer):
    """l2 * sum(w^2) (Keras' convention: no 1/2; gradient 2 * l2 * w)."""

    def __init__(self, l2=0.01):
        self.l2 = float(l2)

    def __call__(self, weight):
        return self.l2 * (weight * weight).sum()


class L1L2(Regularizer):
    """l1 * sum(|w|) + l2 * sum(w^2)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, weight):
        return self.l1 * absolute(weight).sum() + self.l2 * (weight * weight).sum()


def l1_penalty(parameters, l):
    """l * sum over the parameters of sum(|p|): a differentiable scalar tensor to add to the loss."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    if not params:
        raise ValueError("l1_penalty: no parameters given")
    total = absolute(params[0]).sum()
    for p in params[1:]:
        total = total + absolute(p).sum()
    return float(l) * total
