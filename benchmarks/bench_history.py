"""``pvcheck history`` on a real repository: milliseconds per commit, beside bare parsing.

    python benchmarks/bench_history.py REPO [--commits 250] [--jobs N] [--compare] [--scan]

REPO is a project folder inside a git checkout (a clone without a checkout works too:
history reads git objects only). Walks the last ``--commits`` commits of the first-parent
history with the reuse between commits (the default of ``pvcheck history``) and prints
commits walked and analysed, seconds and milliseconds per commit, wall and CPU (the
helper processes of a walk shared between cores included). ``--jobs`` is the walk's
``jobs``: by default ``$PVCHECK_JOBS`` or one process per usable core (pvcheck.history_parts);
``--jobs 1`` walks in this process alone, and only then can the benchmark split the walk
into its commits and its parsing. ``--compare`` also runs
the reference path (every commit scanned on its own, no cache), prints its figures and
checks that both histories are byte for byte the same. Every run also says how much of
the walk after its first commit was ``libcst.parse_module`` on the files the commits
changed: the floor of any libcst-based analysis, which must parse an edited module again
before it can say what the edit did. ``--scan`` adds a cold scan of the
newest commit and the bare, single-process ``libcst.parse_module`` of the same Python
files, the yardstick of the scan benchmarks. One process, in-process timings; use
``farm-bench`` around it for medians of several runs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pvcheck.history import walk  # noqa: E402
from pvcheck.history_git import Blobs, Mirror  # noqa: E402
from pvcheck.output.history_report import history_json  # noqa: E402


def since(repo: Path, commits: int) -> str | None:
    """The commit ``commits`` steps back along the first parents (None: walk them all)."""
    count = int(subprocess.run(["git", "-C", str(repo), "rev-list", "--first-parent", "--count", "HEAD"],
                               capture_output=True, text=True, check=True).stdout)
    return f"HEAD~{commits}" if count > commits else None


def newest_tree(repo: Path, folder: Path) -> Path:
    """The files of HEAD, written to ``folder`` as history writes them."""
    from pvcheck import gitio

    toplevel, prefix = gitio.repository(repo)
    head = gitio.resolve(repo, "HEAD").commit
    blobs = Blobs(toplevel)
    try:
        Mirror(toplevel, prefix, folder, blobs).load(head)
    finally:
        blobs.close()
    return folder


def bare_parse(root: Path) -> tuple[int, float, float]:
    """Python files, wall and CPU seconds of parsing each with ``libcst.parse_module``."""
    import libcst

    paths = sorted(root.rglob("*.py"))
    start, cpu = time.perf_counter(), time.process_time()
    for path in paths:
        try:
            libcst.parse_module(path.read_bytes().decode("utf-8"))
        except Exception:  # noqa: BLE001 - a file libcst cannot parse costs what it cost
            pass
    return len(paths), time.perf_counter() - start, time.process_time() - cpu


class ParseClock:
    """Times every ``libcst.parse_module`` call made while it is installed (the analyzer
    calls it through the module attribute)."""

    def __init__(self) -> None:
        import libcst

        self.module = libcst
        self.original = libcst.parse_module
        self.seconds = 0.0
        self.files = 0

    def __enter__(self) -> "ParseClock":
        original = self.original

        def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
            begin = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - begin
                self.files += 1

        self.module.parse_module = timed  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        self.module.parse_module = self.original  # type: ignore[assignment]


class Laps:
    """The wall time of each commit of a walk (its ``on_commit`` callback), and the part of
    it spent parsing: a mean hides whether every commit costs that or a few large ones do."""

    def __init__(self, clock: ParseClock) -> None:
        self.clock = clock
        self.last = time.perf_counter()
        self.parsed = (0.0, 0)
        self.laps: list[tuple[float, str]] = []
        self.parse_laps: list[tuple[float, int]] = []

    def __call__(self, done: int, total: int, commit: str) -> None:
        now = time.perf_counter()
        self.laps.append((now - self.last, commit))
        self.parse_laps.append((self.clock.seconds - self.parsed[0], self.clock.files - self.parsed[1]))
        self.last, self.parsed = now, (self.clock.seconds, self.clock.files)

    def parsing(self) -> str:
        """What the commits after the first cost, and how much of it was parsing."""
        rest = self.laps[1:]
        if not rest:
            return ""
        wall = sum(lap for lap, _ in rest) / len(rest)
        parse = sum(p for p, _ in self.parse_laps[1:]) / len(rest)
        files = sum(n for _, n in self.parse_laps[1:]) / len(rest)
        whole = sum(p for p, _ in self.parse_laps) / len(self.laps)
        return (f"after the first commit: {1000 * wall:.0f} ms/commit, of which libcst parsing "
                f"{1000 * parse:.0f} ms ({files:.1f} files/commit), the rest {1000 * (wall - parse):.0f} ms; "
                f"parsing over the whole walk, first commit included: {1000 * whole:.0f} ms/commit")

    def summary(self, repo: Path) -> str:
        if len(self.laps) < 2:
            return ""
        first, rest = self.laps[0][0], sorted(self.laps[1:])
        median = rest[len(rest) // 2][0]
        p90 = rest[min(len(rest) - 1, int(0.9 * len(rest)))][0]
        slowest, commit = rest[-1]
        files = subprocess.run(["git", "-C", str(repo), "diff", "--name-only", f"{commit}^!"],
                               capture_output=True, text=True).stdout.count("\n")
        return (f"first commit {1000 * first:.0f} ms; the others: median {1000 * median:.0f} ms, "
                f"90th percentile {1000 * p90:.0f} ms, slowest {1000 * slowest:.0f} ms "
                f"({commit[:10]}, {files} files changed)")


def _cpu_with_workers() -> float:
    """CPU seconds of this process and of its finished child processes (a cold scan's
    worker pool)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo", type=Path)
    parser.add_argument("--commits", type=int, default=250)
    parser.add_argument("--jobs", type=int, default=None, help="processes the walk may use (default: one per core)")
    parser.add_argument("--compare", action="store_true", help="also run the reference path and compare")
    parser.add_argument("--scan", action="store_true", help="a cold scan of HEAD and its bare parse time")
    args = parser.parse_args(argv)
    start = since(args.repo, args.commits)
    from pvcheck.history_parts import stretches

    with ParseClock() as clock:
        lap = Laps(clock)
        cpu = _cpu_with_workers()
        history = walk(args.repo, since=start, on_commit=lap, jobs=args.jobs)
        cpu = _cpu_with_workers() - cpu
    plan = stretches(history.commits_walked, args.jobs)
    processes = sum(1 + s.paired for s in plan)
    # CPU time beside the wall clock: on a machine shared with other work the wall
    # clock measures the neighbours too
    print(f"reuse:     {history.commits_walked} commits, {history.commits_analyzed} analysed, "
          f"{history.seconds:.1f} s, {1000 * history.seconds / history.commits_walked:.0f} ms/commit "
          f"(CPU {1000 * cpu / history.commits_walked:.0f} ms/commit), {processes} process(es)")
    if processes == 1:
        print(f"           {lap.summary(args.repo)}")
        print(f"           {lap.parsing()}")
    else:  # the laps would mix the processes' commits, and the parse clock sees this one's only
        print("           (--jobs 1 splits a walk in one process into its commits and its parsing)")
    if args.compare:
        cpu = time.process_time()
        reference = walk(args.repo, since=start, reuse=False, cache=False)
        cpu = time.process_time() - cpu
        print(f"reference: {reference.commits_walked} commits, {reference.commits_analyzed} analysed, "
              f"{reference.seconds:.1f} s, {1000 * reference.seconds / reference.commits_walked:.0f} ms/commit "
              f"(CPU {1000 * cpu / reference.commits_walked:.0f} ms/commit), "
              f"identical: {history_json(history) == history_json(reference)}")
    if args.scan:
        from pvcheck.analyzer import scan_tree
        from pvcheck.config import Config

        with tempfile.TemporaryDirectory(prefix="bench-history-") as temporary:
            tree = newest_tree(args.repo, Path(temporary))
            files, parse, parse_cpu = bare_parse(tree)
            begin, cpu = time.perf_counter(), _cpu_with_workers()
            project = scan_tree(tree, Config(), cache=False)
            scan, cpu = time.perf_counter() - begin, _cpu_with_workers() - cpu
        steps = sum(len(p.steps) for p in project.pipelines)
        print(f"HEAD:      {files} Python files, bare parse {parse:.2f} s (CPU {parse_cpu:.2f} s), "
              f"cold scan {scan:.2f} s ({scan / parse:.1f}x; CPU {cpu:.2f} s with its workers, "
              f"{cpu / parse_cpu:.1f}x); {len(project.pipelines)} pipelines, {steps} steps, "
              f"{len(project.diagnostics)} diagnostics")
    return 0


if __name__ == "__main__":
    sys.exit(main())
