"""Sutton & Barto's short corridor: the closed form against the oracle, our step against the book's, the twins."""
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from minipg import exact
from minipg.lab import corridor
from minipg.io.cli import run_cli
from minipg.lab.corridor import (EPISODE_LIMIT, SETTINGS, Setting, best_p_right, make_corridor, mean_curves,
                             reinforce_update, run_loop, run_vectorised, start_theta, true_value)
from minipg.policies import SoftmaxPolicy
from minipg.rollout import sample_path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def corridor_and_policy():
    env = make_corridor()
    return env, SoftmaxPolicy(env.observation_dim, env.n_actions)


@pytest.mark.parametrize("p", [0.05, 0.2, 0.5, 2 - math.sqrt(2), 0.9])
def test_closed_form_value_is_the_oracles_expected_return(p):
    env, policy = corridor_and_policy()
    assert exact.expected_return(env, policy, start_theta(p), EPISODE_LIMIT) == pytest.approx(true_value(p), rel=1e-10)


def test_the_books_best_p_is_where_the_oracles_gradient_vanishes():
    env, policy = corridor_and_policy()
    assert np.abs(exact.gradient(env, policy, start_theta(best_p_right()), EPISODE_LIMIT)).max() < 1e-10
    assert np.abs(exact.gradient(env, policy, start_theta(0.5), EPISODE_LIMIT)).max() > 0.1
    assert true_value(best_p_right()) == pytest.approx(-11.6568542, abs=1e-6)


def test_start_is_the_epsilon_greedy_left_policy():
    env, policy = corridor_and_policy()
    np.testing.assert_allclose(policy.probs(start_theta(), env.state_observations[0]), [0.95, 0.05], rtol=1e-12)


def test_the_episode_limit_cuts_no_episode_of_a_policy_with_p_in_001_099():
    """P(T > limit) is the probability of not having terminated after `limit` steps, from the oracle's d_t."""
    env, policy = corridor_and_policy()
    for p in (0.01, 0.05, 0.5, 0.99):
        pi = exact.policy_table(env, policy, start_theta(p))
        alive_after_limit = exact.state_distributions(env, pi, EPISODE_LIMIT + 1)[-1][~env.terminal].sum()
        assert alive_after_limit < 1e-12


def books_reinforce_update(theta_book, actions, rewards, alpha):
    """The book's box with h(a) = theta_a, x(s, a) one-hot of a: grad ln pi(a|s) = x(s, a) - sum_b pi(b|s) x(s, b)."""
    for t in range(len(actions)):
        g = sum(rewards[t:])
        probs = np.exp(theta_book - theta_book.max()) / np.exp(theta_book - theta_book.max()).sum()
        theta_book = theta_book + alpha * g * (np.eye(2)[actions[t]] - probs)
    return theta_book


def test_our_alpha_moves_the_preferences_as_the_books_alpha_moves_theta():
    env, policy = corridor_and_policy()
    rng = np.random.default_rng(5)
    theta = start_theta()
    theta_book = np.array([0.0, math.log(0.05 / 0.95)])  # (left, right)
    for _ in range(20):
        path = sample_path(env, policy, theta, rng, env.max_episode_steps)
        theta = reinforce_update(policy, theta, path.observations, path.actions, path.rewards,
                                 corridor.our_alpha(2.0**-10), 1.0)
        theta_book = books_reinforce_update(theta_book, path.actions, path.rewards, 2.0**-10)
    preferences = theta.reshape(2, 2) @ [1.0, 1.0]  # h(a) = W[a, 0] * 1 + W[a, 1]
    assert abs(preferences[1] - preferences[0] - math.log(0.05 / 0.95)) > 0.5  # the policy did move
    np.testing.assert_allclose(preferences, theta_book, rtol=1e-12, atol=1e-12)


DIVERGING = Setting("REINFORCE, α = 2^-5", 2.0**-5)


def assert_twins_equal(settings, episodes, seeds, gamma):
    returns, thetas, w = run_vectorised(settings, episodes, seeds, gamma=gamma)
    for i, setting in enumerate(settings):
        for j, seed in enumerate(seeds):
            loop_returns, loop_theta, loop_w = run_loop(setting, episodes, seed, gamma=gamma)
            np.testing.assert_array_equal(returns[i, j], loop_returns)
            np.testing.assert_array_equal(thetas[i, j], loop_theta)
            np.testing.assert_array_equal(w[i, j], loop_w[0])
    return returns


def test_vectorised_runs_equal_the_loop_twin_bit_for_bit():
    returns = assert_twins_equal((*SETTINGS, DIVERGING), 12, [[0, j] for j in range(2)], gamma=1.0)
    assert np.isnan(returns[-1, :, 1:]).all()  # the large step diverged at once, and both twins stopped it alike
    assert not np.isnan(returns[:-1]).any()


def test_vectorised_runs_equal_the_loop_twin_with_discounting():
    assert_twins_equal((SETTINGS[0], SETTINGS[3]), 12, [[1, j] for j in range(2)], gamma=0.9)


def test_runs_that_diverged_are_left_out_of_the_mean_and_counted():
    returns = np.array([[[-10.0, -20.0], [-90.0, np.nan], [-50.0, -60.0]]])
    curves, diverged = mean_curves(returns)
    np.testing.assert_array_equal(curves, [[-30.0, -40.0]])
    np.testing.assert_array_equal(diverged, [1])


def test_command_writes_both_figures_and_the_csv(tmp_path):
    result = subprocess.run([sys.executable, "-m", "minipg.lab.corridor", "--runs", "2", "--episodes", "5", "--out",
                             str(tmp_path)], capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": ROOT})
    assert result.returncode == 0, result.stderr
    assert {"corridor_13_1.png", "corridor_13_2.png", "corridor_13.csv"} == set(os.listdir(tmp_path))
    rows = (tmp_path / "corridor_13.csv").read_text().splitlines()
    assert rows[0] == "setting,episode,mean_return" and len(rows) == 1 + len(SETTINGS) * 5
    assert "v(p*)" in result.stdout and "-11.66" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["--runs", "0"], "--runs: expected a positive integer"),
    (["--episodes", "ten"], "--episodes: expected a positive integer"),
    (["--seed", "x"], "--seed"),
    (["--colour", "red"], "unrecognized arguments"),
])
def test_bad_flags_print_one_line_exit_2_and_write_nothing(tmp_path, capsys, args, message):
    assert run_cli(corridor.main, [*args, "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and message in captured.err and captured.out == ""
    assert os.listdir(tmp_path) == []


def test_an_out_path_through_a_file_is_refused_before_anything_runs(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert run_cli(corridor.main, ["--out", str(tmp_path / "file" / "plots")]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "--out" in captured.err and captured.out == ""
    assert os.listdir(tmp_path) == ["file"]
