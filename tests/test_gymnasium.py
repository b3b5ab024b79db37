"""A user's own Gymnasium env: `envs.make("gymnasium:ID")` and `python -m minipg.train --env gymnasium:ID`.

In CI a stub module in sys.modules["gymnasium"] stands in for Gymnasium: its envs are minipg's own cart-pole behind
Gymnasium's face (spaces, a spec, observations in the space's dtype, seeds that must be Python ints), so a run on a
stub can be compared with the same run on minipg's cart-pole. Where Gymnasium is installed, the live tests at the end
run the real one (`/tmp/gymvenv/bin/python -m pytest tests/test_gymnasium.py` where it lives in a venv).
"""
import ast
import csv
import dataclasses
import pathlib
import sys
import types

import numpy as np
import pytest

import envs
from envs.cartpole import CartPoleEnv
from envs.gymnasium_env import reset_seed
from envs.serial import SerialVector
from minipg.io.cli import run_cli
from minipg.lab import bench, show
from minipg.policies import SoftmaxPolicy
from minipg.rollout import LockStep, OneByOne
from minipg.settings import ENV_DEFAULTS, settings
from minipg.train import main, make_sampler, train
from tests.test_rollout import assert_same_paths

ROOT = pathlib.Path(__file__).parents[1]
INF = np.inf
CARTPOLE_LOW, CARTPOLE_HIGH = [-4.8, -INF, -0.41887903, -INF], [4.8, INF, 0.41887903, INF]  # CartPole-v1's Box


# ---- the stub: Gymnasium's names, minipg's cart-pole inside ----------------------------------------------------

class Error(Exception):
    """gymnasium.error.Error"""


class UnregisteredEnv(Error):
    """gymnasium.error.UnregisteredEnv"""


class Box:
    def __init__(self, low, high, shape=None, dtype=np.float32):
        shape = np.shape(low) if shape is None else shape
        self.low, self.high = (np.broadcast_to(np.asarray(end, dtype=dtype), shape).copy() for end in (low, high))
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)

    def __repr__(self):
        return f"Box({self.low.min()}, {self.high.max()}, {self.shape}, {self.dtype})"


class Discrete:
    def __init__(self, n, start=0):
        self.n, self.start = n, start

    def __repr__(self):
        return f"Discrete({self.n})"


class MultiBinary:
    def __init__(self, n):
        self.n = n

    def __repr__(self):
        return f"MultiBinary({self.n})"


@dataclasses.dataclass
class Spec:
    id: str
    max_episode_steps: int = 500
    reward_threshold: float = 475.0


class StubCartPole:
    """minipg's CartPoleEnv as Gymnasium shows an env: spaces, a spec, observations in the observation space's dtype,
    reset seeds that must be None or non-negative Python ints (Gymnasium's np_random refuses the rest); every seed
    and every action it receives is recorded, and whether it was closed. With in_place=True it returns, as an env
    may, one observation array overwritten by every reset and step, and terminated and truncated as NumPy bools."""

    def __init__(self, spec, continuous=False, dtype=np.float32, observation_space=None, action_space=None,
                 reward_range=None, in_place=False):
        self.inner, self.spec, self.unwrapped, self.dtype = CartPoleEnv(continuous), spec, self, dtype
        self.observation_space = observation_space or Box(CARTPOLE_LOW, CARTPOLE_HIGH, dtype=dtype)
        self.action_space = action_space or (Box(-1.0, 1.0, (1,), dtype) if continuous else Discrete(2))
        if reward_range is not None:
            self.reward_range = reward_range
        self.seeds, self.actions, self.closed = [], [], False
        self.buffer = np.zeros(4, dtype=dtype) if in_place else None

    def shown(self, observation):
        """The observation in the space's dtype: a new array, or the one buffer overwritten."""
        if self.buffer is None:
            return observation.astype(self.dtype)
        self.buffer[:] = observation
        return self.buffer

    def reset(self, seed=None):
        if seed is not None and not (type(seed) is int and seed >= 0):
            raise Error(f"Seed must be a non-negative python integer, got {seed!r}")
        self.seeds.append(seed)
        observation, _ = self.inner.reset(seed=seed)
        return self.shown(observation), {"seed": seed}

    def step(self, action):
        self.actions.append(action)
        start = getattr(self.action_space, "start", 0)
        observation, reward, terminated, truncated, _ = self.inner.step(action - start if start else action)
        if self.buffer is not None:
            terminated, truncated = np.bool_(terminated), np.bool_(truncated)
        return self.shown(observation), reward, terminated, truncated, {}

    def close(self):
        self.closed = True


STUBS = {  # id: (StubCartPole's arguments beside the spec, the spec's other fields)
    "Stub-v0": ({}, {}),  # as CartPole-v1: float32 observations, no reward_range
    "StubBox-v0": ({"continuous": True}, {}),
    "StubExact-v0": ({"dtype": np.float64, "reward_range": (0.0, 1.0)}, {}),  # minipg's cartpole, bit for bit
    "StubInPlace-v0": ({"dtype": np.float64, "in_place": True}, {}),  # one float64 array, overwritten; NumPy bools
    "StubExactBox-v0": ({"continuous": True, "dtype": np.float64, "reward_range": (0.0, 1.0)}, {}),
    "StubUnbounded-v0": ({"dtype": np.float64, "reward_range": (-INF, INF)}, {}),
    "StubEasy-v0": ({"dtype": np.float64, "reward_range": (0.0, 1.0)}, {"reward_threshold": 12.0}),
    "StubUnjudged-v0": ({"dtype": np.float64, "reward_range": (0.0, 1.0)}, {"reward_threshold": None}),
    "StubShifted-v0": ({"action_space": Discrete(2, start=-1)}, {}),
    "StubBounded-v0": ({"observation_space": Box([-4.8, -10.0, -0.5, 0.0], [4.8, 10.0, 0.25, 0.0])}, {}),
    "StubNoLimit-v0": ({}, {"max_episode_steps": None}),
    "StubImage-v0": ({"observation_space": Box(0.0, 1.0, (2, 2))}, {}),
    "StubDiscreteObservation-v0": ({"observation_space": Discrete(16)}, {}),
    "StubMultiBinary-v0": ({"action_space": MultiBinary(3)}, {}),
    "StubFlatBox-v0": ({"action_space": Box(-1.0, 1.0, (1, 1))}, {}),
}


def stub_gymnasium():
    """A module with Gymnasium's make, spaces.Box, spaces.Discrete and error.Error/UnregisteredEnv; `made` keeps
    every env it made."""
    module = types.ModuleType("gymnasium")
    module.spaces = types.SimpleNamespace(Box=Box, Discrete=Discrete, MultiBinary=MultiBinary)
    module.error = types.SimpleNamespace(Error=Error, UnregisteredEnv=UnregisteredEnv)
    module.made = []

    def make(env_id, **kwargs):
        if env_id == "StubNeedsBox2D-v0":
            raise Error("Box2D is not installed")
        if env_id not in STUBS:
            raise UnregisteredEnv(f"Environment `{env_id.split('-')[0]}` doesn't exist.")
        arguments, spec = STUBS[env_id]
        module.made.append(StubCartPole(Spec(env_id, **spec), **arguments, **kwargs))
        return module.made[-1]

    module.make = make
    return module


@pytest.fixture
def gymnasium(monkeypatch):
    stub = stub_gymnasium()
    monkeypatch.setitem(sys.modules, "gymnasium", stub)
    return stub


# ---- the adapter ------------------------------------------------------------------------------------------------

def test_observations_are_float64_copies_of_gymnasium_s_float32_ones(gymnasium):
    env, alone = envs.make("gymnasium:Stub-v0"), CartPoleEnv()
    observation, info = env.reset(seed=3)
    expected = alone.reset(seed=3)[0]
    for action in [0, 1, 1, 0, 1]:
        assert observation.dtype == np.float64 and observation.shape == (4,)
        np.testing.assert_array_equal(observation, expected.astype(np.float32))
        assert not np.array_equal(observation, expected)  # float32 rounding, kept: Gymnasium's own observation
        observation, reward, terminated, truncated, _ = env.step(action)
        expected, *ends = alone.step(action)[:4]
        assert [reward, terminated, truncated] == ends and type(reward) is float
    assert info == {"seed": 3}
    assert (env.observation_dim, env.n_actions, env.max_episode_steps) == (4, 2, 500)
    assert not hasattr(env, "action_dim")


def test_an_observation_stays_as_returned_and_the_ends_are_python_bools_when_the_env_reuses_its_array(gymnasium):
    """StubInPlace-v0 returns one float64 array, overwritten by every reset and step, and NumPy bools: the adapter's
    observations are copies, equal to minipg's cart-pole's from the same seed to the last bit, and terminated and
    truncated are bool. Always pushing right, the pole falls within a few dozen steps."""
    env, alone = envs.make("gymnasium:StubInPlace-v0"), CartPoleEnv()
    observations, expected = [env.reset(seed=3)[0]], [alone.reset(seed=3)[0]]
    terminated = truncated = False
    while not (terminated or truncated):
        observation, _, terminated, truncated, _ = env.step(1)
        ours, _, *ends = alone.step(1)[:4]
        observations.append(observation)
        expected.append(ours)
        assert type(terminated) is bool and type(truncated) is bool and [terminated, truncated] == ends
    np.testing.assert_array_equal(observations, expected)
    assert terminated and len(observations) > 2


def test_the_spec_and_the_spaces_give_threshold_time_limit_reward_bound_and_scale(gymnasium):
    discrete, box = envs.make("gymnasium:Stub-v0"), envs.make("gymnasium:StubBox-v0")
    assert (discrete.reward_threshold, discrete.max_step_reward, discrete.observation_scale) == (475.0, INF, None)
    assert (box.action_dim, box.max_episode_steps) == (1, 500) and not hasattr(box, "n_actions")
    assert envs.make("gymnasium:StubExact-v0").max_step_reward == 1.0
    assert envs.make("gymnasium:StubUnbounded-v0").max_step_reward == INF
    assert envs.make("gymnasium:StubUnjudged-v0").reward_threshold is None
    np.testing.assert_array_equal(envs.make("gymnasium:StubBounded-v0").observation_scale,
                                  [np.float32(4.8), 10.0, 0.5, 1.0])  # the float32 bounds, max(|low|, |high|)


def test_an_int_seed_reaches_gymnasium_as_it_is_and_a_list_as_one_int_of_its_seed_sequence(gymnasium):
    env = envs.make("gymnasium:Stub-v0")
    for seed in [7, np.int64(7), None, 2**40, [0, 3, 1], (0, 3, 1), np.array([0, 3, 1])]:
        env.reset(seed=seed)
    from_list = int(np.random.SeedSequence([0, 3, 1]).generate_state(1, np.uint64)[0])
    assert gymnasium.made[0].seeds == [7, 7, None, 2**40, from_list, from_list, from_list]
    assert all(type(seed) is int for seed in gymnasium.made[0].seeds if seed is not None)
    np.testing.assert_array_equal(env.reset(seed=[0, 3, 1])[0], CartPoleEnv().reset(seed=from_list)[0]
                                  .astype(np.float32))


def test_distinct_lists_give_distinct_64_bit_seeds():
    seeds = {reset_seed([seed, k, stream]) for seed in range(40) for k in range(25) for stream in (0, 1)}
    assert len(seeds) == 2000 and all(0 <= seed < 2**64 for seed in seeds)
    assert reset_seed([0, 1]) != reset_seed([1, 0])
    assert reset_seed([1, 0]) == reset_seed([1])  # SeedSequence's own rule: trailing zeros add no entropy


@pytest.mark.parametrize("seed, error", [(-1, ValueError), (1.5, TypeError), (True, TypeError), ("3", TypeError)])
def test_a_bad_seed_is_refused_by_name(gymnasium, seed, error):
    with pytest.raises(error, match="seed must be"):
        envs.make("gymnasium:Stub-v0").reset(seed=seed)


def test_lock_step_and_one_by_one_reset_each_copy_with_its_list_seed_made_one_int(gymnasium):
    """PPO's batches on a Gymnasium env: copy k starts from reset(seed=[seed, k, 1]), which reaches Gymnasium as one
    int, and later episodes from unseeded resets; LockStep on the SerialVector samples what OneByOne samples."""
    policy, theta = SoftmaxPolicy(4, 2), np.random.default_rng(0).normal(scale=0.3, size=10)
    lock_step = LockStep(envs.make_vector("gymnasium:Stub-v0", 3), seed=5)
    one_by_one = OneByOne(lambda: envs.make("gymnasium:Stub-v0"), 3, seed=5)
    for _ in range(3):
        assert_same_paths(lock_step.sample(policy, theta, 30), one_by_one.sample(policy, theta, 30))
    for copies in (gymnasium.made[:3], gymnasium.made[3:]):
        assert [env.seeds[0] for env in copies] == [reset_seed([5, k, 1]) for k in range(3)]
        assert all(seed is None for env in copies for seed in env.seeds[1:]) and len(copies[0].seeds) > 1


def test_a_discrete_action_is_sent_from_the_space_s_start_and_checked(gymnasium):
    env = envs.make("gymnasium:StubShifted-v0")
    env.reset(seed=0)
    env.step(0)
    env.step(np.int64(1))
    assert gymnasium.made[0].actions == [-1, 0]
    for action in [2, -1, True, 0.0, "1"]:
        with pytest.raises(ValueError, match=r"is outside Discrete\(2\)"):
            env.step(action)


def test_a_box_action_is_clipped_to_its_bounds_and_cast_to_its_dtype(gymnasium):
    env = envs.make("gymnasium:StubBox-v0")
    env.reset(seed=0)
    for action in [np.array([3.0]), -7, np.array([0.1])]:
        env.step(action)
    sent = gymnasium.made[0].actions
    assert all(action.dtype == np.float32 and action.shape == (1,) for action in sent)
    np.testing.assert_array_equal(np.concatenate(sent), np.array([1.0, -1.0, 0.1], dtype=np.float32))
    for action in [np.array([0.1, 0.2]), np.array([np.nan]), np.array([[0.1]]), "0.1", np.array([True])]:
        with pytest.raises(ValueError, match=r"action must be 1 finite real number \(shape \(1,\)\)"):
            env.step(action)


@pytest.mark.parametrize("env_id, message", [
    ("StubImage-v0", r"gymnasium:StubImage-v0: its observation space Box\(0.0, 1.0, \(2, 2\), float32\) is not a 1-D "
                     "Box"),
    ("StubDiscreteObservation-v0", r"its observation space Discrete\(16\) is not a 1-D Box"),
    ("StubMultiBinary-v0", r"gymnasium:StubMultiBinary-v0: its action space MultiBinary\(3\) is neither Discrete nor "
                           "a 1-D Box"),
    ("StubFlatBox-v0", r"its action space Box\(-1.0, 1.0, \(1, 1\), float32\) is neither Discrete nor a 1-D Box"),
    ("StubNoLimit-v0", r"gymnasium:StubNoLimit-v0 has no time limit \(its spec's max_episode_steps is None\)"),
])
def test_other_spaces_and_no_time_limit_are_refused_naming_the_env_and_the_space(gymnasium, env_id, message):
    with pytest.raises(ValueError, match=message):
        envs.make("gymnasium:" + env_id)
    assert gymnasium.made[0].closed


def test_an_unknown_id_and_gymnasium_s_other_refusals_name_the_id(gymnasium):
    with pytest.raises(ValueError, match="unknown Gymnasium env 'Nope-v0': Environment `Nope` doesn't exist"):
        envs.make("gymnasium:Nope-v0")
    with pytest.raises(ValueError, match="gymnasium:StubNeedsBox2D-v0: Gymnasium cannot make it: Box2D is not"):
        envs.make("gymnasium:StubNeedsBox2D-v0")


def test_without_gymnasium_the_env_says_it_needs_it_and_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "gymnasium", None)  # `import gymnasium` now raises ImportError
    with pytest.raises(ValueError, match="env gymnasium:CartPole-v1 needs Gymnasium, which is not installed; "
                                         "install it with `pip install gymnasium`"):
        envs.make("gymnasium:CartPole-v1")


def imports(tree, into_functions):
    """The modules a parsed file imports: at its top level (what importing it runs), or everywhere."""
    stack, names = [tree], []
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append(node.module)
        if into_functions or not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))
    return {name.split(".")[0] for name in names if name}


def test_gymnasium_is_imported_only_inside_a_function():
    """Never where importing a module would need it (its top level, a class body); the adapter imports it in a def."""
    for path in [*ROOT.glob("envs/*.py"), *ROOT.glob("minipg/**/*.py"), *ROOT.glob("tests/*.py")]:
        assert "gymnasium" not in imports(ast.parse(path.read_text(encoding="utf-8")), False), path.name
    assert "gymnasium" in imports(ast.parse((ROOT / "envs" / "gymnasium_env.py").read_text(encoding="utf-8")), True)


# ---- settings, judging, the command -----------------------------------------------------------------------------

def test_settings_are_cart_pole_s_for_a_discrete_action_and_continuous_cart_pole_s_for_a_box(gymnasium):
    assert settings("gymnasium:Stub-v0") == dataclasses.replace(ENV_DEFAULTS["cartpole"], env="gymnasium:Stub-v0")
    assert settings("gymnasium:StubBox-v0") == dataclasses.replace(ENV_DEFAULTS["cartpole-continuous"],
                                                                   env="gymnasium:StubBox-v0")
    given = settings("gymnasium:StubBox-v0", optimizer="adam", episodes=3)  # flags change them as for any env
    assert given == dataclasses.replace(settings("cartpole-continuous", optimizer="adam", episodes=3),
                                        env="gymnasium:StubBox-v0")
    assert (given.optimizer, given.lr, given.episodes) == ("adam", 0.001, 3)  # adam's own step, not the env's 0.01
    with pytest.raises(ValueError, match="--clip: the run does not use it"):
        settings("gymnasium:Stub-v0", clip=0.3)


def run(args, tmp_path, capsys, name):
    """`python -m minipg.train ARGS --quiet` in-process (a subprocess could not see the stub): (status, stdout,
    stderr, the CSV's rows)."""
    out = tmp_path / name
    status = run_cli(main, [*args, "--quiet", "--out", str(out)])
    captured = capsys.readouterr()
    rows = []
    if status == 0:
        [csv_path] = out.glob("*.csv")
        with open(csv_path, newline="", encoding="utf-8") as file:
            rows = list(csv.DictReader(file))
    return status, captured.out, captured.err, rows


@pytest.mark.parametrize("stub, like", [("StubExact-v0", "cartpole"), ("StubExactBox-v0", "cartpole-continuous")])
def test_a_run_on_a_stub_of_cart_pole_logs_what_the_run_on_cart_pole_logs(gymnasium, tmp_path, capsys, stub, like):
    """End to end through the command: minipg's cart-pole behind Gymnasium's face, float64 observations and the
    reward bound 1, trains, evaluates (the threshold 475 and the early stop from its spec and reward range) and logs
    the same numbers to the last digit as --env cartpole does; its files are named for the id, ':' made '_'."""
    status, output, _, theirs = run(["--env", "gymnasium:" + stub, "--iterations", "3"], tmp_path, capsys, "stub")
    assert status == 0
    assert sorted(path.name for path in (tmp_path / "stub").iterdir()) == [
        f"gymnasium_{stub}.{extension}" for extension in ("csv", "npz", "png")]
    assert output.startswith(f"cap: gymnasium:{stub} after 3 iterations")
    assert run(["--env", like, "--iterations", "3"], tmp_path, capsys, "own")[3] == theirs
    assert len(theirs) == 3


@pytest.mark.filterwarnings("error")
def test_unbounded_rewards_never_stop_an_evaluation_early(gymnasium, tmp_path, capsys):
    """reward_range (-inf, inf): every evaluation episode runs to its end, as cart-pole's evaluation without the
    early stop does (train's stop_early=False), step for step, and no inf * 0 is ever formed (warnings are errors)."""
    _, _, _, rows = run(["--env", "gymnasium:StubUnbounded-v0", "--iterations", "3"], tmp_path, capsys, "stub")
    full = train(settings("cartpole", iterations=3, quiet=True), stop_early=False).log
    assert [int(row["eval_env_steps"]) for row in rows] == [row.eval_env_steps for row in full]
    early = train(settings("cartpole", iterations=3, quiet=True)).log
    assert early[-1].eval_env_steps < full[-1].eval_env_steps  # the early stop would have cut them


def test_the_spec_s_threshold_solves_a_run(gymnasium, tmp_path, capsys):
    """reward_threshold 12: the first evaluation's mean return (cart-pole's, 30.7 at seed 0) reaches it."""
    status, output, _, rows = run(["--env", "gymnasium:StubEasy-v0", "--iterations", "3"], tmp_path, capsys, "easy")
    full = train(settings("cartpole", iterations=1, quiet=True), stop_early=False).log
    assert status == 0 and output.startswith("solved: gymnasium:StubEasy-v0 after 1 iterations") and len(rows) == 1
    assert float(rows[0]["eval_mean_return"]) == full[0].eval_mean_return >= 12.0


def test_without_a_threshold_a_run_is_judged_by_its_mean_return_never_solved_and_goes_to_its_cap(
        gymnasium, tmp_path, capsys):
    status, output, _, rows = run(["--env", "gymnasium:StubUnjudged-v0", "--iterations", "3"], tmp_path, capsys,
                                  "none")
    full = train(settings("cartpole", iterations=3, quiet=True), stop_early=False).log
    assert status == 0 and len(rows) == 3 and full[0].eval_mean_return >= 12.0  # a threshold of 12 would have stopped
    assert [float(row["eval_mean_return"]) for row in rows] == [row.eval_mean_return for row in full]
    assert output.startswith("cap: gymnasium:StubUnjudged-v0 after 3 iterations")
    assert f"evaluation mean return {full[-1].eval_mean_return:.1f} over 100 episodes" in output
    assert "never solved: its spec gives no reward_threshold, so the run goes to its iteration cap" in output


def test_ppo_on_a_gymnasium_env_steps_its_copies_in_lock_step(gymnasium, tmp_path, capsys):
    """On the SerialVector of its copies (LockStep; OneByOne, its twin, samples the same paths a row at a time)."""
    config = settings("gymnasium:Stub-v0", estimator="ppo", optimizer="adam")
    sampler = make_sampler(config, envs.make(config.env))
    assert isinstance(sampler, LockStep) and isinstance(sampler.vector, SerialVector) and sampler.vector.n == 2
    made_before = len(gymnasium.made)
    status, _, _, rows = run(["--env", "gymnasium:Stub-v0", "--estimator", "ppo", "--optimizer", "adam",
                              "--iterations", "2", "--steps", "64"], tmp_path, capsys, "ppo")
    assert status == 0 and [int(row["env_steps"]) for row in rows] == [128, 256]
    starts = [reset_seed([0, k, 1]) for k in range(2)]  # the sampler's copies; the evaluation's seeds are < 2^32
    assert [env.seeds[0] for env in gymnasium.made[made_before:] if env.seeds and env.seeds[0] in starts] == starts


def test_without_gymnasium_the_command_fails_in_one_line_saying_how_to_install_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "gymnasium", None)
    status, output, error, _ = run(["--env", "gymnasium:CartPole-v1"], tmp_path, capsys, "out")
    assert status == 2 and output == "" and not (tmp_path / "out").exists()
    assert error == "error: env gymnasium:CartPole-v1 needs Gymnasium, which is not installed; install it with " \
                    "`pip install gymnasium`\n"


def test_an_unknown_id_fails_the_command_in_one_line_naming_it(gymnasium, tmp_path, capsys):
    status, _, error, _ = run(["--env", "gymnasium:Nope-v0"], tmp_path, capsys, "out")
    assert status == 2 and error.count("\n") == 1 and "unknown Gymnasium env 'Nope-v0'" in error


def test_show_and_bench_refuse_a_gymnasium_env_in_one_line(gymnasium, tmp_path, capsys):
    assert run(["--env", "gymnasium:Stub-v0", "--iterations", "1"], tmp_path, capsys, "stub")[0] == 0
    checkpoint = str(tmp_path / "stub" / "gymnasium_Stub-v0.npz")
    assert run_cli(show.main, [checkpoint, "--out", str(tmp_path / "show")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "its env 'gymnasium:Stub-v0' is a Gymnasium env; show films minipg's own" in error
    assert run_cli(bench.main, ["--env", "gymnasium:Stub-v0", "--out", str(tmp_path / "bench")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "gymnasium:Stub-v0: the bench measures minipg's own envs" in error
    assert not (tmp_path / "show").exists() and not (tmp_path / "bench").exists()


def test_help_says_what_a_gymnasium_env_trains_on(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "or gymnasium:ID, a Gymnasium env with a 1-D Box observation (needs Gymnasium), on cartpole's setting " \
           "for a Discrete action and cartpole-continuous's for a Box one, solved at its spec's reward_threshold " \
           "(none: never)" in text


# ---- live: the real Gymnasium, where it is installed -------------------------------------------------------------

@pytest.mark.parametrize("env_id, judged", [("CartPole-v1", "evaluation mean return"),
                                            ("Pendulum-v1", "never solved: its spec gives no reward_threshold")])
def test_live_gymnasium_envs_train_two_iterations(tmp_path, capsys, env_id, judged):
    pytest.importorskip("gymnasium")
    status, output, error, rows = run(["--env", "gymnasium:" + env_id, "--iterations", "2"], tmp_path, capsys, "out")
    assert status == 0, error
    assert len(rows) == 2 and output.startswith(f"cap: gymnasium:{env_id} after 2 iterations") and judged in output


def balancing_push(state):
    """Pushes towards the side the pole falls to: keeps it up for the 500 steps of a whole episode."""
    x, x_dot, theta, theta_dot = state
    return int(theta + 0.5 * theta_dot + 0.01 * x + 0.1 * x_dot > 0)


@pytest.mark.parametrize("seed, balanced", [(0, False), (1, False), (2, True)])
def test_live_cart_pole_through_the_adapter_is_minipg_s_cart_pole_up_to_float32(seed, balanced):
    """The same seed and actions: every observation equal once both are cast to float32 (Gymnasium's are float32),
    the rewards and ends equal; a random episode falls, a balanced one is truncated at 500."""
    pytest.importorskip("gymnasium")
    theirs, ours, rng = envs.make("gymnasium:CartPole-v1"), envs.make("cartpole"), np.random.default_rng(seed)
    their_observation, _ = theirs.reset(seed=seed)
    observation, _ = ours.reset(seed=seed)
    for step in range(1, 501):
        np.testing.assert_array_equal(their_observation, observation.astype(np.float32))
        action = balancing_push(ours.state) if balanced else int(rng.integers(2))
        their_observation, *their_end = theirs.step(action)[:4]
        observation, *end = ours.step(action)[:4]
        assert their_end == end
        if end[1] or end[2]:
            break
    np.testing.assert_array_equal(their_observation, observation.astype(np.float32))
    if balanced:
        assert (step, end[1], end[2]) == (500, False, True)
    else:
        assert step < 100 and end[1]


def test_live_spaces_minipg_does_not_take_are_refused():
    pytest.importorskip("gymnasium")
    with pytest.raises(ValueError, match=r"gymnasium:FrozenLake-v1: its observation space Discrete\(16\)"):
        envs.make("gymnasium:FrozenLake-v1")
    with pytest.raises(ValueError, match="unknown Gymnasium env 'Nope-v0'"):
        envs.make("gymnasium:Nope-v0")
