"""The README cannot go stale: each command output it shows for a command that finishes in seconds is that
command's output today, every number but seconds and paths, and its bench tables are the committed
plots/bench_*.csv. Its equation numbers are the ones the code cites."""
import csv
import glob
import os
import re
import subprocess
import sys

import pytest

from minipg.lab import bench
from minipg.train import SOLVED_RETURN, parse_flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as _file:
    README = _file.read()
FAST = ("python -m minipg.train --quiet", "python -m minipg.lab.derivation")  # run here; the others take minutes


def shown(prefix):
    """(command, output) of every README block of command output whose command starts with prefix."""
    return [(m["command"], m["output"]) for m in re.finditer(r"```text\n\$ (?P<command>[^\n]+)\n(?P<output>.*?)```",
                                                             README, re.S) if m["command"].startswith(prefix)]


def masked(text):
    """text with every duration ("0.78 s") and every path (a word with a slash, or Windows' backslash) replaced by a
    placeholder."""
    return re.sub(r"\S*[/\\]\S*", "<path>", re.sub(r"\d+(\.\d+)? s\b", "<seconds>", text)).rstrip()


@pytest.mark.parametrize("command", FAST)
def test_the_readme_shows_what_the_command_prints(command, tmp_path):
    [(_, output)] = shown(command)
    result = subprocess.run([sys.executable, *command.split()[1:], "--out", str(tmp_path)], capture_output=True,
                            text=True, encoding="utf-8", cwd=ROOT, timeout=300,
                            env={**os.environ, "PYTHONPATH": ROOT, "PYTHONIOENCODING": "utf-8"})
    assert result.returncode == 0, result.stderr
    assert masked(result.stdout) == masked(output)


def test_the_readme_bench_tables_are_the_committed_csvs():
    blocks = shown("python -m minipg.lab.bench")
    assert len(blocks) >= 2
    for command, output in blocks:
        env = re.search(r"--env (\S+)", command)
        with open(os.path.join(ROOT, "plots", f"bench_{env.group(1) if env else 'cartpole'}.csv"), newline="",
                  encoding="utf-8") as file:
            rows = list(csv.DictReader(file))
        jobs = int(re.search(r"median s \((\d+) jobs?\)", output).group(1))
        assert output.splitlines()[: len(rows) + 1] == bench.table(rows, jobs), command


def test_the_readme_shows_each_envs_setting_as_train_help_prints_it(capsys):
    """The settings its bench tables were measured on: a default changed in the code fails here until the README
    (and its results) follow."""
    [(_, output)] = shown("python -m minipg.train --help")
    with pytest.raises(SystemExit):
        parse_flags(["--help"])
    printed = capsys.readouterr().out
    assert output.startswith("…\n") and printed.endswith(output.removeprefix("…\n"))


def test_the_readme_states_the_threshold_each_env_is_solved_at():
    """The bench's protocol names the thresholds, cart-pole's, the acrobot's and the pendulum's: the judge's."""
    stated = re.search(r"reaching the env's threshold: (\S+), (\S+) or (\S+);", " ".join(README.split())).groups()
    assert [float(number.replace("−", "-")) for number in stated] == \
        [SOLVED_RETURN[env] for env in ("cartpole", "acrobot", "pendulum")]
    assert SOLVED_RETURN["cartpole-continuous"] == SOLVED_RETURN["cartpole"]


def test_every_equation_the_code_cites_is_in_the_readme():
    tags = set(re.findall(r"\\tag\{(\d+)\}", README))
    cited = set()
    for path in glob.glob(os.path.join(ROOT, "minipg", "**", "*.py"), recursive=True):
        with open(path, encoding="utf-8") as file:
            for group in re.findall(r"Eqs?\.\s*((?:\(\d+\)(?:\s*(?:-|,|and)\s*)?)+)", file.read()):
                numbers = [int(n) for n in re.findall(r"\((\d+)\)", group)]
                if len(numbers) == 2 and re.search(r"\)\s*-\s*\(", group):
                    numbers = list(range(numbers[0], numbers[1] + 1))
                cited |= {str(n) for n in numbers}
    assert cited and cited <= tags, sorted(cited - tags, key=int)
    assert tags == {str(n) for n in range(1, 24)}
    first = [int(n) for n in re.findall(r"\\tag\{(\d+)\}", README)]
    assert first == sorted(first), "equations appear in the order of their numbers"
    assert README[: README.index("\\tag{1}")].count("\n") < 80
