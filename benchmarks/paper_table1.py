"""The paper's Table 1: function approximation, Adam vs HRTA (METHOD §5).

Targets: sin(2πx) on 100 grid points of [0, 1] (d = 1) and sin(πx)sin(πy)sin(πz) on a
5×5×5 grid (d = 3) (the paper's own targets were lost; see problems/approximation.py).
Networks: two-layer (TwoLayerNet) and three-layer (MLP, two hidden layers) with σ_s
(k = 1), NTK scaling, N(0, 1) initialisation, widths 200/400/1000. Methods, same
initial parameters per seed and the same step budget:
  Adam       s = 1 throughout (ReLU)                    baseline(steps)
  HRTA-hom   s = 0.5 for 3/16 of the steps, then s = 1   homotopy(steps)   (paper: 3000 + 13000)
  HRTA-rel   s = 1 for 3/16, then s = 1.5               relaxation(steps)
Adam lr 1e-3, L² loss. Recorded: final training loss and the relative L² error on a
16384-point evaluation set. Rows go to results/paper_table1.csv as they finish; rerunning
skips rows already there, so the study can be run in pieces.

    python benchmarks/paper_table1.py                  # full: 16000 steps, 5 seeds
    python benchmarks/paper_table1.py --depths 2 --widths 200,400,1000
    python benchmarks/paper_table1.py --quick          # seconds; used by the tests
"""
from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import problems  # noqa: E402
from _common import append_row, done_keys, med_range, median, read_rows, output_dir  # noqa: E402
from ritzhrta import baseline, homotopy, L2Loss, MLP, relaxation, solve, TwoLayerNet  # noqa: E402

METHODS = {"Adam": baseline, "HRTA-hom": homotopy, "HRTA-rel": relaxation}
TASKS = {1: "approx1d", 3: "approx3d"}
KEY = ("dim", "layers", "width", "seed", "method", "steps")


def build(dim: int, layers: int, width: int, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return TwoLayerNet(dim, width, k=1, s=1.0) if layers == 2 else MLP(dim, [width, width], k=1, s=1.0)


def run_cell(dim, layers, width, seed, steps, out: Path, done: set) -> None:
    target = problems.get(TASKS[dim])
    initial = build(dim, layers, width, seed)
    for method, preset in METHODS.items():
        key = tuple(str(v) for v in (dim, layers, width, seed, method, steps))
        if key in done:
            continue
        net = copy.deepcopy(initial)
        cpu = time.process_time()
        result = solve(target, net, preset(steps), loss=L2Loss(), lr=1e-3, progress=False)
        append_row(out, {"dim": dim, "layers": layers, "width": width, "seed": seed, "method": method,
                         "steps": steps, "train_loss": result.final_loss,
                         "min_train_loss": min(result.history.loss), "test_rel_l2": result.errors["l2"],
                         "cpu_seconds": round(time.process_time() - cpu, 2)})
        print(f"d={dim} layers={layers} width={width} seed={seed} {method}: loss {result.final_loss:.3e} "
              f"rel L2 {result.errors['l2']:.3e}", flush=True)


def summarise(csv_path: Path, md_path: Path, steps: int) -> str:
    rows = [r for r in read_rows(csv_path) if int(r["steps"]) == steps]
    cells = sorted({(int(r["dim"]), int(r["layers"]), int(r["width"])) for r in rows})
    lines = [f"Final training loss and test relative L² error, median [min, max] over seeds; {steps} steps.",
             "Ratio = median(HRTA) / median(Adam) (< 1: HRTA better).", "",
             "| d | layers | width | seeds | Adam loss | HRTA-hom loss | HRTA-rel loss | hom/Adam | rel/Adam "
             "| Adam rel L² | HRTA-hom rel L² | HRTA-rel rel L² |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for dim, layers, width in cells:
        by = {m: [r for r in rows if (int(r["dim"]), int(r["layers"]), int(r["width"])) == (dim, layers, width)
                  and r["method"] == m] for m in METHODS}
        if not all(by.values()):
            continue
        loss = {m: [float(r["train_loss"]) for r in v] for m, v in by.items()}
        err = {m: [float(r["test_rel_l2"]) for r in v] for m, v in by.items()}
        ratio = lambda m: median(loss[m]) / median(loss["Adam"])  # noqa: E731
        seeds = min(len(v) for v in by.values())
        lines.append(f"| {dim} | {layers} | {width} | {seeds} | {med_range(loss['Adam'])} | "
                     f"{med_range(loss['HRTA-hom'])} | {med_range(loss['HRTA-rel'])} | {ratio('HRTA-hom'):.2g} | "
                     f"{ratio('HRTA-rel'):.2g} | {med_range(err['Adam'])} | {med_range(err['HRTA-hom'])} | "
                     f"{med_range(err['HRTA-rel'])} |")
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
    args = parser.parse_args(argv)
    args.out = output_dir(args.out, args.quick)
    torch.set_num_threads(args.threads)
    if args.quick:
        args.steps, args.seeds, args.widths, args.depths = 32, 2, "20", "2,3"
    name = "paper_table1_quick" if args.quick else "paper_table1"
    csv_path, md_path = args.out / f"{name}.csv", args.out / f"{name}.md"
    done = done_keys(csv_path, KEY)
    for dim in map(int, args.dims.split(",")):
        for layers in map(int, args.depths.split(",")):
            for width in map(int, args.widths.split(",")):
                for seed in range(args.seeds):
                    run_cell(dim, layers, width, seed, args.steps, csv_path, done)
    print(summarise(csv_path, md_path, args.steps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
