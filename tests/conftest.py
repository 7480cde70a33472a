import pytest
import torch

# One thread per test process: on a shared 2-core machine, torch's two threads slowed
# small problems down by up to 50x under outside load; one thread is steady.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield
