"""Every benchmark script runs in --quick mode, so none can silently rot."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p.name for p in (ROOT / "benchmarks").glob("*.py") if not p.name.startswith("_"))


def test_there_are_benchmarks():
    assert "paper_table1.py" in SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS)
def test_quick_mode(script, tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    tables = list(tmp_path.glob("*.md"))
    assert tables, "a benchmark writes a markdown table"
    for table in tables:
        rows = [line for line in table.read_text().splitlines() if line.startswith("|")]
        assert len(rows) >= 3, f"{table.name} has no data rows"
        assert "nan" not in " ".join(rows[2:]).lower(), f"{table.name} has NaN cells"


def test_quick_mode_never_writes_the_committed_results(tmp_path):
    before = {p: p.stat().st_mtime_ns for p in (ROOT / "benchmarks" / "results").rglob("*") if p.is_file()}
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "speed.py"), "--quick"],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    after = {p: p.stat().st_mtime_ns for p in (ROOT / "benchmarks" / "results").rglob("*") if p.is_file()}
    assert after == before
