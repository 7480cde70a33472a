import meshio
import numpy as np
import pytest
import torch

import problems
from ritzhrta import Box, Disk, Interval, LShape, TwoLayerNet
from ritzhrta.outputs.io import load_checkpoint, read_vtk, save_checkpoint, write_vtk
from ritzhrta.geometry.meshing import mesh


def _values(net, points):
    x = torch.as_tensor(points[:, :net.dim], dtype=torch.float64)
    u, g = net.value_and_grad(x)
    return u.detach().numpy(), g.detach().numpy()


@pytest.mark.parametrize("name", ["poisson2d-neumann", "poisson2d-lshape", "approx1d", "approx3d"])
def test_vtu_round_trip(name, tmp_path):
    pb = problems.get(name)
    net = TwoLayerNet(pb.dim, 30, k=2, s=0.5).double()
    path = write_vtk(tmp_path / "sol.vtu", net, problem=pb, resolution=12)
    m = read_vtk(path)
    assert m.points.shape[1] == 3
    u, g = _values(net, m.points)
    assert np.allclose(m.point_data["u"], u, rtol=1e-10, atol=1e-12)
    assert np.allclose(m.point_data["grad_u"][:, :pb.dim], g, rtol=1e-10, atol=1e-12)
    exact = pb.u_exact(torch.as_tensor(m.points[:, :pb.dim])).numpy()
    assert np.allclose(m.point_data["u_exact"], exact)
    assert np.allclose(m.point_data["error"], np.abs(u - exact))
    # no cell outside the domain: every cell centroid is inside
    cells = m.cells[0].data
    centroids = m.points[cells].mean(1)[:, :pb.dim]
    assert pb.domain.contains(centroids).all()


def test_lshape_mesh_has_no_cell_in_the_notch_and_covers_the_area():
    m = mesh(LShape(), 30)
    p = m.points[m.cells]
    area = 0.5 * np.abs((p[:, 1, 0] - p[:, 0, 0]) * (p[:, 2, 1] - p[:, 0, 1])
                        - (p[:, 2, 0] - p[:, 0, 0]) * (p[:, 1, 1] - p[:, 0, 1]))
    assert area.sum() == pytest.approx(3.0, rel=1e-9)
    centroids = p.mean(1)
    assert not np.any((centroids[:, 0] > 0) & (centroids[:, 1] < 0))


def test_disk_mesh_and_xdmf(tmp_path):
    net = TwoLayerNet(2, 10).double()
    path = write_vtk(tmp_path / "disk.xdmf", net, domain=Disk((0, 0), 1.0), resolution=20)
    m = meshio.read(path)
    assert set(m.point_data) == {"u", "grad_u"}
    assert np.allclose(m.point_data["u"], _values(net, m.points)[0])
    assert np.all(np.linalg.norm(m.points[:, :2], axis=1) <= 1 + 1e-9)


def test_mesh_kinds():
    assert mesh(Interval(0, 1), 10).cell_type == "line"
    assert mesh(Box([0] * 3, [1] * 3), 4).cells.shape == (64, 8)
    with pytest.raises(ValueError):
        mesh(Box([0] * 2, [1] * 2), 1)


def test_write_vtk_validates(tmp_path):
    net = TwoLayerNet(2, 4)
    with pytest.raises(ValueError, match=".vtu or .xdmf"):
        write_vtk(tmp_path / "x.txt", net, domain=Box([0, 0], [1, 1]))
    with pytest.raises(ValueError, match="domain or a problem"):
        write_vtk(tmp_path / "x.vtu", net)


def test_checkpoint_round_trip_and_corruption(tmp_path):
    state = {"net": TwoLayerNet(2, 4).state_dict(), "stage": 1, "history": {"loss": [1.0, 0.5]}}
    save_checkpoint(tmp_path / "c.pt", state)
    back = load_checkpoint(tmp_path / "c.pt")
    assert back["stage"] == 1 and torch.equal(back["net"]["a"], state["net"]["a"])
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temporary left behind
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot read checkpoint"):
        load_checkpoint(tmp_path / "bad.pt")
