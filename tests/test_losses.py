import dataclasses
import math

import pytest
import torch

import problems
from ritzhrta import Box, MLP, Problem, Target, TwoLayerNet
from ritzhrta.forms.losses import ritz_energy, sobolev_loss
from ritzhrta.forms.losses import DEFAULT_MEAN_PENALTY


class Exact(torch.nn.Module):
    """A 'network' that returns u* exactly (plus an optional constant)."""

    def __init__(self, fn, shift=0.0):
        super().__init__()
        self.fn, self.shift = fn, shift
        self.dummy = torch.nn.Parameter(torch.zeros((), dtype=torch.float64))

    def forward(self, x):
        return self.fn(x) + self.shift + 0 * self.dummy


def test_sobolev_loss_formula_and_zero_at_exact():
    pb = problems.get("poisson2d-neumann")
    pts = pb.domain.interior(256, dtype=torch.float64)
    assert float(sobolev_loss(Exact(pb.exact), pb, pts, order=1)) < 1e-24
    shifted = Exact(pb.exact, shift=0.5)  # u − u* = 0.5, ∇ equal: loss = 0.25·|Ω|
    assert float(sobolev_loss(shifted, pb, pts, order=1)) == pytest.approx(0.25)
    assert float(sobolev_loss(shifted, pb, pts, order=0)) == pytest.approx(0.25)


def test_h1_loss_counts_gradient_error():
    target = Target(Box([0], [1]), exact=lambda x: torch.zeros_like(x[:, 0]))
    net = Exact(lambda x: 0.1 * torch.sin(2 * math.pi * 5 * x[:, 0]))
    pts = target.domain.interior(1000, dtype=torch.float64)
    l2, h1 = float(sobolev_loss(net, target, pts, 0)), float(sobolev_loss(net, target, pts, 1))
    assert l2 == pytest.approx(0.005, rel=1e-3)
    assert h1 == pytest.approx(0.005 * (1 + (10 * math.pi) ** 2), rel=1e-3)


def test_closed_form_and_autograd_losses_agree():
    pb = problems.get("screened-poisson2d")
    pts = pb.domain.interior(300, "sobol", dtype=torch.float64)
    net = TwoLayerNet(2, 64, k=3, s=0.5).double()
    for fn in (lambda cf: sobolev_loss(net, pb, pts, 1, closed_form=cf),
               lambda cf: ritz_energy(net, pb, pts, closed_form=cf)):
        grads = []
        for cf in (True, False):
            net.zero_grad()
            value = fn(cf)
            value.backward()
            grads.append((value.detach(), [p.grad.clone() for p in net.parameters()]))
        assert torch.allclose(grads[0][0], grads[1][0], rtol=1e-12)
        for a, b in zip(grads[0][1], grads[1][1]):
            assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)


def test_ritz_energy_minimised_by_exact_solution():
    pb = problems.get("screened-poisson2d")
    pts = pb.domain.interior(4096, dtype=torch.float64)
    e_star = float(ritz_energy(Exact(pb.exact), pb, pts))
    # E(u*) = −½∫f u* = −½(2π²+1)/4 for cos·cos on the unit square
    assert e_star == pytest.approx(-(2 * math.pi ** 2 + 1) / 8, rel=1e-3)
    for eps in (0.05, -0.05):
        pert = Exact(lambda x: pb.exact(x) + eps * torch.sin(math.pi * x[:, 0]))
        assert float(ritz_energy(pert, pb, pts)) > e_star


def test_ritz_dirichlet_penalty_and_neumann_mean():
    pb = problems.get("poisson2d-dirichlet")
    pts = pb.domain.interior(16384, dtype=torch.float64)
    bpts = pb.domain.boundary(400, dtype=torch.float64)
    with pytest.raises(ValueError, match="boundary points"):
        ritz_energy(Exact(pb.exact), pb, pts)
    base = float(ritz_energy(Exact(pb.exact), pb, pts, bpts, beta=10.0))
    shifted = float(ritz_energy(Exact(pb.exact, 0.1), pb, pts, bpts, beta=10.0))
    # shift by c = 0.1: interior −c∫f = −0.1·8, penalty β·c²·|∂Ω| = 10·0.01·4
    assert shifted - base == pytest.approx(-0.1 * 8.0 + 10 * 0.01 * 4, rel=1e-3)
    neu = problems.get("poisson2d-neumann")
    e0 = float(ritz_energy(Exact(neu.exact), neu, pts))
    e1 = float(ritz_energy(Exact(neu.exact, 0.2), neu, pts))
    assert e1 - e0 == pytest.approx(DEFAULT_MEAN_PENALTY * 0.2 ** 2, rel=1e-6)


def test_neumann_data_term():
    pb = Problem(Box([0, 0], [1, 1]), neumann=lambda x: torch.ones_like(x[:, 0]))
    pts, bpts = pb.domain.interior(64, dtype=torch.float64), pb.domain.boundary(64, dtype=torch.float64)
    one = Exact(lambda x: torch.ones_like(x[:, 0]))
    # u = 1: interior 0 (f = 0, V = 0), −∫_Γ g u = −4, mean penalty ·(1)²
    assert float(ritz_energy(one, pb, pts, bpts)) == pytest.approx(-4 + DEFAULT_MEAN_PENALTY)


def test_missing_exact_solution_is_a_clear_error():
    pb = Problem(Box([0, 0], [1, 1]), source=1.0)
    pts = pb.domain.interior(16)
    with pytest.raises(ValueError, match="needs the exact solution"):
        sobolev_loss(TwoLayerNet(2, 4), pb, pts)
    with pytest.raises(ValueError, match="order"):
        sobolev_loss(TwoLayerNet(2, 4), problems.get("poisson2d-neumann"), pts, order=2)
    with pytest.raises(TypeError, match="Problem"):
        ritz_energy(TwoLayerNet(1, 4), problems.get("approx1d"), problems.get("approx1d").domain.interior(8))


def test_deep_network_uses_autograd_path():
    pb = problems.get("poisson2d-neumann")
    pts = pb.domain.interior(64)
    net = MLP(2, [16, 16], k=2, s=0.5)
    loss = sobolev_loss(net, pb, pts)
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-6), (torch.float64, 1e-12)])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_closed_form_matches_double_backward(dtype, tol, k):
    """Closed-form ∇u (one backward) against autograd's double backward, loss and parameter gradients."""
    pb = problems.get("screened-poisson2d")
    pts = pb.domain.interior(256, "sobol", dtype=dtype)
    torch.manual_seed(0)
    net = TwoLayerNet(2, 100, k=k, s=1.5).to(dtype)
    out = []
    for cf in (True, False):
        net.zero_grad()
        value = sobolev_loss(net, pb, pts, 1, closed_form=cf)
        value.backward()
        out.append((value.detach(), torch.cat([p.grad.flatten() for p in net.parameters()])))
    (v1, g1), (v2, g2) = out
    assert abs(v1 - v2) <= tol * abs(v2)
    assert (g1 - g2).abs().max() <= tol * g2.abs().max()


def _robin_problem(kappa=2.0, dirichlet_left=False):
    """u* = sin(x)·e^y + x on the unit square with a∂u/∂n + κu = g (g from u*) on the boundary
    (all of it, or all but the left side x = 0, which is Dirichlet)."""
    from ritzhrta import Box, Problem

    def u(x):
        return torch.sin(x[:, 0]) * torch.exp(x[:, 1]) + x[:, 0]

    def grad(x):
        return torch.stack([torch.cos(x[:, 0]) * torch.exp(x[:, 1]) + 1, torch.sin(x[:, 0]) * torch.exp(x[:, 1])], 1)

    def normal(x):
        n = torch.zeros_like(x)
        n[:, 0] = torch.where(x[:, 0] > 1 - 1e-9, 1.0, torch.where(x[:, 0] < 1e-9, -1.0, 0.0))
        n[:, 1] = torch.where(x[:, 1] > 1 - 1e-9, 1.0, torch.where(x[:, 1] < 1e-9, -1.0, 0.0))
        return n

    def g(x):
        return (grad(x) * normal(x)).sum(1) + kappa * u(x)

    extra = dict(dirichlet=u, dirichlet_where=lambda x: x[:, 0] < 1e-9) if dirichlet_left else {}
    return Problem(Box([0, 0], [1, 1]), source=lambda x: 0 * x[:, 0], neumann=g, robin=kappa, exact=u,
                   exact_grad=grad, **extra)


@pytest.mark.parametrize("dirichlet_left", [False, True])
def test_robin_conditions_in_the_ritz_energy_the_residual_and_the_fem_reference(dirichlet_left):
    """a∂u/∂n + κu = g: the Ritz Galerkin solve, the residual route and the P2 reference all find u*;
    the Ritz value equals the quadratic ½cᵀAc − bᵀc + const in c."""
    from ritzhrta import RitzLoss, Stage, TwoLayerNet, solve
    from ritzhrta.forms.residual import ResidualLoss
    from ritzhrta.nets.features import RandomFeatureNet
    from ritzhrta.reference.fem import fem_reference, reference_errors

    problem = _robin_problem(dirichlet_left=dirichlet_left)
    torch.manual_seed(0)
    ritz = solve(problem, TwoLayerNet(2, 200, k=5).double(), (Stage(1, 1.0, trainer="galerkin"),),
                 loss=RitzLoss(dirichlet="nitsche", beta=None), progress=False, estimate=False)
    assert ritz.errors["h1"] < 1e-3, ritz.errors
    residual = solve(problem, RandomFeatureNet(problem.domain, 300).double(), (Stage(1, 1.0, trainer="galerkin"),),
                     loss=ResidualLoss(), progress=False, estimate=False)
    assert residual.errors["h1"] < 1e-8, residual.errors
    ref = fem_reference(problem, tol=1e-4)
    assert reference_errors(residual.net, ref)["h1"] < 1e-3
    wrong = _robin_problem(kappa=0.5, dirichlet_left=dirichlet_left)  # the same data g, another κ
    wrong = dataclasses.replace(wrong, neumann=problem.neumann)
    other = solve(wrong, RandomFeatureNet(problem.domain, 300).double(), (Stage(1, 1.0, trainer="galerkin"),),
                  loss=ResidualLoss(), progress=False, estimate=False)
    assert other.errors["h1"] > 1e-2  # κ matters


def test_robin_refusals():
    from ritzhrta import Box, Problem, RitzLoss

    with pytest.raises(ValueError, match="robin κ must be"):
        Problem(Box([0, 0], [1, 1]), robin=-1.0)
    with pytest.raises(TypeError, match="not supported yet"):
        Problem(Box([0, 0], [1, 1]), robin={"outer": 1.0})
    problem = _robin_problem(dirichlet_left=True)
    from ritzhrta.nets.exact_bc import supports_exact

    assert not supports_exact(problem)
    with pytest.raises(ValueError, match="Robin part"):
        from ritzhrta.forms.losses import Columns

        RitzLoss(dirichlet="exact").quadratic(problem, problem.domain.quadrature(2, 2, dtype=torch.float64),
                                              None, Columns(torch.zeros(16, 3, dtype=torch.float64),
                                                            torch.zeros(16, 3, 2, dtype=torch.float64)))
    assert not problem.pure_neumann and not Problem(Box([0, 0], [1, 1]), robin=0.0).has_robin
