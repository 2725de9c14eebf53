"""The benchmark script runs end to end on a tiny tree (its figures are not checked)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_scan.py"


def test_benchmark_runs_on_a_tiny_tree(tmp_path: Path) -> None:
    env = dict(os.environ, PVCHECK_CACHE_DIR=str(tmp_path / "unused"))
    result = subprocess.run([sys.executable, str(BENCH), "--files", "25", "--tree", str(tmp_path / "tree")],
                            env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for expected in ("baseline: bare libcst.parse_module", "pvcheck scan, cold", "pvcheck scan, warm",
                     "warm output identical to cold: yes"):
        assert expected in out, out
    if "git not found" not in out:
        assert "pvcheck diff HEAD~1 HEAD, warm cache" in out
        assert "changed: p001_fraud_training" in out or "changed:" in out
