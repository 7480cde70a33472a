"""The torch thread count of a run, chosen by measurement (benchmarks/results/threads.md).

On this project's 2-core machine one H¹ Adam step of width 100 × 1024 points ran no
faster with 2 threads than with 1 (and used twice the CPU); from width 1000 × 1024 up,
2 threads took 0.57–0.62× the wall time of 1 thread on an idle machine; with one core
busy, 2 threads gained at most 1.1× and lost up to 2.8×. A run that uses 2 threads when
idle is therefore ≥ 1.7× slower once another process takes a core, which breaks the
project's bound for its default runs (busy ≤ 1.5× idle wall time; the default problems
are width 1000 × 1024 points). So: one thread below width × points = 4·10⁶ (the default
runs are 10⁶) or when the load leaves no core free, otherwise all cores.
"""
from __future__ import annotations

import os

__all__ = ["default_threads", "machine_load", "BREAK_EVEN"]

BREAK_EVEN = 4_000_000  # width × points from which a run uses all cores (when the machine is idle)


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
