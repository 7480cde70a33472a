"""Kinks inside the domain: the random layer of the Galerkin route, N(0, 1) vs `--init kinks`.

screened-poisson2d (Neumann: no boundary trick), from the CLI, one thread:
``ritzhrta solve screened-poisson2d --width W --init normal|kinks --quadrature 8:14``
(112² Gauss points; the default 72² rule is also run for width 500), seeds 0–2. σ^5 is
5-homogeneous, so only where each unit's kink w·x + b = 0 lies changes the span: with N(0, 1)
biases most kinks miss the unit square. Also scikit-fem P2 on 256² and 512² meshes: when the
finite elements get to 1e-5 on this problem.

    python benchmarks/kinks.py           # results/kinks.csv, kinks.md (~5 min)
    python benchmarks/kinks.py --quick   # seconds; used by the tests
"""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import problems  # noqa: E402
from _common import parse_args, write_rows  # noqa: E402
from default_route import solve  # noqa: E402


def main(argv=None) -> int:
    args = parse_args(__doc__, argv)
    rows = []
    cases = [(40, "4:6", 0)] if args.quick else \
        [(500, "6:12", s) for s in range(3)] + [(w, "8:14", s) for w in (500, 800, 1000) for s in range(3)]
    for width, rule, seed in cases:
        for init in ("normal", "kinks"):
            command = ["screened-poisson2d", "--width", str(width), "--init", init, "--quadrature", rule,
                       "--seed", str(seed)]
            row = solve(command)
            rows.append({"method": f"galerkin {init}", "width": width, "rule": rule, "seed": seed,
                         "cpu_seconds": row["cpu_seconds"], "rel_h1": row["rel_h1"], "rel_l2": row["rel_l2"]})
            print(rows[-1], flush=True)
    if not args.quick:
        try:
            import torch
            from vs_peers import run_fem

            torch.set_num_threads(1)
            for r in run_fem("screened-poisson2d", problems.get("screened-poisson2d"), 2, (256, 512)):
                rows.append({"method": "skfem P2", "width": r["setting"], "rule": "", "seed": "",
                             "cpu_seconds": r["cpu_seconds"], "rel_h1": r["rel_h1"], "rel_l2": r["rel_l2"]})
                print(rows[-1], flush=True)
        except ImportError:
            print("scikit-fem is not installed: P2 rows skipped")
    name = "kinks_quick" if args.quick else "kinks"
    write_rows(args.out / f"{name}.csv", rows)
    lines = ["screened-poisson2d, one Galerkin solve (`ritzhrta solve`, default route, 1 thread): median "
             "[min, max] over seeds of the relative H¹ error and CPU seconds; scikit-fem P2 for reference.", "",
             "| method | width / mesh | rule | rel H¹ median [min, max] | CPU s median | seeds ≤ 1e-5 |",
             "|---|---|---|---|---|---|"]
    groups = {}
    for r in rows:
        groups.setdefault((r["method"], r["width"], r["rule"]), []).append(r)
    for (method, width, rule), rs in groups.items():
        e = [r["rel_h1"] for r in rs]
        lines.append(f"| {method} | {width} | {rule} | {statistics.median(e):.2e} [{min(e):.1e}, {max(e):.1e}] "
                     f"| {statistics.median(r['cpu_seconds'] for r in rs):.2f} | {sum(x <= 1e-5 for x in e)}/{len(e)} |")
    (args.out / f"{name}.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
