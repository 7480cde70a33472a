"""The a-posteriori error estimate of a least-squares solve (METHOD §8).

A random-feature solve u_a is one draw of a random approximation. A second, independent
draw u_b (same family, width, points and loss; fresh hidden layer) is solved too, and

    η = ‖u_a − u_b‖_{H¹} / (√2 · ‖u_a‖_{H¹})

estimates the relative H¹ error of u_a: when the two errors are of one size and
independent, ‖u_a − u_b‖ ≈ √2·‖u_a − u*‖. No exact solution is used (the norms are taken
on the problem's evaluation points). Measured effectivity η / (true error) on every
registered problem with an exact solution: ``benchmarks/results/estimate.md``. Where both
draws share a systematic error it underestimates: a corner singularity that no smooth
feature resolves (poisson2d-lshape: effectivity 0.1–0.2), which is why a polygon with a
re-entrant corner gets a warning of its own (:func:`reentrant_corners`).
"""
from __future__ import annotations

import math
import warnings

import torch
from torch import nn

from .derivatives import value_and_grad
from .norms import evaluation_points

__all__ = ["two_draw_estimate", "sibling", "reentrant_corners", "UnresolvedWarning", "DEFAULT_TOL", "check_tol"]

DEFAULT_TOL = 1e-2


class UnresolvedWarning(UserWarning):
    """The estimated error of a solve is above its tolerance."""


def check_tol(tol) -> float:
    """``tol`` as a float, or a one-line ``ValueError`` unless it is a finite number > 0."""
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not (math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a finite number > 0, got {tol!r}")
    return float(tol)


def sibling(net: nn.Module, seed: int) -> nn.Module | None:
    """An independent draw of ``net``'s hidden layer (same kind and size), or None when the
    network is not a random-feature model this module knows how to redraw. The global RNG
    is left as it was (resume stays exact)."""
    redraw = getattr(net, "redraw", None)
    if redraw is None:
        return None
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return redraw()


def two_draw_estimate(net: nn.Module, other: nn.Module, problem) -> float:
    """η = ‖u_a − u_b‖_{H¹} / (√2 ‖u_a‖_{H¹}) on the problem's evaluation points."""
    p = next(net.parameters())
    pts = evaluation_points(problem, dtype=p.dtype, device=p.device)
    with torch.no_grad():
        ua, ga = (t.detach() for t in value_and_grad(net, pts.x))
        ub, gb = (t.detach() for t in value_and_grad(other, pts.x))
        diff = (pts.w * ((ua - ub) ** 2 + ((ga - gb) ** 2).sum(1))).sum()
        norm = (pts.w * (ua ** 2 + (ga ** 2).sum(1))).sum()
    if not float(norm) > 0:
        return math.inf if float(diff) > 0 else 0.0
    return math.sqrt(float(diff) / float(norm)) / math.sqrt(2)


def reentrant_corners(domain) -> list[tuple[float, ...]]:
    """The vertices of a polygonal domain with an interior angle above π (where the solution
    is singular in general); empty for other domains."""
    corners = getattr(domain, "reentrant_corners", None)
    return list(corners()) if callable(corners) else []


def warn_unresolved(estimate: float, tol: float, domain) -> list[str]:
    """The one-line warnings for a solve whose estimate exceeds ``tol`` or whose domain has a
    re-entrant corner; each is also issued as an :class:`UnresolvedWarning`."""
    lines = []
    if estimate > tol:
        lines.append(f"estimated relative H¹ error {estimate:.2g} > tol {tol:g}: not resolved; try a wider net "
                     "(--width), more quadrature points (--quadrature), or local features")
    corners = reentrant_corners(domain)
    if corners and estimate <= tol:
        where = ", ".join("(" + ", ".join(f"{c:g}" for c in xy) + ")" for xy in corners)
        lines.append(f"re-entrant corner at {where}: the solution is singular there and the estimate "
                     f"({estimate:.2g}) does not see it (measured 5-10x low on poisson2d-lshape)")
    for line in lines:
        warnings.warn(line, UnresolvedWarning, stacklevel=3)
    return lines
