"""The strong-form least-squares loss (METHOD §4b): the PDE's residual in L².

For −∇·(a∇u) + V·u = f in Ω, u = h on Γ_D, a∂_n u = g on Γ_N:

    L(u) = Σ_i ω_i R(x_i)² + μ Σ_{Γ_D} ω_j (u − h)² + μ Σ_{Γ_N} ω_j (a∂_n u − g)²,
    R = −a·Δu − ∇a·∇u + V·u − f

(a pure Neumann problem adds (Σ ω u)² for the free constant). u = Σ c_j ψ_j makes every
term a residual that is linear in c, so the output solve is one least-squares problem
min ‖M c − y‖ solved by an SVD of the (column-scaled) rows: the condition number is
cond(M), not cond(M)² as in the Ritz energy's normal equations, and analytic features
(:class:`~ritzhrta.nets.features.RandomFeatureNet`) reach 1e-10 where the Ritz solve stops
near 1e-7 (``benchmarks/features.py``). The residual R is also the error indicator of the
run. It needs second derivatives: a smooth coefficient a (no interface) and features with
a Laplacian (σ_s^k with k ≥ 2, analytic features), or autograd for other networks.
μ = :data:`DEFAULT_BOUNDARY_WEIGHT` (measured insensitive between 1 and 1e4).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ritzhrta.nets.derivatives import value_and_grad
from ritzhrta.geometry.domains import Points
from ritzhrta.problem import Problem

__all__ = ["ResidualLoss", "network_laplacian", "pde_residual", "coefficient_grad", "residual_rule",
           "DEFAULT_BOUNDARY_WEIGHT",
           "ROWS_PER_UNKNOWN"]

DEFAULT_BOUNDARY_WEIGHT = 100.0
# The residual solve's default rule: the domain's Gauss rule with as few cells as give at least
# ROWS_PER_UNKNOWN interior points per unknown (benchmarks/results/features.md, control rows
# "-fullrule": the same errors as the full default rule at width 400, 3.6-24x less CPU time).
ROWS_PER_UNKNOWN = 4


def residual_rule(domain, unknowns: int) -> tuple[int, int]:
    """(order, cells): the domain's default rule, coarsened to ~ROWS_PER_UNKNOWN points per unknown."""
    order, cells = domain.default_rule()
    if domain.meshed:  # a mesh: the lowest order per cell that gives the points
        for low in range(1, order + 1):
            if len(domain.quadrature(low, 1)) >= ROWS_PER_UNKNOWN * unknowns:
                return low, 1
        return order, cells
    per_cell = len(domain.quadrature(order, 1)) / order ** domain.dim
    need = math.ceil((ROWS_PER_UNKNOWN * unknowns / per_cell) ** (1 / domain.dim) / order)
    return order, max(2, min(cells, need))


def network_laplacian(net: nn.Module, x: Tensor) -> Tensor:
    """Δu (n,): closed form for two-layer nets (``output_laplacian``), autograd otherwise."""
    if hasattr(net, "output_laplacian") and hasattr(net, "a"):
        lap = net.output_laplacian(x)
        return lap[:, :net.a.numel()] @ net.a
    with torch.enable_grad():
        xg = x.detach().requires_grad_(True)
        _, g = value_and_grad(net, xg, closed_form=False)
        total = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        for j in range(x.shape[1]):
            (gj,) = torch.autograd.grad(g[:, j].sum(), xg, create_graph=True, allow_unused=True)
            if gj is not None:
                total = total + gj[:, j]
    return total


def coefficient_grad(problem: Problem, x: Tensor) -> Tensor | None:
    """∇a at x (None when a is constant), by autograd of the problem's coefficient."""
    if not callable(problem.diffusion):
        return None
    with torch.enable_grad():
        xg = x.detach().requires_grad_(True)
        a = problem.a(xg)
        if not a.requires_grad:
            return torch.zeros_like(x)
        (g,) = torch.autograd.grad(a.sum(), xg, allow_unused=True)
    return torch.zeros_like(x) if g is None else g.detach()


def pde_residual(net: nn.Module, problem: Problem, x: Tensor) -> Tensor:
    """R = f − (−∇·(a∇u) + V·u) at x, shape (n,) (differentiable in the parameters)."""
    u, g = value_and_grad(net, x)
    r = problem.f(x) + problem.a(x) * network_laplacian(net, x) - problem.V(x) * u
    da = coefficient_grad(problem, x)
    return r if da is None else r + (da * g).sum(1)


@dataclass(frozen=True)
class ResidualLoss:
    """The strong-form least-squares loss (see the module doc); ``boundary_weight`` is μ."""

    boundary_weight: float = DEFAULT_BOUNDARY_WEIGHT
    mean_penalty: float = 1.0
    name = "residual"
    needs_exact = False
    uses_grads = True
    uses_laplacian = True
    dirichlet = "residual"

    def __post_init__(self) -> None:
        for field in ("boundary_weight", "mean_penalty"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
                raise ValueError(f"{field} must be a finite number > 0, got {value!r}")

    def uses_boundary(self, problem) -> bool:
        return isinstance(problem, Problem)

    def uses_boundary_normal(self, problem) -> bool:
        return isinstance(problem, Problem)

    def check(self, problem) -> None:
        if not isinstance(problem, Problem):
            raise ValueError("the residual loss needs a PDE Problem; a Target has only the 'l2'/'h1' losses")
        if problem.interface is not None:
            raise ValueError(f"problem {problem.name!r} has a coefficient that jumps across an interface: the "
                             "strong-form residual is not defined there; use the Ritz energy (--loss ritz)")

    def _boundary_parts(self, problem: Problem, boundary: Points):
        dmask = problem.dirichlet_mask(boundary.x)
        sw = torch.sqrt(self.boundary_weight * boundary.w.double())
        return dmask, sw

    def __call__(self, net: nn.Module, problem, interior: Points, boundary: Points | None = None,
                 closed_form: bool = True) -> Tensor:
        self.check(problem)
        if boundary is None or boundary.normals is None:
            raise ValueError("the residual loss needs boundary points with outward normals")
        value = (interior.w * pde_residual(net, problem, interior.x) ** 2).sum()
        ub, gb = value_and_grad(net, boundary.x, closed_form)
        dmask = problem.dirichlet_mask(boundary.x)
        wb = self.boundary_weight * boundary.w
        if bool(dmask.any()):
            value = value + (wb * dmask * (ub - torch.where(dmask, _h(problem, boundary.x, dmask), 0)) ** 2).sum()
        flux = problem.a(boundary.x) * (gb * boundary.normals).sum(1) - problem.g(boundary.x)
        if problem.has_robin:  # a∂u/∂n + κu − g
            flux = flux + problem.kappa(boundary.x) * ub
        value = value + (wb * (~dmask) * flux ** 2).sum()
        if problem.pure_neumann:
            value = value + self.mean_penalty * (interior.w * net(interior.x)).sum() ** 2
        return value

    def rows(self, problem, interior: Points, cols, boundary: Points | None = None) -> tuple[Tensor, Tensor]:
        """(M, y) with loss = ‖M c − y‖² for u = Σ c_j ψ_j (``cols`` with Laplacians)."""
        self.check(problem)
        if cols.laplacian is None or boundary is None or cols.boundary_normal is None:
            raise ValueError("the residual loss's rows need Laplacians and boundary normal derivatives")
        x, sw = interior.x, torch.sqrt(interior.w.double())
        op = -problem.a(x).double()[:, None] * cols.laplacian + problem.V(x).double()[:, None] * cols.values
        da = coefficient_grad(problem, x)
        if da is not None:
            op = op - torch.einsum("nmd,nd->nm", cols.grads, da.double())
        rows, target = [op * sw[:, None]], [problem.f(x).double() * sw]
        dmask, swb = self._boundary_parts(problem, boundary)
        if bool(dmask.any()):
            rows.append(cols.boundary[dmask] * swb[dmask, None])
            target.append(problem.h(boundary.x[dmask]).double() * swb[dmask])
        keep = ~dmask
        if bool(keep.any()):
            xn = boundary.x[keep]
            flux = problem.a(xn).double()[:, None] * cols.boundary_normal[keep]
            if problem.has_robin:  # a∂ψ/∂n + κψ
                flux = flux + problem.kappa(xn).double()[:, None] * cols.boundary[keep]
            rows.append(flux * swb[keep, None])
            target.append(problem.g(xn).double() * swb[keep])
        if problem.pure_neumann:
            rows.append((cols.values * interior.w.double()[:, None]).sum(0, keepdim=True) * self.mean_penalty ** 0.5)
            target.append(torch.zeros(1, dtype=torch.float64, device=x.device))
        return torch.cat(rows), torch.cat(target)

    def quadratic(self, problem, interior: Points, boundary: Points | None, cols) -> tuple[Tensor, Tensor]:
        """(A, b) = (2MᵀM, 2Mᵀy): loss = ½cᵀAc − bᵀc + const."""
        m, y = self.rows(problem, interior, cols, boundary)
        return 2 * m.T @ m, 2 * m.T @ y


def _h(problem: Problem, x: Tensor, mask: Tensor) -> Tensor:
    out = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
    out[mask] = problem.h(x[mask])
    return out
