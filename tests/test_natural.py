"""Natural gradient and the trust region: the Fisher solve, the KL-sized step, the surrogate and the line search."""
import os
import re

import numpy as np
import pytest

import envs
from minipg.estimators import reward_to_go
from minipg.natural import (batch_fisher, conjugate_gradient, fisher_matrix, fisher_product, natural_step,
                            surrogate, trust_region_step)
from minipg.policies import GaussianPolicy, SoftmaxPolicy, mean_kl
from minipg.returns import discounted_cumsum
from minipg.rollout import Path, sample_paths
from tests.helpers import central_hessian, relative_error

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as _file:
    README = _file.read()


POLICIES = {"cartpole": lambda: SoftmaxPolicy(4, 2), "cartpole-continuous": lambda: GaussianPolicy(4, 1),
            "cartpole network": lambda: SoftmaxPolicy(4, 2, hidden=(3,)),
            "cartpole-continuous network": lambda: GaussianPolicy(4, 1, hidden=(3,))}


@pytest.fixture(scope="module", params=list(POLICIES))
def batch(request):
    """8 paths at theta ~ N(0, 0.3^2), linear or a network of one layer of 3, and advantages of both signs."""
    env = envs.make(request.param.split()[0])
    policy = POLICIES[request.param]()
    theta = 0.3 * np.random.default_rng(0).standard_normal(policy.n_params)
    paths = sample_paths(env, policy, theta, 8, np.random.default_rng(1))
    advantages = [discounted_cumsum(path.rewards, 0.99) - 20.0 for path in paths]
    return policy, theta, paths, advantages


def test_fisher_is_the_hessian_of_the_mean_kl(batch):
    """Eq. (16)'s claim KL(pi_old || pi_theta) = 1/2 d^T F d + O(|d|^3), second derivatives by finite differences."""
    policy, theta, paths, _ = batch
    hessian = central_hessian(lambda theta_new: mean_kl(policy, theta_new, theta, paths), theta)
    assert relative_error(fisher_matrix(policy, theta, paths), hessian) < 1e-6


def test_fisher_of_a_clipped_log_sigma_is_zero():
    """Where log sigma is clipped the policy does not depend on it: its row and column of F vanish, and the mean's
    block is sum_t phi~_t phi~_t^T / sigma^2 with the clipped sigma = e^2, not e^3."""
    policy = GaussianPolicy(4, 1)
    theta = np.array([0.1, -0.2, 0.3, 0.4, 0.5, 3.0])  # log sigma 3 > the clip's upper end 2
    observations = np.random.default_rng(2).standard_normal((6, 4))
    fisher = policy.path_fisher(theta, observations)
    assert not fisher[-1].any() and not fisher[:, -1].any()
    features = np.hstack([observations, np.ones((6, 1))])
    np.testing.assert_allclose(fisher[:-1, :-1], features.T @ features / np.exp(4.0), rtol=1e-14)


@pytest.mark.parametrize("hidden", [(), (3, 2)], ids=["linear", "network"])
def test_softmax_fisher_is_the_expected_outer_product_of_scores(hidden):
    """sum_u pi(u|s) s_u s_u^T, enumerating the actions, for each of several states and three actions."""
    policy = SoftmaxPolicy(4, 3, hidden=hidden)
    rng = np.random.default_rng(3)
    theta, observations = rng.standard_normal(policy.n_params), rng.standard_normal((5, 4))
    expected = np.zeros((policy.n_params, policy.n_params))
    for obs in observations:
        for action, prob in enumerate(policy.probs(theta, obs)):
            score = policy.grad_log_prob(theta, obs, action)
            expected += prob * np.outer(score, score)
    np.testing.assert_allclose(policy.path_fisher(theta, observations), expected, rtol=1e-12, atol=1e-14)


def test_sampled_outer_products_of_scores_average_to_the_gaussian_fisher():
    """1/n sum s s^T over n = 200,000 actions drawn at one state: every entry within 5 standard errors of F(s)."""
    policy = GaussianPolicy(3, 2)
    rng = np.random.default_rng(4)
    theta, obs = 0.5 * rng.standard_normal(policy.n_params), rng.standard_normal(3)
    observations = np.tile(obs, (200_000, 1))
    actions = policy.act_batch(theta, observations, rng)
    scores = policy.path_scores(theta, observations, actions)
    products = scores[:, :, None] * scores[:, None, :]
    standard_error = products.std(axis=0) / np.sqrt(len(actions))
    fisher = policy.path_fisher(theta, obs[None, :])
    assert np.all(np.abs(products.mean(axis=0) - fisher) <= 5.0 * standard_error + 1e-12)
    assert np.abs(fisher).max() > 50.0 * standard_error.max()  # power: the tolerance is small beside F


def test_natural_direction_solves_the_damped_fisher_system(batch):
    """F^-1 g by np.linalg.solve inside natural_step against an explicit inverse: the same direction."""
    policy, theta, paths, _ = batch
    fisher, gradient = fisher_matrix(policy, theta, paths), reward_to_go(policy, theta, paths)
    step = natural_step(fisher, gradient, kl_radius=0.01, damping=0.1)
    independent = np.linalg.inv(fisher + 0.1 * np.eye(len(fisher))) @ gradient
    cosine = step @ independent / np.linalg.norm(step) / np.linalg.norm(independent)
    assert cosine == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("radius", [0.001, 0.05])
def test_natural_step_has_quadratic_kl_equal_to_the_radius(batch, radius):
    policy, theta, paths, _ = batch
    fisher = fisher_matrix(policy, theta, paths)
    step = natural_step(fisher, reward_to_go(policy, theta, paths), kl_radius=radius)
    assert 0.5 * step @ fisher @ step == pytest.approx(radius, rel=1e-10)


@pytest.mark.parametrize("lr", [1e-4, 1e3])
def test_capped_natural_step_is_lr_times_the_direction_until_it_reaches_the_radius(batch, lr):
    """lr = 1e-4: a step far inside the radius, exactly lr (F + damping I)^-1 g; lr = 1e3: the KL-sized step."""
    policy, theta, paths, _ = batch
    fisher, gradient = fisher_matrix(policy, theta, paths), reward_to_go(policy, theta, paths)
    direction = np.linalg.inv(fisher + 1e-3 * np.eye(len(fisher))) @ gradient
    step = natural_step(fisher, gradient, kl_radius=0.01, lr=lr)
    if 0.5 * lr**2 * direction @ fisher @ direction <= 0.01:
        np.testing.assert_allclose(step, lr * direction, rtol=1e-8)
    else:
        np.testing.assert_allclose(step, natural_step(fisher, gradient, kl_radius=0.01), rtol=1e-12)
        assert 0.5 * step @ fisher @ step == pytest.approx(0.01, rel=1e-10)


def test_a_radius_whose_step_overflows_raises_and_the_capped_step_is_then_lr_times_the_direction(batch):
    """delta = 1e308: 2 delta alone overflows, a Python float's inf without an error; the uncapped step refuses to be
    inf, for the matrix and for the products alike, while the capped one is lr x, its cap never reached."""
    policy, theta, paths, _ = batch
    fisher, gradient = fisher_matrix(policy, theta, paths), reward_to_go(policy, theta, paths)
    direction = np.linalg.solve(fisher + 1e-3 * np.eye(len(fisher)), gradient)
    for fisher_given in (fisher, fisher_product(policy, theta, paths)):
        with pytest.raises(FloatingPointError, match="the natural step is not finite"):
            natural_step(fisher_given, gradient, kl_radius=1e308)
    np.testing.assert_allclose(natural_step(fisher, gradient, kl_radius=1e308, lr=0.5), 0.5 * direction, rtol=1e-8)


def test_capped_natural_step_shrinks_with_the_gradient(batch):
    policy, theta, paths, _ = batch
    fisher, gradient = fisher_matrix(policy, theta, paths), reward_to_go(policy, theta, paths)
    direction = np.linalg.solve(fisher + 1e-3 * np.eye(len(fisher)), gradient)
    assert 0.5 * direction @ fisher @ direction > 0.01  # lr = 1 on the full gradient would be capped
    small = natural_step(fisher, 1e-6 * gradient, kl_radius=0.01, lr=1.0)
    np.testing.assert_allclose(small, 1e-6 * direction, rtol=1e-8)
    assert not natural_step(fisher, np.zeros_like(gradient), kl_radius=0.01, lr=1.0).any()


def test_surrogate_at_theta_old_is_the_mean_advantage(batch):
    policy, theta, paths, advantages = batch
    assert surrogate(policy, theta, paths, advantages) == pytest.approx(np.mean(np.concatenate(advantages)), rel=1e-12)


def test_surrogate_gradient_at_theta_old_is_the_policy_gradient(batch):
    """d/dtheta of Eq. (18) at theta_old = 1/N sum_t score_t A_t (ratio' = ratio * score, ratio = 1)."""
    policy, theta, paths, advantages = batch
    scores = np.vstack([policy.path_scores(theta, path.observations, path.actions) for path in paths])
    expected = scores.T @ np.concatenate(advantages) / len(scores)
    h = 1e-6
    numeric = np.array([(surrogate(policy, theta + h * e, paths, advantages)
                         - surrogate(policy, theta - h * e, paths, advantages)) / (2 * h)
                        for e in np.eye(policy.n_params)])
    np.testing.assert_allclose(numeric, expected, rtol=1e-6, atol=1e-8)


def surrogate_gradient(policy, theta, paths, advantages):
    """grad L at theta_old = 1/N sum_t score_t A_t: the direction in which the surrogate rises."""
    scores = np.vstack([policy.path_scores(theta, path.observations, path.actions) for path in paths])
    return scores.T @ np.concatenate(advantages) / len(scores)


def test_line_search_accepts_a_step_inside_the_radius_that_raises_the_surrogate(batch):
    """The natural step of the surrogate's own gradient (by conjugate gradients for a network), sized so its first
    trial has KL just above delta: the first trial is refused for its KL, a halved one is accepted, raises L, and has
    KL <= delta."""
    policy, theta, paths, advantages = batch
    radius = 0.01
    fisher = batch_fisher(policy, theta, paths)
    step = natural_step(fisher, surrogate_gradient(policy, theta, paths, advantages), radius)
    for _ in range(10):  # KL ~ 1.3^2 delta: one rescaling where the KL is quadratic in the step, a few for a network
        step *= 1.3 * np.sqrt(radius / mean_kl(policy, theta + step, theta, paths))
    assert mean_kl(policy, theta + step, theta, paths) > radius
    accepted = trust_region_step(policy, theta, step, paths, advantages, radius)
    assert not np.array_equal(accepted, theta)
    assert mean_kl(policy, accepted, theta, paths) <= radius
    assert surrogate(policy, accepted, paths, advantages) > surrogate(policy, theta, paths, advantages)


def test_line_search_keeps_theta_old_when_no_backtracked_step_fits(batch):
    """A step 1e4 times the radius-sized one: even halved 9 times its KL is far beyond the radius."""
    policy, theta, paths, advantages = batch
    step = 1e4 * natural_step(fisher_matrix(policy, theta, paths), reward_to_go(policy, theta, paths), 0.01)
    np.testing.assert_array_equal(trust_region_step(policy, theta, step, paths, advantages, 0.01), theta)


def test_damping_divides_each_eigendirection_by_its_curvature_plus_the_damping(batch):
    """x = sum_j v_j (v_j . g) / (lambda_j + eps), by the eigen-decomposition of F: natural where lambda_j >> eps,
    a plain gradient step (v_j . g) / eps where lambda_j << eps."""
    policy, theta, paths, _ = batch
    fisher, gradient = fisher_matrix(policy, theta, paths), reward_to_go(policy, theta, paths)
    eigenvalues, eigenvectors = np.linalg.eigh(fisher)
    expected = eigenvectors @ ((eigenvectors.T @ gradient) / (eigenvalues + 1e-3))
    step = natural_step(fisher, gradient, kl_radius=0.01)
    cosine = step @ expected / np.linalg.norm(step) / np.linalg.norm(expected)
    assert cosine == pytest.approx(1.0, abs=1e-12)


def cartpole_batch_spectrum(seed):
    """A 500-step cart-pole batch at theta = 0 (reward-to-go gradient, gamma 0.99): F's eigenvalues and
    eigenvectors, g, the damped natural direction and the least-norm undamped F^+ g."""
    env, policy, theta = envs.make("cartpole"), SoftmaxPolicy(4, 2), np.zeros(10)
    paths = sample_paths(env, policy, theta, 1, np.random.default_rng(seed), min_steps=500)
    fisher, gradient = fisher_matrix(policy, theta, paths), reward_to_go(policy, theta, paths, gamma=0.99)
    eigenvalues, eigenvectors = np.linalg.eigh(fisher)
    undamped = np.linalg.pinv(fisher, rcond=1e-10, hermitian=True) @ gradient
    return eigenvalues, eigenvectors, gradient, natural_step(fisher, gradient, kl_radius=0.01), undamped


def test_the_damping_matters_where_curvature_is_small_and_not_in_the_null_space():
    """The README's numbers, over the batches of seeds 0-9 it names: F has an exact null space (5 directions: the
    same vector added to both actions' weights changes no probability), in which g has no component (it is a sum of
    scores, which lie in F's range), so damping changes nothing there; one non-zero eigenvalue is below the damping,
    1e-4 to 1e-3, and that direction becomes mostly a gradient step: the damped direction's cosine with F^+ g is the
    range the README states."""
    cosines = []
    for seed in range(10):
        eigenvalues, eigenvectors, gradient, damped, undamped = cartpole_batch_spectrum(seed)
        null = eigenvalues <= 1e-10 * eigenvalues.max()
        assert null.sum() == 5
        assert np.linalg.norm(eigenvectors[:, null].T @ gradient) < 1e-12 * np.linalg.norm(gradient)
        assert np.linalg.norm(eigenvectors[:, null].T @ damped) < 1e-12 * np.linalg.norm(damped)
        small = eigenvalues[~null] < 1e-3
        assert small.sum() == 1 and 1e-4 < eigenvalues[~null][small][0]
        cosines.append(damped @ undamped / np.linalg.norm(damped) / np.linalg.norm(undamped))
    stated = re.search(r"cosine of (\d\.\d+)–(\d\.\d+)\s+with\s+the\s+undamped\s+F⁺ĝ\s+over\s+the\s+batches"
                       r"\s+of\s+seeds\s+0–9", README)
    assert (f"{min(cosines):.2f}", f"{max(cosines):.2f}") == stated.groups()


# theta_old = 0: pi_old(.|s) = (1/2, 1/2). theta gives action 1 the logit s log 3: pi(.|1) = (1/4, 3/4),
# pi(.|2) = (1/10, 9/10). The path, drawn at theta_old, visits s = 1, 2 and takes action 1 both times.
TWO_STATES = Path(observations=np.array([[1.0], [2.0]]), actions=np.array([1, 1]), rewards=np.zeros(2),
                  log_probs=np.log([0.5, 0.5]), terminated=True, final_observation=np.zeros(1))
THETA_LOG_3 = np.array([0.0, 0.0, np.log(3.0), 0.0])


def test_mean_kl_is_the_expectation_under_pi_old():
    """KL(pi_old || pi_theta) = E_{u ~ pi_old}[log pi_old - log pi_theta] by hand:
    1/2 log(1/2 / 1/4) + 1/2 log(1/2 / 3/4) = 1/2 log(4/3) at s = 1, 1/2 log 5 + 1/2 log(5/9) = 1/2 log(25/9) at s = 2;
    their mean is 1/4 log(100/27) = 0.327. The other order, KL(pi_theta || pi_old), is 0.249."""
    kl = mean_kl(SoftmaxPolicy(1, 2), THETA_LOG_3, np.zeros(4), [TWO_STATES])
    assert kl == pytest.approx(0.25 * np.log(100.0 / 27.0), rel=1e-13)


def test_trust_region_bounds_the_kl_under_pi_old():
    """delta = 0.3 lies between the full step's KL(pi_old || pi_theta) = 0.327 and KL(pi_theta || pi_old) = 0.249:
    the full step is refused and the halved one (KL 0.091) accepted, psi = 1 so L rises with pi(1|s)."""
    step = trust_region_step(SoftmaxPolicy(1, 2), np.zeros(4), THETA_LOG_3, [TWO_STATES], [np.ones(2)], 0.3)
    np.testing.assert_array_equal(step, 0.5 * THETA_LOG_3)


def half_log_3_by_hand():
    """At theta = 1/2 THETA_LOG_3 action 1 has the logit s log(3) / 2: pi(1|1) = sqrt 3 / (1 + sqrt 3), pi(1|2) = 3/4.
    Returns the mean KL(pi_old || pi_theta) = 1/2 sum_s sum_u 1/2 log(1/2 / pi(u|s)) and, with psi = 1, the surrogate
    1/2 sum_s pi(1|s) / (1/2)."""
    taken = np.array([np.sqrt(3.0) / (1.0 + np.sqrt(3.0)), 0.75])
    kl = np.mean(0.5 * np.log(0.5 / taken) + 0.5 * np.log(0.5 / (1.0 - taken)))
    return kl, np.mean(taken / 0.5)


def test_trust_region_takes_the_full_step_when_it_fits_and_raises_the_surrogate():
    """k = 0 is tried first: the step 1/2 THETA_LOG_3 has KL 0.091 <= delta = 0.3 and raises L from 1 to 1.384, so it
    is returned whole, not halved."""
    kl, value = half_log_3_by_hand()
    assert kl == pytest.approx(0.0905467, rel=1e-6) and kl <= 0.3
    assert value == pytest.approx(1.3839746, rel=1e-7) and value > 1.0  # L(theta_old) = mean ratio 1 times psi 1
    step = trust_region_step(SoftmaxPolicy(1, 2), np.zeros(4), 0.5 * THETA_LOG_3, [TWO_STATES], [np.ones(2)], 0.3)
    np.testing.assert_array_equal(step, 0.5 * THETA_LOG_3)


def test_trust_region_refuses_a_step_that_leaves_the_surrogate_unchanged():
    """L must strictly improve: with psi = 0, L = 0 at every theta, and the step 1/2 THETA_LOG_3, inside the radius
    (KL 0.091 <= 0.3), is refused at every backtrack, leaving theta_old exactly."""
    kl, _ = half_log_3_by_hand()
    assert kl <= 0.3
    theta_old = np.zeros(4)
    step = trust_region_step(SoftmaxPolicy(1, 2), theta_old, 0.5 * THETA_LOG_3, [TWO_STATES], [np.zeros(2)], 0.3)
    np.testing.assert_array_equal(step, theta_old)


def test_surrogate_is_the_mean_probability_ratio_times_psi():
    """Eq. (18) by hand: ratios (3/4)/(1/2) = 1.5 and (9/10)/(1/2) = 1.8, psi = 2, -1: L = (3 - 1.8) / 2 = 0.6."""
    value = surrogate(SoftmaxPolicy(1, 2), THETA_LOG_3, [TWO_STATES], [np.array([2.0, -1.0])])
    assert value == pytest.approx(0.6, rel=1e-13)


# NATURAL STEPS THAT SCALE: the same F, as products F v solved by conjugate gradients


def test_fisher_product_is_the_fisher_matrix_times_v(batch):
    """1/N sum_t F(s_t) v by the forward tangent and one backward pass against fisher_matrix @ v, for a few v."""
    policy, theta, paths, _ = batch
    fisher, product = fisher_matrix(policy, theta, paths), fisher_product(policy, theta, paths)
    for vector in np.random.default_rng(5).standard_normal((3, policy.n_params)):
        np.testing.assert_allclose(product(vector), fisher @ vector, rtol=1e-12, atol=1e-12 * np.abs(fisher).max())


@pytest.mark.parametrize("policy", [GaussianPolicy(3, 2), GaussianPolicy(3, 2, hidden=(3,))], ids=["linear", "network"])
def test_fisher_product_of_a_clipped_log_sigma_is_zero(policy):
    """log sigma = 5 is above the clip: its entry of F v is 0, as its row of F; the other log sigma's is 2 T v_j."""
    rng = np.random.default_rng(6)
    theta = 0.5 * rng.standard_normal(policy.n_params)
    theta[-2:] = [5.0, -0.5]
    observations, vector = rng.standard_normal((7, 3)), rng.standard_normal(policy.n_params)
    product = policy.path_fisher_product(theta, observations, vector)
    assert product[-2] == 0.0 and product[-1] == pytest.approx(2.0 * 7 * vector[-1], rel=1e-15)
    np.testing.assert_allclose(product, policy.path_fisher(theta, observations) @ vector, rtol=1e-12, atol=1e-12)


def damped(batch, damping=1e-3):
    """(F + damping I, g, the direct solve x) of the batch, with g its reward-to-go gradient."""
    policy, theta, paths, _ = batch
    matrix = fisher_matrix(policy, theta, paths) + damping * np.eye(policy.n_params)
    gradient = reward_to_go(policy, theta, paths)
    return matrix, gradient, np.linalg.solve(matrix, gradient)


def test_conjugate_gradient_after_n_params_steps_is_the_direct_solve(batch):
    """In exact arithmetic CG solves (F + damping I) x = g in n_params steps. Rounding loses some of the directions'
    conjugacy (conditions 600-2,000 here): after n_params steps the relative error is below 1e-8 (at most 2e-9 on
    these batches), after 2 n_params below 1e-12."""
    policy, theta, paths, _ = batch
    _, gradient, exact = damped(batch)
    product = fisher_product(policy, theta, paths)
    for iterations, tolerance in [(policy.n_params, 1e-8), (2 * policy.n_params, 1e-12)]:
        direction = conjugate_gradient(product, gradient, iterations, 1e-3)
        assert np.linalg.norm(direction - exact) <= tolerance * np.linalg.norm(exact)


def test_conjugate_gradient_error_falls_within_its_bound(batch):
    """After k <= n_params steps the error e_k = x_k - x in the A-norm, A = F + damping I, is at most
    2 ((sqrt c - 1) / (sqrt c + 1))^k |e_0|_A with c = cond(A) and e_0 = -x, and it never grows from one step to the
    next."""
    policy, theta, paths, _ = batch
    matrix, gradient, exact = damped(batch)
    product = fisher_product(policy, theta, paths)
    eigenvalues = np.linalg.eigvalsh(matrix)
    rate = (np.sqrt(eigenvalues[-1] / eigenvalues[0]) - 1) / (np.sqrt(eigenvalues[-1] / eigenvalues[0]) + 1)

    def a_norm(error):
        return np.sqrt(error @ matrix @ error)

    errors = [a_norm(exact)] + [a_norm(conjugate_gradient(product, gradient, k, 1e-3) - exact)
                                for k in range(1, policy.n_params + 1)]
    for k, error in enumerate(errors):
        assert error <= 2.0 * rate**k * errors[0] * (1 + 1e-9)
    assert np.all(np.diff(errors) <= 1e-9 * errors[0])
    assert errors[-1] < 1e-6 * errors[0]  # power: it does converge


def test_conjugate_gradient_of_a_zero_gradient_is_zero_without_a_product():
    calls = []
    direction = conjugate_gradient(lambda v: calls.append(v) or v, np.zeros(5), 10, 1e-3)
    np.testing.assert_array_equal(direction, np.zeros(5))
    assert calls == []


@pytest.mark.parametrize("lr", [None, 1e-4])
def test_natural_step_by_products_is_the_natural_step_by_the_matrix(batch, lr):
    """Eqs. (17) and (19) with F as products and 2 n_params CG steps: the direct step to 1e-10, and the KL-sized step
    has 1/2 d^T F d = delta."""
    policy, theta, paths, _ = batch
    fisher, gradient = fisher_matrix(policy, theta, paths), reward_to_go(policy, theta, paths)
    by_products = natural_step(fisher_product(policy, theta, paths), gradient, 0.01, lr=lr,
                               iterations=2 * policy.n_params)
    np.testing.assert_allclose(by_products, natural_step(fisher, gradient, 0.01, lr=lr), rtol=1e-10,
                               atol=1e-10 * np.abs(by_products).max())
    if lr is None:
        assert 0.5 * by_products @ fisher @ by_products == pytest.approx(0.01, rel=1e-10)


def test_batch_fisher_is_the_matrix_for_a_linear_policy_and_products_for_a_network(batch):
    policy, theta, paths, _ = batch
    fisher = batch_fisher(policy, theta, paths)
    if policy.hidden:
        vector = np.ones(policy.n_params)
        np.testing.assert_array_equal(fisher(vector), fisher_product(policy, theta, paths)(vector))
    else:
        np.testing.assert_array_equal(fisher, fisher_matrix(policy, theta, paths))


@pytest.mark.parametrize("iterations", [0, 2.0, None])
def test_bad_cg_iterations_are_refused_by_name(batch, iterations):
    policy, theta, paths, _ = batch
    with pytest.raises(ValueError, match="iterations must be an integer >= 1"):
        natural_step(fisher_product(policy, theta, paths), reward_to_go(policy, theta, paths), 0.01,
                     iterations=iterations)
