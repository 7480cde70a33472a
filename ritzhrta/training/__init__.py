"""Training: the stage loop over the trainer protocol, solve(), the gradient steps, the
least-squares output solve, Gauss–Newton and alternating fits, the measured routes, the error
estimate, distributed sums, threads and memory checks.
"""
from __future__ import annotations

from ritzhrta._lazy import lazy_exports

_EXPORTS = {
    # analytic
    "alternating_fit": "analytic", "hidden_increment": "analytic", "data_aware_init": "analytic",
    "check_alternating": "analytic", "DENSE_LIMIT": "analytic",
    # dist
    "active": "dist", "rank": "dist", "world_size": "dist", "init": "dist", "shard": "dist",
    "all_sum": "dist", "all_sum_grad": "dist", "sum_grads": "dist", "broadcast_params": "dist",
    # estimate
    "two_draw_estimate": "estimate", "relative_distance": "estimate", "sibling": "estimate",
    "reentrant_corners": "estimate", "UnresolvedWarning": "estimate", "DEFAULT_TOL": "estimate",
    "check_tol": "estimate", "estimate_run": "estimate", "reference_solve": "estimate",
    # gauss_newton
    "gauss_newton_fit": "gauss_newton", "parameter_columns": "gauss_newton", "gram_product": "gauss_newton",
    "check_gauss_newton": "gauss_newton", "GNReport": "gauss_newton",
    # highdim
    "solve_highdim": "highdim", "residual_estimate": "highdim", "rank_pairs": "highdim", "fit_anova": "highdim",
    "fit_separated": "highdim", "second_opinion": "highdim", "route_bytes": "highdim", "point_sets": "highdim",
    "face_points": "highdim",
    # loop
    "Run": "loop", "RunState": "loop", "DivergenceError": "loop", "run_stages": "loop",
    # lstsq
    "fit_output_layer": "lstsq", "output_columns": "lstsq", "solve_spd": "lstsq", "solve_rows": "lstsq",
    "DEFAULT_RIDGE": "lstsq", "GALERKIN_RIDGE": "lstsq", "GALERKIN_RIDGE_SMOOTH": "lstsq",
    "galerkin_ridge": "lstsq", "output_size": "lstsq",
    # memory
    "estimate_bytes": "memory", "available_bytes": "memory", "check_memory": "memory", "FRACTION": "memory",
    # routes
    "GALERKIN_ROUTE": "routes", "GRADIENT_PDE_ROUTE": "routes", "RESIDUAL_ROUTE": "routes",
    "RESIDUAL_WIDTH": "routes", "MESH_ROUTE": "routes", "HIGHDIM_ROUTE": "routes", "choose": "routes", "default_config": "routes",
    "residual_width": "routes", "residual_scale": "routes",
    # sampling
    "Sampler": "sampling",
    # solver
    "solve": "solver", "default_quadrature": "solver",
    # steps
    "OPTIMIZERS": "steps", "make_optimizer": "steps", "CompiledStep": "steps", "refit_output": "steps",
    # threads
    "default_threads": "threads", "machine_load": "threads", "BREAK_EVEN": "threads",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
