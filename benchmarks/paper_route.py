"""The paper's route from the CLI (`--trainer adam`): error along the default 6000-step run.

Runs ``ritzhrta solve poisson2d-neumann --trainer adam`` (H¹ loss, the CLI's HRTA schedule
0.5 → 1 at the paper's 3/16 split, σ^3, width 1000, Adam lr 1e-3, 32×32 grid, seed 0) and
the same with ``--loss ritz``, one thread, with the relative errors evaluated every 1000
steps (``--eval-every``) on the held-out points. Rows: one per (command, step), from the
run's history.csv; CPU seconds from summary.json. This is the table of the README's
"The paper's route" paragraph.

    python benchmarks/paper_route.py            # results/paper_route.csv, .md
    python benchmarks/paper_route.py --quick    # seconds; used by the tests
"""
from __future__ import annotations

import csv
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import parse_args, write_rows  # noqa: E402
from ritzhrta.cli.main import main as cli  # noqa: E402

COMMANDS = (["poisson2d-neumann", "--trainer", "adam"], ["poisson2d-neumann", "--trainer", "adam", "--loss", "ritz"])


def run(command: list[str], every: int) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        code = cli(["solve", *command, "--threads", "1", "--eval-every", str(every), "--out", tmp, "--force",
                    "--no-progress"])
        if code != 0:
            raise SystemExit(f"ritzhrta solve {' '.join(command)} exited with {code}")
        summary = json.loads((Path(tmp) / "summary.json").read_text())
        with (Path(tmp) / "history.csv").open() as fh:
            hist = [r for r in csv.DictReader(fh) if r.get("rel_h1")]
    text = "ritzhrta solve " + " ".join(command)
    return [{"command": text, "step": int(r["step"]), "rel_l2": float(r["rel_l2"]), "rel_h1": float(r["rel_h1"]),
             "run_cpu_seconds": summary["cpu_seconds"]} for r in hist]


def main(argv=None) -> int:
    args = parse_args(__doc__, argv)
    every = 1000
    commands = [list(c) for c in COMMANDS]
    if args.quick:
        every, commands = 10, [c + ["--steps", "20", "--width", "30", "--points", "64"] for c in commands]
    rows = [row for command in commands for row in run(command, every)]
    name = "paper_route_quick" if args.quick else "paper_route"
    write_rows(args.out / f"{name}.csv", rows)
    steps = sorted({r["step"] for r in rows})
    lines = [f"Relative H¹ error along one run (seed 0, one thread), evaluated every {every} steps; "
             "the last column is the whole run's CPU seconds.", "",
             "| command | " + " | ".join(str(s) for s in steps) + " | CPU s |",
             "|---|" + "---|" * len(steps) + "---|"]
    for command in dict.fromkeys(r["command"] for r in rows):
        by = {r["step"]: r for r in rows if r["command"] == command}
        lines.append(f"| `{command}` | " + " | ".join(f"{by[s]['rel_h1']:.1e}" if s in by else "–" for s in steps)
                     + f" | {next(iter(by.values()))['run_cpu_seconds']:.0f} |")
    (args.out / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
