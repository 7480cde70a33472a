"""DeepXDE's PINN on poisson-nd at d = 5 and 10 (issue 26's control), in the same run as the
residual route's default at the same d: relative errors against CPU seconds.

    python benchmarks/highdim_deepxde.py [--quick]

DeepXDE (PyTorch backend, float32; `pip install deepxde --no-deps` plus scikit-learn and
scikit-optimize, the `.[peers]` extra) as benchmarks/_deepxde.py sets it up: a tanh net
[d, 64, 64, 64, 1], 2048 interior and 512 boundary points, the PDE residual by its Hessians
(−Σᵢ∂ᵢᵢu − f), DirichletBC, Adam (lr 1e-3) then L-BFGS; rows every 500 iterations. One thread.
Rows (results/highdim_deepxde.csv): dim, method, setting, cpu_s, rel_l2, rel_h1. Table:
results/highdim_deepxde.md. Without DeepXDE the table says so and only the residual rows exist.
"""
from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import problems  # noqa: E402
from ritzhrta import Stage, solve  # noqa: E402
from ritzhrta.forms.residual import ResidualLoss  # noqa: E402
from ritzhrta.nets.features import RandomFeatureNet  # noqa: E402
from ritzhrta.training.routes import residual_scale, residual_width  # noqa: E402

import _deepxde  # noqa: E402
from _common import quick_args, write_rows, write_table  # noqa: E402


def residual_row(dim: int, width: int | None = None) -> dict:
    problem = problems.get("poisson-nd", dim=dim)
    width = width or residual_width(dim)
    torch.manual_seed(0)
    start = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = RandomFeatureNet(problem.domain, width, scale=residual_scale(dim)).double()
        r = solve(problem, net, (Stage(1, 1.0, trainer="galerkin"),), loss=ResidualLoss(), progress=False,
                  estimate=False)
    return {"dim": dim, "method": "ritzhrta residual (default)", "setting": f"width {width}",
            "cpu_s": f"{time.process_time() - start:.2f}", "rel_l2": f"{r.errors['l2']:.3e}",
            "rel_h1": f"{r.errors['h1']:.3e}"}


def main() -> None:
    args, out = quick_args(__doc__.splitlines()[0])
    torch.set_num_threads(1)
    dims = (4,) if args.quick else (5, 10)
    rows = []
    for dim in dims:
        rows.append(residual_row(dim, 100 if args.quick else None))
        print(rows[-1], flush=True)
        if not _deepxde.available():
            rows.append({"dim": dim, "method": "deepxde PINN", "setting": "not run: deepxde is not installed",
                         "cpu_s": "", "rel_l2": "", "rel_h1": ""})
            continue
        adam, lbfgs = (20, 0) if args.quick else ((3000, 1000) if dim == 5 else (2000, 500))
        every = 10 if args.quick else 500
        for r in _deepxde.run(problems.get("poisson-nd", dim=dim), "pinn", adam, lbfgs, every,
                              num_domain=256 if args.quick else 2048, num_boundary=64 if args.quick else 512):
            rows.append({"dim": dim, "method": r["method"], "setting": r["setting"], "cpu_s": f"{r['cpu_seconds']:.2f}",
                         "rel_l2": f"{r['rel_l2']:.3e}", "rel_h1": f"{r['rel_h1']:.3e}"})
            print(rows[-1], flush=True)
    write_rows(out / "highdim_deepxde.csv", rows)
    write_table(out / "highdim_deepxde.md", [("d", "dim"), ("method", "method"), ("setting", "setting"),
                                             ("CPU-s", "cpu_s"), ("rel L²", "rel_l2"), ("rel H¹", "rel_h1")], rows)


if __name__ == "__main__":
    main()
