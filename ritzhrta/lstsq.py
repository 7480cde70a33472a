"""Exact solve of the output layer (u is linear in it; METHOD §6, ALGORITHMS step 1).

With features φ_j (last hidden layer times the output scale), u = Σ_j a_j φ_j + c:

- L²:  min Σ ω_i (Φa + c − u*)²                         (weighted least squares)
- H¹:  adds the rows √ω_i (∇Φ_i a − ∇u*_i)               (∇c = 0)
- Ritz: E(a) = ½ aᵀAa − bᵀa with
        A = Σ ω (∇Φ∇Φᵀ + V ΦΦᵀ) + 2β Σ_{Γ_D} ω ΦΦᵀ + 2ρ ssᵀ,  s = Σ ω Φ  (mean penalty, pure Neumann)
        b = Σ ω f Φ + Σ_{Γ_N} ω g Φ + 2β Σ_{Γ_D} ω h Φ

All solved in float64 with a relative ridge (a minimum-norm solve without one ruined
test errors): L² and H¹ as least squares on the weighted rows (SVD, conditioning not
squared), Ritz through its normal equations by an eigendecomposition.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from .domains import Points
from .losses import DEFAULT_BETA, DEFAULT_MEAN_PENALTY
from .networks import MLP, TwoLayerNet
from .problem import Problem, Target

__all__ = ["fit_output_layer", "output_features", "solve_spd", "solve_rows"]

DEFAULT_RIDGE = 1e-6  # measured: 1e-10 doubled the test error of Adam + LS (docs/RESULTS.md)


def output_features(net: nn.Module, x: Tensor, gradients: bool) -> tuple[Tensor, Tensor | None]:
    """Φ (n, m) with u = Φ·a (+ c), and ∇Φ (n, m, d) when ``gradients``."""
    if isinstance(net, TwoLayerNet):
        from .activations import sigma_and_derivative

        act, dact = sigma_and_derivative(net.hidden(x), net.s, net.k)
        grad = net.scale * dact[:, :, None] * net.hidden.weight[None] if gradients else None
        return net.scale * act, grad
    if isinstance(net, MLP):
        from torch.func import jacrev, vmap

        def phi(xi: Tensor) -> Tensor:
            h = xi[None]
            for i, layer in enumerate(net.layers):
                w = layer.weight if i == 0 else layer.weight * layer.in_features ** (-net.gamma / 2)
                from .activations import sigma_and_derivative

                h = sigma_and_derivative(torch.nn.functional.linear(h, w, layer.bias), net.s, net.k)[0]
            return net.widths[-1] ** (-net.gamma / 2) * h[0]

        feats = vmap(phi)(x)
        return feats, (vmap(jacrev(phi))(x) if gradients else None)
    raise TypeError(f"fit_output_layer handles TwoLayerNet and MLP, got {type(net).__name__}")


def solve_spd(a: Tensor, b: Tensor, ridge: float) -> Tensor:
    """(A + λI)⁻¹ b for symmetric positive semi-definite A, λ = ridge · tr(A)/dim, by eigh."""
    evals, evecs = torch.linalg.eigh(0.5 * (a + a.T))
    lam = ridge * torch.clamp(evals, min=0).sum() / a.shape[0]
    inv = torch.where(evals + lam > 0, 1 / (evals + lam).clamp(min=1e-300), torch.zeros_like(evals))
    return evecs @ (inv * (evecs.T @ b))


def solve_rows(m: Tensor, y: Tensor, ridge: float) -> Tensor:
    """argmin ‖M a − y‖² + λ‖a‖², λ = ridge · ‖M‖²_F / cols, without forming MᵀM (SVD-based)."""
    lam = ridge * (m ** 2).sum() / m.shape[1]
    eye = torch.sqrt(lam) * torch.eye(m.shape[1], dtype=m.dtype, device=m.device)
    stacked, rhs = torch.cat([m, eye]), torch.cat([y, torch.zeros(m.shape[1], dtype=y.dtype, device=y.device)])
    driver = "gelsd" if m.device.type == "cpu" else None
    return torch.linalg.lstsq(stacked, rhs[:, None], driver=driver).solution[:, 0]


@torch.no_grad()
def fit_output_layer(net: nn.Module, problem: Problem | Target, points: Points, loss: str = "l2",
                     boundary: Points | None = None, ridge: float = DEFAULT_RIDGE, beta: float = DEFAULT_BETA,
                     mean_penalty: float = DEFAULT_MEAN_PENALTY) -> None:
    """Replace the output weights a (and bias c) of ``net`` by the exact minimiser of ``loss``
    ("l2", "h1" or "ritz") for the current hidden layers; see the module docstring."""
    if loss not in ("l2", "h1", "ritz"):
        raise ValueError(f"loss must be 'l2', 'h1' or 'ritz', got {loss!r}")
    x, w = points.x, points.w.double()
    with torch.enable_grad() if isinstance(net, MLP) else torch.no_grad():
        phi, dphi = output_features(net, x, gradients=loss != "l2")
    phi = phi.detach().double()
    has_c = getattr(net, "c", None) is not None
    if has_c:
        phi = torch.cat([phi, torch.ones(len(phi), 1, dtype=phi.dtype, device=phi.device)], 1)
        if dphi is not None:
            dphi = torch.cat([dphi, torch.zeros(*dphi.shape[:1], 1, dphi.shape[2], dtype=dphi.dtype,
                                                device=dphi.device)], 1)
    dphi = None if dphi is None else dphi.detach().double()
    if loss == "ritz":
        a_mat, b_vec = _ritz_system(net, problem, x, w, phi, dphi, boundary, beta, mean_penalty, has_c)
    else:
        problem.require_exact(f"fit_output_layer(loss={loss!r})")
        sw = torch.sqrt(w)
        rows, target = [phi * sw[:, None]], [problem.u_exact(x).double() * sw]
        if loss == "h1":
            gy = problem.grad_exact(x).double()
            rows += [dphi[:, :, j] * sw[:, None] for j in range(dphi.shape[2])]
            target += [gy[:, j] * sw for j in range(gy.shape[1])]
        coef = solve_rows(torch.cat(rows), torch.cat(target), ridge)
    if loss == "ritz":
        coef = solve_spd(a_mat, b_vec, ridge)
    m = net.a.numel()
    net.a.copy_(coef[:m].to(net.a.dtype))
    if has_c:
        net.c.copy_(coef[m].to(net.c.dtype))


def _ritz_system(net, problem, x, w, phi, dphi, boundary, beta, mean_penalty, has_c):
    if not isinstance(problem, Problem):
        raise TypeError(f"the Ritz energy needs a Problem, got {type(problem).__name__}")
    a_mat = torch.einsum("nmd,nkd->mk", dphi * w[:, None, None], dphi)
    a_mat = a_mat + (phi * (w * problem.V(x).double())[:, None]).T @ phi
    b_vec = (phi * (w * problem.f(x).double())[:, None]).sum(0)
    if problem.dirichlet is not None or problem.neumann is not None:
        if boundary is None:
            raise ValueError(f"problem {problem.name!r} has boundary data: pass boundary points")
        xb, wb = boundary.x, boundary.w.double()
        pb = output_features(net, xb, gradients=False)[0].detach().double()
        if has_c:
            pb = torch.cat([pb, torch.ones(len(pb), 1, dtype=pb.dtype, device=pb.device)], 1)
        dmask = problem.dirichlet_mask(xb)
        if problem.neumann is not None:
            b_vec = b_vec + (pb * (wb * problem.g(xb).double() * (~dmask))[:, None]).sum(0)
        if problem.dirichlet is not None:
            wd = wb * dmask
            a_mat = a_mat + 2 * beta * (pb * wd[:, None]).T @ pb
            b_vec = b_vec + 2 * beta * (pb * (wd * problem.h(xb).double())[:, None]).sum(0)
    if problem.pure_neumann:
        s = (phi * w[:, None]).sum(0)
        a_mat = a_mat + 2 * mean_penalty * torch.outer(s, s)
    return a_mat, b_vec
