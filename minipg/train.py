"""`python -m minipg.train`: sample a batch with pi_theta, estimate grad U(theta), step, repeat.

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

import envs
from minipg import estimators
from minipg.baselines import LinearCritic, LinearValueBaseline, RegressionCritic, discounted_returns
from minipg.checkpoint import load_checkpoint, save_checkpoint
from minipg.cli import (Parser, check_output_dir, interrupt_status, non_negative_int, positive_float, positive_int,
                        write_atomically, writing_together)
from minipg.natural import fisher_matrix, natural_step, trust_region_step
from minipg.optim import OPTIMIZER_NAMES, make_optimizer
from minipg.plotting import plot_learning_curve
from minipg.policies import GaussianPolicy, SoftmaxPolicy
from minipg.rollout import sample_paths

ESTIMATOR_NAMES = ("reinforce", "reward-to-go", "baseline", "actor-critic", "importance")
POLICY_NAMES = ("softmax", "gaussian")
CRITIC_NAMES = ("regression", "td")
UPDATE_NAMES = OPTIMIZER_NAMES + ("natural", "capped-natural", "trust-region")
SOLVED_RETURN = {"cartpole": 475.0, "cartpole-continuous": 475.0}


def _flag(default, help_text, **kwargs):
    return dataclasses.field(default=default, metadata={"help": help_text, **kwargs})


@dataclasses.dataclass
class Config:
    """Every setting of a run, with its default and help text; argparse is built from this."""

    env: str = _flag("cartpole", "environment: " + ", ".join(envs.ENV_NAMES))
    policy: str = _flag(None, "softmax or gaussian (default: softmax for discrete actions, gaussian otherwise)")
    estimator: str = _flag("actor-critic", "gradient estimator: " + ", ".join(ESTIMATOR_NAMES))
    critic: str = _flag("regression", "actor-critic's V: regression (ridge fit of V(s) to bootstrapped returns) "
                        "or td (TD(0) on V(s, t))")
    optimizer: str = _flag("capped-natural", "optimizer: " + ", ".join(UPDATE_NAMES))
    lr: float = _flag(None, "step size of the optimizer (capped-natural: lr F^-1 g; natural: a multiple of the "
                      "KL-sized step); default 0.001 for capped-natural with the softmax policy, else 0.01",
                      type=positive_float)
    kl: float = _flag(0.01, "natural, capped-natural and trust-region: KL radius delta of a step",
                      type=positive_float)
    iterations: int = _flag(300, "iteration cap", type=positive_int)
    episodes: int = _flag(1, "at least m episodes per iteration", type=positive_int)
    batch_steps: int = _flag(500, "and more episodes until the batch holds at least this many env steps",
                             type=non_negative_int)
    gamma: float = _flag(0.99, "discount factor in (0, 1]")
    lam: float = _flag(1.0, "GAE lambda of the actor-critic advantage, in [0, 1]")
    critic_lr: float = _flag(0.1, "td critic: normalised TD(0) step, in (0, 1]", type=positive_float)
    reuse: int = _flag(3, "importance estimator: number of recent batches reused", type=positive_int)
    seed: int = _flag(0, "seed of every random number of the run", type=non_negative_int)
    out: str = _flag("plots", "directory for the plot, the CSV log and the checkpoint")
    load: str = _flag(None, "start from the theta of this checkpoint (.npz)")
    eval: int = _flag(0, "with --load: only evaluate the loaded theta for this many episodes", type=non_negative_int)
    quiet: bool = _flag(False, "print no progress lines")


def check_config(config):
    """Raise ValueError naming the first bad setting; nothing has been written yet."""
    if config.env not in envs.ENV_NAMES:
        raise ValueError(f"unknown env {config.env!r}; known envs: {', '.join(envs.ENV_NAMES)}")
    if config.policy is not None and config.policy not in POLICY_NAMES:
        raise ValueError(f"unknown policy {config.policy!r}; known policies: {', '.join(POLICY_NAMES)}")
    if config.estimator not in ESTIMATOR_NAMES:
        raise ValueError(f"unknown estimator {config.estimator!r}; known estimators: {', '.join(ESTIMATOR_NAMES)}")
    if config.critic not in CRITIC_NAMES:
        raise ValueError(f"unknown critic {config.critic!r}; known critics: {', '.join(CRITIC_NAMES)}")
    if config.optimizer not in UPDATE_NAMES:
        raise ValueError(f"unknown optimizer {config.optimizer!r}; known optimizers: {', '.join(UPDATE_NAMES)}")
    if config.optimizer == "trust-region" and config.estimator in ("reinforce", "importance"):
        raise ValueError("trust-region needs per-step advantages: use --estimator reward-to-go, baseline or actor-critic")
    if config.lr is not None and not config.lr > 0:
        raise ValueError(f"lr must be > 0, got {config.lr}")
    if config.episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {config.episodes}")
    if config.batch_steps < 0:
        raise ValueError(f"batch-steps must be >= 0, got {config.batch_steps}")
    if not 0.0 < config.gamma <= 1.0:
        raise ValueError(f"gamma must be in (0, 1], got {config.gamma}")
    if not 0.0 <= config.lam <= 1.0:
        raise ValueError(f"lam must be in [0, 1], got {config.lam}")
    if not 0.0 < config.critic_lr <= 1.0:
        raise ValueError(f"critic-lr must be in (0, 1], got {config.critic_lr}")
    if config.eval < 0 or (config.eval and config.load is None):
        raise ValueError("eval takes a positive episode count and needs --load")


def make_policy(env, name=None):
    """The linear policy for env: softmax over discrete actions, Gaussian over continuous ones."""
    discrete = hasattr(env, "n_actions")
    name = name or ("softmax" if discrete else "gaussian")
    if (name == "softmax") != discrete:
        raise ValueError(f"policy {name!r} does not fit this env's {'discrete' if discrete else 'continuous'} actions")
    if name == "softmax":
        return SoftmaxPolicy(env.observation_dim, env.n_actions)
    return GaussianPolicy(env.observation_dim, env.action_dim)


def make_estimator(config, policy, env):
    """estimate(theta, paths) -> (gradient, per-step advantages or None), for the estimator config names.

    Baselines and the critic learn AFTER the gradient is formed, so each batch is scored with a
    value function fitted on earlier batches only. The advantages are what the trust region's
    surrogate, Eq. (17), weighs the probability ratios by.
    """
    gamma = config.gamma
    if config.estimator == "reinforce":
        return lambda theta, paths: (estimators.likelihood_ratio(policy, theta, paths, baseline="mean"), None)
    if config.estimator == "reward-to-go":
        def estimate(theta, paths):
            returns = [discounted_returns(path.rewards, gamma) for path in paths]
            return estimators.reward_to_go(policy, theta, paths, gamma=gamma), returns

        return estimate
    if config.estimator == "baseline":
        baseline = LinearValueBaseline()

        def estimate(theta, paths):
            returns = [discounted_returns(path.rewards, gamma) for path in paths]
            advantages = [g - b for g, b in zip(returns, baseline.values(paths, returns))]
            gradient = estimators.reward_to_go(policy, theta, paths, baseline=baseline, gamma=gamma)
            baseline.fit(paths, returns)
            return gradient, advantages

        return estimate
    if config.estimator == "actor-critic":
        if config.critic == "td":
            critic = LinearCritic(env.observation_dim, lr=config.critic_lr)
        else:
            critic = RegressionCritic(env.observation_dim)

        def estimate(theta, paths):
            advantages = [critic.advantages(path, gamma, config.lam) for path in paths]
            gradient = estimators.actor_critic(policy, theta, paths, critic, gamma=gamma, lam=config.lam)
            critic.update(paths, gamma)
            return gradient, advantages

        return estimate
    recent = deque(maxlen=config.reuse)

    def estimate(theta, paths):
        """Per-decision importance sampling, Eq. (8), averaged over this batch and the reuse - 1 before it."""
        recent.append((theta, paths))
        return np.mean([estimators.importance_sampled(policy, theta, theta_old, old_paths, per_decision=True)
                        for theta_old, old_paths in recent], axis=0), None

    return estimate


def step_size(config, policy):
    """--lr, or its measured default: 0.001 for the softmax policy's capped natural step, 0.01 otherwise.

    On cart-pole the softmax policy's capped step at 0.01 stays KL-sized after the task is solved and
    its evaluations fall back below 475 more often; the Gaussian's at 0.001 needs twice the samples
    (README, "Benchmark").
    """
    if config.lr is not None:
        return config.lr
    return 0.001 if config.optimizer == "capped-natural" and isinstance(policy, SoftmaxPolicy) else 0.01


def make_update(config, policy):
    """update(theta, gradient, paths, advantages) -> the next theta, by the optimizer config names."""
    lr = step_size(config, policy)
    if config.optimizer in OPTIMIZER_NAMES:
        optimizer = make_optimizer(config.optimizer, lr)
        return lambda theta, gradient, paths, advantages: optimizer.step(theta, gradient)

    def update(theta, gradient, paths, advantages):
        fisher = fisher_matrix(policy, theta, paths)
        if config.optimizer == "capped-natural":
            return theta + natural_step(fisher, gradient, config.kl, lr=lr)
        step = natural_step(fisher, gradient, config.kl)
        if config.optimizer == "natural":
            return theta + lr * step
        return trust_region_step(policy, theta, step, paths, advantages, config.kl)

    return update


def load_theta(path, env_name, policy_name):
    """theta from a checkpoint, refusing one written for another env or policy."""
    checkpoint = load_checkpoint(path)
    if checkpoint.env != env_name or checkpoint.policy != policy_name:
        raise ValueError(f"checkpoint {path} is for env {checkpoint.env!r} with policy {checkpoint.policy!r}, "
                         f"not env {env_name!r} with policy {policy_name!r}")
    return checkpoint.theta


def evaluate(env, policy, theta, episodes, rng):
    """Returns of `episodes` episodes of the stochastic policy pi_theta."""
    return [float(path.rewards.sum()) for path in sample_paths(env, policy, theta, episodes, rng)]


CSV_COLUMNS = ("iteration", "env_steps", "episodes", "mean_return", "std_return", "min_return", "max_return",
               "last100_mean_return", "gradient_norm")


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


def train(config, theta=None, progress=None, stop_when_solved=True):
    """Run the training loop of `config` from theta (zeros by default); never touches the disk.

    After every iteration progress(log_row, training_seconds, theta) is called if given; if it returns
    True training stops there. Time spent inside progress is not counted as training time.
    With stop_when_solved, training also stops once the last 100 episodes average the env's threshold.
    """
    env = envs.make(config.env)
    policy = make_policy(env, config.policy)
    rng = np.random.default_rng(config.seed)
    theta = np.zeros(policy.n_params) if theta is None else theta
    update = make_update(config, policy)
    estimate = make_estimator(config, policy, env)
    target = SOLVED_RETURN.get(config.env) if stop_when_solved else None
    recent_returns = deque(maxlen=100)
    log, env_steps, episodes, start, outside = [], 0, 0, time.perf_counter(), 0.0
    run = Run(theta, log, "cap", 0.0)
    try:
        for iteration in range(1, config.iterations + 1):
            paths = sample_paths(env, policy, theta, config.episodes, rng, min_steps=config.batch_steps)
            gradient, advantages = estimate(theta, paths)
            if not np.isfinite(gradient).all():
                raise Diverged(f"iteration {iteration}: the gradient is not finite; the step size --lr is likely too large")
            with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported as divergence below
                new_theta = update(theta, gradient, paths, advantages)
            if not np.isfinite(new_theta).all():
                raise Diverged(f"iteration {iteration}: theta is not finite; the step size --lr is likely too large")
            theta = run.theta = new_theta
            returns = [float(path.rewards.sum()) for path in paths]
            recent_returns.extend(returns)
            env_steps += sum(len(path) for path in paths)
            episodes += len(paths)
            log.append((iteration, env_steps, episodes, float(np.mean(returns)),
                        float(np.std(returns)), min(returns), max(returns), float(np.mean(recent_returns)),
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


def write_outputs(run, config, policy_name):
    """The CSV log, the checkpoint and (if an iteration finished) the learning-curve PNG, written together
    into config.out: an older run's PNG is removed. Returns the paths written."""
    stem = os.path.join(config.out, config.env)

    def write_csv(temporary):
        with open(temporary, "w") as file:
            file.write(",".join(CSV_COLUMNS) + "\n")
            for row in run.log:
                file.write(",".join(repr(value) for value in row) + "\n")

    paths = [stem + ".csv", stem + ".npz", stem + ".png"]
    with writing_together(paths):
        write_atomically(stem + ".csv", write_csv)
        save_checkpoint(stem + ".npz", run.theta, config.env, policy_name, dataclasses.asdict(config))
        if run.log:
            _, steps, _, means, _, lows, highs, _, _ = zip(*run.log)
            plot_learning_curve(steps, means, lows, highs, stem + ".png",
                                f"minipg: {config.estimator} on {config.env}", threshold=SOLVED_RETURN.get(config.env))
    return paths if run.log else paths[:2]


class Progress:
    """Prints a progress line at most once a second, so a fast run does not flood the terminal."""

    def __init__(self, every_seconds=1.0):
        self.every = every_seconds
        self.last = -np.inf
        print(f"{'iter':>6} {'env steps':>10} {'mean return':>12} {'last 100':>9} {'|grad|':>10} {'seconds':>8}")

    def __call__(self, row, elapsed, theta):
        if elapsed - self.last >= self.every:
            self.last = elapsed
            iteration, steps, _, mean, _, _, _, last100, grad_norm = row
            print(f"{iteration:6d} {steps:10d} {mean:12.1f} {last100:9.1f} {grad_norm:10.3g} {elapsed:8.1f}")


def parse_config(argv):
    parser = Parser(prog="python -m minipg.train", description=__doc__.split("\n\n")[0])
    for field in dataclasses.fields(Config):
        flag = "--" + field.name.replace("_", "-")
        if field.type is bool:
            parser.add_argument(flag, action="store_true", help=field.metadata["help"])
        else:
            kind = field.metadata.get("type", field.type)
            shown = f" (default {field.default})" if field.default is not None else ""
            parser.add_argument(flag, type=kind, default=field.default, help=field.metadata["help"] + shown)
    return Config(**vars(parser.parse_args(argv)))


def main(argv=None):
    config = parse_config(argv)
    check_config(config)
    env = envs.make(config.env)
    policy = make_policy(env, config.policy)
    policy_name = "softmax" if isinstance(policy, SoftmaxPolicy) else "gaussian"
    config = dataclasses.replace(config, policy=policy_name, lr=step_size(config, policy))
    theta = load_theta(config.load, config.env, policy_name) if config.load else None
    if theta is not None and theta.shape != (policy.n_params,):
        raise ValueError(f"checkpoint theta has {theta.size} numbers, the policy needs {policy.n_params}")
    if config.eval:
        returns = evaluate(env, policy, theta, config.eval, np.random.default_rng(config.seed))
        print(f"{config.env}: mean return {np.mean(returns):.1f} ± {np.std(returns):.1f} over {config.eval} episodes")
        return 0
    check_output_dir("--out", config.out)
    run = train(config, theta, progress=None if config.quiet else Progress())
    written = write_outputs(run, config, policy_name)
    steps = run.log[-1][1] if run.log else 0
    last100 = run.log[-1][7] if run.log else float("nan")
    print(f"{run.status}: {config.env} after {len(run.log)} iterations, {steps} env steps, {run.seconds:.1f} s; "
          f"mean return of the last 100 episodes {last100:.1f}; wrote {', '.join(written)}")
    if run.message:
        print(run.message, file=sys.stderr)
    return {"diverged": 1, "interrupted": interrupt_status()}.get(run.status, 0)


if __name__ == "__main__":
    from minipg.cli import run_cli

    sys.exit(run_cli(main))
