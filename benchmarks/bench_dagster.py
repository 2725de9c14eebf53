"""How a cold ``pvcheck scan`` of a Dagster code location grows with its assets.

    python benchmarks/bench_dagster.py [--sizes 100,400,1000] [--repeat 3] [--jobs J]

For each size, generates a code location (``generate_dagster.py``) and measures the bare,
single-process ``libcst.parse_module`` of its files (in this process) and a cold
``python -m pvcheck scan --no-cache`` of it (a fresh process: start-up and imports
included), each the median of ``--repeat`` runs, alternating so that both see the same
machine load. Prints seconds and the ratio scan / parse; issue 14 asks for a ratio under
5 at 1,000 assets.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_dagster import generate  # noqa: E402

import libcst  # noqa: E402


def bare_parse(root: Path) -> float:
    start = time.perf_counter()
    for path in sorted(root.rglob("*.py")):
        libcst.parse_module(path.read_bytes().decode("utf-8"))
    return time.perf_counter() - start


def cold_scan(root: Path, jobs: int | None) -> float:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    if jobs is not None:
        env["PVCHECK_JOBS"] = str(jobs)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pvcheck", "scan", "--no-cache", "--quiet", "--format", "json", str(root)],
                   check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,400,1000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pvcheck-dagster-"))
    try:
        print(f"{'assets':>7} {'files':>6} {'parse s':>8} {'scan s':>8} {'ratio':>6}")
        for size in (int(s) for s in args.sizes.split(",")):
            root = work / f"assets{size}"
            generate(root, size)
            parses, scans = [], []
            for _ in range(args.repeat):
                parses.append(bare_parse(root))
                scans.append(cold_scan(root, args.jobs))
            parse, scan = statistics.median(parses), statistics.median(scans)
            files = len(list(root.rglob("*.py")))
            print(f"{size:>7} {files:>6} {parse:>8.2f} {scan:>8.2f} {scan / parse:>6.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
