"""DeepXDE runs for ``vs_peers.py``: PINN and Deep Ritz, Adam then L-BFGS, errors against CPU time.

DeepXDE (PyTorch backend, its default float32) on ritzhrta's problems, as its documentation's
Poisson examples set it up: a tanh net [2, 64, 64, 64, 1] ("Glorot normal"), 1024 interior and
256 boundary points drawn by DeepXDE (pseudo-random), Adam (lr 1e-3) then L-BFGS (a short Adam
phase: what reaches an accuracy soonest; the CPU time of both phases counts).

- PINN: residual −Δu + V u − f (Hessian by ``dde.grad.hessian``), ``DirichletBC`` /
  ``NeumannBC`` from the problem's data, mean-squared losses; the residual points include the
  boundary points (DeepXDE's default).
- Ritz: the energy density ½|∇u|² + ½Vu² − f u with a *mean* loss (the domain integral up
  to the area), plus β·MSE(u − h) on the boundary for Dirichlet data (β = ritzhrta's
  ``DEFAULT_BETA``, the same penalty as ``RitzLoss``); a homogeneous Neumann condition is
  natural and needs no term.

The CPU clock runs only inside ``Model.train`` and stops while the callback measures the
error with :func:`ritzhrta.relative_errors` (the same 16384 points as every other row).
"""
from __future__ import annotations

import os
import time

import torch

from ritzhrta import Box, relative_errors
from ritzhrta.forms.losses import DEFAULT_BETA
from ritzhrta.geometry.polygon import Polygon


def available() -> bool:
    try:
        os.environ.setdefault("DDE_BACKEND", "pytorch")
        import deepxde  # noqa: F401
    except ImportError:
        return False
    return True


def _geometry(dde, domain):
    if isinstance(domain, Box) and domain.dim > 2:
        return dde.geometry.Hypercube(domain.lo.tolist(), domain.hi.tolist())
    if isinstance(domain, Box):
        return dde.geometry.Rectangle(domain.lo.tolist(), domain.hi.tolist())
    if isinstance(domain, Polygon):
        return dde.geometry.Polygon([list(map(float, v)) for v in domain.vertices.tolist()])
    raise ValueError(f"no DeepXDE geometry for {domain!r}")


class _Scalar(torch.nn.Module):
    """DeepXDE's net as ritzhrta's error functions expect it: x (n, d) → u (n,)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x)[:, 0]


def run(pb, kind: str, adam_steps: int, lbfgs_iterations: int, every: int, seed: int = 0,
        num_domain: int = 1024, num_boundary: int = 256):
    """Rows {"method", "setting", "cpu_seconds", "rel_h1", "rel_l2"} every ``every`` iterations
    (any dimension for a box: the Laplacian sums the d second derivatives)."""
    os.environ.setdefault("DDE_BACKEND", "pytorch")
    import deepxde as dde

    dde.config.set_default_float("float32")
    dde.config.set_random_seed(seed)
    geom = _geometry(dde, pb.domain)

    def tensor_fn(fn):
        return lambda x: fn(torch.as_tensor(x, dtype=torch.float64)).numpy()[:, None]

    def source(x):
        return pb.f(x.double()).to(x.dtype)[:, None]

    def potential(x):
        return pb.V(x.double()).to(x.dtype)[:, None]

    if kind == "pinn":
        def pde(x, u):
            lap = sum(dde.grad.hessian(u, x, i=i, j=i) for i in range(pb.dim))
            return -lap + potential(x) * u - source(x)
        losses, weights = "MSE", None
    elif kind == "ritz":
        def pde(x, u):
            gx, gy = dde.grad.jacobian(u, x, i=0, j=0), dde.grad.jacobian(u, x, i=0, j=1)
            return 0.5 * (gx ** 2 + gy ** 2) + 0.5 * potential(x) * u ** 2 - source(x) * u
        losses, weights = [lambda _, e: e.mean(), "MSE"], [1.0, DEFAULT_BETA]
    else:
        raise ValueError(kind)

    bcs = []
    if kind == "pinn":
        if pb.dirichlet is not None:
            bcs.append(dde.icbc.DirichletBC(geom, tensor_fn(pb.h), lambda _, on: on))
        else:  # Neumann: ∂u/∂n = g
            bcs.append(dde.icbc.NeumannBC(geom, tensor_fn(pb.g), lambda _, on: on))
        boundary = num_boundary
    else:
        # Ritz: the energy is an integral over Ω, so its points must not include boundary points
        # (DeepXDE evaluates the PDE term on them too); the Dirichlet penalty gets its own 256.
        boundary = 0
        if pb.dirichlet is not None:
            xb = geom.random_boundary_points(256)
            bcs.append(dde.icbc.PointSetBC(xb, tensor_fn(pb.h)(xb)))
        elif pb.neumann is not None:  # g = 0 is natural; other g would need −∫g u
            raise ValueError("DeepXDE Ritz with Neumann data g ≠ 0 is not set up here")
        else:
            losses, weights = (lambda _, e: e.mean()), None
    data = dde.data.PDE(geom, pde, bcs, num_domain=num_domain, num_boundary=boundary, num_test=64)
    net = dde.nn.FNN([pb.dim, 64, 64, 64, 1], "tanh", "Glorot normal")
    net.apply_feature_transform(lambda x: x.float())  # DeepXDE's polygon sampler hands out float64
    model = dde.Model(data, net)
    wrapped = _Scalar(net)
    rows, spent, clock = [], [0.0], [0.0]
    label = f"deepxde {'PINN' if kind == 'pinn' else 'Ritz'}"

    class Record(dde.callbacks.Callback):
        def __init__(self, phase, stride):
            super().__init__()
            self.phase, self.stride, self.count = phase, stride, 0

        def on_epoch_end(self):
            self.count += self.stride
            if self.count % every == 0:
                spent[0] += time.process_time() - clock[0]
                e = relative_errors(wrapped, pb)
                rows.append({"method": label, "setting": f"{self.phase} {self.count}", "cpu_seconds": spent[0],
                             "rel_h1": e["h1"], "rel_l2": e["l2"]})
                clock[0] = time.process_time()

    clock[0] = time.process_time()
    model.compile("adam", lr=1e-3, loss=losses, loss_weights=weights)
    model.train(iterations=adam_steps, display_every=10 ** 9, verbose=0, callbacks=[Record("adam", 1)])
    if lbfgs_iterations:
        dde.optimizers.set_LBFGS_options(maxiter=lbfgs_iterations)
        options = dde.optimizers.config.LBFGS_options
        options["iter_per_step"] = every
        options["fun_per_step"] = int(1.25 * every)
        model.compile("L-BFGS", loss=losses, loss_weights=weights)
        model.train(display_every=10 ** 9, verbose=0, callbacks=[Record("L-BFGS", every)])
    return rows
