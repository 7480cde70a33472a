"""Issue 14's problems from the command line, against a P2 reference, with their controls.

Every row is one `ritzhrta solve NAME ...` (one thread); the errors are against a P2 FEM
reference of the same problem (scikit-fem, refined until its estimated energy error is below
``--tol``; its DOFs and estimate are in the rows), or against the exact solution where one
exists (poisson3d-dirichlet, smooth-coefficient). Controls, each changing one thing of the
default route: plate-hole with Nitsche instead of the built-in Dirichlet data, with N(0, 1)
instead of kinks, at width 500; part3d on the order-2 rule (the first default) and with N(0, 1);
two-material without the interface input (InterfaceNet), through the API because the CLI
always uses the problem's interface.

    python benchmarks/mesh_problems.py          # results/mesh_problems.csv, .md (≈ 20 CPU-min)
    python benchmarks/mesh_problems.py --quick  # seconds; used by the tests
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import problems  # noqa: E402
from _common import parse_args, write_rows  # noqa: E402
from ritzhrta import ExactDirichlet, RitzLoss, Stage, TwoLayerNet, solve  # noqa: E402
from ritzhrta.cli.main import main as cli  # noqa: E402
from ritzhrta.reference.fem import fem_reference, reference_errors  # noqa: E402
from ritzhrta.outputs.runs import load_run  # noqa: E402

torch.set_num_threads(1)


def cli_row(name: str, extra: list[str], reference, label: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        args = ["solve", name, *extra, "--threads", "1", "--resolution", "10", "--out", tmp, "--force", "--no-progress"]
        if cli(args) != 0:
            raise SystemExit(f"ritzhrta {' '.join(args)} failed")
        summary = json.loads((Path(tmp) / "summary.json").read_text())
        errors = summary["errors"] if reference is None else reference_errors(load_run(tmp)[2], reference)
    return {"problem": name, "variant": label, "command": " ".join(["ritzhrta solve", name, *extra]),
            "dirichlet": summary["config"]["dirichlet"], "init": summary["config"]["init"],
            "width": summary["config"]["width"], "cpu_seconds": round(summary["cpu_seconds"], 2),
            "rel_h1": errors["h1"], "rel_l2": errors["l2"], "rel_energy": errors.get("energy", errors["h1_semi"]),
            "against": "exact" if reference is None else "FEM P2"}


def api_two_material(seed: int, width: int, reference) -> dict:
    pb = problems.get("two-material")
    torch.manual_seed(seed)
    net = ExactDirichlet(TwoLayerNet(2, width, k=5).double(), pb)
    cpu = time.process_time()
    solve(pb, net, (Stage(1, 1.0, trainer="galerkin"),), loss=RitzLoss(dirichlet="exact"), progress=False)
    cpu = time.process_time() - cpu
    e = reference_errors(net, reference)
    return {"problem": "two-material", "variant": f"control: no interface input, seed {seed}",
            "command": f"API: ExactDirichlet(TwoLayerNet(2, {width}, k=5)), galerkin", "dirichlet": "exact",
            "init": "normal", "width": width, "cpu_seconds": round(cpu, 2), "rel_h1": e["h1"], "rel_l2": e["l2"],
            "rel_energy": e["energy"], "against": "FEM P2"}


def main(argv=None) -> int:
    def options(p):
        p.add_argument("--tol", type=float, default=3e-4, help="FEM reference tolerance")
        p.add_argument("--seeds", type=int, default=3)

    args = parse_args(__doc__, argv, options)
    seeds = range(1 if args.quick else args.seeds)
    small = ["--width", "60"] if args.quick else []
    rows, refs = [], []
    for name in ("plate-hole", "two-material", "part3d"):
        if args.quick and name == "part3d":
            continue
        ref = fem_reference(problems.get(name), tol=1e-2 if args.quick else args.tol)
        refs.append({"problem": name, **ref.summary()})
        print(refs[-1], flush=True)
        for seed in seeds:
            rows.append(cli_row(name, small + ["--seed", str(seed)], ref, f"default, seed {seed}"))
            print(rows[-1], flush=True)
            if name == "plate-hole" and not args.quick:
                for extra, label in ((["--dirichlet", "nitsche"], "control: Nitsche"),
                                     (["--init", "normal"], "control: N(0, 1) init"),
                                     (["--width", "500"], "control: width 500")):
                    rows.append(cli_row(name, extra + ["--seed", str(seed)], ref, f"{label}, seed {seed}"))
                    print(rows[-1], flush=True)
            if name == "part3d" and not args.quick:
                for extra, label in ((["--quadrature", "2:1"], "control: order-2 rule (26 000 points)"),
                                     (["--init", "normal"], "control: N(0, 1) init")):
                    rows.append(cli_row(name, extra + ["--seed", str(seed)], ref, f"{label}, seed {seed}"))
                    print(rows[-1], flush=True)
            if name == "two-material":
                rows.append(api_two_material(seed, 60 if args.quick else 500, ref))
                print(rows[-1], flush=True)
    for name in ("poisson3d-dirichlet", "smooth-coefficient"):
        for seed in seeds:
            ritz = ["--loss", "ritz"] if name == "poisson3d-dirichlet" else []  # the rows' route (now --loss ritz)
            rows.append(cli_row(name, small + ritz + ["--seed", str(seed)], None, f"default, seed {seed}"))
            print(rows[-1], flush=True)
    stem = "mesh_problems_quick" if args.quick else "mesh_problems"
    write_rows(args.out / f"{stem}.csv", rows)
    write_rows(args.out / f"{stem}_references.csv", refs)
    lines = ["`ritzhrta solve` on one thread; errors against the P2 reference (or the exact solution), CPU "
             "seconds of the solve from summary.json.", "",
             "| problem | variant | Dirichlet | init | width | CPU s | rel H¹ | rel energy | rel L² | against |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['problem']} | {r['variant']} | {r['dirichlet']} | {r['init']} | {r['width']} | {r['cpu_seconds']} "
              f"| {r['rel_h1']:.2e} | {r['rel_energy']:.2e} | {r['rel_l2']:.2e} | {r['against']} |" for r in rows]
    lines += ["", "References (P2, scikit-fem):", "", "| problem | DOFs | levels | estimated rel energy error | "
              "converged | CPU s |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['problem']} | {r['dofs']} | {r['levels']} | {r['estimated_rel_energy_error']:.1e} | "
              f"{r['converged']} | {r['cpu_seconds']} |" for r in refs]
    (args.out / f"{stem}.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
