"""torch threads 1 vs 2 for one H¹ Adam step (σ_s^3 two-layer net), idle and with one busy
core (a `yes > /dev/null` process), wall and CPU seconds per step: the measurement behind
ritzhrta's thread default (:func:`ritzhrta.training.threads.default_threads`).

    python benchmarks/threads.py            # results/threads.csv and threads.md (~3 min)
    python benchmarks/threads.py --quick    # seconds; used by the tests
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import problems  # noqa: E402
from _common import parse_args, write_rows  # noqa: E402
from ritzhrta import H1Loss, TwoLayerNet  # noqa: E402


def time_steps(width: int, points: int, threads: int, steps: int) -> tuple[float, float]:
    torch.set_num_threads(threads)
    pb = problems.get("poisson2d-neumann")
    torch.manual_seed(0)
    net = TwoLayerNet(2, width, k=3, s=0.5)
    pts = pb.domain.interior(points, "sobol")
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss = H1Loss()

    def step():
        opt.zero_grad()
        loss(net, pb, pts).backward()
        opt.step()

    step()  # warm up
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    return (time.perf_counter() - w0) / steps, (time.process_time() - c0) / steps


def main(argv=None) -> int:
    args = parse_args(__doc__, argv)
    sizes = [(100, 1024)] if args.quick else [(100, 1024), (1000, 1024), (1000, 4096), (4000, 4096), (4000, 16384)]
    steps = 3 if args.quick else 20
    rows = []
    for load in ("idle", "one busy core"):
        busy = subprocess.Popen(["yes"], stdout=subprocess.DEVNULL) if load != "idle" else None
        try:
            time.sleep(0.5)
            for width, points in sizes:
                for threads in (1, 2):
                    wall, cpu = time_steps(width, points, threads, max(3, steps * 1000 // width))
                    rows.append({"load": load, "width": width, "points": points, "threads": threads,
                                 "wall_ms_per_step": 1e3 * wall, "cpu_ms_per_step": 1e3 * cpu,
                                 "loadavg_1min": os.getloadavg()[0]})
                    print(rows[-1], flush=True)
        finally:
            if busy is not None:
                busy.kill()
    name = "threads_quick" if args.quick else "threads"
    write_rows(args.out / f"{name}.csv", rows)
    lines = ["| load | width × points | 1 thread wall ms | 2 threads wall ms | 2 threads / 1 thread (wall) |",
             "|---|---|---|---|---|"]
    for load in dict.fromkeys(r["load"] for r in rows):
        for width, points in sizes:
            one, two = [r for r in rows if r["load"] == load and r["width"] == width and r["points"] == points]
            lines.append(f"| {load} | {width} × {points} | {one['wall_ms_per_step']:.1f} | "
                         f"{two['wall_ms_per_step']:.1f} | {two['wall_ms_per_step'] / one['wall_ms_per_step']:.2f} |")
    (args.out / f"{name}.md").write_text("Wall time of one H¹ Adam step, torch threads 1 vs 2:\n\n"
                                        + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
