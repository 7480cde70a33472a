"""Domains: interior and boundary point sets with quadrature weights, normals, ``contains``.

Boxes (any d) and disks here; polygons and the L-shape in :mod:`ritzhrta.geometry.polygon`.

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

from ritzhrta.geometry.quadrature import box_rule, check_rule_size, circle_rule, disk_rule

__all__ = ["Points", "Domain", "Box", "Interval", "Disk", "METHODS", "check_count", "perimeter_params", "unit_cube"]

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


def check_count(n: int, what: str = "n") -> int:
    """Return ``n`` as an int, or raise ``ValueError`` unless it is a positive integer."""
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

    @abstractmethod
    def boundary_distance(self, x: np.ndarray) -> np.ndarray:
        """Distance from each point x (n, d) of the closed domain to the boundary ∂Ω."""

    def contains(self, x: Tensor | np.ndarray, tol: float = 1e-12) -> Tensor | np.ndarray:
        """Boolean mask (n,) of points in the closed domain up to ``tol`` (a negative
        ``tol`` asks for points at least |tol| inside)."""
        as_tensor = isinstance(x, Tensor)
        arr = x.detach().cpu().double().numpy() if as_tensor else np.asarray(x, dtype=float)
        if arr.ndim != 2 or arr.shape[1] != self.dim:
            raise ValueError(f"points must have shape (n, {self.dim}), got {arr.shape}")
        mask = self._contains(arr, tol)
        return torch.from_numpy(mask).to(x.device) if as_tensor else mask

    def default_rule(self) -> tuple[int, int]:
        """(order, cells) of the default Gauss rule of the galerkin/gauss-newton trainers:
        6 × 32 in 1D, 6 × 12 in 2D (72² points on a box), 4 × 5 in 3D (20³), 3 × 2 beyond."""
        return {1: (6, 32), 2: (6, 12), 3: (4, 5)}.get(self.dim, (3, 2))

    # --- what the rest of the package asks a domain (issue 22): a new shape is one file that
    # overrides the hooks it supports; the defaults refuse in one line (no isinstance ladders).
    meshed = False  # made of mesh cells with boundary tags (MeshDomain): rules per cell, {tag: data}
    exact_by_default = True  # the Ritz route imposes Dirichlet data exactly here (False: Nitsche)

    def corner_sectors(self) -> list[tuple[tuple[float, float], float, float]]:
        """(vertex, start angle, interior angle ω) of the corners with ω > π (none by default)."""
        return []

    def reentrant_corners(self) -> list[tuple[float, float]]:
        """The vertices of the re-entrant corners (interior angle > π)."""
        return [vertex for vertex, _, _ in self.corner_sectors()]

    def distance_factor(self, problem=None):
        """x ↦ (φ(x), ∇φ(x)) with φ > 0 in Ω and φ = 0 on the Dirichlet boundary: the factor of
        exact imposition u = ĥ + φN (METHOD §7). ``problem`` names the Dirichlet part where the
        shape has tags."""
        raise ValueError(f"exact Dirichlet imposition does not know {self!r}; use Nitsche's method "
                         "(dirichlet='nitsche') there")

    def boundary_lift(self, h, problem=None):
        """ĥ on Ω built from the values of h on the (Dirichlet) boundary only (:mod:`ritzhrta.geometry.lift`)."""
        raise ValueError(f"exact Dirichlet imposition has no lift of boundary data on {self!r}; use Nitsche's "
                         "method (dirichlet='nitsche') there")

    def fem_mesh(self, skfem, cells: int):
        """A scikit-fem mesh of Ω with about ``cells`` cells per side (the P2 reference, :mod:`ritzhrta.reference.fem`)."""
        raise ValueError(f"the FEM reference cannot mesh {self!r}")

    def fem_snap(self, mesh):
        """``mesh`` with its boundary nodes moved onto a curved boundary (after each refinement)."""
        return mesh

    def plot_mesh(self, resolution: int):
        """A :class:`~ritzhrta.geometry.meshing.Mesh` for plots and VTK, ~``resolution`` points along the
        longest side (2D: a Delaunay triangulation of grid and boundary points)."""
        from ritzhrta.geometry.meshing import delaunay_mesh

        if self.dim != 2:
            raise ValueError(f"meshing is implemented for boxes and 2D domains, not {self!r}")
        return delaunay_mesh(self, resolution)

    def quadrature(self, order: int = 4, cells: int = 8, dtype: torch.dtype | None = None, device=None) -> Points:
        """A composite Gauss rule on Ω (:mod:`ritzhrta.geometry.quadrature`): ``order`` nodes per
        axis in each of ``cells`` cells per axis (polygons: per triangle edge)."""
        x, w = self._quadrature(*check_rule_size(order, cells))
        return _to_points(x, w, None, dtype, device)

    def boundary_quadrature(self, order: int = 4, cells: int = 8, dtype: torch.dtype | None = None,
                            device=None) -> Points:
        """A composite Gauss rule on ∂Ω with outward unit normals."""
        x, w, normals = self._boundary_quadrature(*check_rule_size(order, cells))
        return _to_points(x, w, normals, dtype, device)

    @abstractmethod
    def _quadrature(self, order: int, cells: int) -> tuple[np.ndarray, np.ndarray]:
        ...

    @abstractmethod
    def _boundary_quadrature(self, order: int, cells: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ...

    def interior(self, n: int, method: str = "grid", seed: int | None = 0,
                 dtype: torch.dtype | None = None, device=None) -> Points:
        """About ``n`` interior points (exactly n for random/sobol) with weights |Ω|/n."""
        check_count(n)
        _check_method(method)
        x = self._interior(n, method, seed)
        w = np.full(len(x), self.measure / len(x))
        return _to_points(x, w, None, dtype, device)

    def boundary(self, n: int, method: str = "grid", seed: int | None = 0,
                 dtype: torch.dtype | None = None, device=None) -> Points:
        """About ``n`` boundary points with outward unit normals; weights sum to |∂Ω|."""
        check_count(n)
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
    """The box [lo_1, hi_1] × … × [lo_d, hi_d], any d ≥ 1.

    >>> box = Box([0, 0], [2, 1])
    >>> box.measure, box.boundary_measure, float(box.interior(8, "grid").w.sum())
    (2.0, 6.0, 2.0)
    """

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

    def boundary_distance(self, x: np.ndarray) -> np.ndarray:
        return np.min(np.minimum(x - self.lo, self.hi - x), axis=1)

    def distance_factor(self, problem=None):
        """φ(x) = Π_i 4 (x_i − lo_i)(hi_i − x_i) / (hi_i − lo_i)²  (1 at the centre)."""
        lo, hi = torch.as_tensor(self.lo), torch.as_tensor(self.hi)

        def box(x: Tensor) -> tuple[Tensor, Tensor]:
            a, b = lo.to(x), hi.to(x)
            f = 4 * (x - a) * (b - x) / (b - a) ** 2  # (n, d), each factor 1 at the centre
            df = 4 * (a + b - 2 * x) / (b - a) ** 2
            phi = f.prod(1)
            grads = [df[:, i] * torch.cat([f[:, :i], f[:, i + 1:]], 1).prod(1) for i in range(x.shape[1])]
            return phi, torch.stack(grads, 1)

        return box

    def boundary_lift(self, h, problem=None):
        """The transfinite (Coons) interpolation of h between opposite faces."""
        from ritzhrta.geometry.lift import box_lift

        return box_lift(h, self.lo, self.hi)

    def fem_mesh(self, skfem, cells: int):
        ticks = [np.linspace(lo, hi, max(2, round(cells * (hi - lo) / (self.hi - self.lo).max()) + 1))
                 for lo, hi in zip(self.lo, self.hi)]
        kind = {1: skfem.MeshLine, 2: skfem.MeshTri, 3: skfem.MeshTet}.get(self.dim)
        if kind is None:
            raise ValueError(f"the FEM reference supports boxes of dimension 1–3, not {self.dim}")
        return kind.init_tensor(*ticks) if self.dim > 1 else skfem.MeshLine(ticks[0])

    def plot_mesh(self, resolution: int):
        from ritzhrta.geometry.meshing import box_mesh

        return box_mesh(self, resolution)

    def _quadrature(self, order, cells):
        return box_rule(self.lo, self.hi, order, cells)

    def _boundary_quadrature(self, order, cells):
        d = self.dim
        if d == 1:
            return np.array([self.lo, self.hi]), np.ones(2), np.array([[-1.0], [1.0]])
        xs, ws, ns = [], [], []
        for i in range(d):
            other = [j for j in range(d) if j != i]
            u, w = box_rule(self.lo[other], self.hi[other], order, cells)
            for side, value in ((-1.0, self.lo[i]), (1.0, self.hi[i])):
                x = np.empty((len(u), d))
                x[:, other], x[:, i] = u, value
                normal = np.zeros(d)
                normal[i] = side
                xs.append(x)
                ws.append(w)
                ns.append(np.tile(normal, (len(u), 1)))
        return np.concatenate(xs), np.concatenate(ws), np.concatenate(ns)

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


def perimeter_params(n: int, method: str, seed: int | None) -> np.ndarray:
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

    def boundary_distance(self, x: np.ndarray) -> np.ndarray:
        return np.abs(self.radius - np.linalg.norm(x - self.center, axis=1))

    def distance_factor(self, problem=None):
        """φ(x) = 1 − |x − c|² / R²."""
        center, radius = torch.as_tensor(self.center), self.radius

        def disk(x: Tensor) -> tuple[Tensor, Tensor]:
            r = x - center.to(x)
            return 1 - (r ** 2).sum(1) / radius ** 2, -2 * r / radius ** 2

        return disk

    def boundary_lift(self, h, problem=None):
        """The harmonic extension of h's Fourier series on the circle."""
        from ritzhrta.geometry.lift import disk_lift

        return disk_lift(h, self.center, self.radius)

    def fem_mesh(self, skfem, cells: int):
        m = skfem.MeshTri.init_circle(2)
        return skfem.MeshTri(m.p * self.radius + self.center[:, None], m.t)

    def fem_snap(self, mesh):
        """The boundary nodes moved onto the circle (else refinement keeps a polygon)."""
        nodes = mesh.boundary_nodes()
        p = mesh.p.copy()
        d = p[:, nodes] - self.center[:, None]
        p[:, nodes] = self.center[:, None] + self.radius * d / np.linalg.norm(d, axis=0)
        return type(mesh)(p, mesh.t)

    def _quadrature(self, order, cells):
        return disk_rule(self.center, self.radius, order, cells)

    def _boundary_quadrature(self, order, cells):
        return circle_rule(self.center, self.radius, 4 * order * cells)

    def _boundary(self, n, method, seed):
        theta = 2 * math.pi * perimeter_params(n, method, seed)
        normals = np.stack([np.cos(theta), np.sin(theta)], 1)
        return self.center + self.radius * normals, np.full(n, self.boundary_measure / n), normals
