"""Reference solutions: the P2 finite-element reference (scikit-fem) for problems without an
exact solution.
"""
from __future__ import annotations

from ritzhrta._lazy import lazy_exports

_EXPORTS = {
    # fem
    "fem_reference": "fem", "Reference": "fem", "reference_errors": "fem", "check_reference": "fem",
    "DEFAULT_TOL": "fem", "DEFAULT_MAX_DOFS": "fem",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
