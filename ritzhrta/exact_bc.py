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
- ĥ: a lift built from the values of h on the boundary only (:mod:`ritzhrta.lift`: the
  transfinite interpolation on boxes, the harmonic Fourier extension on disks, an
  inverse-distance blend of the segments' data on polygons and 2D meshes); ∇ĥ by autograd.
  h is never evaluated inside Ω, so data written as the exact solution's formula
  (poisson2d-lshape, peak) do not hand the solver its answer.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import Tensor, nn

from .derivatives import value_and_grad
from .domains import Box, Disk, Domain
from .networks import NetWrapper
from .polygon import Polygon
from .problem import Problem, exact_gradient

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
    try:
        boundary_factor(problem.domain, problem)
    except ValueError:
        return False
    return True


def boundary_factor(domain: Domain, problem: Problem | None = None) -> Callable[[Tensor], tuple[Tensor, Tensor]]:
    """x ↦ (φ(x), ∇φ(x)) with φ > 0 in Ω and φ = 0 on ∂Ω (boxes, disks, polygons), or on the
    Dirichlet edges of a 2D mesh (``problem`` names them)."""
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
    if hasattr(domain, "facet_tag") and domain.dim == 2:
        ends = torch.as_tensor(_dirichlet_segments(domain, problem))  # (F, 2, 2)
        return lambda x: _with_gradient(lambda y: segments_distance(y, ends[:, 0].to(y), ends[:, 1].to(y)), x)
    raise ValueError(f"exact Dirichlet imposition supports boxes, disks, polygons and 2D meshes, not {domain!r}; "
                     "use Nitsche's method (dirichlet='nitsche') there")


def _dirichlet_segments(domain: Domain, problem: Problem | None) -> np.ndarray:
    """The (merged) boundary segments of a 2D mesh that carry Dirichlet data, (F, 2, 2)."""
    keep = np.ones(len(domain.facets), dtype=bool)
    tagged = getattr(problem, "tagged", None) if problem is not None else None
    if tagged is not None:
        keep = np.isin(domain.facet_tag, [domain.tags.index(t) for t in tagged["dirichlet"]])
    elif problem is not None and problem.dirichlet_where is not None:
        raise ValueError("exact imposition on a mesh needs dirichlet={tag: h} (or h on the whole boundary)")
    return merge_collinear(domain.points[domain.facets[keep]])


def boundary_lift(domain: Domain, h: Callable[[Tensor], Tensor], problem: Problem | None = None):
    """ĥ on Ω from the values of h on the (Dirichlet) boundary only (:mod:`ritzhrta.lift`)."""
    from . import lift

    lift.check_data(h, domain.boundary(256, "sobol", seed=0, dtype=torch.float64).x)
    if isinstance(domain, Box):
        return lift.box_lift(h, domain.lo, domain.hi)
    if isinstance(domain, Disk):
        return lift.disk_lift(h, domain.center, domain.radius)
    if isinstance(domain, Polygon):
        v = torch.as_tensor(domain.vertices)
        return lift.segments_lift(h, v, torch.roll(v, -1, 0))
    if hasattr(domain, "facet_tag") and domain.dim == 2:
        ends = torch.as_tensor(_dirichlet_segments(domain, problem))
        return lift.segments_lift(h, ends[:, 0], ends[:, 1])
    raise ValueError(f"exact Dirichlet imposition supports boxes, disks, polygons and 2D meshes, not {domain!r}")


def merge_collinear(segments: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Join touching segments (F, 2, 2) that lie on one straight line into maximal segments
    (a mesh cuts a straight side into many edges; φ of many short pieces ripples)."""
    p, q = segments[:, 0], segments[:, 1]
    d = q - p
    n = np.stack([-d[:, 1], d[:, 0]], 1) / np.linalg.norm(d, axis=1, keepdims=True)
    flip = (n[:, 0] < -tol) | ((np.abs(n[:, 0]) <= tol) & (n[:, 1] < 0))
    n[flip] *= -1
    offset = (n * p).sum(1)
    scale = max(1.0, float(np.abs(segments).max()))
    keys = np.round(np.column_stack([n, offset / scale]) / tol) * tol
    out = []
    for key in np.unique(keys, axis=0):
        group = np.all(keys == key, axis=1)
        t = np.array([-n[group][0][1], n[group][0][0]])  # direction along the line
        a, b = (p[group] * t).sum(1), (q[group] * t).sum(1)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        order = np.argsort(lo)
        start, end = lo[order[0]], hi[order[0]]
        base = n[group][0] * offset[group][0]
        for i in order[1:]:
            if lo[i] <= end + tol * scale:
                end = max(end, hi[i])
            else:
                out.append([base + start * t, base + end * t])
                start, end = lo[i], hi[i]
        out.append([base + start * t, base + end * t])
    return np.array(out)


def polygon_distance(x: Tensor, vertices: Tensor) -> Tensor:
    """φ(x) = 1 / Σ_i 1/φ_i(x) over the polygon's edges (see the module docstring), shape (n,)."""
    return segments_distance(x, vertices, torch.roll(vertices, -1, 0))


def segments_distance(x: Tensor, p: Tensor, q: Tensor) -> Tensor:
    """φ(x) = 1 / Σ_i 1/φ_i(x) over the segments [p_i, q_i] (2D), shape (n,)."""
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
