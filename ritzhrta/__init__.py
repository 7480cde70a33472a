"""ritzhrta: Deep Ritz and Sobolev training of wide shallow networks with HRTA.

The public API, one name per line; everything else lives in its submodule
(``ritzhrta.training.lstsq``, ``ritzhrta.training.analytic``, ``ritzhrta.studies.ntk``, ``ritzhrta.studies.comparison``, …).
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
    "Box": "geometry.domains",
    "Interval": "geometry.domains",
    "Disk": "geometry.domains",
    "Polygon": "geometry.polygon",
    "LShape": "geometry.polygon",
    "MeshDomain": "geometry.mesh_domain",
    # networks
    "TwoLayerNet": "nets.networks",
    "MLP": "nets.networks",
    # losses
    "H1Loss": "forms.losses",
    "L2Loss": "forms.losses",
    "RitzLoss": "forms.losses",
    "ExactDirichlet": "nets.exact_bc",
    # HRTA schedules
    "Stage": "schedule",
    "Ramp": "schedule",
    "Plateau": "schedule",
    "baseline": "schedule",
    "homotopy": "schedule",
    "relaxation": "schedule",
    "parse_schedule": "schedule",
    # solving and results
    "solve": "training.solver",
    "Result": "outputs.results",
    "DivergenceError": "training.loop",
    "relative_errors": "forms.norms",
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
