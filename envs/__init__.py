"""Self-contained simulators with a Gymnasium-style API; nothing here imports minipg."""
import numpy as np

from envs.acrobot import AcrobotEnv, AcrobotVector
from envs.cartpole import CartPoleEnv, CartPoleVector
from envs.gridworld import GridWorld, ShortCorridor
from envs.pendulum import PendulumEnv, PendulumVector

_REGISTRY = {
    "cartpole": lambda **kwargs: CartPoleEnv(continuous=False, **kwargs),
    "cartpole-continuous": lambda **kwargs: CartPoleEnv(continuous=True, **kwargs),
    "gridworld": GridWorld,
    "corridor": ShortCorridor,
    "acrobot": AcrobotEnv,
    "pendulum": PendulumEnv,
}
ENV_NAMES = tuple(_REGISTRY)

_VECTORS = {
    "cartpole": lambda n: CartPoleVector(n, continuous=False),
    "cartpole-continuous": lambda n: CartPoleVector(n, continuous=True),
    "acrobot": AcrobotVector,
    "pendulum": PendulumVector,
}
VECTOR_NAMES = tuple(_VECTORS)


def make(name, **kwargs):
    """Build the environment registered as `name` with constructor arguments `kwargs`."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown env {name!r}; known envs: {', '.join(ENV_NAMES)}")
    return _REGISTRY[name](**kwargs)


def make_vector(name, n):
    """n copies of the env `name` stepped together: the vectorised twin of make(name), one row per copy."""
    if name not in _VECTORS:
        raise ValueError(f"unknown vector env {name!r}; known vector envs: {', '.join(VECTOR_NAMES)}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer (the number of rows), got {n!r}")
    return _VECTORS[name](int(n))
