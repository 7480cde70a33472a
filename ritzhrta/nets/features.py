"""Analytic random features for the least-squares routes (METHOD §2b).

    u(x) = m^(−1/2) Σ_j a_j φ(w_j·(x − x_j)),   w_j ~ N(0, (scale/L)² I),   x_j ~ U(Ω)

with φ one of :data:`FAMILIES` (tanh, sin, gauss = exp(−z²)), L the longest side of the
domain's bounding box and x_j a random point of Ω (the centre where the feature varies
fastest). Unlike σ_s^k (C^(k−1), algebraic convergence in the width) these features are
analytic, so a least-squares solve on them converges spectrally for smooth solutions
(docs/PERFORMANCE.md, ``benchmarks/features.py``). Only the output layer a is solved for;
the hidden layer is drawn once and kept. There is no homotopy parameter: stages must use
s = 1.

A family is one entry of :data:`FAMILIES`: a function z ↦ (φ(z), φ'(z), φ''(z)).
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor

from ritzhrta.nets import enrichment
from ritzhrta.nets.networks import TwoLayerNet, with_bias_column

__all__ = ["FAMILIES", "RandomFeatureNet", "DEFAULT_FAMILY", "DEFAULT_SCALE"]


def _tanh(z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    t = torch.tanh(z)
    d1 = 1 - t * t
    return t, d1, -2 * t * d1


def _sin(z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    s = torch.sin(z)
    return s, torch.cos(z), -s


def _gauss(z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    e = torch.exp(-z * z)
    return e, -2 * z * e, (4 * z * z - 2) * e


FAMILIES: dict[str, Callable[[Tensor], tuple[Tensor, Tensor, Tensor]]] = {
    "tanh": _tanh, "sin": _sin, "gauss": _gauss}
DEFAULT_FAMILY = "gauss"  # measured: 15-57x below tanh at widths 200-800 (features.md)
DEFAULT_SCALE = 2.0  # measured: benchmarks/results/features.md


def _bounding_length(domain) -> float:
    """The longest side of the bounding box of ``domain``: from its boundary rule up to 3D (the
    committed rows' definition), from ``lo``/``hi`` above (a tensor rule grows as n^d)."""
    if domain.dim > 3:
        return float(max(domain.hi[i] - domain.lo[i] for i in range(domain.dim)))
    xb = domain.boundary_quadrature(2, 4, dtype=torch.float64).x
    return float((xb.max(0).values - xb.min(0).values).max())


class RandomFeatureNet(TwoLayerNet):
    """A two-layer net with analytic random features on ``domain`` (see the module doc).

    ``family`` names a :data:`FAMILIES` entry, ``scale`` the spread of the weights in units
    of 1/L. ``enrich``: add the singular functions of the domain's re-entrant corners
    (:mod:`ritzhrta.nets.enrichment`, weights ``e``) to the basis. The hidden layer is drawn from torch's global generator (seed it with
    ``torch.manual_seed``); the centres are random points of the domain.

    >>> from ritzhrta import Box
    >>> net = RandomFeatureNet(Box([0, 0], [1, 1]), 50)
    >>> net(torch.rand(4, 2)).shape
    torch.Size([4])
    """

    def __init__(self, domain, width: int, family: str = DEFAULT_FAMILY, scale: float = DEFAULT_SCALE,
                 enrich: bool = True) -> None:
        if family not in FAMILIES:
            raise ValueError(f"family must be one of {tuple(FAMILIES)}, got {family!r}")
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"scale must be a finite number > 0, got {scale!r}")
        super().__init__(domain.dim, width, k=1, s=1.0)
        self.family, self.feature_scale, self._domain = family, float(scale), domain
        self._corners = enrichment.corner_functions(domain) if enrich else []
        self.e = torch.nn.Parameter(torch.zeros(len(self._corners))) if self._corners else None
        length = _bounding_length(domain)
        seed = int(torch.randint(0, 2 ** 31 - 1, ()).item())
        centres = domain.interior(self.width, "random", seed=seed, dtype=torch.float64).x
        with torch.no_grad():
            w = torch.randn(self.width, self.dim, dtype=torch.float64) * (scale / length)
            self.hidden.weight.copy_(w)
            self.hidden.bias.copy_(-(w * centres).sum(1))

    def redraw(self) -> "RandomFeatureNet":
        """A fresh net of the same family, width, scale, dtype and device (torch's global RNG)."""
        p = self.hidden.weight
        return RandomFeatureNet(self._domain, self.width, self.family, self.feature_scale,
                                bool(self._corners)).to(p.device, p.dtype)

    def set_s(self, s: float) -> None:
        """Analytic features have no homotopy parameter: only s = 1 is accepted."""
        if float(s) != 1.0:
            raise ValueError(f"RandomFeatureNet ({self.family} features) has no homotopy parameter: "
                             f"use stages with s = 1, got s = {float(s):g}")
        super().set_s(1.0)

    def _basis(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        self._check_input(x)
        return FAMILIES[self.family](self.hidden(x))

    def features(self, x: Tensor) -> Tensor:
        return self._basis(x)[0]

    def forward(self, x: Tensor) -> Tensor:
        return self.value_and_grad(x)[0]

    def value_and_grad(self, x: Tensor) -> tuple[Tensor, Tensor]:
        act, dact, _ = self._basis(x)
        sa = self.scale * self.a
        u, g = act @ sa, dact @ (sa[:, None] * self.hidden.weight)
        if self.e is not None:
            sv, sg = enrichment.evaluate(self._corners, x, gradients=True)
            u, g = u + sv @ self.e, g + (sg * self.e[None, :, None]).sum(1)
        return (u + self.c if self.c is not None else u), g

    def output_basis(self, x: Tensor, gradients: bool = False) -> tuple[Tensor, Tensor | None]:
        """Φ = [m^(−1/2) φ(w_j·x + b_j) | s_k(x) | 1 (output bias)] and ∇Φ."""
        act, dact, _ = self._basis(x)
        phi = self.scale * act
        grad = self.scale * dact[:, :, None] * self.hidden.weight[None] if gradients else None
        if self.e is not None:
            sv, sg = enrichment.evaluate(self._corners, x, gradients=gradients)
            phi = torch.cat([phi, sv], 1)
            grad = torch.cat([grad, sg], 1) if gradients else None
        return with_bias_column(self, phi, grad)

    def output_laplacian(self, x: Tensor) -> Tensor:
        """ΔΦ (n, m[+p][+1]): Δφ(w·x + b) = φ''(w·x + b)·|w|²; the corner functions are harmonic."""
        d2 = self.scale * self._basis(x)[2] * (self.hidden.weight ** 2).sum(1)[None]
        extra = (0 if self.e is None else self.e.numel()) + (self.c is not None)
        return torch.cat([d2, d2.new_zeros(d2.shape[0], extra)], 1) if extra else d2

    @torch.no_grad()
    def set_output(self, coef: Tensor) -> None:
        """Write [a; e; c] (e: corner-function weights, c: output bias, where present)."""
        m, p = self.width, (0 if self.e is None else self.e.numel())
        expected = m + p + (self.c is not None)
        if coef.shape != (expected,):
            raise ValueError(f"output coefficients must have shape ({expected},), got {tuple(coef.shape)}")
        self.a.copy_(coef[:m].to(self.a))
        if self.e is not None:
            self.e.copy_(coef[m:m + p].to(self.e))
        if self.c is not None:
            self.c.copy_(coef[m + p].to(self.c))

    def to_relu(self):
        raise TypeError("RandomFeatureNet has analytic features: it has no ReLU^k twin")

    def extra_repr(self) -> str:
        corners = f", corner functions={len(self._corners)}" if self._corners else ""
        return f"dim={self.dim}, width={self.width}, family={self.family}, scale={self.feature_scale:g}{corners}"
