"""Two problems of W. F. Mitchell's collection for adaptive refinement ("A collection of 2D
elliptic problems for testing adaptive grid refinement algorithms", NIST, 2013): a sharp
peak and a circular wave front on the unit square, Dirichlet data from the exact solution
(used on ∂Ω only by the routes, and for checking)."""
from __future__ import annotations

import torch
from torch import Tensor

from ritzhrta.geometry.domains import Box
from ritzhrta.problem import Problem


def peak(points: int = 1024, alpha: float = 1000.0, centre: tuple = (0.5, 0.5)) -> Problem:
    """−Δu = f on (0,1)², u* = exp(−α|x − c|²), α = 1000, c = (½, ½) (Mitchell's "peak")."""
    c = torch.tensor(centre, dtype=torch.float64)

    def u(x: Tensor) -> Tensor:
        return torch.exp(-alpha * ((x - c.to(x)) ** 2).sum(1))

    def grad(x: Tensor) -> Tensor:
        return -2 * alpha * (x - c.to(x)) * u(x)[:, None]

    def f(x: Tensor) -> Tensor:  # −Δu = (4α − 4α²|x − c|²) u in 2D
        return (4 * alpha - 4 * alpha ** 2 * ((x - c.to(x)) ** 2).sum(1)) * u(x)

    return Problem(Box([0, 0], [1, 1]), source=f, dirichlet=u, exact=u, exact_grad=grad, name="peak",
                   points=points)


def wave_front(points: int = 1024, alpha: float = 50.0, centre: tuple = (-0.05, -0.05),
               radius: float = 0.7, name: str = "wave-front") -> Problem:
    """−Δu = f on (0,1)², u* = atan(α(r − r₀)), r = |x − c|, α = 50, c = (−0.05, −0.05), r₀ = 0.7 (not one of
    Mitchell's sets: his "mild" centre and radius with α = 50; his own: wave-front-mild, wave-front-well)."""
    c = torch.tensor(centre, dtype=torch.float64)

    def parts(x: Tensor):
        d = x - c.to(x)
        r = torch.sqrt((d ** 2).sum(1))
        s = alpha * (r - radius)
        return d, r, s

    def u(x: Tensor) -> Tensor:
        return torch.atan(alpha * (torch.sqrt(((x - c.to(x)) ** 2).sum(1)) - radius))

    def grad(x: Tensor) -> Tensor:
        d, r, s = parts(x)
        return (alpha / (1 + s ** 2) / r)[:, None] * d

    def f(x: Tensor) -> Tensor:  # −Δu = −(u'' + u'/r) for a radial u in 2D
        _, r, s = parts(x)
        du = alpha / (1 + s ** 2)
        d2u = -2 * alpha ** 2 * s / (1 + s ** 2) ** 2
        return -(d2u + du / r)

    return Problem(Box([0, 0], [1, 1]), source=f, dirichlet=u, exact=u, exact_grad=grad, name=name,
                   points=points)


def wave_front_mild(points: int = 1024) -> Problem:
    """Mitchell's wave front "mild": u* = atan(α(r − r₀)), α = 20, c = (−0.05, −0.05), r₀ = 0.7."""
    return wave_front(points, 20.0, (-0.05, -0.05), 0.7, name="wave-front-mild")


def wave_front_well(points: int = 1024) -> Problem:
    """Mitchell's wave front "well": u* = atan(α(r − r₀)), α = 50, c = (0.5, 0.5), r₀ = 0.25."""
    return wave_front(points, 50.0, (0.5, 0.5), 0.25, name="wave-front-well")
