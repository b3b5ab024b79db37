"""Who may import whom, read from the parsed source: Eq. (4)'s "no dynamics model" as code (what estimates a gradient
imports no env and no oracle), the simulators knowing nothing of learning, the algorithm apart from its commands
(minipg/lab) and its plumbing (minipg/io, which only train.py uses), and nothing Unix-only; then the train command
run where fcntl cannot be imported and no folder opened."""
import ast
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).parents[1]
ALGORITHM = sorted(path for path in (ROOT / "minipg").glob("*.py") if path.stem != "__init__")
UNIX_ONLY = {"fcntl", "termios", "pwd", "grp", "resource", "posix", "tty", "pty"}


def imported_modules(path):
    """Every module a file imports, as written: `import a.b` and `from a.b import c` both give 'a.b'."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("module", ["estimators", "rollout", "baselines", "critics", "returns"])
def test_estimator_code_never_imports_a_model(module):
    """No env and no oracle: what estimates the gradient only sees sampled paths."""
    imported = imported_modules(ROOT / "minipg" / f"{module}.py")
    assert not {name for name in imported if name == "envs" or name.startswith("envs.")}
    assert "minipg.exact" not in imported


def test_simulators_never_import_minipg():
    for path in (ROOT / "envs").glob("*.py"):
        assert not {name for name in imported_modules(path) if name.split(".")[0] == "minipg"}, path.name


def test_the_algorithm_never_imports_the_lab_and_only_train_touches_io():
    for path in ALGORITHM:
        layers = {name.split(".")[1] for name in imported_modules(path) if name.startswith("minipg.")}
        assert "lab" not in layers, path.name
        assert "io" not in layers or path.stem == "train", path.name
    for path in (ROOT / "minipg" / "io").glob("*.py"):
        assert not {name for name in imported_modules(path) if name.startswith("minipg.")} - \
            {name for name in imported_modules(path) if name.startswith("minipg.io")}, path.name  # io stands alone


def test_nothing_imports_a_unix_only_module():
    for path in [*(ROOT / "minipg").rglob("*.py"), *(ROOT / "envs").glob("*.py")]:
        assert not {name.split(".")[0] for name in imported_modules(path)} & UNIX_ONLY, path.name


BLOCKED = """
import os, runpy, sys
sys.modules["fcntl"] = None  # import fcntl now raises ImportError, as on Windows
real_open = os.open
def no_folders(path, flags, *args, **kwargs):
    if os.path.isdir(path):
        raise PermissionError(13, "a folder cannot be opened here", path)
    return real_open(path, flags, *args, **kwargs)
os.open = no_folders
sys.argv = ["minipg.train"] + sys.argv[1:]
runpy.run_module("minipg.train", run_name="__main__")
"""


def test_train_runs_where_fcntl_is_missing_and_folders_cannot_be_opened(tmp_path):
    """As on Windows: the run trains, writes its three files whole, and exits 0."""
    result = subprocess.run([sys.executable, "-c", BLOCKED, "--env", "corridor", "--iterations", "3", "--quiet",
                             "--out", str(tmp_path)], capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(tmp_path)) == ["corridor.csv", "corridor.npz", "corridor.png"]
    assert len((tmp_path / "corridor.csv").read_text().splitlines()) == 4


def test_matplotlib_is_imported_only_when_a_figure_is_drawn(tmp_path):
    """Importing train, the bench or any lab command loads no matplotlib, nor does a run that writes no figure; the
    train command's figure then imports it, without pyplot."""
    program = ("import sys, minipg.train, minipg.lab.bench, minipg.lab.corridor, minipg.lab.derivation, "
               "minipg.lab.variance, minipg.lab.speed, minipg.lab.show\n"
               "before = sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib')\n"
               "minipg.train.main(['--iterations', '1', '--quiet', '--out', sys.argv[1]])\n"
               "print(before, 'matplotlib.figure' in sys.modules, 'matplotlib.pyplot' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", program, str(tmp_path)], capture_output=True,
                            text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert result.stdout.split("\n")[-2] == "[] True False", result.stderr
