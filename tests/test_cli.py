import csv
import json
from pathlib import Path
import subprocess
import sys

import pytest
import torch

from ritzhrta.cli.main import main


def run(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_problems_lists_the_registry(capsys):
    code, out, _ = run(["problems"], capsys)
    assert code == 0 and "poisson2d-neumann" in out and "approx3d" in out


def test_solve_writes_the_run_folder(tmp_path, capsys):
    out_dir = tmp_path / "run"
    code, out, _ = run(["solve", "approx1d", "--loss", "l2", "--schedule", "0.5:40,1:60", "--width", "50",
                        "--k", "1", "--lr", "1e-2", "--out", str(out_dir), "--no-progress"], capsys)
    assert code == 0 and "relative errors" in out
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["steps"] == 100
    assert [st["s_start"] for st in summary["stages"]] == [0.5, 1.0]
    assert summary["errors"]["l2"] < summary["initial_errors"]["l2"]
    assert summary["config"]["width"] == 50 and summary["schedule"] == "0.5:40,1:60"
    rows = list(csv.DictReader((out_dir / "history.csv").open()))
    assert len(rows) == 100 and rows[0]["s"] == "0.5" and rows[-1]["stage"] == "1"
    config = json.loads((out_dir / "config.json").read_text())
    assert config["problem"] == "approx1d" and config["lr"] == 1e-2
    for name in ("loss.png", "solution.png", "solution.vtu", "checkpoint.pt"):
        assert (out_dir / name).stat().st_size > 0


def test_run_folder_is_not_overwritten_without_force(tmp_path, capsys):
    args = ["solve", "approx1d", "--loss", "l2", "--preset", "baseline", "--steps", "5", "--width", "8",
            "--k", "1", "--out", str(tmp_path / "r"), "--no-progress"]
    assert run(args, capsys)[0] == 0
    code, _, err = run(args, capsys)
    assert code == 2 and "--force" in err
    assert run(args + ["--force"], capsys)[0] == 0


def test_depth_float64_and_preset(tmp_path, capsys):
    code, out, _ = run(["solve", "poisson2d-neumann", "--trainer", "adam", "--preset", "relaxation", "--steps", "8", "--depth", "2",
                        "--width", "16", "--dtype", "float64", "--points", "64", "--out", str(tmp_path / "d"),
                        "--no-progress"], capsys)
    assert code == 0
    summary = json.loads((tmp_path / "d" / "summary.json").read_text())
    assert "MLP" in summary["network"] and summary["schedule"] == "1:2,1.5:6"
    from ritzhrta.outputs.io import load_checkpoint
    state = load_checkpoint(tmp_path / "d" / "checkpoint.pt")
    assert all(v.dtype == torch.float64 for k, v in state["net"].items() if v.is_floating_point())


@pytest.mark.parametrize("args, message", [
    (["solve", "nope"], "unknown problem"),
    (["solve", "approx1d", "--schedule", "3:100"], "s must lie in"),
    (["solve", "approx1d", "--schedule", "0.5"], "cannot read schedule"),
    (["solve", "approx1d", "--k", "0"], "k must be"),
    (["solve", "approx1d", "--width", "0"], "width"),
    (["solve", "approx1d", "--loss", "ritz"], "Ritz"),
    (["solve", "approx1d", "--device", "tpu"], "device"),
    (["solve", "approx1d", "--device", "cuda:7"], "cuda"),
    (["solve", "approx1d", "--schedule", "1:5", "--steps", "10"], "--steps"),
    (["solve", "approx1d", "--plateau", "abc"], "WINDOW:TOL"),
    (["solve"], "problem name"),
    (["solve", "--resume", "/nonexistent/run"], "not a run folder"),
    (["export", "/nonexistent/run", "--vtk", "x.vtu"], "not a run folder"),
    (["solve", "approx1d", "--loss", "h3"], "invalid choice"),
    (["solve", "approx1d", "--width", "ten"], "invalid int"),
    (["bogus"], "invalid choice"),
])
def test_bad_arguments_one_line_exit_2(args, message, tmp_path, capsys):
    extra = ["--out", str(tmp_path / "x")] if args[:1] == ["solve"] and "--resume" not in args else []
    code, _, err = run(args + extra, capsys)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1


def test_console_script_entry_point(tmp_path):
    script = Path(sys.executable).with_name("ritzhrta")
    if not script.exists():
        pytest.skip("the package is not pip-installed here (no ritzhrta console script)")
    proc = subprocess.run([str(script), "solve", "approx1d", "--schedule", "1:3", "--width", "8", "--k", "1",
                           "--loss", "l2", "--out", str(tmp_path / "r"), "--no-progress"], capture_output=True, text=True)
    assert proc.returncode == 0 and (tmp_path / "r" / "summary.json").exists(), proc.stderr


def test_export_and_plot_from_a_run_folder(tmp_path, capsys):
    import meshio

    out_dir = tmp_path / "run"
    assert run(["solve", "poisson2d-neumann", "--trainer", "adam", "--schedule", "0.5:5,1:5", "--width", "20",
                "--points", "64", "--resolution", "20", "--out", str(out_dir), "--no-progress"], capsys)[0] == 0
    code, out, _ = run(["export", str(out_dir), "--vtk", str(tmp_path / "fine.vtu"), "--resolution", "50"], capsys)
    assert code == 0
    m = meshio.read(tmp_path / "fine.vtu")
    assert len(m.points) == 51 * 51 and set(m.point_data) == {"u", "grad_u", "u_exact", "error"}
    code, _, _ = run(["solve", "approx1d", "--loss", "l2", "--k", "1", "--width", "10", "--schedule", "0.5:6,1:6",
                      "--eval-every", "4", "--out", str(tmp_path / "ev"), "--no-progress", "--resolution", "10"], capsys)
    header = (tmp_path / "ev" / "history.csv").read_text().splitlines()[0]
    assert code == 0 and "rel_l2" in header and "rel_h1" in header
    code, _, _ = run(["plot", str(out_dir), "--out", str(tmp_path / "figs"), "--format", "pdf"], capsys)
    assert code == 0 and (tmp_path / "figs" / "loss.pdf").exists() and (tmp_path / "figs" / "solution.pdf").exists()


def test_default_route_for_pde_problems_is_the_galerkin_solve(tmp_path, capsys):
    """No --trainer on a 2D PDE problem on a box: one float64 least-squares solve of the
    strong-form residual on Gaussian features, with the two-draw estimate (issue 23); --loss ritz
    keeps the Ritz route on σ^5 features with the Dirichlet data built in (issue 11)."""
    out_dir = tmp_path / "g"
    code, out, _ = run(["solve", "poisson2d-dirichlet", "--width", "200", "--resolution", "10",
                        "--out", str(out_dir), "--no-progress"], capsys)
    assert code == 0 and "estimated relative H1 error" in out
    summary = json.loads((out_dir / "summary.json").read_text())
    config = summary["config"]
    assert (config["trainer"], config["loss"], config["features"], config["dtype"]) == \
        ("galerkin", "residual", "gauss", "float64")
    assert summary["steps"] == 1 and summary["errors"]["h1"] < 1e-5
    est = summary["estimate"]
    assert est["method"] == "two-draw" and est["resolved"] and est["h1"] < 1e-5
    assert 1 / 3 < est["h1"] / summary["errors"]["h1"] < 3
    import meshio

    vtu = meshio.read(out_dir / "solution.vtu").point_data  # the local indicator beside the true error
    assert 0 < vtu["error_estimate"].max() < 10 * vtu["error"].max() and vtu["error"].max() < 10 * vtu["error_estimate"].max()
    out_dir = tmp_path / "r"
    code, out, _ = run(["solve", "poisson2d-dirichlet", "--loss", "ritz", "--width", "100", "--resolution", "10",
                        "--out", str(out_dir), "--no-progress"], capsys)
    config = json.loads((out_dir / "summary.json").read_text())["config"]
    assert code == 0 and (config["loss"], config["k"], config["dirichlet"], config["features"]) == \
        ("ritz", 5, "exact", "sigma")
    assert "distance to a residual-route reference" in out  # σ networks are measured against the reference


def test_gradient_options_with_the_galerkin_default_are_refused(tmp_path, capsys):
    for extra in (["--steps", "10"], ["--lr", "0.01"], ["--lr", "0.001"], ["--optimizer", "adam"],
                  ["--schedule", "0.5:5,1:5"], ["--preset", "baseline"]):
        code, _, err = run(["solve", "poisson2d-neumann", *extra, "--out", str(tmp_path / "x"), "--no-progress"],
                           capsys)
        assert code == 2 and "--trainer adam" in err, (extra, err)
    assert not (tmp_path / "x").exists()


def test_trainer_adam_keeps_the_papers_defaults(tmp_path, capsys):
    out_dir = tmp_path / "a"
    code, _, _ = run(["solve", "poisson2d-dirichlet", "--trainer", "adam", "--steps", "4", "--width", "20",
                      "--resolution", "10", "--out", str(out_dir), "--no-progress"], capsys)
    assert code == 0
    config = json.loads((out_dir / "config.json").read_text())
    assert (config["trainer"], config["optimizer"], config["loss"], config["k"], config["dtype"],
            config["dirichlet"]) == ("gradient", "adam", "h1", 3, "float32", "penalty")
    code, _, err = run(["solve", "poisson2d-dirichlet", "--trainer", "adam", "--optimizer", "sgd", "--out",
                        str(tmp_path / "b"), "--no-progress"], capsys)
    assert code == 2 and "disagree" in err


def test_init_kinks_from_the_cli_and_its_refusal(tmp_path, capsys):
    out_dir = tmp_path / "k"
    code, _, _ = run(["solve", "screened-poisson2d", "--width", "60", "--init", "kinks", "--quadrature", "4:6",
                      "--resolution", "10", "--out", str(out_dir), "--no-progress"], capsys)
    assert code == 0 and json.loads((out_dir / "config.json").read_text())["init"] == "kinks"
    code, _, err = run(["solve", "screened-poisson2d", "--trainer", "adam", "--depth", "2", "--init", "kinks",
                        "--out", str(tmp_path / "x"), "--no-progress"], capsys)
    assert code == 2 and "depth 1" in err and not (tmp_path / "x").exists()
