"""Regenerate the shipped mesh files with gmsh (``pip install gmsh``; not a ritzhrta dependency).

    python problems/meshes/make_meshes.py

plate_hole.msh: the plate (0, 2) × (0, 1) with a circular hole of radius 0.25 at (1, 0.5);
    physical groups "outer" (the four straight sides), "hole" (the circle), "plate" (the
    surface). Linear triangles, target size 0.08, the circle in 79 sides (80 nodes).
part3d.msh: the unit cube with a cylindrical bore of radius 0.2 along z through (0.5, 0.5);
    physical groups "base" (the face z = 0), "rest" (every other face, the bore included),
    "part" (the volume). Linear tetrahedra, target size 0.12.

Both are written in gmsh's MSH 4.1 ASCII format with physical names, as gmsh writes them.
"""
from __future__ import annotations

from pathlib import Path

import gmsh

HERE = Path(__file__).resolve().parent


def plate_hole(path: Path) -> None:
    gmsh.model.add("plate_hole")
    occ = gmsh.model.occ
    plate = occ.addRectangle(0, 0, 0, 2, 1)
    hole = occ.addDisk(1, 0.5, 0, 0.25, 0.25)
    occ.cut([(2, plate)], [(2, hole)])
    occ.synchronize()
    curves = [tag for _, tag in gmsh.model.getEntities(1)]
    circle = [c for c in curves if abs(gmsh.model.occ.getMass(1, c) - 2 * 3.141592653589793 * 0.25) < 1e-6]
    straight = [c for c in curves if c not in circle]
    gmsh.model.addPhysicalGroup(1, straight, name="outer")
    gmsh.model.addPhysicalGroup(1, circle, name="hole")
    gmsh.model.addPhysicalGroup(2, [tag for _, tag in gmsh.model.getEntities(2)], name="plate")
    gmsh.option.setNumber("Mesh.MeshSizeMax", 0.08)
    # a fine hole: its polygon's corners (re-entrant seen from the plate) carry weak singularities
    # that a network's smooth features resolve poorly: 80 nodes, 79 sides (corner angles ~184.6°)
    for c in circle:
        gmsh.model.mesh.setTransfiniteCurve(c, 80)
    gmsh.model.mesh.generate(2)
    gmsh.write(str(path))
    gmsh.model.remove()


def part3d(path: Path) -> None:
    gmsh.model.add("part3d")
    occ = gmsh.model.occ
    cube = occ.addBox(0, 0, 0, 1, 1, 1)
    bore = occ.addCylinder(0.5, 0.5, -0.1, 0, 0, 1.2, 0.2)
    occ.cut([(3, cube)], [(3, bore)])
    occ.synchronize()
    base, rest = [], []
    for _, tag in gmsh.model.getEntities(2):
        x0, y0, z0, x1, y1, z1 = gmsh.model.getBoundingBox(2, tag)
        (base if max(abs(z0), abs(z1)) < 1e-6 else rest).append(tag)  # gmsh pads boxes by ~1e-7
    gmsh.model.addPhysicalGroup(2, base, name="base")
    gmsh.model.addPhysicalGroup(2, rest, name="rest")
    gmsh.model.addPhysicalGroup(3, [tag for _, tag in gmsh.model.getEntities(3)], name="part")
    gmsh.option.setNumber("Mesh.MeshSizeMax", 0.12)
    gmsh.model.mesh.generate(3)
    gmsh.write(str(path))
    gmsh.model.remove()


def main() -> None:
    gmsh.initialize()
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.option.setNumber("Mesh.MshFileVersion", 4.1)
    try:
        plate_hole(HERE / "plate_hole.msh")
        part3d(HERE / "part3d.msh")
    finally:
        gmsh.finalize()


if __name__ == "__main__":
    main()
