import pytest
import torch

from ritzhrta import MLP, TwoLayerNet

X = torch.rand(200, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 2 - 1


@pytest.mark.parametrize("s", [0.5, 1.5, 0.0, 1.0])
@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("gamma", [True, False])
def test_relu_twin_equals_network(s, k, gamma):
    net = TwoLayerNet(2, 50, k=k, s=s, ntk_scaling=gamma, output_bias=True).double()
    with torch.no_grad():
        net.c.fill_(0.3)
    twin = net.to_relu()
    assert twin.width == 100 and float(twin.s) == 1.0 and twin.k == k
    assert torch.allclose(net(X), twin(X), rtol=0, atol=1e-10)


def test_s_is_a_buffer_saved_and_moved():
    net = TwoLayerNet(2, 10, s=0.5)
    assert "s" in dict(net.named_buffers()) and "s" in net.state_dict()
    net.set_s(1.5)
    other = TwoLayerNet(2, 10, s=0.5)
    other.load_state_dict(net.state_dict())
    assert float(other.s) == 1.5
    assert net.double().s.dtype == torch.float64
    assert all(p is not net.s for p in net.parameters())


def test_set_s_changes_output_and_validates():
    net = TwoLayerNet(2, 20, s=0.5).double()
    y0 = net(X)
    net.set_s(1.0)
    assert not torch.allclose(y0, net(X))
    for bad in (2.0, -0.5, float("nan")):
        with pytest.raises(ValueError):
            net.set_s(bad)


def test_formula_and_scaling():
    net = TwoLayerNet(2, 30, k=2, s=0.7).double()
    z = X @ net.hidden.weight.T + net.hidden.bias
    act = torch.where(z > 0, z, 0.3 * z) ** 2
    assert torch.allclose(net(X), 30 ** -0.5 * act @ net.a)
    std = TwoLayerNet(2, 30, k=2, s=0.7, ntk_scaling=False)
    assert std.scale == 1.0


def test_normal_init_is_standard_normal():
    net = TwoLayerNet(3, 20000)
    for p in (net.hidden.weight, net.hidden.bias, net.a):
        assert abs(p.mean().item()) < 0.03 and abs(p.std().item() - 1) < 0.03
    torch_init = TwoLayerNet(3, 20000, init="torch")
    assert torch_init.hidden.weight.abs().max() < 1.0


def test_closed_form_gradient_matches_autograd():
    net = TwoLayerNet(2, 40, k=3, s=1.5).double()
    x = X.clone().requires_grad_(True)
    u, g = net.value_and_grad(x)
    g_auto = torch.autograd.grad(net(x).sum(), x)[0]
    assert torch.allclose(u, net(x)) and torch.allclose(g, g_auto, atol=1e-12)


def test_mlp_one_layer_equals_two_layer_net():
    mlp = MLP(2, [25], k=2, s=0.5).double()
    two = TwoLayerNet(2, 25, k=2, s=0.5).double()
    with torch.no_grad():
        two.hidden.weight.copy_(mlp.layers[0].weight)
        two.hidden.bias.copy_(mlp.layers[0].bias)
        two.a.copy_(mlp.a)
    assert torch.allclose(mlp(X), two(X))


def test_mlp_shapes_and_set_s():
    mlp = MLP(3, [16, 16, 8], k=1, s=0.5)
    y = mlp(torch.rand(7, 3))
    assert y.shape == (7,)
    mlp.set_s(1.5)
    assert float(mlp.s) == 1.5


@pytest.mark.parametrize("kwargs, exc", [
    (dict(dim=0, width=10), ValueError), (dict(dim=2, width=0), ValueError),
    (dict(dim=2, width=10, k=0), ValueError), (dict(dim=2, width=10, s=2.0), ValueError),
    (dict(dim=2, width=10, init="xavier"), ValueError), (dict(dim=2, width=10.5), ValueError),
])
def test_bad_constructor_arguments(kwargs, exc):
    with pytest.raises(exc):
        TwoLayerNet(**kwargs)


def test_bad_input_shape():
    net = TwoLayerNet(2, 5)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        net(torch.rand(4, 3))
    with pytest.raises(ValueError):
        net(torch.rand(4))
    with pytest.raises(ValueError):
        MLP(2, [])


def test_load_state_dict_carries_s_into_the_forward_pass():
    """The forward pass reads s as a cached float; loading a state with another s must
    update it (else a resumed run would compute with the old s)."""
    torch.manual_seed(0)
    src = TwoLayerNet(2, 20, k=3, s=0.5)
    dst = TwoLayerNet(2, 20, k=3, s=1.0)
    dst.load_state_dict(src.state_dict())
    assert dst.s_value == 0.5
    x = torch.rand(9, 2)
    assert torch.equal(dst(x), src(x))
    assert torch.equal(dst.value_and_grad(x)[1], src.value_and_grad(x)[1])


def test_place_kinks_puts_every_kink_through_the_domain():
    import problems
    from ritzhrta.nets.networks import MLP, place_kinks

    pb = problems.get("screened-poisson2d")
    torch.manual_seed(0)
    net = TwoLayerNet(2, 300, k=5).double()
    corners = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)

    def crossing(n):
        z = n.hidden(corners).detach()  # (4, m): a kink crosses the square iff the signs differ
        return float(((z.min(0).values < 0) & (z.max(0).values > 0)).double().mean())

    before = crossing(net)
    weight = net.hidden.weight.detach().clone()
    place_kinks(net, pb.domain, seed=3)
    assert before < 0.8 and crossing(net) == 1.0
    assert torch.equal(net.hidden.weight, weight)  # only the biases move
    with pytest.raises(ValueError, match="TwoLayerNet"):
        place_kinks(MLP(2, [5, 5]), pb.domain)
    with pytest.raises(ValueError, match="dimension"):
        place_kinks(TwoLayerNet(3, 5), pb.domain)
