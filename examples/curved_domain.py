"""A Dirichlet problem of your own on a curved domain, solved without its exact solution.

−Δu = f on the unit disk, u = h on the circle, with u* = sin(πx)·cos(πy/2) used only to
check the result. One least-squares solve of the strong-form residual on a random layer of
Gaussian features (the default route of ``ritzhrta solve``), on the disk's polar Gauss rule, with
the two-draw error estimate. The previous route (Ritz energy, σ^5 features, Nitsche) is the
control: ``--full`` prints both.

Fast by default (width 120); ``--full`` for width 400 (numbers in
benchmarks/results/curved_domain_example.txt).
"""
import math
import sys

import torch

from ritzhrta import Disk, Problem, RitzLoss, Stage, TwoLayerNet, solve
from ritzhrta.nets.features import RandomFeatureNet
from ritzhrta.forms.residual import ResidualLoss

FULL = __name__ == "__main__" and "--full" in sys.argv[1:]
WIDTH = 400 if FULL else 120
PI = math.pi


def exact(x):
    return torch.sin(PI * x[:, 0]) * torch.cos(PI * x[:, 1] / 2)


def exact_grad(x):
    return torch.stack([PI * torch.cos(PI * x[:, 0]) * torch.cos(PI * x[:, 1] / 2),
                        -PI / 2 * torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1] / 2)], 1)


problem = Problem(Disk((0, 0), 1.0), source=lambda x: 1.25 * PI ** 2 * exact(x), dirichlet=exact,
                  exact=exact, exact_grad=exact_grad, name="disk-dirichlet")
torch.manual_seed(0)
net = RandomFeatureNet(problem.domain, WIDTH).double()
result = solve(problem, net, (Stage(1, 1.0, trainer="galerkin"),), loss=ResidualLoss(), progress=False)
print(f"disk, Gaussian features + residual, width {WIDTH}: rel H1 {result.errors['h1']:.2e}, rel L2 "
      f"{result.errors['l2']:.2e} in {result.cpu_seconds:.2f} CPU-s; estimate {result.estimate['h1']:.2e}")

if FULL:  # the control: the Ritz energy on σ^5 features with Nitsche's method
    torch.manual_seed(0)
    ritz = solve(problem, TwoLayerNet(2, 500, k=5).double(), (Stage(1, 1.0, trainer="galerkin"),),
                 loss=RitzLoss(beta=None, dirichlet="nitsche"), progress=False)
    print(f"disk, σ^5 + Ritz/Nitsche, width 500: rel H1 {ritz.errors['h1']:.2e} in {ritz.cpu_seconds:.2f} CPU-s")

if __name__ == "__main__":
    from ritzhrta.outputs.io import write_vtk
    from ritzhrta.outputs.plotting import plot_solution

    print("wrote", plot_solution(result.net, problem, "runs/examples/curved_domain.png"))
    print("wrote", write_vtk("runs/examples/curved_domain.vtu", result.net, problem=problem, resolution=80))
