"""The oracle itself is checked: its gradient against finite differences of its own U, and its U
against Sutton & Barto's short corridor."""
import numpy as np
import pytest

import envs
from envs.gridworld import GridWorld, TabularEnv
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


def test_discounted_return_is_the_geometric_sum_worked_by_hand():
    """GridWorld "SG" without slip, uniform policy (theta = 0): from S, right enters G with p = 1/4 (reward 0.9), the
    other three bump an edge and stay (-0.1). Still in S at step t with probability (3/4)^t, each step earning
    0.9 / 4 - 0.1 * 3 / 4 = 0.15 in expectation: U = 0.15 sum_{t<H} (3 gamma / 4)^t."""
    env = GridWorld("SG", slip=0.0)
    policy = tabular_policy(env)
    for horizon, gamma in [(1, 1.0), (3, 1.0), (3, 0.9), (40, 0.5)]:
        expected = 0.15 * sum((0.75 * gamma) ** t for t in range(horizon))
        assert exact.expected_return(env, policy, np.zeros(policy.n_params), horizon, gamma) == pytest.approx(
            expected, abs=1e-14)


def test_optimal_return_is_the_short_route_without_slip():
    """Slip 0 on the default grid: the best is the middle row's four steps, three of -0.1 then 0.9 into G, so
    U* = 0.6 for every H >= 4 (0.60 in the docstring), -0.1 (1 + g + g^2) + 0.9 g^3 discounted; at H = 3 the goal is
    out of reach and every step costs -0.1."""
    env = GridWorld(slip=0.0)
    assert exact.optimal_return(env, horizon=4) == pytest.approx(0.6, abs=1e-12)
    assert exact.optimal_return(env, horizon=20) == pytest.approx(0.6, abs=1e-12)
    assert exact.optimal_return(env, horizon=4, gamma=0.9) == pytest.approx(-0.1 * 2.71 + 0.9 * 0.729, abs=1e-12)
    assert exact.optimal_return(env, horizon=3) == pytest.approx(-0.3, abs=1e-12)


def test_oracle_collects_nothing_after_a_terminal_state():
    """A model whose terminal state's own row would pay (back to the start for reward 5): a sampled episode stops on
    entering it, and so does the oracle (V_t = Q_t = 0 in terminal states), which counts only the entering reward 1."""
    P, rewards = np.zeros((2, 2, 2)), np.zeros((2, 2, 2))
    P[0, :, 1], rewards[0, :, 1] = 1.0, 1.0  # start -> terminal, reward 1
    P[1, :, 0], rewards[1, :, 0] = 1.0, 5.0  # terminal -> start, reward 5: never taken
    env = TabularEnv(P, rewards, np.array([1.0, 0.0]), np.array([False, True]), np.eye(2), 5)
    policy = tabular_policy(env)
    theta = np.random.default_rng(2).standard_normal(policy.n_params)
    assert exact.expected_return(env, policy, theta, horizon=5) == 1.0
    assert exact.optimal_return(env, horizon=5) == 1.0
    np.testing.assert_allclose(exact.gradient(env, policy, theta, horizon=5), 0.0, rtol=0, atol=1e-15)
