"""The derivation evaluated: every line of it gives the same grad U over an enumeration of all trajectories,
the terms it drops sum to 0, the compatible critic is the natural gradient, and planted errors show.

Tolerances: the exact forms are the same finite sum in different orders, so they agree to rounding
(~1e-16 here; the tests allow 1e-10); central differences with h = 1e-5 carry an error of order
h^2 |U'''| + 1e-16 / h ~ 1e-10 (the tests allow 1e-7). Each problem's gradient is checked to be far above
these tolerances, so a wrong sign or a missing factor cannot hide under them.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

import envs
from envs.gridworld import GridWorld, TwoRooms
from minipg import estimators, exact
from minipg.lab import compatible, derivation, enumeration
from minipg.returns import discounted_cumsum
from minipg.io.cli import run_cli
from minipg.baselines import LeaveOneOutMean
from minipg.policies import GaussianPolicy, SoftmaxPolicy
from minipg.rollout import sample_paths
from tests.helpers import ValueTableCritic, central_difference, relative_error

OPEN = """
...
.S.
..G
"""

PROBLEMS = {
    "two-rooms H=4": (TwoRooms, 4),
    "gridworld H=3": (lambda: envs.make("gridworld"), 3),
    "open 3x3 gridworld H=3": (lambda: GridWorld(OPEN, slip=0.2), 3),
}


def problem_at(name, gamma, seed=0, hidden=()):
    """(env, policy, theta, theta_old, horizon) with theta ~ N(0, 1) and theta_old = theta + N(0, 0.5^2); the policy
    linear, or a network of the given hidden layers."""
    make_env, horizon = PROBLEMS[name]
    env = make_env()
    policy = SoftmaxPolicy(env.observation_dim, env.n_actions, hidden=hidden)
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(policy.n_params)
    return env, policy, theta, theta + 0.5 * rng.standard_normal(policy.n_params), horizon


# Networks whose F has its non-zero eigenvalues within a factor 1e6 of each other: two layers of (4, 3) on the open grid
# spread them over 1e9, and the two least-norm solves of Eq. (20) then agree to 1e-7 of |F^+ grad U| only.
NETWORK_PROBLEMS = [("two-rooms H=4", 1.0, (3, 2)), ("open 3x3 gridworld H=3", 0.9, (3,))]


@pytest.fixture(scope="module", params=[(name, gamma, ()) for name in PROBLEMS for gamma in (1.0, 0.9)]
                + NETWORK_PROBLEMS, ids=lambda p: f"{p[0]}, gamma={p[1]}" + (f", hidden={p[2]}" if p[2] else ""))
def evaluated(request):
    """The enumeration, its forms and its dropped terms, computed once per problem: the derivation holds whatever pi
    is (Eq. 4), a linear policy or a network."""
    name, gamma, hidden = request.param
    env, policy, theta, theta_old, horizon = problem_at(name, gamma, hidden=hidden)
    problem = enumeration.Enumeration.of(env, policy, theta, theta_old, horizon, gamma)
    return problem, derivation.forms_of(problem), derivation.vanishing_terms_of(problem)


def test_two_rooms_is_a_proper_mdp():
    env = TwoRooms()
    np.testing.assert_allclose(env.P.sum(axis=2), 1.0, rtol=0, atol=1e-15)
    assert env.start.sum() == 1.0 and np.all(env.P[env.terminal][:, :, env.terminal] == 1.0)
    assert np.count_nonzero(env.P[0, 1]) == 2 and np.count_nonzero(env.P[1, 1]) == 2  # the slips


def test_enumerated_probabilities_sum_to_one(evaluated):
    problem, _, _ = evaluated
    probabilities = enumeration.trajectory_probabilities(problem)
    assert np.all(probabilities > 0) and abs(probabilities.sum() - 1.0) < 1e-12
    assert len(problem.trajectories) == enumeration.count_trajectories(problem.env, problem.horizon)
    assert len(set(problem.trajectories)) == len(problem.trajectories)


def test_paths_end_at_a_terminal_state_or_the_horizon(evaluated):
    problem, _, _ = evaluated
    for tau in problem.trajectories:
        ended = problem.env.terminal[tau.states[-1]]
        assert len(tau.actions) == problem.horizon or (ended and len(tau.actions) < problem.horizon)
        assert not any(problem.env.terminal[s] for s in tau.states[:-1])


def test_gridworld_enumeration_includes_paths_that_terminate_early():
    env, _, _, _, horizon = problem_at("open 3x3 gridworld H=3", 1.0)
    lengths = {len(tau.actions) for tau in enumeration.enumerate_trajectories(env, horizon)}
    assert lengths == {2, 3}


def test_enumerated_return_is_the_oracles(evaluated):
    problem, _, _ = evaluated
    expected = exact.expected_return(problem.env, problem.policy, problem.theta, problem.horizon, problem.gamma)
    assert abs(problem.expected_return() - expected) < 1e-12


def test_every_exact_form_agrees_with_every_other(evaluated):
    _, forms, _ = evaluated
    exact_forms = forms[:-1]
    assert max(derivation.largest_differences(exact_forms, len(exact_forms))) < 1e-10
    assert min(np.linalg.norm(gradient) for _, gradient in forms) > 1e-4  # far above the tolerance


def test_finite_differences_agree_with_the_exact_forms(evaluated):
    _, forms, _ = evaluated
    assert forms[-1][0].startswith("finite")
    assert derivation.largest_differences(forms, len(forms) - 1)[-1] < 1e-7


def test_dropped_terms_are_zero(evaluated):
    _, _, terms = evaluated
    assert len(terms) == 3
    for label, vector in terms:
        assert np.max(np.abs(vector)) < 1e-12, label


def test_vanishing_terms_is_the_public_face_of_the_dropped_sums():
    env, policy, theta, _, horizon = problem_at("two-rooms H=4", 0.9, seed=4)
    terms = derivation.vanishing_terms(env, policy, theta, horizon, gamma=0.9)
    assert [label.split()[0] for label, _ in terms] == ["(3)→(4)", "(4)→(10)", "(10)"]
    assert all(np.max(np.abs(vector)) < 1e-12 for _, vector in terms)


def test_past_rewards_and_baseline_terms_vanish_only_in_sum():
    """Each dropped sum is 0 only after summing over trajectories: trajectory by trajectory it is not, so the
    test above would catch a form that kept a wrong share of them."""
    env, policy, theta, theta_old, horizon = problem_at("two-rooms H=4", 0.9)
    problem = enumeration.Enumeration.of(env, policy, theta, theta_old, horizon, 0.9)
    baseline = problem.value_baseline()
    per_trajectory = [enumeration.reward_to_go_terms(env, problem.tables, baseline, [tau], 0.9)
                      for tau in problem.trajectories]
    assert max(np.max(np.abs(past)) for _, past, _ in per_trajectory) > 1e-2
    assert max(np.max(np.abs(dropped)) for _, _, dropped in per_trajectory) > 1e-2


@pytest.mark.parametrize("hidden", [(), (5,)], ids=["linear", "network"])
def test_probability_gradient_matches_finite_differences(hidden):
    policy = SoftmaxPolicy(3, 4, hidden=hidden)
    rng = np.random.default_rng(5)
    for _ in range(5):
        theta, obs = rng.standard_normal(policy.n_params), rng.standard_normal(3)
        for action in range(4):
            numeric = central_difference(lambda th: policy.probs(th, obs)[action], theta)
            assert relative_error(enumeration.probability_gradient(policy, theta, obs, action), numeric) < 1e-8


class FlippedScore(SoftmaxPolicy):
    """A planted bug: the score of action 1 in the first state has the wrong sign, step by step and path by path."""

    def grad_log_prob(self, theta, obs, action):
        score = super().grad_log_prob(theta, obs, action)
        return -score if action == 1 and obs[0] == 1.0 else score

    def path_scores(self, theta, observations, actions):
        scores = super().path_scores(theta, observations, actions)
        flipped = (np.asarray(actions) == 1) & (observations[:, 0] == 1.0)
        scores[flipped] *= -1.0
        return scores


def test_a_sign_flip_in_one_score_makes_the_forms_disagree():
    env, _, theta, theta_old, horizon = problem_at("two-rooms H=4", 1.0)
    forms = derivation.gradient_forms(env, FlippedScore(env.observation_dim, env.n_actions), theta, theta_old,
                                      horizon)
    product_rule, finite = forms[0][1], forms[-1][1]
    assert np.max(np.abs(product_rule - finite)) < 1e-7   # neither uses the score ...
    for label, gradient in forms[1:-1]:                   # ... and every form that does disagrees
        assert np.max(np.abs(gradient - product_rule)) > 1e-3, label


def test_a_missing_discount_weighting_makes_reward_to_go_disagree():
    """Eq. (10) with gamma < 1, i.e. Eq. (11) without gamma^t, over the same enumeration: biased for U_gamma."""
    gamma = 0.9
    env, policy, theta, theta_old, horizon = problem_at("two-rooms H=4", gamma)
    problem = enumeration.Enumeration.of(env, policy, theta, theta_old, horizon, gamma)
    without_gamma_t = 0.0
    for tau in problem.trajectories:
        probability = enumeration.trajectory_probability(env, problem.tables.pi, tau)
        to_go = discounted_cumsum(np.array(tau.rewards), gamma)
        for t, s, u, _ in enumeration.steps(tau):
            without_gamma_t = without_gamma_t + probability * problem.tables.scores[s, u] * to_go[t]
    truth = exact.gradient(env, policy, theta, horizon, gamma)
    assert np.max(np.abs(without_gamma_t - truth)) > 1e-3


@pytest.mark.parametrize("name, gamma, hidden", [(name, gamma, ()) for name in PROBLEMS for gamma in (1.0, 0.9)]
                         + NETWORK_PROBLEMS, ids=lambda value: str(value) if isinstance(value, tuple) else None)
def test_compatible_critic_weights_are_the_natural_gradient(name, gamma, hidden):
    env, policy, theta, _, horizon = problem_at(name, gamma, hidden=hidden)
    natural = compatible.natural_gradient(env, policy, theta, horizon, gamma)
    critic = compatible.compatible_critic_weights(env, policy, theta, horizon, gamma)
    assert np.max(np.abs(critic - natural)) < 1e-8
    assert np.linalg.norm(natural) > 1e-3
    fisher = compatible.state_weighted_fisher(env, policy, theta, horizon, gamma)
    eigenvalues, eigenvectors = np.linalg.eigh(fisher)
    null = eigenvectors[:, eigenvalues < 1e-10 * eigenvalues.max()]
    assert null.shape[1] >= env.n_states           # F is singular: a logit shift per state at least
    assert np.max(np.abs(null.T @ natural)) < 1e-10  # and both are its least-norm solution


def test_natural_gradient_with_a_different_weighting_is_not_the_critic():
    """F must weigh the decisions as the fit does: without gamma^t in F the identity fails at gamma < 1."""
    env, policy, theta, _, horizon = problem_at("two-rooms H=4", 0.9)
    unweighted = compatible.minimum_norm_solve(compatible.state_weighted_fisher(env, policy, theta, horizon, 1.0),
                                               exact.gradient(env, policy, theta, horizon, 0.9))
    critic = compatible.compatible_critic_weights(env, policy, theta, horizon, 0.9)
    assert np.max(np.abs(critic - unweighted)) > 1e-3


def test_natural_gradient_on_the_slice_is_the_natural_gradient_in_theta():
    """The field's arrows, (V^T F V)^-1 V^T grad U on the two preferences, are where F^+ grad U moves them."""
    env = TwoRooms()
    policy = SoftmaxPolicy(env.observation_dim, env.n_actions)
    directions = derivation.preference_directions(policy)
    grid = np.array([-1.5, 0.5])
    gradients, naturals = derivation.slice_field(env, policy, 4, grid)
    for i, x_b in enumerate(grid):
        for j, x_a in enumerate(grid):
            theta = x_a * directions[0] + x_b * directions[1]
            np.testing.assert_allclose(derivation.preferences(env, policy, theta), [x_a, x_b], atol=1e-12)
            moved = derivation.preferences(env, policy, theta + compatible.natural_gradient(env, policy, theta, 4))
            np.testing.assert_allclose(moved - [x_a, x_b], naturals[i, j], atol=1e-10)
            numeric = central_difference(
                lambda x: exact.expected_return(env, policy, x[0] * directions[0] + x[1] * directions[1], 4),
                np.array([x_a, x_b]))
            np.testing.assert_allclose(gradients[i, j], numeric, atol=1e-8)


def test_sampled_estimators_are_unbiased_exactly_over_the_enumeration():
    env, policy, theta, theta_old, horizon = problem_at("two-rooms H=4", 1.0)
    problem = enumeration.Enumeration.of(env, policy, theta, theta_old, horizon)
    probabilities = enumeration.trajectory_probabilities(problem)
    truth = exact.gradient(env, policy, theta, horizon)
    for name, terms in derivation.estimator_terms(problem, np.random.default_rng(0)).items():
        mean, variance = derivation.exact_moments(terms, probabilities)
        assert np.max(np.abs(mean - truth)) < 1e-12, name
        assert variance > 0.1, name  # the terms differ from path to path: the identity is not 0 == 0


def test_sampler_draws_trajectories_with_their_enumerated_probabilities():
    """rollout.sample_paths against the enumeration the command draws its batches from: 4,000 paths, the
    frequency of every trajectory within 4.5 standard errors sqrt(P (1 - P) / n) of P(tau; theta) (fixed seed)."""
    env, policy, theta, theta_old, horizon = problem_at("two-rooms H=4", 1.0)
    problem = enumeration.Enumeration.of(env, policy, theta, theta_old, horizon)
    probabilities = dict(zip(((tau.states, tau.actions) for tau in problem.trajectories),
                             enumeration.trajectory_probabilities(problem)))
    n = 4000
    counts = dict.fromkeys(probabilities, 0)
    for path in sample_paths(env, policy, theta, n, np.random.default_rng(7), horizon=horizon):
        states = tuple(int(s) for s in np.argmax(np.vstack([path.observations, path.final_observation]), axis=1))
        counts[(states, tuple(int(u) for u in path.actions))] += 1   # a KeyError would be a path not enumerated
    for key, probability in probabilities.items():
        assert abs(counts[key] / n - probability) <= 4.5 * np.sqrt(probability * (1 - probability) / n), key


def test_bad_problems_are_refused():
    env, policy, theta, _, _ = problem_at("gridworld H=3", 1.0)
    with pytest.raises(ValueError, match="more than"):
        derivation.gradient_forms(env, policy, theta, theta, 8)
    with pytest.raises(ValueError, match="tabular env"):
        derivation.gradient_forms(envs.make("cartpole"), SoftmaxPolicy(4, 2), np.zeros(10), np.zeros(10), 3)
    with pytest.raises(TypeError, match="SoftmaxPolicy"):
        derivation.gradient_forms(TwoRooms(), GaussianPolicy(3, 1), np.zeros(5), np.zeros(5), 3)
    with pytest.raises(ValueError, match="gamma"):
        derivation.gradient_forms(env, policy, theta, theta, 3, gamma=0.0)


def run_command(*args, cwd):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return subprocess.run([sys.executable, "-m", "minipg.lab.derivation", *args], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, "PYTHONPATH": root}, timeout=300)


def test_command_prints_every_form_and_writes_both_pictures(tmp_path):
    result = run_command("--out", str(tmp_path / "out"), "--seed", "3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    env, policy, theta, _, _ = problem_at("two-rooms H=4", 1.0)
    labels = [label for label, _ in derivation.gradient_forms(env, policy, theta, theta, 4)]
    for label in labels + ["past rewards", "the baseline", "least norm", "REINFORCE (5)", "rtg - fitted V (10)"]:
        assert label in result.stdout
    for name in ("gradient_field.png", "derivation.png"):
        assert (tmp_path / "out" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args, message", [(["--seed", "x"], "--seed"), (["--horizon", "3"], "unrecognized")])
def test_command_bad_flags_print_one_line_exit_2_and_write_nothing(tmp_path, capsys, args, message):
    assert run_cli(derivation.main, [*args, "--out", str(tmp_path / "out")]) == 2
    stderr = capsys.readouterr().err
    assert message in stderr and len(stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_command_refuses_an_out_that_is_a_file(tmp_path, capsys):
    (tmp_path / "taken").write_text("")
    assert run_cli(derivation.main, ["--out", str(tmp_path / "taken")]) == 2
    stderr = capsys.readouterr().err
    assert "taken" in stderr and len(stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def batch_expectation(problem, batches, baseline):
    """sum over enumerated batches of P(batch) g(batch), g the likelihood-ratio estimate with `baseline`."""
    paths = [enumeration.as_path(problem.env, problem.tables, tau) for tau in problem.trajectories]
    probabilities = enumeration.trajectory_probabilities(problem)
    return sum(np.prod(probabilities[list(batch)])
               * estimators.likelihood_ratio(problem.policy, problem.theta, [paths[k] for k in batch],
                                             baseline=baseline)
               for batch in batches)


def test_leave_one_out_mean_is_exactly_unbiased_for_a_fixed_number_of_paths():
    """m = 2, every ordered pair of TwoRooms' 120 trajectories: E[g] = grad U to rounding with b_i = R_j, while a
    batch mean that includes path i itself halves the signal and misses."""
    env, policy, theta, theta_old, horizon = problem_at("two-rooms H=4", 1.0)
    problem = enumeration.Enumeration.of(env, policy, theta, theta_old, horizon)
    pairs = [(a, b) for a in range(len(problem.trajectories)) for b in range(len(problem.trajectories))]
    truth = exact.gradient(env, policy, theta, horizon)
    assert np.max(np.abs(batch_expectation(problem, pairs, LeaveOneOutMean()) - truth)) < 1e-12
    returns = [estimators.path_return(tau, 1.0) for tau in problem.trajectories]
    paths = [enumeration.as_path(env, problem.tables, tau) for tau in problem.trajectories]
    probabilities = enumeration.trajectory_probabilities(problem)
    with_itself = sum(probabilities[a] * probabilities[b] * estimators.likelihood_ratio(
        policy, theta, [paths[a], paths[b]], baseline=(returns[a] + returns[b]) / 2) for a, b in pairs)
    assert np.max(np.abs(with_itself - truth)) > 1e-2


def test_a_batch_of_steps_biases_even_the_leave_one_out_mean():
    """--batch-steps: paths are drawn until the batch holds min_steps = 3 steps (m = 1), so how many other paths
    path i meets depends on its own length. Enumerated over every such batch (their probabilities sum to 1),
    E[g] misses grad U, with the leave-one-out baseline and without one."""
    env, policy, theta, theta_old, horizon = problem_at("two-rooms H=4", 1.0)
    problem = enumeration.Enumeration.of(env, policy, theta, theta_old, horizon)
    lengths = [len(tau.actions) for tau in problem.trajectories]
    batches = []

    def extend(batch, steps):
        if batch and steps >= 3:
            batches.append(batch)
            return
        for k, length in enumerate(lengths):
            extend(batch + (k,), steps + length)

    extend((), 0)
    probabilities = enumeration.trajectory_probabilities(problem)
    assert sum(np.prod(probabilities[list(batch)]) for batch in batches) == pytest.approx(1.0, abs=1e-12)
    truth = exact.gradient(env, policy, theta, horizon)
    for baseline in (0.0, LeaveOneOutMean()):
        assert np.linalg.norm(batch_expectation(problem, batches, baseline) - truth) > 0.1 * np.linalg.norm(truth)


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_per_decision_importance_sampling_gives_the_change_in_u_exactly(name):
    env, policy, theta, theta_old, horizon = problem_at(name, 0.9)
    change, pdis, _, _ = enumeration.surrogate_terms(enumeration.Enumeration.of(env, policy, theta, theta_old, horizon,
                                                                                0.9))
    assert change == pytest.approx(exact.expected_return(env, policy, theta, horizon, 0.9)
                                   - exact.expected_return(env, policy, theta_old, horizon, 0.9), abs=1e-12)
    assert abs(pdis - change) < 1e-12 and abs(change) > 1e-3


def test_the_surrogate_of_eq_18_is_right_to_first_order_only():
    """One ratio per decision ignores how theta moves the states: on TwoRooms (mean KL 0.13) the surrogate misses
    the change by 40%. It touches U at theta_old (same gradient, by finite differences), and the gap shrinks as
    the square of the step: a quarter for half the step."""
    env, policy, theta, theta_old, horizon = problem_at("two-rooms H=4", 1.0)

    def terms(at):
        return enumeration.surrogate_terms(enumeration.Enumeration.of(env, policy, at, theta_old, horizon))

    change, _, surrogate, kl = terms(theta)
    assert abs(surrogate - change) > 0.3 * abs(change) and kl > 0.1
    gradient = central_difference(lambda at: terms(at)[2], theta_old)
    np.testing.assert_allclose(gradient, exact.gradient(env, policy, theta_old, horizon), atol=1e-7)
    gaps = [terms(theta_old + scale * (theta - theta_old))[2] - terms(theta_old + scale * (theta - theta_old))[0]
            for scale in (0.02, 0.01)]
    assert gaps[1] / gaps[0] == pytest.approx(0.25, abs=0.02)


def test_what_actor_critic_and_importance_sampling_target_when_gamma_is_below_one():
    """gamma = 0.9 over every TwoRooms trajectory. Eq. (13) with the exact critic (lam = 1: psi_t = G_t - V_t(s_t))
    drops gamma^t: its mean is Eq. (10)'s, not grad U_gamma. Per-decision importance sampling at theta = theta_old
    weighs r_k by gamma^k, i.e. gamma^t G_t: it is Eq. (11), unbiased for U_gamma."""
    gamma = 0.9
    env, policy, theta, theta_old, horizon = problem_at("two-rooms H=4", gamma)
    problem = enumeration.Enumeration.of(env, policy, theta, theta_old, horizon, gamma)
    probabilities = enumeration.trajectory_probabilities(problem)
    paths = [enumeration.as_path(env, problem.tables, tau) for tau in problem.trajectories]
    _, v = exact.q_values(env, problem.tables.pi, horizon, gamma)
    critic = ValueTableCritic(v)

    def mean(terms):
        return probabilities @ terms

    truth = exact.gradient(env, policy, theta, horizon, gamma)
    actor_critic = mean(estimators.actor_critic(policy, theta, paths, critic, gamma=gamma, lam=1.0, per_path=True))
    without_gamma_t = estimators.policy_gradient(policy, theta, paths, [
        discounted_cumsum(p.rewards, gamma) - v[np.arange(len(p)), np.argmax(p.observations, axis=1)]
        for p in paths], per_path=True)
    np.testing.assert_allclose(actor_critic, mean(without_gamma_t), atol=1e-12)
    assert np.max(np.abs(actor_critic - truth)) > 1e-3
    importance = mean(estimators.importance_sampled(policy, theta, theta, paths, per_decision=True, gamma=gamma,
                                                    per_path=True))
    assert np.max(np.abs(importance - truth)) < 1e-12


def test_the_slice_puts_x_a_along_the_columns_and_x_b_along_the_rows():
    """U at x_A = 2, x_B = -1 differs from U at x_A = -1, x_B = 2; each is computed at a theta built apart from the
    slice's directions, W[go, A] = x_A and W[exit, B] = x_B (all else 0), which gives pi the same log-odds in A
    and B."""
    env = TwoRooms()
    policy = SoftmaxPolicy(env.observation_dim, env.n_actions)
    grid = np.array([-1.0, 2.0])

    def by_hand(x_a, x_b):
        weights = np.zeros((2, 4))  # (action, feature of A, B, exit, then the bias)
        weights[1, 0], weights[1, 1] = x_a, x_b
        np.testing.assert_allclose(derivation.preferences(env, policy, weights.ravel()), [x_a, x_b], atol=1e-12)
        return exact.expected_return(env, policy, weights.ravel(), 4)

    values = derivation.slice_values(env, policy, 4, grid)
    assert abs(by_hand(2.0, -1.0) - by_hand(-1.0, 2.0)) > 0.05
    for row, x_b in enumerate(grid):
        for column, x_a in enumerate(grid):
            assert values[row, column] == pytest.approx(by_hand(x_a, x_b), rel=1e-12)


def test_the_error_figures_dashed_lines_are_sqrt_of_trace_cov_over_m_from_the_enumeration(tmp_path, monkeypatch):
    """The command at seed 0, its derivation.png captured: for REINFORCE and reward-to-go, whose g(tau) need no
    fitted V, the dashed line at m is sqrt(sum_tau P(tau) |g(tau) - E g|^2 / m), with P and g worked from the
    enumeration here. (The gradient field's picture is not drawn: only the error figure is read.)"""
    from minipg.io import figures

    drawn = []
    monkeypatch.setattr(figures, "save_figure", lambda fig, path: drawn.append(fig))
    monkeypatch.setattr(derivation, "plot_gradient_field", lambda *args: None)
    monkeypatch.setattr(derivation, "slice_values", lambda *args: None)
    monkeypatch.setattr(derivation, "slice_field", lambda *args: (None, None))
    derivation.main(["--seed", "0", "--out", str(tmp_path / "out")])
    (fig,) = drawn
    env = TwoRooms()
    policy = SoftmaxPolicy(env.observation_dim, env.n_actions)
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(policy.n_params)
    problem = enumeration.Enumeration.of(env, policy, theta, theta + 0.5 * rng.standard_normal(policy.n_params), 4)
    paths = [enumeration.as_path(env, problem.tables, tau) for tau in problem.trajectories]
    probabilities = enumeration.trajectory_probabilities(problem)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    for name, terms in [("REINFORCE (5)", estimators.likelihood_ratio(policy, theta, paths, per_path=True)),
                        ("reward-to-go (10)", estimators.reward_to_go(policy, theta, paths, per_path=True))]:
        mean = np.sum(probabilities[:, None] * terms, axis=0)
        trace_cov = np.sum(probabilities[:, None] * (terms - mean) ** 2)
        m = np.array(derivation.BATCH_SIZES, dtype=float)
        predicted = lines[f"{name}: √(tr Cov / m)"]
        np.testing.assert_array_equal(predicted.get_xdata(), m)
        np.testing.assert_allclose(predicted.get_ydata(), np.sqrt(trace_cov / m), rtol=1e-9)
        assert trace_cov > 0.1


def test_weighted_least_squares_drops_the_null_space_minimum_norm_solve_drops():
    """lstsq on sqrt(W) A and pinv of A^T W A cut at the same place: a direction whose eigenvalue of A^T W A is
    1e-14 of the largest is dropped by both, one at 1e-6 kept by both. Cut either in the wrong place (or not scale
    the rows) and the 1e-7 singular value's direction, (u . sqrt(W) b) / 1e-7 long, appears in one answer alone."""
    rng = np.random.default_rng(7)
    left, _ = np.linalg.qr(rng.standard_normal((12, 4)))
    right, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    weights = rng.uniform(0.5, 2.0, 12)
    scaled_design = left @ np.diag([1.0, 0.5, 1e-3, 1e-7]) @ right.T  # sqrt(W) A: eigenvalues 1, 0.25, 1e-6, 1e-14
    rows, targets = scaled_design / np.sqrt(weights)[:, None], rng.standard_normal(12)
    fitted = compatible.weighted_least_squares(rows, targets, weights)
    solved = compatible.minimum_norm_solve(rows.T @ (weights[:, None] * rows), rows.T @ (weights * targets))
    np.testing.assert_allclose(fitted, solved, atol=1e-8)
    assert abs(right[:, 2] @ fitted) > 1.0       # the 1e-3 direction is kept: (u_3 . sqrt(W) b) / 1e-3
    assert abs(right[:, 3] @ fitted) < 1e-6      # the 1e-7 one is dropped
