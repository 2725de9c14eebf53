"""The scan engine: a source tree in, a :class:`~pvcheck.model.Project` out.

It never imports, executes or evaluates the code it reads.

A scan: discover the files; read every one once (and hash it); a cheap byte-level
pre-filter per framework picks the candidate files; then two passes of *units* over the
candidates (see :mod:`pvcheck.analyzer.units`): every framework's configuration
attachments, then -- knowing all of them -- every framework's pipelines. A unit whose
cached result is still valid (:mod:`pvcheck.analyzer.cache`) is reused without parsing
anything; the rest run in this process, or in worker processes when there is enough
of them (:mod:`pvcheck.analyzer.parallel`).

This module imports nothing that imports libcst until some unit must really run, so a
scan served from the cache stays cheap.
"""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Optional, Union

from pvcheck.analyzer.cache import AnalysisCache
from pvcheck.analyzer.discovery import SourceFile
from pvcheck.analyzer.listing import active as listing_memo
from pvcheck.analyzer.listing import read_listing
from pvcheck.analyzer.orphans import orphan_imports, orphan_packages
from pvcheck.analyzer.reached import downgrade_unreached
from pvcheck.analyzer.records import (ALL_TARGETS, ATTACHMENTS, PIPELINES, UNCACHEABLE, cache_variant, digest,
                                      fill_states, object_variant)
from pvcheck.analyzer.subprojects import with_subprojects
from pvcheck.analyzer.serialize import Deferred, encode, resolve
from pvcheck.analyzer.sources import TreeState
from pvcheck.analyzer.unread import unread_frameworks
from pvcheck.config import Config
from pvcheck.model import Diagnostic, Pipeline, Project

if TYPE_CHECKING:
    from pvcheck.analyzer.frameworks.base import Framework
    from pvcheck.analyzer.parallel import StoreSpec
    from pvcheck.analyzer.units import UnitResult

__all__ = ["FrameworkInfo", "paused_gc", "scan_tree"]


@dataclass(frozen=True)
class FrameworkInfo:
    """A framework as far as the pre-filter and the cache need it (no libcst needed)."""

    name: str
    spec: str  # "module:Class", part of every cache key
    markers: tuple[bytes, ...]
    plain: bool  # matches() is the plain marker test, so the markers alone decide
    instance: Optional["Framework"] = None
    pipeline_markers: tuple[bytes, ...] = ()

    def matches(self, data: bytes) -> bool:
        if self.instance is not None and not self.plain:
            return self.instance.matches(data)
        return any(marker in data for marker in self.markers)

    def may_define_pipelines(self, data: Optional[bytes]) -> bool:
        return data is None or not self.pipeline_markers or any(m in data for m in self.pipeline_markers)


@dataclass
class _Done:
    """A unit's result as the scan uses it: decoded, with its encoded form for the cache."""

    payload: list[Any]
    diagnostics: list[Diagnostic]
    encoded_payload: Optional[list[Any]]  # None when the payload cannot be cached
    run_configs: list[tuple[str, str, str]]  # (referring file, reference, state) it read
    cached: bool  # from the cache, or stored in it
    payload_json: Optional[list[str]] = None  # each pipeline as JSON text, when a worker made it


def scan_tree(root: Path | str, config: Optional[Config] = None,
              cache: Union[bool, AnalysisCache, None] = None, jobs: Optional[int] = None) -> Project:
    """Analyze every Python file under ``root`` and return its pipelines.

    Files that cannot be read or parsed become diagnostics; the rest of the tree is
    still analyzed. ``cache``: True for the default cache folder, an
    :class:`AnalysisCache`, or False/None for none (nothing is read or written).
    ``jobs``: worker processes for the units that must run (default: the usable cores,
    or ``$PVCHECK_JOBS``); small amounts of work always run in this process.
    """
    config = config or Config()
    root_path = Path(root)
    memo = listing_memo()  # a history walk's: the last commit's listing, with the edited files read again
    listing = memo.listing(root_path, config) if memo is not None else read_listing(root_path, config)
    if not config.roots:  # explicit roots win; without them, the layout says where packages live
        config = config.with_overrides(roots=listing.roots)
    diagnostics = listing.diagnostics
    contents = listing.contents
    lines = listing.line_count
    # collections of projects (pvcheck.analyzer.subprojects)
    files = with_subprojects(listing.files, listing.projects, contents)
    store = AnalysisCache.open(config) if cache is True else (cache or None)
    tree = TreeState(root_path, files, contents, store.markers if store is not None else None,
                     store.last_tree if store is not None else None)
    if store is not None and store.holds_objects:
        store.last_tree = tree  # the next scan checks cached results against what changed since
    orphans = orphan_packages(tree.by_module)
    diagnostics.extend(orphan_imports(files, contents, tree.by_module, orphans))
    if store is not None:
        store.use_layout(config.roots, orphans)
    frameworks = _frameworks(config, store)
    diagnostics.extend(unread_frameworks(contents, [f.name for f in frameworks]))

    candidates: list[tuple[FrameworkInfo, SourceFile]] = []
    for file in files:
        data = contents[file.path]
        if data is not None:
            candidates.extend((framework, file) for framework in frameworks if framework.matches(data))

    snapshot_key = store.snapshot_key([[f.name, f.spec] for f in frameworks], _tree_state(tree)) \
        if store is not None else None
    reused = _reuse_snapshot(store, snapshot_key, tree)
    if reused is not None:
        pipelines, unit_diagnostics = reused
    else:
        pipelines, unit_diagnostics = _analyze(root_path, config, tree, frameworks, store, jobs, candidates,
                                               snapshot_key)
    unique: dict[tuple[str, str, int, str], Diagnostic] = {}
    for diagnostic in (*diagnostics, *unit_diagnostics):  # the first of equal ones wins
        unique.setdefault((diagnostic.code, diagnostic.path, diagnostic.line, diagnostic.message), diagnostic)
    # a broken file no pipeline reaches is a warning, not an error (issue 16)
    kept = downgrade_unreached(list(unique.values()), pipelines, files, contents, orphans)
    ordered = sorted(kept, key=lambda d: (d.path, d.line, d.code, d.message))
    return Project(
        root=str(root_path),
        pipelines=tuple(pipelines),
        diagnostics=tuple(ordered),
        files_scanned=len(files),
        lines_scanned=lines,
    )


def _analyze(root: Path, config: Config, tree: TreeState, frameworks: list[FrameworkInfo],
             store: Optional[AnalysisCache], jobs: Optional[int], candidates: list[tuple[FrameworkInfo, SourceFile]],
             snapshot_key: Optional[str]) -> tuple[list[Pipeline], list[Diagnostic]]:
    """The units of the scan, from the cache or run; their pipelines and diagnostics."""
    scan = _Scan(root, config, tree, frameworks, store, jobs)
    with paused_gc():
        attachments, pipelines_done = _run_passes(scan, candidates)
    unit_diagnostics: list[Diagnostic] = []
    run_configs: set[tuple[str, str, str]] = set()
    complete = True
    for results in (attachments, pipelines_done):
        for framework, file in candidates:
            done = results[(framework.name, file.path)]
            unit_diagnostics.extend(done.diagnostics)
            run_configs.update(done.run_configs)
            complete = complete and done.cached
    found: list[tuple[Pipeline, Optional[str]]] = []
    for framework, file in candidates:
        done = pipelines_done[(framework.name, file.path)]
        found.extend(zip(done.payload, done.payload_json or [None] * len(done.payload)))
    found.sort(key=lambda pair: (pair[0].path, pair[0].line, pair[0].name))
    pipelines = [pipeline for pipeline, _ in found]
    if store is not None and snapshot_key is not None and complete:
        store.store_snapshot(snapshot_key, found, unit_diagnostics, sorted(run_configs))
    return pipelines, unit_diagnostics


def _run_passes(scan: "_Scan", candidates: list[tuple[FrameworkInfo, SourceFile]]) -> tuple[
        dict[tuple[str, str], "_Done"], dict[tuple[str, str], "_Done"]]:
    """Every attachments unit, then (with all attachments known) every pipelines unit."""
    try:
        attachments = scan.run(ATTACHMENTS, candidates)
        targets: dict[str, list[Any]] = {}
        encoded_targets: dict[str, list[Any]] = {}
        for framework, file in candidates:
            done = attachments[(framework.name, file.path)]
            for attachment, encoded in zip(done.payload, done.encoded_payload or [None] * len(done.payload)):
                targets.setdefault(attachment.target, []).append(attachment)
                encoded_targets.setdefault(attachment.target, []).append(encoded)
        scan.set_attachments(targets, encoded_targets)
        # a file that cannot define a pipeline (a step module, a run script) needs no
        # pipelines unit: its parse diagnostics came with its attachments unit
        defining = [(f, file) for f, file in candidates if f.may_define_pipelines(scan.tree.contents.get(file.path))]
        pipelines = scan.run(PIPELINES, defining)
        for framework, file in candidates:
            pipelines.setdefault((framework.name, file.path), _Done([], [], [], [], True))
        return attachments, pipelines
    finally:
        scan.close()  # before the collector runs again: what the units parsed is garbage now


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector off while a scan runs, back as it was afterwards.

    A scan allocates millions of small objects (syntax trees) and keeps most of them to
    the end; each full collection walks all of them, for almost nothing to free: about a
    quarter of a cold scan's time. The pause covers the whole analysis, releasing the
    trees included: re-enabled any earlier, the collector's next run would walk every
    object allocated during the pause (a second per pass on a large tree).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _tree_state(tree: TreeState) -> list[Any]:
    """Every file of the tree as a snapshot of the whole scan depends on it."""
    return [[f.path, f.module, f.is_package, tree.digest(f.path) + f.layout_tag] for f in tree.files]


def _reuse_snapshot(store: Optional[AnalysisCache], key: Optional[str],
                    tree: TreeState) -> Optional[tuple[list[Pipeline], list[Diagnostic]]]:
    """The whole result of a scan of this very tree, when one is stored and the run
    configs it read are unchanged: no unit needs to be looked at."""
    if store is None or key is None:
        return None
    snapshot = store.snapshot(key)
    try:
        if snapshot is None or any(tree.run_config_state(referring, reference) != state
                                   for referring, reference, state in snapshot["run_configs"]):
            return None
        pipelines, diagnostics = snapshot["pipelines"], snapshot["diagnostics"]
        if isinstance(pipelines, list) and isinstance(diagnostics, list) \
                and all(isinstance(p, Pipeline) for p in pipelines) \
                and all(isinstance(d, Diagnostic) for d in diagnostics):
            store.scan_hits += 1
            return pipelines, diagnostics
    except (KeyError, TypeError, ValueError):
        pass
    return None


class _Scan:
    """Runs (or reuses) the units of one scan, pass by pass."""

    def __init__(self, root: Path, config: Config, tree: TreeState, frameworks: list[FrameworkInfo],
                 store: Optional[AnalysisCache], jobs: Optional[int]) -> None:
        self.root = root
        self.config = config
        self.tree = tree
        self.frameworks = frameworks
        self.store = store
        self.jobs = usable_jobs(jobs)
        self.executor: Any = None
        self.attachments: dict[str, list[Any]] = {}
        self._attachment_digests: dict[str, str] = {}
        self._encoded_targets: dict[str, list[Any]] = {}

    # ------------------------------------------------------------------ attachments
    def set_attachments(self, targets: dict[str, list[Any]], encoded: dict[str, list[Any]]) -> None:
        self.attachments = targets
        self._encoded_targets = encoded
        self._attachment_digests = {}

    def attachment_digest(self, target: str) -> str:
        found = self._attachment_digests.get(target)
        if found is None:
            if target == ALL_TARGETS:
                parts = [[name, self.attachment_digest(name)] for name in sorted(self._encoded_targets)]
                found = digest(parts)
            else:
                encoded = self._encoded_targets.get(target, [])
                found = digest(encoded) if all(e is not None for e in encoded) else UNCACHEABLE
            self._attachment_digests[target] = found
        return found

    # ------------------------------------------------------------------ units
    def run(self, kind: str, candidates: list[tuple[FrameworkInfo, SourceFile]]) -> dict[tuple[str, str], _Done]:
        done: dict[tuple[str, str], _Done] = {}
        keys: dict[tuple[str, str], str] = {}
        missing: list[tuple[FrameworkInfo, SourceFile]] = []
        for framework, file in candidates:
            slot = (framework.name, file.path)
            if self.store is not None:
                key = self.store.unit_key(kind, framework.name, framework.spec, file.path, file.module,
                                          self.tree.digest(file.path))
                keys[slot] = key
                reused = self._reuse(key, kind)
                self.store.count(reused is not None)
                if reused is not None:
                    done[slot] = reused
                    continue
            missing.append((framework, file))
        if missing:
            missing_keys = [keys.get((framework.name, file.path)) for framework, file in missing]
            for result in self._run_units(kind, missing, missing_keys):
                slot = (result.unit.framework, result.unit.path)
                done[slot] = self._finish(result, keys.get(slot))
        return done

    def _reuse(self, key: str, kind: str) -> Optional[_Done]:
        assert self.store is not None
        variant = self.store.lookup(key, self._valid)
        if variant is None:
            return None
        payload, diagnostics = variant.get("payload"), variant.get("diagnostics")
        expected = Deferred if kind == ATTACHMENTS else Pipeline
        if not isinstance(payload, list) or not isinstance(diagnostics, list) \
                or not all(isinstance(d, Diagnostic) for d in diagnostics) \
                or not all(isinstance(p, expected) for p in payload) \
                or (kind == ATTACHMENTS and not all(isinstance(p.fields["target"], str) for p in payload)):
            self.store.reject(key)  # a corrupt entry: run the unit again and overwrite it
            return None
        encoded = [encode(p) for p in payload] if kind == ATTACHMENTS else None
        return _Done(payload, diagnostics, encoded, [tuple(r) for r in variant["deps"]["r"]], True)

    def _valid(self, variant: dict[str, Any]) -> bool:
        deps = variant["deps"]
        tree = self.tree
        if not tree.records_hold(variant):
            return False
        for referring, reference, state in deps["r"]:
            if tree.run_config_state(referring, reference) != state:
                return False
        for target, expected in deps["a"].items():
            if self.attachment_digest(target) != expected:
                return False
        return True

    def _finish(self, result: "UnitResult", key: Optional[str]) -> _Done:
        """A freshly run unit: complete its dependency record, store it, hand it on."""
        if result.stored:  # a worker process did all that already
            if self.store is not None and key is not None:
                self.store.forget(key)
            return _Done(result.payload, result.diagnostics, result.encoded_payload, result.deps.run_configs,
                         result.cacheable, result.payload_json)
        if self.store is None:  # without a cache, nothing needs the record or the encoded form
            return _Done(result.payload, result.diagnostics, None, [], False)
        fill_states(result.deps, self.tree, self.attachment_digest)
        variant: Optional[dict[str, Any]]
        encoded: Optional[list[Any]] = None
        if self.store.holds_objects and result.unit.kind == PIPELINES:
            # nothing reads a pipelines unit's encoded form but a cache that writes it out
            variant = object_variant(result.payload, result.diagnostics, result.deps, result.cacheable)
        else:
            variant, encoded = cache_variant(result.payload, result.diagnostics, result.deps, result.cacheable)
        if variant is not None and key is not None:
            if self.store.holds_objects:
                self.tree.note_held(variant)  # checked against what changes from here on
            if result.unit.kind == ATTACHMENTS:
                self.store.stage(key, variant)  # written with the file's pipelines unit
            else:
                self.store.store(key, variant)
        return _Done(result.payload, result.diagnostics, encoded, result.deps.run_configs,
                     variant is not None and key is not None)

    def _storing(self, kind: str, keys: list[Optional[str]]) -> Optional["StoreSpec"]:
        """What worker processes need to store the entries of the units they run."""
        from pvcheck.analyzer.parallel import StoreSpec

        if self.store is None:
            return None
        digests: dict[str, str] = {}
        if kind == PIPELINES:
            digests = {target: self.attachment_digest(target) for target in (*self._encoded_targets, ALL_TARGETS)}
        return StoreSpec(self.store.directory, keys, digests, self.attachment_digest("\0no such target"))

    def _run_units(self, kind: str, missing: list[tuple[FrameworkInfo, SourceFile]],
                   keys: list[Optional[str]]) -> list["UnitResult"]:
        from pvcheck.analyzer import parallel
        from pvcheck.analyzer.units import Unit

        units = [Unit(kind, framework.name, file.path) for framework, file in missing]
        attachments = {target: [resolve(a) for a in items] for target, items in self.attachments.items()} \
            if kind == PIPELINES else None
        work = sum(self.tree.by_path[u.path].size for u in units)
        if self.executor is None or (not self.executor.parallel and parallel.worth_parallel(work, self.jobs)):
            if self.executor is not None:
                self.executor.close()
            if self.store is not None:
                self.store.flush()  # no database connection open when worker processes are forked
            self.executor = parallel.make_executor(self.root, self.config, self.tree,
                                                   [_real_framework(f) for f in self._loaded_frameworks()],
                                                   self.jobs if parallel.worth_parallel(work, self.jobs) else 1)
        if self.executor.parallel:
            return self.executor.run(units, attachments, self._storing(kind, keys))
        return self.executor.run(units, attachments)

    def _loaded_frameworks(self) -> list[FrameworkInfo]:
        if any(f.instance is None for f in self.frameworks):
            loaded = {f.name: f for f in _load_framework_infos(self.config)}
            self.frameworks = [loaded[f.name] for f in self.frameworks]
        return self.frameworks

    def close(self) -> None:
        if self.store is not None:
            self.store.flush()
        if self.executor is not None:
            self.executor.close()
            self.executor = None


def _real_framework(info: FrameworkInfo) -> "Framework":
    assert info.instance is not None
    return info.instance


def usable_jobs(jobs: Optional[int]) -> int:
    """``jobs`` if given, else ``$PVCHECK_JOBS``, else the cores this process may use."""
    if jobs is None:
        env = os.environ.get("PVCHECK_JOBS", "")
        if env.strip().isdigit():
            jobs = int(env)
    if jobs is None:
        try:
            jobs = len(os.sched_getaffinity(0))  # type: ignore[attr-defined]
        except (AttributeError, OSError):
            jobs = os.cpu_count() or 1
    return max(1, jobs)


# ---------------------------------------------------------------------- frameworks
def _frameworks(config: Config, store: Optional[AnalysisCache]) -> list[FrameworkInfo]:
    """The enabled frameworks; from the cache's manifest when possible, so that a scan
    served from the cache does not import the framework plug-ins (and libcst)."""
    if store is not None:
        manifest = store.manifest(config.frameworks)
        if manifest is not None:
            try:
                infos = [FrameworkInfo(str(m["name"]), str(m["spec"]),
                                       tuple(str(x).encode("latin-1") for x in m["markers"]), bool(m["plain"]),
                                       None, tuple(str(x).encode("latin-1") for x in m["pipeline_markers"]))
                         for m in manifest]
            except (KeyError, TypeError, ValueError):
                infos = []
            if infos and all(info.plain for info in infos):
                return infos
    infos = _load_framework_infos(config)
    if store is not None:
        store.store_manifest(config.frameworks, [
            {"name": i.name, "spec": i.spec, "markers": [m.decode("latin-1") for m in i.markers], "plain": i.plain,
             "pipeline_markers": [m.decode("latin-1") for m in i.pipeline_markers]}
            for i in infos])
    return infos


def _load_framework_infos(config: Config) -> list[FrameworkInfo]:
    from pvcheck.analyzer.frameworks.base import Framework, load_frameworks

    infos = []
    for framework in load_frameworks(config.frameworks, config):
        cls = type(framework)
        infos.append(FrameworkInfo(framework.name, f"{cls.__module__}:{cls.__qualname__}",
                                   tuple(framework.markers), cls.matches is Framework.matches, framework,
                                   tuple(framework.pipeline_markers)))
    return infos
