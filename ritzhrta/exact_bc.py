"""Exact imposition of Dirichlet data (METHOD §7): u(x) = ĥ(x) + φ(x)·N(x).

φ ≥ 0 vanishes exactly on ∂Ω, so u = h on the boundary for every parameter of the network
N, and the Ritz energy needs no boundary term at all (`RitzLoss(dirichlet="exact")`).

- box [lo, hi]:  φ(x) = Π_i 4 (x_i − lo_i)(hi_i − x_i) / (hi_i − lo_i)²   (1 at the centre)
- disk (c, R):   φ(x) = 1 − |x − c|² / R²
- polygon (2D, edges [p_i, q_i]): the R-equivalence φ = 1 / Σ_i 1/φ_i of the edges' smooth
  approximate distance functions (Sukumar & Srivastava 2022): with L = |q − p|, c = (p + q)/2,
      f = ((x − p) × (q − p))/L,   t = ((L/2)² − |x − c|²)/L,   ϱ = √(t² + f⁴),
      φ_i = √(f² + ((ϱ − t)/2)²)
  (φ_i ≈ the distance to the segment near it, 0 only on it; φ > 0 inside, 0 on ∂Ω); ∇φ by
  autograd. On ∂Ω itself φ's gradient is not defined: there it is set to 0 (a set of measure
  zero; no quadrature or error point lies on it).
- ĥ: the Dirichlet data h itself, evaluated inside Ω (h is a function of x, so it is its
  own extension); ∇ĥ by autograd. When a problem's h is the formula of its exact solution
  (poisson2d-lshape), u = ĥ is already the answer: compare methods with Nitsche there.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

from .derivatives import value_and_grad
from .domains import Box, Disk, Domain
from .polygon import Polygon
from .problem import Problem, exact_gradient

__all__ = ["ExactDirichlet", "boundary_factor", "supports_exact"]


def supports_exact(problem) -> bool:
    """Whether :class:`ExactDirichlet` can carry ``problem``'s Dirichlet data: a Problem with
    data h on its whole boundary, on a domain :func:`boundary_factor` knows."""
    if not isinstance(problem, Problem) or problem.dirichlet is None or problem.dirichlet_where is not None:
        return False
    try:
        boundary_factor(problem.domain)
    except ValueError:
        return False
    return True


def boundary_factor(domain: Domain) -> Callable[[Tensor], tuple[Tensor, Tensor]]:
    """x ↦ (φ(x), ∇φ(x)) with φ > 0 in Ω and φ = 0 on ∂Ω (boxes, disks, polygons)."""
    if isinstance(domain, Box):
        lo, hi = torch.as_tensor(domain.lo), torch.as_tensor(domain.hi)

        def box(x: Tensor) -> tuple[Tensor, Tensor]:
            a, b = lo.to(x), hi.to(x)
            f = 4 * (x - a) * (b - x) / (b - a) ** 2  # (n, d), each factor 1 at the centre
            df = 4 * (a + b - 2 * x) / (b - a) ** 2
            phi = f.prod(1)
            grads = [df[:, i] * torch.cat([f[:, :i], f[:, i + 1:]], 1).prod(1) for i in range(x.shape[1])]
            return phi, torch.stack(grads, 1)

        return box
    if isinstance(domain, Disk):
        center, radius = torch.as_tensor(domain.center), domain.radius

        def disk(x: Tensor) -> tuple[Tensor, Tensor]:
            r = x - center.to(x)
            return 1 - (r ** 2).sum(1) / radius ** 2, -2 * r / radius ** 2

        return disk
    if isinstance(domain, Polygon):
        vertices = torch.as_tensor(domain.vertices)
        return lambda x: _with_gradient(lambda y: polygon_distance(y, vertices.to(y)), x)
    raise ValueError(f"exact Dirichlet imposition supports boxes, disks and polygons, not {domain!r}; "
                     "use Nitsche's method (dirichlet='nitsche') there")


def polygon_distance(x: Tensor, vertices: Tensor) -> Tensor:
    """φ(x) = 1 / Σ_i 1/φ_i(x) over the polygon's edges (see the module docstring), shape (n,)."""
    p, q = vertices, torch.roll(vertices, -1, 0)
    d = q - p
    length = d.norm(dim=1)
    rel = x[:, None, :] - p[None]
    f = (rel[..., 0] * d[:, 1] - rel[..., 1] * d[:, 0]) / length
    t = ((length / 2) ** 2 - ((x[:, None, :] - 0.5 * (p + q)[None]) ** 2).sum(-1)) / length
    tiny = torch.finfo(x.dtype).tiny
    rho = (t ** 2 + f ** 4).clamp_min(tiny).sqrt()
    phi_i = (f ** 2 + ((rho - t) / 2) ** 2).clamp_min(tiny).sqrt()
    return 1 / (1 / phi_i).sum(1)


def _with_gradient(fn: Callable[[Tensor], Tensor], x: Tensor) -> tuple[Tensor, Tensor]:
    """(fn(x), ∇fn(x)) by autograd; both stay differentiable in x when x requires grad."""
    with torch.enable_grad():
        xg = x if x.requires_grad else x.detach().requires_grad_(True)
        value = fn(xg)
        (grad,) = torch.autograd.grad(value.sum(), xg, create_graph=x.requires_grad)
    if not x.requires_grad:
        value = value.detach()
    return value, grad


class ExactDirichlet(nn.Module):
    """u(x) = ĥ(x) + φ(x)·N(x) around a ritzhrta network N (TwoLayerNet, MLP): u = h on ∂Ω.

    It behaves like N for the solver: ``s``, ``set_s``, ``dim``, ``k``, ``a``, ``c``,
    ``output_basis`` (φΦ and ∇(φΦ) = Φ∇φ + φ∇Φ), ``set_output``; ``offset`` gives (ĥ, ∇ĥ).
    The whole boundary must be Dirichlet (no ``dirichlet_where``).
    """

    def __init__(self, net: nn.Module, problem: Problem) -> None:
        super().__init__()
        if not isinstance(problem, Problem) or problem.dirichlet is None:
            raise ValueError("exact imposition needs a Problem with Dirichlet data (dirichlet=h)")
        if problem.dirichlet_where is not None:
            raise ValueError("exact imposition needs Dirichlet data on the whole boundary; with mixed "
                             "conditions use Nitsche's method (dirichlet='nitsche')")
        if not hasattr(net, "set_s") or net.dim != problem.dim:
            raise ValueError("ExactDirichlet wraps a ritzhrta network of the problem's dimension")
        self.net = net
        self.problem = problem
        self.factor = boundary_factor(problem.domain)

    # --- what the solver asks of a network --------------------------------------------
    @property
    def dim(self) -> int:
        return self.net.dim

    @property
    def k(self) -> int:
        return self.net.k

    @property
    def s(self) -> Tensor:
        return self.net.s

    @property
    def a(self) -> Tensor:
        return self.net.a

    @property
    def c(self):
        return self.net.c

    def set_s(self, s: float) -> None:
        self.net.set_s(s)

    def set_output(self, coef: Tensor) -> None:
        self.net.set_output(coef)

    # --- u = ĥ + φ N ---------------------------------------------------------------------
    def offset(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(ĥ(x), ∇ĥ(x))."""
        return self.problem.h(x), exact_gradient(self.problem.dirichlet, x)

    def forward(self, x: Tensor) -> Tensor:
        phi, _ = self.factor(x)
        return self.problem.h(x) + phi * self.net(x)

    def value_and_grad(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """u = ĥ + φN, ∇u = ∇ĥ + N∇φ + φ∇N."""
        phi, dphi = self.factor(x)
        n, dn = value_and_grad(self.net, x)
        h, dh = self.offset(x)
        return h + phi * n, dh + n[:, None] * dphi + phi[:, None] * dn

    def output_basis(self, x: Tensor, gradients: bool = False) -> tuple[Tensor, Tensor | None]:
        """φΦ and, when ``gradients``, Φ∇φ + φ∇Φ (the offset ĥ is not part of the basis)."""
        phi, dphi = self.factor(x)
        p, dp = self.net.output_basis(x, gradients)
        grads = None
        if gradients:
            grads = p[:, :, None] * dphi[:, None, :] + phi[:, None, None] * dp
        return phi[:, None] * p, grads

    def extra_repr(self) -> str:
        return f"u = h + φ·N on {self.problem.domain!r}"
