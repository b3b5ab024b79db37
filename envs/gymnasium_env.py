"""A user's own Gymnasium env behind minipg's env API: `envs.make("gymnasium:ID")` wraps gymnasium.make(ID).

Any env with a 1-D Box observation and a Discrete or 1-D Box action fits: its observations come as float64 copies,
a Discrete(n, start) takes minipg's actions 0..n-1 (sent as start + a), a Box(k) takes k real numbers, clipped to
its bounds and cast to its dtype. Episodes must end, so the spec's time limit is required. Gymnasium is imported
only when such an env is built, never by importing this module.
"""
import math
import numbers

import numpy as np

PREFIX = "gymnasium:"
INSTALL = "pip install gymnasium"


def is_gymnasium(name):
    """Whether `name` asks for a Gymnasium env, 'gymnasium:ID'."""
    return isinstance(name, str) and name.startswith(PREFIX)


def reset_seed(seed):
    """The seed Gymnasium's reset takes, a non-negative int (or None), for a minipg seed.

    An int is passed as it is. A list such as OneByOne's [seed, k, 1] becomes one int: the first 64-bit word numpy's
    SeedSequence(list) generates, so distinct lists of one length give distinct seeds (two collide with probability
    2^-64; SeedSequence itself takes [1, 0] for [1], as default_rng does).
    """
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (numbers.Integral, list, tuple, np.ndarray)):
        raise TypeError(f"seed must be None, a non-negative integer or a list of them, got {seed!r}")
    if isinstance(seed, numbers.Integral):
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        return int(seed)
    return int(np.random.SeedSequence(seed).generate_state(1, np.uint64)[0])


def imported_gymnasium(env_id):
    """The gymnasium module, or one line saying that the env needs it and how to install it."""
    try:
        import gymnasium
    except ImportError:
        raise ValueError(f"env {PREFIX}{env_id} needs Gymnasium, which is not installed; install it with "
                         f"`{INSTALL}`") from None
    return gymnasium


def made(gymnasium, env_id, kwargs):
    """gymnasium.make(env_id, **kwargs), its refusals (an unknown id, a missing dependency) in one line naming it."""
    try:
        return gymnasium.make(env_id, **kwargs)
    except gymnasium.error.UnregisteredEnv as error:
        raise ValueError(f"unknown Gymnasium env {env_id!r}: {error}") from None
    except gymnasium.error.Error as error:
        raise ValueError(f"{PREFIX}{env_id}: Gymnasium cannot make it: {error}") from None


def box_size(space, spaces):
    """k of a 1-D Box of shape (k,), else None."""
    return space.shape[0] if isinstance(space, spaces.Box) and len(space.shape) == 1 else None


def bound_scale(space):
    """max(|low|, |high|) of each coordinate of a Box whose bounds are all finite (1 where both are 0), else None."""
    low, high = np.asarray(space.low, dtype=np.float64), np.asarray(space.high, dtype=np.float64)
    if not (np.isfinite(low).all() and np.isfinite(high).all()):
        return None
    scale = np.maximum(np.abs(low), np.abs(high))
    return np.where(scale > 0, scale, 1.0)


class GymnasiumEnv:
    """gymnasium.make(env_id, **kwargs) with minipg's API.

    observation_dim = k of the observation's Box(k); n_actions of a Discrete action, or action_dim = k of a Box(k);
    max_episode_steps = the spec's time limit; reward_threshold = the spec's (None where it has none);
    max_step_reward = the upper end of the env's reward_range where it declares a finite one, else infinity;
    observation_scale = bound_scale of the observation's Box (None if a bound is infinite).
    """

    def __init__(self, env_id, **kwargs):
        gymnasium = imported_gymnasium(env_id)
        self.name, self.env = PREFIX + env_id, made(gymnasium, env_id, kwargs)
        try:
            self._read_spaces(gymnasium.spaces)
            self._read_spec()
        except ValueError:
            self.env.close()
            raise
        reward_range = getattr(self.env.unwrapped, "reward_range", None)
        bounded = reward_range is not None and math.isfinite(reward_range[1])
        self.max_step_reward = float(reward_range[1]) if bounded else math.inf
        self.observation_scale = bound_scale(self.env.observation_space)

    def _read_spaces(self, spaces):
        observation_space, action_space = self.env.observation_space, self.env.action_space
        self.observation_dim = box_size(observation_space, spaces)
        if self.observation_dim is None:
            raise ValueError(f"{self.name}: its observation space {observation_space} is not a 1-D Box; minipg takes "
                             "a 1-D Box observation")
        if isinstance(action_space, spaces.Discrete):
            self.n_actions, self._start = int(action_space.n), int(getattr(action_space, "start", 0))
        elif box_size(action_space, spaces) is not None:
            self.action_dim = box_size(action_space, spaces)
            self._low, self._high = (np.asarray(end, dtype=np.float64) for end in (action_space.low, action_space.high))
            self._dtype = action_space.dtype
        else:
            raise ValueError(f"{self.name}: its action space {action_space} is neither Discrete nor a 1-D Box")

    def _read_spec(self):
        spec = self.env.spec
        if spec is None or spec.max_episode_steps is None:
            raise ValueError(f"{self.name} has no time limit (its spec's max_episode_steps is None): minipg's episodes "
                             "must end; register it with max_episode_steps")
        self.max_episode_steps, self.reward_threshold = int(spec.max_episode_steps), spec.reward_threshold

    def observation(self, observation):
        """Gymnasium's observation as a float64 vector of observation_dim numbers (a copy)."""
        return np.array(observation, dtype=np.float64).reshape(self.observation_dim)

    def gymnasium_action(self, action):
        """minipg's action as the env's space takes it: start + a for a Discrete, clip(a, low, high) for a Box."""
        if hasattr(self, "n_actions"):
            if isinstance(action, bool) or not isinstance(action, numbers.Integral) or not 0 <= action < self.n_actions:
                raise ValueError(f"action {action!r} is outside Discrete({self.n_actions})")
            return self._start + int(action)
        value = np.asarray(action)
        if value.ndim > 1 or value.size != self.action_dim or value.dtype.kind not in "iuf" \
                or not np.isfinite(value).all():
            raise ValueError(f"action must be {self.action_dim} finite real number{'s' * (self.action_dim > 1)} "
                             f"(shape ({self.action_dim},)), got {action!r}")
        return np.minimum(np.maximum(value.reshape(self.action_dim), self._low), self._high).astype(self._dtype)

    def reset(self, seed=None):
        """Gymnasium's reset(seed=reset_seed(seed)): the first observation, as float64, and its info."""
        observation, info = self.env.reset(seed=reset_seed(seed))
        return self.observation(observation), info

    def step(self, action):
        """(obs, reward, terminated, truncated, info) of Gymnasium's step, obs float64, reward a float."""
        observation, reward, terminated, truncated, info = self.env.step(self.gymnasium_action(action))
        return self.observation(observation), float(reward), bool(terminated), bool(truncated), info
