import math

import pytest
import torch

from ritzhrta.activations import sigma, sigma_and_derivative, sigma_derivative

X = torch.linspace(-3, 3, 61, dtype=torch.float64)


def relu(x):
    return torch.clamp(x, min=0)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_identity_relu_and_relaxation_closed_forms(k):
    assert torch.allclose(sigma(X, 0.0, k), X ** k)  # s = 0: identity (power)
    assert torch.allclose(sigma(X, 1.0, k), relu(X) ** k)  # s = 1: ReLU^k
    expected = (-0.5 * X + 1.5 * relu(X)) ** k  # s = 1.5: σ_1.5 = −0.5x + 1.5 ReLU(x)
    assert torch.allclose(sigma(X, 1.5, k), expected)


@pytest.mark.parametrize("s", [0.0, 0.25, 0.5, 1.0, 1.5, 1.99])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_two_relu_decomposition(s, k):
    expected = relu(X) ** k + (s - 1) ** k * relu(-X) ** k
    assert torch.allclose(sigma(X, s, k), expected, atol=1e-12)


@pytest.mark.parametrize("s", [0.0, 0.5, 1.0, 1.5])
@pytest.mark.parametrize("k", [2, 3, 4])
def test_derivative_matches_method_formula(s, k):
    expected = k * relu(X) ** (k - 1) - k * (s - 1) ** k * relu(-X) ** (k - 1)
    assert torch.allclose(sigma_derivative(X, s, k), expected, atol=1e-12)


def test_derivative_k1_is_the_slope():
    d = sigma_derivative(X, 0.3, 1)
    assert torch.all(d[X > 0] == 1) and torch.allclose(d[X < 0], torch.full_like(d[X < 0], 0.7))


@pytest.mark.parametrize("s", [0.0, 0.5, 1.0, 1.5])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_gradcheck_float64(s, k):
    x = torch.tensor([-2.1, -0.7, -0.3, 0.4, 1.3, 2.2], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: sigma(t, s, k), (x,))
    if k >= 2:  # second derivative through the closed-form derivative (used by H¹ losses)
        assert torch.autograd.gradcheck(lambda t: sigma_derivative(t, s, k), (x,))
        d_auto = torch.autograd.grad(sigma(x, s, k).sum(), x)[0]
        assert torch.allclose(d_auto, sigma_derivative(x, s, k))


def test_value_and_derivative_in_one_pass():
    v, d = sigma_and_derivative(X, 1.5, 3)
    assert torch.allclose(v, sigma(X, 1.5, 3)) and torch.allclose(d, sigma_derivative(X, 1.5, 3))


@pytest.mark.parametrize("s", [-0.1, 2.0, 2.5, math.nan, math.inf])
def test_s_out_of_range_raises(s):
    with pytest.raises(ValueError, match="s must lie in"):
        sigma(X, s, 1)


@pytest.mark.parametrize("k", [0, -1])
def test_k_below_one_raises(k):
    with pytest.raises(ValueError, match="k must be"):
        sigma(X, 1.0, k)


@pytest.mark.parametrize("k", [1.5, 2.0, "2"])
def test_non_integer_k_raises(k):
    with pytest.raises(TypeError, match="k must be"):
        sigma(X, 1.0, k)


def test_integer_input_raises():
    with pytest.raises(TypeError, match="floating-point"):
        sigma(torch.arange(3), 1.0, 1)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("s", [0.0, 0.5, 1.0, 1.5])
def test_fast_pair_matches_the_reference_formula(s, k):
    from ritzhrta.activations import sigma_pair

    z = torch.randn(200, 7, dtype=torch.float64) * 2
    act, dact = sigma_pair(z, s, k)
    ref_act, ref_dact = sigma_and_derivative(z, torch.tensor(s, dtype=torch.float64), k)
    assert torch.allclose(act, ref_act, rtol=1e-13, atol=1e-13)
    assert torch.allclose(dact, ref_dact, rtol=1e-13, atol=1e-13)
    assert sigma_pair(z, s, k, derivative=False)[1] is None
    assert torch.allclose(sigma_pair(z, s, k, derivative=False)[0], act, rtol=1e-14, atol=0)


@pytest.mark.parametrize("k", [2, 3, 4])
@pytest.mark.parametrize("s", [0.5, 1.0])
def test_fast_pair_first_and_second_derivatives(s, k):
    """gradcheck and gradgradcheck of (σ, σ') as functions of z: the fused ReLU backward
    (s = 1, k ≥ 3) must stay exact under double backward (the autograd loss path uses it)."""
    from ritzhrta.activations import sigma_pair

    z = (torch.randn(6, 5, dtype=torch.float64) + 0.05).requires_grad_(True)
    fn = lambda t: sigma_pair(t, s, k)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (z,))
    assert torch.autograd.gradgradcheck(fn, (z,))
