"""Networks with a kink along a material interface (cusp capturing, Tseng et al. 2023).

With a discontinuous coefficient a, the solution u of −∇·(a∇u) = f is continuous but its
gradient jumps across the interface Γ = {ψ = 0} (a∂_n u is continuous). A network of x
alone is smooth (σ^k, k ≥ 2) and cannot represent the jump: its energy error stalls at
about 20 % on problems/two-material (benchmarks/results/mesh_problems.md). :class:`InterfaceNet` feeds the network the augmented
input z = (x, |ψ(x)|):

    u(x) = N(x, |ψ(x)|),   ∇u = ∇_x N + ∂_{z_{d+1}} N · sign(ψ) ∇ψ,

so every feature has a kink exactly on Γ and the span contains functions whose normal
derivative jumps there, while u stays continuous. ψ is the problem's ``interface`` level set.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

from ritzhrta.nets.derivatives import value_and_grad
from ritzhrta.nets.networks import NetWrapper
from ritzhrta.problem import exact_gradient

__all__ = ["InterfaceNet"]


class InterfaceNet(NetWrapper):
    """u(x) = N(x, |ψ(x)|) around a ritzhrta network N of dimension d + 1.

    It behaves like a d-dimensional network for the solver (``dim``, ``k``, ``s``, ``a``,
    ``c``, ``set_s``, ``set_output``, ``value_and_grad``, ``output_basis``); ``lift_input`` maps
    x to z (used by :func:`ritzhrta.nets.networks.place_kinks`).
    """

    def __init__(self, net: nn.Module, level_set: Callable[[Tensor], Tensor]) -> None:
        super().__init__()
        if not hasattr(net, "set_s") or net.dim < 2:
            raise ValueError("InterfaceNet wraps a ritzhrta network with input dimension d + 1 >= 2")
        if not callable(level_set):
            raise TypeError(f"level_set must be a callable x -> ψ(x), got {type(level_set).__name__}")
        self.net = net
        self.level_set = level_set

    @property
    def dim(self) -> int:
        return self.net.dim - 1

    def _psi(self, x: Tensor) -> tuple[Tensor, Tensor]:
        psi = self.level_set(x)
        if not isinstance(psi, Tensor) or psi.shape != (x.shape[0],):
            raise ValueError(f"the interface level set must return shape ({x.shape[0]},)")
        return psi, exact_gradient(self.level_set, x)

    def lift_input(self, x: Tensor) -> Tensor:
        """z = (x, |ψ(x)|), shape (n, d + 1)."""
        return torch.cat([x, self.level_set(x).abs()[:, None]], 1)

    def _lift_with_jacobian(self, x: Tensor) -> tuple[Tensor, Tensor]:
        psi, dpsi = self._psi(x)
        return torch.cat([x, psi.abs()[:, None]], 1), torch.sign(psi)[:, None] * dpsi

    def forward(self, x: Tensor) -> Tensor:
        return self.net(self.lift_input(x))

    def value_and_grad(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """u and ∇u = ∇_x N + ∂_{d+1}N · sign(ψ)∇ψ."""
        z, extra = self._lift_with_jacobian(x)
        u, gz = value_and_grad(self.net, z)
        return u, gz[:, :-1] + gz[:, -1:] * extra

    def output_basis(self, x: Tensor, gradients: bool = False) -> tuple[Tensor, Tensor | None]:
        z, extra = self._lift_with_jacobian(x)
        p, dp = self.net.output_basis(z, gradients)
        if not gradients:
            return p, None
        return p, dp[:, :, :-1] + dp[:, :, -1:] * extra[:, None, :]

    def extra_repr(self) -> str:
        return "u = N(x, |ψ(x)|)"
