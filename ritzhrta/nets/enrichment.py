"""Singular functions at re-entrant corners (METHOD §2c).

Near a corner of interior angle ω > π, the solution of a Poisson problem behaves like
Σ_k c_k r^(λ_k) sin(λ_k θ) with λ_k = kπ/ω (θ measured from one edge into the domain): the
gradient is unbounded for λ₁ < 1, and no smooth feature resolves it. Adding

    s_k(x) = r^(λ_k) sin(λ_k θ),   k = 1, 2, 3 with λ_k not an integer

to the basis, from the geometry alone (``domain.corner_sectors()``), restores the smooth
convergence of the rest. Each s_k is harmonic (Δs_k = 0) and vanishes on both edges of its
corner; ∇s_k = λ r^(λ−1) (sin(λθ) e_r + cos(λθ) e_θ).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["corner_functions", "evaluate", "TERMS"]

TERMS = 3  # k = 1..TERMS, integer exponents skipped (those functions are smooth)


def corner_functions(domain) -> list[tuple[tuple[float, float], float, float]]:
    """(vertex, θ₀, λ) for each singular function of ``domain`` (empty without re-entrant corners)."""
    sectors = getattr(domain, "corner_sectors", None)
    if not callable(sectors):
        return []
    out = []
    for vertex, theta0, omega in sectors():
        for k in range(1, TERMS + 1):
            lam = k * math.pi / omega
            if abs(lam - round(lam)) > 1e-9:
                out.append((vertex, theta0, lam))
    return out


def evaluate(functions, x: Tensor, gradients: bool = False) -> tuple[Tensor, Tensor | None]:
    """Values (n, p) and, with ``gradients``, gradients (n, p, 2) of the functions at x."""
    vals, grads = [], []
    for (vx, vy), theta0, lam in functions:
        dx, dy = x[:, 0] - vx, x[:, 1] - vy
        r = torch.sqrt(dx * dx + dy * dy)
        phi = torch.atan2(dy, dx)
        theta = torch.remainder(phi - theta0, 2 * math.pi)
        vals.append(r ** lam * torch.sin(lam * theta))
        if gradients:
            rs = torch.where(r > 0, r, torch.ones_like(r))
            radial = lam * rs ** (lam - 1) * torch.sin(lam * theta)
            angular = lam * rs ** (lam - 1) * torch.cos(lam * theta)
            gx = radial * torch.cos(phi) - angular * torch.sin(phi)
            gy = radial * torch.sin(phi) + angular * torch.cos(phi)
            zero = r == 0
            grads.append(torch.stack([torch.where(zero, 0, gx), torch.where(zero, 0, gy)], 1))
    if not vals:
        return x.new_zeros(x.shape[0], 0), (x.new_zeros(x.shape[0], 0, x.shape[1]) if gradients else None)
    return torch.stack(vals, 1), (torch.stack(grads, 1) if gradients else None)
