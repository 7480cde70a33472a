"""Domains: interior and boundary point sets with quadrature weights, normals, ``contains``.

Every point set is a :class:`Points` (x: (n, d), weights w: (n,) summing to the measure
of the set, outward unit normals on the boundary). Methods: ``"grid"`` (cell midpoints,
the midpoint rule), ``"random"`` (uniform, plain Monte Carlo weights |Ω|/n) and
``"sobol"`` (scrambled Sobol points, ``scipy.stats.qmc``).
"""
from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from scipy.stats import qmc
from torch import Tensor

__all__ = ["Points", "Domain", "Box", "Interval", "Disk", "Polygon", "LShape", "METHODS"]

METHODS = ("grid", "random", "sobol")
_INSIDE = 1e-12  # interior points keep at least this distance from the boundary


@dataclass(frozen=True)
class Points:
    """Quadrature points ``x`` (n, d) with weights ``w`` (n,) and optional outward ``normals`` (n, d)."""

    x: Tensor
    w: Tensor
    normals: Tensor | None = None

    def __post_init__(self) -> None:
        for name in ("x", "w") + (("normals",) if self.normals is not None else ()):
            value = getattr(self, name)
            if not isinstance(value, Tensor) or not value.is_floating_point():
                raise TypeError(f"Points.{name} must be a floating-point torch.Tensor, got "
                                f"{getattr(value, 'dtype', type(value).__name__)}")
            if not bool(torch.isfinite(value).all()):
                raise ValueError(f"Points.{name} contains NaN or infinite values")
        if self.x.ndim != 2 or self.x.shape[0] == 0:
            raise ValueError(f"Points.x must have shape (n, d) with n >= 1, got {tuple(self.x.shape)}")
        if self.w.shape != (self.x.shape[0],):
            raise ValueError(f"Points.w must have shape ({self.x.shape[0]},), got {tuple(self.w.shape)}")
        if self.normals is not None and self.normals.shape != self.x.shape:
            raise ValueError(f"Points.normals must have shape {tuple(self.x.shape)}, got {tuple(self.normals.shape)}")

    def __len__(self) -> int:
        return self.x.shape[0]

    def to(self, device=None, dtype=None) -> "Points":
        """Copy to another device and/or floating dtype."""
        n = None if self.normals is None else self.normals.to(device=device, dtype=dtype)
        return Points(self.x.to(device=device, dtype=dtype), self.w.to(device=device, dtype=dtype), n)

    def subset(self, mask: Tensor) -> "Points":
        """The points where ``mask`` is true, weights unchanged."""
        n = None if self.normals is None else self.normals[mask]
        return Points(self.x[mask], self.w[mask], n)


def _check_n(n: int, what: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{what} must be a positive integer number of points, got {n!r}")
    return int(n)


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return method


def unit_cube(n: int, d: int, method: str, seed: int | None) -> np.ndarray:
    """n points in [0, 1]^d (for ``grid``: m^d midpoints with m = round(n^(1/d)))."""
    if method == "grid":
        m = max(1, round(n ** (1 / d)))
        ticks = (np.arange(m) + 0.5) / m
        return np.stack(np.meshgrid(*([ticks] * d), indexing="ij"), -1).reshape(-1, d)
    if method == "random":
        return np.random.default_rng(seed).random((n, d))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # balance warning for n not a power of 2
        return qmc.Sobol(d, scramble=True, seed=seed).random(n)


class Domain(ABC):
    """A bounded domain in R^d."""

    dim: int
    lo: np.ndarray
    hi: np.ndarray

    @property
    @abstractmethod
    def measure(self) -> float:
        """|Ω| (length, area, volume)."""

    @property
    @abstractmethod
    def boundary_measure(self) -> float:
        """|∂Ω| (for an interval: 2, the counting measure of its end points)."""

    @abstractmethod
    def _contains(self, x: np.ndarray, tol: float) -> np.ndarray:
        ...

    @abstractmethod
    def _boundary(self, n: int, method: str, seed: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ...

    def contains(self, x: Tensor | np.ndarray, tol: float = 1e-12) -> Tensor | np.ndarray:
        """Boolean mask (n,) of points in the closed domain up to ``tol`` (a negative
        ``tol`` asks for points at least |tol| inside)."""
        as_tensor = isinstance(x, Tensor)
        arr = x.detach().cpu().double().numpy() if as_tensor else np.asarray(x, dtype=float)
        if arr.ndim != 2 or arr.shape[1] != self.dim:
            raise ValueError(f"points must have shape (n, {self.dim}), got {arr.shape}")
        mask = self._contains(arr, tol)
        return torch.from_numpy(mask).to(x.device) if as_tensor else mask

    def interior(self, n: int, method: str = "grid", seed: int | None = 0,
                 dtype: torch.dtype | None = None, device=None) -> Points:
        """About ``n`` interior points (exactly n for random/sobol) with weights |Ω|/n."""
        _check_n(n)
        _check_method(method)
        x = self._interior(n, method, seed)
        w = np.full(len(x), self.measure / len(x))
        return _to_points(x, w, None, dtype, device)

    def boundary(self, n: int, method: str = "grid", seed: int | None = 0,
                 dtype: torch.dtype | None = None, device=None) -> Points:
        """About ``n`` boundary points with outward unit normals; weights sum to |∂Ω|."""
        _check_n(n)
        _check_method(method)
        x, w, normals = self._boundary(n, method, seed)
        return _to_points(x, w, normals, dtype, device)

    def _interior(self, n: int, method: str, seed: int | None) -> np.ndarray:
        """Default: the bounding box's points that fall inside (rejection)."""
        span = self.hi - self.lo
        ratio = float(np.prod(span)) / self.measure
        if method == "grid":
            m = max(1, math.ceil((n * ratio) ** (1 / self.dim)))
            x = self.lo + unit_cube(m ** self.dim, self.dim, "grid", None) * span
            return x[self._contains(x, -_INSIDE)]
        total = max(16, math.ceil(1.3 * n * ratio))
        while True:
            x = self.lo + unit_cube(total, self.dim, method, seed) * span
            x = x[self._contains(x, -_INSIDE)]
            if len(x) >= n:
                return x[:n]
            total *= 2


def _to_points(x, w, normals, dtype, device) -> Points:
    dtype = dtype or torch.get_default_dtype()
    t = lambda a: torch.as_tensor(np.ascontiguousarray(a), dtype=dtype, device=device)  # noqa: E731
    return Points(t(x), t(w), None if normals is None else t(normals))


def _as_vector(v, name: str) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(v, dtype=float))
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be a finite vector, got {v!r}")
    return arr


class Box(Domain):
    """The box [lo_1, hi_1] × … × [lo_d, hi_d], any d ≥ 1."""

    def __init__(self, lo: Sequence[float] | float, hi: Sequence[float] | float) -> None:
        self.lo, self.hi = _as_vector(lo, "lo"), _as_vector(hi, "hi")
        if self.lo.shape != self.hi.shape:
            raise ValueError(f"lo and hi must have the same length, got {self.lo.size} and {self.hi.size}")
        if np.any(self.lo >= self.hi):
            raise ValueError(f"Box needs lo < hi in every coordinate, got lo={self.lo}, hi={self.hi}")
        self.dim = self.lo.size

    def __repr__(self) -> str:
        return f"Box(lo={self.lo.tolist()}, hi={self.hi.tolist()})"

    @property
    def measure(self) -> float:
        return float(np.prod(self.hi - self.lo))

    def _face_measures(self) -> np.ndarray:
        span = self.hi - self.lo
        return np.array([np.prod(np.delete(span, i)) for i in range(self.dim)])

    @property
    def boundary_measure(self) -> float:
        return 2.0 if self.dim == 1 else float(2 * self._face_measures().sum())

    def _contains(self, x: np.ndarray, tol: float) -> np.ndarray:
        return np.all((x >= self.lo - tol) & (x <= self.hi + tol), axis=1)

    def _interior(self, n: int, method: str, seed: int | None) -> np.ndarray:
        return self.lo + unit_cube(n, self.dim, method, seed) * (self.hi - self.lo)

    def _boundary(self, n, method, seed):
        d = self.dim
        if d == 1:  # two end points, counting measure
            return np.array([self.lo, self.hi]), np.ones(2), np.array([[-1.0], [1.0]])
        faces = self._face_measures()
        counts = _allocate(n, np.repeat(faces, 2))
        xs, ws, ns = [], [], []
        for f, count in enumerate(counts):
            i, side = divmod(f, 2)
            u = unit_cube(count, d - 1, method, None if seed is None else seed + f)
            x = np.empty((len(u), d))
            other = [j for j in range(d) if j != i]
            x[:, other] = self.lo[other] + u * (self.hi - self.lo)[other]
            x[:, i] = self.hi[i] if side else self.lo[i]
            normal = np.zeros(d)
            normal[i] = 1.0 if side else -1.0
            xs.append(x)
            ws.append(np.full(len(x), faces[i] / len(x)))
            ns.append(np.tile(normal, (len(x), 1)))
        return np.concatenate(xs), np.concatenate(ws), np.concatenate(ns)


class Interval(Box):
    """The interval [a, b]."""

    def __init__(self, a: float = 0.0, b: float = 1.0) -> None:
        super().__init__([a], [b])

    def __repr__(self) -> str:
        return f"Interval({self.lo[0]:g}, {self.hi[0]:g})"


def _allocate(n: int, sizes: np.ndarray) -> np.ndarray:
    """Split n into integer counts ≥ 1 proportional to ``sizes`` (largest remainder)."""
    raw = np.maximum(n, len(sizes)) * sizes / sizes.sum()
    counts = np.floor(raw).astype(int)
    counts[np.argsort(counts - raw)[: max(0, n - counts.sum())]] += 1
    return np.maximum(counts, 1)


def _perimeter_params(n: int, method: str, seed: int | None) -> np.ndarray:
    """n parameters in [0, 1) along a closed curve."""
    if method == "grid":
        return (np.arange(n) + 0.5) / n
    return np.sort(unit_cube(n, 1, method, seed)[:, 0])


class Disk(Domain):
    """The disk |x − center| ≤ radius in R²."""

    def __init__(self, center: Sequence[float] = (0.0, 0.0), radius: float = 1.0) -> None:
        self.center = _as_vector(center, "center")
        if self.center.size != 2:
            raise ValueError(f"Disk center must have 2 coordinates, got {self.center.size}")
        if not (isinstance(radius, (int, float)) and math.isfinite(radius) and radius > 0):
            raise ValueError(f"Disk radius must be a finite number > 0, got {radius!r}")
        self.radius = float(radius)
        self.dim = 2
        self.lo, self.hi = self.center - radius, self.center + radius

    def __repr__(self) -> str:
        return f"Disk(center={self.center.tolist()}, radius={self.radius:g})"

    @property
    def measure(self) -> float:
        return math.pi * self.radius ** 2

    @property
    def boundary_measure(self) -> float:
        return 2 * math.pi * self.radius

    def _contains(self, x, tol):
        return np.sum((x - self.center) ** 2, axis=1) <= (self.radius + tol) ** 2

    def _boundary(self, n, method, seed):
        theta = 2 * math.pi * _perimeter_params(n, method, seed)
        normals = np.stack([np.cos(theta), np.sin(theta)], 1)
        return self.center + self.radius * normals, np.full(n, self.boundary_measure / n), normals


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
        dist = _segment_distance(x, a, b)
        return inside | (dist <= tol) if tol >= 0 else inside & (dist >= -tol)

    def _boundary(self, n, method, seed):
        a, b = self.edges
        lengths = np.linalg.norm(b - a, axis=1)
        cum = np.concatenate([[0.0], np.cumsum(lengths)])
        t = _perimeter_params(n, method, seed) * cum[-1]
        e = np.clip(np.searchsorted(cum, t, side="right") - 1, 0, len(lengths) - 1)
        frac = ((t - cum[e]) / lengths[e])[:, None]
        x = a[e] + frac * (b[e] - a[e])
        direction = (b - a) / lengths[:, None]
        normals = np.stack([direction[:, 1], -direction[:, 0]], 1)[e]
        return x, np.full(n, cum[-1] / n), normals


def _segment_distance(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
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


def LShape() -> Polygon:
    """The L-shape (−1, 1)² \\ [0, 1) × (−1, 0] (re-entrant corner at the origin), area 3."""
    return Polygon([(-1, -1), (0, -1), (0, 0), (1, 0), (1, 1), (-1, 1)])
