"""2D problems on a mesh file and with variable coefficients."""
from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from ritzhrta.geometry.domains import Box
from ritzhrta.geometry.mesh_domain import MeshDomain
from ritzhrta.problem import Problem

from .poisson2d import PI, sinsin, sinsin_grad

MESHES = Path(__file__).resolve().parent / "meshes"


def plate_hole(mesh: str | None = None, points: int = 2048) -> Problem:
    """−Δu = 1 on a plate with a hole (problems/meshes/plate_hole.msh), u = 0 on "outer", ∂u/∂n = 1 on "hole".

    Mixed conditions from the gmsh physical groups; no exact solution: compare with the FEM
    reference (``--reference fem``). ``mesh``: another triangle mesh with boundary tags
    "outer" and "hole".
    """
    domain = MeshDomain(mesh or MESHES / "plate_hole.msh")
    return Problem(domain, source=1.0, dirichlet={"outer": 0.0}, neumann={"hole": 1.0}, name="plate-hole",
                   points=points, sampling="random")


def two_material(points: int = 1024, contrast: float = 10.0) -> Problem:
    """−∇·(a∇u) = 1 on (0,1)², u = 0 on ∂Ω, a = 1 for x < 1/2 and a = 10 for x > 1/2.

    Two materials: ∇u jumps across x = 1/2 (a∂u/∂x is continuous); ``interface`` ψ = x − 1/2
    gives the networks the input |ψ| (ritzhrta.InterfaceNet). No exact solution: compare with
    the FEM reference, whose meshes are aligned with the interface.
    """
    if not contrast > 0:
        raise ValueError(f"contrast must be > 0, got {contrast}")

    def a(x: Tensor) -> Tensor:
        return torch.where(x[:, 0] < 0.5, torch.ones_like(x[:, 0]), torch.full_like(x[:, 0], float(contrast)))

    return Problem(Box([0, 0], [1, 1]), source=1.0, diffusion=a, dirichlet=lambda x: torch.zeros_like(x[:, 0]),
                   interface=lambda x: x[:, 0] - 0.5, name="two-material", points=points)


def smooth_coefficient(points: int = 1024) -> Problem:
    """−∇·(a∇u) = f on (0,1)², u = 0, a = 1 + x² + y², u* = sin(πx)sin(πy), f = −∇a·∇u* + 2π²a u*."""
    def a(x: Tensor) -> Tensor:
        return 1 + (x ** 2).sum(1)

    def f(x: Tensor) -> Tensor:
        return -(2 * x * sinsin_grad(x)).sum(1) + 2 * PI ** 2 * a(x) * sinsin(x)

    return Problem(Box([0, 0], [1, 1]), source=f, diffusion=a, dirichlet=lambda x: torch.zeros_like(x[:, 0]),
                   exact=sinsin, exact_grad=sinsin_grad, name="smooth-coefficient", points=points)
