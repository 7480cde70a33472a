import pytest
import torch

import problems
from ritzhrta import RitzLoss, H1Loss, homotopy, L2Loss, MLP, solve, TwoLayerNet
from ritzhrta.forms.losses import ritz_energy, sobolev_loss
from ritzhrta.training.lstsq import fit_output_layer

LOSS = {"h1": H1Loss(), "l2": L2Loss(), "ritz": RitzLoss()}


def loss_of(net, pb, pts, loss, bpts=None):
    if loss == "ritz":
        return float(ritz_energy(net, pb, pts, bpts))
    return float(sobolev_loss(net, pb, pts, order=1 if loss == "h1" else 0))


@pytest.mark.parametrize("name, loss", [("approx1d", "l2"), ("approx1d", "h1"), ("poisson2d-neumann", "h1"),
                                        ("poisson2d-neumann", "ritz"), ("screened-poisson2d", "ritz"),
                                        ("poisson2d-dirichlet", "ritz")])
@pytest.mark.parametrize("bias", [False, True])
def test_output_solve_is_the_minimiser(name, loss, bias):
    pb = problems.get(name)
    net = TwoLayerNet(pb.dim, 40, k=2, s=0.5, output_bias=bias).double()
    pts = pb.domain.interior(256, dtype=torch.float64)
    bpts = pb.domain.boundary(64, dtype=torch.float64)
    def grad_a():
        net.zero_grad()
        value = ritz_energy(net, pb, pts, bpts) if loss == "ritz" else sobolev_loss(net, pb, pts, int(loss == "h1"))
        value.backward()
        return net.a.grad.norm()

    g0 = grad_a()
    fit_output_layer(net, pb, pts, loss=LOSS[loss], boundary=bpts, ridge=1e-14)
    best = loss_of(net, pb, pts, loss, bpts)
    # the gradient in the output weights (nearly) vanishes, and perturbations only increase the loss
    assert grad_a() < 1e-5 * g0
    a0 = net.a.detach().clone()
    for _ in range(3):
        with torch.no_grad():
            net.a.copy_(a0 + 1e-3 * torch.randn_like(a0))
        assert loss_of(net, pb, pts, loss, bpts) >= best - 1e-12


def test_adam_plus_ls_never_worse_than_adam():
    pb = problems.get("approx1d")
    for seed in range(3):
        torch.manual_seed(seed)
        net = TwoLayerNet(1, 100, k=1, s=0.5)
        r = solve(pb, net, homotopy(200), loss=L2Loss(), lr=1e-2, progress=False)
        pts = pb.domain.interior(pb.points)
        before = loss_of(r.net, pb, pts, "l2")
        fit_output_layer(r.net, pb, pts, loss=L2Loss())
        assert loss_of(r.net, pb, pts, "l2") <= before * (1 + 1e-6)


def test_mlp_output_solve():
    pb = problems.get("poisson2d-neumann")
    net = MLP(2, [16, 16], k=2, s=0.5).double()
    pts = pb.domain.interior(64, dtype=torch.float64)
    before = loss_of(net, pb, pts, "h1")
    fit_output_layer(net, pb, pts, loss=H1Loss())
    assert loss_of(net, pb, pts, "h1") < before


def test_bad_loss_name():
    with pytest.raises(TypeError, match="loss object"):
        fit_output_layer(TwoLayerNet(1, 4), problems.get("approx1d"), problems.get("approx1d").domain.interior(8),
                         loss="h2")


def test_refit_output_every_helps_and_resets_adam_state():
    from ritzhrta import Stage
    pb = problems.get("approx1d")
    losses = {}
    for every in (0, 50):
        torch.manual_seed(0)
        net = TwoLayerNet(1, 200, k=1, s=1.0)
        r = solve(pb, net, (Stage(300, 1.0, refit_output_every=every),), loss=L2Loss(), lr=1e-3, progress=False)
        losses[every] = min(r.history.loss[-20:])
    assert losses[50] < losses[0] / 10
    with pytest.raises(ValueError):
        Stage(10, refit_output_every=-1)
