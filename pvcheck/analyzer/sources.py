"""The bytes of a tree's files, their hashes, and the state of what a unit of work read.

Nothing here parses Python, so a scan whose every unit comes from the analysis cache
never imports libcst. :class:`TreeState` answers "is this still what the unit saw?" for
module names, files, the file list and YAML run configs.
"""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterable, Mapping, Optional

from pvcheck.analyzer.discovery import SourceFile
from pvcheck.diagnostics import CANNOT_READ, NOT_TEXT, TOO_LARGE
from pvcheck.model import Diagnostic, Severity

#: The state of a file whose bytes could not be read (too large, binary, unreadable).
UNREADABLE = "-"
#: The referring path of a run-config dependency that is a census (``ProjectIndex.census``):
#: the reference is a marker text, the state which files hold it and their bytes.
CENSUS = "\0census"


def census_key(marker: str, scope: str = "") -> str:
    """The reference a census is recorded by: its marker, and the sub-project it is
    limited to (``SourceFile.seen_from``) when there is one."""
    return f"{marker}\0{scope}" if scope else marker


def file_list_digest(files: Iterable[SourceFile]) -> str:
    """A digest of which files exist, what their modules are called and how their
    imports read (``TreeState.file_list_state``; the history session's file list too)."""
    hasher = hashlib.blake2b(digest_size=16)
    for file in files:
        hasher.update(f"{file.path}\0{file.module}\0{int(file.is_package)}{file.layout_tag}\n".encode(
            "utf-8", "surrogateescape"))
    return hasher.hexdigest()


def census_files(files: Iterable[SourceFile], contents: Mapping[str, Optional[bytes]], key: str,
                 holding: Optional[dict[str, list[SourceFile]]] = None,
                 holds: Optional[Callable[[bytes, SourceFile], bool]] = None) -> list[SourceFile]:
    """The files a census finds (``key`` from :func:`census_key`): those whose bytes hold
    its marker and that its sub-project can import, in file-list order. ``holding``
    keeps, per marker, the files that hold it, for the censuses of the same marker from
    other sub-projects of the same files (a collection asks one per project). ``holds``
    answers whether a file's bytes hold a marker, when the caller remembers that."""
    marker, _, scope = key.partition("\0")
    found = holding.get(marker) if holding is not None else None
    if found is None:
        data = marker.encode("utf-8")
        if holds is None:
            found = [f for f in files if data in (contents.get(f.path) or b"")]
        else:
            found = [f for f in files if holds(data, f)]
        if holding is not None:
            holding[marker] = found
    return [f for f in found if f.seen_from(scope)] if scope else list(found)


def content_hash(data: Optional[bytes]) -> str:
    """A short, stable hash of a file's bytes (``-`` for a file that cannot be read)."""
    if data is None:
        return UNREADABLE
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def read_source(file: SourceFile, max_file_size: int) -> tuple[Optional[bytes], Optional[Diagnostic]]:
    """A source file's bytes, or None and the diagnostic saying why it cannot be analyzed."""
    if file.size > max_file_size:
        return None, Diagnostic(
            TOO_LARGE, Severity.ERROR, f"file is {file.size} bytes, over the limit of {max_file_size}",
            file.path, hint="raise 'max_file_size' in the pvcheck configuration, or exclude the file")
    try:
        data = file.absolute.read_bytes()
    except OSError as exc:
        return None, Diagnostic(CANNOT_READ, Severity.ERROR, f"cannot read: {exc.strerror or exc}",
                                file.path, hint="check that the file exists and is readable")
    if b"\x00" in data:
        return None, Diagnostic(NOT_TEXT, Severity.ERROR, "binary file (contains NUL bytes)",
                                file.path, hint="exclude it, or remove the .py suffix")
    return data, None


def count_lines(data: bytes) -> int:
    return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)


class TreeState:
    """The files of one scanned tree as read once at the start of the scan."""

    def __init__(self, root: Path, files: Iterable[SourceFile], contents: Mapping[str, Optional[bytes]],
                 markers: Optional[dict[tuple[bytes, str], bool]] = None,
                 previous: Optional["TreeState"] = None) -> None:
        self.root = root
        # the tree scanned just before this one in this process (a history walk's last
        # commit), until the difference between the two is known (:meth:`records_hold`)
        self._previous = previous
        if previous is not None:
            previous._previous = None  # one tree back at most, whatever asks what
        self._delta: Optional[tuple[int, frozenset[str], frozenset[str], bool]] = None
        self.token = next(_TREE_TOKENS)
        # (marker, content hash) -> whether bytes with that hash hold the marker: shared by
        # the trees of a history walk, whose censuses (a few dozen markers over every file)
        # then read only the files a commit changed
        self._markers = markers
        self.files = list(files)
        self.by_module: dict[str, SourceFile] = {}
        for file in self.files:
            self.by_module.setdefault(file.module, file)
        self.by_path = {file.path: file for file in self.files}
        self.contents = contents
        self._hashes: dict[str, str] = {}
        # every state asked for, by name or path: a cached unit's record names a whole
        # code location's modules, checked at every commit of a history walk
        self._module_states: dict[str, Optional[str]] = {}
        self._file_states: dict[str, Optional[str]] = {}
        self._run_configs: dict[tuple[str, str], str] = {}
        self._holding: dict[str, list[SourceFile]] = {}  # marker -> files holding it (census_files)
        # the previous tree's (taken with the difference between the two)
        self._previous_holding: Optional[dict[str, list[SourceFile]]] = None
        self._file_list: Optional[str] = None
        self.repository = RepositoryFiles(root)  # the files beside the sources, as of this tree

    def digest(self, path: str) -> str:
        found = self._hashes.get(path)
        if found is None:
            found = self._hashes[path] = content_hash(self.contents.get(path))
        return found

    def module_state(self, name: str) -> Optional[str]:
        """``path:hash`` of the file defining module ``name``; None when no file does."""
        states = self._module_states
        if name not in states:
            file = self.by_module.get(name)
            states[name] = f"{file.path}:{self.digest(file.path)}{file.layout_tag}" if file is not None else None
        return states[name]

    def file_state(self, path: str) -> Optional[str]:
        """``hash:module`` of a source file read by path; None when there is none (the
        module: what a result that names the file's definitions calls them)."""
        states = self._file_states
        if path not in states:
            file = self.by_path.get(path)
            states[path] = f"{self.digest(path)}:{file.module}" if file is not None else None
        return states[path]

    def modules_as_recorded(self, recorded: Mapping[str, Optional[str]]) -> bool:
        """Whether every module of ``recorded`` (name -> state) has that state here."""
        return _all_as_recorded(recorded, self._module_states, self.module_state)

    def files_as_recorded(self, recorded: Mapping[str, Optional[str]]) -> bool:
        """Whether every file of ``recorded`` (path -> state) has that state here."""
        return _all_as_recorded(recorded, self._file_states, self.file_state)

    def records_hold(self, variant: dict[str, Any]) -> bool:
        """Whether the modules, files and file list a cached variant recorded (its
        ``deps`` ``m``, ``f`` and ``l``) have those states here.

        A variant these held for in the previous tree is checked only against what changed
        since: the modules and files whose states differ, and whether the file list did.
        A history walk checks every unit of the tree at every commit, each naming up to a
        whole code location's modules (zenml-projects: 830 variants a commit)."""
        held_in = variant.get(_HELD_IN)
        if held_in == self.token:
            return True
        deps = variant["deps"]
        delta = self._difference()
        if delta is not None and held_in == delta[0]:
            holds = deps["m"].keys().isdisjoint(delta[1]) and deps["f"].keys().isdisjoint(delta[2]) \
                and (deps["l"] is None or not delta[3])
        else:
            holds = self.modules_as_recorded(deps["m"]) and self.files_as_recorded(deps["f"]) \
                and (deps["l"] is None or deps["l"] == self.file_list_state())
        if holds:
            variant[_HELD_IN] = self.token
        return holds

    def note_held(self, variant: dict[str, Any]) -> None:
        """``variant``'s record was filled from this tree's states: it holds here."""
        variant[_HELD_IN] = self.token

    def modules_states(self, names: Iterable[str]) -> dict[str, Optional[str]]:
        """``{name: module_state(name)}`` for many names (a record names hundreds)."""
        known = self._module_states
        names = list(names)
        for name in names:
            if name not in known:
                self.module_state(name)
        return {name: known[name] for name in names}

    def _difference(self) -> Optional[tuple[int, frozenset[str], frozenset[str], bool]]:
        """(the previous tree's token, the module names and the paths whose states differ
        between the two trees, whether the file list does), or None without a previous tree."""
        previous, self._previous = self._previous, None  # kept no longer: no chain of trees
        if previous is not None:
            list_changed = previous.file_list_state() != self.file_list_state()
            if not list_changed:  # the same files: their bytes tell
                edited = [file for file in self.files if previous.digest(file.path) != self.digest(file.path)]
                modules, paths = {f.module for f in edited}, {f.path for f in edited}
            else:  # a name or path of either tree, defined or not, found or not, in each
                modules = {name for name in previous.by_module.keys() | self.by_module.keys()
                           if previous.module_state(name) != self.module_state(name)}
                paths = {path for path in previous.by_path.keys() | self.by_path.keys()
                         if previous.file_state(path) != self.file_state(path)}
            self._delta = (previous.token, frozenset(modules), frozenset(paths), list_changed)
            self._previous_holding = previous._holding  # a file outside ``paths`` holds what it held
        return self._delta

    def file_list_state(self) -> str:
        """A digest of which files exist and what their modules are called."""
        if self._file_list is None:
            self._file_list = file_list_digest(self.files)
        return self._file_list

    def census_state(self, key: str) -> str:
        """Which files contain a census's marker and what they hold (``ProjectIndex.census``;
        ``key`` from :func:`census_key`)."""
        marker = key.partition("\0")[0]
        if marker not in self._holding and self._markers is not None:
            carried = self._carried(marker)
            if carried is not None:
                self._holding[marker] = carried
        hasher = hashlib.blake2b(digest_size=16)
        for file in census_files(self.files, self.contents, key, self._holding,
                                 self._holds if self._markers is not None else None):
            hasher.update(f"{file.path}\0{file.module}\0{self.digest(file.path)}\n".encode("utf-8",
                                                                                          "surrogateescape"))
        return "census:" + hasher.hexdigest()

    def _carried(self, marker: str) -> Optional[list[SourceFile]]:
        """The files holding ``marker``, from the previous tree's answer and the files whose
        state differs since (None without one): a history walk asks a few dozen markers at
        every commit, and a commit changes a few of hundreds of files."""
        delta = self._difference()
        before = self._previous_holding.get(marker) if self._previous_holding is not None else None
        if delta is None or before is None:
            return None
        edited = delta[2]
        held = {file.path for file in before}
        data = marker.encode("utf-8")
        return [file for file in self.files
                if (self._holds(data, file) if file.path in edited else file.path in held)]

    def _holds(self, marker: bytes, file: SourceFile) -> bool:
        assert self._markers is not None
        key = (marker, self.digest(file.path))
        found = self._markers.get(key)
        if found is None:
            if len(self._markers) >= _MAX_MARKERS:
                self._markers.clear()  # a memo only: a very long walk starts it again
            found = self._markers[key] = marker in (self.contents.get(file.path) or b"")
        return found

    def run_config_state(self, referring_path: str, reference: str) -> str:
        """What the run config ``reference``, named in ``referring_path``, resolves to.

        Mirrors where :func:`pvcheck.analyzer.runconfig.load` looks (next to the referring
        file, then at the root) and folds in every candidate's content, so any change that
        could make ``load`` read something else changes the state.
        """
        key = (referring_path, reference)
        found = self._run_configs.get(key)
        if found is None and referring_path == CENSUS:
            found = self._run_configs[key] = self.census_state(reference)
        if found is None and not referring_path:
            found = self._run_configs[key] = self.repository.state(reference)
        if found is None:
            base = self.repository.resolved()
            if base is None:
                return "unresolvable-root"
            found = self._run_configs[key] = _run_config_state(base, referring_path, reference)
        return found


#: At most this many (marker, content) answers are kept for a walk (about 30 MB).
_MAX_MARKERS = 200_000
#: A tree's identity within this process (never reused, unlike ``id``).
_TREE_TOKENS = itertools.count(1)
#: The key under which a cached variant keeps the token of the last tree its recorded
#: modules and files held in (:meth:`TreeState.records_hold`).
_HELD_IN = "held_in"


def _all_as_recorded(recorded: Mapping[str, Optional[str]], known: dict[str, Optional[str]],
                     state: Callable[[str], Optional[str]]) -> bool:
    """``recorded`` is a subset of the states here: each missing one computed once, then
    compared as dict items (one C loop, where a Python call per name cost 0.7 s in a
    30-commit walk of a 160-module code location)."""
    for key in recorded.keys() - known.keys():
        state(key)
    return recorded.items() <= known.items()


class RepositoryFiles:
    """The repository files of one tree under its root, as a scan reads them: the state of
    a path from the root or of a glob (:func:`_run_config_state`) and the files a glob
    matches, each found once per tree. A history walk asks the same ones at every commit
    from three places (the cached units' checks, the index's update, a framework's
    registry), and globbing a dg project's ``defs/`` folder costs milliseconds."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._base: Optional[Path] = None
        self._states: dict[str, str] = {}
        self._matches: dict[str, list[str]] = {}

    def resolved(self) -> Optional[Path]:
        """The root, resolved (None when it cannot be)."""
        if self._base is None:
            try:
                self._base = self.root.resolve()
            except (OSError, RuntimeError):
                return None
        return self._base

    def state(self, path: str) -> str:
        """``path:hash`` (``path:absent``) of a path from the root; for a glob, which files
        match and their contents."""
        found = self._states.get(path)
        if found is None:
            base = self.resolved()
            if base is None:
                return "unresolvable-root"
            if any(c in path for c in "*?["):
                # a glob a framework listed (Kedro's conf/base/parameters*.yml): which files
                # match, and their contents
                found = "glob|" + "|".join(f"{relative}:{content_hash(_bytes_of(base / relative))}"
                                           for relative in self.matching(path))
            else:
                found = _run_config_state(base, "", path)
            self._states[path] = found
        return found

    def matching(self, pattern: str) -> list[str]:
        """The files matching a glob from the root, as ``runconfig.glob_files`` finds them."""
        found = self._matches.get(pattern)
        if found is None:
            from pvcheck.analyzer.runconfig import glob_files

            base = self.resolved()
            found = self._matches[pattern] = glob_files(base, pattern) if base is not None else []
        return list(found)


def _bytes_of(path: Path) -> Optional[bytes]:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _run_config_state(base: Path, referring_path: str, reference: str) -> str:
    """The state of the file a reference may name (a glob's: :meth:`RepositoryFiles.state`):
    also what a file read by analyzed code is fingerprinted by (``path:hash``,
    ``path:absent``; see ``ProjectIndex.data_file_state``)."""
    candidates = []
    if referring_path:
        candidates.append(base / PurePosixPath(referring_path).parent / reference)
    candidates.append(base / reference)
    parts = []
    for candidate in candidates:
        try:
            resolved = candidate.resolve()
        except (OSError, RuntimeError, ValueError):
            parts.append("error")
            continue
        try:
            relative = resolved.relative_to(base).as_posix()
        except ValueError:
            parts.append("outside")
            continue
        try:
            data = resolved.read_bytes() if resolved.is_file() else None
        except OSError:
            data = None
        parts.append(f"{relative}:{content_hash(data) if data is not None else 'absent'}")
    return "|".join(parts)
