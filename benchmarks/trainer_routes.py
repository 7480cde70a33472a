"""Each trainer's CLI default (ritzhrta.training.routes) on poisson2d-neumann and poisson2d-dirichlet:
CPU-seconds and errors of `ritzhrta solve NAME --trainer T` with no other option (issue 22).

    python benchmarks/trainer_routes.py [--quick]

Rows (results/trainer_routes.csv): problem, trainer, width, schedule, rel_h1, estimate,
cpu_s (the run's training seconds), process_cpu_s (the whole command: start, solve, estimate,
plots and VTK). Table: results/trainer_routes.md.
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import append_row, quick_args, read_rows, write_table

TRAINERS = ("default", "gauss-newton", "alternating", "adam")


def run_one(problem: str, trainer: str, quick: bool) -> dict:
    extra = [] if trainer == "default" else ["--trainer", trainer]
    if quick:
        extra += ["--width", "20"]
    with tempfile.TemporaryDirectory() as tmp:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run([sys.executable, "-m", "ritzhrta", "solve", problem, *extra, "--threads", "1",
                               "--out", f"{tmp}/r", "--no-progress"] + (["--steps", "20"] if quick and trainer == "adam"
                                                                        else []),
                              capture_output=True, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-1000:])
        summary = json.loads(Path(f"{tmp}/r/summary.json").read_text())
    est = (summary.get("estimate") or {}).get("h1")
    return {"problem": problem, "trainer": summary["config"]["trainer"] if trainer != "default" else "default",
            "width": summary["config"]["width"], "schedule": summary["config"]["schedule"],
            "rel_h1": f"{summary['errors']['h1']:.3e}", "estimate": "" if est is None else f"{est:.3e}",
            "cpu_s": f"{summary['cpu_seconds']:.2f}",
            "process_cpu_s": f"{after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime:.2f}"}


def main() -> None:
    args, out = quick_args(__doc__)
    path = out / "trainer_routes.csv"
    path.unlink(missing_ok=True)
    for problem in (("poisson2d-neumann",) if args.quick else ("poisson2d-neumann", "poisson2d-dirichlet")):
        for trainer in (("default", "gauss-newton") if args.quick else TRAINERS):
            row = run_one(problem, trainer, args.quick)
            append_row(path, row)
            print(",".join(str(v) for v in row.values()), flush=True)
    rows = read_rows(path)
    write_table(out / "trainer_routes.md", [("problem", "problem"), ("`--trainer`", "trainer"), ("width", "width"),
                                            ("schedule", "schedule"), ("rel H¹", "rel_h1"), ("estimate", "estimate"),
                                            ("training CPU-s", "cpu_s"), ("whole command CPU-s", "process_cpu_s")], rows)


if __name__ == "__main__":
    main()
