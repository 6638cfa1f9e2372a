"""RMSprop (Hinton), optionally centered and with momentum, as one fused pass per element."""
from .optimizer import Optimizer, check_nonnegative

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""torch.optim.RMSprop's rule::

        g = ±grad + weight_decay * p
        s = alpha * s + (1 - alpha) * g^2
        a = a + (1 - alpha) * (g - a);  s_hat = s - a^2      (centered; else s_hat = s)
        q = g / (sqrt(s_hat) + eps)
        b = momentum * b + q;  p = p - lr * b                (momentum > 0; else p = p - lr * q)
    """
    algo = "rmsprop"

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 maximize=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    @staticmethod
    def state_names(group):
        return ("square_avg", "momentum_buffer" if group["momentum"] > 0 else None,
                "grad_avg" if group["centered"] else None)

    @staticmethod
    def check_group(group):
        check_nonnegative(group, "lr", "eps", "momentum", "weight_decay", "alpha")
