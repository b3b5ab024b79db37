"""Sampling trajectories tau ~ P(tau; theta), Eq. (2), through the env's reset/step alone.

The sampler never reads a dynamics model: it only resets and steps the env (a vector's `restart` is a reset
of some of its rows), which is all Eq. (4) says a policy-gradient method needs. Two ways to fill a batch: m
whole episodes, one after another (`sample_paths`), or n envs for T steps each, as PPO users know it
(`LockStep`, beside its loop twin `OneByOne`), where an episode still running when the batch ends is cut there
and goes on in the next.
"""
from dataclasses import dataclass

import numpy as np

from minipg.policies import count


@dataclass(slots=True)
class Path:
    """One trajectory tau = (s_0, u_0, r_0, ..., s_{T-1}, u_{T-1}, r_{T-1}) and how it ended.

    observations (T, d), actions (T,) or (T, k), rewards (T,), log_probs (T,) = log pi_theta(u_t|s_t) under
    the theta that sampled it (what every importance ratio divides by); final_observation is s_T, the state
    after the last step, needed to bootstrap V(s_T) when the path was cut short (truncated) rather than
    terminated; first_step is the step of its episode at which the path begins (0 unless a batch of
    steps cut the episode before it); cut: the batch of steps ended before the episode did, which goes on in the
    next batch (a time limit, the env's or the sampler's horizon, is not a cut).
    """

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    log_probs: np.ndarray
    terminated: bool
    final_observation: np.ndarray
    first_step: int = 0
    cut: bool = False

    def __len__(self):
        return len(self.rewards)

    @property
    def truncated(self):
        """Stopped by a time limit (the env's, the sampler's horizon) or cut by the batch, with the episode alive."""
        return not self.terminated


def recorded_path(policy, theta, observations, actions, rewards, terminated, final_observation, first_step=0,
                  cut=False):
    """The Path of the decisions taken, with log pi_theta(u_t|s_t) of each: computed once, they check it too."""
    observations, actions = np.array(observations, dtype=np.float64), np.array(actions)
    return Path(observations, actions, np.array(rewards, dtype=np.float64),
                policy.path_log_probs(theta, observations, actions), bool(terminated),
                np.array(final_observation, dtype=np.float64), first_step, cut)


def sample_path(env, policy, theta, rng, horizon, reset_seed=None):
    """Run pi_theta in env from a reset (seeded by reset_seed, if given) for at most `horizon` decisions."""
    observation, _ = env.reset(seed=reset_seed)
    observations, actions, rewards = [], [], []
    terminated = truncated = False
    while not (terminated or truncated) and len(rewards) < horizon:
        action = policy.act(theta, observation, rng)
        observations.append(observation)
        actions.append(action)
        observation, reward, terminated, truncated, _ = env.step(action)
        rewards.append(reward)
    return recorded_path(policy, theta, observations, actions, rewards, terminated, observation)


def sample_paths(env, policy, theta, m, rng, horizon=None, min_steps=0):
    """m independent trajectories tau^(1..m) ~ P(tau; theta), and more until they hold >= min_steps steps.

    Each path resets the env with a seed drawn from rng, so the batch is a function of rng alone. horizon
    defaults to env.max_episode_steps. With min_steps the number of paths depends on their lengths, so a
    1/m mean over them is a ratio estimate, biased by O(1/m); min_steps = 0 (fixed m) is what the
    unbiasedness tests use.
    """
    m = count(m, "m")
    horizon = count(env.max_episode_steps if horizon is None else horizon, "horizon")
    min_steps = count(min_steps, "min_steps", 0)
    paths, n_steps = [], 0
    while len(paths) < m or n_steps < min_steps:
        paths.append(sample_path(env, policy, theta, rng, horizon, int(rng.integers(2**32))))
        n_steps += len(paths[-1])
    return paths


@dataclass
class Steps:
    """Decisions taken out of their paths, in any order: all the one sum and PPO's ratio need of each."""

    observations: np.ndarray
    actions: np.ndarray
    log_probs: np.ndarray

    def __len__(self):
        return len(self.log_probs)

    @classmethod
    def of(cls, paths):
        return cls(np.concatenate([path.observations for path in paths]),
                   np.concatenate([path.actions for path in paths]), np.concatenate([path.log_probs for path in paths]))

    def take(self, rows):
        return Steps(self.observations[rows], self.actions[rows], self.log_probs[rows])


DRAW_BLOCK = 1024  # numbers of each kind a RowStreams row draws from its Generator at a time


class RowStreams:
    """One random stream per row, default_rng(seeds[r]), read a block at a time.

    A Generator gives the same numbers drawn one by one or in blocks, so row r sees exactly what
    default_rng(seeds[r]) gives a loop twin one call at a time. `random` and `standard_normal` read every
    row, as a policy's act_batch asks a Generator; `random_at` reads the given rows only. Each kind of number
    is read k at a time, the same k on every call (1 uniform, or one normal per action dimension).
    """

    def __init__(self, seeds, block=DRAW_BLOCK):
        self.generators = [np.random.default_rng(seed) for seed in seeds]
        self.block = block
        self.kinds = {}

    def _kind(self, kind, k):
        """The RowBlocks of `kind`, made at its first read, k numbers a read."""
        if kind not in self.kinds:
            self.kinds[kind] = RowBlocks([getattr(generator, kind) for generator in self.generators], self.block, k)
        return self.kinds[kind]

    def random_at(self, rows):
        return self._kind("random", 1).at(np.asarray(rows))[:, 0]

    def random(self, size):
        return self._kind("random", 1).leading(size)[:, 0]

    def standard_normal(self, shape):
        return self._kind("standard_normal", shape[1]).leading(shape[0])


class RowBlocks:
    """One kind of random number for every row, k at a time: row r's next block of them, draws[r](block k), waits in
    numbers[:, r] and its next k are numbers[place[r], r]. While every read takes every row (act_batch's), all rows
    stand at one place, `together`, and a read is one slice."""

    def __init__(self, draws, block, k):
        self.draws = draws
        self.numbers = np.zeros((block, len(draws), k))
        self.together = block  # the place of every row, while they stand together (the first read draws); else None
        self.place = None

    def _draw(self, row):
        block, _, k = self.numbers.shape
        self.numbers[:, row] = self.draws[row](block * k).reshape(block, k)

    def at(self, rows):
        """The next k numbers of each of `rows`, shape (len(rows), k)."""
        if self.together is not None:
            self.place, self.together = np.full(len(self.draws), self.together), None
        for row in rows[self.place[rows] == len(self.numbers)]:
            self._draw(row)
            self.place[row] = 0
        values = self.numbers[self.place[rows], rows]
        self.place[rows] += 1
        return values

    def leading(self, size):
        """The next k numbers of rows 0..size-1, shape (size, k): of every row, one slice, while they stand together."""
        if self.together is None or size != len(self.draws):
            return self.at(np.arange(size))
        if self.together == len(self.numbers):
            for row in range(size):
                self._draw(row)
            self.together = 0
        values = self.numbers[self.together].copy()
        self.together += 1
        return values


class OneByOne:
    """n envs, each stepped alone for T steps a batch, resetting itself when its episode ends: the loop twin.

    Env k acts with default_rng([seed, k, 0]) and starts from reset(seed=[seed, k, 1]), then from unseeded
    resets. An episode still running when the batch ends is cut there (Path.cut: a critic bootstraps it, on every
    env) and goes on in the next batch.
    """

    def __init__(self, make_env, n, seed):
        self.envs = [make_env() for _ in range(count(n, "envs"))]
        self.rngs = [np.random.default_rng([seed, k, 0]) for k in range(n)]
        self.observations = [env.reset(seed=[seed, k, 1])[0] for k, env in enumerate(self.envs)]
        self.episode_steps = [0] * n

    def sample(self, policy, theta, steps):
        """The paths of T = steps decisions of every env, env 0's first."""
        paths = []
        for k, (env, rng) in enumerate(zip(self.envs, self.rngs)):
            observations, actions, rewards, first_step = [], [], [], self.episode_steps[k]
            for _ in range(steps):
                action = policy.act(theta, self.observations[k], rng)
                observations.append(self.observations[k])
                actions.append(action)
                observation, reward, terminated, truncated, _ = env.step(action)
                rewards.append(reward)
                self.episode_steps[k] += 1
                if terminated or truncated:
                    paths.append(recorded_path(policy, theta, observations, actions, rewards, terminated, observation,
                                               first_step))
                    observations, actions, rewards, first_step, self.episode_steps[k] = [], [], [], 0, 0
                    observation, _ = env.reset()
                self.observations[k] = observation
            if rewards:
                paths.append(recorded_path(policy, theta, observations, actions, rewards, False, self.observations[k],
                                           first_step, cut=True))
        return paths


class LockStep:
    """n envs stepped together for T steps a batch: one policy call and one vectorised env step for all n.

    `vector` steps n rows at once and restarts the rows whose episodes ended, returning their new observations
    (envs.make_vector: cart-pole, acrobot, pendulum, a Gymnasium env's SerialVector). With a linear softmax of
    fewer than PAIRWISE_TERMS actions the log-probabilities come with the actions (act_batch_log_probs); else
    path_log_probs gives them for the batch.
    The vectorised twin of OneByOne, with the same streams per env, so the same paths bit for bit.
    """

    def __init__(self, vector, seed):
        self.vector = vector
        self.streams = RowStreams([[seed, k, 0] for k in range(vector.n)])
        self.observations = vector.reset([[seed, k, 1] for k in range(vector.n)])

    def sample(self, policy, theta, steps):
        """The paths of T = steps decisions of every env, env 0's first: the batch is recorded env by env (row k of
        each array is env k's T steps) and each path is a slice of it."""
        first_steps, (n, d) = self.vector.steps.copy(), self.observations.shape
        observations, rewards, log_probs = np.empty((n, steps, d)), np.empty((n, steps)), np.empty((n, steps))
        terminated, ended = np.zeros((2, steps, n), dtype=bool)
        actions, finals, logged = None, [], True
        for t in range(steps):
            observations[:, t] = self.observations
            action, log_pi = policy.act_batch_log_probs(theta, self.observations, self.streams)
            if actions is None:
                actions = np.empty((n, steps) + action.shape[1:], dtype=action.dtype)
            actions[:, t] = action
            if log_pi is None:
                logged = False
            else:
                log_probs[:, t] = log_pi
            self.observations, rewards[:, t], terminated[t], truncated = self.vector.step(action)
            np.logical_or(terminated[t], truncated, out=ended[t])
            rows = ended[t].nonzero()[0]
            if len(rows):
                finals.append(self.observations[rows])  # s_{t+1} of each episode that ended, before its row restarts
                self.observations[rows] = self.vector.restart(rows)
        observations, actions = observations.reshape(n * steps, d), actions.reshape((n * steps,) + actions.shape[2:])
        if not logged:  # the batch's, checked once
            log_probs = policy.path_log_probs(theta, observations, actions)
        finals = np.concatenate(finals) if finals else np.zeros((0, d))
        return self._paths((observations, actions, rewards.reshape(-1), log_probs.reshape(-1)), terminated, ended,
                           finals, first_steps)

    def _paths(self, batch, terminated, ended, finals, first_steps):
        """Each env's paths, cut where its episodes ended and where the batch ends, as slices of the batch's arrays
        (env by env, T rows each); finals holds s_{t+1} of each end, in the order of ended.nonzero()."""
        steps, n = ended.shape
        stops = ended.T.copy()
        stops[:, -1] = True  # every env's last path stops with the batch: ended there, or cut
        last = np.flatnonzero(stops)  # k T + t of each path's last step t in env k: env by env, in time
        first = np.concatenate([[0], last[:-1] + 1])  # an env's paths tile its T rows, and env k + 1's follow
        env = last // steps
        cut = ~ended.T.ravel()[last]
        final_observations = np.empty((len(last), finals.shape[1]))
        final_observations[~cut] = finals[np.argsort(np.flatnonzero(ended) % n, kind="stable")]  # to env by env
        final_observations[cut] = self.observations[env[cut]]
        first_step = np.where(first % steps == 0, first_steps[env], 0)
        s, u, r, log_pi = batch
        return [Path(s[a:b], u[a:b], r[a:b], log_pi[a:b], done, final, step, is_cut)
                for a, b, done, final, step, is_cut in zip(
                    first.tolist(), (last + 1).tolist(), terminated.T.ravel()[last].tolist(), final_observations,
                    first_step.tolist(), cut.tolist())]
