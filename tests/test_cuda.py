"""The solver, the least-squares solve and the export on CUDA (skipped without a GPU)."""
import pytest
import torch

import problems
from ritzhrta import H1Loss, RitzLoss, TwoLayerNet, parse_schedule, solve
from ritzhrta.training.lstsq import fit_output_layer

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")


def _pair(width=64):
    torch.manual_seed(0)
    cpu = TwoLayerNet(2, width, k=3, s=0.5).double()
    gpu = TwoLayerNet(2, width, k=3, s=0.5).double().cuda()
    gpu.load_state_dict(cpu.state_dict())
    return cpu, gpu


def test_solve_on_cuda_matches_cpu():
    pb = problems.get("poisson2d-neumann")
    cpu, gpu = _pair()
    a = solve(pb, cpu, parse_schedule("0.5:20,1:20"), loss=H1Loss(), points=256, progress=False)
    b = solve(pb, gpu, parse_schedule("0.5:20,1:20"), loss=H1Loss(), points=256, progress=False)
    assert next(b.net.parameters()).is_cuda
    assert b.history.loss == pytest.approx(a.history.loss, rel=1e-6)
    assert b.errors["h1"] == pytest.approx(a.errors["h1"], rel=1e-6)


def test_output_solve_on_cuda_matches_cpu():
    pb = problems.get("screened-poisson2d")
    cpu, gpu = _pair(200)
    pts = pb.domain.interior(1024, dtype=torch.float64)
    fit_output_layer(cpu, pb, pts, RitzLoss())
    fit_output_layer(gpu, pb, pts.to("cuda"), RitzLoss())
    assert torch.allclose(gpu.a.cpu(), cpu.a, rtol=1e-6, atol=1e-8)


def test_export_from_cuda(tmp_path):
    import meshio

    from ritzhrta.outputs.io import write_vtk

    pb = problems.get("poisson2d-neumann")
    _, gpu = _pair()
    path = write_vtk(tmp_path / "u.vtu", gpu, problem=pb, resolution=20)
    assert meshio.read(path).point_data["u"].shape[0] > 0
