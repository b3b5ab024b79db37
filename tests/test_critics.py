"""The value functions of actor-critic: bootstrapped returns, the regression critic, the TD critic's advantages."""
import numpy as np
import pytest

import envs
from minipg.baselines import state_features
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
