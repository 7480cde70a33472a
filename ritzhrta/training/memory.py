"""Memory a run will need, checked before anything is allocated (issue 27).

The model is the measured one of ``benchmarks/memory.py`` (results/memory.md, float64, d = 2):
peak ≈ c · n·m·(d+1)·8 bytes for n points and width m, with c = 2.1 for gradient steps (Adam)
and c = 3.05 for a least-squares solve (Galerkin, residual); Gauss–Newton adds its Gram
matrix p²·8 bytes and the Jacobian rows n·(d+1)·p·8 bytes (p parameters). float32 halves the
per-value size. A run that needs more than :data:`FRACTION` of the memory available is refused
with the number and how to reduce it.
"""
from __future__ import annotations

import os

__all__ = ["estimate_bytes", "available_bytes", "check_memory", "FRACTION"]

FRACTION = 0.8
FACTORS = {"gradient": 2.1, "galerkin": 3.05, "alternating": 3.05, "gauss-newton": 3.05}


def estimate_bytes(trainer: str, width: int, points: int, dim: int, dtype_bytes: int = 8, depth: int = 1) -> float:
    """Peak bytes of a run with ``points`` training points and a width-``width`` network (the
    highdim trainer: its own largest dense solve, :func:`ritzhrta.training.highdim.route_bytes`)."""
    if trainer == "highdim":
        from ritzhrta.training.highdim import route_bytes

        return route_bytes(dim, width=width or None)
    values = points * width * (dim + 1) * depth
    total = FACTORS.get(trainer, 3.05) * values * dtype_bytes
    if trainer in ("galerkin", "alternating"):
        total += 3 * width * width * 8  # the solve's m × m factors
    if trainer == "gauss-newton":
        p = width * (dim + 2) + (depth - 1) * width * width
        total += p * p * 8 + points * (dim + 1) * p * 8
    return total


def available_bytes() -> float | None:
    """MemAvailable of /proc/meminfo, else the physical memory; None where neither is known."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(trainer: str, width: int, points: int, dim: int, dtype_bytes: int = 8, depth: int = 1,
                 available: float | None = None) -> float:
    """The estimate in bytes, or a one-line ``ValueError`` when it exceeds FRACTION of what is available."""
    need = estimate_bytes(trainer, width, points, dim, dtype_bytes, depth)
    have = available_bytes() if available is None else available
    if have is not None and need > FRACTION * have:
        gib = 2 ** 30
        if trainer == "highdim":
            raise ValueError(f"the high-dimensional route needs about {need / gib:.1f} GiB in {dim} dimensions (its "
                             f"largest dense solve) but {have / gib:.1f} GiB are available")
        raise ValueError(f"this run needs about {need / gib:.1f} GiB (width {width} × {points} points × {dim + 1} "
                         f"values, {trainer}; model in benchmarks/results/memory.md) but {have / gib:.1f} GiB are "
                         "available: lower --width, --points or --quadrature")
    return need
