"""Peak memory of one solve against width × points (the per-rank memory model of docs/SCALING.md).

Each case runs in a fresh process (``ru_maxrss`` is per process): screened-poisson2d, float64,
Sobol points; "adam" = 3 Adam steps of the H¹ loss (σ^3), "galerkin" = one Galerkin output
solve of the Ritz energy with Nitsche (σ^5). Reported: the peak resident memory above the
process's size before the solve, and its ratio to n·m·(d + 1)·8 bytes (one float64 matrix of
values and gradients per point and unit). The evaluation on 16384 held-out points is part of
the peak, so the slope between two point counts is the per-point cost.

    python benchmarks/memory.py           # results/memory.csv, .md
    python benchmarks/memory.py --quick   # seconds; used by the tests
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import parse_args, write_rows  # noqa: E402

CHILD = r"""
import json, resource, sys, torch, problems
from ritzhrta import TwoLayerNet, solve, Stage, H1Loss, RitzLoss
torch.set_num_threads(1)
w, n, kind = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
pb = problems.get("screened-poisson2d")
torch.manual_seed(0)
net = TwoLayerNet(2, w, k=3 if kind == "adam" else 5, s=1.0).double()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if kind == "adam":
    solve(pb, net, (Stage(3, 1.0),), loss=H1Loss(), points=n, sampling="sobol", progress=False)
else:
    solve(pb, net, (Stage(1, 1.0, trainer="galerkin"),), loss=RitzLoss(dirichlet="nitsche"), points=n,
          sampling="sobol", progress=False)
print(json.dumps({"peak_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024}))
"""


def main(argv=None) -> int:
    args = parse_args(__doc__, argv)
    cases = [(20, 256), (20, 512)] if args.quick else [(1000, 16384), (2000, 16384), (2000, 32768)]
    rows = []
    for kind in ("adam", "galerkin"):
        for width, points in cases:
            proc = subprocess.run([sys.executable, "-c", CHILD, str(width), str(points), kind], capture_output=True,
                                  text=True)
            if proc.returncode != 0:
                raise SystemExit(proc.stderr[-2000:])
            peak = json.loads(proc.stdout.strip().splitlines()[-1])["peak_mb"]
            model = points * width * 3 * 8 / 2 ** 20
            rows.append({"route": kind, "width": width, "points": points, "dtype": "float64", "peak_mb": round(peak, 1),
                         "n_m_dp1_8_mb": round(model, 1), "ratio": round(peak / model, 2)})
            print(rows[-1], flush=True)
    name = "memory_quick" if args.quick else "memory"
    write_rows(args.out / f"{name}.csv", rows)
    lines = ["Peak resident memory above the process's start (MB), float64, d = 2; ratio to n·m·(d+1)·8 bytes.", "",
             "| route | width m | points n | peak MB | n·m·(d+1)·8 MB | ratio |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['route']} | {r['width']} | {r['points']} | {r['peak_mb']:.0f} | {r['n_m_dp1_8_mb']:.0f} | "
              f"{r['ratio']:.2f} |" for r in rows]
    (args.out / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
