import pytest
import torch

# One thread per test process: on a shared 2-core machine, torch's two threads slowed
# small problems down by up to 50x under outside load; one thread is steady.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield


@pytest.fixture
def interrupt(monkeypatch):
    """``(install, restore)``: ``install(step)`` makes ``ritzhrta.runs.solve`` raise
    KeyboardInterrupt once a step is done (a Ctrl-C mid-run); ``restore()`` undoes it."""
    import ritzhrta.runs as runs

    real = runs.solve

    def install(step: int) -> None:
        def interrupted(*args, callback=None, **kwargs):
            def stop(info):
                if info.step == step:
                    raise KeyboardInterrupt
                return callback(info) if callback is not None else None
            return real(*args, callback=stop, **kwargs)
        monkeypatch.setattr(runs, "solve", interrupted)

    def restore() -> None:
        monkeypatch.setattr(runs, "solve", real)

    return install, restore
