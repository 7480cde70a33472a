"""The ``ritzhrta`` console script: ``problems`` and ``solve``."""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path
from typing import Sequence

import torch

from . import __version__
from .homotopy import LR_DECAYS, OPTIMIZERS, PRESETS, Plateau, format_schedule, parse
from .networks import MLP, TwoLayerNet
from .solve import LOSSES, DivergenceError, solve

DEFAULTS = {"loss": "h1", "preset": "homotopy", "steps": 6000, "width": 1000, "k": 3, "depth": 1,
            "lr": 1e-3, "optimizer": "adam", "lr_decay": "none", "seed": 0}
EXIT_USAGE, EXIT_DIVERGED = 2, 3


class UsageError(Exception):
    """Bad input: reported on one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage dump
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ritzhrta", description="Deep Ritz / Sobolev training with HRTA.")
    parser.add_argument("--version", action="version", version=f"ritzhrta {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("problems", help="list the registered problems")
    p = sub.add_parser("solve", help="solve a registered problem with HRTA")
    p.add_argument("problem", help="a name from `ritzhrta problems`")
    p.add_argument("--loss", choices=LOSSES, default=DEFAULTS["loss"])
    group = p.add_mutually_exclusive_group()
    group.add_argument("--schedule", help="stages 's:steps,...', ramps 'a-b:steps' (e.g. 0.5:3000,1:13000)")
    group.add_argument("--preset", choices=sorted(PRESETS), help="ready ladder (default: homotopy)")
    p.add_argument("--steps", type=int, help=f"total steps of a --preset (default {DEFAULTS['steps']})")
    p.add_argument("--width", type=int, default=DEFAULTS["width"])
    p.add_argument("--k", type=int, default=DEFAULTS["k"], help="power of σ_s^k")
    p.add_argument("--depth", type=int, default=DEFAULTS["depth"], help="hidden layers (1: two-layer net)")
    p.add_argument("--standard-scaling", action="store_true", help="γ = 0 instead of the NTK scaling γ = 1")
    p.add_argument("--lr", type=float, default=DEFAULTS["lr"])
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=DEFAULTS["optimizer"])
    p.add_argument("--lr-decay", choices=LR_DECAYS, default=DEFAULTS["lr_decay"], help="per stage")
    p.add_argument("--keep-optimizer", action="store_true", help="keep optimizer state across stages")
    p.add_argument("--plateau", metavar="WINDOW:TOL", help="end a stage early on a loss plateau")
    p.add_argument("--points", type=int, help="interior training points (default: the problem's)")
    p.add_argument("--sampling", choices=("grid", "random", "sobol"), help="default: the problem's")
    p.add_argument("--resample-every", type=int, default=0, metavar="N")
    p.add_argument("--beta", type=float, default=100.0, help="Dirichlet penalty of the Ritz energy")
    p.add_argument("--seed", type=int, default=DEFAULTS["seed"])
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    p.add_argument("--out", type=Path, help="run folder (default runs/PROBLEM)")
    p.add_argument("--force", action="store_true", help="overwrite a non-empty run folder")
    p.add_argument("--no-progress", action="store_true")
    return parser


def _schedule(args) -> tuple:
    plateau = None
    if args.plateau:
        try:
            window, tol = args.plateau.split(":")
            plateau = Plateau(int(window), float(tol))
        except ValueError as err:
            raise UsageError(f"--plateau expects WINDOW:TOL such as 500:0.05 ({err})") from None
    kw = dict(optimizer=args.optimizer, lr_decay=args.lr_decay, until=plateau, keep_optimizer=args.keep_optimizer)
    if args.schedule:
        if args.steps is not None:
            raise UsageError("--steps applies to --preset; a --schedule gives its own step counts")
        return parse(args.schedule, **kw)
    return PRESETS[args.preset or DEFAULTS["preset"]](args.steps or DEFAULTS["steps"], **kw)


def _device(name: str) -> torch.device:
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UsageError(f"unknown device {name!r}; use cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UsageError(f"device {name!r} requested but CUDA is not available here")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UsageError(f"device {name!r} does not exist ({torch.cuda.device_count()} CUDA devices)")
    elif device.type != "cpu":
        raise UsageError(f"unsupported device {name!r}; use cpu, cuda or cuda:N")
    return device


def build_net(dim: int, args, s0: float) -> torch.nn.Module:
    """The network described by the CLI arguments."""
    if args.depth < 1:
        raise UsageError(f"--depth must be >= 1, got {args.depth}")
    scaling = not args.standard_scaling
    if args.depth == 1:
        return TwoLayerNet(dim, args.width, k=args.k, s=s0, ntk_scaling=scaling)
    return MLP(dim, [args.width] * args.depth, k=args.k, s=s0, ntk_scaling=scaling)


def _prepare_out(args) -> Path:
    out = args.out or Path("runs") / args.problem
    if out.exists() and any(out.iterdir()) and not args.force:
        raise UsageError(f"run folder {out} exists and is not empty; pass --force to overwrite or choose --out")
    out.mkdir(parents=True, exist_ok=True)
    return out


def cmd_solve(args) -> int:
    import problems

    problem = problems.get(args.problem)
    schedule = _schedule(args)
    device = _device(args.device)
    dtype = getattr(torch, args.dtype)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = _prepare_out(args)
    torch.manual_seed(args.seed)
    net = build_net(problem.dim, args, schedule[0].s_at(0)).to(device=device, dtype=dtype)
    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    config["schedule_resolved"] = format_schedule(schedule)
    _write_json(out / "config.json", config)
    status = 0
    try:
        result = solve(problem, net, schedule, loss=args.loss, lr=args.lr, points=args.points,
                       sampling=args.sampling, resample_every=args.resample_every, seed=args.seed,
                       beta=args.beta, progress=not args.no_progress)
    except DivergenceError as err:
        print(f"ritzhrta: diverged: {err}", file=sys.stderr)
        result, status = err.result, EXIT_DIVERGED
    summary = {"problem": args.problem, "loss": args.loss, "schedule": config["schedule_resolved"],
               "network": repr(net), "settings": config, "torch": torch.__version__,
               "threads": torch.get_num_threads(), "machine": platform.machine(), **result.summary()}
    _write_json(out / "summary.json", summary)
    result.history.write_csv(out / "history.csv")
    _print_summary(summary, out)
    return status


def _write_json(path: Path, data) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    os.replace(tmp, path)


def _print_summary(summary: dict, out: Path) -> None:
    print(f"{summary['problem']}: {summary['status']} after {summary['steps']} steps "
          f"in {summary['wall_seconds']:.1f} s ({summary['cpu_seconds']:.1f} CPU s)")
    print(f"{'stage':>5} {'s':>11} {'steps':>6} {'loss start':>11} {'loss end':>11} {'seconds':>8}")
    for st in summary["stages"]:
        s = f"{st['s_start']:g}" if st["s_start"] == st["s_end"] else f"{st['s_start']:g}->{st['s_end']:g}"
        print(f"{st['index'] + 1:>5} {s:>11} {st['steps']:>6} {st['loss_start']:>11.3e} "
              f"{st['loss_end']:>11.3e} {st['seconds']:>8.1f}")
    if summary["errors"]:
        e, e0 = summary["errors"], summary["initial_errors"]
        print(f"relative errors: L2 {e['l2']:.3e}  H1 {e['h1']:.3e}  H1-semi {e['h1_semi']:.3e} "
              f"(initial H1 {e0['h1']:.3e})")
    print(f"wrote {out}/summary.json, {out}/history.csv")


def cmd_problems(args) -> int:
    import problems

    for name in problems.names():
        print(f"{name:22s} {problems.describe(name)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return {"problems": cmd_problems, "solve": cmd_solve}[args.command](args)
    except (UsageError, ValueError) as err:
        print(f"ritzhrta: error: {err}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
