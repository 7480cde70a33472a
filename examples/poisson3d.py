"""3D Poisson on the unit cube: −Δu = 3π² sin(πx)sin(πy)sin(πz), u = 0 on the boundary.

The CLI's default route in the API: one float64 Galerkin solve of the Ritz energy on σ^5
features, u = φ·N with φ the cube's bubble, on the cube's Gauss rule (20³ points). Writes
the three mid-plane slices (solution.png) and the VTK file (hexahedra).

Fast by default (width 150); ``--full`` for the CLI's width 500 (rel H¹ ≈ 1e-3).
"""
import sys
from pathlib import Path

import torch

import problems
from ritzhrta import ExactDirichlet, RitzLoss, Stage, TwoLayerNet, solve
from ritzhrta.outputs.io import write_vtk
from ritzhrta.outputs.plotting import plot_solution

FULL = __name__ == "__main__" and "--full" in sys.argv[1:]
WIDTH = 500 if FULL else 150

problem = problems.get("poisson3d-dirichlet")
torch.manual_seed(0)
net = ExactDirichlet(TwoLayerNet(3, WIDTH, k=5).double(), problem)
result = solve(problem, net, (Stage(1, 1.0, trainer="galerkin"),), loss=RitzLoss(dirichlet="exact"), progress=False)
print(f"poisson3d-dirichlet, width {WIDTH}: rel H1 {result.errors['h1']:.2e}, rel L2 {result.errors['l2']:.2e} "
      f"in {result.cpu_seconds:.1f} CPU-s")

out = Path("runs/examples/poisson3d")
plot = plot_solution(net, problem, out / "solution.png", resolution=40)
vtu = write_vtk(out / "solution.vtu", net, problem=problem, resolution=20)
print(f"wrote {plot} and {vtu}")
