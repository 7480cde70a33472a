"""The quick-start snippets of docs/GUIDE.md (Gauss–Newton, Galerkin + Nitsche, exact BC), run as written
with a given torch thread count; prints the numbers the README quotes.

    python tools/readme_snippets.py 1 ; python tools/readme_snippets.py 2   # output: benchmarks/results/readme_snippets.txt
"""
import sys

import torch
torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
import problems
from ritzhrta import H1Loss, TwoLayerNet, homotopy, solve
problem = problems.get("poisson2d-neumann")
from ritzhrta import Stage
torch.manual_seed(0)
net = TwoLayerNet(2, 80, k=3, s=0.5).double()
stages = (Stage(5, 0.5, trainer="gauss-newton"), Stage(10, 1.0, trainer="gauss-newton"))
result = solve(problem, net, stages, loss=H1Loss(), progress=False)
print(result.errors["h1"], result.cpu_seconds)
from ritzhrta import RitzLoss
dirichlet = problems.get("poisson2d-dirichlet")
torch.manual_seed(0)
net = TwoLayerNet(2, 500, k=5, s=1.0).double()
result = solve(dirichlet, net, (Stage(1, 1.0, trainer="galerkin"),), loss=RitzLoss(beta=None, dirichlet="nitsche"), progress=False)
print(result.errors["h1"], result.cpu_seconds)
from ritzhrta import ExactDirichlet
torch.manual_seed(0)
model = ExactDirichlet(TwoLayerNet(2, 500, k=5, s=1.0).double(), dirichlet)
result = solve(dirichlet, model, (Stage(1, 1.0, trainer="galerkin"),), loss=RitzLoss(dirichlet="exact"), progress=False)
print(result.errors["h1"])
