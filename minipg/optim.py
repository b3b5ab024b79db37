"""Hand-written optimizers for gradient ASCENT on U(theta): each step moves theta along +g.

    SGD:   v <- momentum v + g;            theta <- theta + lr v
    Adam:  m <- b1 m + (1 - b1) g;         v <- b2 v + (1 - b2) g^2
           m^ = m / (1 - b1^k);            v^ = v / (1 - b2^k)          (k = steps taken)
           theta <- theta + lr m^ / (sqrt(v^) + eps)                   (Kingma & Ba 2015, Alg. 1)

The optimizer keeps its moments between steps; `step` returns a new theta and never edits its input.
"""
import numpy as np

OPTIMIZER_NAMES = ("sgd", "adam")


def _check_rate(value, name):
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return float(value)


class _Optimizer:
    """What both optimizers share: lr, the step count k, and the checks on each gradient."""

    def __init__(self, lr):
        if not (np.isfinite(lr) and lr > 0):
            raise ValueError(f"lr must be finite and > 0, got {lr}")
        self.lr = float(lr)
        self.reset()

    def reset(self):
        """Forget the moment estimates: the next step is a first step again."""
        self.shape = None  # the gradient shape this optimizer's moments have
        self.steps = 0     # k

    def _checked(self, theta, gradient):
        theta = np.asarray(theta, dtype=np.float64)
        gradient = np.asarray(gradient, dtype=np.float64)
        if gradient.shape != theta.shape:
            raise ValueError(f"gradient has shape {gradient.shape}, theta has shape {theta.shape}; they must match")
        if self.shape is not None and gradient.shape != self.shape:
            raise ValueError(f"gradient shape changed from {self.shape} to {gradient.shape}; call reset() first")
        if not np.isfinite(gradient).all():
            raise ValueError("gradient contains NaN or inf")
        self.shape = gradient.shape
        self.steps += 1
        return theta, gradient


class SGD(_Optimizer):
    """v <- momentum v + g;  theta <- theta + lr v.

    lr multiplies the velocity, not the gradient inside it (PyTorch's form, not Sutskever's
    v <- momentum v + lr g); the two agree while lr is constant. momentum = 0 is plain ascent.
    """

    def __init__(self, lr, momentum=0.0):
        super().__init__(lr)
        self.momentum = _check_rate(momentum, "momentum")

    def reset(self):
        super().reset()
        self.velocity = 0.0  # v_0 = 0

    def step(self, theta, gradient):
        theta, gradient = self._checked(theta, gradient)
        self.velocity = self.momentum * self.velocity + gradient
        return theta + self.lr * self.velocity


class Adam(_Optimizer):
    """theta <- theta + lr m^ / (sqrt(v^) + eps), m^ and v^ the bias-corrected averages of g and g^2."""

    def __init__(self, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(lr)
        self.beta1 = _check_rate(beta1, "beta1")
        self.beta2 = _check_rate(beta2, "beta2")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps}")
        self.eps = float(eps)

    def reset(self):
        super().reset()
        self.first = 0.0   # m_0 = 0
        self.second = 0.0  # v_0 = 0

    def step(self, theta, gradient):
        theta, gradient = self._checked(theta, gradient)
        k = self.steps
        self.first = self.beta1 * self.first + (1.0 - self.beta1) * gradient
        self.second = self.beta2 * self.second + (1.0 - self.beta2) * gradient**2
        first_hat = self.first
        second_hat = self.second / (1.0 - self.beta2**k)
        return theta + self.lr * first_hat / (np.sqrt(second_hat) + self.eps)


def make_optimizer(name, lr, **kwargs):
    """SGD or Adam by name, one of OPTIMIZER_NAMES."""
    if name == "sgd":
        return SGD(lr, **kwargs)
    if name == "adam":
        return Adam(lr, **kwargs)
    raise ValueError(f"unknown optimizer {name!r}; known optimizers: {', '.join(OPTIMIZER_NAMES)}")
