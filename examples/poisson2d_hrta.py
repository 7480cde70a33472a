"""HRTA (s = 0.5 → 1) against plain training (s = 1) on the 2D Neumann Poisson problem.

    −Δu = 2π² cos(πx)cos(πy) on (0,1)², ∂u/∂n = 0, H¹ (Sobolev) loss, σ_s^3, width 1000.

Same initial parameters, points and step budget for both. Fast by default; ``--full``
runs the paper's size (16000 steps). Run as a script to get the loss figure.
"""
import sys

import torch

import problems
from ritzhrta import baseline, H1Loss, homotopy, solve, TwoLayerNet

FULL = __name__ == "__main__" and "--full" in sys.argv[1:]
STEPS, WIDTH, POINTS = (16000, 1000, 1024) if FULL else (400, 200, 256)

problem = problems.get("poisson2d-neumann")
results = {}
for name, schedule in [("baseline s=1", baseline(STEPS)), ("HRTA 0.5→1", homotopy(STEPS))]:
    torch.manual_seed(0)  # identical initial parameters for both runs
    net = TwoLayerNet(2, WIDTH, k=3, s=schedule[0].s_at(0))
    results[name] = solve(problem, net, schedule, loss=H1Loss(), points=POINTS, progress=FULL)

print(f"{'schedule':<14} {'final loss':>11} {'rel L2':>10} {'rel H1':>10}")
for name, r in results.items():
    print(f"{name:<14} {r.final_loss:>11.3e} {r.errors['l2']:>10.3e} {r.errors['h1']:>10.3e}")

if __name__ == "__main__":
    from ritzhrta.outputs.plotting import plot_histories

    path = plot_histories([(k, r.history) for k, r in results.items()], "runs/examples/poisson2d_hrta.png",
                          title="2D Neumann Poisson, H¹ loss: HRTA vs baseline")
    print(f"wrote {path}")
