"""Poisson problems on the unit cube in d dimensions (d = 2 … 20): where meshes cannot go."""
from __future__ import annotations

import math

import torch
from torch import Tensor

from ritzhrta.geometry.domains import Box
from ritzhrta.problem import Problem

PI = math.pi


def poisson_nd(dim: int = 5, points: int = 4096) -> Problem:
    """−Δu = (π²/4) Σ sin(πx_i/2) on [0,1]^d, u = u* on ∂Ω, u* = Σ_i sin(πx_i/2) (a PINN benchmark's; d = dim)."""
    _check_dim(dim)

    def u(x: Tensor) -> Tensor:
        return torch.sin(PI * x / 2).sum(1)

    def grad(x: Tensor) -> Tensor:
        return PI / 2 * torch.cos(PI * x / 2)

    return Problem(Box([0] * dim, [1] * dim), source=lambda x: PI ** 2 / 4 * u(x), dirichlet=u, exact=u,
                   exact_grad=grad, name="poisson-nd", points=points, sampling="sobol")


def gaussian_nd(dim: int = 5, points: int = 4096) -> Problem:
    """−Δu = f on [0,1]^d, u = u* on ∂Ω, u* = exp(−|x − c|²), c = (½, …, ½): not separable."""
    _check_dim(dim)

    def u(x: Tensor) -> Tensor:
        return torch.exp(-((x - 0.5) ** 2).sum(1))

    def grad(x: Tensor) -> Tensor:
        return -2 * (x - 0.5) * u(x)[:, None]

    def f(x: Tensor) -> Tensor:  # −Δu = (2d − 4|x − c|²) u
        return (2 * dim - 4 * ((x - 0.5) ** 2).sum(1)) * u(x)

    return Problem(Box([0] * dim, [1] * dim), source=f, dirichlet=u, exact=u, exact_grad=grad, name="gaussian-nd",
                   points=points, sampling="sobol")


def pairs_nd(dim: int = 5, points: int = 4096) -> Problem:
    """−Δu = (π²/2) u on [0,1]^d, u = u* on ∂Ω, u* = Σ_{i<d} sin(πx_i/2) cos(πx_{i+1}/2): a chain of
    two-coordinate products, neither additive nor a product (nor of low rank: d − 1 terms)."""
    _check_dim(dim)
    if dim < 2:
        raise ValueError(f"pairs-nd needs dim >= 2, got {dim}")

    def u(x: Tensor) -> Tensor:
        return (torch.sin(PI * x[:, :-1] / 2) * torch.cos(PI * x[:, 1:] / 2)).sum(1)

    def grad(x: Tensor) -> Tensor:
        s, c = torch.sin(PI * x / 2), torch.cos(PI * x / 2)
        g = torch.zeros_like(x)
        g[:, :-1] += PI / 2 * c[:, :-1] * c[:, 1:]
        g[:, 1:] -= PI / 2 * s[:, :-1] * s[:, 1:]
        return g

    return Problem(Box([0] * dim, [1] * dim), source=lambda x: PI ** 2 / 2 * u(x), dirichlet=u, exact=u,
                   exact_grad=grad, name="pairs-nd", points=points, sampling="sobol")


def ridge_nd(dim: int = 5, points: int = 4096) -> Problem:
    """−Δu = u on [0,1]^d, u = u* on ∂Ω, u* = sin(Σ_i x_i / √d): a ridge function (one direction
    matters), neither additive nor of low separation rank."""
    _check_dim(dim)
    root = math.sqrt(dim)

    def u(x: Tensor) -> Tensor:
        return torch.sin(x.sum(1) / root)

    def grad(x: Tensor) -> Tensor:
        return (torch.cos(x.sum(1) / root) / root)[:, None].expand_as(x).clone()

    return Problem(Box([0] * dim, [1] * dim), source=u, dirichlet=u, exact=u, exact_grad=grad, name="ridge-nd",
                   points=points, sampling="sobol")


def _check_dim(dim) -> None:
    if isinstance(dim, bool) or not isinstance(dim, int) or not 1 <= dim <= 100:
        raise ValueError(f"dim must be an integer in 1 … 100, got {dim!r}")


def poisson10d(points: int = 4096) -> Problem:
    """poisson-nd with d = 10: −Δu = (π²/4) Σ sin(πx_i/2) on [0,1]^10, u* = Σ sin(πx_i/2)."""
    return poisson_nd(10, points)


def poisson20d(points: int = 4096) -> Problem:
    """poisson-nd with d = 20: −Δu = (π²/4) Σ sin(πx_i/2) on [0,1]^20, u* = Σ sin(πx_i/2)."""
    return poisson_nd(20, points)


def gaussian10d(points: int = 4096) -> Problem:
    """gaussian-nd with d = 10: u* = exp(−|x − c|²) on [0,1]^10, c = (½, …, ½)."""
    return gaussian_nd(10, points)
