import dataclasses
"""Galerkin output solves, Nitsche's method, Gauss–Newton on all parameters, the CG step."""
import pytest
import torch

import problems
from ritzhrta import MLP, H1Loss, L2Loss, RitzLoss, Stage, TwoLayerNet, parse_schedule, relative_errors, solve
from ritzhrta.training.analytic import hidden_increment
from ritzhrta.training.gauss_newton import _autograd_jacobian, _two_layer_jacobian, gauss_newton_fit, parameter_columns
from ritzhrta.forms.losses import ritz_energy
from ritzhrta.training.lstsq import fit_output_layer, output_columns
from ritzhrta.training.solver import default_quadrature


def _rules(pb, order=None, cells=None):
    rule = (order, cells) if order else default_quadrature(pb.dim)
    return (pb.domain.quadrature(*rule, dtype=torch.float64),
            pb.domain.boundary_quadrature(*rule, dtype=torch.float64))


def _net(width, k=3, s=1.0, seed=0, dim=2, bias=False):
    torch.manual_seed(seed)
    return TwoLayerNet(dim, width, k=k, s=s, output_bias=bias).double()


@pytest.mark.parametrize("dirichlet, beta", [("penalty", 100.0), ("nitsche", 30.0)])
def test_ritz_quadratic_form_matches_the_energy(dirichlet, beta):
    _check_energy_against_quadratic(problems.get("poisson2d-lshape"), beta, dirichlet)


def _check_energy_against_quadratic(pb, beta, dirichlet):
    """E(c₁) − E(c₀) from the energy equals it from ½cᵀAc − bᵀc (two random output layers);
    returns the net (at c₁), the rules and E(c₁)."""
    q, b = _rules(pb, 3, 2)
    net = _net(12, bias=True)
    loss = RitzLoss(beta=beta, dirichlet=dirichlet)
    cols = output_columns(net, loss, pb, q, b)
    a_mat, b_vec = loss.quadratic(pb, q, b, cols)
    c0, c1 = torch.randn(13, dtype=torch.float64), torch.randn(13, dtype=torch.float64)
    energies = []
    for c in (c0, c1):
        net.set_output(c)
        energies.append(float(ritz_energy(net, pb, q, b, beta=beta, dirichlet=dirichlet)))
    model = [float(0.5 * c @ a_mat @ c - b_vec @ c) for c in (c0, c1)]
    assert energies[1] - energies[0] == pytest.approx(model[1] - model[0], rel=1e-10)
    return net, q, b, energies[1]


def test_calibrated_nitsche_is_coercive_and_a_tiny_beta_is_not():
    pb = problems.get("poisson2d-dirichlet")
    q, b = _rules(pb, 4, 4)
    net = _net(60)
    loss = RitzLoss(beta=None, dirichlet="nitsche").calibrated(net, pb, q, b)
    assert loss.beta > 1
    cols = output_columns(net, loss, pb, q, b)
    ev = torch.linalg.eigvalsh(loss.quadratic(pb, q, b, cols)[0])
    assert float(ev.min()) > -1e-12 * float(ev.max())  # positive semi-definite up to round-off
    weak = RitzLoss(beta=1e-3, dirichlet="nitsche")
    ev = torch.linalg.eigvalsh(weak.quadratic(pb, q, b, cols)[0])
    assert float(ev.min()) < -1e-3 * float(ev.max())
    with pytest.raises(ValueError, match="calibrated"):
        RitzLoss(beta=None, dirichlet="nitsche")(net, pb, q, b)
    with pytest.raises(ValueError, match="penalty needs a number"):
        RitzLoss(beta=None)


def test_nitsche_error_falls_with_width_where_the_penalty_stalls():
    pb = problems.get("poisson2d-dirichlet")
    q, b = _rules(pb)
    errors = {}
    for dirichlet in ("penalty", "nitsche"):
        for width in (250, 500):
            net = _net(width)
            loss = RitzLoss(beta=None if dirichlet == "nitsche" else 100.0, dirichlet=dirichlet)
            fit_output_layer(net, pb, q, loss.calibrated(net, pb, q, b), boundary=b, ridge=1e-11)
            errors[dirichlet, width] = relative_errors(net, pb)["h1"]
    # the penalty's minimiser keeps an O(1/β) boundary error: ~1e-2 whatever the width
    assert errors["penalty", 500] > 0.8 * errors["penalty", 250] and errors["penalty", 500] > 8e-3
    assert errors["nitsche", 500] < errors["nitsche", 250] / 2
    assert errors["nitsche", 500] < errors["penalty", 500] / 4


@pytest.mark.parametrize("k", [1, 2, 3])
def test_closed_form_parameter_jacobian_equals_autograd(k):
    net = _net(7, k=k, s=0.5, bias=True)
    x = torch.rand(9, 2, dtype=torch.float64)
    v1, g1 = _two_layer_jacobian(net, x, True)
    v2, g2 = _autograd_jacobian(net, x, True)
    assert torch.allclose(v1, v2, atol=1e-13) and torch.allclose(g1, g2, atol=1e-13)


def test_gauss_newton_lowers_the_loss_and_the_error_for_two_layer_and_mlp():
    pb = problems.get("screened-poisson2d")
    q, b = _rules(pb, 4, 6)
    for net in (_net(30, s=0.5), MLP(2, [10, 10], k=2, s=0.5).double()):
        loss = RitzLoss()
        fit_output_layer(net, pb, q, loss, boundary=b)
        e0, l0 = relative_errors(net, pb)["h1"], float(loss(net, pb, q, b))
        report = gauss_newton_fit(net, pb, q, b, loss, iterations=8)
        assert min(report.losses) < l0 and float(loss(net, pb, q, b)) == pytest.approx(min(report.losses))
        assert relative_errors(net, pb)["h1"] < e0 / 1.5
    cols = parameter_columns(net, H1Loss(), pb, q, None)
    assert cols.values.shape == (len(q), sum(p.numel() for p in net.parameters()))


def test_gauss_newton_matches_exact_solve_on_a_linear_model():
    """With the hidden layer frozen, u is linear in a: one GN step is the exact output solve."""
    pb = problems.get("approx1d")
    net = _net(20, k=1, dim=1)
    net.hidden.requires_grad_(False)
    q = pb.domain.quadrature(4, 8, dtype=torch.float64)
    start = float(L2Loss()(net, pb, q))
    report = gauss_newton_fit(net, pb, q, None, L2Loss(), iterations=1, resolve_output=False, damping=1e-14)
    u_gn = net(q.x).detach().clone()
    fit_output_layer(net, pb, q, L2Loss(), ridge=0.0)
    assert report.steps == [1.0] and report.losses[0] < start
    assert torch.allclose(u_gn, net(q.x), atol=1e-6 * float(u_gn.abs().max()))


def test_galerkin_and_gauss_newton_stages_through_solve():
    pb = problems.get("poisson2d-dirichlet")
    net = _net(60, s=0.5)
    r = solve(pb, net, (Stage(1, 0.5, trainer="galerkin"), Stage(4, 0.5, trainer="gauss-newton"),
                        Stage(4, 1.0, trainer="gauss-newton")), loss=RitzLoss(beta=None, dirichlet="nitsche"),
              progress=False)
    assert r.status == "finished" and [st.index for st in r.stages] == [0, 1, 2]
    assert r.history.s[0] == 0.5 and r.history.s[-1] == 1.0 and len(r.history) <= 9
    assert r.errors["h1"] < r.initial_errors["h1"] / 20
    with pytest.raises(ValueError, match="steps must be 1"):
        Stage(3, 1.0, trainer="galerkin")
    with pytest.raises(ValueError, match="loss object"):
        solve(pb, _net(10), parse_schedule("1:1"), loss=lambda *a: 0, progress=False) if False else \
            solve(pb, _net(10), (Stage(1, 1.0, trainer="galerkin"),), loss=lambda net, p, i, b: net(i.x).sum(),
                  progress=False)


def test_cg_hidden_step_equals_the_dense_step_with_a_ridge_that_matters():
    pb = problems.get("poisson2d-neumann")
    pts = pb.domain.interior(300, "sobol", dtype=torch.float64)
    net = _net(40, k=1, s=0.5)
    for order in (0, 1):
        for ridge in (1e-1, 1e-2):
            dense = hidden_increment(net, pb, pts, order, ridge, method="primal")
            cg = hidden_increment(net, pb, pts, order, ridge, method="cg")
            assert torch.allclose(cg, dense, rtol=1e-5, atol=1e-7 * float(dense.abs().max())), (order, ridge)


@pytest.mark.parametrize("case", ["nitsche", "penalty-s0.5", "h1-k4", "exact-k5", "mlp-nitsche", "mlp-exact"])
def test_matrix_free_gram_product_equals_the_dense_gram(case):
    """G v = [∇L(u + c·Jv) − ∇L(u)]/c with Jv by forward mode equals the dense G of the
    parameter columns (to round-off), for every loss form the trainer meets."""
    from ritzhrta import ExactDirichlet
    from ritzhrta.training.gauss_newton import gram_product

    name, k, s, loss = {"nitsche": ("poisson2d-dirichlet", 3, 1.0, RitzLoss(beta=50.0, dirichlet="nitsche")),
                        "penalty-s0.5": ("screened-poisson2d", 3, 0.5, RitzLoss()),
                        "h1-k4": ("poisson2d-neumann", 4, 1.0, H1Loss()),
                        "exact-k5": ("poisson2d-dirichlet", 5, 1.0, RitzLoss(dirichlet="exact")),
                        "mlp-nitsche": ("poisson2d-dirichlet", 2, 0.5, RitzLoss(beta=50.0, dirichlet="nitsche")),
                        "mlp-exact": ("poisson2d-dirichlet", 2, 1.0, RitzLoss(dirichlet="exact"))}[case]
    pb = problems.get(name)
    torch.manual_seed(0)
    net = (MLP(2, [6, 5], k=k, s=s) if case.startswith("mlp") else TwoLayerNet(2, 12, k=k, s=s)).double()
    if case.endswith("exact") or case.startswith("exact"):
        net = ExactDirichlet(net, pb)
    q = pb.domain.quadrature(3, 4, dtype=torch.float64)
    b = pb.domain.boundary_quadrature(3, 4, dtype=torch.float64)
    gram = loss.quadratic(pb, q, b, parameter_columns(net, loss, pb, q, b))[0]
    v = torch.randn(gram.shape[0], dtype=torch.float64)
    gv = gram_product(net, pb, q, b, loss)(v)
    assert float((gv - gram @ v).norm() / (gram @ v).norm()) < 1e-12


def test_matrix_free_gauss_newton_lowers_the_loss_and_the_error():
    pb = problems.get("screened-poisson2d")
    q = pb.domain.quadrature(4, 6, dtype=torch.float64)
    torch.manual_seed(0)
    net = TwoLayerNet(2, 30, k=3, s=1.0).double()
    fit_output_layer(net, pb, q, RitzLoss())
    e0, l0 = relative_errors(net, pb)["h1"], float(RitzLoss()(net, pb, q))
    report = gauss_newton_fit(net, pb, q, None, RitzLoss(), iterations=4, solver="cg", cg_iterations=30)
    assert min(report.losses) < l0 - 1e-4 and relative_errors(net, pb)["h1"] < 0.8 * e0


def test_gauss_newton_solver_choices_and_refusals():
    pb = problems.get("screened-poisson2d")
    q = pb.domain.quadrature(2, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="solver must be"):
        gauss_newton_fit(TwoLayerNet(2, 5).double(), pb, q, None, RitzLoss(), solver="lu")
    torch.manual_seed(0)
    mlp = MLP(2, [4, 4]).double()  # matrix-free by reverse over reverse
    l0 = float(RitzLoss()(mlp, pb, q))
    assert min(gauss_newton_fit(mlp, pb, q, None, RitzLoss(), iterations=2, solver="cg").losses) < l0
    with pytest.raises(ValueError, match="solver='cg'"):
        gauss_newton_fit(TwoLayerNet(2, 2100).double(), pb, q, None, RitzLoss(), solver="dense")


@pytest.mark.parametrize("dirichlet", ["penalty", "nitsche"])
def test_the_ritz_quadratic_matches_the_energy_with_a_robin_part(dirichlet):
    """a∂u/∂n + κu = g on the right side (x = 1), Dirichlet elsewhere: R(u) = ½Σωκu² in both forms."""
    from ritzhrta import Box, Problem

    pb = Problem(Box([0, 0], [1, 1]), source=lambda x: torch.sin(3 * x[:, 0]) + x[:, 1],
                 dirichlet=lambda x: x[:, 0] * x[:, 1], dirichlet_where=lambda x: x[:, 0] < 1 - 1e-9,
                 neumann=lambda x: 1 + x[:, 1] ** 2, robin=lambda x: 2 + x[:, 1])
    net, q, b, energy = _check_energy_against_quadratic(pb, 10.0, dirichlet)
    without = dataclasses.replace(pb, robin=0.0)  # the Robin term is there: dropping κ changes the energy
    assert float(ritz_energy(net, without, q, b, beta=10.0, dirichlet=dirichlet)) != pytest.approx(energy)
