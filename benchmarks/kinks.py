"""Kinks inside the domain: the random layer of the Galerkin route, N(0, 1) vs `--init kinks`.

screened-poisson2d (Neumann: no boundary trick), from the CLI, one thread:
``ritzhrta solve screened-poisson2d --width W --init normal|kinks --quadrature 8:14``
(112² Gauss points; the default 72² rule is also run for width 500), seeds 0–2. σ^5 is
5-homogeneous, so only where each unit's kink w·x + b = 0 lies changes the span: with N(0, 1)
biases most kinks miss the unit square. For the finite elements on this problem see
vs_peers.md (P2: 1.45e-5 on 256² cells after ~40 CPU-s; a 512² P2 solve was stopped after
12 CPU-minutes and 6.3 GB in SuperLU, so when P2 reaches 1e-5 is not measured).

Control (``--controls``, results/kinks_controls.*): the same switch on the two other problems
of the default route, poisson2d-dirichlet (exact imposition u = φ·N) and poisson2d-lshape
(Nitsche), widths 100–500, default rule, seed 0 — where kinks in Ω do *not* help.

    python benchmarks/kinks.py              # results/kinks.csv, kinks.md (~4 min)
    python benchmarks/kinks.py --controls   # results/kinks_controls.csv, .md (~1 min)
    python benchmarks/kinks.py --quick      # seconds; used by the tests
"""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import parse_args, write_rows  # noqa: E402
from default_route import solve  # noqa: E402


def controls(out: Path) -> None:
    rows = []
    for name in ("poisson2d-dirichlet", "poisson2d-lshape"):
        for width in (100, 250, 500):
            for init in ("normal", "kinks"):
                row = solve([name, "--width", str(width), "--init", init])
                rows.append({"problem": name, "width": width, "init": init, "dirichlet": row["dirichlet"],
                             "cpu_seconds": row["cpu_seconds"], "rel_h1": row["rel_h1"], "rel_l2": row["rel_l2"]})
                print(rows[-1], flush=True)
    write_rows(out / "kinks_controls.csv", rows)
    lines = ["`ritzhrta solve NAME --width W --init normal|kinks` (default route, 1 thread, seed 0).", "",
             "| problem | Dirichlet data | width | rel H¹ normal | rel H¹ kinks | kinks / normal |", "|---|---|---|---|---|---|"]
    for a, b in zip(rows[::2], rows[1::2]):
        lines.append(f"| {a['problem']} | {a['dirichlet']} | {a['width']} | {a['rel_h1']:.2e} | {b['rel_h1']:.2e} "
                     f"| {b['rel_h1'] / a['rel_h1']:.2f} |")
    (out / "kinks_controls.md").write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    args = parse_args(__doc__, argv, lambda p: p.add_argument("--controls", action="store_true",
                                                              help="run only the control problems"))
    if args.controls:
        controls(args.out)
        return 0
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
    name = "kinks_quick" if args.quick else "kinks"
    write_rows(args.out / f"{name}.csv", rows)
    lines = ["screened-poisson2d, one Galerkin solve (`ritzhrta solve`, default route, 1 thread): median "
             "[min, max] over seeds of the relative H¹ error and CPU seconds.", "",
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
