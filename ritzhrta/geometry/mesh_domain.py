"""Domains read from mesh files: triangles (2D) or tetrahedra (3D), any format meshio reads.

A :class:`MeshDomain` is the union of the mesh's cells. Interior quadrature uses the
collapsed Gauss rule on every cell (split ``cells`` times per edge,
:func:`ritzhrta.geometry.quadrature.simplex_rule`); the boundary is made of the facets (edges in 2D,
triangles in 3D) that belong to one cell only, with outward unit normals (the side away
from the cell's opposite vertex) and exact measures.

**Boundary tags** come from the file's named cell sets (gmsh physical groups; meshio
exposes them as ``mesh.cell_sets``): a set holding facet cells (lines in 2D, triangles in
3D) names those boundary facets. :meth:`MeshDomain.on` turns tag names into a mask
``x -> bool`` (a point belongs to a tag when its nearest boundary facet does), which is
what :class:`ritzhrta.Problem` uses for ``dirichlet={"inlet": h}``.

>>> import meshio
>>> dom = MeshDomain(meshio.Mesh([[0, 0], [1, 0], [0, 1]], [("triangle", [[0, 1, 2]])]))
>>> dom.dim, dom.measure, round(dom.boundary_measure, 6)
(2, 0.5, 3.414214)
"""
from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from ritzhrta.geometry.domains import Domain, unit_cube
from ritzhrta.geometry.quadrature import simplex_measures, simplex_rule

__all__ = ["MeshDomain", "MeshError", "SimplexLocator", "VOLUME_CELLS", "FACET_CELLS"]

VOLUME_CELLS = {2: "triangle", 3: "tetra"}
FACET_CELLS = {2: "line", 3: "triangle"}
_DIM_OF = {"vertex": 0, "line": 1, "line3": 1, "triangle": 2, "triangle6": 2, "triangle7": 2, "quad": 2, "quad8": 2,
           "quad9": 2, "polygon": 2, "tetra": 3, "tetra10": 3, "hexahedron": 3, "hexahedron20": 3,
           "hexahedron27": 3, "wedge": 3, "wedge15": 3, "pyramid": 3, "pyramid13": 3}
_CHUNK = 2_000_000  # entries of a points × cells distance matrix held at once


def _check_conforming(label: str, points: np.ndarray, cells: np.ndarray) -> None:
    """Refuse duplicated cells (also through coincident, unmerged points), coincident points that cells
    use under different numbers (the cells on them are not connected: the facets between them would
    count as boundary), and facets shared by more than two cells (overlapping cells)."""
    used = np.unique(cells)
    scale = float(np.abs(points[used]).max()) or 1.0
    _, first, canon_used = np.unique(np.round(points[used] / (1e-12 * scale)), axis=0, return_index=True,
                                     return_inverse=True)
    canon = np.arange(len(points))
    canon[used] = used[first[canon_used.ravel()]]
    keys = np.sort(canon[cells], axis=1)
    unique = np.unique(keys, axis=0)
    if len(unique) < len(keys):
        raise MeshError(f"{label}: {len(keys) - len(unique)} duplicated cell(s) (the same vertices twice, or on "
                        "coincident points): the area and the boundary would be wrong; remove the duplicates or "
                        "re-mesh")
    if len(first) < len(used):
        raise MeshError(f"{label}: {len(used) - len(first)} point(s) coincide with other points under another "
                        "number: the cells on them are not connected (their shared facets would count as boundary); "
                        "merge the duplicate points or re-mesh")
    d = cells.shape[1] - 1
    local = [[j for j in range(d + 1) if j != i] for i in range(d + 1)]
    _, counts = np.unique(np.sort(cells[:, local].reshape(-1, d), axis=1), axis=0, return_counts=True)
    if counts.max() > 2:
        raise MeshError(f"{label}: {int(np.sum(counts > 2))} facet(s) shared by more than two cells: cells "
                        "overlap; re-mesh")


class MeshError(ValueError):
    """A mesh that cannot define a domain (unreadable, mixed or unsupported cells, bad tags)."""


def _read(source) -> tuple["meshio.Mesh", str]:
    import meshio  # lazily: ``import problems`` must not load meshio

    if isinstance(source, meshio.Mesh):
        return source, "<meshio.Mesh>"
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"MeshDomain takes a file path or a meshio.Mesh, got {type(source).__name__}")
    path = Path(source)
    if not path.is_file():
        raise MeshError(f"mesh file {str(path)!r} does not exist")
    chatter = io.StringIO()
    try:  # meshio prints its reasons and calls sys.exit(1) on some unreadable files
        with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
            return meshio.read(path), str(path)
    except (Exception, SystemExit) as exc:  # ReadError, KeyError, ValueError, SystemExit, …
        text = str(exc).strip() if not isinstance(exc, SystemExit) else chatter.getvalue().strip()
        first = text.splitlines()[0] if text else type(exc).__name__
        raise MeshError(f"{str(path)!r} is not a mesh file meshio can read ({first})") from None


class MeshDomain(Domain):
    """The domain covered by a triangle (2D) or tetrahedron (3D) mesh.

    ``source``: a file path (``.msh``, ``.vtu``, ``.xdmf``, … anything meshio reads) or a
    ``meshio.Mesh``. Cells of one volume type only (linear triangles in 2D, linear
    tetrahedra in 3D); lines/triangles/vertices of lower dimension may be present and name
    boundary parts. 2D meshes may carry a zero z coordinate.
    """

    def __init__(self, source, name: str | None = None) -> None:
        raw, label = _read(source)
        self.source = label
        self.name = name or (Path(label).stem if label != "<meshio.Mesh>" else "mesh")
        types = {block.type for block in raw.cells if len(block.data)}
        unknown = sorted(t for t in types if t not in _DIM_OF)
        if unknown:
            raise MeshError(f"{label}: unsupported cell type(s) {', '.join(unknown)} (triangle or tetra meshes only)")
        if not types:
            raise MeshError(f"{label}: the mesh has no cells")
        top = max(_DIM_OF[t] for t in types)
        if top < 2:
            raise MeshError(f"{label}: the mesh has no triangle or tetra cells (found {', '.join(sorted(types))})")
        volume_types = sorted(t for t in types if _DIM_OF[t] == top)
        if volume_types != [VOLUME_CELLS[top]]:
            raise MeshError(f"{label}: {top}D cells of type(s) {', '.join(volume_types)}: MeshDomain needs one type, "
                            f"linear {VOLUME_CELLS[top]} cells only (mixed or higher-order meshes are not supported)")
        self.dim = top
        points = np.asarray(raw.points, dtype=float)
        if points.ndim != 2 or points.shape[1] < top or not np.all(np.isfinite(points)):
            raise MeshError(f"{label}: points must be finite with at least {top} coordinates, got shape {points.shape}")
        if points.shape[1] > top:
            if np.abs(points[:, top:]).max() > 1e-12 * max(1.0, np.abs(points).max()):
                raise MeshError(f"{label}: a {top}D mesh must lie in the plane z = 0")
            points = points[:, :top]
        cells = np.concatenate([b.data for b in raw.cells if b.type == VOLUME_CELLS[top]]).astype(np.int64)
        if cells.min() < 0 or cells.max() >= len(points):
            raise MeshError(f"{label}: cells refer to points that do not exist")
        measures = simplex_measures(points[cells])
        if np.any(measures <= 1e-14 * measures.max()):
            raise MeshError(f"{label}: {int(np.sum(measures <= 1e-14 * measures.max()))} degenerate cell(s) "
                            "(zero measure)")
        self.points, self.cells, self.cell_measures = points, cells, measures
        self.cell_type = VOLUME_CELLS[top]
        _check_conforming(label, points, cells)
        self.lo, self.hi = points[np.unique(cells)].min(0), points[np.unique(cells)].max(0)
        self._boundary_facets()
        self._check_enclosed(label)
        self._read_tags(raw)

    meshed = True

    def corner_sectors(self) -> list[tuple[tuple[float, float], float, float]]:
        """Re-entrant corners of a 2D mesh are not detected (none is reported)."""
        return []

    def dirichlet_segments(self, problem=None) -> np.ndarray:
        """The (merged) boundary segments of a 2D mesh that carry Dirichlet data, (F, 2, 2)."""
        from ritzhrta.geometry.distance import merge_collinear

        if self.dim != 2:
            raise ValueError(f"exact Dirichlet imposition on a mesh is 2D only, not {self!r}; use Nitsche's method "
                             "(dirichlet='nitsche') there")
        keep = np.ones(len(self.facets), dtype=bool)
        tagged = getattr(problem, "tagged", None) if problem is not None else None
        if tagged is not None:
            keep = np.isin(self.facet_tag, [self.tags.index(t) for t in tagged["dirichlet"]])
        elif problem is not None and problem.dirichlet_where is not None:
            raise ValueError("exact imposition on a mesh needs dirichlet={tag: h} (or h on the whole boundary)")
        return merge_collinear(self.points[self.facets[keep]])

    def distance_factor(self, problem=None):
        """The R-equivalence over the Dirichlet edges (:mod:`ritzhrta.geometry.distance`): φ = 0 on Γ_D only."""
        from ritzhrta.geometry.distance import segments_distance, with_gradient

        ends = torch.as_tensor(self.dirichlet_segments(problem))
        return lambda x: with_gradient(lambda y: segments_distance(y, ends[:, 0].to(y), ends[:, 1].to(y)), x)

    def boundary_lift(self, h, problem=None):
        from ritzhrta.geometry.lift import segments_lift

        ends = torch.as_tensor(self.dirichlet_segments(problem))
        return segments_lift(h, ends[:, 0], ends[:, 1])

    def fem_mesh(self, skfem, cells: int):
        kind = skfem.MeshTri if self.dim == 2 else skfem.MeshTet
        return kind(self.points.T.copy(), self.cells.T.copy())

    def plot_mesh(self, resolution: int):
        from ritzhrta.geometry.meshing import Mesh

        return Mesh(self.points, self.cells, self.cell_type)

    def __repr__(self) -> str:
        return f"MeshDomain({self.source!r}, {len(self.cells)} {self.cell_type} cells, tags={self.tags})"

    # -- topology ------------------------------------------------------------------------------
    def _check_enclosed(self, label: str) -> None:
        """The cells' measures must add up to what the boundary encloses (divergence theorem:
        |Ω| = (1/d) ∮ x·n ds); more means cells overlap (or a hole is covered twice)."""
        centroids = self.points[self.facets].mean(1)
        enclosed = float((centroids * self.facet_normals * self.facet_measures[:, None]).sum()) / self.dim
        total = float(self.cell_measures.sum())
        if abs(total - enclosed) > 1e-9 * total:
            raise MeshError(f"{label}: cells overlap: their measures add up to {total:.6g} but the boundary encloses "
                            f"{enclosed:.6g}; re-mesh")

    def _boundary_facets(self) -> None:
        d = self.dim
        local = [[j for j in range(d + 1) if j != i] for i in range(d + 1)]  # facet i omits vertex i
        facets = self.cells[:, local].reshape(-1, d)  # (M·(d+1), d)
        opposite = self.cells[:, range(d + 1)].reshape(-1)
        keys = np.sort(facets, axis=1)
        _, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
        once = counts[inverse.ravel()] == 1
        self.facets = facets[once]
        p = self.points
        verts = p[self.facets]  # (F, d, d)
        if d == 2:
            t = verts[:, 1] - verts[:, 0]
            n = np.stack([t[:, 1], -t[:, 0]], 1)
        else:
            n = np.cross(verts[:, 1] - verts[:, 0], verts[:, 2] - verts[:, 0])
        n /= np.linalg.norm(n, axis=1, keepdims=True)
        inward = p[opposite[once]] - verts[:, 0]
        n[np.einsum("fd,fd->f", n, inward) > 0] *= -1
        self.facet_normals = n
        self.facet_measures = simplex_measures(verts)
        self._tree = self._locator = None

    def _read_tags(self, raw) -> None:
        """Boundary tags from the named cell sets that hold facet cells."""
        key_of = {tuple(k): i for i, k in enumerate(np.sort(self.facets, axis=1).tolist())}
        self.facet_tag = np.full(len(self.facets), -1)
        self.tags: list[str] = []
        self._tag_sizes: dict[str, int] = {}
        self._volume_sets: list[str] = []
        facet_type = FACET_CELLS[self.dim]
        for name, per_block in _named_sets(raw).items():
            if name.startswith("gmsh:"):
                continue
            rows, volume = [], False
            for block, idx in zip(raw.cells, per_block):
                idx = np.asarray(idx, dtype=np.int64)
                if not len(idx):
                    continue
                if block.type == facet_type:
                    rows.append(np.sort(block.data[idx], axis=1))
                elif _DIM_OF.get(block.type, -1) == self.dim:
                    volume = True
            if volume and not rows:
                self._volume_sets.append(name)
                continue
            hits = [key_of[tuple(r)] for r in np.concatenate(rows).tolist() if tuple(r) in key_of] if rows else []
            self.tags.append(name)
            self._tag_sizes[name] = len(hits)
            tag_id = len(self.tags) - 1
            free = [h for h in hits if self.facet_tag[h] == -1]
            self.facet_tag[free] = tag_id
        self._mask_cache: dict = {}

    # -- Domain interface ----------------------------------------------------------------------
    @property
    def measure(self) -> float:
        return float(self.cell_measures.sum())

    @property
    def boundary_measure(self) -> float:
        return float(self.facet_measures.sum())

    def _barycentric_inside(self, x: np.ndarray, slack: float) -> np.ndarray:
        """Points inside some cell with all barycentric coordinates ≥ −slack."""
        if self._locator is None:
            self._locator = SimplexLocator(self.points, self.cells)
        return self._locator(x, slack) >= 0

    def _contains(self, x: np.ndarray, tol: float) -> np.ndarray:
        if tol >= 0:
            return self._barycentric_inside(x, 1e-12) | (self.boundary_distance(x) <= tol)
        return self._barycentric_inside(x, 1e-12) & (self.boundary_distance(x) >= -tol)

    def _facet_distances(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distance from each point to the nearest boundary facet, and that facet's index.

        Candidates are the 16 facets with the nearest centroids (a k-d tree), then exact
        point–segment / point–triangle distances to those."""
        from scipy.spatial import cKDTree

        if self._tree is None:
            self._tree = cKDTree(self.points[self.facets].mean(1))
        k = min(16, len(self.facets))
        _, cand = self._tree.query(x, k=k)
        cand = cand.reshape(len(x), k)
        best = np.empty(len(x))
        arg = np.empty(len(x), dtype=np.int64)
        step = max(1, _CHUNK // k)
        for start in range(0, len(x), step):
            xs, cs = x[start:start + step], cand[start:start + step]
            verts = self.points[self.facets[cs]]  # (n, k, d, d)
            if self.dim == 2:
                dist = _segment_matrix(xs, verts[:, :, 0], verts[:, :, 1])
            else:
                dist = _triangle_matrix(xs, verts)
            j = dist.argmin(1)
            rows = np.arange(len(xs))
            best[start:start + step], arg[start:start + step] = dist[rows, j], cs[rows, j]
        return best, arg

    def boundary_distance(self, x: np.ndarray) -> np.ndarray:
        return self._facet_distances(np.asarray(x, float))[0]

    def default_rule(self) -> tuple[int, int]:
        """The highest order ≤ 6 (one rule per cell) with at most ~20 000 points (2D) or
        ~100 000 (3D): the mesh already resolves the geometry. Measured on part3d (3291
        tetrahedra, width 500): order 2 (26 000 points) 1.1e-1 rel H¹ against the P2
        reference, order 3 (89 000) 5.6e-3 (benchmarks/results/mesh_problems.md)."""
        budget = 20_000 if self.dim == 2 else 100_000
        for order in range(6, 1, -1):
            if len(self.cells) * order ** self.dim <= budget:
                return order, 1
        return 2, 1

    def _quadrature(self, order, cells):
        return simplex_rule(self.points[self.cells], order, cells)

    def _boundary_quadrature(self, order, cells):
        x, w = simplex_rule(self.points[self.facets], order, cells)
        per = len(x) // len(self.facets)
        return x, w, np.repeat(self.facet_normals, per, axis=0)

    def _sample(self, simplices: np.ndarray, measures: np.ndarray, n: int, method: str, seed) -> tuple:
        """n points uniform on a union of simplices: the first coordinate of a point of
        [0, 1]^(m+1) picks the simplex (∝ measure), the others its barycentric coordinates."""
        m = simplices.shape[1] - 1
        u = unit_cube(n, m + 1, "random" if method == "grid" else method, seed)
        cdf = np.cumsum(measures) / measures.sum()
        which = np.minimum(np.searchsorted(cdf, u[:, 0], side="right"), len(measures) - 1)
        cuts = np.sort(u[:, 1:], axis=1)
        lam = np.diff(np.concatenate([np.zeros((n, 1)), cuts, np.ones((n, 1))], 1), axis=1)  # (n, m+1)
        x = np.einsum("nv,nvd->nd", lam, simplices[which])
        return x, which

    def _interior(self, n, method, seed):
        if method == "grid":
            return super()._interior(n, method, seed)
        return self._sample(self.points[self.cells], self.cell_measures, n, method, seed)[0]

    def _boundary(self, n, method, seed):
        x, which = self._sample(self.points[self.facets], self.facet_measures, n, method, seed)
        return x, np.full(n, self.boundary_measure / n), self.facet_normals[which]

    # -- tags ----------------------------------------------------------------------------------
    def check_tags(self, names) -> None:
        """Raise :class:`MeshError` unless every name is a boundary tag with facets."""
        for name in names:
            if name not in self.tags:
                extra = f"; {name!r} names cells, not boundary facets" if name in self._volume_sets else ""
                known = ", ".join(self.tags) or "none"
                raise MeshError(f"{self.source}: no boundary tag {name!r} (boundary tags: {known}){extra}")
            if self._tag_sizes[name] == 0:
                raise MeshError(f"{self.source}: boundary tag {name!r} names no facets of the boundary")

    def tag_index(self, x: Tensor | np.ndarray) -> np.ndarray:
        """For each point (n, d), the index into :attr:`tags` of its nearest boundary facet
        (−1: untagged)."""
        arr = x.detach().cpu().double().numpy() if isinstance(x, Tensor) else np.asarray(x, float)
        return self.facet_tag[self._facet_distances(arr)[1]]

    def on(self, *names: str) -> Callable[[Tensor], Tensor]:
        """A mask ``x -> bool tensor (n,)``: whether the nearest boundary facet of each point
        carries one of the tags ``names``. The last results are cached per tensor."""
        self.check_tags(names)
        ids = [self.tags.index(n) for n in names]

        def mask(x: Tensor) -> Tensor:
            return torch.from_numpy(np.isin(self.cached_tags(x), ids)).to(x.device)

        mask.__name__ = f"on_{'_'.join(names)}"
        return mask

    def cached_tags(self, x: Tensor) -> np.ndarray:
        """:meth:`tag_index` of ``x``, remembered for the last few tensors (the same boundary
        points are looked up at every loss evaluation)."""
        key = (x.data_ptr(), tuple(x.shape), x.dtype, x._version, str(x.device))
        hit = self._mask_cache.get(key)
        if hit is None or not torch.equal(hit[0], x):
            if len(self._mask_cache) > 8:
                self._mask_cache.clear()
            hit = self._mask_cache[key] = (x.detach().clone(), self.tag_index(x))
        return hit[1]

    def to_meshio(self, point_data: dict | None = None):
        """The volume mesh (points padded to 3D) with optional point data at its nodes."""
        import meshio

        pts = np.pad(self.points, [(0, 0), (0, 3 - self.dim)]) if self.dim < 3 else self.points
        return meshio.Mesh(pts, [(self.cell_type, self.cells)], point_data=point_data or {})


def _named_sets(raw) -> dict:
    """Named cell sets: meshio's ``cell_sets``, else gmsh physical groups rebuilt from the
    ``gmsh:physical`` cell data and ``field_data`` (MSH 2.2 files)."""
    sets = {k: v for k, v in (raw.cell_sets or {}).items() if not k.startswith("gmsh:")}
    physical = (raw.cell_data or {}).get("gmsh:physical")
    if sets or physical is None:
        return sets
    for name, value in (raw.field_data or {}).items():
        tag, dim = int(value[0]), int(value[1]) if len(value) > 1 else -1
        sets[name] = [np.flatnonzero((np.asarray(ids) == tag) & (dim < 0 or _DIM_OF.get(block.type) == dim))
                      for block, ids in zip(raw.cells, physical)]
    return sets


class SimplexLocator:
    """Which simplex (cell) of a mesh contains each point: candidates from a k-d tree of the
    cell centroids (the 24 nearest), then barycentric coordinates λ = E⁻¹(x − p₀)."""

    def __init__(self, points: np.ndarray, cells: np.ndarray, candidates: int = 24) -> None:
        from scipy.spatial import cKDTree

        self.points, self.cells = np.asarray(points, float), np.asarray(cells, np.int64)
        p0 = self.points[self.cells[:, 0]]
        edges = self.points[self.cells[:, 1:]] - p0[:, None]  # (M, d, d): rows are edge vectors
        self.p0, self.inv = p0, np.linalg.inv(np.transpose(edges, (0, 2, 1)))
        self.tree = cKDTree(self.points[self.cells].mean(1))
        self.k = min(candidates, len(self.cells))

    def __call__(self, x: np.ndarray, slack: float = 1e-12, nearest: bool = False) -> np.ndarray:
        """Cell index per point (n,), −1 outside (``nearest``: the cell that is least outside).
        Points not inside any of their k nearest-centroid cells are searched again with 8k
        candidates (skinny cells can have far centroids)."""
        found, worst = self._search(x, self.k)
        again = np.flatnonzero(worst < -slack)
        if len(again) and self.k < len(self.cells):
            more, worst_more = self._search(x[again], min(8 * self.k, len(self.cells)))
            better = worst_more > worst[again]
            found[again[better]], worst[again[better]] = more[better], worst_more[better]
        if not nearest:
            found = np.where(worst >= -slack, found, -1)
        return found

    def _search(self, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Best candidate cell per point and its most negative barycentric coordinate."""
        found, worst = np.empty(len(x), dtype=np.int64), np.empty(len(x))
        step = max(1, 200_000 // k)
        for start in range(0, len(x), step):
            xs = x[start:start + step]
            _, cand = self.tree.query(xs, k=k)
            cand = cand.reshape(len(xs), k)
            lam = np.einsum("nkij,nkj->nki", self.inv[cand], xs[:, None, :] - self.p0[cand])
            low = np.minimum(lam.min(2), 1 - lam.sum(2))
            best = low.argmax(1)
            rows = np.arange(len(xs))
            found[start:start + step], worst[start:start + step] = cand[rows, best], low[rows, best]
        return found, worst


def _segment_matrix(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distances (n, F) from points x (n, d) to segments a b ((F, d) or per point (n, F, d))."""
    ab = b - a
    rel = x[:, None, :] - a
    t = np.clip((rel * ab).sum(-1) / (ab ** 2).sum(-1), 0, 1)
    return np.linalg.norm(rel - t[..., None] * ab, axis=-1)


def _triangle_matrix(x: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Distances (n, F) from points in R³ to triangles ((F, 3, 3) or per point (n, F, 3, 3))."""
    a, b, c = tri[..., 0, :], tri[..., 1, :], tri[..., 2, :]
    e1, e2 = b - a, c - a
    normal = np.cross(e1, e2)
    normal = normal / np.linalg.norm(normal, axis=-1, keepdims=True)
    rel = x[:, None, :] - a
    height = (rel * normal).sum(-1)
    proj = rel - height[..., None] * normal
    g11, g12, g22 = (e1 * e1).sum(-1), (e1 * e2).sum(-1), (e2 * e2).sum(-1)
    det = g11 * g22 - g12 ** 2
    r1, r2 = (proj * e1).sum(-1), (proj * e2).sum(-1)
    l1, l2 = (g22 * r1 - g12 * r2) / det, (g11 * r2 - g12 * r1) / det
    inside = (l1 >= 0) & (l2 >= 0) & (l1 + l2 <= 1)
    edge = np.minimum(np.minimum(_segment_matrix(x, a, b), _segment_matrix(x, b, c)), _segment_matrix(x, c, a))
    return np.where(inside, np.abs(height), edge)
