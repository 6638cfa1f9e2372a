"""Adam and AdamW (decoupled weight decay), with AMSGrad, as one fused pass per element."""
from .optimizer import Optimizer, check_betas, check_nonnegative

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""torch.optim.Adam's rule (Kingma & Ba, 2015), at step t of each parameter::

        p = p * (1 - lr * weight_decay)                      (AdamW only; Adam adds it to g instead)
        g = ±grad + weight_decay * p                         (- when maximize)
        m = m + (1 - beta1) * (g - m)
        v = beta2 * v + (1 - beta2) * g^2
        v_hat = max(v_hat, v) if amsgrad else v
        p = p - lr / (1 - beta1^t) * m / (sqrt(v_hat) / sqrt(1 - beta2^t) + eps)
    """
    algo = "adam"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 maximize=False, decoupled_weight_decay=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))

    @staticmethod
    def state_names(group):
        return ("exp_avg", "exp_avg_sq", "max_exp_avg_sq" if group["amsgrad"] else None)

    @staticmethod
    def check_group(group):
        check_nonnegative(group, "lr", "eps", "weight_decay")
        check_betas(group)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): p *= 1 - lr * weight_decay before
    the Adam update, instead of adding weight_decay * p to the gradient."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay=True)
