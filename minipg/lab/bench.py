"""`python -m minipg.lab.bench`: env steps and training seconds to solve an env, per configuration and seed.

After every training iteration the policy is judged as the train command judges it (100 episodes of the
stochastic policy, stepped together, on their own random stream; those steps are neither counted nor
timed). A run is solved at the first evaluation whose mean return reaches the env's threshold (475 for cart-pole,
-100 for acrobot, -200 for pendulum); it then trains on for --after-steps more training env steps, the same number
for every configuration, and *stays solved* is the share of the evaluations in those steps still at the
threshold. Seeds run in --jobs processes at once; every number but the seconds is the same for any --jobs, and the
throughput columns are measured alone, after the seeds.
"""
import argparse
import contextlib
import dataclasses
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import time

import numpy as np

import envs
from minipg import estimators
from minipg.io.cli import STOPPING_SIGNALS, Parser, check_memory, non_negative_int, positive_int, run_cli
from minipg.io.figures import plot_bench
from minipg.io.files import check_output_dir, write_csv, writing_together
from minipg.rollout import Steps, sample_paths
from minipg.train import (SOLVED_RETURN, Config, estimator_psi, make_policy, make_sampler, make_value, parse_flags,
                          run_bytes, settings, train)

CONFIGURATIONS = {  # train flags on top of the env's own setting
    "default": {},
    "mean-baseline": {"estimator": "mean-baseline", "optimizer": "adam", "lr": 0.3, "episodes": 5, "batch_steps": 0},
    "baseline": {"estimator": "baseline", "optimizer": "adam", "lr": 0.1, "episodes": 10, "batch_steps": 0},
    "td-critic": {"estimator": "actor-critic", "critic": "td", "lam": 0.98, "optimizer": "adam", "lr": 0.1,
                  "episodes": 10, "batch_steps": 0},
    "capped-natural": {"estimator": "actor-critic", "optimizer": "capped-natural", "lr": 0.001, "episodes": 1,
                       "batch_steps": 500},
    "natural": {"estimator": "actor-critic", "optimizer": "natural", "episodes": 1, "batch_steps": 500},
    "trust-region": {"estimator": "actor-critic", "optimizer": "trust-region", "episodes": 1, "batch_steps": 500},
    "ppo": {"estimator": "ppo", "optimizer": "adam", "lr": 0.1},  # 2 envs x 512 steps: episodes whole enough to learn
    "ppo-64": {"estimator": "ppo", "optimizer": "adam", "lr": 0.1, "envs": 64, "steps": 16},  # the same steps, faster
    "network": {"hidden": (64, 64), "lr": 0.003},  # the default's estimator and critic, a 64 x 64 tanh policy
}
POINT_BYTES = 128  # a (env steps, return) point of a curve: two Python numbers in a tuple (measured: 120 bytes)


@dataclasses.dataclass
class SeedResult:
    solved: bool
    steps_to_solve: int
    seconds_to_solve: float
    after_solved: list  # one flag per evaluation in the --after-steps after the first solve: still solved?
    curve: list  # (env steps, evaluation mean return) after every iteration


def bench_seed(config, seed, after_steps, max_steps):
    """Train one seed, judged after every iteration; see the module docstring."""
    config = dataclasses.replace(config, seed=seed, quiet=True, iterations=10**9)  # the bench's cap is max_steps
    threshold, result = SOLVED_RETURN[config.env], SeedResult(False, 0, 0.0, [], [])

    def check(row, seconds, theta):
        solved = row.eval_mean_return >= threshold
        result.curve.append((row.env_steps, row.eval_mean_return))
        if result.solved:
            result.after_solved.append(solved)
            return row.env_steps - result.steps_to_solve >= after_steps
        if solved:
            result.solved, result.steps_to_solve, result.seconds_to_solve = True, row.env_steps, seconds
            return after_steps == 0
        return row.env_steps >= max_steps

    if train(config, progress=check, stop_when_solved=False, stop_early=False).status == "interrupted":
        raise KeyboardInterrupt  # train stopped and kept theta; bench stops too, writing nothing
    return result


def batch_steps(config):
    """The fewest env steps one iteration of config takes."""
    return config.envs * config.steps if config.estimator == "ppo" else max(config.episodes, config.batch_steps)


def bench_bytes(configs, seeds, max_steps, after_steps, jobs):
    """At most what the bench's counts ask of memory: `jobs` runs at a time, each at most the largest
    configuration's, and every seed's curve of every configuration, a point per iteration."""
    runs, curves = [], 0
    for config in configs:
        iterations = (max_steps + after_steps) // batch_steps(config) + 2
        runs.append(run_bytes(dataclasses.replace(config, iterations=iterations), envs.make(config.env)))
        curves += seeds * iterations * POINT_BYTES
    return jobs * max(runs) + curves


def steps_per_second(config, seconds=2.0):
    """Env steps per second at the policy's initial theta (zeros for a linear one; for a network, its init drawn from
    default_rng(0), not any run's) of sampling alone, and of sampling with psi and the one sum on the batch."""
    env = envs.make(config.env)
    policy = make_policy(env, config.policy, config.hidden)
    theta = policy.initial_theta(np.random.default_rng(0))
    rates = []
    for with_gradient in (False, True):
        rng, sampler, value = np.random.default_rng(0), make_sampler(config, env), make_value(config, env)
        steps, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            if config.estimator == "ppo":
                paths = sampler.sample(policy, theta, config.steps)
                if with_gradient:
                    advantages = np.concatenate(estimators.advantage_psi(paths, value, config.gamma, config.lam))
                    psi = estimators.ppo_psi(policy, theta, Steps.of(paths), advantages, config.clip)
                    estimators.policy_gradient(policy, theta, [Steps.of(paths)], [psi])
            else:
                paths = sample_paths(env, policy, theta, config.episodes, rng, min_steps=config.batch_steps)
                if with_gradient:
                    estimators.policy_gradient(policy, theta, paths, estimator_psi(config, policy, theta, paths, value))
            steps += sum(len(path) for path in paths)
        rates.append(steps / (time.perf_counter() - start))
    return rates


SEED_COLUMNS = ["configuration", "seed", "solved", "steps_to_solve", "seconds_to_solve", "evaluations_after",
                "stays_solved"]


def seed_rows(results):
    """One row per (configuration, seed), in SEED_COLUMNS' order: what the summary is the median of."""
    return [[name, seed, r.solved, r.steps_to_solve, r.seconds_to_solve, len(r.after_solved),
             float(np.mean(r.after_solved)) if r.after_solved else float("nan")]
            for name, seeds in results.items() for seed, r in enumerate(seeds)]


def summary(results):
    """The table's row of one configuration: medians and IQRs over its solved seeds; stays solved pooled over them."""
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
                "out": "use the bench's --out", "load": "the bench trains from the policy's initial theta",
                "eval": "the bench evaluates after every iteration", "quiet": "use the bench's --quiet",
                "iterations": "the bench's cap is --max-steps"}


def parse_overrides(items):
    """{"lam": 0.98} from ["lam=0.98"], each value checked and typed by the train command's own parser."""
    known = {field.name for field in dataclasses.fields(Config)}
    argv = []
    for item in items:
        flag, equals, value = item.partition("=")
        name = flag.replace("-", "_")
        if not equals or name not in known:
            raise ValueError(f"--set expects FLAG=VALUE with a flag of python -m minipg.train, got {item!r}")
        if name in NOT_SETTABLE:
            raise ValueError(f"--set {item} is not a training setting: {NOT_SETTABLE[name]}")
        argv.append(f"--{name.replace('_', '-')}={value}" if value not in ("True", "False")
                    else f"--{'' if value == 'True' else 'no-'}{name.replace('_', '-')}")
    return parse_flags(argv)[1]


def configurations(env, names, overrides):
    """Each named configuration on env with every --set applied, checked as the train command checks its flags."""
    return {name: settings(env, **{**CONFIGURATIONS[name], **overrides}) for name in names}


def bench_env(name):
    """argparse type of --env: the name, refusing a Gymnasium env by name (its choices are minipg's own envs)."""
    if envs.is_gymnasium(name):
        raise argparse.ArgumentTypeError(f"{name}: the bench measures minipg's own envs, "
                                         f"{', '.join(sorted(SOLVED_RETURN))}; train a Gymnasium env with "
                                         f"python -m minipg.train --env {name}")
    return name


def parse_args(argv):
    parser = Parser(prog="python -m minipg.lab.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="cartpole", type=bench_env, choices=sorted(SOLVED_RETURN),
                        help="default cartpole")
    parser.add_argument("--configs", default=",".join(CONFIGURATIONS),
                        help="comma-separated configurations (default: all of " + ", ".join(CONFIGURATIONS) + ")")
    parser.add_argument("--seeds", type=positive_int, help="seeds per configuration (default 10; --quick: 2)")
    parser.add_argument("--after-steps", type=non_negative_int,
                        help="training env steps after the first solve, over which 'stays solved' is measured "
                             "(default 20000; --quick: 2000)")
    parser.add_argument("--max-steps", type=positive_int,
                        help="training env steps cap for reaching the threshold; a run that reaches it trains "
                             "--after-steps more (default 200000; --quick: 2048)")
    parser.add_argument("--jobs", type=positive_int, default=os.cpu_count() or 1,
                        help="seeds trained at once, one process each (default: this machine's cores)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: the small defaults above, and throughput measured for 0.1 s, not 2")
    parser.add_argument("--out", default="plots",
                        help="directory for bench_<env>.csv, bench_<env>_seeds.csv and bench_<env>.png (default plots)")
    parser.add_argument("--quiet", action="store_true", help="print only the table, not a line per seed")
    parser.add_argument("--set", action="append", default=[], metavar="FLAG=VALUE",
                        help="a train flag applied to every configuration, e.g. --set lam=0.98 (repeatable)")
    args = parser.parse_args(argv)
    args.overrides = parse_overrides(args.set)
    args.names = args.configs.split(",")
    unknown = [name for name in args.names if name not in CONFIGURATIONS]
    if unknown:
        raise ValueError(f"--configs: unknown configuration {unknown[0]!r}; known: {', '.join(CONFIGURATIONS)}")
    for name, default, quick in (("seeds", 10, 2), ("after_steps", 20_000, 2000), ("max_steps", 200_000, 2048)):
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else default)
    return args


def table(rows, jobs):
    """The bench's table: a header, then one line per configuration, from rows as the CSV holds them."""
    seconds = f"median s ({jobs} job{'s' if jobs > 1 else ''})"
    lines = [f"{'configuration':<15} {'solved':>6} {'median steps':>12} {'IQR':>8} {seconds:>17} {'IQR':>6} "
             f"{'stays solved':>12} {'steps/s rollout':>15} {'+gradient':>10}"]
    for row in rows:
        lines.append(f"{row['configuration']:<15} {row['solved']:>6} {float(row['median_steps']):12.0f} "
                     f"{float(row['iqr_steps']):8.0f} {float(row['median_seconds']):17.2f} "
                     f"{float(row['iqr_seconds']):6.2f} {float(row['stays_solved']):12.0%} "
                     f"{float(row['rollout_steps_per_s']):15.0f} {float(row['rollout_gradient_steps_per_s']):10.0f}")
    return lines


def seed_line(name, seed, result, seconds_left):
    """One finished seed, and how long the rest of the bench should take."""
    if result.solved:
        stays = f", {np.mean(result.after_solved):.0%} of later evaluations solved" if result.after_solved else ""
        outcome = f"solved at {result.steps_to_solve:,} steps ({result.seconds_to_solve:.2f} s){stays}"
    else:
        outcome = "not solved"
    return f"{name:<15} seed {seed:3d}: {outcome}; about {seconds_left / 60:.1f} min left"


@contextlib.contextmanager
def hang_ups_held():
    """SIGHUP blocked while the workers start, and with them multiprocessing's resource tracker, which inherits the
    block: a hang-up, which the terminal sends to the whole group, then reaches the bench and its workers alone
    (the tracker ignores SIGINT and SIGTERM but not SIGHUP: killed by it, it is relaunched with a warning). A
    hang-up arriving meanwhile waits, and is handled once unblocked."""
    number = getattr(signal, "SIGHUP", None)
    held = number is not None and hasattr(signal, "pthread_sigmask")  # neither exists on Windows
    if held:
        signal.pthread_sigmask(signal.SIG_BLOCK, {number})
    try:
        yield
    finally:
        if held:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {number})


def _bench_task(task):
    name, config, seed, after_steps, max_steps = task
    return name, seed, bench_seed(config, seed, after_steps, max_steps)


def _work(connection):
    """A worker: runs each task it receives and sends back (failed, its result or the exception it raised), until
    it receives None. Ctrl-C, SIGTERM and a hang-up, which reach the whole process group, are the bench's: it kills
    its workers."""
    for number in STOPPING_SIGNALS:
        signal.signal(number, signal.SIG_IGN)
    for task in iter(connection.recv, None):
        try:
            outcome = (False, _bench_task(task))
        except Exception as error:
            outcome = (True, error)
        connection.send(outcome)


@contextlib.contextmanager
def worker_processes(jobs):
    """`jobs` spawned workers, [(process, connection)], each with a pipe of its own: no lock is shared between
    processes, so stopping at any moment leaves nothing waiting. Left normally, each worker is told to stop;
    left by an exception (Ctrl-C, SIGTERM, a failure), each is killed at once. Then all are joined."""
    context, workers = multiprocessing.get_context("spawn"), []
    try:
        with hang_ups_held():
            for _ in range(jobs):
                connection, theirs = context.Pipe()
                process = context.Process(target=_work, args=(theirs,), daemon=True)
                process.start()
                theirs.close()
                workers.append((process, connection))
        yield workers
    except BaseException:
        for process, _ in workers:
            process.kill()
        raise
    else:
        for _, connection in workers:
            connection.send(None)
    finally:
        for process, connection in workers:
            process.join()
            connection.close()


def finished_tasks(tasks, workers):
    """(name, seed, SeedResult) of each task as it finishes, each worker sent its next task as it returns one."""
    waiting, running = list(reversed(tasks)), []
    for _, connection in workers[: len(waiting)]:
        connection.send(waiting.pop())
        running.append(connection)
    while running:
        for connection in multiprocessing.connection.wait(running):
            failed, value = connection.recv()
            if failed:
                raise value
            if waiting:
                connection.send(waiting.pop())
            else:
                running.remove(connection)
            yield value


def run_seeds(configs, args, jobs):
    """Every (configuration, seed), `jobs` at a time, a line as each finishes: {name: [SeedResult per seed]}."""
    tasks = [(name, config, seed, args.after_steps, args.max_steps) for name, config in configs.items()
             for seed in range(args.seeds)]
    results, start = {name: [None] * args.seeds for name in configs}, time.perf_counter()
    with worker_processes(jobs if jobs > 1 else 0) as workers:
        finished = finished_tasks(tasks, workers) if workers else map(_bench_task, tasks)
        for done, (name, seed, result) in enumerate(finished, start=1):
            results[name][seed] = result
            if not args.quiet:
                left = (time.perf_counter() - start) / done * (len(tasks) - done)
                print(seed_line(name, seed, result, left), flush=True)
    return results


def main(argv=None):
    args = parse_args(argv)
    configs = configurations(args.env, args.names, args.overrides)  # refuses a bad setting before any run
    jobs = min(args.jobs, args.seeds * len(configs))  # no more processes than seeds to run
    check_memory("--seeds, --max-steps, --after-steps, --jobs and --set",
                 bench_bytes(configs.values(), args.seeds, args.max_steps, args.after_steps, jobs))
    files = [f"bench_{args.env}.csv", f"bench_{args.env}_seeds.csv", f"bench_{args.env}.png"]
    check_output_dir("--out", args.out, files)
    results = run_seeds(configs, args, jobs)
    rows = []
    for name, config in configs.items():
        rollout_rate, gradient_rate = steps_per_second(config, seconds=0.1 if args.quick else 2.0)
        rows.append({"configuration": name, **summary(results[name]), "rollout_steps_per_s": rollout_rate,
                     "rollout_gradient_steps_per_s": gradient_rate})
    print("\n".join(table(rows, jobs)))
    csv_path, seeds_path, png_path = paths = [os.path.join(args.out, name) for name in files]
    with writing_together(paths):
        write_csv(csv_path, list(rows[0]), [list(row.values()) for row in rows])
        write_csv(seeds_path, SEED_COLUMNS, seed_rows(results))
        plot_bench({name: [r.curve for r in results[name]] for name in configs}, SOLVED_RETURN[args.env], png_path,
                   f"minipg on {args.env}: evaluation after every iteration")
    print(f"wrote {csv_path}, {seeds_path} and {png_path}")


if __name__ == "__main__":
    sys.exit(run_cli(main))
