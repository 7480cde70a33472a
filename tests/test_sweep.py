"""Sweeps as tasks (issue 13): in-process and on a local Dask cluster give the same rows;
finished runs are skipped on restart; a worker killed mid-sweep loses and tears nothing."""
import json
import os
import sys
from pathlib import Path

import pytest
import torch

import problems
from ritzhrta import baseline, homotopy, L2Loss, TwoLayerNet
from ritzhrta.cli.main import main
from ritzhrta.studies.comparison import compare
from ritzhrta.studies.sweep import fingerprint, load_summary, run_specs, RunSpec

distributed = pytest.importorskip("distributed")
STATIC = ("config", "schedule", "optimizer", "lr", "lr_decay", "seed", "status", "steps", "final_loss", "rel_l2",
          "rel_h1")


def make_net(seed):
    torch.manual_seed(seed)
    return TwoLayerNet(1, 20, k=1, s=1.0)


class KillOnce:
    """make_net that kills its worker process the first time it builds seed 1."""

    def __init__(self, marker: str):
        self.marker = marker

    def __call__(self, seed):
        if seed == 1 and not os.path.exists(self.marker):
            Path(self.marker).write_text("killed")
            os._exit(1)  # the worker dies without cleaning up
        return make_net(seed)


def _static(rows):
    return [{k: r[k] for k in STATIC} for r in rows]


def test_serial_sweep_skips_finished_runs_and_rejects_stale_ones(tmp_path):
    target = problems.get("approx1d")
    scheds = {"baseline": baseline(30), "homotopy": homotopy(30)}
    first = compare(target, scheds, make_net, seeds=[0, 1], loss=L2Loss(), out=str(tmp_path))
    summaries = sorted(tmp_path.glob("*/summary.json"))
    assert len(summaries) == 4 and all(load_summary(p) for p in summaries)
    stamp = {p: p.stat().st_mtime_ns for p in summaries}
    again = compare(target, scheds, make_net, seeds=[0, 1], loss=L2Loss(), out=str(tmp_path))
    assert _static(again.rows) == _static(first.rows) and again.rows[0]["cpu_seconds"] == first.rows[0]["cpu_seconds"]
    assert {p: p.stat().st_mtime_ns for p in summaries} == stamp  # nothing was rerun
    # a torn summary (or one of other settings) is not trusted: that run is redone
    summaries[0].write_text('{"row": {"config": "bas')
    compare(target, scheds, make_net, seeds=[0, 1], loss=L2Loss(), out=str(tmp_path))
    assert load_summary(summaries[0]) is not None
    longer = compare(target, {"baseline": baseline(32), "homotopy": homotopy(32)}, make_net, seeds=[0, 1],
                     loss=L2Loss(), out=str(tmp_path))  # same keys, other settings: rerun, not reused
    assert [r["steps"] for r in longer.rows] == [32] * 4
    spec = RunSpec("k", target, baseline(30), make_net, 0, L2Loss())
    assert fingerprint(spec) != fingerprint(RunSpec("k", target, baseline(31), make_net, 0, L2Loss()))


def test_bad_sweeps_are_refused(tmp_path):
    spec = RunSpec("same", problems.get("approx1d"), baseline(5), make_net, 0, L2Loss())
    with pytest.raises(ValueError, match="share a key"):
        run_specs([spec, spec])
    with pytest.raises(ValueError, match="workers"):
        run_specs([spec], workers=0)


def test_local_cluster_equals_serial_even_when_a_worker_dies(tmp_path):
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    target = problems.get("approx1d")
    scheds = {"baseline": baseline(40), "homotopy": homotopy(40)}
    serial = compare(target, scheds, make_net, seeds=[0, 1, 2], loss=L2Loss())
    killer = KillOnce(str(tmp_path / "killed"))
    par = compare(target, scheds, killer, seeds=[0, 1, 2], loss=L2Loss(), workers=2, out=str(tmp_path / "runs"))
    assert (tmp_path / "killed").exists()  # a worker did die mid-sweep
    assert _static(par.rows) == _static(serial.rows)  # bit for bit, in the serial order
    folders = list((tmp_path / "runs").iterdir())
    assert len(folders) == 6 and all(load_summary(f / "summary.json") for f in folders)
    assert not list((tmp_path / "runs").rglob(".summary-*"))  # no temporary file left behind


def test_compare_command_workers_2_equals_workers_1(tmp_path, capsys):
    base = ["compare", "approx1d", "--loss", "l2", "--k", "1", "--width", "20", "--steps", "30",
            "--schedules", "baseline,homotopy", "--seeds", "2", "--controls"]
    assert main(base + ["--workers", "1", "--out", str(tmp_path / "one")]) == 0
    assert main(base + ["--workers", "2", "--out", str(tmp_path / "two")]) == 0
    rows = [(tmp_path / d / "compare.csv").read_text().splitlines() for d in ("one", "two")]
    strip = lambda lines: [line.rsplit(",", 1)[0] for line in lines]  # noqa: E731  (drop cpu_seconds)
    assert strip(rows[0]) == strip(rows[1]) and len(rows[0]) == 1 + 3 * 2
    capsys.readouterr()
    assert main(base + ["--workers", "0"]) == 2
