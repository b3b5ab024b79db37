"""The speed command on a stub gymnasium and a stub clock: what it calls, that its rates are the steps taken over the
seconds the clock gave, its one-line errors, minipg's side alone without gymnasium, and no import of gymnasium
before the command runs."""
import ast
import csv
import os
import pathlib
import subprocess
import sys
import types

import numpy as np
import pytest

from minipg.io.cli import run_cli
from minipg.lab import speed

ROOT = pathlib.Path(__file__).parents[1]
TICK = 1 / 128  # the stub clock's step per reading, a power of 2: every time and difference below is exact


class StubVector:
    """make_vec's vector: counts its steps, checks each gets one action per env."""

    def __init__(self, n):
        self.n, self.steps = n, 0

    def reset(self, seed):
        return np.zeros((self.n, 4), dtype=np.float32), {}

    def step(self, actions):
        assert np.shape(actions) == (self.n,)
        self.steps += 1
        ended = np.zeros(self.n, dtype=bool)
        return np.zeros((self.n, 4), dtype=np.float32), np.ones(self.n), ended, ended, {}


class StubEnv:
    """make's single env: counts its steps and resets; an episode ends every 10 steps."""

    def __init__(self):
        self.steps = self.resets = 0

    def reset(self, seed=None):
        self.resets += 1
        return np.zeros(3), {}

    def step(self, action):
        self.steps += 1
        return np.zeros(3), 0.0, self.steps % 10 == 0, False, {}


@pytest.fixture
def stub_gymnasium(monkeypatch):
    """A gymnasium module in sys.modules recording every make and make_vec, and a clock that ticks TICK a reading."""
    made = []

    def make(env_id):
        made.append((env_id, StubEnv()))
        return made[-1][1]

    def make_vec(env_id, n, vectorization_mode):
        made.append((env_id, n, vectorization_mode, StubVector(n)))
        return made[-1][-1]

    monkeypatch.setitem(sys.modules, "gymnasium", types.SimpleNamespace(make=make, make_vec=make_vec))
    readings = iter(range(10**9))
    monkeypatch.setattr(speed, "clock", lambda: next(readings) * TICK)
    monkeypatch.setattr(speed, "BATCH_STEPS", 4)  # a fast test; the numbers are the same sums
    return made


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def test_the_command_measures_each_case_in_turns_and_its_rates_are_steps_over_seconds(stub_gymnasium, tmp_path,
                                                                                      capsys):
    """--seconds 0.125 is 4 slices of 4 ticks: each slice reads the clock at its start and after each of 3 runs, the
    3rd reading (4 ticks in) ends it, so each side takes 4 x 3 runs of BATCH_STEPS = 4 steps of each env in 0.125 s
    (worked by hand from the stub clock); Gymnasium's steps are what its stub counted."""
    assert run_cli(speed.main, ["--seconds", "0.125", "--out", str(tmp_path)]) == 0
    made = [entry[:-1] for entry in stub_gymnasium]
    assert made == [("CartPole-v1", 64, "vector_entry_point"), ("CartPole-v1", 256, "vector_entry_point"),
                    ("Acrobot-v1",), ("Pendulum-v1",)]
    counted = [entry[-1].steps * entry[-1].n if len(entry) == 4 else entry[-1].steps for entry in stub_gymnasium]
    assert counted == [12 * 4 * 64, 12 * 4 * 256, 12 * 4, 12 * 4]
    assert stub_gymnasium[2][-1].resets == 1 + 48 // 10  # the seeded reset, then one after every episode's end
    rows = read_rows(tmp_path / "speed.csv")
    assert [(row["env"], int(row["n"]), row["gymnasium"]) for row in rows] == [
        ("cartpole", 64, "make_vec"), ("cartpole", 256, "make_vec"), ("acrobot", 64, "make"), ("pendulum", 64, "make")]
    for row, theirs in zip(rows, counted):
        n = int(row["n"])
        assert int(row["minipg_steps"]) == 12 * 4 * n and int(row["gymnasium_steps"]) == theirs
        assert float(row["minipg_seconds"]) == float(row["gymnasium_seconds"]) == 0.125
        assert float(row["minipg_steps_per_s"]) == 12 * 4 * n / 0.125
        assert float(row["gymnasium_steps_per_s"]) == theirs / 0.125
        assert float(row["ratio"]) == (12 * 4 * n) / theirs
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split() == ["env", "n", "minipg", "steps/s", "gymnasium", "steps/s", "ratio", "target"]
    assert printed[1].split() == ["cartpole", "64", "24576", "make_vec", "24576", "1.00x", "1x"]
    assert printed[3].split() == ["acrobot", "64", "24576", "make", "384", "64.00x", "5x"]
    assert printed[-1] == f"wrote {tmp_path / 'speed.csv'}"


def test_without_gymnasium_it_says_so_in_one_line_and_measures_minipg_alone(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "gymnasium", None)  # import gymnasium raises ImportError
    readings = iter(range(10**9))
    monkeypatch.setattr(speed, "clock", lambda: next(readings) * TICK)
    monkeypatch.setattr(speed, "BATCH_STEPS", 4)
    assert run_cli(speed.main, ["--seconds", "0.125", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "gymnasium is not installed: measuring minipg's side alone (pip install gymnasium to compare)"
    rows = read_rows(tmp_path / "speed.csv")
    assert [int(row["minipg_steps"]) for row in rows] == [12 * 4 * 64, 12 * 4 * 256, 12 * 4 * 64, 12 * 4 * 64]
    assert all(row[column] == "nan" for row in rows for column in ("gymnasium_steps", "gymnasium_steps_per_s", "ratio"))


@pytest.mark.parametrize("argv, message", [(["--seconds", "0"], "expected a finite number > 0, got '0'"),
                                           (["--seconds", "nan"], "expected a finite number > 0, got 'nan'"),
                                           (["--seconds", "x"], "expected a number, got 'x'"),
                                           (["--envs", "3"], "unrecognized arguments: --envs 3")])
def test_bad_flags_are_one_line_and_status_2(argv, message, stub_gymnasium, capsys):
    assert run_cli(speed.main, argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip().endswith(message) and len(captured.err.splitlines()) == 1
    assert stub_gymnasium == []


def test_an_out_that_is_a_file_is_refused_before_any_measurement(stub_gymnasium, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert run_cli(speed.main, ["--seconds", "0.125", "--out", str(tmp_path / "file")]) == 2
    assert "--out" in capsys.readouterr().err and stub_gymnasium == []


def test_gymnasium_is_imported_only_when_the_command_runs(tmp_path):
    """No module-level import of gymnasium in the parsed source, and with a gymnasium that fails on import on the
    path, importing the module and --help still work."""
    tree = ast.parse((ROOT / "minipg" / "lab" / "speed.py").read_text(encoding="utf-8"))
    top = {alias.name for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
           for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module)])}
    assert not {name for name in top if name.split(".")[0] == "gymnasium"}
    (tmp_path / "gymnasium").mkdir()
    (tmp_path / "gymnasium" / "__init__.py").write_text("raise RuntimeError('gymnasium imported')\n")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    for argv in (["-c", "import minipg.lab.speed"], ["-m", "minipg.lab.speed", "--help"]):
        result = subprocess.run([sys.executable, *argv], capture_output=True, text=True, cwd=ROOT, env=environment)
        assert result.returncode == 0, result.stderr


class TruncatingEnv(StubEnv):
    """A single env whose every episode is cut by its time limit after 10 steps (truncated, never terminated), and
    which refuses a step after an episode's end until it is reset, as Gymnasium's order checker does."""

    def __init__(self):
        super().__init__()
        self.ended = False

    def reset(self, seed=None):
        self.ended = False
        return super().reset(seed)

    def step(self, action):
        assert not self.ended, "step after the episode was cut, without a reset"
        self.steps += 1
        self.ended = self.steps % 10 == 0
        return np.zeros(3), 0.0, False, self.ended, {}


def test_gymnasiums_single_env_is_reset_after_a_truncated_episode_too():
    """64 steps of episodes cut at 10: the seeded reset, then one after each of the 6 cuts."""
    env = TruncatingEnv()
    run = speed.gymnasium_single_batch(types.SimpleNamespace(make=lambda env_id: env), "acrobot")
    assert run() == speed.BATCH_STEPS == 64
    assert (env.steps, env.resets) == (64, 1 + 64 // 10)
