"""A finite-element reference solution (P2, scikit-fem) for problems without an exact solution.

:func:`fem_reference` solves  −∇·(a∇u) + V·u = f,  u = h on Γ_D,  a∂u/∂n = g on Γ_N  with
continuous piecewise-quadratic (P2) elements on a mesh of the problem's domain (box: a
structured triangle/tetrahedron mesh; polygon: its triangulation; disk: a circle mesh whose
boundary nodes are moved onto the circle; :class:`~ritzhrta.MeshDomain`: the file's own
mesh), refined uniformly until its own estimated error is below ``tol``.

**The estimate.** For nested Galerkin spaces, the energy J(v) = ½a(v, v) − ℓ(v) satisfies
J(u_L) − J(u_{L+1}) = ½‖u_{L+1} − u_L‖²_E, and ‖u − u_L‖²_E shrinks by a factor q per
refinement (q = 1/16 for P2 on smooth solutions, larger at singularities). With three
levels q is measured (clipped to [1/16, 0.95]); then

    ‖u − u_{L+1}‖²_E ≈ 2 (J(u_L) − J(u_{L+1})) · q / (1 − q),

reported relative to ‖u_{L+1}‖_E (``Reference.estimate``). Dirichlet data enter by P2
interpolation; pure Neumann problems are made unique by ∫u = 0 (a Lagrange multiplier).

scikit-fem is an optional dependency (``pip install ritzhrta[fem]``).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ritzhrta.problem import Problem

__all__ = ["fem_reference", "Reference", "reference_errors", "check_reference", "DEFAULT_TOL", "DEFAULT_MAX_DOFS"]

DEFAULT_TOL = 1e-3
DEFAULT_MAX_DOFS = {1: 100_000, 2: 400_000, 3: 120_000}


def _skfem():
    try:
        import skfem
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ImportError("the FEM reference needs scikit-fem: pip install 'ritzhrta[fem]' "
                          "(or pip install scikit-fem)") from None
    return skfem


@dataclass
class Reference:
    """A P2 solution: ``basis`` (skfem CellBasis), ``u`` (its DOFs), the estimated relative
    energy-norm error ``estimate``, mesh ``levels`` and DOF counts, and CPU seconds."""

    problem: Problem
    basis: object
    u: np.ndarray
    estimate: float
    dofs: list[int] = field(default_factory=list)
    energies: list[float] = field(default_factory=list)
    converged: bool = True
    cpu_seconds: float = 0.0
    _locator: object = field(default=None, repr=False)

    def values(self, x: np.ndarray) -> np.ndarray:
        """u_h at points x (n, d); a point outside the mesh (a disk's boundary lies outside
        its polygonal mesh) takes the value of the nearest cell's polynomial."""
        from ritzhrta.geometry.mesh_domain import SimplexLocator

        x = np.asarray(x, float)
        if x.ndim != 2 or x.shape[1] != self.problem.dim:
            raise ValueError(f"points must have shape (n, {self.problem.dim}), got {x.shape}")
        if self._locator is None:
            self._locator = SimplexLocator(self.basis.mesh.p.T, self.basis.mesh.t.T)
        out = np.empty(len(x))
        for start in range(0, len(x), 4096):
            xs = x[start:start + 4096]
            cells = self._locator(xs, nearest=True)
            local = self.basis.mapping.invF(xs.T[:, :, None], tind=cells)
            phis = np.array([np.asarray(self.basis.elem.gbasis(self.basis.mapping, local, k, tind=cells)[0])[:, 0]
                             for k in range(self.basis.Nbfun)])  # (Nbfun, n)
            out[start:start + 4096] = (phis * self.u[self.basis.element_dofs[:, cells]]).sum(0)
        return out

    def summary(self) -> dict:
        """JSON-ready facts about the reference."""
        return {"method": "P2 (scikit-fem)", "dofs": int(self.dofs[-1]), "levels": len(self.dofs),
                "estimated_rel_energy_error": self.estimate, "converged": self.converged,
                "cpu_seconds": round(self.cpu_seconds, 3)}


def _torch_field(fn, xq: np.ndarray) -> np.ndarray:
    """Evaluate a problem callable at skfem quadrature points xq (d, ...) → array (...)."""
    shape = xq.shape[1:]
    x = torch.as_tensor(xq.reshape(xq.shape[0], -1).T.copy(), dtype=torch.float64)
    return fn(x).detach().numpy().reshape(shape)


def _solve_level(problem: Problem, mesh, skfem) -> tuple[object, np.ndarray, float]:
    """Assemble and solve on one mesh; return (basis, u, J(u))."""
    from scipy.sparse import bmat, csr_matrix
    from scipy.sparse.linalg import spsolve

    elem = {1: skfem.ElementLineP2, 2: skfem.ElementTriP2, 3: skfem.ElementTetP2}[problem.dim]()
    basis = skfem.Basis(mesh, elem, intorder=6 if problem.dim < 3 else 5)
    from skfem.helpers import dot, grad

    @skfem.BilinearForm
    def stiffness(u, v, w):
        a = _torch_field(problem.a, w.x)
        pot = _torch_field(problem.V, w.x)
        return a * dot(grad(u), grad(v)) + pot * u * v

    @skfem.LinearForm
    def load(v, w):
        return _torch_field(problem.f, w.x) * v

    K = stiffness.assemble(basis)
    b = load.assemble(basis)
    facets = mesh.boundary_facets()
    mid = mesh.p[:, mesh.facets[:, facets]].mean(axis=1).T if problem.dim > 1 else mesh.p[:, facets].T
    xt = torch.as_tensor(mid, dtype=torch.float64)
    dmask = problem.dirichlet_mask(xt).numpy() if problem.dirichlet is not None else np.zeros(len(facets), bool)
    if (problem.neumann is not None or problem.has_robin) and np.any(~dmask):
        fb = skfem.FacetBasis(mesh, elem, facets=facets[~dmask], intorder=6 if problem.dim < 3 else 5)

        @skfem.LinearForm
        def flux(v, w):
            return _torch_field(problem.g, w.x) * v

        @skfem.BilinearForm
        def robin(u, v, w):  # a∂u/∂n + κu = g: ∫_{Γ_N} κ u v
            return _torch_field(problem.kappa, w.x) * u * v

        b = b + flux.assemble(fb)
        if problem.has_robin:
            K = K + robin.assemble(fb)
    u = np.zeros(basis.N)
    # 3D P2 systems fill in badly under a direct solve (8 GB at 40 000 unknowns): CG with a
    # Jacobi preconditioner there; SuperLU in 1D/2D
    solver = skfem.solver_iter_pcg(rtol=1e-12) if problem.dim == 3 else None
    if np.any(dmask):
        dofs = basis.get_dofs(facets=facets[dmask]).all()
        locs = torch.as_tensor(basis.doflocs[:, dofs].T.copy(), dtype=torch.float64)
        u[dofs] = problem.h(locs).detach().numpy()
        u = skfem.solve(*skfem.condense(K, b, x=u, D=dofs), solver=solver)
    elif problem.pure_neumann:
        ones = skfem.LinearForm(lambda v, w: v).assemble(basis)
        aug = bmat([[K, csr_matrix(ones[:, None])], [csr_matrix(ones[None, :]), None]], format="csc")
        u = spsolve(aug, np.concatenate([b, [0.0]]))[:-1]
    else:
        u = skfem.solve(K, b, solver=solver)
    energy = 0.5 * float(u @ (K @ u)) - float(b @ u)
    return basis, u, energy


def check_reference(problem) -> None:
    """Raise (ValueError / ImportError as ValueError) unless a FEM reference can be computed."""
    if not isinstance(problem, Problem):
        raise ValueError("--reference fem needs a PDE problem; a function to approximate has its exact solution")
    try:
        _skfem()
    except ImportError as err:
        raise ValueError(str(err)) from None
    problem.domain.fem_mesh(_skfem(), 1)  # the domain's hook refuses a shape it cannot mesh


def fem_reference(problem: Problem, tol: float = DEFAULT_TOL, max_dofs: int | None = None,
                  initial_cells: int = 8, stop=None) -> Reference:
    """P2 reference solution of ``problem``, refined uniformly until the estimated relative
    energy-norm error is ≤ ``tol`` or the next level would pass ``max_dofs`` (then
    ``converged`` is False and the estimate says how far it got). ``stop()`` is asked after each
    level: True raises KeyboardInterrupt (a stop request is honoured after the current level)."""
    if not isinstance(problem, Problem):
        raise TypeError(f"the FEM reference solves a PDE Problem, got {type(problem).__name__}")
    if not (isinstance(tol, (int, float)) and 0 < tol < 1):
        raise ValueError(f"tol must be a number in (0, 1), got {tol!r}")
    skfem = _skfem()
    limit = max_dofs or DEFAULT_MAX_DOFS.get(problem.dim, 100_000)
    cpu = time.process_time()
    mesh = problem.domain.fem_snap(problem.domain.fem_mesh(skfem, initial_cells))
    levels, energies, dofs = [], [], []
    estimate, converged = math.inf, False
    growth = {1: 2, 2: 4, 3: 8}[problem.dim]
    while True:
        basis, u, energy = _solve_level(problem, mesh, skfem)
        levels.append((basis, u))
        energies.append(energy)
        dofs.append(basis.N)
        if len(energies) >= 2:
            drop = max(energies[-2] - energies[-1], 0.0)
            q = 1 / 16
            if len(energies) >= 3 and energies[-3] - energies[-2] > 0:
                q = min(max(drop / (energies[-3] - energies[-2]), 1 / 16), 0.95)
            stiff = _energy_norm_sq(problem, basis, u)
            estimate = math.sqrt(2 * drop * q / (1 - q) / stiff) if stiff > 0 else math.inf
            if energies[-2] - energies[-1] <= 0:  # the energy did not drop (non-nested boundary data, round-off):
                estimate = math.inf  # no evidence of convergence at this level
            if estimate <= tol:
                converged = True
                break
        if basis.N * growth > limit:
            break
        if stop is not None and stop():
            raise KeyboardInterrupt
        mesh = problem.domain.fem_snap(mesh.refined())
        levels = levels[-1:]
    basis, u = levels[-1]
    return Reference(problem, basis, u, estimate, dofs, energies, converged, time.process_time() - cpu)


def _energy_norm_sq(problem: Problem, basis, u: np.ndarray) -> float:
    field_ = basis.interpolate(u)
    xq = basis.mapping.F(basis.X)
    a, pot = _torch_field(problem.a, xq), _torch_field(problem.V, xq)
    g2 = (field_.grad ** 2).sum(0)
    return float(((a * g2 + pot * np.asarray(field_) ** 2) * basis.dx).sum())


def reference_errors(net: nn.Module, ref: Reference) -> dict[str, float]:
    """Relative L², H¹, H¹-seminorm and energy-norm errors of ``net`` against the reference,
    integrated with the reference's own quadrature on its finest mesh."""
    from ritzhrta.nets.derivatives import value_and_grad

    basis, problem = ref.basis, ref.problem
    xq = basis.mapping.F(basis.X)  # (d, elements, points)
    field_ = basis.interpolate(ref.u)
    d = xq.shape[0]
    p = next(net.parameters())
    x = torch.as_tensor(xq.reshape(d, -1).T.copy(), dtype=p.dtype, device=p.device)
    values, grads = [], []
    for chunk in torch.split(x, 65536):
        uu, gg = value_and_grad(net, chunk)
        values.append(uu.detach().double().cpu())
        grads.append(gg.detach().double().cpu())
    un = torch.cat(values).numpy()
    gn = torch.cat(grads).numpy()
    w = basis.dx.reshape(-1)
    ur, gr = np.asarray(field_).reshape(-1), field_.grad.reshape(d, -1).T
    du, dg = un - ur, gn - gr
    a, pot = _torch_field(problem.a, xq).reshape(-1), _torch_field(problem.V, xq).reshape(-1)

    def ratio(num, den):
        return math.sqrt(num / den) if den > 0 else math.inf

    l2e, l2r = (w * du ** 2).sum(), (w * ur ** 2).sum()
    se, sr = (w * (dg ** 2).sum(1)).sum(), (w * (gr ** 2).sum(1)).sum()
    ee, er = (w * (a * (dg ** 2).sum(1) + pot * du ** 2)).sum(), (w * (a * (gr ** 2).sum(1) + pot * ur ** 2)).sum()
    return {"l2": ratio(l2e, l2r), "h1": ratio(l2e + se, l2r + sr), "h1_semi": ratio(se, sr),
            "energy": ratio(ee, er)}
