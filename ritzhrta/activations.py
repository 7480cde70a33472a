"""The homotopy activation family σ_s^k (METHOD §1).

    σ_s(x)   = (1 − s)·x + s·ReLU(x) = ReLU(x) + (s − 1)·ReLU(−x),   s ∈ [0, 2)
    σ_s^k(x) = σ_s(x)^k = ReLU(x)^k + (s − 1)^k·ReLU(−x)^k,           k = 1, 2, …

s = 0 is the identity, 0 < s < 1 a leaky ReLU (homotopy), s = 1 ReLU, 1 < s < 2 a
negative slope on the left (relaxation).
"""
from __future__ import annotations

import math
import numbers

import torch
from torch import Tensor
from torch.nn import functional as F

__all__ = ["sigma", "sigma_derivative", "sigma_and_derivative", "sigma_second", "sigma_pair", "check_s", "check_k"]


def check_s(s: float) -> float:
    """Return ``s`` as a float, or raise ``ValueError`` unless it is a finite number in [0, 2)."""
    if isinstance(s, Tensor):
        if s.numel() != 1:
            raise ValueError(f"s must be a scalar, got a tensor of shape {tuple(s.shape)}")
        s = s.item()
    if isinstance(s, bool) or not isinstance(s, numbers.Real):
        raise TypeError(f"s must be a real number in [0, 2), got {type(s).__name__}")
    s = float(s)
    if math.isnan(s) or not 0.0 <= s < 2.0:
        raise ValueError(f"s must lie in [0, 2), got {s}")
    return s


def check_k(k: int) -> int:
    """Return ``k`` or raise ``ValueError`` unless it is an integer ≥ 1."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        if isinstance(k, float) and k.is_integer():
            raise TypeError(f"k must be an int, got the float {k}; write {int(k)}")
        raise TypeError(f"k must be an integer >= 1, got {k!r}")
    if k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k}")
    return int(k)


def _slope(x: Tensor, s: Tensor | float) -> Tensor:
    """σ_s'(x): 1 for x > 0, 1 − s for x ≤ 0 (the value at 0 is a convention)."""
    one = torch.ones((), dtype=x.dtype, device=x.device)
    return torch.where(x > 0, one, 1 - s)


def sigma_and_derivative(x: Tensor, s: Tensor | float, k: int = 1) -> tuple[Tensor, Tensor]:
    """Return (σ_s^k(x), d/dx σ_s^k(x)) in one pass.

    With y = σ_s(x) = slope·x and slope ∈ {1, 1 − s}:  σ_s^k = y^k and
    d/dx σ_s^k = k·y^(k−1)·slope, which equals METHOD §1's
    k·ReLU(x)^(k−1) − k·(s − 1)^k·ReLU(−x)^(k−1).

    ``s`` may be a 0-d tensor (a network's buffer) so that no host sync is needed;
    it is not validated here (use :func:`check_s` at the boundary).
    """
    slope = _slope(x, s)
    y = x * slope
    if k == 1:
        return y, slope
    yk1 = y if k == 2 else y.pow(k - 1)
    return yk1 * y, k * yk1 * slope


def sigma_second(x: Tensor, s: Tensor | float, k: int = 1) -> Tensor:
    """d²/dx² σ_s^k(x) = k(k − 1)·y^(k−2)·slope² with y = σ_s(x), slope ∈ {1, 1 − s}
    (0 for k = 1; for k = 2 a step at 0). Used by the strong-form residual (METHOD §4b)."""
    slope = _slope(x, s)
    if k == 1:
        return torch.zeros_like(x)
    y = x * slope
    return k * (k - 1) * (y.pow(k - 2) if k > 2 else torch.ones_like(y)) * slope * slope


class _ReluPowerPair(torch.autograd.Function):
    """(ReLU(z)^k, k·ReLU(z)^(k−1)) for k ≥ 3 with a fused backward:

        ∂L/∂z = k(k−1)·y^(k−2)·(g_dact + g_act·y/(k−1)),   y = ReLU(z),

    three elementwise passes where autograd of the power products records about eight. The
    backward recomputes y from the saved z with differentiable ops, so double backward and
    torch.func transforms stay exact (gradcheck and gradgradcheck in the tests).
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(z: Tensor, k: int) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        y = torch.relu(z)
        yk1 = y * y if k == 3 else y.pow(k - 1)
        return yk1 * y, k * yk1

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        ctx.save_for_backward(inputs[0])
        ctx.save_for_forward(inputs[0])
        ctx.k = inputs[1]

    @staticmethod
    def jvp(ctx, z_t: Tensor, _k_t) -> tuple[Tensor, Tensor]:  # forward mode (matrix-free Gauss–Newton)
        (z,) = ctx.saved_tensors
        k = ctx.k
        y = torch.relu(z)
        yk2 = y if k == 3 else y.pow(k - 2)
        return k * (yk2 * y) * z_t, (k * (k - 1)) * yk2 * z_t

    @staticmethod
    def backward(ctx, g_act: Tensor, g_dact: Tensor):  # type: ignore[override]
        (z,) = ctx.saved_tensors
        k = ctx.k
        y = torch.relu(z)
        yk2 = y if k == 3 else y.pow(k - 2)
        return (k * (k - 1)) * (torch.addcmul(g_dact, g_act, y, value=1.0 / (k - 1)) * yk2), None


def sigma_pair(z: Tensor, s: float, k: int, derivative: bool = True) -> tuple[Tensor, Tensor | None]:
    """(σ_s^k(z), d/dz σ_s^k(z) or None) for a Python float ``s``: the networks' fast path.

    σ_s(z) = leaky_relu(z, 1 − s) (ReLU at s = 1) and, since σ_s(z)·σ_s'(z) =
    leaky_relu(z, (1 − s)²),

        d/dz σ_s^k = k·σ_s(z)^(k−2)·leaky_relu(z, (1 − s)²)   (k ≥ 2),   σ_s' = 1 or 1 − s  (k = 1).

    Built from ReLU-type kernels only (no ``torch.where``), so autograd records a few cheap
    nodes; the same values as :func:`sigma_and_derivative` (tested).
    """
    if s == 1.0 and k >= 3 and derivative:
        return _ReluPowerPair.apply(z, k)
    y = torch.relu(z) if s == 1.0 else F.leaky_relu(z, 1.0 - s)
    if k == 1:
        act = y
        dact = ((z > 0).to(z.dtype) * s + (1.0 - s)) if derivative else None
        return act, dact
    yk2 = None if k == 2 else (y if k == 3 else y.pow(k - 2))
    yk1 = y if yk2 is None else yk2 * y
    act = yk1 * y
    if not derivative:
        return act, None
    if s == 1.0:  # σ'·σ = σ: d/dz σ^k = k·σ^(k−1)
        return act, k * yk1
    t = F.leaky_relu(z, (1.0 - s) ** 2)
    return act, (k * t if yk2 is None else k * (yk2 * t))


def sigma(x: Tensor, s: float | Tensor = 1.0, k: int = 1) -> Tensor:
    """σ_s^k(x) = ReLU(x)^k + (s − 1)^k·ReLU(−x)^k, elementwise.

    >>> sigma(torch.tensor([-2.0, 3.0]), s=1.5, k=1)
    tensor([1., 3.])
    """
    _validate(x, s, k)
    y = x * _slope(x, s)
    return y if k == 1 else y.pow(k)


def sigma_derivative(x: Tensor, s: float | Tensor = 1.0, k: int = 1) -> Tensor:
    """d/dx σ_s^k(x): k·ReLU(x)^(k−1) − k·(s − 1)^k·ReLU(−x)^(k−1) (k ≥ 2);
    1 for x > 0 and 1 − s for x < 0 (k = 1; at x = 0 the value 1 − s is used)."""
    _validate(x, s, k)
    return sigma_and_derivative(x, s, k)[1]


def _validate(x: Tensor, s: float | Tensor, k: int) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    check_s(s)
    check_k(k)
    if not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor, got {x.dtype}")
