import math

import pytest

from ritzhrta import baseline, homotopy, parse_schedule, Plateau, Ramp, relaxation, Stage
from ritzhrta.schedule import PRESETS, format_schedule, ladder
from ritzhrta.schedule import schedule_steps


def test_presets_follow_the_paper():
    h = homotopy()
    assert [(st.s, st.steps) for st in h] == [(0.5, 3000), (1.0, 13000)]
    assert [(st.s, st.steps) for st in relaxation()] == [(1.0, 3000), (1.5, 13000)]
    assert [(st.s, st.steps) for st in baseline()] == [(1.0, 16000)]
    assert schedule_steps(homotopy(6000)) == 6000 and set(PRESETS) == {"baseline", "homotopy", "relaxation"}


def test_parse_and_format_round_trip():
    text = "0.25:2000,0.5:2000,1:12000"
    stages = parse_schedule(text)
    assert len(stages) == 3 and format_schedule(stages) == text
    ramp = parse_schedule("0.5-1:1000,1.5:10")
    assert isinstance(ramp[0].s, Ramp) and ramp[0].s_at(0) == 0.5 and ramp[0].s_at(999) == 1.0
    assert ramp[0].s_at(333) == pytest.approx(0.5 + 0.5 * 333 / 999) and format_schedule(ramp) == "0.5-1:1000,1.5:10"
    assert parse_schedule("0.3:5", optimizer="sgd")[0].optimizer == "sgd"


@pytest.mark.parametrize("text", ["", "0.5", "0.5:", "a:10", "0.5:10,", "2.5:100", "0.5:0", "0.5:-3", "0.5:1.5"])
def test_parse_rejects_bad_text(text):
    with pytest.raises(ValueError):
        parse_schedule(text)


def test_stage_validation():
    with pytest.raises(ValueError):
        Stage(0)
    with pytest.raises(ValueError):
        Stage(10, s=2.0)
    with pytest.raises(ValueError):
        Stage(10, optimizer="rmsprop")
    with pytest.raises(ValueError):
        Stage(10, lr=-1e-3)
    with pytest.raises(ValueError):
        Stage(10, lr_decay="linear")
    with pytest.raises(ValueError):
        Stage(10, s=lambda t: 3.0)
    with pytest.raises(TypeError):
        Stage(10, until=500)
    with pytest.raises(ValueError):
        ladder([0.5, 1.0], [10])


def test_lr_decay_factors():
    st = Stage(100, lr_decay="step")
    assert [st.lr_factor(t) for t in (0, 49, 50, 75)] == [1.0, 1.0, pytest.approx(0.1), pytest.approx(0.01)]
    cos = Stage(100, lr_decay="cosine")
    assert cos.lr_factor(0) == 1.0 and cos.lr_factor(50) == pytest.approx(0.5) and cos.lr_factor(100) < 1e-12


def test_plateau_rule():
    rule = Plateau(window=10, rel_tol=0.1)
    falling = [math.exp(-0.1 * t) for t in range(40)]
    flat = [1.0] * 40
    assert not rule.fired(falling) and rule.fired(flat)
    assert not rule.fired(flat[:19])  # needs two full windows
    with pytest.raises(ValueError):
        Plateau(window=0)
    with pytest.raises(ValueError):
        Plateau(rel_tol=1.5)
