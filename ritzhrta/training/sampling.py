"""Training point sets of a solve: fixed, or redrawn every ``every`` steps."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ritzhrta.training.dist import shard
from ritzhrta.geometry.domains import Points

__all__ = ["Sampler"]


@dataclass
class Sampler:
    """Interior and boundary training points of ``problem``'s domain (this rank's share of
    them in a distributed solve: :func:`ritzhrta.training.dist.shard`).

    Draw number r uses the seed ``seed + 1000003·r`` (the boundary ``+ 1``), so a run
    that made r draws is restored exactly by :meth:`redraw`. With ``rule = (order, cells)``
    the points are the domain's Gauss quadrature instead (fixed, never redrawn).
    """

    problem: object
    n: int
    method: str
    boundary_n: int
    seed: int
    every: int
    dtype: torch.dtype
    device: torch.device
    rule: tuple[int, int] | None = None
    draws: int = 0
    interior: Points = field(init=False)
    boundary: Points | None = field(init=False)

    def __post_init__(self) -> None:
        self.draw()

    def draw(self) -> None:
        dom = self.problem.domain
        if self.rule is not None:
            self.interior = shard(dom.quadrature(*self.rule, dtype=self.dtype, device=self.device))
            self.boundary = shard(dom.boundary_quadrature(*self.rule, dtype=self.dtype, device=self.device))
            self.draws += 1
            return
        seed = self.seed + 1000003 * self.draws
        self.interior = shard(dom.interior(self.n, self.method, seed, self.dtype, self.device))
        self.boundary = shard(dom.boundary(self.boundary_n, self.method, seed + 1, self.dtype, self.device))
        self.draws += 1

    def step(self, global_step: int) -> None:
        """Redraw when ``global_step`` is a positive multiple of ``every``."""
        if self.every and global_step and global_step % self.every == 0:
            self.draw()

    def redraw(self, draws: int) -> None:
        """Restore the point set of a run that had made ``draws`` draws."""
        self.draws = draws - 1
        self.draw()
