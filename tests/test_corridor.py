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


CORRIDOR_RUNS, CORRIDOR_EPISODES = 2, 110  # more than 100 episodes: "last 100" is not "all" nor "last 10"


@pytest.fixture(scope="module")
def corridor_command(tmp_path_factory):
    """The command at --runs 2 --episodes 110: (printed lines, [Figure 13.1, Figure 13.2] as drawn, CSV rows), and
    the returns and thetas of the same runs from run_vectorised, called apart."""
    import contextlib
    import csv
    import io

    out, drawn, printed = tmp_path_factory.mktemp("corridor"), [], io.StringIO()
    with pytest.MonkeyPatch.context() as monkeypatch, contextlib.redirect_stdout(printed):
        monkeypatch.setattr(corridor, "save_figure", lambda fig, path: drawn.append(fig))
        corridor.main(["--runs", str(CORRIDOR_RUNS), "--episodes", str(CORRIDOR_EPISODES), "--out", str(out)])
    with open(out / "corridor_13.csv", newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    returns, thetas, _ = run_vectorised(SETTINGS, CORRIDOR_EPISODES, [[0, j] for j in range(CORRIDOR_RUNS)])
    assert not np.isnan(returns).any()  # no run diverged: every run is in every mean
    return printed.getvalue().splitlines(), drawn, rows, returns, thetas


def test_the_summary_prints_the_mean_of_the_first_10_and_last_100_episodes_and_the_mean_final_p_right(
        corridor_command):
    """Each setting's curve is the mean over its runs of each episode's return; p(right) is pi(right | s) of each
    run's final theta, from the softmax policy the corridor's runs are the twins of, averaged over the runs."""
    lines, _, _, returns, thetas = corridor_command
    _, policy = corridor_and_policy()
    observation = make_corridor().state_observations[0]
    for setting, runs, final_thetas in zip(SETTINGS, returns, thetas):
        curve = runs.sum(axis=0) / CORRIDOR_RUNS
        p_right = np.mean([policy.probs(theta, observation)[1] for theta in final_thetas])  # action 1 is right
        (line,) = [line for line in lines if line.startswith(setting.name)]
        assert line == (f"{setting.name:<52} {f'0/{CORRIDOR_RUNS}':>8} {np.mean(curve[:10]):9.2f} "
                        f"{np.mean(curve[10:]):9.2f} {p_right:9.3f}")


def test_the_csv_numbers_episodes_from_1_and_gives_each_episodes_mean_return(corridor_command):
    _, _, rows, returns, _ = corridor_command
    expected = [(setting.name, str(episode), (runs[0, episode - 1] + runs[1, episode - 1]) / 2)
                for setting, runs in zip(SETTINGS, returns) for episode in range(1, CORRIDOR_EPISODES + 1)]
    assert [(row["setting"], row["episode"], float(row["mean_return"])) for row in rows] == expected


def test_each_figure_draws_the_curves_of_its_own_settings(corridor_command):
    """Figure 13.1: REINFORCE at 2^-12, 2^-13, 2^-14; Figure 13.2: 2^-13 against the baseline, each line the mean
    return per episode of its setting over episodes 1..110, then v(p*) dashed."""
    _, drawn, _, returns, _ = corridor_command
    for fig, settings in zip(drawn, (SETTINGS[:3], (SETTINGS[1], SETTINGS[3]))):
        lines = fig.axes[0].get_lines()
        assert [line.get_label() for line in lines[:-1]] == [setting.name for setting in settings]
        for line, setting in zip(lines, settings):
            np.testing.assert_array_equal(line.get_xdata(), np.arange(1, CORRIDOR_EPISODES + 1))
            np.testing.assert_array_equal(line.get_ydata(), returns[SETTINGS.index(setting)].mean(axis=0))
        assert lines[-1].get_ydata()[0] == pytest.approx(true_value(2 - math.sqrt(2)))
    assert len(drawn) == 2


def test_the_memory_check_covers_the_arrays_of_an_episode_cut_at_the_limit():
    """A row whose p(right) is ~0 never leaves the first state: its episode runs all EPISODE_LIMIT steps. What
    run_vectorised then holds, counted from the arrays themselves: the returns (rows, episodes), the actions and
    rewards twice (the lists of steps, then the arrays), the returns-to-go, and the rows' block of uniforms."""
    from minipg.lab.corridor import corridor_tables, generate_episodes, memory_bytes
    from minipg.returns import discounted_cumsum
    from minipg.rollout import RowStreams

    env = make_corridor()
    rows, runs, episodes = len(SETTINGS), 1, 3
    streams = RowStreams([[0, j] for j in range(rows)])
    thetas = np.tile(start_theta(1e-12), (rows, 1))
    actions, rewards, lengths, cut = generate_episodes(thetas, streams, corridor_tables(env), np.ones(2),
                                                       EPISODE_LIMIT, np.ones(rows, dtype=bool))
    assert cut.all() and (lengths == EPISODE_LIMIT).all()
    held = (8 * rows * episodes + 2 * actions.nbytes + 2 * rewards.nbytes + discounted_cumsum(rewards, 1.0).nbytes
            + streams.kinds["random"].numbers.nbytes)
    assert held <= memory_bytes(runs, episodes) < 1.1 * held
