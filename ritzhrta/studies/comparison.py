"""Controlled comparisons: several schedules × optimizers × lr decays over several seeds.

Everything else is identical per seed: the initial parameters (one network per seed,
copied for each run), the training points, and the total step budget (checked).
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping, Sequence

from torch import nn

from ritzhrta.forms.losses import H1Loss, L2Loss
from ritzhrta.problem import Problem, Target
from ritzhrta.outputs.results import History
from ritzhrta.schedule import LR_DECAYS, OPTIMIZERS, PRESETS, Stage, parse_schedule, reset_only, restart_steps, schedule_steps
from ritzhrta.training.solver import DivergenceError, solve
from ritzhrta.studies.sweep import RunSpec, run_specs

__all__ = ["compare", "Comparison", "parse_schedule_set", "tune_lr", "with_controls", "DEFAULT_LR", "LR_GRID"]

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


def with_controls(schedules: Mapping[str, Sequence[Stage]], s: float = 1.0
                  ) -> tuple[dict[str, tuple[Stage, ...]], dict[str, str]]:
    """Add the reset-only control (:func:`ritzhrta.schedule.reset_only`) of every schedule
    that restarts the optimizer and changes s; returns (schedules, {label: control label}).

    A control is labelled by its restart steps ("reset-only at 750"; "at plateau" for a
    plateau-triggered switch); schedules with the same control share one.
    """
    out: dict[str, tuple[Stage, ...]] = {}
    controls: dict[str, str] = {}
    for label, stages in schedules.items():
        out[label] = tuple(stages)
        control = reset_only(stages, s)
        restarts = restart_steps(stages)
        if not restarts or control == tuple(stages):
            continue
        name = "reset-only at " + ",".join("plateau" if t is None else str(t) for t in restarts)
        while (name in out or name in schedules) and out.get(name) != control:
            name += "'"
        out[name] = control  # next to the first schedule it controls
        controls[label] = name
    return out, controls


@dataclass
class Comparison:
    """Rows (one per run) and the histories, keyed by configuration label.

    ``controls`` maps a schedule label to its reset-only control's label; ``metric`` is the
    error used for paired per-seed win counts (``"rel_l2"`` or ``"rel_h1"``); ``baselines``
    maps a schedule label to the label it is paired with as its baseline (default: the
    schedule labelled "baseline").
    """

    rows: list[dict] = field(default_factory=list)
    histories: dict[str, list[History]] = field(default_factory=dict)
    stage_starts: dict[str, list[int]] = field(default_factory=dict)
    controls: dict[str, str] = field(default_factory=dict)
    metric: str = "rel_h1"
    baselines: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_csv(cls, path, metric: str = "rel_h1") -> "Comparison":
        """The comparison of a written compare.csv (no histories): its table can be rebuilt.

        The pairing comes from the rows' "control" and "paired_baseline" columns.
        """
        import csv

        with open(path, newline="") as fh:
            raw = list(csv.DictReader(fh))
        numeric = ("lr", "final_loss", "rel_l2", "rel_h1", "cpu_seconds")
        rows = [{**r, **{k: float(r[k]) for k in numeric if k in r}, "seed": int(r["seed"]), "steps": int(r["steps"])}
                for r in raw]
        controls = {r["schedule"]: r["control"] for r in rows if r.get("control")}
        baselines = {r["schedule"]: r["paired_baseline"] for r in rows if r.get("paired_baseline")}
        return cls(rows=rows, controls=controls, metric=metric, baselines=baselines)

    def wins(self, config: str, other: str, key: str | None = None) -> tuple[int, int]:
        """(seeds where ``config`` has the lower error than ``other``, seeds with both finite).

        Runs with the same seed start from the same parameters, so this is a paired count.
        """
        key = key or self.metric
        a = {r["seed"]: r[key] for r in self.rows if r["config"] == config}
        b = {r["seed"]: r[key] for r in self.rows if r["config"] == other}
        pairs = [(a[k], b[k]) for k in a.keys() & b.keys() if math.isfinite(a[k]) and math.isfinite(b[k])]
        return sum(x < y for x, y in pairs), len(pairs)

    def references(self, config: str) -> dict[str, str]:
        """The configurations ``config`` is paired with: its baseline and its reset-only control."""
        row = next(r for r in self.rows if r["config"] == config)
        schedule = row["schedule"]
        suffix = config[len(schedule):]  # " / adam / step" etc.
        configs = {r["config"] for r in self.rows}
        refs = {}
        base = self.baselines.get(schedule, "baseline")
        is_baseline = schedule == "baseline" or schedule in self.baselines.values()
        if not is_baseline and base + suffix in configs:
            refs["baseline"] = base + suffix
        control = self.controls.get(row["schedule"])
        if control and control + suffix in configs:
            refs["reset-only"] = control + suffix
        return refs

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
        """One row per configuration; with a baseline or controls present, two more columns:
        paired wins (lower ``metric`` on the same seed) against the baseline and against the
        reset-only control, as "wins/seeds"."""
        paired = any(self.references(c) for c in dict.fromkeys(r["config"] for r in self.rows))
        head = "| configuration | seeds | final loss | rel L² | rel H¹ | CPU s |"
        rule = "|---|---|---|---|---|---|"
        if paired:
            name = {"rel_l2": "rel L²", "rel_h1": "rel H¹"}.get(self.metric, self.metric)
            head += f" wins vs baseline ({name}) | wins vs reset-only ({name}) |"
            rule += "---|---|"
        lines = [head, rule]
        fmt = lambda t: f"{t[0]:.2e} [{t[1]:.1e}, {t[2]:.1e}]"  # noqa: E731
        for e in self.summary():
            div = f" ({e['diverged']} diverged)" if e["diverged"] else ""
            line = (f"| {e['config']} | {e['seeds']}{div} | {fmt(e['final_loss'])} | {fmt(e['rel_l2'])} | "
                    f"{fmt(e['rel_h1'])} | {e['cpu_seconds'][0]:.1f} |")
            if paired:
                refs = self.references(e["config"])
                for which in ("baseline", "reset-only"):
                    line += (" {}/{} |".format(*self.wins(e["config"], refs[which])) if which in refs else " |")
            lines.append(line)
        return "\n".join(lines) + "\n"


def compare(problem: Problem | Target, schedules: Mapping[str, Sequence[Stage]], make_net: Callable[[int], nn.Module],
            *, seeds: Sequence[int] = (0, 1, 2), optimizers: Sequence[str] = ("adam",),
            lr_decays: Sequence[str] = ("none",), lr: Mapping[str, float] | None = None, loss: Callable = H1Loss(),
            points: int | None = None, sampling: str | None = None, log: Callable[[str], None] | None = None,
            controls: bool = False, metric: str | None = None, workers: int = 1, scheduler: str | None = None,
            out: str | None = None, progress: bool = False, tag: str = "", threads: int = 1,
            **solve_kwargs) -> Comparison:
    """Run every schedule × optimizer × lr decay for every seed; see :class:`Comparison`.

    ``make_net(seed)`` builds the initial network of a seed; it is called once per run and must
    give the same parameters for the same seed (seed torch inside it).
    ``lr`` maps optimizer name → learning rate (defaults: :data:`DEFAULT_LR`).
    ``controls``: also run each schedule's reset-only control (:func:`with_controls`), so the
    table shows how much of a gain comes from changing s and how much from restarting the
    optimizer. ``metric``: error for the paired win counts (default: rel L² for an
    :class:`~ritzhrta.forms.losses.L2Loss`, rel H¹ otherwise).

    Each run is a task of :func:`ritzhrta.studies.sweep.run_specs`: ``workers`` > 1 runs them on a
    local Dask cluster of single-threaded worker processes, ``scheduler`` on a running Dask
    scheduler; the rows are the same as in this process (the CPU seconds aside). ``out``:
    a folder where each run leaves its summary, so that a restarted sweep skips finished runs
    (``tag`` identifies the sweep's other settings, e.g. the command line, in that check).
    ``threads``: torch threads per run in this process (workers always use one).
    """
    if metric is None:
        metric = "rel_l2" if isinstance(loss, L2Loss) and getattr(loss, "order", 0) == 0 else "rel_h1"
    if metric not in ("rel_l2", "rel_h1"):
        raise ValueError(f"metric must be 'rel_l2' or 'rel_h1', got {metric!r}")
    control_of: dict[str, str] = {}
    if controls:
        schedules, control_of = with_controls(schedules)
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
    specs = []
    for seed in seeds:
        for label, stages in schedules.items():
            for opt in optimizers:
                for decay in lr_decays:
                    config = " / ".join([label] + ([opt] if len(optimizers) > 1 else [])
                                        + ([decay] if len(lr_decays) > 1 else []))
                    run = tuple(replace(st, optimizer=opt, lr_decay=decay, lr=st.lr or rates[opt]) for st in stages)
                    specs.append(RunSpec(key=f"{config} / seed {seed}", problem=problem, stages=run, make_net=make_net,
                                         seed=seed, loss=loss, points=points, sampling=sampling,
                                         solve_kwargs=dict(solve_kwargs), tag=tag,
                                         meta={"config": config, "schedule": label, "optimizer": opt,
                                               "lr": rates[opt], "lr_decay": decay,
                                               "control": control_of.get(label, "")}))
    result = Comparison(controls=control_of, metric=metric)
    for res in run_specs(specs, workers=workers, scheduler=scheduler, out=out, progress=progress, log=log,
                         threads=threads):
        row, history = res["row"], History.from_dict(res["history"])
        config = row["config"]
        result.rows.append(row)
        result.histories.setdefault(config, []).append(history)
        result.stage_starts[config] = history.stage_starts()
    return result


def tune_lr(problem: Problem | Target, make_net: Callable[[int], nn.Module], optimizer: str, steps: int,
            grid: Sequence[float] = LR_GRID, loss: Callable = H1Loss(), s: float = 1.0, **solve_kwargs) -> float:
    """The learning rate of ``grid`` with the lowest final loss after ``steps`` steps (seed 0)."""
    best, best_loss = None, math.inf
    for rate in grid:
        net = make_net(0)
        try:
            r = solve(problem, net, (Stage(steps, s, lr=rate, optimizer=optimizer),), loss=loss, progress=False,
                      **{"estimate": False, **solve_kwargs})
        except DivergenceError:
            continue
        if math.isfinite(r.final_loss) and r.final_loss < best_loss:
            best, best_loss = rate, r.final_loss
    if best is None:
        raise ValueError(f"every learning rate in {list(grid)} diverged for {optimizer}")
    return best

