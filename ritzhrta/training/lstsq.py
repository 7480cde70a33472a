"""Exact solve of the output layer (u is linear in it; METHOD §7, ALGORITHMS step 1).

With the output basis Φ of the network (:meth:`TwoLayerNet.output_basis`), u = Φ·c and
every loss is a quadratic in c (:class:`ritzhrta.forms.losses.Columns`):

- least-squares losses (L², H¹) expose weighted rows: min ‖M c − y‖², solved by SVD on
  the stacked rows [M; √λ I] (conditioning not squared);
- other losses (Ritz) expose ½cᵀAc − bᵀc: solved from A c = b by an eigendecomposition.

All in float64 with a relative ridge λ (a minimum-norm solve without one ruined test
errors). :data:`DEFAULT_RIDGE` is the one default used everywhere.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from ritzhrta.training import dist
from ritzhrta.geometry.domains import Points
from ritzhrta.forms.losses import Columns

__all__ = ["fit_output_layer", "output_columns", "solve_spd", "solve_rows", "DEFAULT_RIDGE", "GALERKIN_RIDGE",
           "GALERKIN_RIDGE_SMOOTH", "galerkin_ridge", "output_size"]

DEFAULT_RIDGE = 1e-6  # measured: 1e-10 doubled the test error of Adam + LS (docs/RESULTS.md)
# The Galerkin / Gauss–Newton trainers on a Gauss rule, by measurement (Nitsche Ritz solves of
# poisson2d-dirichlet and screened-poisson2d, widths 250–1000, ridges 1e-6 … 1e-14;
# benchmarks/results/galerkin_ridge.md): σ^3 features are best near 1e-11 (1e-13 and below
# degrade at width 1000), smoother σ^5 features near 1e-13 (5–20× lower errors than σ^3).
GALERKIN_RIDGE = 1e-11
# The residual (strong-form least-squares) solve: no ridge, singular values below RESIDUAL_RCOND·σ_max
# cut (column-scaled rows; benchmarks/results/features.md, control rows "-ridge": the Ritz route's ridge
# 1e-13 left 2.6e-7 / 4.6e-8 / 7.3e-7 where none gives 4.6e-12 / 3.1e-13 / 1.4e-11 at width 400).
RESIDUAL_RIDGE = 0.0
RESIDUAL_RCOND = 1e-14
GALERKIN_RIDGE_SMOOTH = 1e-13  # k >= 4


def output_size(net: nn.Module) -> int:
    """The number of output unknowns of ``net``: a, the corner-function weights e, the bias c."""
    if hasattr(net, "unknowns"):  # a composite basis counts its own (LocalFeatureNet)
        return net.unknowns
    return sum(p.numel() for p in (getattr(net, "a", None), getattr(net, "e", None), getattr(net, "c", None))
               if p is not None)


def galerkin_ridge(net: nn.Module) -> float:
    """The measured default ridge of the Galerkin / Gauss–Newton trainers for ``net``'s k."""
    return GALERKIN_RIDGE_SMOOTH if getattr(net, "k", 1) >= 4 else GALERKIN_RIDGE


def output_columns(net: nn.Module, loss, problem, interior: Points, boundary: Points | None) -> Columns:
    """The output basis evaluated where ``loss`` looks, in float64."""
    if not hasattr(net, "output_basis"):
        raise TypeError(f"the output solve needs a ritzhrta network (TwoLayerNet, MLP), got {type(net).__name__}")
    phi, dphi = net.output_basis(interior.x, gradients=loss.uses_grads)
    bvals = bnormal = None
    if loss.uses_boundary(problem):
        if boundary is None:
            raise ValueError(f"problem {getattr(problem, 'name', '')!r} has boundary data: pass boundary points")
        normal = loss.uses_boundary_normal(problem)
        if normal and boundary.normals is None:
            raise ValueError("this loss needs boundary points with outward normals")
        bphi, bdphi = net.output_basis(boundary.x, gradients=normal)
        bvals = bphi.detach().double()
        if normal:
            bnormal = (bdphi.detach().double() * boundary.normals.double()[:, None, :]).sum(2)
    laplacian = None
    if getattr(loss, "uses_laplacian", False):
        if not hasattr(net, "output_laplacian"):
            raise TypeError(f"the {loss.name} loss's output solve needs a two-layer network with a Laplacian "
                            f"(TwoLayerNet with k >= 2, RandomFeatureNet), got {type(net).__name__}")
        if getattr(net, "k", 2) < 2 and not hasattr(net, "family"):
            raise ValueError("the residual loss needs second derivatives: σ_s^k with k >= 2 (k = 1 has Δu = 0)")
        laplacian = net.output_laplacian(interior.x).detach().double()
    offset = offset_grad = None
    if hasattr(net, "offset"):  # u = ĥ + Σ c ψ (exact Dirichlet imposition)
        offset, offset_grad = (t.detach().double() for t in net.offset(interior.x))
    return Columns(phi.detach().double(), None if dphi is None else dphi.detach().double(), bvals, bnormal,
                   offset, offset_grad, laplacian)


def solve_spd(a: Tensor, b: Tensor, ridge: float) -> Tensor:
    """(A + λI)⁻¹ b for symmetric positive semi-definite A, λ = ridge · tr(A)/dim, by eigh."""
    evals, evecs = torch.linalg.eigh(0.5 * (a + a.T))
    lam = ridge * torch.clamp(evals, min=0).sum() / a.shape[0]
    inv = torch.where(evals + lam > 0, 1 / (evals + lam).clamp(min=1e-300), torch.zeros_like(evals))
    return evecs @ (inv * (evecs.T @ b))


def solve_rows(m: Tensor, y: Tensor, ridge: float, scale_columns: bool = False) -> Tensor:
    """argmin ‖M a − y‖² + λ‖a‖², λ = ridge · ‖M‖²_F / cols, without forming MᵀM (SVD-based).
    ``scale_columns``: solve for D a with the columns of M D of unit norm (D diagonal), so
    that the ridge and the SVD's cut-off see features of equal weight."""
    if scale_columns:
        norms = torch.linalg.vector_norm(m, dim=0)
        norms = torch.where(norms > 0, norms, torch.ones_like(norms))
        if ridge == 0:  # no ridge rows: the SVD's cut-off alone (rcond, relative to the largest σ)
            driver = "gelsd" if m.device.type == "cpu" else None
            sol = torch.linalg.lstsq(m / norms, y[:, None], rcond=RESIDUAL_RCOND, driver=driver).solution[:, 0]
            return sol / norms
        return solve_rows(m / norms, y, ridge) / norms
    lam = ridge * (m ** 2).sum() / m.shape[1]
    eye = torch.sqrt(lam) * torch.eye(m.shape[1], dtype=m.dtype, device=m.device)
    stacked, rhs = torch.cat([m, eye]), torch.cat([y, torch.zeros(m.shape[1], dtype=y.dtype, device=y.device)])
    driver = "gelsd" if m.device.type == "cpu" else None
    return torch.linalg.lstsq(stacked, rhs[:, None], driver=driver).solution[:, 0]


@torch.no_grad()
def fit_output_layer(net: nn.Module, problem, points: Points, loss, boundary: Points | None = None,
                     ridge: float = DEFAULT_RIDGE) -> Tensor:
    """Replace the output weights [a; c] of ``net`` by the exact minimiser of ``loss`` (a
    loss object such as :class:`~ritzhrta.forms.losses.H1Loss` or :class:`~ritzhrta.forms.losses.RitzLoss`)
    for the current hidden layers; returns the coefficients (float64)."""
    if not callable(getattr(loss, "quadratic", None)):
        raise TypeError(f"loss must be a loss object (L2Loss(), H1Loss(), RitzLoss(...)), got {loss!r}")
    if not (isinstance(ridge, (int, float)) and ridge >= 0):
        raise ValueError(f"ridge must be a number >= 0, got {ridge!r}")
    loss.check(problem)
    cols = output_columns(net, loss, problem, points, boundary)
    if dist.active():  # a distributed solve: the normal equations are sums over the ranks' points
        system = tuple(dist.all_sum(t) for t in loss.quadratic(problem, points, boundary, cols))
    else:
        system = loss.rows(problem, points, cols, boundary) if hasattr(loss, "rows") else \
            loss.quadratic(problem, points, boundary, cols)
    if not all(bool(torch.isfinite(t).all()) for t in system):
        raise FloatingPointError("the output solve's system has NaN or infinite entries: check the problem data "
                                 "(exact solution, source, boundary data) and the network's parameters")
    scale = getattr(loss, "uses_laplacian", False)
    coef = solve_rows(*system, ridge, scale) if hasattr(loss, "rows") and not dist.active() \
        else solve_spd(*system, ridge)
    if not bool(torch.isfinite(coef).all()):
        raise FloatingPointError("the output solve produced non-finite coefficients: the system is singular "
                                 "beyond repair (raise the ridge, or use more points than features)")
    net.set_output(coef)
    return coef
