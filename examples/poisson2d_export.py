"""Solve the Neumann Poisson problem, then write VTK (open in ParaView) and figures.

Writes runs/examples/export/{solution.vtu, loss.png, solution.png}.
"""
import sys
from pathlib import Path

import torch

import problems
from ritzhrta import H1Loss, homotopy, solve, TwoLayerNet
from ritzhrta.outputs.io import read_vtk, write_vtk

FULL = __name__ == "__main__" and "--full" in sys.argv[1:]
STEPS, WIDTH = (6000, 1000) if FULL else (800, 500)
OUT = Path("runs/examples/export")

problem = problems.get("poisson2d-neumann")
torch.manual_seed(0)
net = TwoLayerNet(2, WIDTH, k=3, s=0.5)
result = solve(problem, net, homotopy(STEPS), loss=H1Loss(), points=256 if not FULL else 1024, progress=FULL)

vtu = write_vtk(OUT / "solution.vtu", result.net, problem=problem, resolution=100 if FULL else 30)
mesh = read_vtk(vtu)
max_error = float(mesh.point_data["error"].max())
print(f"wrote {vtu}: {len(mesh.points)} points, arrays {sorted(mesh.point_data)}, max |u − u*| = {max_error:.3e}")

if __name__ == "__main__":
    from ritzhrta.outputs.plotting import plot_history, plot_solution

    plot_history(result.history, OUT / "loss.png")
    print("wrote", plot_solution(result.net, problem, OUT / "solution.png"))
