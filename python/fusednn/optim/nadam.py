"""NAdam (Adam with Nesterov momentum, Dozat 2016), as one fused pass per element."""
from .optimizer import Optimizer, check_betas, check_nonnegative

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""torch.optim.NAdam's rule, at step t of each parameter::

        mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay));  P_t = mu_1 * ... * mu_t
        p = p * (1 - lr * weight_decay)                      (decoupled_weight_decay; else added to g)
        g = ±grad + weight_decay * p
        m = m + (1 - beta1) * (g - m);  v = beta2 * v + (1 - beta2) * g^2
        d = sqrt(v / (1 - beta2^t)) + eps
        p = p - lr (1 - mu_t) / (1 - P_t) * g / d - lr mu_{t+1} / (1 - P_t mu_{t+1}) * m / d
    """
    algo = "nadam"

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, maximize=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))

    @staticmethod
    def state_names(group):
        return ("exp_avg", "exp_avg_sq")

    @staticmethod
    def check_group(group):
        check_nonnegative(group, "lr", "eps", "weight_decay", "momentum_decay")
        check_betas(group)
