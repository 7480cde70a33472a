"""Adaptive local features (ritzhrta.training.adaptive, ritzhrta.nets.local; issue 24)."""
import math

import numpy as np
import pytest
import torch

import problems
from ritzhrta import Box
from ritzhrta.nets.local import LocalFeatureNet
from ritzhrta.training.adaptive import adaptive_solve


def test_local_features_derivatives_match_autograd():
    torch.manual_seed(0)
    net = LocalFeatureNet(Box([0, 0], [1, 1]), [((0.0, 0.0), 0.5), ((0.5, 0.5), 0.25)], per_patch=5)
    net.set_output(torch.randn(net.width, dtype=torch.float64))
    x = torch.rand(7, 2, dtype=torch.float64, requires_grad=True)
    u, g = net.value_and_grad(x)
    (auto,) = torch.autograd.grad(net(x).sum(), x, create_graph=True)
    assert torch.allclose(g, auto)
    lap = sum(torch.autograd.grad(auto[:, i].sum(), x, retain_graph=True)[0][:, i] for i in range(2))
    assert torch.allclose(net.output_laplacian(x) @ net.a, lap)
    other = net.redraw()
    assert other.patches == net.patches and not torch.equal(other.centres, net.centres)
    assert set(net.patch_level(np.array([[0.1, 0.1], [0.6, 0.6], [0.9, 0.1]]), 1.0)) == {1, 2, -1}


def test_refinement_follows_the_estimate_to_a_peak_it_was_not_told_about():
    """A peak at (0.3, 0.7): the smallest patches end up around it, nothing far from it is refined."""
    problem = problems.get("peak", centre=(0.3, 0.7))
    result = adaptive_solve(problem, tol=1e-6, max_dofs=1200)
    net = result.net
    finest = min(h for _, h in net.patches)
    centres = [lo + h / 2 for lo, h in net.patches if h == finest]
    assert finest <= 0.25 / 4 and len(result.history) >= 3
    assert all(np.linalg.norm(c - np.array([0.3, 0.7])) < 0.2 for c in centres), centres
    far = [h for lo, h in net.patches if np.linalg.norm(lo + h / 2 - np.array([0.3, 0.7])) > 0.45]
    assert far and min(far) >= 0.125  # away from the peak: refined once at most (the first levels see little)
    assert [e["unknowns"] for e in result.history] == sorted(e["unknowns"] for e in result.history)


def test_the_peak_to_1e_3_and_the_estimate_tracks_the_error():
    result = adaptive_solve(problems.get("peak"), tol=1e-3)
    assert result.resolved and result.errors["h1"] < 2e-3, result.history
    assert 1 / 3 < result.estimate / result.errors["h1"] < 3


@pytest.mark.parametrize("kwargs, match", [
    (dict(tol=0), "tol must be"), (dict(tol=float("nan")), "tol must be"), (dict(tol="1e-3"), "tol must be"),
    (dict(max_dofs=10), "too small to start"), (dict(max_dofs=0), "max_dofs must be"),
    (dict(theta=0), "theta must be"),
])
def test_bad_input_is_refused_in_one_line(kwargs, match):
    with pytest.raises(ValueError, match=match):
        adaptive_solve(problems.get("peak"), **kwargs)


def test_what_adaptive_features_refuse():
    with pytest.raises(ValueError, match="2D and 3D"):
        adaptive_solve(problems.get("poisson-nd", dim=4))
    with pytest.raises(ValueError, match="PDE Problem"):
        adaptive_solve(problems.get("approx1d"))
    with pytest.raises(ValueError, match="at least one patch"):
        LocalFeatureNet(Box([0, 0], [1, 1]), [])


def test_the_cli_adaptive_route_writes_levels_and_the_patch_level(tmp_path, capsys):
    import json

    import meshio

    from ritzhrta.cli.main import main

    out = tmp_path / "r"
    assert main(["solve", "peak", "--adaptive", "--tol", "0.5", "--max-dofs", "700", "--resolution", "30",
                 "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["route"] == "adaptive" and summary["levels"][0]["unknowns"] == 256 and "adaptive:" in printed
    assert (out / "history.csv").read_text().startswith("level,patches,unknowns,estimate")
    levels = meshio.read(out / "solution.vtu").point_data["patch_level"]
    assert levels.min() >= 0 and (levels.max() > 0) == (len(summary["levels"]) > 1)


@pytest.mark.parametrize("argv, message", [
    (["--adaptive", "--tol", "0"], "tol must be"), (["--adaptive", "--tol", "abc"], "invalid float"),
    (["--adaptive", "--max-dofs", "10"], "too small to start"), (["--max-dofs", "100"], "needs adaptive"),
])
def test_the_cli_refuses_bad_adaptive_input(argv, message, tmp_path, capsys):
    from ritzhrta.cli.main import main

    assert main(["solve", "peak", *argv, "--out", str(tmp_path / "r"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and not (tmp_path / "r").exists()


def test_a_global_layer_under_the_local_features():
    """base_width > 0: a smooth problem is resolved by the global layer at level 0; on the peak the
    leaves first get features where marked (not all of them), then split."""
    smooth = adaptive_solve(problems.get("poisson2d-dirichlet"), tol=1e-4, base_width=200)
    assert len(smooth.history) == 1 and smooth.resolved and smooth.errors["h1"] < 1e-4
    peak = adaptive_solve(problems.get("peak"), tol=1e-9, max_dofs=500, base_width=100)
    active = [e["patches"] for e in peak.history]
    assert active[0] == 0 and 0 < active[1] < 16, active
    assert peak.history[1]["unknowns"] == peak.history[0]["unknowns"] + 16 * active[1]


def test_an_interrupted_adaptive_run_says_so_and_resume_starts_it_again(tmp_path, capsys, monkeypatch):
    import json

    from ritzhrta.cli.main import main
    from ritzhrta.training import adaptive

    argv = ["solve", "peak", "--adaptive", "--tol", "0.5", "--max-dofs", "700", "--resolution", "20", "--no-progress"]
    assert main(argv + ["--out", str(tmp_path / "whole")]) == 0
    real, calls = adaptive._fit, []

    def interrupted(*args):
        calls.append(1)
        if len(calls) == 3:  # inside the second level
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(adaptive, "_fit", interrupted)
    out = tmp_path / "part"
    assert main(argv + ["--out", str(out)]) == 130
    assert "starts it again from level 0" in capsys.readouterr().err
    assert json.loads((out / "summary.json").read_text())["status"] == "interrupted"
    monkeypatch.setattr(adaptive, "_fit", real)
    assert main(["solve", "--resume", str(out), "--no-progress"]) == 0
    whole, part = (json.loads((tmp_path / d / "summary.json").read_text()) for d in ("whole", "part"))
    assert part["status"] == "finished" and part["levels"][-1]["estimate"] == whole["levels"][-1]["estimate"]
    assert part["errors"] == whole["errors"]
