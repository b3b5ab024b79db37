"""Hand-written optimizers for gradient ASCENT on U(theta): each step moves theta along +g.

    SGD:   v <- momentum v + g;            theta <- theta + lr v
    Adam:  m <- b1 m + (1 - b1) g;         v <- b2 v + (1 - b2) g^2
           m^ = m / (1 - b1^k);            v^ = v / (1 - b2^k)          (k = steps taken)
           theta <- theta + lr m^ / (sqrt(v^) + eps)                   (Kingma & Ba 2015, Alg. 1)

The optimizer keeps its moments between steps; `step` returns a new theta and never edits its input.
"""
import numpy as np

OPTIMIZER_NAMES = ("sgd", "adam")


def _check_rate(value, name, low, high):
    if not (low <= value < high):
        raise ValueError(f"{name} must be in [{low}, {high}), got {value}")
    return float(value)


def _check_lr(lr):
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr}")
    return float(lr)


class _Optimizer:
    """What both optimizers share: the shape check and the moment bookkeeping."""

    def __init__(self, lr):
        self.lr = _check_lr(lr)
        self.reset()

    def reset(self):
        """Forget every moment estimate, as at construction."""
        self.moments = None
        self.steps = 0

    def _checked(self, theta, gradient):
        theta = np.asarray(theta, dtype=np.float64)
        gradient = np.asarray(gradient, dtype=np.float64)
        if gradient.shape != theta.shape:
            raise ValueError(f"gradient has shape {gradient.shape}, theta has shape {theta.shape}")
        if not np.isfinite(theta).all():
            raise ValueError("theta contains NaN or inf")
        if not np.isfinite(gradient).all():
            raise ValueError("gradient contains NaN or inf")
        if self.moments is not None and self.moments[0].shape != gradient.shape:
            raise ValueError(f"gradient shape changed from {self.moments[0].shape} to {gradient.shape}")
        if self.moments is None:
            self.moments = [np.zeros_like(gradient), np.zeros_like(gradient)]
        self.steps += 1
        return theta, gradient


class SGD(_Optimizer):
    """theta <- theta + lr v, with velocity v <- momentum v + g (plain gradient ascent at momentum 0)."""

    def __init__(self, lr, momentum=0.0):
        self.momentum = _check_rate(momentum, "momentum", 0.0, 1.0)
        super().__init__(lr)

    def step(self, theta, gradient):
        theta, gradient = self._checked(theta, gradient)
        velocity = self.momentum * self.moments[0] + gradient
        self.moments[0] = velocity
        return theta + self.lr * velocity


class Adam(_Optimizer):
    """theta <- theta + lr m^ / (sqrt(v^) + eps), with bias-corrected moments m^, v^ of g and g^2."""

    def __init__(self, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        self.beta1 = _check_rate(beta1, "beta1", 0.0, 1.0)
        self.beta2 = _check_rate(beta2, "beta2", 0.0, 1.0)
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps}")
        self.eps = float(eps)
        super().__init__(lr)

    def step(self, theta, gradient):
        theta, gradient = self._checked(theta, gradient)
        first = self.beta1 * self.moments[0] + (1.0 - self.beta1) * gradient
        second = self.beta2 * self.moments[1] + (1.0 - self.beta2) * gradient**2
        self.moments = [first, second]
        first_hat = first / (1.0 - self.beta1**self.steps)
        second_hat = second / (1.0 - self.beta2**self.steps)
        return theta + self.lr * first_hat / (np.sqrt(second_hat) + self.eps)


def make_optimizer(name, lr):
    """SGD or Adam by name, at step size lr."""
    if name == "sgd":
        return SGD(lr)
    if name == "adam":
        return Adam(lr)
    raise ValueError(f"unknown optimizer {name!r}; known optimizers: {', '.join(OPTIMIZER_NAMES)}")
