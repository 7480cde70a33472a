"""The a-posteriori error estimate of every solve (METHOD §8).

A random-feature solve u_a is one draw of a random approximation. A second, independent
draw u_b (same family, width and loss; fresh hidden layer; another quadrature rule, so that
what the first rule does not see shows up too) is solved too, and

    η = ‖u_a − u_b‖_{H¹} / (√2 · ‖u_a‖_{H¹})

estimates the relative H¹ error of u_a: when the two errors are of one size and
independent, ‖u_a − u_b‖ ≈ √2·‖u_a − u*‖. No exact solution is used (the norms are taken
on the problem's evaluation points). Measured effectivity η / (true error) on every
registered problem with an exact solution: ``benchmarks/results/estimate.md``. Where both
draws share a systematic error it underestimates: a corner singularity that no smooth
feature resolves (lshape-mixed without corner functions: effectivity 0.06–0.17, features.md). The
residual route therefore adds the singular functions of every re-entrant corner to its basis
(:mod:`ritzhrta.nets.enrichment`); a two-draw route without them warns at such a corner.

Routes that cannot be redrawn (Adam, σ_s^k networks, the Ritz route) are measured against an
independent residual-route reference u_ref (analytic features, its own two-draw estimate
η_ref): η = ‖u − u_ref‖_{H¹}/‖u_ref‖_{H¹} + η_ref (see :func:`estimate_run`).
"""
from __future__ import annotations

import dataclasses
import math
import time
import warnings

import torch
from torch import nn

from ritzhrta.nets.derivatives import value_and_grad
from ritzhrta.forms.norms import evaluation_points

__all__ = ["two_draw_estimate", "relative_distance", "sibling", "reentrant_corners", "UnresolvedWarning",
           "DEFAULT_TOL", "check_tol", "estimate_run", "reference_solve"]

DEFAULT_TOL = 1e-2


class UnresolvedWarning(UserWarning):
    """The estimated error of a solve is above its tolerance."""


def check_tol(tol) -> float:
    """``tol`` as a float, or a one-line ``ValueError`` unless it is a number > 0 (inf: never warn)."""
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not tol > 0:
        raise ValueError(f"tol must be a number > 0, got {tol!r}")
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


def _values(net: nn.Module, pts) -> tuple:
    p = next(net.parameters())
    x = pts.x.to(p.device, p.dtype)
    u, g = value_and_grad(net, x)
    return u.detach().double().cpu(), g.detach().double().cpu()


def relative_distance(net: nn.Module, other: nn.Module, problem) -> float:
    """‖u − v‖_{H¹} / ‖v‖_{H¹} for u = ``net``, v = ``other``, on the problem's evaluation
    points (each network evaluated in its own dtype and device, compared in float64)."""
    pts = evaluation_points(problem, dtype=torch.float64)
    w = pts.w.double().cpu()
    with torch.no_grad():
        ua, ga = _values(net, pts)
        ub, gb = _values(other, pts)
        diff = float((w * ((ua - ub) ** 2 + ((ga - gb) ** 2).sum(1))).sum())
        norm = float((w * (ub ** 2 + (gb ** 2).sum(1))).sum())
    if not norm > 0:
        return math.inf if diff > 0 else 0.0
    return math.sqrt(diff / norm)


def two_draw_estimate(net: nn.Module, other: nn.Module, problem) -> float:
    """η = ‖u_a − u_b‖_{H¹} / (√2 ‖u_b‖_{H¹}) on the problem's evaluation points."""
    return relative_distance(net, other, problem) / math.sqrt(2)


def reference_solve(problem, seed: int = 7919):
    """An independent residual-route solve of ``problem`` (the route's analytic features, width and
    scale for its dimension, float64) with its own two-draw estimate: (net, estimate dict)."""
    from ritzhrta.nets.features import RandomFeatureNet
    from ritzhrta.forms.residual import ResidualLoss
    from ritzhrta.training.routes import residual_scale, residual_width
    from ritzhrta.schedule import Stage
    from ritzhrta.training.solver import solve

    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
        warnings.simplefilter("ignore", UnresolvedWarning)
        torch.manual_seed(seed)
        scale = residual_scale(problem.dim)
        net = RandomFeatureNet(problem.domain, residual_width(problem.dim),
                               **({} if scale is None else {"scale": scale})).double()
        result = solve(problem, net, (Stage(1, 1.0, trainer="galerkin"),), loss=ResidualLoss(), progress=False,
                       seed=seed, tol=math.inf)
    return net, result.estimate


def second_rule(run) -> tuple:
    """The points of the second draw: another Gauss rule than the run's (the domain's default
    rule, or two cells more per axis when the run used that one), or another scramble of the
    run's Sobol / random points, so that the two solutions also differ by what the points do
    not see (a peak between them, the quadrature error in high dimension); grid points are
    reused as they are."""
    rule, domain, sampler = run.sampler.rule, run.problem.domain, run.sampler
    like = {"dtype": sampler.interior.x.dtype, "device": sampler.interior.x.device}
    if rule is None and sampler.method in ("sobol", "random"):  # another scramble / draw (issue 26)
        seed = (sampler.seed or 0) + 7919
        boundary = None if sampler.boundary is None else \
            domain.boundary(len(sampler.boundary), sampler.method, seed=seed + 1, **like)
        return domain.interior(len(sampler.interior), sampler.method, seed=seed, **like), boundary
    if rule is None:
        return sampler.interior, sampler.boundary
    order, cells = domain.default_rule()
    if tuple(rule) == (order, cells):
        cells += 2
    boundary = domain.boundary_quadrature(order, cells, **like) if run.sampler.boundary is not None else None
    return domain.quadrature(order, cells, **like), boundary


def estimate_run(run, tol: float) -> dict:
    """The estimate of a finished solve (``run``: :class:`ritzhrta.training.loop.Run`):

    - a one-shot "galerkin" stage on a network that can be redrawn: the two-draw estimate;
    - a function to approximate (a Target): its relative H¹ error on the evaluation points (the
      target is the data, so this is measured, not estimated);
    - any other PDE run: η = ‖u − u_ref‖_{H¹}/‖u_ref‖_{H¹} + η_ref, with u_ref an independent
      residual-route solve and η_ref its two-draw estimate (the triangle inequality).

    The dict's "_net" holds (the other network, factor) for the local indicator
    factor·|u − u_other| (the solver moves it to ``Result.estimate_net``).
    """
    from ritzhrta.training.loop import calibrated_loss, stage_ridge
    from ritzhrta.training.lstsq import fit_output_layer
    from ritzhrta.forms.norms import relative_errors
    from ritzhrta.problem import Problem
    from ritzhrta.forms.residual import ResidualLoss

    cpu0, last, problem = time.process_time(), run.stages[-1], run.problem
    report = getattr(run.net, "report", None)
    if report is not None:  # the high-dimensional route estimated its own choice (training/highdim.py)
        est = report["estimate"]
        eta = est["h1"]
        lines = warn_unresolved(eta, tol, [], advice="no family of the high-dimensional route resolved it (their "
                                "estimates: the summary's estimate.candidates); force one with --features")
        return {"h1": eta, "method": f"residual on fresh points, {est['second_method']} as second opinion "
                                     f"({report['family']})", "residual": est["residual"],
                "second_opinion": est["second_opinion"], "family": report["family"],
                "candidates": report["candidates"], "tol": tol, "resolved": eta <= tol, "warnings": lines,
                "cpu_seconds": time.process_time() - cpu0}
    other = sibling(run.net, seed=torch.initial_seed() % (2 ** 31) + 7919) if last.trainer == "galerkin" else None
    if other is not None:
        interior, boundary = second_rule(run)
        other.set_s(last.s_at(0))
        loss = calibrated_loss(run.loss, dataclasses.replace(run, net=other), interior, boundary)
        fit_output_layer(other, problem, interior, loss, boundary=boundary, ridge=stage_ridge(last, other, loss))
        eta, out = two_draw_estimate(run.net, other, problem), {"method": "two-draw", "_net": (other, 2 ** -0.5)}
    elif not isinstance(problem, Problem):
        eta, out = relative_errors(run.net, problem)["h1"], {"method": "held-out (the target is the data)"}
    else:
        try:
            ResidualLoss().check(problem)
        except ValueError:  # an interface: the strong form is not defined across the jump
            line = ("no error estimate for this run: the coefficient jumps across an interface, where the "
                    "residual-route reference that judges this route is not defined; check the solution "
                    "against a FEM reference (--reference fem)")
            if math.isfinite(tol):
                warnings.warn(line, UnresolvedWarning, stacklevel=user_stacklevel())
            return {"h1": None, "reason": line, "warnings": [line] if math.isfinite(tol) else []}
        from ritzhrta.training.memory import available_bytes, estimate_bytes
        from ritzhrta.forms.residual import residual_rule

        from ritzhrta.training.routes import residual_width

        width = residual_width(problem.dim)
        if problem.dim > 3:
            points = 4 * width
        else:
            order, cells = residual_rule(problem.domain, width)
            points = len(problem.domain.quadrature(order, 1)) * (1 if problem.domain.meshed
                                                                 else cells ** problem.dim)
        have = available_bytes()
        if have is not None and 2 * estimate_bytes("galerkin", width, points, problem.dim) > 0.5 * have:
            return {"h1": None, "reason": f"no estimate: the reference solve ({width} features × {points} points) "
                                          "would not fit in memory"}
        ref, ref_est = reference_solve(problem)
        dist = relative_distance(run.net, ref, problem)
        eta = dist + ref_est["h1"]
        out = {"method": "distance to a residual-route reference", "distance": dist, "reference_h1": ref_est["h1"],
               "_net": (ref, 1.0)}
    # corners the estimate cannot see: those of a two-draw route whose basis lacks their singular
    # functions (the residual reference carries them, so a distance to it sees the corner error)
    unseen = reentrant_corners(problem.domain) if other is not None and not getattr(run.net, "_corners", None) else []
    lines = warn_unresolved(eta, tol, unseen)
    return {"h1": eta, **out, "tol": tol, "resolved": eta <= tol and not unseen,
            "warnings": lines, "cpu_seconds": time.process_time() - cpu0}


def reentrant_corners(domain) -> list[tuple[float, ...]]:
    """The vertices of a polygonal domain with an interior angle above π (where the solution
    is singular in general); empty for other domains."""
    corners = getattr(domain, "reentrant_corners", None)
    return list(corners()) if callable(corners) else []


def warn_unresolved(estimate: float, tol: float, corners, advice: str | None = None) -> list[str]:
    """The one-line warnings for a solve whose estimate exceeds ``tol`` or that has re-entrant
    ``corners`` it cannot see; each is also issued as an :class:`UnresolvedWarning`."""
    lines = []
    if not math.isfinite(tol):  # tol = inf: an inner solve that reports nothing
        return lines
    if estimate > tol:
        advice = advice or ("a wider net (--width) helps a smooth solution; a local feature (a peak, a front, a "
                            "layer) needs the adaptive route: ritzhrta solve NAME --adaptive, or "
                            "ritzhrta.training.adaptive.adaptive_solve(problem, tol)")
        lines.append(f"estimated relative H¹ error {estimate:.2g} > tol {tol:g}: not resolved; {advice}")
    if corners:
        where = ", ".join("(" + ", ".join(f"{c:g}" for c in xy) + ")" for xy in corners)
        lines.append(f"re-entrant corner at {where}: the solution is singular there and the estimate "
                     f"({estimate:.2g}) does not see it (measured 6-17x low on lshape-mixed without "
                     "corner functions)")
    for line in lines:
        warnings.warn(line, UnresolvedWarning, stacklevel=user_stacklevel())
    return lines


def user_stacklevel() -> int:
    """The ``stacklevel`` of :func:`warnings.warn` that points at the first caller outside the ritzhrta
    package (the user's ``solve(...)`` line, not a line of ours)."""
    import inspect
    import os

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    level, frame = 1, inspect.currentframe().f_back  # the frame that calls warnings.warn is level 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package + os.sep):
        level, frame = level + 1, frame.f_back
    return level
