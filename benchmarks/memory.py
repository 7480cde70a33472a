"""Peak memory of a run against the memory model that refuses runs up front (issue 35).

Each case runs in a fresh process (``ru_maxrss`` is per process) as the CLI would run it: the
RunConfig of the route (``ritzhrta.training.routes.default_config`` with the case's settings), its
network, its solve with the estimate and the errors on the evaluation points. Reported: the peak
resident memory above the process's size before the run (the OS's figure), the model's estimate
(:func:`ritzhrta.training.memory.run_bytes`, the figure the CLI checks) and their ratio, which must
lie in [1, 1.5]: never under the peak, at most half above it.

Routes: residual (the default 2D/3D route: Gaussian features, strong form), ritz (Galerkin solve of
the Ritz energy on σ^5 features), adam (the paper's gradient route, 3 steps, depth 1 and 4: parameters,
gradients and Adam's moments), highdim (the high-dimensional route), adaptive (the local-feature route).

    python benchmarks/memory.py              # results/memory.csv, .md
    python benchmarks/memory.py --quick      # seconds; used by the tests
    python benchmarks/memory.py --model-only # recompute the model column against the committed peaks
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import parse_args, write_rows, write_table  # noqa: E402

CHILD = r"""
import json, resource, sys, warnings, torch, problems
from ritzhrta.outputs.config import RunConfig
from ritzhrta.training.memory import run_bytes
from ritzhrta.training.routes import default_config
from ritzhrta import solve
torch.set_num_threads(1)
warnings.simplefilter("ignore")
case = json.loads(sys.argv[1])
problem = problems.get(case["problem"], **case.get("options", {}))
settings = case.get("settings", {})
if case["route"] == "adaptive":
    config = RunConfig(problem=case["problem"], adaptive=True, max_dofs=case["max_dofs"], tol=1e-9)
else:
    config = default_config(problem, **settings)
    if "depth" in case:
        import dataclasses
        config = dataclasses.replace(config, depth=case["depth"], schedule="1:3")
model = run_bytes(config, problem)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if case["route"] == "adaptive":
    from ritzhrta.training.adaptive import adaptive_solve
    adaptive_solve(problem, tol=1e-9, max_dofs=case["max_dofs"])
else:
    stages = config.stages()
    net = config.build_model(problem, stages[0].s_at(0))
    solve(problem, net, stages, loss=config.build_loss(), progress=False, tol=config.tol)
peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * 1024
print(json.dumps({"peak": peak, "model": model}))
"""

QUICK = [
    {"route": "residual", "problem": "poisson2d-dirichlet", "settings": {"width": 200}},
    {"route": "adam", "problem": "poisson2d-dirichlet", "settings": {"trainer": "gradient", "width": 200}, "depth": 2},
]
FULL = [
    *({"route": "residual", "problem": "poisson2d-dirichlet", "settings": {"width": m}} for m in (400, 1000, 2000, 4000)),
    *({"route": "residual", "problem": "poisson3d-dirichlet", "settings": {"width": m}} for m in (800, 1600)),
    *({"route": "ritz", "problem": "poisson2d-dirichlet", "settings": {"loss": "ritz", "width": m}} for m in (500, 2000)),
    *({"route": "adam", "problem": "poisson2d-neumann", "settings": {"trainer": "gradient", "width": m, "k": k},
       "depth": L} for m, L, k in ((1000, 1, 3), (4000, 1, 3), (1000, 4, 1), (3000, 4, 1))),
    *({"route": "gauss-newton", "problem": "poisson2d-neumann", "settings": {"trainer": "gauss-newton", "width": m}}
      for m in (100, 300)),
    *({"route": "highdim", "problem": name, "options": {"dim": d}} for name, d in
      (("poisson-nd", 20), ("poisson-nd", 50), ("gaussian-nd", 10), ("pairs-nd", 10))),
    *({"route": "highdim", "problem": "gaussian-nd", "options": {"dim": d}, "settings": {"features": "anova2"}}
      for d in (10, 20)),  # ANOVA-2 forced where it does not resolve: it grows to its column budget
    *({"route": "adaptive", "problem": "peak", "max_dofs": n} for n in (1000, 2500)),
]


def describe(case: dict) -> str:
    parts = [f"{k} {v}" for k, v in {**case.get("settings", {}), **case.get("options", {})}.items()
             if k not in ("trainer", "loss")]
    parts += [f"depth {case['depth']}"] if "depth" in case else []
    parts += [f"max_dofs {case['max_dofs']}"] if "max_dofs" in case else []
    return ", ".join(parts)


def model_of(case: dict) -> float:
    """The model's figure for ``case`` in this process (what the child computes before its run)."""
    import dataclasses

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import problems
    from ritzhrta.outputs.config import RunConfig
    from ritzhrta.training.memory import run_bytes
    from ritzhrta.training.routes import default_config

    problem = problems.get(case["problem"], **case.get("options", {}))
    if case["route"] == "adaptive":
        config = RunConfig(problem=case["problem"], adaptive=True, max_dofs=case["max_dofs"], tol=1e-9)
    else:
        config = default_config(problem, **case.get("settings", {}))
        if "depth" in case:
            config = dataclasses.replace(config, depth=case["depth"], schedule="1:3")
    return run_bytes(config, problem)


def main(argv=None) -> int:
    args = parse_args(__doc__, argv, extra=lambda p: p.add_argument(
        "--model-only", action="store_true", help="keep the committed peaks, recompute the model's column"))
    rows = []
    if args.model_only:
        import csv

        kept = list(csv.DictReader((args.out / "memory.csv").open()))
        for case, row in zip(FULL, kept):
            model = model_of(case)
            rows.append({**row, "model_mib": round(model / 2 ** 20, 1),
                         "model_over_peak": round(model / 2 ** 20 / float(row["peak_mib"]), 2)})
    for case in ([] if args.model_only else QUICK if args.quick else FULL):
        proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(case)], capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parents[1])
        if proc.returncode != 0:
            raise SystemExit(proc.stderr[-2000:])
        got = json.loads(proc.stdout.strip().splitlines()[-1])
        rows.append({"route": case["route"], "problem": case["problem"], "setting": describe(case),
                     "peak_mib": round(got["peak"] / 2 ** 20, 1), "model_mib": round(got["model"] / 2 ** 20, 1),
                     "model_over_peak": round(got["model"] / max(got["peak"], 1), 2)})
        print(rows[-1], flush=True)
    name = "memory_quick" if args.quick else "memory"
    write_rows(args.out / f"{name}.csv", rows)
    write_table(args.out / f"{name}.md", [("route", "route"), ("problem", "problem"), ("setting", "setting"),
                                          ("peak MiB (OS)", "peak_mib"), ("model MiB", "model_mib"),
                                          ("model / peak", "model_over_peak")], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
