"""Problems are values: a PDE (:class:`Problem`) or a function to approximate (:class:`Target`).

A :class:`Problem` describes  −∇·(∇u) + V·u = f  in Ω,  u = h on Γ_D,  ∂u/∂n = g on Γ_N.
Callables take a tensor x of shape (n, d) and return (n,) (gradients: (n, d)).
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Callable, Union

import torch
from torch import Tensor

from .domains import Domain

__all__ = ["Problem", "Target", "Field", "exact_gradient"]

Field = Callable[[Tensor], Tensor]
Coefficient = Union[float, Field]


def _check_callable(name: str, value, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    if not callable(value):
        raise TypeError(f"{name} must be a callable x -> tensor, got {type(value).__name__}")


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
    """−∇·(∇u) + V·u = f in Ω, u = h on Γ_D, ∂u/∂n = g on Γ_N.

    ``dirichlet`` is h; by default it holds on the whole boundary. ``dirichlet_where``
    (x -> bool mask) restricts it to part of the boundary; the rest is Neumann with
    ``neumann`` = g (0 if not given). Without ``dirichlet`` the problem is pure Neumann.
    ``potential`` V is a number or a field. ``exact``/``exact_grad`` are optional.
    ``points`` and ``sampling`` are the suggested number and kind of training points.
    """

    domain: Domain
    source: Coefficient = 0.0
    potential: Coefficient = 0.0
    dirichlet: Field | None = None
    neumann: Field | None = None
    dirichlet_where: Callable[[Tensor], Tensor] | None = None
    exact: Field | None = None
    exact_grad: Field | None = None
    name: str = ""
    points: int = 1024
    sampling: str = "grid"

    def __post_init__(self) -> None:
        if not isinstance(self.domain, Domain):
            raise TypeError(f"domain must be a ritzhrta Domain, got {type(self.domain).__name__}")
        for name in ("source", "potential"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Real):
                _check_callable(name, value, allow_none=False)
            elif not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value}")
        if isinstance(self.potential, numbers.Real) and self.potential < 0:
            raise ValueError(f"potential V must be >= 0 (with V < 0 the energy of −Δu + Vu = f can be unbounded "
                             f"below and the problem ill-posed), got {self.potential}")
        for name in ("dirichlet", "neumann", "dirichlet_where", "exact", "exact_grad"):
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
        """True when there is no Dirichlet part and V ≡ 0 (u is unique only up to a constant)."""
        return self.dirichlet is None and isinstance(self.potential, numbers.Real) and self.potential == 0

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


def _check_sizes(points: int, sampling: str) -> None:
    from .domains import METHODS, check_count

    check_count(points, "points")
    if sampling not in METHODS:
        raise ValueError(f"sampling must be one of {METHODS}, got {sampling!r}")


def _coefficient(value: Coefficient, x: Tensor, name: str) -> Tensor:
    if isinstance(value, numbers.Real):
        return torch.full((x.shape[0],), float(value), dtype=x.dtype, device=x.device)
    return _evaluate(value, x, name, (x.shape[0],))
