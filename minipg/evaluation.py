"""How a run is judged: cart-pole is solved when 100 episodes of the stochastic policy average >= 475;
a tabular env's policy is judged exactly, by the oracle's U(theta).

One definition of "solved" for the train command and the bench alike.
"""
import dataclasses

import numpy as np

from envs.cartpole import CartPoleVector
from minipg import exact

SOLVED_RETURN = {"cartpole": 475.0, "cartpole-continuous": 475.0}
EVAL_EPISODES = 100


@dataclasses.dataclass
class Evaluation:
    solved: bool
    mean_return: float  # nan when the episodes were stopped once the threshold was out of reach
    env_steps: int


def evaluate_solved(env_name, policy, theta, rng, episodes=EVAL_EPISODES, stop_early=True):
    """Run `episodes` episodes of pi_theta stepped together; solved if their mean return reaches the threshold.

    With stop_early the episodes stop as soon as the mean can no longer reach it, the decision
    unchanged: an episode still running collects at most one reward per step up to the time limit.
    """
    vector = CartPoleVector(episodes, continuous=env_name == "cartpole-continuous")
    observations = vector.reset(rng.integers(2**32, size=episodes))
    returns, steps, target = np.zeros(episodes), 0, SOLVED_RETURN[env_name] * episodes
    while not vector.done.all():
        running = ~vector.done
        observations, rewards, _, _ = vector.step(policy.act_batch(theta, observations, rng))
        returns += rewards
        steps += np.count_nonzero(running)
        best = returns.sum() + np.sum((vector.max_episode_steps - vector.steps)[~vector.done])
        if stop_early and best < target:
            return Evaluation(False, float("nan"), steps)
    return Evaluation(bool(returns.sum() >= target), float(returns.mean()), steps)


def exact_return(env, policy, theta, gamma):
    """U(theta) over the env's own horizon, by dynamic programming (tabular envs only)."""
    return exact.expected_return(env, policy, theta, env.max_episode_steps, gamma)
