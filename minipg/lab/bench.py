"""`python -m minipg.lab.bench`: env steps and training seconds to solve cart-pole, per configuration and seed.

After every training iteration the policy is evaluated as the train command evaluates it
(minipg.evaluation: 100 episodes of the stochastic policy, stepped together, on their own random
stream; the steps are neither counted nor timed). A run is solved at the first evaluation whose mean
return is >= 475; it then trains on for --after iterations to measure whether it stays solved.
"""
import dataclasses
import os
import sys
import time

import numpy as np

from minipg.io.cli import Parser, check_memory, non_negative_int, positive_int, run_cli
from minipg.io.files import check_output_dir, write_csv, writing_together
from minipg.config import Config, build, parse_config
from minipg.estimators import policy_gradient
from minipg.evaluation import SOLVED_RETURN
from minipg.io.figures import plot_bench
from minipg.rollout import sample_paths
from minipg.train import run_bytes, train

FITTED_BASELINE = {"estimator": "baseline", "optimizer": "adam", "lr": 0.1, "episodes": 10, "batch_steps": 0}
REINFORCE = {"estimator": "mean-baseline", "optimizer": "adam", "lr": 0.3, "episodes": 5, "batch_steps": 0}
NATURAL = {"estimator": "actor-critic", "episodes": 1, "batch_steps": 500}  # one 500-step batch per natural step
CONFIGURATIONS = {
    "default": {},
    "reinforce": REINFORCE,
    "capped-natural": {**NATURAL, "optimizer": "capped-natural", "lr": 0.001},
    "baseline+adam": FITTED_BASELINE,
    "actor-critic": {**FITTED_BASELINE, "estimator": "actor-critic", "critic": "td", "lam": 0.98},
    "natural": {**NATURAL, "optimizer": "natural"},
    "trust-region": {**NATURAL, "optimizer": "trust-region"},
}
POINT_BYTES = 128  # a (env steps, return) point of a curve: two Python numbers in a tuple (measured: 120 bytes)


@dataclasses.dataclass
class SeedResult:
    solved: bool
    steps_to_solve: int
    seconds_to_solve: float
    after_solved: list  # one flag per evaluation after the first solve: still >= 475?
    curve: list  # (env steps, evaluation mean return) after every iteration


def bench_seed(config, seed, after, max_steps):
    """Train one seed, judged after every iteration; see the module docstring."""
    iterations = config.iterations or 10**9  # the bench's own cap is --max-steps
    config, pieces = build(dataclasses.replace(config, seed=seed, quiet=True, iterations=iterations))
    threshold = SOLVED_RETURN[config.env]
    result = SeedResult(False, 0, 0.0, [], [])

    def check(row, seconds, theta):
        solved = row.eval_mean_return >= threshold
        result.curve.append((row.env_steps, row.eval_mean_return))
        if result.solved:
            result.after_solved.append(solved)
            return len(result.after_solved) >= after
        if solved:
            result.solved, result.steps_to_solve, result.seconds_to_solve = True, row.env_steps, seconds
            return after == 0
        return row.env_steps >= max_steps

    run = train(config, pieces, progress=check, stop_when_solved=False, stop_early=False)
    if run.status == "interrupted":
        raise KeyboardInterrupt  # train stopped and kept theta; bench stops too, writing nothing
    return result


def bench_bytes(configs, seeds, max_steps, after):
    """At most what the bench's counts ask of memory: per configuration, one seed's run at a time and every
    seed's curve, a point per iteration; an iteration takes at least max(episodes, batch_steps) env steps."""
    total = 0
    for config in configs:
        config, pieces = build(config)
        iterations = max_steps // max(config.episodes, config.batch_steps) + after + 1
        total += run_bytes(config, pieces.env, iterations) + seeds * iterations * POINT_BYTES
    return total


def steps_per_second(config, seconds=2.0):
    """Env steps per second of sampling alone, and of sampling plus the gradient, at theta = 0."""
    config, pieces = build(config)
    theta = np.zeros(pieces.policy.n_params)
    rates = []
    for with_gradient in (False, True):
        rng, steps, start = np.random.default_rng(0), 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            paths = sample_paths(pieces.env, pieces.policy, theta, config.episodes, rng)
            if with_gradient:
                batch = pieces.weigh(theta, paths)
                policy_gradient(pieces.policy, theta, batch.paths, batch.weights)
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


NOT_SETTABLE = {"env": "use the bench's --env", "seed": "the bench runs seeds 0..--seeds-1",
                "out": "use the bench's --out", "load": "the bench trains from theta = 0",
                "eval": "the bench evaluates after every iteration", "quiet": "use the bench's --quiet"}


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
            raise ValueError(f"--set {item} is not a training setting: {NOT_SETTABLE[name]}")
        names.append(name)
        argv += ["--" + name.replace("_", "-"), value]
    parsed = parse_config(argv)
    return {name: getattr(parsed, name) for name in names}


def parse_args(argv):
    parser = Parser(prog="python -m minipg.lab.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="cartpole", choices=sorted(SOLVED_RETURN), help="default cartpole")
    parser.add_argument("--configs", default=",".join(CONFIGURATIONS),
                        help="comma-separated configurations (default: all of " + ", ".join(CONFIGURATIONS) + ")")
    parser.add_argument("--seeds", type=positive_int, default=10, help="seeds per configuration (default 10)")
    parser.add_argument("--after", type=non_negative_int, default=20, help="iterations trained after the first solve (default 20)")
    parser.add_argument("--max-steps", type=positive_int, default=200_000, help="training env steps cap (default 200000)")
    parser.add_argument("--quick", action="store_true", help="CI smoke run: 2 seeds, 3,000-step cap, 2 iterations after")
    parser.add_argument("--out", default="plots", help="directory for bench_<env>.csv and .png (default plots)")
    parser.add_argument("--quiet", action="store_true", help="print only the table, not a line per seed")
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


def seed_line(name, seed, result, seconds_left):
    """One finished seed, and how long the rest of the bench should take."""
    if result.solved:
        stays = f", {np.mean(result.after_solved):.0%} of later evaluations >= 475" if result.after_solved else ""
        outcome = f"solved at {result.steps_to_solve:,} steps ({result.seconds_to_solve:.2f} s){stays}"
    else:
        outcome = "not solved"
    return f"{name:<15} seed {seed:3d}: {outcome}; about {seconds_left / 60:.1f} min left"


def main(argv=None):
    args = parse_args(argv)
    names = args.configs.split(",")
    configs = {name: dataclasses.replace(Config(env=args.env, **CONFIGURATIONS[name]), **args.overrides)
               for name in names}
    for config in configs.values():
        build(config)  # refuses a bad setting before any run
    check_memory("--seeds, --max-steps, --after and --set", bench_bytes(configs.values(), args.seeds, args.max_steps,
                                                                       args.after))
    files = [f"bench_{args.env}.csv", f"bench_{args.env}.png"]
    check_output_dir("--out", args.out, files)
    rows, curves, start, done, total = [], {}, time.perf_counter(), 0, len(names) * args.seeds
    for name in names:
        results = []
        for seed in range(args.seeds):
            results.append(bench_seed(configs[name], seed, args.after, args.max_steps))
            done += 1
            if not args.quiet:
                left = (time.perf_counter() - start) / done * (total - done)
                print(seed_line(name, seed, results[-1], left), flush=True)
        rollout_rate, gradient_rate = steps_per_second(configs[name], seconds=0.5 if args.quick else 2.0)
        rows.append({"configuration": name, **summary(results), "rollout_steps_per_s": rollout_rate,
                     "rollout_gradient_steps_per_s": gradient_rate})
        curves[name] = [r.curve for r in results]
    print(f"{'configuration':<15} {'solved':>6} {'median steps':>12} {'IQR':>8} {'median s':>9} {'IQR':>6} "
          f"{'stays solved':>12} {'steps/s rollout':>15} {'+gradient':>10}")
    for row in rows:
        print(f"{row['configuration']:<15} {row['solved']:>6} {row['median_steps']:12.0f} {row['iqr_steps']:8.0f} "
              f"{row['median_seconds']:9.2f} {row['iqr_seconds']:6.2f} {row['stays_solved']:12.0%} "
              f"{row['rollout_steps_per_s']:15.0f} {row['rollout_gradient_steps_per_s']:10.0f}")
    csv_path, png_path = paths = [os.path.join(args.out, name) for name in files]
    with writing_together(paths):
        write_csv(csv_path, list(rows[0]), [list(row.values()) for row in rows])
        plot_bench(curves, SOLVED_RETURN[args.env], png_path, f"minipg on {args.env}: evaluation after every iteration")
    print(f"wrote {csv_path} and {png_path}")


if __name__ == "__main__":
    sys.exit(run_cli(main))
