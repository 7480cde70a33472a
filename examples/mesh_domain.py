"""A problem on a gmsh mesh file with mixed boundary conditions, checked against a FEM reference.

The plate with a hole (problems/meshes/plate_hole.msh, written by gmsh with the physical
groups "outer" and "hole"): −Δu = 1, u = 0 on "outer", ∂u/∂n = 1 on "hole". There is no
exact solution; a P2 finite-element solution (scikit-fem) on the same mesh, refined until
its estimated error is below 1e-3, is the reference. One Galerkin solve of the Ritz
energy on σ^5 features with every kink inside the plate; u = 0 is built into the network on
the "outer" edges (u = φ·N, φ from those edges), the hole keeps its Neumann term.
The solution is written onto the file's own mesh (solution.vtu: u, grad_u, u_reference, error).

Fast by default (width 300); ``--full`` for the CLI's default width 1000 (rel H¹ ≈ 8e-3).
"""
import sys
from pathlib import Path

import torch

from ritzhrta import ExactDirichlet, MeshDomain, Problem, RitzLoss, Stage, TwoLayerNet, solve
from ritzhrta.reference.fem import fem_reference, reference_errors
from ritzhrta.outputs.io import read_vtk, write_vtk
from ritzhrta.nets.networks import place_kinks

FULL = __name__ == "__main__" and "--full" in sys.argv[1:]
WIDTH = 1000 if FULL else 300
MESH = Path(__file__).resolve().parents[1] / "problems" / "meshes" / "plate_hole.msh"

domain = MeshDomain(MESH)
print(domain)  # the tags come from the file's physical groups
problem = Problem(domain, source=1.0, dirichlet={"outer": 0.0}, neumann={"hole": 1.0}, name="plate-hole")

torch.manual_seed(0)
net = TwoLayerNet(2, WIDTH, k=5).double()
place_kinks(net, domain, seed=0)
net = ExactDirichlet(net, problem)
result = solve(problem, net, (Stage(1, 1.0, trainer="galerkin"),), loss=RitzLoss(dirichlet="exact"), progress=False)

reference = fem_reference(problem, tol=1e-3)
errors = reference_errors(net, reference)
print(f"width {WIDTH}: rel H1 against the P2 reference {errors['h1']:.2e} (rel L2 {errors['l2']:.2e}) in "
      f"{result.cpu_seconds:.1f} CPU-s; reference: {reference.summary()['dofs']} DOFs, estimated error "
      f"{reference.estimate:.1e}")

out = Path("runs/examples/mesh_domain")
out.mkdir(parents=True, exist_ok=True)
vtu = write_vtk(out / "solution.vtu", net, problem=problem, reference=reference)
written = read_vtk(vtu)
print(f"wrote {vtu}: {len(written.points)} nodes (the mesh file has {len(domain.points)}), "
      f"fields {sorted(written.point_data)}")
