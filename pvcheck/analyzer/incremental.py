"""Analysis state kept from one scan to the next of a tree that changes a little each time.

``pvcheck history`` scans one folder per commit, and a commit changes a few files. A
:class:`Session` keeps, across those scans, everything a scan computed that the change
cannot have touched:

* parsed modules (syntax tree, scopes, names, lines) by module name, kept while the file
  behind the name has the same path and content hash -- a blob analysed at an earlier
  commit is not read, parsed or resolved again;
* what :meth:`ProjectIndex.remember` computed (name resolutions, definition
  fingerprints, module effects, step facts, the Dagster asset registry and module
  calls), each kept while everything its :class:`~pvcheck.analyzer.index.Recorder` says
  it looked at is unchanged: the modules it asked for (found or not), the files it read,
  the file list when it walked it, the repository files the analysed code reads, and the
  packages no root holds under the first names it asked for -- and while no module its
  key names changed (a result computed from a module it was handed records no look-up
  of it);
* the framework instances, so plug-ins are not loaded again.

Unit results are kept by :class:`~pvcheck.analyzer.cache.MemoryCache` under the same
rules as the on-disk cache. The scan itself is unchanged: it asks
:func:`pvcheck.analyzer.parallel.make_executor` for an executor, which hands out the
session's while one is active (:func:`session`).

Everything here only ever answers what a fresh scan would answer; ``history``'s
equivalence test runs a history both ways and compares the outputs byte for byte.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Mapping, Optional

import libcst as cst

from pvcheck.analyzer.discovery import SourceFile
from pvcheck.analyzer.frameworks.base import Framework
from pvcheck.analyzer.index import ProjectIndex, Recorder, parse
from pvcheck.analyzer.module import ModuleInfo
from pvcheck.analyzer.orphans import orphan_packages
from pvcheck.analyzer.sources import RepositoryFiles, TreeState, census_files, content_hash, file_list_digest
from pvcheck.analyzer.units import Unit, UnitResult, UnitRunner
from pvcheck.config import Config
from pvcheck.model import Diagnostic

# A file's state as the index sees it: (module name, is a package, content hash).
_FileState = tuple[str, bool, str]


def _file_states(files: list[SourceFile], contents: Mapping[str, Optional[bytes]]) -> dict[str, _FileState]:
    return {f.path: (f.module, f.is_package, content_hash(contents.get(f.path))) for f in files}


def _module_states(files: list[SourceFile], states: dict[str, _FileState]) -> dict[str, str]:
    """Module name -> ``path:hash`` of the file that defines it (the first, as the index picks)."""
    found: dict[str, str] = {}
    for file in files:
        found.setdefault(file.module, f"{file.path}:{states[file.path][2]}{file.layout_tag}")
    return found


def _census(files: list[SourceFile], contents: Mapping[str, Optional[bytes]], states: dict[str, _FileState],
            key: str, holding: dict[str, list[SourceFile]]) -> tuple[tuple[str, _FileState], ...]:
    """The files a census (``ProjectIndex.census``, ``key`` from ``census_key``) finds, with
    their states: what a result that took one depends on."""
    return tuple((f.path, states[f.path]) for f in census_files(files, contents, key, holding))


def _changed_keys(old: Mapping[str, object], new: Mapping[str, object]) -> set[str]:
    return {key for key in set(old) | set(new) if old.get(key) != new.get(key)}


class IncrementalIndex(ProjectIndex):
    """A :class:`ProjectIndex` that can move to the next state of its tree (:meth:`update`),
    keeping each parsed module and remembered result the change did not touch."""

    def __init__(self, files: list[SourceFile], max_file_size: int,
                 contents: Mapping[str, Optional[bytes]]) -> None:
        super().__init__(files, max_file_size, [], contents)
        self._previous: dict[str, tuple[str, cst.Module]] = {}  # path -> text and tree before the update
        self._states = _file_states(self._files, self._raw)
        self._modules_by_state = _module_states(self._files, self._states)
        self._list = file_list_digest(self._files)
        self.kept = 0  # remembered results kept by the last update
        self.dropped = 0

    def update(self, files: list[SourceFile], contents: Mapping[str, Optional[bytes]],
               repository: Optional[RepositoryFiles] = None) -> None:
        """Move to the tree ``files`` / ``contents``. Other files (YAML, data) are read
        from disk again when asked for (through ``repository``, the new tree's, when
        given); a remembered result that read one is kept only while it is unchanged."""
        files = list(files)
        new_states = _file_states(files, contents)
        new_modules = _module_states(files, new_states)
        new_list = file_list_digest(files)
        old_states, old_modules = self._states, self._modules_by_state
        list_changed = new_list != self._list
        by_module: dict[str, SourceFile] = {}
        for file in files:
            by_module.setdefault(file.module, file)
        # A package no root holds (an "orphan", see pvcheck.analyzer.orphans) is found by
        # its first name: a resolution that reached it asked for that name as a module
        # first (recorded, absent), so a record naming a package whose orphan folder
        # appeared, went or moved is stale.
        orphans_changed = _changed_keys(orphan_packages(self.by_module), orphan_packages(by_module)) \
            if list_changed else set()
        if repository is None and self.root is not None:
            repository = RepositoryFiles(self.root)
        data_states: dict[str, str] = {}

        def data_state(path: str) -> str:
            found = data_states.get(path)
            if found is None:
                found = data_states[path] = repository.state(path) if repository is not None \
                    else f"{path}:unknown-root"
            return found

        # every check below is a set operation: thousands of records per commit
        changed = _changed_keys(old_modules, new_modules)
        changed_paths = _changed_keys(old_states, new_states)

        # a census (which files hold a marker) is no look-up of those files: a file that gains
        # the marker (a materializer added) must drop what the census found before
        census_changed: dict[str, bool] = {}
        old_holding: dict[str, list[SourceFile]] = {}
        new_holding: dict[str, list[SourceFile]] = {}

        by_path = {file.path: file for file in files}

        def census_moved(key: str) -> bool:
            found = census_changed.get(key)
            if found is None:
                if list_changed:
                    found = _census(self._files, self._raw, old_states, key, old_holding) != \
                        _census(files, contents, new_states, key, new_holding)
                else:
                    # the same files: only an edited one holding the marker before or after
                    # can change what the census finds (or the state it found it in)
                    marker, _, scope = key.partition("\0")
                    data = marker.encode("utf-8")
                    found = any(by_path[path].seen_from(scope)
                                and (data in (self._raw.get(path) or b"") or data in (contents.get(path) or b""))
                                for path in changed_paths if path in by_path)
                census_changed[key] = found
            return found

        def still_valid(record: Recorder) -> bool:
            if record.file_list and list_changed:
                return False
            if (changed_paths or list_changed) and any(census_moved(key) for key in record.census):
                return False
            if not record.modules.isdisjoint(changed):
                return False
            if orphans_changed and any(name.partition(".")[0] in orphans_changed for name in record.modules):
                return False
            if not (record.files.isdisjoint(changed_paths) and record.parsed.isdisjoint(changed_paths)):
                return False
            return all(self._data_states.get(path) == data_state(path) for path in record.data_files)

        # A result computed from a module it was handed (a definition's fingerprint, a
        # module's effects) records no look-up of that module: its key names it instead
        # (``pkg.mod.helper``, ``pkg.mod``), and a key naming a changed module goes too.
        # ``pkg.mod`` or anything under it (``pkg.mod.helper``): one C call per string
        below_changed = tuple(f"{name}." for name in changed)

        def names_changed(key: object) -> bool:
            if not changed:
                return False
            parts = key if isinstance(key, tuple) else (key,)
            for part in parts:
                if isinstance(part, str) and part and (part in changed or part.startswith(below_changed)):
                    return True
            return False

        kept: dict = {}
        for key, (value, record) in self._remembered.items():
            if still_valid(record) and not names_changed(key):
                kept[key] = (value, record)
        self.dropped = len(self._remembered) - len(kept)
        self.kept = len(kept)
        self._remembered = kept
        # parsed modules: by name, while the same file with the same bytes defines it; the
        # tree of an edited file is kept until the next update, to parse its new text from
        self._previous = {}
        for name in list(self._modules):
            info = self._modules[name]
            if old_modules.get(name) != new_modules.get(name):
                del self._modules[name]
                if info is not None:
                    if info.source.path in by_path:
                        self._previous[info.source.path] = (info.text, info.tree)
                    info.release()
            elif info is not None:
                info.source = by_module[name]
        self.parse_diagnostics = {path: found for path, found in self.parse_diagnostics.items()
                                  if path in new_states and old_states.get(path) == new_states[path]}
        self._files = files
        self.by_module = by_module
        self._raw = dict(contents)
        self._states, self._modules_by_state, self._list = new_states, new_modules, new_list
        if list_changed:
            self._orphans = None
        self._census = {}  # found again, from the new files, when asked
        self._data_states = data_states  # built for this update, not shared
        self.repository = repository
        self.data_reads = set(self._data_states)

    def _parse(self, file: SourceFile, data: bytes, diagnose: Callable[[Diagnostic], None]) -> Optional[ModuleInfo]:
        return parse(file, data, diagnose, self._previous.pop(file.path, None))

    def release(self) -> None:
        super().release()
        self._previous = {}


class IncrementalRunner(UnitRunner):
    """A :class:`UnitRunner` over an :class:`IncrementalIndex`."""

    def __init__(self, root: Path, config: Config, files: list[SourceFile],
                 contents: Mapping[str, Optional[bytes]], frameworks: list[Framework]) -> None:
        super().__init__(root, config, files, contents, frameworks)
        self.index = IncrementalIndex(files, config.max_file_size, contents)

    def update(self, files: list[SourceFile], contents: Mapping[str, Optional[bytes]],
               repository: Optional[RepositoryFiles] = None) -> None:
        self.by_path = {f.path: f for f in files}
        self.index.update(files, contents, repository)


class SessionExecutor:
    """The executor a scan gets while a session is active: the session's runner, which
    outlives the scan (closing it keeps everything)."""

    parallel = False

    def __init__(self, runner: IncrementalRunner) -> None:
        self.runner = runner

    def run(self, units: list[Unit], attachments: Optional[dict]) -> list[UnitResult]:  # type: ignore[type-arg]
        from pvcheck.analyzer.parallel import run_reporting

        return run_reporting(self.runner, units, attachments)

    def close(self) -> None:
        pass


class Session:
    """State shared by the scans of one history walk (see the module docstring)."""

    def __init__(self) -> None:
        self._runner: Optional[IncrementalRunner] = None
        self._key: Optional[tuple[object, ...]] = None
        self._tree: Optional[TreeState] = None  # the tree the runner was last moved to

    def executor(self, root: Path, config: Config, tree: TreeState, frameworks: list[Framework]) -> SessionExecutor:
        # Not the source roots: they only name modules, and every result is kept by the
        # names and files it depends on (a new project in a monorepo adds a root).
        key = (str(root), config.with_overrides(roots=()),
               tuple(f"{type(f).__module__}:{type(f).__qualname__}" for f in frameworks))
        if self._runner is None or key != self._key:
            self.close()  # another root, configuration or set of frameworks: nothing carries over
            self._runner = IncrementalRunner(root, config, tree.files, tree.contents, frameworks)
            self._runner.index.repository = tree.repository
            self._key = key
        elif self._tree is not tree:  # a scan may ask twice (one executor per pass)
            self._runner.config = config
            self._runner.update(tree.files, tree.contents, tree.repository)
        self._tree = tree
        return SessionExecutor(self._runner)

    @property
    def index(self) -> Optional[IncrementalIndex]:
        return self._runner.index if self._runner is not None else None

    def close(self) -> None:
        if self._runner is not None:
            self._runner.index.release()
        self._runner = None
        self._key = None
        self._tree = None


_ACTIVE: Optional[Session] = None


def active() -> Optional[Session]:
    """The session scans in this process share now, if any."""
    return _ACTIVE


@contextmanager
def session() -> Iterator[Session]:
    """Scans inside the ``with`` block share one :class:`Session` (not thread-safe: a
    history walk is one thread)."""
    global _ACTIVE
    previous, _ACTIVE = _ACTIVE, Session()
    current = _ACTIVE
    try:
        yield current
    finally:
        current.close()
        _ACTIVE = previous
