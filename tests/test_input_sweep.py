"""A sweep of malformed command lines: each one is refused with one line on stderr and exit
code 2, before anything is written."""
import pytest

from ritzhrta.cli.main import main

BAD = [
    ["--schedule", "0.5:"], ["--schedule", ":10"], ["--schedule", "0.5:10,"], ["--schedule", "a:10"],
    ["--schedule", "2:10"], ["--schedule", "-1:10"], ["--schedule", "0.5:0"], ["--schedule", "0.5-3:10"],
    ["--schedule", ""], ["--schedule", "1:5", "--steps", "10"], ["--preset", "bogus"], ["--steps", "0"],
    ["--lr", "0"], ["--lr", "-1"], ["--lr", "nan"], ["--lr", "inf"], ["--width", "-3"], ["--width", "0"],
    ["--k", "0"], ["--depth", "0"], ["--resolution", "1"], ["--ridge", "-1"], ["--ridge", "nan"],
    ["--beta", "0"], ["--beta", "-1"], ["--beta", "inf"], ["--eval-every", "-1"], ["--checkpoint-every", "-1"],
    ["--resample-every", "-1"], ["--max-retries", "-1"], ["--points", "0"], ["--points", "-5"],
    ["--threads", "0"], ["--threads", "-1"], ["--quadrature", "0:3"], ["--quadrature", "3:0"],
    ["--quadrature", "x"], ["--plateau", "0:0.5"], ["--plateau", "10:2"], ["--plateau", "abc"],
    ["--loss", "x"], ["--optimizer", "x"], ["--trainer", "x"], ["--dirichlet", "x"], ["--dtype", "float16"],
    ["--device", "tpu"], ["--device", "cuda:9"], ["--sampling", "lattice"], ["--on-nan", "retry"],
    ["--trainer", "alternating", "--k", "3"], ["--trainer", "galerkin", "--depth", "2", "--init", "kinks"],
    ["--trainer", "galerkin", "--schedule", "1:3"], ["--loss", "ritz"], ["--width", "ten"],
    ["--quadrature", "2:2", "--resample-every", "5"],
]


@pytest.mark.parametrize("extra", BAD, ids=lambda a: " ".join(a) or "empty")
def test_bad_solve_options(extra, tmp_path, capsys):
    out = tmp_path / "r"
    code = main(["solve", "approx1d", "--loss", "l2", "--k", "1", "--no-progress", "--out", str(out), *extra])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and err.startswith("ritzhrta: error:")
    assert not out.exists()


def test_options_that_resume_or_config_would_ignore(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["solve", "approx1d", "--loss", "l2", "--k", "1", "--width", "8", "--schedule", "1:2",
                 "--no-progress", "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    for extra in (["--width", "5"], ["--seed", "3"], ["--out", str(tmp_path / "x")]):
        assert main(["solve", "--resume", str(out), *extra]) == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1
    config = tmp_path / "c.json"
    config.write_text('{"problem": "approx1d", "loss": "l2", "k": 1}')
    assert main(["solve", "--config", str(config), "--lr", "0.1", "--out", str(tmp_path / "y")]) == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before and not (tmp_path / "y").exists()
    # issue 35: a setting a resume may change (outputs.config.RESUMABLE) is taken, and written to config.json
    assert main(["solve", "--resume", str(out), "--threads", "2", "--no-progress"]) == 0
    assert '"threads": 2' in (out / "config.json").read_text()


@pytest.mark.parametrize("args", [
    ["ntk", "approx1d", "--s", "3"], ["ntk", "approx1d", "--s", "a"], ["compare", "approx1d", "--seeds", "0"],
    ["compare", "approx1d", "--schedules", "nope"], ["compare", "approx1d", "--steps", "0"],
    ["plot", "/nonexistent/run"], ["export", "/nonexistent/run", "--vtk", "x.png"],
])
def test_bad_study_and_output_commands(args, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("ritzhrta: error:")
