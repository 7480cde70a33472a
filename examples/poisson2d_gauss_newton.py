"""Gauss–Newton and Galerkin routes on the 2D Poisson problems, with their controls.

1. −Δu = f, ∂u/∂n = 0 (the paper's problem), H¹ loss, HRTA 0.5 → 1 driving
   Gauss–Newton on all parameters of a narrow σ_s^3 net (float64, Gauss rule 72×72);
   control: the same iterations at s = 1 only.
2. −Δu = f, u = 0 on ∂(0,1)², Ritz energy without the exact solution: one Galerkin
   output solve on a random σ^5 hidden layer, Dirichlet data by Nitsche's method (β from
   the features) vs the penalty β = 100.

Fast by default (small nets, few iterations); ``--full`` for the README's numbers.
"""
import sys

import torch

import problems
from ritzhrta import H1Loss, RitzLoss, Stage, TwoLayerNet, solve

FULL = __name__ == "__main__" and "--full" in sys.argv[1:]
WIDTH, ITERS, GALERKIN_WIDTH = (80, (5, 10), 500) if FULL else (30, (2, 3), 120)

neumann = problems.get("poisson2d-neumann")
schedules = {"HRTA 0.5 → 1": (Stage(ITERS[0], 0.5, trainer="gauss-newton"), Stage(ITERS[1], 1.0, trainer="gauss-newton")),
             "s = 1 only (control)": (Stage(sum(ITERS), 1.0, trainer="gauss-newton"),)}
gn = {}
for name, stages in schedules.items():
    torch.manual_seed(0)
    net = TwoLayerNet(2, WIDTH, k=3, s=stages[0].s).double()
    gn[name] = solve(neumann, net, stages, loss=H1Loss(), progress=False)
    print(f"Gauss–Newton, {name}: rel H1 {gn[name].errors['h1']:.2e} in {gn[name].cpu_seconds:.1f} CPU-s")

dirichlet = problems.get("poisson2d-dirichlet")
galerkin = {}
for name, loss in {"Nitsche": RitzLoss(beta=None, dirichlet="nitsche"), "penalty β = 100": RitzLoss(beta=100.0)}.items():
    torch.manual_seed(0)
    net = TwoLayerNet(2, GALERKIN_WIDTH, k=5, s=1.0).double()
    galerkin[name] = solve(dirichlet, net, (Stage(1, 1.0, trainer="galerkin"),), loss=loss, progress=False)
    print(f"Galerkin, {name}: rel H1 {galerkin[name].errors['h1']:.2e} in {galerkin[name].cpu_seconds:.1f} CPU-s")

if __name__ == "__main__":
    from ritzhrta.outputs.plotting import plot_histories, plot_solution

    plot_histories([(k, r.history) for k, r in gn.items()], "runs/examples/gauss_newton_loss.png")
    print("wrote", plot_solution(galerkin["Nitsche"].net, dirichlet, "runs/examples/galerkin_nitsche_solution.png"))
