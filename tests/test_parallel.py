"""Scans split over worker processes give exactly the serial result."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pvcheck.analyzer import parallel, scan_tree
from pvcheck.analyzer.cache import AnalysisCache
from pvcheck.config import Config
from pvcheck.model import Project

from tests.conftest import FIXTURES

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _same(a: Project, b: Project) -> None:
    assert a.to_json(full=True) == b.to_json(full=True)
    assert a.pipelines == b.pipelines
    assert a.diagnostics == b.diagnostics


def _tree(tmp_path: Path) -> Path:
    """Both fixture projects and a few generated packages, side by side (plus a broken file)."""
    import sys

    sys.path.insert(0, str(BENCHMARKS))
    try:
        from generate_tree import generate
    finally:
        sys.path.remove(str(BENCHMARKS))
    root = tmp_path / "tree"
    generate(root, files=40)
    for name in ("zenml_churn", "zenml_recsys"):
        shutil.copytree(FIXTURES / name, root / "fixtures" / name)
    (root / "projects" / "broken.py").write_text("from zenml import step\ndef f(:\n", encoding="utf-8")
    return root


@pytest.fixture
def always_parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)


def test_parallel_scan_equals_serial_scan(tmp_path: Path, always_parallel: None) -> None:
    root = _tree(tmp_path)
    serial = scan_tree(root, cache=False, jobs=1)
    assert len(serial.pipelines) > 10 and any(d.code == "PV001" for d in serial.diagnostics)
    _same(serial, scan_tree(root, cache=False, jobs=2))
    _same(serial, scan_tree(root, cache=False, jobs=3))


def test_parallel_results_are_cached_like_serial_ones(tmp_path: Path, always_parallel: None) -> None:
    root = _tree(tmp_path)
    cold = scan_tree(root, cache=AnalysisCache(tmp_path / "cache", Config()), jobs=2)
    store = AnalysisCache(tmp_path / "cache", Config())
    warm = scan_tree(root, cache=store, jobs=1)
    assert store.misses == 0
    _same(cold, warm)
    _same(cold, scan_tree(root, cache=False, jobs=1))


def test_a_worker_that_dies_costs_time_not_results(tmp_path: Path, always_parallel: None,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from pvcheck.analyzer.units import UnitRunner

    root = _tree(tmp_path)
    expected = scan_tree(root, cache=False, jobs=1)
    parent = os.getpid()
    original = UnitRunner.run

    def run(self, unit, attachments=None):  # type: ignore[no-untyped-def]
        if os.getpid() != parent:
            os._exit(3)  # a worker killed in the middle of its work
        return original(self, unit, attachments)

    monkeypatch.setattr(UnitRunner, "run", run)
    monkeypatch.setattr(parallel, "start_method", lambda: "fork")  # the patch must reach the workers
    monkeypatch.delenv("PVCHECK_DEBUG", raising=False)
    _same(expected, scan_tree(root, cache=False, jobs=2))


def test_small_work_stays_in_this_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []
    monkeypatch.setattr(parallel.ParallelExecutor, "_start", lambda self: started.append(1))
    scan_tree(FIXTURES / "zenml_churn", cache=False, jobs=4)
    assert not started


def test_units_of_one_package_are_sent_together(tmp_path: Path) -> None:
    from pvcheck.analyzer.discovery import discover
    from pvcheck.analyzer.sources import TreeState
    from pvcheck.analyzer.units import Unit

    root = _tree(tmp_path)
    files = discover(root)
    tree = TreeState(root, files, {f.path: b"" for f in files})
    executor = parallel.ParallelExecutor(root, Config(), tree, [], 2)
    units = [Unit(kind, "zenml", f.path) for f in files if f.path.startswith("projects/")
             for kind in ("attachments", "pipelines")]
    batches = executor._batches(units)
    assert sorted(p for positions in batches.values() for p in positions) == list(range(len(units)))
    def package(path: str) -> str:  # projects/<package>/..., or projects itself for a file right in it
        parts = path.split("/")
        return "/".join(parts[:2] if len(parts) > 2 else parts[:1])

    packages = [{package(units[p].path) for p in positions} for positions in batches.values()]
    assert all(len(found) == 1 for found in packages) and len(packages) > 3
    sizes = [sum(tree.by_path[units[p].path].size for p in positions) for positions in batches.values()]
    assert sizes == sorted(sizes, reverse=True)  # the largest first


class _Connection:
    def __init__(self) -> None:
        self.sent: list[list[str]] = []

    def send(self, message: tuple) -> None:  # type: ignore[type-arg]
        self.sent.append([unit.path for unit in message[1]])


def test_groups_go_where_they_ran_before_and_idle_workers_take_queued_ones(tmp_path: Path) -> None:
    from collections import deque

    from pvcheck.analyzer.units import Unit

    executor = parallel.ParallelExecutor(tmp_path, Config(), None, [], 2)  # type: ignore[arg-type]
    connections = [_Connection(), _Connection()]
    executor._workers = [(None, c) for c in connections]  # type: ignore[misc]
    units = [Unit("pipelines", "zenml", f"g{n}/m.py") for n in range(8)]
    queues = [deque([("g0", [0]), ("g1", [1]), ("g2", [2]), ("g3", [3])]), deque([("g4", [4])])]
    shared = deque([("g5", [5])])
    in_flight = {c: deque() for c in connections}  # type: ignore[var-annotated]

    def send(worker: int) -> None:
        executor._send_next(worker, units, None, queues, shared, in_flight)  # type: ignore[arg-type]

    send(1)  # its own group first
    send(1)  # then a new one
    assert connections[1].sent == [["g4/m.py"], ["g5/m.py"]] and executor._assigned["g5"] == 1
    send(1)  # then the last group of the busiest worker, which had 4 still to start
    assert connections[1].sent[-1] == ["g3/m.py"] and executor._assigned["g3"] == 1
    send(0)
    assert connections[0].sent == [["g0/m.py"]]
    send(1)  # worker 0 has 2 left to start: not worth parsing them again elsewhere
    assert len(connections[1].sent) == 3 and [g for g, _ in queues[0]] == ["g1", "g2"]


def test_workers_skip_node_validation_and_the_scan_process_keeps_it(tmp_path: Path, always_parallel: None) -> None:
    """Workers build parsed trees without re-validating every node (an eighth of the
    parse); the scan's own process, which may be someone's program, keeps validating."""
    import libcst as cst

    root = _tree(tmp_path)
    _same(scan_tree(root, cache=False, jobs=1), scan_tree(root, cache=False, jobs=2))
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")  # still validated here
    patched = cst.CSTNode.__post_init__
    try:
        parallel.trust_parsed_nodes()
        cst.Name("")  # what a worker does: no check
    finally:
        cst.CSTNode.__post_init__ = patched  # type: ignore[method-assign]
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")
