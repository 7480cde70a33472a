"""Tests for the seams of the design: each one fails when its feature is broken."""
import csv
import json
import doctest
import importlib
import math
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import problems
import ritzhrta
from ritzhrta import H1Loss, L2Loss, Plateau, RitzLoss, Stage, Target, TwoLayerNet, parse_schedule, solve
from ritzhrta.geometry.domains import Interval
from ritzhrta.training.loop import DivergenceError

ROOT = Path(__file__).resolve().parents[1]


def _net(width=20, k=1, s=1.0):
    torch.manual_seed(0)
    return TwoLayerNet(1, width, k=k, s=s)


def _adam_steps(state, index):
    return int(state["optimizer"]["state"][index]["step"])


def test_keep_optimizer_keeps_adam_moments_and_default_resets_them():
    pb = problems.get("approx1d")
    for keep, expected in ((True, 10), (False, 5)):
        states = []
        solve(pb, _net(), (Stage(5, 0.5), Stage(5, 1.0, keep_optimizer=keep)), loss=L2Loss(), progress=False,
              checkpoint=states.append)
        assert _adam_steps(states[-1], 0) == expected


def test_refit_resets_only_the_output_weights_adam_state():
    pb = problems.get("approx1d")
    for reset, a_steps in ((True, 2), (False, 12)):
        states = []
        solve(pb, _net(), (Stage(12, 1.0, refit_output_every=5, reset_output_state=reset),), loss=L2Loss(),
              progress=False, checkpoint=states.append)
        # parameters in order: a (0), hidden.weight (1), hidden.bias (2); refits at t = 5 and 10
        assert _adam_steps(states[-1], 1) == 12 and _adam_steps(states[-1], 0) == a_steps


def test_solve_sets_stage_zero_s_before_measuring():
    pb = problems.get("approx1d")
    net = _net(s=1.0)
    r = solve(pb, net, parse_schedule("0.5:1"), loss=L2Loss(), progress=False)
    twin = _net(s=0.5)
    assert r.initial_errors == ritzhrta.relative_errors(twin, pb)


def test_callback_returning_true_stops_the_run():
    r = solve(problems.get("approx1d"), _net(), parse_schedule("0.5:10,1:10"), loss=L2Loss(), progress=False,
              callback=lambda info: info.step == 7)
    assert r.status == "stopped" and len(r.history) == 7
    # the stage it stopped inside is reported, flagged (issue 27: the table omitted it)
    assert [(st.index, st.steps, st.stopped_early) for st in r.stages] == [(0, 7, True)]


def test_sync_every_batches_reads_and_still_catches_nan():
    pb = problems.get("approx1d")
    a = solve(pb, _net(), parse_schedule("1:20"), loss=L2Loss(), progress=False, sync_every=1)
    b = solve(pb, _net(), parse_schedule("1:20"), loss=L2Loss(), progress=False, sync_every=8)
    assert a.history.loss == b.history.loss
    bad = Target(Interval(), exact=lambda x: torch.where(x[:, 0] > 0.5, math.nan, 0.0))
    with pytest.raises(DivergenceError, match="step 1 "):
        solve(bad, _net(), parse_schedule("1:20"), loss=L2Loss(), progress=False, sync_every=8)
    with pytest.raises(ValueError, match="sync_every"):
        solve(pb, _net(), parse_schedule("1:2"), loss=L2Loss(), progress=False, sync_every=0)


def test_plateau_min_steps_delays_the_switch():
    flat = [1.0] * 50
    assert Plateau(window=10, rel_tol=0.05).fired(flat)
    assert not Plateau(window=10, rel_tol=0.05, min_steps=60).fired(flat)
    assert Plateau(window=10, rel_tol=0.05, min_steps=50).fired(flat)


def test_history_csv_holds_every_step_and_the_errors(tmp_path):
    r = solve(problems.get("approx1d"), _net(), parse_schedule("0.5:4,1:4"), loss=L2Loss(), progress=False,
              eval_every=4)
    path = tmp_path / "h.csv"
    r.history.write_csv(path)
    rows = list(csv.DictReader(path.open()))
    assert [int(x["step"]) for x in rows] == list(range(1, 9))
    assert [float(x["loss"]) for x in rows] == r.history.loss
    assert [float(x["s"]) for x in rows] == [0.5] * 4 + [1.0] * 4
    assert float(rows[7]["rel_l2"]) == pytest.approx(r.errors["l2"], rel=1e-12) and rows[0]["rel_l2"] == ""


def test_divergence_inside_an_alternating_stage():
    bad = Target(Interval(), exact=lambda x: torch.where(x[:, 0] > 0.5, math.nan, 0.0), points=50)
    with pytest.raises(DivergenceError, match="alternating stage 1"):
        solve(bad, _net(), (Stage(3, 1.0, trainer="alternating"),), loss=L2Loss(), progress=False)


def test_plots_draw_what_they_are_given(tmp_path):
    import matplotlib.image as mpimg
    from ritzhrta.outputs.plotting import plot_history, plot_solution

    pb = problems.get("approx1d")
    r = solve(pb, _net(), parse_schedule("0.5:5,1:5"), loss=L2Loss(), progress=False)
    a = mpimg.imread(plot_history(r.history, tmp_path / "a.png"))
    b = mpimg.imread(plot_solution(r.net, pb, tmp_path / "b.png"))
    assert a.shape[0] > 100 and b.shape[0] > 100 and a.std() > 0.01 and b.std() > 0.01
    r2 = solve(pb, _net(), parse_schedule("0.5:5,1:5"), loss=L2Loss(), lr=0.5, progress=False)
    c = mpimg.imread(plot_history(r2.history, tmp_path / "c.png"))
    assert a.shape != c.shape or abs(a - c).max() > 0


def test_loss_object_reaches_the_output_solve_unchanged(monkeypatch):
    import ritzhrta.training.steps as steps

    seen = []
    real = steps.fit_output_layer
    monkeypatch.setattr(steps, "fit_output_layer", lambda net, pb, pts, loss, **kw: (seen.append(loss),
                                                                                   real(net, pb, pts, loss, **kw)))
    loss = H1Loss()
    solve(problems.get("approx1d"), _net(k=2), (Stage(4, 1.0, refit_output_every=2),), loss=loss, progress=False)
    assert seen and all(x is loss for x in seen)


@pytest.mark.parametrize("name, width, fine", [("approx1d", 200, True), ("approx1d", 20, False),
                                               ("poisson2d-dirichlet", 300, True)])
def test_in_loop_refits_use_at_least_four_points_per_unknown(monkeypatch, name, width, fine):
    """approx1d trains on 100 points: a width-200 refit must move to a Gauss rule with ≥ 4·200
    points (a width-20 one keeps the training points); the 2D Ritz penalty gets boundary points."""
    import ritzhrta.training.steps as steps

    seen = []
    real = steps.fit_output_layer
    monkeypatch.setattr(steps, "fit_output_layer", lambda net, pb, pts, loss, boundary=None, **kw: (
        seen.append((pts.x.shape[0], boundary)), real(net, pb, pts, loss, boundary=boundary, **kw)))
    pb = problems.get(name)
    loss = L2Loss() if pb.dim == 1 else RitzLoss()
    torch.manual_seed(0)
    solve(pb, TwoLayerNet(pb.dim, width, k=2), (Stage(3, 1.0, refit_output_every=2),), loss=loss, progress=False)
    (count, boundary), = seen
    assert (count >= 4 * width) if fine else count == 100
    assert boundary is not None or pb.dim == 1


def test_public_api_is_small_and_shadows_no_module():
    names = [n for n in ritzhrta.__all__ if n != "__version__"]
    assert 15 <= len(names) <= 25
    for info in pkgutil.iter_modules(ritzhrta.__path__):
        assert info.name not in names, f"ritzhrta.{info.name} is both a module and an exported name"
    for name in names:
        assert getattr(ritzhrta, name) is not None


def test_no_module_imports_a_private_name_of_another():
    pattern = re.compile(r"from (\.+|ritzhrta)[\w.]* import [^\n]*\b_[a-z]\w*")
    offenders = [str(p) for p in (ROOT / "ritzhrta").rglob("*.py") if pattern.search(p.read_text())]
    offenders += [p.name for p in (ROOT / "problems").glob("*.py") if re.search(r"import _[a-z]", p.read_text())]
    assert offenders == []


def test_the_library_core_does_not_import_the_problems_package():
    """Only the CLI and the run folder (which names its problem) look problems up by name."""
    pattern = re.compile(r"^\s*(import problems|from problems)", re.M)
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "ritzhrta").rglob("*.py") if pattern.search(p.read_text())
                 and p.parent.name != "cli" and p.name != "config.py"]
    assert offenders == []
    assert not re.search(r"^import problems", (ROOT / "ritzhrta" / "outputs" / "config.py").read_text(), re.M)


def test_subpackages_re_export_what_their_modules_offer():
    for info in pkgutil.iter_modules(ritzhrta.__path__):
        if not info.ispkg:
            continue
        package = importlib.import_module(f"ritzhrta.{info.name}")
        for name in package.__all__:
            assert getattr(package, name) is not None, (info.name, name)


def test_importing_problems_loads_neither_the_solver_nor_plotting():
    code = ("import sys, problems; bad = [m for m in ('ritzhrta.training.solver', 'ritzhrta.training.loop', 'ritzhrta.outputs.plotting', "
            "'ritzhrta.outputs.io', 'matplotlib', 'meshio') if m in sys.modules]; print(bad); sys.exit(bool(bad))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_python_dash_m_ritzhrta_and_the_installed_console_script():
    proc = subprocess.run([sys.executable, "-m", "ritzhrta", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "solve" in proc.stdout
    script = Path(sys.executable).with_name("ritzhrta")
    if not script.exists():
        pytest.skip(f"no installed console script next to {sys.executable} (package not pip-installed)")
    proc = subprocess.run([str(script), "problems"], capture_output=True, text=True)
    assert proc.returncode == 0 and "poisson2d-lshape" in proc.stdout


def test_a_failure_inside_a_run_is_not_a_usage_error(tmp_path, capsys, monkeypatch):
    import ritzhrta.outputs.runs as runs
    from ritzhrta.cli.main import main

    def broken(*args, **kwargs):
        raise RuntimeError("simulated failure in a trainer")

    monkeypatch.setattr(runs, "solve", broken)
    code = main(["solve", "approx1d", "--schedule", "1:2", "--out", str(tmp_path / "r"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 4 and "simulated failure" in err and len(err.strip().splitlines()) == 1


def test_doctests_run_and_pass():
    attempted = 0
    for info in pkgutil.walk_packages(ritzhrta.__path__, "ritzhrta."):
        if info.name == "ritzhrta.__main__":
            continue
        module = importlib.import_module(info.name)
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0, info.name
        attempted += result.attempted
    assert attempted >= 5


def test_ritz_loss_refuses_bad_penalties():
    for bad in (-1, 0, float("nan"), float("inf"), True):
        with pytest.raises(ValueError, match="beta"):
            RitzLoss(beta=bad)


def test_thread_default_follows_the_measurement():
    from ritzhrta.training.threads import BREAK_EVEN, default_threads

    assert default_threads(100, 1024, cores=2, load=0.0) == 1          # small: a second thread gained nothing
    assert default_threads(1000, 1024, cores=2, load=0.2) == 1         # the default runs: busy ≤ 1.5x idle
    assert default_threads(1000, 4096, cores=2, load=0.2) == 2         # large and idle: 1.75x faster
    assert default_threads(1000, 4096, cores=2, load=1.5) == 1         # one core busy: 2 threads lost 1.3x
    assert default_threads(10 ** 6, 10 ** 6, cores=1, load=0.0) == 1
    assert 1000 * 1024 < BREAK_EVEN <= 1000 * 4096


def test_summary_records_threads_and_load(tmp_path, capsys):
    import json

    from ritzhrta.cli.main import main

    assert main(["solve", "approx1d", "--schedule", "1:2", "--width", "8", "--k", "1", "--loss", "l2",
                 "--threads", "1", "--out", str(tmp_path / "r"), "--no-progress"]) == 0
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert summary["threads"] == 1 and config["threads"] == 1 and summary["load_average_at_start"] is not None
    assert "on 1 thread(s)" in capsys.readouterr().out


@pytest.mark.skipif((__import__("os").cpu_count() or 1) < 2, reason="one core: no other core to be busy")
def test_busy_machine_hint(tmp_path, capsys, monkeypatch):
    import ritzhrta.outputs.runs as runs
    from ritzhrta.cli.main import main

    monkeypatch.setattr(runs, "machine_load", lambda: 7.5)
    args = ["solve", "approx1d", "--schedule", "1:2", "--width", "8", "--k", "1", "--loss", "l2"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    assert "machine is busy (load 7.5" in err and "1 thread" in err
    assert main([*args, "--threads", "2", "--out", str(tmp_path / "b")]) == 0
    assert "consider --threads 1" in capsys.readouterr().err
    assert main([*args, "--no-progress", "--out", str(tmp_path / "c")]) == 0  # no progress display: no hint
    assert "busy" not in capsys.readouterr().err


def test_every_seam_of_the_mutation_check_is_in_the_source():
    """tools/mutation_check.py breaks each seam in a copy of the tree; a seam whose text left the
    source would silently check nothing (issue 22: the list had rotted at its 8th entry)."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import mutation_check
    finally:
        sys.path.pop(0)
    missing = [(path, old[:60]) for path, old, _, _ in mutation_check.SEAMS if old not in (ROOT / path).read_text()]
    assert missing == [] and len(mutation_check.SEAMS) >= 60


def test_the_api_reference_builds_without_warnings(tmp_path):
    """`make docs`: Sphinx autodoc over the library, warnings as errors (issue 22)."""
    pytest.importorskip("sphinx")
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going",
                           str(ROOT / "docs"), str(tmp_path / "html")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    page = (tmp_path / "html" / "api.html").read_text()
    assert "gauss_newton_fit" in page and "ResidualLoss" in page and "two_draw_estimate" in page


def test_every_slow_test_named_in_conftest_exists():
    """The slow tier is a list of node ids (tests/conftest.py): a renamed test must not drop out of it."""
    from conftest import SLOW

    for nodeid in SLOW:
        path, name = nodeid.split("::")
        assert f"def {name}(" in (ROOT / path).read_text(), nodeid


def test_a_new_trainer_is_one_file_and_one_registry_line(monkeypatch, tmp_path):
    """Issue 22: tests/toy_trainer.py plus the registry line below; the loop, the solver, the
    schedule, the routes and the CLI need no edit."""
    from ritzhrta import L2Loss, Stage, TwoLayerNet, solve, trainers
    from ritzhrta.cli.main import main

    monkeypatch.setitem(trainers.REGISTRY, "toy", "toy_trainer")  # the one registry line
    torch.manual_seed(0)
    result = solve(problems.get("approx1d"), TwoLayerNet(1, 5, k=1), (Stage(4, 1.0, trainer="toy"),), loss=L2Loss(),
                   progress=False)
    assert [st.steps for st in result.stages] == [4] and len(set(result.history.loss)) == 1
    out = tmp_path / "toy"
    assert main(["solve", "approx1d", "--trainer", "toy", "--out", str(out), "--no-progress", "--tol", "10"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert (config["trainer"], config["width"], config["schedule"]) == ("toy", 6, "1:3")
    with pytest.raises(ValueError, match="unknown trainer 'nothing'"):
        trainers.get("nothing")


def test_a_new_domain_is_one_file_and_one_registry_line(monkeypatch, tmp_path):
    """Issue 22: tests/toy_domain.py (an ellipse) plus the registry line below: the default route,
    exact imposition, the FEM reference, plots and VTK reach it through the Domain hooks alone."""
    import meshio

    import toy_domain
    from ritzhrta import ExactDirichlet, RitzLoss, Stage, TwoLayerNet, solve
    from ritzhrta.cli.main import main

    monkeypatch.setitem(problems.REGISTRY, "toy-ellipse", toy_domain.problem)  # the one registry line
    problem = problems.get("toy-ellipse")
    quad = problem.domain.quadrature(6, 4, dtype=torch.float64)
    assert abs(float(quad.w.sum()) - problem.domain.measure) < 1e-12
    result = solve(problem, progress=False)  # the default route: the residual on Gaussian features
    assert result.errors["h1"] < 1e-6, result.errors
    torch.manual_seed(0)  # exact imposition through distance_factor and boundary_lift
    net = ExactDirichlet(TwoLayerNet(2, 200, k=5).double(), problem)
    xb = problem.domain.boundary(64, "sobol", dtype=torch.float64).x
    assert float((net(xb) - problem.u_exact(xb)).abs().max().detach()) < 1e-12
    exact = solve(problem, net, (Stage(1, 1.0, trainer="galerkin"),), loss=RitzLoss(dirichlet="exact"),
                  progress=False, estimate=False)
    assert exact.errors["h1"] < 1e-2, exact.errors
    out = tmp_path / "e"  # the FEM reference (fem_mesh, fem_snap), plots and VTK (plot_mesh)
    assert main(["solve", "toy-ellipse", "--reference", "fem", "--reference-tol", "0.05", "--out", str(out),
                 "--no-progress", "--resolution", "20"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["errors"]["h1"] < 1e-6 and summary["errors_vs_reference"]["h1"] < 0.05, summary["reference"]
    assert 0 < summary["reference"]["estimated_rel_energy_error"] < 0.05  # from energies that drop
    assert len(meshio.read(out / "solution.vtu").points) > 100 and (out / "solution.png").exists()


def test_the_readme_lists_exactly_the_top_level_exports():
    text = (ROOT / "README.md").read_text()
    match = re.search(r"`ritzhrta` exports (\d+) names: `([^`]+)`", text)
    names = match.group(2).split()
    assert sorted(names) == sorted(n for n in ritzhrta.__all__ if n != "__version__") and int(match.group(1)) == len(names)


def test_run_options_are_declared_once():
    """Issue 22: the parser, the reading of the options, config.json and the checks follow from
    RunConfig's fields; every field with a flag is on the command line with its choices."""
    import dataclasses

    from ritzhrta.cli.main import build_parser
    from ritzhrta.outputs.config import RunConfig, given_options, run_options

    solve_parser = build_parser()._subparsers._group_actions[0].choices["solve"]
    actions = {a.dest: a for a in solve_parser._actions}
    for f in run_options():
        assert f.name in actions, f.name
        choices = f.metadata["choices"]
        if choices is not None:
            assert list(actions[f.name].choices) == list(choices() if callable(choices) else choices), f.name
    names = {f.name for f in dataclasses.fields(RunConfig)}
    assert names - {f.name for f in run_options()} == {"problem", "schedule", "out"}
    args = solve_parser.parse_args(["x", "--quadrature", "6:12", "--width", "7", "--standard-scaling"])
    assert given_options(args) == {"quadrature": [6, 12], "width": 7, "ntk_scaling": False}
    for key, bad in (("width", 0), ("optimizer", "adamw"), ("sampling", "lattice"), ("lr", "x")):
        with pytest.raises(ValueError, match=key):
            RunConfig(problem="p", **{key: bad})


def test_the_readme_is_short():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 150


def test_every_test_named_in_reliability_md_exists():
    text = (ROOT / "docs" / "RELIABILITY.md").read_text()
    missing, current = [], None
    for file, name in re.findall(r"`(?:(test_\w+\.py))?::(test_\w+)`", text):
        current = file or current
        source = (ROOT / "tests" / current).read_text()
        if f"def {name}" not in source:
            missing.append(f"{current}::{name}")
    assert missing == []
