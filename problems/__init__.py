"""Ready-made problems: ``problems.get(name, **options)``, ``problems.names()``."""
from __future__ import annotations

from typing import Callable, Union

from ritzhrta.problem import Problem, Target

from . import approximation, poisson2d

__all__ = ["get", "names", "describe", "REGISTRY"]

REGISTRY: dict[str, Callable[..., Union[Problem, Target]]] = {
    "poisson2d-neumann": poisson2d.neumann,
    "screened-poisson2d": poisson2d.screened,
    "poisson2d-dirichlet": poisson2d.dirichlet,
    "poisson2d-lshape": poisson2d.lshape,
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
    return factory(**options)


def describe(name: str) -> str:
    """The first line of the problem's docstring."""
    if name not in REGISTRY:
        raise ValueError(f"unknown problem {name!r}; known: {', '.join(REGISTRY)}")
    return (REGISTRY[name].__doc__ or "").strip().splitlines()[0]
