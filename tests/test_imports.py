"""The import graph of DESIGN.md, read from the parsed source: Eq. (4)'s "no dynamics model" as code."""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).parents[1]


def imported_modules(path):
    """Every module a file imports, as written: `import a.b` and `from a.b import c` both give 'a.b'."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
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


def test_nothing_below_the_faces_imports_a_face():
    faces = {"train", "bench", "variance", "derivation", "show", "corridor", "plotting", "cli", "checkpoint", "config"}
    for path in (ROOT / "minipg").glob("*.py"):
        if path.stem not in faces:
            assert not {f"minipg.{face}" for face in faces} & imported_modules(path), path.name
