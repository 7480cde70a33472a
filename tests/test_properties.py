"""Property-based tests (hypothesis)."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ritzhrta import Box, Disk, LShape, parse_schedule, Polygon, Stage, TwoLayerNet
from ritzhrta.activations import sigma
from ritzhrta.geometry.domains import Points
from ritzhrta.schedule import format_schedule
from ritzhrta.activations import check_s

finite = st.floats(-50, 50, allow_nan=False)
s_values = st.floats(0, 2, exclude_max=True, allow_nan=False)


@given(st.lists(finite, min_size=1, max_size=30), s_values, st.integers(1, 5))
def test_sigma_equals_two_relu_decomposition(xs, s, k):
    x = torch.tensor(xs, dtype=torch.float64)
    relu = torch.clamp
    expected = relu(x, min=0) ** k + (s - 1) ** k * relu(-x, min=0) ** k
    assert torch.allclose(sigma(x, s, k), expected, rtol=1e-12, atol=1e-12)


@settings(deadline=None, max_examples=30)
@given(s_values, st.integers(1, 3), st.integers(1, 8))
def test_relu_twin_property(s, k, width):
    torch.manual_seed(width)
    net = TwoLayerNet(2, width, k=k, s=s).double()
    x = torch.rand(10, 2, dtype=torch.float64) * 4 - 2
    assert torch.allclose(net(x), net.to_relu()(x), rtol=1e-10, atol=1e-10)


boxes = st.integers(1, 4).flatmap(lambda d: st.tuples(
    st.lists(st.floats(-5, 5), min_size=d, max_size=d), st.lists(st.floats(0.1, 5), min_size=d, max_size=d)))
domains = st.one_of(
    boxes.map(lambda t: Box(t[0], [a + b for a, b in zip(*t)])),
    st.tuples(st.floats(-3, 3), st.floats(-3, 3), st.floats(0.1, 3)).map(lambda t: Disk(t[:2], t[2])),
    st.just(LShape()),
    st.tuples(st.floats(0.2, 3), st.floats(0.2, 3)).map(lambda t: Polygon([(0, 0), (t[0], 0), (0, t[1])])),
)


@settings(deadline=None, max_examples=40)
@given(domains, st.sampled_from(["grid", "random", "sobol"]), st.integers(1, 300), st.integers(0, 1000))
def test_points_inside_weights_sum_unit_normals(dom, method, n, seed):
    p = dom.interior(n, method, seed=seed, dtype=torch.float64)
    assert bool(dom.contains(p.x).all())
    assert float(p.w.sum()) == pytest.approx(dom.measure, rel=1e-9)
    b = dom.boundary(n, method, seed=seed, dtype=torch.float64)
    assert float(b.w.sum()) == pytest.approx(dom.boundary_measure, rel=1e-9)
    assert torch.allclose(b.normals.norm(dim=1), torch.ones(len(b), dtype=torch.float64))
    assert bool(dom.contains(b.x, tol=1e-9).all())


stage_items = st.tuples(st.floats(0, 1.99).map(lambda v: round(v, 4)), st.integers(1, 10 ** 6),
                        st.one_of(st.none(), st.floats(0, 1.99).map(lambda v: round(v, 4))))


@given(st.lists(stage_items, min_size=1, max_size=6))
def test_parse_round_trips(items):
    text = ",".join(f"{a}:{n}" if b is None else f"{a}-{b}:{n}" for a, n, b in items)
    stages = parse_schedule(text)
    assert parse_schedule(format_schedule(stages)) == stages
    assert [st.steps for st in stages] == [n for _, n, _ in items]


@given(st.one_of(st.floats(allow_nan=True), st.integers(-5, 5), st.text(max_size=3), st.none()))
def test_invalid_s_raises_documented_exception(s):
    try:
        value = check_s(s)
    except (ValueError, TypeError):
        return
    assert 0 <= value < 2


@given(st.text(max_size=20))
def test_parse_never_crashes_otherwise(text):
    try:
        parse_schedule(text)
    except ValueError:
        pass


@given(st.integers(-3, 3), st.floats(allow_nan=True, allow_infinity=True))
def test_invalid_points_raise(rows, value):
    x = torch.full((max(rows, 0), 2), value, dtype=torch.float64)
    try:
        Points(x, torch.ones(max(rows, 0), dtype=torch.float64))
    except ValueError:
        assert rows <= 0 or not math.isfinite(value)
        return
    assert rows > 0 and math.isfinite(value)


@given(st.integers(-5, 0))
def test_invalid_stage_steps_raise(steps):
    with pytest.raises(ValueError):
        Stage(steps)


def test_points_validation_messages():
    with pytest.raises(ValueError, match="shape"):
        Points(torch.zeros(3), torch.ones(3))
    with pytest.raises(TypeError, match="floating-point"):
        Points(torch.zeros(3, 2, dtype=torch.int64), torch.ones(3))
    with pytest.raises(ValueError, match="w must have shape"):
        Points(torch.zeros(3, 2), torch.ones(4))
    with pytest.raises(ValueError, match="NaN"):
        Points(torch.tensor([[0.0, np.inf]]), torch.ones(1))
