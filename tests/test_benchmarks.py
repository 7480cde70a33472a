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
    assert any(tmp_path.glob("*.md")), "a benchmark writes a markdown table"
