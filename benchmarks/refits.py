"""Exact output-layer refits inside the Adam loop (``Stage(refit_output_every=N)``).

approx1d (sin 2πx, 100 grid points), TwoLayerNet width 1000, k = 1, s = 1, N(0, 1) init,
Adam lr 1e-3, 5000 steps, seeds 0–2, L² loss; the refit solves the output layer by least
squares with lstsq.DEFAULT_RIDGE and (by default) resets Adam's moments of the output
weights. Controls: no refit; the same refits keeping Adam's (stale) output moments.
Rows: final training loss and test relative L² error (16384 points) per seed.

    python benchmarks/refits.py           # results/refits.csv, .md
    python benchmarks/refits.py --quick   # seconds; used by the tests
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import problems  # noqa: E402
from _common import med_range, parse_args, write_rows  # noqa: E402
from ritzhrta import L2Loss, solve, Stage, TwoLayerNet  # noqa: E402
from ritzhrta.training.lstsq import DEFAULT_RIDGE  # noqa: E402

VARIANTS = {"no refit": {}, "refit every 1000, reset Adam state": dict(refit_output_every=1000),
            "refit every 1000, keep state": dict(refit_output_every=1000, reset_output_state=False),
            "refit every 250, reset Adam state": dict(refit_output_every=250),
            "refit every 250, keep state": dict(refit_output_every=250, reset_output_state=False)}


def main(argv=None) -> int:
    def options(p):
        p.add_argument("--steps", type=int, default=5000)
        p.add_argument("--seeds", type=int, default=3)
        p.add_argument("--width", type=int, default=1000)

    args = parse_args(__doc__, argv, options)
    torch.set_num_threads(1)
    if args.quick:
        args.steps, args.seeds, args.width = 40, 1, 20
    pb = problems.get("approx1d")
    rows = []
    for name, kw in VARIANTS.items():
        kw = {k: (max(1, v * args.steps // 5000) if k == "refit_output_every" else v) for k, v in kw.items()}
        for seed in range(args.seeds):
            torch.manual_seed(seed)
            cpu = time.process_time()
            r = solve(pb, TwoLayerNet(1, args.width, k=1, s=1.0), (Stage(args.steps, 1.0, **kw),),
                      loss=L2Loss(), lr=1e-3, progress=False)
            rows.append({"variant": name, "seed": seed, "steps": args.steps, "ridge": DEFAULT_RIDGE,
                         "final_loss": r.final_loss, "test_rel_l2": r.errors["l2"],
                         "cpu_seconds": round(time.process_time() - cpu, 2)})
            print(rows[-1], flush=True)
    name = "refits_quick" if args.quick else "refits"
    write_rows(args.out / f"{name}.csv", rows)
    lines = [f"approx1d, width {args.width}, k = 1, Adam lr 1e-3, {args.steps} steps, refit ridge {DEFAULT_RIDGE:g}; "
             "per seed, and median [min, max].", "",
             "| variant | final loss per seed | test rel L² per seed | test rel L² median [min, max] | CPU s (median) |",
             "|---|---|---|---|---|"]
    for variant in VARIANTS:
        rs = [r for r in rows if r["variant"] == variant]
        cpu = sorted(r["cpu_seconds"] for r in rs)[len(rs) // 2]
        losses = ", ".join(f"{r['final_loss']:.1e}" for r in rs)
        errors = ", ".join(f"{r['test_rel_l2']:.1e}" for r in rs)
        lines.append(f"| {variant} | {losses} | {errors} | "
                     f"{med_range(r['test_rel_l2'] for r in rs)} | {cpu:.1f} |")
    (args.out / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
