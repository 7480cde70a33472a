import json

import pytest
import torch

from ritzhrta.outputs.runs import FILES, RunConfig, load_run, resume_run, run


def small(**kw):
    base = dict(problem="approx1d", schedule="0.5:30,1:30", loss="h1", width=20, k=2, lr=1e-2,
                dtype="float64", checkpoint_every=10, resolution=20)
    base.update(kw)
    return RunConfig(**base)


def test_run_folder_has_every_file(tmp_path):
    run(small(), tmp_path, progress=False)
    # the outputs, and the lock that keeps a second writer out (ritzhrta.outputs.lock)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES + (".lock",))
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["steps"] == 60


# The one "resume equals the uninterrupted run" test (in-process interrupts; the CLI's SIGINT, the
# solve stages and the FEM reference have theirs in test_reliability.py): each case's settings and
# the step after which the interrupt comes.
RESUME_CASES = {
    "ramp+resampling": (dict(schedule="0.5:30,1:30", sampling="random", resample_every=7), 45),
    "keep-optimizer": (dict(schedule="0.5:30,1:30", keep_optimizer=True, sampling="random", resample_every=7), 25),
    "ramp-stage": (dict(schedule="0.5-1:20,1.5:40", sampling="random", resample_every=7), 15),
    "sgd": (dict(schedule="0.5:12,1:12", loss="l2", width=16, k=1, optimizer="sgd", lr=0.05, checkpoint_every=4), 18),
    "lbfgs": (dict(schedule="0.5:12,1:12", loss="l2", width=16, k=1, optimizer="lbfgs", checkpoint_every=4), 18),
    "alternating": (dict(schedule="0.5:6,1:6", loss="l2", width=30, k=1, trainer="alternating", checkpoint_every=4), 10),
}


@pytest.mark.parametrize("case", list(RESUME_CASES))
def test_resume_equals_uninterrupted(tmp_path, interrupt, case):
    settings, stop_at = RESUME_CASES[case]
    config = small(**settings)
    full = run(config, tmp_path / "full", progress=False, outputs=False)
    install, restore = interrupt
    install(stop_at)
    with pytest.raises(KeyboardInterrupt):
        run(config, tmp_path / "part", progress=False, outputs=False)
    restore()
    resumed = resume_run(tmp_path / "part", progress=False, outputs=False)
    assert resumed.history.loss == full.history.loss  # bitwise on CPU
    for a, b in zip(resumed.net.parameters(), full.net.parameters()):
        assert torch.equal(a, b)
    assert [r.steps for r in resumed.stages] == [r.steps for r in full.stages]


def test_load_run_gives_the_trained_net(tmp_path):
    result = run(small(), tmp_path, progress=False, outputs=False)
    config, problem, net, history = load_run(tmp_path)
    x = torch.linspace(0, 1, 7, dtype=torch.float64)[:, None]
    assert torch.allclose(net(x), result.net(x)) and len(history) == 60 and config.width == 20


def test_config_rejects_unknown_keys(tmp_path):
    with pytest.raises(ValueError, match="unknown config key"):
        RunConfig.from_dict({"problem": "approx1d", "widht": 10})
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        resume_run(tmp_path)
