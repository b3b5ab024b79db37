"""`python -m minipg.lab.speed`: env steps per second of minipg's LockStep beside Gymnasium's, measured in one run.

Each case steps the same linear policy at a fixed theta on both sides. minipg's side is LockStep's batches of
BATCH_STEPS steps of every env, recording each path's observations, actions, rewards and log-probabilities.
Gymnasium's is the speed to beat: for cart-pole, gymnasium.make_vec("CartPole-v1", n,
vectorization_mode="vector_entry_point") acting with the same softmax (act_batch) and stepping, nothing recorded;
for acrobot and pendulum, the bare gymnasium.make(ID) single env stepped with random actions, nothing recorded. The
two sides take turns, SLICES slices of --seconds / SLICES each, so a change in the machine's load falls on both;
a rate is the env steps taken over the seconds they took, and the ratio is minipg's rate over Gymnasium's.

Gymnasium is imported only here, when the command runs. Without it the command measures minipg's side alone and
says so in one line: its rates still compare one commit with another, and the command runs where CI does.
"""
import argparse
import importlib
import math
import os
import sys
import time

import numpy as np

import envs
from minipg.io.cli import Parser, number, run_cli
from minipg.io.files import check_output_dir, write_csv
from minipg.policies import GaussianPolicy, SoftmaxPolicy
from minipg.rollout import LockStep

CASES = (("cartpole", 64, 1.0), ("cartpole", 256, 1.0), ("acrobot", 64, 5.0), ("pendulum", 64, 5.0))  # target ratio
GYMNASIUM_IDS = {"cartpole": "CartPole-v1", "acrobot": "Acrobot-v1", "pendulum": "Pendulum-v1"}
VECTOR_CASES = {"cartpole"}  # compared with make_vec's vector; the others with the single env
BATCH_STEPS = 64  # T of one LockStep batch, and the steps of one turn of Gymnasium's loop
SLICES = 4
COLUMNS = ["env", "n", "gymnasium", "minipg_steps", "minipg_seconds", "minipg_steps_per_s", "gymnasium_steps",
           "gymnasium_seconds", "gymnasium_steps_per_s", "ratio", "target_ratio"]
clock = time.perf_counter


def timed(run, seconds):
    """(steps, elapsed): run() called until `seconds` have passed on clock, steps the sum of what the calls return."""
    steps, start = 0, clock()
    while (elapsed := clock() - start) < seconds:
        steps += run()
    return steps, elapsed


def linear_policy(name, seed=0):
    """The linear policy of env `name` and its fixed theta ~ 0.1 N(0, I), the same on both sides."""
    env = envs.make(name)
    if hasattr(env, "n_actions"):
        policy = SoftmaxPolicy(env.observation_dim, env.n_actions)
    else:
        policy = GaussianPolicy(env.observation_dim, env.action_dim)
    return policy, 0.1 * np.random.default_rng(seed).standard_normal(policy.n_params)


def minipg_batch(name, n, policy, theta):
    """A function that samples one LockStep batch of n envs x BATCH_STEPS steps, paths and log-probabilities
    recorded, and returns its number of env steps."""
    sampler = LockStep(envs.make_vector(name, n), seed=0)

    def run():
        sampler.sample(policy, theta, BATCH_STEPS)
        return n * BATCH_STEPS  # a batch is T decisions of every env (tests/test_rollout.py counts its paths' steps)

    return run


def gymnasium_vector_batch(gymnasium, name, n, policy, theta):
    """A function that takes BATCH_STEPS steps of make_vec's n envs, acting with policy.act_batch and recording
    nothing, and returns n BATCH_STEPS."""
    vector = gymnasium.make_vec(GYMNASIUM_IDS[name], n, vectorization_mode="vector_entry_point")
    observations, rng = vector.reset(seed=0)[0], np.random.default_rng(0)

    def run():
        nonlocal observations
        for _ in range(BATCH_STEPS):
            observations = vector.step(policy.act_batch(theta, observations, rng))[0]
        return n * BATCH_STEPS

    return run


def gymnasium_single_batch(gymnasium, name):
    """A function that takes BATCH_STEPS steps of the bare make(ID) env with random actions drawn beforehand, reset
    where an episode ends, and returns BATCH_STEPS."""
    env, minipg_env, rng = gymnasium.make(GYMNASIUM_IDS[name]), envs.make(name), np.random.default_rng(0)
    env.reset(seed=0)
    if hasattr(minipg_env, "n_actions"):
        actions = [int(action) for action in rng.integers(minipg_env.n_actions, size=BATCH_STEPS)]
    else:
        actions = list(rng.standard_normal((BATCH_STEPS, minipg_env.action_dim)))

    def run():
        for action in actions:
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        return BATCH_STEPS

    return run


def measure(case, seconds, gymnasium):
    """One CSV row: both sides of the case in turns, SLICES slices each; Gymnasium's columns nan without it."""
    name, n, target = case
    policy, theta = linear_policy(name)
    runs = [minipg_batch(name, n, policy, theta)]
    if gymnasium is not None:
        runs.append(gymnasium_vector_batch(gymnasium, name, n, policy, theta) if name in VECTOR_CASES
                    else gymnasium_single_batch(gymnasium, name))
    totals = np.full((2, 2), math.nan)  # [side, (steps, seconds)]; Gymnasium's stays nan without it
    totals[:len(runs)] = 0.0
    for _ in range(SLICES):
        for side, run in enumerate(runs):
            totals[side] += timed(run, seconds / SLICES)
    (ours, our_seconds), (theirs, their_seconds) = totals
    our_rate, their_rate = ours / our_seconds, theirs / their_seconds
    return [name, n, "make_vec" if name in VECTOR_CASES else "make", int(ours), our_seconds, our_rate,
            int(theirs) if gymnasium is not None else theirs, their_seconds, their_rate, our_rate / their_rate, target]


def load_gymnasium():
    """The gymnasium module, imported now; None where it is not installed."""
    try:
        return importlib.import_module("gymnasium")
    except ImportError:
        return None


def table(rows):
    """The aligned table: a header, then one line per case, from rows as the CSV holds them."""
    lines = [f"{'env':<9} {'n':>4} {'minipg steps/s':>14} {'gymnasium':>10} {'steps/s':>10} {'ratio':>7} "
             f"{'target':>7}"]
    for name, n, kind, _, _, ours, _, _, theirs, ratio, target in rows:
        lines.append(f"{name:<9} {n:>4} {ours:14.0f} {kind:>10} {theirs:10.0f} {ratio:6.2f}x {target:>6g}x")
    return lines


def positive_seconds(text):
    """argparse type of --seconds: a finite number > 0."""
    seconds = number(text)
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return seconds


def parse_args(argv):
    parser = Parser(prog="python -m minipg.lab.speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=positive_seconds, default=2.0,
                        help="seconds of stepping per side and case, in turns (default 2)")
    parser.add_argument("--out", help="directory for speed.csv, the table's numbers (default: print only)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.out is not None:
        check_output_dir("--out", args.out, ["speed.csv"])
    gymnasium = load_gymnasium()
    if gymnasium is None:
        print("gymnasium is not installed: measuring minipg's side alone (pip install gymnasium to compare)")
    rows = [measure(case, args.seconds, gymnasium) for case in CASES]
    print("\n".join(table(rows)))
    if args.out is not None:
        path = os.path.join(args.out, "speed.csv")
        write_csv(path, COLUMNS, rows)
        print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(run_cli(main))
