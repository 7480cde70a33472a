"""The torch thread count of a run, chosen by measurement (benchmarks/results/threads.md).

On this project's 2-core machine one H¹ Adam step of width 100 × 1024 points ran no
faster with 2 threads than with 1 (and used twice the CPU), width 1000 × 1024 ran 1.7×
faster idle (0.57–0.62× the wall time from 1000 × 1024 up); with one core busy, 2 threads gained at
most 1.1× and lost up to 2.8× (small sizes). So: one thread
for small problems or on a busy machine, otherwise all cores.
"""
from __future__ import annotations

import os

__all__ = ["default_threads", "machine_load", "BREAK_EVEN"]

BREAK_EVEN = 200_000  # width × points above which a second thread pays off on an idle machine


def machine_load() -> float:
    """The 1-minute load average (0 where the platform has none)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


def default_threads(width: int, points: int, cores: int | None = None, load: float | None = None) -> int:
    """1 if width × points < :data:`BREAK_EVEN` or the other load leaves less than one core
    free (load average > cores − 1), else the number of cores."""
    cores = cores or os.cpu_count() or 1
    load = machine_load() if load is None else load
    if cores == 1 or width * points < BREAK_EVEN or load > cores - 1:
        return 1
    return cores
