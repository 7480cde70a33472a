"""Results unchanged by a refactoring (issue 22): the demo and the default route, errors to the last bit.

    python benchmarks/refactor_identity.py --label before   # on the commit before
    python benchmarks/refactor_identity.py --label after    # on the commit after; writes the comparison

Rows (results/refactor_identity_<label>.csv): case, commit, rel_l2, rel_h1, estimate, each error
written as ``float.hex`` (exact) and in scientific notation. With both files present the table
results/refactor_identity.md says, per case, whether every error is bit-identical. One thread,
seed 0, the same machine for both labels (a different BLAS may change the last bits).
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import RESULTS, read_rows, write_rows

# The demo (the Makefile's `make demo`) and the default route of every registered problem that
# runs in seconds (solve(problem) with nothing else).
DEMO = ["solve", "poisson2d-neumann", "--trainer", "gauss-newton", "--width", "80", "--dtype", "float64",
        "--schedule", "0.5:5,1:10"]
DEFAULT_ROUTE = ("poisson2d-neumann", "screened-poisson2d", "poisson2d-dirichlet", "poisson2d-lshape",
                 "lshape-mixed", "peak", "wave-front", "poisson3d-dirichlet", "smooth-coefficient", "approx1d")
QUICK = ("poisson2d-dirichlet",)


def _commit() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          cwd=Path(__file__).parent).stdout.strip()


def _row(case: str, errors: dict, estimate: dict | None) -> dict:
    row = {"case": case, "commit": _commit()}
    for key in ("l2", "h1"):
        value = errors.get(key)
        row[f"rel_{key}"] = "" if value is None else float(value).hex()
        row[f"rel_{key}_sci"] = "" if value is None else f"{value:.6e}"
    est = (estimate or {}).get("h1") if estimate else None
    row["estimate"] = "" if est is None else float(est).hex()
    return row


def demo_row(quick: bool) -> dict:
    args = DEMO if not quick else DEMO[:4] + ["--width", "10", "--dtype", "float64", "--schedule", "0.5:1,1:1"]
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "ritzhrta", *args, "--threads", "1", "--no-progress",
                        "--out", f"{tmp}/r"], check=True, capture_output=True)
        summary = json.loads(Path(f"{tmp}/r/summary.json").read_text())
    return _row("demo", summary["errors"], summary.get("estimate"))


def route_row(name: str) -> dict:
    import torch

    import problems
    from ritzhrta import solve

    torch.set_num_threads(1)
    result = solve(problems.get(name), progress=False)
    return _row(f"default:{name}", result.errors, result.estimate)


def compare(before: list[dict], after: list[dict]) -> str:
    old = {r["case"]: r for r in before}
    lines = ["| case | rel L² | rel H¹ | estimate | bit-identical |", "|---|---|---|---|---|"]
    for r in after:
        b = old.get(r["case"])
        same = b is not None and all(b[k] == r[k] for k in ("rel_l2", "rel_h1", "estimate"))
        lines.append(f"| {r['case']} | {r['rel_l2_sci']} | {r['rel_h1_sci']} | "
                     f"{float.fromhex(r['estimate']):.3e} | {'yes' if same else 'NO'} |"
                     if r["estimate"] else
                     f"| {r['case']} | {r['rel_l2_sci']} | {r['rel_h1_sci']} | – | {'yes' if same else 'NO'} |")
    commits = f"before: {before[0]['commit']}, after: {after[0]['commit']}"
    return "\n".join(lines) + f"\n\n{commits}; errors compared as float.hex.\n"


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--label", choices=("before", "after"), default="after")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    out = args.out or (Path(tempfile.mkdtemp()) if args.quick else RESULTS)
    rows = [demo_row(args.quick)] + [route_row(n) for n in (QUICK if args.quick else DEFAULT_ROUTE)]
    if args.quick:  # the smoke test: the same code twice, compared (the table must say "yes")
        write_rows(out / "refactor_identity_before.csv", rows)
    write_rows(out / f"refactor_identity_{args.label}.csv", rows)
    before = out / "refactor_identity_before.csv"
    if args.label == "after" and before.exists():
        table = compare(read_rows(before), rows)
        (out / "refactor_identity.md").write_text(table)
        print(table)
    for r in rows:
        print(r["case"], r["rel_h1_sci"])


if __name__ == "__main__":
    main()
