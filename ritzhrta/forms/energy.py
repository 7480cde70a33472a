"""The Deep Ritz energy's forms, written once (METHOD §4).

For −∇·(a∇u) + Vu = f, a∂u/∂n = g on Γ_N, u = h on Γ_D the energy is

    E(u) = ½ a(u, u) − l(u) + R(u) + D(u) + M(u)
    a(u, v) = Σ ω (a ∇u·∇v + V u v)           (interior rule)
    l(v)    = Σ ω f v + Σ_{Γ_N} ω g v          (interior and boundary rules)
    R(u)    = ½ Σ_{Γ_N} ω κ u²                                (Robin: a∂u/∂n + κu = g on Γ_N)
    D(u)    = β Σ_{Γ_D} ω (u − h)²                            (penalty)
            = Σ_{Γ_D} ω [(β/2)(u − h)² − a∂_n u (u − h)]      (symmetric Nitsche)
            = 0                                               (exact: u = h by construction)
    M(u)    = ρ (Σ ω u)²                                      (pure Neumann: the mean-zero penalty)

Every function here takes *fields*: values U (n, p) and gradients G (n, p, d) of p functions at
the points — p = 1 for the network u itself (the loss value, :func:`ritzhrta.forms.losses.ritz_energy`),
p = width for the output basis ψ (the quadratic ½cᵀAc − bᵀc of the output solve,
:meth:`ritzhrta.forms.losses.RitzLoss.quadratic`), p = parameters for the network's Jacobian (the
Gauss–Newton Gram, which is that quadratic's A). Nitsche's calibration uses the same
:func:`bilinear` and :func:`conormal_gram`. Sums are over this process's points (a distributed
solve adds them over ranks), except the mean term's Σ ω u, which is global.
"""
from __future__ import annotations

import torch
from torch import Tensor

from ritzhrta.training import dist

__all__ = ["bilinear", "load", "robin_gram", "dirichlet_terms", "conormal_gram", "mean_sums"]


def bilinear(problem, interior, U: Tensor, G: Tensor, U2: Tensor | None = None, G2: Tensor | None = None) -> Tensor:
    """a(ψ_i, φ_j) = Σ ω (a ∇ψ_i·∇φ_j + V ψ_i φ_j): a (p, q) matrix for fields (U, G) and
    (U2, G2) (default: the same fields, a symmetric (p, p) matrix)."""
    U2, G2 = (U, G) if U2 is None else (U2, G2)
    x, dtype = interior.x, U.dtype
    w = interior.w.to(dtype)
    wa = w * problem.a(x).to(dtype)
    return torch.einsum("nmd,nkd->mk", G * wa[:, None, None], G2) + (U * (w * problem.V(x).to(dtype))[:, None]).T @ U2


def load(problem, interior, U: Tensor, boundary=None, Ub: Tensor | None = None) -> Tensor:
    """l(ψ_j) = Σ ω f ψ_j + Σ_{Γ_N} ω g ψ_j: a (p,) vector (the Neumann part when ``Ub``, the
    fields' values at the boundary points, is given and the problem has Neumann data)."""
    dtype = U.dtype
    b = (U * (interior.w.to(dtype) * problem.f(interior.x).to(dtype))[:, None]).sum(0)
    if Ub is not None and problem.neumann is not None:
        xb = boundary.x
        keep = boundary.w.to(dtype) * problem.g(xb).to(dtype) * (~problem.dirichlet_mask(xb))
        b = b + (Ub * keep[:, None]).sum(0)
    return b


def robin_gram(problem, boundary, P: Tensor) -> Tensor:
    """Σ_{Γ_N} ω κ ψ_i ψ_j for the boundary values P (n_b, p): R(Σ c ψ) = ½ cᵀ(this)c."""
    xb, dtype = boundary.x, P.dtype
    wk = boundary.w.to(dtype) * problem.kappa(xb).to(dtype) * (~problem.dirichlet_mask(xb))
    return (P * wk[:, None]).T @ P


def dirichlet_terms(problem, boundary, P: Tensor, method: str, beta: float,
                    N: Tensor | None = None, homogeneous: bool = False) -> tuple[Tensor, Tensor, Tensor]:
    """(A_D, b_D, c_D) with D(Σ c_j ψ_j) = ½ cᵀA_D c − b_Dᵀ c + c_D for the boundary values P
    (n_b, p) and normal derivatives N = ∂_nψ (Nitsche): with W_D the Dirichlet weights and
    C = a∂_nψ the conormal derivatives,

        penalty: A_D = 2β PᵀW_D P,                 b_D = 2β PᵀW_D h,         c_D = β hᵀW_D h
        Nitsche: A_D = β PᵀW_D P − CᵀW_D P − PᵀW_D C,  b_D = β PᵀW_D h − CᵀW_D h,  c_D = (β/2) hᵀW_D h

    ``homogeneous=True`` takes h = 0: the loss value passes P = u − h, so that D(u) = ½A_D
    without the cancellation of expanding (u − h)² in single precision.
    """
    xb, dtype = boundary.x, P.dtype
    wd = boundary.w.to(dtype) * problem.dirichlet_mask(xb)
    h = torch.zeros_like(wd) if homogeneous else problem.h(xb).to(dtype)
    hd = wd * h
    if method == "nitsche":
        C = N * problem.a(xb).to(dtype)[:, None]  # the flux a∂_n ψ
        cross = (C * wd[:, None]).T @ P
        a_d = beta * (P * wd[:, None]).T @ P - cross - cross.T
        b_d = beta * (P * hd[:, None]).sum(0) - (C * hd[:, None]).sum(0)
        return a_d, b_d, 0.5 * beta * (hd * h).sum()
    if method != "penalty":
        raise ValueError(f"no Dirichlet term for method {method!r} (penalty or nitsche; exact has none)")
    return 2 * beta * (P * wd[:, None]).T @ P, 2 * beta * (P * hd[:, None]).sum(0), beta * (hd * h).sum()


def conormal_gram(problem, boundary, N: Tensor) -> Tensor:
    """Σ_{Γ_D} ω (a∂_nψ)(a∂_nψ)ᵀ: the form Nitsche's β must dominate (:meth:`RitzLoss.calibrated`)."""
    dtype = N.dtype
    wd = boundary.w.to(dtype) * problem.dirichlet_mask(boundary.x) * problem.a(boundary.x).to(dtype) ** 2
    return (N * wd[:, None]).T @ N


def mean_sums(interior, U: Tensor) -> Tensor:
    """s_j = Σ ω ψ_j over every rank's points (with autograd): M(Σ c ψ) = ρ (sᵀc)², so the
    quadratic gets 2ρ s sᵀ; a distributed run shares that out evenly over its ranks."""
    return dist.all_sum_grad((U * interior.w.to(U.dtype)[:, None]).sum(0))
