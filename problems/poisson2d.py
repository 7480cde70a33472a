"""The 2D Poisson family on (0, 1)² and the L-shape (manufactured exact solutions)."""
from __future__ import annotations

import math

import torch
from torch import Tensor

from ritzhrta.geometry.domains import Box
from ritzhrta.geometry.polygon import LShape
from ritzhrta.problem import Problem

PI = math.pi


def _coscos(x: Tensor) -> Tensor:
    return torch.cos(PI * x[:, 0]) * torch.cos(PI * x[:, 1])


def _coscos_grad(x: Tensor) -> Tensor:
    c, s = torch.cos(PI * x), torch.sin(PI * x)
    return torch.stack([-PI * s[:, 0] * c[:, 1], -PI * c[:, 0] * s[:, 1]], 1)


def sinsin(x: Tensor) -> Tensor:
    return torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1])


def sinsin_grad(x: Tensor) -> Tensor:
    c, s = torch.cos(PI * x), torch.sin(PI * x)
    return torch.stack([PI * c[:, 0] * s[:, 1], PI * s[:, 0] * c[:, 1]], 1)


def neumann(points: int = 1024) -> Problem:
    """−Δu = f on (0,1)², ∂u/∂n = 0, u* = cos(πx)cos(πy) (mean zero), f = 2π²u*."""
    return Problem(Box([0, 0], [1, 1]), source=lambda x: 2 * PI ** 2 * _coscos(x), exact=_coscos,
                   exact_grad=_coscos_grad, name="poisson2d-neumann", points=points)


def screened(points: int = 1024) -> Problem:
    """−Δu + u = f on (0,1)², ∂u/∂n = 0, u* = cos(πx)cos(πy), f = (2π² + 1)u*."""
    return Problem(Box([0, 0], [1, 1]), source=lambda x: (2 * PI ** 2 + 1) * _coscos(x), potential=1.0,
                   exact=_coscos, exact_grad=_coscos_grad, name="screened-poisson2d", points=points)


def dirichlet(points: int = 1024) -> Problem:
    """−Δu = f on (0,1)², u = 0 on ∂Ω, u* = sin(πx)sin(πy), f = 2π²u*."""
    return Problem(Box([0, 0], [1, 1]), source=lambda x: 2 * PI ** 2 * sinsin(x),
                   dirichlet=lambda x: torch.zeros_like(x[:, 0]), exact=sinsin, exact_grad=sinsin_grad,
                   name="poisson2d-dirichlet", points=points)


def _polar(x: Tensor) -> tuple[Tensor, Tensor]:
    r = torch.sqrt((x ** 2).sum(1))
    theta = torch.remainder(torch.atan2(x[:, 1], x[:, 0]), 2 * PI)  # in [0, 2π)
    return r, theta


def _corner(x: Tensor) -> Tensor:
    r, theta = _polar(x)
    return r ** (2 / 3) * torch.sin(2 * theta / 3)


def _corner_grad(x: Tensor) -> Tensor:
    r, theta = _polar(x)  # ∇u = (2/3) r^(−1/3) (−sin(θ/3), cos(θ/3))
    factor = (2 / 3) * r ** (-1 / 3)
    return torch.stack([-factor * torch.sin(theta / 3), factor * torch.cos(theta / 3)], 1)


def lshape(points: int = 1024) -> Problem:
    """−Δu = 0 on the L-shape (−1,1)² \\ [0,1)×(−1,0], u = u* on ∂Ω, u* = r^(2/3) sin(2θ/3).

    The singular corner benchmark: ∇u* blows up like r^(−1/3) at the re-entrant corner.
    """
    return Problem(LShape(), source=0.0, dirichlet=_corner, exact=_corner, exact_grad=_corner_grad,
                   name="poisson2d-lshape", points=points)


def lshape_mixed(points: int = 1024) -> Problem:
    """−Δu = 2π² sin(πx)sin(πy) on the L-shape, u* = r^(2/3) sin(2θ/3) + sin(πx)sin(πy).

    The corner singularity plus a smooth part with a source: a basis that holds the singular
    function still has to resolve the rest (poisson2d-lshape's u* is the singular function alone).
    """
    return Problem(LShape(), source=lambda x: 2 * PI ** 2 * sinsin(x), dirichlet=lambda x: _corner(x) + sinsin(x),
                   exact=lambda x: _corner(x) + sinsin(x), exact_grad=lambda x: _corner_grad(x) + sinsin_grad(x),
                   name="lshape-mixed", points=points)
