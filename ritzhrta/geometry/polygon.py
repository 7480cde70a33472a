"""Polygons (simple, any number of vertices) and the L-shape of the corner-singularity benchmark."""
from __future__ import annotations

from typing import Sequence

import math

import numpy as np

from ritzhrta.geometry.domains import Domain, perimeter_params
from ritzhrta.geometry.quadrature import polygon_rule, segment_rule

__all__ = ["Polygon", "LShape", "segment_distance"]


class Polygon(Domain):
    """A simple (non-self-intersecting) polygon in R² given by its vertices in order."""

    def __init__(self, vertices: Sequence[Sequence[float]]) -> None:
        v = np.asarray(vertices, dtype=float)
        if v.ndim != 2 or v.shape[1] != 2 or len(v) < 3 or not np.all(np.isfinite(v)):
            raise ValueError(f"Polygon needs at least 3 finite vertices of shape (V, 2), got shape {v.shape}")
        signed = 0.5 * np.sum(v[:, 0] * np.roll(v[:, 1], -1) - np.roll(v[:, 0], -1) * v[:, 1])
        if abs(signed) < 1e-14:
            raise ValueError("Polygon has zero area")
        self.vertices = v if signed > 0 else v[::-1].copy()  # counter-clockwise
        _check_simple(self.vertices)
        self._area = abs(float(signed))
        self.dim = 2
        self.lo, self.hi = self.vertices.min(0), self.vertices.max(0)

    def __repr__(self) -> str:
        return f"Polygon({self.vertices.tolist()})"

    def reentrant_corners(self) -> list[tuple[float, float]]:
        """The vertices with an interior angle > π (the solution is singular there in general)."""
        return [v for v, _, _ in _sectors(self.vertices)]

    def corner_sectors(self) -> list[tuple[tuple[float, float], float, float]]:
        """(vertex, θ₀, ω) of each re-entrant corner: the domain near it is θ₀ < θ < θ₀ + ω."""
        return _sectors(self.vertices)

    exact_by_default = False  # φ's kink at the corners limits the exact route's rate: Nitsche (tests/test_exact_bc.py)

    def distance_factor(self, problem=None):
        """The R-equivalence of the edges' smooth distances (:mod:`ritzhrta.geometry.distance`), ∇φ by autograd."""
        import torch

        from ritzhrta.geometry.distance import polygon_distance, with_gradient

        vertices = torch.as_tensor(self.vertices)
        return lambda x: with_gradient(lambda y: polygon_distance(y, vertices.to(y)), x)

    def boundary_lift(self, h, problem=None):
        """The inverse-distance blend of h on the edges (:func:`ritzhrta.geometry.lift.segments_lift`)."""
        import torch

        from ritzhrta.geometry.lift import segments_lift

        v = torch.as_tensor(self.vertices)
        return segments_lift(h, v, torch.roll(v, -1, 0))

    def fem_mesh(self, skfem, cells: int):
        from ritzhrta.geometry.quadrature import triangulate

        tris = triangulate(self.vertices)
        pts, inv = np.unique(np.round(tris.reshape(-1, 2), 12), axis=0, return_inverse=True)
        return skfem.MeshTri(pts.T, inv.reshape(-1, 3).T)

    @property
    def edges(self) -> tuple[np.ndarray, np.ndarray]:
        """Start points and end points of the edges, counter-clockwise."""
        return self.vertices, np.roll(self.vertices, -1, axis=0)

    @property
    def measure(self) -> float:
        return self._area

    @property
    def boundary_measure(self) -> float:
        a, b = self.edges
        return float(np.linalg.norm(b - a, axis=1).sum())

    def _contains(self, x, tol):
        a, b = self.edges
        inside = np.zeros(len(x), dtype=bool)
        for (x0, y0), (x1, y1) in zip(a, b):  # even-odd ray casting, a loop over edges
            crosses = (y0 > x[:, 1]) != (y1 > x[:, 1])
            with np.errstate(divide="ignore", invalid="ignore"):
                xint = x0 + (x[:, 1] - y0) * (x1 - x0) / (y1 - y0)
            inside ^= crosses & (x[:, 0] < xint)
        dist = segment_distance(x, a, b)
        return inside | (dist <= tol) if tol >= 0 else inside & (dist >= -tol)

    def boundary_distance(self, x: np.ndarray) -> np.ndarray:
        a, b = self.edges
        return segment_distance(x, a, b)

    def _quadrature(self, order, cells):
        return polygon_rule(self.vertices, order, cells)

    def _boundary_quadrature(self, order, cells):
        a, b = self.edges
        xs, ws, ns = [], [], []
        for p, q in zip(a, b):
            x, w = segment_rule(p, q, order, cells)
            t = (q - p) / np.linalg.norm(q - p)
            xs.append(x)
            ws.append(w)
            ns.append(np.tile([t[1], -t[0]], (len(x), 1)))
        return np.concatenate(xs), np.concatenate(ws), np.concatenate(ns)

    def _boundary(self, n, method, seed):
        a, b = self.edges
        lengths = np.linalg.norm(b - a, axis=1)
        cum = np.concatenate([[0.0], np.cumsum(lengths)])
        t = perimeter_params(n, method, seed) * cum[-1]
        e = np.clip(np.searchsorted(cum, t, side="right") - 1, 0, len(lengths) - 1)
        frac = ((t - cum[e]) / lengths[e])[:, None]
        x = a[e] + frac * (b[e] - a[e])
        direction = (b - a) / lengths[:, None]
        normals = np.stack([direction[:, 1], -direction[:, 0]], 1)[e]
        return x, np.full(n, cum[-1] / n), normals


def segment_distance(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from each point to the nearest of the segments a_i b_i."""
    ab = b - a
    t = np.clip(np.einsum("nke,ke->nk", x[:, None, :] - a, ab) / np.sum(ab ** 2, 1), 0, 1)
    nearest = a + t[..., None] * ab
    return np.min(np.linalg.norm(x[:, None, :] - nearest, axis=2), axis=1)


def _check_simple(v: np.ndarray) -> None:
    """Raise ValueError if two edges of the polygon cross or touch (other than neighbours)."""
    V = len(v)
    a, b = v, np.roll(v, -1, axis=0)
    if np.any(np.linalg.norm(b - a, axis=1) == 0):
        raise ValueError("Polygon has repeated consecutive vertices")

    def orient(p, q, r):
        return np.sign((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]))

    for i in range(V):
        for j in range(i + 1, V):
            if j == i + 1 or (i == 0 and j == V - 1):
                continue
            p1, p2, q1, q2 = a[i], b[i], a[j], b[j]
            o1, o2, o3, o4 = orient(p1, p2, q1), orient(p1, p2, q2), orient(q1, q2, p1), orient(q1, q2, p2)
            if o1 != o2 and o3 != o4:
                raise ValueError(f"Polygon is self-intersecting: edges {i} and {j} cross")


def _sectors(vertices: np.ndarray) -> list[tuple[tuple[float, float], float, float]]:
    """(vertex, θ₀, ω) of every vertex of a counter-clockwise polygon with interior angle ω > π:
    the interior is the sector of angles θ₀ … θ₀ + ω (θ₀ the direction of the outgoing edge)."""
    prev, nxt = np.roll(vertices, 1, axis=0), np.roll(vertices, -1, axis=0)
    out = []
    for p, v, n in zip(prev, vertices, nxt):
        theta0 = math.atan2(n[1] - v[1], n[0] - v[0])
        omega = (math.atan2(p[1] - v[1], p[0] - v[0]) - theta0) % (2 * math.pi)
        if omega > math.pi + 1e-12:
            out.append(((float(v[0]), float(v[1])), theta0, omega))
    return out


class LShape(Polygon):
    """The L-shape (−1, 1)² \\ [0, 1) × (−1, 0] (re-entrant corner at the origin), area 3."""

    def __init__(self) -> None:
        super().__init__([(-1, -1), (0, -1), (0, 0), (1, 0), (1, 1), (-1, 1)])

    def __repr__(self) -> str:
        return "LShape()"
