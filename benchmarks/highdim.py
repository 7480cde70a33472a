"""The high-dimensional route (issue 36): poisson-nd (additive), gaussian-nd (a product), pairs-nd
(a chain of two-coordinate products: neither) and ridge-nd (sin(Σx/√d): a ridge) on [0,1]^d, d = 5, 10, 20, 50, from ``solve(problem)``
with nothing but the problem (the route picks ANOVA-1, ANOVA-2 or the separated family by its
residual estimate; no exact solution is used), with two controls in the same run: the full-
dimensional ridge features of issue 26 (``--features ridge``) and DeepXDE's PINN (d = 5, 10, poisson-nd
and gaussian-nd; benchmarks/_deepxde.py, installed with ``--no-deps``).

    python benchmarks/highdim.py [--quick] [--no-deepxde]

Rows (results/highdim.csv): problem, dim, method, family (the route's choice), unknowns, rel_l2,
rel_h1, estimate (relative H¹), effectivity (estimate / true H¹), cpu_s (one thread, process time of
solve(): the route, its estimate and its second opinion; not the error evaluation against u*).
Table: results/highdim.md.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import problems  # noqa: E402
from ritzhrta import solve  # noqa: E402
from ritzhrta.training.routes import default_config  # noqa: E402

import _deepxde  # noqa: E402
from _common import output_dir, write_rows, write_table  # noqa: E402

FIELDS = ("problem", "dim", "method", "family", "unknowns", "rel_l2", "rel_h1", "estimate", "effectivity", "cpu_s")


def route_row(name: str, dim: int, features: str | None = None) -> dict:
    problem = problems.get(name, dim=dim)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if features is None:
            r = solve(problem, progress=False)
        else:
            config = default_config(problem, features=features)
            r = solve(problem, config.build_model(problem, 1.0), config.stages(), loss=config.build_loss(),
                      progress=False)
    est = r.estimate["h1"]
    model = r.net.model
    unknowns = model.A.numel() if hasattr(model, "A") else model.width + (getattr(model, "c", None) is not None)
    return {"problem": name, "dim": dim, "method": "route (auto)" if features is None else f"--features {features}",
            "family": r.estimate.get("family", ""), "unknowns": unknowns, "rel_l2": f"{r.errors['l2']:.3e}",
            "rel_h1": f"{r.errors['h1']:.3e}", "estimate": f"{est:.3e}",
            "effectivity": f"{est / r.errors['h1']:.2f}", "cpu_s": f"{r.cpu_seconds:.2f}"}


def deepxde_rows(name: str, dim: int, quick: bool) -> list[dict]:
    if not _deepxde.available():
        return [{"problem": name, "dim": dim, "method": "deepxde PINN", "family": "not run: deepxde is not installed"}]
    adam, lbfgs = (20, 0) if quick else (2000, 500)
    rows = []
    for r in _deepxde.run(problems.get(name, dim=dim), "pinn", adam, lbfgs, 10 if quick else 500,
                          num_domain=256 if quick else 2048, num_boundary=64 if quick else 512):
        rows.append({"problem": name, "dim": dim, "method": "deepxde PINN", "family": r["setting"], "unknowns": "",
                     "rel_l2": f"{r['rel_l2']:.3e}", "rel_h1": f"{r['rel_h1']:.3e}", "estimate": "",
                     "effectivity": "", "cpu_s": f"{r['cpu_seconds']:.2f}"})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="d = 4 only, small PINN (a smoke test)")
    parser.add_argument("--no-deepxde", action="store_true", help="leave the PINN control out")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = output_dir(args.out, args.quick)
    torch.set_num_threads(1)
    dims = (4,) if args.quick else (5, 10, 20, 50)
    rows = []
    for name in ("poisson-nd", "gaussian-nd", "pairs-nd", "ridge-nd"):
        for dim in dims:
            rows.append(route_row(name, dim))
            print(rows[-1], flush=True)
            if dim <= 20 and not args.quick:
                rows.append(route_row(name, dim, "ridge"))
                print(rows[-1], flush=True)
            pinn = dim in (5, 10) and name in ("poisson-nd", "gaussian-nd") or args.quick
            if pinn and not args.no_deepxde:
                rows.extend(deepxde_rows(name, dim, args.quick))
                print(rows[-1], flush=True)
    rows = [{f: row.get(f, "") for f in FIELDS} for row in rows]
    write_rows(out / "highdim.csv", rows, FIELDS)
    write_table(out / "highdim.md", [(f, f) for f in FIELDS], rows)
    


if __name__ == "__main__":
    main()
