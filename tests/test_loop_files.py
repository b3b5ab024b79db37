"""A reader follows one training iteration through a handful of files, each one idea of the derivation: the files
whose functions an iteration calls, found by profiling 2 and then 4 iterations and keeping the files called more
often in the longer run (setting up, the first evaluation and writing files happen in both)."""
import collections
import os
import sys

import pytest

from minipg.train import settings, train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def calls_per_file(config):
    """How often a function of each project file is called in train(config)."""
    counts = collections.Counter()

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_filename.startswith(ROOT + os.sep):
            counts[os.path.relpath(frame.f_code.co_filename, ROOT).replace(os.sep, "/")] += 1

    sys.setprofile(profile)
    try:
        train(config, stop_when_solved=False)
    finally:
        sys.setprofile(None)
    return counts


def iteration_files(env, **given):
    short, long = (calls_per_file(settings(env, iterations=n, **given)) for n in (2, 4))
    return sorted(name for name in long if long[name] > short[name] and not name.startswith("tests/"))


def test_a_default_cartpole_iteration_runs_in_ten_files_none_of_them_plumbing():
    assert iteration_files("cartpole") == [
        "envs/cartpole.py", "envs/sampling.py", "minipg/baselines.py", "minipg/critics.py", "minipg/estimators.py",
        "minipg/optim.py", "minipg/policies.py", "minipg/returns.py", "minipg/rollout.py", "minipg/train.py"]


@pytest.mark.parametrize("env, given", [("cartpole-continuous", {}), ("gridworld", {}),
                                        ("cartpole", {"estimator": "ppo", "envs": 2, "steps": 64})],
                         ids=["gaussian-natural", "gridworld", "ppo"])
def test_every_linear_iteration_runs_in_at_most_ten_files_and_never_in_io_or_lab(env, given):
    files = iteration_files(env, **given)
    assert len(files) <= 10 and not [name for name in files if name.startswith(("minipg/io/", "minipg/lab/"))], files


@pytest.mark.parametrize("env, given", [("cartpole", {"hidden": (16,)}),
                                        ("cartpole-continuous", {"hidden": (8,), "critic_hidden": (8,)}),
                                        ("pendulum", {"hidden": (8,), "estimator": "ppo", "optimizer": "adam",
                                                      "critic_hidden": (8,), "envs": 2, "steps": 64,
                                                      "minibatches": 4})],
                         ids=["softmax-network", "gaussian-natural-network-critic", "ppo-networks"])
def test_a_network_iteration_runs_in_at_most_eleven_files_the_extra_one_the_layers(env, given):
    files = iteration_files(env, **given)
    assert len(files) <= 11 and "minipg/networks.py" in files, files
    assert not [name for name in files if name.startswith(("minipg/io/", "minipg/lab/"))], files
    assert "minipg/networks.py" not in iteration_files(env, **{**given, "hidden": (), "critic_hidden": ()})
