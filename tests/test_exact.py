"""The oracle itself is checked: its gradient against finite differences of its own U, and its U
against Sutton & Barto's short corridor."""
import numpy as np
import pytest

import envs
from minipg import exact
from minipg.policies import SoftmaxPolicy
from tests.helpers import central_difference, relative_error


def tabular_policy(env):
    return SoftmaxPolicy(env.observation_dim, env.n_actions)


@pytest.mark.parametrize("name, horizon", [("gridworld", 20), ("corridor", 30)])
@pytest.mark.parametrize("gamma", [1.0, 0.9])
def test_exact_gradient_matches_finite_differences(name, horizon, gamma):
    env = envs.make(name)
    policy = tabular_policy(env)
    theta = np.random.default_rng(0).standard_normal(policy.n_params)
    analytic = exact.gradient(env, policy, theta, horizon, gamma)
    numeric = central_difference(lambda th: exact.expected_return(env, policy, th, horizon, gamma), theta)
    assert relative_error(analytic, numeric) < 1e-7
    assert np.linalg.norm(analytic) > 1e-3  # a non-trivial point: the check is not 0 == 0


def corridor_theta(prob_right):
    """theta of the corridor's softmax policy (obs = [1]) whose probability of 'right' is prob_right."""
    return np.array([0.0, 0.0, 0.0, np.log(prob_right / (1.0 - prob_right))])


def test_corridor_reproduces_sutton_barto_example_13_1():
    """Best P(right) is 2 - sqrt(2) ~ 0.59 with value ~ -11.6 (S&B 2nd ed., Example 13.1).

    A horizon of 1000 steps truncates a tail of probability far below 1e-10 at these policies.
    """
    env = envs.make("corridor")
    policy = tabular_policy(env)

    def best(probabilities):
        values = [exact.expected_return(env, policy, corridor_theta(p), 1000) for p in probabilities]
        return probabilities[int(np.argmax(values))], max(values)

    coarse, _ = best(np.linspace(0.45, 0.75, 31))  # every 0.01, then every 0.001 around the best: U is unimodal in p
    probability, value = best(np.linspace(coarse - 0.01, coarse + 0.01, 21))
    assert probability == pytest.approx(2.0 - np.sqrt(2.0), abs=1e-3)
    assert value == pytest.approx(-11.6, abs=0.06)


def test_optimal_return_bounds_every_policy():
    env = envs.make("gridworld")
    policy = tabular_policy(env)
    best = exact.optimal_return(env, horizon=20)
    rng = np.random.default_rng(1)
    for _ in range(20):
        assert exact.expected_return(env, policy, 3.0 * rng.standard_normal(policy.n_params), 20) <= best + 1e-12


def test_oracle_rejects_env_without_model():
    env = envs.make("cartpole")
    with pytest.raises(ValueError, match="tabular env"):
        exact.expected_return(env, SoftmaxPolicy(4, 2), np.zeros(10), horizon=10)
