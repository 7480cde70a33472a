"""Fault injection: each behaviour listed in docs/RELIABILITY.md is backed by a test here."""
import json
import math
import subprocess
import sys
import time

import pytest
import torch

import problems
from ritzhrta import Box, Problem
from ritzhrta.cli import main
from ritzhrta.io import load_checkpoint
from ritzhrta.runs import RunConfig, run

DIVERGING = ["--loss", "h1", "--k", "2", "--width", "20", "--optimizer", "sgd", "--lr", "5",
             "--schedule", "1:40", "--checkpoint-every", "1", "--no-progress", "--resolution", "10"]


def solve_cli(tmp_path, *args):
    return main(["solve", "approx1d", *DIVERGING, "--out", str(tmp_path), *args])


def test_huge_lr_diverges_exit_3_and_keeps_the_last_finite_checkpoint(tmp_path, capsys):
    assert solve_cli(tmp_path) == 3
    err = capsys.readouterr().err
    assert "the loss became" in err and "step 4" in err and "s = 1" in err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == "diverged" and summary["steps"] == 3
    # step 4's loss is that of the parameters after step 3; the last parameters with a
    # known finite loss are those after step 2, and that is the checkpoint kept
    state = load_checkpoint(tmp_path / "checkpoint.pt")
    assert len(state["history"]["step"]) == 2
    assert all(torch.isfinite(v).all() for v in state["net"].values())
    assert not (tmp_path / "checkpoint.prev.pt").exists()


def test_rollback_halves_the_lr_and_finishes(tmp_path, capsys):
    assert solve_cli(tmp_path, "--on-nan", "rollback", "--max-retries", "12") == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["steps"] == 40 and summary["rollbacks"] >= 1
    rows = (tmp_path / "history.csv").read_text().splitlines()[1:]
    assert float(rows[-1].split(",")[4]) == pytest.approx(5 / 2 ** summary["rollbacks"])
    assert "rollback 1/12" in capsys.readouterr().err


def test_rollback_gives_up_after_max_retries(tmp_path, capsys):
    assert solve_cli(tmp_path, "--on-nan", "rollback", "--max-retries", "1") == 3
    assert json.loads((tmp_path / "summary.json").read_text())["rollbacks"] == 1


def test_nan_source_is_reported_and_nothing_is_lost(tmp_path, monkeypatch, capsys):
    def nan_problem():
        return Problem(Box([0, 0], [1, 1]), source=lambda x: x[:, 0] * math.nan,
                       exact=lambda x: 0 * x[:, 0], name="nan-source", points=64)
    monkeypatch.setitem(problems.REGISTRY, "nan-source", nan_problem)
    good = tmp_path / "good"
    assert main(["solve", "approx1d", "--loss", "l2", "--k", "1", "--width", "10", "--schedule", "1:5",
                 "--out", str(good), "--no-progress", "--resolution", "10"]) == 0
    before = (good / "summary.json").read_text()
    code = main(["solve", "nan-source", "--loss", "ritz", "--width", "10", "--schedule", "1:5",
                 "--out", str(good), "--no-progress"])
    assert code == 2 and "--force" in capsys.readouterr().err
    assert (good / "summary.json").read_text() == before  # the earlier result is untouched
    bad = tmp_path / "bad"
    assert main(["solve", "nan-source", "--loss", "ritz", "--width", "10", "--schedule", "1:5",
                 "--out", str(bad), "--no-progress", "--resolution", "10"]) == 3
    assert "has no checkpoint yet" in capsys.readouterr().err
    assert json.loads((bad / "summary.json").read_text())["status"] == "diverged"


def test_corrupted_checkpoint_is_a_clear_error_and_is_kept(tmp_path, capsys):
    out = tmp_path / "run"
    run(RunConfig(problem="approx1d", schedule="1:10", width=8, k=1, loss="l2", checkpoint_every=5),
        out, progress=False, outputs=False)
    (out / "checkpoint.pt").write_bytes(b"\x00garbage")
    assert main(["solve", "--resume", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "cannot read checkpoint" in err and len(err.strip().splitlines()) == 1
    assert (out / "checkpoint.pt").read_bytes() == b"\x00garbage"


@pytest.mark.parametrize("text, suffix, message", [
    ('{"problem": "approx1d", "widht": 10}', ".json", "unknown config key"),
    ('{"problem": "approx1d", "width": "10"}', ".json", "must be int"),
    ('{"problem": "approx1d", "lr": true}', ".json", "must be int or float"),
    ('{"problem": "approx1d", "width": 10', ".json", "not valid JSON"),
    ('problem = "approx1d"\nsteps = 3\n', ".toml", "unknown config key"),
    ('problem = "approx1d\n', ".toml", "not valid TOML"),
    ('{"problem": "approx1d", "on_nan": "retry"}', ".json", "on_nan"),
    ('["approx1d"]', ".json", "JSON object"),
    ('{"problem": "__import__(\'os\').system(\'echo hi\')"}', ".json", "unknown problem"),
])
def test_config_files_are_data_and_strict(tmp_path, capsys, text, suffix, message):
    path = tmp_path / f"config{suffix}"
    path.write_text(text)
    assert main(["solve", "--config", str(path), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.skipif(sys.version_info < (3, 11), reason="TOML config files need tomllib (Python >= 3.11)")
def test_toml_config_runs(tmp_path, capsys):
    path = tmp_path / "run.toml"
    path.write_text('problem = "approx1d"\nschedule = "0.5:5,1:5"\nloss = "l2"\nwidth = 8\nk = 1\nresolution = 10\n')
    assert main(["solve", "--config", str(path), "--out", str(tmp_path / "r"), "--no-progress"]) == 0
    assert json.loads((tmp_path / "r" / "config.json").read_text())["width"] == 8


WRITER = """
import sys, torch
from ritzhrta.io import save_checkpoint
path, i = sys.argv[1], 0
big = torch.randn(400_000)
while True:
    i += 1
    save_checkpoint(path, {"i": i, "data": big, "check": big.sum()})
"""


def test_kill_during_checkpoint_write_never_leaves_a_torn_file(tmp_path):
    path = tmp_path / "checkpoint.pt"
    seen = []
    for trial in range(8):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)])
        if trial == 0:  # wait (importing torch can be slow) until a first checkpoint exists
            deadline = time.time() + 60
            while not path.exists() and time.time() < deadline:
                time.sleep(0.05)
        time.sleep(0.05 + 0.07 * trial)  # then kill at varying moments of the write loop
        proc.kill()
        proc.wait()
        if path.exists():
            state = load_checkpoint(path)  # never raises: old or new, never torn
            assert torch.isclose(state["data"].sum(), state["check"])
            seen.append(state["i"])
    assert seen, "the writer never finished a checkpoint"


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "lbfgs"])
def test_resume_equals_uninterrupted_for_every_optimizer(tmp_path, interrupt, optimizer):
    from ritzhrta.runs import resume_run
    config = RunConfig(problem="approx1d", schedule="0.5:12,1:12", loss="l2", width=16, k=1, dtype="float64",
                       optimizer=optimizer, lr=0.05 if optimizer == "sgd" else 1e-2, checkpoint_every=4)
    full = run(config, tmp_path / "full", progress=False, outputs=False)
    install, restore = interrupt
    install(18)
    with pytest.raises(KeyboardInterrupt):
        run(config, tmp_path / "part", progress=False, outputs=False)
    restore()
    resumed = resume_run(tmp_path / "part", progress=False, outputs=False)
    assert resumed.history.loss == full.history.loss  # bitwise on CPU


def test_resume_equals_uninterrupted_with_alternating_stages(tmp_path, interrupt):
    from ritzhrta.runs import resume_run
    config = RunConfig(problem="approx1d", schedule="0.5:6,1:6", loss="l2", width=30, k=1, dtype="float64",
                       trainer="alternating", checkpoint_every=4)
    full = run(config, tmp_path / "full", progress=False, outputs=False)
    install, restore = interrupt
    install(len(full.history) - 2)  # inside the second alternating stage
    with pytest.raises(KeyboardInterrupt):
        run(config, tmp_path / "part", progress=False, outputs=False)
    restore()
    resumed = resume_run(tmp_path / "part", progress=False, outputs=False)
    assert resumed.history.loss == full.history.loss
    for a, b in zip(resumed.net.parameters(), full.net.parameters()):
        assert torch.equal(a, b)
