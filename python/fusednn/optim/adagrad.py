"""Adagrad (Duchi et al., 2011) with learning-rate decay, as one fused pass per element."""
from .optimizer import Optimizer, check_nonnegative

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""torch.optim.Adagrad's rule, at step t of each parameter::

        g = ±grad + weight_decay * p
        s = s + g^2                                          (s starts at initial_accumulator_value)
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)
    """
    algo = "adagrad"

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10, maximize=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps,
                                      maximize=maximize))

    @staticmethod
    def state_names(group):
        return ("sum",)

    @staticmethod
    def initial_state(name, group):
        return group["initial_accumulator_value"]

    @staticmethod
    def check_group(group):
        check_nonnegative(group, "lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")
