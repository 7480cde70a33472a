"""Forms and losses: the Ritz energy's forms (energy), the loss objects (losses: L², H¹, Ritz),
the strong-form residual (residual) and the error norms (norms).
"""
from __future__ import annotations

from ritzhrta._lazy import lazy_exports

_EXPORTS = {
    # energy
    "bilinear": "energy", "load": "energy", "dirichlet_terms": "energy", "conormal_gram": "energy",
    "mean_sums": "energy",
    # losses
    "sobolev_loss": "losses", "ritz_energy": "losses", "L2Loss": "losses", "H1Loss": "losses",
    "RitzLoss": "losses", "Columns": "losses", "DIRICHLET": "losses", "DEFAULT_BETA": "losses",
    "DEFAULT_MEAN_PENALTY": "losses",
    # norms
    "relative_errors": "norms", "evaluation_points": "norms", "energy_error": "norms", "EVAL_POINTS": "norms",
    # residual
    "ResidualLoss": "residual", "network_laplacian": "residual", "pde_residual": "residual",
    "residual_rule": "residual", "DEFAULT_BOUNDARY_WEIGHT": "residual", "ROWS_PER_UNKNOWN": "residual",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
