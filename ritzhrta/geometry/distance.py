"""Smooth distance-like functions of 2D boundaries (METHOD §7): the factor φ of exact imposition.

For segments [p_i, q_i] the R-equivalence φ = 1 / Σ_i 1/φ_i of the segments' smooth approximate
distance functions (Sukumar & Srivastava 2022): with L = |q − p|, c = (p + q)/2,
    f = ((x − p) × (q − p))/L,   t = ((L/2)² − |x − c|²)/L,   ϱ = √(t² + f⁴),
    φ_i = √(f² + ((ϱ − t)/2)²)
(φ_i ≈ the distance to the segment near it, 0 only on it). Used by the polygon and 2D mesh
domains' :meth:`~ritzhrta.geometry.domains.Domain.distance_factor`.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import Tensor

__all__ = ["segments_distance", "polygon_distance", "with_gradient", "merge_collinear"]


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


def with_gradient(fn: Callable[[Tensor], Tensor], x: Tensor) -> tuple[Tensor, Tensor]:
    """(fn(x), ∇fn(x)) by autograd; both stay differentiable in x when x requires grad."""
    with torch.enable_grad():
        xg = x if x.requires_grad else x.detach().requires_grad_(True)
        value = fn(xg)
        (grad,) = torch.autograd.grad(value.sum(), xg, create_graph=x.requires_grad)
    if not x.requires_grad:
        value = value.detach()
    return value, grad
