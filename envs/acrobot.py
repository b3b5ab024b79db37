"""Acrobot: Gymnasium's Acrobot-v1, reproduced step for step in float64, without importing Gymnasium.

Two links hang from a fixed pivot; a torque tau in {-1, 0, +1} acts on the joint between them. State
s = [t1, t2, dt1, dt2]: t1 is the first link's angle from straight down, t2 the second link's angle relative to
the first. Sutton & Barto's ("book") equations of motion, with m = 1, l1 = 1, lc = 0.5, I = 1, g = 9.8:

    d1    = m1 lc1^2 + m2 (l1^2 + lc2^2 + 2 l1 lc2 cos t2) + I1 + I2
    d2    = m2 (lc2^2 + l1 lc2 cos t2) + I2
    phi2  = m2 lc2 g cos(t1 + t2 - pi/2)
    phi1  = -m2 l1 lc2 dt2^2 sin t2 - 2 m2 l1 lc2 dt2 dt1 sin t2 + (m1 lc1 + m2 l1) g cos(t1 - pi/2) + phi2
    ddt2  = (tau + d2/d1 phi1 - m2 l1 lc2 dt1^2 sin t2 - phi2) / (m2 lc2^2 + I2 - d2^2/d1)
    ddt1  = -(d2 ddt2 + phi1) / d1

integrated by one classical Runge-Kutta step of dt = 0.2 s; then both angles are wrapped into [-pi, pi] and the
velocities clipped to |dt1| <= 4 pi, |dt2| <= 9 pi. The observation is [cos t1, sin t1, cos t2, sin t2, dt1, dt2].
The episode terminates when the tip rises more than one link above the pivot, -cos t1 - cos(t1 + t2) > 1 (reward 0
on that step, -1 on every other), and is truncated after 500 steps, terminated or not, as gymnasium.make does.

The last bits are Gymnasium's because its arithmetic is kept. Every expression is evaluated as written above and
in its order: cos(t1 - pi/2), not sin t1; dt/2 and dt/6 formed first, then multiplied; k1 + 2 k2 + 2 k3 + k4 summed
left to right. Gymnasium squares with ** on NumPy scalars, which calls C's pow(x, 2): that differs from x*x
(np.square, and ** on arrays) in the last bit now and then, so every square of a state here is np.float_power(x, 2.0),
pow on scalars and arrays alike. Its wrap subtracts (then adds) 2 pi one turn at a time, which rounds apart from
subtracting k turns at once far from [-pi, pi], and so does wrap here. Its start state is drawn in float64 and stored
as float32 until the first step, and the first observation's cosines and sines are computed in float32: reset keeps
both, and so does a vector row until its first step.
"""
import math

import numpy as np

from envs.sampling import RowStarts, state_columns, state_rows

LINK_LENGTH_1 = 1.0
LINK_MASS_1 = LINK_MASS_2 = 1.0
LINK_COM_POS_1 = LINK_COM_POS_2 = 0.5
LINK_MOI = 1.0
GRAVITY = 9.8
DT = 0.2
MAX_VEL_1 = 4 * math.pi
MAX_VEL_2 = 9 * math.pi
TORQUES = np.array([-1.0, 0.0, 1.0])  # actions 0, 1, 2
RESET_BOUND = 0.1
GOAL_HEIGHT = 1.0
MAX_SET_ANGLE = 1000.0  # a state set by hand: wrap goes one turn at a time, so a far angle would take forever


def square(x):
    """x^2 as C's pow(x, 2) rounds it, the way Gymnasium's x**2 on a NumPy scalar does."""
    return np.float_power(x, 2.0)


def dsdt(s, tau):
    """ds/dt = [dt1, dt2, ddt1, ddt2]: the book's equations above, in Gymnasium's order of operations.

    s holds [t1, t2, dt1, dt2] along its first axis: one acrobot's (4,) state or n acrobots' (4, n) columns.
    """
    t1, t2, dt1, dt2 = s
    m1, m2, l1, lc1, lc2, i1, i2, g = (LINK_MASS_1, LINK_MASS_2, LINK_LENGTH_1, LINK_COM_POS_1, LINK_COM_POS_2,
                                       LINK_MOI, LINK_MOI, GRAVITY)
    cos_t2, sin_t2 = np.cos(t2), np.sin(t2)
    d1 = m1 * lc1**2 + m2 * (l1**2 + lc2**2 + 2 * l1 * lc2 * cos_t2) + i1 + i2
    d2 = m2 * (lc2**2 + l1 * lc2 * cos_t2) + i2
    phi2 = m2 * lc2 * g * np.cos(t1 + t2 - math.pi / 2.0)
    phi1 = (-m2 * l1 * lc2 * square(dt2) * sin_t2 - 2 * m2 * l1 * lc2 * dt2 * dt1 * sin_t2
            + (m1 * lc1 + m2 * l1) * g * np.cos(t1 - math.pi / 2) + phi2)
    ddt2 = ((tau + d2 / d1 * phi1 - m2 * l1 * lc2 * square(dt1) * sin_t2 - phi2)
            / (m2 * lc2**2 + i2 - square(d2) / d1))
    ddt1 = -(d2 * ddt2 + phi1) / d1
    return np.array([dt1, dt2, ddt1, ddt2])


def rk4_step(s, tau):
    """s + dt/6 (k1 + 2 k2 + 2 k3 + k4), k1 = f(s), k2 = f(s + dt/2 k1), k3 = f(s + dt/2 k2), k4 = f(s + dt k3).

    The torque rides along unchanged, as the fifth, constant component of Gymnasium's rk4 does.
    """
    k1 = dsdt(s, tau)
    k2 = dsdt(s + DT / 2.0 * k1, tau)
    k3 = dsdt(s + DT / 2.0 * k2, tau)
    k4 = dsdt(s + DT * k3, tau)
    return s + DT / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)


def wrap(angle):
    """angle -/+ 2 pi, one whole turn at a time, until it lies in [-pi, pi] (elementwise)."""
    turn = math.pi - (-math.pi)
    while angle.max() > math.pi:
        angle = np.where(angle > math.pi, angle - turn, angle)
    while angle.min() < -math.pi:
        angle = np.where(angle < -math.pi, angle + turn, angle)
    return angle


def bound(velocity, limit):
    """min(max(velocity, -limit), limit) (elementwise)."""
    return np.minimum(np.maximum(velocity, -limit), limit)


def next_state(s, tau):
    """One RK4 step of dt, both angles wrapped into [-pi, pi], |dt1| <= 4 pi and |dt2| <= 9 pi."""
    s = rk4_step(s, tau)
    s[:2] = wrap(s[:2])
    s[2] = bound(s[2], MAX_VEL_1)
    s[3] = bound(s[3], MAX_VEL_2)
    return s


def reached_goal(s):
    """The tip's height above the pivot, -cos t1 - cos(t1 + t2), exceeds one link."""
    return -np.cos(s[0]) - np.cos(s[1] + s[0]) > GOAL_HEIGHT


def observation(s):
    """[cos t1, sin t1, cos t2, sin t2, dt1, dt2], shape (6,) of a state (4,), (n, 6) of columns (4, n)."""
    t1, t2, dt1, dt2 = s
    return np.ascontiguousarray(np.array([np.cos(t1), np.sin(t1), np.cos(t2), np.sin(t2), dt1, dt2]).T)


def settable(s):
    """True if every number of s is finite and both angles within +-MAX_SET_ANGLE (s as in dsdt)."""
    return bool(np.all(np.isfinite(s)) and np.all(np.abs(s[:2]) <= MAX_SET_ANGLE))


def start_state(rng, size=()):
    """Four draws uniform in [-0.1, 0.1], rounded to float32 as Gymnasium stores them; shape size + (4,)."""
    return rng.uniform(low=-RESET_BOUND, high=RESET_BOUND, size=size + (4,)).astype(np.float32)


class AcrobotEnv:
    """Acrobot-v1 with actions 0, 1, 2 applying the torques -1, 0, +1 (Python or NumPy integers; bools are refused)."""

    max_episode_steps = 500
    max_step_reward = 0.0  # the most one step can earn: -1, or 0 on reaching the goal
    observation_scale = (1.0, 1.0, 1.0, 1.0, MAX_VEL_1, MAX_VEL_2)  # the bounds of |obs|: cos, sin, velocities
    observation_dim = 6
    n_actions = 3

    def __init__(self):
        self._state = None
        self._rng = None
        self._steps = 0
        self._done = True

    @property
    def state(self):
        """[t1, t2, dt1, dt2] as float64; settable, like Gymnasium's env.unwrapped.state."""
        return self._state

    @state.setter
    def state(self, value):
        state = np.array(value, dtype=np.float64)
        if state.shape != (4,) or not settable(state):
            raise ValueError(f"state must be 4 finite numbers [t1, t2, dt1, dt2] with |t1|, |t2| <= {MAX_SET_ANGLE:g}, "
                             f"got {value!r}")
        self._state = state

    def reset(self, seed=None):
        """Start state uniform in [-0.1, 0.1]^4 from the env's own generator, seeded as Gymnasium seeds it."""
        if seed is not None or self._rng is None:
            self._rng = np.random.default_rng(seed)
        start = start_state(self._rng)
        self._state = start.astype(np.float64)
        self._steps = 0
        self._done = False
        return observation(start).astype(np.float64), {}

    def torque(self, action):
        """The torque on the joint between the links that `action` applies."""
        if isinstance(action, bool) or not isinstance(action, (int, np.integer)) or action not in (0, 1, 2):
            raise ValueError(f"action {action!r} is outside Discrete(3)")
        return TORQUES[action]

    def step(self, action):
        """Torque `action` for dt seconds: (obs, reward -1, or 0 on reaching the goal, terminated, truncated, info)."""
        if self._rng is None:
            raise ValueError("step() called before reset()")
        if self._done:
            raise ValueError("step() called after the episode ended; call reset()")
        self._state = next_state(self._state, self.torque(action))
        self._steps += 1
        terminated = bool(reached_goal(self._state))
        truncated = self._steps >= self.max_episode_steps
        self._done = terminated or truncated
        return observation(self._state), 0.0 if terminated else -1.0, terminated, truncated, {}


class AcrobotVector:
    """n acrobots stepped together by the same next_state: the vectorised twin of AcrobotEnv.

    Row r is an AcrobotEnv of its own, with its own generator: reset(seeds) starts row r as
    AcrobotEnv.reset(seed=seeds[r]) does, and restart(rows) starts those rows' next episodes from their generators,
    as AcrobotEnv.reset() without a seed does. `states` (n, 4) is read-only; assign a whole (n, 4) array to set it.
    `step` takes n actions and returns the observations after the step (before any restart), rewards, terminated
    and truncated flags, one per row; `observations()` gives every row's current observation, a just-started row's
    computed in float32 as AcrobotEnv.reset computes it. `steps` counts each row's steps since its start. A row that
    has ended keeps its last state and gets reward 0 until it restarts. tests/test_acrobot.py checks every row
    against AcrobotEnv stepped alone.
    """

    max_episode_steps = AcrobotEnv.max_episode_steps
    max_step_reward = AcrobotEnv.max_step_reward
    observation_dim = AcrobotEnv.observation_dim
    n_actions = AcrobotEnv.n_actions

    def __init__(self, n):
        self.n = n
        self.done = self.steps = None
        self._columns = self._at_start = self._starts = None  # _columns: [t1, t2, dt1, dt2] of row r in column r

    @property
    def states(self):
        """[t1, t2, dt1, dt2] of every row, shape (n, 4), float64, read-only."""
        return state_rows(self._columns)

    @states.setter
    def states(self, value):
        self._columns = state_columns(value, self.n, ("t1", "t2", "dt1", "dt2"), settable,
                                     f" with |t1|, |t2| <= {MAX_SET_ANGLE:g}")
        self._at_start = np.zeros(self.n, dtype=bool)

    def reset(self, seeds):
        """Row r from default_rng(seeds[r]): a start state uniform in [-0.1, 0.1]^4. Returns the observations."""
        if len(seeds) != self.n:
            raise ValueError(f"reset needs one seed per row, {self.n}, got {len(seeds)}")
        self._starts = RowStarts(seeds, start_state)
        self._columns = np.ascontiguousarray(self._starts.first.T, dtype=np.float64)
        self._at_start = np.ones(self.n, dtype=bool)
        self.done = np.zeros(self.n, dtype=bool)
        self.steps = np.zeros(self.n, dtype=int)
        return self.observations()

    def restart(self, rows):
        """A new episode in each of `rows` (distinct), its start state drawn from the row's own generator. Returns
        their observations, shape (len(rows), 6), computed in float32 as AcrobotEnv.reset computes them."""
        starts = self._starts.next(rows)
        self._columns[:, rows] = starts.T
        self._at_start[rows] = True
        self.done[rows] = False
        self.steps[rows] = 0
        return observation(np.ascontiguousarray(starts.T)).astype(np.float64)

    def observations(self):
        """[cos t1, sin t1, cos t2, sin t2, dt1, dt2] of every row, shape (n, 6), float64."""
        observations = observation(self._columns)
        if self._at_start.any():
            observations[self._at_start] = observation(self._columns[:, self._at_start].astype(np.float32))
        return observations

    def torques(self, actions):
        """The torque each row's action applies, refusing anything but n integers in {0, 1, 2}."""
        actions = np.asarray(actions)
        if actions.shape != (self.n,) or actions.dtype.kind not in "iu" or actions.min() < 0 or actions.max() > 2:
            raise ValueError(f"actions must be {self.n} integers in {{0, 1, 2}}, got {actions!r}")
        return TORQUES[actions]

    def step(self, actions):
        """Each row's torque for dt seconds: (observations after the step, rewards, terminated, truncated)."""
        torques = self.torques(actions)
        alive = ~self.done
        self._columns = np.where(alive, next_state(self._columns, torques), self._columns)
        self._at_start &= ~alive
        self.steps += alive
        terminated = alive & reached_goal(self._columns)
        truncated = alive & (self.steps >= self.max_episode_steps)
        self.done = self.done | terminated | truncated
        rewards = np.where(alive & ~terminated, -1.0, 0.0)
        return self.observations(), rewards, terminated, truncated
