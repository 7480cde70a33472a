"""A toy domain for tests/test_design.py: an ellipse, one file (plus one registry line in the test).

It overrides the Domain hooks (distance factor, lift, FEM mesh and snap) and nothing in the
package knows its type: solving, the FEM reference, exact imposition, plots and VTK go through
the hooks alone.
"""
import math

import numpy as np
import torch

from ritzhrta import Problem
from ritzhrta.geometry.domains import Domain, perimeter_params
from ritzhrta.geometry.quadrature import check_rule_size, disk_rule

A, B = 1.5, 0.75  # semi-axes


class Ellipse(Domain):
    """(x/a)² + (y/b)² ≤ 1."""

    def __init__(self, a: float = A, b: float = B) -> None:
        self.a, self.b, self.dim = float(a), float(b), 2
        self.lo, self.hi = np.array([-a, -b]), np.array([a, b])

    def __repr__(self) -> str:
        return f"Ellipse({self.a:g}, {self.b:g})"

    def _rho2(self, x):
        return (x[:, 0] / self.a) ** 2 + (x[:, 1] / self.b) ** 2

    @property
    def measure(self) -> float:
        return math.pi * self.a * self.b

    @property
    def boundary_measure(self) -> float:
        return float(self._boundary_quadrature(8, 512)[1].sum())

    def _contains(self, x, tol):
        return np.sqrt(self._rho2(x)) <= 1 + tol / min(self.a, self.b)

    def boundary_distance(self, x):
        return np.abs(1 - np.sqrt(self._rho2(x))) * min(self.a, self.b)

    def _curve(self, theta):
        x = np.stack([self.a * np.cos(theta), self.b * np.sin(theta)], 1)
        normal = np.stack([self.b * np.cos(theta), self.a * np.sin(theta)], 1)
        speed = np.linalg.norm(normal, axis=1)  # |dx/dθ| = |(−a sin, b cos)| = |(b cos, a sin)|
        return x, speed, normal / speed[:, None]

    def _quadrature(self, order, cells):
        x, w = disk_rule((0.0, 0.0), 1.0, order, cells)
        return x * np.array([self.a, self.b]), w * self.a * self.b

    def _boundary_quadrature(self, order, cells):
        order, cells = check_rule_size(order, cells)
        n = 8 * order * cells
        x, speed, normals = self._curve(2 * math.pi * (np.arange(n) + 0.5) / n)
        return x, speed * 2 * math.pi / n, normals

    def _boundary(self, n, method, seed):
        x, speed, normals = self._curve(2 * math.pi * perimeter_params(n, method, seed))
        return x, speed * 2 * math.pi / n, normals

    # --- the hooks ------------------------------------------------------------------------
    def distance_factor(self, problem=None):
        def phi(x):
            return 1 - (x[:, 0] / self.a) ** 2 - (x[:, 1] / self.b) ** 2, \
                torch.stack([-2 * x[:, 0] / self.a ** 2, -2 * x[:, 1] / self.b ** 2], 1)

        return phi

    def boundary_lift(self, h, problem=None):
        def lift(x):  # ρ² h(x/ρ): h on the boundary, smooth enough inside
            rho2 = (x[:, 0] / self.a) ** 2 + (x[:, 1] / self.b) ** 2
            rho = rho2.clamp_min(1e-30).sqrt()
            return rho2 * h(x / rho[:, None])

        return lift

    def fem_mesh(self, skfem, cells):
        m = skfem.MeshTri.init_circle(2)
        return self.fem_snap(skfem.MeshTri(m.p * np.array([[self.a], [self.b]]), m.t))

    def fem_snap(self, mesh):
        nodes = mesh.boundary_nodes()
        p = mesh.p.copy()
        rho = np.sqrt((p[0, nodes] / self.a) ** 2 + (p[1, nodes] / self.b) ** 2)
        p[:, nodes] /= rho
        return type(mesh)(p, mesh.t)


def problem(points: int | None = None) -> Problem:
    """−Δu = 2/a² + 2/b² on the ellipse, u = xy on the boundary: u = 1 − (x/a)² − (y/b)² + xy."""

    def u(x):
        return 1 - (x[:, 0] / A) ** 2 - (x[:, 1] / B) ** 2 + x[:, 0] * x[:, 1]

    return Problem(Ellipse(), source=2 / A ** 2 + 2 / B ** 2, dirichlet=lambda x: x[:, 0] * x[:, 1], exact=u,
                   name="toy-ellipse")
