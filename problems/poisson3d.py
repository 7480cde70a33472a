"""3D problems: the unit cube (manufactured solution) and the shipped 3D mesh."""
from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import Tensor

from ritzhrta.geometry.domains import Box
from ritzhrta.geometry.mesh_domain import MeshDomain
from ritzhrta.problem import Problem

PI = math.pi
MESHES = Path(__file__).resolve().parent / "meshes"


def _sin3(x: Tensor) -> Tensor:
    return torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1]) * torch.sin(PI * x[:, 2])


def _sin3_grad(x: Tensor) -> Tensor:
    s, c = torch.sin(PI * x), torch.cos(PI * x)
    return PI * torch.stack([c[:, 0] * s[:, 1] * s[:, 2], s[:, 0] * c[:, 1] * s[:, 2], s[:, 0] * s[:, 1] * c[:, 2]], 1)


def dirichlet3d(points: int = 4096) -> Problem:
    """−Δu = f on (0,1)³, u = 0 on ∂Ω, u* = sin(πx)sin(πy)sin(πz), f = 3π²u*."""
    return Problem(Box([0, 0, 0], [1, 1, 1]), source=lambda x: 3 * PI ** 2 * _sin3(x),
                   dirichlet=lambda x: torch.zeros_like(x[:, 0]), exact=_sin3, exact_grad=_sin3_grad,
                   name="poisson3d-dirichlet", points=points)


def part3d(mesh: str | None = None, points: int = 4096) -> Problem:
    """−Δu = 1 on a cube with a bore (problems/meshes/part3d.msh), u = 0 on "base", ∂u/∂n = 0 elsewhere.

    No exact solution: compare with the FEM reference (``--reference fem``). ``mesh``: another
    tetrahedron mesh with boundary tags "base" and "rest".
    """
    domain = MeshDomain(mesh or MESHES / "part3d.msh")
    return Problem(domain, source=1.0, dirichlet={"base": 0.0}, neumann={"rest": 0.0}, name="part3d",
                   points=points, sampling="random")
