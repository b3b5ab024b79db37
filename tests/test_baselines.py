"""Baselines against their definitions worked by hand: the ridge fit of the linear value baseline, the time its
features read, and the leave-one-out mean of the discounted returns."""
import numpy as np

from minipg.baselines import LeaveOneOutMean, LinearValueBaseline
from minipg.estimators import reward_to_go_psi
from minipg.rollout import Path


def hand_path(observations, rewards, first_step=0):
    """A Path with the given states and rewards; actions and log pi are never read by a baseline."""
    observations = np.asarray(observations, dtype=np.float64).reshape(len(rewards), -1)
    return Path(observations=observations, actions=np.zeros(len(rewards), int),
                rewards=np.asarray(rewards, dtype=np.float64), log_probs=np.zeros(len(rewards)), terminated=True,
                final_observation=np.zeros(observations.shape[1]), first_step=first_step)


def features_by_hand(observation, t):
    """x(s, t) = [clip(s, -10, 10), clip(s, -10, 10)^2, 1, t/100, (t/100)^2, (t/100)^3], from its definition."""
    s = [min(max(float(v), -10.0), 10.0) for v in observation]
    return [*s, *[v * v for v in s], 1.0, t / 100, (t / 100) ** 2, (t / 100) ** 3]


def returns_to_go_by_hand(rewards, gamma):
    """G_t = sum_{k>=t} gamma^(k-t) r_k, each term written out."""
    return [sum(gamma ** (k - t) * rewards[k] for k in range(t, len(rewards))) for t in range(len(rewards))]


def test_linear_value_baseline_is_the_ridge_regression_of_the_discounted_returns_to_go():
    """gamma = 0.9 on three paths of 2-d states, two entries beyond the clip and one path starting at step 40: w is
    argmin |X w - G|^2 + reg |w|^2, found here as the least squares of [X; sqrt(reg) I] w = [G; 0] by np.linalg.lstsq
    (an SVD, never forming X^T X), with X and G built from their definitions. Fitted to the undiscounted returns,
    w would be far outside the tolerance."""
    rng = np.random.default_rng(0)
    paths = [hand_path(4.0 * rng.standard_normal((length, 2)), rng.uniform(0.0, 2.0, length), first_step)
             for length, first_step in [(25, 0), (30, 0), (20, 40)]]
    paths[0].observations[3] = [15.0, -12.0]
    reg = 1e-3
    baseline = LinearValueBaseline(reg=reg)
    baseline.fit(paths, 0.9)

    def ridge_by_lstsq(gamma):
        features = np.array([features_by_hand(path.observations[k], path.first_step + k)
                             for path in paths for k in range(len(path))])
        targets = np.concatenate([returns_to_go_by_hand(path.rewards, gamma) for path in paths])
        augmented = np.vstack([features, np.sqrt(reg) * np.eye(features.shape[1])])
        return np.linalg.lstsq(augmented, np.concatenate([targets, np.zeros(features.shape[1])]), rcond=None)[0]

    expected = ridge_by_lstsq(0.9)
    np.testing.assert_allclose(baseline.weights, expected, rtol=1e-7, atol=1e-7 * np.abs(expected).max())
    assert np.abs(ridge_by_lstsq(1.0) - expected).max() > 1e-2 * np.abs(expected).max()  # power: gamma matters


def test_linear_value_baseline_values_a_path_at_the_steps_of_its_episode():
    """A path that begins at step 7 of its episode (a batch of steps cut the episode before it) is valued at
    t = 7, 8, 9, not 0, 1, 2: b = w . x(s, 7 + k), w set by hand with large weights on the time features."""
    baseline = LinearValueBaseline()
    baseline.weights = np.array([0.5, -0.25, 2.0, 30.0, -20.0, 10.0])
    path = hand_path([[1.0], [-3.0], [11.0]], [0.0, 0.0, 0.0], first_step=7)
    expected = [sum(w * x for w, x in zip(baseline.weights, features_by_hand(path.observations[k], 7 + k)))
                for k in range(3)]
    (values,) = baseline.values([path], [np.zeros(3)])
    np.testing.assert_allclose(values, expected, rtol=1e-13)


def test_leave_one_out_mean_subtracts_the_mean_discounted_return_of_the_other_paths_from_every_return_to_go():
    """Eq. (9) in Eq. (10) at gamma = 1/2: R(tau_j) = sum_t gamma^t r_t of each path by hand, b_i the mean of the
    two others, psi_t = G_t - b_i. Rewards differ from step to step, so R(tau_j) is none of G_j's other entries
    (the last, r_{T-1}, say); with powers of 1/2 and small integers every number is exact in binary."""
    gamma = 0.5
    rewards = [[1.0, 2.0, 4.0], [3.0, 0.0, 0.0, 8.0], [6.0, 2.0]]
    paths = [hand_path(np.zeros(len(r)), r) for r in rewards]
    whole = [sum(gamma**t * r_t for t, r_t in enumerate(r)) for r in rewards]  # 3, 4, 7
    others = [np.mean([whole[j] for j in range(3) if j != i]) for i in range(3)]  # 5.5, 5, 3.5
    psi = reward_to_go_psi(paths, gamma, baseline=LeaveOneOutMean())
    for psi_i, r, b in zip(psi, rewards, others):
        np.testing.assert_array_equal(psi_i, np.array(returns_to_go_by_hand(r, gamma)) - b)
