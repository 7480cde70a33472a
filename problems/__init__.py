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
    "wave-front-mild": nist.wave_front_mild,
    "wave-front-well": nist.wave_front_well,
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
    """Build the problem ``name`` (options go to its factory, e.g. ``points=4096``). ``name`` may also
    be ``path/to/file.py:factory``: a function of a user's file that returns a Problem or Target."""
    if name.partition(":")[0].endswith(".py"):
        factory = from_file(name)
    else:
        try:
            factory = REGISTRY[name]
        except KeyError:
            raise ValueError(f"unknown problem {name!r}; known: {', '.join(REGISTRY)}, or FILE.py:FUNCTION") from None
    if options.get("mesh") is not None and "mesh" not in inspect.signature(factory).parameters:
        raise ValueError(f"problem {name!r} is not defined on a mesh file; a mesh applies to: "
                         f"{', '.join(mesh_problems())}")
    options = {k: v for k, v in options.items() if not (k == "mesh" and v is None)}
    return factory(**options)


def from_file(spec: str) -> Callable[..., Union[Problem, Target]]:
    """The factory ``FUNCTION`` of ``FILE.py:FUNCTION`` (the file is imported as a module; the factory
    must return a Problem or Target when called)."""
    import importlib.util
    from pathlib import Path

    path, _, func = spec.partition(":")
    if not func:
        raise ValueError(f"{spec!r}: name the function that builds the problem, as FILE.py:FUNCTION")
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"{spec!r}: no file {path}")
    module_spec = importlib.util.spec_from_file_location(f"ritzhrta_user_problem_{file.stem}", file)
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except Exception as err:
        raise ValueError(f"{spec!r}: importing {path} failed: {type(err).__name__}: {err}") from None
    factory = getattr(module, func, None)
    if not callable(factory):
        raise ValueError(f"{spec!r}: {path} has no function {func!r}")

    def build(**options):
        made = factory(**options)
        if not isinstance(made, (Problem, Target)):
            raise ValueError(f"{spec!r}: {func}() returned {type(made).__name__}, not a Problem or Target")
        return made

    build.__signature__ = inspect.signature(factory)
    return build


def mesh_problems() -> list[str]:
    """The problems whose domain is read from a mesh file (they take ``mesh=PATH``)."""
    return [n for n, f in REGISTRY.items() if "mesh" in inspect.signature(f).parameters]


def describe(name: str) -> str:
    """The first line of the problem's docstring."""
    if name not in REGISTRY:
        raise ValueError(f"unknown problem {name!r}; known: {', '.join(REGISTRY)}")
    return (REGISTRY[name].__doc__ or "").strip().splitlines()[0]
