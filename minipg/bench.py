"""`python -m minipg.bench`: env steps and training seconds to solve cart-pole, per configuration and seed.

After every training iteration, a separate evaluation runs 100 episodes of the stochastic policy
(own random stream; its steps are neither counted nor timed). A run is solved at the first
evaluation whose mean return is >= 475; it then trains on for --after iterations to measure whether
it stays solved. The evaluation steps 100 cart-poles together (envs.cartpole.CartPoleVector, the
tested twin of the single env), which makes an evaluation after every iteration affordable.
"""
import csv
import dataclasses
import os
import sys
import time

import numpy as np

import envs
from envs.cartpole import CartPoleVector
from minipg.cli import (Parser, check_output_dir, non_negative_int, positive_int, run_cli, write_atomically,
                        writing_together)
from minipg.plotting import plot_bench
from minipg.rollout import sample_paths
from minipg.train import SOLVED_RETURN, Config, check_config, make_estimator, make_policy, parse_config, train

PREVIOUS_DEFAULT = {"estimator": "baseline", "optimizer": "adam", "lr": 0.1, "episodes": 10, "batch_steps": 0}
CONFIGURATIONS = {
    "default": {},
    "baseline+adam": PREVIOUS_DEFAULT,
    "actor-critic": {**PREVIOUS_DEFAULT, "estimator": "actor-critic", "critic": "td", "lam": 0.98},
    "natural": {"optimizer": "natural", "lr": 1.0},
    "trust-region": {"optimizer": "trust-region"},
}
EVAL_EPISODES = 100
NOT_SETTABLE = {"env": "use bench's --env", "seed": "bench runs seeds 0 to --seeds - 1", "out": "use bench's --out",
                "load": "bench trains from theta = 0", "eval": "bench evaluates after every iteration",
                "quiet": "bench trains quietly"}


def evaluate_together(env_name, policy, theta, episodes, rng):
    """Returns of `episodes` episodes of pi_theta, all stepped at once."""
    vector = CartPoleVector(episodes, continuous=env_name == "cartpole-continuous")
    observations = vector.reset(seed=int(rng.integers(2**32)))
    returns = np.zeros(episodes)
    while not vector.done.all():
        observations, rewards, _, _ = vector.step(policy.act_batch(theta, observations, rng))
        returns += rewards
    return returns


@dataclasses.dataclass
class SeedResult:
    solved: bool
    steps_to_solve: int
    seconds_to_solve: float
    after_solved: list  # one flag per evaluation after the first solve: still >= 475?
    curve: list  # (env steps, evaluation mean return) after every iteration


def bench_seed(config, seed, after, max_steps):
    """Train one seed with an evaluation after every iteration; see the module docstring."""
    config = dataclasses.replace(config, seed=seed, quiet=True)
    policy = make_policy(envs.make(config.env), config.policy)
    eval_rng = np.random.default_rng([seed, 2024])
    threshold = SOLVED_RETURN[config.env]
    result = SeedResult(False, 0, 0.0, [], [])

    def check(row, seconds, theta):
        mean_return = float(evaluate_together(config.env, policy, theta, EVAL_EPISODES, eval_rng).mean())
        steps = row[1]
        result.curve.append((steps, mean_return))
        if result.solved:
            result.after_solved.append(mean_return >= threshold)
            return len(result.after_solved) >= after
        if mean_return >= threshold:
            result.solved, result.steps_to_solve, result.seconds_to_solve = True, steps, seconds
            return after == 0
        return steps >= max_steps

    if train(config, progress=check, stop_when_solved=False).status == "interrupted":
        raise KeyboardInterrupt  # train stopped and kept theta; bench stops too, writing nothing
    return result


def steps_per_second(config, seconds=2.0):
    """Env steps per second of sampling alone, and of sampling plus the gradient, at theta = 0."""
    env = envs.make(config.env)
    policy = make_policy(env, config.policy)
    theta = np.zeros(policy.n_params)
    estimate = make_estimator(config, policy, env)
    rates = []
    for with_gradient in (False, True):
        rng, steps, start = np.random.default_rng(0), 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            paths = sample_paths(env, policy, theta, config.episodes, rng)
            if with_gradient:
                estimate(theta, paths)
            steps += sum(len(path) for path in paths)
        rates.append(steps / (time.perf_counter() - start))
    return rates


def summary(results):
    solved = [r for r in results if r.solved]
    steps = np.array([r.steps_to_solve for r in solved]) if solved else np.array([np.nan])
    seconds = np.array([r.seconds_to_solve for r in solved]) if solved else np.array([np.nan])
    after = [flag for r in solved for flag in r.after_solved]
    return {
        "solved": f"{len(solved)}/{len(results)}",
        "median_steps": float(np.median(steps)),
        "iqr_steps": float(np.subtract(*np.percentile(steps, [75, 25]))),
        "median_seconds": float(np.median(seconds)),
        "iqr_seconds": float(np.subtract(*np.percentile(seconds, [75, 25]))),
        "stays_solved": float(np.mean(after)) if after else float("nan"),
    }


def parse_overrides(items):
    """{"lam": 0.98} from ["lam=0.98"], each value checked and typed by the train command's own parser."""
    known = {field.name for field in dataclasses.fields(Config)}
    names, argv = [], []
    for item in items:
        flag, equals, value = item.partition("=")
        name = flag.replace("-", "_")
        if not equals or name not in known:
            raise ValueError(f"--set expects FLAG=VALUE with a flag of python -m minipg.train, got {item!r}")
        if name in NOT_SETTABLE:
            raise ValueError(f"--set {item}: {NOT_SETTABLE[name]}")
        names.append(name)
        argv += ["--" + name.replace("_", "-"), value]
    parsed = parse_config(argv)
    return {name: getattr(parsed, name) for name in names}


def parse_args(argv):
    parser = Parser(prog="python -m minipg.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="cartpole", choices=sorted(SOLVED_RETURN), help="default cartpole")
    parser.add_argument("--configs", default=",".join(CONFIGURATIONS),
                        help="comma-separated configurations (default: all of " + ", ".join(CONFIGURATIONS) + ")")
    parser.add_argument("--seeds", type=positive_int, default=10, help="seeds per configuration (default 10)")
    parser.add_argument("--after", type=non_negative_int, default=20, help="iterations trained after the first solve (default 20)")
    parser.add_argument("--max-steps", type=positive_int, default=200_000, help="training env steps cap (default 200000)")
    parser.add_argument("--quick", action="store_true", help="CI smoke run: 2 seeds, 3,000-step cap, 2 iterations after")
    parser.add_argument("--out", default="plots", help="directory for bench_<env>.csv and .png (default plots)")
    parser.add_argument("--set", action="append", default=[], metavar="FLAG=VALUE",
                        help="a train flag applied to every configuration, e.g. --set lam=0.98 (repeatable)")
    args = parser.parse_args(argv)
    args.overrides = parse_overrides(args.set)
    unknown = [name for name in args.configs.split(",") if name not in CONFIGURATIONS]
    if unknown:
        raise ValueError(f"unknown configuration {unknown[0]!r}; known: {', '.join(CONFIGURATIONS)}")
    if args.quick:
        args.seeds, args.max_steps, args.after = 2, 3000, 2
    return args


def main(argv=None):
    args = parse_args(argv)
    names = args.configs.split(",")
    configs = {name: dataclasses.replace(Config(env=args.env, **CONFIGURATIONS[name]), **args.overrides)
               for name in names}
    for config in configs.values():
        check_config(config)
    check_output_dir("--out", args.out)
    print(f"{'configuration':<15} {'solved':>6} {'median steps':>12} {'IQR':>8} {'median s':>9} {'IQR':>6} "
          f"{'stays solved':>12} {'steps/s rollout':>15} {'+gradient':>10}")
    rows, curves = [], {}
    for name in names:
        config = configs[name]
        results = [bench_seed(config, seed, args.after, args.max_steps) for seed in range(args.seeds)]
        rollout_rate, gradient_rate = steps_per_second(config, seconds=0.5 if args.quick else 2.0)
        row = {"configuration": name, **summary(results), "rollout_steps_per_s": rollout_rate,
               "rollout_gradient_steps_per_s": gradient_rate}
        rows.append(row)
        curves[name] = [r.curve for r in results]
        print(f"{name:<15} {row['solved']:>6} {row['median_steps']:12.0f} {row['iqr_steps']:8.0f} "
              f"{row['median_seconds']:9.2f} {row['iqr_seconds']:6.2f} {row['stays_solved']:12.0%} "
              f"{rollout_rate:15.0f} {gradient_rate:10.0f}", flush=True)
    stem = os.path.join(args.out, f"bench_{args.env}")

    def write_csv(temporary):
        with open(temporary, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)

    with writing_together([stem + ".csv", stem + ".png"]):
        write_atomically(stem + ".csv", write_csv)
        plot_bench(curves, SOLVED_RETURN[args.env], stem + ".png",
                   f"minipg on {args.env}: evaluation after every iteration")
    print(f"wrote {stem}.csv and {stem}.png")


if __name__ == "__main__":
    sys.exit(run_cli(main))
