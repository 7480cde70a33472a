"""Separated (low-rank tensor) representations for high dimensions (METHOD §2c, issue 36).

    u(x) = Σ_{r=1}^R Π_{i=1}^d g_ri(x_i),   g_ri(t) = Σ_{k=0}^p A[r, i, k] P_k(t̂),   t̂ = 2(t − lo_i)/(hi_i − lo_i) − 1

with P_k the Legendre polynomials. A product of one-variable functions (``gaussian-nd``:
exp(−|x − c|²) = Π exp(−(x_i − c_i)²)) has rank 1 here, while its ANOVA expansion has every
interaction order. u is multilinear in the factors, so its values, gradient and Laplacian and
their derivatives in A cost O(n·R·d·p) through prefix/suffix products (:meth:`SeparatedNet.terms`);
:func:`ritzhrta.training.highdim.fit_separated` fits A by Levenberg–Marquardt on the strong-form
residual.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["SeparatedNet", "legendre"]


def legendre(t: Tensor, p: int) -> tuple[Tensor, Tensor, Tensor]:
    """P_k(t), P_k'(t), P_k''(t) for k = 0 … p, each (…, p + 1), by the three-term recurrence
    (k+1)P_{k+1} = (2k+1) t P_k − k P_{k−1} and its derivatives."""
    one = torch.ones_like(t)
    vals, d1, d2 = [one, t], [torch.zeros_like(t), one], [torch.zeros_like(t), torch.zeros_like(t)]
    for k in range(1, p):
        vals.append(((2 * k + 1) * t * vals[k] - k * vals[k - 1]) / (k + 1))
        d1.append(((2 * k + 1) * (vals[k] + t * d1[k]) - k * d1[k - 1]) / (k + 1))
        d2.append(((2 * k + 1) * (2 * d1[k] + t * d2[k]) - k * d2[k - 1]) / (k + 1))
    return (torch.stack(vals[:p + 1], -1), torch.stack(d1[:p + 1], -1), torch.stack(d2[:p + 1], -1))


class SeparatedNet(nn.Module):
    """A sum of ``rank`` products of one-variable Legendre expansions of ``degree`` p on a box
    (see the module doc). The parameter is ``A`` (rank, d, p + 1); it starts at u ≡ 1 in the first
    term (g = 1) and ε·(a constant) in the others, the point from which a Gauss–Newton step is an
    ANOVA-1 fit of the correction.

    >>> from ritzhrta import Box
    >>> net = SeparatedNet(Box([0] * 3, [1] * 3), rank=1, degree=4)
    >>> float(net(torch.rand(2, 3)).sum())
    2.0
    """

    def __init__(self, domain, rank: int = 1, degree: int = 10) -> None:
        super().__init__()
        if not hasattr(domain, "lo") or type(domain).__name__ != "Box":
            raise ValueError(f"a separated representation needs a box domain, got {type(domain).__name__}")
        for name, value, low in (("rank", rank, 1), ("degree", degree, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        self._domain, self.rank, self.degree, self._dim = domain, rank, degree, domain.dim
        a = torch.zeros(rank, domain.dim, degree + 1, dtype=torch.float64)
        a[:, :, 0] = 1.0
        a[1:, 0, 0] = 1e-3
        self.A = nn.Parameter(a)
        self.register_buffer("lo", torch.as_tensor(domain.lo, dtype=torch.float64))
        self.register_buffer("hi", torch.as_tensor(domain.hi, dtype=torch.float64))

    @property
    def dim(self) -> int:
        return self._dim

    def set_s(self, s: float) -> None:
        """No homotopy parameter: only s = 1 is accepted."""
        if float(s) != 1.0:
            raise ValueError(f"SeparatedNet has no homotopy parameter: use stages with s = 1, got s = {float(s):g}")

    def _factors(self, x: Tensor):
        """Per term and coordinate: g, g', g'' at x (each (n, R, d)) and the Legendre tables."""
        if x.ndim != 2 or x.shape[1] != self._dim:
            raise ValueError(f"input must have shape (n, {self._dim}), got {tuple(x.shape)}")
        lo, hi = self.lo.to(x), self.hi.to(x)
        jac = 2 / (hi - lo)
        t = (x - lo) * jac - 1
        p0, p1, p2 = legendre(t, self.degree)  # (n, d, p+1)
        p1, p2 = p1 * jac[None, :, None], p2 * (jac ** 2)[None, :, None]
        A = self.A.to(x)
        g, g1, g2 = (torch.einsum("ndk,rdk->nrd", p, A) for p in (p0, p1, p2))
        return g, g1, g2, (p0, p1, p2)

    @staticmethod
    def _excluding(g: Tensor, g2: Tensor) -> tuple[Tensor, Tensor]:
        """For each i: P_i = Π_{j≠i} g_j and Q_i = Σ_{l≠i} g_l'' Π_{j≠l,i} g_j (prefix/suffix products of
        the pairs (p, s) with (p₁, s₁)∘(p₂, s₂) = (p₁p₂, s₁p₂ + p₁s₂))."""
        d = g.shape[-1]
        one, zero = torch.ones_like(g[..., 0]), torch.zeros_like(g[..., 0])
        pre, suf = [(one, zero)], [(one, zero)]  # lists, not in-place writes: autograd can follow
        for i in range(1, d):
            p, s = pre[-1]
            pre.append((p * g[..., i - 1], s * g[..., i - 1] + p * g2[..., i - 1]))
        for i in range(d - 2, -1, -1):
            p, s = suf[-1]
            suf.append((p * g[..., i + 1], s * g[..., i + 1] + p * g2[..., i + 1]))
        suf.reverse()
        pre_p, pre_s = torch.stack([p for p, _ in pre], -1), torch.stack([s for _, s in pre], -1)
        suf_p, suf_s = torch.stack([p for p, _ in suf], -1), torch.stack([s for _, s in suf], -1)
        return pre_p * suf_p, pre_s * suf_p + pre_p * suf_s

    def terms(self, x: Tensor, jacobian: bool = False):
        """u, ∇u, Δu at x and, with ``jacobian``, ∂u/∂A and ∂(Δu)/∂A (each (n, R·d·(p+1)))."""
        g, g1, g2, (p0, p1, p2) = self._factors(x)
        P, Q = self._excluding(g, g2)
        u = (g[..., 0] * P[..., 0]).sum(1)
        grad = (g1 * P).sum(1)
        lap = (g2[..., 0] * P[..., 0] + g[..., 0] * Q[..., 0]).sum(1)
        if not jacobian:
            return u, grad, lap
        ju = (p0[:, None] * P[..., None]).reshape(len(x), -1)
        jl = (p2[:, None] * P[..., None] + p0[:, None] * Q[..., None]).reshape(len(x), -1)
        return u, grad, lap, ju, jl

    def normal_derivative_jacobian(self, x: Tensor, axis: Tensor) -> Tensor:
        """∂(∂u/∂x_axis)/∂A at x (n, R·d·(p+1)); ``axis`` (n,) the coordinate of each point's face."""
        g, g1, _, (p0, p1, _) = self._factors(x)
        n = len(x)
        # ∂_a u = Σ_r g'_ra Π_{j≠a} g_rj: replace factor a by its derivative and differentiate the product
        face = torch.nn.functional.one_hot(axis, self._dim).to(g.dtype)  # (n, d): 1 at the face's axis
        gd = g + face[:, None, :] * (g1 - g)
        P, _ = self._excluding(gd, torch.zeros_like(gd))
        basis = p0 + face[:, :, None] * (p1 - p0)
        return (basis[:, None] * P[..., None]).reshape(n, -1)

    def forward(self, x: Tensor) -> Tensor:
        return self.terms(x)[0]

    def value_and_grad(self, x: Tensor) -> tuple[Tensor, Tensor]:
        u, grad, _ = self.terms(x)
        return u, grad

    def laplacian(self, x: Tensor) -> Tensor:
        return self.terms(x)[2]

    def structure(self) -> dict:
        return {"kind": "separated", "rank": self.rank, "degree": self.degree}

    def extra_repr(self) -> str:
        return f"dim={self._dim}, rank={self.rank}, degree={self.degree}"
