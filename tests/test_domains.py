import math

import numpy as np
import pytest
import torch

from ritzhrta import Box, Disk, Interval, LShape, Polygon

DOMAINS = [Interval(0, 1), Interval(-2, 3), Box([0, 0], [1, 2]), Box([0, 0, 0], [1, 1, 1]),
           Disk((0.5, 0.5), 0.5), LShape(), Polygon([(0, 0), (2, 0), (0, 1)])]
MEASURES = [1, 5, 2, 1, math.pi / 4, 3, 1]
PERIMETERS = [2, 2, 6, 6, math.pi, 8, 3 + math.sqrt(5)]


@pytest.mark.parametrize("dom, measure, perimeter", list(zip(DOMAINS, MEASURES, PERIMETERS)), ids=repr)
@pytest.mark.parametrize("method", ["grid", "random", "sobol"])
def test_points_inside_weights_sum_normals_unit(dom, measure, perimeter, method):
    assert dom.measure == pytest.approx(measure) and dom.boundary_measure == pytest.approx(perimeter)
    p = dom.interior(500, method, dtype=torch.float64)
    assert p.x.shape[1] == dom.dim and p.w.shape == (len(p),)
    assert float(p.w.sum()) == pytest.approx(measure, rel=1e-12)
    assert bool(dom.contains(p.x).all())
    b = dom.boundary(100, method, dtype=torch.float64)
    assert float(b.w.sum()) == pytest.approx(perimeter, rel=1e-12)
    assert bool(dom.contains(b.x, tol=1e-9).all())
    assert torch.allclose(b.normals.norm(dim=1), torch.ones(len(b), dtype=torch.float64))
    # outward: a small step along the normal leaves the (closed) domain
    outside = b.x + 1e-3 * b.normals
    assert not bool(dom.contains(outside).any())


def test_grid_sizes_match_the_paper():
    assert len(Interval(0, 1).interior(100)) == 100
    assert len(Box([0] * 3, [1] * 3).interior(125)) == 125
    assert len(Box([0, 0], [1, 1]).interior(1024)) == 1024


def test_quadrature_integrates_smooth_functions():
    p = Box([0, 0], [1, 1]).interior(4096, "grid", dtype=torch.float64)
    value = (p.w * torch.sin(math.pi * p.x[:, 0]) * torch.sin(math.pi * p.x[:, 1])).sum()
    assert float(value) == pytest.approx(4 / math.pi ** 2, rel=1e-3)
    q = Disk((0, 0), 1).interior(20000, "sobol", dtype=torch.float64)
    assert float((q.w * (q.x ** 2).sum(1)).sum()) == pytest.approx(math.pi / 2, rel=1e-2)


def test_contains_lshape_excludes_the_cut():
    dom = LShape()
    x = np.array([[0.5, -0.5], [-0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [1.5, 0.0], [0.0, 0.0]])
    assert dom.contains(x).tolist() == [False, True, True, True, False, True]


def test_random_points_depend_on_seed():
    d = Box([0, 0], [1, 1])
    assert torch.equal(d.interior(50, "random", seed=3).x, d.interior(50, "random", seed=3).x)
    assert not torch.equal(d.interior(50, "random", seed=3).x, d.interior(50, "random", seed=4).x)


@pytest.mark.parametrize("make", [
    lambda: Box([0, 0], [0, 1]), lambda: Box([1], [0]), lambda: Box([0, 0], [1]),
    lambda: Disk((0, 0), 0), lambda: Disk((0, 0), -1), lambda: Disk((0, 0, 0), 1),
    lambda: Polygon([(0, 0), (1, 0)]), lambda: Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]),
    lambda: Polygon([(0, 0), (1, 0), (2, 0)]), lambda: Box([0, float("nan")], [1, 1]),
])
def test_invalid_domains_raise(make):
    with pytest.raises(ValueError):
        make()


def test_invalid_sampling_arguments():
    d = Box([0, 0], [1, 1])
    with pytest.raises(ValueError, match="method"):
        d.interior(10, "halton")
    with pytest.raises(ValueError, match="positive integer"):
        d.interior(0)
    with pytest.raises(ValueError, match="shape"):
        d.contains(np.zeros((3, 3)))


@pytest.mark.parametrize("method", ["grid", "random", "sobol"])
def test_interior_points_avoid_the_boundary(method):
    # the L-shape's masked 37x37 grid would put a point on the re-entrant corner (0, 0)
    for n in (1024, 500, 2000):
        x = LShape().interior(n, method, dtype=torch.float64).x
        assert torch.all(x.norm(dim=1) > 1e-9)
    assert not Disk((0, 0), 1).contains(np.array([[1.0, 0.0]]), tol=-1e-9)[0]
    assert LShape().contains(np.array([[0.0, 0.0]]))[0] and not LShape().contains(np.array([[0.0, 0.0]]), -1e-9)[0]
