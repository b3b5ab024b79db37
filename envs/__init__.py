"""Self-contained simulators with a Gymnasium-style API; nothing here imports minipg."""
from envs.cartpole import CartPoleEnv
from envs.gridworld import GridWorld, ShortCorridor

_REGISTRY = {
    "cartpole": lambda **kwargs: CartPoleEnv(continuous=False, **kwargs),
    "cartpole-continuous": lambda **kwargs: CartPoleEnv(continuous=True, **kwargs),
    "gridworld": GridWorld,
    "corridor": ShortCorridor,
}
ENV_NAMES = tuple(_REGISTRY)


def make(name, **kwargs):
    """Build the environment registered as `name` with constructor arguments `kwargs`."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown env {name!r}; known envs: {', '.join(ENV_NAMES)}")
    return _REGISTRY[name](**kwargs)
