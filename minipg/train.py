"""`python -m minipg.train`: sample a batch with pi_theta, weigh its steps, sum, step, log; repeat.

With no flags it trains the softmax policy on cart-pole until the mean return of the last 100
episodes reaches 475 (Gymnasium's CartPole-v1 threshold), then writes the learning curve, a CSV
log of every iteration and a checkpoint of theta into plots/.
"""
import dataclasses
import os
import sys
import time
from collections import deque

import numpy as np

from minipg.checkpoint import load_checkpoint, save_checkpoint
from minipg.cli import write_atomically
from minipg.config import build, parse_config
from minipg.estimators import policy_gradient
from minipg.plotting import plot_learning_curve
from minipg.rollout import sample_paths

SOLVED_RETURN = {"cartpole": 475.0, "cartpole-continuous": 475.0}


@dataclasses.dataclass
class LogRow:
    """One iteration of a run, as the CSV log, the progress line and the bench read it."""

    iteration: int
    env_steps: int
    episodes: int
    mean_return: float
    std_return: float
    min_return: float
    max_return: float
    last100_mean_return: float
    gradient_norm: float


@dataclasses.dataclass
class Run:
    """What a training run produced: theta, one log row per iteration, and how it ended."""

    theta: np.ndarray
    log: list
    status: str  # "solved", "cap", "diverged" or "interrupted"
    seconds: float
    message: str = ""


class Diverged(Exception):
    pass


def finite(value, what, iteration):
    """value, or Diverged naming the iteration if any entry is NaN or inf."""
    if not np.isfinite(value).all():
        raise Diverged(f"iteration {iteration}: {what} is not finite; the step size --lr is likely too large")
    return value


def train(config, pieces=None, theta=None, progress=None, stop_when_solved=True):
    """Run the training loop of `config` from theta (zeros by default); never touches the disk.

    pieces: what build(config) returns for it (built here if not given).

    After every iteration progress(log_row, training_seconds, theta) is called if given; if it returns
    True training stops there. Time spent inside progress is not counted as training time.
    With stop_when_solved, training also stops once the last 100 episodes average the env's threshold.
    """
    if pieces is None:
        config, pieces = build(config)
    policy, rng = pieces.policy, np.random.default_rng(config.seed)
    theta = np.zeros(policy.n_params) if theta is None else theta
    target = SOLVED_RETURN.get(config.env) if stop_when_solved else None
    recent_returns = deque(maxlen=100)
    log, env_steps, episodes, start, outside = [], 0, 0, time.perf_counter(), 0.0
    run = Run(theta, log, "cap", 0.0)
    try:
        for iteration in range(1, config.iterations + 1):
            paths = sample_paths(pieces.env, policy, theta, config.episodes, rng, min_steps=config.batch_steps)
            batch = pieces.weigh(theta, paths)
            gradient = finite(policy_gradient(policy, theta, batch.paths, batch.weights), "the gradient", iteration)
            with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported as divergence
                theta = run.theta = finite(pieces.step(theta, gradient, batch), "theta", iteration)
            returns = [float(path.rewards.sum()) for path in paths]
            recent_returns.extend(returns)
            env_steps += sum(len(path) for path in paths)
            episodes += len(paths)
            log.append(LogRow(iteration, env_steps, episodes, float(np.mean(returns)), float(np.std(returns)),
                              min(returns), max(returns), float(np.mean(recent_returns)),
                              float(np.linalg.norm(gradient))))
            if progress:
                entered = time.perf_counter()
                stop = progress(log[-1], entered - start - outside, theta)
                outside += time.perf_counter() - entered
                if stop:
                    break
            if target is not None and len(recent_returns) == 100 and np.mean(recent_returns) >= target:
                run.status = "solved"
                break
    except Diverged as error:
        run.status, run.message = "diverged", str(error)
    except KeyboardInterrupt:
        run.status, run.message = "interrupted", "interrupted: stopped after saving the last finite theta"
    run.seconds = time.perf_counter() - start - outside
    return run


def evaluate(env, policy, theta, episodes, rng):
    """Returns of `episodes` episodes of the stochastic policy pi_theta."""
    return [float(path.rewards.sum()) for path in sample_paths(env, policy, theta, episodes, rng)]


def load_theta(path, config, policy):
    """theta from a checkpoint, refusing one written for another env or policy, or of the wrong size."""
    checkpoint = load_checkpoint(path)
    if checkpoint.env != config.env or checkpoint.policy != config.policy:
        raise ValueError(f"checkpoint {path} is for env {checkpoint.env!r} with policy {checkpoint.policy!r}, "
                         f"not env {config.env!r} with policy {config.policy!r}")
    if checkpoint.theta.shape != (policy.n_params,):
        raise ValueError(f"checkpoint {path} has theta of shape {checkpoint.theta.shape}, "
                         f"the policy needs ({policy.n_params},)")
    return checkpoint.theta


def write_outputs(run, config):
    """The CSV log, the learning-curve PNG and the checkpoint, each written atomically into config.out."""
    stem = os.path.join(config.out, config.env)
    columns = [field.name for field in dataclasses.fields(LogRow)]

    def write_csv(temporary):
        with open(temporary, "w") as file:
            file.write(",".join(columns) + "\n")
            for row in run.log:
                file.write(",".join(repr(getattr(row, name)) for name in columns) + "\n")

    write_atomically(stem + ".csv", write_csv)
    save_checkpoint(stem + ".npz", run.theta, config.env, config.policy, dataclasses.asdict(config))
    if run.log:
        plot_learning_curve([row.env_steps for row in run.log], [row.mean_return for row in run.log],
                            [row.min_return for row in run.log], [row.max_return for row in run.log],
                            stem + ".png", f"minipg: {config.estimator} on {config.env}",
                            threshold=SOLVED_RETURN.get(config.env))
    return stem


class Progress:
    """Prints a progress line at most once a second, so a fast run does not flood the terminal."""

    def __init__(self, every_seconds=1.0):
        self.every = every_seconds
        self.last = -np.inf
        print(f"{'iter':>6} {'env steps':>10} {'mean return':>12} {'last 100':>9} {'|grad|':>10} {'seconds':>8}")

    def __call__(self, row, elapsed, theta):
        if elapsed - self.last >= self.every:
            self.last = elapsed
            print(f"{row.iteration:6d} {row.env_steps:10d} {row.mean_return:12.1f} {row.last100_mean_return:9.1f} "
                  f"{row.gradient_norm:10.3g} {elapsed:8.1f}")


def main(argv=None):
    config, pieces = build(parse_config(argv, description=__doc__.split("\n\n")[0]))
    theta = load_theta(config.load, config, pieces.policy) if config.load else None
    if config.eval:
        returns = evaluate(pieces.env, pieces.policy, theta, config.eval, np.random.default_rng(config.seed))
        print(f"{config.env}: mean return {np.mean(returns):.1f} ± {np.std(returns):.1f} over {config.eval} episodes")
        return 0
    run = train(config, pieces, theta, progress=None if config.quiet else Progress())
    stem = write_outputs(run, config)
    steps = run.log[-1].env_steps if run.log else 0
    last100 = run.log[-1].last100_mean_return if run.log else float("nan")
    print(f"{run.status}: {config.env} after {len(run.log)} iterations, {steps} env steps, {run.seconds:.1f} s; "
          f"mean return of the last 100 episodes {last100:.1f}; wrote {stem}.png, .csv, .npz")
    if run.message:
        print(run.message, file=sys.stderr)
    return {"diverged": 1, "interrupted": 130}.get(run.status, 0)


if __name__ == "__main__":
    from minipg.cli import run_cli

    sys.exit(run_cli(main))
