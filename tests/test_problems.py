import math

import pytest
import torch

import problems
from ritzhrta import Box, Problem, Target
from ritzhrta.problem import exact_gradient


def laplacian(fn, x):
    x = x.detach().requires_grad_(True)
    g = torch.autograd.grad(fn(x).sum(), x, create_graph=True)[0]
    return sum(torch.autograd.grad(g[:, i].sum(), x, retain_graph=True)[0][:, i] for i in range(x.shape[1]))


def test_registry_lists_the_required_problems():
    assert set(problems.names()) >= {"poisson2d-neumann", "screened-poisson2d", "poisson2d-dirichlet",
                                     "poisson2d-lshape", "approx1d", "approx3d"}
    with pytest.raises(ValueError, match="unknown problem"):
        problems.get("nope")


@pytest.mark.parametrize("name", ["poisson2d-neumann", "screened-poisson2d", "poisson2d-dirichlet",
                                  "poisson2d-lshape", "wave-front-mild", "wave-front-well"])
def test_manufactured_solutions_satisfy_the_pde(name):
    pb = problems.get(name)
    x = pb.domain.interior(400, "sobol", dtype=torch.float64).x
    residual = -laplacian(pb.exact, x) + pb.V(x) * pb.u_exact(x) - pb.f(x)
    assert residual.abs().max() < 1e-8
    assert torch.allclose(pb.grad_exact(x), exact_gradient(pb.exact, x), atol=1e-10)
    b = pb.domain.boundary(200, "grid", dtype=torch.float64)
    if pb.dirichlet is None:  # homogeneous Neumann: ∂u*/∂n = 0
        assert (pb.grad_exact(b.x) * b.normals).sum(1).abs().max() < 1e-12
    else:
        assert torch.allclose(pb.h(b.x), pb.u_exact(b.x), atol=1e-12)


def test_neumann_solution_has_mean_zero():
    pb = problems.get("poisson2d-neumann")
    p = pb.domain.interior(4096, dtype=torch.float64)
    assert abs(float((p.w * pb.u_exact(p.x)).sum())) < 1e-10
    assert pb.pure_neumann and not problems.get("screened-poisson2d").pure_neumann


def test_approximation_targets():
    t1, t3 = problems.get("approx1d"), problems.get("approx3d")
    assert t1.points == 100 and t3.points == 125 and t1.dim == 1 and t3.dim == 3
    x = t3.domain.interior(64, "random", dtype=torch.float64).x
    assert torch.allclose(t3.grad_exact(x), exact_gradient(t3.exact, x))


def test_autograd_fallback_and_validation():
    pb = Problem(Box([0, 0], [1, 1]), exact=lambda x: (x ** 2).sum(1))
    x = torch.rand(5, 2, dtype=torch.float64)
    assert torch.allclose(pb.grad_exact(x), 2 * x)
    with pytest.raises(ValueError, match="needs the exact solution"):
        Problem(Box([0, 0], [1, 1])).u_exact(x)
    with pytest.raises(TypeError, match="domain"):
        Problem("unit square")
    with pytest.raises(TypeError, match="source"):
        Problem(Box([0], [1]), source="sin")
    with pytest.raises(ValueError, match="exact_grad"):
        Problem(Box([0], [1]), exact_grad=lambda x: x)
    bad = Target(Box([0], [1]), exact=lambda x: x)  # returns (n, 1) instead of (n,)
    with pytest.raises(ValueError, match="shape"):
        bad.u_exact(torch.rand(4, 1))


def test_mixed_boundary_mask():
    pb = Problem(Box([0, 0], [1, 1]), dirichlet=lambda x: x[:, 0], dirichlet_where=lambda x: x[:, 0] < 1e-9)
    b = pb.domain.boundary(40)
    mask = pb.dirichlet_mask(b.x)
    assert mask.any() and not mask.all() and torch.all(b.x[mask, 0] == 0)
    assert math.isclose(float(b.w[mask].sum()), 1.0, rel_tol=1e-6)


def test_the_nist_wave_fronts_carry_mitchells_parameters():
    """Issue 35: "mild" is α = 20 about (−0.05, −0.05) with r₀ = 0.7, "well" α = 50 about (½, ½) with r₀ = ¼."""
    x = torch.tensor([[0.75, 0.5], [-0.05 + 0.7 / 2 ** 0.5, -0.05 + 0.7 / 2 ** 0.5], [0.6, 0.5]], dtype=torch.float64)
    well, mild = problems.get("wave-front-well"), problems.get("wave-front-mild")
    assert abs(float(well.u_exact(x[:1]))) < 1e-12 and abs(float(mild.u_exact(x[1:2]))) < 1e-12
    assert torch.isclose(well.u_exact(x[2:]), torch.atan(torch.tensor(50 * (0.1 - 0.25), dtype=torch.float64)))

