"""The Ritz route of `ritzhrta solve` for PDE problems (the default until issue 23, now
``--loss ritz``), from the CLI, at a few widths.

No options but ``--loss ritz --width`` (and ``--threads 1``): the Galerkin solve of the Ritz energy on σ^5
features in float64, Dirichlet data built in on boxes and disks (Nitsche elsewhere); no exact
solution used. CPU seconds as ``summary.json`` reports them (the whole solve, evaluation
excluded), relative errors on the 16384 held-out points. Control: ``--trainer adam`` (the
paper's route, H¹ loss with the exact solution) at its defaults on the same problems.

    python benchmarks/default_route.py           # results/default_route.csv, .md
    python benchmarks/default_route.py --widths 150 --no-control --name default_route_150
    python benchmarks/default_route.py --quick   # seconds; used by the tests
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import parse_args, write_rows  # noqa: E402
from ritzhrta.cli.main import main as cli  # noqa: E402

PROBLEMS = ("poisson2d-dirichlet", "screened-poisson2d", "poisson2d-lshape")


def solve(args: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        code = cli(["solve", *args, "--threads", "1", "--resolution", "10", "--out", tmp, "--force", "--no-progress"])
        if code != 0:
            raise SystemExit(f"ritzhrta solve {' '.join(args)} exited with {code}")
        summary = json.loads((Path(tmp) / "summary.json").read_text())
    return {"cpu_seconds": summary["cpu_seconds"], "rel_h1": summary["errors"]["h1"],
            "rel_l2": summary["errors"]["l2"], "dirichlet": summary["config"]["dirichlet"]}


def main(argv=None) -> int:
    def options(p):
        p.add_argument("--widths", default="50,100,250,500", help="comma list")
        p.add_argument("--no-control", action="store_true", help="skip the --trainer adam rows")
        p.add_argument("--name", default="default_route", help="file name of the results")

    args = parse_args(__doc__, argv, options)
    rows = []
    for name in PROBLEMS[:1] if args.quick else PROBLEMS:
        for width in (40,) if args.quick else [int(w) for w in args.widths.split(",")]:
            command = [name, "--loss", "ritz", "--width", str(width)]
            rows.append({"command": "ritzhrta solve " + " ".join(command), **solve(command)})
            print(rows[-1], flush=True)
        if not args.quick and not args.no_control:
            command = [name, "--trainer", "adam"]
            rows.append({"command": "ritzhrta solve " + " ".join(command), **solve(command)})
            print(rows[-1], flush=True)
    name = "default_route_quick" if args.quick else args.name
    write_rows(args.out / f"{name}.csv", rows)
    lines = ["`ritzhrta solve` from the command line, one thread (`--threads 1`), seed 0; CPU seconds "
             "from summary.json.", "", "| command | Dirichlet data | CPU s | rel H¹ | rel L² |", "|---|---|---|---|---|"]
    lines += [f"| `{r['command']}` | {r['dirichlet']} | {r['cpu_seconds']:.2f} | {r['rel_h1']:.2e} | {r['rel_l2']:.2e} |"
              for r in rows]
    (args.out / f"{name}.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
