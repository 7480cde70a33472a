import json

import pytest
import torch

import problems
from ritzhrta import baseline, homotopy, L2Loss, parse_schedule, TwoLayerNet
from ritzhrta.cli import main
from ritzhrta.studies import compare, parse_schedule_set, tune_lr


def make_net(seed):
    torch.manual_seed(seed)
    return TwoLayerNet(1, 30, k=1, s=1.0)


def test_parse_schedule_set_groups_custom_items():
    out = parse_schedule_set("baseline,homotopy,0.25:20,0.5:20,1:60", 100)
    assert list(out) == ["baseline", "homotopy", "0.25:20,0.5:20,1:60"]
    assert [st.steps for st in out["homotopy"]] == [19, 81]
    two = parse_schedule_set("0.5:50,1:50;1:50,1.5:50", 100)
    assert list(two) == ["0.5:50,1:50", "1:50,1.5:50"]
    with pytest.raises(ValueError):
        parse_schedule_set("", 100)


def test_compare_same_initial_parameters_and_table():
    target = problems.get("approx1d")
    result = compare(target, {"baseline": baseline(40), "homotopy": homotopy(40)}, make_net, seeds=[0, 1],
                     optimizers=["adam", "sgd"], loss=L2Loss())
    assert len(result.rows) == 2 * 2 * 2
    first = {(r["schedule"], r["optimizer"]): r for r in result.rows if r["seed"] == 0}
    # identical initial parameters: the first loss of every s = 1 run with the same optimizer agrees
    h = result.histories
    assert h["baseline / adam"][0].loss[0] == h["baseline / sgd"][0].loss[0]
    assert first[("homotopy", "adam")]["steps"] == 40
    md = result.markdown()
    assert md.count("\n") == 2 + 4 and "baseline / sgd" in md


def test_compare_rejects_unequal_budgets():
    with pytest.raises(ValueError, match="step budget"):
        compare(problems.get("approx1d"), {"a": baseline(40), "b": parse_schedule("0.5:10,1:10")}, make_net, loss=L2Loss())


def test_tune_lr_picks_from_the_grid():
    rate = tune_lr(problems.get("approx1d"), make_net, "sgd", 30, grid=(1e-4, 1e-1), loss=L2Loss())
    assert rate == 1e-1


def test_compare_and_ntk_commands(tmp_path, capsys):
    code = main(["compare", "approx1d", "--loss", "l2", "--k", "1", "--width", "20", "--steps", "30",
                 "--schedules", "baseline,relaxation", "--seeds", "2", "--lr-decay", "none,cosine",
                 "--out", str(tmp_path / "cmp")])
    assert code == 0
    assert {p.name for p in (tmp_path / "cmp").iterdir()} >= {"compare.md", "compare.csv", "compare.png"}
    code = main(["ntk", "approx1d", "--width", "50", "--s", "0.5,1,1.5", "--schedule", "0.5:10,1:10",
                 "--every", "5", "--loss", "l2", "--out", str(tmp_path / "ntk")])
    assert code == 0
    data = json.loads((tmp_path / "ntk" / "ntk.json").read_text())
    assert data["lambda_min"][0] < data["lambda_min"][1] < data["lambda_min"][2]
    assert [t for t, _ in data["training"]] == [0, 5, 10, 15, 20] and data["stage_starts"] == [11]
    capsys.readouterr()
    assert main(["compare", "approx1d", "--lr", "adam:1"]) == 2
