"""Ready-made problems: ``problems.get(name, **options)``, ``problems.names()``."""
from __future__ import annotations

from typing import Callable, Union

from ritzhrta.problem import Problem, Target

import inspect

from . import approximation, highdim, mesh2d, nist, poisson2d, poisson3d

__all__ = ["get", "names", "describe", "mesh_problems", "REGISTRY"]

REGISTRY: dict[str, Callable[..., Union[Problem, Target]]] = {
    "poisson2d-neumann": poisson2d.neumann,
    "screened-poisson2d": poisson2d.screened,
    "poisson2d-dirichlet": poisson2d.dirichlet,
    "poisson2d-lshape": poisson2d.lshape,
    "lshape-mixed": poisson2d.lshape_mixed,
    "peak": nist.peak,
    "wave-front": nist.wave_front,
    "poisson3d-dirichlet": poisson3d.dirichlet3d,
    "poisson-nd": highdim.poisson_nd,
    "poisson10d": highdim.poisson10d,
    "poisson20d": highdim.poisson20d,
    "gaussian-nd": highdim.gaussian_nd,
    "gaussian10d": highdim.gaussian10d,
    "pairs-nd": highdim.pairs_nd,
    "ridge-nd": highdim.ridge_nd,
    "smooth-coefficient": mesh2d.smooth_coefficient,
    "two-material": mesh2d.two_material,
    "plate-hole": mesh2d.plate_hole,
    "part3d": poisson3d.part3d,
    "approx1d": approximation.approx1d,
    "approx3d": approximation.approx3d,
}


def names() -> list[str]:
    """The registered problem names."""
    return list(REGISTRY)


def get(name: str, **options) -> Union[Problem, Target]:
    """Build the problem ``name`` (options go to its factory, e.g. ``points=4096``)."""
    try:
        factory = REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown problem {name!r}; known: {', '.join(REGISTRY)}") from None
    if options.get("mesh") is not None and "mesh" not in inspect.signature(factory).parameters:
        raise ValueError(f"problem {name!r} is not defined on a mesh file; a mesh applies to: "
                         f"{', '.join(mesh_problems())}")
    options = {k: v for k, v in options.items() if not (k == "mesh" and v is None)}
    return factory(**options)


def mesh_problems() -> list[str]:
    """The problems whose domain is read from a mesh file (they take ``mesh=PATH``)."""
    return [n for n, f in REGISTRY.items() if "mesh" in inspect.signature(f).parameters]


def describe(name: str) -> str:
    """The first line of the problem's docstring."""
    if name not in REGISTRY:
        raise ValueError(f"unknown problem {name!r}; known: {', '.join(REGISTRY)}")
    return (REGISTRY[name].__doc__ or "").strip().splitlines()[0]
