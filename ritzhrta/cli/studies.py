"""``ritzhrta compare`` and ``ritzhrta ntk``: the study commands of the CLI."""
from __future__ import annotations

import csv
import json
import os
from dataclasses import replace
from pathlib import Path

import torch

from ritzhrta.activations import check_s
from ritzhrta.cli.usage import UsageError, usage
from ritzhrta.studies.ntk import gram_finite, lambda_min, lambda_min_vs_s
from ritzhrta.outputs.runs import LOSSES, RunConfig
from ritzhrta.schedule import parse_schedule, schedule_steps
from ritzhrta.training.solver import solve
from ritzhrta.studies.comparison import DEFAULT_LR, Comparison, compare, parse_schedule_set, tune_lr


def add_parsers(sub, network_defaults: RunConfig) -> None:
    d = network_defaults
    c = sub.add_parser("compare", help="schedules × optimizers × lr decays over seeds, same budget and init")
    c.add_argument("problem")
    c.add_argument("--schedules", default="baseline,homotopy,relaxation",
                   help="presets and/or 's:steps,...' schedules; ';' separates adjacent custom schedules")
    c.add_argument("--steps", type=int, default=6000, help="step budget of the presets")
    c.add_argument("--optimizers", default="adam", help="comma list of adam, sgd, lbfgs")
    c.add_argument("--lr-decay", default="none", help="comma list of none, step, cosine")
    c.add_argument("--lr", default="", help="per optimizer, e.g. adam=1e-3,sgd=auto (auto: tune on a grid)")
    c.add_argument("--seeds", type=int, default=3)
    c.add_argument("--controls", action="store_true",
                   help="also run each schedule's reset-only control: the same stages and optimizer restarts "
                        "with s = 1 throughout (separates the effect of s from that of the restarts)")
    c.add_argument("--loss", choices=sorted(LOSSES), default=d.loss)
    c.add_argument("--workers", type=int, default=None,
                   help="worker processes of an embedded Dask cluster, one single-threaded run each "
                        "(default: one per core; 1: run in this process)")
    c.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on a running Dask scheduler, e.g. tcp://host:8786 (default: $DASK_SCHEDULER_ADDRESS)")
    _network_args(c, d)
    c.add_argument("--out", type=Path, help="folder for compare.md/.csv/.png (default runs/compare-PROBLEM)")
    n = sub.add_parser("ntk", help="λ_min of the Gram matrix vs s, and over training")
    n.add_argument("problem")
    n.add_argument("--s", default="0,0.25,0.5,0.75,1,1.25,1.5,1.75", help="comma list of s values")
    n.add_argument("--samples", type=int, default=100000, help="Monte Carlo samples (k >= 2)")
    n.add_argument("--schedule", default="0.5:500,1:1500", help="training run for the finite-width curve")
    n.add_argument("--every", type=int, default=100, help="steps between finite-width Gram evaluations")
    n.add_argument("--loss", choices=sorted(LOSSES), default=d.loss)
    _network_args(n, replace(d, k=1))
    n.add_argument("--out", type=Path, help="folder (default runs/ntk-PROBLEM)")


def _network_args(p, d: RunConfig) -> None:
    p.add_argument("--width", type=int, default=d.width)
    p.add_argument("--k", type=int, default=d.k)
    p.add_argument("--depth", type=int, default=d.depth)
    p.add_argument("--points", type=int, default=d.points)
    p.add_argument("--threads", type=int)


def _config(args, seed: int = 0) -> RunConfig:
    return RunConfig(problem=args.problem, width=args.width, k=args.k, depth=args.depth, seed=seed,
                     points=args.points, loss=args.loss)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def write_comparison(result: Comparison, out: Path) -> None:
    """compare.csv (one row per run), compare.md (median [min, max]) and compare.png."""
    from ritzhrta.outputs.plotting import plot_bands

    out.mkdir(parents=True, exist_ok=True)
    with (out / "compare.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(dict.fromkeys(k for row in result.rows for k in row)))
        writer.writeheader()
        writer.writerows(result.rows)
    (out / "compare.md").write_text(result.markdown())
    plot_bands(result.histories, result.stage_starts, out / "compare.png")


def _rates(text: str, problem, make_net, steps: int, loss) -> dict[str, float]:
    rates = dict(DEFAULT_LR)
    for item in filter(None, (t.strip() for t in text.split(","))):
        name, _, value = item.partition("=")
        if name not in DEFAULT_LR or not value:
            raise UsageError(f"--lr expects optimizer=value items (adam, sgd, lbfgs), got {item!r}")
        if value == "auto":
            rates[name] = tune_lr(problem, make_net, name, max(50, steps // 10), loss=loss)
            print(f"tuned {name} lr = {rates[name]:g}")
        else:
            rates[name] = float(value)
    return rates


def cmd_compare(args) -> int:
    if args.threads:
        torch.set_num_threads(args.threads)
    with usage():
        if args.seeds < 1:
            raise ValueError(f"--seeds must be a positive integer, got {args.seeds}")
        problem = _config(args).build_problem()
        schedules = parse_schedule_set(args.schedules, args.steps)
        loss = _config(args).build_loss()
        loss.check(problem)
        workers = _cores() if args.workers is None else args.workers
        if isinstance(workers, bool) or workers < 1:
            raise ValueError(f"--workers must be a positive integer, got {workers}")
    make_net = lambda seed: _config(args, seed).build_net(problem.dim, 1.0)  # noqa: E731
    budget = schedule_steps(next(iter(schedules.values())))
    rates = _rates(args.lr, problem, make_net, budget, loss)
    out = args.out or Path("runs") / f"compare-{args.problem}"
    ignored = {"workers", "scheduler", "out", "threads", "func", "command"}
    tag = json.dumps({k: str(v) for k, v in sorted(vars(args).items()) if k not in ignored})
    result = compare(problem, schedules, make_net, seeds=range(args.seeds), optimizers=args.optimizers.split(","),
                     lr_decays=args.lr_decay.split(","), lr=rates, loss=loss, points=args.points, log=print,
                     controls=args.controls, workers=workers, scheduler=args.scheduler, out=str(out / "runs"),
                     progress=True, tag=tag, threads=args.threads or 1)
    write_comparison(result, out)
    (out / "compare.json").write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                                  "lr": rates}, indent=2) + "\n")
    print(result.markdown())
    print(f"wrote {out}/compare.md, compare.csv, compare.png")
    return 0


def cmd_ntk(args) -> int:
    from ritzhrta.outputs.plotting import plot_curve

    if args.threads:
        torch.set_num_threads(args.threads)
    with usage():
        config = _config(args)
        problem = config.build_problem()
        s_values = [check_s(float(v)) for v in args.s.split(",")]
        stages = parse_schedule(args.schedule)
    x = problem.domain.interior(args.points or problem.points, problem.sampling, dtype=torch.float64).x
    lam = lambda_min_vs_s(x, s_values, k=args.k, samples=args.samples)
    out = args.out or Path("runs") / f"ntk-{args.problem}"
    out.mkdir(parents=True, exist_ok=True)
    kind = "closed form" if args.k == 1 else f"Monte Carlo, {args.samples} samples"
    plot_curve(s_values, {"λ_min(H∞(s))": lam}, out / "lambda_vs_s.png", "s", "λ_min",
               title=f"{args.problem}: infinite-width Gram, k = {args.k} ({kind})", vlines=[1.0])
    net = config.build_net(problem.dim, stages[0].s_at(0)).double()
    track: list[tuple[int, float]] = [(0, lambda_min(gram_finite(net, x)))]

    def record(info):
        if info.step % args.every == 0:
            track.append((info.step, lambda_min(gram_finite(info.net, x))))

    result = solve(problem, net, stages, loss=config.build_loss(), points=args.points, progress=False, callback=record,
                   estimate=False)
    plot_curve([t for t, _ in track], {"finite-width λ_min(J Jᵀ)": [v for _, v in track]},
               out / "lambda_training.png", "step", "λ_min", title=f"{args.problem}: width {args.width}, "
               f"schedule {args.schedule}", vlines=result.history.stage_starts())
    data = {"s": s_values, "lambda_min": lam, "training": track, "stage_starts": result.history.stage_starts()}
    (out / "ntk.json").write_text(json.dumps(data, indent=2) + "\n")
    for s, v in zip(s_values, lam):
        print(f"s = {s:<5g} λ_min = {v:.3e}")
    print(f"wrote {out}/lambda_vs_s.png, lambda_training.png, ntk.json")
    return 0
