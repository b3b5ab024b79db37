"""`python -m minipg.train`: sample a batch with pi_theta, weigh its steps, sum, step, log; repeat.

Each env trains on its own defaults (config.ENV_DEFAULTS). Cart-pole is evaluated after every iteration
on 100 episodes of the stochastic policy and training stops at the first evaluation whose mean return
reaches 475 (Gymnasium's CartPole-v1 threshold); a tabular env shows the exact U(theta) and stops at its
iteration cap. The learning curve, a CSV log of every iteration and a checkpoint go into --out.
"""
import dataclasses
import os
import sys
import time
import numpy as np

from minipg.io.checkpoint import load_checkpoint, save_checkpoint
from minipg.io.cli import check_memory, interrupt_status
from minipg.io.files import check_output_dir, write_csv, writing_together
from minipg.config import build, parse_config
from minipg.estimators import policy_gradient
from minipg.evaluation import SOLVED_RETURN, evaluate_solved, exact_return
from minipg.io.figures import plot_learning_curve
from minipg.rollout import sample_paths


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
    gradient_norm: float
    eval_mean_return: float  # cart-pole: 100 evaluation episodes (nan once 475 was out of reach); else nan
    eval_env_steps: int  # evaluation steps so far, not counted in env_steps
    exact_return: float  # tabular envs: U(theta) by the oracle; else nan


@dataclasses.dataclass
class Run:
    """What a training run produced: theta, one log row per iteration, and how it ended."""

    theta: np.ndarray
    log: list
    status: str  # "solved", "cap", "diverged" or "interrupted"
    seconds: float  # training alone
    eval_seconds: float = 0.0
    message: str = ""


class Diverged(Exception):
    pass


def finite(value, what, iteration):
    """value, or Diverged naming the iteration if any entry is NaN or inf."""
    if not np.isfinite(value).all():
        raise Diverged(f"iteration {iteration}: {what} is not finite; the step size --lr is likely too large")
    return value


class Judge:
    """After each iteration: cart-pole's evaluation (is it solved?), or a tabular env's exact U(theta)."""

    def __init__(self, config, pieces, stop_early=True):
        self.config, self.pieces, self.stop_early = config, pieces, stop_early
        self.env_steps, self.seconds, self.evaluations = 0, 0.0, 0

    def __call__(self, theta):
        """(solved, evaluation mean return, exact U(theta)), timing itself.

        Evaluation k draws from its own stream, seeded by (seed, 2024, k): training draws are unchanged,
        and an evaluation stopped early cannot shift the draws of the next, so the train command and
        the bench (which lets every evaluation run to the end) reach the same verdicts on the same seed.
        """
        start = time.perf_counter()
        solved, mean_return, exact = False, float("nan"), float("nan")
        if self.config.env in SOLVED_RETURN:
            rng = np.random.default_rng([self.config.seed, 2024, self.evaluations])
            self.evaluations += 1
            evaluation = evaluate_solved(self.config.env, self.pieces.policy, theta, rng, stop_early=self.stop_early)
            solved, mean_return = evaluation.solved, evaluation.mean_return
            self.env_steps += evaluation.env_steps
        elif hasattr(self.pieces.env, "P"):
            exact = exact_return(self.pieces.env, self.pieces.policy, theta, self.config.gamma)
        self.seconds += time.perf_counter() - start
        return solved, mean_return, exact


def train(config, pieces=None, theta=None, progress=None, stop_when_solved=True, stop_early=True):
    """Run the training loop of `config` from theta (zeros by default); never touches the disk.

    pieces: what build(config) returns for it (built here if not given). After every iteration
    progress(log_row, training_seconds, theta) is called if given; if it returns True training stops
    there. With stop_when_solved, training stops at the first evaluation that finds cart-pole solved.
    Time spent evaluating or inside progress is not counted as training time.
    """
    if pieces is None:
        config, pieces = build(config)
    policy, rng, judge = pieces.policy, np.random.default_rng(config.seed), Judge(config, pieces, stop_early)
    theta = np.zeros(policy.n_params) if theta is None else theta
    log, env_steps, episodes, start, outside = [], 0, 0, time.perf_counter(), 0.0
    run = Run(theta, log, "cap", 0.0)
    try:
        for iteration in range(1, config.iterations + 1):
            with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported as divergence
                paths = sample_paths(pieces.env, policy, theta, config.episodes, rng, min_steps=config.batch_steps)
                batch = pieces.weigh(theta, paths)
                gradient = finite(policy_gradient(policy, theta, batch.paths, batch.weights), "the gradient", iteration)
                theta = run.theta = finite(pieces.step(theta, gradient, batch), "theta", iteration)
            entered = time.perf_counter()
            solved, eval_mean_return, exact = judge(theta)
            returns = [float(path.rewards.sum()) for path in paths]
            env_steps += sum(len(path) for path in paths)
            episodes += len(paths)
            log.append(LogRow(iteration, env_steps, episodes, float(np.mean(returns)), float(np.std(returns)),
                              min(returns), max(returns), float(np.linalg.norm(gradient)), eval_mean_return,
                              judge.env_steps, exact))
            stop = progress(log[-1], entered - start - outside, theta) if progress else False
            outside += time.perf_counter() - entered
            if stop:
                break
            if solved and stop_when_solved:
                run.status = "solved"
                break
    except Diverged as error:
        run.status, run.message = "diverged", str(error)
    except KeyboardInterrupt:
        run.status, run.message = "interrupted", "interrupted: stopped after saving the last finite theta"
    run.seconds, run.eval_seconds = time.perf_counter() - start - outside, judge.seconds
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


def output_names(config):
    """The files a run writes into config.out: its CSV log, its checkpoint, its learning curve."""
    return [config.env + extension for extension in (".csv", ".npz", ".png")]


def write_outputs(run, config):
    """The CSV log, the checkpoint and (if an iteration finished) the learning-curve PNG, written together
    into config.out: an older run's PNG is removed. Returns the paths written."""
    paths = [os.path.join(config.out, name) for name in output_names(config)]
    columns = [field.name for field in dataclasses.fields(LogRow)]
    with writing_together(paths):
        write_csv(paths[0], columns, [[getattr(row, name) for name in columns] for row in run.log])
        save_checkpoint(paths[1], run.theta, config.env, config.policy, dataclasses.asdict(config))
        if run.log:
            column = lambda name: np.array([getattr(row, name) for row in run.log])  # noqa: E731
            judged, label = ((column("eval_mean_return"), "evaluation: mean of 100 episodes (finished ones)")
                             if config.env in SOLVED_RETURN else (column("exact_return"), "exact U(θ), the oracle"))
            plot_learning_curve(column("env_steps"), column("mean_return"), column("min_return"),
                                column("max_return"), paths[2], f"minipg: {config.estimator} on {config.env}",
                                threshold=SOLVED_RETURN.get(config.env), judged=judged, judged_label=label)
    return paths if run.log else paths[:2]


class Progress:
    """Prints a progress line at most once a second, so a fast run does not flood the terminal."""

    def __init__(self, judged_by, every_seconds=1.0):
        self.judged_by, self.every, self.last = judged_by, every_seconds, -np.inf
        print(f"{'iter':>6} {'env steps':>10} {'mean return':>12} {judged_by:>12} {'|grad|':>10} {'seconds':>8}")

    def __call__(self, row, elapsed, theta):
        if elapsed - self.last >= self.every:
            self.last = elapsed
            print(f"{row.iteration:6d} {row.env_steps:10d} {row.mean_return:12.1f} {judgement(row):>12} "
                  f"{row.gradient_norm:10.3g} {elapsed:8.1f}")


def judgement(row):
    """The evaluation's mean return, or the exact U(theta), or '< 475' for an evaluation stopped early."""
    if not np.isnan(row.exact_return):
        return f"{row.exact_return:.4f}"
    return "< 475" if np.isnan(row.eval_mean_return) else f"{row.eval_mean_return:.1f}"


def summary(run, config, written):
    """The closing line: how the run ended, what it cost, how it was judged, and what was written."""
    row = run.log[-1] if run.log else None
    steps = row.env_steps if row else 0
    cost = f"{len(run.log)} iterations, {steps} env steps, {run.seconds:.2f} s"
    if config.env in SOLVED_RETURN:
        judged = (f"evaluation mean return {judgement(row)} over 100 episodes "
                  f"(+{row.eval_env_steps} env steps, {run.eval_seconds:.2f} s)" if row else "no evaluation")
    else:
        judged = f"exact U(theta) {row.exact_return:.4f}" if row else "no iteration"
    return f"{run.status}: {config.env} after {cost}; {judged}; wrote {', '.join(written)}"


ROW_BYTES = 512  # a LogRow held in memory: 11 Python numbers and their object (measured: about 470 bytes)
PATH_BYTES = 1024  # a Path's objects, besides the data of its arrays (measured: under 1 kB)


def batch_bytes(env, episodes, min_steps=0, horizon=None):
    """At most what one batch holds: >= `episodes` paths of <= H steps and >= min_steps steps in all, so at most
    max(episodes, min_steps) paths and max(episodes H, min_steps + H) steps, each step an observation, an action,
    a reward, log pi and psi (float64)."""
    horizon = horizon or env.max_episode_steps
    steps = max(episodes * horizon, min_steps + horizon)
    return max(episodes, min_steps) * PATH_BYTES + steps * 8 * (env.observation_dim + 4)


def run_bytes(config, env, iterations=None):
    """At most what a run's counts ask of memory: the batches it holds at once (the importance estimator keeps
    --reuse of them) and its log, a row per iteration."""
    kept = config.reuse if config.estimator == "importance" else 1
    return kept * batch_bytes(env, config.episodes, config.batch_steps) + (iterations or config.iterations) * ROW_BYTES


def main(argv=None):
    config, pieces = build(parse_config(argv, description=__doc__.split("\n\n")[0]))
    theta = load_theta(config.load, config, pieces.policy) if config.load else None
    if config.eval:
        check_memory("--eval", batch_bytes(pieces.env, config.eval))
        returns = evaluate(pieces.env, pieces.policy, theta, config.eval, np.random.default_rng(config.seed))
        print(f"{config.env}: mean return {np.mean(returns):.1f} ± {np.std(returns):.1f} over {config.eval} episodes")
        return 0
    check_memory("--episodes, --batch-steps, --iterations and --reuse", run_bytes(config, pieces.env))
    check_output_dir("--out", config.out, output_names(config))
    judged_by = "eval return" if config.env in SOLVED_RETURN else "exact U"
    run = train(config, pieces, theta, progress=None if config.quiet else Progress(judged_by))
    print(summary(run, config, write_outputs(run, config)))
    if run.message:
        print(run.message, file=sys.stderr)
    return {"diverged": 1, "interrupted": interrupt_status()}.get(run.status, 0)


if __name__ == "__main__":
    from minipg.io.cli import run_cli

    sys.exit(run_cli(main))
