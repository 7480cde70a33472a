"""Loss functions: plain functions of (net, problem, points) (METHOD §4).

They take the points, not predictions, so gradient terms are expressible.
"""
from __future__ import annotations

from torch import Tensor, nn

from .derivatives import value_and_grad
from .domains import Points
from .problem import Problem, Target

__all__ = ["sobolev_loss", "ritz_energy", "DEFAULT_BETA", "DEFAULT_MEAN_PENALTY"]

DEFAULT_BETA = 100.0
DEFAULT_MEAN_PENALTY = 1.0


def sobolev_loss(net: nn.Module, problem: Problem | Target, points: Points, order: int = 1,
                 closed_form: bool = True) -> Tensor:
    """Supervised loss against the exact solution u*.

    order = 1 (H¹, Sobolev training):  Σ_i ω_i [ (u − u*)² + |∇u − ∇u*|² ](x_i)
    order = 0 (L², the zero-derivative case):  Σ_i ω_i (u − u*)²(x_i)
    """
    if order not in (0, 1):
        raise ValueError(f"order must be 0 (L²) or 1 (H¹), got {order!r}")
    problem.require_exact(f"sobolev_loss(order={order})")
    x, w = points.x, points.w
    if order == 0:
        return (w * (net(x) - problem.u_exact(x)) ** 2).sum()
    u, g = value_and_grad(net, x, closed_form)
    du = u - problem.u_exact(x)
    dg = g - problem.grad_exact(x)
    return (w * (du ** 2 + (dg ** 2).sum(1))).sum()


def ritz_energy(net: nn.Module, problem: Problem, interior: Points, boundary: Points | None = None,
                beta: float = DEFAULT_BETA, mean_penalty: float = DEFAULT_MEAN_PENALTY,
                closed_form: bool = True) -> Tensor:
    """Deep Ritz energy of −∇·(∇u) + V·u = f, ∂u/∂n = g on Γ_N, u = h on Γ_D:

        E(u) = Σ ω_i [½|∇u|² + ½·V·u² − f·u](x_i) − Σ_{Γ_N} ω_j g·u + β·Σ_{Γ_D} ω_j (u − h)²

    For a pure Neumann problem (no Γ_D, V ≡ 0) u is unique only up to a constant and a
    quadrature error in ∫f + ∫g makes E unbounded below along constants, so the
    mean-zero condition is imposed by the penalty  mean_penalty · (Σ ω_i u(x_i))².
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"ritz_energy needs a Problem (a PDE), got {type(problem).__name__}")
    x, w = interior.x, interior.w
    u, g = value_and_grad(net, x, closed_form)
    energy = (w * (0.5 * (g ** 2).sum(1) + 0.5 * problem.V(x) * u ** 2 - problem.f(x) * u)).sum()
    needs_boundary = problem.dirichlet is not None or problem.neumann is not None
    if needs_boundary:
        if boundary is None:
            raise ValueError(f"problem {problem.name!r} has boundary data: ritz_energy needs boundary points")
        xb, wb = boundary.x, boundary.w
        ub = net(xb)
        dmask = problem.dirichlet_mask(xb)
        if problem.neumann is not None:
            energy = energy - (wb * problem.g(xb) * ub * (~dmask)).sum()
        if problem.dirichlet is not None:
            energy = energy + beta * (wb * dmask * (ub - problem.h(xb)) ** 2).sum()
    if problem.pure_neumann:
        energy = energy + mean_penalty * (w * u).sum() ** 2
    return energy
