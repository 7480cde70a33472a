"""Speed-up of a sweep on 1 vs 2 local Dask workers, and of one solve on 1 vs 2 torchrun ranks.

Sweep: ``ritzhrta compare approx1d --loss l2 --k 1 --schedules baseline,homotopy --seeds 4
--steps 500`` with ``--workers 1`` (in this process) and ``--workers 2`` (an embedded
LocalCluster, cluster start-up included). Solve: ``ritzhrta solve screened-poisson2d
--trainer adam --width 1000 --points 4096 --dtype float64 --steps 300`` in one process and
under ``torchrun --nproc-per-node 2 ... --distributed`` (process start-up included). Wall
seconds of the whole command, measured one after the other in one run of this script; the
rows also record the 1-minute load average before each command (other jobs share the cores).

    python benchmarks/scaling.py           # results/scaling.csv, .md
    python benchmarks/scaling.py --quick   # seconds; used by the tests
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import parse_args, write_rows  # noqa: E402


def timed(cmd: list[str]) -> tuple[float, float]:
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return time.perf_counter() - t0, load


def main(argv=None) -> int:
    args = parse_args(__doc__, argv)
    py = sys.executable
    seeds, steps, width, points, solve_steps = ("2", "40", "20", "256", "20") if args.quick else \
        ("4", "500", "1000", "4096", "300")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        sweep = [py, "-m", "ritzhrta", "compare", "approx1d", "--loss", "l2", "--k", "1", "--schedules",
                 "baseline,homotopy", "--seeds", seeds, "--steps", steps]
        for workers in (1, 2):
            wall, load = timed(sweep + ["--workers", str(workers), "--out", f"{tmp}/sweep{workers}"])
            rows.append({"job": "sweep: compare approx1d, 2 schedules x " + seeds + " seeds, " + steps + " steps",
                         "parallel": f"{workers} worker(s)", "wall_seconds": round(wall, 2), "load_before": load})
            print(rows[-1], flush=True)
        solve = ["solve", "screened-poisson2d", "--trainer", "adam", "--width", width, "--points", points,
                 "--dtype", "float64", "--steps", solve_steps, "--threads", "1", "--no-progress", "--force"]
        for ranks in (1, 2):
            prefix = [py, "-m", "ritzhrta"] if ranks == 1 else \
                [py, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "ritzhrta"]
            extra = [] if ranks == 1 else ["--distributed"]
            wall, load = timed(prefix + solve + extra + ["--out", f"{tmp}/solve{ranks}"])
            rows.append({"job": f"solve: screened-poisson2d, Adam, width {width}, {points} points, float64, "
                                f"{solve_steps} steps", "parallel": f"{ranks} process(es)",
                         "wall_seconds": round(wall, 2), "load_before": load})
            print(rows[-1], flush=True)
    name = "scaling_quick" if args.quick else "scaling"
    write_rows(args.out / f"{name}.csv", rows)
    lines = ["Wall seconds of the whole command (start-up included), one after the other in one run; "
             "speed-up = 1-way / 2-way.", "", "| job | parallel | wall s | speed-up | load before |",
             "|---|---|---|---|---|"]
    for i, r in enumerate(rows):
        first = rows[i - i % 2]
        lines.append(f"| {r['job']} | {r['parallel']} | {r['wall_seconds']:.1f} | "
                     f"{first['wall_seconds'] / r['wall_seconds']:.2f} | {r['load_before']:.1f} |")
    (args.out / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
