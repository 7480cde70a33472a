"""The measured default routes: which trainer, loss, network and schedule a run gets for the
settings a user leaves out. One place, used by ``ritzhrta solve NAME`` and by
``solve(problem)`` alike (issue 22); the numbers behind each choice are in the comments.
"""
from __future__ import annotations

__all__ = ["GALERKIN_ROUTE", "GRADIENT_PDE_ROUTE", "HIGHDIM_ROUTE", "RESIDUAL_ROUTE", "RESIDUAL_WIDTH", "MESH_ROUTE", "choose",
           "default_config", "residual_width", "residual_scale"]

# The Ritz route (issue 11, benchmarks/results/vs_peers.md; `--loss ritz`): one Galerkin solve of the
# Ritz energy in float64 on σ_1^5 features, Dirichlet data built into the net.
GALERKIN_ROUTE = {"loss": "ritz", "width": 500, "k": 5, "dtype": "float64", "schedule": "1:1"}
# PDE problems on boxes, disks and polygons (2D, 3D) with a smooth coefficient (issue 23): the strong-
# form residual solved by least squares on analytic Gaussian features (benchmarks/results/features.md:
# width 400: poisson2d-dirichlet 4.6e-12, screened-poisson2d 3.1e-13, 15-57x below tanh features at widths 200-800;
# estimate.md: poisson3d-dirichlet at width 800 against the Ritz route's 8e-4 - 2.7e-3 at width 500).
RESIDUAL_ROUTE = {"loss": "residual", "width": 400, "k": 3, "dtype": "float64", "schedule": "1:1",
                  "features": "gauss"}
RESIDUAL_WIDTH = {2: 400, 3: 800}
# Above 3D (issue 26, boxes, scrambled Sobol points, 4 per unknown; benchmarks/results/highdim.md):
# poisson-nd, d = 4: width 800, scale 0.25 -> rel L² 4e-9; d = 5: 1.2e-6 (1.2 CPU-s); d = 10: width 1600,
# scale 0.0625 -> 1.0e-4 (8 CPU-s); d = 20 stalls near 4e-3 for widths 800-1600 and scales 0.06-0.13.


def residual_width(dim: int) -> int:
    """The residual route's width in ``dim`` dimensions (measured, see the comments above)."""
    return RESIDUAL_WIDTH.get(dim, 800 if dim <= 5 else 1600)


def residual_scale(dim: int) -> float | None:
    """The analytic features' scale in ``dim`` dimensions (None: the family's default, 2)."""
    return None if dim <= 3 else (0.25 if dim <= 5 else 0.0625)
# On a MeshDomain (issue 14): every kink through a point of the domain; width 1000 in 2D.
MESH_ROUTE = {"width": 1000, "init": "kinks"}
# The other trainers bring their own defaults when named without a size: `Trainer.defaults` in their
# files (ritzhrta.trainers; benchmarks/results/trainer_routes.md).
# The gradient trainer (the paper's HRTA): RunConfig's defaults (Adam, H¹ loss, σ_s^3, float32,
# homotopy 0.5 -> 1 over 6000 steps) at width 500 on PDE problems (`--trainer adam` named alone,
# benchmarks/results/trainer_routes.csv: rel H¹ 4.0e-3 / 3.6e-3 on poisson2d-neumann / -dirichlet in
# ~31 CPU-s of training, where the paper's width 1000 gives 3.2e-3 / 3.9e-3 in 90-99 CPU-s); a function
# to approximate keeps width 1000 (the paper's Table 1).
GRADIENT_PDE_ROUTE = {"width": 500}
# Above 3D on a box (issue 36, benchmarks/results/highdim.md): the high-dimensional route chooses ANOVA-1,
# ANOVA-2 or separated features by a residual estimate (ritzhrta.training.highdim); its sizes are its own.
HIGHDIM_ROUTE = {"trainer": "highdim", "loss": "residual", "default_schedule": "1:1"}


def choose(problem, trainer: str | None = None, loss: str | None = None, width: int | None = None,
           k: int | None = None, dtype: str | None = None, dirichlet: str | None = None, init: str | None = None,
           features: str | None = None, feature_scale: float | None = None) -> dict:
    """The settings of a run on ``problem`` for the ones given (None: left to the route).

    No trainer: galerkin for a PDE problem, gradient (Adam) for a function to approximate.
    Returns trainer, loss, width, k, dtype, dirichlet, init, features and the route's
    ``default_schedule`` (None: the gradient presets)."""
    from ritzhrta.nets.exact_bc import supports_exact
    from ritzhrta.problem import Problem
    from ritzhrta.outputs.runs import RunConfig

    d = RunConfig(problem="")
    pde = isinstance(problem, Problem)
    if pde and _highdim_route(problem, trainer, loss, features, {"k": k, "dirichlet": dirichlet, "init": init}):
        features = features or "auto"
        if width is not None and features != "ridge":
            raise ValueError(f"the high-dimensional route chooses its own sizes: --width is for --features ridge, "
                             f"not {features!r}")
        width = width if width is not None else (residual_width(problem.dim) if features == "ridge" else d.width)
        return {**HIGHDIM_ROUTE, "features": features, "width": width,
                "k": k if k is not None else d.k, "dirichlet": d.dirichlet, "init": d.init,
                "dtype": dtype or "float64", "feature_scale": feature_scale}
    trainer = trainer or ("galerkin" if pde else "gradient")
    base = {"loss": d.loss, "width": d.width, "k": d.k, "dtype": d.dtype}
    if trainer != "gradient":
        from ritzhrta import trainers

        base.update(trainers.get(trainer).defaults)
    if trainer == "galerkin":
        base = dict(GALERKIN_ROUTE) if pde else dict(GALERKIN_ROUTE, loss="l2")
    if trainer == "gradient" and pde:
        base.update(GRADIENT_PDE_ROUTE)
    default_dirichlet = d.dirichlet
    if trainer == "galerkin" and pde:
        # exact on boxes, disks and 2D meshes (measured); polygons get Nitsche: the polygon φ's corner
        # kink limits the rate (tests/test_exact_bc.py, boundary-only lift)
        default_dirichlet = "exact" if supports_exact(problem) and problem.domain.exact_by_default \
            else "nitsche"
    given = {"loss": loss, "k": k, "dirichlet": dirichlet, "init": init, "features": features}
    if trainer == "galerkin" and _residual_route(problem, given):
        base = dict(RESIDUAL_ROUTE, width=residual_width(problem.dim), feature_scale=residual_scale(problem.dim))
    mesh = trainer == "galerkin" and problem.domain.meshed
    if mesh and problem.dim == 2:
        # 2D mesh domains (issue 14, plate-hole against the FEM reference, 3 seeds,
        # benchmarks/results/mesh_problems.md): width 1000 with the kinks inside the domain
        # 7.4e-3–9.7e-3, width 500 9.9e-3–1.15e-2; 3D meshes keep width 500 (89 000 points)
        base = dict(base, width=MESH_ROUTE["width"])
    chosen = {"trainer": trainer, "dirichlet": dirichlet or default_dirichlet,
              "init": init or (MESH_ROUTE["init"] if mesh else d.init)}
    for key, value in (("loss", loss), ("width", width), ("k", k), ("dtype", dtype)):
        chosen[key] = value if value is not None else base[key]
    if chosen["loss"] != "ritz" and dirichlet is None:
        chosen["dirichlet"] = d.dirichlet
    chosen["default_schedule"] = base.get("schedule")
    chosen["features"] = features or base.get("features", "sigma")
    chosen["feature_scale"] = feature_scale if feature_scale is not None else \
        (base.get("feature_scale") if chosen["features"] != "sigma" else None)
    if chosen["features"] != "sigma" and dirichlet is None and chosen["dirichlet"] == "exact":
        chosen["dirichlet"] = "nitsche"  # the exact lift wraps σ networks only
    return chosen


def _highdim_route(problem, trainer, loss, features, given: dict) -> bool:
    """The high-dimensional route: asked for (the highdim trainer or one of its families), or a PDE
    problem on a box above 3D with nothing that asks for another route."""
    from ritzhrta.outputs.config import HIGHDIM_FEATURES

    if features in HIGHDIM_FEATURES and trainer not in (None, "highdim"):
        raise ValueError(f"features {features!r} belong to the high-dimensional route (the highdim trainer): leave "
                         f"--trainer out, not {trainer!r}")
    if trainer == "highdim" or features in HIGHDIM_FEATURES:
        return True
    return (trainer in (None, "galerkin") and features is None and loss in (None, "residual") and problem.dim > 3
            and type(problem.domain).__name__ == "Box" and problem.interface is None
            and all(v is None for v in given.values()))


def _residual_route(problem, given: dict) -> bool:
    """The residual route: a PDE problem (2D and up) on a box, disk or polygon without an
    interface, and no setting that asks for the Ritz route (a loss, k, Dirichlet mode, init)."""
    from ritzhrta.problem import Problem

    if not isinstance(problem, Problem) or problem.dim < 2 or problem.interface is not None:
        return False
    if problem.domain.meshed or given["features"] == "sigma":
        return False
    return given["loss"] in (None, "residual") and all(given[key] is None for key in ("k", "dirichlet", "init"))


def default_config(problem, seed: int = 0, **given):
    """A :class:`~ritzhrta.outputs.runs.RunConfig` of the default route for ``problem`` (a Problem or
    Target object; ``seed``: the run's seed, which draws the network too; ``given``: settings of
    :func:`choose` to fix)."""
    from ritzhrta.outputs.runs import RunConfig
    from ritzhrta.schedule import PRESETS, format_schedule

    chosen = choose(problem, **given)
    schedule = chosen.pop("default_schedule") or format_schedule(PRESETS["homotopy"](6000))
    return RunConfig(problem=getattr(problem, "name", "") or "", schedule=schedule, seed=seed, **chosen)
