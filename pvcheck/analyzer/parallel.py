"""Running units of analysis work, in this process or in a few worker processes.

Parsing and name resolution are CPU-bound Python, so threads would not help; workers
are processes, at most one per usable core. Each worker keeps its own lazily parsed
index for the whole scan and is fed a package (a folder group) at a time: a package
goes back to the worker that parsed it in an earlier pass, so its modules are parsed
once, not in every worker. Workers complete and store the cache entries of the units
they run, and return the results as plain model objects.

Small amounts of work run in this process: starting workers and shipping results costs
more than it saves below :data:`PARALLEL_MIN_BYTES` of source to analyze.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import threading
import traceback
from collections import deque
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import libcst as cst

from pvcheck.analyzer import work
from pvcheck.analyzer.discovery import SourceFile
from pvcheck.analyzer.frameworks.base import ConfigAttachment, Framework, load_frameworks
from pvcheck.analyzer.cache import AnalysisCache
from pvcheck.analyzer.records import cache_variant, fill_states, json_texts
from pvcheck.analyzer.sources import TreeState
from pvcheck.analyzer.units import ATTACHMENTS, Dependencies, Unit, UnitResult, UnitRunner
from pvcheck.config import Config

if TYPE_CHECKING:
    from pvcheck.analyzer.incremental import SessionExecutor

#: Below this many bytes of candidate source, units run in this process.
PARALLEL_MIN_BYTES = 200_000
_MAX_GROUP_DEPTH = 4
#: A worker out of work takes a group queued for another once that one has this many
#: still to start: the taker parses the group's modules again, which pays off only then.
_STEAL_AFTER = 3

Attachments = Optional[dict[str, list[ConfigAttachment]]]


@dataclass(frozen=True)
class StoreSpec:
    """What a worker needs to store the cache entries of the units it runs."""

    directory: Path
    keys: list[Optional[str]]  # one per unit, in order (workers get theirs with each batch)
    digests: dict[str, str]  # attachment target -> digest, for the units' dependency records
    missing_digest: str  # the digest of a target nothing is attached to


def worth_parallel(work_bytes: int, jobs: int) -> bool:
    return jobs > 1 and work_bytes >= PARALLEL_MIN_BYTES


def make_executor(root: Path, config: Config, tree: TreeState, frameworks: list[Framework],
                  jobs: int) -> "SerialExecutor | ParallelExecutor | SessionExecutor":
    from pvcheck.analyzer import incremental

    shared = incremental.active()
    if shared is not None:  # scans of one history walk: the session's index outlives each scan
        return shared.executor(root, config, tree, frameworks)
    if jobs > 1:
        return ParallelExecutor(root, config, tree, frameworks, jobs)
    return SerialExecutor(root, config, tree, frameworks)


class SerialExecutor:
    """Every unit in this process, sharing one index."""

    parallel = False

    def __init__(self, root: Path, config: Config, tree: TreeState, frameworks: list[Framework]) -> None:
        self.runner = UnitRunner(root, config, tree.files, tree.contents, frameworks)
        self.runner.index.repository = tree.repository  # globbed and read once for both

    def run(self, units: list[Unit], attachments: Attachments) -> list[UnitResult]:
        return run_reporting(self.runner, units, attachments)

    def close(self) -> None:
        self.runner.index.release()


def run_reporting(runner: UnitRunner, units: list[Unit], attachments: Attachments) -> list[UnitResult]:
    """Run ``units`` in this process, one after the other, reporting each (progress)."""
    work.report(added=len(units))
    results = []
    for unit in units:
        results.append(runner.run(unit, attachments))
        work.report(done=1)
    return results


class ParallelExecutor:
    """Units spread over worker processes, a package at a time (see :meth:`run`)."""

    parallel = True

    def __init__(self, root: Path, config: Config, tree: TreeState, frameworks: list[Framework],
                 jobs: int) -> None:
        self.root = root
        self.config = config
        self.tree = tree
        self.frameworks = frameworks
        self.jobs = jobs
        self._workers: list[tuple[Any, Connection]] = []
        self._assigned: dict[str, int] = {}  # group -> worker
        self._depth: Optional[int] = None
        self._fallback: Optional[SerialExecutor] = None

    # ------------------------------------------------------------------ placement
    def _group(self, path: str) -> str:
        assert self._depth is not None
        parts = path.split("/")
        return "/".join(parts[: min(self._depth, len(parts) - 1)]) or parts[0]

    def _batches(self, units: list[Unit]) -> dict[str, list[int]]:
        """The units (by position) of each group, largest group first."""
        if self._depth is None:
            paths = sorted({u.path for u in units})
            self._depth = _MAX_GROUP_DEPTH
            for depth in range(1, _MAX_GROUP_DEPTH + 1):
                groups = {"/".join(p.split("/")[: min(depth, len(p.split("/")) - 1)]) for p in paths}
                if len(groups) >= 2 * self.jobs:  # enough to balance; deeper would split packages
                    self._depth = depth
                    break
        batches: dict[str, list[int]] = {}
        sizes: dict[str, int] = {}
        for position, unit in enumerate(units):
            group = self._group(unit.path)
            batches.setdefault(group, []).append(position)
            sizes[group] = sizes.get(group, 0) + self.tree.by_path[unit.path].size
        return {group: batches[group] for group in sorted(batches, key=lambda g: (-sizes[g], g))}

    # ------------------------------------------------------------------ running
    def run(self, units: list[Unit], attachments: Attachments, storing: Optional[StoreSpec] = None
            ) -> list[UnitResult]:
        """Run ``units``: a group at a time, each group where its files were analysed before
        (their modules are parsed there), new groups to whichever worker is free first,
        largest first; a worker left without work takes a group queued for a busy one."""
        if not self._workers:
            self._start()
        work.report(added=len(units))
        results: list[Optional[UnitResult]] = [None] * len(units)
        queues: list[deque[tuple[str, list[int]]]] = [deque() for _ in range(self.jobs)]
        shared: deque[tuple[str, list[int]]] = deque()
        for group, positions in self._batches(units).items():
            owner = self._assigned.get(group)
            (queues[owner] if owner is not None else shared).append((group, positions))
        in_flight: dict[Connection, deque[list[int]]] = {}
        for worker, (_, connection) in enumerate(self._workers):
            try:
                connection.send(("pass", attachments, None if storing is None else replace(storing, keys=[])))
            except (OSError, ValueError):
                continue
            in_flight[connection] = deque()
            for _ in range(2):  # one batch ahead: a worker never waits for the next message
                self._send_next(worker, units, storing, queues, shared, in_flight)
        # results arrive a package at a time, so unpickling them overlaps the workers' analysis
        while any(in_flight.values()):
            for connection in wait([c for c, sent in in_flight.items() if sent]):
                sent = in_flight[connection]
                try:
                    message = connection.recv()
                except (EOFError, OSError):
                    message = ("error", "worker process ended unexpectedly")
                if message[0] == "done":
                    for position, result in zip(sent.popleft(), message[1]):
                        results[position] = result
                    work.report(done=len(message[1]))
                    self._send_next(self._worker_of(connection), units, storing, queues, shared, in_flight)
                else:
                    if os.environ.get("PVCHECK_DEBUG"):
                        raise RuntimeError(f"pvcheck worker failed:\n{message[1]}")
                    # a crashed worker costs time, not results: its units, sent or queued, run here
                    lost = [p for batch in sent for p in batch]
                    worker = self._worker_of(connection)
                    lost.extend(p for _, batch in queues[worker] for p in batch)
                    queues[worker].clear()
                    del in_flight[connection]
                    self._run_here(units, [p for p in lost if results[p] is None], attachments, results)
        for _, batch in (*shared, *(item for queue in queues for item in queue)):  # no worker was left
            self._run_here(units, batch, attachments, results)
        assert all(r is not None for r in results)
        return results  # type: ignore[return-value]

    def _worker_of(self, connection: Connection) -> int:
        return next(w for w, (_, c) in enumerate(self._workers) if c is connection)

    def _send_next(self, worker: int, units: list[Unit], storing: Optional[StoreSpec],
                   queues: list["deque[tuple[str, list[int]]]"], shared: "deque[tuple[str, list[int]]]",
                   in_flight: dict[Connection, "deque[list[int]]"]) -> None:
        """Send ``worker`` its next group: its own, else a new one, else one queued for a
        worker with at least :data:`_STEAL_AFTER` groups still to start."""
        if queues[worker]:
            group, positions = queues[worker].popleft()
        elif shared:
            group, positions = shared.popleft()
        else:
            victim = max(range(self.jobs), key=lambda w: (len(queues[w]), -w))
            if len(queues[victim]) < _STEAL_AFTER or self._workers[victim][1] not in in_flight:
                return
            group, positions = queues[victim].pop()  # its last: the one it would reach last
        self._assigned[group] = worker
        connection = self._workers[worker][1]
        keys = None if storing is None else [storing.keys[p] for p in positions]
        try:
            connection.send(("run", [units[p] for p in positions], keys))
        except (OSError, ValueError):
            queues[worker].appendleft((group, positions))
            return
        in_flight[connection].append(positions)

    def _run_here(self, units: list[Unit], positions: list[int], attachments: Attachments,
                  results: list[Optional[UnitResult]]) -> None:
        if self._fallback is None:
            self._fallback = SerialExecutor(self.root, self.config, self.tree, self.frameworks)
        for position in positions:
            results[position] = self._fallback.runner.run(units[position], attachments)
            work.report(done=1)

    def _start(self) -> None:
        context = multiprocessing.get_context(start_method())
        for _ in range(self.jobs):
            parent_end, child_end = context.Pipe()
            process = context.Process(
                target=_worker_main,
                args=(child_end, self.root, self.config, self.tree.files, dict(self.tree.contents)),
                daemon=True,
            )
            process.start()
            child_end.close()
            self._workers.append((process, parent_end))

    def close(self) -> None:
        if self._fallback is not None:
            self._fallback.close()
        for process, connection in self._workers:
            try:
                connection.send(("stop",))
            except (OSError, ValueError):
                pass
        for process, connection in self._workers:
            process.join(timeout=60)  # a worker writes the cache entries it still holds, then ends
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
            connection.close()
        self._workers = []


def _store(result: UnitResult, spec: StoreSpec, key: Optional[str], tree: TreeState, store: AnalysisCache) -> None:
    """Complete a unit's record and store it, here rather than in the parent process."""
    fill_states(result.deps, tree, lambda target: spec.digests.get(target, spec.missing_digest))
    variant, encoded = cache_variant(result.payload, result.diagnostics, result.deps, result.cacheable)
    if variant is not None and key is not None:
        if result.unit.kind == ATTACHMENTS:
            store.stage(key, variant)  # written with the file's pipelines unit (or when the worker stops)
        else:
            store.store(key, variant)
    result.stored = True
    # the parent needs no more of the record than the run configs the unit read: the rest
    # (often a hundred module states) would only be pickled, sent and unpickled
    result.deps = Dependencies(run_configs=result.deps.run_configs)
    result.cacheable = variant is not None and key is not None  # so the parent knows it is in the cache
    result.encoded_payload = encoded if result.unit.kind == ATTACHMENTS else None
    result.payload_json = json_texts(encoded) if encoded is not None and result.unit.kind != ATTACHMENTS else None


def trust_parsed_nodes() -> None:
    """In a worker, build libcst nodes without validating each one.

    libcst validates every node it constructs in ``CSTNode.__post_init__``, the millions
    its own parser makes from source it has just accepted included -- an eighth of the
    parse, measured here (libcst's own PERF note there suggests moving validation out of
    parsing). The trees are the same; only the checks of hand-built nodes are lost, and
    pvcheck builds few, all valid. Workers run nothing but pvcheck's analysis; the scan's
    own process keeps validation, since a program using pvcheck as a library may build
    nodes of its own at the same time.
    """
    cst.CSTNode.__post_init__ = _unvalidated  # type: ignore[method-assign]


def _unvalidated(self: cst.CSTNode) -> None:
    pass


def start_method() -> str:
    """fork where it is safe and cheap (Linux, no other threads), else spawn."""
    methods = multiprocessing.get_all_start_methods()
    if sys.platform.startswith("linux") and "fork" in methods and threading.active_count() == 1:
        return "fork"
    return "spawn"


def _worker_main(connection: Connection, root: Path, config: Config, files: list[SourceFile],
                 contents: dict[str, Optional[bytes]]) -> None:
    """A worker: run the units it is sent, with one index for the whole scan."""
    gc.disable()  # see pvcheck.analyzer.scan.paused_gc(); the process ends with the scan
    trust_parsed_nodes()
    tree: Optional[TreeState] = None
    store: Optional[AnalysisCache] = None
    try:
        runner = UnitRunner(root, config, files, contents, load_frameworks(config.frameworks))
        attachments: Attachments = None
        storing: Optional[StoreSpec] = None  # its keys come with each batch
        while True:
            message = connection.recv()
            if message[0] == "pass":  # what every batch of the pass shares, sent once
                _, attachments, storing = message
                continue
            if message[0] != "run":
                break
            _, units, keys = message
            results = []
            for position, unit in enumerate(units):
                result = runner.run(unit, attachments)
                if storing is not None and keys is not None:
                    if tree is None or store is None:
                        tree, store = TreeState(root, files, contents), AnalysisCache(storing.directory, config)
                    _store(result, storing, keys[position], tree, store)
                results.append(result)
            connection.send(("done", results))  # one message a package: the parent unpickles while this works on
    except EOFError:
        pass
    except BaseException:  # the parent falls back to running these units itself
        try:
            connection.send(("error", traceback.format_exc()))
        except (OSError, ValueError):
            pass
    finally:
        if store is not None:
            store.flush()  # units staged but never joined by their file's pipelines unit
        connection.close()
