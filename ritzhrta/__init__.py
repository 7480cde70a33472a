"""ritzhrta: Deep Ritz and Sobolev training of wide shallow networks with HRTA.

The public API, one name per line; everything else lives in its submodule
(``ritzhrta.lstsq``, ``ritzhrta.analytic``, ``ritzhrta.ntk``, ``ritzhrta.studies``, …).
Names are imported on first use, so ``import ritzhrta.problem`` (and the ``problems``
package) does not load the solver, tqdm, matplotlib or meshio.
"""
from __future__ import annotations

import importlib

__version__ = "0.2.0"

_EXPORTS = {
    # problems and geometry
    "Problem": "problem",
    "Target": "problem",
    "Box": "domains",
    "Interval": "domains",
    "Disk": "domains",
    "Polygon": "polygon",
    "LShape": "polygon",
    "MeshDomain": "mesh_domain",
    # networks
    "TwoLayerNet": "networks",
    "MLP": "networks",
    # losses
    "H1Loss": "losses",
    "L2Loss": "losses",
    "RitzLoss": "losses",
    "ExactDirichlet": "exact_bc",
    # HRTA schedules
    "Stage": "schedule",
    "Ramp": "schedule",
    "Plateau": "schedule",
    "baseline": "schedule",
    "homotopy": "schedule",
    "relaxation": "schedule",
    "parse_schedule": "schedule",
    # solving and results
    "solve": "solver",
    "Result": "results",
    "DivergenceError": "loop",
    "relative_errors": "norms",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ritzhrta' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
