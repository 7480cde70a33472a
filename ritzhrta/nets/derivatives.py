"""u and ∇u of a network at points x.

``value_and_grad`` uses the closed form of :meth:`TwoLayerNet.value_and_grad`
(∇u = m^(−γ/2) Σ_j a_j σ'(w_j·x + b_j) w_j, one pass, one backward for the loss) and
autograd with ``create_graph=True`` for any other network.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["value_and_grad", "autograd_value_and_grad", "evaluate"]


def autograd_value_and_grad(net: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    """(u, ∇u) by autograd; the graph is kept so a loss of ∇u can be differentiated."""
    with torch.enable_grad():
        xg = x.detach().requires_grad_(True)
        u = net(xg)
        if not u.requires_grad:  # constant in x and in the parameters
            return u, torch.zeros_like(xg)
        (g,) = torch.autograd.grad(u.sum(), xg, create_graph=True, allow_unused=True)
    return u, (torch.zeros_like(xg) if g is None else g)


def value_and_grad(net: nn.Module, x: Tensor, closed_form: bool = True) -> tuple[Tensor, Tensor]:
    """(u (n,), ∇u (n, d)): closed form when the network offers it and ``closed_form``."""
    if closed_form and hasattr(net, "value_and_grad"):
        return net.value_and_grad(x)
    return autograd_value_and_grad(net, x)


def evaluate(net: nn.Module, x, batch: int = 16384) -> tuple["np.ndarray", "np.ndarray"]:
    """u and ∇u at points x (array-like (n, d)) as float64 numpy arrays, in batches."""
    import numpy as np

    p = next(net.parameters())
    xt = torch.as_tensor(np.asarray(x), dtype=p.dtype, device=p.device)
    us, gs = [], []
    for i in range(0, len(xt), batch):
        u, g = value_and_grad(net, xt[i:i + batch])
        us.append(u.detach().double().cpu().numpy())
        gs.append(g.detach().double().cpu().numpy())
    return np.concatenate(us), np.concatenate(gs)
