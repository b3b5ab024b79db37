"""Every estimator against the exact gradient: unbiased where the README says so, biased where it says so,
and ordered in variance as the derivation predicts.

Statistical tests draw N_PATHS paths with a fixed seed and compare the mean of the per-path terms with
exact.gradient coordinate by coordinate: the tolerance is 4 standard errors of that mean (the SE is
measured from the same per-path terms), while the gradient coordinates are many SEs from 0, so a sign
error or a missing term fails.
"""
import ast
import pathlib

import numpy as np
import pytest

import envs
from minipg import estimators, exact
from minipg.baselines import LinearValueBaseline, TimeIndexedBaseline, discounted_returns
from minipg.policies import SoftmaxPolicy
from minipg.rollout import sample_paths

HORIZON = 12
N_PATHS = 6000


@pytest.fixture(scope="module")
def setup():
    """Gridworld with slip at a fixed, non-trivial theta; paths sampled once for the whole module."""
    env = envs.make("gridworld")
    policy = SoftmaxPolicy(env.observation_dim, env.n_actions)
    theta = 0.5 * np.random.default_rng(10).standard_normal(policy.n_params)
    paths = sample_paths(env, policy, theta, N_PATHS, np.random.default_rng(11), horizon=HORIZON)
    return env, policy, theta, paths


def assert_unbiased(terms, truth):
    """|mean - truth| <= 4 SE in every coordinate that at least 300 paths touch.

    A coordinate of a rarely visited state is 0 in all but a handful of paths; its mean is then far from
    normal and its sample SE unreliable, so the 4-SE band means nothing there. The touched coordinates
    carry almost all of the gradient and are checked below to be many SEs from 0.
    """
    mean = terms.mean(axis=0)
    standard_error = terms.std(axis=0, ddof=1) / np.sqrt(len(terms))
    touched = np.count_nonzero(terms, axis=0) >= 300
    assert touched.sum() >= 0.6 * len(truth)
    assert np.all(np.abs(mean - truth)[touched] <= 4.0 * standard_error[touched])
    # the test has power: the gradient is far outside the error band in norm
    assert np.linalg.norm(truth) > 10.0 * np.linalg.norm(standard_error)


def total_variance(terms):
    """trace Cov(per-path terms) = sum of coordinate variances."""
    return float(np.sum(terms.var(axis=0, ddof=1)))


def fitted_baseline(env, policy, theta):
    """A LinearValueBaseline fitted on an independent earlier batch, as training uses it."""
    baseline = LinearValueBaseline()
    earlier = sample_paths(env, policy, theta, 500, np.random.default_rng(12), horizon=HORIZON)
    baseline.fit(earlier, [discounted_returns(p.rewards, 1.0) for p in earlier])
    return baseline


@pytest.mark.parametrize("baseline", [0.0, -0.3, "mean"])
def test_likelihood_ratio_is_unbiased(setup, baseline):
    env, policy, theta, paths = setup
    terms = estimators.likelihood_ratio(policy, theta, paths, baseline=baseline, per_path=True)
    assert_unbiased(terms, exact.gradient(env, policy, theta, HORIZON))


@pytest.mark.parametrize("kind", ["none", "constant", "time", "fitted", "callable"])
def test_reward_to_go_is_unbiased(setup, kind):
    env, policy, theta, paths = setup
    baseline = {
        "none": None,
        "constant": -0.3,
        "time": TimeIndexedBaseline(),
        "fitted": fitted_baseline(env, policy, theta) if kind == "fitted" else None,
        "callable": lambda obs, t: 0.1 * t - obs[0],
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
    weights, ess = estimators.importance_weights(policy, theta, theta, few)
    np.testing.assert_array_equal(weights, 1.0)
    assert ess == pytest.approx(500.0)
    shifted = theta + 1.0 * np.random.default_rng(14).standard_normal(policy.n_params)
    assert estimators.importance_weights(policy, shifted, theta, few)[1] < 250.0


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
    """Eq. (4) as code: sampling and every estimator run on envs with no P or R at all."""
    for env in [ModelHidden(envs.make("gridworld")), envs.make("cartpole")]:
        assert not hasattr(env, "P") and not hasattr(env, "R")
        policy = SoftmaxPolicy(env.observation_dim, env.n_actions)
        theta = np.zeros(policy.n_params)
        paths = sample_paths(env, policy, theta, 3, np.random.default_rng(0), horizon=20)
        for gradient in [
            estimators.likelihood_ratio(policy, theta, paths),
            estimators.reward_to_go(policy, theta, paths, baseline=TimeIndexedBaseline()),
            estimators.importance_sampled(policy, theta, theta, paths, per_decision=True),
        ]:
            assert gradient.shape == (policy.n_params,) and np.all(np.isfinite(gradient))


@pytest.mark.parametrize("module", ["estimators", "rollout", "baselines"])
def test_estimator_code_never_imports_a_model(module):
    source = (pathlib.Path(__file__).parents[1] / "minipg" / f"{module}.py").read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported |= {node.module}
    assert not imported & {"envs", "minipg.exact"}
    assert not any(f".{name}" in source for name in ("P[", "P @", "R[", "start", "terminal["))


def test_variance_command_prints_every_estimator_and_writes_the_plot(tmp_path, capsys):
    from minipg.variance import estimator_rows, main

    out = tmp_path / "variance.png"
    main(["--batches", "3", "--episodes", "10", "--horizon", "6", "--out", str(out)])
    printed = capsys.readouterr().out
    names = [row[0] for row in estimator_rows(None, None, None, 1)]
    assert all(name in printed for name in names) and out.stat().st_size > 0
