import math

import pytest
import torch

from ritzhrta import TwoLayerNet
from ritzhrta.studies.ntk import gram_closed_form, gram_finite, gram_monte_carlo, lambda_min, lambda_min_vs_s

X = torch.linspace(0, 1, 12, dtype=torch.float64)[:, None]
X2 = torch.rand(15, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("s", [0.0, 0.5, 1.0, 1.5])
def test_closed_form_agrees_with_monte_carlo_to_one_percent(s):
    exact = gram_closed_form(X2, s)
    mc = gram_monte_carlo(X2, s, k=1, samples=10 ** 6, seed=1)
    assert ((mc - exact).abs().max() / exact.abs().max()) < 0.01


def test_decomposition_c_gram_plus_s2_relu():
    s, c = 0.6, 0.4
    xt = torch.cat([X2, torch.ones(len(X2), 1, dtype=torch.float64)], 1)
    expected = c * xt @ xt.T + s ** 2 * gram_closed_form(X2, 1.0)
    assert torch.allclose(gram_closed_form(X2, s), expected, atol=1e-12)
    assert torch.allclose(gram_closed_form(X2, 0.0), xt @ xt.T)  # linear network


def test_lambda_min_grows_with_s_on_0_1():
    s_values = [0.0, 0.25, 0.5, 0.75, 1.0]
    lam = lambda_min_vs_s(X, s_values)
    assert all(b > a for a, b in zip(lam, lam[1:])), lam
    assert lam[0] == pytest.approx(0.0, abs=1e-10)  # s = 0: rank d + 1 < n


def test_monte_carlo_for_k2_is_positive_and_consistent():
    h1 = gram_monte_carlo(X2, 0.5, k=2, samples=20000, seed=0)
    h2 = gram_monte_carlo(X2, 0.5, k=2, samples=20000, seed=1)
    assert torch.allclose(h1, h1.T) and lambda_min(h1) > -1e-8
    assert ((h1 - h2).abs().max() / h1.abs().max()) < 0.1


def test_finite_width_gram_approaches_the_limit():
    torch.manual_seed(0)
    net = TwoLayerNet(2, 20000, k=1, s=0.5).double()
    finite = gram_finite(net, X2, wrt="hidden")
    limit = gram_closed_form(X2, 0.5)
    assert ((finite - limit).abs().max() / limit.abs().max()) < 0.05
    full = gram_finite(TwoLayerNet(2, 200, k=2).double(), X2, wrt="all")
    assert full.shape == (15, 15) and lambda_min(full) > 0


def test_bad_input():
    with pytest.raises(ValueError):
        gram_closed_form(X2, 2.0)
    with pytest.raises(ValueError):
        gram_closed_form(torch.rand(5), 0.5)
    with pytest.raises(ValueError):
        gram_finite(TwoLayerNet(2, 3), X2, wrt="output")
