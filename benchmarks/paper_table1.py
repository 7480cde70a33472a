"""The paper's Table 1: function approximation, Adam vs HRTA (METHOD §5), with controls.

Targets: sin(2πx) on 100 grid points of [0, 1] (d = 1) and sin(πx)sin(πy)sin(πz) on a
5×5×5 grid (d = 3) (the paper's own targets were lost; see problems/approximation.py).
Networks: two-layer (TwoLayerNet) and three-layer (MLP, two hidden layers) with σ_s
(k = 1), NTK scaling, N(0, 1) initialisation, widths 200/400/1000. Same initial
parameters for every method of a seed and the same step budget; Adam lr 1e-3, L² loss.

--protocol ours (results/paper_table1.{csv,md}): constant lr, both HRTA variants per cell
  Adam        s = 1 throughout (ReLU)                    baseline(steps)
  HRTA-hom    s = 0.5 for 3/16 of the steps, then s = 1   homotopy(steps)   (paper: 3000 + 13000)
  HRTA-rel    s = 1 for 3/16, then s = 1.5               relaxation(steps)
  Reset-only  s = 1, Adam restarted at 3/16 of the steps  reset_only(homotopy(steps)): the
              control that separates the effect of s from that of restarting Adam
--protocol paper (results/paper_table1_paper.{csv,md}): the paper's own Table 1 protocol
  one HRTA s per cell, as the paper chose it: two-layer 200 → 1.5, 400/1000 → 0.5;
  three-layer 200 → 0.5, 400/1000 → 1.5 (s = 0.5: homotopy 0.5 → 1; s = 1.5: relaxation
  1 → 1.5); the learning rate lowered ×0.1 for the last 3/16 of the steps in every method
  (Adam's state kept across the drop); 400 random points for the 3D width-400 cell
  ("400 nodes and 400 sample points"); methods Adam, HRTA, Reset-only.
Recorded: final training loss and the relative L² error on a 16384-point evaluation set.
Rows go to the CSV as they finish; rerunning skips rows already there, so the study can be
run in pieces. Cells run cheapest first (two-layer before three-layer).

    python benchmarks/paper_table1.py                  # ours: 16000 steps, 5 seeds
    python benchmarks/paper_table1.py --protocol paper
    python benchmarks/paper_table1.py --dims 1 --depths 2 --widths 1000 --steps 4000   # budget study
                                                       # (paper_table1_budget.md: every cell run at >1 budget)
    python benchmarks/paper_table1.py --quick          # seconds; used by the tests
    python benchmarks/paper_table1.py --depths 3 --widths 1000 --workers 2   # runs as tasks on a local Dask cluster
"""
from __future__ import annotations

import argparse
import functools
import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import problems  # noqa: E402
from dataclasses import replace  # noqa: E402

from _common import append_row, done_keys, med_range, median, read_rows, output_dir  # noqa: E402
from ritzhrta import baseline, homotopy, L2Loss, MLP, relaxation, solve, Stage, TwoLayerNet  # noqa: E402
from ritzhrta.schedule import reset_only  # noqa: E402
from ritzhrta.studies.sweep import RunSpec, run_specs  # noqa: E402

METHODS = {"Adam": baseline, "HRTA-hom": homotopy, "HRTA-rel": relaxation,
           "Reset-only": lambda steps: reset_only(homotopy(steps))}
PAPER_S = {(2, 200): 1.5, (2, 400): 0.5, (2, 1000): 0.5, (3, 200): 0.5, (3, 400): 1.5, (3, 1000): 1.5}
TASKS = {1: "approx1d", 3: "approx3d"}
KEY = ("dim", "layers", "width", "seed", "method", "steps")


def paper_methods(layers: int, width: int, steps: int) -> dict[str, tuple[Stage, ...]]:
    """The paper's protocol for one cell: its s, and lr ×0.1 for the last 3/16 of the steps."""
    s = paper_s(layers, width)
    hrta = homotopy(steps, start=s) if s < 1 else relaxation(steps, end=s)
    return {"Adam": _late_drop(baseline(steps)), "HRTA": _late_drop(hrta),
            "Reset-only": _late_drop(reset_only(homotopy(steps)))}


def paper_s(layers: int, width: int) -> float:
    """The paper's s for a cell; other widths (--quick) take the nearest width's."""
    near = min((200, 400, 1000), key=lambda w: abs(math.log(w / width)))
    return PAPER_S[(min(layers, 3), near)]


def _late_drop(stages, lr: float = 1e-3, factor: float = 0.1) -> tuple[Stage, ...]:
    """Split the last stage so its final 3/16 of the total budget runs at lr·factor, same optimizer."""
    total = sum(st.steps for st in stages)
    drop = round(3 * total / 16)
    *first, last = stages
    if last.steps <= drop:
        raise ValueError(f"the last stage ({last.steps} steps) is shorter than the lr drop ({drop})")
    return (*(replace(st, lr=lr) for st in first), replace(last, steps=last.steps - drop, lr=lr),
            replace(last, steps=drop, lr=lr * factor, keep_optimizer=True))


def build(dim: int, layers: int, width: int, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return TwoLayerNet(dim, width, k=1, s=1.0) if layers == 2 else MLP(dim, [width, width], k=1, s=1.0)


def specs_for(dim, layers, width, seeds, steps, done: set, protocol: str = "ours",
              methods: list[str] | None = None) -> list[RunSpec]:
    """One task per (seed, method) of a cell that has no row yet."""
    target = problems.get(TASKS[dim])
    plan = ({m: fn(steps) for m, fn in METHODS.items()} if protocol == "ours"
            else paper_methods(layers, width, steps))
    points = (400, "random") if protocol == "paper" and (dim, width) == (3, 400) else (None, None)
    out = []
    for seed in seeds:
        for method, stages in plan.items():
            key = tuple(str(v) for v in (dim, layers, width, seed, method, steps))
            if key in done or (methods and method not in methods):
                continue
            meta = {"dim": dim, "layers": layers, "width": width, "method": method, "steps": steps}
            if protocol == "paper":
                meta["s"] = paper_s(layers, width) if method == "HRTA" else 1.0
            # sample_seed 0: the training points of every seed are those of solve()'s default seed,
            # as in the rows of earlier sessions (it matters only for the random 400-point cell)
            out.append(RunSpec(key="/".join(key), problem=target, stages=stages,
                               make_net=functools.partial(build, dim, layers, width), seed=seed, loss=L2Loss(),
                               points=points[0], sampling=points[1], meta=meta, sample_seed=0))
    return out


def _row(result: dict) -> dict:
    r = result["row"]
    row = {"dim": r["dim"], "layers": r["layers"], "width": r["width"], "seed": r["seed"], "method": r["method"],
           "steps": r["steps"], "train_loss": r["final_loss"], "min_train_loss": min(result["history"]["loss"]),
           "test_rel_l2": r["rel_l2"], "cpu_seconds": round(r["cpu_seconds"], 2)}
    if "s" in r:
        row["s"] = r["s"]
    return row


def _wins(rows, a: str, b: str, key: str) -> str:
    """Paired count: seeds where method a ends below method b (same initial parameters)."""
    va = {r["seed"]: float(r[key]) for r in rows if r["method"] == a}
    vb = {r["seed"]: float(r[key]) for r in rows if r["method"] == b}
    both = sorted(va.keys() & vb.keys())
    return f"{sum(va[k] < vb[k] for k in both)}/{len(both)}" if both else "–"


def summarise(csv_path: Path, md_path: Path, steps: int, protocol: str = "ours") -> str:
    """Median [min, max] of the test error and the training loss per cell and method, and
    paired win counts of each HRTA variant against Adam and against the reset-only control."""
    rows = [r for r in read_rows(csv_path) if int(r["steps"]) == steps]
    cells = sorted({(int(r["dim"]), int(r["layers"]), int(r["width"])) for r in rows}, key=lambda c: (c[1], c[0], c[2]))
    hrta = ["HRTA-hom", "HRTA-rel"] if protocol == "ours" else ["HRTA"]
    methods = ["Adam"] + hrta + ["Reset-only"]
    s_col = "" if protocol == "ours" else " s |"
    lines = [f"{steps} steps; median [min, max] over seeds. Wins: seeds where the HRTA run ends lower than the "
             "other method from the same initial parameters.", "",
             "**Test relative L² error**", "",
             f"| d | layers | width |{s_col} seeds | " + " | ".join(methods) + " | "
             + " | ".join(f"{h} wins vs Adam | {h} wins vs reset-only" for h in hrta) + " |",
             "|" + "---|" * (4 + bool(s_col) + len(methods) + 2 * len(hrta))]
    loss_lines = ["", "**Final training loss**", "",
                  f"| d | layers | width |{s_col} seeds | " + " | ".join(methods) + " | "
                  + " | ".join(f"{h} wins vs Adam | {h} wins vs reset-only" for h in hrta) + " |",
                  "|" + "---|" * (4 + bool(s_col) + len(methods) + 2 * len(hrta))]
    for dim, layers, width in cells:
        cell = [r for r in rows if (int(r["dim"]), int(r["layers"]), int(r["width"])) == (dim, layers, width)]
        if not any(r["method"] == "Adam" for r in cell):
            continue
        seeds = len({r["seed"] for r in cell if r["method"] == "Adam"})
        s_val = "" if protocol == "ours" else f" {paper_s(layers, width)} |"
        for out, key in ((lines, "test_rel_l2"), (loss_lines, "train_loss")):
            vals = [med_range(r[key] for r in cell if r["method"] == m) for m in methods]
            wins = [w for h in hrta for w in (_wins(cell, h, "Adam", key), _wins(cell, h, "Reset-only", key))]
            out.append(f"| {dim} | {layers} | {width} |{s_val} {seeds} | " + " | ".join(vals) + " | "
                       + " | ".join(wins) + " |")
    text = "\n".join(lines + loss_lines) + "\n"
    md_path.write_text(text)
    return text


def budget_table(csv_path: Path, md_path: Path) -> str | None:
    """Cells run at more than one step budget: median test error per budget and method, and
    paired wins of each HRTA variant against Adam and the reset-only control."""
    rows = read_rows(csv_path)
    budgets: dict[tuple, set] = {}
    for r in rows:
        budgets.setdefault((int(r["dim"]), int(r["layers"]), int(r["width"])), set()).add(int(r["steps"]))
    cells = {c: sorted(b) for c, b in budgets.items() if len(b) > 1}
    if not cells:
        return None
    lines = ["Test relative L² error, median [min, max] over seeds, by step budget; wins are paired per seed.", "",
             "| d | layers | width | steps | seeds | Adam | HRTA-hom | HRTA-rel | Reset-only | hom wins vs Adam / "
             "vs reset-only | rel wins vs Adam / vs reset-only |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for (dim, layers, width), steps_list in sorted(cells.items()):
        for steps in steps_list:
            cell = [r for r in rows if (int(r["dim"]), int(r["layers"]), int(r["width"]), int(r["steps"]))
                    == (dim, layers, width, steps)]
            seeds = len({r["seed"] for r in cell if r["method"] == "Adam"})
            vals = [med_range(r["test_rel_l2"] for r in cell if r["method"] == m)
                    for m in ("Adam", "HRTA-hom", "HRTA-rel", "Reset-only")]
            wins = [f"{_wins(cell, h, 'Adam', 'test_rel_l2')} / {_wins(cell, h, 'Reset-only', 'test_rel_l2')}"
                    for h in ("HRTA-hom", "HRTA-rel")]
            lines.append(f"| {dim} | {layers} | {width} | {steps} | {seeds} | " + " | ".join(vals + wins) + " |")
    text = "\n".join(lines) + "\n"
    md_path.write_text(text)
    return text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for the tests")
    parser.add_argument("--steps", type=int, default=16000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--widths", default="200,400,1000")
    parser.add_argument("--depths", default="2,3", help="layers: 2 (two-layer) and/or 3")
    parser.add_argument("--dims", default="1,3")
    parser.add_argument("--out", type=Path, default=None, help="default: results/ (--quick: a temporary folder)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--protocol", choices=["ours", "paper"], default="ours")
    parser.add_argument("--methods", default="", help="comma list: run only these methods (default: all)")
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes of a local Dask cluster (default 1: in this process)")
    parser.add_argument("--scheduler", default=None, help="address of a running Dask scheduler")
    args = parser.parse_args(argv)
    args.out = output_dir(args.out, args.quick)
    torch.set_num_threads(args.threads)
    if args.quick:
        args.steps, args.seeds, args.widths, args.depths = 32, 2, "20", "2,3"
    name = "paper_table1" + ("_paper" if args.protocol == "paper" else "") + ("_quick" if args.quick else "")
    csv_path, md_path = args.out / f"{name}.csv", args.out / f"{name}.md"
    if args.steps != 16000 and not args.quick:
        md_path = args.out / f"{name}_{args.steps}.md"
    done = done_keys(csv_path, KEY)
    methods = [m for m in args.methods.split(",") if m]
    cells = [(dim, layers, width) for layers in map(int, args.depths.split(","))
             for dim in map(int, args.dims.split(",")) for width in map(int, args.widths.split(","))]
    # every run is one task of a sweep (in this process, or on Dask with --workers / --scheduler);
    # rows are appended as runs finish, so an interrupted study resumes where it stopped
    specs = [spec for dim, layers, width in cells  # two-layer cells first: the cheap ones finish before the rest
             for spec in specs_for(dim, layers, width, range(args.seeds), args.steps, done, args.protocol, methods)]
    run_specs(specs, workers=args.workers, scheduler=args.scheduler, on_result=lambda res: append_row(csv_path, _row(res)),
              log=lambda m: print(m, flush=True))
    print(summarise(csv_path, md_path, args.steps, args.protocol))
    if args.protocol == "ours":
        budget = budget_table(csv_path, args.out / f"{name}_budget.md")
        if budget:
            print(budget)
    return 0


if __name__ == "__main__":
    sys.exit(main())
