import math

import pytest
import torch

import problems
from ritzhrta import relative_errors, TwoLayerNet
from ritzhrta.forms.norms import evaluation_points


class Scaled(torch.nn.Module):
    def __init__(self, fn, factor):
        super().__init__()
        self.fn, self.factor = fn, factor
        self.p = torch.nn.Parameter(torch.zeros((), dtype=torch.float64))

    def forward(self, x):
        return self.factor * self.fn(x) + 0 * self.p


def test_relative_errors_of_a_scaled_solution():
    pb = problems.get("poisson2d-neumann")
    errs = relative_errors(Scaled(pb.exact, 1.1), pb)
    assert errs["l2"] == pytest.approx(0.1, rel=1e-6)
    assert errs["h1"] == pytest.approx(0.1, rel=1e-6) and errs["h1_semi"] == pytest.approx(0.1, rel=1e-6)
    assert relative_errors(Scaled(pb.exact, 1.0), pb)["h1"] < 1e-12


def test_evaluation_set_is_not_the_training_set():
    pb = problems.get("poisson2d-neumann")
    ev = evaluation_points(pb, dtype=torch.float64)
    train = pb.domain.interior(pb.points, pb.sampling, dtype=torch.float64)
    assert len(ev) > 10 * len(train)
    assert torch.cdist(ev.x, train.x).min() > 0
    assert float(ev.w.sum()) == pytest.approx(1.0)


def test_h1_error_of_a_constant_offset():
    pb = problems.get("screened-poisson2d")
    shift = lambda x: pb.exact(x) + 0.25  # noqa: E731
    errs = relative_errors(Scaled(shift, 1.0), pb)
    l2_ref = 0.25  # ‖u*‖² = 1/4 on the unit square
    assert errs["l2"] == pytest.approx(math.sqrt(0.0625 / l2_ref), rel=1e-3)
    assert errs["h1_semi"] < 1e-12


def test_errors_need_an_exact_solution():
    from ritzhrta import Box, Problem
    with pytest.raises(ValueError, match="exact solution"):
        relative_errors(TwoLayerNet(2, 4), Problem(Box([0, 0], [1, 1])))
