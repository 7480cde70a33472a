"""Losses (METHOD §4): plain functions of (net, problem, points), and loss objects.

The functions :func:`sobolev_loss` and :func:`ritz_energy` compute a loss. A loss
*object* (:class:`L2Loss`, :class:`H1Loss`, :class:`RitzLoss`) is what travels from
:func:`ritzhrta.solve` to the trainers: it is callable as ``loss(net, problem, interior,
boundary)`` and it also describes itself as a quadratic functional of u, which is what
the least-squares output solve needs:

    loss(u = Σ_j c_j ψ_j)  =  ½ cᵀ A c − bᵀ c + const

for any functions ψ_j given by their :class:`Columns` (values, gradients at the interior
points, values at the boundary points). A is the Hessian of the loss in c, so the same
matrix is the Gauss–Newton Gram when the ψ_j are the network's parameter derivatives.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor, nn

from ritzhrta.training import dist
from ritzhrta.forms import energy as forms
from ritzhrta.nets.derivatives import value_and_grad
from ritzhrta.geometry.domains import Points
from ritzhrta.problem import Problem, Target

__all__ = ["sobolev_loss", "ritz_energy", "L2Loss", "H1Loss", "RitzLoss", "Columns", "DIRICHLET", "DEFAULT_BETA",
           "DEFAULT_MEAN_PENALTY"]

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
                closed_form: bool = True, dirichlet: str = "penalty") -> Tensor:
    """Deep Ritz energy of −∇·(a∇u) + V·u = f, a∂u/∂n = g on Γ_N, u = h on Γ_D:

        E(u) = Σ ω_i [½·a|∇u|² + ½·V·u² − f·u](x_i) − Σ_{Γ_N} ω_j g·u + D(u)

    with the Dirichlet term D(u) = β·Σ_{Γ_D} ω_j (u − h)² (``dirichlet="penalty"``: its
    minimiser has an O(1/β) boundary error), none with ``"exact"`` (the network satisfies
    u = h by construction: :class:`ritzhrta.nets.exact_bc.ExactDirichlet`), or symmetric Nitsche
    (``"nitsche"``, consistent for every β above the coercivity bound, see
    :meth:`RitzLoss.calibrated`):

        D(u) = −Σ_{Γ_D} ω_j a∂_n u (u − h) + (β/2)·Σ_{Γ_D} ω_j (u − h)²

    For a pure Neumann problem (no Γ_D, V ≡ 0) u is unique only up to a constant and a
    quadrature error in ∫f + ∫g makes E unbounded below along constants, so the
    mean-zero condition is imposed by the penalty  mean_penalty · (Σ ω_i u(x_i))².
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"ritz_energy needs a Problem (a PDE), got {type(problem).__name__}")
    u, g = value_and_grad(net, interior.x, closed_form)
    U = u[:, None]
    Ub = boundary_terms = None
    if _needs_boundary(problem) and (dirichlet != "exact" or _neumann_part(problem)):
        if boundary is None:
            raise ValueError(f"problem {problem.name!r} has boundary data: ritz_energy needs boundary points")
        xb = boundary.x
        nitsche = dirichlet == "nitsche" and problem.dirichlet is not None
        if nitsche:
            if boundary.normals is None:
                raise ValueError("Nitsche's method needs boundary points with normals")
            ub, gb = value_and_grad(net, xb, closed_form)
        else:
            ub = net(xb)
        Ub = ub[:, None]
        if problem.dirichlet is not None and dirichlet != "exact":  # exact: u = h by construction
            normal = (gb * boundary.normals).sum(1)[:, None] if nitsche else None
            boundary_terms = forms.dirichlet_terms(problem, boundary, (ub - problem.h(xb))[:, None], dirichlet,
                                                   beta, normal, homogeneous=True)[0]
    energy = 0.5 * forms.bilinear(problem, interior, U, g[:, None, :])[0, 0] \
        - forms.load(problem, interior, U, boundary, Ub)[0]
    if boundary_terms is not None:
        energy = energy + 0.5 * boundary_terms[0, 0]
    if Ub is not None and problem.has_robin:  # R(u) = ½ Σ_{Γ_N} ω κ u²
        energy = energy + 0.5 * forms.robin_gram(problem, boundary, Ub)[0, 0]
    if problem.pure_neumann:  # distributed: square the sum over all ranks, share it out evenly
        energy = energy + mean_penalty * forms.mean_sums(interior, U)[0] ** 2 / dist.world_size()
    return energy


def check_exact_network(net: nn.Module) -> None:
    """Raise unless ``net`` imposes the Dirichlet data itself (an ExactDirichlet wrapper)."""
    if not hasattr(net, "offset"):
        raise ValueError("RitzLoss(dirichlet='exact') needs the network wrapped as ExactDirichlet(net, problem)")


def _needs_boundary(problem: Problem) -> bool:
    return problem.dirichlet is not None or _neumann_part(problem)


def _neumann_part(problem: Problem) -> bool:
    """Whether the non-Dirichlet boundary enters the energy (data g, or a Robin coefficient κ)."""
    return problem.neumann is not None or problem.has_robin


@dataclass(frozen=True)
class Columns:
    """p functions ψ_j evaluated where a loss looks: ``values`` (n, p) and ``grads``
    (n, p, d) at the interior points, ``boundary`` (n_b, p) values and ``boundary_normal``
    (n_b, p) normal derivatives at the boundary points (None where the loss does not need
    them), and an ``offset`` ĥ that u carries besides Σ c_j ψ_j (exact Dirichlet imposition).
    float64 by convention."""

    values: Tensor
    grads: Tensor | None = None
    boundary: Tensor | None = None
    boundary_normal: Tensor | None = None  # ∂_n ψ_j at the boundary points (Nitsche)
    offset: Tensor | None = None  # u = ĥ + Σ c_j ψ_j: ĥ (n,) and ∇ĥ (n, d) at the interior points
    offset_grad: Tensor | None = None
    laplacian: Tensor | None = None  # Δψ_j at the interior points (the strong-form residual)


@dataclass(frozen=True)
class L2Loss:
    """Σ ω_i (u − u*)²(x_i): supervised L² (the zero-derivative case)."""

    name = "l2"
    order = 0
    needs_exact = True
    uses_grads = False

    def uses_boundary(self, problem) -> bool:
        """Whether boundary points enter this loss for ``problem``."""
        return False

    def uses_boundary_normal(self, problem) -> bool:
        """Whether normal derivatives at the boundary points enter this loss."""
        return False

    def check(self, problem) -> None:
        """Raise ``ValueError`` if the loss cannot be used with ``problem``."""
        problem.require_exact(f"the {self.name} loss")

    def __call__(self, net: nn.Module, problem, interior: Points, boundary: Points | None = None,
                 closed_form: bool = True) -> Tensor:
        return sobolev_loss(net, problem, interior, order=self.order, closed_form=closed_form)

    def rows(self, problem, interior: Points, cols: Columns, boundary: Points | None = None) -> tuple[Tensor, Tensor]:
        """(M, y) with loss = ‖M c − y‖²: the weighted rows √ω [ψ; ∂_1ψ; …] and targets."""
        x = interior.x
        sw = torch.sqrt(interior.w.double())
        uy = problem.u_exact(x).double() - (0 if cols.offset is None else cols.offset)
        rows, target = [cols.values * sw[:, None]], [uy * sw]
        if self.order == 1:
            gy = problem.grad_exact(x).double() - (0 if cols.offset_grad is None else cols.offset_grad)
            rows += [cols.grads[:, :, j] * sw[:, None] for j in range(cols.grads.shape[2])]
            target += [gy[:, j] * sw for j in range(gy.shape[1])]
        return torch.cat(rows), torch.cat(target)

    def quadratic(self, problem, interior: Points, boundary: Points | None, cols: Columns) -> tuple[Tensor, Tensor]:
        """(A, b) with loss = ½cᵀAc − bᵀc + const: A = 2MᵀM, b = 2Mᵀy."""
        m, y = self.rows(problem, interior, cols)
        return 2 * m.T @ m, 2 * m.T @ y


@dataclass(frozen=True)
class H1Loss(L2Loss):
    """Σ ω_i [(u − u*)² + |∇u − ∇u*|²](x_i): supervised H¹ (Sobolev training)."""

    name = "h1"
    order = 1
    uses_grads = True


DIRICHLET = ("penalty", "nitsche", "exact")


@dataclass(frozen=True)
class RitzLoss:
    """The Deep Ritz energy (see :func:`ritz_energy`) with the Dirichlet term ``dirichlet``
    ("penalty" or "nitsche") of weight ``beta`` and, for pure Neumann problems, the
    mean-zero penalty ``mean_penalty``. With Nitsche, ``beta=None`` asks for the automatic
    choice of :meth:`calibrated` (trainers calibrate before they start).

    As a quadratic in c (u = Σ c_j ψ_j), with P, N the boundary values and conormal
    derivatives a∂_nψ of ψ on Γ_D and W_D their weights:
        A = Σ ω (a∇ψ∇ψᵀ + V ψψᵀ) + 2β PᵀW_D P + 2ρ ssᵀ,  s = Σ ω ψ (pure Neumann)     (penalty)
            … − (NᵀW_D P + PᵀW_D N) + β PᵀW_D P                                   (Nitsche)
        b = Σ ω f ψ + Σ_{Γ_N} ω g ψ + 2β PᵀW_D h        (Nitsche: − NᵀW_D h + β PᵀW_D h)
    """

    beta: float | None = DEFAULT_BETA
    mean_penalty: float = DEFAULT_MEAN_PENALTY
    dirichlet: str = "penalty"
    name = "ritz"
    needs_exact = False
    uses_grads = True

    def __post_init__(self) -> None:
        if self.dirichlet not in DIRICHLET:
            raise ValueError(f"dirichlet must be one of {DIRICHLET}, got {self.dirichlet!r}")
        if self.beta is None and self.dirichlet == "penalty":
            raise ValueError("beta=None (automatic) is for dirichlet='nitsche'; the penalty needs a number")
        for field in ("beta", "mean_penalty"):
            value = getattr(self, field)
            if value is None and field == "beta":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 \
                    or value == float("inf"):
                raise ValueError(f"{field} must be a finite number > 0, got {value!r}")

    def uses_boundary(self, problem) -> bool:
        if self.dirichlet == "exact":  # the network carries u = h; only a Neumann part needs points
            return isinstance(problem, Problem) and _neumann_part(problem)
        return isinstance(problem, Problem) and _needs_boundary(problem)

    def uses_boundary_normal(self, problem) -> bool:
        return self.dirichlet == "nitsche" and isinstance(problem, Problem) and problem.dirichlet is not None

    def calibrated(self, net: nn.Module, problem, interior: Points, boundary: Points | None,
                   safety: float = 2.0) -> "RitzLoss":
        """A copy with Nitsche's β chosen from the network's output basis ψ:

            β = safety · λ_max(N W_D Nᵀ, A₀ + ε I),   A₀ = Σ ω (a∇ψ∇ψᵀ + Vψψᵀ),  N = a∂_nψ

        the largest generalised eigenvalue of the boundary normal-derivative form against
        the energy form (ε = 1e-8 · tr A₀ / p): with β > 2·λ_max the Nitsche form is
        coercive on span ψ. A no-op unless ``dirichlet="nitsche"`` and ``beta`` is None.
        """
        if self.beta is not None or not self.uses_boundary_normal(problem):
            return self
        from ritzhrta.training.lstsq import output_columns

        with torch.no_grad():
            cols = output_columns(net, self, problem, interior, boundary)
            bn = dist.all_sum(forms.conormal_gram(problem, boundary, cols.boundary_normal))
            a0 = dist.all_sum(forms.bilinear(problem, interior, cols.values, cols.grads))  # over all ranks' points
            a0 = a0 + 1e-8 * torch.trace(a0) / a0.shape[0] * torch.eye(a0.shape[0], dtype=a0.dtype, device=a0.device)
            chol = torch.linalg.cholesky(0.5 * (a0 + a0.T))
            m = torch.linalg.solve_triangular(chol, torch.linalg.solve_triangular(chol, bn, upper=False).T,
                                              upper=False)
            lam = float(torch.linalg.eigvalsh(0.5 * (m + m.T)).max())
        return replace(self, beta=safety * max(lam, 1e-12))

    def check(self, problem) -> None:
        if not isinstance(problem, Problem):
            raise ValueError("the Ritz energy needs a PDE Problem; a Target has only the supervised 'l2'/'h1' losses")

    def __call__(self, net: nn.Module, problem, interior: Points, boundary: Points | None = None,
                 closed_form: bool = True) -> Tensor:
        if self.beta is None and self.uses_boundary_normal(problem):
            raise ValueError("RitzLoss(dirichlet='nitsche', beta=None) must be calibrated first: "
                             "loss.calibrated(net, problem, interior, boundary)")
        if self.dirichlet == "exact":
            check_exact_network(net)
        return ritz_energy(net, problem, interior, boundary, beta=self.beta, mean_penalty=self.mean_penalty,
                           closed_form=closed_form, dirichlet=self.dirichlet)

    def quadratic(self, problem, interior: Points, boundary: Points | None, cols: Columns) -> tuple[Tensor, Tensor]:
        """(A, b) from :mod:`ritzhrta.forms.energy`: A = a(ψ, ψ) + A_D + 2ρ ssᵀ, b = l(ψ) + b_D − a(ψ, ĥ)."""
        self.check(problem)
        if self.dirichlet == "exact" and problem.has_robin:
            raise ValueError("exact Dirichlet imposition with a Robin part is not supported; use "
                             "dirichlet='nitsche' (or the residual loss)")
        phi, dphi = cols.values, cols.grads
        boundary_data = _needs_boundary(problem) and (self.dirichlet != "exact" or _neumann_part(problem))
        if boundary_data and (boundary is None or cols.boundary is None):
            kind = "Neumann data" if self.dirichlet == "exact" else "boundary data"
            raise ValueError(f"problem {problem.name!r} has {kind}: pass boundary points")
        if self.dirichlet == "exact" and cols.offset is None:
            raise ValueError("RitzLoss(dirichlet='exact') needs the network wrapped as ExactDirichlet(net, problem)")
        a_mat = forms.bilinear(problem, interior, phi, dphi)
        b_vec = forms.load(problem, interior, phi, boundary, cols.boundary if boundary_data else None)
        if boundary_data and problem.has_robin:  # R: ½ cᵀ(Σ_{Γ_N} ω κ ψψᵀ)c
            a_mat = a_mat + forms.robin_gram(problem, boundary, cols.boundary)
        if cols.offset is not None:  # u = ĥ + Σ c ψ: the energy's cross terms a(ψ, ĥ) move to b
            b_vec = b_vec - forms.bilinear(problem, interior, phi, dphi, cols.offset[:, None],
                                           cols.offset_grad[:, None, :])[:, 0]
        if boundary_data and problem.dirichlet is not None and self.dirichlet != "exact":
            if self.dirichlet == "nitsche" and self.beta is None:
                raise ValueError("calibrate RitzLoss(dirichlet='nitsche', beta=None) first")
            a_d, b_d, _ = forms.dirichlet_terms(problem, boundary, cols.boundary, self.dirichlet, self.beta,
                                                cols.boundary_normal)
            a_mat, b_vec = a_mat + a_d, b_vec + b_d
        if problem.pure_neumann:  # distributed: the outer product of the full sum, shared out evenly
            s = forms.mean_sums(interior, phi)
            a_mat = a_mat + 2 * self.mean_penalty * torch.outer(s, s) / dist.world_size()
        return a_mat, b_vec
