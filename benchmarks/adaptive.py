"""Adaptive local features (issue 24): error and estimate against unknowns and CPU-s, per level.

    python benchmarks/adaptive.py [--quick]

Rows (results/adaptive.csv): problem, route, level, patches, unknowns, estimate, rel_h1, cpu_s (the
route's CPU seconds up to this level, one thread; the error evaluation is not counted). Routes:
``adaptive`` (ritzhrta.training.adaptive.adaptive_solve, tol 1e-4, its defaults) and the control
``global`` (the default residual route: one global layer of Gaussian features, at the adaptive
route's final number of unknowns); on peak also the marking threshold θ = 0.5 (the default 0.3).
No exact solution is used in training. Table: results/adaptive.md.
"""
from __future__ import annotations

import time

import torch

from _common import quick_args, read_rows, write_table

PROBLEMS = ("peak", "wave-front", "poisson2d-lshape", "lshape-mixed", "poisson2d-dirichlet")
FIELDS = ("problem", "route", "level")


def adaptive_rows(name: str, quick: bool, theta: float | None = None) -> list[dict]:
    import problems
    from ritzhrta.forms.norms import relative_errors
    from ritzhrta.training.adaptive import adaptive_solve

    rows = []

    def record(entry, net):
        rows.append({"problem": name, "route": "adaptive" if theta is None else f"adaptive theta={theta:g}",
                     "level": entry["level"], "patches": entry["patches"],
                     "unknowns": entry["unknowns"], "estimate": f"{entry['estimate']:.3e}",
                     "rel_h1": f"{relative_errors(net, problems.get(name))['h1']:.3e}",
                     "cpu_s": f"{entry['cpu_seconds']:.2f}"})

    extra = {} if theta is None else {"theta": theta}
    adaptive_solve(problems.get(name), tol=1e-4, max_dofs=600 if quick else 4000, callback=record, **extra)
    return rows


def global_row(name: str, unknowns: int) -> dict:
    import problems
    from ritzhrta import Stage, solve
    from ritzhrta.forms.residual import ResidualLoss
    from ritzhrta.nets.features import RandomFeatureNet

    torch.manual_seed(0)
    problem = problems.get(name)
    start = time.process_time()
    net = RandomFeatureNet(problem.domain, unknowns).double()
    result = solve(problem, net, (Stage(1, 1.0, trainer="galerkin"),), loss=ResidualLoss(), progress=False)
    cpu = time.process_time() - start - (result.estimate or {}).get("cpu_seconds", 0.0)
    return {"problem": name, "route": "global", "level": 0, "patches": 1, "unknowns": unknowns,
            "estimate": f"{result.estimate['h1']:.3e}", "rel_h1": f"{result.errors['h1']:.3e}", "cpu_s": f"{cpu:.2f}"}


def main() -> None:
    args, out = quick_args(__doc__)
    torch.set_num_threads(1)
    path = out / "adaptive.csv"
    names = ("peak",) if args.quick else PROBLEMS
    from _common import append_row, done_keys

    done = done_keys(path, FIELDS)
    for name in names:
        if (name, "adaptive", "0") not in done:
            for row in adaptive_rows(name, args.quick):
                append_row(path, row)
                print(",".join(str(v) for v in row.values()), flush=True)
        if (name, "global", "0") not in done:
            last = [r for r in read_rows(path) if r["problem"] == name and r["route"] == "adaptive"][-1]
            row = global_row(name, int(last["unknowns"]))
            append_row(path, row)
            print(",".join(str(v) for v in row.values()), flush=True)
    if not args.quick and ("peak", "adaptive theta=0.5", "0") not in done:  # the marking threshold's control
        for row in adaptive_rows("peak", False, theta=0.5):
            append_row(path, row)
            print(",".join(str(v) for v in row.values()), flush=True)
    rows = read_rows(path)
    write_table(out / "adaptive.md", [("problem", "problem"), ("route", "route"), ("level", "level"),
                                      ("patches", "patches"), ("unknowns", "unknowns"), ("estimate", "estimate"),
                                      ("rel H¹", "rel_h1"), ("CPU-s", "cpu_s")], rows)


if __name__ == "__main__":
    main()
