"""Geometry: domains (boxes, disks, polygons, meshes), quadrature rules, distance functions,
lifts of boundary data, and meshes of a domain for plots and VTK.
"""
from __future__ import annotations

from ritzhrta._lazy import lazy_exports

_EXPORTS = {
    # distance
    "segments_distance": "distance", "polygon_distance": "distance", "with_gradient": "distance",
    "merge_collinear": "distance",
    # domains
    "Points": "domains", "Domain": "domains", "Box": "domains", "Interval": "domains", "Disk": "domains",
    "METHODS": "domains", "check_count": "domains", "perimeter_params": "domains", "unit_cube": "domains",
    # lift
    "box_lift": "lift", "disk_lift": "lift", "segments_lift": "lift", "check_data": "lift",
    "FOURIER_SAMPLES": "lift",
    # mesh_domain
    "MeshDomain": "mesh_domain", "MeshError": "mesh_domain", "SimplexLocator": "mesh_domain",
    "VOLUME_CELLS": "mesh_domain", "FACET_CELLS": "mesh_domain",
    # meshing
    "Mesh": "meshing", "mesh": "meshing",
    # polygon
    "Polygon": "polygon", "LShape": "polygon", "segment_distance": "polygon",
    # quadrature
    "gauss_legendre": "quadrature", "box_rule": "quadrature", "segment_rule": "quadrature",
    "triangle_rule": "quadrature", "triangulate": "quadrature", "polygon_rule": "quadrature",
    "disk_rule": "quadrature", "circle_rule": "quadrature", "check_rule_size": "quadrature",
    "simplex_rule": "quadrature", "subdivide_simplices": "quadrature", "simplex_measures": "quadrature",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
