"""Each example runs in its fast mode (at import) and one number is checked."""
import importlib.util
import sys
from pathlib import Path

import pytest

from ritzhrta.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # examples write under runs/
    monkeypatch.setattr(sys, "argv", [name])
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_example_is_tested():
    tested = {"poisson2d_hrta", "poisson2d_ritz", "poisson2d_export", "custom_problem", "function_approximation",
              "poisson2d_gauss_newton", "curved_domain", "mesh_domain", "poisson3d"}
    assert {p.stem for p in EXAMPLES.glob("*.py")} == tested


def test_poisson2d_hrta(monkeypatch, tmp_path):
    m = load("poisson2d_hrta", monkeypatch, tmp_path)
    for r in m.results.values():
        assert r.errors["h1"] < r.initial_errors["h1"] / 10


def test_poisson2d_ritz(monkeypatch, tmp_path):
    m = load("poisson2d_ritz", monkeypatch, tmp_path)
    assert m.errors["h1"] < 0.3 and m.result.initial_errors["h1"] > 1


def test_poisson2d_export(monkeypatch, tmp_path):
    m = load("poisson2d_export", monkeypatch, tmp_path)
    assert (tmp_path / "runs/examples/export/solution.vtu").exists()
    assert m.max_error < 0.2 and m.result.errors["h1"] < m.result.initial_errors["h1"] / 10


def test_custom_problem(monkeypatch, tmp_path):
    m = load("custom_problem", monkeypatch, tmp_path)
    assert m.result.errors["h1"] < 1e-8 and 1 / 3 < m.result.estimate["h1"] / m.result.errors["h1"] < 3
    assert main(["solve", f"{EXAMPLES / 'custom_problem.py'}:make_problem", "--out", str(tmp_path / "cli"),
                 "--no-progress", "--resolution", "20"]) == 0


def test_function_approximation(monkeypatch, tmp_path):
    m = load("function_approximation", monkeypatch, tmp_path)
    assert all(r.errors["l2"] < r.initial_errors["l2"] / 5 for r in m.results.values())


def test_poisson2d_gauss_newton(monkeypatch, tmp_path):
    m = load("poisson2d_gauss_newton", monkeypatch, tmp_path)
    assert all(r.errors["h1"] < r.initial_errors["h1"] / 10 for r in m.gn.values())
    assert m.galerkin["Nitsche"].errors["h1"] < m.galerkin["penalty β = 100"].errors["h1"]


def test_curved_domain(monkeypatch, tmp_path):
    m = load("curved_domain", monkeypatch, tmp_path)
    assert m.result.errors["h1"] < 1e-4 and 1 / 3 < m.result.estimate["h1"] / m.result.errors["h1"] < 3


def test_mesh_domain(monkeypatch, tmp_path):
    m = load("mesh_domain", monkeypatch, tmp_path)
    assert m.errors["h1"] < 3e-2 and m.reference.converged
    assert len(m.written.points) == len(m.domain.points)
    assert {"u", "grad_u", "u_reference", "error"} <= set(m.written.point_data)


def test_poisson3d(monkeypatch, tmp_path):
    m = load("poisson3d", monkeypatch, tmp_path)
    assert m.result.errors["h1"] < 2e-2 and m.plot.exists() and m.vtu.exists()


def test_the_readme_snippets_run_as_written():
    """The README's first snippet (solve(problem)) and its own-problem snippet, as written."""
    import re

    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 3
    scope: dict = {}
    exec(compile(blocks[0], "README-1", "exec"), scope)
    assert scope["result"].errors["h1"] < 1e-10 and 0.2 < scope["result"].estimate["h1"] / scope["result"].errors["h1"] < 5
    exec(compile(blocks[2], "README-3", "exec"), scope)
    assert scope["problem"].domain.measure > 3 and scope["result"].errors["h1"] < 1e-8
