"""u and ∇u of a network at points x.

``value_and_grad`` uses the closed form of :meth:`TwoLayerNet.value_and_grad`
(∇u = m^(−γ/2) Σ_j a_j σ'(w_j·x + b_j) w_j, one pass, one backward for the loss) and
autograd with ``create_graph=True`` for any other network.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["value_and_grad", "autograd_value_and_grad"]


def autograd_value_and_grad(net: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    """(u, ∇u) by autograd; the graph is kept so a loss of ∇u can be differentiated."""
    with torch.enable_grad():
        xg = x.detach().requires_grad_(True)
        u = net(xg)
        (g,) = torch.autograd.grad(u.sum(), xg, create_graph=True)
    return u, g


def value_and_grad(net: nn.Module, x: Tensor, closed_form: bool = True) -> tuple[Tensor, Tensor]:
    """(u (n,), ∇u (n, d)): closed form when the network offers it and ``closed_form``."""
    if closed_form and hasattr(net, "value_and_grad"):
        return net.value_and_grad(x)
    return autograd_value_and_grad(net, x)
