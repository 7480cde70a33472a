"""Issue 14: mesh-file domains, boundary tags, 3D, variable coefficients, the FEM reference."""
import json
import math
import sys
from pathlib import Path

import meshio
import numpy as np
import pytest
import torch

import problems
from ritzhrta import ExactDirichlet, MeshDomain, Problem, RitzLoss, Stage, TwoLayerNet, solve
from ritzhrta.nets.interface import InterfaceNet
from ritzhrta.geometry.mesh_domain import MeshError
from ritzhrta.cli.main import main
from ritzhrta.nets.derivatives import autograd_value_and_grad
from ritzhrta.geometry.quadrature import simplex_rule, subdivide_simplices, triangle_rule

MESHES = Path(problems.__file__).resolve().parent / "meshes"
skfem = pytest.importorskip("skfem")
from ritzhrta.reference.fem import fem_reference, reference_errors  # noqa: E402

GALERKIN = (Stage(1, 1.0, trainer="galerkin"),)


# --- quadrature on simplices ---------------------------------------------------------------
def test_simplex_rule_matches_the_triangle_rule_and_integrates_monomials():
    tris = np.array([[[0, 0], [1, 0], [0, 1]], [[1, 1], [3, 1], [1, 2]]], float)
    x, w = simplex_rule(tris, 4)
    x2, w2 = triangle_rule(tris, 4)
    assert np.allclose(x, x2) and np.allclose(w, w2)
    tet = np.array([[[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]], float)
    for cells in (1, 2, 3):
        x, w = simplex_rule(tet, 4, cells)
        assert w.sum() == pytest.approx(1 / 6, rel=1e-12)
        assert (w * x[:, 0] * x[:, 1] * x[:, 2]).sum() == pytest.approx(1 / 720, rel=1e-12)  # ∫xyz = 1!1!1!3!/6!·(1/6)·…
        assert (w * x[:, 0] ** 4).sum() == pytest.approx(24 / 5040, rel=1e-12)  # ∫x⁴ = 4!·3!/7!·|T|·3!
    assert len(subdivide_simplices(tet, 3)) == 27
    sub = subdivide_simplices(tris[:1], 4)
    assert len(sub) == 16 and simplex_rule(sub, 2)[1].sum() == pytest.approx(0.5)


# --- MeshDomain ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def plate():
    return MeshDomain(MESHES / "plate_hole.msh")


@pytest.fixture(scope="module")
def part():
    return MeshDomain(MESHES / "part3d.msh")


def test_plate_geometry_tags_and_normals(plate):
    assert plate.dim == 2 and plate.tags == ["outer", "hole"]
    hole_area = 0.5 * 79 * 0.25 ** 2 * math.sin(2 * math.pi / 79)  # the 79-gon gmsh wrote (80 nodes, one twice)
    assert plate.measure == pytest.approx(2 - hole_area, rel=1e-9)
    b = plate.boundary_quadrature(3, 1, dtype=torch.float64)
    # divergence theorem: ∫_Ω div x = 2|Ω| = ∫_∂Ω x·n
    assert float((b.w * (b.x * b.normals).sum(1)).sum()) == pytest.approx(2 * plate.measure, rel=1e-12)
    tags = plate.tag_index(b.x)
    outer = float(b.w[torch.from_numpy(tags == 0)].sum())
    assert outer == pytest.approx(6.0, rel=1e-12)  # the rectangle's perimeter
    inside = plate.interior(500, "sobol", dtype=torch.float64)
    assert bool(plate.contains(inside.x).all()) and float(inside.w.sum()) == pytest.approx(plate.measure)
    assert not plate.contains(np.array([[1.0, 0.5], [2.5, 0.5]])).any()  # the hole's centre, outside


def test_part3d_geometry(part):
    assert part.dim == 3 and part.tags == ["base", "rest"]
    q = part.quadrature(*part.default_rule())
    assert float(q.w.sum()) == pytest.approx(part.measure, rel=1e-6) and len(q) <= 100_000 and part.default_rule()[0] >= 3
    b = part.boundary_quadrature(2, 1, dtype=torch.float64)
    assert float((b.w * (b.x * b.normals).sum(1)).sum()) == pytest.approx(3 * part.measure, rel=1e-10)
    base = b.w[torch.from_numpy(part.tag_index(b.x) == 0)].sum()
    assert float(base) == pytest.approx(1 - math.pi * 0.2 ** 2, rel=0.02)  # the face z = 0 minus the bore


def _write(tmp_path, name, mesh):
    if mesh.points.shape[1] == 2:  # VTU wants 3D points (meshio warns otherwise)
        mesh = meshio.Mesh(np.pad(mesh.points, [(0, 0), (0, 1)]), mesh.cells)
    path = tmp_path / name
    meshio.write(path, mesh)
    return path


def test_bad_meshes_are_refused_with_one_line(tmp_path):
    pts = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [2, 0], [2, 1.0]])
    mixed = meshio.Mesh(pts, [("triangle", [[0, 1, 2], [0, 2, 3]]), ("quad", [[1, 4, 5, 2]])])
    with pytest.raises(MeshError, match="mixed"):
        MeshDomain(_write(tmp_path, "mixed.vtu", mixed))
    with pytest.raises(MeshError, match="one type"):
        MeshDomain(meshio.Mesh(pts, [("quad", [[1, 4, 5, 2]])]))
    with pytest.raises(MeshError, match="no triangle or tetra"):
        MeshDomain(meshio.Mesh(pts, [("line", [[0, 1]])]))
    not_mesh = tmp_path / "notes.msh"
    not_mesh.write_text("this is not a mesh\n")
    with pytest.raises(MeshError, match="not a mesh file"):
        MeshDomain(not_mesh)
    with pytest.raises(MeshError, match="does not exist"):
        MeshDomain(tmp_path / "missing.msh")
    tilted = meshio.Mesh(np.array([[0, 0, 0], [1, 0, 0], [0, 1, 1.0]]), [("triangle", [[0, 1, 2]])])
    with pytest.raises(MeshError, match="plane z = 0"):
        MeshDomain(tilted)
    flat = meshio.Mesh(np.array([[0, 0], [1, 0], [2, 0.0]]), [("triangle", [[0, 1, 2]])])
    with pytest.raises(MeshError, match="degenerate"):
        MeshDomain(flat)


def test_tags_that_are_missing_or_name_no_facets(plate, tmp_path):
    with pytest.raises(MeshError, match="no boundary tag 'inlet'.*outer, hole"):
        Problem(plate, source=1.0, dirichlet={"inlet": 0.0})
    pts = np.array([[0, 0], [1, 0], [1, 1], [0, 1.0]])
    tagged = meshio.Mesh(pts, [("triangle", [[0, 1, 2], [0, 2, 3]]), ("line", [[0, 2]])],
                         cell_sets={"diagonal": [np.array([], int), np.array([0])],
                                    "body": [np.array([0, 1]), np.array([], int)]})
    dom = MeshDomain(tagged)
    with pytest.raises(MeshError, match="'diagonal' names no facets"):
        Problem(dom, dirichlet={"diagonal": 0.0})
    with pytest.raises(MeshError, match="'body' names cells"):
        dom.on("body")
    with pytest.raises(ValueError, match="both a Dirichlet and a Neumann"):
        Problem(plate, dirichlet={"outer": 0.0}, neumann={"outer": 1.0})
    with pytest.raises(TypeError, match="boundary tags"):
        Problem(problems.get("poisson2d-dirichlet").domain, dirichlet={"outer": 0.0})


def test_tagged_conditions_evaluate_per_tag(plate):
    pb = Problem(plate, source=1.0, dirichlet={"outer": 2.0}, neumann={"hole": lambda x: x[:, 0]})
    b = plate.boundary_quadrature(2, 1, dtype=torch.float64)
    on_outer = torch.from_numpy(plate.tag_index(b.x) == 0)
    hole_length = 79 * 2 * 0.25 * math.sin(math.pi / 79)
    assert float(b.w[~on_outer].sum()) == pytest.approx(hole_length, rel=1e-9)
    assert torch.equal(pb.dirichlet_mask(b.x), on_outer)
    assert torch.allclose(pb.h(b.x)[on_outer], torch.full((int(on_outer.sum()),), 2.0, dtype=torch.float64))
    assert torch.allclose(pb.g(b.x)[~on_outer], b.x[~on_outer, 0])


# --- variable coefficients -----------------------------------------------------------------
def test_coefficients_must_be_positive():
    box = problems.get("poisson2d-dirichlet").domain
    with pytest.raises(ValueError, match="diffusion a must be a finite number > 0"):
        Problem(box, diffusion=0.0)
    pb = Problem(box, source=1.0, diffusion=lambda x: x[:, 0] - 0.5)
    with pytest.raises(ValueError, match="diffusion coefficient a must be > 0"):
        pb.a(torch.rand(10, 2))


@pytest.mark.parametrize("dirichlet", ["exact", "nitsche"])
def test_smooth_coefficient_against_its_exact_solution(dirichlet):
    pb = problems.get("smooth-coefficient")
    torch.manual_seed(0)
    net = TwoLayerNet(2, 300, k=5).double()
    if dirichlet == "exact":
        net = ExactDirichlet(net, pb)
    r = solve(pb, net, GALERKIN, loss=RitzLoss(beta=None if dirichlet == "nitsche" else 100.0, dirichlet=dirichlet),
              progress=False)
    assert r.errors["h1"] < (1e-4 if dirichlet == "exact" else 1e-3)
    assert r.errors["energy"] < r.errors["h1"] * 2  # a ≈ 1…3: the energy norm is comparable


def test_ritz_energy_uses_the_coefficient():
    """E(u) with a = 2 minus E(u) with a = 1 is ½Σω|∇u|² exactly."""
    from ritzhrta.forms.losses import ritz_energy

    box = problems.get("poisson2d-neumann").domain
    pts = box.quadrature(3, 4, dtype=torch.float64)
    torch.manual_seed(0)
    net = TwoLayerNet(2, 20, k=3).double()
    one, two = Problem(box, source=1.0, potential=1.0), Problem(box, source=1.0, potential=1.0, diffusion=2.0)
    _, g = autograd_value_and_grad(net, pts.x)
    diff = ritz_energy(net, two, pts) - ritz_energy(net, one, pts)
    assert float(diff) == pytest.approx(float(0.5 * (pts.w * (g ** 2).sum(1)).sum()), rel=1e-12)


def test_interface_net_gradient_and_the_two_material_problem():
    pb = problems.get("two-material")
    torch.manual_seed(0)
    net = InterfaceNet(TwoLayerNet(3, 40, k=3).double(), pb.interface)
    x = torch.rand(64, 2, dtype=torch.float64)
    u, g = net.value_and_grad(x)
    u2, g2 = autograd_value_and_grad(net, x)
    assert torch.allclose(u, u2) and torch.allclose(g, g2, atol=1e-12)
    phi, dphi = net.output_basis(x, gradients=True)
    coef = torch.randn(phi.shape[1], dtype=torch.float64)
    net.set_output(coef)  # u = Φ·c for the new output weights
    u3, g3 = net.value_and_grad(x)
    assert torch.allclose(u3, phi @ coef, atol=1e-12) and torch.allclose(g3, torch.einsum("npd,p->nd", dphi, coef),
                                                                       atol=1e-12)
    ref = fem_reference(pb, tol=1e-3)
    errors = {}
    for wrapped in (True, False):
        torch.manual_seed(0)
        inner = TwoLayerNet(3 if wrapped else 2, 500, k=5).double()
        model = ExactDirichlet(InterfaceNet(inner, pb.interface) if wrapped else inner, pb)
        solve(pb, model, GALERKIN, loss=RitzLoss(dirichlet="exact"), progress=False)
        errors[wrapped] = reference_errors(model, ref)["energy"]
    assert errors[True] < 5e-2 and errors[True] < errors[False] / 10  # the kink on x = 1/2 is the point


# --- the FEM reference ---------------------------------------------------------------------
def test_fem_reference_agrees_with_exact_solutions():
    for name in ("poisson2d-dirichlet", "screened-poisson2d", "poisson2d-neumann"):
        pb = problems.get(name)
        ref = fem_reference(pb, tol=1e-3)
        assert ref.converged and ref.estimate <= 1e-3
        torch.manual_seed(0)
        net = TwoLayerNet(2, 120, k=5).double()
        loss = RitzLoss(beta=None, dirichlet="nitsche") if pb.dirichlet is not None else RitzLoss()
        r = solve(pb, net, GALERKIN, loss=loss, progress=False)
        against = reference_errors(net, ref)
        # ‖u − u_ref‖ and ‖u − u*‖ differ by at most ‖u* − u_ref‖ (≤ 1e-3 relative in energy)
        assert against["h1"] == pytest.approx(r.errors["h1"], abs=1.2e-3)
        assert against["l2"] == pytest.approx(r.errors["l2"], abs=1e-4)


def test_reference_values_match_scikit_fem_probes():
    for name in ("poisson2d-dirichlet", "poisson3d-dirichlet"):
        pb = problems.get(name)
        ref = fem_reference(pb, tol=5e-2)
        x = pb.domain.interior(500, "random", dtype=torch.float64).x.numpy()
        assert np.allclose(ref.values(x), ref.basis.probes(x.T) @ ref.u, atol=1e-12)


def test_fem_reference_estimate_is_honest():
    """At tol = 1e-4 the reference's own relative H¹-seminorm error against u* is ≤ 1e-4, and the
    estimate is within 3× of it."""
    pb = problems.get("poisson2d-dirichlet")
    ref = fem_reference(pb, tol=1e-4)
    x = torch.as_tensor(ref.basis.mapping.F(ref.basis.X).reshape(2, -1).T.copy())
    grad = ref.basis.interpolate(ref.u).grad.reshape(2, -1).T
    true = np.sqrt((ref.basis.dx.reshape(-1) * ((grad - pb.grad_exact(x).numpy()) ** 2).sum(1)).sum()
                   / (ref.basis.dx.reshape(-1) * (pb.grad_exact(x).numpy() ** 2).sum(1)).sum())
    assert ref.estimate / 3 < true < ref.estimate * 3 and true <= 1e-4


# --- end to end ----------------------------------------------------------------------------
def test_cli_plate_hole_with_reference(tmp_path):
    out = tmp_path / "plate"
    assert main(["solve", "plate-hole", "--reference", "fem", "--out", str(out), "--no-progress"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["dirichlet"] == "exact" and summary["config"]["init"] == "kinks"
    assert summary["errors_vs_reference"]["h1"] <= 1e-2
    assert summary["reference"]["converged"]
    mesh = meshio.read(out / "solution.vtu")
    assert len(mesh.points) == len(MeshDomain(MESHES / "plate_hole.msh").points)
    assert {"u", "grad_u", "u_reference", "error"} <= set(mesh.point_data)
    assert (out / "solution.png").exists()


def test_cli_poisson3d_default_and_part3d(tmp_path):
    out = tmp_path / "cube"
    assert main(["solve", "poisson3d-dirichlet", "--out", str(out), "--no-progress"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["errors"]["h1"] <= 2e-2
    assert meshio.read(out / "solution.vtu").cells[0].type == "hexahedron"
    out = tmp_path / "part"
    assert main(["solve", "part3d", "--width", "150", "--reference", "fem", "--reference-tol", "5e-2",
                 "--out", str(out), "--no-progress"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["errors_vs_reference"]["h1"] < 0.5 and summary["config"]["dirichlet"] == "nitsche"
    mesh = meshio.read(out / "solution.vtu")
    assert mesh.cells[0].type == "tetra" and "u_reference" in mesh.point_data


@pytest.mark.parametrize("argv, message", [
    (["solve", "poisson2d-dirichlet", "--mesh", "MESH2D"], "not defined on a mesh file"),
    (["solve", "plate-hole", "--mesh", "NOTMESH"], "not a mesh file"),
    (["solve", "plate-hole", "--mesh", "MESH3D"], "no boundary tag 'outer'"),
    (["solve", "plate-hole", "--mesh", "MIXED"], "mixed"),
    (["solve", "plate-hole", "--mesh", "NOFACETS"], "boundary tag 'hole' names no facets"),
    (["solve", "plate-hole", "--reference-tol", "1e-3"], "reference_tol is set but reference is not"),
    (["solve", "approx1d", "--reference", "fem"], "needs a PDE problem"),
])
def test_cli_bad_mesh_input(tmp_path, capsys, argv, message):
    not_mesh = tmp_path / "bad.msh"
    not_mesh.write_text("$MeshFormat\ngarbage\n")
    pts = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [2, 0], [2, 1.0]])
    mixed = _write(tmp_path, "mixed.vtu", meshio.Mesh(pts, [("triangle", [[0, 1, 2]]), ("quad", [[1, 4, 5, 2]])]))
    # an MSH 2.2 file (physical groups from gmsh:physical + field_data) whose "hole" is the inner diagonal
    square = meshio.Mesh(np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0.0]]),
                         [("line", np.array([[0, 1], [1, 2], [2, 3], [3, 0]])), ("line", np.array([[0, 2]])),
                          ("triangle", np.array([[0, 1, 2], [0, 2, 3]]))],
                         cell_data={"gmsh:physical": [np.array([1, 1, 1, 1]), np.array([2]), np.array([3, 3])],
                                    "gmsh:geometrical": [np.array([1, 1, 1, 1]), np.array([2]), np.array([3, 3])]},
                         field_data={"outer": np.array([1, 1]), "hole": np.array([2, 1]), "plate": np.array([3, 2])})
    nofacets = tmp_path / "nofacets.msh"
    meshio.write(nofacets, square, file_format="gmsh22", binary=False)
    assert MeshDomain(nofacets).tags == ["outer", "hole"]
    subst = {"MESH2D": str(MESHES / "plate_hole.msh"), "MESH3D": str(MESHES / "part3d.msh"), "NOTMESH": str(not_mesh),
             "MIXED": str(mixed), "NOFACETS": str(nofacets)}
    out = tmp_path / "run"
    code = main([subst.get(a, a) for a in argv] + ["--out", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_problems_on_meshes_are_listed():
    assert set(problems.mesh_problems()) == {"plate-hole", "part3d"}
    assert sys.modules["ritzhrta.geometry.mesh_domain"]


def test_duplicated_and_overlapping_cells_are_refused():
    """Issue 27: duplicated triangles changed the area and dropped boundary edges silently."""
    import meshio
    import numpy as np

    from ritzhrta.geometry.mesh_domain import MeshError

    m = meshio.read(Path(problems.__file__).parent / "meshes" / "plate_hole.msh")
    dup = [meshio.CellBlock(b.type, np.concatenate([b.data, b.data[:10]]) if b.type == "triangle" else b.data)
           for b in m.cells]
    with pytest.raises(MeshError, match="10 duplicated cell"):
        MeshDomain(meshio.Mesh(m.points, dup, cell_sets=m.cell_sets))
    every = [meshio.CellBlock(b.type, np.concatenate([b.data, b.data]) if b.type == "triangle" else b.data)
             for b in m.cells]
    with pytest.raises(MeshError, match="duplicated cell"):
        MeshDomain(meshio.Mesh(m.points, every, cell_sets=m.cell_sets))
    # issue 35: the duplicates on a copy of their points (coincident, not shared) are duplicates too
    tri_block = [b for b in m.cells if b.type == "triangle"][0].data
    copied = np.concatenate([m.points, m.points[tri_block[:10].ravel()]])
    on_copies = [meshio.CellBlock(b.type, np.concatenate([b.data, len(m.points) + np.arange(30).reshape(10, 3)])
                                  if b.type == "triangle" else b.data) for b in m.cells]
    with pytest.raises(MeshError, match="10 duplicated cell"):
        MeshDomain(meshio.Mesh(copied, on_copies, cell_sets=m.cell_sets))
    # and one cell moved onto copies of its points is no longer connected to its neighbours
    moved = [meshio.CellBlock(b.type, np.concatenate([b.data[1:], len(m.points) + np.arange(3)[None]])
                              if b.type == "triangle" else b.data) for b in m.cells]
    with pytest.raises(MeshError, match="coincide with other points"):
        MeshDomain(meshio.Mesh(copied, moved, cell_sets=m.cell_sets))
    tri = [b for b in m.cells if b.type == "triangle"][0].data
    boundary = np.unique(MeshDomain(m).facets)
    inner = np.setdiff1d(np.unique(tri), boundary)[0]
    other = tri[(tri == inner).any(1)][0]
    other = other[other != inner][0]
    folded = m.points.copy()
    folded[inner, :2] += 1.5 * (folded[other, :2] - folded[inner, :2])  # pull a node past its neighbour
    with pytest.raises(MeshError, match="cells overlap"):
        MeshDomain(meshio.Mesh(folded, m.cells))
