"""Self-contained simulators with a Gymnasium-style API, and an adapter for a user's own Gymnasium env
("gymnasium:ID", which imports Gymnasium only when asked for); nothing here imports minipg."""
import numpy as np

from envs.acrobot import AcrobotEnv, AcrobotVector
from envs.cartpole import CartPoleEnv, CartPoleVector
from envs.gridworld import GridWorld, ShortCorridor
from envs.gymnasium_env import PREFIX as GYMNASIUM_PREFIX, GymnasiumEnv, is_gymnasium
from envs.pendulum import PendulumEnv, PendulumVector
from envs.serial import SerialVector

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
    """Build the environment registered as `name` with constructor arguments `kwargs`; 'gymnasium:ID' is
    gymnasium.make(ID, **kwargs) behind the same API (GymnasiumEnv)."""
    if is_gymnasium(name):
        return GymnasiumEnv(name[len(GYMNASIUM_PREFIX):], **kwargs)
    if name not in _REGISTRY:
        raise ValueError(f"unknown env {name!r}; known envs: {', '.join(ENV_NAMES)}, or {GYMNASIUM_PREFIX}ID for a "
                         "Gymnasium env")
    return _REGISTRY[name](**kwargs)


def make_vector(name, n):
    """n copies of the env `name` stepped together: the vectorised twin of make(name), one row per copy; for a
    Gymnasium env, n copies of make(name) stepped one after another (SerialVector)."""
    if name not in _VECTORS and not is_gymnasium(name):
        raise ValueError(f"unknown vector env {name!r}; known vector envs: {', '.join(VECTOR_NAMES)}, or "
                         f"{GYMNASIUM_PREFIX}ID")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer (the number of rows), got {n!r}")
    if is_gymnasium(name):
        return SerialVector(lambda: make(name), int(n))
    return _VECTORS[name](int(n))
