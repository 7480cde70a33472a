"""Does the Ritz energy's Galerkin solve gain from a factored (square-root) form? (issue 23)

The Ritz output solve is A c = b with A = MᵀM, M = W^(1/2)∇Φ (the energy's rows). Instead of
eigh(A) with the relative ridge 1e-13 (the default), solve by the SVD of M: c = Σ_k v_k (v_kᵀb)/σ_k²
over σ_k > rcond·σ_max. The linear term b = Σ ω f ψ is not of the form Mᵀy for any known y, so
its rounding is amplified by 1/σ_min; this script measures whether that wins or loses.

    python benchmarks/ritz_factored.py [--quick]

Rows (results/ritz_factored.csv): features (sigma5 | tanh), width, method (eigh-1e-13 or
svd-RCOND), seed, rel_h1, cpu_s. poisson2d-dirichlet, exact Dirichlet imposition (h = 0).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import problems  # noqa: E402
from ritzhrta import ExactDirichlet, RitzLoss, TwoLayerNet, relative_errors  # noqa: E402
from ritzhrta.nets.features import RandomFeatureNet  # noqa: E402
from ritzhrta.training.lstsq import output_columns, solve_spd  # noqa: E402
from ritzhrta.forms.norms import evaluation_points  # noqa: E402

from _common import append_row, quick_args, read_rows  # noqa: E402


def energy_rows(problem, interior, cols) -> torch.Tensor:
    sw = torch.sqrt(interior.w.double())
    return torch.cat([cols.grads[:, :, j] * sw[:, None] for j in range(cols.grads.shape[2])])


def svd_solve(m: torch.Tensor, b: torch.Tensor, rcond: float) -> torch.Tensor:
    _, s, vh = torch.linalg.svd(m, full_matrices=False)
    keep = s > rcond * s[0]
    t = vh[keep].T / s[keep]
    return t @ (t.T @ b)


def main() -> None:
    args, out = quick_args(__doc__)
    torch.set_num_threads(1)
    path = out / "ritz_factored.csv"
    path.unlink(missing_ok=True)
    problem = problems.get("poisson2d-dirichlet")
    interior = problem.domain.quadrature(*problem.domain.default_rule(), dtype=torch.float64)
    ev = evaluation_points(problem, dtype=torch.float64)
    loss = RitzLoss(dirichlet="exact")
    widths = (100,) if args.quick else (100, 200, 400, 800)
    for features in ("sigma5", "tanh"):
        for width in widths:
            for seed in ((0,) if args.quick else (0, 1)):
                torch.manual_seed(seed)
                base = TwoLayerNet(2, width, k=5).double() if features == "sigma5" else \
                    RandomFeatureNet(problem.domain, width).double()
                net = ExactDirichlet(base, problem)
                cols = output_columns(net, loss, problem, interior, None)
                a, b = loss.quadratic(problem, interior, None, cols)
                for method in ("eigh-1e-13", "svd-1e-7", "svd-1e-9", "svd-1e-11", "svd-1e-14"):
                    t0 = time.process_time()
                    if method.startswith("eigh"):
                        c = solve_spd(a, b, 1e-13)
                    else:
                        c = svd_solve(energy_rows(problem, interior, cols), b, float(method[4:]))
                    cpu = time.process_time() - t0
                    net.set_output(c)
                    row = {"features": features, "width": width, "method": method, "seed": seed,
                           "rel_h1": f"{relative_errors(net, problem, ev)['h1']:.3e}", "cpu_s": f"{cpu:.4f}"}
                    append_row(path, row)
                    print(",".join(str(v) for v in row.values()), flush=True)
    rows = read_rows(path)
    lines = ["| features | width | " + " | ".join(m for m in dict.fromkeys(r["method"] for r in rows)) + " |",
             "|---|---|" + "---|" * len(dict.fromkeys(r["method"] for r in rows))]
    for features in dict.fromkeys(r["features"] for r in rows):
        for width in dict.fromkeys(r["width"] for r in rows):
            cells = []
            for method in dict.fromkeys(r["method"] for r in rows):
                errs = [float(r["rel_h1"]) for r in rows if (r["features"], r["width"], r["method"]) ==
                        (features, width, method)]
                cells.append(f"{max(errs):.1e}" if errs else "–")
            lines.append(f"| {features} | {width} | " + " | ".join(cells) + " |")
    (out / "ritz_factored.md").write_text("Worst rel H¹ over the seeds, poisson2d-dirichlet, exact imposition.\n\n"
                                         + "\n".join(lines) + "\n")
    print(f"wrote {out / 'ritz_factored.md'}")


if __name__ == "__main__":
    main()
