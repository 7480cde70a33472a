"""Meshes of a domain for export and plots: points and cells, no cell outside the domain.

1D: line segments; 2D box: a structured triangle grid; 3D box: hexahedra; a
:class:`~ritzhrta.MeshDomain`: the file's own mesh (``resolution`` is ignored); disk and
polygons: Delaunay triangulation of interior grid points plus boundary points, keeping
only triangles whose centroid lies inside (so the L-shape's notch stays empty).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.spatial import Delaunay

from ritzhrta.geometry.domains import Box, Domain

__all__ = ["Mesh", "mesh"]


@dataclass(frozen=True)
class Mesh:
    """``points`` (N, d) and ``cells`` (M, nodes) of one ``cell_type`` (meshio names)."""

    points: np.ndarray
    cells: np.ndarray
    cell_type: str


def check_drawable(domain) -> None:
    """VTK files and figures exist for 1D–3D domains: a grid of a d > 3 box would hold
    resolution^d points (101⁵ of them: 78 GiB); refused in one line."""
    if domain.dim > 3:
        raise ValueError(f"VTK output and plots are for 1D-3D domains; this one is {domain.dim}D (summary.json and "
                         "history.csv hold the run's results)")


def mesh(domain: Domain, resolution: int = 100) -> Mesh:
    """A mesh with about ``resolution`` points along the longest side of the bounding box."""
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or resolution < 2:
        raise ValueError(f"resolution must be an integer >= 2, got {resolution!r}")
    check_drawable(domain)
    return domain.plot_mesh(int(resolution))  # the domain's hook (a box grid, a Delaunay mesh, its own cells)


def box_mesh(box: Box, resolution: int) -> Mesh:
    """A structured mesh of a box (segments, triangles or hexahedra)."""
    span = box.hi - box.lo
    counts = [max(2, round(resolution * s / span.max()) + 1) for s in span]
    ticks = [np.linspace(lo, hi, n) for lo, hi, n in zip(box.lo, box.hi, counts)]
    points = np.stack(np.meshgrid(*ticks, indexing="ij"), -1).reshape(-1, box.dim)
    idx = np.arange(len(points)).reshape(counts)
    if box.dim == 1:
        return Mesh(points, np.stack([idx[:-1], idx[1:]], 1), "line")
    if box.dim == 2:
        a, b, c, d = idx[:-1, :-1], idx[1:, :-1], idx[1:, 1:], idx[:-1, 1:]
        tris = np.concatenate([np.stack([a, b, c], -1).reshape(-1, 3), np.stack([a, c, d], -1).reshape(-1, 3)])
        return Mesh(points, tris, "triangle")
    if box.dim == 3:
        i = idx
        corners = [i[:-1, :-1, :-1], i[1:, :-1, :-1], i[1:, 1:, :-1], i[:-1, 1:, :-1],
                   i[:-1, :-1, 1:], i[1:, :-1, 1:], i[1:, 1:, 1:], i[:-1, 1:, 1:]]
        return Mesh(points, np.stack(corners, -1).reshape(-1, 8), "hexahedron")
    raise ValueError(f"meshing a {box.dim}-dimensional box is not supported (1, 2 or 3)")


def delaunay_mesh(domain: Domain, resolution: int) -> Mesh:
    """A Delaunay triangulation of grid and boundary points inside a 2D domain."""
    h = float((domain.hi - domain.lo).max()) / resolution
    ticks = [np.arange(lo, hi + h / 2, h) for lo, hi in zip(domain.lo, domain.hi)]
    grid = np.stack(np.meshgrid(*ticks, indexing="ij"), -1).reshape(-1, 2)
    n_boundary = max(8, math.ceil(domain.boundary_measure / h))
    boundary = domain.boundary(n_boundary, "grid", None, dtype=torch.float64).x.numpy()
    corners = getattr(domain, "vertices", np.empty((0, 2)))
    candidates = np.concatenate([corners, boundary, grid])
    inside = domain.contains(candidates, 1e-9 * max(1.0, h))
    # drop grid points hugging the boundary (they make slivers)
    far = np.ones(len(candidates), dtype=bool)
    far[len(corners) + len(boundary):] = domain.boundary_distance(grid) > 0.3 * h
    points = _unique(candidates[inside & far])
    tri = Delaunay(points).simplices
    centroids = points[tri].mean(1)
    keep = domain.contains(centroids, 0.0)
    return Mesh(points, tri[keep], "triangle")


def _unique(points: np.ndarray) -> np.ndarray:
    _, first = np.unique(np.round(points, 12), axis=0, return_index=True)
    return points[np.sort(first)]
