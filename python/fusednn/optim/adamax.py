"""Adamax (Adam with the infinity norm), as one fused pass per element."""
from .optimizer import Optimizer, check_betas, check_nonnegative

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""torch.optim.Adamax's rule, at step t of each parameter::

        g = ±grad + weight_decay * p
        m = m + (1 - beta1) * (g - m)
        u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1^t) * m / u
    """
    algo = "adamax"

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, maximize=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    @staticmethod
    def state_names(group):
        return ("exp_avg", "exp_inf")

    @staticmethod
    def check_group(group):
        check_nonnegative(group, "lr", "eps", "weight_decay")
        check_betas(group)
