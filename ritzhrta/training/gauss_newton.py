"""Gauss–Newton training of all parameters = energy natural gradient (METHOD §7).

Every loss of the package is a quadratic functional of u: L(θ) = Q(u_θ). Linearising
u around θ, u_θ+δ ≈ u_θ + Σ_k δ_k ∂_k u, gives the model ½ δᵀGδ + ∇Lᵀδ with

    G_kl = a(∂_k u, ∂_l u)

the loss's bilinear form on the parameter derivatives — the matrix A that the loss's
:meth:`quadratic` returns for the columns ∂_k u (energy: ∫∇v·∇w + Vvw + boundary terms;
H¹: ∫vw + ∇v·∇w; L²: ∫vw). One iteration:

1. optionally re-solve the output layer exactly (:func:`ritzhrta.training.lstsq.fit_output_layer`);
2. solve (G + μ·tr(G)/p·I) δ = −∇L (Cholesky, float64; Levenberg–Marquardt μ);
3. line search on the true loss: the first η ∈ {1, ½, ¼, …} that lowers it; μ shrinks
   after a full step and grows after a failure;
4. keep the best iterate; stop on a relative decrease below ``tol`` ``patience`` times
   in a row, or after ``iterations``.

Dense (``solver="dense"``) for up to :data:`DENSE_LIMIT` parameters: it forms G (p × p).
Above that (or with ``solver="cg"``) the step comes from conjugate gradients on
(G + μρI) δ = −∇L without forming G or the Jacobian: since the loss is quadratic in u,

    G v = [∇_θ L(u_θ + c·w) − ∇_θ L(u_θ)] / c,    w = J v = d/dt u_{θ+tv}  (held fixed)

exactly (no finite-difference error), with w from forward-mode AD of the closed-form (u, ∇u)
of a TwoLayerNet (possibly wrapped by ExactDirichlet), or, for an MLP, by reverse over reverse
(J v = ∂/∂r [(∂(rᵀF)/∂θ)·v], F = (u, ∇u) by autograd); ρ = gᵀGg / gᵀg stands for tr(G)/p. Each
product costs one tangent pass and one gradient of the loss: memory O(n·m), not O(n·p).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor, nn

from ritzhrta.activations import sigma_and_derivative, sigma_second
from ritzhrta.geometry.domains import Points
from ritzhrta.forms.losses import Columns
from ritzhrta.training.lstsq import fit_output_layer, galerkin_ridge
from ritzhrta.nets.networks import MLP, TwoLayerNet

__all__ = ["gauss_newton_fit", "parameter_columns", "gram_product", "check_gauss_newton", "DENSE_LIMIT", "GNReport"]

DENSE_LIMIT = 8000  # parameters; the dense p × p solve costs O(p³)
SOLVERS = ("auto", "dense", "cg")


def check_gauss_newton(net: nn.Module, loss, solver: str = "auto") -> None:
    """Raise ``ValueError`` naming the alternative when the trainer cannot handle the case."""
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    inner = getattr(net, "net", net)  # an ExactDirichlet wrapper trains its inner network
    if not isinstance(inner, (TwoLayerNet, MLP)):
        raise ValueError(f"the Gauss–Newton trainer handles TwoLayerNet and MLP, got {type(net).__name__}")
    if getattr(loss, "uses_laplacian", False) or hasattr(inner, "family"):
        raise ValueError("the Gauss–Newton trainer handles σ_s^k networks with the h1, l2 and ritz losses; the "
                         "residual loss and analytic features are solved by the galerkin trainer")
    if not callable(getattr(loss, "quadratic", None)):
        raise ValueError("the Gauss–Newton trainer needs a loss object with a quadratic form "
                         "(H1Loss, L2Loss, RitzLoss), not a plain callable")
    p = sum(q.numel() for q in net.parameters() if q.requires_grad)
    if solver == "dense" and p > DENSE_LIMIT:
        raise ValueError(f"the dense Gauss–Newton solve takes up to {DENSE_LIMIT} parameters; this network has "
                         f"{p}: use solver='cg' (matrix-free) or a narrower net")


def _params(net: nn.Module) -> list[Tensor]:
    return [q for q in net.parameters() if q.requires_grad]


def parameter_columns(net: nn.Module, loss, problem, interior: Points, boundary: Points | None) -> Columns:
    """∂u/∂θ_k (and its gradient, boundary values, normal derivatives) for every trainable
    parameter, in the order of ``net.parameters()``, as float64 :class:`Columns`."""
    need_b = loss.uses_boundary(problem)
    need_n = need_b and loss.uses_boundary_normal(problem)
    if isinstance(net, TwoLayerNet):
        vals, grads = _two_layer_jacobian(net, interior.x, loss.uses_grads)
        bvals = bnorm = None
        if need_b:
            bv, bg = _two_layer_jacobian(net, boundary.x, need_n)
            bvals = bv
            bnorm = (bg * boundary.normals.double()[:, None, :]).sum(2) if need_n else None
        return Columns(vals, grads, bvals, bnorm)
    vals, grads = _autograd_jacobian(net, interior.x, loss.uses_grads)
    bvals = bnorm = None
    if need_b:
        bvals, bg = _autograd_jacobian(net, boundary.x, need_n)
        bnorm = (bg * boundary.normals.double()[:, None, :]).sum(2) if need_n else None
    offset = offset_grad = None
    if hasattr(net, "offset"):  # parameter derivatives of u = ĥ + φN carry no offset
        offset = torch.zeros(len(vals), dtype=vals.dtype, device=vals.device)
        offset_grad = torch.zeros(len(vals), interior.x.shape[1], dtype=vals.dtype, device=vals.device)
    return Columns(vals, grads, bvals, bnorm, offset, offset_grad)


def _two_layer_jacobian(net: TwoLayerNet, x: Tensor, gradients: bool) -> tuple[Tensor, Tensor | None]:
    """Closed form for u = S Σ_j a_j σ(z_j), z = Wx + b (σ = σ_s^k):

        ∂u/∂a_j = S σ(z_j),  ∂u/∂W_jl = S a_j σ'(z_j) x_l,  ∂u/∂b_j = S a_j σ'(z_j),  ∂u/∂c = 1
        ∂∇u/∂a_j = S σ'(z_j) w_j,  ∂∇u/∂b_j = S a_j σ''(z_j) w_j,
        ∂(∇u)_m/∂W_jl = S a_j (σ''(z_j) x_l w_jm + σ'(z_j) δ_lm)
    """
    with torch.no_grad():
        x = x.double()
        w, b, a = net.hidden.weight.double(), net.hidden.bias.double(), net.a.double()
        s, k, scale = float(net.s), net.k, net.scale
        z = x @ w.T + b
        act, dact = sigma_and_derivative(z, s, k)
        ddact = sigma_second(z, s, k)
        n, m, d = x.shape[0], w.shape[0], x.shape[1]
        ad = scale * a * dact  # (n, m)
        blocks = {"a": scale * act, "W": (ad[:, :, None] * x[:, None, :]).reshape(n, m * d), "b": ad}
        gblocks = None
        if gradients:
            add = scale * a * ddact
            g_a = scale * dact[:, :, None] * w[None]  # (n, m, d)
            g_b = add[:, :, None] * w[None]
            # (n, m, l, dm): a_j σ'' x_l w_jm + a_j σ' δ_lm
            g_w = add[:, :, None, None] * x[:, None, :, None] * w[None, :, None, :]
            g_w = g_w + ad[:, :, None, None] * torch.eye(d, dtype=x.dtype, device=x.device)[None, None]
            gblocks = {"a": g_a, "W": g_w.reshape(n, m * d, d), "b": g_b}
        order = []
        for name, param in net.named_parameters():
            if not param.requires_grad:
                continue
            key = {"a": "a", "hidden.weight": "W", "hidden.bias": "b", "c": "c"}[name]
            order.append(key)
        ones = torch.ones(n, 1, dtype=x.dtype, device=x.device)
        vals = torch.cat([blocks[key] if key != "c" else ones for key in order], 1)
        grads = None
        if gradients:
            zeros = torch.zeros(n, 1, d, dtype=x.dtype, device=x.device)
            grads = torch.cat([gblocks[key] if key != "c" else zeros for key in order], 1)
    return vals, grads


def _autograd_jacobian(net: nn.Module, x: Tensor, gradients: bool) -> tuple[Tensor, Tensor | None]:
    """∂u/∂θ and ∂∇u/∂θ at each point by torch.func (any network)."""
    from torch.func import functional_call, jacrev, vmap

    names = [n for n, p in net.named_parameters() if p.requires_grad]
    params = {n: p.detach() for n, p in net.named_parameters() if p.requires_grad}
    buffers = dict(net.named_buffers())

    def u_at(prm, xi):
        return functional_call(net, (prm, buffers), (xi[None],))[0]

    def outputs(prm, xi):
        if gradients:
            return u_at(prm, xi), jacrev(u_at, argnums=1)(prm, xi)
        return u_at(prm, xi), None

    def flat(prm, xi):
        u, g = outputs(prm, xi)
        return u if g is None else torch.cat([u[None], g])

    with torch.enable_grad():
        jac = vmap(jacrev(flat), in_dims=(None, 0))(params, x)  # dict name -> (n, [1+d], *shape)
    n = x.shape[0]
    if not gradients:
        return torch.cat([jac[name].reshape(n, -1) for name in names], 1).double(), None
    cols = torch.cat([jac[name].reshape(n, 1 + x.shape[1], -1) for name in names], -1).double()
    return cols[:, 0, :], cols[:, 1:, :].transpose(1, 2)


@dataclass
class GNReport:
    """Per-iteration losses, step lengths and damping of a Gauss–Newton run."""

    losses: list
    steps: list
    damping: list


def gauss_newton_fit(net: nn.Module, problem, interior: Points, boundary: Points | None, loss,
                     iterations: int = 50, damping: float = 1e-6, resolve_output: bool = True,
                     ridge: float | None = None, tol: float = 1e-9, patience: int = 5,
                     callback: Callable[[int, float], None] | None = None, solver: str = "auto",
                     cg_iterations: int = 100, cg_tol: float = 1e-6, resume: dict | None = None,
                     stop: Callable[[], bool] | None = None, saved: dict | None = None) -> GNReport:
    """Gauss–Newton / Levenberg–Marquardt iterations on all parameters (module docstring).
    ``solver``: "dense", "cg" (matrix-free) or "auto" (dense up to :data:`DENSE_LIMIT`
    parameters). The network ends at the best iterate; returns the :class:`GNReport`.
    ``stop()`` is asked after every iteration: when it says so, the damping, stall count and
    best iterate go into ``saved``, the network stays at its current iterate, and
    ``resume=saved`` continues exactly where it stopped."""
    check_gauss_newton(net, loss, solver)
    p_count = sum(q.numel() for q in net.parameters() if q.requires_grad)
    matrix_free = solver == "cg" or (solver == "auto" and p_count > DENSE_LIMIT)
    ridge = galerkin_ridge(net) if ridge is None else ridge
    params = _params(net)

    def current() -> float:
        with torch.no_grad():
            return float(loss(net, problem, interior, boundary))

    def flat_grad() -> Tensor:
        for q in params:
            q.grad = None
        value = loss(net, problem, interior, boundary)
        value.backward()
        return torch.cat([q.grad.reshape(-1) for q in params]).double()

    if resume:
        best, best_state, mu, stall = resume["best"], resume["best_state"], resume["mu"], resume["stall"]
    else:
        best, best_state = current(), _snapshot(net)
        mu, stall = damping, 0
    report = GNReport([], [], [])
    for it in range(iterations):
        if resolve_output:
            fit_output_layer(net, problem, interior, loss, boundary=boundary, ridge=ridge)
        start = current()
        grad = flat_grad()
        if matrix_free:
            gram = None
            product = gram_product(net, problem, interior, boundary, loss, grad)
        else:
            cols = parameter_columns(net, loss, problem, interior, boundary)
            gram = loss.quadratic(problem, interior, boundary, cols)[0]
        if not (bool(torch.isfinite(grad).all()) and (gram is None or bool(torch.isfinite(gram).all()))):
            raise FloatingPointError("the Gauss–Newton system has NaN or infinite entries (check the problem "
                                     "data; lower s or the step)")
        delta = _damped_solve(gram, -grad, mu) if gram is not None else \
            _damped_cg(product, -grad, mu, cg_iterations, cg_tol)
        theta0 = [q.detach().clone() for q in params]
        value, eta = start, 0.0
        for eta_try in (1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125):
            _assign(params, theta0, delta, eta_try)
            trial = current()
            if math.isfinite(trial) and trial < start:
                value, eta = trial, eta_try
                break
        if eta == 0.0:
            _assign(params, theta0, delta, 0.0)
            mu = min(mu * 10, 1e2)
        elif eta == 1.0:
            mu = max(mu / 3, 1e-14)
        report.losses.append(value)
        report.steps.append(eta)
        report.damping.append(mu)
        if callback is not None:
            callback(it + 1, value)
        if value < best:
            stall = stall + 1 if best - value < tol * abs(best) else 0
            best, best_state = value, _snapshot(net)
        else:
            stall += 1
        if stall >= patience:
            break
        if stop is not None and stop() and it + 1 < iterations:
            if saved is not None:
                saved.update(best=best, best_state=best_state, mu=mu, stall=stall)
            return report
    net.load_state_dict(best_state)
    return report


def gram_product(net: nn.Module, problem, interior: Points, boundary: Points | None, loss,
                 grad: Tensor | None = None) -> Callable[[Tensor], Tensor]:
    """v ↦ G v without forming G (module docstring); ``grad`` = ∇L(θ) if already known."""
    from torch.autograd import forward_ad as fwad
    from torch.func import functional_call

    from ritzhrta.nets.derivatives import value_and_grad

    params = dict((k, q) for k, q in net.named_parameters() if q.requires_grad)
    names = list(params)
    closed_form = isinstance(getattr(net, "net", net), TwoLayerNet)
    theta = torch.cat([q.detach().reshape(-1) for q in params.values()]).double()
    scale = max(float(theta.norm()), 1.0)

    def gradient_of(model: nn.Module) -> Tensor:
        for q in params.values():
            q.grad = None
        loss(model, problem, interior, boundary).backward()
        return torch.cat([params[k].grad.reshape(-1) for k in names]).double()

    g0 = gradient_of(net) if grad is None else grad

    class _Fields(nn.Module):  # forward = the closed-form (u, ∇u), what forward mode differentiates
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
            return self.net.value_and_grad(x)

    fields = _Fields()

    class _Shifted(nn.Module):
        """u_θ + c·w with w = J v fixed (no graph to θ)."""

        def __init__(self, tangents: dict) -> None:
            super().__init__()
            self.inner, self.tangents = net, tangents
            if hasattr(net, "offset"):
                self.offset = net.offset

        def _tangent(self, x: Tensor) -> tuple[Tensor, Tensor]:
            if not closed_form:
                return self._tangent_double_backward(x)
            with torch.no_grad(), fwad.dual_level():
                duals = {"net." + k: fwad.make_dual(params[k].detach(), t) for k, t in self.tangents.items()}
                u, g = functional_call(fields, duals, (x,))
                tu, tg = fwad.unpack_dual(u).tangent, fwad.unpack_dual(g).tangent
            return tu, tg

        def _tangent_double_backward(self, x: Tensor) -> tuple[Tensor, Tensor]:
            """J v for nets without a closed form (MLP): with F = (u, ∇u) at x by autograd,
            J v = ∂/∂r [ (∂(rᵀF)/∂θ)·v ] (reverse over reverse)."""
            with torch.enable_grad():
                u, g = value_and_grad(net, x, closed_form=False)
                fields_flat = torch.cat([u.reshape(-1), g.reshape(-1)])
                r = torch.zeros_like(fields_flat, requires_grad=True)
                grads = torch.autograd.grad(fields_flat, [params[k] for k in names], grad_outputs=r,
                                            create_graph=True)
                dot = sum((gk * self.tangents[k]).sum() for gk, k in zip(grads, names))
                (jv,) = torch.autograd.grad(dot, r)
            n = u.numel()
            return jv[:n].reshape(u.shape).detach(), jv[n:].reshape(g.shape).detach()

        def value_and_grad(self, x: Tensor) -> tuple[Tensor, Tensor]:
            u, g = value_and_grad(self.inner, x)
            tu, tg = self._tangent(x)
            return u + tu, g + tg

        def forward(self, x: Tensor) -> Tensor:
            return self.inner(x) + self._tangent(x)[0]

    def product(v: Tensor) -> Tensor:
        norm = float(v.norm())
        if norm == 0.0:
            return torch.zeros_like(v)
        c = scale / norm
        tangents, i = {}, 0
        for k in names:
            q = params[k]
            tangents[k] = (c * v[i:i + q.numel()]).reshape(q.shape).to(q.dtype)
            i += q.numel()
        return (gradient_of(_Shifted(tangents)) - g0) / c

    return product


def _damped_cg(product: Callable[[Tensor], Tensor], rhs: Tensor, mu: float, iterations: int,
               tol: float) -> Tensor:
    """Conjugate gradients on (G + μρI) δ = rhs, ρ = rhsᵀG rhs / rhsᵀrhs (the scale of G)."""
    r_norm0 = float(rhs.norm())
    if r_norm0 == 0.0:
        return torch.zeros_like(rhs)
    g_rhs = product(rhs)
    rho = max(float(rhs @ g_rhs) / r_norm0 ** 2, 1e-300)
    shift = mu * rho
    x = torch.zeros_like(rhs)
    r, d = rhs.clone(), rhs.clone()
    gd = g_rhs + shift * d
    rr = float(r @ r)
    for _ in range(iterations):
        curvature = float(d @ gd)
        if curvature <= 0:  # indefinite direction (Nitsche with too small β): stop at what we have
            break
        alpha = rr / curvature
        x = x + alpha * d
        r = r - alpha * gd
        rr_new = float(r @ r)
        if rr_new ** 0.5 <= tol * r_norm0:
            break
        d = r + (rr_new / rr) * d
        rr = rr_new
        gd = product(d) + shift * d
    return x if float(x.norm()) > 0 else rhs / rho


def _damped_solve(gram: Tensor, rhs: Tensor, mu: float) -> Tensor:
    g = 0.5 * (gram + gram.T)
    shift = mu * torch.clamp(torch.diagonal(g).sum(), min=1e-300) / g.shape[0]
    eye = torch.eye(g.shape[0], dtype=g.dtype, device=g.device)
    chol, info = torch.linalg.cholesky_ex(g + shift * eye)
    if int(info) == 0:
        return torch.cholesky_solve(rhs[:, None], chol)[:, 0]
    evals, evecs = torch.linalg.eigh(g)  # indefinite (e.g. Nitsche with too small β): drop negative modes
    inv = torch.where(evals + shift > 0, 1 / (evals + shift).clamp(min=1e-300), torch.zeros_like(evals))
    return evecs @ (inv * (evecs.T @ rhs))


def _assign(params: list[Tensor], theta0: list[Tensor], delta: Tensor, eta: float) -> None:
    with torch.no_grad():
        i = 0
        for q, q0 in zip(params, theta0):
            k = q.numel()
            q.copy_(q0 + eta * delta[i:i + k].reshape(q.shape).to(q.dtype))
            i += k


def _snapshot(net: nn.Module) -> dict:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}
