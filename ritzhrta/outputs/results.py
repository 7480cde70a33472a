"""What a solve returns: the per-step :class:`History`, per-stage reports, errors."""
from __future__ import annotations

import csv
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from torch import nn

__all__ = ["History", "StageReport", "Result", "StepInfo"]


@dataclass
class StepInfo:
    """Passed to a solve callback after each step."""

    step: int
    stage: int
    s: float
    loss: float
    lr: float
    net: nn.Module


@dataclass
class History:
    """Per-step records (step, stage, s, loss, lr, time) and optional error records."""

    step: list[int] = field(default_factory=list)
    stage: list[int] = field(default_factory=list)
    s: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    time: list[float] = field(default_factory=list)
    errors: list[dict[str, float]] = field(default_factory=list)

    COLUMNS = ("step", "stage", "s", "loss", "lr", "time")

    def __len__(self) -> int:
        return len(self.step)

    def append(self, step: int, stage: int, s: float, loss: float, lr: float, time: float) -> None:
        for name, value in zip(self.COLUMNS, (step, stage, s, loss, lr, time)):
            getattr(self, name).append(value)

    def record_errors(self, step: int, errors: dict[str, float]) -> None:
        self.errors.append({"step": step, **errors})

    def to_dict(self) -> dict[str, list]:
        return {name: list(getattr(self, name)) for name in self.COLUMNS + ("errors",)}

    @classmethod
    def from_dict(cls, data: dict[str, list]) -> "History":
        return cls(**{name: list(data[name]) for name in cls.COLUMNS + ("errors",)})

    def stage_starts(self) -> list[int]:
        """The step numbers at which each stage after the first begins."""
        return [self.step[i] for i in range(1, len(self)) if self.stage[i] != self.stage[i - 1]]

    def write_csv(self, path) -> None:
        """Write the per-step table (plus error columns, blank where not recorded)."""
        errs = {e["step"]: e for e in self.errors}
        keys = sorted({k for e in self.errors for k in e if k != "step"})
        with open(path, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(list(self.COLUMNS) + [f"rel_{k}" for k in keys])
            for i in range(len(self)):
                row = [getattr(self, c)[i] for c in self.COLUMNS]
                e = errs.get(self.step[i], {})
                w.writerow(row + [e.get(k, "") for k in keys])


@dataclass
class StageReport:
    """One stage's summary."""

    index: int
    s_start: float
    s_end: float
    steps: int
    loss_start: float
    loss_end: float
    seconds: float
    stopped_early: bool


@dataclass
class Result:
    """The trained ``net``, its :class:`History`, stage reports and relative errors."""

    net: nn.Module
    history: History
    stages: list[StageReport]
    errors: dict[str, float]
    initial_errors: dict[str, float]
    wall_seconds: float
    cpu_seconds: float
    status: str = "finished"
    rollbacks: int = 0
    message: str = ""
    compiled_steps: int = 0
    estimate: dict | None = None  # {"h1": η, "method", "tol", "resolved", "warnings", "cpu_seconds"} or a reason
    estimate_net: tuple | None = None  # (the second draw or the reference network, factor): the local indicator

    @property
    def final_loss(self) -> float:
        return self.history.loss[-1] if len(self.history) else math.nan

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary (no network)."""
        return {"status": self.status, "message": self.message, "steps": len(self.history), "final_loss": self.final_loss,
                "best_loss": min(self.history.loss) if len(self.history) else None,
                "errors": self.errors, "initial_errors": self.initial_errors,
                "wall_seconds": self.wall_seconds, "cpu_seconds": self.cpu_seconds,
                "steps_per_second": len(self.history) / self.wall_seconds if self.wall_seconds else None,
                "stages": [asdict(r) for r in self.stages], "estimate": self.estimate}
