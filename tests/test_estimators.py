"""Every estimator against the exact gradient: unbiased where the README says so, biased where it says so,
and ordered in variance as the derivation predicts.

Statistical tests draw N_PATHS paths with a fixed seed and compare the mean of the per-path terms with
exact.gradient coordinate by coordinate: the tolerance is 4 standard errors of that mean (the SE is
measured from the same per-path terms), while the gradient coordinates are many SEs from 0, so a sign
error or a missing term fails.
"""
import numpy as np
import pytest

import envs
from minipg import estimators, exact
from minipg.baselines import LeaveOneOutMean, LinearValueBaseline, TimeIndexedBaseline
from minipg.critics import Critic, RegressionCritic, TDCritic
from minipg.returns import discounted_cumsum
from minipg.policies import SoftmaxPolicy
from minipg.rollout import Path, sample_paths
from tests.helpers import ValueTableCritic, central_difference, relative_error

HORIZON = 12
N_PATHS = 6000
BATCHES_OF_SEGMENTS = 800


@pytest.fixture(scope="module")
def setup():
    """Gridworld with slip at a fixed, non-trivial theta; paths sampled once for the whole module."""
    env = envs.make("gridworld")
    policy = SoftmaxPolicy(env.observation_dim, env.n_actions)
    theta = 0.5 * np.random.default_rng(10).standard_normal(policy.n_params)
    paths = sample_paths(env, policy, theta, N_PATHS, np.random.default_rng(11), horizon=HORIZON)
    return env, policy, theta, paths


def assert_unbiased(terms, truth, wrong=None):
    """|mean - truth| <= 4 SE in every coordinate that at least 300 paths touch.

    Power: the truth is more than 10 SE (in norm) from 0, or, given `wrong` (the value a plausible bug
    would give), more than 5 SE from that.

    A coordinate of a rarely visited state is 0 in all but a handful of paths; its mean is then far from
    normal and its sample SE unreliable, so the 4-SE band means nothing there. The touched coordinates
    carry almost all of the gradient and are checked below to be many SEs from 0.
    """
    mean = terms.mean(axis=0)
    standard_error = terms.std(axis=0, ddof=1) / np.sqrt(len(terms))
    touched = np.count_nonzero(terms, axis=0) >= 300
    assert touched.sum() >= 0.6 * len(truth)
    assert np.all(np.abs(mean - truth)[touched] <= 4.0 * standard_error[touched])
    if wrong is None:
        assert np.linalg.norm(truth) > 10.0 * np.linalg.norm(standard_error)
    else:
        assert np.linalg.norm(truth - wrong) > 5.0 * np.linalg.norm(standard_error)


def total_variance(terms):
    """trace Cov(per-path terms) = sum of coordinate variances."""
    return float(np.sum(terms.var(axis=0, ddof=1)))


def fitted_baseline(env, policy, theta):
    """A LinearValueBaseline fitted on an independent earlier batch, as training uses it."""
    baseline = LinearValueBaseline()
    earlier = sample_paths(env, policy, theta, 500, np.random.default_rng(12), horizon=HORIZON)
    baseline.fit(earlier, 1.0)
    return baseline


@pytest.mark.parametrize("baseline", [0.0, -0.3, LeaveOneOutMean()], ids=["zero", "constant", "leave-one-out"])
def test_likelihood_ratio_is_unbiased(setup, baseline):
    env, policy, theta, paths = setup
    terms = estimators.likelihood_ratio(policy, theta, paths, baseline=baseline, per_path=True)
    assert_unbiased(terms, exact.gradient(env, policy, theta, HORIZON))


class StateAndTime:
    """b(s_t, t) = 0.1 t - s_t[0]: any function of the state and the time, fixed before the batch."""

    def values(self, paths, returns):
        return [0.1 * np.arange(len(path)) - path.observations[:, 0] for path in paths]


@pytest.mark.parametrize("kind", ["none", "constant", "time", "fitted", "state-and-time"])
def test_reward_to_go_is_unbiased(setup, kind):
    env, policy, theta, paths = setup
    baseline = {
        "none": None,
        "constant": -0.3,
        "time": TimeIndexedBaseline(),
        "fitted": fitted_baseline(env, policy, theta) if kind == "fitted" else None,
        "state-and-time": StateAndTime(),
    }[kind]
    terms = estimators.reward_to_go(policy, theta, paths, baseline=baseline, per_path=True)
    assert_unbiased(terms, exact.gradient(env, policy, theta, HORIZON))


def test_discount_weighting_makes_reward_to_go_unbiased_for_discounted_objective(setup):
    """With gamma < 1 the estimator needs gamma^t to be unbiased for grad U_gamma (Eq. 11). Dropping it,
    as most code does, is a deliberate, documented trade-off: the bias is many standard errors wide."""
    env, policy, theta, paths = setup
    gamma = 0.8
    truth = exact.gradient(env, policy, theta, HORIZON, gamma)
    weighted = estimators.reward_to_go(policy, theta, paths, gamma=gamma, discount_weighting=True, per_path=True)
    assert_unbiased(weighted, truth)
    unweighted = estimators.reward_to_go(policy, theta, paths, gamma=gamma, per_path=True)
    standard_error = unweighted.std(axis=0, ddof=1) / np.sqrt(len(unweighted))
    assert np.linalg.norm(unweighted.mean(axis=0) - truth) > 10.0 * np.linalg.norm(standard_error)


def test_importance_sampling_at_theta_old_is_likelihood_ratio(setup):
    _, policy, theta, paths = setup
    few = paths[:200]
    np.testing.assert_allclose(
        estimators.importance_sampled(policy, theta, theta, few),
        estimators.likelihood_ratio(policy, theta, few),
        rtol=1e-12, atol=1e-12,
    )
    np.testing.assert_allclose(
        estimators.importance_sampled(policy, theta, theta, few, per_decision=True),
        estimators.reward_to_go(policy, theta, few),
        rtol=1e-12, atol=1e-12,
    )


@pytest.mark.parametrize("per_decision", [False, True], ids=["whole-path", "per-decision"])
def test_importance_sampled_is_unbiased_away_from_theta_old(setup, per_decision):
    """Paths from theta_old, gradient at theta = theta_old + a small step."""
    env, policy, theta_old, paths = setup
    theta = theta_old + 0.1 * np.random.default_rng(13).standard_normal(policy.n_params)
    terms = estimators.importance_sampled(policy, theta, theta_old, paths, per_decision=per_decision, per_path=True)
    assert_unbiased(terms, exact.gradient(env, policy, theta, HORIZON))


def test_effective_sample_size_is_m_at_theta_old_and_falls_away_from_it(setup):
    _, policy, theta, paths = setup
    few = paths[:500]
    weights, ess = estimators.importance_weights(policy, theta, few)
    np.testing.assert_array_equal(weights, 1.0)
    assert ess == pytest.approx(500.0)
    shifted = theta + 1.0 * np.random.default_rng(14).standard_normal(policy.n_params)
    assert estimators.importance_weights(policy, shifted, few)[1] < 250.0


def two_step_path(observations, actions):
    """A path of two 1-d states with the chosen actions, drawn at theta_old = 0 (log pi_old = log 1/2 each step);
    rewards 0: only the policy's probabilities matter."""
    return Path(observations=np.array(observations, dtype=np.float64)[:, None], actions=np.array(actions),
                rewards=np.zeros(2), log_probs=np.log([0.5, 0.5]), terminated=True, final_observation=np.zeros(1))


def test_importance_weights_are_the_path_probability_ratios():
    """theta_old = 0: pi_old = 1/2 everywhere. theta gives action 1 the logit s log 3: pi(1|s=1) = 3/4,
    pi(1|s=2) = 9/10. By hand w = (3/4)/(1/2) * (9/10)/(1/2) = 2.7 for actions 1, 1 and (1/4)/(1/2) * 1.8 = 0.9
    for actions 0, 1; ESS = 3.6^2 / (2.7^2 + 0.9^2) = 1.6."""
    policy = SoftmaxPolicy(1, 2)
    theta = np.array([0.0, 0.0, np.log(3.0), 0.0])
    paths = [two_step_path([1.0, 2.0], [1, 1]), two_step_path([1.0, 2.0], [0, 1])]  # recorded log pi_old = log 1/2
    weights, ess = estimators.importance_weights(policy, theta, paths)
    np.testing.assert_allclose(weights, [2.7, 0.9], rtol=1e-13)
    assert ess == pytest.approx(1.6, rel=1e-13)


def test_reward_to_go_has_less_variance_than_whole_trajectory(setup):
    _, policy, theta, paths = setup
    whole = total_variance(estimators.likelihood_ratio(policy, theta, paths, per_path=True))
    to_go = total_variance(estimators.reward_to_go(policy, theta, paths, per_path=True))
    assert to_go < 0.8 * whole


def test_fitted_baseline_has_less_variance_than_none(setup):
    env, policy, theta, paths = setup
    none = total_variance(estimators.reward_to_go(policy, theta, paths, per_path=True))
    fitted = estimators.reward_to_go(policy, theta, paths, baseline=fitted_baseline(env, policy, theta), per_path=True)
    assert total_variance(fitted) < 0.8 * none


class ModelHidden:
    """An env seen only through reset/step: any access to a model attribute fails loudly."""

    def __init__(self, env):
        self._env = env
        self.max_episode_steps = env.max_episode_steps
        self.observation_dim, self.n_actions = env.observation_dim, env.n_actions

    def reset(self, seed=None):
        return self._env.reset(seed=seed)

    def step(self, action):
        return self._env.step(action)


def test_estimators_need_no_dynamics_model():
    """Eq. (4) as code: sampling and every estimator run on envs with no P or R at all, and give the one sum
    with psi written out here from the rewards alone: R(tau); G_t minus the mean G_t of the other paths
    still running at t; G_t (per-decision weights at theta_old are all 1)."""
    for env in [ModelHidden(envs.make("gridworld")), envs.make("cartpole")]:
        assert not hasattr(env, "P") and not hasattr(env, "R")
        policy = SoftmaxPolicy(env.observation_dim, env.n_actions)
        theta = np.zeros(policy.n_params)
        paths = sample_paths(env, policy, theta, 3, np.random.default_rng(0), horizon=20)
        to_go = [np.cumsum(p.rewards[::-1])[::-1] for p in paths]
        time_baseline = [np.array([np.mean([g[t] for j, g in enumerate(to_go) if j != i and len(g) > t] or [0.0])
                                   for t in range(len(p))]) for i, p in enumerate(paths)]  # 0 if no other runs
        for gradient, psi in [
            (estimators.likelihood_ratio(policy, theta, paths), [np.full(len(p), p.rewards.sum()) for p in paths]),
            (estimators.reward_to_go(policy, theta, paths, baseline=TimeIndexedBaseline()),
             [g - b for g, b in zip(to_go, time_baseline)]),
            (estimators.importance_sampled(policy, theta, theta, paths, per_decision=True), to_go),
        ]:
            expected = independent_sum(policy, theta, paths, psi)
            assert np.linalg.norm(expected) > 0.1
            np.testing.assert_allclose(gradient, expected, rtol=1e-10, atol=1e-12)


def test_leave_one_out_mean_is_the_mean_of_the_others(setup):
    paths = setup[3][:3]
    returns = [np.full(len(path), value) for path, value in zip(paths, [1.0, 2.0, 6.0])]
    np.testing.assert_array_equal([b[0] for b in LeaveOneOutMean().values(paths, returns)], [4.0, 3.5, 1.5])
    values = LeaveOneOutMean().values(paths, returns)
    assert all(len(b) == len(path) and np.all(b == b[0]) for b, path in zip(values, paths))
    np.testing.assert_array_equal(LeaveOneOutMean().values(paths[:1], returns[:1])[0], 0.0)


def test_time_indexed_baseline_is_the_mean_return_to_go_of_the_other_paths_still_running():
    """Returns-to-go (3, 2, 1), (5, 4), (6), by hand: b = (mean(5, 6), 4, 0), (mean(3, 6), 2), (mean(3, 5)).
    Path i's own G_t left in would make b depend on tau_i: a bias of order 1/m that no m = 6,000 test sees."""
    returns = [np.array([3.0, 2.0, 1.0]), np.array([5.0, 4.0]), np.array([6.0])]
    paths = [Path(observations=np.zeros((len(g), 1)), actions=np.zeros(len(g), int), rewards=np.zeros(len(g)),
                  log_probs=np.zeros(len(g)), terminated=True, final_observation=np.zeros(1)) for g in returns]
    baseline = TimeIndexedBaseline().values(paths, returns)
    for b, expected in zip(baseline, [[5.5, 4.0, 0.0], [4.5, 2.0], [4.0]]):
        np.testing.assert_array_equal(b, expected)


def test_mean_baseline_is_unbiased_even_for_two_paths(setup):
    """m = 2, where a batch mean that included path i would halve the estimate: E[s_i (R_i - R_j) / 2].

    3,000 batches of 2 paths. The mean of the estimates lies within 4 SE of the exact gradient in every
    coordinate that at least 150 batches touch (the pairs halve assert_unbiased's 300 paths), while the
    estimates with the plain batch mean, half as long, miss it by more than 5 SEs in norm.
    """
    env, policy, theta, paths = setup
    truth = exact.gradient(env, policy, theta, HORIZON)
    pairs = [paths[k : k + 2] for k in range(0, len(paths), 2)]
    estimates = np.array([estimators.likelihood_ratio(policy, theta, pair, baseline=LeaveOneOutMean())
                          for pair in pairs])
    standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(len(estimates))
    touched = np.count_nonzero(estimates, axis=0) >= 150
    assert touched.sum() >= 0.6 * len(truth)
    assert np.all(np.abs(estimates.mean(axis=0) - truth)[touched] <= 4.0 * standard_error[touched])
    plain = []
    for pair in pairs:
        mean_return = np.mean([path.rewards.sum() for path in pair])
        plain.append(estimators.likelihood_ratio(policy, theta, pair, baseline=mean_return))
    assert np.linalg.norm(np.mean(plain, axis=0) - truth) > 5.0 * np.linalg.norm(standard_error)


@pytest.mark.parametrize("per_decision", [False, True], ids=["whole-path", "per-decision"])
def test_discounted_likelihood_ratio_and_importance_sampling_are_unbiased(setup, per_decision):
    """R(tau) = sum_t gamma^t r_t (Eq. 1) in Eqs. (5), (7), (8): unbiased for grad U_gamma at gamma = 0.8,
    and distinguishable from grad U_1, which an estimator ignoring gamma would estimate."""
    env, policy, theta_old, paths = setup
    gamma = 0.8
    terms = estimators.likelihood_ratio(policy, theta_old, paths, baseline=LeaveOneOutMean(), gamma=gamma,
                                        per_path=True)
    assert_unbiased(terms, exact.gradient(env, policy, theta_old, HORIZON, gamma),
                    wrong=exact.gradient(env, policy, theta_old, HORIZON))
    theta = theta_old + 0.1 * np.random.default_rng(13).standard_normal(policy.n_params)
    terms = estimators.importance_sampled(policy, theta, theta_old, paths, per_decision=per_decision, gamma=gamma,
                                          per_path=True)
    assert_unbiased(terms, exact.gradient(env, policy, theta, HORIZON, gamma),
                    wrong=exact.gradient(env, policy, theta, HORIZON))


def independent_sum(policy, theta, paths, weights):
    """1/m sum_i sum_t score_t psi_t from one score at a time (grad_log_prob), not from path_scores."""
    total = np.zeros(policy.n_params)
    for path, psi in zip(paths, weights):
        for obs, action, weight in zip(path.observations, path.actions, psi):
            total += policy.grad_log_prob(theta, obs, action) * weight
    return total / len(paths)


def test_each_estimator_is_the_one_sum_with_its_psi(setup):
    """Every estimator equals policy_gradient with its psi written out here, from the paths alone."""
    _, policy, theta, paths = setup
    few, gamma, b = paths[:40], 0.9, -0.3
    theta_new = theta + 0.1 * np.random.default_rng(15).standard_normal(policy.n_params)
    discounts = [gamma ** np.arange(len(p)) for p in few]
    returns = [np.sum(d * p.rewards) for d, p in zip(discounts, few)]
    to_go = [np.array([np.sum(gamma ** np.arange(len(p) - t) * p.rewards[t:]) for t in range(len(p))]) for p in few]
    log_w = [np.cumsum([policy.log_prob(theta_new, s, u) - policy.log_prob(theta, s, u)
                        for s, u in zip(p.observations, p.actions)]) for p in few]
    critic = TDCritic(policy.n_features, lr=0.5)
    critic.fit(paths[40:80], gamma)
    td = [critic.td_errors(p, gamma) for p in few]
    gae = [np.array([np.sum((gamma * 0.5) ** np.arange(len(p) - t) * d[t:]) for t in range(len(p))])
           for p, d in zip(few, td)]
    cases = [
        (estimators.likelihood_ratio(policy, theta, few, baseline=b, gamma=gamma), theta,
         [np.full(len(p), r - b) for p, r in zip(few, returns)]),
        (estimators.reward_to_go(policy, theta, few, baseline=b, gamma=gamma), theta, [g - b for g in to_go]),
        (estimators.reward_to_go(policy, theta, few, baseline=b, gamma=gamma, discount_weighting=True), theta,
         [d * (g - b) for d, g in zip(discounts, to_go)]),
        (estimators.importance_sampled(policy, theta_new, theta, few, gamma=gamma), theta_new,
         [np.full(len(p), np.exp(lw[-1]) * r) for p, lw, r in zip(few, log_w, returns)]),
        (estimators.importance_sampled(policy, theta_new, theta, few, per_decision=True, gamma=gamma), theta_new,
         [np.array([np.sum(np.exp(lw[t:]) * d[t:] * p.rewards[t:]) for t in range(len(p))])
          for p, lw, d in zip(few, log_w, discounts)]),
        (estimators.actor_critic(policy, theta, few, critic, gamma=gamma, lam=0.5), theta, gae),
    ]
    for estimate, theta_at, psi in cases:
        np.testing.assert_allclose(estimate, independent_sum(policy, theta_at, few, psi), rtol=1e-10, atol=1e-12)


def test_path_score_is_the_sum_of_the_step_scores(setup):
    """Eq. (4): grad log P(tau) = sum_t grad log pi(u_t|s_t), summed here one step at a time."""
    _, policy, theta, paths = setup
    for path in paths[:5]:
        expected = independent_sum(policy, theta, [path], [np.ones(len(path))])
        assert np.linalg.norm(expected) > 0.1
        np.testing.assert_allclose(estimators.path_score(policy, theta, path), expected, rtol=1e-10, atol=1e-12)


def test_actor_critic_on_a_tabular_env_ends_at_the_horizon_and_is_unbiased():
    """The gridworld is judged by its exact U over H = 50 steps: nothing is collected after the limit, so the
    critic the training config builds there must not bootstrap V(s_H). At theta = 0, 29% of 3,000 paths are cut at
    step 50; with lam = 1 and a critic fitted on 1,000 other paths, then frozen, psi_t = G_t - V(s_t) is unbiased
    for grad U_50 within 4 SE in every touched coordinate. Bootstrapping V(s_50) misses it by ~1.6 of |grad U| = 2.5
    (max z ~11)."""
    from minipg.train import make_value, settings

    env = envs.make("gridworld")
    policy = SoftmaxPolicy(env.observation_dim, env.n_actions)
    theta = np.zeros(policy.n_params)
    critic = make_value(settings("gridworld", estimator="actor-critic"), env)
    critic.fit(sample_paths(env, policy, theta, 1000, np.random.default_rng(1)), 1.0)
    paths = sample_paths(env, policy, theta, 3000, np.random.default_rng(2))
    assert 0.2 < np.mean([path.truncated for path in paths]) < 0.4
    terms = estimators.actor_critic(policy, theta, paths, critic, gamma=1.0, lam=1.0, per_path=True)
    assert_unbiased(terms, exact.gradient(env, policy, theta, env.max_episode_steps))


class ExactCritic(Critic):
    """V_t(s) of the oracle, the state read off its one-hot observation and t counted from the episode's start."""

    def __init__(self, env, policy, theta):
        _, self.values = exact.q_values(env, exact.policy_table(env, policy, theta), env.max_episode_steps, 1.0)
        self.bootstrap_truncated = False  # as train builds it for a tabular env: U counts H steps only

    def state_values(self, path):
        states = np.vstack([path.observations, path.final_observation]).argmax(axis=1)
        values = self.values[path.first_step + np.arange(len(path) + 1), states]
        if self.ends_at_zero(path):
            values[-1] = 0.0
        return values


class EndsEveryCutCritic(ExactCritic):
    """The bug: a path cut by the batch taken for one cut by the time limit, V(s_T) = 0."""

    def ends_at_zero(self, path):
        return path.terminated or not self.bootstrap_truncated


def one_hot_corridor():
    """Sutton & Barto's short corridor with each state seen as itself, so that a critic can know V(s)."""
    env = envs.make("corridor")
    env.state_observations, env.observation_dim = np.eye(env.n_states), env.n_states
    return env


def episode_terms(policy, theta, batches, critic, n_envs, steps):
    """Eq. (13)'s terms of every episode that ended, each summed over the segments the batches cut it into."""
    episodes, running = [], np.zeros((n_envs, policy.n_params))
    for paths in batches:
        terms = estimators.actor_critic(policy, theta, paths, critic, gamma=1.0, lam=0.5, per_path=True)
        env_of_path = np.searchsorted(np.cumsum([len(path) for path in paths]), np.arange(1, n_envs + 1) * steps)
        for i, (path, term) in enumerate(zip(paths, terms)):
            k = np.searchsorted(env_of_path, i)  # env k's paths come after env k - 1's and fill its `steps`
            running[k] += term
            if not path.cut:
                episodes.append(running[k].copy())
                running[k] = 0.0
    return np.array(episodes)


@pytest.mark.parametrize("make_env, batches, right", [(lambda: envs.make("gridworld"), 300, 1.0),
                                                      (one_hot_corridor, 150, 0.0)], ids=["gridworld", "corridor"])
def test_segments_cut_by_the_batch_are_bootstrapped_on_a_tabular_env(make_env, batches, right):
    """A batch of 16 envs x 3 steps, as PPO samples it, cuts an episode every 3 steps; only the horizon H and
    termination end one at V = 0. With the exact V_t(s) as the critic and lam = 0.5, the terms of each whole
    episode, summed over its segments, are unbiased for grad U_H: within 4 SE in every coordinate at least 300
    episodes touch (fixed seeds, over 1,000 episodes). Taking V(s_T) = 0 at every cut, as if time were up, misses
    grad U by more than 5 SE (measured: 7 and 16)."""
    from minipg.rollout import OneByOne

    env = make_env()
    policy = SoftmaxPolicy(env.observation_dim, env.n_actions)
    theta = 0.5 * np.random.default_rng(30).standard_normal(policy.n_params)
    theta.reshape(policy.n_actions, -1)[1] += right  # the gridworld's goal is on the right: shorter episodes
    sampler = OneByOne(make_env, 16, seed=31)
    segments = [sampler.sample(policy, theta, 3) for _ in range(batches)]
    terms = episode_terms(policy, theta, segments, ExactCritic(env, policy, theta), 16, 3)
    wrong = episode_terms(policy, theta, segments, EndsEveryCutCritic(env, policy, theta), 16, 3)
    truth = exact.gradient(env, policy, theta, env.max_episode_steps)
    standard_error = terms.std(axis=0, ddof=1) / np.sqrt(len(terms))
    touched = np.count_nonzero(terms, axis=0) >= 300
    assert len(terms) > 1000 and touched.sum() >= 8
    assert np.all(np.abs(terms.mean(axis=0) - truth)[touched] <= 4.0 * standard_error[touched])
    assert np.linalg.norm(truth - wrong.mean(axis=0)) > 5.0 * np.linalg.norm(standard_error)


def clipped_surrogate(policy, theta, steps, advantages, clip):
    """Eq. (21) written out: 1/N sum_t min(r_t A_t, clip(r_t, 1 - eps, 1 + eps) A_t), r_t from log_prob step by step."""
    ratios = np.exp([policy.log_prob(theta, s, u) - old for s, u, old in
                     zip(steps.observations, steps.actions, steps.log_probs)])
    return np.mean(np.minimum(ratios * advantages, np.clip(ratios, 1 - clip, 1 + clip) * advantages))


@pytest.fixture(scope="module", params=["softmax", "gaussian"])
def ppo_batch(request):
    """Cart-pole steps drawn at theta_old, advantages of both signs, and a theta far enough away that many ratios are
    clipped."""
    from minipg.policies import GaussianPolicy
    from minipg.rollout import Steps

    env = envs.make("cartpole" if request.param == "softmax" else "cartpole-continuous")
    policy = SoftmaxPolicy(4, 2) if request.param == "softmax" else GaussianPolicy(4, 1)
    rng = np.random.default_rng(21)
    theta_old = 0.5 * rng.standard_normal(policy.n_params)
    paths = sample_paths(env, policy, theta_old, 4, rng)
    advantages = rng.standard_normal(sum(len(path) for path in paths))
    shift = 1.0 if request.param == "softmax" else 0.3
    theta = theta_old + shift * rng.standard_normal(policy.n_params)
    return policy, theta_old, theta, paths, Steps.of(paths), advantages


def test_ppo_gradient_is_the_derivative_of_the_clipped_surrogate(ppo_batch):
    """Central differences of L (h = 1e-6) away from the kinks r = 1 +- eps, where L is smooth."""
    policy, _, theta, _, steps, advantages = ppo_batch
    psi = estimators.ppo_psi(policy, theta, steps, advantages, 0.2)
    ratios = np.exp(policy.path_log_probs(theta, steps.observations, steps.actions) - steps.log_probs)
    assert np.min(np.abs(np.abs(ratios - 1) - 0.2)) > 1e-4  # no ratio on a kink
    assert 0.1 < np.mean(psi == 0) < 0.9  # both kinds of steps present
    analytic = estimators.policy_gradient(policy, theta, [steps], [psi])
    numeric = central_difference(lambda th: clipped_surrogate(policy, th, steps, advantages, 0.2), theta)
    assert relative_error(analytic, numeric) < 1e-6 and np.linalg.norm(analytic) > 1e-2


def test_ppo_at_theta_old_is_the_policy_gradient_with_the_same_advantages(ppo_batch):
    """r = 1 and nothing clipped: the one sum with psi = A / N, i.e. Eq. (13)'s 1/m sum times m / N."""
    policy, theta_old, _, paths, steps, advantages = ppo_batch
    ppo = estimators.policy_gradient(policy, theta_old, [steps], [estimators.ppo_psi(policy, theta_old, steps,
                                                                                      advantages, 0.2)])
    per_path = np.split(advantages, np.cumsum([len(path) for path in paths])[:-1])
    plain = estimators.policy_gradient(policy, theta_old, paths, per_path)
    np.testing.assert_allclose(ppo, plain * len(paths) / len(steps), rtol=1e-12, atol=1e-14)


def test_ppo_gives_no_push_past_the_clip_in_the_direction_the_advantage_favours(ppo_batch):
    """psi_t = 0 exactly where r_t > 1 + eps with A_t > 0 or r_t < 1 - eps with A_t < 0, and r_t A_t / N elsewhere."""
    policy, _, theta, _, steps, advantages = ppo_batch
    ratios = np.exp([policy.log_prob(theta, s, u) - old for s, u, old in
                     zip(steps.observations, steps.actions, steps.log_probs)])
    psi = estimators.ppo_psi(policy, theta, steps, advantages, 0.2)
    past = ((ratios > 1.2) & (advantages > 0)) | ((ratios < 0.8) & (advantages < 0))
    assert past.any() and not past.all()
    assert np.all(psi[past] == 0.0)
    np.testing.assert_allclose(psi[~past], ratios[~past] * advantages[~past] / len(steps), rtol=1e-12)


def test_ppo_reads_log_pi_old_from_the_paths(ppo_batch):
    """Changing the recorded log pi_old changes every ratio: the ratio divides by what the path recorded."""
    from minipg.rollout import Steps

    policy, theta_old, _, _, steps, advantages = ppo_batch
    shifted = Steps(steps.observations, steps.actions, steps.log_probs + 0.05)
    psi = estimators.ppo_psi(policy, theta_old, shifted, advantages, 0.2)
    np.testing.assert_allclose(psi, np.exp(-0.05) * advantages / len(steps), rtol=1e-12)


def test_normalised_advantages_have_mean_0_and_standard_deviation_1():
    advantages = np.random.default_rng(22).normal(3.0, 7.0, size=64)
    normalised = estimators.normalised(advantages)
    assert abs(normalised.mean()) < 1e-15 and normalised.std() == pytest.approx(1.0, rel=1e-14)
    assert np.array_equal(estimators.normalised(np.full(5, 2.0)), np.zeros(5))


# THE ORACLE HOLDS FOR A NETWORK: Eq. (4) needs only grad log pi, whatever pi is

NETWORK_PATHS = 4000


@pytest.fixture(scope="module")
def network_setup():
    """The gridworld with a network policy, one tanh layer of 6 (160 parameters), at theta ~ N(0, 1), which reaches
    the goal often enough for its gradient to stand > 10 SE from 0; NETWORK_PATHS paths sampled once for every
    estimator."""
    env = envs.make("gridworld")
    policy = SoftmaxPolicy(env.observation_dim, env.n_actions, hidden=(6,))
    theta = np.random.default_rng(4).standard_normal(policy.n_params)
    paths = sample_paths(env, policy, theta, NETWORK_PATHS, np.random.default_rng(21), horizon=HORIZON)
    return env, policy, theta, paths


def network_terms_and_truth(name, env, policy, theta, paths):
    """(per-path terms, exact.gradient they must average to) of the estimator `name`."""
    truth = exact.gradient(env, policy, theta, HORIZON)
    if name == "likelihood-ratio":
        return estimators.likelihood_ratio(policy, theta, paths, per_path=True), truth
    if name == "likelihood-ratio, leave-one-out":
        return estimators.likelihood_ratio(policy, theta, paths, baseline=LeaveOneOutMean(), per_path=True), truth
    if name == "reward-to-go":
        return estimators.reward_to_go(policy, theta, paths, per_path=True), truth
    if name == "reward-to-go, fitted baseline":
        baseline = fitted_baseline(env, policy, theta)
        return estimators.reward_to_go(policy, theta, paths, baseline=baseline, per_path=True), truth
    if name == "discount weighting":
        return (estimators.reward_to_go(policy, theta, paths, gamma=0.8, discount_weighting=True, per_path=True),
                exact.gradient(env, policy, theta, HORIZON, 0.8))
    if name.startswith("importance"):
        theta_new = theta + 0.1 * np.random.default_rng(22).standard_normal(policy.n_params)
        return (estimators.importance_sampled(policy, theta_new, theta, paths, per_decision=name.endswith("decision"),
                                              per_path=True), exact.gradient(env, policy, theta_new, HORIZON))
    if name == "actor-critic, exact critic":  # lam = 0: E[r_t + V_t+1(s_t+1) - V_t(s_t) | s_t, u_t] = A_t(s_t, u_t)
        _, values = exact.q_values(env, exact.policy_table(env, policy, theta), HORIZON, 1.0)
        return estimators.actor_critic(policy, theta, paths, ValueTableCritic(values), gamma=1.0, lam=0.0,
                                       per_path=True), truth
    critic = RegressionCritic(env.observation_dim, bootstrap_truncated=False)  # H is the objective's: V(s_H) = 0
    critic.fit(sample_paths(env, policy, theta, 500, np.random.default_rng(23), horizon=HORIZON), 1.0)
    return estimators.actor_critic(policy, theta, paths, critic, gamma=1.0, lam=1.0, per_path=True), truth


def assert_unbiased_along_the_truth(terms, truth):
    """|mean - truth| <= 4 SE in every coordinate that a tenth of the paths touch, as assert_unbiased, with power
    measured where a bug moves the mean: the truth more than 10 SE from 0 along its own direction (a sign error or a
    lost factor in the scores shifts the mean along it; in norm, 160 coordinates' SEs add up).

    The network's first layer reads a one-hot state: its weights from a state are touched only by the paths
    through it. Such a coordinate, 0 in most paths, is skewed and its sample SE unreliable: touched by a twentieth
    of these 4,000 paths, one stood 4.6 of its SEs off (5.3 at 300 of 6,000 paths), a fluke of its tail that two
    other draws of 6,000 paths put within 2.7. The biases and the head, touched by every path, are all kept.
    """
    mean = terms.mean(axis=0)
    standard_error = terms.std(axis=0, ddof=1) / np.sqrt(len(terms))
    touched = np.count_nonzero(terms, axis=0) >= len(terms) // 10
    assert touched.sum() >= 0.5 * len(truth)
    assert np.all(np.abs(mean - truth)[touched] <= 4.0 * standard_error[touched])
    direction = truth / np.linalg.norm(truth)
    assert np.linalg.norm(truth) > 10.0 * np.std(terms @ direction, ddof=1) / np.sqrt(len(terms))


@pytest.mark.parametrize("name", ["likelihood-ratio", "likelihood-ratio, leave-one-out", "reward-to-go",
                                  "reward-to-go, fitted baseline", "discount weighting", "importance, whole path",
                                  "importance, per decision", "actor-critic, exact critic",
                                  "actor-critic, fitted critic"])
def test_every_estimator_is_unbiased_for_a_network_policy(network_setup, name):
    """Every estimator with a network's scores, the body's parameters too, against exact.gradient: 4 SE in every
    coordinate touched by 400 paths, the truth 15-61 SE from 0 along its direction. actor-critic: lam = 0 with the
    oracle's V_t(s), lam = 1 (G_t - V(s_t)) with a regression critic fitted on 500 other paths."""
    env, policy, theta, paths = network_setup
    terms, truth = network_terms_and_truth(name, env, policy, theta, paths)
    assert_unbiased_along_the_truth(terms, truth)
    assert np.linalg.norm(truth[: policy.n_body_params]) > 0.1 * np.linalg.norm(truth)  # the body carries the gradient
