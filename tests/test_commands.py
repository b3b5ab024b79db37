"""The bench and variance commands: they run end to end, print what they measure, and refuse bad flags."""
import os
import subprocess
import sys

import pytest

from minipg.lab.bench import main as bench_main, parse_overrides
from minipg.io.cli import run_cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_bench_quick_runs_end_to_end(tmp_path):
    result = subprocess.run([sys.executable, "-m", "minipg.lab.bench", "--quick", "--out", str(tmp_path)],
                            capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT})
    assert result.returncode == 0, result.stderr
    assert "trust-region" in result.stdout
    assert (tmp_path / "bench_cartpole.csv").exists() and (tmp_path / "bench_cartpole.png").exists()


def test_bench_set_overrides_are_typed_by_the_train_parser():
    assert parse_overrides(["lam=0.98", "batch-steps=1000", "optimizer=adam"]) == {
        "lam": 0.98, "batch_steps": 1000, "optimizer": "adam"}


@pytest.mark.parametrize("item, message", [("lam", "FLAG=VALUE"), ("bogus=1", "FLAG=VALUE"),
                                           ("episodes=x", "expected a positive integer"), ("lam=2", "lam must be in")])
def test_bench_refuses_a_bad_set_before_training_or_writing(tmp_path, capsys, item, message):
    assert run_cli(bench_main, ["--quick", "--set", item, "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == "" and not (tmp_path / "out").exists()


def test_variance_command_prints_every_estimator_and_writes_the_plot(tmp_path, capsys):
    from minipg.lab.variance import estimator_rows, main

    out = tmp_path / "variance.png"
    main(["--batches", "3", "--episodes", "10", "--horizon", "6", "--out", str(out)])
    printed = capsys.readouterr().out
    names = [row[0] for row in estimator_rows(None, None, None, 1)]
    assert all(name in printed for name in names) and out.stat().st_size > 0
