"""ANOVA random features for high dimensions (METHOD §2c, issue 36).

A solution of d variables is written by the order of its interactions,

    u(x) = c + Σ_i u_i(x_i) + Σ_{(i,j) ∈ P} u_ij(x_i, x_j) + (ridge part),

and each term gets analytic random features that depend only on its own coordinates:

    first order   φ(ω (x_i − t))            m₁ per coordinate, ω ~ N(0, (κ₁/L_i)²), t ~ U[lo_i, hi_i]
    second order  φ(w·(x_(i,j) − t))        m₂ per pair in P,   w ~ N(0, (κ₂/L)² I₂)
    ridge         φ(w·(x − t))              w = Σ_k z_k (κ₁/L_k) v_k, z ~ N(0, I), v_k the columns of an
                                            orthonormal (d, k) frame (the active subspace of a previous
                                            solution), L_k the range of v_k·x over the box, t ~ U(box)

with φ one of :data:`ritzhrta.nets.features.FAMILIES`. Every feature is φ(w·x + b) with a sparse w,
so the net is a :class:`~ritzhrta.nets.features.RandomFeatureNet` whose hidden layer has that
structure: the output solve, the Laplacian (φ''·|w|²) and the two-draw estimate work unchanged. A
sum of one-variable functions (``poisson-nd``) is in the span of the first-order block for every d,
which full-dimensional features of equal count are not (measured: d = 20, rel L² 1e-14 here against
4e-3, ``benchmarks/results/highdim.md``).
"""
from __future__ import annotations

import torch

from ritzhrta.nets.features import RandomFeatureNet

__all__ = ["AnovaNet", "ANOVA_M1", "ANOVA_M2", "ANOVA_SCALE1", "ANOVA_SCALE2"]

# m₁ = 24 one-variable features per coordinate reach round-off on poisson-nd for d = 5 … 50
# (benchmarks/results/highdim.md); m₂ = 40 per pair, doubled by the route while the estimate falls;
# κ₁ = κ₂ = 3 (Gaussian family). Chosen on poisson-nd and pairs-nd at d = 5-10 (scratch runs, not committed).
ANOVA_M1 = 24
ANOVA_M2 = 40
ANOVA_SCALE1 = 3.0
ANOVA_SCALE2 = 3.0


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    return value


class AnovaNet(RandomFeatureNet):
    """Random features on single coordinates, on coordinate ``pairs`` and along a ``frame`` (see
    the module doc). ``domain`` must be a box (its sides set the scales and the centres).

    >>> from ritzhrta import Box
    >>> net = AnovaNet(Box([0] * 6, [1] * 6), m1=4, pairs=[(0, 1)], m2=3)
    >>> net.width, int((net.hidden.weight != 0).sum(1).max())
    (27, 2)
    """

    def __init__(self, domain, m1: int = ANOVA_M1, pairs=(), m2: int = ANOVA_M2, family: str = "gauss",
                 scale1: float = ANOVA_SCALE1, scale2: float = ANOVA_SCALE2, frame: torch.Tensor | None = None,
                 ridge: int = 0, ridge_scale: float = ANOVA_SCALE1) -> None:
        if not hasattr(domain, "lo") or type(domain).__name__ != "Box":
            raise ValueError(f"ANOVA features need a box domain, got {type(domain).__name__}")
        d = domain.dim
        m1, m2, ridge = _positive_int("m1", m1), _positive_int("m2", m2), _positive_int("ridge", ridge)
        pairs = [tuple(sorted((int(i), int(j)))) for i, j in pairs]
        for i, j in pairs:
            if not (0 <= i < j < d):
                raise ValueError(f"a pair must name two different coordinates in 0 … {d - 1}, got {(i, j)}")
        if len(set(pairs)) != len(pairs):
            raise ValueError("pairs must not repeat")
        if frame is not None and (frame.ndim != 2 or frame.shape[0] != d):
            raise ValueError(f"frame must have shape ({d}, k), got {tuple(frame.shape)}")
        if ridge and frame is None:
            frame = torch.eye(d, dtype=torch.float64)
        width = d * m1 + len(pairs) * m2 + ridge
        if width < 1:
            raise ValueError("an ANOVA net needs at least one feature (m1, pairs with m2, or ridge > 0)")
        super().__init__(domain, width, family, 1.0, enrich=False)
        self.c = torch.nn.Parameter(torch.zeros(()))  # the constant of the ANOVA expansion
        self.m1, self.m2, self.pairs, self.ridge_count = m1, m2, pairs, ridge
        self.scale1, self.scale2, self.ridge_scale = float(scale1), float(scale2), float(ridge_scale)
        self.frame = None if frame is None else frame.detach().to(torch.float64).clone()
        self._draw()

    @torch.no_grad()
    def _draw(self) -> None:
        """Draw the structured hidden layer (torch's global generator)."""
        d, lo, hi = self.dim, torch.as_tensor(self._domain.lo), torch.as_tensor(self._domain.hi)
        span = hi - lo
        w = torch.zeros(self.width, d, dtype=torch.float64)
        centres = lo + torch.rand(self.width, d, dtype=torch.float64) * span
        row = 0
        for i in range(d):
            w[row:row + self.m1, i] = torch.randn(self.m1, dtype=torch.float64) * self.scale1 / span[i]
            row += self.m1
        for i, j in self.pairs:
            length = float(max(span[i], span[j]))
            w[row:row + self.m2, [i, j]] = torch.randn(self.m2, 2, dtype=torch.float64) * self.scale2 / length
            row += self.m2
        if self.ridge_count:
            k = self.frame.shape[1]
            length = self.frame.abs().T @ span  # (k,): the range of v_k·x over the box
            z = torch.randn(self.ridge_count, k, dtype=torch.float64) * self.ridge_scale / length
            w[row:] = z @ self.frame.T
        p = self.hidden.weight
        self.hidden.weight.copy_(w.to(p))
        self.hidden.bias.copy_((-(w * centres).sum(1)).to(p))

    @property
    def scale(self) -> float:
        """No m^(−1/2) output factor: the columns are scaled in the solve."""
        return 1.0

    def redraw(self) -> "AnovaNet":
        """A fresh draw with the same blocks (coordinates, pairs, frame), dtype and device."""
        p = self.hidden.weight
        return AnovaNet(self._domain, self.m1, self.pairs, self.m2, self.family, self.scale1, self.scale2,
                        self.frame, self.ridge_count, self.ridge_scale).to(p.device, p.dtype)

    @property
    def unknowns(self) -> int:
        return self.width + 1

    def structure(self) -> dict:
        """What rebuilds this net's shape (saved with a run's checkpoint)."""
        return {"kind": "anova", "m1": self.m1, "m2": self.m2, "pairs": [list(p) for p in self.pairs],
                "family": self.family, "ridge": self.ridge_count,
                "frame": None if self.frame is None else self.frame.tolist()}

    def extra_repr(self) -> str:
        return (f"dim={self.dim}, width={self.width}, family={self.family}, first order {self.m1} per coordinate, "
                f"{len(self.pairs)} pairs × {self.m2}, ridge {self.ridge_count}")
