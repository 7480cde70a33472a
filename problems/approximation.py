"""The paper's function-approximation tasks (METHOD §5).

The paper's exact targets were lost in extraction; we use smooth ones (stated here):
- ``approx1d``: u*(x) = sin(2πx) on [0, 1], 100 uniform grid points (``freq`` changes 2π·freq);
- ``approx3d``: u*(x) = sin(πx)sin(πy)sin(πz) on [0, 1]³, 125 points (5×5×5 grid).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from ritzhrta.geometry.domains import Box, Interval
from ritzhrta.problem import Target

PI = math.pi


def approx1d(freq: float = 1.0, points: int = 100) -> Target:
    """sin(2π·freq·x) on [0, 1]."""
    w = 2 * PI * freq
    return Target(Interval(0.0, 1.0), exact=lambda x: torch.sin(w * x[:, 0]),
                  exact_grad=lambda x: w * torch.cos(w * x), name="approx1d", points=points)


def _sin3(x: Tensor) -> Tensor:
    return torch.sin(PI * x).prod(1)


def _sin3_grad(x: Tensor) -> Tensor:
    s, c = torch.sin(PI * x), torch.cos(PI * x)
    return PI * torch.stack([c[:, 0] * s[:, 1] * s[:, 2], s[:, 0] * c[:, 1] * s[:, 2],
                             s[:, 0] * s[:, 1] * c[:, 2]], 1)


def approx3d(points: int = 125) -> Target:
    """sin(πx)sin(πy)sin(πz) on [0, 1]³."""
    return Target(Box([0, 0, 0], [1, 1, 1]), exact=_sin3, exact_grad=_sin3_grad, name="approx3d", points=points)
