"""The value functions of actor-critic: bootstrapped returns, the regression critic, the TD critic's advantages."""
import numpy as np
import pytest

import envs
from minipg.baselines import ridge_fit, solve_positive_definite, state_features
from minipg.critics import RegressionCritic, TDCritic
from minipg.returns import discounted_cumsum
from minipg.policies import SoftmaxPolicy
from minipg.rollout import Path, sample_paths


def test_discounted_cumsum_bootstraps_from_the_final_value():
    """G_2 = 3 + 0.5 * 8, G_1 = 2 + 0.5 G_2, G_0 = 1 + 0.5 G_1, worked by hand."""
    np.testing.assert_allclose(discounted_cumsum(np.array([1.0, 2.0, 3.0]), 0.5, final=8.0),
                               [3.75, 5.5, 7.0], rtol=0, atol=1e-15)


@pytest.fixture
def cartpole_paths():
    env = envs.make("cartpole")
    policy = SoftmaxPolicy(4, 2)
    theta = np.array([0.0, 0.0, -1.0, -1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0])  # leans against the fall, sometimes fails
    return [sample_paths(env, policy, theta, 4, np.random.default_rng(seed), horizon=60) for seed in range(4)]


def ridge_by_lstsq(features, targets, reg):
    """The ridge solution by least squares on [X; sqrt(reg) I] against [y; 0], a different algorithm."""
    n = features.shape[1]
    stacked = np.vstack([features, np.sqrt(reg) * np.eye(n)])
    return np.linalg.lstsq(stacked, np.concatenate([targets, np.zeros(n)]), rcond=None)[0]


def test_the_written_out_cholesky_solve_inverts_the_matrix():
    """[[4, 2], [2, 3]] x = [2, 1] by hand: x = [1/2, 0]; and on random positive definite matrices up to 30 x 30,
    A x = b to rounding and the same x as LAPACK's solve, which factorises by another algorithm (LU)."""
    np.testing.assert_allclose(solve_positive_definite(np.array([[4.0, 2.0], [2.0, 3.0]]), np.array([2.0, 1.0])),
                               [0.5, 0.0], rtol=0, atol=1e-15)
    rng = np.random.default_rng(0)
    for n in (1, 3, 12, 30):
        factor = rng.standard_normal((n, n))
        matrix, vector = factor @ factor.T + 0.1 * np.eye(n), rng.standard_normal(n)
        x = solve_positive_definite(matrix, vector)
        np.testing.assert_allclose(matrix @ x, vector, rtol=0, atol=1e-9)
        np.testing.assert_allclose(x, np.linalg.solve(matrix, vector), rtol=1e-8)


def test_ridge_fit_is_the_least_squares_solution_of_the_stacked_system():
    rng = np.random.default_rng(1)
    features, targets = rng.standard_normal((200, 9)), rng.standard_normal(200)
    np.testing.assert_allclose(ridge_fit(features, targets, 1e-3), ridge_by_lstsq(features, targets, 1e-3), rtol=1e-10)


def test_regression_critic_fits_the_bootstrapped_returns_of_the_last_keep_batches(cartpole_paths):
    critic = RegressionCritic(4, keep=2, reg=1e-3)
    gamma, kept = 0.9, []
    for batch in cartpole_paths:
        targets = [discounted_cumsum(p.rewards, gamma, critic.state_values(p)[-1]) for p in batch]
        kept = (kept + [(np.vstack([state_features(p.observations) for p in batch]), np.concatenate(targets))])[-2:]
        critic.fit(batch, gamma)
    expected = ridge_by_lstsq(np.vstack([x for x, _ in kept]), np.concatenate([y for _, y in kept]), 1e-3)
    np.testing.assert_allclose(critic.weights, expected, rtol=1e-8, atol=1e-8)


def test_truncated_paths_are_bootstrapped_and_terminated_ones_end_at_zero(cartpole_paths):
    critic = RegressionCritic(4)
    critic.fit(cartpole_paths[0], 0.9)
    paths = [path for batch in cartpole_paths[1:] for path in batch]
    assert {p.truncated for p in paths} == {True, False}  # the horizon of 60 cuts some paths short
    for path in paths:
        values = state_features(np.vstack([path.observations, path.final_observation])) @ critic.weights
        final = values[-1] if path.truncated else 0.0
        np.testing.assert_allclose(critic.advantages(path, 0.9, lam=1.0),
                                   discounted_cumsum(path.rewards, 0.9, final) - values[:-1], rtol=1e-10, atol=1e-10)


def test_a_policy_that_never_fails_gets_zero_advantages():
    """Every path survives to the time limit: V settles at 1/(1 - gamma) and every A_t goes to 0, so the
    gradient stops pushing a policy that has solved the task (what keeps a run solved)."""
    rng = np.random.default_rng(0)
    paths = [Path(observations=rng.uniform(-0.1, 0.1, (200, 4)), actions=rng.integers(0, 2, 200),
                  rewards=np.ones(200), log_probs=np.zeros(200), terminated=False,
                  final_observation=rng.uniform(-0.1, 0.1, 4)) for _ in range(3)]
    critic = RegressionCritic(4, keep=1)
    for _ in range(30):
        critic.fit(paths, 0.9)
    advantages = np.concatenate([critic.advantages(p, 0.9, lam=1.0) for p in paths])
    assert np.max(np.abs(advantages)) < 1e-6 * 10.0
    # before any fit V = 0 and the advantages are the returns themselves, far from 0
    assert np.min(RegressionCritic(4).advantages(paths[0], 0.9, lam=1.0)) >= 1.0


def test_gae_lambda_one_is_return_to_go_minus_v_and_lambda_zero_the_td_error(cartpole_paths):
    critic = TDCritic(4, lr=0.5)
    critic.fit(cartpole_paths[0], 0.9)
    for path in cartpole_paths[1]:
        values = critic.state_values(path)
        np.testing.assert_allclose(critic.advantages(path, 0.9, 1.0),
                                   discounted_cumsum(path.rewards, 0.9, values[-1]) - values[:-1], atol=1e-10)
        np.testing.assert_allclose(critic.advantages(path, 0.9, 0.0), critic.td_errors(path, 0.9), atol=1e-15)


@pytest.mark.parametrize("kwargs, message", [({"keep": 0}, "keep"), ({"reg": 0.0}, "reg")])
def test_bad_regression_critic_settings_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RegressionCritic(4, **kwargs)


def zero_reward_path(observations, terminated):
    """A path of 1-d observations, reward 0 everywhere (true V = 0); it ends where it started when cut off."""
    steps = len(observations)
    return Path(observations=np.array(observations, dtype=np.float64)[:, None], actions=np.zeros(steps, int),
                rewards=np.zeros(steps), log_probs=np.zeros(steps), terminated=terminated,
                final_observation=np.array([observations[0]], dtype=np.float64))


class RawFeatureCritic(TDCritic):
    """The TD critic's update on x(s) = s itself: a loop of two states with features 1 and 2."""

    def features(self, path):
        return np.vstack([path.observations, path.final_observation])


@pytest.mark.parametrize("lr", [0.05, 0.1, 0.5])
def test_td_step_is_stable_on_a_path_mixing_small_and_large_features(lr):
    """Eq. (14) on the project's x(s, t), one 20-step terminating path alternating s = 0.5 and 4.0, true V = 0.

    Each step divided by its own |x_t|^2 reweighs the states by 1 / |x(s)|^2: there NaN after 300 sweeps at
    lr = 0.1 and 0.5. One normaliser for the batch keeps the on-policy weights: V falls towards 0.
    """
    path = zero_reward_path([0.5, 4.0] * 10, terminated=True)
    critic = TDCritic(1, lr=lr)
    critic.weights[:] = 1.0
    start = np.abs(critic.features(path)[:-1] @ critic.weights).max()
    for _ in range(300):
        critic.fit([path], 1.0)
    assert np.abs(critic.features(path)[:-1] @ critic.weights).max() < 0.1 * start


@pytest.mark.parametrize("lr", [0.05, 0.1, 0.5])
def test_td_step_is_stable_on_a_two_state_loop(lr):
    """States with features 1 and 2 in turn, gamma = 0.99, reward 0, the path cut and bootstrapped after 200 steps.

    With each step divided by its own |x_t|^2, |w| grows from 1 to 10^19 in 20 sweeps at lr = 0.05 (a plain
    step shrinks it); with one normaliser for the batch it shrinks.
    """
    critic = RawFeatureCritic(1, lr=lr)
    critic.weights = np.ones(1)
    for _ in range(20):
        critic.fit([zero_reward_path([1.0, 2.0] * 100, terminated=False)], 0.99)
    assert abs(critic.weights[0]) < 1e-6


def test_td_step_is_the_same_at_every_feature_scale():
    """Multiplying every feature by 1000 leaves the values V = w . x after a sweep unchanged (a plain step of the
    same lr would be 10^6 times larger). By hand, with max |x_t|^2 = 16: delta_0 = 2 + 0.9 * 0 - 0 moves
    w by 0.3 * 2 * 0.5 / 16; then delta_1 = 1 - 4 w (terminated: no bootstrap) moves it by 0.3 delta_1 * 4 / 16."""
    values = []
    for scale in (1.0, 1000.0):
        path = Path(observations=scale * np.array([[0.5], [4.0]]), actions=np.zeros(2, int),
                    rewards=np.array([2.0, 1.0]), log_probs=np.zeros(2), terminated=True, final_observation=np.zeros(1))
        critic = RawFeatureCritic(1, lr=0.3)
        critic.weights = np.zeros(1)
        critic.fit([path], 0.9)
        values.append(critic.features(path)[:-1] @ critic.weights)
    np.testing.assert_allclose(values[1], values[0], rtol=1e-12)
    w = 0.3 * 2.0 * 0.5 / 16.0
    w += 0.3 * (1.0 - 4.0 * w) * 4.0 / 16.0
    np.testing.assert_allclose(values[0], [0.5 * w, 4.0 * w], rtol=1e-12)


def hand_path(observations, rewards, final, terminated):
    """A path of 1-d observations s_0..s_{T-1} with the chosen rewards, ending in s_T = final."""
    steps = len(observations)
    return Path(observations=np.array(observations, dtype=np.float64)[:, None], actions=np.zeros(steps, int),
                rewards=np.array(rewards, dtype=np.float64), log_probs=np.zeros(steps), terminated=terminated,
                final_observation=np.array([final], dtype=np.float64))


def critic_valuing_s(bootstrap_truncated=True):
    """The TD critic with every weight 0 but that of the feature s itself: V(s, t) = s."""
    critic = TDCritic(1, bootstrap_truncated=bootstrap_truncated)
    critic.weights[0] = 1.0
    return critic


# the path s = 1, 2, 3, then s_T = 4, rewards 1, 0, 2; with V(s) = s: V = 1, 2, 3 and V(s_T) = 4 or 0
ENDINGS = [(False, True, 4.0), (True, True, 0.0), (False, False, 0.0)]  # terminated, bootstrap_truncated, V(s_T)
ENDING_IDS = ["truncated", "terminated", "truncated-at-the-horizon"]


@pytest.mark.parametrize("terminated, bootstrap, final_value", ENDINGS, ids=ENDING_IDS)
def test_state_values_bootstrap_after_truncation_and_end_at_zero_after_termination(terminated, bootstrap, final_value):
    path = hand_path([1.0, 2.0, 3.0], [1.0, 0.0, 2.0], 4.0, terminated)
    np.testing.assert_array_equal(critic_valuing_s(bootstrap).state_values(path), [1.0, 2.0, 3.0, final_value])


@pytest.mark.parametrize("terminated, bootstrap, final_value", ENDINGS, ids=ENDING_IDS)
def test_td_error_bootstraps_from_the_next_state(terminated, bootstrap, final_value):
    """delta_t = r_t + 0.5 V(s_{t+1}) - V(s_t) by hand: 1 + 0.5 * 2 - 1, 0 + 0.5 * 3 - 2, 2 + 0.5 V(s_T) - 3."""
    path = hand_path([1.0, 2.0, 3.0], [1.0, 0.0, 2.0], 4.0, terminated)
    np.testing.assert_array_equal(critic_valuing_s(bootstrap).td_errors(path, 0.5),
                                  [1.0, -0.5, 2.0 + 0.5 * final_value - 3.0])


@pytest.mark.parametrize("lam, expected", [(0.5, [0.9375, -0.25, 1.0]), (1.0, [1.0, 0.0, 1.0])])
def test_gae_advantages_worked_by_hand(lam, expected):
    """The truncated path above, gamma = 0.5: delta = 1, -0.5, 1. lam = 0.5: A_2 = 1, A_1 = -0.5 + 0.25 * 1,
    A_0 = 1 + 0.25 A_1. lam = 1: G - V with G_2 = 2 + 0.5 * 4 = 4, G_1 = 0.5 * 4 = 2, G_0 = 1 + 0.5 * 2 = 2."""
    path = hand_path([1.0, 2.0, 3.0], [1.0, 0.0, 2.0], 4.0, terminated=False)
    np.testing.assert_allclose(critic_valuing_s().advantages(path, 0.5, lam), expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("terminated, bootstrap, expected", [(False, True, 1.375), (True, True, 0.8125),
                                                             (False, False, 0.8125)], ids=ENDING_IDS)
def test_td_update_bootstraps_from_the_next_state(terminated, bootstrap, expected):
    """One sweep of Eq. (14) on x(s) = s, w = 1, s = 1, 2 then s_T = 4, rewards 1, 1, gamma = 0.5, lr = 0.5, by hand.
    max |x_t|^2 = 4. delta_0 = 1 + 0.5 * 2 - 1 = 1: w = 1 + 0.5 * 1 * 1 / 4 = 1.125. Bootstrapped,
    delta_1 = 1 + 0.5 * 4 w - 2 w = 1: w = 1.125 + 0.5 * 1 * 2 / 4 = 1.375; with V(s_T) = 0, delta_1 = 1 - 2 w
    = -1.25: w = 1.125 - 0.3125 = 0.8125."""
    critic = RawFeatureCritic(1, lr=0.5, bootstrap_truncated=bootstrap)
    critic.weights = np.ones(1)
    critic.fit([hand_path([1.0, 2.0], [1.0, 1.0], 4.0, terminated)], 0.5)
    np.testing.assert_allclose(critic.weights, [expected], rtol=1e-15)


@pytest.mark.parametrize("terminated, bootstrap, expected", [(False, True, [2.25, 2.5]), (True, True, [1.5, 1.0]),
                                                             (False, False, [1.5, 1.0])], ids=ENDING_IDS)
def test_regression_critic_targets_bootstrap_from_v_of_the_final_state(terminated, bootstrap, expected):
    """V(s) = s before the fit; s = 1, 2 then s_T = 3, rewards 1, 1, gamma = 0.5. Bootstrapped: G_1 = 1 + 0.5 * 3,
    G_0 = 1 + 0.5 G_1; else G_1 = 1, G_0 = 1.5. Three features [s, s^2, 1] interpolate two states, so after
    the fit (keep 1, reg 1e-9) V(s_t) = G_t to about reg."""
    critic = RegressionCritic(1, keep=1, reg=1e-9, bootstrap_truncated=bootstrap)
    critic.weights = np.array([1.0, 0.0, 0.0])
    path = hand_path([1.0, 2.0], [1.0, 1.0], 3.0, terminated)
    critic.fit([path], 0.5)
    np.testing.assert_allclose(state_features(path.observations) @ critic.weights, expected, rtol=0, atol=1e-7)
