"""Benchmark ``pvcheck scan`` (cold and warm) and ``pvcheck diff`` on a large generated tree.

    python benchmarks/bench_scan.py [--files N] [--repeat R] [--tree DIR] [--jobs J]

Generates the tree of issue 7 (``benchmarks/generate_tree.py``: by default 1,600 files,
about 65,000 lines: 150 ZenML pipeline packages and ordinary library code), makes it a
git repository with two commits that differ in one helper file, and measures:

* the baseline: bare, single-process ``libcst.parse_module`` of every file, in this
  process (read, decode, parse -- nothing else);
* ``pvcheck scan`` with an empty cache (cold) and again with the cache it filled (warm);
* ``pvcheck diff BASE HEAD`` between the two commits, first with the cache the scans
  left (the working tree is HEAD), then once more (every unit of both sides cached).

Every pvcheck run is a fresh ``python -m pvcheck`` process, timed from start to exit
(interpreter start-up and imports included; pvcheck's bytecode compiled beforehand, as an
installed pvcheck has it). For each: wall seconds, files/s and lines/s,
the ratio of its wall time to the baseline's, CPU seconds (of pvcheck and its workers),
and peak memory: the largest single process (``getrusage`` via ``wait4``) and the sum of
pvcheck's processes sampled every 100 ms. With ``--repeat R`` each figure is the median
of R runs (a fresh cache for every cold run). Figures are wall-clock: on a busy machine
they are noisy, the ratios less so (the baseline runs in the same conditions).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_tree import DEFAULT_FILES, generate  # noqa: E402

#: The one-file change between the two commits: a helper that one step uses.
CHANGED_FILE = "projects/p001_fraud/utils/metrics.py"


@dataclass
class Run:
    wall: float
    cpu: float
    max_rss: int  # bytes, largest single process
    sum_rss: int  # bytes, sampled sum over the process tree
    output: str


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=DEFAULT_FILES, help="about this many .py files (default 1600)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; medians are reported")
    parser.add_argument("--tree", type=Path, help="generate the tree here and keep it (default: a temporary folder)")
    parser.add_argument("--jobs", type=int, help="worker processes for pvcheck (default: pvcheck's own choice)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="pvcheck-bench-"))
    tree = args.tree or work / "tree"
    try:
        if tree.exists():
            shutil.rmtree(tree)
        stats = generate(tree, args.files, args.seed)
        files = sorted(tree.rglob("*.py"))
        lines = sum(p.read_bytes().count(b"\n") for p in files)
        has_git = _make_repository(tree)
        print(f"tree: {len(files)} .py files, {lines:,} lines ({stats.packages} pipeline packages, "
              f"{stats.library_files} library modules); cores usable: {_cores()}; python {sys.version.split()[0]}")

        _compile_pvcheck()
        env = dict(os.environ)
        env.pop("PVCHECK_DEBUG", None)
        if args.jobs is not None:
            env["PVCHECK_JOBS"] = str(args.jobs)

        # the baseline is measured again before every round, and each ratio is taken
        # against its own round's baseline: on a shared machine the load changes by the
        # minute, and a ratio of two measurements taken far apart would mostly measure that
        rounds: list[dict[str, Run]] = []
        baselines: list[tuple[float, float]] = []
        for attempt in range(args.repeat):
            baselines.append(_bare_parse(files))
            cache = work / f"cache-{attempt}"
            run_env = dict(env, PVCHECK_CACHE_DIR=str(cache))
            scan = [sys.executable, "-m", "pvcheck", "scan", str(tree), "--format", "json", "--quiet"]
            measured = {"cold": _run(scan, run_env), "warm": _run(scan, run_env)}
            if has_git:
                diff = [sys.executable, "-m", "pvcheck", "diff", "HEAD~1", "HEAD", "--repo", str(tree),
                        "--format", "json", "--quiet"]
                measured["diff-first"] = _run(diff, run_env)
                measured["diff"] = _run(diff, run_env)
            rounds.append(measured)
            shutil.rmtree(cache, ignore_errors=True)
        labels = {"cold": "pvcheck scan, cold (empty cache)", "warm": "pvcheck scan, warm",
                  "diff-first": "pvcheck diff HEAD~1 HEAD, cache from the scans",
                  "diff": "pvcheck diff HEAD~1 HEAD, warm cache"}

        base_wall = statistics.median(b[0] for b in baselines)
        base_cpu = statistics.median(b[1] for b in baselines)
        print(f"baseline: bare libcst.parse_module of every file, one process: {base_wall:.2f} s wall, "
              f"{base_cpu:.2f} s CPU, {len(files) / base_wall:,.0f} files/s, {lines / base_wall:,.0f} lines/s")
        print(f"{'':48} {'seconds':>8} {'files/s':>8} {'lines/s':>9} {'ratio':>7} {'CPU s':>7} "
              f"{'peak MiB (largest / sum)':>25}")
        for name, label in labels.items():
            runs = [r[name] for r in rounds if name in r]
            if not runs:
                continue
            wall = statistics.median(r.wall for r in runs)
            ratio = statistics.median(r[name].wall / b[0] for r, b in zip(rounds, baselines))
            cpu = statistics.median(r.cpu for r in runs)
            largest = statistics.median(r.max_rss for r in runs) / 2**20
            total = statistics.median(r.sum_rss for r in runs) / 2**20
            print(f"{label:48} {wall:8.2f} {len(files) / wall:8,.0f} {lines / wall:9,.0f} {ratio:6.2f}x "
                  f"{cpu:7.2f} {largest:12.0f} / {total:<10.0f}")
        cold_runs = [r["cold"] for r in rounds]
        warm_runs = [r["warm"] for r in rounds]
        diff_warm = [r["diff"] for r in rounds if "diff" in r]
        same = all(_pipelines(c.output) == _pipelines(w.output) for c, w in zip(cold_runs, warm_runs))
        print(f"warm output identical to cold: {'yes' if same else 'NO'}")
        if has_git and diff_warm:
            report = json.loads(diff_warm[-1].output)
            changed = [p["name"] for p in report.get("pipelines", []) if p.get("status") != "unchanged"]
            print(f"diff: {len(report.get('pipelines', []))} pipelines compared, changed: {', '.join(changed) or '-'}")
        if args.repeat > 1:
            print(f"(medians of {args.repeat} rounds; each ratio against the baseline of its own round)")
        return 0 if same else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _compile_pvcheck() -> None:
    """Compile pvcheck's modules to bytecode first, as ``pip install`` does and as Python
    does on an editable install's first run: with ``PYTHONDONTWRITEBYTECODE`` set (some CI
    images and containers set it) every measured run would otherwise compile pvcheck's
    sources again, about 0.1 s of each scan, and measure that instead of pvcheck."""
    import compileall

    import pvcheck

    compileall.compile_dir(str(Path(pvcheck.__file__).parent), quiet=1)


def _bare_parse(files: list[Path]) -> tuple[float, float]:
    import libcst

    start, cpu = time.perf_counter(), time.process_time()
    for path in files:
        libcst.parse_module(path.read_bytes().decode("utf-8"))
    return time.perf_counter() - start, time.process_time() - cpu


def _run(command: list[str], env: dict[str, str]) -> Run:
    """Run ``command``; its wall time, CPU time and peak memory (itself and its workers)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.1):
            peak[0] = max(peak[0], _tree_rss(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.append(process.stdout.read()), daemon=True)  # type: ignore
    reader.start()
    errors = process.stderr.read()  # type: ignore[union-attr]
    reader.join()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command[2:4])} failed ({process.returncode}):\n{errors.decode()}")
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * scale, peak[0], b"".join(chunks).decode())


def _tree_rss(pid: int) -> int:
    """Resident memory of ``pid`` and its descendants (Linux /proc; 0 elsewhere).

    Follows ``/proc/<pid>/task/<tid>/children`` rather than reading every process of the
    machine: the sampling must not itself take the CPU the measured command needs."""
    page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
    total = 0
    pending = [pid]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        base = Path("/proc") / str(current)
        try:
            total += int((base / "statm").read_text().split()[1]) * page
            for task in (base / "task").iterdir():
                pending.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError, IndexError):
            continue
    return total


def _make_repository(tree: Path) -> bool:
    """Two commits differing in one helper file; the working tree is the second."""
    if shutil.which("git") is None:
        print("git not found: skipping the diff measurement")
        return False
    changed = tree / CHANGED_FILE
    if not changed.exists():
        candidates = sorted(tree.glob("projects/*/utils/metrics.py"))
        if not candidates:
            return False
        changed = candidates[0]
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.invalid",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.invalid")

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tree), *args], env=env, check=True, capture_output=True)

    git("init", "-q")
    git("add", "-A")
    git("commit", "-q", "-m", "base")
    text = changed.read_text(encoding="utf-8")
    changed.write_text(text.replace("round(f1, 4)", "round(f1, 3)"), encoding="utf-8")
    git("commit", "-q", "-am", "a helper of one step changes")
    return True


def _pipelines(output: str) -> Optional[list[object]]:
    try:
        return json.loads(output)["pipelines"]
    except (ValueError, KeyError):
        return None


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
