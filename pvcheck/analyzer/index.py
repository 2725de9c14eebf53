"""The modules of one tree, parsed on demand, and name resolution across them.

A module is read and parsed the first time something needs it: a framework's
pre-filter matched its bytes, or a step refers to a name defined in it. Modules nobody
refers to are never parsed.

While a :class:`Recorder` is attached, the index notes every module name it is asked
about (found or not), every file whose bytes are read and whether the file list itself
was walked. That record is what lets the analysis cache reuse a unit of work exactly
when nothing it looked at has changed.
"""

from __future__ import annotations

import sys
import tokenize
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any, Callable, Hashable, Iterable, Mapping, Optional, TypeVar

import libcst as cst

from pvcheck.analyzer.discovery import SourceFile
from pvcheck.analyzer.module import ModuleInfo, Symbol, parse_error_diagnostic
from pvcheck.analyzer.nesting import nesting_diagnostic
from pvcheck.analyzer.orphans import orphan_packages
from pvcheck.analyzer.sources import RepositoryFiles, census_key, read_source
from pvcheck.analyzer.splice import reparse
from pvcheck.diagnostics import NOT_TEXT
from pvcheck.model import Diagnostic, Severity

Resolution = tuple[Symbol, tuple[str, ...]]
T = TypeVar("T")


@dataclass
class Recorder:
    """What one unit of work looked at through the index."""

    modules: set[str] = field(default_factory=set)  # module names asked for, found or not
    files: set[str] = field(default_factory=set)  # paths whose bytes were read
    file_list: bool = False  # the list of files itself was walked
    parsed: set[str] = field(default_factory=set)  # paths loaded by path (their parse diagnostics belong to the unit)
    data_files: set[str] = field(default_factory=set)  # repository files code reads (paths from the root)
    census: set[str] = field(default_factory=set)  # markers: which files hold the text, and their bytes

    def update(self, other: "Recorder") -> None:
        self.modules.update(other.modules)
        self.census.update(other.census)
        self.data_files.update(other.data_files)
        self.files.update(other.files)
        self.file_list = self.file_list or other.file_list
        self.parsed.update(other.parsed)


class ProjectIndex:
    """Every source file of a tree by module name, with lazily parsed modules.

    ``contents`` may hand over bytes already read (path -> bytes, or None for a file
    that could not be read and was diagnosed by whoever read it); files missing from it
    are read from disk on demand.
    """

    def __init__(self, files: Iterable[SourceFile], max_file_size: int, diagnostics: list[Diagnostic],
                 contents: Optional[Mapping[str, Optional[bytes]]] = None) -> None:
        self._files = list(files)
        self.by_module: dict[str, SourceFile] = {}
        for file in self._files:
            self.by_module.setdefault(file.module, file)
        self.max_file_size = max_file_size
        self.diagnostics = diagnostics
        self._modules: dict[str, Optional[ModuleInfo]] = {}
        self._raw: dict[str, Optional[bytes]] = dict(contents) if contents is not None else {}
        self.parse_diagnostics: dict[str, list[Diagnostic]] = {}  # path -> diagnostics of parsing it (if any)
        self._remembered: dict[Hashable, tuple[Any, Recorder]] = {}
        self.recorder: Optional[Recorder] = None
        self._orphans: Optional[dict[str, str]] = None  # packages no root holds (pvcheck.analyzer.orphans)
        self._active: set[str] = set()  # names being resolved (an import cycle ends there)
        self._loading = False  # reads made to parse a module are module dependencies, not file ones
        self.root: Optional[Path] = None  # the scanned root, for files the analyzed code reads
        self.data_reads: set[str] = set()  # every such file asked about (paths from the root)
        self._data_states: dict[str, str] = {}
        # where those states and glob matches come from; a scan hands over its tree's, so
        # that both ask once (made from ``root`` when nobody did)
        self.repository: Optional[RepositoryFiles] = None
        self._census: dict[str, list[SourceFile]] = {}

    @property
    def files(self) -> list[SourceFile]:
        """Every source file of the tree (walking it makes a unit depend on the whole list)."""
        if self.recorder is not None:
            self.recorder.file_list = True
        return self._files

    # ------------------------------------------------------------------ reading
    def read(self, file: SourceFile) -> Optional[bytes]:
        """The file's bytes, or None (with a diagnostic) when it cannot be analyzed."""
        if self.recorder is not None and not self._loading:
            self.recorder.files.add(file.path)
        return self._read(file)

    def _read(self, file: SourceFile) -> Optional[bytes]:
        if file.path in self._raw:
            return self._raw[file.path]
        data, problem = read_source(file, self.max_file_size)
        if problem is not None:
            self._diagnose(problem)
        self._raw[file.path] = data  # a failure is diagnosed once, not on every look-up
        return data

    def data_file_state(self, path: str) -> str:
        """``path:hash`` of a repository file the analyzed code reads (``path:absent`` when
        there is none; a path from the root). Recorded: the unit depends on its bytes.
        The same state the cache checks run configs by, so both agree on what changed."""
        if self.recorder is not None:
            self.recorder.data_files.add(path)
        self.data_reads.add(path)
        found = self._data_states.get(path)
        if found is None:
            repository = self.repository_files()
            found = self._data_states[path] = repository.state(path) if repository is not None \
                else f"{path}:unknown-root"
        return found

    def data_files(self, pattern: str) -> list[str]:
        """The files under the root matching a glob, as ``glob_files`` finds them; recorded
        like :meth:`data_file_state` (which files match, and their bytes)."""
        self.data_file_state(pattern)
        repository = self.repository_files()
        return repository.matching(pattern) if repository is not None else []

    def repository_files(self) -> Optional[RepositoryFiles]:
        """The repository files beside the sources, or None before the root is known."""
        if self.repository is None and self.root is not None:
            self.repository = RepositoryFiles(self.root)
        return self.repository

    def census(self, marker: str, scope: str = "") -> list[SourceFile]:
        """The files whose bytes contain ``marker``, in file-list order; with ``scope`` (a
        sub-project's module prefix) only those its code can import (``SourceFile.seen_from``).
        Recorded as one dependency (which files hold it, and their bytes;
        ``TreeState.census_state``), not as a read of every file: a unit that looks for
        materializers across the tree is not invalidated by an edit to a file that defines
        none, nor, in a collection of projects, by another project's."""
        key = census_key(marker, scope)
        if self.recorder is not None:
            self.recorder.census.add(key)
        found = self._census.get(key)
        if found is None:
            data = marker.encode("utf-8")
            found = self._census[key] = [f for f in self._files
                                         if f.seen_from(scope) and data in (self._read(f) or b"")]
        return found

    def has_module(self, name: str) -> bool:
        """Whether the tree defines module ``name`` (recorded: an absent name is a dependency too)."""
        if self.recorder is not None:
            self.recorder.modules.add(name)
        return name in self.by_module

    def module(self, name: str) -> Optional[ModuleInfo]:
        """The parsed module ``name`` of this tree, or None (not in the tree, or unparsable)."""
        if self.recorder is not None:
            self.recorder.modules.add(name)  # its parse diagnostics belong to the unit too
        if name in self._modules:
            return self._modules[name]
        file = self.by_module.get(name)
        result = self._load(file) if file is not None else None
        self._modules[name] = result
        return result

    def load(self, file: SourceFile) -> Optional[ModuleInfo]:
        if self.recorder is not None:
            self.recorder.modules.add(file.module)
            self.recorder.parsed.add(file.path)
        return self._load(file)

    def _load(self, file: SourceFile) -> Optional[ModuleInfo]:
        winner = self.by_module.get(file.module) is file
        if winner and file.module in self._modules:
            return self._modules[file.module]
        self._loading = True
        try:
            data = self.read(file)  # read(), not _read(): subclasses supply bytes by overriding it
        finally:
            self._loading = False

        def diagnose(diagnostic: Diagnostic) -> None:
            # an entry only for a file with something to say: every unit looks them all up
            sink = self.parse_diagnostics.setdefault(file.path, [])
            if diagnostic not in sink:
                sink.append(diagnostic)
            self._diagnose(diagnostic)

        info = self._parse(file, data, diagnose) if data is not None else None
        if info is not None and not file.is_package and file.package:
            info.script_name = _ScriptNames(self, file)
        if winner:
            self._modules[file.module] = info
        return info

    def _parse(self, file: SourceFile, data: bytes, diagnose: Callable[[Diagnostic], None]) -> Optional[ModuleInfo]:
        return parse(file, data, diagnose)

    def release(self) -> None:
        """Forget every parsed module, breaking the cycles that would otherwise leave the
        syntax trees to the garbage collector (about a second on a large tree)."""
        for module in self._modules.values():
            if module is not None:
                module.release()
        self._modules.clear()
        self._remembered.clear()

    def loaded(self) -> list[ModuleInfo]:
        return [m for m in self._modules.values() if m is not None]

    def _diagnose(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)

    # ------------------------------------------------------------------ resolution
    def resolve(self, qualified: str, _depth: int = 0) -> Optional[Resolution]:
        """The repo-local definition ``qualified`` names, following re-exports.

        Returns the symbol and the attribute path left over (``pkg.CONFIG.lr`` ->
        the ``CONFIG`` constant and ``("lr",)``), or None for third-party names.
        """
        if _depth > 20 or not qualified:
            return None
        if _depth == 0:
            return self._resolve_once(qualified)
        return self._resolve(qualified, _depth)

    def _resolve_once(self, qualified: str) -> Optional[Resolution]:
        """:meth:`resolve`, memoised: a name is resolved once per index."""
        return self.remember(("resolve", qualified), lambda: self._resolve(qualified, 0))

    def remember(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, once per index for each ``key``: every later call replays into
        the current recorder what the first one looked at, so a unit's record stays
        complete whichever unit in this process computed it first."""
        found = self._remembered.get(key)
        if found is None:
            outer, self.recorder = self.recorder, Recorder()
            try:
                value = compute()
            finally:
                touched, self.recorder = self.recorder, outer
            found = self._remembered[key] = (value, touched)
        if self.recorder is not None:
            self.recorder.update(found[1])
        return found[0]  # type: ignore[no-any-return]

    def _resolve(self, qualified: str, _depth: int) -> Optional[Resolution]:
        """Python's own reading of a dotted name: the longest prefix that is a module of the
        tree, then attributes of it -- except that a name a package's ``__init__`` binds
        shadows the submodule of the same name (``steps.trainer`` is the function when
        ``steps/__init__.py`` does ``from .trainer import trainer``)."""
        if qualified in self._active:
            return None  # an import cycle: Python would fail on it too
        self._active.add(qualified)
        try:
            return self._lookup(qualified.split("."), _depth)
        finally:
            self._active.discard(qualified)

    def _lookup(self, parts: list[str], _depth: int) -> Optional[Resolution]:
        for cut in range(len(parts), 0, -1):
            module_name = ".".join(parts[:cut])
            if not self.has_module(module_name):
                continue
            rest = tuple(parts[cut:])
            if not rest:
                shadow = self._shadowing(parts[: cut - 1], parts[cut - 1], _depth) if cut > 1 else _UNBOUND
                if shadow is not _UNBOUND:
                    return shadow  # type: ignore[no-any-return]
            module = self.module(module_name)
            if module is None:
                return None
            if not rest:
                return Symbol(module, "", "module", None), ()
            found = self._attribute(module, rest[0], _depth)
            if found is _UNBOUND:
                if cut > 1 and self._shadowing(parts[: cut - 1], parts[cut - 1], _depth) is not _UNBOUND:
                    # ``import steps.trainer`` then ``steps.trainer.with_options``: the attribute
                    # path through the package's binding, as Python evaluates it
                    continue
                return None
            if found is None:
                return None
            return found[0], found[1] + rest[1:]
        return self._orphan(parts, _depth)

    def _orphan(self, parts: list[str], _depth: int) -> Optional[Resolution]:
        """``mypkg.utils.clean`` when the tree has ``src/mypkg/`` but no root holds ``src``:
        the files there, not a third-party name (a PV020 diagnostic tells the user which
        root to add). Only trees with such packages pay for the look-up."""
        if self._orphans is None:
            self._orphans = orphan_packages(self.by_module)
        prefix = self._orphans.get(parts[0])
        if prefix is None:
            return None
        # no dependency to record: the cache keys every entry by the tree's orphans
        # (AnalysisCache.use_layout), so a change to them misses every entry anyway
        return self.resolve(".".join((prefix, *parts)), _depth + 1)

    def _shadowing(self, package: list[str], name: str, _depth: int) -> Any:
        """What ``package``'s ``__init__`` binds ``name`` to (a resolution, or None for a
        third-party thing), or ``_UNBOUND`` when it binds nothing of that name or binds the
        submodule itself (``from . import trainer``)."""
        package_name = ".".join(package)
        if not self.has_module(package_name):
            return _UNBOUND
        module = self.module(package_name)
        if module is None or not module.source.is_package:
            return _UNBOUND
        found = self._attribute(module, name, _depth)
        if found is _UNBOUND or (found is not None and found[0].kind == "module" and not found[1]
                                 and found[0].module.name == f"{package_name}.{name}"):
            return _UNBOUND
        return found

    def _attribute(self, module: ModuleInfo, name: str, _depth: int) -> Any:
        """``module.name``: a resolution, None (bound to something outside the tree), or
        ``_UNBOUND`` (the module binds no such name, directly or through ``*`` imports)."""
        symbol = module.symbol(name)
        if symbol is None:
            star = self.resolve_star(module, name, _depth + 1)
            return _UNBOUND if star is None else star
        if symbol.kind == "import":
            target = module.import_target(symbol)
            if target == module.name:
                return None  # ``import x`` inside x itself
            if target == f"{module.name}.{name}":
                # ``from . import trainer`` in a package: the submodule itself (if the tree has it)
                if not module.source.is_package or not self.has_module(target):
                    return None
                submodule = self.module(target)
                return (Symbol(submodule, "", "module", None), ()) if submodule is not None else None
            return self.resolve(target, _depth + 1)
        return symbol, ()

    def resolve_star(self, module: ModuleInfo, name: str, _depth: int = 0) -> Optional[Resolution]:
        """``name`` as brought in by a ``from x import *`` of ``module``, if x is in the tree
        and exports it (its literal ``__all__``, else its names without a leading ``_``)."""
        if _depth > 20:
            return None
        stars = [s for key, group in module.symbols.items() if key.startswith("*") for s in group]
        for symbol in reversed(stars):  # a later star import overrides an earlier one
            target = module.import_target(symbol)
            if target == module.name or not self.has_module(target):
                continue  # ``from . import *`` in a package's own __init__, or a third-party module
            source = self.module(target)
            if source is None or not source.exports(name):
                continue
            found = self.resolve(f"{target}.{name}", _depth + 1)
            if found is not None:
                return found
        return None


_UNBOUND: Any = object()  # "no binding of that name", as opposed to None: "bound outside the tree"


class _ScriptNames:
    """Names a script's imports bind, as Python finds them when it runs the script.

    ``python flows/bot/intake.py`` (and Prefect loading the flow from that file) puts
    ``flows/bot/`` first on ``sys.path``, so ``from helpers import get_env_vars`` there is
    ``flows/bot/helpers.py`` -- not a third-party name: read as one, an edit to the task
    it defines would pass as ``run``. The rewrite applies to a file in a folder that is not
    a package, for an absolute import whose first name is no module of the tree and is a
    module (or package) in that folder. Every look-up is made through ``has_module``, so a
    unit records what the rewrite depended on (a sibling added or removed later, or an
    ``__init__.py`` that makes the folder a package, invalidates its cache entry).
    """

    def __init__(self, index: ProjectIndex, file: SourceFile) -> None:
        self._index = index
        self._folder = file.package
        self._own = file.module.rpartition(".")[2]
        self._tops: Optional[frozenset[str]] = None  # first names of the module's absolute imports

    def __call__(self, info: ModuleInfo, name: str) -> str:
        # the module is passed in, not kept: no reference cycle holds its syntax tree
        top = name.partition(".")[0]
        if self._tops is None:
            self._tops = frozenset(s.target.partition(".")[0] for group in info.symbols.values()
                                   for s in group if s.kind in ("import", "star"))
        if top not in self._tops or top == self._own:
            return name
        index = self._index
        if index.has_module(self._folder) or index.has_module(top):
            return name  # a package's module (imported, not run), or a module of the tree wins
        sibling = f"{self._folder}.{top}"
        if not index.has_module(sibling):
            return name
        return sibling + name[len(top):]


def _reparse(previous: tuple[str, cst.Module], text: str) -> Optional[cst.Module]:
    try:
        return reparse(previous[1], previous[0], text)
    except Exception:  # noqa: BLE001 - never worse than parsing the whole text
        return None


def source_encoding(data: bytes) -> str:
    """The encoding a source file declares (PEP 263, or a BOM); UTF-8 when the declaration
    is unreadable -- decoding then fails and says so."""
    try:
        return tokenize.detect_encoding(BytesIO(data).readline)[0]
    except SyntaxError:
        return "utf-8"


def parse(file: SourceFile, data: bytes, diagnose,  # type: ignore[no-untyped-def]
          previous: Optional[tuple[str, cst.Module]] = None) -> Optional[ModuleInfo]:
    """Decode and parse one file; a file that cannot be becomes a diagnostic. ``previous``:
    the text and tree of the file's previous version, whose unchanged statements are kept
    (:func:`pvcheck.analyzer.splice.reparse`)."""
    encoding = source_encoding(data)
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        line = data.count(b"\n", 0, exc.start) + 1 if isinstance(exc, UnicodeDecodeError) else 1
        diagnose(Diagnostic(NOT_TEXT, Severity.ERROR, f"file is not valid {encoding}", file.path, line,
                            hint="save it as UTF-8 or fix its coding declaration"))
        return None
    if text.startswith("\ufeff"):
        text = text[1:]
    too_deep = nesting_diagnostic(file.path, text)  # libcst's parser would crash the process on it
    if too_deep is not None:
        diagnose(too_deep)
        return None
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        tree = _reparse(previous, text) if previous is not None else None
        if tree is None:
            tree = cst.parse_module(text)
    except Exception as exc:  # libcst raises ParserSyntaxError, and sometimes others on odd input
        diagnose(parse_error_diagnostic(file.path, exc, text))
        return None
    finally:
        sys.setrecursionlimit(limit)
    return ModuleInfo(file, tree, text)
