"""Adaptive local features (METHOD §8b; issue 24): solve, estimate, mark, refine, repeat.

    level 0: the domain's bounding box cut into ``initial``^d patches (those that meet Ω)
    each level:  u = least-squares solve of the strong-form residual (ResidualLoss) on a
                 :class:`~ritzhrta.nets.local.LocalFeatureNet` over the patches;
                 η = the two-draw estimate (the same patches, fresh feature centres);
                 stop when η ≤ tol, or when refining would pass ``max_dofs``;
                 per patch the indicator  η_p² = h_p² ‖f − Lu‖²_{L²(patch)} + h_p⁻¹ ‖B u − g‖²_{L²(∂Ω ∩ patch)}
                 (the residual on the training points); mark η_p ≥ θ · max η_p; split each marked
                 patch into 2^d children (kept where they meet Ω).

Refinement is driven by the indicators alone: nothing knows where the solution varies. Every
patch carries 4·M interior collocation points (scrambled Sobol in the patch, kept inside Ω)
and the boundary points of a dense boundary sample that fall into it (at most 2·M per patch),
so the rule refines with the patches.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.stats import qmc

from ritzhrta.forms.residual import ResidualLoss
from ritzhrta.geometry.domains import Points
from ritzhrta.nets.local import DEFAULT_FACTOR, DEFAULT_PER_PATCH, LocalFeatureNet
from ritzhrta.training.estimate import relative_distance

__all__ = ["adaptive_solve", "check_adaptive", "AdaptiveResult", "DEFAULT_THETA", "DEFAULT_MAX_DOFS"]

DEFAULT_THETA = 0.3  # measured on peak (benchmarks/results/adaptive.md)
DEFAULT_MAX_DOFS = 4000  # the dense solve: rows × unknowns doubles ≈ 0.5 GB at 4000 unknowns
_BOUNDARY_SAMPLE = 2 ** 14
BOUNDARY_WEIGHT = 1e6  # μ of the boundary rows; measured on peak, level 0: 1e2 -> H1 15, 1e4 -> 3.0, 1e6 -> 1.3


@dataclass
class AdaptiveResult:
    """The last level's ``net``, its ``estimate`` (two-draw, relative H¹), ``errors`` (against
    the exact solution when the problem has one, else empty), the convergence ``history`` (one
    dict per level: level, patches, unknowns, estimate, indicator, cpu_seconds, errors), and
    whether the estimate reached ``tol`` (``resolved``)."""

    net: LocalFeatureNet
    estimate: float
    errors: dict
    history: list = field(default_factory=list)
    resolved: bool = False
    tol: float = 0.0
    cpu_seconds: float = 0.0

    def summary(self) -> dict:
        return {"estimate": self.estimate, "errors": self.errors, "resolved": self.resolved, "tol": self.tol,
                "cpu_seconds": self.cpu_seconds, "levels": self.history}


def check_adaptive(problem, tol, max_dofs, per_patch=DEFAULT_PER_PATCH, theta=DEFAULT_THETA, initial=4) -> None:
    """Raise ValueError (one line) unless :func:`adaptive_solve` can start with these settings."""
    from ritzhrta.problem import Problem

    if not isinstance(problem, Problem):
        raise ValueError("adaptive_solve solves a PDE Problem (a function to approximate has its data)")
    if problem.dim not in (2, 3):
        raise ValueError(f"adaptive local features are for 2D and 3D problems, not {problem.dim}D")
    if problem.interface is not None:
        raise ValueError("adaptive local features need a problem without an interface")
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not (math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a finite number > 0, got {tol!r}")
    if isinstance(max_dofs, bool) or not isinstance(max_dofs, int) or max_dofs < 1:
        raise ValueError(f"max_dofs must be a positive integer, got {max_dofs!r}")
    if not (0 < theta <= 1):
        raise ValueError(f"theta must be in (0, 1], got {theta!r}")
    first = per_patch * len(_initial_patches(problem.domain, initial))
    if max_dofs < first:
        raise ValueError(f"max_dofs {max_dofs} is too small to start: the first level has {first} unknowns")


def _meets(domain, lo: np.ndarray, h: float) -> bool:
    t = (np.arange(5) + 0.5) / 5
    grid = np.stack(np.meshgrid(*[lo[i] + h * t for i in range(len(lo))], indexing="ij"), -1).reshape(-1, len(lo))
    return bool(domain.contains(grid, 1e-12).any())


def _initial_patches(domain, initial: int) -> list:
    lo, hi = np.asarray(domain.lo, float), np.asarray(domain.hi, float)
    h = float((hi - lo).max()) / initial
    counts = [max(1, math.ceil((hi[i] - lo[i]) / h - 1e-9)) for i in range(domain.dim)]
    patches = []
    for idx in np.ndindex(*counts):
        corner = lo + h * np.asarray(idx, float)
        if _meets(domain, corner, h):
            patches.append((corner, h))
    return patches


def _points(problem, leaves, active, per_patch: int, seed: int, base_width: int):
    """Interior points (the base layer's residual rule, then 4·M per active leaf inside Ω), boundary
    points (≤ 2·M per leaf), and the leaf that holds each point."""
    domain, d = problem.domain, problem.dim
    xs, ws = [], []
    if base_width:
        from ritzhrta.forms.residual import residual_rule

        rule = domain.quadrature(*residual_rule(domain, base_width), dtype=torch.float64)
        xs.append(rule.x.numpy())
        ws.append(rule.w.numpy())
    n = 4 * per_patch
    for i in sorted(active):
        lo, h = leaves[i]
        x = lo + h * qmc.Sobol(d, scramble=True, seed=seed + i).random(n)
        keep = domain.contains(x, -1e-12)
        xs.append(x[keep])
        ws.append(np.full(int(keep.sum()), h ** d / n))
    x, w = np.concatenate(xs), np.concatenate(ws)
    owner = _owner(x, leaves)
    if base_width and active:  # the base rule's points inside active leaves: those leaves are
        base = np.arange(len(x)) < len(xs[0])  # integrated by their own points, so these weigh 0
        w[base & np.isin(owner, sorted(active))] = 0.0
    interior = Points(torch.tensor(x), torch.tensor(w))
    b = domain.boundary(_BOUNDARY_SAMPLE, "sobol", seed=seed, dtype=torch.float64)
    xb = b.x.numpy()
    bowner = _owner(xb, leaves)
    keep_idx = []
    for i in range(len(leaves)):
        idx = np.nonzero(bowner == i)[0]
        if len(idx) == 0:
            continue
        step = max(1, math.ceil(len(idx) / (2 * per_patch)))
        chosen = idx[::step]
        keep_idx.append((chosen, len(idx) / len(chosen)))
    sel = np.concatenate([c for c, _ in keep_idx])
    scale = np.concatenate([np.full(len(c), f) for c, f in keep_idx])
    boundary = Points(b.x[sel], b.w[sel] * torch.tensor(scale), b.normals[sel])
    return interior, owner, boundary, bowner[sel]


def _owner(x: np.ndarray, patches) -> np.ndarray:
    owner = np.full(len(x), -1)
    for i, (lo, h) in enumerate(patches):
        inside = np.all((x >= lo - 1e-12) & (x <= lo + h + 1e-12), axis=1) & (owner < 0)
        owner[inside] = i
    return owner


def _fit(problem, leaves, active, per_patch, factor, seed, base_width):
    """One level: the net fitted on the points, and the indicators η_p of every leaf."""
    from ritzhrta.training.lstsq import fit_output_layer, output_columns

    loss = ResidualLoss(boundary_weight=BOUNDARY_WEIGHT)
    net = LocalFeatureNet(problem.domain, [leaves[i] for i in sorted(active)], per_patch, factor,
                          base_width=base_width)
    interior, owner, boundary, bowner = _points(problem, leaves, active, per_patch, seed, base_width)
    fit_output_layer(net, problem, interior, loss, boundary=boundary, ridge=0.0)
    with torch.no_grad():
        cols = output_columns(net, loss, problem, interior, boundary)
        m, y = loss.rows(problem, interior, cols, boundary)
        res = (m @ net._coef().double() - y).numpy() ** 2
    n = len(interior)
    dmask = problem.dirichlet_mask(boundary.x).numpy()
    border = np.concatenate([bowner[dmask], bowner[~dmask]])
    h = np.array([p[1] for p in leaves])
    eta2 = h ** 2 * np.bincount(owner, res[:n], minlength=len(leaves))
    tail = res[n:n + len(border)] / loss.boundary_weight
    eta2 += np.bincount(border, tail, minlength=len(leaves)) / h
    return net, np.sqrt(eta2)


def _refine(domain, leaves, active, marked) -> tuple[list, set]:
    """A marked leaf without features gets them; a marked leaf with features splits into 2^d
    children that carry features."""
    out, on = [], set()
    for i, (lo, h) in enumerate(leaves):
        if i not in marked:
            if i in active:
                on.add(len(out))
            out.append((lo, h))
        elif i not in active:
            on.add(len(out))
            out.append((lo, h))
        else:
            for corner in np.ndindex(*(2,) * len(lo)):
                child = lo + 0.5 * h * np.asarray(corner, float)
                if _meets(domain, child, 0.5 * h):
                    on.add(len(out))
                    out.append((child, 0.5 * h))
    return out, on


def adaptive_solve(problem, tol: float = 1e-4, max_dofs: int = DEFAULT_MAX_DOFS, per_patch: int = DEFAULT_PER_PATCH,
                   factor: float = DEFAULT_FACTOR, theta: float = DEFAULT_THETA, initial: int = 4, seed: int = 0,
                   callback=None, base_width: int | None = None) -> AdaptiveResult:
    """Refine local features until the two-draw estimate is ≤ ``tol`` (module doc). ``callback(entry,
    net)`` is called after each level with its history entry and network (its CPU time is not
    counted in the run's ``cpu_seconds``). ``base_width`` > 0 puts a global layer of that many analytic
    features under the local ones: the leaves start without features, and a marked leaf first gets
    features, then splits (not the default: measured slower on peak)."""
    from ritzhrta.forms.norms import relative_errors

    check_adaptive(problem, tol, max_dofs, per_patch, theta, initial)
    cpu = time.process_time()
    leaves = _initial_patches(problem.domain, initial)
    if not leaves:
        raise ValueError(f"no patch meets the domain {problem.domain!r}")
    if base_width is None:  # measured on peak: with a global layer of 400 under the local features
        base_width = 0  # 6.7e-5 took 68 CPU-s, without it 5.4e-5 took 35 (benchmarks/results/adaptive.md)
    active = set() if base_width else set(range(len(leaves)))
    history, level = [], 0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        while True:
            net, eta = _fit(problem, leaves, active, per_patch, factor, seed + 7 * level, base_width)
            other, _ = _fit(problem, leaves, active, per_patch, factor, seed + 7 * level + 3, base_width)
            estimate = relative_distance(net, other, problem) / math.sqrt(2)
            entry = {"level": level, "patches": len(active), "unknowns": net.unknowns,
                     "estimate": estimate, "indicator": float(np.sqrt((eta ** 2).sum())),
                     "cpu_seconds": time.process_time() - cpu}
            history.append(entry)
            if callback is not None:
                before = time.process_time()
                callback(entry, net)
                cpu += time.process_time() - before
            marked = set(np.nonzero(eta >= theta * eta.max())[0].tolist())
            grow = sum(per_patch * (2 ** problem.dim if i in active else 1) for i in marked)
            if estimate <= tol or entry["unknowns"] + grow > max_dofs:
                break
            leaves, active = _refine(problem.domain, leaves, active, marked)
            level += 1
    seconds = time.process_time() - cpu
    errors = relative_errors(net, problem) if problem.has_exact else {}
    return AdaptiveResult(net, estimate, errors, history, estimate <= tol, tol, seconds)
