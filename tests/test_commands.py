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


def test_bench_refuses_an_unknown_configuration_by_its_flag(tmp_path, capsys):
    assert run_cli(bench_main, ["--quick", "--configs", "default,magic", "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: --configs: unknown configuration 'magic'; known: default,")
    assert captured.out == "" and not (tmp_path / "out").exists()


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


VARIANCE_ARGS = dict(batches=3, episodes=100, horizon=6, seed=0)  # 300 paths: a coordinate counts if all touch it


@pytest.fixture(scope="module")
def variance_command(tmp_path_factory):
    """The command's printed lines and its Figure, captured where it would be saved; run once for the tests below."""
    import contextlib
    import io

    from minipg.io import figures as figure_module
    from minipg.lab.variance import main

    drawn, printed = [], io.StringIO()
    with pytest.MonkeyPatch.context() as monkeypatch, contextlib.redirect_stdout(printed):
        monkeypatch.setattr(figure_module, "save_figure", lambda fig, path: drawn.append(fig))
        main([f"--{flag}={value}" for flag, value in VARIANCE_ARGS.items()]
             + ["--out", str(tmp_path_factory.mktemp("variance"))])
    (fig,) = drawn
    return printed.getvalue().splitlines(), fig


def replayed_variance_batches():
    """The command's theta, direction, batches and its 500 importance-sampled paths, drawn again from its seed."""
    import numpy as np

    import envs
    from minipg.policies import SoftmaxPolicy
    from minipg.rollout import sample_paths

    env = envs.make("gridworld")
    policy = SoftmaxPolicy(env.observation_dim, env.n_actions)
    rng = np.random.default_rng(VARIANCE_ARGS["seed"])
    theta = 0.5 * rng.standard_normal(policy.n_params)
    direction = rng.standard_normal(policy.n_params)
    batches = [sample_paths(env, policy, theta, VARIANCE_ARGS["episodes"], rng, VARIANCE_ARGS["horizon"])
               for _ in range(VARIANCE_ARGS["batches"] + 1)]
    weighed = sample_paths(env, policy, theta, 500, rng, VARIANCE_ARGS["horizon"])
    return env, policy, theta, direction, batches, weighed


def test_the_variance_table_prints_the_trace_of_the_per_path_covariance_its_se_rms_z_and_ratio_to_reinforce(
        variance_command):
    """Rows 0 (REINFORCE) and 2 (reward-to-go) recomputed from their per-path terms at the command's seed:
    variance = sum_j Var(terms_j) with ddof 1; ± SE = |std_j(ddof 1) / sqrt(n)|; rms z over the coordinates at
    least 300 of the 300 paths touch (the >= boundary: every path), the rest (0 in most paths, SE ~ 0) left out;
    the last column each variance over REINFORCE's, so 1 on REINFORCE's own row."""
    import numpy as np

    from minipg import estimators, exact

    lines, _ = variance_command
    env, policy, theta, _, batches, _ = replayed_variance_batches()
    psis = {"REINFORCE, Eq. (5)": estimators.total_return_psi, "reward-to-go, Eq. (10)": estimators.reward_to_go_psi}
    truth = exact.gradient(env, policy, theta, VARIANCE_ARGS["horizon"], 1.0)
    variances = {}
    for name, psi in psis.items():
        terms = np.vstack([estimators.policy_gradient(policy, theta, batch, psi(batch), per_path=True)
                           for batch in batches[1:]])
        n = len(terms)
        assert n == 300
        deviations = terms - terms.sum(axis=0) / n
        per_coordinate_variance = (deviations**2).sum(axis=0) / (n - 1)
        variances[name] = per_coordinate_variance.sum()
        standard_errors = np.sqrt(per_coordinate_variance / n)
        errors = terms.sum(axis=0) / n - truth
        every_path = np.all(terms != 0, axis=0)
        assert 0 < every_path.sum() < len(every_path)  # the boundary reached, and some coordinates left out
        rms_z = np.sqrt(np.mean((errors[every_path] / standard_errors[every_path]) ** 2))
        ratio = variances[name] / variances["REINFORCE, Eq. (5)"]
        (line,) = [line for line in lines if line.startswith(name)]
        assert line == (f"{name:<52} {np.linalg.norm(errors):8.4f} {np.linalg.norm(standard_errors):8.4f} "
                        f"{rms_z:6.1f} {variances[name]:10.4f} {ratio:11.3f}")
    assert f"{1.0:11.3f}" == lines[2][-11:]  # REINFORCE's own row


def test_the_variance_figures_right_panel_draws_the_effective_sample_size_over_m(variance_command):
    """ESS = (sum w)^2 / sum w^2 of the 500 paths' weights prod_t pi_theta(u_t|s_t) / pi_old(u_t|s_t), worked from
    the policy's log-probabilities; the panel's y is ESS / 500, in (0, 1], falling as theta leaves theta_old."""
    import numpy as np

    _, fig = variance_command
    _, policy, theta_old, direction, _, weighed = replayed_variance_batches()
    expected = []
    for alpha in np.geomspace(0.03, 3.0, 10):
        theta = theta_old + alpha * direction
        weights = np.array([np.exp(np.sum(policy.path_log_probs(theta, path.observations, path.actions)
                                          - policy.path_log_probs(theta_old, path.observations, path.actions)))
                            for path in weighed])
        expected.append(weights.sum() ** 2 / np.sum(weights**2) / 500)
    (ess_line,) = [line for line in fig.axes[1].get_lines() if line.get_label() == "effective sample size / m"]
    np.testing.assert_allclose(ess_line.get_ydata(), expected, rtol=1e-9)
    assert np.all((0 < np.array(expected)) & (np.array(expected) <= 1)) and expected[-1] < expected[0]


def test_the_iqr_is_the_75th_minus_the_25th_percentile_of_the_solved_seeds():
    """Seeds solving at 100, 200, 300, 400 steps in 1, 2, 3, 4 s: linear interpolation puts the 25th percentile at
    rank 0.25 * 3 = 0.75, 175, and the 75th at rank 2.25, 325, so the IQR is 150 steps and 1.5 s, positive; the
    unsolved seed is in neither."""
    results = [SeedResult(True, 100 * k, float(k), [], []) for k in (1, 2, 3, 4)] + [SeedResult(False, 0, 0.0, [], [])]
    row = summary(results)
    assert (row["median_steps"], row["iqr_steps"]) == (250.0, 150.0)
    assert (row["median_seconds"], row["iqr_seconds"]) == (2.5, 1.5)


def test_the_seeds_csv_gives_each_seeds_fraction_of_evaluations_still_solved():
    """A seed still solved at 2 of its 3 evaluations after solving stays solved 2/3 of the time, not 2 times; an
    unsolved seed, with no evaluations after, has none (NaN)."""
    from minipg.lab.bench import SEED_COLUMNS, seed_rows

    results = {"default": [SeedResult(True, 300, 1.5, [True, False, True], []), SeedResult(False, 0, 0.0, [], [])]}
    rows = [dict(zip(SEED_COLUMNS, row)) for row in seed_rows(results)]
    assert rows[0] == {"configuration": "default", "seed": 0, "solved": True, "steps_to_solve": 300,
                       "seconds_to_solve": 1.5, "evaluations_after": 3, "stays_solved": pytest.approx(2 / 3, rel=1e-15)}
    assert rows[1]["evaluations_after"] == 0 and math.isnan(rows[1]["stays_solved"])


def test_the_bench_runs_no_more_jobs_than_seeds_and_says_so(tmp_path, capsys):
    """One seed of one configuration asked for --jobs 4 runs in this process: the table's seconds are '1 job'."""
    assert run_cli(bench_main, ["--quick", "--configs", "default", "--seeds", "1", "--jobs", "4", "--max-steps",
                                "1000", "--quiet", "--out", str(tmp_path)]) == 0
    assert "median s (1 job)" in capsys.readouterr().out
