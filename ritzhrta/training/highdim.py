"""The high-dimensional route (d > 3 on a box; METHOD §8c, issue 36): the basis follows the
structure of the solution, chosen by a residual estimate that is cheap in any d.

1. **ANOVA-1**: one-variable features per coordinate (:class:`~ritzhrta.nets.anova.AnovaNet`), one
   least-squares solve of the strong-form residual. Exact in structure for additive solutions.
2. **Separated, rank 1**, when (1) is not resolved (it costs about as much): see 5.
3. **ANOVA-2**, when (2) is not resolved either: rank the coordinate pairs by how much of the residual on
   fresh points the interaction-only products P_a(x_i)P_b(x_j) (a, b = 1 … 3) explain, add
   features on the top pairs, re-solve; repeat while the estimate falls by more than
   :data:`STALL` and the column budget allows.
4. **Active subspace**, when (3) stalls: the ANOVA blocks plus ridge features along the leading
   eigenvectors of the gradient covariance of the source and of the best model so far (a ridge
   solution g(v·x) has a ridge source), up to three rounds.
5. **Separated**, when rank 1 had helped: u = Σ_r Π_i g_ri(x_i)
   (:class:`~ritzhrta.nets.separated.SeparatedNet`) fitted by Levenberg–Marquardt on the same
   residual, rank 2, 3, … (each started from the last) while the estimate falls.

"Resolved" is an estimate below a tenth of the run's ``tol``. The answer is the candidate with the
smallest estimate. The estimate (:func:`residual_estimate`) is
the residual on points not used in the fit — interior, and boundary points on every face —

    η = ( C_P² ‖R‖²_{L²(Ω)} + ℓ⁻¹ ‖u − h‖²_{L²(Γ_D)} + ℓ ‖a∂_n u − g‖²_{L²(Γ_N)} )^{1/2} / ‖u‖_{H¹(Ω)},
    C_P = 1 / (π (Σ_i ℓ_i⁻²)^{1/2}),   ℓ = the mean side,

C_P the Poincaré constant of the box (−Δ's first Dirichlet eigenvalue is π² Σ ℓ_i⁻²), so that the
first term is the H¹ error of an error whose residual sits in the lowest mode. Measured effectivity:
``benchmarks/results/highdim.md`` (column estimate / true). No exact solution is used. Beside it a
second opinion at the cost of one more solve (:func:`second_opinion`); the reported estimate is the
smaller where the two agree within :data:`DISAGREE`, else the larger (METHOD §8c).
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch

from ritzhrta.geometry.domains import Points
from ritzhrta.nets.anova import AnovaNet
from ritzhrta.nets.separated import SeparatedNet, legendre

__all__ = ["FAMILIES", "face_points", "point_sets", "residual_estimate", "rank_pairs", "fit_anova",
           "fit_separated", "solve_highdim", "route_bytes", "second_opinion", "STALL", "COLUMN_BUDGET", "ROWS_PER_COLUMN", "PER_FACE"]

FAMILIES = ("auto", "anova1", "anova2", "separated", "ridge")
STALL = 0.5  # a stage that does not bring the estimate below STALL × the previous one has stalled
COLUMN_BUDGET = 3000  # ANOVA columns at most (a dense solve of 2·budget rows: ~10 CPU-s)
ROWS_PER_COLUMN = 2  # interior points per unknown (plus the face points)
PER_FACE = 64  # boundary points on each of the 2d faces
MIN_INTERIOR = 2000
PAIR_DEGREE = 3
ACTIVE_CUT = 0.2  # active directions: eigenvalues of the gradient covariance within 0.2 of the largest …
ACTIVE_MAX = 4  # … at most 4 of them …
RIDGE_PER_DIRECTION = 40  # … with 40·k² ridge features for k directions, in up to 3 rounds
ACTIVE_ROUNDS = 3
NOISE = 100.0  # an interior residual within 100x its float64 rounding (_rounding) resolves nothing
# Where the residual estimate and the second opinion disagree by more than DISAGREE, the larger is
# reported. Measured (benchmarks/results/highdim.md): where the second opinion is right, the residual
# bound is up to 12x high (poisson-nd d = 5 at round-off: its error is high-frequency, the Poincaré
# constant the low-frequency worst case; separated fits 2-4x); where the second opinion is wrong (both
# draws share ANOVA-1's missing interactions on gaussian-nd), it is 36x low.
DISAGREE = 20.0
PAIR_SHARE = 0.05  # a pair joins when it explains ≥ 5 % of what the best new pair explains …
PAIR_MIN_SHARE = 0.01  # … and ≥ 1 % of the residual (chance alone explains ~degree²/n of it)


def _check_box(problem) -> None:
    if type(problem.domain).__name__ != "Box":
        raise ValueError(f"the high-dimensional route needs a box domain, got {type(problem.domain).__name__}")


def face_points(domain, per_face: int, seed: int, dtype=torch.float64) -> Points:
    """``per_face`` scrambled-Sobol points on each of the 2d faces of a box, with outward normals
    and weights |face| / per_face."""
    from scipy.stats import qmc

    d, lo, hi = domain.dim, np.asarray(domain.lo, float), np.asarray(domain.hi, float)
    xs, ws, ns = [], [], []
    for i in range(d):
        other = [j for j in range(d) if j != i]
        area = float(np.prod(hi[other] - lo[other]))
        for side, value in ((-1.0, lo[i]), (1.0, hi[i])):
            u = qmc.Sobol(d - 1, scramble=True, seed=seed + 2 * i + (side > 0)).random(per_face) if d > 1 \
                else np.zeros((per_face, 0))
            x = np.empty((per_face, d))
            x[:, other] = lo[other] + u * (hi[other] - lo[other])
            x[:, i] = value
            n = np.zeros((per_face, d))
            n[:, i] = side
            xs.append(x), ws.append(np.full(per_face, area / per_face)), ns.append(n)
    t = lambda a: torch.as_tensor(np.concatenate(a), dtype=dtype)  # noqa: E731
    return Points(t(xs), t(ws), t(ns))


def point_sets(problem, n_interior: int, per_face: int = PER_FACE, seed: int = 0) -> tuple[Points, Points]:
    """(interior, boundary): scrambled Sobol points inside and on every face (float64)."""
    interior = problem.domain.interior(n_interior, "sobol", seed=seed, dtype=torch.float64)
    return interior, face_points(problem.domain, per_face, seed + 1)


def _net_terms(net, x):
    """u, ∇u, Δu of an ANOVA / ridge or separated net at x (float64)."""
    if isinstance(net, SeparatedNet):
        return net.terms(x)
    from ritzhrta.forms.residual import network_laplacian

    u, g = net.value_and_grad(x)
    return u, g, network_laplacian(net, x)


def _residuals(net, problem, interior: Points, boundary: Points):
    """Interior residual R = f + aΔu + ∇a·∇u − Vu, Dirichlet residual u − h and flux residual
    a∂_n u + κu − g at the given points (float64, detached)."""
    from ritzhrta.forms.residual import coefficient_grad

    with torch.no_grad():
        x = interior.x
        u, g, lap = _net_terms(net, x)
        r = problem.f(x) + problem.a(x) * lap - problem.V(x) * u
        da = coefficient_grad(problem, x)
        if da is not None:
            r = r + (da * g).sum(1)
        xb = boundary.x
        ub, gb, _ = _net_terms(net, xb)
        dmask = problem.dirichlet_mask(xb)
        rd = torch.zeros_like(ub)
        if bool(dmask.any()):
            rd[dmask] = ub[dmask] - problem.h(xb[dmask])
        rn = torch.zeros_like(ub)
        if bool((~dmask).any()):
            keep = ~dmask
            flux = problem.a(xb[keep]) * (gb[keep] * boundary.normals[keep]).sum(1) - problem.g(xb[keep])
            if problem.has_robin:
                flux = flux + problem.kappa(xb[keep]) * ub[keep]
            rn[keep] = flux
    return r.double(), rd.double(), rn.double(), dmask


def residual_estimate(net, problem, interior: Points, boundary: Points) -> dict:
    """The relative H¹ estimate of the module doc on the given (fresh) points: {"h1", "interior",
    "dirichlet", "neumann"} (the three parts, each relative to ‖u‖_{H¹})."""
    span = np.asarray(problem.domain.hi, float) - np.asarray(problem.domain.lo, float)
    cp, ell = 1 / (math.pi * math.sqrt(float((span ** -2.0).sum()))), float(span.mean())
    r, rd, rn, dmask = _residuals(net, problem, interior, boundary)
    with torch.no_grad():
        u, g, _ = _net_terms(net, interior.x)
        w, wb = interior.w.double(), boundary.w.double()
        norm = float((w * (u.double() ** 2 + (g.double() ** 2).sum(1))).sum())
        parts = {"interior": cp ** 2 * float((w * r ** 2).sum()), "dirichlet": float((wb * rd ** 2).sum()) / ell,
                 "neumann": ell * float((wb * rn ** 2).sum())}
        floor = cp ** 2 * float((w * _rounding(net, problem, interior.x) ** 2).sum())
    if not norm > 0:
        return {"h1": math.inf, "floor": math.inf, **{k: math.inf for k in parts}}
    out = {k: math.sqrt(v / norm) for k, v in parts.items()}
    out["h1"], out["floor"] = math.sqrt(sum(parts.values()) / norm), math.sqrt(floor / norm)
    return out


def _rounding(net, problem, x):
    """The size of the float64 rounding error of the interior residual at x: ε·(|f| + |V u| + |a|·Σ_j
    |c_j Δφ_j|) for a random-feature net (the sum its Laplacian cancels), ε·(|f| + |V u| + |a Δu|)
    otherwise. An interior residual within :data:`NOISE` times this is rounding, not error."""
    eps = torch.finfo(torch.float64).eps
    u, _, lap = _net_terms(net, x)
    if hasattr(net, "hidden") and hasattr(net, "family"):
        from ritzhrta.nets.features import FAMILIES

        d2 = FAMILIES[net.family](net.hidden(x).double())[2] * (net.hidden.weight.double() ** 2).sum(1)[None]
        lap = (net.scale * d2).abs() @ net.a.double().abs()
    return eps * (problem.f(x).double().abs() + (problem.V(x).double() * u).abs() +
                  (problem.a(x).double() * lap).abs())


def _feature_rows(net, problem, interior: Points, boundary: Points, mu: float):
    """(M, y) of the residual route's least-squares problem for a random-feature net φ(Wx + b)
    (+ c), assembled without the (n, m, d) gradient tensor: Δφ_j = φ''·|w_j|², ∇a·∇φ_j = φ'·(w_j·∇a),
    ∂_n φ_j = φ'·(w_j·n) (the same rows as :meth:`ritzhrta.forms.residual.ResidualLoss.rows`)."""
    from ritzhrta.forms.residual import coefficient_grad
    from ritzhrta.nets.features import FAMILIES

    W = net.hidden.weight.double()
    family = FAMILIES[net.family]
    extra = [] if net.c is None else [1.0]

    def columns(x):  # the net's output factor (m^(−1/2) for RandomFeatureNet, 1 for AnovaNet) included
        act, dact, d2 = family(net.hidden(x).double())
        return net.scale * act, net.scale * dact, net.scale * d2

    x = interior.x.double()
    act, dact, d2 = columns(x)
    op = -problem.a(x).double()[:, None] * d2 * (W ** 2).sum(1)[None] + problem.V(x).double()[:, None] * act
    da = coefficient_grad(problem, x)
    if da is not None:
        op = op - dact * (da.double() @ W.T)
    if extra:
        op = torch.cat([op, problem.V(x).double()[:, None] * torch.ones_like(op[:, :1])], 1)
    sw = interior.w.double().sqrt()
    rows, target = [op * sw[:, None]], [problem.f(x).double() * sw]
    xb = boundary.x.double()
    bact, bdact, _ = columns(xb)
    dmask = problem.dirichlet_mask(xb)
    swb = (mu * boundary.w.double()).sqrt()
    ones = torch.ones_like(bact[:, :1])
    if bool(dmask.any()):
        vals = torch.cat([bact, ones], 1) if extra else bact
        rows.append(vals[dmask] * swb[dmask, None])
        target.append(problem.h(xb[dmask]).double() * swb[dmask])
    keep = ~dmask
    if bool(keep.any()):
        xn = xb[keep]
        flux = problem.a(xn).double()[:, None] * bdact[keep] * (boundary.normals[keep].double() @ W.T)
        if extra:
            flux = torch.cat([flux, torch.zeros_like(flux[:, :1])], 1)
        if problem.has_robin:
            vals = torch.cat([bact[keep], ones[keep]], 1) if extra else bact[keep]
            flux = flux + problem.kappa(xn).double()[:, None] * vals
        rows.append(flux * swb[keep, None])
        target.append(problem.g(xn).double() * swb[keep])
    if problem.pure_neumann:
        vals = torch.cat([act, torch.ones_like(act[:, :1])], 1) if extra else act
        rows.append((vals * interior.w.double()[:, None]).sum(0, keepdim=True))
        target.append(torch.zeros(1, dtype=torch.float64))
    return torch.cat(rows), torch.cat(target)


def fit_anova(problem, net, interior: Points, boundary: Points, mu: float | None = None) -> None:
    """The output layer of a random-feature ``net`` (ANOVA or ridge) by the residual route's
    least-squares solve on these points (column-scaled rows, SVD cut-off; METHOD §4b)."""
    from ritzhrta.forms.residual import DEFAULT_BOUNDARY_WEIGHT
    from ritzhrta.training.lstsq import solve_rows

    with torch.no_grad():
        m, y = _feature_rows(net, problem, interior, boundary, DEFAULT_BOUNDARY_WEIGHT if mu is None else mu)
        if not (bool(torch.isfinite(m).all()) and bool(torch.isfinite(y).all())):
            raise FloatingPointError("the high-dimensional solve's rows have NaN or infinite entries: check the "
                                     "problem data (source, boundary data, coefficients)")
        net.set_output(solve_rows(m, y, 0.0, scale_columns=True))


def rank_pairs(problem, net, interior: Points, boundary: Points, degree: int = PAIR_DEGREE) -> list:
    """[(share, (i, j)), …] best first: the share of the interior residual ‖R‖² that the
    interaction-only products P_a(x_i) P_b(x_j) (1 ≤ a, b ≤ ``degree``, Legendre in box coordinates)
    explain by least squares, for every pair i < j."""
    r, _, _, _ = _residuals(net, problem, interior, boundary)
    x, d = interior.x.double(), problem.dim
    lo, hi = torch.as_tensor(problem.domain.lo).double(), torch.as_tensor(problem.domain.hi).double()
    table = legendre(2 * (x - lo) / (hi - lo) - 1, degree)[0][..., 1:]  # (n, d, degree)
    sw = interior.w.double().sqrt()
    rw = r * sw
    # take out what one-variable functions explain: the ranking is then by interaction alone
    mains = torch.cat([torch.ones_like(x[:, :1]), table.reshape(len(x), -1)], 1) * sw[:, None]
    rw = rw - (mains @ torch.linalg.lstsq(mains, rw[:, None]).solution)[:, 0]
    total = float((rw ** 2).sum())
    if not total > 0:
        return []
    out = []
    for i in range(d):
        for j in range(i + 1, d):
            design = (table[:, i, :, None] * table[:, j, None, :]).reshape(len(x), -1) * sw[:, None]
            coef = torch.linalg.lstsq(design, rw[:, None]).solution
            out.append((float(((design @ coef)[:, 0] ** 2).sum()) / total, (i, j)))
    out.sort(key=lambda t: -t[0])
    return out


def _separated_rows(net: SeparatedNet, problem, interior: Points, boundary: Points, mu: float):
    """(residual vector, Jacobian) of the weighted strong-form residual in the parameters A."""
    x = interior.x
    u, _, lap, ju, jl = net.terms(x, jacobian=True)
    a, V = problem.a(x).double(), problem.V(x).double()
    sw = interior.w.double().sqrt()
    res = [sw * (-a * lap + V * u - problem.f(x).double())]
    jac = [sw[:, None] * (-a[:, None] * jl + V[:, None] * ju)]
    xb = boundary.x
    dmask = problem.dirichlet_mask(xb)
    swb = (mu * boundary.w.double()).sqrt()
    if bool(dmask.any()):
        xd = xb[dmask]
        ub, _, _, jub, _ = net.terms(xd, jacobian=True)
        res.append(swb[dmask] * (ub - problem.h(xd).double()))
        jac.append(swb[dmask, None] * jub)
    keep = ~dmask
    if bool(keep.any()):
        xn, nn = xb[keep], boundary.normals[keep]
        axis, sign = nn.abs().argmax(1), nn.gather(1, nn.abs().argmax(1)[:, None])[:, 0]
        ub, gb, _, jub, _ = net.terms(xn, jacobian=True)
        an = problem.a(xn).double()
        flux = an * sign * gb.gather(1, axis[:, None])[:, 0] - problem.g(xn).double()
        jn = an[:, None] * sign[:, None] * net.normal_derivative_jacobian(xn, axis)
        if problem.has_robin:
            kappa = problem.kappa(xn).double()
            flux, jn = flux + kappa * ub, jn + kappa[:, None] * jub
        res.append(swb[keep] * flux)
        jac.append(swb[keep, None] * jn)
    return torch.cat(res), torch.cat(jac)


def fit_separated(problem, net: SeparatedNet, interior: Points, boundary: Points, iterations: int = 60,
                  mu: float = 100.0, stop=None) -> list[float]:
    """Levenberg–Marquardt on ‖residual(A)‖² (the strong-form rows of the residual route, in A):
    steps from lstsq of [J; √λ D] with D² = diag(JᵀJ); λ ÷ 3 on success, × 4 on failure; ends when
    the loss falls by less than 1e-12 relatively or after ``iterations``. Returns the losses."""
    if not problem.constant_diffusion:
        raise ValueError("the separated family needs a constant diffusion coefficient (its ∇a·∇u term is not "
                         "assembled); use --features anova2")
    lam, history = 1e-3, []
    with torch.no_grad():
        res, jac = _separated_rows(net, problem, interior, boundary, mu)
        loss = float((res ** 2).sum())
        history.append(loss)
        for _ in range(iterations):
            if stop is not None and stop():
                break
            d2 = (jac ** 2).sum(0)
            damp = torch.sqrt(lam * torch.clamp(d2, min=1e-12 * float(d2.max())))
            stacked = torch.cat([jac, torch.diag(damp)])
            rhs = torch.cat([-res, torch.zeros_like(damp)])
            step = torch.linalg.lstsq(stacked, rhs[:, None], driver="gelsd").solution[:, 0]
            old = net.A.detach().clone()
            net.A.add_(step.reshape(net.A.shape))
            new_res, new_jac = _separated_rows(net, problem, interior, boundary, mu)
            new_loss = float((new_res ** 2).sum())
            if math.isfinite(new_loss) and new_loss < loss:
                gain = (loss - new_loss) / loss
                res, jac, loss, lam = new_res, new_jac, new_loss, max(lam / 3, 1e-12)
                history.append(loss)
                if gain < 1e-12 or loss == 0:
                    break
            else:
                net.A.copy_(old)
                lam *= 4
                if lam > 1e10:
                    break
    return history


def _grown(net: SeparatedNet, rank: int) -> SeparatedNet:
    bigger = SeparatedNet(net._domain, rank, net.degree)
    with torch.no_grad():
        bigger.A[:net.rank] = net.A
    return bigger


def route_bytes(dim: int, budget: int = COLUMN_BUDGET, degree: int = 10, max_rank: int = 4,
                width: int | None = None) -> float:
    """Peak bytes of the route in ``dim`` dimensions: three copies of its largest dense system — the
    ANOVA rows ((ROWS_PER_COLUMN·budget + 2d·PER_FACE) × budget), the ridge rows (4·width + 2d·PER_FACE) ×
    width with ``width`` given, or the separated Jacobian ((4d(p+1) + 2d·PER_FACE) × R·d·(p+1)) — in float64."""
    faces = 2 * dim * PER_FACE
    anova = (max(MIN_INTERIOR, ROWS_PER_COLUMN * budget) + faces) * budget
    if width is not None:
        anova = max(anova, (max(MIN_INTERIOR, 4 * width) + faces) * width)
    separated = (max(MIN_INTERIOR, 4 * dim * (degree + 1)) + faces) * max_rank * dim * (degree + 3)
    return 3.0 * 8 * max(anova, separated)


def solve_highdim(problem, features: str = "auto", tol: float = 1e-2, seed: int = 0, m1: int | None = None,
                  budget: int = COLUMN_BUDGET, degree: int = 10, max_rank: int = 4, width: int | None = None,
                  callback=None, stop=None) -> tuple:
    """The route of the module doc: (net, report) with report = {"family", "estimate" (the residual
    estimate's dict of the chosen net), "candidates": [{family, unknowns, estimate, cpu_seconds, ...}]}.
    ``features``: one of :data:`FAMILIES` ("auto": ANOVA-1; while the estimate is above ``tol``/10, the
    separated family at rank 1 (it is cheap), then ANOVA-2, then separated ranks 2 … ``max_rank``, each
    while it falls; the others force one family; "ridge" is the full-dimensional random-feature layer, of ``width`` features; default :func:`~ritzhrta.training.routes.residual_width`). ``callback(candidate)`` after each candidate; ``stop()``
    asked between candidates and inside the Levenberg–Marquardt loop."""
    from ritzhrta.nets.anova import ANOVA_M1, ANOVA_M2

    if features not in FAMILIES:
        raise ValueError(f"features must be one of {FAMILIES}, got {features!r}")
    _check_box(problem)
    from ritzhrta.training.memory import check_memory

    check_memory("highdim", width or 0, 0, problem.dim)
    m1 = ANOVA_M1 if m1 is None else m1
    d = problem.dim
    rng_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    candidates, best = [], None
    target = tol / 10  # keep refining while the estimate is above a tenth of the tolerance
    fresh = point_sets(problem, max(MIN_INTERIOR, 4096), PER_FACE, seed=seed + 4242)

    def record(family: str, net, cpu0: float, **extra) -> float:
        nonlocal best
        est = residual_estimate(net, problem, *fresh)
        unknowns = net.A.numel() if isinstance(net, SeparatedNet) else net.width + 1
        entry = {"family": family, "unknowns": unknowns, "estimate": est["h1"],
                 "cpu_seconds": time.process_time() - cpu0, **extra}
        candidates.append(entry)
        if best is None or est["h1"] < best[2]["h1"]:
            best = (family, net, est)
        if callback is not None:
            callback(entry)
        return est["h1"]

    def anova(pairs, m2, m1=m1):
        net = AnovaNet(problem.domain, m1, pairs, m2).double()
        n = max(MIN_INTERIOR, ROWS_PER_COLUMN * (net.width + 1))
        interior, boundary = point_sets(problem, n, PER_FACE, seed=seed + len(candidates))
        fit_anova(problem, net, interior, boundary)
        return net

    def anova2(net, eta):
        """Pairs by their share of the residual, then richer pair blocks, while the estimate falls."""
        pairs, m2, first = [], ANOVA_M2, True
        while stop is None or not stop():
            cpu0 = time.process_time()
            ranked = [(share, p) for share, p in rank_pairs(problem, net, *fresh) if p not in pairs]
            top = ranked[0][0] if ranked else 0.0
            new = [p for share, p in ranked if share >= max(PAIR_SHARE * top, PAIR_MIN_SHARE)]
            new = new[:max(0, (budget - d * m1) // m2 - len(pairs))]
            if new:  # the pairs that carry the residual
                pairs = pairs + new
            elif not first and d * m1 + 2 * m2 * len(pairs) <= budget:  # no new pair: richer pair blocks
                m2 *= 2
            else:
                break
            first = False
            net = anova(pairs, m2)
            previous, eta = eta, record("anova2", net, cpu0, pairs=len(pairs), m2=m2)
            if eta <= target or eta > STALL * previous:
                break
        return (net.pairs, net.m2) if isinstance(net, AnovaNet) else ([], ANOVA_M2)

    def active(pairs, m2):
        """ANOVA blocks plus ridge features along an active subspace: the leading eigenvectors (eigenvalues
        ≥ ACTIVE_CUT of the largest, at most ACTIVE_MAX) of C = C_f/tr C_f + C_u/tr C_u, C_f = mean ∇f∇fᵀ
        (the source: a ridge solution has a ridge source) and C_u = mean ∇u∇uᵀ of the best model so far,
        on fresh points; RIDGE_PER_DIRECTION·k² features for k directions. Repeated (the new model's
        gradient sharpens the subspace) while the estimate falls."""
        x = fresh[0].x
        with torch.enable_grad():
            xg = x.detach().clone().requires_grad_(True)
            fx = problem.f(xg)
            gf = torch.autograd.grad(fx.sum(), xg, allow_unused=True)[0] if fx.requires_grad else None
        cf = None if gf is None else gf.detach().double().T @ gf.detach().double()
        eta = best[2]["h1"]
        for _ in range(ACTIVE_ROUNDS):
            if stop is not None and stop():
                return
            cpu0 = time.process_time()
            with torch.no_grad():
                g = _net_terms(best[1], x)[1].double()
                cov = g.T @ g
                cov = cov / cov.trace() if cov.trace() > 0 else cov
                if cf is not None and cf.trace() > 0:
                    cov = cov + cf / cf.trace()
                evals, evecs = torch.linalg.eigh(cov)
            evals, evecs = evals.flip(0), evecs.flip(1)
            if not evals[0] > 0:
                return
            k = int(min(ACTIVE_MAX, int((evals >= ACTIVE_CUT * evals[0]).sum())))
            ridge = min(RIDGE_PER_DIRECTION * k * k, max(0, budget - d * m1 - len(pairs) * m2))
            if ridge == 0:
                return
            net = AnovaNet(problem.domain, m1, pairs, m2, frame=evecs[:, :k], ridge=ridge).double()
            n = max(MIN_INTERIOR, ROWS_PER_COLUMN * (net.width + 1))
            fit_anova(problem, net, *point_sets(problem, n, PER_FACE, seed=seed + len(candidates)))
            previous, eta = eta, record("anova+active", net, cpu0, pairs=len(pairs), directions=k, ridge=ridge)
            if eta <= target or eta > STALL * previous:
                return

    separated = {"net": None, "eta": math.inf, "points": None}

    def separated_ranks(ranks):
        """Levenberg–Marquardt on ranks ``ranks`` (each started from the previous), while the estimate falls."""
        if separated["points"] is None:
            n = max(MIN_INTERIOR, 4 * d * (degree + 1))
            separated["points"] = point_sets(problem, n, PER_FACE, seed=seed + 17)
        for rank in ranks:
            if stop is not None and stop():
                break
            cpu0 = time.process_time()
            net = SeparatedNet(problem.domain, 1, degree) if separated["net"] is None else \
                _grown(separated["net"], rank)
            fit_separated(problem, net, *separated["points"], stop=stop)
            previous = separated["eta"]
            separated["net"], separated["eta"] = net, record("separated", net, cpu0, rank=rank)
            if separated["eta"] <= target or separated["eta"] > STALL * previous:
                return False  # resolved or stalled: no higher rank
        return True

    def unresolved() -> bool:
        return best[2]["h1"] > target and (stop is None or not stop())

    try:
        if features == "ridge":
            from ritzhrta.nets.features import RandomFeatureNet
            from ritzhrta.training.routes import residual_scale, residual_width

            cpu0 = time.process_time()
            net = RandomFeatureNet(problem.domain, width or residual_width(d), scale=residual_scale(d)).double()
            interior, boundary = point_sets(problem, max(MIN_INTERIOR, 4 * net.width), PER_FACE, seed)
            fit_anova(problem, net, interior, boundary)
            record("ridge", net, cpu0)
        elif features == "separated":
            separated_ranks(range(1, max_rank + 1))
        else:  # auto, anova1, anova2: the cheap candidates first
            cpu0 = time.process_time()
            net = anova([], ANOVA_M2)
            eta = record("anova1", net, cpu0)
            sep = features == "auto" and problem.constant_diffusion
            grow = sep and unresolved() and separated_ranks([1]) and separated["eta"] <= STALL * eta
            if features == "anova2" or (features == "auto" and unresolved()):
                pairs, m2 = anova2(net, eta)
                if unresolved():
                    active(pairs, m2)
            if grow and unresolved():
                separated_ranks(range(2, max_rank + 1))
        family, net, est = best
        second, how = second_opinion(problem, net, fresh, seed)
    finally:
        torch.random.set_rng_state(rng_state)
    # the reported estimate: the smaller of the two where they agree within DISAGREE (each tends to
    # overestimate there: the residual bound by the Poincaré constant's slack for oscillatory residuals,
    # a second draw by its own luck), else the larger (one of them misses what both fits lack)
    larger, smaller = max(second, est["h1"]), min(second, est["h1"])
    rounding = est["h1"] <= NOISE * est["floor"]  # the residual is rounding: it cannot judge this solve
    reported = second if rounding else (smaller if larger <= DISAGREE * smaller else larger)
    estimate = {"h1": reported, "residual": est["h1"], "second_opinion": second, "second_method": how,
                "residual_at_rounding": rounding, "parts": {k: v for k, v in est.items() if k != "h1"}}
    return net, {"family": family, "estimate": estimate, "candidates": candidates}


def _relative_h1(net, other, pts: Points) -> float:
    with torch.no_grad():
        ua, ga, _ = _net_terms(net, pts.x)
        ub, gb, _ = _net_terms(other, pts.x)
        w = pts.w.double()
        diff = float((w * ((ua - ub) ** 2 + ((ga - gb) ** 2).sum(1))).sum())
        norm = float((w * (ub ** 2 + (gb ** 2).sum(1))).sum())
    return math.sqrt(diff / norm) if norm > 0 else math.inf


def second_opinion(problem, net, fresh, seed: int) -> tuple[float, str]:
    """A second estimate of the chosen model's relative H¹ error, at the cost of one more solve:
    for a separated model ‖u_p − u_{p+2}‖_{H¹}/‖u_{p+2}‖_{H¹} (degree p + 2, started from u_p); for a
    random-feature model the two-draw estimate ‖u_a − u_b‖/(√2‖u_b‖) (same blocks, a fresh draw, other
    points)."""
    n = max(MIN_INTERIOR, ROWS_PER_COLUMN * (getattr(net, "width", 0) + 1), 4 * problem.dim * 13)
    interior, boundary = point_sets(problem, n, PER_FACE, seed=seed + 911)
    if isinstance(net, SeparatedNet):
        finer = SeparatedNet(net._domain, net.rank, net.degree + 2)
        with torch.no_grad():
            finer.A.zero_()
            finer.A[:, :, :net.degree + 1] = net.A
        fit_separated(problem, finer, interior, boundary, iterations=20)
        return _relative_h1(net, finer, fresh[0]), "p-difference (degree p + 2)"
    torch.manual_seed(seed + 7919)
    other = net.redraw() if hasattr(net, "redraw") else None
    if other is None:
        return math.inf, "none"
    fit_anova(problem, other.double(), interior, boundary)
    return _relative_h1(net, other, fresh[0]) / math.sqrt(2), "two-draw"

