"""Sampling batches: m whole episodes, or enough whole episodes to hold a number of env steps."""
import numpy as np
import pytest

import envs
from minipg.policies import SoftmaxPolicy
from minipg.rollout import sample_paths


@pytest.mark.parametrize("m, min_steps", [(1, 0), (5, 0), (1, 300), (3, 300), (40, 300)])
def test_batch_holds_m_paths_and_at_least_min_steps_and_stops_there(m, min_steps):
    env, policy = envs.make("cartpole"), SoftmaxPolicy(4, 2)
    paths = sample_paths(env, policy, np.zeros(10), m, np.random.default_rng(0), min_steps=min_steps)
    lengths = [len(path) for path in paths]
    assert len(paths) >= m and sum(lengths) >= min_steps
    if len(paths) > m:  # the last path was drawn only because the steps were still short of min_steps
        assert sum(lengths[:-1]) < min_steps


def test_same_seed_same_batch():
    env, policy = envs.make("cartpole"), SoftmaxPolicy(4, 2)
    first, second = (sample_paths(env, policy, np.zeros(10), 1, np.random.default_rng(3), min_steps=200)
                     for _ in range(2))
    assert len(first) == len(second)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.observations, b.observations)
        np.testing.assert_array_equal(a.actions, b.actions)


@pytest.mark.parametrize("kwargs, message", [({"m": 0}, "m must"), ({"min_steps": -1}, "min_steps must"),
                                             ({"min_steps": 2.5}, "min_steps must"), ({"horizon": 0}, "horizon must")])
def test_bad_counts_name_the_argument(kwargs, message):
    env, policy = envs.make("cartpole"), SoftmaxPolicy(4, 2)
    arguments = {"m": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        sample_paths(env, policy, np.zeros(10), rng=np.random.default_rng(0), **arguments)


def test_paths_take_at_most_horizon_decisions():
    """H counts decisions: with H = 7 below the env's own 500-step limit, no path is longer than 7."""
    env, policy = envs.make("cartpole"), SoftmaxPolicy(4, 2)
    theta = np.array([0.0, 0.0, -1.0, -1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0])  # balances for far more than 7 steps
    paths = sample_paths(env, policy, theta, 20, np.random.default_rng(5), horizon=7)
    assert env.max_episode_steps > 7
    assert max(len(path) for path in paths) == 7 and all(path.truncated for path in paths if len(path) == 7)
