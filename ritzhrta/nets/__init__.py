"""Networks: the σ_s^k two-layer net and MLP, random-feature nets, corner enrichment, the
exact-Dirichlet and interface wrappers, and input derivatives.
"""
from __future__ import annotations

from ritzhrta._lazy import lazy_exports

_EXPORTS = {
    # anova
    "AnovaNet": "anova", "ANOVA_M1": "anova", "ANOVA_M2": "anova", "ANOVA_SCALE1": "anova",
    "ANOVA_SCALE2": "anova",
    # derivatives
    "value_and_grad": "derivatives", "autograd_value_and_grad": "derivatives", "evaluate": "derivatives",
    # enrichment
    "corner_functions": "enrichment", "TERMS": "enrichment",
    # exact_bc
    "ExactDirichlet": "exact_bc", "boundary_factor": "exact_bc", "supports_exact": "exact_bc",
    "segments_distance": "exact_bc", "polygon_distance": "exact_bc",
    # features
    "FAMILIES": "features", "RandomFeatureNet": "features", "DEFAULT_FAMILY": "features",
    "DEFAULT_SCALE": "features",
    # highdim
    "HighDimNet": "highdim", "build_structure": "highdim",
    # interface
    "InterfaceNet": "interface",
    # networks
    "HomotopyNet": "networks", "TwoLayerNet": "networks", "MLP": "networks", "place_kinks": "networks",
    "INITS": "networks",
    # separated
    "SeparatedNet": "separated", "legendre": "separated",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
