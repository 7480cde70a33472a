"""Run folders: a :class:`RunConfig` (everything needed to rerun exactly), and the files

    config.json  summary.json  history.csv  loss.png  solution.png  solution.vtu  checkpoint.pt
    checkpoint.prev.pt (the one before: a divergence rolls back to parameters of known finite loss)

written by :func:`run`, continued by :func:`resume_run`, re-read by :func:`load_run`.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import warnings
from pathlib import Path

import torch

from ritzhrta.outputs.lock import run_folder_lock
from ritzhrta.outputs.io import atomic_write, load_checkpoint, save_checkpoint, write_vtk
from ritzhrta.training.estimate import UnresolvedWarning
from ritzhrta.outputs.results import History, Result
from ritzhrta.training.solver import DivergenceError, solve
from ritzhrta.training.threads import default_threads, machine_load

__all__ = ["RunConfig", "run", "resume_run", "load_run", "update_config", "fingerprint", "foreign_reason",
           "run_settings", "write_outputs", "config_file", "FILES", "LOSSES"]

from ritzhrta.outputs.config import FEATURES, LOSSES, RunConfig  # noqa: E402,F401  (declared there; re-exported)

FILES = ("config.json", "summary.json", "history.csv", "loss.png", "solution.png", "solution.vtu", "checkpoint.pt",
         "checkpoint.prev.pt")


def _solve(config: RunConfig, out: Path, resume: dict | None, progress: bool, stop=None):
    """Solve; with ``on_nan="rollback"`` a divergence restarts from the last checkpoint
    (or the initial parameters) with the learning rate halved, at most ``max_retries`` times."""
    problem, stages = config.build_problem(), config.stages()
    config.build_loss().check(problem)
    ckpt = out / "checkpoint.pt"
    scale, retries = (resume or {}).get("lr_scale", 1.0), (resume or {}).get("rollbacks", 0)
    while True:
        net = config.build_model(problem, stages[0].s_at(0))

        def save(state: dict) -> None:
            check_folder(out)
            state = {**state, "fingerprint": fingerprint(config), "settings": run_settings(config)}
            if ckpt.exists():  # keep the previous checkpoint too: a copy, so one valid file always exists
                with atomic_write(out / PREVIOUS) as tmp:
                    shutil.copyfile(ckpt, tmp)
            save_checkpoint(ckpt, {**state, "lr_scale": scale, "rollbacks": retries})
            _write_progress(out, config, state)

        try:
            with warnings.catch_warnings():  # printed below as one line each
                warnings.simplefilter("ignore", UnresolvedWarning)
                result = _solve_once(config, problem, net, stages, resume, scale, progress, save, stop)
            for line in (result.estimate or {}).get("warnings", []):
                print(f"ritzhrta: warning: {line}", file=sys.stderr)
        except DivergenceError as err:
            good = _last_finite(out, len(err.result.history))
            if config.on_nan != "rollback" or retries >= config.max_retries:
                _keep_only_finite(out, good)
                result = err.result
                result.rollbacks = retries
                return problem, result
            retries, scale = retries + 1, scale / 2
            resume = good
            print(f"ritzhrta: {err}; rollback {retries}/{config.max_retries} to step "
                  f"{len(resume['history']['step']) if resume else 0} with lr x{scale:g}", file=sys.stderr)
            continue
        result.rollbacks = retries
        return problem, result


def run_settings(config: RunConfig) -> dict:
    """The settings that make a checkpoint what it is: every field but :data:`RESUMABLE` (what a resume
    may change) and the run folder."""
    from ritzhrta.outputs.config import RESUMABLE

    return {k: v for k, v in config.to_dict().items() if k not in RESUMABLE and k != "out"}


def fingerprint(config: RunConfig, legacy: bool = False) -> str:
    """A hash of :func:`run_settings`: a checkpoint carries it (and the settings), and resume refuses a
    checkpoint of another run naming the setting that differs. ``legacy``: the hash of earlier
    versions (every field but threads and out), still accepted from their checkpoints."""
    import hashlib

    data = {k: v for k, v in config.to_dict().items() if k not in ("threads", "out")} if legacy \
        else run_settings(config)
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def foreign_reason(state: dict, config: RunConfig) -> str | None:
    """None when the checkpoint ``state`` belongs to the run of ``config``, else why not (one line)."""
    got = state.get("fingerprint")
    if got is None:
        return ("it has no fingerprint (written by an old version, or not by ritzhrta), so nothing shows that it "
                "belongs to this run")
    if got in (fingerprint(config), fingerprint(config, legacy=True)):
        return None
    saved, now = state.get("settings"), run_settings(config)
    if isinstance(saved, dict):
        differ = [k for k in sorted(set(saved) | set(now)) if saved.get(k) != now.get(k)]
        if differ:
            return "; ".join(f"its {k} is {saved.get(k)!r}, config.json says {now.get(k)!r}" for k in differ[:3])
    return "its settings differ from config.json"


class RunFolderGone(RuntimeError):
    """The run folder (or its config.json) disappeared while the run was writing it."""


def check_folder(out: Path) -> None:
    """Refuse to write into a run folder whose config.json is gone (it would be recreated half)."""
    if not (out / "config.json").exists():
        raise RunFolderGone(f"the run folder {out} lost its config.json during the run (deleted or moved?): "
                            "stopping without writing anything more")


def _solve_once(config: RunConfig, problem, net, stages, resume, scale, progress, save, stop) -> Result:
    return solve(problem, net, stages, loss=config.build_loss(), lr=config.lr, points=config.points,
                 sampling=config.sampling, resample_every=config.resample_every, seed=config.seed,
                 progress=progress, checkpoint=save, checkpoint_every=config.checkpoint_every, resume=resume,
                 lr_scale=scale, compile=config.compile, eval_every=config.eval_every,
                 quadrature=tuple(config.quadrature) if config.quadrature else None, tol=config.tol,
                 callback=(lambda info: stop.is_set()) if stop is not None else None,
                 stop=stop.is_set if stop is not None else None)


PREVIOUS = "checkpoint.prev.pt"


def _write_progress(out: Path, config: RunConfig, state: dict) -> None:
    """history.csv and a summary with status "running" at every checkpoint, to watch a run."""
    history = History.from_dict(state["history"])
    with atomic_write(out / "history.csv") as tmp:
        history.write_csv(tmp)
    _write_json(out / "summary.json", {"problem": config.problem, "status": "running", "steps": len(history),
                                       "stage": state["stage"], "last_loss": history.loss[-1] if len(history) else None,
                                       "best_loss": min(history.loss) if len(history) else None,
                                       "config": config.to_dict()})


def latest_checkpoint(out: Path, config: RunConfig | None = None) -> tuple[dict, str | None]:
    """The state of the newest readable checkpoint of a run folder that belongs to its
    config.json (or ``config``: the settings a resume is about to write there; same
    :func:`fingerprint`), and a note when checkpoint.pt was unreadable,
    missing or another run's and checkpoint.prev.pt was used instead."""
    from ritzhrta.outputs.config import RESUMABLE

    out = Path(out)
    state, note = _newest_checkpoint(out)
    config = read_config(out) if config is None else config
    reason = foreign_reason(state, config)
    if reason is None:
        _check_position(state, config, out)
        return state, note
    prev = out / PREVIOUS
    if note is None and prev.exists():
        try:
            older = check_state(load_checkpoint(prev), prev)
        except ValueError:
            older = {}
        if older and foreign_reason(older, config) is None:
            _check_position(older, config, out)
            return older, (f"checkpoint.pt belongs to another run; resuming from {PREVIOUS} "
                           f"(step {len(older['history']['step'])})")
    raise ValueError(f"the checkpoint in {out} belongs to another run ({reason}): refusing to resume from it; "
                     f"a resume may change only {', '.join(RESUMABLE)}")


def _check_position(state: dict, config: RunConfig, out: Path) -> None:
    """A schedule changed for the resume must still contain the step the checkpoint is at."""
    from ritzhrta.schedule import schedule_steps

    stages, stage, t = config.stages(), state.get("stage", 0), state.get("t", 0)
    done = len(state.get("history", {}).get("step", []))
    if stage > len(stages) or (stage < len(stages) and t > stages[stage].steps) or schedule_steps(stages) < done:
        raise ValueError(f"the checkpoint in {out} is at step {done}, which the schedule "
                         f"{config.schedule!r} no longer reaches: a resume may extend the schedule, not cut it "
                         "before the checkpoint")


CHECKPOINT_KEYS = ("net", "optimizer", "opt_stage", "stage", "t", "history", "reports", "rng", "elapsed",
                   "sampler_draws")


def check_state(state, path) -> dict:
    """``state`` if it is a run's checkpoint (a dict with every key :class:`~ritzhrta.training.loop.RunState`
    writes, finite parameters), else a one-line ``ValueError`` naming what is wrong."""
    if not isinstance(state, dict):
        raise ValueError(f"cannot read checkpoint {path}: it holds a {type(state).__name__}, not a run's state")
    missing = [k for k in CHECKPOINT_KEYS if k not in state]
    if missing:
        raise ValueError(f"cannot read checkpoint {path}: it lacks {', '.join(missing)} (not a ritzhrta checkpoint, "
                         "or a damaged one)")
    net = state["net"]
    if not isinstance(net, dict):
        raise ValueError(f"cannot read checkpoint {path}: its network state is not a dict")
    bad = [k for k, v in net.items() if torch.is_tensor(v) and v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise ValueError(f"cannot read checkpoint {path}: its parameters {', '.join(bad[:3])} hold NaN or infinite "
                         "values")
    return state


def _newest_checkpoint(out: Path) -> tuple[dict, str | None]:
    path, prev = out / "checkpoint.pt", out / PREVIOUS
    if not path.exists() and not prev.exists():
        raise ValueError(f"{out} has no checkpoint.pt to resume from")
    if path.exists():
        try:
            return check_state(load_checkpoint(path), path), None
        except ValueError as err:
            if not prev.exists():
                raise
            reason = str(err).split(":")[0]
    else:
        reason = "checkpoint.pt is missing"
    state = check_state(load_checkpoint(prev), prev)  # raises ValueError if this one is broken too
    return state, f"{reason}; resuming from {PREVIOUS} (step {len(state['history']['step'])})"


class Interrupt:
    """While active, SIGINT and SIGTERM ask the run to stop after the current step (the
    solve's callback returns True, a checkpoint is written); a second signal raises
    KeyboardInterrupt at once."""

    def __init__(self) -> None:
        import threading

        self.event, self.previous = threading.Event(), {}

    def is_set(self) -> bool:
        return self.event.is_set()

    def _handler(self, signum, frame) -> None:
        if self.event.is_set():
            raise KeyboardInterrupt
        self.event.set()

    def __enter__(self) -> "Interrupt":
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.previous[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc) -> None:
        import signal

        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


def _last_finite(out: Path, finite_steps: int) -> dict | None:
    """The newest checkpoint whose parameters are known to have a finite loss.

    A checkpoint after step t holds θ_t, whose loss is first computed at step t + 1; a
    run that diverged at step T = finite_steps + 1 can trust checkpoints with t ≤ T − 2.
    """
    for name in ("checkpoint.pt", PREVIOUS):
        path = out / name
        if path.exists():
            state = load_checkpoint(path)
            if len(state["history"]["step"]) <= finite_steps - 1:
                return state
    return None


def _keep_only_finite(out: Path, good: dict | None) -> None:
    """Leave checkpoint.pt holding the last finite state (or no checkpoint at all)."""
    ckpt = out / "checkpoint.pt"
    if good is None:
        ckpt.unlink(missing_ok=True)
    elif ckpt.exists() and len(load_checkpoint(ckpt)["history"]["step"]) != len(good["history"]["step"]):
        save_checkpoint(ckpt, good)
    (out / PREVIOUS).unlink(missing_ok=True)


def apply_threads(config: RunConfig, hint: bool = True) -> tuple[int, float]:
    """Set torch's intra-op threads: ``config.threads`` or :func:`default_threads` for this
    problem size and the load now; with ``hint``, one line on stderr when the machine is busy.
    Returns (threads, load average at start)."""
    from ritzhrta.training.memory import training_points

    load = machine_load()
    problem = config.build_problem()
    # the points the run will really train on (issue 31: plate-hole and part3d were counted at their
    # problems' 2048 / 4096 suggested points while they train on 15 633 / 88 857 rule points)
    points = training_points(config, problem)
    threads = config.threads or default_threads(config.width, points, load=load)
    cores = os.cpu_count() or 1
    if hint and load > cores - 1 and cores > 1:
        advice = (f"{threads} threads on a busy machine ran up to 2.8x slower than 1 in our measurement; "
                  "consider --threads 1") if threads > 1 else "running on 1 thread; steps will be slower than idle"
        print(f"ritzhrta: the machine is busy (load {load:.1f} on {cores} cores): {advice}", file=sys.stderr)
    torch.set_num_threads(threads)
    return threads, load


def run(config: RunConfig, out: str | os.PathLike, progress: bool = True, outputs: bool = True) -> Result:
    """Solve as configured and write the run folder ``out`` (created if needed)."""
    out = Path(out)
    with run_folder_lock(out):
        threads, load = apply_threads(config, hint=progress)  # the hint goes with the progress display
        for name in FILES:  # an older run's outputs go before anything new is written (--force)
            (out / name).unlink(missing_ok=True)
        _write_json(out / "config.json", {**config.to_dict(), "threads": threads})  # resume keeps the threads
        if config.adaptive:
            return _run_adaptive(config, out, progress, outputs)
        return _finish(config, out, None, progress, outputs, threads, load)


def _run_adaptive(config: RunConfig, out: Path, progress: bool, outputs: bool):
    """The adaptive route (:func:`ritzhrta.training.adaptive.adaptive_solve`): summary.json with the
    levels, history.csv (one row per level), solution.png and solution.vtu (with ``patch_level``).
    There is nothing to resume inside it: a resumed adaptive run starts again from level 0."""
    from ritzhrta.training.adaptive import DEFAULT_MAX_DOFS, adaptive_solve

    problem = config.build_problem()

    def show(entry, net):
        if progress:
            print(f"level {entry['level']}: {entry['patches']} patches, {entry['unknowns']} unknowns, estimate "
                  f"{entry['estimate']:.3e} ({entry['cpu_seconds']:.1f} CPU s)", file=sys.stderr, flush=True)

    try:
        result = adaptive_solve(problem, tol=config.tol, max_dofs=config.max_dofs or DEFAULT_MAX_DOFS, seed=config.seed,
                                callback=show)
    except KeyboardInterrupt:
        mark_status(out, config, "interrupted", "stopped by a signal during the adaptive route (it restarts from "
                                                "level 0 on resume)")
        raise
    result.status = "finished"
    summary = {"problem": config.problem, "route": "adaptive", "status": "finished", "network": repr(result.net),
               "config": config.to_dict(), "torch": torch.__version__, "errors": result.errors,
               "estimate": {"h1": result.estimate, "method": "two-draw (adaptive local features)", "tol": config.tol,
                            "resolved": result.resolved},
               "levels": result.history, "cpu_seconds": result.cpu_seconds}
    if not result.resolved:  # one line, as the other routes print theirs (not a Python warning's two)
        print(f"ritzhrta: warning: estimated relative H¹ error {result.estimate:.2g} > tol {config.tol:g}: not "
              f"resolved within {config.max_dofs or DEFAULT_MAX_DOFS} unknowns (--max-dofs)", file=sys.stderr)
    keys = ("level", "patches", "unknowns", "estimate", "indicator", "cpu_seconds")
    with atomic_write(out / "history.csv") as tmp:
        Path(tmp).write_text(",".join(keys) + "\n" + "".join(",".join(str(e[k]) for k in keys) + "\n"
                                                             for e in result.history))
    if outputs:
        from ritzhrta.outputs.plotting import plot_solution

        resolution = config.resolution if problem.dim < 3 else min(config.resolution, 40)
        plot_solution(result.net, problem, out / "solution.png", resolution=config.resolution)
        root = float(max(problem.domain.hi[i] - problem.domain.lo[i] for i in range(problem.dim))) / 4
        write_vtk(out / "solution.vtu", result.net, problem=problem, resolution=resolution,
                  extra=lambda points: {"patch_level": result.net.patch_level(points, root).astype(float)})
    _write_json(out / "summary.json", summary)
    return result


def _finish(config: RunConfig, out: Path, state: dict | None, progress: bool, outputs: bool, threads: int,
            load: float) -> Result:
    """Solve (SIGINT/SIGTERM stop it after the current step, with a checkpoint) and write the
    outputs; on any other way out, summary.json says "interrupted" or "failed" with the reason."""
    try:
        with Interrupt() as stop:
            problem, result = _solve(config, out, state, progress, stop)
            result.threads, result.load_at_start = threads, load
            if stop.is_set() and result.status in ("stopped", "finished"):
                # a stop during training, after its last step or during the estimate
                result.status = "interrupted"
            if result.status == "interrupted":
                if len(result.history) and _training_done(config, result):
                    result.message = ("stopped after training, before the estimate and outputs: --resume "
                                      "finishes them without retraining")
                write_outputs(out, config, problem, result, plots=False)
                mark_status(out, config, "interrupted", result.message or "stopped by a signal during training")
            else:
                try:
                    write_outputs(out, config, problem, result, plots=outputs, stop=stop.is_set)
                except KeyboardInterrupt:  # the FEM reference honours a stop request after its level
                    if not stop.is_set():
                        raise
                    raise PhaseStopped("FEM reference") from None
    except PhaseStopped as err:
        result.status = "interrupted"
        result.message = (f"stopped during the {err.phase}; the checkpoint holds the trained network: --resume "
                          "finishes the remaining phases without retraining")
        mark_status(out, config, "interrupted", result.message)
    except KeyboardInterrupt:
        mark_status(out, config, "interrupted", "stopped by a signal before the run's outputs were written")
        raise
    except BaseException as err:
        mark_status(out, config, "failed", f"{type(err).__name__}: {err}")
        raise
    return result


class PhaseStopped(Exception):
    """A stop request (SIGINT/SIGTERM) honoured between the phases after training."""

    def __init__(self, phase: str) -> None:
        super().__init__(phase)
        self.phase = phase


def _training_done(config: RunConfig, result: Result) -> bool:
    from ritzhrta.schedule import schedule_steps

    return len(result.history) >= schedule_steps(config.stages())


def resume_run(out: str | os.PathLike, progress: bool = True, outputs: bool = True) -> Result:
    """Continue the run in ``out`` from its last checkpoint and rewrite its outputs."""
    out = Path(out)
    with run_folder_lock(out):
        config = read_config(out)
        if config.adaptive:  # nothing to resume inside the adaptive route: it starts again, on the saved threads
            apply_threads(config, hint=progress)
            return _run_adaptive(config, out, progress, outputs)
        state, note = latest_checkpoint(out)  # a kill between the two copies can leave only the previous one
        if note:
            print(f"ritzhrta: {note}", file=sys.stderr)
        threads, load = apply_threads(config, hint=progress)
        return _finish(config, out, state, progress, outputs, threads, load)


def update_config(out: Path, changes: dict) -> RunConfig:
    """Write ``changes`` (settings of :data:`~ritzhrta.outputs.config.RESUMABLE`) into a run folder's
    config.json, validated as a whole; returns the new config."""
    from ritzhrta.outputs.config import RESUMABLE

    foreign = sorted(set(changes) - set(RESUMABLE))
    if foreign:
        raise ValueError(f"{', '.join(foreign)} cannot change on resume; a resume may change {', '.join(RESUMABLE)}")
    data = json.loads((Path(out) / "config.json").read_text())
    config = RunConfig.from_dict({**data, **changes})
    _write_json(Path(out) / "config.json", {**data, **changes})
    return config


def read_config(out: Path) -> RunConfig:
    path = Path(out) / "config.json"
    if not path.exists():
        raise ValueError(f"{out} is not a run folder (no config.json)")
    return config_file(path)


def config_file(path: str | os.PathLike) -> RunConfig:
    """Read a JSON or TOML (``.toml``) config file as data (never evaluated)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"config file {path} does not exist")
    text = path.read_text()
    try:
        if path.suffix == ".toml":
            try:
                import tomllib
            except ImportError:  # Python 3.10
                raise ValueError("TOML config files need Python >= 3.11; use a JSON file") from None
            data = tomllib.loads(text)
        else:
            data = json.loads(text)
    except ValueError as err:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise ValueError(f"{path} is not valid {'TOML' if path.suffix == '.toml' else 'JSON'}: {err}") from None
    return RunConfig.from_dict(data)


def load_run(out: str | os.PathLike):
    """(config, problem, net with the checkpoint's parameters, history) of a run folder."""
    out = Path(out)
    config = read_config(out)
    if not (out / "checkpoint.pt").exists():
        raise ValueError(f"{out} has no checkpoint.pt")
    state = load_checkpoint(out / "checkpoint.pt")
    problem = config.build_problem()
    net = config.build_model(problem, config.stages()[0].s_at(0))
    net.load_state_dict(state["net"])
    return config, problem, net, History.from_dict(state["history"])


def write_outputs(out: Path, config: RunConfig, problem, result: Result, plots: bool = True, stop=None) -> None:
    """summary.json, history.csv and (with ``plots``) loss.png, solution.png, solution.vtu.
    With ``reference="fem"`` the FEM reference is computed first and its errors, facts and
    field go into the summary, the plot and the VTK file. ``stop()`` is asked before each phase
    (reference, plots, VTK): True raises :class:`PhaseStopped` (summary.json is then not "finished")."""

    def phase(name: str) -> None:
        if stop is not None and stop():
            raise PhaseStopped(name)

    check_folder(out)
    summary = {"problem": config.problem, "loss": config.loss, "schedule": config.schedule,
               "network": repr(result.net), "config": config.to_dict(), "torch": torch.__version__,
               "threads": getattr(result, "threads", torch.get_num_threads()),
               "load_average_at_start": getattr(result, "load_at_start", None), "machine": platform.machine(),
               "rollbacks": getattr(result, "rollbacks", 0), "settings_not_used": unused_settings(config),
               **result.summary()}
    reference = None
    if config.reference == "fem" and len(result.history) and result.status in ("finished", "stopped"):
        from ritzhrta.reference.fem import DEFAULT_TOL, fem_reference, reference_errors

        phase("FEM reference")
        reference = fem_reference(problem, tol=config.reference_tol or DEFAULT_TOL, stop=stop)
        result.reference_errors = reference_errors(result.net, reference)
        summary["reference"] = reference.summary()
        summary["errors_vs_reference"] = result.reference_errors
    with atomic_write(out / "history.csv") as tmp:
        result.history.write_csv(tmp)
    if problem.dim > 3:  # VTK and plots of the field exist for 1D-3D (ritzhrta.geometry.meshing.check_drawable)
        summary["outputs_not_written"] = "solution.png, solution.vtu: VTK and plots are for 1D-3D domains"
        if plots and len(result.history):
            from ritzhrta.outputs.plotting import plot_history

            plot_history(result.history, out / "loss.png", title=f"{config.problem}: {config.loss} loss")
    elif plots and len(result.history):
        from ritzhrta.outputs.plotting import plot_history, plot_solution

        phase("plots")
        plot_history(result.history, out / "loss.png", title=f"{config.problem}: {config.loss} loss")
        resolution = config.resolution if problem.dim < 3 else min(config.resolution, 40)
        plot_solution(result.net, problem, out / "solution.png", resolution=config.resolution, reference=reference)
        phase("VTK file")
        write_vtk(out / "solution.vtu", result.net, problem=problem, resolution=resolution, reference=reference,
                  indicator=getattr(result, "estimate_net", None))
    phase("summary")  # a stop during the last output: not "finished" (resume writes them again)
    _write_json(out / "summary.json", summary)  # last: "finished" only once every output is written


_GRADIENT_SETTINGS = ("lr", "optimizer", "lr_decay", "keep_optimizer", "plateau", "resample_every", "compile")


def unused_settings(config: RunConfig) -> dict:
    """The settings in config.json that this run's trainer and loss do not read (each has a
    value because config.json keeps one schema): listed so that nobody reads them as applied."""
    unused = []
    if all(st.trainer != "gradient" for st in config.stages()):
        unused += list(_GRADIENT_SETTINGS)
    if config.loss != "ritz":
        unused += ["dirichlet", "beta"]
    if config.features != "sigma":
        unused += ["k", "ntk_scaling", "init"]
    if config.trainer == "highdim" and config.features != "ridge":
        unused += ["width"]  # the high-dimensional route sizes its own bases
    return {name: getattr(config, name) for name in unused}


def mark_status(out: Path, config: RunConfig, status: str, message: str) -> None:
    """Write ``status`` ("failed", "interrupted") and ``message`` into summary.json, keeping what
    it already holds (the progress of the last checkpoint); a folder that is gone is left gone."""
    path = out / "summary.json"
    if not out.is_dir():
        return
    try:
        summary = json.loads(path.read_text()) if path.exists() else {}
    except (OSError, ValueError):
        summary = {}
    summary.setdefault("problem", config.problem)
    summary.setdefault("config", config.to_dict())
    summary.update(status=status, message=message, checkpoint=(out / "checkpoint.pt").exists())
    try:
        _write_json(path, summary)
    except OSError:  # a full disk has no room for a temporary file: overwrite in place, the status alone,
        try:  # in the blocks the old summary frees (a summary left "running" would say the run goes on)
            with open(path, "w") as fh:
                fh.write(json.dumps({"problem": summary.get("problem"), "status": status, "message": message}))
        except OSError:
            pass  # nothing can be written there; the exit code still says it


def _write_json(path: Path, data) -> None:
    with atomic_write(path) as tmp:
        Path(tmp).write_text(json.dumps(data, indent=2, default=str) + "\n")
