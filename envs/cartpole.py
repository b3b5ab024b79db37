"""Cart-pole: Gymnasium's CartPole-v1, reproduced step for step in float64, without importing Gymnasium.

State s = [x, x_dot, theta, theta_dot]. With F the force on the cart (+-force_mag, or clip(a, -1, 1)
times force_mag in the continuous variant), m = masspole, M = m + masscart, l = half the pole's length
(Florian 2007, "Correct equations for the dynamics of the cart-pole"):

    temp       = (F + m l theta_dot^2 sin theta) / M
    theta_acc  = (g sin theta - cos theta temp) / (l (4/3 - m cos^2 theta / M))
    x_acc      = temp - m l theta_acc cos theta / M

then one explicit Euler step of tau = 0.02 s, every position updated with the OLD velocity.
The episode terminates when |x| > 2.4 or |theta| > 12 degrees (reward 1 on every step, the
terminal one included) and is truncated after 500 steps, as gymnasium.make("CartPole-v1") does.
"""
import math

import numpy as np

from envs.sampling import RowStarts, state_columns, state_rows

GRAVITY = 9.8
MASS_CART = 1.0
MASS_POLE = 0.1
TOTAL_MASS = MASS_POLE + MASS_CART
HALF_LENGTH = 0.5
POLE_MASS_LENGTH = MASS_POLE * HALF_LENGTH
FORCE_MAG = 10.0
TAU = 0.02
THETA_THRESHOLD = 12 * 2 * math.pi / 360
X_THRESHOLD = 2.4
RESET_BOUND = 0.05
PUSHES = np.array([-FORCE_MAG, FORCE_MAG])  # the force of actions 0 and 1


def euler_step(s, force):
    """s + tau ds/dt with ds/dt = [x_dot, x_acc, theta_dot, theta_acc]: one Euler step of the equations above, in
    Gymnasium's order of operations (each position moves with the OLD velocity).

    s holds [x, x_dot, theta, theta_dot] along its first axis: one cart-pole's (4,) state or n cart-poles' (4, n)
    columns, the same code for both, elementwise.
    """
    x, x_dot, theta, theta_dot = s
    costheta = np.cos(theta)
    sintheta = np.sin(theta)
    temp = (force + POLE_MASS_LENGTH * np.square(theta_dot) * sintheta) / TOTAL_MASS
    thetaacc = (GRAVITY * sintheta - costheta * temp) / (
        HALF_LENGTH * (4.0 / 3.0 - MASS_POLE * np.square(costheta) / TOTAL_MASS)
    )
    xacc = temp - POLE_MASS_LENGTH * thetaacc * costheta / TOTAL_MASS
    return s + TAU * np.array([x_dot, xacc, theta_dot, thetaacc])


def fallen(x, theta):
    """|x| > 2.4 or |theta| > 12 degrees (elementwise)."""
    return (np.abs(x) > X_THRESHOLD) | (np.abs(theta) > THETA_THRESHOLD)


def start_state(rng, size=()):
    """Start states uniform in [-0.05, 0.05]^4, shape size + (4,), drawn as Gymnasium draws them."""
    return rng.uniform(low=-RESET_BOUND, high=RESET_BOUND, size=size + (4,))


def continuous_force(action):
    """clip(a, -1, 1) * force_mag, elementwise."""
    return np.clip(action, -1.0, 1.0) * FORCE_MAG


class CartPoleEnv:
    """CartPole-v1 with a discrete push (actions 0 = left, 1 = right) or, with continuous=True, a real
    action a applied as the force clip(a, -1, 1) * force_mag.

    The discrete env has n_actions = 2 (its actions are Python or NumPy integers; bools are refused);
    the continuous one has action_dim = 1 instead (a scalar or a shape (1,) array), and no n_actions.
    """

    max_episode_steps = 500
    max_step_reward = 1.0  # the most one step can earn: 1 on every step
    observation_dim = 4

    def __init__(self, continuous=False):
        self.continuous = bool(continuous)
        if self.continuous:
            self.action_dim = 1
        else:
            self.n_actions = 2
        self._state = None
        self._rng = None
        self._steps = 0
        self._done = True

    @property
    def state(self):
        """[x, x_dot, theta, theta_dot] as float64; settable, like Gymnasium's env.unwrapped.state."""
        return self._state

    @state.setter
    def state(self, value):
        state = np.array(value, dtype=np.float64)
        if state.shape != (4,) or not np.all(np.isfinite(state)):
            raise ValueError(f"state must be 4 finite numbers [x, x_dot, theta, theta_dot], got {value!r}")
        self._state = state

    def reset(self, seed=None):
        """Start state uniform in [-0.05, 0.05]^4 from the env's own generator, seeded as Gymnasium seeds it."""
        if seed is not None or self._rng is None:
            self._rng = np.random.default_rng(seed)
        self._state = start_state(self._rng)
        self._steps = 0
        self._done = False
        return self._state.copy(), {}

    def force(self, action):
        """The horizontal force on the cart that `action` applies, in newtons."""
        if self.continuous:
            value = np.asarray(action)
            if value.shape not in ((), (1,)) or value.dtype.kind not in "iuf" or not np.all(np.isfinite(value)):
                raise ValueError(f"action must be one finite real number (a scalar or shape (1,)), got {action!r}")
            return float(continuous_force(value.item()))
        if isinstance(action, bool) or not isinstance(action, (int, np.integer)) or action not in (0, 1):
            raise ValueError(f"action {action!r} is outside Discrete(2)")
        return FORCE_MAG if action == 1 else -FORCE_MAG

    def step(self, action):
        """Push with `action` for tau seconds: (obs, reward 1.0, terminated, truncated, info)."""
        if self._rng is None:
            raise ValueError("step() called before reset()")
        if self._done:
            raise ValueError("step() called after the episode ended; call reset()")
        self._state = euler_step(self._state, self.force(action))
        self._steps += 1
        terminated = bool(fallen(self._state[0], self._state[2]))
        truncated = self._steps >= self.max_episode_steps
        self._done = terminated or truncated
        return self._state.copy(), 1.0, terminated, truncated, {}


class CartPoleVector:
    """n cart-poles stepped together by the same euler_step: the vectorised twin of CartPoleEnv.

    Row r is a CartPoleEnv of its own, with its own generator: reset(seeds) starts row r as
    CartPoleEnv.reset(seed=seeds[r]) does, and restart(rows) starts those rows' next episodes from their
    generators, as CartPoleEnv.reset() without a seed does (envs.sampling.RowStarts). `states` (n, 4) is read-only;
    assign a whole (n, 4) array to set it. `step` takes n actions and returns next states, rewards, terminated and
    truncated flags, one per row; `steps` counts each row's steps since its start. A row that has ended keeps its
    last state and gets reward 0 until it restarts. tests/test_cartpole.py checks every row against CartPoleEnv
    stepped alone.
    """

    max_episode_steps = CartPoleEnv.max_episode_steps
    max_step_reward = CartPoleEnv.max_step_reward
    observation_dim = CartPoleEnv.observation_dim

    def __init__(self, n, continuous=False):
        self.n = n
        self.continuous = continuous
        if continuous:
            self.action_dim = 1
        else:
            self.n_actions = 2
        self.done = self.steps = None
        self._columns = self._starts = None  # _columns: [x, x_dot, theta, theta_dot] of row r in column r

    @property
    def states(self):
        """[x, x_dot, theta, theta_dot] of every row, shape (n, 4), float64, read-only."""
        return state_rows(self._columns)

    @states.setter
    def states(self, value):
        self._columns = state_columns(value, self.n, ("x", "x_dot", "theta", "theta_dot"))

    def reset(self, seeds):
        """Row r from default_rng(seeds[r]): a start state uniform in [-0.05, 0.05]^4. Returns the states."""
        if len(seeds) != self.n:
            raise ValueError(f"reset needs one seed per row, {self.n}, got {len(seeds)}")
        self._starts = RowStarts(seeds, start_state)
        self._columns = np.ascontiguousarray(self._starts.first.T)
        self.done = np.zeros(self.n, dtype=bool)
        self.steps = np.zeros(self.n, dtype=int)
        return self.observations()

    def restart(self, rows):
        """A new episode in each of `rows` (distinct), its start state drawn from the row's own generator. Returns
        their observations, shape (len(rows), 4)."""
        starts = self._starts.next(rows)
        self._columns[:, rows] = starts.T
        self.done[rows] = False
        self.steps[rows] = 0
        return starts

    def observations(self):
        """Every row's observation, shape (n, 4): a cart-pole's observation is its state."""
        return self._columns.T.copy()

    def forces(self, actions):
        """The force each row's action applies: clip(a, -1, 1) force_mag, or +-force_mag for actions 1 and 0."""
        actions = np.asarray(actions)
        if self.continuous:
            return continuous_force(actions.reshape(self.n).astype(np.float64))
        if actions.dtype.kind in "iu":  # an integer is 0 or 1 exactly when it has no bit but the lowest
            if np.count_nonzero(actions >> 1):
                raise ValueError("actions must all be 0 or 1")
            return PUSHES[actions]
        if not np.all((actions == 0) | (actions == 1)):
            raise ValueError("actions must all be 0 or 1")
        return np.where(actions == 1, FORCE_MAG, -FORCE_MAG)

    def step(self, actions):
        """Each row's push for tau seconds: (states after the step, rewards, terminated, truncated)."""
        forces = self.forces(actions)
        stepped = euler_step(self._columns, forces)
        if np.count_nonzero(self.done):
            return self._step_alive(stepped, ~self.done)
        self._columns = stepped  # every row alive, as a sampler that restarts each ended row keeps them
        self.steps += 1
        terminated = fallen(stepped[0], stepped[2])
        truncated = self.steps >= self.max_episode_steps
        self.done = terminated | truncated
        return self.observations(), np.ones(self.n), terminated, truncated

    def _step_alive(self, stepped, alive):
        """step, where only the `alive` rows move: the others keep their states and get reward 0."""
        self._columns = np.where(alive, stepped, self._columns)
        self.steps += alive
        terminated = alive & fallen(self._columns[0], self._columns[2])
        truncated = alive & (self.steps >= self.max_episode_steps)
        self.done = self.done | terminated | truncated
        return self.observations(), alive.astype(np.float64), terminated, truncated
