"""n copies of a single env behind the vector protocol, stepped one after another: the vector of an env that has no
vectorised twin (a Gymnasium env), for the evaluation's episodes and PPO's lock-step batches."""
import numpy as np


class SerialVector:
    """n envs from make_env(), row r the r-th, with the protocol of CartPoleVector.

    reset(seeds) resets row r with seeds[r]; restart(rows) resets those rows without a seed, so each goes on with its
    own stream, as the single env's unseeded reset does; step(actions) steps each running row with its action and
    returns next observations, rewards, terminated and truncated flags, one per row; `steps` counts each row's steps
    since its start. A row that has ended keeps its last observation and gets reward 0 until it restarts.
    """

    def __init__(self, make_env, n):
        self.envs = [make_env() for _ in range(n)]
        first = self.envs[0]
        self.n, self.observation_dim = n, first.observation_dim
        self.max_episode_steps, self.max_step_reward = first.max_episode_steps, first.max_step_reward
        if hasattr(first, "n_actions"):
            self.n_actions = first.n_actions
        else:
            self.action_dim = first.action_dim
        self._observations = self.done = self.steps = None

    def reset(self, seeds):
        """Row r from env r's reset(seed=seeds[r]). Returns the observations, shape (n, observation_dim)."""
        if len(seeds) != self.n:
            raise ValueError(f"reset needs one seed per row, {self.n}, got {len(seeds)}")
        self._observations = np.array([env.reset(seed=seed)[0] for env, seed in zip(self.envs, seeds)],
                                      dtype=np.float64).reshape(self.n, self.observation_dim)
        self.done = np.zeros(self.n, dtype=bool)
        self.steps = np.zeros(self.n, dtype=int)
        return self._observations.copy()

    def restart(self, rows):
        """A new episode in each of `rows` (distinct), from its env's unseeded reset. Returns their observations, shape
        (len(rows), observation_dim)."""
        for r in rows:
            self._observations[r] = self.envs[r].reset()[0]
        self.done[rows] = False
        self.steps[rows] = 0
        return self._observations[rows]

    def observations(self):
        """Every row's observation, shape (n, observation_dim)."""
        return self._observations.copy()

    def step(self, actions):
        rewards, terminated, truncated = np.zeros(self.n), np.zeros(self.n, dtype=bool), np.zeros(self.n, dtype=bool)
        alive = ~self.done
        for r in np.flatnonzero(alive):
            self._observations[r], rewards[r], terminated[r], truncated[r], _ = self.envs[r].step(actions[r])
        self.steps += alive
        self.done = self.done | terminated | truncated
        return self._observations.copy(), rewards, terminated, truncated
