"""Relative ridge of the Galerkin (Nitsche Ritz) output solve on a Gauss rule: rel H¹/L²
error for σ_1^k features k = 3 and 5, ridges 1e-6 … 1e-14 and widths 250/500/1000
(float64, seed 0, one thread).

    python benchmarks/galerkin_ridge.py            # results/galerkin_ridge.csv and .md
    python benchmarks/galerkin_ridge.py --quick    # seconds; used by the tests
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import problems  # noqa: E402
from _common import parse_args, write_rows  # noqa: E402
from ritzhrta import RitzLoss, TwoLayerNet, relative_errors  # noqa: E402
from ritzhrta.training.lstsq import fit_output_layer  # noqa: E402
from ritzhrta.training.solver import default_quadrature  # noqa: E402


def main(argv=None) -> int:
    args = parse_args(__doc__, argv)
    torch.set_num_threads(1)
    widths = (40,) if args.quick else (250, 500, 1000)
    ridges = (1e-6, 1e-11) if args.quick else (1e-6, 1e-9, 1e-11, 1e-12, 1e-13, 1e-14)
    powers = (3,) if args.quick else (3, 5)
    rule = (3, 4) if args.quick else default_quadrature(2)
    rows = []
    for name in ("poisson2d-dirichlet", "screened-poisson2d"):
        pb = problems.get(name)
        q = pb.domain.quadrature(*rule, dtype=torch.float64)
        b = pb.domain.boundary_quadrature(*rule, dtype=torch.float64)
        for k in powers:
            for width in widths:
                for ridge in ridges:
                    torch.manual_seed(0)
                    net = TwoLayerNet(2, width, k=k, s=1.0).double()
                    loss = RitzLoss(beta=None, dirichlet="nitsche").calibrated(net, pb, q, b)
                    fit_output_layer(net, pb, q, loss, boundary=b, ridge=ridge)
                    e = relative_errors(net, pb)
                    rows.append({"problem": name, "k": k, "width": width, "ridge": ridge, "rel_h1": e["h1"],
                                 "rel_l2": e["l2"]})
                    print(rows[-1], flush=True)
    name = "galerkin_ridge_quick" if args.quick else "galerkin_ridge"
    write_rows(args.out / f"{name}.csv", rows)
    lines = ["| problem | k | width | " + " | ".join(f"ridge {r:g}" for r in ridges) + " |",
             "|---|---|---|" + "---|" * len(ridges)]
    for pname in dict.fromkeys(r["problem"] for r in rows):
        for k in powers:
            for width in widths:
                cells = [f"{r['rel_h1']:.2e}" for r in rows
                         if r["problem"] == pname and r["width"] == width and r["k"] == k]
                lines.append(f"| {pname} | {k} | {width} | " + " | ".join(cells) + " |")
    (args.out / f"{name}.md").write_text("Relative H¹ error of the Nitsche Galerkin solve (seed 0):\n\n"
                                        + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
