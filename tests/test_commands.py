"""The bench and variance commands: they run end to end, print what they measure, and refuse bad flags."""
import csv
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


def test_bench_jobs_change_no_number_but_the_seconds(tmp_path):
    """Three seeds, one process, then two at once: the same CSV but the timing columns, with seeds that solve."""
    tables = []
    for jobs in ("1", "2"):
        result = subprocess.run([sys.executable, "-m", "minipg.lab.bench", "--configs", "default", "--seeds", "3",
                                 "--max-steps", "20000", "--after", "2", "--jobs", jobs, "--quiet",
                                 "--out", str(tmp_path / jobs)], capture_output=True,
                                text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT}, timeout=300)
        assert result.returncode == 0, result.stderr
        assert f"median s ({jobs} job" in result.stdout
        with open(tmp_path / jobs / "bench_cartpole.csv", newline="") as file:
            tables.append(list(csv.DictReader(file)))
    assert tables[0][0]["solved"] != "0/3"  # numbers worth comparing
    timing = {"median_seconds", "iqr_seconds", "rollout_steps_per_s", "rollout_gradient_steps_per_s"}
    assert [{k: v for k, v in row.items() if k not in timing} for row in tables[0]] == \
        [{k: v for k, v in row.items() if k not in timing} for row in tables[1]]
