"""ritzhrta's trainers against finite elements: relative H¹ error against CPU seconds.

Problems: poisson2d-dirichlet (u* = sin πx sin πy), screened-poisson2d (−Δu + u = f,
Neumann), poisson2d-lshape (u* = r^(2/3) sin(2θ/3), singular corner). One thread, float64,
CPU seconds of the solve only (the error evaluation is excluded).

Methods
- ``skfem P1`` / ``skfem P2``: scikit-fem on uniform meshes (optional extra ``.[peers]``);
  error by the FE quadrature of the same relative H¹ formula (order 8).
- ``galerkin k=3`` / ``k=5``: one Galerkin output solve of the Ritz energy (Nitsche for
  Dirichlet data) on the random N(0,1) hidden layer of a σ_1^k net, widths 100–1000,
  72 × 72 Gauss rule, the measured default ridge (``lstsq.galerkin_ridge``); on the
  Dirichlet box problem also with exact imposition u = φ·N (``exact BC``; h = 0 there, so
  the lift carries no information about u*).
- ``gauss-newton``: Gauss–Newton on all parameters of a width-80 net, Ritz energy (Nitsche),
  the error after every iteration.
- ``adam (H1, paper)``: the paper's route as ``ritzhrta solve --trainer adam`` runs it (width 1000,
  H¹ loss with the exact solution, HRTA 0.5 → 1), the error every 500 steps.
- ``deepxde PINN`` / ``deepxde Ritz``: DeepXDE (PyTorch backend, float32, tanh
  [2, 64, 64, 64, 1], Adam then L-BFGS; see ``_deepxde.py``), optional extra ``.[peers]``.
ritzhrta's and DeepXDE's errors use :func:`ritzhrta.relative_errors` (16384 Sobol points not
used in training).

    python benchmarks/vs_peers.py                    # results/vs_peers.csv, .md, .png (~25 min)
    python benchmarks/vs_peers.py --only deepxde     # re-run some families, keep the other rows
    python benchmarks/vs_peers.py --quick            # seconds; used by the tests
"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import problems  # noqa: E402
import _deepxde  # noqa: E402
from _common import parse_args, read_rows, write_rows  # noqa: E402
from ritzhrta import Box, ExactDirichlet, H1Loss, RitzLoss, TwoLayerNet, homotopy, relative_errors, solve  # noqa: E402
from ritzhrta.training.gauss_newton import gauss_newton_fit  # noqa: E402
from ritzhrta.training.lstsq import fit_output_layer, galerkin_ridge  # noqa: E402
from ritzhrta.training.solver import default_quadrature  # noqa: E402

PROBLEMS = ("poisson2d-dirichlet", "screened-poisson2d", "poisson2d-lshape")
TARGETS = (1e-2, 1e-3, 1e-4, 1e-5)


def _ritz(pb) -> RitzLoss:
    return RitzLoss(beta=None, dirichlet="nitsche") if pb.dirichlet is not None else RitzLoss()


def _rules(pb):
    rule = default_quadrature(pb.dim)
    return (pb.domain.quadrature(*rule, dtype=torch.float64),
            pb.domain.boundary_quadrature(*rule, dtype=torch.float64))


def run_galerkin(pb, widths, k, exact=False):
    for width in widths:
        torch.manual_seed(0)
        net = TwoLayerNet(2, width, k=k, s=1.0).double()
        cpu = time.process_time()
        q, b = _rules(pb)
        if exact:  # u = ĥ + φ·N: the Dirichlet data by construction
            net, loss = ExactDirichlet(net, pb), RitzLoss(dirichlet="exact")
        else:
            loss = _ritz(pb).calibrated(net, pb, q, b)
        fit_output_layer(net, pb, q, loss, boundary=b, ridge=galerkin_ridge(net))
        seconds = time.process_time() - cpu
        yield {"method": f"galerkin k={k}" + (" exact BC" if exact else ""), "setting": f"width {width}",
               "cpu_seconds": seconds,
               **_errors(relative_errors(net, pb))}


def run_gauss_newton(pb, width, iterations):
    torch.manual_seed(0)
    net = TwoLayerNet(2, width, k=3, s=1.0).double()
    rows, spent = [], [0.0]
    clock = [time.process_time()]
    q, b = _rules(pb)
    loss = _ritz(pb).calibrated(net, pb, q, b)

    def record(it, value):
        spent[0] += time.process_time() - clock[0]
        rows.append({"method": "gauss-newton", "setting": f"width {width}, iteration {it}",
                     "cpu_seconds": spent[0], **_errors(relative_errors(net, pb))})
        clock[0] = time.process_time()

    gauss_newton_fit(net, pb, q, b, loss, iterations=iterations, callback=record, patience=iterations)
    return rows


def run_adam(pb, steps, every):
    torch.manual_seed(0)
    net = TwoLayerNet(2, 1000, k=3, s=0.5)
    rows, spent, clock = [], [0.0], [time.process_time()]

    def record(info):
        if info.step % every == 0:
            spent[0] += time.process_time() - clock[0]
            rows.append({"method": "adam (H1, paper)", "setting": f"step {info.step}", "cpu_seconds": spent[0],
                         **_errors(relative_errors(info.net, pb))})
            clock[0] = time.process_time()

    solve(pb, net, homotopy(steps), loss=H1Loss(), progress=False, callback=record)
    return rows


def _errors(e):
    return {"rel_h1": e["h1"], "rel_l2": e["l2"]}


def run_fem(name, pb, degree, sizes):
    """scikit-fem P1-P4 on uniform meshes; errors by FE quadrature (order 8 or more)."""
    from skfem import (Basis, BilinearForm, ElementTriP1, ElementTriP2, ElementTriP3, ElementTriP4, Functional,
                       LinearForm, MeshTri,
                       condense, solve as fem_solve)
    from skfem.helpers import dot, grad

    def f(x):
        return pb.f(torch.as_tensor(x.reshape(2, -1).T)).numpy().reshape(x.shape[1:])

    def exact(x):
        t = torch.as_tensor(x.reshape(2, -1).T)
        u = pb.u_exact(t).numpy().reshape(x.shape[1:])
        g = pb.grad_exact(t).numpy().T.reshape(x.shape)
        return u, g

    potential = float(pb.potential) if not callable(pb.potential) else None
    element = {1: ElementTriP1, 2: ElementTriP2, 3: ElementTriP3, 4: ElementTriP4}[degree]()

    @BilinearForm
    def a(u, v, w):
        return dot(grad(u), grad(v)) + potential * u * v

    @LinearForm
    def rhs(v, w):
        return f(w.x) * v

    @Functional
    def err_num(w):
        u, g = exact(w.x)
        du = w["uh"].grad
        return (w["uh"] - u) ** 2 + (du[0] - g[0]) ** 2 + (du[1] - g[1]) ** 2

    @Functional
    def err_den(w):
        u, g = exact(w.x)
        return u ** 2 + g[0] ** 2 + g[1] ** 2

    @Functional
    def l2_num(w):
        return (w["uh"] - exact(w.x)[0]) ** 2

    @Functional
    def l2_den(w):
        return exact(w.x)[0] ** 2

    for n in sizes:
        cpu = time.process_time()
        if name == "poisson2d-lshape":
            mesh = MeshTri.init_lshaped()
            p = mesh.p * np.array([[1.0], [-1.0]])  # reflect: the notch becomes [0,1] × [−1,0] as in LShape()
            mesh = MeshTri(p, mesh.t[[0, 2, 1]]).refined(int(math.log2(n)))
        else:
            mesh = MeshTri.init_tensor(np.linspace(0, 1, n + 1), np.linspace(0, 1, n + 1))
        basis = Basis(mesh, element, intorder=2 * degree + 2)
        A, bvec = a.assemble(basis), rhs.assemble(basis)
        if pb.dirichlet is not None:
            dofs = basis.get_dofs().all()
            x = basis.zeros()
            locs = basis.doflocs[:, dofs]
            x[dofs] = pb.h(torch.as_tensor(locs.T)).numpy()
            uh = fem_solve(*condense(A, bvec, x=x, D=dofs))
        else:
            uh = fem_solve(A, bvec)
        seconds = time.process_time() - cpu
        fine = Basis(mesh, element, intorder=max(8, 2 * degree + 2))
        interp = fine.interpolate(uh)
        h1 = math.sqrt(err_num.assemble(fine, uh=interp) / err_den.assemble(fine))
        l2 = math.sqrt(l2_num.assemble(fine, uh=interp) / l2_den.assemble(fine))
        yield {"method": f"skfem P{degree}", "setting": f"{n} × {n} cells" if name != "poisson2d-lshape"
               else f"{mesh.nelements} triangles", "cpu_seconds": seconds, "rel_h1": h1, "rel_l2": l2}


def time_to(rows, target):
    """The least CPU time at which a method's error is ≤ target (None if never)."""
    hits = [r["cpu_seconds"] for r in rows if r["rel_h1"] <= target]
    return min(hits) if hits else None


FAMILIES = ("fem", "galerkin", "gauss-newton", "adam", "deepxde")


def _family(method: str) -> str:
    return ("fem" if method.startswith("skfem") else "deepxde" if method.startswith("deepxde")
            else "adam" if method.startswith("adam") else method.split()[0])


def _options(parser) -> None:
    parser.add_argument("--no-adam", action="store_true", help="skip the slow Adam curves")
    parser.add_argument("--only", help=f"comma list of {', '.join(FAMILIES)}: run these, keep the other rows "
                                       "of the existing CSV")


def main(argv=None) -> int:
    args = parse_args(__doc__, argv, _options)
    only = set(FAMILIES if not args.only else args.only.split(","))
    if only - set(FAMILIES):
        raise SystemExit(f"--only takes {', '.join(FAMILIES)}; got {args.only}")
    if args.no_adam:
        only.discard("adam")
    torch.set_num_threads(1)
    try:
        import skfem  # noqa: F401
        have_fem = True
    except ImportError:
        have_fem = False
        print("scikit-fem is not installed (pip install -e '.[peers]'): finite-element rows skipped")
    rows = []
    for name in PROBLEMS[:1] if args.quick else PROBLEMS:
        pb = problems.get(name)
        found = []
        if have_fem and "fem" in only:
            found += list(run_fem(name, pb, 1, (4, 8) if args.quick else (8, 16, 32, 64, 128, 256)))
            p2 = (4, 8, 16, 32, 64, 128) + ((256,) if isinstance(pb.domain, Box) else ())
            found += list(run_fem(name, pb, 2, (4,) if args.quick else p2))
        if "galerkin" in only:
            for k in (3,) if args.quick else (3, 5):
                found += list(run_galerkin(pb, (30,) if args.quick else (100, 250, 500, 1000), k))
            if pb.dirichlet is not None and isinstance(pb.domain, Box):
                found += list(run_galerkin(pb, (30,) if args.quick else (50, 100, 250, 500), 5, exact=True))
        if "gauss-newton" in only:
            found += run_gauss_newton(pb, 20 if args.quick else 80, 2 if args.quick else 30)
        if not args.quick and "adam" in only:
            found += run_adam(pb, 3000, 500)
        if "deepxde" in only and _deepxde.available():
            for kind in ("pinn", "ritz"):
                found += _deepxde.run(pb, kind, *((20, 10, 10) if args.quick else (1000, 3000, 250)))
        for r in found:
            r["problem"] = name
            print(r, flush=True)
        rows += found
    name = "vs_peers_quick" if args.quick else "vs_peers"
    if args.only and (args.out / f"{name}.csv").exists():  # keep the families not re-run
        kept = [dict(r, cpu_seconds=float(r["cpu_seconds"]), rel_h1=float(r["rel_h1"]), rel_l2=float(r["rel_l2"]))
                for r in read_rows(args.out / f"{name}.csv") if _family(r["method"]) not in only]
        rows = kept + rows
    write(rows, args.out, name)
    return 0


def write(rows, out: Path, name: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_rows(out / f"{name}.csv", rows, ["problem", "method", "setting", "cpu_seconds", "rel_h1", "rel_l2"])
    lines = ["CPU seconds (one thread) to reach a relative H¹ error; – = not reached in the runs made.", "",
             "| problem | method | " + " | ".join(f"≤ {t:g}" for t in TARGETS) + " | best rel H¹ |",
             "|---|---|" + "---|" * (len(TARGETS) + 1)]
    for pname in dict.fromkeys(r["problem"] for r in rows):
        for method in dict.fromkeys(r["method"] for r in rows if r["problem"] == pname):
            rs = [r for r in rows if r["problem"] == pname and r["method"] == method]
            cells = [f"{t:.3g}" if (t := time_to(rs, target)) is not None else "–" for target in TARGETS]
            lines.append(f"| {pname} | {method} | " + " | ".join(cells) + f" | {min(r['rel_h1'] for r in rs):.2e} |")
    (out / f"{name}.md").write_text("\n".join(lines) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(r["problem"] for r in rows))
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 4), squeeze=False)
    for ax, pname in zip(axes[0], names):
        for method in dict.fromkeys(r["method"] for r in rows if r["problem"] == pname):
            rs = sorted((r for r in rows if r["problem"] == pname and r["method"] == method),
                        key=lambda r: r["cpu_seconds"])
            ax.loglog([r["cpu_seconds"] for r in rs], [r["rel_h1"] for r in rs], "o-", ms=3, label=method)
        ax.set_title(pname)
        ax.set_xlabel("CPU seconds (1 thread)")
        ax.set_ylabel("relative H¹ error")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / f"{name}.png", dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
