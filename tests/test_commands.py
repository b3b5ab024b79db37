"""The bench and variance commands: they run end to end, print what they measure, and refuse bad flags."""
import csv
import math
import os
import subprocess
import sys

import pytest

from minipg.lab import bench
from minipg.lab.bench import SeedResult, bench_seed, main as bench_main, parse_overrides, summary
from minipg.io.cli import run_cli
from minipg.train import LogRow, Run, main as train_main, settings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_bench_quick_runs_end_to_end(tmp_path):
    result = subprocess.run([sys.executable, "-m", "minipg.lab.bench", "--quick", "--out", str(tmp_path)],
                            capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT})
    assert result.returncode == 0, result.stderr
    assert "trust-region" in result.stdout
    assert (tmp_path / "bench_cartpole.csv").exists() and (tmp_path / "bench_cartpole.png").exists()


def test_bench_set_overrides_are_typed_by_the_train_parser():
    assert parse_overrides(["lam=0.98", "batch-steps=1000", "optimizer=adam"]) == {
        "lam": 0.98, "batch_steps": 1000, "optimizer": "adam"}


@pytest.mark.parametrize("item, message", [("lam", "FLAG=VALUE"), ("bogus=1", "FLAG=VALUE"),
                                           ("episodes=x", "expected a positive integer"),
                                           ("lam=2", "--lam must be a finite number in [0, 1], got 2.0"),
                                           ("lam=nan", "--lam must be a finite number in [0, 1], got nan"),
                                           ("gamma=inf", "--gamma must be a finite number in (0, 1], got inf")])
def test_bench_refuses_a_bad_set_before_training_or_writing(tmp_path, capsys, item, message):
    assert run_cli(bench_main, ["--quick", "--set", item, "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == "" and not (tmp_path / "out").exists()


def test_variance_command_prints_every_estimator_and_writes_the_plot(tmp_path, capsys):
    from minipg.lab.variance import estimator_rows, main

    main(["--batches", "3", "--episodes", "10", "--horizon", "6", "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    names = [row[0] for row in estimator_rows(None, None, None, 1)]
    assert all(name in printed for name in names) and os.listdir(tmp_path) == ["variance.png"]


def test_bench_keeps_each_seeds_result_with_its_seed_and_counts_training_steps_only(tmp_path, capsys):
    """Two seeds in this process, then in two worker processes at once: the same per-seed numbers but the seconds
    (a differential check, blind to a bug both share). And against an absolute one: each seed's steps to solve are
    the env steps of the solving iteration in that seed's own train log, where evaluation steps are a column apart."""
    per_seed = []
    for jobs in ("1", "2"):
        assert run_cli(bench_main, ["--quick", "--configs", "default", "--seeds", "2", "--max-steps", "12000",
                                    "--jobs", jobs, "--quiet", "--out", str(tmp_path / jobs)]) == 0
        assert f"median s ({jobs} job" in capsys.readouterr().out
        with open(tmp_path / jobs / "bench_cartpole_seeds.csv", newline="") as file:
            per_seed.append([{k: v for k, v in row.items() if k != "seconds_to_solve"} for row in csv.DictReader(file)])
    assert per_seed[0] == per_seed[1] and [row["seed"] for row in per_seed[0]] == ["0", "1"]
    solved = [row for row in per_seed[0] if row["solved"] == "True"]
    assert solved and all(int(row["evaluations_after"]) >= 2 for row in solved)
    for row in solved:
        log = tmp_path / f"train{row['seed']}"
        assert train_main(["--seed", row["seed"], "--quiet", "--out", str(log)]) == 0
        with open(log / "cartpole.csv", newline="") as file:
            last = list(csv.DictReader(file))[-1]  # train stops at its first solved evaluation
        assert float(last["eval_mean_return"]) >= 475.0 and int(last["eval_env_steps"]) > 0
        assert row["steps_to_solve"] == last["env_steps"]


def judged(monkeypatch, env, eval_mean_returns, after_steps, max_steps):
    """(bench_seed's result, iterations run) over a stand-in for train whose iteration k ends at 100 k env steps
    with the k-th of eval_mean_returns, until the bench's progress check stops it."""
    ran = []

    def train(config, progress, stop_when_solved, stop_early):
        for k, eval_mean_return in enumerate(eval_mean_returns, start=1):
            ran.append(k)
            row = LogRow(k, 100 * k, k, 0.0, 0.0, 0.0, 0.0, 1.0, math.nan, math.nan, eval_mean_return, 0, math.nan)
            if progress(row, 0.5 * k, None):
                break
        return Run(None, [], "cap", 0.0)

    monkeypatch.setattr(bench, "train", train)
    return bench_seed(settings(env), 0, after_steps, max_steps), len(ran)


@pytest.mark.parametrize("env, returns, after_steps, max_steps, solved_at, after, ran", [
    ("cartpole", [400.0, 475.0, 480.0], 0, 10**6, 200, [], 2),  # exactly at the threshold; no window: stop there
    ("cartpole", [475.0, 400.0, 480.0, 490.0], 200, 10**6, 100, [False, True], 3),  # the window ends 200 steps on
    ("cartpole", [100.0] * 5, 0, 300, None, [], 3),  # the cap: the first iteration at max_steps
    ("acrobot", [-150.0, -100.0, -120.0], 100, 10**6, 200, [False], 3),  # the acrobot's threshold, -100
    ("pendulum", [-250.0, -199.0, -300.0], 0, 10**6, 200, [], 2)],  # the pendulum's, -200
    ids=["at-the-threshold", "after-steps", "max-steps", "acrobot", "pendulum"])
def test_the_bench_solves_at_the_first_evaluation_at_the_envs_threshold_and_then_watches_after_steps_more(
        monkeypatch, env, returns, after_steps, max_steps, solved_at, after, ran):
    result, iterations = judged(monkeypatch, env, returns, after_steps, max_steps)
    assert (result.solved, result.steps_to_solve, result.after_solved, iterations) == (
        solved_at is not None, solved_at or 0, after, ran)
    assert result.curve == [(100 * k, value) for k, value in enumerate(returns[:ran], start=1)]
    assert result.seconds_to_solve == (0.5 * solved_at / 100 if solved_at else 0.0)


def test_stays_solved_is_pooled_over_every_evaluation_after_a_solve():
    """Three evaluations still solved of one seed and one not of another: 3 of 4, not the mean of 1 and 0; an
    unsolved seed's evaluations do not count."""
    results = [SeedResult(True, 100, 1.0, [True, True, True], []), SeedResult(True, 200, 2.0, [False], []),
               SeedResult(False, 0, 0.0, [], [])]
    row = summary(results)
    assert (row["solved"], row["stays_solved"], row["median_steps"]) == ("2/3", 0.75, 150.0)


def test_the_variance_curves_kl_is_from_pi_old_to_pi_state_by_state():
    """The right panel's x: for each theta = theta_old + alpha d, the mean over the 500 paths' states of
    KL(pi_old || pi_theta) = sum_u pi_old log(pi_old / pi_theta), one state at a time; the other order differs."""
    import numpy as np

    import envs
    from minipg.lab.variance import measure_weights
    from minipg.policies import SoftmaxPolicy
    from minipg.rollout import sample_paths

    env = envs.make("gridworld")
    policy, rng = SoftmaxPolicy(env.observation_dim, env.n_actions), np.random.default_rng(0)
    theta_old, direction = 0.5 * rng.standard_normal(policy.n_params), rng.standard_normal(policy.n_params)
    kls, _, _ = measure_weights(env, policy, theta_old, direction, 500, 15, np.random.default_rng(1))
    visited = np.concatenate([path.observations for path in
                              sample_paths(env, policy, theta_old, 500, np.random.default_rng(1), 15)])
    states, visits = np.unique(visited, axis=0, return_counts=True)  # the grid's few states, each as often as visited

    def kl(p, q):
        return np.average([np.sum(policy.probs(p, s) * np.log(policy.probs(p, s) / policy.probs(q, s)))
                           for s in states], weights=visits)

    for alpha, logged in zip(np.geomspace(0.03, 3.0, 10), kls):
        theta = theta_old + alpha * direction
        assert logged == pytest.approx(kl(theta_old, theta), rel=1e-10)
        assert abs(kl(theta, theta_old) - logged) > 1e-6 * logged
