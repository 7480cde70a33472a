"""Networks with the σ_s^k activation (METHOD §2).

Two-layer:  u(x; θ) = m^(−γ/2) · Σ_j a_j σ_s^k(w_j·x + b_j) (+ c),   θ ~ N(0, 1).

``s`` is a registered buffer: it is saved in the ``state_dict`` and follows ``.to()``.
:meth:`set_s` is its only writer.
"""
from __future__ import annotations

import math
import numbers

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ritzhrta.activations import check_k, check_s, sigma_pair, sigma_second

__all__ = ["HomotopyNet", "TwoLayerNet", "MLP", "place_kinks", "INITS"]

INITS = ("normal", "kinks")  # what RunConfig.init / --init name

_INITS = ("normal", "torch")


def _check_positive_int(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _gamma(ntk_scaling: bool | float) -> float:
    if isinstance(ntk_scaling, bool):
        return 1.0 if ntk_scaling else 0.0
    g = float(ntk_scaling)
    if not math.isfinite(g) or g < 0:
        raise ValueError(f"ntk_scaling must be a bool or a finite γ >= 0, got {ntk_scaling!r}")
    return g


class HomotopyNet(nn.Module):
    """Base class: holds ``s`` (buffer) and ``k`` and offers :meth:`set_s`."""

    s: Tensor

    def __init__(self, dim: int, k: int, s: float) -> None:
        super().__init__()
        self._dim = _check_positive_int("dim", dim)
        self.k = check_k(k)
        self._s_value = check_s(s)
        self.register_buffer("s", torch.tensor(self._s_value, dtype=torch.get_default_dtype()))
        self.register_load_state_dict_post_hook(_resync_s)

    def set_s(self, s: float) -> None:
        """Set the homotopy parameter s ∈ [0, 2) in place (the only writer of ``s``)."""
        self._s_value = check_s(s)
        self.s.fill_(self._s_value)

    @property
    def s_value(self) -> float:
        """s as a Python float (the forward pass reads it: no device sync, ReLU kernels at s = 1)."""
        return self._s_value

    @property
    def dim(self) -> int:
        """Input dimension d."""
        return self._dim

    @torch.no_grad()
    def set_output(self, coef: Tensor) -> None:
        """Write the output layer: ``coef`` = [a; c] (c only when the net has an output bias)."""
        m = self.a.numel()
        expected = m + (self.c is not None)
        if coef.shape != (expected,):
            raise ValueError(f"output coefficients must have shape ({expected},), got {tuple(coef.shape)}")
        self.a.copy_(coef[:m].to(self.a))
        if self.c is not None:
            self.c.copy_(coef[m].to(self.c))

    def _check_input(self, x: Tensor) -> None:
        if not isinstance(x, Tensor):
            raise TypeError(f"input must be a torch.Tensor of shape (n, {self.dim}), got {type(x).__name__}")
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"input must have shape (n, {self.dim}), got {tuple(x.shape)}")


def _resync_s(module: "HomotopyNet", _keys) -> None:
    """After ``load_state_dict``: the cached float follows the loaded ``s`` buffer."""
    module._s_value = check_s(float(module.s))


def with_bias_column(net: HomotopyNet, phi: Tensor, grad: Tensor | None) -> tuple[Tensor, Tensor | None]:
    if net.c is None:
        return phi, grad
    phi = torch.cat([phi, torch.ones_like(phi[:, :1])], 1)
    if grad is not None:
        grad = torch.cat([grad, torch.zeros_like(grad[:, :1])], 1)
    return phi, grad


class TwoLayerNet(HomotopyNet):
    """u(x) = m^(−γ/2) Σ_j a_j σ_s^k(w_j·x + b_j) (+ c); γ = 1 with ``ntk_scaling=True``.

    Parameters: ``hidden`` (weights w: (m, d), biases b: (m,)), ``a`` (m,), optional
    ``c`` (output bias). ``init="normal"`` draws every parameter from N(0, 1) as in the
    paper; ``init="torch"`` keeps PyTorch's default ``nn.Linear`` initialisation.
    """

    def __init__(self, dim: int, width: int, k: int = 1, s: float = 1.0, ntk_scaling: bool | float = True,
                 output_bias: bool = False, init: str = "normal") -> None:
        super().__init__(dim, k, s)
        self.width = _check_positive_int("width", width)
        if init not in _INITS:
            raise ValueError(f"init must be one of {_INITS}, got {init!r}")
        self.gamma = _gamma(ntk_scaling)
        self.hidden = nn.Linear(self._dim, self.width)
        self.a = nn.Parameter(torch.empty(self.width))
        self.c = nn.Parameter(torch.zeros(())) if output_bias else None
        if init == "normal":
            with torch.no_grad():
                for p in (self.hidden.weight, self.hidden.bias, self.a):
                    p.normal_()
        else:
            nn.init.uniform_(self.a, -1 / math.sqrt(self.width), 1 / math.sqrt(self.width))

    @property
    def scale(self) -> float:
        """The output factor m^(−γ/2)."""
        return self.width ** (-self.gamma / 2)

    def features(self, x: Tensor) -> Tensor:
        """Hidden features σ_s^k(Wx + b), shape (n, m)."""
        self._check_input(x)
        return sigma_pair(self.hidden(x), self._s_value, self.k, derivative=False)[0]

    def forward(self, x: Tensor) -> Tensor:
        """u(x), shape (n,)."""
        u = self.scale * (self.features(x) @ self.a)
        return u + self.c if self.c is not None else u

    def value_and_grad(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """u(x) and ∇u(x) = Σ_j σ'(w_j·x + b_j) (m^(−γ/2) a_j w_j) in closed form, one pass
        (the output weights are folded into W, an (m, d) product, before the (n, m) one)."""
        self._check_input(x)
        act, dact = sigma_pair(self.hidden(x), self._s_value, self.k)
        sa = self.scale * self.a
        u = act @ sa
        grad = dact @ (sa[:, None] * self.hidden.weight)
        return (u + self.c if self.c is not None else u), grad

    def output_basis(self, x: Tensor, gradients: bool = False) -> tuple[Tensor, Tensor | None]:
        """The functions the output layer combines: Φ (n, m[+1]) with u = Φ·[a; c] and, when
        ``gradients``, ∇Φ (n, m[+1], d). Φ_j = m^(−γ/2) σ_s^k(w_j·x + b_j); a last column of
        ones stands for the output bias c when the net has one."""
        self._check_input(x)
        act, dact = sigma_pair(self.hidden(x), self._s_value, self.k, derivative=gradients)
        grad = self.scale * dact[:, :, None] * self.hidden.weight[None] if gradients else None
        return with_bias_column(self, self.scale * act, grad)

    def output_laplacian(self, x: Tensor) -> Tensor:
        """ΔΦ (n, m[+1]): Δ σ_s^k(w_j·x + b_j) = (σ_s^k)''(w_j·x + b_j)·|w_j|² (the strong-form
        residual of :class:`ritzhrta.forms.residual.ResidualLoss`; needs k ≥ 2)."""
        self._check_input(x)
        d2 = self.scale * sigma_second(self.hidden(x), self._s_value, self.k) * (self.hidden.weight ** 2).sum(1)[None]
        return torch.cat([d2, torch.zeros_like(d2[:, :1])], 1) if self.c is not None else d2

    def to_relu(self) -> "TwoLayerNet":
        """The width-2m ReLU^k twin (s = 1) that computes the same function.

        σ_s^k(z) = ReLU(z)^k + (s − 1)^k·ReLU(−z)^k, so neuron j becomes the pair
        (w_j, b_j, a_j) and (−w_j, −b_j, (s − 1)^k·a_j), with the output weights
        rescaled by (2m/m)^(γ/2) to undo the change of the m^(−γ/2) factor.

        >>> net = TwoLayerNet(2, 50, k=3, s=0.5)
        >>> x = torch.rand(10, 2)
        >>> torch.allclose(net(x), net.to_relu()(x), atol=1e-5)
        True
        """
        s = self._s_value
        twin = TwoLayerNet(self._dim, 2 * self.width, self.k, 1.0, self.gamma, self.c is not None)
        twin = twin.to(device=self.a.device, dtype=self.a.dtype)
        factor = 2 ** (self.gamma / 2)
        with torch.no_grad():
            twin.hidden.weight.copy_(torch.cat([self.hidden.weight, -self.hidden.weight]))
            twin.hidden.bias.copy_(torch.cat([self.hidden.bias, -self.hidden.bias]))
            twin.a.copy_(factor * torch.cat([self.a, (s - 1) ** self.k * self.a]))
            if self.c is not None:
                twin.c.copy_(self.c)
        return twin

    def extra_repr(self) -> str:
        return f"dim={self._dim}, width={self.width}, k={self.k}, s={float(self.s):g}, gamma={self.gamma:g}"


class MLP(HomotopyNet):
    """Fully connected net with σ_s^k after every hidden layer (the paper's multi-layer net).

    h_1 = σ(W_1 x + b_1),  h_{l+1} = σ(n_l^(−γ/2) W_{l+1} h_l + b_{l+1}),
    u = n_L^(−γ/2) a·h_L (+ c), all parameters N(0, 1) with ``init="normal"``: with
    γ = 1 the NTK parametrisation, which reduces to :class:`TwoLayerNet` for one hidden
    layer. For k ≥ 2 and several layers σ^k compounds magnitudes: prefer k = 1 or
    ``init="torch"`` there.
    """

    def __init__(self, dim: int, widths: tuple[int, ...] | list[int], k: int = 1, s: float = 1.0,
                 ntk_scaling: bool | float = True, output_bias: bool = False, init: str = "normal") -> None:
        super().__init__(dim, k, s)
        if isinstance(widths, numbers.Integral):
            widths = (widths,)
        if len(widths) == 0:
            raise ValueError("widths must name at least one hidden layer")
        self.widths = tuple(_check_positive_int("each width", w) for w in widths)
        if init not in _INITS:
            raise ValueError(f"init must be one of {_INITS}, got {init!r}")
        self.gamma = _gamma(ntk_scaling)
        sizes = (self._dim,) + self.widths
        self.layers = nn.ModuleList(nn.Linear(i, o) for i, o in zip(sizes[:-1], sizes[1:]))
        self.a = nn.Parameter(torch.empty(self.widths[-1]))
        self.c = nn.Parameter(torch.zeros(())) if output_bias else None
        if init == "normal":
            with torch.no_grad():
                for p in self.parameters():
                    p.normal_()
                if self.c is not None:
                    self.c.zero_()
        else:
            nn.init.uniform_(self.a, -1 / math.sqrt(self.widths[-1]), 1 / math.sqrt(self.widths[-1]))

    def forward(self, x: Tensor) -> Tensor:
        """u(x), shape (n,)."""
        self._check_input(x)
        h = self._last_hidden(x)
        u = self.widths[-1] ** (-self.gamma / 2) * (h @ self.a)
        return u + self.c if self.c is not None else u

    def output_basis(self, x: Tensor, gradients: bool = False) -> tuple[Tensor, Tensor | None]:
        """Φ (n, n_L[+1]) with u = Φ·[a; c] (last hidden layer times n_L^(−γ/2); a column of
        ones for c), and ∇Φ (n, n_L[+1], d) by autograd when ``gradients``."""
        self._check_input(x)
        from torch.func import jacrev, vmap

        def phi(xi: Tensor) -> Tensor:
            return self._last_hidden(xi[None])[0] * self.widths[-1] ** (-self.gamma / 2)

        with torch.enable_grad():
            feats = vmap(phi)(x)
            grads = vmap(jacrev(phi))(x) if gradients else None
        return with_bias_column(self, feats, grads)

    def _last_hidden(self, x: Tensor) -> Tensor:
        h = sigma_pair(self.layers[0](x), self._s_value, self.k, derivative=False)[0]
        for layer in self.layers[1:]:
            z = F.linear(h, layer.weight * layer.in_features ** (-self.gamma / 2), layer.bias)
            h = sigma_pair(z, self._s_value, self.k, derivative=False)[0]
        return h

    def extra_repr(self) -> str:
        return f"dim={self._dim}, widths={self.widths}, k={self.k}, s={float(self.s):g}, gamma={self.gamma:g}"


class NetWrapper(nn.Module):
    """Base of networks built around a ritzhrta network ``self.net`` (ExactDirichlet,
    InterfaceNet): what the solver asks of a network (``dim``, ``k``, ``s``, ``a``, ``c``,
    ``set_s``, ``set_output``) is the inner network's."""

    net: nn.Module

    @property
    def dim(self) -> int:
        return self.net.dim

    @property
    def k(self) -> int:
        return self.net.k

    @property
    def s(self) -> Tensor:
        return self.net.s

    @property
    def a(self) -> Tensor:
        return self.net.a

    @property
    def c(self):
        return self.net.c

    def set_s(self, s: float) -> None:
        self.net.set_s(s)

    def set_output(self, coef: Tensor) -> None:
        self.net.set_output(coef)


@torch.no_grad()
def place_kinks(net: nn.Module, domain, seed: int = 0) -> None:
    """Move every hidden unit's kink w_j·x + b_j = 0 through a point c_j drawn uniformly in
    ``domain``: b_j = −w_j·c_j (w_j unchanged). With N(0, 1) biases most σ^k features of a
    unit-sized domain have their kink outside it and are nearly polynomial there, so their span
    is ill-conditioned; with the kinks inside, one Galerkin solve of screened-poisson2d went
    from 6.1e-5 to 1.5e-5 at width 500 (benchmarks/results/kinks.md). For a TwoLayerNet (or a
    wrapper with ``.net``); the output layer is left to the solve.
    """
    inner, lifts = net, []
    while not isinstance(inner, TwoLayerNet) and hasattr(inner, "net"):
        if hasattr(inner, "lift_input"):  # InterfaceNet: its features see z = (x, |ψ(x)|)
            lifts.append(inner.lift_input)
        inner = inner.net
    if not isinstance(inner, TwoLayerNet):
        raise ValueError(f"place_kinks needs a TwoLayerNet, got {type(inner).__name__}")
    if getattr(domain, "dim", getattr(net, "dim", inner.dim)) != getattr(net, "dim", inner.dim):
        raise ValueError(f"the domain has dimension {domain.dim}, the network {net.dim}")
    w = inner.hidden.weight
    centres = domain.interior(inner.width, "random", seed=seed, dtype=w.dtype, device=w.device).x
    for lift in lifts:
        centres = lift(centres)
    inner.hidden.bias.copy_(-(w * centres).sum(1))

