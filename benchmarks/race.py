"""Steps per CPU-second on one identical net: ritzhrta (eager, compiled) vs DeepXDE vs plain PyTorch.

The net is [2, 1000, 1] with ReLU³ hidden units (ritzhrta: ``TwoLayerNet(2, 1000, k=3, s=1)``),
the loss the Deep Ritz energy of poisson2d-dirichlet with a boundary penalty,
E = mean_Ω(½|∇u|² − f u) + β·mean_∂Ω (u − h)², on the same 1024 interior and 256 boundary
points, one Adam step per iteration, one thread. Rows:

- ``plain pytorch``: ``nn.Linear`` → ``relu(z)**3`` → ``nn.Linear``, ∇u by
  ``torch.autograd.grad(create_graph=True)``: what a user writes by hand.
- ``ritzhrta eager``: :class:`ritzhrta.RitzLoss` on the net's closed-form ∇u (the path ``solve``
  takes); ``ritzhrta autograd``: the same loss with ∇u by double backward.
- ``ritzhrta compiled``: the eager step under ``torch.compile`` (compile time excluded; the
  compiler's child processes are counted by ``ritzhrta.outputs.runs.cpu_time``).
- ``deepxde``: DeepXDE 1.x (PyTorch backend) ``Model.train`` with the same net
  (``FNN([2, 1000, 1], relu³)``), ``pde`` returning the energy density and a mean loss on it,
  ``DirichletBC`` with weight β; the optional extra ``.[peers]``.

Each row: warm-up, then steps until ``--seconds`` of CPU time; the median of ``--repeats``
rounds (the rounds interleave the methods, so load drifts hit all of them alike).

    python benchmarks/race.py              # results/race.csv, race.md
    python benchmarks/race.py --quick      # seconds; used by the tests
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import problems  # noqa: E402
from _common import parse_args, write_rows  # noqa: E402
from ritzhrta import RitzLoss, TwoLayerNet  # noqa: E402
from ritzhrta.geometry.domains import Points  # noqa: E402

BETA = 100.0


def _boundary(n, dtype):
    """n points on the unit square's boundary, evenly spaced by arclength."""
    t = (torch.arange(n, dtype=dtype) + 0.5) / n * 4
    side, r = t.floor(), t - t.floor()
    zero, one = torch.zeros_like(r), torch.ones_like(r)
    x = torch.where(side == 0, r, torch.where(side == 1, one, torch.where(side == 2, 1 - r, zero)))
    y = torch.where(side == 0, zero, torch.where(side == 1, r, torch.where(side == 2, one, 1 - r)))
    return torch.stack([x, y], 1)


def ritzhrta_step(pb, x, xb, closed_form=True, compiled=False):
    torch.manual_seed(0)
    net = TwoLayerNet(2, 1000, k=3, s=1.0).to(x.dtype)
    loss = RitzLoss(beta=BETA)
    interior = Points(x, torch.full((len(x),), 1.0 / len(x), dtype=x.dtype))
    boundary = Points(xb, torch.full((len(xb),), 1.0 / len(xb), dtype=x.dtype))
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        value = loss(net, pb, interior, boundary, closed_form=closed_form)
        value.backward()
        opt.step()
        return value

    if compiled:
        return torch.compile(step)
    return step


def plain_step(pb, x, xb):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 1000), _Cube(), torch.nn.Linear(1000, 1)).to(x.dtype)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    f, h = pb.f(x), pb.h(xb)

    def step():
        opt.zero_grad(set_to_none=True)
        xg = x.requires_grad_(True)
        u = net(xg)[:, 0]
        (g,) = torch.autograd.grad(u.sum(), xg, create_graph=True)
        value = (0.5 * (g ** 2).sum(1) - f * u).mean() + BETA * ((net(xb)[:, 0] - h) ** 2).mean()
        value.backward()
        opt.step()
        return value

    return step


class _Cube(torch.nn.Module):
    def forward(self, z):
        return torch.relu(z) ** 3


def deepxde_runner(pb, x, xb):
    """A function n -> None that runs n DeepXDE Adam iterations on the same points."""
    os.environ.setdefault("DDE_BACKEND", "pytorch")
    import deepxde as dde

    dtype = "float64" if x.dtype == torch.float64 else "float32"
    dde.config.set_default_float(dtype)
    geom = dde.geometry.Rectangle([0, 0], [1, 1])

    def pde(xx, u):
        gx = dde.grad.jacobian(u, xx, i=0, j=0)
        gy = dde.grad.jacobian(u, xx, i=0, j=1)
        return 0.5 * (gx ** 2 + gy ** 2) - pb.f(xx)[:, None] * u

    bc = dde.icbc.DirichletBC(geom, lambda xx: pb.h(torch.as_tensor(xx)).numpy()[:, None],
                              lambda _, on: on)
    data = dde.data.PDE(geom, pde, [bc], num_domain=0, num_boundary=0, anchors=torch.cat([x, xb]).numpy(),
                        num_test=16)
    torch.manual_seed(0)
    net = dde.nn.FNN([2, 1000, 1], lambda z: torch.relu(z) ** 3, "Glorot normal")
    model = dde.Model(data, net)
    model.compile("adam", lr=1e-4, loss=[lambda _, e: e.mean(), "MSE"], loss_weights=[1.0, BETA])

    def run(n):
        model.train(iterations=n, display_every=10 ** 9, verbose=0)

    return run


def _rate(run_n, seconds: float) -> float:
    """Steps per CPU-second of ``run_n(n)`` (n steps per call), after one warm-up call. The
    calls grow to about a third of the budget each, so per-call costs (DeepXDE evaluates its
    losses once at the end of every ``train`` call) weigh < 1 %."""
    run_n(2)
    n, spent, batch = 0, 0.0, 5
    while spent < seconds:
        t0 = time.process_time()
        run_n(batch)
        spent += time.process_time() - t0
        n += batch
        batch = max(5, int(n / spent * seconds / 3))
    return n / spent


def _loop(step):
    def run(n):
        for _ in range(n):
            step()
    return run


def main(argv=None) -> int:
    args = parse_args(__doc__, argv, lambda p: (p.add_argument("--seconds", type=float, default=5.0),
                                                p.add_argument("--repeats", type=int, default=3)))
    torch.set_num_threads(1)
    pb = problems.get("poisson2d-dirichlet")
    seconds = 0.3 if args.quick else args.seconds
    repeats = 1 if args.quick else args.repeats
    rows = []
    for dtype in (torch.float32,) if args.quick else (torch.float32, torch.float64):
        x = torch.rand(1024, 2, generator=torch.Generator().manual_seed(0), dtype=dtype)
        xb = _boundary(256, dtype)
        runners = {"ritzhrta eager": _loop(ritzhrta_step(pb, x, xb)),
                   "ritzhrta autograd": _loop(ritzhrta_step(pb, x, xb, closed_form=False)),
                   "plain pytorch": _loop(plain_step(pb, x, xb))}
        if not args.quick:
            runners["ritzhrta compiled"] = _loop(ritzhrta_step(pb, x, xb, compiled=True))
        try:
            runners["deepxde"] = deepxde_runner(pb, x, xb)
        except ImportError:
            print("deepxde is not installed (pip install -e '.[peers]'): its row is skipped")
        rates = {name: [] for name in runners}
        for _ in range(repeats):
            for name, run in runners.items():
                rates[name].append(_rate(run, seconds))
        for name, r in rates.items():
            rows.append({"method": name, "dtype": str(dtype).replace("torch.", ""),
                         "steps_per_cpu_s": statistics.median(r), "rounds": " ".join(f"{v:.1f}" for v in r)})
            print(rows[-1], flush=True)
    write(rows, args.out, "race_quick" if args.quick else "race")
    return 0


def write(rows, out: Path, name: str) -> None:
    write_rows(out / f"{name}.csv", rows, ["method", "dtype", "steps_per_cpu_s", "rounds"])
    lines = ["Steps per CPU-second (1 thread), [2, 1000, 1] ReLU³, Ritz energy with a boundary penalty, "
             "1024 + 256 points, Adam; median of the rounds. Ratio: against DeepXDE in the same dtype.", "",
             "| method | dtype | steps/CPU-s | × DeepXDE | rounds |", "|---|---|---|---|---|"]
    for r in rows:
        ref = [q["steps_per_cpu_s"] for q in rows if q["method"] == "deepxde" and q["dtype"] == r["dtype"]]
        ratio = f"{r['steps_per_cpu_s'] / ref[0]:.2f}" if ref else "–"
        lines.append(f"| {r['method']} | {r['dtype']} | {r['steps_per_cpu_s']:.1f} | {ratio} | {r['rounds']} |")
    (out / f"{name}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
