"""The ``ritzhrta`` console script: ``problems``, ``solve``, ``export``, ``plot``, ``compare``, ``ntk``.

Bad input gives one line on stderr and exit code 2; a diverged run exits with 3; any
other failure inside a run gives one line and exit code 4 (``RITZHRTA_DEBUG=1`` shows
the traceback instead).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from pathlib import Path
from typing import Iterator, Sequence

import torch

import problems

from ritzhrta import __version__
from ritzhrta.cli import studies as cli_studies
from ritzhrta.cli.usage import UsageError, usage
from ritzhrta.outputs.config import GRADIENT_ONLY, ROUTE_OPTIONS, add_options, given_options
from ritzhrta.outputs.runs import RunConfig, config_file, latest_checkpoint, load_run, read_config, resume_run, run
from ritzhrta import trainers
from ritzhrta.schedule import PRESETS, format_schedule, parse_schedule

DEFAULT_STEPS = 6000
EXIT_USAGE, EXIT_DIVERGED, EXIT_FAILED, EXIT_INTERRUPTED = 2, 3, 4, 130



class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage dump
        command = self.prog.split(" ", 1)[1] if " " in self.prog else ""
        raise UsageError(f"{command}: {message}" if command else message)


def build_parser() -> argparse.ArgumentParser:
    d = RunConfig(problem="")
    parser = _Parser(prog="ritzhrta", description="Deep Ritz / Sobolev training with HRTA.")
    parser.add_argument("--version", action="version", version=f"ritzhrta {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("problems", help="list the registered problems")
    p = sub.add_parser("solve", help="solve a registered problem with HRTA, or --resume a run")
    p.add_argument("problem", nargs="?", help="a name from `ritzhrta problems`, or FILE.py:FUNCTION (a function "
                   "of your file that returns a ritzhrta Problem)")
    p.add_argument("--resume", type=Path, metavar="DIR", help="continue the run in DIR from its checkpoint")
    p.add_argument("--config", type=Path, metavar="FILE", help="all settings from a JSON or TOML file")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--schedule", help="stages 's:steps,...', ramps 'a-b:steps' from a at the stage's first step to b at its last (e.g. 0.5:3000,1:13000)")
    group.add_argument("--preset", choices=sorted(PRESETS), help="ready ladder (default: homotopy)")
    p.add_argument("--steps", type=int, help=f"total steps of a --preset (default {DEFAULT_STEPS})")
    add_options(p)  # every run option, declared once in ritzhrta.outputs.config.RunConfig
    p.add_argument("--out", type=Path, help="run folder (default runs/PROBLEM)")
    p.add_argument("--force", action="store_true", help="overwrite a non-empty run folder")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--distributed", action="store_true",
                   help="one solve across the processes of torchrun (gloo on CPU, nccl on CUDA): the points are "
                        "sharded, losses, gradients and normal equations all-reduced; rank 0 writes the run folder")
    e = sub.add_parser("export", help="write VTK from a finished run folder")
    e.add_argument("run", type=Path)
    e.add_argument("--vtk", type=Path, required=True, help="output .vtu or .xdmf")
    e.add_argument("--resolution", type=int, default=200)
    g = sub.add_parser("plot", help="redraw loss.png and solution.png of a run folder")
    g.add_argument("run", type=Path)
    g.add_argument("--out", type=Path, help="folder for the figures (default: the run folder)")
    g.add_argument("--format", default="png", choices=("png", "pdf", "svg"))
    g.add_argument("--resolution", type=int, default=150)
    cli_studies.add_parsers(sub, d)
    return parser


# Options that only mean something for gradient training (Adam/SGD steps).
_GRADIENT_ONLY = ("preset", "steps") + GRADIENT_ONLY


def _problem_name(name: str) -> str:
    """A registered name as it is; FILE.py:FUNCTION with the file's absolute path (a resume from another
    folder finds it)."""
    path, sep, func = name.partition(":")
    return f"{Path(path).resolve()}:{func}" if sep and path.endswith(".py") else name


def _folder_name(problem: str) -> str:
    """The default run folder's name: the problem's, or FILE-FUNCTION for a user's file."""
    path, sep, func = problem.partition(":")
    return f"{Path(path).stem}-{func}" if sep and path.endswith(".py") else problem


def _route(args) -> dict:
    """The trainer and the defaults it brings (:func:`ritzhrta.training.routes.choose`), after refusing
    options that the chosen trainer would ignore: an option of gradient training given to the
    galerkin default (use --trainer adam)."""
    from ritzhrta.problem import Problem
    from ritzhrta.training.routes import choose

    problem = problems.get(args.problem, mesh=args.mesh)
    trainer = "gradient" if args.trainer == "adam" else args.trainer
    if trainer is None and isinstance(problem, Problem):
        given = [name for name in _GRADIENT_ONLY if getattr(args, name) not in (None, False, 0)]
        if args.schedule and any(st.steps > 1 for st in parse_schedule(args.schedule)):
            given.append("schedule")
        if given:
            flags = ", ".join("--" + name.replace("_", "-") for name in given)
            raise UsageError(f"{flags} set gradient training, but the default trainer for PDE problems is "
                             "galerkin (one output solve per stage: --schedule 0.5:1,1:1); add --trainer adam "
                             "for the paper's algorithm")
    if args.trainer == "adam" and args.optimizer not in (None, "adam"):
        raise UsageError(f"--trainer adam and --optimizer {args.optimizer} disagree; use --trainer gradient "
                         f"--optimizer {args.optimizer}")
    return choose(problem, trainer=trainer, **{name: getattr(args, name) for name in ROUTE_OPTIONS if name != "trainer"})


# what the adaptive route reads of a run's settings (ritzhrta.training.adaptive: its own features and solves)
ADAPTIVE_READS = {"adaptive", "tol", "max_dofs", "seed", "threads", "resolution", "mesh"}


def config_from_args(args) -> RunConfig:
    """The :class:`RunConfig` described by ``solve`` arguments: the options given, the route's
    choices for those left out (:func:`_route`), RunConfig's defaults for the rest."""
    if args.adaptive:
        unread = sorted(set(_given(args)) - ADAPTIVE_READS) + [f for f in ("schedule", "steps", "preset")
                                                               if getattr(args, f, None) is not None]
        if unread:
            flags = ", ".join("--" + k.replace("_", "-") for k in dict.fromkeys(unread))
            raise UsageError(f"{flags} would be ignored: --adaptive runs its own route (local features, residual "
                             "solves; it reads --tol, --max-dofs, --seed, --threads, --resolution)")
    route = _route(args)
    if args.schedule is not None:
        if args.steps is not None:
            raise UsageError("--steps applies to --preset; a --schedule gives its own step counts")
        schedule = format_schedule(parse_schedule(args.schedule))
    elif route["default_schedule"] is not None and args.preset is None and args.steps is None:
        schedule = route["default_schedule"]
    else:
        schedule = format_schedule(PRESETS[args.preset or "homotopy"](DEFAULT_STEPS if args.steps is None else args.steps))
    given = _given(args)
    _check_device(given.get("device", "cpu"))
    chosen = {key: value for key, value in route.items() if key != "default_schedule"}
    config = RunConfig(problem=_problem_name(args.problem), schedule=schedule, **{**given, **chosen})
    validate(config)
    return config


def _given(args) -> dict:
    try:
        return given_options(args)
    except ValueError as err:
        raise UsageError(str(err)) from None


def validate(config: RunConfig) -> None:
    """Build everything a run needs once, so that bad settings fail before anything runs."""
    config.stages()
    problem = config.build_problem()
    if config.reference == "fem":
        from ritzhrta.reference.fem import check_reference

        check_reference(problem)
    from ritzhrta.training.memory import check_run

    if config.adaptive:  # its own route: local features, no network or loss of the config
        from ritzhrta.training.adaptive import DEFAULT_MAX_DOFS, check_adaptive

        check_adaptive(problem, config.tol, config.max_dofs or DEFAULT_MAX_DOFS)
        check_run(config, problem)
        return
    net = config.build_model(problem, 1.0)
    loss = config.build_loss()
    loss.check(problem)
    if config.trainer != "gradient":  # the trainer's own checks (ritzhrta.trainers)
        trainers.get(config.trainer).check(net, loss)
    if config.quadrature is not None:
        from ritzhrta.geometry.quadrature import check_rule_size

        check_rule_size(*config.quadrature)
    check_run(config, problem)


def _check_device(name: str) -> None:
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


_ALWAYS_ALLOWED = {"command", "problem", "resume", "config", "out", "force", "no_progress", "distributed"}


def _ignored_options(args) -> list[str]:
    """Run options given on the command line that --resume / --config would ignore."""
    defaults = vars(build_parser().parse_args(["solve"]))
    return [f"--{k.replace('_', '-')}" for k, v in vars(args).items()
            if k not in _ALWAYS_ALLOWED and v != defaults.get(k)]


def _resume_changes(args) -> dict:
    """The resumable settings (:data:`~ritzhrta.outputs.config.RESUMABLE`) given with --resume, as
    config values (a --schedule in its normal form)."""
    from ritzhrta.outputs.config import RESUMABLE

    given = {k: v for k, v in _given(args).items() if k in RESUMABLE and k != "schedule"}
    if args.schedule is not None:
        with usage():
            given["schedule"] = format_schedule(parse_schedule(args.schedule))
    return given


def cmd_solve(args) -> int:
    if args.distributed:
        return _distributed_solve(args)
    changed = {}
    if args.resume is not None:  # settings a resume may change are applied to config.json, the others refused
        changed = _resume_changes(args)
    if args.resume is not None or args.config is not None:
        ignored = [flag for flag in _ignored_options(args) if flag[2:].replace("-", "_") not in changed]
        if ignored and args.resume is not None:
            from ritzhrta.outputs.config import RESUMABLE

            raise UsageError(f"{', '.join(ignored)} cannot change on resume (it would make the checkpoint another "
                             f"run's); a resume may change {', '.join('--' + k.replace('_', '-') for k in RESUMABLE)}")
        if ignored:
            source = f"{args.resume}/config.json" if args.resume is not None else str(args.config)
            raise UsageError(f"{', '.join(ignored)} would be ignored: the settings come from {source} "
                             "(edit that file instead)")
    if args.resume is not None:
        if args.out is not None:
            raise UsageError("--resume DIR continues in DIR; --out does not apply")
        if args.problem is not None:
            raise UsageError("give either a problem name or --resume DIR, not both")
        with usage():
            config = read_config(args.resume)
            if changed:
                config = RunConfig.from_dict({**config.to_dict(), **changed})
            validate(config)
            if not config.adaptive:  # the adaptive route keeps no checkpoint: it starts again from level 0
                latest_checkpoint(args.resume, config)  # unreadable checkpoints (both) are bad input, refused before anything runs
            if changed:  # the new settings go into config.json before the checkpoint is checked against it
                from ritzhrta.outputs.runs import update_config

                update_config(args.resume, changed)
                print(f"ritzhrta: resuming with {', '.join(f'{k} = {v}' for k, v in changed.items())} "
                      f"(written to {args.resume}/config.json)", file=sys.stderr)
        with usage_if_busy(), said_on_interrupt(args.resume):
            result, out = resume_run(args.resume, progress=not args.no_progress), args.resume
    else:
        if args.config is not None:
            if args.problem is not None:
                raise UsageError("give either a problem name or --config FILE (which names the problem), not both")
            with usage():
                config = config_file(args.config)
                _check_device(config.device)
                validate(config)
        elif args.problem is None:
            raise UsageError("solve needs a problem name (see `ritzhrta problems`), --config FILE or --resume DIR")
        else:
            with usage():
                config = config_from_args(args)
        out = args.out or (Path(config.out) if config.out else Path("runs") / _folder_name(config.problem))
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {out} is an existing file, not a folder; choose another path")
        if out.exists() and any(out.iterdir()) and not args.force:
            raise UsageError(f"run folder {out} exists and is not empty; pass --force to overwrite or choose --out")
        with usage_if_busy(), said_on_interrupt(out):
            result = run(config, out, progress=not args.no_progress)
    try:
        _print_summary(result, out)
    except BrokenPipeError:  # `ritzhrta solve ... | head`: the reader left; the run itself is done
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if result.status == "interrupted":
        print(f"ritzhrta: interrupted after step {len(result.history)}; checkpoint written; resume with: "
              f"ritzhrta solve --resume {out}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_DIVERGED if result.status == "diverged" else 0


@contextlib.contextmanager
def usage_if_busy() -> Iterator[None]:
    """A second writer of a run folder is refused like bad input (one line, exit 2)."""
    from ritzhrta.outputs.lock import RunFolderBusy

    try:
        yield
    except RunFolderBusy as err:
        raise UsageError(str(err)) from None


class InterruptedRun(Exception):
    """A run stopped by a signal, already reported on stderr."""


def _adaptive_folder(out: Path) -> bool:
    """Whether the run folder's config.json asks for the adaptive route (it keeps no checkpoint)."""
    import json

    try:
        return bool(json.loads((out / "config.json").read_text()).get("adaptive"))
    except (OSError, ValueError, AttributeError):
        return False


@contextlib.contextmanager
def said_on_interrupt(out: Path) -> Iterator[None]:
    """A second Ctrl-C (or a signal outside the loop): say what the run folder really holds."""
    try:
        yield
    except KeyboardInterrupt:
        if _adaptive_folder(Path(out)):
            print(f"ritzhrta: interrupted; the adaptive route keeps no checkpoint: ritzhrta solve --resume {out} "
                  "starts it again from level 0", file=sys.stderr)
        elif (Path(out) / "checkpoint.pt").exists():
            print(f"ritzhrta: interrupted; the last checkpoint in {out} is kept: ritzhrta solve --resume {out}",
                  file=sys.stderr)
        else:
            print(f"ritzhrta: interrupted before the first checkpoint: {out} holds no state to resume",
                  file=sys.stderr)
        raise InterruptedRun from None


def _distributed_solve(args) -> int:
    """``cmd_solve`` on every rank of torchrun: rank 0 works in the real run folder; the
    other ranks compute the same solve on their shards and write into a scratch copy
    (a resumed run's folder is copied there first), removed at the end."""
    import shutil
    import tempfile

    from ritzhrta.training import dist

    device = "cuda" if getattr(args, "device", None) == "cuda" else "cpu"
    with usage():
        rank, _ = dist.init(device)
    if rank == 0:
        try:
            return cmd_solve(argparse.Namespace(**{**vars(args), "distributed": False}))
        finally:
            torch.distributed.destroy_process_group()
    scratch = Path(tempfile.mkdtemp(prefix=f"ritzhrta-rank{rank}-"))
    try:
        sub = {**vars(args), "distributed": False, "no_progress": True, "force": True}
        if args.resume is not None:
            shutil.copytree(args.resume, scratch / "run")
            sub["resume"] = scratch / "run"
        else:
            sub["out"] = scratch / "run"
        with contextlib.redirect_stdout(io.StringIO()):
            return cmd_solve(argparse.Namespace(**sub))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        torch.distributed.destroy_process_group()


def _print_summary(result, out: Path) -> None:
    if not hasattr(result, "stages"):  # the adaptive route (ritzhrta.training.adaptive)
        last = result.history[-1]
        print(f"adaptive: {len(result.history)} levels, {last['patches']} patches, {last['unknowns']} unknowns in "
              f"{result.cpu_seconds:.1f} CPU s")
        if result.errors:
            print(f"relative errors: L2 {result.errors['l2']:.3e}  H1 {result.errors['h1']:.3e}")
        print(f"estimated relative H1 error {result.estimate:.3e} (two-draw; "
              f"{'within' if result.resolved else 'NOT within'} tol {result.tol:g})")
        print(f"wrote {out}/")
        return
    h = result.history
    retried = f" after {result.rollbacks} rollback(s)" if result.rollbacks else ""
    threads = getattr(result, "threads", None)
    where = f" on {threads} thread(s), load {result.load_at_start:.1f} at start" if threads else ""
    print(f"{result.status}{retried} after {len(h)} steps in {result.wall_seconds:.1f} s ({result.cpu_seconds:.1f} CPU s)"
          f"{where}")
    print(f"{'stage':>5} {'s':>11} {'steps':>6} {'loss start':>11} {'loss end':>11} {'seconds':>8}")
    for st in result.stages:
        s = f"{st.s_start:g}" if st.s_start == st.s_end else f"{st.s_start:g}->{st.s_end:g}"
        print(f"{st.index + 1:>5} {s:>11} {st.steps:>6} {st.loss_start:>11.3e} {st.loss_end:>11.3e} "
              f"{st.seconds:>8.1f}")
    if result.errors:
        e, e0 = result.errors, result.initial_errors
        energy = f"  energy {e['energy']:.3e}" if "energy" in e else ""
        print(f"relative errors: L2 {e['l2']:.3e}  H1 {e['h1']:.3e}  H1-semi {e['h1_semi']:.3e}{energy} "
              f"(initial H1 {e0['h1']:.3e})")
    est = result.estimate or {}
    if est.get("h1") is not None:
        print(f"estimated relative H1 error {est['h1']:.3e} ({est['method']}; "
              f"{'within' if est['resolved'] else 'NOT within'} tol {est['tol']:g})")
    elif est.get("reason"):
        print(est["reason"])
    ref = getattr(result, "reference_errors", None)
    if ref:
        print(f"against the FEM reference: L2 {ref['l2']:.3e}  H1 {ref['h1']:.3e}  energy {ref['energy']:.3e}")
    if result.status == "diverged":
        kept = "keeps the last finite checkpoint" if (out / "checkpoint.pt").exists() else "has no checkpoint yet"
        print(f"ritzhrta: {result.message}; the run folder {kept}", file=sys.stderr)
    print(f"wrote {out}/")


def cmd_export(args) -> int:
    from ritzhrta.outputs.io import write_vtk
    from ritzhrta.geometry.meshing import check_drawable

    with usage():
        if args.vtk.suffix not in (".vtu", ".xdmf"):
            raise ValueError(f"--vtk writes .vtu or .xdmf files, got {args.vtk.name!r}")
        if args.resolution < 2:
            raise ValueError(f"--resolution must be an integer >= 2, got {args.resolution}")
        _, problem, net, _ = load_run(args.run)
        check_drawable(problem.domain)
    path = write_vtk(args.vtk, net, problem=problem, resolution=args.resolution)
    print(f"wrote {path}")
    return 0


def cmd_plot(args) -> int:
    from ritzhrta.outputs.plotting import plot_history, plot_solution

    with usage():
        config, problem, net, history = load_run(args.run)
    out = args.out or args.run
    a = plot_history(history, Path(out) / f"loss.{args.format}", title=f"{config.problem}: {config.loss} loss")
    if problem.dim > 3:
        print(f"wrote {a} (no solution figure: plots of the field are for 1D-3D domains, this one is {problem.dim}D)")
        return 0
    b = plot_solution(net, problem, Path(out) / f"solution.{args.format}", resolution=args.resolution)
    print(f"wrote {a} and {b}")
    return 0


def cmd_problems(args) -> int:
    for name in problems.names():
        print(f"{name:22s} {problems.describe(name)}")
    return 0


COMMANDS = {"problems": cmd_problems, "solve": cmd_solve, "export": cmd_export, "plot": cmd_plot,
            "compare": cli_studies.cmd_compare, "ntk": cli_studies.cmd_ntk}


def _sigterm_is_sigint() -> None:
    """SIGTERM outside the training loop (FEM reference, plots, VTK) acts as Ctrl-C does: the run
    folder's summary then says "interrupted" instead of the process dying with "running" in it."""
    import signal
    import threading

    def handler(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)


def main(argv: Sequence[str] | None = None) -> int:
    _sigterm_is_sigint()
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except UsageError as err:
        print(f"ritzhrta: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except InterruptedRun:
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("ritzhrta: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:  # noqa: BLE001 - a failure inside a run: one line, its own exit code
        if os.environ.get("RITZHRTA_DEBUG"):
            raise
        print(f"ritzhrta: error: the run failed: {type(err).__name__}: {err} "
              "(RITZHRTA_DEBUG=1 shows the traceback)", file=sys.stderr)
        return EXIT_FAILED


def console() -> None:
    """The ``ritzhrta`` command: :func:`main`, then an exit that a late Ctrl-C or SIGTERM cannot turn
    into a traceback (issue 35: a signal during the interpreter's shutdown — atexit handlers, threads
    being joined — printed one); such a signal now ends the process with the run's exit code."""
    import signal

    code = main()
    sys.stdout.flush()
    sys.stderr.flush()

    def quiet(signum, frame):
        os._exit(code)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, quiet)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    console()
