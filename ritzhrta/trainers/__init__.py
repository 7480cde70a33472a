"""Solve-stage trainers behind one protocol and one registry (issue 22).

A trainer is one module that defines ``TRAINER = Trainer(...)``: its name, how it runs (the rest
of) a stage, what it checks before a run, the defaults it brings when named without a size, and
a few facts the solver needs. :data:`REGISTRY` maps a name to that module: adding a trainer is
its file plus one line here. The stage loop (:mod:`ritzhrta.training.loop`) imports none of them; the
gradient trainer (Adam/SGD/L-BFGS steps) is the loop's own and is not listed.

    run(run, stage, iterations, record, resume=None, stop=None, saved=None) -> list of losses

``record(i, loss)`` after every iteration; ``stop()`` asked after every iteration: a trainer that
can stop inside a stage puts its resumable state into ``saved`` and returns; ``resume`` is that
state when the stage continues after a checkpoint.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

__all__ = ["Trainer", "REGISTRY", "get", "names"]


def _no_check(net, loss) -> None:
    return None


@dataclass(frozen=True)
class Trainer:
    """What a solve-stage trainer declares (see the module docstring)."""

    name: str
    run: Callable
    check: Callable = _no_check  # (net, loss) -> None, raises ValueError naming the alternative
    defaults: dict = field(default_factory=dict)  # width, k, dtype, schedule when named without them
    one_step: bool = False  # a stage is one solve: steps must be 1
    gauss_rule: bool = True  # trains on the domain's Gauss rule unless points are given
    distributed: bool = False  # can shard its points across torchrun ranks
    memory_factor: float = 3.05  # peak bytes / (points · width · (d + 1) · 8), benchmarks/results/memory.md
    ridge: Callable | None = None  # net -> the measured default ridge


REGISTRY: dict[str, str] = {
    "galerkin": ".galerkin",
    "gauss-newton": ".gauss_newton",
    "alternating": ".alternating",
    "highdim": ".highdim",
}


def get(name: str) -> Trainer:
    """The trainer registered as ``name`` (a ``ValueError`` naming the known ones otherwise)."""
    if name not in REGISTRY:
        raise ValueError(f"unknown trainer {name!r}; known: gradient, {', '.join(REGISTRY)}")
    module = REGISTRY[name]
    return importlib.import_module(module, __name__ if module.startswith(".") else None).TRAINER


def names() -> tuple[str, ...]:
    """The registered solve-stage trainers (the gradient trainer is the loop's own)."""
    return tuple(REGISTRY)
