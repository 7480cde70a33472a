"""Studies: comparisons of routes (comparison), parameter sweeps on Dask (sweep), and the NTK
Gram matrix of σ_s networks (ntk).
"""
from __future__ import annotations

from ritzhrta._lazy import lazy_exports

_EXPORTS = {
    # comparison
    "compare": "comparison", "Comparison": "comparison", "parse_schedule_set": "comparison",
    "tune_lr": "comparison", "with_controls": "comparison", "DEFAULT_LR": "comparison",
    "LR_GRID": "comparison",
    # ntk
    "gram_closed_form": "ntk", "gram_monte_carlo": "ntk", "gram_finite": "ntk", "lambda_min": "ntk",
    "lambda_min_vs_s": "ntk",
    # sweep
    "RunSpec": "sweep", "run_specs": "sweep", "execute": "sweep", "fingerprint": "sweep",
    "load_summary": "sweep",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
