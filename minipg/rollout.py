"""Sampling trajectories tau ~ P(tau; theta), Eq. (2), through the env's reset/step alone.

The sampler never reads a dynamics model: it only calls `env.reset` and `env.step`, which is
all Eq. (4) says a policy-gradient method needs.
"""
from dataclasses import dataclass

import numpy as np


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


def _check_count(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


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


def sample_paths(env, policy, theta, m, rng, horizon=None):
    """m independent trajectories tau^(1..m) ~ P(tau; theta); horizon defaults to env.max_episode_steps."""
    m = _check_count(m, "m")
    horizon = _check_count(env.max_episode_steps if horizon is None else horizon, "horizon")
    return [sample_path(env, policy, theta, rng, horizon) for _ in range(m)]
