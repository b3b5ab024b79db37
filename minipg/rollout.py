"""Sampling trajectories tau ~ P(tau; theta), Eq. (2), through the env's reset/step alone.

The sampler never reads a dynamics model: it only calls `env.reset` and `env.step`, which is
all Eq. (4) says a policy-gradient method needs.
"""
from dataclasses import dataclass

import numpy as np

from minipg.policies import count


@dataclass
class Path:
    """One trajectory tau = (s_0, u_0, r_0, ..., s_{T-1}, u_{T-1}, r_{T-1}) and how it ended.

    observations (T, d), actions (T,) or (T, k), rewards (T,), log_probs (T,) = log pi_theta(u_t|s_t)
    under the theta that sampled it; final_observation is s_T, the state after the last step,
    needed to bootstrap V(s_T) when the path was cut short (truncated) rather than terminated.
    """

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    log_probs: np.ndarray
    terminated: bool
    final_observation: np.ndarray

    def __len__(self):
        return len(self.rewards)

    @property
    def truncated(self):
        """Stopped by a time limit (the env's or the sampler's horizon) with the episode still alive."""
        return not self.terminated


def sample_path(env, policy, theta, rng, horizon):
    """Run pi_theta in env from a fresh reset for at most `horizon` decisions t = 0..H-1."""
    observation, _ = env.reset(seed=int(rng.integers(2**32)))
    observations, actions, rewards = [], [], []
    terminated = truncated = False
    while not (terminated or truncated) and len(rewards) < horizon:
        action = policy.act(theta, observation, rng)
        observations.append(observation)
        actions.append(action)
        observation, reward, terminated, truncated, _ = env.step(action)
        rewards.append(reward)
    observations, actions = np.array(observations, dtype=np.float64), np.array(actions)
    return Path(
        observations=observations,
        actions=actions,
        rewards=np.array(rewards, dtype=np.float64),
        log_probs=policy.path_log_probs(theta, observations, actions),
        terminated=bool(terminated),
        final_observation=np.asarray(observation, dtype=np.float64),
    )


def sample_paths(env, policy, theta, m, rng, horizon=None, min_steps=0):
    """m independent trajectories tau^(1..m) ~ P(tau; theta), and more until they hold >= min_steps steps.

    horizon defaults to env.max_episode_steps. With min_steps the number of paths depends on their
    lengths, so a 1/m mean over them is a ratio estimate, biased by O(1/m); min_steps = 0 (fixed m)
    is what the unbiasedness tests use. A batch of steps rather than episodes keeps the cost of an
    iteration near min_steps whether the episodes last 20 steps or 500.
    """
    m = count(m, "m")
    horizon = count(env.max_episode_steps if horizon is None else horizon, "horizon")
    min_steps = count(min_steps, "min_steps", 0)
    paths, n_steps = [], 0
    while len(paths) < m or n_steps < min_steps:
        paths.append(sample_path(env, policy, theta, rng, horizon))
        n_steps += len(paths[-1])
    return paths
