"""The training command: its files, its errors, its reproducibility, and that it learns on every env."""
import csv
import dataclasses
import os
import signal
import subprocess
import sys
import time
import tracemalloc

import numpy as np
import pytest

import envs
from minipg import exact
from minipg.baselines import LinearValueBaseline
from minipg.critics import NetworkCritic, RegressionCritic
from minipg.estimators import path_return, policy_gradient
from minipg.lab import show
from minipg.lab.bench import CONFIGURATIONS
from minipg.optim import Adam
from minipg.returns import discounted_cumsum
from minipg.rollout import sample_paths
from minipg.policies import GaussianPolicy, SoftmaxPolicy
from minipg.io.cli import MAX_BYTES
from minipg.train import (ENV_DEFAULTS, batch_bytes, evaluate_solved, main, make_policy, make_value, run_bytes,
                          settings, step, train)
from tests.helpers import POSIX_SIGNALS


def run_cli(*args, cwd=None):
    """Run `python -m minipg.train` in a subprocess, as a user would."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return subprocess.run([sys.executable, "-m", "minipg.train", *args], capture_output=True, text=True,
                          cwd=cwd or root, env={**os.environ, "PYTHONPATH": root})


@pytest.mark.parametrize(
    "args, message",
    [(["--env", "pong"], "--env: unknown env 'pong'"),
     (["--estimator", "magic"], "--estimator: unknown estimator 'magic'"),
     (["--optimizer", "magic"], "--optimizer: unknown optimizer 'magic'"),
     (["--policy", "gaussian"], "--policy: 'gaussian' does not fit cartpole's actions; 'softmax' does"),
     (["--env", "pendulum", "--policy", "softmax"], "--policy: 'softmax' does not fit pendulum's actions"),
     (["--lr", "0"], "--lr must be a finite number in (0, inf), got 0.0"),
     (["--episodes", "0"], "--episodes: expected a positive"), (["--lr", "x"], "--lr: expected a number, got 'x'"),
     (["--gamma", "0"], "--gamma must be a finite number in (0, 1]"),
     (["--gamma", "1.5"], "--gamma must be a finite number in (0, 1], got 1.5"),
     (["--load", "missing.npz"], "missing.npz does not exist"),
     (["--critic", "magic"], "--critic: unknown critic 'magic'"),
     (["--batch-steps", "-1"], "--batch-steps: expected a non-negative integer"),
     (["--estimator", "ppo", "--target-kl", "nan"], "--target-kl must be a finite number in [0, inf), got nan"),
     (["--estimator", "ppo", "--entropy", "nan"], "--entropy must be a finite number in [0, inf), got nan"),
     (["--estimator", "ppo", "--entropy", "-1"], "--entropy must be a finite number in [0, inf), got -1.0"),
     (["--estimator", "ppo", "--clip", "inf"], "--clip must be a finite number in (0, inf), got inf"),
     (["--lam", "nan"], "--lam must be a finite number in [0, 1], got nan"),
     (["--optimizer", "natural", "--kl=-inf"], "--kl must be a finite number in (0, inf), got -inf"),
     (["--estimator", "actor-critic", "--critic", "td", "--critic-lr", "nan"], "--critic-lr must be a finite"),
     (["--estimator", "ppo", "--epochs", "1000000000"], "--epochs: expected at most 1000"),
     (["--estimator", "ppo", "--envs", "1", "--steps", "8", "--minibatches", "8", "--normalise"],
      "--normalise: a minibatch of 1 step has its one advantage normalised to 0")],
)
def test_bad_flags_print_one_line_exit_2_and_write_nothing(tmp_path, args, message):
    out = tmp_path / "out"
    result = run_cli(*args, "--out", str(out), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_checkpoint_for_another_env_or_a_corrupt_file_is_refused(tmp_path):
    assert run_cli("--env", "corridor", "--iterations", "2", "--out", str(tmp_path), "--quiet").returncode == 0
    result = run_cli("--env", "gridworld", "--load", str(tmp_path / "corridor.npz"), "--eval", "3")
    assert result.returncode == 2 and "is for env 'corridor'" in result.stderr
    (tmp_path / "junk.npz").write_bytes(b"not a checkpoint")
    result = run_cli("--env", "corridor", "--load", str(tmp_path / "junk.npz"), "--eval", "3")
    assert result.returncode == 2 and "is not a minipg checkpoint" in result.stderr


@pytest.mark.parametrize("command", [["minipg.train", "--eval", "3"], ["minipg.train", "--iterations", "2"],
                                     ["minipg.lab.show"]], ids=["eval", "train", "show"])
def test_a_theta_too_large_for_the_policy_is_refused_in_one_line_naming_the_file(tmp_path, command):
    """theta = +-1e308 is finite, but W phi~ overflows and leaves no probability to draw from: every command that
    loads it refuses it before any work, even with warnings made errors (-W error), and writes nothing."""
    from minipg.io.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "huge.npz", np.resize([1e308, -1e308], 10), "cartpole", "softmax", {})
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    load = ["--load", "huge.npz"] if command[0] == "minipg.train" else ["huge.npz"]
    out = [] if "--eval" in command else ["--out", "out"]  # an --eval run writes nothing, and refuses --out
    result = subprocess.run([sys.executable, "-W", "error", "-m", command[0], *load, *command[1:], *out],
                            capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": root})
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "checkpoint huge.npz: its theta (largest |theta_i| = 1e+308) makes the policy overflow" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_run_writes_plot_log_and_a_checkpoint_that_loads(tmp_path):
    result = run_cli("--env", "corridor", "--iterations", "4", "--out", str(tmp_path), "--quiet")
    assert result.returncode == 0 and result.stdout.count("\n") == 1  # --quiet: only the summary line
    assert {"corridor.png", "corridor.csv", "corridor.npz"} <= set(os.listdir(tmp_path))
    rows = (tmp_path / "corridor.csv").read_text().splitlines()
    assert rows[0].startswith("iteration,env_steps") and len(rows) == 5
    with np.load(tmp_path / "corridor.npz") as checkpoint:
        assert checkpoint["theta"].dtype == np.float64 and str(checkpoint["env"]) == "corridor"
        assert '"iterations": 4' in str(checkpoint["config"])
    evaluated = run_cli("--env", "corridor", "--load", str(tmp_path / "corridor.npz"), "--eval", "5")
    assert evaluated.returncode == 0 and "over 5 episodes" in evaluated.stdout


def test_a_checkpoint_written_before_the_new_layout_still_loads():
    # tests/data/cartpole_4b9e104.npz: 3 iterations of `python -m minipg.train` at commit 4b9e104, whose
    # config JSON still names the flags of then; only theta, env and policy are read back
    old = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "cartpole_4b9e104.npz")
    evaluated = run_cli("--load", old, "--eval", "5")
    assert evaluated.returncode == 0 and "over 5 episodes" in evaluated.stdout, evaluated.stderr
    with np.load(old) as stored:
        assert np.array_equal(show.load(old)[3], stored["theta"])


@pytest.mark.parametrize("env, optimizer, lr, expected", [
    ("cartpole", None, None, 0.2), ("cartpole-continuous", None, None, 0.01), ("cartpole", "adam", None, 0.2),
    ("cartpole", "sgd", None, 0.01), ("cartpole-continuous", "adam", None, 0.001), ("cartpole", "natural", None, 1.0),
    ("cartpole", "capped-natural", None, 0.01), ("cartpole", "trust-region", None, 0.0),
    ("cartpole", None, 0.5, 0.5), ("gridworld", None, None, 0.3)])
def test_step_size_is_the_envs_with_its_own_optimizer_else_the_optimizers_own(env, optimizer, lr, expected):
    given = {name: value for name, value in (("optimizer", optimizer), ("lr", lr)) if value is not None}
    assert settings(env, **given).lr == expected


@pytest.mark.parametrize("env, given, expected", [
    ("cartpole", {}, 0.1), ("cartpole", {"critic": "td"}, 0.1), ("cartpole", {"critic_hidden": (64, 64)}, 0.001),
    ("acrobot", {"critic_hidden": (8,)}, 0.001), ("pendulum", {}, 0.001), ("pendulum", {"critic_hidden": (8,)}, 0.001),
    ("pendulum", {"critic_hidden": (), "critic": "td"}, 0.1), ("cartpole", {"critic": "td", "critic_lr": 0.5}, 0.5)])
def test_a_critic_other_than_the_envs_takes_its_own_step_unless_one_is_given(env, given, expected):
    """The README's: the TD critic's step alpha of Eq. (14) is 0.1, a network critic's Adam step 0.001."""
    assert settings(env, **given).critic_lr == expected


@pytest.mark.parametrize("name", ["hidden", "critic_hidden"])
@pytest.mark.parametrize("widths", [(0,), (8, 0), (8, -1), (True,), (8.0,), [8]])
def test_layer_widths_given_in_python_are_checked_as_the_flags_are(name, widths):
    """--hidden 0 is refused by the flag's parser; settings(hidden=(0,)), as the bench's configurations give it,
    by the same check as any setting."""
    with pytest.raises(ValueError, match=f"^--{name.replace('_', '-')} must be the widths of tanh layers"):
        settings("cartpole", **{name: widths})


@pytest.mark.parametrize("given, flag", [({"optimizer": "trust-region", "lr": 0.5}, "--lr"),
                                         ({"clip": 0.3}, "--clip"), ({"estimator": "ppo", "episodes": 3}, "--episodes"),
                                         ({"kl": 0.02}, "--kl"), ({"lam": 0.9, "estimator": "baseline"}, "--lam"),
                                         ({"reuse": 2}, "--reuse"), ({"eval": 3}, "--eval")])
def test_a_setting_the_run_does_not_use_is_refused_by_name(given, flag):
    with pytest.raises(ValueError, match=f"^{flag}: the run does not use it"):
        settings("cartpole", **given)


@pytest.mark.parametrize("given, flag", [({"estimator": "ppo", "clip": 0.3}, "--estimator"), ({"out": "x"}, "--out"),
                                         ({"iterations": 10**9}, "--iterations"), ({"gamma": 0.5}, "--gamma"),
                                         ({"quiet": True}, "--quiet"), ({"lr": 0.1}, "--lr")])
def test_an_eval_run_refuses_every_setting_it_does_not_read(given, flag):
    """An --eval run samples episodes of the loaded theta and prints their mean return: it reads the env, the
    policy, the checkpoint, the number of episodes and the seed, and nothing else."""
    assert settings("gridworld", load="c.npz", eval=2, seed=3).eval == 2
    with pytest.raises(ValueError, match=f"^{flag}: an --eval run does not use it"):
        settings("gridworld", load="c.npz", eval=2, **given)


@pytest.mark.parametrize("given, quadratic_kl", [({}, 0.02), ({"lr": 0.5}, 0.25 * 0.02)], ids=["no-lr", "lr-0.5"])
def test_natural_takes_the_kl_sized_step_times_lr(given, quadratic_kl):
    """Eq. (17): without --lr the step's quadratic KL 1/2 d^T F d is the radius delta itself, not a hundredth of the
    step; --lr 0.5 halves the step, a quarter of that KL."""
    from minipg.natural import fisher_matrix

    config = settings(optimizer="natural", kl=0.02, **given)
    env = envs.make("cartpole")
    policy = make_policy(env, "softmax")
    theta = 0.1 * np.random.default_rng(0).standard_normal(policy.n_params)
    paths = sample_paths(env, policy, theta, 3, np.random.default_rng(1))
    psi = [np.cumsum(path.rewards[::-1])[::-1] for path in paths]
    d = step(config, None, policy, theta, policy_gradient(policy, theta, paths, psi), paths, psi) - theta
    assert 0.5 * d @ fisher_matrix(policy, theta, paths) @ d == pytest.approx(quadratic_kl, rel=1e-9)


def test_every_env_setting_is_complete_and_a_flag_changes_only_what_it_names():
    for env, config in ENV_DEFAULTS.items():
        assert settings(env) == config and all(value is not None for value in dataclasses.asdict(config).values())
    changed = settings("gridworld", episodes=3)
    assert changed.episodes == 3 and dataclasses.replace(changed, episodes=20) == ENV_DEFAULTS["gridworld"]


def test_checkpoint_records_the_step_size_and_policy_actually_used(tmp_path):
    assert main(["--iterations", "1", "--quiet", "--out", str(tmp_path)]) == 0
    with np.load(tmp_path / "cartpole.npz") as checkpoint:
        config = str(checkpoint["config"])
    assert '"lr": 0.2' in config and '"policy": "softmax"' in config


def test_same_seed_same_csv_byte_for_byte(tmp_path):
    for name in ("a", "b"):
        flags = ["--env", "cartpole", "--iterations", "5", "--seed", "3", "--quiet", "--out", str(tmp_path / name)]
        assert main(flags) == 0
    assert (tmp_path / "a" / "cartpole.csv").read_bytes() == (tmp_path / "b" / "cartpole.csv").read_bytes()
    assert main(["--env", "cartpole", "--iterations", "5", "--seed", "4", "--quiet", "--out", str(tmp_path / "c")]) == 0
    assert (tmp_path / "a" / "cartpole.csv").read_bytes() != (tmp_path / "c" / "cartpole.csv").read_bytes()


SAME_BITS = """
import hashlib, sys
from minipg.train import settings, train
for env, given in [("cartpole", {}), ("cartpole-continuous", {}), ("gridworld", {}), ("acrobot", {"iterations": 2}),
                   ("cartpole-continuous", {"optimizer": "trust-region"}), ("cartpole", {"estimator": "ppo"})]:
    run = train(settings(env, **{"iterations": 3, **given}), stop_when_solved=False)
    print(env, hashlib.sha256(run.theta.tobytes() + repr(run.log).encode()).hexdigest())
"""


def test_same_seed_same_bits_whatever_kernels_blas_chooses():
    """No number of a linear run comes from BLAS or LAPACK, whose kernels add in an order that depends on the
    processor: theta and every log row are the same bits with OpenBLAS told to use other processors' kernels
    (Prescott's and Sandy Bridge's, x86 kernels that run wherever x86-64 runs). Before the ridge fit, the natural
    step and the one sum were written out, either changed every run's bits. (With a BLAS other than OpenBLAS the
    setting does nothing and the runs agree trivially. NumPy's own loops for float64 exp, sin and cos differ in
    their last bits from one SIMD level to the next, AVX2 or AVX-512: those are families the README reports apart.)"""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    runs = [subprocess.Popen([sys.executable, "-c", SAME_BITS], stdout=subprocess.PIPE, text=True, cwd=root,
                             env={**os.environ, "PYTHONPATH": root, **setting})
            for setting in ({}, {"OPENBLAS_CORETYPE": "Prescott"}, {"OPENBLAS_CORETYPE": "SandyBridge"})]
    outputs = [run.communicate(timeout=300)[0] for run in runs]  # the three at once
    assert outputs[0].count("\n") == 6 and outputs[1:] == [outputs[0]] * 2


def test_divergence_stops_with_status_1_and_keeps_the_last_finite_theta(tmp_path):
    result = run_cli("--optimizer", "sgd", "--lr", "1e308", "--out", str(tmp_path), "--quiet")
    assert result.returncode == 1
    assert "iteration 1: theta or its gradient is not finite; the step size --lr 1e+308 is likely too large" \
        in result.stderr
    with np.load(tmp_path / "cartpole.npz") as checkpoint:
        assert np.all(np.isfinite(checkpoint["theta"]))


@pytest.mark.parametrize("optimizer, named", [("natural", "the KL radius --kl 1e+308 or the step size --lr 1"),
                                               ("trust-region", "the KL radius --kl 1e+308")])
def test_a_kl_radius_whose_step_overflows_is_a_divergence_naming_kl(tmp_path, optimizer, named):
    """--kl 1e308 makes sqrt(2 delta / x^T F x) inf in arithmetic that raises no error: the run still stops at
    iteration 1 with status 1 and the starting theta saved, rather than saving inf or refusing theta as bad input."""
    result = run_cli("--optimizer", optimizer, "--kl", "1e308", "--iterations", "2", "--out", str(tmp_path), "--quiet")
    assert result.returncode == 1
    assert f"iteration 1: theta or its gradient is not finite; {named} is likely too large\n" in result.stderr
    with np.load(tmp_path / "cartpole.npz") as checkpoint:
        assert not checkpoint["theta"].any()  # the initial theta, zeros for a linear policy


@pytest.mark.parametrize("failing_call, blames_the_load", [(1, True), (2, False)], ids=["at-once", "later"])
def test_a_divergence_blames_a_loaded_theta_only_when_it_diverged_at_once(monkeypatch, failing_call, blames_the_load):
    """An overflow in the first iteration from a loaded theta may be the theta's fault; one in a later iteration is
    the step's, the loaded theta having stepped finitely."""
    import minipg.train as training

    calls, gradient = [], training.policy_gradient

    def overflowing(*args):
        calls.append(1)
        if len(calls) == failing_call:
            raise FloatingPointError("overflow")
        return gradient(*args)

    monkeypatch.setattr(training, "policy_gradient", overflowing)
    run = train(settings(load="start.npz", iterations=3), theta=np.full(10, 0.01), stop_when_solved=False)
    assert run.status == "diverged" and run.message.startswith(f"iteration {failing_call}: theta or its gradient")
    assert ("the theta loaded from start.npz is too large" in run.message) == blames_the_load


def test_a_nan_made_without_an_overflow_is_a_divergence_too(monkeypatch):
    """inf - inf raises no overflow, only an invalid operation: psi of +inf and -inf makes the one sum NaN, which the
    loop reports as a divergence, the last finite theta kept, not as Adam's refusal of a NaN gradient."""
    import minipg.train as training

    def infinite_psi(config, policy, theta, paths, value):
        return [np.where(np.arange(len(path)) % 2, np.inf, -np.inf) for path in paths]

    monkeypatch.setattr(training, "estimator_psi", infinite_psi)
    run = train(settings(iterations=2), stop_when_solved=False)
    assert run.status == "diverged" and run.message.startswith("iteration 1: theta or its gradient is not finite")
    np.testing.assert_array_equal(run.theta, np.zeros(10))


def test_a_divergence_names_the_entropy_bonus_when_it_sizes_the_step(tmp_path):
    """--entropy 1e300 makes the gradient 1e300 and Adam's second moment overflows: the line names --entropy."""
    result = run_cli("--estimator", "ppo", "--entropy", "1e300", "--iterations", "2", "--out", str(tmp_path), "--quiet")
    assert result.returncode == 1
    assert ("iteration 1: theta or its gradient is not finite; --entropy 1e+300 (it scales the entropy bonus's "
            "gradient) or the step size --lr 0.2 is likely too large") in result.stderr


@POSIX_SIGNALS
def test_ctrl_c_saves_and_exits_130(tmp_path):
    """A real SIGINT mid-run: the loop stops, the files are written whole, the status is 130."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # a tabular env runs on to its cap, so no solve can end the run before the signal
    process = subprocess.Popen([sys.executable, "-m", "minipg.train", "--env", "corridor", "--iterations", "100000",
                                "--out", str(tmp_path)], cwd=root,
                               env={**os.environ, "PYTHONPATH": root, "PYTHONUNBUFFERED": "1"},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert "iter" in process.stdout.readline()  # the progress header: training has started
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and "interrupted" in stderr
    with np.load(tmp_path / "corridor.npz") as checkpoint:
        assert np.all(np.isfinite(checkpoint["theta"]))
    assert len((tmp_path / "corridor.csv").read_text().splitlines()) > 1


def test_interrupt_stops_cleanly_with_what_was_learned():
    def interrupt_at_third(row, seconds, theta):
        if row.iteration == 3:
            raise KeyboardInterrupt

    run = train(settings(iterations=10), progress=interrupt_at_third)
    assert run.status == "interrupted" and len(run.log) == 3 and np.all(np.isfinite(run.theta))


def test_a_solved_cartpole_run_stops_at_its_first_solved_evaluation():
    run = train(settings(iterations=400))
    assert run.status == "solved" and len(run.log) < 400
    assert run.log[-1].eval_mean_return >= 475.0
    assert all(not row.eval_mean_return >= 475.0 for row in run.log[:-1])  # nan (stopped early) or below
    # the saved theta, evaluated afresh; a first solved evaluation sits near 475, fresh episodes vary a little
    env = envs.make("cartpole")
    paths = sample_paths(env, make_policy(env, "softmax"), run.theta, 100, np.random.default_rng(99))
    assert np.mean([path_return(path) for path in paths]) >= 450.0


def test_train_and_bench_find_the_same_first_solve():
    """Evaluations stopped early (train) or run to the end (bench) draw alike: each has its own stream.

    With one stream shared by all evaluations, seed 0 solves at a different iteration in each.
    """
    stopped = train(settings(seed=0, iterations=400))
    full = train(settings(seed=0, iterations=400), progress=lambda row, seconds, theta: row.eval_mean_return >= 475.0,
                 stop_when_solved=False, stop_early=False)
    assert stopped.status == "solved" and len(full.log) == len(stopped.log)
    assert np.array_equal(full.theta, stopped.theta)


def test_an_unsolved_run_goes_on_to_the_cap():
    run = train(settings(iterations=3))
    assert run.status == "cap" and len(run.log) == 3 and run.log[-1].eval_env_steps > 0


def test_evaluation_k_is_100_episodes_of_the_iterations_theta_on_a_stream_of_its_own():
    """The judge's evaluation after iteration k of seed s, recomputed from the theta progress was given: 100
    cart-poles stepped together from a generator seeded (s, 2024, k - 1), to the end (the bench's evaluation); its
    mean return is the log row's, and the log counts its steps."""
    thetas, policy, counted = [], make_policy(envs.make("cartpole"), "softmax"), 0
    run = train(settings(seed=2, iterations=3), progress=lambda row, seconds, theta: thetas.append(theta.copy()),
                stop_when_solved=False, stop_early=False)
    for k, (row, theta) in enumerate(zip(run.log, thetas), start=1):
        _, mean_return, steps = evaluate_solved(envs.make_vector("cartpole", 100), 475.0, policy, theta,
                                                np.random.default_rng([2, 2024, k - 1]), stop_early=False)
        counted += steps
        assert (row.eval_mean_return, row.eval_env_steps) == (mean_return, counted)
    assert len(thetas) == 3 and not np.array_equal(thetas[0], thetas[-1])  # theta moved: each evaluation is its own


@pytest.mark.parametrize("estimator", ["baseline", "actor-critic"])
def test_baseline_and_critic_learn_after_psi_is_formed(estimator):
    """Two iterations of the gridworld's defaults (20 paths, gamma = 1, Adam at lr 0.3) rebuilt from the public
    pieces, each batch's psi formed with the value function fitted on the batches BEFORE it (b = V = 0 at
    iteration 1), then fitted: theta is train's bit for bit. Fitted first, iteration 1 already differs."""
    env = envs.make("gridworld")
    policy, rng, adam = make_policy(env, "softmax"), np.random.default_rng(0), Adam(0.3)
    theta = np.zeros(policy.n_params)
    baseline, critic = LinearValueBaseline(), RegressionCritic(env.observation_dim, bootstrap_truncated=False)
    for _ in range(2):
        paths = sample_paths(env, policy, theta, 20, rng)
        returns = [discounted_cumsum(path.rewards, 1.0) for path in paths]
        if estimator == "baseline":
            psi = [g - b for g, b in zip(returns, baseline.values(paths, returns))]
            baseline.fit(paths, 1.0)
        else:
            psi = [critic.advantages(path, 1.0, lam=1.0) for path in paths]
            critic.fit(paths, 1.0)
        theta = adam.step(theta, policy_gradient(policy, theta, paths, psi))
    np.testing.assert_array_equal(train(settings("gridworld", estimator=estimator, iterations=2)).theta, theta)


def test_importance_estimator_weighs_each_reused_batch_against_the_theta_that_sampled_it():
    """Three iterations reusing the last 2 batches (gridworld, Adam at lr 0.3, gamma = 1), rebuilt here: each reused
    path gets the per-decision psi_t = sum_{k>=t} w_{0:k} r_k of Eq. (8), w against the theta it was sampled at,
    and the one sum runs over every reused path. theta is train's bit for bit."""
    env = envs.make("gridworld")
    policy, rng, adam = make_policy(env, "softmax"), np.random.default_rng(0), Adam(0.3)
    theta, recent = np.zeros(policy.n_params), []
    for _ in range(3):
        recent = (recent + [(theta, sample_paths(env, policy, theta, 20, rng))])[-2:]
        paths, psi = [], []
        for theta_old, old_paths in recent:
            for path in old_paths:
                log_w = np.cumsum(policy.path_log_probs(theta, path.observations, path.actions)
                                  - policy.path_log_probs(theta_old, path.observations, path.actions))
                paths.append(path)
                psi.append(np.cumsum((np.exp(log_w) * path.rewards)[::-1])[::-1])
        theta = adam.step(theta, policy_gradient(policy, theta, paths, psi))
    run = train(settings("gridworld", estimator="importance", reuse=2, iterations=3))
    np.testing.assert_array_equal(run.theta, theta)


def test_the_memory_check_counts_reuse_batches_for_the_importance_estimator_alone():
    """Only the importance estimator keeps --reuse batches (3 by default): a REINFORCE batch of 15,000 cart-pole
    episodes of up to 500 steps (0.46 GiB) fits in the 1 GiB a command may take; three such batches would not."""
    env = envs.make("cartpole")
    one = run_bytes(settings("cartpole", estimator="reinforce", episodes=15_000), env)
    three = run_bytes(settings("cartpole", estimator="importance", reuse=3, episodes=15_000), env)
    assert one <= MAX_BYTES < three


def test_a_batchs_memory_bound_holds_what_tracemalloc_measures_of_it():
    """200 cart-pole episodes of the initial policy, measured as Python allocates them, against batch_bytes at their
    longest episode's length: at most it and at least a third of it (the bound counts every path at that length)."""
    env = envs.make("cartpole")
    policy = make_policy(env, "softmax")
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        paths = sample_paths(env, policy, np.zeros(policy.n_params), 200, np.random.default_rng(0))
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    bound = batch_bytes(env, 200, horizon=max(len(path) for path in paths))
    assert bound / 3 <= held <= bound


def test_gridworld_learns_within_5_percent_of_optimal_on_its_defaults():
    """Judged by the exact oracle: U(theta) of the learned policy against value iteration, both at H = 50."""
    run = train(settings("gridworld"))
    env = envs.make("gridworld")
    best = exact.optimal_return(env, env.max_episode_steps)
    assert run.log[-1].exact_return >= best - 0.05 * abs(best)
    expected = exact.expected_return(env, make_policy(env, "softmax"), run.theta, 50)
    assert run.log[-1].exact_return == pytest.approx(expected)


def test_corridor_learns_the_stochastic_optimum_on_its_defaults():
    """S&B Example 13.1: P(right) ~ 2 - sqrt(2) = 0.586 is best among policies that cannot tell states apart."""
    run = train(settings("corridor"))
    env = envs.make("corridor")
    prob_right = make_policy(env, "softmax").probs(run.theta, np.ones(1))[1]
    assert abs(prob_right - (2.0 - np.sqrt(2.0))) < 0.05


@pytest.mark.parametrize("overrides", [CONFIGURATIONS["baseline"], CONFIGURATIONS["td-critic"],
                                       {"env": "cartpole-continuous"}],
                         ids=["baseline", "td-critic", "continuous-gaussian"])
def test_cartpole_is_solved(overrides):
    """Stopped at an evaluation of 100 episodes with mean return >= 475, within the iteration cap."""
    overrides = dict(overrides)
    run = train(settings(overrides.pop("env", "cartpole"), **{"iterations": 400, **overrides}))
    assert run.status == "solved" and run.log[-1].eval_mean_return >= 475.0


@pytest.mark.parametrize("lam", [1.0, 0.95])
def test_a_ppo_iteration_is_its_epochs_of_minibatch_steps_rebuilt_by_hand(lam):
    """One PPO iteration on cart-pole from the public pieces: 4 envs x 32 steps stepped together, A_t by GAE(lambda)
    from the critic as it stood before the batch, then 2 passes over 3 shuffled minibatches, each advantage
    normalised in its minibatch, psi of Eq. (21), the one sum plus 0.1 of the entropy's gradient, an Adam step; then
    the critic fits. theta is train's bit for bit, at cart-pole's lambda = 1 and at the classic tasks' 0.95."""
    from envs.cartpole import CartPoleVector
    from minipg import estimators
    from minipg.rollout import LockStep, Steps

    config = settings(estimator="ppo", envs=4, steps=32, epochs=2, minibatches=3, normalise=True, entropy=0.1,
                      lr=0.05, iterations=2, lam=lam)
    policy, rng, adam = make_policy(envs.make("cartpole"), "softmax"), np.random.default_rng(0), Adam(0.05)
    sampler, critic = LockStep(CartPoleVector(4), 0), RegressionCritic(4)
    theta = np.zeros(policy.n_params)
    for _ in range(2):
        paths = sampler.sample(policy, theta, 32)
        steps = Steps.of(paths)
        advantages = np.concatenate([critic.advantages(path, 0.99, lam) for path in paths])
        for _ in range(2):
            for rows in np.array_split(rng.permutation(len(steps)), 3):
                a = advantages[rows]
                psi = estimators.ppo_psi(policy, theta, steps.take(rows), (a - a.mean()) / a.std(), 0.2)
                gradient = policy_gradient(policy, theta, [steps.take(rows)], [psi]) + 0.1 * np.mean(
                    policy.path_entropy_gradients(theta, steps.observations[rows]), axis=0)
                theta = adam.step(theta, gradient)
        critic.fit(paths, 0.99)
    np.testing.assert_array_equal(train(config).theta, theta)


def kl_at_each_state(policy, theta_p, theta_q, observations):
    """KL(pi_p || pi_q) = sum_u pi_p(u|s) log(pi_p(u|s) / pi_q(u|s)), one state at a time."""
    return np.array([np.sum(policy.probs(theta_p, s) * np.log(policy.probs(theta_p, s) / policy.probs(theta_q, s)))
                     for s in observations])


def test_ppo_stops_at_the_first_pass_whose_kl_from_pi_old_passes_a_realistic_target():
    """The first batch's passes rebuilt by hand (4 envs x 32 steps, 3 minibatches, Adam 0.05), with the mean
    KL(pi_old || pi) over the batch's states after each. A target between the KL of two passes that the other
    order, KL(pi || pi_old), puts on the other side: train stops after the pass the forward KL first exceeds it,
    no earlier and no later (the KL need not grow from pass to pass: here it does not)."""
    from envs.cartpole import CartPoleVector
    from minipg import estimators
    from minipg.rollout import LockStep, Steps

    policy, rng, adam = make_policy(envs.make("cartpole"), "softmax"), np.random.default_rng(0), Adam(0.05)
    paths = LockStep(CartPoleVector(4), 0).sample(policy, np.zeros(10), 32)
    steps, theta, after_pass = Steps.of(paths), np.zeros(10), []
    advantages = np.concatenate([RegressionCritic(4).advantages(path, 0.99, 1.0) for path in paths])
    for _ in range(8):
        for rows in np.array_split(rng.permutation(len(steps)), 3):
            psi = estimators.ppo_psi(policy, theta, steps.take(rows), advantages[rows], 0.2)
            theta = adam.step(theta, policy_gradient(policy, theta, [steps.take(rows)], [psi]))
        after_pass.append(theta)
    forward = [kl_at_each_state(policy, np.zeros(10), theta, steps.observations).mean() for theta in after_pass]
    backward = [kl_at_each_state(policy, theta, np.zeros(10), steps.observations).mean() for theta in after_pass]
    first_above = lambda kls, target: next((j for j, kl in enumerate(kls) if kl > target), None)  # noqa: E731
    ends = sorted(forward + backward)
    target = next(t for t in (np.array(ends[1:]) + ends[:-1]) / 2  # a target some pass crosses and an earlier not,
                  if (first_above(forward, t) or 0) > 0 and first_above(forward, t) != first_above(backward, t))
    stops = first_above(forward, target)  # where the other order would stop elsewhere
    run = train(settings(estimator="ppo", envs=4, steps=32, epochs=8, minibatches=3, lr=0.05, target_kl=target,
                         iterations=1))
    np.testing.assert_array_equal(run.theta, after_pass[stops])


def gaussian_kl_at_each_state(policy, theta_p, theta_q, observations):
    """KL(N(mu_p, sigma_p^2) || N(mu_q, sigma_q^2))
    = log(sigma_q / sigma_p) + (sigma_p^2 + (mu_p - mu_q)^2) / 2 sigma_q^2 - 1/2, one state at a time (one action)."""
    sigma_p, sigma_q = np.exp(policy.log_std(theta_p)[0]), np.exp(policy.log_std(theta_q)[0])
    gaps = np.array([policy.mean(theta_p, s)[0] - policy.mean(theta_q, s)[0] for s in observations])
    return np.log(sigma_q / sigma_p) + (sigma_p**2 + gaps**2) / (2 * sigma_q**2) - 0.5


@pytest.mark.parametrize("env", ["cartpole", "cartpole-continuous"])
def test_the_logged_kl_and_clip_fraction_are_those_of_the_batch(tmp_path, monkeypatch, env):
    """One PPO iteration from theta_old = 0, its batch recorded as sampled: the CSV's kl is the mean over the batch's
    states of KL(pi_old || pi), computed state by state, and its clip_fraction the share of ratios
    pi(u_t|s_t) / pi_old(u_t|s_t), each from log_prob, outside [1 - eps, 1 + eps] on either side."""
    from minipg.rollout import LockStep

    batches, sample = [], LockStep.sample
    monkeypatch.setattr(LockStep, "sample", lambda self, *args: batches.append(sample(self, *args)) or batches[-1])
    assert main(["--env", env, "--estimator", "ppo", "--optimizer", "adam", "--lr", "0.05", "--iterations", "1",
                 "--quiet", "--out", str(tmp_path)]) == 0
    with open(tmp_path / f"{env}.csv", newline="") as file:
        (row,) = csv.DictReader(file)
    with np.load(tmp_path / f"{env}.npz") as checkpoint:
        theta = checkpoint["theta"]
    policy = make_policy(envs.make(env), settings(env).policy)
    (paths,) = batches
    observations = np.concatenate([path.observations for path in paths])
    kl_of = kl_at_each_state if env == "cartpole" else gaussian_kl_at_each_state
    assert float(row["kl"]) == pytest.approx(kl_of(policy, np.zeros(policy.n_params), theta, observations).mean(),
                                             rel=1e-12)
    ratios = np.exp([policy.log_prob(theta, s, u) - old for path in paths
                     for s, u, old in zip(path.observations, path.actions, path.log_probs)])
    assert np.any(ratios > 1.2) and np.any(ratios < 0.8)  # both sides of the clip count
    assert float(row["clip_fraction"]) == pytest.approx(np.mean((ratios > 1.2) | (ratios < 0.8)), rel=1e-12)


def test_ppo_stops_its_passes_once_the_kl_passes_the_target():
    """A target no pass can stay under stops after the first: the same theta as one pass per batch."""
    early = train(settings(estimator="ppo", epochs=10, target_kl=1e-12, iterations=3))
    one_pass = train(settings(estimator="ppo", epochs=1, iterations=3))
    np.testing.assert_array_equal(early.theta, one_pass.theta)
    assert not np.array_equal(train(settings(estimator="ppo", epochs=10, iterations=3)).theta, one_pass.theta)


def test_ppo_logs_the_kl_and_clip_fraction_of_every_iteration_and_trains_a_tabular_env(tmp_path):
    assert main(["--estimator", "ppo", "--iterations", "3", "--quiet", "--out", str(tmp_path)]) == 0
    with open(tmp_path / "cartpole.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 3 and all(float(row["kl"]) > 0 and 0 <= float(row["clip_fraction"]) < 1 for row in rows)
    assert int(rows[-1]["env_steps"]) == 3 * 2 * 512  # n envs x T steps a batch
    run = train(settings("gridworld", estimator="ppo", envs=2, steps=25, iterations=2))
    assert run.log[-1].env_steps == 100 and np.isfinite(run.log[-1].exact_return)


# ---- network policies and critics, through the train command -------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["--hidden", "0"], "--hidden: expected layer widths such as 64,64 (or none), got '0'"),
    (["--hidden", "x"], "--hidden: expected layer widths"),
    (["--critic-hidden", "16", "--critic", "td"], "--critic-hidden: a network critic is fitted by regression"),
    (["--cg-iterations", "5"],
     "--cg-iterations: the run does not use it (what uses it: only the natural steps of a network policy"),
    (["--critic-epochs", "3"], "--critic-epochs: the run does not use it (what uses it: only a network critic"),
    (["--deterministic"], "--deterministic: the run does not use it (what uses it: only an --eval run)")])
def test_network_settings_are_checked_and_refused_by_name_where_unused(tmp_path, args, message):
    result = run_cli(*args, "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


def test_a_network_starts_from_its_own_stream_and_leaves_the_runs_draws_alone():
    """theta_0 is initial_theta of a generator seeded (seed, 2025), drawn nowhere else: the linear and the network
    run of a seed reset their first episode from the same seed, and a network's first theta is that init."""
    first_episode = {}
    for hidden in ((), (8,)):
        config = settings(hidden=hidden, iterations=1, seed=4)
        run = train(config, stop_when_solved=False, progress=lambda row, seconds, theta: True)
        policy = make_policy(envs.make("cartpole"), "softmax", hidden)
        expected_start = policy.initial_theta(np.random.default_rng([4, 2025]))
        assert np.any(expected_start != 0.0) == bool(hidden)
        first_episode[hidden] = sample_paths(envs.make("cartpole"), policy, expected_start, 1,
                                             np.random.default_rng(4))[0].observations[0]
        assert run.log[0].iteration == 1
    np.testing.assert_array_equal(first_episode[()], first_episode[(8,)])


def test_a_network_checkpoint_records_its_layers_and_loads_back_only_as_the_same_network(tmp_path):
    assert main(["--hidden", "8,4", "--iterations", "2", "--quiet", "--out", str(tmp_path)]) == 0
    with np.load(tmp_path / "cartpole.npz") as checkpoint:
        assert '"hidden": [8, 4]' in str(checkpoint["config"])
        assert checkpoint["theta"].shape == (make_policy(envs.make("cartpole"), "softmax", (8, 4)).n_params,)
    assert main(["--load", str(tmp_path / "cartpole.npz"), "--eval", "2"]) == 0
    assert main(["--load", str(tmp_path / "cartpole.npz"), "--hidden", "8,4", "--iterations", "1", "--quiet",
                 "--out", str(tmp_path / "again")]) == 0
    result = run_cli("--load", str(tmp_path / "cartpole.npz"), "--hidden", "8", "--eval", "2")
    assert result.returncode == 2 and "--hidden 8: checkpoint" in result.stderr and "hidden layers 8,4" in result.stderr
    with pytest.raises(ValueError, match="^--hidden 4,8: checkpoint .* holds a policy with hidden layers 8,4$"):
        main(["--load", str(tmp_path / "cartpole.npz"), "--hidden", "4,8", "--eval", "2"])  # as many layers


OBSERVATION_BOUNDS = {  # Gymnasium's observation_space.high: cos, sin, and the velocity limits
    "acrobot": (1.0, 1.0, 1.0, 1.0, 4 * np.pi, 9 * np.pi), "pendulum": (1.0, 1.0, 8.0)}


@pytest.mark.parametrize("env_name", sorted(OBSERVATION_BOUNDS))
def test_a_runs_tanh_layers_read_the_observation_over_its_bounds_and_a_linear_policy_reads_it_as_it_is(env_name):
    """The policy and the network critic a run builds give on s what unscaled twins give on s / high, high the
    bound of |s|; a linear policy is the unscaled one. Velocities near their bounds move it by a factor of 8 to 28."""
    env, rng = envs.make(env_name), np.random.default_rng(0)
    high = np.array(OBSERVATION_BOUNDS[env_name])
    observations = rng.uniform(-1.0, 1.0, (7, len(high))) * high
    config = settings(env_name, hidden=(5,), critic_hidden=(4,))
    kind, outputs = (SoftmaxPolicy, env.n_actions) if hasattr(env, "n_actions") else (GaussianPolicy, env.action_dim)
    actions = rng.integers(outputs, size=7) if kind is SoftmaxPolicy else rng.standard_normal((7, outputs))
    for hidden, read in (((5,), observations / high), ((), observations)):
        policy, twin = make_policy(env, config.policy, hidden), kind(env.observation_dim, outputs, hidden)
        theta = rng.standard_normal(policy.n_params)
        np.testing.assert_allclose(policy.path_log_probs(theta, observations, actions),
                                   twin.path_log_probs(theta, read, actions), rtol=1e-12)
    critic, twin = make_value(config, env), NetworkCritic(env.observation_dim, np.random.default_rng(1), (4,))
    np.testing.assert_allclose(critic.value_rows(critic.weights, observations)[0],
                               twin.value_rows(critic.weights, observations / high)[0], rtol=1e-12)


def test_a_runs_network_critic_is_built_from_its_settings_on_its_own_stream():
    """make_value's critic is the NetworkCritic of the run's widths, Adam step, passes, minibatches and kept batches,
    its init and shuffles drawn from a generator seeded (seed, 2026): the same weights as one built here, at the
    start and after three fits (the third past the two batches kept)."""
    env = envs.make("pendulum")
    config = settings("pendulum", seed=3, critic_hidden=(6,), critic_lr=0.01, critic_epochs=3, critic_minibatches=5,
                      critic_batches=2)
    critic = make_value(config, env)
    twin = NetworkCritic(3, np.random.default_rng([3, 2026]), hidden=(6,), lr=0.01, epochs=3, minibatches=5, keep=2,
                         input_scale=OBSERVATION_BOUNDS["pendulum"])
    np.testing.assert_array_equal(critic.weights, twin.weights)
    policy, rng = make_policy(env, "gaussian"), np.random.default_rng(0)
    for _ in range(3):
        paths = sample_paths(env, policy, np.zeros(policy.n_params), 1, rng, horizon=20)
        critic.fit(paths, 0.9)
        twin.fit(paths, 0.9)
    np.testing.assert_array_equal(critic.weights, twin.weights)


def test_eval_by_the_mode_takes_the_most_likely_action_at_every_step(tmp_path, capsys):
    """--deterministic: each of 3 episodes replayed by hand with argmax_u pi(u|s) gives the printed mean return."""
    from minipg.io.checkpoint import save_checkpoint

    theta = np.array([0.0, 0.0, 0.3, 0.2, 0.0, 0.0, 0.1, 1.0, 1.0, 0.0])
    save_checkpoint(tmp_path / "c.npz", theta, "cartpole", "softmax", {})
    assert main(["--load", str(tmp_path / "c.npz"), "--eval", "3", "--deterministic", "--seed", "5"]) == 0
    env, policy, rng, returns = envs.make("cartpole"), make_policy(envs.make("cartpole"), "softmax"), \
        np.random.default_rng(5), []
    for _ in range(3):
        observation, _ = env.reset(seed=int(rng.integers(2**32)))
        done, total = False, 0.0
        while not done:
            observation, reward, terminated, truncated, _ = env.step(int(np.argmax(policy.probs(theta, observation))))
            total, done = total + reward, terminated or truncated
        returns.append(total)
    assert f"mean return {np.mean(returns):.1f} ± {np.std(returns):.1f} over 3 episodes acting by the mode" in \
        capsys.readouterr().out


def test_a_loaded_run_resumes_with_the_critic_it_saved(tmp_path, monkeypatch):
    """The checkpoint keeps a network critic's weights: --load's first fit starts from them; a run with another
    critic starts its own."""
    from minipg.critics import NetworkCritic

    assert main(["--estimator", "ppo", "--critic-hidden", "8", "--iterations", "1", "--quiet", "--out",
                 str(tmp_path)]) == 0
    with np.load(tmp_path / "cartpole.npz") as checkpoint:
        saved = checkpoint["value"]
    fitted_from, fit = [], NetworkCritic.fit
    monkeypatch.setattr(NetworkCritic, "fit", lambda self, *args: fitted_from.append(self.weights.copy()) or fit(
        self, *args))
    for critic_hidden in ("8", "4"):
        assert main(["--load", str(tmp_path / "cartpole.npz"), "--estimator", "ppo", "--critic-hidden", critic_hidden,
                     "--iterations", "1", "--quiet", "--out", str(tmp_path / critic_hidden)]) == 0
    np.testing.assert_array_equal(fitted_from[0], saved)
    assert fitted_from[1].shape != saved.shape


@pytest.mark.parametrize("optimizer", ["natural", "capped-natural", "trust-region"])
def test_the_natural_steps_take_a_network_through_its_cg_iterations_of_fisher_products(optimizer):
    """One iteration of a tanh policy of 8 on continuous cart-pole from the public pieces: the network's init from
    (seed, 2025), a batch of >= 500 steps, A_t from the regression critic, the one sum, then the natural direction by
    --cg-iterations 3 conjugate-gradient steps on the products F v; natural scales it by lr 1, capped-natural caps
    lr 0.01 at it, trust-region searches along it. Three CG steps are not ten, so the iterations are the run's."""
    from minipg.natural import batch_fisher, natural_step, trust_region_step

    env = envs.make("cartpole-continuous")
    policy, critic, rng = make_policy(env, "gaussian", (8,)), RegressionCritic(4), np.random.default_rng(0)
    theta = policy.initial_theta(np.random.default_rng([0, 2025]))
    paths = sample_paths(env, policy, theta, 1, rng, min_steps=500)
    psi = [critic.advantages(path, 0.99, 1.0) for path in paths]
    gradient, fisher = policy_gradient(policy, theta, paths, psi), batch_fisher(policy, theta, paths)
    lr = 0.01 if optimizer == "capped-natural" else None
    directions = [natural_step(fisher, gradient, 0.01, lr=lr, iterations=n) for n in (3, 10)]
    assert not np.allclose(directions[0], directions[1], rtol=1e-6)
    expected = (trust_region_step(policy, theta, directions[0], paths, psi, 0.01) if optimizer == "trust-region"
                else theta + directions[0])
    run = train(settings("cartpole-continuous", hidden=(8,), optimizer=optimizer, cg_iterations=3, iterations=1),
                stop_when_solved=False)
    np.testing.assert_allclose(run.theta, expected, rtol=1e-12, atol=1e-15)
    assert not np.array_equal(run.theta, theta)


def test_trust_region_iterations_rebuilt_by_hand_halve_a_step_that_breaks_the_radius():
    """Two iterations of cart-pole's default with --optimizer trust-region from the public pieces: 2 episodes, A_t
    from the regression critic, the one sum, the natural direction d of Eq. (17) on the Fisher matrix, then Eq. (18)'s
    line search written out: the first of d, d/2, d/4, ... whose surrogate, the importance-weighted mean advantage,
    rises and whose mean KL(pi_old || pi) over the batch's states, summed state by state, is within delta = 0.01.
    The second iteration's full step breaks the radius and its half is taken; theta is train's."""
    from minipg.natural import fisher_matrix, natural_step

    env = envs.make("cartpole")
    policy, critic, rng = make_policy(env, "softmax"), RegressionCritic(4), np.random.default_rng(0)
    theta, halvings = np.zeros(policy.n_params), []
    for _ in range(2):
        paths = sample_paths(env, policy, theta, 2, rng)
        psi = [critic.advantages(path, 0.99, 1.0) for path in paths]
        d = natural_step(fisher_matrix(policy, theta, paths), policy_gradient(policy, theta, paths, psi), 0.01)
        states = np.concatenate([path.observations for path in paths])

        def surrogate(candidate):
            ratios = [np.exp(policy.path_log_probs(candidate, path.observations, path.actions) - path.log_probs)
                      for path in paths]
            return sum(np.sum(ratio * advantage) for ratio, advantage in zip(ratios, psi)) / len(states)

        halvings.append(next(k for k in range(10) if surrogate(theta + 0.5**k * d) > surrogate(theta)
                             and kl_at_each_state(policy, theta, theta + 0.5**k * d, states).mean() <= 0.01))
        theta = theta + 0.5 ** halvings[-1] * d
        critic.fit(paths, 0.99)
    assert halvings == [0, 1]
    np.testing.assert_allclose(train(settings(optimizer="trust-region", iterations=2)).theta, theta, rtol=1e-12,
                               atol=1e-15)
