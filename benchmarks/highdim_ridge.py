"""The full-dimensional ridge features above 3D (issue 26's default route; now --features ridge): poisson-nd and gaussian-nd on [0,1]^d, d = 4, 5, 10, 20,
from the CLI's defaults (Gaussian features, scrambled Sobol points, 4 per unknown) and at other
widths, with the paper's Adam route as the control at d = 5 and 10 (same problem, 2000 steps).

    python benchmarks/highdim_ridge.py [--quick]

Rows (results/highdim_ridge.csv): problem, dim, method, width, scale, seed, rel_l2, rel_h1, estimate
(relative H¹, no exact solution used), cpu_s. Table: results/highdim_ridge.md. DeepXDE's PINN, the other
control: benchmarks/highdim_deepxde.py (results/highdim_deepxde.md).
"""
from __future__ import annotations

import statistics
import sys
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import problems  # noqa: E402
from ritzhrta import H1Loss, Stage, TwoLayerNet, homotopy, solve  # noqa: E402
from ritzhrta.nets.features import RandomFeatureNet  # noqa: E402
from ritzhrta.forms.residual import ResidualLoss  # noqa: E402
from ritzhrta.training.routes import residual_scale, residual_width  # noqa: E402

from _common import quick_args, read_rows, run_missing  # noqa: E402

KEY = ("problem", "dim", "method", "width", "seed")


def run_one(name: str, dim: int, method: str, width: int, seed: int) -> dict:
    problem = problems.get(name, dim=dim)
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "residual":
            scale = residual_scale(dim)
            net = RandomFeatureNet(problem.domain, width, scale=scale).double()
            r = solve(problem, net, (Stage(1, 1.0, trainer="galerkin"),), loss=ResidualLoss(), progress=False,
                      seed=seed)
        else:  # the paper's route: Adam, H¹ loss (uses u*), σ_s^3, homotopy 0.5 -> 1
            scale = 0.0
            net = TwoLayerNet(dim, width, k=3, s=0.5)
            r = solve(problem, net, homotopy(2000), loss=H1Loss(), progress=False, seed=seed)
    est = (r.estimate or {}).get("h1")
    return {"problem": name, "dim": dim, "method": method, "width": width, "scale": scale, "seed": seed,
            "rel_l2": f"{r.errors['l2']:.3e}", "rel_h1": f"{r.errors['h1']:.3e}",
            "estimate": "" if est is None else f"{est:.3e}", "cpu_s": f"{r.cpu_seconds:.2f}"}


def plan(quick: bool):
    if quick:
        yield "poisson-nd", 4, "residual", 100, 0
        return
    for name in ("poisson-nd", "gaussian-nd"):
        for dim in (4, 5, 10, 20):
            base = residual_width(dim)
            for width in sorted({base // 2, base, 2 * base} if dim <= 5 else {base // 2, base}):
                for seed in (0, 1):
                    yield name, dim, "residual", width, seed
    for dim in (5, 10):
        yield "poisson-nd", dim, "adam-2000", 1000, 0


def table(rows: list[dict]) -> str:
    out = ["| problem | d | method | width | scale | rel L² [min, max] | rel H¹ | estimate / true H¹ | CPU-s |",
           "|---|---|---|---|---|---|---|---|---|"]
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["problem"], int(r["dim"]), r["method"], int(r["width"])), []).append(r)
    for (p, d, m, w), rs in sorted(groups.items()):
        l2 = [float(r["rel_l2"]) for r in rs]
        h1 = [float(r["rel_h1"]) for r in rs]
        eff = [float(r["estimate"]) / float(r["rel_h1"]) for r in rs if r["estimate"]]
        effs = f"{min(eff):.2f} – {max(eff):.2f}" if eff else "–"
        out.append(f"| {p} | {d} | {m} | {w} | {rs[0]['scale']} | {min(l2):.1e} – {max(l2):.1e} | "
                   f"{statistics.median(h1):.1e} | {effs} | {statistics.median(float(r['cpu_s']) for r in rs):.2f} |")
    return "\n".join(out) + "\n"


def main() -> None:
    args, out = quick_args(__doc__)
    torch.set_num_threads(1)
    path = out / "highdim_ridge.csv"
    run_missing(path, KEY, plan(args.quick), run_one)
    (out / "highdim_ridge.md").write_text(table(read_rows(path)))
    print(f"wrote {out / 'highdim_ridge.md'}")


if __name__ == "__main__":
    main()
