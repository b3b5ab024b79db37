"""Every hand-written score grad log pi is checked against central finite differences of log pi."""
import numpy as np
import pytest

from minipg.policies import GaussianPolicy, SoftmaxPolicy
from tests.helpers import central_difference, relative_error

N_DRAWS = 25


@pytest.mark.parametrize("scale", [0.1, 1.0, 1000.0], ids=["small", "unit", "extreme-logits"])
def test_softmax_score_matches_finite_differences(scale):
    rng = np.random.default_rng(0)
    policy = SoftmaxPolicy(n_features=3, n_actions=4)
    for _ in range(N_DRAWS):
        theta = scale * rng.standard_normal(policy.n_params)
        obs = rng.standard_normal(3)
        action = int(rng.integers(4))
        analytic = policy.grad_log_prob(theta, obs, action)
        numeric = central_difference(lambda th: policy.log_prob(th, obs, action), theta)
        assert relative_error(analytic, numeric) < 1e-6


def test_softmax_extreme_logits_stay_finite():
    """Logits +1000 and -1000 at obs = 1: pi = (1, e^-2000) = (1, 0) in float64, and the score of action 1 is
    (1[a = 1] - pi(a)) phi~ = (-1, -1) on row 0 and (1, 1) on row 1, exactly."""
    policy = SoftmaxPolicy(n_features=1, n_actions=2)
    theta = np.array([1000.0, 0.0, -1000.0, 0.0])
    assert policy.log_prob(theta, np.ones(1), 1) == pytest.approx(-2000.0)
    np.testing.assert_array_equal(policy.grad_log_prob(theta, np.ones(1), 1), [-1.0, -1.0, 1.0, 1.0])
    np.testing.assert_array_equal(policy.probs(theta, np.ones(1)), [1.0, 0.0])


@pytest.mark.parametrize("log_std", [-8.0, -1.0, 0.0, 1.5],
                         ids=["tiny-sigma", "small-sigma", "unit-sigma", "large-sigma"])
def test_gaussian_score_matches_finite_differences(log_std):
    rng = np.random.default_rng(1)
    policy = GaussianPolicy(n_features=3, action_dim=2)
    for _ in range(N_DRAWS):
        theta = rng.standard_normal(policy.n_params)
        theta[-2:] = log_std + 0.1 * rng.standard_normal(2)
        obs = rng.standard_normal(3)
        action = policy.act(theta, obs, rng)
        analytic = policy.grad_log_prob(theta, obs, action)
        numeric = central_difference(lambda th: policy.log_prob(th, obs, action), theta)
        assert relative_error(analytic, numeric) < 1e-6


@pytest.mark.parametrize("stored, bound", [(50.0, 1), (-50.0, 0)], ids=["above", "below"])
def test_gaussian_clipped_log_std_has_zero_score(stored, bound):
    """log sigma stored far outside LOG_STD_RANGE = (-10, 2), on either side: pi does not depend on it, so its entry
    of the score (one step and the path's rows) and of the entropy gradient is 0, as the central difference is."""
    policy = GaussianPolicy(n_features=1, action_dim=1)
    theta, obs = np.array([0.3, -0.2, stored]), np.ones(1)
    action = np.array([0.1 + 2.0 * np.exp(GaussianPolicy.LOG_STD_RANGE[bound])])  # z = 2: z^2 - 1 = 3 if unclipped
    score = policy.grad_log_prob(theta, obs, action)
    numeric = central_difference(lambda th: policy.log_prob(th, obs, action), theta)
    assert score[-1] == 0.0 and numeric[-1] == 0.0
    assert policy.path_scores(theta, obs[None], action[None])[0, -1] == 0.0
    assert policy.path_entropy_gradients(theta, obs[None])[0, -1] == 0.0
    assert policy.log_std(theta)[0] == GaussianPolicy.LOG_STD_RANGE[bound]


@pytest.mark.parametrize("stored, log_std", [(5.0, 2.0), (-15.0, -10.0)], ids=["above", "below"])
def test_gaussian_path_twins_read_the_clipped_sigma(stored, log_std):
    """A stored log sigma beyond LOG_STD_RANGE: path_log_probs and path_scores use sigma = e^clip, as log_prob does.
    By hand at mu = 2 * 0.5 - 1 = 0 and u = z sigma for z = 1, 3: log pi = -z^2 / 2 - log sigma - log(2 pi) / 2; the
    score is (z / sigma) [0.5, 1] on M and 0 on log sigma."""
    policy = GaussianPolicy(n_features=1, action_dim=1)
    theta, sigma = np.array([2.0, -1.0, stored]), np.exp(log_std)
    observations, z = np.full((2, 1), 0.5), np.array([1.0, 3.0])
    np.testing.assert_allclose(policy.path_log_probs(theta, observations, z * sigma),
                               -0.5 * z**2 - log_std - 0.5 * np.log(2.0 * np.pi), rtol=1e-14)
    np.testing.assert_allclose(policy.path_scores(theta, observations, z * sigma),
                               np.column_stack([0.5 * z / sigma, z / sigma, np.zeros(2)]), rtol=1e-14)


def test_softmax_score_has_zero_mean():
    """sum_u pi(u|s) grad log pi(u|s) = grad sum_u pi(u|s) = grad 1 = 0: why baselines add no bias."""
    rng = np.random.default_rng(2)
    policy = SoftmaxPolicy(n_features=3, n_actions=5)
    theta, obs = rng.standard_normal(policy.n_params), rng.standard_normal(3)
    probs = policy.probs(theta, obs)
    expected_score = sum(probs[u] * policy.grad_log_prob(theta, obs, u) for u in range(5))
    np.testing.assert_allclose(expected_score, 0.0, atol=1e-14)


def test_gaussian_score_has_zero_mean():
    """E_u[grad log pi(u|s)] = 0, measured by Monte Carlo: the same identity that makes baselines unbiased.

    20,000 draws; every coordinate must be within 4 standard errors of 0. A sign error in the log-sigma
    score would put its mean at -2, hundreds of standard errors away.
    """
    rng = np.random.default_rng(3)
    policy = GaussianPolicy(n_features=2, action_dim=2)
    theta = np.array([0.5, -1.0, 0.2, 1.5, 0.3, -0.4, -0.5, 0.4])
    obs = np.array([0.7, -1.2])
    scores = np.array([policy.grad_log_prob(theta, obs, policy.act(theta, obs, rng)) for _ in range(20_000)])
    standard_error = scores.std(axis=0, ddof=1) / np.sqrt(len(scores))
    assert np.all(np.abs(scores.mean(axis=0)) < 4.0 * standard_error)


def test_softmax_probs_sum_to_one_and_act_follows_them():
    """Pearson chi-square of 20,000 draws over 4 actions; 16.27 is the 0.999 quantile of chi2(3)."""
    rng = np.random.default_rng(4)
    policy = SoftmaxPolicy(n_features=2, n_actions=4)
    theta, obs = rng.standard_normal(policy.n_params), rng.standard_normal(2)
    probs = policy.probs(theta, obs)
    assert probs.sum() == pytest.approx(1.0, abs=1e-15)
    n = 20_000
    counts = np.bincount([policy.act(theta, obs, rng) for _ in range(n)], minlength=4)
    chi_square = np.sum((counts - n * probs) ** 2 / (n * probs))
    assert chi_square < 16.27


def test_gaussian_act_has_policy_mean_and_std():
    """20,000 draws: sample mean within 4 standard errors of mu; sample std within 2% of sigma (its standard error is
    0.5%)."""
    rng = np.random.default_rng(5)
    policy = GaussianPolicy(n_features=1, action_dim=1)
    theta, obs = np.array([2.0, -1.0, np.log(0.5)]), np.array([0.5])
    draws = np.array([policy.act(theta, obs, rng)[0] for _ in range(20_000)])
    assert abs(draws.mean() - 0.0) < 4.0 * 0.5 / np.sqrt(len(draws))
    assert draws.std() == pytest.approx(0.5, rel=0.02)


@pytest.mark.parametrize("draw", ["act", "act_batch"])
@pytest.mark.parametrize("stored, sigma", [(5.0, np.exp(2.0)), (-15.0, np.exp(-10.0))], ids=["above", "below"])
def test_gaussian_acts_with_the_clipped_sigma(draw, stored, sigma):
    """A stored log sigma beyond LOG_STD_RANGE = (-10, 2) acts with the clipped sigma, the one its log_prob and
    score use: e^2, not e^5 (20 times wider); e^-10, not e^-15. 20,000 draws at mu = 0: the sample std is within
    2% of sigma (its standard error is 1/sqrt(2 * 20,000) = 0.5%)."""
    rng = np.random.default_rng(11)
    policy = GaussianPolicy(n_features=1, action_dim=1)
    theta, obs = np.array([2.0, -1.0, stored]), np.array([0.5])
    if draw == "act":
        draws = np.array([policy.act(theta, obs, rng)[0] for _ in range(20_000)])
    else:
        draws = policy.act_batch(theta, np.tile(obs, (20_000, 1)), rng)[:, 0]
    assert draws.std() == pytest.approx(sigma, rel=0.02)


def test_gaussian_log_prob_worked_by_hand():
    """mu = 2 * 0.5 - 1 = 0, sigma = 1/2, u = 1/2: pi(u|s) = exp(-1/2) / (sigma sqrt(2 pi)). With a second action
    dimension, mu = 1, sigma = 1, u = 1: the density times 1 / sqrt(2 pi)."""
    density = np.exp(-0.5) / (0.5 * np.sqrt(2.0 * np.pi))
    one = GaussianPolicy(n_features=1, action_dim=1)
    assert one.log_prob(np.array([2.0, -1.0, np.log(0.5)]), np.array([0.5]), np.array([0.5])) == pytest.approx(
        np.log(density), rel=1e-14)
    two = GaussianPolicy(n_features=1, action_dim=2)
    theta = np.array([2.0, -1.0, 0.0, 1.0, np.log(0.5), 0.0])
    assert two.log_prob(theta, np.array([0.5]), np.array([0.5, 1.0])) == pytest.approx(
        np.log(density / np.sqrt(2.0 * np.pi)), rel=1e-14)


def test_gaussian_density_integrates_to_one():
    """exp(log pi(u|s)) summed over a grid of 4,001 actions spaced 0.0025 apart over mu +- 10 sigma, times the
    spacing: 1 to 1e-10 (the rectangle rule is that exact on a Gaussian's whole support), from log_prob one action at
    a time and from path_log_probs with the grid as the path's actions."""
    policy = GaussianPolicy(n_features=1, action_dim=1)
    theta, obs = np.array([2.0, -1.0, np.log(0.5)]), np.array([0.5])
    grid, spacing = np.linspace(-5.0, 5.0, 4001), 0.0025
    one_by_one = np.exp([policy.log_prob(theta, obs, np.array([u])) for u in grid])
    as_a_path = np.exp(policy.path_log_probs(theta, np.tile(obs, (len(grid), 1)), grid))
    assert np.sum(one_by_one) * spacing == pytest.approx(1.0, abs=1e-10)
    assert np.sum(as_a_path) * spacing == pytest.approx(1.0, abs=1e-10)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda p: p.log_prob(np.zeros(6), np.zeros(2), 3), "outside Discrete(2)"),
        (lambda p: p.log_prob(np.zeros(6), np.zeros(2), 0.5), "outside Discrete(2)"),
        (lambda p: p.log_prob(np.zeros(6), np.zeros(3), 0), "observation must have shape (2,)"),
        (lambda p: p.log_prob(np.full(6, np.nan), np.zeros(2), 0), "theta contains NaN"),
        (lambda p: p.grad_log_prob(np.zeros(5), np.zeros(2), 0), "theta must have shape (6,)"),
    ],
)
def test_softmax_bad_input_names_the_problem(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(SoftmaxPolicy(n_features=2, n_actions=2))


@pytest.mark.parametrize(
    "action, message",
    [(np.array([np.nan]), "finite"), (np.array([1.0, 2.0]), "1 finite real number")],
)
def test_gaussian_bad_action_names_the_problem(action, message):
    policy = GaussianPolicy(n_features=2, action_dim=1)
    with pytest.raises(ValueError, match=message):
        policy.grad_log_prob(np.zeros(policy.n_params), np.zeros(2), action)


@pytest.mark.parametrize("policy", [SoftmaxPolicy(2, 3), GaussianPolicy(2, 2)], ids=["softmax", "gaussian"])
def test_kl_is_zero_at_itself_and_matches_monte_carlo(policy):
    """KL(p||q) = E_{u~p}[log p(u) - log q(u)]; 20,000 draws, within 4 standard errors."""
    rng = np.random.default_rng(6)
    theta_p, theta_q = rng.standard_normal(policy.n_params), rng.standard_normal(policy.n_params)
    obs = rng.standard_normal(2)
    assert policy.kl(theta_p, theta_p, obs) == pytest.approx(0.0, abs=1e-12)
    gaps = []
    for _ in range(20_000):
        u = policy.act(theta_p, obs, rng)
        gaps.append(policy.log_prob(theta_p, obs, u) - policy.log_prob(theta_q, obs, u))
    assert abs(np.mean(gaps) - policy.kl(theta_p, theta_q, obs)) < 4.0 * np.std(gaps) / np.sqrt(len(gaps))


@pytest.mark.parametrize("policy", [SoftmaxPolicy(3, 4), GaussianPolicy(3, 2)], ids=["softmax", "gaussian"])
def test_path_twins_equal_step_by_step(policy):
    """path_log_probs / path_scores / path_kls row t is log_prob / grad_log_prob / kl of step t alone (to rounding:
    a matrix product over many rows may sum in another order than over one)."""
    rng = np.random.default_rng(7)
    theta = rng.standard_normal(policy.n_params)
    observations = rng.standard_normal((30, 3))
    actions = np.array([policy.act(theta, obs, rng) for obs in observations])
    np.testing.assert_allclose(
        policy.path_log_probs(theta, observations, actions),
        [policy.log_prob(theta, obs, u) for obs, u in zip(observations, actions)], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(
        policy.path_scores(theta, observations, actions),
        [policy.grad_log_prob(theta, obs, u) for obs, u in zip(observations, actions)], rtol=1e-13, atol=1e-13)
    other = rng.standard_normal(policy.n_params)
    np.testing.assert_allclose(
        policy.path_kls(theta, other, observations),
        [policy.kl(theta, other, obs) for obs in observations], rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("policy", [SoftmaxPolicy(3, 4), GaussianPolicy(3, 2)], ids=["softmax", "gaussian"])
def test_act_batch_draws_what_act_draws_row_by_row(policy):
    theta = np.random.default_rng(8).standard_normal(policy.n_params)
    observations = np.random.default_rng(9).standard_normal((500, 3))
    rng = np.random.default_rng(10)
    one_by_one = np.array([policy.act(theta, obs, rng) for obs in observations])
    together = policy.act_batch(theta, observations, np.random.default_rng(10))
    np.testing.assert_allclose(together, one_by_one, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("n_features, n_actions", [(4, 2), (6, 3), (3, 7), (3, 9)])
def test_act_batch_log_probs_are_path_log_probs_of_act_batchs_actions_bit_for_bit(n_features, n_actions):
    """The log-probabilities LockStep records as it acts, against path_log_probs of the actions afterwards (another
    route: the rows with ones appended, then log_softmax), and the actions against act_batch's from the same seed.
    9 actions, too many to sum left to right, leave it to path_log_probs (None), as a network's and a Gaussian's do."""
    policy = SoftmaxPolicy(n_features, n_actions)
    theta = np.random.default_rng(12).standard_normal(policy.n_params)
    observations = 3.0 * np.random.default_rng(13).standard_normal((2000, n_features))
    actions, log_probs = policy.act_batch_log_probs(theta, observations, np.random.default_rng(14))
    np.testing.assert_array_equal(actions, policy.act_batch(theta, observations, np.random.default_rng(14)))
    if n_actions >= 8:
        assert log_probs is None
    else:
        np.testing.assert_array_equal(log_probs, policy.path_log_probs(theta, observations, actions))
    for other in (SoftmaxPolicy(4, 2, hidden=(5,)), GaussianPolicy(4, 1)):
        _, log_probs = other.act_batch_log_probs(np.zeros(other.n_params), np.zeros((3, 4)), np.random.default_rng(0))
        assert log_probs is None


@pytest.mark.parametrize("policy, log_std", [(SoftmaxPolicy(3, 4), None), (GaussianPolicy(3, 2), -0.5),
                                             (GaussianPolicy(3, 2), 5.0)],
                         ids=["softmax", "gaussian", "gaussian-clipped"])
def test_entropy_gradient_matches_finite_differences(policy, log_std):
    """grad of sum_t H(pi(.|s_t)) by hand against central differences of the entropies themselves."""
    rng = np.random.default_rng(11)
    observations = rng.standard_normal((6, 3))
    for _ in range(5):
        theta = rng.standard_normal(policy.n_params)
        if log_std is not None:
            theta[-2:] = log_std + 0.1 * rng.standard_normal(2)
        analytic = policy.path_entropy_gradients(theta, observations).sum(axis=0)
        numeric = central_difference(lambda th: policy.path_entropies(th, observations).sum(), theta)
        assert relative_error(analytic, numeric) < 1e-6
        assert np.linalg.norm(analytic) > 0.1 or log_std == 5.0


def test_entropies_are_the_closed_forms():
    """Softmax: -sum_u p log p from probs; Gaussian: sum_j log(sigma_j sqrt(2 pi e)), sigma clipped at e^2."""
    rng = np.random.default_rng(12)
    softmax, gaussian = SoftmaxPolicy(2, 3), GaussianPolicy(2, 2)
    theta, obs = rng.standard_normal(softmax.n_params), rng.standard_normal(2)
    p = softmax.probs(theta, obs)
    assert softmax.path_entropies(theta, obs[None])[0] == pytest.approx(-np.sum(p * np.log(p)), rel=1e-12)
    theta = np.concatenate([rng.standard_normal(gaussian.n_mean_params), [np.log(0.3), 5.0]])
    expected = np.log(0.3 * np.sqrt(2 * np.pi * np.e)) + np.log(np.exp(2.0) * np.sqrt(2 * np.pi * np.e))
    assert gaussian.path_entropies(theta, obs[None])[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("draw", ["act", "act_batch"])
def test_softmax_acts_with_extreme_logits(draw):
    """Logits (1000, -1000), then (-1000, 1000), at obs = 1: exp(1000) overflows float64, exp(z - max z) does not, and
    pi = (1, 0), then (0, 1), in float64: every one of 200 draws is the dominant action."""
    policy, rng = SoftmaxPolicy(n_features=1, n_actions=2), np.random.default_rng(13)
    observations = np.ones((200, 1))
    for theta, dominant in ((np.array([1000.0, 0.0, -1000.0, 0.0]), 0), (np.array([-1000.0, 0.0, 1000.0, 0.0]), 1)):
        if draw == "act":
            actions = [policy.act(theta, obs, rng) for obs in observations]
        else:
            actions = policy.act_batch(theta, observations, rng).tolist()
        assert actions == [dominant] * 200
