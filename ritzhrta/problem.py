"""Problems are values: a PDE (:class:`Problem`) or a function to approximate (:class:`Target`).

A :class:`Problem` describes  −∇·(a∇u) + V·u = f  in Ω,  u = h on Γ_D,  a∂u/∂n = g on Γ_N.
Callables take a tensor x of shape (n, d) and return (n,) (gradients: (n, d)).
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Callable, Union

import torch
from torch import Tensor

from ritzhrta.geometry.domains import Domain

__all__ = ["Problem", "Target", "Field", "exact_gradient"]

Field = Callable[[Tensor], Tensor]
Coefficient = Union[float, Field]


def _check_callable(name: str, value, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    if not callable(value):
        raise TypeError(f"{name} must be a callable x -> tensor, got {type(value).__name__}")


def _constant(value: float) -> Callable[[Tensor], Tensor]:
    """The datum x ↦ value, differentiable in x (a zero gradient that autograd can follow)."""

    def constant(x: Tensor) -> Tensor:
        return value + 0 * x[:, 0]

    constant.__qualname__ = f"constant({value:g})"
    return constant


def _evaluate(fn: Field, x: Tensor, name: str, shape: tuple[int, ...]) -> Tensor:
    """Call ``fn(x)`` and check that it returns a finite tensor of ``shape``."""
    y = fn(x)
    if not isinstance(y, Tensor):
        raise TypeError(f"{name} must return a torch.Tensor, got {type(y).__name__}")
    if tuple(y.shape) != shape:
        raise ValueError(f"{name} must return shape {shape} for x of shape {tuple(x.shape)}, got {tuple(y.shape)}")
    return y


def exact_gradient(fn: Field, x: Tensor) -> Tensor:
    """∇fn(x) by autograd (the fallback when no exact gradient is given)."""
    with torch.enable_grad():
        xg = x.detach().requires_grad_(True)
        y = fn(xg)
        if not y.requires_grad:  # fn does not depend on x
            return torch.zeros_like(x)
        (g,) = torch.autograd.grad(y.sum(), xg, allow_unused=True)
    return torch.zeros_like(x) if g is None else g.detach()


class _HasExact:
    """Shared evaluation of the exact solution u* and ∇u* (autograd fallback)."""

    exact: Field | None
    exact_grad: Field | None
    name: str

    @property
    def has_exact(self) -> bool:
        return self.exact is not None

    def require_exact(self, what: str) -> None:
        """Raise ``ValueError`` naming ``what`` if u* is unknown."""
        if self.exact is None:
            raise ValueError(f"{what} needs the exact solution u*, but problem {self.name or '<unnamed>'!r} "
                             "has none: pass exact=... (and optionally exact_grad=...)")

    def u_exact(self, x: Tensor) -> Tensor:
        """u*(x), shape (n,)."""
        self.require_exact("u_exact")
        return _evaluate(self.exact, x, "exact", (x.shape[0],))

    def grad_exact(self, x: Tensor) -> Tensor:
        """∇u*(x), shape (n, d): ``exact_grad`` if given, else autograd of ``exact``."""
        self.require_exact("grad_exact")
        if self.exact_grad is None:
            return exact_gradient(self.exact, x)
        return _evaluate(self.exact_grad, x, "exact_grad", tuple(x.shape))


@dataclass(frozen=True)
class Problem(_HasExact):
    """−∇·(a∇u) + V·u = f in Ω, u = h on Γ_D, a∂u/∂n + κu = g on Γ_N.

    ``dirichlet`` is h; by default it holds on the whole boundary. ``dirichlet_where``
    (x -> bool mask) restricts it to part of the boundary; the rest is Neumann with
    ``neumann`` = g (0 if not given) and ``robin`` = κ ≥ 0 (a number or a field; 0: Neumann, the
    default). Without ``dirichlet`` and with κ ≡ 0 the problem is pure Neumann.
    On a domain with boundary tags (:class:`ritzhrta.MeshDomain`) both may be dicts
    ``{tag: data}`` (data a callable or a number): ``dirichlet={"inlet": 0.0},
    neumann={"wall": g}``; boundary parts named in neither are Neumann with g = 0.
    ``diffusion`` a > 0 and ``potential`` V ≥ 0 are numbers or fields (scalar a; for a
    piecewise-constant a, a callable with torch.where; then give ``interface`` = ψ, a level
    set with ψ = 0 where a jumps, and the networks of the CLI see (x, |ψ(x)|):
    :class:`ritzhrta.InterfaceNet`). ``exact``/``exact_grad`` are optional. ``points`` and ``sampling`` are the suggested number and kind of training points.
    """

    domain: Domain
    source: Coefficient = 0.0
    potential: Coefficient = 0.0
    dirichlet: Field | dict | None = None
    neumann: Field | dict | None = None
    dirichlet_where: Callable[[Tensor], Tensor] | None = None
    exact: Field | None = None
    exact_grad: Field | None = None
    name: str = ""
    points: int = 1024
    sampling: str = "grid"
    diffusion: Coefficient = 1.0
    interface: Field | None = None
    robin: Coefficient = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.domain, Domain):
            raise TypeError(f"domain must be a ritzhrta Domain, got {type(self.domain).__name__}")
        if isinstance(self.dirichlet, dict) or isinstance(self.neumann, dict):
            _tagged_conditions(self)
        if isinstance(self.diffusion, numbers.Real) and not (math.isfinite(self.diffusion) and self.diffusion > 0):
            raise ValueError(f"diffusion a must be a finite number > 0 (−∇·(a∇u) is elliptic only for a > 0), "
                             f"got {self.diffusion}")
        if isinstance(self.robin, dict):
            raise TypeError("robin per tag ({tag: κ}) is not supported yet: give a number or a field x -> κ(x) "
                            "(it applies where the boundary is not Dirichlet)")
        if isinstance(self.robin, numbers.Real) and not (math.isfinite(self.robin) and self.robin >= 0):
            raise ValueError(f"robin κ must be a finite number >= 0 (a∂u/∂n + κu = g is coercive for κ >= 0), "
                             f"got {self.robin}")
        for name in ("source", "potential", "diffusion", "robin"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Real):
                _check_callable(name, value, allow_none=False)
            elif not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value}")
        if isinstance(self.potential, numbers.Real) and self.potential < 0:
            raise ValueError(f"potential V must be >= 0 (with V < 0 the energy of −Δu + Vu = f can be unbounded "
                             f"below and the problem ill-posed), got {self.potential}")
        for name in ("dirichlet", "neumann"):  # a constant datum may be given as a number (dirichlet=0.0)
            value = getattr(self, name)
            if isinstance(value, numbers.Real) and not isinstance(value, bool):
                if not math.isfinite(value):
                    raise ValueError(f"{name} must be finite, got {value}")
                object.__setattr__(self, name, _constant(float(value)))
        for name in ("dirichlet", "neumann", "dirichlet_where", "exact", "exact_grad", "interface"):
            _check_callable(name, getattr(self, name))
        if self.dirichlet_where is not None and self.dirichlet is None:
            raise ValueError("dirichlet_where is given but dirichlet (the data h) is not")
        if self.exact_grad is not None and self.exact is None:
            raise ValueError("exact_grad is given without exact")
        _check_sizes(self.points, self.sampling)

    @property
    def dim(self) -> int:
        return self.domain.dim

    @property
    def pure_neumann(self) -> bool:
        """True when there is no Dirichlet part, V ≡ 0 and κ ≡ 0 (u is unique only up to a constant)."""
        return self.dirichlet is None and isinstance(self.potential, numbers.Real) and self.potential == 0 \
            and not self.has_robin

    @property
    def has_robin(self) -> bool:
        """True when the non-Dirichlet boundary has a Robin coefficient κ (not the number 0)."""
        return not (isinstance(self.robin, numbers.Real) and self.robin == 0)

    def kappa(self, x: Tensor) -> Tensor:
        """The Robin coefficient κ(x) >= 0 on Γ_N, shape (n,) (a negative value is a ``ValueError``)."""
        v = _coefficient(self.robin, x, "robin")
        if bool((v < 0).any()):
            raise ValueError(f"problem {self.name!r}: the Robin coefficient κ must be >= 0, got {float(v.min()):g}")
        return v

    def f(self, x: Tensor) -> Tensor:
        """The source f(x), shape (n,)."""
        return _coefficient(self.source, x, "source")

    def V(self, x: Tensor) -> Tensor:
        """The coefficient V(x) >= 0, shape (n,) (a negative value is a ``ValueError``)."""
        v = _coefficient(self.potential, x, "potential")
        if bool((v < 0).any()):
            raise ValueError(f"problem {self.name!r}: the potential V must be >= 0, got {float(v.min()):g} "
                             "at a point (the energy would be unbounded below)")
        return v

    def a(self, x: Tensor) -> Tensor:
        """The diffusion coefficient a(x) > 0, shape (n,) (a value ≤ 0 is a ``ValueError``)."""
        v = _coefficient(self.diffusion, x, "diffusion")
        if not bool((v > 0).all()):
            raise ValueError(f"problem {self.name!r}: the diffusion coefficient a must be > 0, got "
                             f"{float(v.min()):g} at a point")
        return v

    @property
    def constant_diffusion(self) -> bool:
        """True when a ≡ 1 (the plain Laplacian)."""
        return isinstance(self.diffusion, numbers.Real) and self.diffusion == 1

    def h(self, x: Tensor) -> Tensor:
        """Dirichlet data h(x), shape (n,)."""
        if self.dirichlet is None:
            raise ValueError(f"problem {self.name!r} has no Dirichlet data")
        return _evaluate(self.dirichlet, x, "dirichlet", (x.shape[0],))

    def g(self, x: Tensor) -> Tensor:
        """Neumann data g(x), shape (n,) (zero when not given)."""
        if self.neumann is None:
            return torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        return _evaluate(self.neumann, x, "neumann", (x.shape[0],))

    def check_data(self, interior: Tensor, boundary: Tensor | None = None) -> None:
        """Raise a one-line ``ValueError`` naming the datum (source, potential, diffusion, dirichlet,
        neumann, robin) and the first point where it is NaN or infinite, at the given points."""
        data = [("source", self.f, interior), ("potential", self.potential, interior),
                ("diffusion", self.diffusion, interior)]
        if boundary is not None and len(boundary):
            mask = self.dirichlet_mask(boundary)
            if bool(mask.any()):
                data.append(("dirichlet", self.h, boundary[mask]))
            if bool((~mask).any()):
                data += [("neumann", self.g, boundary[~mask]), ("robin", self.robin, boundary[~mask])]
        for name, datum, x in data:
            if datum is None or isinstance(datum, numbers.Real) and math.isfinite(datum):
                continue
            with torch.no_grad():
                v = datum(x) if name in ("source", "dirichlet", "neumann") else _coefficient(datum, x, name)
            bad = ~torch.isfinite(v)
            if bool(bad.any()):
                i = int(bad.nonzero()[0])
                point = ", ".join(f"{c:.4g}" for c in x[i].tolist())
                raise ValueError(f"problem {self.name!r}: the {name} returned {float(v[i])} at x = ({point}) "
                                 f"({int(bad.sum())} of {len(v)} points): fix the callable given as {name}=")

    def dirichlet_mask(self, x: Tensor) -> Tensor:
        """Which boundary points carry the Dirichlet condition, bool (n,)."""
        if self.dirichlet is None:
            return torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
        if self.dirichlet_where is None:
            return torch.ones(x.shape[0], dtype=torch.bool, device=x.device)
        return _evaluate(self.dirichlet_where, x, "dirichlet_where", (x.shape[0],)).bool()


@dataclass(frozen=True)
class Target(_HasExact):
    """A function u* on a domain to approximate (supervised L² or H¹ training).

    ``exact`` is u*, ``exact_grad`` its gradient (autograd fallback when omitted).
    """

    domain: Domain
    exact: Field
    exact_grad: Field | None = None
    name: str = ""
    points: int = 100
    sampling: str = "grid"

    def __post_init__(self) -> None:
        if not isinstance(self.domain, Domain):
            raise TypeError(f"domain must be a ritzhrta Domain, got {type(self.domain).__name__}")
        _check_callable("exact", self.exact, allow_none=False)
        _check_callable("exact_grad", self.exact_grad)
        _check_sizes(self.points, self.sampling)

    @property
    def dim(self) -> int:
        return self.domain.dim


def _as_field(value, what: str) -> Field:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError(f"{what} must be finite, got {value}")
        return lambda x, v=float(value): torch.full((x.shape[0],), v, dtype=x.dtype, device=x.device)
    _check_callable(what, value, allow_none=False)
    return value


def _tagged_conditions(problem: "Problem") -> None:
    """Turn ``dirichlet={tag: h}`` / ``neumann={tag: g}`` into one h, one mask and one g."""
    domain = problem.domain
    if not domain.meshed:
        raise TypeError(f"dirichlet/neumann given as {{tag: data}} need a domain with boundary tags (MeshDomain), "
                        f"got {domain!r}")
    if problem.dirichlet_where is not None:
        raise ValueError("give either dirichlet={tag: h} or dirichlet_where, not both")
    parts = {}
    for kind in ("dirichlet", "neumann"):
        value = getattr(problem, kind)
        if value is None or not isinstance(value, dict):
            if value is not None:
                raise TypeError(f"with tagged conditions, {kind} must be a dict {{tag: data}} too, got "
                                f"{type(value).__name__}")
            parts[kind] = {}
            continue
        if not value:
            raise ValueError(f"{kind}={{}} names no boundary tag")
        for tag in value:
            if not isinstance(tag, str):
                raise TypeError(f"{kind} tags must be strings, got {tag!r}")
        domain.check_tags(list(value))
        parts[kind] = {tag: _as_field(data, f"{kind}[{tag!r}]") for tag, data in value.items()}
    both = set(parts["dirichlet"]) & set(parts["neumann"])
    if both:
        raise ValueError(f"boundary tag(s) {', '.join(sorted(both))} given both a Dirichlet and a Neumann condition")

    def combine(fields: dict) -> Field | None:
        if not fields:
            return None
        ids = {domain.tags.index(tag): fn for tag, fn in fields.items()}

        def data(x: Tensor) -> Tensor:
            tags = torch.as_tensor(domain.cached_tags(x), device=x.device)
            out = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
            for tag_id, fn in ids.items():
                sel = tags == tag_id
                if bool(sel.any()):
                    out = torch.where(sel, _evaluate(fn, x, "boundary data", (x.shape[0],)), out)
            return out

        return data

    object.__setattr__(problem, "tagged", {k: dict(v) for k, v in parts.items()})
    object.__setattr__(problem, "dirichlet", combine(parts["dirichlet"]))
    object.__setattr__(problem, "neumann", combine(parts["neumann"]))
    if parts["dirichlet"]:
        object.__setattr__(problem, "dirichlet_where", domain.on(*parts["dirichlet"]))


def _check_sizes(points: int, sampling: str) -> None:
    from ritzhrta.geometry.domains import METHODS, check_count

    check_count(points, "points")
    if sampling not in METHODS:
        raise ValueError(f"sampling must be one of {METHODS}, got {sampling!r}")


def _coefficient(value: Coefficient, x: Tensor, name: str) -> Tensor:
    if isinstance(value, numbers.Real):
        return torch.full((x.shape[0],), float(value), dtype=x.dtype, device=x.device)
    return _evaluate(value, x, name, (x.shape[0],))
