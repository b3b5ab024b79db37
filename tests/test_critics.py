"""The value functions of actor-critic: bootstrapped returns, the regression critic, the TD critic's advantages,
the network critic."""
import copy

import numpy as np
import pytest

import envs
from minipg.baselines import ridge_fit, solve_positive_definite, state_features
from minipg.critics import NetworkCritic, RegressionCritic, TDCritic
from minipg.optim import Adam
from minipg.returns import discounted_cumsum
from minipg.policies import SoftmaxPolicy
from minipg.rollout import Path, sample_paths
from tests.helpers import central_difference, relative_error


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


# THE NETWORK CRITIC: V_w(s) = w_v . [h(s), 1], fitted by Adam on the squared error to Eq. (15)'s targets


def small_network_critic(seed=0, **settings):
    """A NetworkCritic of one tanh layer of 3 on 2 observation features (13 weights)."""
    return NetworkCritic(2, np.random.default_rng(seed), **{"hidden": (3,), **settings})


def by_hand(critic, observations):
    """V_w(s) = w_v . [tanh(s W^T + b), 1] for a critic of one layer, written out here from its flat weights."""
    n_hidden, n_inputs = critic.hidden[0], critic.body.widths[0]
    weights = critic.weights[: n_hidden * n_inputs].reshape(n_hidden, n_inputs)
    bias = critic.weights[n_hidden * n_inputs : n_hidden * (n_inputs + 1)]
    value_head = critic.weights[n_hidden * (n_inputs + 1) :]
    return np.tanh(observations @ weights.T + bias) @ value_head[:-1] + value_head[-1]


def two_feature_path(rng, steps, terminated):
    """A path of 2-d observations, reward 1 per step: s_t = [steps remaining / 10, noise]."""
    observations = np.column_stack([np.arange(steps, 0, -1) / 10.0, rng.uniform(-1.0, 1.0, steps)])
    return Path(observations, np.zeros(steps, int), np.ones(steps), np.zeros(steps), terminated,
                np.array([0.0, rng.uniform(-1.0, 1.0)]))


@pytest.mark.parametrize("scale", [0.5, 5.0], ids=["moderate", "saturated"])
def test_network_critic_squared_error_gradient_matches_finite_differences(scale):
    """dL/dw by the head's formula and the body's backward pass, every block (W, b, w_v), against central
    differences of L; at scale 5 most of the tanh units saturate."""
    critic = NetworkCritic(3, np.random.default_rng(1), hidden=(4, 3))
    rng = np.random.default_rng(2)
    weights = scale * rng.standard_normal(critic.n_params)
    observations, targets = rng.standard_normal((9, 3)), rng.standard_normal(9)
    analytic = critic.squared_error_gradient(weights, observations, targets)
    numeric = central_difference(lambda w: critic.squared_error(w, observations, targets), weights)
    for block in np.split(np.arange(critic.n_params), np.cumsum([12, 4, 12, 3])):
        assert relative_error(analytic[block], numeric[block]) < 1e-6


def test_network_critic_values_td_errors_and_advantages_are_the_base_class_formulas():
    """V by a forward pass written out here; delta_t = r_t + gamma V(s_t+1) - V(s_t) with V(s_T) = 0 after termination,
    bootstrapped after truncation; GAE with lam = 1 is G_t - V(s_t)."""
    critic, rng = small_network_critic(), np.random.default_rng(3)
    for terminated in (True, False):
        path = two_feature_path(rng, 6, terminated)
        values = by_hand(critic, np.vstack([path.observations, path.final_observation]))
        if terminated:
            values[-1] = 0.0
        assert abs(values[-1]) > 0.01 or terminated
        np.testing.assert_allclose(critic.state_values(path), values, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(critic.td_errors(path, 0.9), path.rewards + 0.9 * values[1:] - values[:-1],
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(critic.advantages(path, 0.9, 1.0),
                                   discounted_cumsum(path.rewards, 0.9, values[-1]) - values[:-1],
                                   rtol=1e-12, atol=1e-12)


def test_network_critic_fit_is_adam_on_shuffled_minibatches_of_the_kept_targets():
    """Three fits (keep 2, 2 epochs, 3 minibatches) rebuilt here: Eq. (15)'s targets under V before each fit (a
    truncated path bootstrapped), the kept batches, the critic's own permutations, and Adam descending a
    central-difference gradient of the minibatch's mean squared error. The same weights to 1e-6 (the differences'
    own error, through Adam's normalised steps)."""
    stream = np.random.default_rng(4)
    critic = NetworkCritic(2, stream, hidden=(3,), epochs=2, minibatches=3, keep=2, lr=0.05)
    shuffles = copy.deepcopy(stream)  # the critic's stream as it stands after the init, for the shuffles here
    rng, weights, adam, kept = np.random.default_rng(5), critic.weights.copy(), Adam(0.05), []
    for steps in (5, 7, 4):
        batch = [two_feature_path(rng, steps, True), two_feature_path(rng, steps + 2, False)]
        final_value = by_hand(critic, batch[1].final_observation[None])[0]
        kept = (kept + [(np.vstack([p.observations for p in batch]),
                         np.concatenate([discounted_cumsum(batch[0].rewards, 0.9),
                                         discounted_cumsum(batch[1].rewards, 0.9, final_value)]))])[-2:]
        observations, targets = np.vstack([x for x, _ in kept]), np.concatenate([y for _, y in kept])
        for _ in range(2):
            for rows in np.array_split(shuffles.permutation(len(targets)), 3):
                gradient = central_difference(lambda w: np.mean((critic.value_rows(w, observations[rows])[0]
                                                                 - targets[rows]) ** 2), weights)
                weights = adam.step(weights, -gradient)
        critic.fit(batch, 0.9)
        np.testing.assert_allclose(critic.weights, weights, rtol=1e-6, atol=1e-6)
    assert np.linalg.norm(weights - small_network_critic(seed=4).weights) > 0.1


def test_network_critic_starts_as_an_orthogonal_body_and_a_unit_value_row():
    """Hidden layers sqrt(2) Q, biases 0, then the value row w_v[:-1] a unit vector (gain 1, CleanRL's critic head) and
    its bias 0: V starts within |V| <= sqrt(width) whatever the observation."""
    critic = NetworkCritic(3, np.random.default_rng(2), hidden=(5, 4))
    body, value_head = critic.weights[: critic.body.n_params], critic.weights[critic.body.n_params :]
    start = 0
    for n_out, n_in in critic.body.shapes:
        weights = body[start : start + n_out * n_in].reshape(n_out, n_in)
        gram = weights.T @ weights if n_out >= n_in else weights @ weights.T
        np.testing.assert_allclose(gram, 2.0 * np.eye(min(n_out, n_in)), atol=1e-13)
        np.testing.assert_array_equal(body[start + n_out * n_in : start + n_out * (n_in + 1)], 0.0)
        start += n_out * (n_in + 1)
    assert start == len(body) and len(value_head) == 5
    assert np.linalg.norm(value_head[:-1]) == pytest.approx(1.0, abs=1e-14) and value_head[-1] == 0.0


def test_network_critic_with_fewer_targets_than_minibatches_fits_one_row_at_a_time():
    """A batch of 3 steps and 8 minibatches: each pass is 3 Adam steps of one row each, in the critic's own shuffled
    order, as rebuilt here; an empty minibatch would still move the weights through Adam's moments."""
    stream = np.random.default_rng(4)
    critic = NetworkCritic(2, stream, hidden=(3,), epochs=2, minibatches=8, lr=0.05)
    shuffles, weights, adam = copy.deepcopy(stream), critic.weights.copy(), Adam(0.05)
    path = two_feature_path(np.random.default_rng(5), 3, True)
    targets = discounted_cumsum(path.rewards, 0.9)
    for _ in range(2):
        for row in shuffles.permutation(3):
            gradient = central_difference(lambda w: (critic.value_rows(w, path.observations[row : row + 1])[0][0]
                                                     - targets[row]) ** 2, weights)
            weights = adam.step(weights, -gradient)
    critic.fit([path], 0.9)
    np.testing.assert_allclose(critic.weights, weights, rtol=1e-6, atol=1e-6)


def test_network_critic_fits_known_returns():
    """Six terminating paths of 5-30 steps whose s_t[0] is the number of steps left: G_t = (1 - 0.9^k) / 0.1 with k
    = 10 s_t[0], targets of std 2.6. With the default settings (two layers of 64, Adam 1e-3, 10 epochs of 8
    minibatches, keep 3), 20 fits on the same batch bring the RMS error from 6.6 to below 0.1 (measured: 0.079 after
    10 fits, 0.064 after 20, 0.013 after 60)."""
    rng = np.random.default_rng(6)
    paths = [two_feature_path(rng, steps, True) for steps in range(5, 31, 5)]
    targets = np.concatenate([discounted_cumsum(path.rewards, 0.9) for path in paths])
    critic = NetworkCritic(2, np.random.default_rng(7))

    def rms_error():
        return np.sqrt(np.mean((np.concatenate([critic.state_values(p)[:-1] for p in paths]) - targets) ** 2))

    assert rms_error() > 5.0
    for _ in range(20):
        critic.fit(paths, 0.9)
    assert rms_error() < 0.1


def test_network_critic_same_seed_same_weights_bit_for_bit():
    rng = np.random.default_rng(8)
    paths = [two_feature_path(rng, 9, False), two_feature_path(rng, 4, True)]
    fitted = []
    for _ in range(2):
        critic = small_network_critic(seed=9)
        critic.fit(paths, 0.99)
        fitted.append(critic.weights)
    np.testing.assert_array_equal(fitted[0], fitted[1])


def test_network_critic_weights_load_checked():
    critic, other = small_network_critic(), small_network_critic(seed=1)
    critic.load_weights(other.weights)
    np.testing.assert_array_equal(critic.weights, other.weights)
    with pytest.raises(ValueError, match=r"weights must have shape \(13,\)"):
        critic.load_weights(np.zeros(12))
    with pytest.raises(ValueError, match="weights contains NaN"):
        critic.load_weights(np.full(13, np.nan))


@pytest.mark.parametrize("settings, error, message", [
    ({"hidden": ()}, ValueError, "hidden must name at least one tanh layer"),
    ({"hidden": (0,)}, ValueError, "hidden must be a tuple of integers >= 1"),
    ({"lr": 0.0}, ValueError, "lr must be a positive number"),
    ({"epochs": 0}, ValueError, "epochs must be an integer >= 1"),
    ({"minibatches": 1.5}, ValueError, "minibatches must be an integer >= 1"),
    ({"keep": 0}, ValueError, "keep must be an integer >= 1"),
    ({"input_scale": [1.0]}, ValueError, "input_scale must be 2 finite numbers > 0"),
    ({"rng": 0}, TypeError, "rng must be a numpy.random.Generator"),
])
def test_bad_network_critic_settings_name_the_argument(settings, error, message):
    arguments = {"n_features": 2, "rng": np.random.default_rng(0), **settings}
    with pytest.raises(error, match=message):
        NetworkCritic(**arguments)
