"""Run folders: a :class:`RunConfig` (everything needed to rerun exactly), and the files

    config.json  summary.json  history.csv  loss.png  solution.png  solution.vtu  checkpoint.pt

written by :func:`run`, continued by :func:`resume_run`, re-read by :func:`load_run`.
"""
from __future__ import annotations

import dataclasses
import json
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .homotopy import PRESETS, Plateau, Stage, format_schedule, parse
from .io import atomic_write, load_checkpoint, save_checkpoint, write_vtk
from .networks import MLP, TwoLayerNet
from .results import History, Result
from .solve import DivergenceError, solve

__all__ = ["RunConfig", "run", "resume_run", "load_run", "write_outputs", "FILES"]

FILES = ("config.json", "summary.json", "history.csv", "loss.png", "solution.png", "solution.vtu", "checkpoint.pt")


@dataclass(frozen=True)
class RunConfig:
    """The settings of a run; ``schedule`` is the text form (see :func:`ritzhrta.parse`)."""

    problem: str
    schedule: str = field(default_factory=lambda: format_schedule(PRESETS["homotopy"](6000)))
    loss: str = "h1"
    width: int = 1000
    k: int = 3
    depth: int = 1
    ntk_scaling: bool = True
    lr: float = 1e-3
    optimizer: str = "adam"
    lr_decay: str = "none"
    keep_optimizer: bool = False
    plateau: list | None = None
    points: int | None = None
    sampling: str | None = None
    resample_every: int = 0
    beta: float = 100.0
    seed: int = 0
    device: str = "cpu"
    dtype: str = "float32"
    checkpoint_every: int = 1000
    resolution: int = 150

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunConfig":
        """Build from parsed JSON; unknown keys are an error, never ignored."""
        if not isinstance(data, dict):
            raise ValueError(f"a run config must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown config key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def stages(self) -> tuple[Stage, ...]:
        until = Plateau(*self.plateau) if self.plateau else None
        return parse(self.schedule, optimizer=self.optimizer, lr_decay=self.lr_decay, until=until,
                     keep_optimizer=self.keep_optimizer)

    def build_problem(self):
        import problems

        return problems.get(self.problem)

    def build_net(self, dim: int, s0: float) -> torch.nn.Module:
        torch.manual_seed(self.seed)
        if not isinstance(self.depth, int) or self.depth < 1:
            raise ValueError(f"depth must be an integer >= 1, got {self.depth!r}")
        if self.depth == 1:
            net = TwoLayerNet(dim, self.width, k=self.k, s=s0, ntk_scaling=self.ntk_scaling)
        else:
            net = MLP(dim, [self.width] * self.depth, k=self.k, s=s0, ntk_scaling=self.ntk_scaling)
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype!r}")
        return net.to(device=torch.device(self.device), dtype=getattr(torch, self.dtype))


def _solve(config: RunConfig, out: Path, resume: dict | None, progress: bool):
    problem, stages = config.build_problem(), config.stages()
    net = config.build_net(problem.dim, stages[0].s_at(0))
    ckpt = out / "checkpoint.pt"
    try:
        result = solve(problem, net, stages, loss=config.loss, lr=config.lr, points=config.points,
                       sampling=config.sampling, resample_every=config.resample_every, seed=config.seed,
                       beta=config.beta, progress=progress, checkpoint=lambda state: save_checkpoint(ckpt, state),
                       checkpoint_every=config.checkpoint_every, resume=resume)
    except DivergenceError as err:
        result = err.result
    return problem, result


def run(config: RunConfig, out: str | os.PathLike, progress: bool = True, outputs: bool = True) -> Result:
    """Solve as configured and write the run folder ``out`` (created if needed)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _write_json(out / "config.json", config.to_dict())
    problem, result = _solve(config, out, None, progress)
    write_outputs(out, config, problem, result, plots=outputs)
    return result


def resume_run(out: str | os.PathLike, progress: bool = True, outputs: bool = True) -> Result:
    """Continue the run in ``out`` from its last checkpoint and rewrite its outputs."""
    out = Path(out)
    config = read_config(out)
    if not (out / "checkpoint.pt").exists():
        raise ValueError(f"{out} has no checkpoint.pt to resume from")
    state = load_checkpoint(out / "checkpoint.pt")
    problem, result = _solve(config, out, state, progress)
    write_outputs(out, config, problem, result, plots=outputs)
    return result


def read_config(out: Path) -> RunConfig:
    path = Path(out) / "config.json"
    if not path.exists():
        raise ValueError(f"{out} is not a run folder (no config.json)")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON: {err}") from None
    return RunConfig.from_dict(data)


def load_run(out: str | os.PathLike):
    """(config, problem, net with the checkpoint's parameters, history) of a run folder."""
    out = Path(out)
    config = read_config(out)
    if not (out / "checkpoint.pt").exists():
        raise ValueError(f"{out} has no checkpoint.pt")
    state = load_checkpoint(out / "checkpoint.pt")
    problem = config.build_problem()
    net = config.build_net(problem.dim, config.stages()[0].s_at(0))
    net.load_state_dict(state["net"])
    return config, problem, net, History.from_dict(state["history"])


def write_outputs(out: Path, config: RunConfig, problem, result: Result, plots: bool = True) -> None:
    """summary.json, history.csv and (with ``plots``) loss.png, solution.png, solution.vtu."""
    summary = {"problem": config.problem, "loss": config.loss, "schedule": config.schedule,
               "network": repr(result.net), "config": config.to_dict(), "torch": torch.__version__,
               "threads": torch.get_num_threads(), "machine": platform.machine(), **result.summary()}
    _write_json(out / "summary.json", summary)
    with atomic_write(out / "history.csv") as tmp:
        result.history.write_csv(tmp)
    if plots and len(result.history):
        from .plotting import plot_history, plot_solution

        plot_history(result.history, out / "loss.png", title=f"{config.problem}: {config.loss} loss")
        resolution = config.resolution if problem.dim < 3 else min(config.resolution, 40)
        plot_solution(result.net, problem, out / "solution.png", resolution=config.resolution)
        write_vtk(out / "solution.vtu", result.net, problem=problem, resolution=resolution)


def _write_json(path: Path, data) -> None:
    with atomic_write(path) as tmp:
        Path(tmp).write_text(json.dumps(data, indent=2, default=str) + "\n")
