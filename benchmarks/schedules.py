"""Schedules, optimizers and switching rules compared under one budget (issue: the reviewers' questions).

Studies (each writes results/<name>.md, .csv, .png; an existing .md is kept unless --force):

  pde_paper      the paper's PDE experiment: −Δu = f on (0,1)², Neumann, H¹ loss, σ_s^3,
                 width 1000, Adam; baseline vs homotopy 0.5→1 vs relaxation 1→1.5; 5 seeds
  approx1d_more  sin(2πx), L², k = 1, width 1000: Adam with no/step/cosine decay, SGD (lr
                 tuned on a grid), L-BFGS, 3-stage ladder, s ramps, plateau-triggered switch,
                 Adam moments kept vs reset at the switch; 3 seeds
  pde_more       the same questions on the PDE, 3 seeds

    python benchmarks/schedules.py                      # all studies
    python benchmarks/schedules.py --study pde_paper --steps 29000   # the paper's 16000 + 13000
    python benchmarks/schedules.py --quick              # seconds; used by the tests
    python benchmarks/schedules.py --workers 2          # each run a task on a local Dask cluster
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import problems  # noqa: E402
from _common import output_dir  # noqa: E402
from ritzhrta import baseline, H1Loss, homotopy, L2Loss, parse_schedule, Plateau, relaxation, Stage, TwoLayerNet  # noqa: E402
from ritzhrta.cli.studies import write_comparison  # noqa: E402
from ritzhrta.studies.comparison import Comparison, compare, tune_lr  # noqa: E402


def _net(dim, width, k):
    def make(seed):
        torch.manual_seed(seed)
        return TwoLayerNet(dim, width, k=k, s=1.0)
    return make


def _ladders(n: int) -> dict:
    """Schedules sharing the budget n (steps rounded to the paper's 3/16 split)."""
    a, q = round(3 * n / 16), n // 4
    plateau = (Stage(n // 2, 0.5, until=Plateau(window=max(10, n // 40), rel_tol=0.02)), Stage(n - n // 2, 1.0))
    return {
        "baseline": baseline(n), "homotopy": homotopy(n), "relaxation": relaxation(n),
        "3-stage 0.25→0.5→1": parse_schedule(f"0.25:{a // 2},0.5:{a - a // 2},1:{n - a}"),
        "ramp 0.5→1": parse_schedule(f"0.5-1:{a},1:{n - a}"),
        "ramp 1→1.5": parse_schedule(f"1:{q},1-1.5:{q},1.5:{n - 2 * q}"),
        "homotopy, plateau switch": plateau,
        "homotopy, keep Adam state": tuple(replace(st, keep_optimizer=True) for st in homotopy(n)),
    }


SWEEP: dict = {}  # workers / scheduler of the Dask sweep, from the command line


def _run(problem, make_net, schedules, seeds, loss, log, **kw) -> Comparison:
    """compare() with every schedule's reset-only control (same restarts, s = 1) next to it;
    each run is one task of the sweep (--workers, --scheduler)."""
    return compare(problem, schedules, make_net, seeds=seeds, loss=loss, log=log, controls=True, **SWEEP, **kw)


def _prefix_controls(result: Comparison, prefix: str) -> Comparison:
    """Rename the reset-only controls of one part ("SGD reset-only at 375") so parts can merge,
    and pair the part's rows with its own baseline (the first schedule), not Adam's."""
    names = set(result.controls.values())
    new = lambda label: next((f"{prefix} {label}" for n in names if label.startswith(n)), label)  # noqa: E731
    for row in result.rows:
        row["config"], row["schedule"] = new(row["config"]), new(row["schedule"])
    result.histories = {new(k): v for k, v in result.histories.items()}
    result.stage_starts = {new(k): v for k, v in result.stage_starts.items()}
    result.controls = {k: new(v) for k, v in result.controls.items()}
    labels = list(dict.fromkeys(r["schedule"] for r in result.rows))
    result.baselines = {label: labels[0] for label in labels[1:]}
    for row in result.rows:
        row["control"] = new(row["control"]) if row.get("control") else ""
        row["paired_baseline"] = result.baselines.get(row["schedule"], "")
    return result


def _merge(parts: list[Comparison]) -> Comparison:
    out = Comparison(metric=parts[0].metric)
    for part in parts:
        clash = set(part.histories) & set(out.histories)
        if clash:
            raise ValueError(f"two studies use the label(s) {sorted(clash)}: their rows would be merged")
        out.rows += part.rows
        out.histories.update(part.histories)
        out.stage_starts.update(part.stage_starts)
        out.controls.update(part.controls)
        out.baselines.update(part.baselines)
    return out


def study_pde_paper(steps, seeds, width, log) -> Comparison:
    pb = problems.get("poisson2d-neumann")
    sched = {"baseline": baseline(steps), "homotopy": homotopy(steps), "relaxation": relaxation(steps)}
    return _run(pb, _net(2, width, 3), sched, seeds, H1Loss(), log)


def _more(pb, dim, k, loss, steps, seeds, width, log) -> Comparison:
    make = _net(dim, width, k)
    ladders = _ladders(steps)
    parts = [_run(pb, make, ladders, seeds, loss, log)]
    parts.append(_run(pb, make, {"baseline": ladders["baseline"], "homotopy": ladders["homotopy"]}, seeds, loss, log,
                      lr_decays=["step", "cosine"]))  # labels "baseline / step" etc.
    # SGD's rate is tuned separately for each s it trains at (a rate tuned at s = 1 diverged
    # within the first steps of the s = 0.5 stage on the PDE)
    tune = max(20, steps // 10)
    sgd = {s: tune_lr(pb, make, "sgd", tune, loss=loss, s=s) for s in (1.0, 0.5)}
    log(f"SGD lr tuned on {tune} steps: {sgd[1.0]:g} at s = 1, {sgd[0.5]:g} at s = 0.5")
    hom = ladders["homotopy"]
    sgd_hom = (replace(hom[0], lr=sgd[0.5]), replace(hom[1], lr=sgd[1.0]))
    parts.append(_run(pb, make, {f"SGD baseline (tuned lr {sgd[1.0]:g})": ladders["baseline"],
                                 f"SGD homotopy (tuned lr {sgd[0.5]:g} at s=0.5, {sgd[1.0]:g} at s=1)": sgd_hom},
                      seeds, loss, log, optimizers=["sgd"], lr={"sgd": sgd[1.0]}))
    _prefix_controls(parts[-1], "SGD")
    lb = max(4, steps // 20)  # L-BFGS takes far fewer, costlier steps
    parts.append(_run(pb, make, {f"L-BFGS baseline ({lb} steps)": baseline(lb),
                                 f"L-BFGS homotopy ({lb} steps)": homotopy(lb)}, seeds, loss, log,
                      optimizers=["lbfgs"]))
    _prefix_controls(parts[-1], "L-BFGS")
    return _merge(parts)


def study_approx1d_more(steps, seeds, width, log) -> Comparison:
    return _more(problems.get("approx1d"), 1, 1, L2Loss(), steps, seeds, width, log)


def study_pde_more(steps, seeds, width, log) -> Comparison:
    return _more(problems.get("poisson2d-neumann"), 2, 3, H1Loss(), steps, seeds, width, log)


STUDIES = {"pde_paper": (study_pde_paper, 4000, 5), "approx1d_more": (study_approx1d_more, 4000, 3),
           "pde_more": (study_pde_more, 2000, 3)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", choices=sorted(STUDIES), action="append")
    parser.add_argument("--steps", type=int, help="override the study's step budget")
    parser.add_argument("--seeds", type=int, help="override the study's number of seeds")
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--force", action="store_true", help="rerun studies whose table exists")
    parser.add_argument("--retable", action="store_true", help="only rebuild the tables from results/<study>/compare.csv")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes of a local Dask cluster (default 1: in this process)")
    parser.add_argument("--scheduler", default=None, help="address of a running Dask scheduler")
    parser.add_argument("--out", type=Path, default=None, help="default: results/ (--quick: a temporary folder)")
    args = parser.parse_args(argv)
    SWEEP.update(workers=args.workers, scheduler=args.scheduler)
    args.out = output_dir(args.out, args.quick)
    torch.set_num_threads(args.threads)
    if args.retable:  # rebuild the tables from the committed rows, no runs
        for study in args.study or list(STUDIES):
            name = f"{study}_quick" if args.quick else study
            csv_path = args.out / name / "compare.csv"
            metric = "rel_l2" if name.startswith("approx") else "rel_h1"
            md = args.out / f"{name}.md"
            header = md.read_text().split("\n\n", 1)[0] + "\n\n" if md.exists() else ""
            md.write_text(header + Comparison.from_csv(csv_path, metric).markdown())
            print(md.read_text())
        return 0
    for name in args.study or list(STUDIES):
        fn, steps, seeds = STUDIES[name]
        steps, seeds = args.steps or steps, args.seeds or seeds
        width = args.width
        if args.quick:
            steps, seeds, width, name = 40, 1, 20, f"{name}_quick"
        md = args.out / f"{name}.md"
        if md.exists() and not args.force:
            print(f"{md} exists; skipping (use --force)")
            continue
        result = fn(steps, range(seeds), width, lambda m: print(f"[{name}] {m}", flush=True))
        args.out.mkdir(parents=True, exist_ok=True)
        write_comparison(result, args.out / name)
        header = f"{name}: {steps} steps, {seeds} seeds, width {width}; median [min, max] over seeds.\n\n"
        md.write_text(header + result.markdown())
        print(md.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
