"""Lifts of Dirichlet data built from boundary values only (METHOD §7).

Exact imposition u = ĥ + φ·N needs a function ĥ on Ω with ĥ = h on Γ_D. Evaluating h's
formula inside Ω would hand the solver the answer whenever the data are written as the exact
solution; these lifts call h at boundary points only:

- box [lo, hi] in any dimension: the transfinite (Coons) interpolation, the Boolean sum of the
  linear interpolations between opposite faces,
      ĥ = Σ_{S ≠ ∅} (−1)^(|S|+1) P_S h,   P_S h(x) = Σ_{c ∈ {lo,hi}^S} Π_{i∈S} λ_i(c_i; x_i) · h(x|_{x_S = c})
  (λ_i(lo) = (hi − x_i)/(hi − lo), λ_i(hi) = 1 − λ_i(lo)); exact on every face;
- disk (c, R): the harmonic extension of the boundary values' Fourier series,
      ĥ(r, θ) = a₀/2 + Σ_{k ≤ K} (r/R)^k (a_k cos kθ + b_k sin kθ)
  (K = 64 from 256 samples; spectrally exact on the circle for smooth h);
- segments (polygons, the Dirichlet edges of a 2D mesh): the inverse-distance blend of the
  data at the nearest point of each segment, ĥ = Σ_i w_i h(π_i(x)) / Σ_i w_i with
  w_i = 1/d_i², d_i the distance to segment i (exact on every segment).

∇ĥ is taken by autograd through these formulas, so h must be written with torch operations:
:func:`check_data` refuses a callable whose values vary along the boundary but carry no
gradient (written with numpy), which would silently give ∇ĥ = 0.
"""
from __future__ import annotations

import itertools
import math
from typing import Callable

import torch
from torch import Tensor

__all__ = ["box_lift", "disk_lift", "segments_lift", "check_data", "FOURIER_SAMPLES"]

FOURIER_SAMPLES = 256


def box_lift(h: Callable[[Tensor], Tensor], lo, hi) -> Callable[[Tensor], Tensor]:
    """The transfinite interpolation of h from the faces of the box [lo, hi]."""
    lo_t, hi_t = torch.as_tensor(lo, dtype=torch.float64), torch.as_tensor(hi, dtype=torch.float64)
    d = len(lo_t)

    def lift(x: Tensor) -> Tensor:
        a, b = lo_t.to(x), hi_t.to(x)
        lam_lo = (b - x) / (b - a)  # weight of the lo face, per coordinate (n, d)
        total = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        for size in range(1, d + 1):
            sign = 1.0 if size % 2 else -1.0
            for dims in itertools.combinations(range(d), size):
                for ends in itertools.product((0, 1), repeat=size):
                    y, weight = x.clone(), torch.ones_like(total)
                    for i, e in zip(dims, ends):
                        y[:, i] = (a if e == 0 else b)[i]
                        weight = weight * (lam_lo[:, i] if e == 0 else 1 - lam_lo[:, i])
                    total = total + sign * weight * h(y)
        return total

    return lift


def disk_lift(h: Callable[[Tensor], Tensor], center, radius: float, samples: int = FOURIER_SAMPLES):
    """The harmonic extension of h's Fourier series on the circle |x − c| = R."""
    c = torch.as_tensor(center, dtype=torch.float64)
    theta = torch.arange(samples, dtype=torch.float64) * (2 * math.pi / samples)
    ring = c + radius * torch.stack([torch.cos(theta), torch.sin(theta)], 1)
    with torch.no_grad():
        coef = torch.fft.rfft(h(ring).double()) / samples  # h(θ) = Σ_k 2 Re(coef_k e^{ikθ}) (k > 0)
    kmax = samples // 4

    def lift(x: Tensor) -> Tensor:
        rel = x - c.to(x)
        r = torch.sqrt((rel ** 2).sum(1)) / radius
        phi = torch.atan2(rel[:, 1], rel[:, 0])
        k = torch.arange(1, kmax + 1, dtype=x.dtype, device=x.device)
        re, im = coef.real[1:kmax + 1].to(x), coef.imag[1:kmax + 1].to(x)
        rk = r[:, None] ** k[None]
        terms = rk * (re[None] * torch.cos(k[None] * phi[:, None]) - im[None] * torch.sin(k[None] * phi[:, None]))
        return coef.real[0].to(x) + 2 * terms.sum(1)

    return lift


def segments_lift(h: Callable[[Tensor], Tensor], p: Tensor, q: Tensor) -> Callable[[Tensor], Tensor]:
    """The inverse-distance blend of h from the segments [p_i, q_i] (2D)."""
    def lift(x: Tensor) -> Tensor:
        pp, qq = p.to(x), q.to(x)
        d = qq - pp
        t = ((x[:, None, :] - pp[None]) * d[None]).sum(-1) / (d * d).sum(1)[None]  # (n, S)
        ends = (t <= 0) | (t >= 1)  # the nearest point is an end: a constant, no gradient through it
        t = torch.where(ends, t.detach().clamp(0, 1), t)  # (h may be singular at a vertex)
        foot = pp[None] + t[..., None] * d[None]  # nearest points (n, S, 2)
        dist2 = ((x[:, None, :] - foot) ** 2).sum(-1)
        values = h(foot.reshape(-1, 2)).reshape(dist2.shape)
        on = dist2 <= torch.finfo(x.dtype).eps ** 2  # on a segment: its value exactly
        w = 1 / dist2.clamp_min(torch.finfo(x.dtype).tiny)
        blend = (w * values).sum(1) / w.sum(1)
        exact = torch.where(on, values, torch.zeros_like(values)).sum(1) / on.sum(1).clamp_min(1)
        return torch.where(on.any(1), exact, blend)

    return lift


def check_data(h: Callable[[Tensor], Tensor], xb: Tensor) -> None:
    """Refuse Dirichlet data that autograd cannot follow (e.g. written with numpy): values that
    vary along the boundary points ``xb`` but carry no gradient, or whose autograd gradient does not
    explain how they vary — ``h_np(x) + 0·x[:, 0]`` has a gradient, of zero. The check follows the
    values: between each point and its nearest neighbour on the boundary, the change of h must be
    g·Δx to first order (g the autograd gradient); where autograd is blind it explains none of it."""
    refusal = ("the Dirichlet data h varies along the boundary but autograd cannot differentiate it "
               "(written with numpy?): write h with torch operations, or use dirichlet='nitsche'")
    with torch.enable_grad():
        x = xb.detach().clone().requires_grad_(True)
        v = h(x)
        if not isinstance(v, Tensor) or float(v.max() - v.min()) <= 1e-12 * (1 + float(v.abs().max())):
            return  # constant along the boundary (to round-off): nothing for a gradient to carry
        if not v.requires_grad:
            raise ValueError(refusal)
        (g,) = torch.autograd.grad(v.sum(), x, allow_unused=True)
    g = torch.zeros_like(x) if g is None else g.detach()
    pts, vals = x.detach(), v.detach()
    dist = torch.cdist(pts, pts)
    dist.fill_diagonal_(float("inf"))
    near = dist.argmin(1)
    change = vals[near] - vals
    predicted = (g * (pts[near] - pts)).sum(1)
    total = float(change.abs().sum())
    if total > 0 and float((change - predicted).abs().sum()) > 0.5 * total:
        raise ValueError(refusal)
