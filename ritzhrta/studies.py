"""Controlled comparisons: several schedules × optimizers × lr decays over several seeds.

Everything else is identical per seed: the initial parameters (one network per seed,
copied for each run), the training points, and the total step budget (checked).
"""
from __future__ import annotations

import copy
import math
import statistics
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping, Sequence

from torch import nn

from .losses import H1Loss
from .problem import Problem, Target
from .results import History
from .schedule import LR_DECAYS, OPTIMIZERS, PRESETS, Stage, parse_schedule, schedule_steps
from .solver import DivergenceError, solve

__all__ = ["compare", "Comparison", "parse_schedule_set", "tune_lr", "DEFAULT_LR", "LR_GRID"]

DEFAULT_LR = {"adam": 1e-3, "sgd": 1e-2, "lbfgs": 1.0}
LR_GRID = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1)


def parse_schedule_set(text: str, steps: int) -> dict[str, tuple[Stage, ...]]:
    """'baseline,homotopy,0.25:2000,0.5:2000,1:12000' → {label: stages}.

    Preset names stand alone (with ``steps`` total); consecutive 's:steps' items form one
    schedule; ';' separates two custom schedules that would otherwise run together.
    """
    out: dict[str, tuple[Stage, ...]] = {}
    for group in text.split(";"):
        pending: list[str] = []
        for item in [t.strip() for t in group.split(",") if t.strip()]:
            if item in PRESETS:
                if pending:
                    out[",".join(pending)] = parse_schedule(",".join(pending))
                    pending = []
                out[item] = PRESETS[item](steps)
            else:
                pending.append(item)
        if pending:
            out[",".join(pending)] = parse_schedule(",".join(pending))
    if not out:
        raise ValueError("no schedules given")
    return out


@dataclass
class Comparison:
    """Rows (one per run) and the histories, keyed by configuration label."""

    rows: list[dict] = field(default_factory=list)
    histories: dict[str, list[History]] = field(default_factory=dict)
    stage_starts: dict[str, list[int]] = field(default_factory=dict)

    def summary(self) -> list[dict]:
        """Median, min and max over seeds of final loss and relative errors, per configuration."""
        out = []
        for label in dict.fromkeys(r["config"] for r in self.rows):
            rs = [r for r in self.rows if r["config"] == label]
            entry = {"config": label, "seeds": len(rs), "diverged": sum(r["status"] == "diverged" for r in rs)}
            for key in ("final_loss", "rel_l2", "rel_h1", "cpu_seconds"):
                vals = [r[key] for r in rs if isinstance(r[key], float) and math.isfinite(r[key])]
                entry[key] = (statistics.median(vals), min(vals), max(vals)) if vals else (math.nan,) * 3
            out.append(entry)
        return out

    def markdown(self) -> str:
        lines = ["| configuration | seeds | final loss | rel L² | rel H¹ | CPU s |", "|---|---|---|---|---|---|"]
        fmt = lambda t: f"{t[0]:.2e} [{t[1]:.1e}, {t[2]:.1e}]"  # noqa: E731
        for e in self.summary():
            div = f" ({e['diverged']} diverged)" if e["diverged"] else ""
            lines.append(f"| {e['config']} | {e['seeds']}{div} | {fmt(e['final_loss'])} | {fmt(e['rel_l2'])} | "
                         f"{fmt(e['rel_h1'])} | {e['cpu_seconds'][0]:.1f} |")
        return "\n".join(lines) + "\n"


def compare(problem: Problem | Target, schedules: Mapping[str, Sequence[Stage]], make_net: Callable[[int], nn.Module],
            *, seeds: Sequence[int] = (0, 1, 2), optimizers: Sequence[str] = ("adam",),
            lr_decays: Sequence[str] = ("none",), lr: Mapping[str, float] | None = None, loss: Callable = H1Loss(),
            points: int | None = None, sampling: str | None = None, log: Callable[[str], None] | None = None,
            **solve_kwargs) -> Comparison:
    """Run every schedule × optimizer × lr decay for every seed; see :class:`Comparison`.

    ``make_net(seed)`` builds the initial network of a seed (called once per seed).
    ``lr`` maps optimizer name → learning rate (defaults: :data:`DEFAULT_LR`).
    """
    budgets = {label: schedule_steps(st) for label, st in schedules.items()}
    if len(set(budgets.values())) != 1:
        raise ValueError(f"schedules must share one step budget for a fair comparison, got {budgets}")
    for name in optimizers:
        if name not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}")
    for name in lr_decays:
        if name not in LR_DECAYS:
            raise ValueError(f"lr decay must be one of {LR_DECAYS}, got {name!r}")
    rates = {**DEFAULT_LR, **(lr or {})}
    result = Comparison()
    for seed in seeds:
        initial = make_net(seed)
        for label, stages in schedules.items():
            for opt in optimizers:
                for decay in lr_decays:
                    config = " / ".join([label] + ([opt] if len(optimizers) > 1 else [])
                                        + ([decay] if len(lr_decays) > 1 else []))
                    run = tuple(replace(st, optimizer=opt, lr_decay=decay, lr=st.lr or rates[opt]) for st in stages)
                    net = copy.deepcopy(initial)
                    cpu = _cpu()
                    try:
                        r = solve(problem, net, run, loss=loss, points=points, sampling=sampling, seed=seed,
                                  progress=False, **solve_kwargs)
                    except DivergenceError as err:
                        r = err.result
                    row = {"config": config, "schedule": label, "optimizer": opt, "lr": rates[opt],
                           "lr_decay": decay, "seed": seed, "status": r.status, "steps": len(r.history),
                           "final_loss": r.final_loss, "rel_l2": r.errors.get("l2", math.nan),
                           "rel_h1": r.errors.get("h1", math.nan), "cpu_seconds": _cpu() - cpu}
                    result.rows.append(row)
                    result.histories.setdefault(config, []).append(r.history)
                    result.stage_starts[config] = r.history.stage_starts()
                    if log:
                        log(f"seed {seed} {config}: loss {row['final_loss']:.3e} rel H1 {row['rel_h1']:.3e}")
    return result


def tune_lr(problem: Problem | Target, make_net: Callable[[int], nn.Module], optimizer: str, steps: int,
            grid: Sequence[float] = LR_GRID, loss: Callable = H1Loss(), s: float = 1.0, **solve_kwargs) -> float:
    """The learning rate of ``grid`` with the lowest final loss after ``steps`` steps (seed 0)."""
    best, best_loss = None, math.inf
    for rate in grid:
        net = make_net(0)
        try:
            r = solve(problem, net, (Stage(steps, s, lr=rate, optimizer=optimizer),), loss=loss, progress=False,
                      **solve_kwargs)
        except DivergenceError:
            continue
        if math.isfinite(r.final_loss) and r.final_loss < best_loss:
            best, best_loss = rate, r.final_loss
    if best is None:
        raise ValueError(f"every learning rate in {list(grid)} diverged for {optimizer}")
    return best


def _cpu() -> float:
    return time.process_time()
