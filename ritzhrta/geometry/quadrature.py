"""Quadrature rules (METHOD §7): composite Gauss–Legendre on boxes and segments, collapsed
(Duffy) Gauss rules on triangles, polar rules on disks, the trapezoid rule on circles.

All functions return numpy arrays ``(x, w)`` (points (n, d), weights (n,)); the domain
classes wrap them as :class:`ritzhrta.geometry.domains.Points`.

- Box, ``order`` nodes per axis in each of ``cells`` equal cells per axis: exact for
  polynomials of degree ≤ 2·order − 1 in each variable.
- Triangle (Duffy map (u, v) ↦ (u, v(1 − u)) of an order × order Gauss rule on the unit
  square, Jacobian 1 − u): exact for total degree ≤ 2·order − 2.
- Disk: Gauss in r on ``cells`` rings (weight r), the trapezoid rule in θ (exact for
  trigonometric polynomials of degree < the number of angles).

>>> x, w = box_rule([0.0], [2.0], order=2, cells=1)
>>> round(float((w * x[:, 0] ** 3).sum()), 12)
4.0
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

__all__ = ["gauss_legendre", "box_rule", "segment_rule", "triangle_rule", "triangulate", "polygon_rule", "disk_rule",
           "circle_rule", "check_rule_size", "simplex_rule", "subdivide_simplices", "simplex_measures"]


def check_rule_size(order: int, cells: int) -> tuple[int, int]:
    """Validate ``order`` (nodes per cell and axis) and ``cells`` (cells per axis)."""
    for name, value in (("order", order), ("cells", cells)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"quadrature {name} must be a positive integer, got {value!r}")
    return int(order), int(cells)


def gauss_legendre(order: int, cells: int = 1, a: float = 0.0, b: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss–Legendre nodes and weights on [a, b] (``cells`` equal cells)."""
    t, wt = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(a, b, cells + 1)
    h = np.diff(edges)
    x = (edges[:-1, None] + (t[None] + 1) / 2 * h[:, None]).ravel()
    w = (wt[None] / 2 * h[:, None]).ravel()
    return x, w


def box_rule(lo: Sequence[float], hi: Sequence[float], order: int, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Tensor-product composite Gauss–Legendre rule on the box [lo, hi] (any dimension)."""
    order, cells = check_rule_size(order, cells)
    axes = [gauss_legendre(order, cells, a, b) for a, b in zip(lo, hi)]
    xs = np.stack(np.meshgrid(*[x for x, _ in axes], indexing="ij"), -1).reshape(-1, len(axes))
    ws = np.prod(np.stack(np.meshgrid(*[w for _, w in axes], indexing="ij"), -1).reshape(-1, len(axes)), axis=1)
    return xs, ws


def segment_rule(a: np.ndarray, b: np.ndarray, order: int, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss–Legendre rule on the segment from ``a`` to ``b`` (points in R^d)."""
    t, w = gauss_legendre(order, cells)
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a + t[:, None] * (b - a), w * float(np.linalg.norm(b - a))


def triangle_rule(triangles: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Collapsed Gauss rule on each triangle of ``triangles`` (T, 3, 2)."""
    t, wt = gauss_legendre(order)
    u, v = np.meshgrid(t, t, indexing="ij")
    wu, wv = np.meshgrid(wt, wt, indexing="ij")
    u, v = u.ravel(), v.ravel()
    ref_w = (wu * wv).ravel() * (1 - u)  # on the reference triangle (0,0), (1,0), (0,1): area ½
    lam1, lam2 = u, v * (1 - u)
    p0, p1, p2 = triangles[:, 0], triangles[:, 1], triangles[:, 2]
    e1, e2 = p1 - p0, p2 - p0
    det = np.abs(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0])
    x = p0[:, None] + lam1[None, :, None] * e1[:, None] + lam2[None, :, None] * e2[:, None]
    return x.reshape(-1, 2), (det[:, None] * ref_w[None]).ravel()


def _subdivide(triangles: np.ndarray, cells: int) -> np.ndarray:
    """Split each triangle into cells² congruent ones."""
    if cells == 1:
        return triangles
    out = []
    n = cells
    for i in range(n):
        for j in range(n - i):
            out.append(((i, j), (i + 1, j), (i, j + 1)))
            if j < n - i - 1:
                out.append(((i + 1, j), (i + 1, j + 1), (i, j + 1)))
    bary = np.array(out, float) / n  # (k, 3 corners, 2 coordinates along e1, e2)
    p0, e1, e2 = triangles[:, 0], triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0]
    sub = p0[:, None, None] + bary[None, :, :, :1] * e1[:, None, None] + bary[None, :, :, 1:] * e2[:, None, None]
    return sub.reshape(-1, 3, 2)


def triangulate(vertices: np.ndarray) -> np.ndarray:
    """Ear-clipping triangulation of a simple counter-clockwise polygon: (V − 2, 3, 2)."""
    idx = list(range(len(vertices)))
    tris = []

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    while len(idx) > 3:
        for k in range(len(idx)):
            i, j, l = idx[k - 1], idx[k], idx[(k + 1) % len(idx)]
            a, b, c = vertices[i], vertices[j], vertices[l]
            if cross(a, b, c) <= 1e-14:
                continue  # reflex or degenerate corner
            others = [vertices[m] for m in idx if m not in (i, j, l)]
            if any(cross(a, b, p) >= 0 and cross(b, c, p) >= 0 and cross(c, a, p) >= 0 for p in others):
                continue  # another vertex inside: not an ear
            tris.append((a, b, c))
            idx.pop(k)
            break
        else:
            raise ValueError("could not triangulate the polygon (is it simple?)")
    tris.append(tuple(vertices[m] for m in idx))
    return np.array(tris, float)


def polygon_rule(vertices: np.ndarray, order: int, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Triangle rule on an ear-clipping triangulation refined ``cells`` times per edge."""
    order, cells = check_rule_size(order, cells)
    return triangle_rule(_subdivide(triangulate(vertices), cells), order)


def disk_rule(center: Sequence[float], radius: float, order: int, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Polar rule: Gauss in r (``cells`` rings, ``order`` nodes each, weight r), and
    4·order·cells equally spaced angles (trapezoid, exact for trigonometric degree < that)."""
    order, cells = check_rule_size(order, cells)
    r, wr = gauss_legendre(order, cells, 0.0, radius)
    n_theta = 4 * order * cells
    theta = 2 * math.pi * (np.arange(n_theta) + 0.5) / n_theta
    rr, tt = np.meshgrid(r, theta, indexing="ij")
    w = (wr * r)[:, None] * np.full(n_theta, 2 * math.pi / n_theta)[None]
    x = np.stack([center[0] + rr * np.cos(tt), center[1] + rr * np.sin(tt)], -1).reshape(-1, 2)
    return x, w.ravel()


def circle_rule(center: Sequence[float], radius: float, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n equally spaced points on the circle with weights 2πR/n and outward normals."""
    theta = 2 * math.pi * (np.arange(n) + 0.5) / n
    normals = np.stack([np.cos(theta), np.sin(theta)], 1)
    return np.asarray(center) + radius * normals, np.full(n, 2 * math.pi * radius / n), normals


def simplex_measures(simplices: np.ndarray) -> np.ndarray:
    """Measures (length, area, volume) of simplices (T, m + 1, D) of dimension m in R^D:
    √det(EᵀE) / m! with E the edge vectors from the first vertex."""
    e = simplices[:, 1:] - simplices[:, :1]  # (T, m, D)
    m = e.shape[1]
    gram = np.einsum("tid,tjd->tij", e, e)
    return np.sqrt(np.clip(np.linalg.det(gram), 0, None)) / math.factorial(m)


def _kuhn_pieces(m: int, n: int) -> np.ndarray:
    """The n^m simplices of the edgewise (Freudenthal) subdivision of the Kuhn simplex
    {n ≥ y_1 ≥ … ≥ y_m ≥ 0}: integer vertex coordinates (n^m, m + 1, m)."""
    from itertools import permutations, product

    pieces = []
    for corner in product(range(n), repeat=m):
        for perm in permutations(range(m)):
            v = [np.array(corner)]
            for axis in perm:
                step = v[-1].copy()
                step[axis] += 1
                v.append(step)
            v = np.array(v)
            if np.all(v <= n) and np.all(np.diff(v, axis=1) <= 0):
                pieces.append(v)
    return np.array(pieces)


def subdivide_simplices(simplices: np.ndarray, cells: int) -> np.ndarray:
    """Split each simplex (T, m + 1, D) into cells^m simplices of equal measure (edgewise
    subdivision: every edge cut into ``cells`` equal parts)."""
    if cells == 1:
        return simplices
    m = simplices.shape[1] - 1
    pieces = _kuhn_pieces(m, cells) / cells
    # the Kuhn simplex's vertices (0…0), (1,0…0), (1,1,0…), …, (1…1) map to p_0, p_1, …, p_m, so a
    # point y has barycentric coordinates λ_j = y_j − y_{j+1} (j = 1…m, y_{m+1} = 0) on p_j − p_0
    lam = pieces - np.concatenate([pieces[..., 1:], np.zeros(pieces.shape[:-1] + (1,))], -1)  # (k, m+1, m)
    p0 = simplices[:, 0]
    e = simplices[:, 1:] - p0[:, None]  # (T, m, D)
    sub = p0[:, None, None] + np.einsum("kvm,tmd->tkvd", lam, e)
    return sub.reshape(-1, m + 1, simplices.shape[2])


def simplex_rule(simplices: np.ndarray, order: int, cells: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Collapsed (conical-product) Gauss rule on simplices (T, m + 1, D) of dimension m ≤ 3
    in R^D, each split ``cells`` times per edge first. From u ∈ [0, 1]^m with ``order``
    Gauss nodes per axis: λ_i = u_i Π_{j<i} (1 − u_j), Jacobian Π_j (1 − u_j)^(m−j);
    exact for total degree ≤ 2·order − m (segments: 2·order − 1)."""
    order, cells = check_rule_size(order, cells)
    simplices = subdivide_simplices(np.asarray(simplices, float), cells)
    m = simplices.shape[1] - 1
    t, wt = gauss_legendre(order)
    grids = np.meshgrid(*([t] * m), indexing="ij")
    wgrids = np.meshgrid(*([wt] * m), indexing="ij")
    u = np.stack([g.ravel() for g in grids], 1)  # (q, m)
    ref_w = np.prod(np.stack([g.ravel() for g in wgrids], 1), 1)
    lam = np.empty_like(u)
    rest = np.ones(len(u))
    for i in range(m):
        lam[:, i] = u[:, i] * rest
        ref_w = ref_w * rest if i > 0 else ref_w
        rest = rest * (1 - u[:, i])
    # ref_w now carries Π_{i≥1} Π_{j<i} (1 − u_j) = Π_j (1 − u_j)^(m−1−j): the Duffy Jacobian
    ref_w = ref_w * math.factorial(m)  # the rule integrates over the unit simplex of measure 1/m!
    p0 = simplices[:, 0]
    e = simplices[:, 1:] - p0[:, None]
    x = p0[:, None] + np.einsum("qm,tmd->tqd", lam, e)
    w = simplex_measures(simplices)[:, None] * ref_w[None]
    return x.reshape(-1, simplices.shape[2]), w.ravel()
