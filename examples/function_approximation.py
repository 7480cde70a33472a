"""The paper's 1D task: approximate sin(2πx) on 100 grid points of [0, 1] (L² loss,
the zero-derivative case) with a width-1000 σ_s network (k = 1): HRTA s = 0.5 → 1 and
relaxation s = 1 → 1.5 against plain ReLU training, same initial parameters.

Fast by default (2000 steps); ``--full``: the paper's 16000 steps (3000 + 13000).
"""
import sys

import torch

import problems
from ritzhrta import baseline, homotopy, L2Loss, relaxation, solve, TwoLayerNet

FULL = __name__ == "__main__" and "--full" in sys.argv[1:]
STEPS = 16000 if FULL else 2000

target = problems.get("approx1d")
results = {}
for name, schedule in [("Adam, ReLU", baseline(STEPS)), ("HRTA 0.5→1", homotopy(STEPS)),
                       ("HRTA 1→1.5", relaxation(STEPS))]:
    torch.manual_seed(0)
    net = TwoLayerNet(1, 1000, k=1, s=schedule[0].s_at(0))
    results[name] = solve(target, net, schedule, loss=L2Loss(), lr=1e-3, progress=FULL)

print(f"{'schedule':<12} {'train loss':>11} {'rel L2 (test)':>14}")
for name, r in results.items():
    print(f"{name:<12} {r.final_loss:>11.3e} {r.errors['l2']:>14.3e}")

if __name__ == "__main__":
    from ritzhrta.outputs.plotting import plot_histories, plot_solution

    plot_histories([(k, r.history) for k, r in results.items()], "runs/examples/approx1d_loss.png")
    print("wrote", plot_solution(results["HRTA 0.5→1"].net, target, "runs/examples/approx1d_fit.png"))
