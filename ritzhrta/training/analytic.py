"""Alternating least squares for two-layer piecewise-linear networks (seed 003, METHOD §6).

u(x) = γ_m Σ_k a_k σ_s(w̃_k·x̃) + c with x̃ = [x, 1] and k = 1, so σ_s is piecewise linear.
With the activation pattern D_ik = σ_s'(w̃_k·x̃_i) ∈ {1, 1 − s} frozen,

    u(x_i)   = γ_m Σ_k a_k D_ik (w̃_k·x̃_i) + c      linear in a (and c), and in all of W̃
    ∂_j u(x_i) = γ_m Σ_k a_k D_ik w_kj               (H¹ rows, also linear)

One iteration: (1) exact output solve (:func:`fit_output_layer`); (2) one joint
least-squares step δ for vec(W̃) against the residual, with a relative ridge μ:
primal (ZᵀZ + μI)δ = Zᵀr when rows ≥ m(d+1), dual δ = Zᵀ(ZZᵀ + μI)⁻¹r otherwise (the
minimum-norm Gauss–Newton / Levenberg–Marquardt step), matrix-free CGLS when both are
large; (3) the pattern follows the new W̃. The loss may rise when the pattern changes:
iterates are accepted non-monotonically and the best one is kept.
"""
from __future__ import annotations

import copy
import math
from typing import Callable

import torch
from torch import Tensor

from ritzhrta.activations import sigma_and_derivative
from ritzhrta.geometry.domains import Points
from ritzhrta.forms.losses import L2Loss
from ritzhrta.training.lstsq import DEFAULT_RIDGE, fit_output_layer
from ritzhrta.nets.networks import TwoLayerNet
from ritzhrta.problem import Problem, Target

__all__ = ["alternating_fit", "hidden_increment", "data_aware_init", "check_alternating", "DENSE_LIMIT"]

DENSE_LIMIT = 6000  # above this many unknowns and rows, the hidden step uses matrix-free CGLS


def check_alternating(net, loss) -> None:
    """Raise a ``ValueError`` naming the alternative when the trainer cannot handle the case."""
    if not isinstance(net, TwoLayerNet):
        raise ValueError(f"the alternating trainer handles two-layer networks (TwoLayerNet) only, got "
                         f"{type(net).__name__}; train deeper networks with the gradient trainer (Adam)")
    if hasattr(net, "family"):
        raise ValueError(f"the alternating trainer needs σ_s features (k = 1), got {net.family} features; "
                         "solve analytic features with the galerkin trainer")
    if net.k != 1:
        raise ValueError(f"the alternating trainer needs a piecewise-linear activation (k = 1), got k = {net.k}; "
                         "for σ_s^k with k >= 2 use the gradient trainer (Adam), optionally with fit_output_layer")
    if not isinstance(loss, L2Loss):  # L2Loss and its subclass H1Loss
        name = getattr(loss, "name", "a custom loss")
        raise ValueError(f"the alternating trainer solves the 'l2' and 'h1' losses, got {name!r}; "
                         "for the Ritz energy use the gradient trainer")


def _blocks(net: TwoLayerNet, points: Points, order: int, problem: Problem | Target):
    """Weighted rows: value block (n, m, d+1) and gradient blocks, and the residuals.

    The network's own forward pass, on a float64 copy, gives z, u and ∇u."""
    net64 = copy.deepcopy(net).double()
    x = points.x.double()
    sw = torch.sqrt(points.w.double())
    xt = torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype, device=x.device)], 1)
    z = net64.hidden(x)
    slope = sigma_and_derivative(z, net64.s, 1)[1]  # σ_s′ (the alternating trainer's k = 1)
    coef = net64.scale * slope * net64.a  # (n, m): γ a_k D_ik
    u, g = net64.value_and_grad(x)
    res = [sw * (problem.u_exact(points.x).double() - u)]
    if order == 1:
        gy = problem.grad_exact(points.x).double()
        res += [sw * (gy[:, j] - g[:, j]) for j in range(x.shape[1])]
    return sw, coef, xt, torch.cat(res)


def _dense_rows(sw, coef, xt, order: int) -> Tensor:
    n, m = coef.shape
    d1 = xt.shape[1]
    rows = [(sw[:, None, None] * coef[:, :, None] * xt[:, None, :]).reshape(n, m * d1)]
    if order == 1:
        for j in range(d1 - 1):
            e = torch.zeros(d1, dtype=xt.dtype, device=xt.device)
            e[j] = 1
            rows.append((sw[:, None, None] * coef[:, :, None] * e).reshape(n, m * d1))
    return torch.cat(rows)


def _cgls(sw, coef, xt, order, r, mu, iters=200, tol=1e-10) -> Tensor:
    """min ‖Zδ − r‖² + μ‖δ‖² by CGLS with products by Z and Zᵀ in O(n·m·d)."""
    n, m = coef.shape
    d1 = xt.shape[1]

    def mv(v: Tensor) -> Tensor:  # Z v, v: (m, d1)
        out = [sw * (coef * (xt @ v.T)).sum(1)]
        if order == 1:
            out += [sw * (coef @ v[:, j]) for j in range(d1 - 1)]
        return torch.cat(out)

    def rmv(y: Tensor) -> Tensor:  # Zᵀ y → (m, d1)
        out = (coef * (sw * y[:n])[:, None]).T @ xt
        if order == 1:
            for j in range(d1 - 1):
                out[:, j] += coef.T @ (sw * y[n * (j + 1):n * (j + 2)])
        return out

    x = torch.zeros(m, d1, dtype=r.dtype, device=r.device)
    res = r.clone()
    s = rmv(res)
    p, gamma = s.clone(), (s * s).sum()
    for _ in range(iters):
        q = mv(p)
        alpha = gamma / ((q * q).sum() + mu * (p * p).sum())
        x += alpha * p
        res -= alpha * q
        s = rmv(res) - mu * x
        gamma_new = (s * s).sum()
        if gamma_new.sqrt() < tol * r.norm():
            break
        p, gamma = s + (gamma_new / gamma) * p, gamma_new
    return x


@torch.no_grad()
def hidden_increment(net: TwoLayerNet, problem: Problem | Target, points: Points, order: int = 0,
                     ridge: float = DEFAULT_RIDGE, method: str = "auto") -> Tensor:
    """The joint least-squares increment δ (m, d+1) of [W | b] for the frozen pattern:
    argmin ‖Zδ − r‖² + μ‖δ‖² with μ = ridge · ‖Z‖²_F / unknowns (the same μ for every method)."""
    sw, coef, xt, r = _blocks(net, points, order, problem)
    n_rows, unknowns = len(r), coef.shape[1] * xt.shape[1]
    if method == "auto":
        method = "cg" if min(n_rows, unknowns) > DENSE_LIMIT else ("primal" if n_rows >= unknowns else "dual")
    if method == "cg":
        # ‖Z‖²_F = Σ_i ω_i Σ_k coef_ik² (|x̃_i|² + [H¹] d), computed without forming Z
        per_row = (xt ** 2).sum(1) + (xt.shape[1] - 1 if order == 1 else 0)
        frob2 = (sw[:, None] ** 2 * coef ** 2 * per_row[:, None]).sum()
        return _cgls(sw, coef, xt, order, r, ridge * float(frob2) / unknowns)
    z = _dense_rows(sw, coef, xt, order)
    mu = ridge * (z ** 2).sum() / unknowns
    if method == "primal":
        gram = z.T @ z + mu * torch.eye(unknowns, dtype=z.dtype, device=z.device)
        delta = _spd_solve(gram, z.T @ r)
    elif method == "dual":
        gram = z @ z.T + mu * torch.eye(n_rows, dtype=z.dtype, device=z.device)
        delta = z.T @ _spd_solve(gram, r)
    else:
        raise ValueError(f"method must be 'auto', 'primal', 'dual' or 'cg', got {method!r}")
    return delta.reshape(coef.shape[1], xt.shape[1])


def _spd_solve(a: Tensor, b: Tensor) -> Tensor:
    chol, info = torch.linalg.cholesky_ex(a)
    if int(info) == 0:
        return torch.cholesky_solve(b[:, None], chol)[:, 0]
    return torch.linalg.lstsq(a, b[:, None]).solution[:, 0]


@torch.no_grad()
def data_aware_init(net: TwoLayerNet, points: Points, jitter: float = 1e-2, seed: int = 0) -> None:
    """Put each neuron's kink through a random training point, moved off it by ``jitter``
    (a kink exactly on a data point breaks the frozen-pattern model)."""
    gen = torch.Generator().manual_seed(seed)
    x = points.x.detach().cpu().double()
    w = net.hidden.weight.detach().cpu().double()
    idx = torch.randint(len(x), (net.width,), generator=gen)
    shift = jitter * torch.randn(net.width, generator=gen, dtype=torch.float64) * w.norm(dim=1)
    net.hidden.bias.copy_((-(w * x[idx]).sum(1) + shift).to(net.hidden.bias))


def alternating_fit(net: TwoLayerNet, problem: Problem | Target, points: Points, loss: L2Loss = L2Loss(),
                    iterations: int = 50, ridge: float = DEFAULT_RIDGE, tol: float = 1e-6, patience: int = 5,
                    steps: tuple[float, ...] = (1.0, 0.5, 0.25, 0.125),
                    callback: Callable[[int, float], None] | None = None, resume: dict | None = None,
                    stop: Callable[[], bool] | None = None, saved: dict | None = None) -> list[float]:
    """Alternate exact output and hidden solves; keep the best iterate. Returns the loss
    after each iteration (non-monotone); the net ends at the best of them (or its start).

    The hidden step moves by α·δ with the α of ``steps`` that gives the lowest loss
    (``steps=(1.0,)``: the plain full step). Stops after ``iterations``, or when the best
    loss improved by less than ``tol`` (relative) ``patience`` times in a row.
    """
    check_alternating(net, loss)
    order = loss.order

    def current() -> float:
        with torch.no_grad():
            return float(loss(net, problem, points).detach())

    if resume:  # continue a run stopped after an iteration (see ``stop``)
        best, best_state, stall, losses = resume["best"], resume["best_state"], resume["stall"], []
    else:
        best, best_state, stall, losses = current(), _snapshot(net), 0, []
    for it in range(iterations):
        fit_output_layer(net, problem, points, loss=loss, ridge=ridge)
        with torch.no_grad():
            delta = hidden_increment(net, problem, points, order, ridge).to(net.hidden.weight)
        value = _best_step(net, delta, current, steps)
        losses.append(value)
        if callback is not None:
            callback(it + 1, value)
        if not math.isfinite(value):
            break
        if value < best:
            stall = stall + 1 if best - value < tol * best else 0
            best, best_state = value, _snapshot(net)
        else:
            stall += 1
        if stall >= patience:
            break
        if stop is not None and stop() and it + 1 < iterations:  # resumable: see gauss_newton_fit
            if saved is not None:
                saved.update(best=best, best_state=best_state, stall=stall)
            return losses
    _restore(net, best_state)
    return losses


def _best_step(net: TwoLayerNet, delta: Tensor, current: Callable[[], float], steps) -> float:
    """Move [W | b] by α·δ for the α in ``steps`` with the lowest loss (accepted even if
    higher than before: the pattern changed); returns that loss."""
    w0, b0 = net.hidden.weight.detach().clone(), net.hidden.bias.detach().clone()
    trials = []
    for alpha in steps:
        with torch.no_grad():
            net.hidden.weight.copy_(w0 + alpha * delta[:, :-1])
            net.hidden.bias.copy_(b0 + alpha * delta[:, -1])
        value = current()
        trials.append((value if math.isfinite(value) else math.inf, alpha))
    value, alpha = min(trials)
    with torch.no_grad():
        net.hidden.weight.copy_(w0 + alpha * delta[:, :-1])
        net.hidden.bias.copy_(b0 + alpha * delta[:, -1])
    return value


def _snapshot(net) -> dict:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def _restore(net, state: dict) -> None:
    net.load_state_dict(state)
