"""Tabular environments that expose their model, for the exact oracle: a gridworld and S&B's short corridor.

Both are a `TabularEnv`: a transition table P[s, u, s'] = P(s'|s,u), a reward table r[s, u, s'],
a start distribution mu, terminal flags and one observation per state. The simulator samples s' from
the very P it exposes, with the env's own rng, so the model and the sampled episodes cannot disagree.
Terminal states absorb with reward 0: P[s, u, s] = 1, r[s, u, :] = 0. The expected reward the oracle
uses is R[s, u] = sum_s' P[s, u, s'] r[s, u, s'].
"""
import numpy as np

from envs.sampling import inverse_cdf

MOVES = {0: (-1, 0), 1: (0, 1), 2: (1, 0), 3: (0, -1)}  # up, right, down, left: (row, column) steps

# S start, G goal, P pit, # wall. The short route runs along the middle row past the pit, where a
# slip from (2, 2) drops in; the long route goes round by the top or bottom row, four steps more.
DEFAULT_LAYOUT = """
.....
.#.#.
S...G
.#P#.
.....
"""


def _is_int(value):
    """True for Python and NumPy integers, False for bools, floats and arrays."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_action(action, n_actions):
    if not _is_int(action) or not 0 <= action < n_actions:
        raise ValueError(f"action {action!r} is outside Discrete({n_actions})")
    return int(action)


class TabularEnv:
    """A finite MDP given by its tables, simulated with the Gymnasium-style reset/step API.

    P (S, A, S') transition probabilities, rewards (S, A, S') the reward r(s, u, s') of each transition,
    start (S,) the start distribution mu, terminal (S,) bool, state_observations (S, d) the observation
    emitted in each state. An episode is truncated after max_episode_steps steps without termination.
    """

    def __init__(self, P, rewards, start, terminal, state_observations, max_episode_steps):
        if not _is_int(max_episode_steps) or max_episode_steps < 1:
            raise ValueError(f"max_episode_steps must be a positive integer, got {max_episode_steps!r}")
        self.P = P
        self.rewards = rewards
        self.R = np.sum(P * rewards, axis=2)
        self.start = start
        self.terminal = terminal
        self.state_observations = state_observations
        self.n_states, self.n_actions = P.shape[:2]
        self.observation_dim = state_observations.shape[1]
        self.max_episode_steps = max_episode_steps
        self.state = None
        self._rng = None
        self._steps = 0
        self._done = True

    def _draw(self, probabilities):
        """An index i ~ probabilities, from one uniform number of the env's own rng."""
        return int(inverse_cdf(probabilities, self._rng.random()))

    def reset(self, seed=None):
        """s_0 ~ mu. A seed restarts the env's rng; without one the stream continues (first time: from entropy)."""
        if seed is not None or self._rng is None:
            self._rng = np.random.default_rng(seed)
        self.state = self._draw(self.start)
        self._steps = 0
        self._done = False
        return self.state_observations[self.state].copy(), {}

    def step(self, action):
        """s' ~ P[s, u, :], reward r(s, u, s'); terminated if s' is terminal, truncated at max_episode_steps."""
        if self._rng is None:
            raise ValueError("step() called before reset()")
        if self._done:
            raise ValueError("step() called after the episode ended; call reset()")
        action = _check_action(action, self.n_actions)
        next_state = self._draw(self.P[self.state, action])
        reward = float(self.rewards[self.state, action, next_state])
        self.state = next_state
        self._steps += 1
        terminated = bool(self.terminal[next_state])
        truncated = not terminated and self._steps >= self.max_episode_steps
        self._done = terminated or truncated
        return self.state_observations[next_state].copy(), reward, terminated, truncated, {}


def parse_layout(layout):
    """Rows of the layout string -> list of equal-length strings, or ValueError naming the problem."""
    rows = [row.strip() for row in layout.strip().splitlines()]
    if not rows:
        raise ValueError("layout is empty")
    if any(len(row) != len(rows[0]) for row in rows):
        raise ValueError(f"layout rows must all have the same length, got lengths {[len(row) for row in rows]}")
    unknown = set("".join(rows)) - set("SGP#.")
    if unknown:
        raise ValueError(f"layout has unknown characters {sorted(unknown)}; allowed: S G P # .")
    text = "".join(rows)
    if text.count("S") != 1:
        raise ValueError(f"layout must have exactly one start S, found {text.count('S')}")
    if "G" not in text:
        raise ValueError("layout must have at least one goal G (a terminal cell)")
    return rows


class GridWorld(TabularEnv):
    """A grid of free cells (.), walls (#), one start (S), goals (G) and pits (P); G and P are terminal.

    Actions 0..3 move up, right, down, left. With probability 1 - slip the intended move happens;
    with probability slip/2 each, one of the two perpendicular moves happens instead. A move into a
    wall or off the grid leaves the agent where it is. Reward of a step from a non-terminal s:

        r(s, u, s') = step_reward + goal_reward [s' is G] + pit_reward [s' is P]

    so bumping into a wall costs step_reward, and entering the goal pays goal_reward + step_reward.
    States are the non-wall cells numbered row by row (`cells[s]` is the (row, column) of state s);
    the observation is the one-hot vector of the state. With the defaults the risky short route is
    optimal: expected return 0.60 with slip 0, 0.44 with slip 0.1 (found by value iteration).
    """

    def __init__(self, layout=DEFAULT_LAYOUT, slip=0.1, step_reward=-0.1, goal_reward=1.0, pit_reward=-1.0,
                 max_episode_steps=50):
        if not 0.0 <= slip <= 1.0:
            raise ValueError(f"slip must be in [0, 1], got {slip}")
        self.rows = parse_layout(layout)
        self.cells = [(r, c) for r, row in enumerate(self.rows) for c, char in enumerate(row) if char != "#"]
        index = {cell: s for s, cell in enumerate(self.cells)}
        kinds = [self.rows[r][c] for r, c in self.cells]
        n = len(self.cells)
        P = np.zeros((n, 4, n))
        rewards = np.zeros((n, 4, n))
        terminal = np.array([kind in "GP" for kind in kinds])
        arrival = np.array([step_reward + goal_reward * (k == "G") + pit_reward * (k == "P") for k in kinds])
        for s, cell in enumerate(self.cells):
            for action in range(4):
                if terminal[s]:
                    P[s, action, s] = 1.0
                    continue
                for move, probability in self._outcomes(action, slip):
                    P[s, action, index[self._moved(cell, move)]] += probability
                rewards[s, action] = arrival
        start = np.array([kind == "S" for kind in kinds], dtype=np.float64)
        super().__init__(P, rewards, start, terminal, np.eye(n), max_episode_steps)

    @staticmethod
    def _outcomes(action, slip):
        """(move, probability): the intended move and the two perpendicular slips."""
        return [(action, 1.0 - slip), ((action + 1) % 4, slip / 2), ((action + 3) % 4, slip / 2)]

    def _moved(self, cell, move):
        """The cell reached by `move` from `cell`; walls and edges block."""
        r, c = cell[0] + MOVES[move][0], cell[1] + MOVES[move][1]
        inside = 0 <= r < len(self.rows) and 0 <= c < len(self.rows[0])
        return (r, c) if inside and self.rows[r][c] != "#" else cell

    def render(self):
        """The layout with the agent drawn as A."""
        grid = [list(row) for row in self.rows]
        if self.state is not None:
            r, c = self.cells[self.state]
            grid[r][c] = "A"
        return "\n".join("".join(row) for row in grid)


class ShortCorridor(TabularEnv):
    """Sutton & Barto (2nd ed.) Example 13.1: states 0, 1, 2 and the goal 3; reward -1 per step.

    Actions 0 = left, 1 = right move as named in states 0 and 2 (left from 0 stays in 0) and are
    reversed in state 1. Every state emits the same observation [1.0], so a linear softmax policy
    (weight times 1 plus bias) can only pick one probability of 'right' for all states: the best
    such policy is stochastic, P(right) = 2 - sqrt(2) ~ 0.59.
    """

    def __init__(self, max_episode_steps=100):
        moves = {0: (0, 1), 1: (2, 0), 2: (1, 3)}  # state: (next state after left, after right)
        P = np.zeros((4, 2, 4))
        for s, (after_left, after_right) in moves.items():
            P[s, 0, after_left] = 1.0
            P[s, 1, after_right] = 1.0
        P[3, :, 3] = 1.0
        rewards = np.zeros((4, 2, 4))
        rewards[:3] = -1.0
        start = np.array([1.0, 0.0, 0.0, 0.0])
        terminal = np.array([False, False, False, True])
        super().__init__(P, rewards, start, terminal, np.ones((4, 1)), max_episode_steps)


class TwoRooms(TabularEnv):
    """A three-state MDP small enough to enumerate every trajectory: room A, room B and the exit.

    In A, action 0 (wait) earns wait_reward and stays; action 1 (go) walks to B, but the floor is
    slippery: with probability slip the agent stays in A. In B, action 0 (back) returns to A; action 1
    (exit) leaves through the exit for exit_reward, or with probability slip slides back to A with
    nothing. The exit is terminal. An episode starts in A with probability start_in_a, else in B.
    Whether going to B pays depends on what the policy does there: it takes two steps to earn the
    exit_reward that waiting would have replaced with 2 wait_reward, and none if B sends the agent back.
    The observation is the one-hot vector of the state.
    """

    def __init__(self, slip=0.2, wait_reward=0.2, exit_reward=1.0, start_in_a=0.75, max_episode_steps=4):
        if not 0.0 <= slip <= 1.0:
            raise ValueError(f"slip must be in [0, 1], got {slip}")
        if not 0.0 <= start_in_a <= 1.0:
            raise ValueError(f"start_in_a must be in [0, 1], got {start_in_a}")
        a, b, out = range(3)
        P = np.zeros((3, 2, 3))
        rewards = np.zeros((3, 2, 3))
        P[a, 0, a] = 1.0
        rewards[a, 0, a] = wait_reward
        P[a, 1, b], P[a, 1, a] = 1.0 - slip, slip
        P[b, 0, a] = 1.0
        P[b, 1, out], P[b, 1, a] = 1.0 - slip, slip
        rewards[b, 1, out] = exit_reward
        P[out, :, out] = 1.0
        start = np.array([start_in_a, 1.0 - start_in_a, 0.0])
        terminal = np.array([False, False, True])
        super().__init__(P, rewards, start, terminal, np.eye(3), max_episode_steps)
