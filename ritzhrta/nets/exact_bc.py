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
- a 2D :class:`~ritzhrta.MeshDomain`: the same R-equivalence over the boundary edges that
  carry Dirichlet data (all of them, or the tagged ones of ``dirichlet={tag: h}``): φ vanishes
  on Γ_D only, and the rest of the boundary keeps its Neumann term in the energy. Mixed
  conditions need one data callable for all Dirichlet tags (it is the lift ĥ).
- ĥ: a lift built from the values of h on the boundary only (:mod:`ritzhrta.geometry.lift`: the
  transfinite interpolation on boxes, the harmonic Fourier extension on disks, an
  inverse-distance blend of the segments' data on polygons and 2D meshes); ∇ĥ by autograd.
  h is never evaluated inside Ω, so data written as the exact solution's formula
  (poisson2d-lshape, peak) do not hand the solver its answer.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

from ritzhrta.nets.derivatives import value_and_grad
from ritzhrta.geometry.distance import polygon_distance, segments_distance
from ritzhrta.geometry.domains import Domain
from ritzhrta.nets.networks import NetWrapper
from ritzhrta.problem import Problem, exact_gradient

__all__ = ["ExactDirichlet", "boundary_factor", "supports_exact", "segments_distance", "polygon_distance"]


def _lift(problem: Problem):
    """The callable ĥ (a function of x on all of Ω), or None if the data have no single lift."""
    tagged = getattr(problem, "tagged", None)
    if tagged is None:
        return None if problem.dirichlet_where is not None else problem.dirichlet
    fields = list(tagged["dirichlet"].values())
    if not fields or any(f is not fields[0] for f in fields):
        return None
    return fields[0]


def supports_exact(problem) -> bool:
    """Whether :class:`ExactDirichlet` can carry ``problem``'s Dirichlet data: a Problem with
    data h on its whole boundary on a domain :func:`boundary_factor` knows, or on tagged parts
    of a 2D mesh with one data callable."""
    if not isinstance(problem, Problem) or problem.dirichlet is None or _lift(problem) is None:
        return False
    if problem.has_robin:  # the Ritz quadratic has no lift cross term on a Robin part
        return False
    try:
        boundary_factor(problem.domain, problem)
    except ValueError:
        return False
    return True


def boundary_factor(domain: Domain, problem: Problem | None = None) -> Callable[[Tensor], tuple[Tensor, Tensor]]:
    """x ↦ (φ(x), ∇φ(x)) with φ > 0 in Ω and φ = 0 on the Dirichlet boundary: the domain's
    :meth:`~ritzhrta.geometry.domains.Domain.distance_factor` (``problem`` names the Dirichlet part)."""
    hook = getattr(domain, "distance_factor", None)
    if hook is None:
        raise ValueError(f"exact Dirichlet imposition needs a ritzhrta domain, got {domain!r}")
    return hook(problem)

def boundary_lift(domain: Domain, h: Callable[[Tensor], Tensor], problem: Problem | None = None):
    """ĥ on Ω from the values of h on the (Dirichlet) boundary only: the domain's
    :meth:`~ritzhrta.geometry.domains.Domain.boundary_lift` (:mod:`ritzhrta.geometry.lift`)."""
    from ritzhrta.geometry import lift

    lift.check_data(h, domain.boundary(256, "sobol", seed=0, dtype=torch.float64).x)
    return domain.boundary_lift(h, problem)


class ExactDirichlet(NetWrapper):
    """u(x) = ĥ(x) + φ(x)·N(x) around a ritzhrta network N (TwoLayerNet, MLP): u = h on ∂Ω.

    It behaves like N for the solver: ``s``, ``set_s``, ``dim``, ``k``, ``a``, ``c``,
    ``output_basis`` (φΦ and ∇(φΦ) = Φ∇φ + φ∇Φ), ``set_output``; ``offset`` gives (ĥ, ∇ĥ).
    The whole boundary must be Dirichlet (no ``dirichlet_where``), except on a 2D mesh with
    ``dirichlet={tag: h}``: there φ vanishes on the tagged edges and the others stay Neumann.
    """

    def __init__(self, net: nn.Module, problem: Problem) -> None:
        super().__init__()
        if not isinstance(problem, Problem) or problem.dirichlet is None:
            raise ValueError("exact imposition needs a Problem with Dirichlet data (dirichlet=h)")
        lift = _lift(problem)
        if lift is None:
            raise ValueError("exact imposition needs Dirichlet data on the whole boundary, or dirichlet={tag: h} on "
                             "a 2D mesh with one data callable; otherwise use Nitsche's method (dirichlet='nitsche')")
        if not hasattr(net, "set_s") or net.dim != problem.dim:
            raise ValueError("ExactDirichlet wraps a ritzhrta network of the problem's dimension")
        self.net = net
        self.problem = problem
        self.factor = boundary_factor(problem.domain, problem)
        self.lift = boundary_lift(problem.domain, lift, problem)

    # --- u = ĥ + φ N ---------------------------------------------------------------------
    def offset(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(ĥ(x), ∇ĥ(x))."""
        h = self.lift(x)
        if not isinstance(h, Tensor) or h.shape != (x.shape[0],):
            raise ValueError(f"the Dirichlet data must return shape ({x.shape[0]},)")
        return h, exact_gradient(self.lift, x)

    def forward(self, x: Tensor) -> Tensor:
        phi, _ = self.factor(x)
        return self.lift(x) + phi * self.net(x)

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
