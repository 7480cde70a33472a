"""Local random features on patches (METHOD §8b; issue 24).

    u(x) = Σ_p Σ_{j ≤ M} a_pj exp(−|x − x_pj|² / (2σ_p²)) + Σ_k e_k s_k(x),   σ_p = factor · h_p

Each patch p is an axis-aligned box [lo_p, lo_p + h_p] (a leaf of a quadtree/octree over the
domain's bounding box, kept where it meets the domain) carrying M Gaussian features centred at
random points x_pj of the patch, with a width proportional to the patch's size: where the patches
are small the features are narrow, so refining patches adds resolution where it is needed
(:mod:`ritzhrta.training.adaptive`). The s_k are the singular functions of the domain's
re-entrant corners (:mod:`ritzhrta.nets.enrichment`). Only the output coefficients (a, e) are
solved for; the features are drawn once per patch set.

The features are not multiplied by a partition of unity: a Gaussian of width σ_p is negligible
(< 1e-16) beyond 8.6σ_p of its centre, which keeps each feature local, but the least-squares
system is assembled and solved densely (its cost grows as (unknowns)² × rows).
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from ritzhrta.nets import enrichment

__all__ = ["LocalFeatureNet", "DEFAULT_PER_PATCH", "DEFAULT_FACTOR"]

DEFAULT_PER_PATCH = 16  # measured on peak: 16 and 24 per patch, benchmarks/results/adaptive.md
DEFAULT_FACTOR = 1.0  # σ_p = h_p
_BATCH = 4096  # rows per evaluation batch (the basis is dense: rows × unknowns)


class LocalFeatureNet(nn.Module):
    """Gaussian features local to ``patches`` (a sequence of (lo, h): lower corner and side) on
    ``domain``; ``per_patch`` features each, of width ``factor · h``. Drawn from torch's global RNG.

    >>> from ritzhrta import Box
    >>> net = LocalFeatureNet(Box([0, 0], [1, 1]), [((0.0, 0.0), 0.5), ((0.5, 0.0), 0.5)], per_patch=4)
    >>> net(torch.rand(3, 2, dtype=torch.float64)).shape
    torch.Size([3])
    """

    family = "local-gauss"  # analytic features: the residual loss's second derivatives exist (any k)
    k = 2

    def __init__(self, domain, patches: Sequence, per_patch: int = DEFAULT_PER_PATCH,
                 factor: float = DEFAULT_FACTOR, enrich: bool = True, base_width: int = 0) -> None:
        super().__init__()
        # a global layer of analytic features under the local ones (base_width > 0): the smooth part
        # of the solution is resolved by it, the local features only add what varies within patches
        self.base_width = int(base_width)
        if self.base_width:
            from ritzhrta.nets.features import RandomFeatureNet

            self.base = RandomFeatureNet(domain, self.base_width, enrich=enrich).double()
            enrich = False  # the base carries the corner functions
        else:
            self.base = None
        if isinstance(per_patch, bool) or not isinstance(per_patch, int) or per_patch < 1:
            raise ValueError(f"per_patch must be a positive integer, got {per_patch!r}")
        if not (isinstance(factor, (int, float)) and math.isfinite(factor) and factor > 0):
            raise ValueError(f"factor must be a finite number > 0, got {factor!r}")
        if len(patches) == 0 and not base_width:
            raise ValueError("a LocalFeatureNet needs at least one patch (none meets the domain)")
        self.dim, self._domain, self.per_patch, self.factor = domain.dim, domain, per_patch, float(factor)
        self.patches = [(np.asarray(lo, dtype=float), float(h)) for lo, h in patches]
        lo = torch.tensor(np.stack([p[0] for p in self.patches]) if self.patches else np.zeros((0, self.dim)),
                          dtype=torch.float64)
        h = torch.tensor([p[1] for p in self.patches], dtype=torch.float64)
        u = torch.rand(len(self.patches), per_patch, self.dim, dtype=torch.float64)
        self.register_buffer("centres", (lo[:, None, :] + h[:, None, None] * u).reshape(-1, self.dim))
        self.register_buffer("sigma", (self.factor * h).repeat_interleave(per_patch))
        self.register_buffer("s", torch.tensor(1.0, dtype=torch.float64))
        self.width = len(self.patches) * per_patch
        self._corners = enrichment.corner_functions(domain) if enrich else []
        self.a = nn.Parameter(torch.zeros(self.width, dtype=torch.float64))
        self.e = nn.Parameter(torch.zeros(len(self._corners), dtype=torch.float64)) if self._corners else None
        self.c = None

    # --- what the solver and the output solve ask of a network -----------------------------
    def set_s(self, s: float) -> None:
        if float(s) != 1.0:
            raise ValueError(f"LocalFeatureNet has no homotopy parameter: use stages with s = 1, got s = {float(s):g}")

    def redraw(self) -> "LocalFeatureNet":
        """The same patches with fresh feature centres (torch's global RNG): the two-draw estimate."""
        return LocalFeatureNet(self._domain, self.patches, self.per_patch, self.factor,
                               bool(self._corners) or (self.base is not None and bool(self.base._corners)),
                               self.base_width).to(self.a.device, self.a.dtype)

    def _gauss(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        d = x[:, None, :] - self.centres.to(x)[None]
        inv = 1 / self.sigma.to(x) ** 2
        r2 = (d * d).sum(-1)
        return torch.exp(-0.5 * r2 * inv), d, r2

    def output_basis(self, x: Tensor, gradients: bool = False) -> tuple[Tensor, Tensor | None]:
        """Φ = [φ_pj(x) | s_k(x)] and ∇Φ (∇φ = −(x − x_pj)/σ² · φ)."""
        e, d, _ = self._gauss(x)
        grad = -d * (e / self.sigma.to(x) ** 2)[..., None] if gradients else None
        if self.e is not None:
            sv, sg = enrichment.evaluate(self._corners, x, gradients=gradients)
            e = torch.cat([e, sv.to(e)], 1)
            grad = torch.cat([grad, sg.to(grad)], 1) if gradients else None
        if self.base is not None:
            be, bg = self.base.output_basis(x.to(torch.float64), gradients)
            e = torch.cat([be.to(e), e], 1)
            grad = torch.cat([bg.to(grad), grad], 1) if gradients else None
        return e, grad

    def output_laplacian(self, x: Tensor) -> Tensor:
        """ΔΦ: Δφ = (|x − x_pj|²/σ⁴ − d/σ²) φ; the corner functions are harmonic."""
        e, _, r2 = self._gauss(x)
        s2 = self.sigma.to(x) ** 2
        lap = e * (r2 / s2 ** 2 - self.dim / s2)
        lap = torch.cat([lap, lap.new_zeros(lap.shape[0], self.e.numel())], 1) if self.e is not None else lap
        if self.base is not None:
            lap = torch.cat([self.base.output_laplacian(x.to(torch.float64)).to(lap), lap], 1)
        return lap

    def value_and_grad(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """u and ∇u, in batches of rows (the basis is dense)."""
        coef = self._coef()
        us, gs = [], []
        for start in range(0, x.shape[0], _BATCH):
            phi, grad = self.output_basis(x[start:start + _BATCH], gradients=True)
            us.append(phi @ coef.to(phi))
            gs.append((grad * coef.to(grad)[None, :, None]).sum(1))
        if not us:
            return x.new_zeros(0), x.new_zeros(0, self.dim)
        return torch.cat(us), torch.cat(gs)

    def forward(self, x: Tensor) -> Tensor:
        coef = self._coef()
        return torch.cat([self.output_basis(x[i:i + _BATCH])[0] @ coef.to(x) for i in range(0, x.shape[0], _BATCH)]) \
            if x.shape[0] else x.new_zeros(0)

    def _coef(self) -> Tensor:
        local = torch.cat([self.a, self.e]) if self.e is not None else self.a
        if self.base is None:
            return local
        b = self.base
        parts = [b.a] + ([b.e] if b.e is not None else []) + ([b.c.reshape(1)] if b.c is not None else [])
        return torch.cat([torch.cat([q.to(local) for q in parts]), local])

    @property
    def unknowns(self) -> int:
        from ritzhrta.training.lstsq import output_size

        return self.width + (0 if self.e is None else self.e.numel()) + (0 if self.base is None else output_size(self.base))

    @torch.no_grad()
    def set_output(self, coef: Tensor) -> None:
        """Write [base; a; e] (base: the global layer's coefficients; e: corner-function weights)."""
        if coef.shape != (self.unknowns,):
            raise ValueError(f"output coefficients must have shape ({self.unknowns},), got {tuple(coef.shape)}")
        if self.base is not None:
            from ritzhrta.training.lstsq import output_size

            nb = output_size(self.base)
            self.base.set_output(coef[:nb])
            coef = coef[nb:]
        self.a.copy_(coef[:self.width].to(self.a))
        if self.e is not None:
            self.e.copy_(coef[self.width:].to(self.e))

    def patch_level(self, x: Tensor | np.ndarray, root: float) -> np.ndarray:
        """The refinement level log2(root / h) of the patch holding each point (−1: none)."""
        arr = x.detach().cpu().double().numpy() if isinstance(x, Tensor) else np.asarray(x, float)
        level = np.full(len(arr), -1, dtype=int)
        for lo, h in self.patches:
            inside = np.all((arr >= lo - 1e-12) & (arr <= lo + h + 1e-12), axis=1)
            level[inside] = np.maximum(level[inside], round(math.log2(root / h)))
        return level

    def extra_repr(self) -> str:
        corners = f", corner functions={len(self._corners)}" if self._corners else ""
        return f"dim={self.dim}, patches={len(self.patches)}, per_patch={self.per_patch}, factor={self.factor:g}{corners}"
