"""Gauss rules: exact for polynomials up to their degree, 1e-12 on smooth functions,
exact measures; boundary rules with outward normals."""
import math

import numpy as np
import pytest
import torch

from ritzhrta import Box, Disk, Interval, LShape, Polygon
from ritzhrta.geometry.quadrature import gauss_legendre, triangulate


def integrate(points, f):
    return float((points.w * f(points.x)).sum())


@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_box_rule_is_exact_to_degree_2n_minus_1(order):
    q = Box([0, -1], [2, 1]).quadrature(order, 1, dtype=torch.float64)
    p = 2 * order - 1
    exact = (2 ** (p + 1) / (p + 1)) * (1 - (-1) ** (p + 1)) / (p + 1)  # ∫_0^2 x^p dx · ∫_{-1}^1 y^p dy
    assert integrate(q, lambda x: x[:, 0] ** p * x[:, 1] ** p) == pytest.approx(exact, abs=1e-12)
    if order <= 3:  # one degree more is not exact
        over = integrate(q, lambda x: x[:, 0] ** (p + 1))
        assert abs(over - 2 * 2 ** (p + 2) / (p + 2)) > 1e-8


@pytest.mark.parametrize("order", [2, 3, 4])
def test_triangle_rule_is_exact_to_total_degree_2n_minus_2(order):
    tri = Polygon([(0, 0), (1, 0), (0, 1)])
    q = tri.quadrature(order, 1, dtype=torch.float64)
    p = 2 * order - 2
    for i in range(p + 1):  # ∫_T x^i y^(p−i) = i!(p−i)!/(p+2)!
        exact = math.factorial(i) * math.factorial(p - i) / math.factorial(p + 2)
        assert integrate(q, lambda x: x[:, 0] ** i * x[:, 1] ** (p - i)) == pytest.approx(exact, abs=1e-14)


def test_smooth_functions_to_1e12():
    q = Box([0, 0], [1, 1]).quadrature(6, 4, dtype=torch.float64)
    assert integrate(q, lambda x: torch.exp(x[:, 0]) * torch.sin(3 * x[:, 1])) == \
        pytest.approx((math.e - 1) * (1 - math.cos(3)) / 3, abs=1e-12)
    q = LShape().quadrature(6, 4, dtype=torch.float64)
    exact = (math.e - 1 / math.e) ** 2 - (math.e - 1) * (1 - 1 / math.e)
    assert integrate(q, lambda x: torch.exp(x[:, 0] + x[:, 1])) == pytest.approx(exact, abs=1e-12)
    q = Disk((0.5, -0.2), 1.0).quadrature(8, 4, dtype=torch.float64)
    assert integrate(q, lambda x: torch.exp(-((x - torch.tensor([0.5, -0.2], dtype=x.dtype)) ** 2).sum(1))) == \
        pytest.approx(math.pi * (1 - math.exp(-1)), abs=1e-12)
    q = Box([0, 0, 0], [1, 1, 1]).quadrature(5, 2, dtype=torch.float64)
    assert integrate(q, lambda x: torch.cos(x).prod(1)) == pytest.approx(math.sin(1) ** 3, abs=1e-12)


@pytest.mark.parametrize("domain", [Interval(0, 2), Box([0, 0], [1, 2]), Box([0, 0, 0], [1, 2, 3]), Disk((1, 1), 2),
                                    LShape(), Polygon([(0, 0), (3, 0), (3, 1), (1, 1), (1, 3), (0, 3)])])
def test_measures_perimeters_and_normals(domain):
    q, b = domain.quadrature(3, 3, dtype=torch.float64), domain.boundary_quadrature(3, 3, dtype=torch.float64)
    assert float(q.w.sum()) == pytest.approx(domain.measure, abs=1e-12)
    assert float(b.w.sum()) == pytest.approx(domain.boundary_measure, abs=1e-12)
    assert bool(domain.contains(q.x, tol=1e-12).all()) and bool(domain.contains(b.x, tol=1e-9).all())
    assert torch.allclose(b.normals.norm(dim=1), torch.ones(len(b), dtype=torch.float64))
    outside = b.x + 1e-6 * b.normals
    assert not bool(domain.contains(outside, tol=0.0).any())
    if domain.dim >= 2:  # divergence theorem: ∮ x·n = d |Ω|
        assert float((b.w * (b.x * b.normals).sum(1)).sum()) == pytest.approx(domain.dim * domain.measure, abs=1e-10)


def test_ear_clipping_covers_a_nonconvex_polygon():
    v = np.array(LShape().vertices)
    tris = triangulate(v)
    e1, e2 = tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0]
    area = 0.5 * np.abs(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]).sum()
    assert len(tris) == len(v) - 2 and area == pytest.approx(3.0)


def test_bad_rule_sizes():
    with pytest.raises(ValueError, match="order"):
        Box([0], [1]).quadrature(0, 2)
    with pytest.raises(ValueError, match="cells"):
        Box([0], [1]).boundary_quadrature(2, 1.5)
    x, w = gauss_legendre(3, 2, 0.0, 1.0)
    assert len(x) == 6 and w.sum() == pytest.approx(1.0)
