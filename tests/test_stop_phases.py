"""Issue 35: a stop request (SIGTERM, as Ctrl-C) that arrives after the last training step is
honoured in every phase after training — the estimate, the FEM reference, the plots, the VTK file —
and --resume finishes the remaining phases without training again."""
import json
import os
import signal

import pytest

from ritzhrta.training import loop
from ritzhrta.outputs.runs import RunConfig, resume_run, run

CONFIG = dict(problem="poisson2d-dirichlet", schedule="1:1", trainer="galerkin", loss="residual", features="gauss",
              width=60, dtype="float64", reference="fem", reference_tol=0.05, resolution=12)


def _signal_during(monkeypatch, module, name):
    real = getattr(module, name)

    def with_signal(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)  # the Interrupt handler of the run turns it into a stop request
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, with_signal)
    return real


@pytest.mark.parametrize("phase", ["after the last step", "estimate", "FEM reference", "plots", "VTK file"])
def test_a_stop_after_training_is_honoured_in_every_phase_and_resume_does_not_retrain(tmp_path, monkeypatch, phase):
    from ritzhrta.outputs import plotting, runs
    from ritzhrta.reference import fem
    from ritzhrta.training import solver

    config = RunConfig(**CONFIG)
    whole = run(config, tmp_path / "whole", progress=False)
    target = {"after the last step": (loop, "result_of"), "estimate": (solver, "estimate_run"), "FEM reference": (fem, "_solve_level"),
              "plots": (plotting, "plot_history"), "VTK file": (runs, "write_vtk")}[phase]
    real = _signal_during(monkeypatch, *target)
    part = run(config, tmp_path / "part", progress=False)
    summary = json.loads((tmp_path / "part" / "summary.json").read_text())
    assert part.status == "interrupted" and summary["status"] == "interrupted", summary
    assert summary["checkpoint"] is True and "without retraining" in summary["message"]
    if phase == "after the last step":  # not even the estimate is computed
        assert summary.get("estimate") is None and "before the estimate" in summary["message"]
    monkeypatch.setattr(*target, real)
    solves = []
    stage = loop.solve_stage
    monkeypatch.setattr(loop, "solve_stage", lambda *a, **k: solves.append(1) or stage(*a, **k))
    resumed = resume_run(tmp_path / "part", progress=False)
    summary = json.loads((tmp_path / "part" / "summary.json").read_text())
    assert resumed.status == "finished" and summary["status"] == "finished" and solves == []
    assert resumed.errors == whole.errors and resumed.reference_errors == whole.reference_errors
    assert resumed.estimate["h1"] == whole.estimate["h1"]
    assert (tmp_path / "part" / "solution.vtu").exists() and (tmp_path / "part" / "solution.png").exists()
