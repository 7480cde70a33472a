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
