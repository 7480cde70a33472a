"""Figures (the only matplotlib import; headless Agg backend).

- :func:`plot_history`: loss on a log scale, stage boundaries as vertical lines with
  each stage's s labelled, and the relative errors when recorded.
- :func:`plot_solution`: 2D: u, u*, |u − u*| with colorbars; 1D: u and u*; 3D: the
  same three panels on the mid-plane z = (lo + hi)/2.
PNG by default, PDF (or any matplotlib format) by the file extension.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.tri as mtri  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from ritzhrta.nets.derivatives import evaluate  # noqa: E402
from ritzhrta.geometry.domains import Box  # noqa: E402
from ritzhrta.geometry.meshing import mesh  # noqa: E402
from ritzhrta.problem import Problem, Target  # noqa: E402
from ritzhrta.outputs.results import History  # noqa: E402

__all__ = ["plot_history", "plot_solution", "plot_histories", "plot_bands", "plot_curve"]


def _stage_lines(ax, history: History) -> None:
    starts = [history.step[0]] + history.stage_starts()
    s_of = {history.stage[i]: history.s[i] for i in range(len(history))}
    stage_at = {history.step[i]: history.stage[i] for i in range(len(history))}
    for k, step in enumerate(starts):
        if k:
            ax.axvline(step, color="0.4", ls="--", lw=1)
        ax.text(step, 1.0, f" s={s_of[stage_at[step]]:.3g}", transform=ax.get_xaxis_transform(),
                va="top", ha="left", fontsize=8, color="0.25")


def plot_history(history: History, path: str | os.PathLike, title: str = "") -> Path:
    """Loss vs step (log scale) with stage boundaries and s labels; errors if recorded."""
    if len(history) == 0:
        raise ValueError("the history is empty: nothing to plot")
    panels = 2 if history.errors else 1
    fig, axes = plt.subplots(1, panels, figsize=(6.4 * panels, 4.2), squeeze=False)
    ax = axes[0, 0]
    loss = np.asarray(history.loss)
    if (loss > 0).all():
        ax.semilogy(history.step, loss, lw=0.8)
        ax.set_ylabel("loss")
    else:  # the Ritz energy can be negative: plot its distance to the best value seen
        ax.semilogy(history.step, loss - loss.min() + 1e-12 * max(1.0, abs(loss.min())), lw=0.8)
        ax.set_ylabel("loss − min(loss)")
    ax.set_xlabel("step")
    ax.set_title(title or "training loss")
    _stage_lines(ax, history)
    if panels == 2:
        ax = axes[0, 1]
        steps = [e["step"] for e in history.errors]
        for key in ("l2", "h1"):
            if key in history.errors[0]:
                ax.semilogy(steps, [e[key] for e in history.errors], "o-", ms=3, label=f"relative {key.upper()}")
        ax.set_xlabel("step")
        ax.set_title("relative error (evaluation set)")
        ax.legend()
        _stage_lines(ax, history)
    return _save(fig, path)


def plot_histories(histories: Sequence[tuple[str, History]], path: str | os.PathLike, title: str = "") -> Path:
    """Overlay several loss curves (label, history) with each one's stage boundaries dotted."""
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for label, h in histories:
        (line,) = ax.semilogy(h.step, h.loss, lw=0.8, label=label)
        for step in h.stage_starts():
            ax.axvline(step, color=line.get_color(), ls=":", lw=1)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title or "training loss")
    ax.legend()
    return _save(fig, path)


def plot_bands(histories: dict[str, list[History]], stage_starts: dict[str, list[int]],
               path: str | os.PathLike, title: str = "") -> Path:
    """Median loss over seeds with a min–max band per configuration; stage boundaries dotted."""
    fig, ax = plt.subplots(figsize=(8, 4.8))
    for label, runs in histories.items():
        n = min(len(h) for h in runs)
        if n == 0:
            continue
        losses = np.array([h.loss[:n] for h in runs])
        steps = np.asarray(runs[0].step[:n])
        (line,) = ax.semilogy(steps, np.median(losses, 0), lw=1, label=f"{label} (median of {len(runs)})")
        ax.fill_between(steps, losses.min(0), losses.max(0), color=line.get_color(), alpha=0.2, lw=0)
        for step in stage_starts.get(label, []):
            ax.axvline(step, color=line.get_color(), ls=":", lw=1)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title or "loss: median and min–max over seeds")
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_curve(x: Sequence[float], ys: dict[str, Sequence[float]], path: str | os.PathLike, xlabel: str,
               ylabel: str, title: str = "", logy: bool = True, vlines: Sequence[float] = ()) -> Path:
    """Simple line plot of one or more series (e.g. λ_min vs s)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    logy = logy and all(v > 0 for y in ys.values() for v in y)  # log only when every value is positive
    for label, y in ys.items():
        (ax.semilogy if logy else ax.plot)(x, y, "o-", ms=3, label=label)
    for v in vlines:
        ax.axvline(v, color="0.4", ls="--", lw=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if len(ys) > 1:
        ax.legend()
    return _save(fig, path)


def plot_solution(net: nn.Module, problem: Problem | Target, path: str | os.PathLike,
                  resolution: int = 150, reference=None) -> Path:
    """u, u* (or the FEM ``reference``) and their difference: 2D, 3D (one row per
    mid-plane x, y, z), or u and u* on one axis (1D)."""
    from ritzhrta.geometry.meshing import check_drawable

    dom = problem.domain
    check_drawable(dom)
    if dom.dim == 1:
        return _plot_1d(net, problem, path, resolution)
    if dom.dim == 2:
        m = mesh(dom, resolution)
        tri = mtri.Triangulation(m.points[:, 0], m.points[:, 1], m.cells)
        return _panels(net, problem, [(m.points, tri, "")], path, reference)
    if dom.dim == 3:
        rows = [_mid_plane(dom, axis, min(resolution, 80)) for axis in range(3)]
        return _panels(net, problem, rows, path, reference)
    raise ValueError(f"plot_solution handles 1D, 2D and 3D domains, not {dom!r}")


def _mid_plane(dom, axis: int, resolution: int):
    """Points of the plane x_axis = mid-value inside ``dom`` and their triangulation."""
    from scipy.spatial import Delaunay

    keep = [i for i in range(3) if i != axis]
    mid = 0.5 * (dom.lo[axis] + dom.hi[axis])
    plane = mesh(Box(dom.lo[keep], dom.hi[keep]), resolution)
    pts = np.zeros((len(plane.points), 3))
    pts[:, keep], pts[:, axis] = plane.points, mid
    inside = dom.contains(pts, 1e-9)
    if inside.all():  # the plane lies in the domain (a box): its grid cells
        cells = plane.cells
    else:
        pts = pts[inside]
        cells = Delaunay(pts[:, keep]).simplices
        centroids = pts[cells].mean(1)
        cells = cells[dom.contains(centroids, 0.0)]
    tri = mtri.Triangulation(pts[:, keep[0]], pts[:, keep[1]], cells)
    return pts, tri, f" ({'xyz'[axis]} = {mid:g})"


def _panels(net, problem, rows, path, reference) -> Path:
    ncols = 1 + (problem.has_exact or reference is not None) * 2
    fig, axes = plt.subplots(len(rows), ncols, figsize=(4.6 * ncols, 4.0 * len(rows)), squeeze=False)
    for r, (pts, tri, suffix) in enumerate(rows):
        labels = _plane_labels(suffix)
        u, _ = evaluate(net, pts)
        if reference is not None:
            other, label = reference.values(pts), "u_ref (FEM)"
        else:
            other, label = _exact(problem, pts), "u* (exact)"
        fields = [("u (network)", u)]
        if other is not None:
            fields += [(label, other), (f"|u − {label.split()[0]}|", np.abs(u - other))]
        for ax, (name, values) in zip(axes[r], fields):
            image = ax.tripcolor(tri, values, shading="gouraud", cmap="viridis" if "|" not in name else "magma")
            fig.colorbar(image, ax=ax, shrink=0.85)
            ax.set_title(name + suffix)
            ax.set_aspect("equal")
            ax.set_xlabel(labels[0])
            ax.set_ylabel(labels[1])
    fig.suptitle(problem.name or "solution")
    return _save(fig, path)


def _plane_labels(suffix: str) -> tuple[str, str]:
    """Axis names of a panel: (x, y) in 2D, the two other coordinates on a 3D mid-plane."""
    fixed = suffix.strip(" (")[:1]
    axes = [c for c in "xyz" if c != fixed] if fixed in ("x", "y", "z") else ["x", "y"]
    return axes[0], axes[1]


def _exact(problem, x: np.ndarray) -> np.ndarray | None:
    if not problem.has_exact:
        return None
    return problem.u_exact(torch.as_tensor(x, dtype=torch.float64)).detach().numpy()


def _plot_1d(net, problem, path, resolution) -> Path:
    m = mesh(problem.domain, max(resolution, 400))
    x = m.points[:, 0]
    u, _ = evaluate(net, m.points)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    exact = _exact(problem, m.points)
    if exact is not None:
        ax.plot(x, exact, "k--", lw=1.5, label="u* (target)")
    ax.plot(x, u, lw=1.2, label="u (network)")
    ax.set_xlabel("x")
    ax.legend()
    ax.set_title(problem.name or "solution")
    return _save(fig, path)


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
