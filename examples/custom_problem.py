"""A problem of your own, with the public API only: −Δu = 4 on the unit disk, u = 0 on the circle.

The exact solution is u* = 1 − |x|², ∇u* = −2x. We train with the H¹ loss (which uses u*
and ∇u*) and check the relative errors.
"""
import sys

import torch

from ritzhrta import Disk, H1Loss, homotopy, Problem, solve, TwoLayerNet

FULL = __name__ == "__main__" and "--full" in sys.argv[1:]
STEPS = 6000 if FULL else 500

problem = Problem(
    domain=Disk(center=(0.0, 0.0), radius=1.0),
    source=4.0,
    dirichlet=lambda x: torch.zeros_like(x[:, 0]),
    exact=lambda x: 1 - (x ** 2).sum(1),
    exact_grad=lambda x: -2 * x,
    name="disk-poisson",
    points=1024,
    sampling="sobol",
)
torch.manual_seed(0)
net = TwoLayerNet(2, 500, k=2, s=0.5)
result = solve(problem, net, homotopy(STEPS), loss=H1Loss(), points=1024 if FULL else 256, progress=FULL)
print(f"disk: rel L2 {result.errors['l2']:.3e}, rel H1 {result.errors['h1']:.3e} "
      f"(initial {result.initial_errors['h1']:.3e})")

if __name__ == "__main__":
    from ritzhrta.outputs.io import write_vtk
    from ritzhrta.outputs.plotting import plot_solution

    print("wrote", plot_solution(result.net, problem, "runs/examples/custom_problem.png"))
    print("wrote", write_vtk("runs/examples/custom_problem.vtu", result.net, problem=problem))
