"""Relative error norms by quadrature on an evaluation set (METHOD §4).

    rel L²  = ‖u − u*‖ / ‖u*‖
    rel H¹  = ‖u − u*‖_{H¹} / ‖u*‖_{H¹},  ‖v‖²_{H¹} = ‖v‖² + ‖∇v‖²
    rel |·|_{H¹} = ‖∇u − ∇u*‖ / ‖∇u*‖
    rel energy = ‖u − u*‖_E / ‖u*‖_E,  ‖v‖²_E = ∫ a|∇v|² + V v²   (PDE problems only; with
                 V ≡ 0 and a ≡ 1 it equals the H¹ seminorm error)
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ritzhrta.nets.derivatives import value_and_grad
from ritzhrta.geometry.domains import Points
from ritzhrta.problem import Problem, Target

__all__ = ["relative_errors", "evaluation_points", "energy_error", "EVAL_POINTS"]

EVAL_POINTS = 16384
_EVAL_SEED = 20231


def evaluation_points(problem: Problem | Target, n: int = EVAL_POINTS, dtype=None, device=None) -> Points:
    """A fine scrambled-Sobol point set with its own seed: not the training set."""
    return problem.domain.interior(n, "sobol", seed=_EVAL_SEED, dtype=dtype, device=device)


def relative_errors(net: nn.Module, problem: Problem | Target, points: Points | None = None) -> dict[str, float]:
    """{"l2", "h1", "h1_semi"} (and "energy" for a PDE with a variable diffusion a):
    relative errors of ``net`` against u* on ``points``."""
    problem.require_exact("relative_errors")
    p = next(net.parameters())
    if points is None:
        points = evaluation_points(problem, dtype=p.dtype, device=p.device)
    x, w = points.x.to(p.device, p.dtype), points.w.to(p.device, p.dtype)
    u, g = value_and_grad(net, x)
    u, g = u.detach(), g.detach()
    ue, ge = problem.u_exact(x).detach(), problem.grad_exact(x).detach()
    with torch.no_grad():
        l2_err = (w * (u - ue) ** 2).sum().item()
        l2_ref = (w * ue ** 2).sum().item()
        semi_err = (w * ((g - ge) ** 2).sum(1)).sum().item()
        semi_ref = (w * (ge ** 2).sum(1)).sum().item()
    ratio = lambda a, b: math.sqrt(a / b) if b > 0 else math.inf  # noqa: E731
    out = {"l2": ratio(l2_err, l2_ref), "h1": ratio(l2_err + semi_err, l2_ref + semi_ref),
           "h1_semi": ratio(semi_err, semi_ref)}
    if isinstance(problem, Problem) and not problem.constant_diffusion:
        out["energy"] = energy_error(problem, x, w, u - ue, g - ge, ue, ge)
    return out


def energy_error(problem: Problem, x, w, du, dg, u_ref, g_ref) -> float:
    """‖e‖_E / ‖u_ref‖_E with ‖v‖²_E = Σ ω (a|∇v|² + V v²): the relative energy-norm error."""
    with torch.no_grad():
        a, v = problem.a(x).to(w.dtype), problem.V(x).to(w.dtype)
        err = (w * (a * (dg ** 2).sum(1) + v * du ** 2)).sum().item()
        ref = (w * (a * (g_ref ** 2).sum(1) + v * u_ref ** 2)).sum().item()
    return math.sqrt(err / ref) if ref > 0 else math.inf
