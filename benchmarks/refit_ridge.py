"""The ridge of an exact output-layer solve after Adam (the evidence for lstsq.DEFAULT_RIDGE).

coscos-2d-H1 (poisson2d-neumann, H¹ loss, 32×32 grid), TwoLayerNet σ_s k = 1 width 1000,
N(0, 1) init, Adam lr 1e-3 at s = 1 for ``--steps`` (default 3000), seeds 1 and 2; then
fit_output_layer with each relative ridge of the grid, from the same Adam iterate. Rows:
training loss and test relative H¹ error (16384 Sobol points); ridge "none" = Adam alone.
Control: the training loss, which every ridge lowers about equally, while the test error
does not follow it.

    python benchmarks/refit_ridge.py           # results/refit_ridge.csv, .md
    python benchmarks/refit_ridge.py --quick   # seconds; used by the tests
"""
from __future__ import annotations

import copy
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import problems  # noqa: E402
from _common import parse_args, write_rows  # noqa: E402
from ritzhrta import H1Loss, relative_errors, solve, Stage, TwoLayerNet  # noqa: E402
from ritzhrta.training.lstsq import DEFAULT_RIDGE, fit_output_layer  # noqa: E402

RIDGES = (1e-10, 1e-8, 1e-6, 1e-4, 1e-3)


def main(argv=None) -> int:
    def options(p):
        p.add_argument("--steps", type=int, default=3000)
        p.add_argument("--seeds", default="1,2")
        p.add_argument("--width", type=int, default=1000)

    args = parse_args(__doc__, argv, options)
    torch.set_num_threads(1)
    if args.quick:
        args.steps, args.seeds, args.width = 20, "1", 30
    pb, loss = problems.get("poisson2d-neumann"), H1Loss()
    rows = []
    for seed in map(int, args.seeds.split(",")):
        torch.manual_seed(seed)
        net = TwoLayerNet(2, args.width, k=1, s=1.0)
        solve(pb, net, (Stage(args.steps, 1.0),), loss=loss, lr=1e-3, progress=False)
        pts = pb.domain.interior(pb.points, pb.sampling)
        for ridge in (None, *RIDGES):
            fitted = copy.deepcopy(net)
            if ridge is not None:
                fit_output_layer(fitted, pb, pts, loss=loss, ridge=ridge)
            with torch.enable_grad():
                train = float(loss(fitted, pb, pts).detach())
            rows.append({"seed": seed, "adam_steps": args.steps, "ridge": "none" if ridge is None else ridge,
                         "train_loss": train, "test_rel_h1": relative_errors(fitted, pb)["h1"]})
            print(rows[-1], flush=True)
    name = "refit_ridge_quick" if args.quick else "refit_ridge"
    write_rows(args.out / f"{name}.csv", rows)
    seeds = list(dict.fromkeys(r["seed"] for r in rows))
    lines = [f"Adam {args.steps} steps (width {args.width}, lr 1e-3, s = 1), then one exact output solve per ridge "
             f"(default {DEFAULT_RIDGE:g}); per seed: training loss / test relative H¹.", "",
             "| ridge | " + " | ".join(f"seed {s}: train loss | seed {s}: test rel H¹" for s in seeds) + " |",
             "|---|" + "---|---|" * len(seeds)]
    for ridge in dict.fromkeys(r["ridge"] for r in rows):
        by = {r["seed"]: r for r in rows if r["ridge"] == ridge}
        label = "Adam alone" if ridge == "none" else f"{ridge:g}"
        lines.append(f"| {label} | " + " | ".join(f"{by[s]['train_loss']:.3e} | {by[s]['test_rel_h1']:.3e}"
                                                   for s in seeds) + " |")
    (args.out / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
