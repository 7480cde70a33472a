"""One solve across processes (issue 13): torchrun with 2 gloo ranks against 1 process."""
import json
import subprocess
import sys

import pytest
import torch

from ritzhrta.cli.main import main

pytestmark = pytest.mark.skipif(not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
                                reason="torch.distributed with gloo is not available")


def _solve(args, out, ranks=1):
    cmd = ["solve", *args, "--dtype", "float64", "--threads", "1", "--no-progress", "--out", str(out)]
    if ranks == 1:
        return subprocess.run([sys.executable, "-m", "ritzhrta", *cmd], capture_output=True, text=True, timeout=600)
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
                           str(ranks), "-m", "ritzhrta", *cmd, "--distributed"], capture_output=True, text=True,
                          timeout=600)


@pytest.mark.parametrize("problem,args", [
    ("screened-poisson2d", ["--trainer", "adam", "--steps", "60", "--width", "50"]),            # Adam, H1 loss
    ("poisson2d-neumann", ["--trainer", "adam", "--steps", "40", "--width", "40", "--loss", "ritz"]),  # mean penalty
    ("poisson2d-dirichlet", ["--width", "60", "--ridge", "1e-3", "--dirichlet", "nitsche"]),  # Galerkin: Nitsche's
    # β calibrated on the reduced forms, then the reduced normal equations (ridge 1e-3: see docs/SCALING.md)
])
def test_two_ranks_equal_one_process(tmp_path, problem, args):
    one, two = tmp_path / "one", tmp_path / "two"
    r1 = _solve([problem, *args], one)
    r2 = _solve([problem, *args], two, ranks=2)
    assert r1.returncode == 0, r1.stderr[-2000:]
    assert r2.returncode == 0, r2.stderr[-2000:]
    assert sorted(p.name for p in two.iterdir()) == sorted(p.name for p in one.iterdir())  # rank 0 wrote it all
    p1 = torch.load(one / "checkpoint.pt", weights_only=False)["net"]
    p2 = torch.load(two / "checkpoint.pt", weights_only=False)["net"]
    for name in p1:
        scale = max(float(p1[name].abs().max()), 1.0)
        assert float((p1[name] - p2[name]).abs().max()) <= 1e-10 * scale, name
    e1 = json.loads((one / "summary.json").read_text())["errors"]
    e2 = json.loads((two / "summary.json").read_text())["errors"]
    assert all(abs(e1[k] - e2[k]) <= 1e-10 * abs(e1[k]) for k in e1)
    assert r2.stdout.count("relative errors") == 1  # one summary, from rank 0


def test_distributed_needs_torchrun(tmp_path, capsys):
    assert main(["solve", "screened-poisson2d", "--distributed", "--out", str(tmp_path / "x")]) == 2
    assert "torchrun" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
