"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay."""
from .optimizer import Optimizer, check_nonnegative

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""torch.optim.SGD's rule, fused into one pass per element::

        g = ±grad + weight_decay * p                         (- when maximize)
        b = g on the first step, else momentum * b + (1 - dampening) * g
        d = g + momentum * b if nesterov else b              (d = g when momentum == 0)
        p = p - lr * d
    """
    algo = "sgd"

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize))

    @staticmethod
    def state_names(group):
        return ("momentum_buffer" if group["momentum"] != 0 else None,)

    @staticmethod
    def check_group(group):
        check_nonnegative(group, "lr", "momentum", "weight_decay")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
