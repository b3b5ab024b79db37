"""Pendulum: Gymnasium's Pendulum-v1 (g = 10), reproduced step for step in float64, without importing Gymnasium.

A pole of mass m = 1 and length l = 1 swings about a fixed end; th is its angle from upright, thdot its angular
velocity. The action a is applied as the torque u = clip(a, -2, 2), and one semi-implicit Euler step of dt = 0.05 s
follows, the angle moved with the NEW velocity:

    thdot' = clip(thdot + (3 g / (2 l) sin th + 3 / (m l^2) u) dt, -8, 8)
    th'    = th + thdot' dt

The reward is charged on the state before the step, r = -(normalize(th)^2 + 0.1 thdot^2 + 0.001 u^2), with
normalize(th) = ((th + pi) mod 2 pi) - pi; th itself is never wrapped. The observation is [cos th, sin th, thdot].
The episode never terminates and is truncated after 200 steps; it starts uniform on [-pi, pi] x [-1, 1].

Every expression is evaluated as Gymnasium writes it and in its order: 3 g / (2 l) and 3 / (m l^2) formed first, then
multiplied; normalize with Python's floor mod. Gymnasium squares with ** on NumPy scalars, which calls C's pow(x, 2):
that differs from x*x (np.square, and ** on arrays) in the last bit now and then, so every square here is
np.float_power(x, 2.0), pow on scalars and arrays alike. Gymnasium computes u^2 and 3 u in the action's own dtype;
here every action is widened to float64 first, which is what Gymnasium computes when given the action as float64.
"""
import math

import numpy as np

from envs.sampling import RowStarts, state_columns, state_rows

GRAVITY = 10.0
MASS = 1.0
LENGTH = 1.0
DT = 0.05
MAX_SPEED = 8.0
MAX_TORQUE = 2.0
RESET_HIGH = np.array([math.pi, 1.0])  # the start state is uniform on [-RESET_HIGH, RESET_HIGH]


def square(x):
    """x^2 as C's pow(x, 2) rounds it, the way Gymnasium's x**2 on a NumPy scalar does."""
    return np.float_power(x, 2.0)


def clip(x, limit):
    """min(max(x, -limit), limit): np.clip's value, elementwise."""
    return np.minimum(np.maximum(x, -limit), limit)


def angle_normalize(th):
    """((th + pi) mod 2 pi) - pi: th moved by whole turns into [-pi, pi)."""
    return ((th + math.pi) % (2 * math.pi)) - math.pi


def cost(th, thdot, u):
    """normalize(th)^2 + 0.1 thdot^2 + 0.001 u^2, in Gymnasium's order of operations (elementwise)."""
    return square(angle_normalize(th)) + 0.1 * square(thdot) + 0.001 * square(u)


def euler_step(th, thdot, u):
    """(th', thdot'): the semi-implicit Euler step above, in Gymnasium's order of operations (elementwise)."""
    new_thdot = thdot + (3 * GRAVITY / (2 * LENGTH) * np.sin(th) + 3.0 / (MASS * LENGTH**2) * u) * DT
    new_thdot = clip(new_thdot, MAX_SPEED)
    return th + new_thdot * DT, new_thdot


def observation(th, thdot):
    """[cos th, sin th, thdot]: shape (3,) of one state, (n, 3) of n."""
    return np.ascontiguousarray(np.array([np.cos(th), np.sin(th), thdot]).T)


def start_state(rng, size=()):
    """[th, thdot] uniform on [-pi, pi] x [-1, 1], drawn as Gymnasium draws it; shape size + (2,)."""
    return rng.uniform(low=-RESET_HIGH, high=RESET_HIGH, size=size + (2,))


class PendulumEnv:
    """Pendulum-v1 with action_dim = 1: a real action a (a scalar or a shape (1,) array) applied as clip(a, -2, 2)."""

    max_episode_steps = 200
    max_step_reward = 0.0  # the most one step can earn: minus a cost
    observation_scale = (1.0, 1.0, MAX_SPEED)  # the bounds of |obs|: cos, sin, the velocity bound
    observation_dim = 3
    action_dim = 1

    def __init__(self):
        self._state = None
        self._rng = None
        self._steps = 0
        self._done = True

    @property
    def state(self):
        """[th, thdot] as float64; settable, like Gymnasium's env.unwrapped.state."""
        return self._state

    @state.setter
    def state(self, value):
        state = np.array(value, dtype=np.float64)
        if state.shape != (2,) or not np.all(np.isfinite(state)):
            raise ValueError(f"state must be 2 finite numbers [th, thdot], got {value!r}")
        self._state = state

    def reset(self, seed=None):
        """Start state uniform on [-pi, pi] x [-1, 1] from the env's own generator, seeded as Gymnasium seeds it."""
        if seed is not None or self._rng is None:
            self._rng = np.random.default_rng(seed)
        self._state = start_state(self._rng)
        self._steps = 0
        self._done = False
        return observation(*self._state), {}

    def torque(self, action):
        """The torque u = clip(a, -2, 2) that `action` applies."""
        value = np.asarray(action)
        if value.shape not in ((), (1,)) or value.dtype.kind not in "iuf" or not np.all(np.isfinite(value)):
            raise ValueError(f"action must be one finite real number (a scalar or shape (1,)), got {action!r}")
        return clip(np.float64(value.item()), MAX_TORQUE)

    def step(self, action):
        """Torque for dt seconds: (obs, reward = -cost of the state before the step, False, truncated, info)."""
        if self._rng is None:
            raise ValueError("step() called before reset()")
        if self._done:
            raise ValueError("step() called after the episode ended; call reset()")
        u = self.torque(action)
        reward = -float(cost(*self._state, u))
        self._state = np.array(euler_step(*self._state, u), dtype=np.float64)
        self._steps += 1
        truncated = self._steps >= self.max_episode_steps
        self._done = truncated
        return observation(*self._state), reward, False, truncated, {}


class PendulumVector:
    """n pendulums stepped together by the same euler_step: the vectorised twin of PendulumEnv.

    Row r is a PendulumEnv of its own, with its own generator: reset(seeds) starts row r as
    PendulumEnv.reset(seed=seeds[r]) does, and restart(rows) starts those rows' next episodes from their generators,
    as PendulumEnv.reset() without a seed does. States are rows of an (n, 2) array; `step` takes n actions (shape
    (n,) or (n, 1)) and returns the observations after the step (before any restart), rewards, terminated (never)
    and truncated flags, one per row; `observations()` gives every row's current observation. `steps` counts each
    row's steps since its start. A row that has ended keeps its last state and gets reward 0 until it restarts.
    tests/test_pendulum.py checks every row against PendulumEnv stepped alone.
    """

    max_episode_steps = PendulumEnv.max_episode_steps
    max_step_reward = PendulumEnv.max_step_reward
    observation_dim = PendulumEnv.observation_dim
    action_dim = PendulumEnv.action_dim

    def __init__(self, n):
        self.n = n
        self.done = self.steps = None
        self._columns = self._starts = None  # _columns: [th, thdot] of row r in column r

    @property
    def states(self):
        """[th, thdot] of every row, shape (n, 2), float64, read-only."""
        return state_rows(self._columns)

    @states.setter
    def states(self, value):
        self._columns = state_columns(value, self.n, ("th", "thdot"))

    def reset(self, seeds):
        """Row r from default_rng(seeds[r]): a start state uniform on [-pi, pi] x [-1, 1]. Returns the observations."""
        if len(seeds) != self.n:
            raise ValueError(f"reset needs one seed per row, {self.n}, got {len(seeds)}")
        self._starts = RowStarts(seeds, start_state)
        self._columns = np.ascontiguousarray(self._starts.first.T)
        self.done = np.zeros(self.n, dtype=bool)
        self.steps = np.zeros(self.n, dtype=int)
        return self.observations()

    def restart(self, rows):
        """A new episode in each of `rows` (distinct), its start state drawn from the row's own generator. Returns
        their observations, shape (len(rows), 3)."""
        starts = self._starts.next(rows)
        self._columns[:, rows] = starts.T
        self.done[rows] = False
        self.steps[rows] = 0
        return observation(*np.ascontiguousarray(starts.T))

    def observations(self):
        """[cos th, sin th, thdot] of every row, shape (n, 3), float64."""
        return observation(*self._columns)

    def torques(self, actions):
        """u = clip(a, -2, 2) for each row, refusing anything but n finite real actions."""
        actions = np.asarray(actions)
        if actions.shape not in ((self.n,), (self.n, 1)) or actions.dtype.kind not in "iuf" \
                or not np.isfinite(actions).all():
            raise ValueError(f"actions must be {self.n} finite real numbers, shape ({self.n},) or ({self.n}, 1), "
                             f"got {actions!r}")
        return clip(actions.reshape(self.n).astype(np.float64), MAX_TORQUE)

    def step(self, actions):
        """Each row's torque for dt seconds: (observations after the step, rewards, terminated, truncated)."""
        u = self.torques(actions)
        alive = ~self.done
        rewards = np.where(alive, -cost(*self._columns, u), 0.0)
        self._columns = np.where(alive, euler_step(*self._columns, u), self._columns)
        self.steps += alive
        truncated = alive & (self.steps >= self.max_episode_steps)
        self.done = self.done | truncated
        return self.observations(), rewards, np.zeros(self.n, dtype=bool), truncated
