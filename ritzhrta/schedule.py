"""Stages of HRTA: data run by a plain loop (METHOD §3).

A schedule is a tuple of :class:`Stage`; composing schedules is tuple concatenation.
``Stage.s`` is a number or a function step -> s (e.g. a :class:`Ramp`); ``until`` is an
optional :class:`Plateau` rule that ends the stage early.
"""
from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass, replace
from typing import Callable, Sequence, Union

from ritzhrta import trainers
from ritzhrta.activations import check_s

__all__ = ["Stage", "Plateau", "Ramp", "baseline", "homotopy", "relaxation", "ladder", "PRESETS",
           "parse_schedule", "format_schedule", "schedule_steps", "reset_only", "restart_steps", "OPTIMIZERS", "LR_DECAYS", "TRAINERS",
           "SOLVE_TRAINERS"]

OPTIMIZERS = ("adam", "sgd", "lbfgs")
TRAINERS = ("gradient",) + trainers.names()  # as registered at import (ritzhrta.trainers.REGISTRY)
SOLVE_TRAINERS = trainers.names()  # no optimizer, lr or plateau rule
LR_DECAYS = ("none", "step", "cosine")


@dataclass(frozen=True)
class Ramp:
    """s(t) = start + (end − start)·min(t / (steps − 1), 1): a linear ramp that takes the
    values start … end at steps t = 0 … steps − 1, both ends included (steps = 1: s = end).

    A Ramp over its whole stage (``parse_schedule("0.5-1:5")``) therefore ends the stage at
    its stated end value: 0.5, 0.625, 0.75, 0.875, 1.

    >>> [Ramp(0.5, 1.0, 5)(t) for t in range(5)]
    [0.5, 0.625, 0.75, 0.875, 1.0]
    """

    start: float
    end: float
    steps: int

    def __post_init__(self) -> None:
        check_s(self.start)
        check_s(self.end)
        if isinstance(self.steps, bool) or not isinstance(self.steps, numbers.Integral) or self.steps < 1:
            raise ValueError(f"Ramp steps must be a positive integer, got {self.steps!r}")

    def __call__(self, t: int) -> float:
        if self.steps == 1:
            return float(self.end)
        return self.start + (self.end - self.start) * min(t / (self.steps - 1), 1.0)


@dataclass(frozen=True)
class Plateau:
    """Fires when the best loss of the last ``window`` steps improved on the best of the
    ``window`` steps before by less than ``rel_tol`` (relative), after ``min_steps``.

    min(L[t−w:t]) > (1 − rel_tol) · min(L[t−2w:t−w])  ⇒ plateau.
    """

    window: int = 500
    rel_tol: float = 0.05
    min_steps: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.window, numbers.Integral) or self.window < 1:
            raise ValueError(f"Plateau window must be a positive integer, got {self.window!r}")
        if not (0 < self.rel_tol < 1):
            raise ValueError(f"Plateau rel_tol must lie in (0, 1), got {self.rel_tol!r}")
        if not isinstance(self.min_steps, numbers.Integral) or self.min_steps < 0:
            raise ValueError(f"Plateau min_steps must be an integer >= 0, got {self.min_steps!r}")

    @property
    def check_every(self) -> int:
        """How often (in steps) the solver asks :meth:`fired`."""
        return max(1, self.window // 10)

    def fired(self, losses: Sequence[float]) -> bool:
        """Decide on the losses recorded so far in the current stage."""
        t, w = len(losses), self.window
        if t < max(2 * w, self.min_steps):
            return False
        recent, before = min(losses[t - w:]), min(losses[t - 2 * w:t - w])
        return recent > (1 - self.rel_tol) * before


SValue = Union[float, Callable[[int], float]]


@dataclass(frozen=True)
class Stage:
    """One stage of HRTA: train ``steps`` steps with activation parameter ``s``.

    s: a number in [0, 2) or a function step -> s (step counted from the stage start).
    lr: learning rate (None: the solver's default). optimizer: "adam" | "sgd" | "lbfgs".
    lr_decay: "none" | "step" (×0.1 at 50 % and 75 % of the stage) | "cosine" (to 0).
    until: optional :class:`Plateau` that ends the stage early.
    keep_optimizer: reuse the previous stage's optimizer state (default False: a fresh
    optimizer per stage, i.e. Adam's moments are reset at each switch).
    trainer: "gradient" (the optimizer above) or "alternating" (exact least-squares
    solves of both layers, :mod:`ritzhrta.training.analytic`; ``steps`` is then its iteration cap
    and ``ridge`` its relative ridge, None for :data:`ritzhrta.training.lstsq.DEFAULT_RIDGE`;
    two-layer nets with k = 1, L² or H¹ loss), "galerkin" (one exact output-layer solve
    for the frozen hidden layer: ``steps`` must be 1) or "gauss-newton" (Gauss–Newton /
    energy natural gradient on all parameters, :mod:`ritzhrta.training.gauss_newton`; ``steps`` is
    its iteration cap).
    refit_output_every: every that many steps, replace the output layer by its exact
    least-squares solution (:func:`ritzhrta.training.lstsq.fit_output_layer`); with
    ``reset_output_state`` (default) the optimizer's state of the output weights is reset
    then, since Adam's moments are stale once the weights are replaced.
    """

    steps: int
    s: SValue = 1.0
    lr: float | None = None
    optimizer: str = "adam"
    lr_decay: str = "none"
    until: Plateau | None = None
    keep_optimizer: bool = False
    trainer: str = "gradient"
    ridge: float | None = None
    refit_output_every: int = 0
    reset_output_state: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.refit_output_every, bool) or not isinstance(self.refit_output_every, numbers.Integral) \
                or self.refit_output_every < 0:
            raise ValueError(f"refit_output_every must be an integer >= 0, got {self.refit_output_every!r}")
        known = ("gradient",) + trainers.names()
        if self.trainer not in known:
            raise ValueError(f"trainer must be one of {known}, got {self.trainer!r}")
        if self.trainer != "gradient":
            if callable(self.s):
                raise ValueError(f"a {self.trainer} stage needs a constant s (a ramp changes s every step)")
            if self.until is not None or self.lr_decay != "none" or self.keep_optimizer or self.refit_output_every:
                raise ValueError(f"a {self.trainer} stage has no learning rate, optimizer state, refits or plateau "
                                 "rule: it stops on its own tolerance (leave until, lr_decay, keep_optimizer, "
                                 "refit_output_every unset)")
            if trainers.get(self.trainer).one_step and self.steps != 1:
                raise ValueError(f"a {self.trainer} stage is one exact solve: steps must be 1, got {self.steps}")
        if self.ridge is not None and not (isinstance(self.ridge, (int, float)) and math.isfinite(self.ridge)
                                           and self.ridge >= 0):
            raise ValueError(f"ridge must be a finite number >= 0, got {self.ridge!r}")
        if isinstance(self.steps, bool) or not isinstance(self.steps, numbers.Integral) or self.steps < 1:
            raise ValueError(f"Stage steps must be a positive integer, got {self.steps!r}")
        if callable(self.s):
            check_s(self.s(0))
        else:
            check_s(self.s)
        if self.lr is not None and not (isinstance(self.lr, numbers.Real) and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"Stage lr must be a finite number > 0, got {self.lr!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.lr_decay not in LR_DECAYS:
            raise ValueError(f"lr_decay must be one of {LR_DECAYS}, got {self.lr_decay!r}")
        if self.until is not None and not isinstance(self.until, Plateau):
            raise TypeError(f"until must be a Plateau or None, got {type(self.until).__name__}")

    def s_at(self, t: int) -> float:
        """The activation parameter at step t of this stage (validated)."""
        return check_s(self.s(t)) if callable(self.s) else float(self.s)

    def lr_factor(self, t: int) -> float:
        """Multiplier of the learning rate at step t of this stage."""
        if self.lr_decay == "step":
            return 0.1 ** ((t >= self.steps // 2) + (t >= 3 * self.steps // 4))
        if self.lr_decay == "cosine":
            return 0.5 * (1 + math.cos(math.pi * t / self.steps))
        return 1.0


def schedule_steps(schedule: Sequence[Stage]) -> int:
    """Total step budget of a schedule."""
    return sum(stage.steps for stage in schedule)


def restart_steps(schedule: Sequence[Stage]) -> list[int | None]:
    """Steps at which a fresh optimizer starts after the first stage (None: when a plateau fires).

    A stage starts a fresh optimizer unless it has ``keep_optimizer``; a stage that follows
    a :class:`Plateau` stage starts at a data-dependent step, reported as None.
    """
    out: list[int | None] = []
    t: int | None = 0
    for prev, stage in zip(schedule, schedule[1:]):
        t = None if t is None or prev.until is not None else t + prev.steps
        if not stage.keep_optimizer:
            out.append(t)
    return out


def reset_only(schedule: Sequence[Stage], s: float = 1.0) -> tuple[Stage, ...]:
    """The reset-only control of a schedule: every stage as given (steps, optimizer, lr,
    decay, plateau rule, fresh optimizer per stage) but with s held at ``s`` (default 1,
    the ReLU^k baseline). Comparing a schedule with its control separates the effect of
    changing s from that of restarting the optimizer at the stage switches.

    >>> format_schedule(reset_only(homotopy(16000)))
    '1:3000,1:13000'
    """
    check_s(s)
    return tuple(replace(stage, s=float(s)) for stage in schedule)


def ladder(values: Sequence[SValue], steps: Sequence[int], **stage_kwargs) -> tuple[Stage, ...]:
    """Stages with the given s values and step counts (other Stage fields shared)."""
    if len(values) != len(steps) or not values:
        raise ValueError(f"need as many s values as step counts (≥ 1), got {len(values)} and {len(steps)}")
    return tuple(Stage(n, s, **stage_kwargs) for s, n in zip(values, steps))


def _split(total: int, fractions: Sequence[float]) -> list[int]:
    if isinstance(total, bool) or not isinstance(total, numbers.Integral) or total < len(fractions):
        raise ValueError(f"total steps must be an integer >= {len(fractions)}, got {total!r}")
    first = [max(1, round(total * f)) for f in fractions[:-1]]
    return first + [total - sum(first)]


def baseline(steps: int = 16000, **kw) -> tuple[Stage, ...]:
    """Plain training with ReLU^k (s = 1) for ``steps`` steps."""
    return ladder([1.0], [steps], **kw)


def homotopy(steps: int = 16000, start: float = 0.5, **kw) -> tuple[Stage, ...]:
    """HRTA homotopy: s = ``start`` for 3/16 of the steps, then s = 1 (paper: 3000 + 13000)."""
    return ladder([start, 1.0], _split(steps, [3 / 16, 13 / 16]), **kw)


def relaxation(steps: int = 16000, end: float = 1.5, **kw) -> tuple[Stage, ...]:
    """HRTA relaxation: s = 1 for 3/16 of the steps, then s = ``end`` (e.g. 1.5)."""
    return ladder([1.0, end], _split(steps, [3 / 16, 13 / 16]), **kw)


PRESETS: dict[str, Callable[..., tuple[Stage, ...]]] = {
    "baseline": baseline, "homotopy": homotopy, "relaxation": relaxation}

_NUM = r"[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?"
_ITEM = re.compile(rf"^\s*({_NUM})(?:\s*-\s*({_NUM}))?\s*:\s*([0-9]+)\s*$")


def parse_schedule(text: str, **stage_kwargs) -> tuple[Stage, ...]:
    """Parse "s:steps,s:steps,..." into stages; "a-b:steps" is a linear ramp from a to b
    (a at the stage's first step, b at its last: see :class:`Ramp`).

    >>> [(st.s, st.steps) for st in parse_schedule("0.5:3000,1:13000")]
    [(0.5, 3000), (1.0, 13000)]
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("a schedule must be a non-empty string like '0.5:3000,1:13000'")
    stages = []
    for item in text.split(","):
        m = _ITEM.match(item)
        if not m:
            raise ValueError(f"cannot read schedule item {item.strip()!r}: expected 's:steps' or 'a-b:steps'")
        a, b, n = float(m.group(1)), m.group(2), int(m.group(3))
        if n < 1:
            raise ValueError(f"schedule item {item.strip()!r} has no steps")
        s = a if b is None else Ramp(a, float(b), n)
        stages.append(Stage(n, s, **stage_kwargs))
    return tuple(stages)


def format_schedule(schedule: Sequence[Stage]) -> str:
    """The inverse of :func:`parse_schedule` for constant and :class:`Ramp` stages.

    >>> format_schedule(homotopy(16000))
    '0.5:3000,1:13000'
    """
    items = []
    for st in schedule:
        if isinstance(st.s, Ramp):
            if st.s.steps != st.steps:
                raise ValueError("a Ramp whose length differs from its stage has no text form")
            items.append(f"{_num(st.s.start)}-{_num(st.s.end)}:{st.steps}")
        elif callable(st.s):
            raise ValueError("a stage with a custom s function has no text form")
        else:
            items.append(f"{_num(st.s)}:{st.steps}")
    return ",".join(items)


def _num(x: float) -> str:
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text
