"""Effectivity of the error estimate (issue 23): every registered problem with an exact
solution, solved from the CLI's default route (and a few other routes), estimate / true error.

    python benchmarks/estimate.py [--quick]

Rows (results/estimate.csv): problem, route (the extra CLI options), seed, rel_h1 (true),
estimate, effectivity, method, cpu_s (the solve), estimate_cpu_s. Table: results/estimate.md.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import problems  # noqa: E402

from _common import quick_args, read_rows, run_missing  # noqa: E402

KEY = ("problem", "route", "seed")
ROUTES = {"default": [], "adam-2000": ["--trainer", "adam", "--steps", "2000"],
          "ritz-sigma5": ["--loss", "ritz"], "adam-1000": ["--steps", "1000"]}


def exact_problems() -> list[str]:
    return [n for n in problems.names() if problems.get(n).has_exact]


def run_one(name: str, route: str, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "ritzhrta", "solve", name, *ROUTES[route], "--seed", str(seed),
               "--out", f"{tmp}/r", "--no-progress", "--threads", "1", "--resolution", "10"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode not in (0,):
            raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr[-500:]}")
        summary = json.loads(Path(f"{tmp}/r/summary.json").read_text())
    est, err = summary["estimate"] or {}, summary["errors"]["h1"]
    h1 = est.get("h1")
    return {"problem": name, "route": route, "seed": seed, "rel_h1": f"{err:.3e}",
            "estimate": "" if h1 is None else f"{h1:.3e}",
            "effectivity": "" if h1 is None else f"{h1 / err:.3f}", "method": est.get("method", est.get("reason")),
            "cpu_s": f"{summary['cpu_seconds']:.3f}", "estimate_cpu_s": f"{est.get('cpu_seconds', 0):.3f}"}


def plan(quick: bool):
    if quick:
        yield "poisson2d-dirichlet", "default", 0
        return
    for name in exact_problems():
        if isinstance(problems.get(name), problems.Problem):
            for seed in (0, 1, 2):
                yield name, "default", seed
        else:  # function approximation: Adam is its default; 1000 steps keep the study short
            yield name, "adam-1000", 0
    for name in ("poisson2d-dirichlet", "poisson2d-neumann", "lshape-mixed"):
        yield name, "adam-2000", 0
        yield name, "ritz-sigma5", 0


def table(rows: list[dict]) -> str:
    out = ["| problem | route | seeds | true rel H¹ [min, max] | estimate [min, max] | effectivity [min, max] | "
           "method | CPU-s solve / estimate (median) |", "|---|---|---|---|---|---|---|---|"]
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["problem"], r["route"]), []).append(r)
    for (p, route), rs in groups.items():
        def span(key, fmt="{:.1e}"):
            v = [float(r[key]) for r in rs if r[key]]
            return f"{fmt.format(min(v))} – {fmt.format(max(v))}" if v else "–"
        cpu = sorted(float(r["cpu_s"]) for r in rs)[len(rs) // 2]
        ecpu = sorted(float(r["estimate_cpu_s"]) for r in rs)[len(rs) // 2]
        out.append(f"| {p} | {route} | {len(rs)} | {span('rel_h1')} | {span('estimate')} | "
                   f"{span('effectivity', '{:.2f}')} | {rs[0]['method']} | {cpu:.2f} / {ecpu:.2f} |")
    return "\n".join(out) + "\n"


def main() -> None:
    args, out = quick_args(__doc__)
    path = out / "estimate.csv"
    run_missing(path, KEY, plan(args.quick), run_one)
    (out / "estimate.md").write_text(table(read_rows(path)))
    print(f"wrote {out / 'estimate.md'}")


if __name__ == "__main__":
    main()
