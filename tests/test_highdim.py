"""Above 3D (issue 26): the registered poisson-nd family, the residual route on Sobol points, the
estimate, and outputs that refuse in one line instead of allocating resolution^d points."""
import json
import math

import pytest
import torch

import problems
from ritzhrta import Stage, solve
from ritzhrta.cli.main import main
from ritzhrta.nets.features import RandomFeatureNet
from ritzhrta.outputs.io import write_vtk
from ritzhrta.forms.residual import ResidualLoss


@pytest.mark.parametrize("name, dim", [("poisson-nd", 5), ("gaussian-nd", 4), ("poisson10d", 10)])
def test_sources_are_minus_the_laplacian(name, dim):
    problem = problems.get(name, dim=dim) if name.endswith("-nd") else problems.get(name)
    assert problem.dim == dim
    x = torch.rand(20, dim, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(problem.u_exact(x).sum(), x, create_graph=True)
    lap = sum(torch.autograd.grad(g[:, j].sum(), x, retain_graph=True)[0][:, j] for j in range(dim))
    assert torch.allclose(-lap, problem.f(x), atol=1e-10) and torch.allclose(g, problem.grad_exact(x), atol=1e-12)


def test_the_default_route_in_five_dimensions(tmp_path):
    """d = 5 from the CLI with nothing but the name: the high-dimensional route picks ANOVA-1 for the
    additive poisson-nd (round-off), reports its estimate and candidates; no VTK or figure of the
    field, one line; --width belongs to --features ridge (the full-dimensional control)."""
    out = tmp_path / "nd"
    assert main(["solve", "poisson-nd", "--out", str(out), "--no-progress", "--threads", "1"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["trainer"] == "highdim" and summary["estimate"]["family"] == "anova1"
    assert summary["errors"]["l2"] < 1e-10 and summary["estimate"]["h1"] < 1e-9
    assert [c["family"] for c in summary["estimate"]["candidates"]] == ["anova1"]
    assert "outputs_not_written" in summary and not (out / "solution.vtu").exists()
    assert main(["export", str(out), "--vtk", str(tmp_path / "x.vtu")]) == 2
    assert main(["solve", "poisson-nd", "--width", "400", "--out", str(tmp_path / "w"), "--no-progress"]) == 2
    assert not (tmp_path / "w").exists()
    ridge = tmp_path / "ridge"
    assert main(["solve", "poisson-nd", "--features", "ridge", "--width", "200", "--out", str(ridge),
                 "--no-progress", "--threads", "1"]) == 0
    summary = json.loads((ridge / "summary.json").read_text())
    assert summary["estimate"]["family"] == "ridge" and summary["errors"]["l2"] < 1e-2
    assert 1 / 3 < summary["estimate"]["h1"] / summary["errors"]["h1"] < 3


def test_vtk_above_3d_is_refused_in_one_line():
    problem = problems.get("poisson-nd", dim=5)
    torch.manual_seed(0)
    net = RandomFeatureNet(problem.domain, 10).double()
    with pytest.raises(ValueError, match="1D-3D domains; this one is 5D"):
        write_vtk("x.vtu", net, problem=problem, resolution=101)


def test_bad_dimension_is_refused():
    with pytest.raises(ValueError, match="dim must be an integer"):
        problems.get("poisson-nd", dim=0)
