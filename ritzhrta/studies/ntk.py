"""Gram matrices of the training dynamics and their smallest eigenvalue (METHOD §3, Theorem 3.1).

With x̃ = [x, 1] (bias appended), w ~ N(0, I) and θ_ij the angle between x̃_i and x̃_j:

    H^∞_ij(s) = x̃_i·x̃_j · E_w[σ_s'(w·x̃_i) σ_s'(w·x̃_j)]

and for k = 1, with c = 1 − s,

    E[σ_s'(w·x̃_i) σ_s'(w·x̃_j)] = (1 + c²)/2 − (1 − c)²·θ_ij/(2π)
                                = c + s²·(π − θ_ij)/(2π),

so H^∞(s) = c·X̃X̃ᵀ + s²·H^∞_ReLU: for s ≤ 1 the full-rank part grows like s². For any k,
:func:`gram_monte_carlo` estimates the expectation by sampling w; :func:`gram_finite` is
the finite-width J·Jᵀ of a network (J = ∂u(x_i)/∂θ).
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor, nn

from ritzhrta.activations import check_k, check_s, sigma_and_derivative

__all__ = ["gram_closed_form", "gram_monte_carlo", "gram_finite", "lambda_min", "lambda_min_vs_s"]


def _augment(x: Tensor) -> Tensor:
    if not isinstance(x, Tensor) or x.ndim != 2:
        raise ValueError(f"points must be a tensor of shape (n, d), got {getattr(x, 'shape', type(x))}")
    x = x.detach().double()
    return torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype, device=x.device)], 1)


def gram_closed_form(x: Tensor, s: float) -> Tensor:
    """H^∞(s) for k = 1 in closed form, (n, n) float64."""
    s = check_s(s)
    xt = _augment(x)
    inner = xt @ xt.T
    norms = xt.norm(dim=1)
    theta = torch.arccos(torch.clamp(inner / torch.outer(norms, norms), -1.0, 1.0))
    c = 1.0 - s
    return inner * ((1 + c * c) / 2 - (1 - c) ** 2 * theta / (2 * math.pi))


def gram_monte_carlo(x: Tensor, s: float, k: int = 1, samples: int = 10 ** 6, seed: int = 0,
                     batch: int = 20000) -> Tensor:
    """H_ij = x̃_i·x̃_j · E_w[σ'(w·x̃_i)σ'(w·x̃_j)] estimated with ``samples`` draws of w ~ N(0, I)."""
    s, k = check_s(s), check_k(k)
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    xt = _augment(x)
    gen = torch.Generator(device=xt.device).manual_seed(seed)
    acc = torch.zeros(len(xt), len(xt), dtype=xt.dtype, device=xt.device)
    done = 0
    while done < samples:
        m = min(batch, samples - done)
        w = torch.randn(m, xt.shape[1], generator=gen, dtype=xt.dtype, device=xt.device)
        d = sigma_and_derivative(w @ xt.T, s, k)[1]  # (m, n)
        acc += d.T @ d
        done += m
    return (xt @ xt.T) * acc / samples


def gram_finite(net: nn.Module, x: Tensor, wrt: str = "hidden") -> Tensor:
    """J·Jᵀ with J_i = ∂u(x_i)/∂θ: θ = the hidden layers (``wrt="hidden"``, the matrix of
    Theorem 3.1) or every parameter (``"all"``), (n, n) in the network's dtype."""
    if wrt not in ("hidden", "all"):
        raise ValueError(f"wrt must be 'hidden' or 'all', got {wrt!r}")
    from torch.func import functional_call, jacrev, vmap

    params = {name: p.detach() for name, p in net.named_parameters()
              if wrt == "all" or name not in ("a", "c")}
    fixed = {name: p.detach() for name, p in net.named_parameters() if name not in params}
    buffers = dict(net.named_buffers())

    def u(p: dict, xi: Tensor) -> Tensor:
        return functional_call(net, {**p, **fixed, **buffers}, (xi[None],))[0]

    p0 = next(net.parameters())
    jac = vmap(jacrev(u), in_dims=(None, 0))(params, x.to(device=p0.device, dtype=p0.dtype))
    j = torch.cat([v.reshape(len(x), -1) for v in jac.values()], 1)
    return j @ j.T


def lambda_min(h: Tensor) -> float:
    """Smallest eigenvalue of a symmetric matrix."""
    return float(torch.linalg.eigvalsh(0.5 * (h + h.T).double())[0])


def lambda_min_vs_s(x: Tensor, s_values: Sequence[float], k: int = 1, samples: int = 10 ** 5,
                    seed: int = 0) -> list[float]:
    """λ_min(H^∞(s)) for each s: closed form for k = 1, Monte Carlo otherwise."""
    if k == 1:
        return [lambda_min(gram_closed_form(x, s)) for s in s_values]
    return [lambda_min(gram_monte_carlo(x, s, k, samples, seed)) for s in s_values]
