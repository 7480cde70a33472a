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


@pytest.mark.parametrize("schedule, stop_at, keep", [("0.5:30,1:30", 45, False), ("0.5:30,1:30", 25, True),
                                                     ("0.5-1:20,1.5:40", 15, False)])
def test_resume_equals_uninterrupted(tmp_path, interrupt, schedule, stop_at, keep):
    config = small(schedule=schedule, keep_optimizer=keep, sampling="random", resample_every=7)
    full = run(config, tmp_path / "full", progress=False, outputs=False)
    install, restore = interrupt
    install(stop_at)
    with pytest.raises(KeyboardInterrupt):
        run(config, tmp_path / "part", progress=False, outputs=False)
    restore()
    resumed = resume_run(tmp_path / "part", progress=False, outputs=False)
    assert len(resumed.history) == len(full.history) == 60
    assert resumed.final_loss == pytest.approx(full.final_loss, rel=1e-6)
    for a, b in zip(resumed.net.parameters(), full.net.parameters()):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)
    assert resumed.history.loss == pytest.approx(full.history.loss, rel=1e-9)
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
