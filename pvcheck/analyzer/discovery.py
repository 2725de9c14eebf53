"""Finding the Python files of a tree and naming their modules.

Nothing here reads file contents beyond what ``os.scandir`` tells; files are read by
:mod:`pvcheck.analyzer.loader`.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from pvcheck.analyzer.roots import order_roots
from pvcheck.config import DEFAULT_EXCLUDES
from pvcheck.diagnostics import CANNOT_READ, ROOT_NOT_A_FOLDER, SYMLINK_LOOP
from pvcheck.model import Diagnostic, Severity


#: Files that make a folder a project of its own (its dependencies, its build settings).
PROJECT_FILES = frozenset({"pyproject.toml", "setup.py", "setup.cfg", "requirements.txt"})


@dataclass(frozen=True)
class SourceFile:
    """A ``.py`` file of the scanned tree."""

    path: str  # relative to the scanned root, with ``/``
    absolute: Path
    module: str  # dotted module name derived from the path below its source root
    is_package: bool  # an ``__init__.py``
    size: int
    # the sub-projects holding the file, nearest first: (their module prefix, the top-level
    # names its absolute imports find there); see pvcheck.analyzer.subprojects
    subprojects: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def layout_tag(self) -> str:
        """What, besides its path, module name and bytes, decides how the file's imports
        read: empty for every file outside a sub-project, so their states are unchanged."""
        return f"\0{self.subprojects!r}" if self.subprojects else ""

    @property
    def project_scope(self) -> str:
        """The module prefix of the sub-project the file belongs to ("": none, or one whose
        imports need nothing of it; pvcheck.analyzer.subprojects)."""
        return self.subprojects[0][0] if self.subprojects else ""

    def seen_from(self, scope: str) -> bool:
        """Whether code of the sub-project ``scope`` can import this file: the files of that
        project, and files of no sub-project. Another project of a collection is not on
        its path (its packages are third-party there), so what registers itself there on
        import (a ZenML materializer) does not register here."""
        return not scope or not self.subprojects or self.module.startswith(scope + ".")

    @property
    def package(self) -> str:
        """The package relative imports in this file are resolved against."""
        if self.is_package:
            return self.module
        return self.module.rpartition(".")[0]


def module_name(relative_to_source_root: str) -> tuple[str, bool]:
    """``pkg/sub/mod.py`` -> (``pkg.sub.mod``, False); ``pkg/__init__.py`` -> (``pkg``, True)."""
    parts = relative_to_source_root[: -len(".py")].split("/")
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package


class _Excludes:
    """The exclude globs, compiled once: a name or a relative path matching any glob, or a
    path under a ``folder/**`` one, is skipped. One regular expression for all the globs
    instead of two ``fnmatch`` calls per glob and entry (discovery runs before anything
    else, so its time adds to every scan's)."""

    def __init__(self, patterns: Iterable[str]) -> None:
        patterns = tuple(patterns)
        self._any = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns)) if patterns else None
        self._folders = tuple(p[:-3] for p in patterns if p.endswith("/**"))

    def __call__(self, relative: str, name: str) -> bool:
        if self._any is not None and (self._any.match(name) or self._any.match(relative)):
            return True
        return any(relative == folder or relative.startswith(folder + "/") for folder in self._folders)


def discover(
    root: Path,
    source_roots: Iterable[str] = (".",),
    exclude: Iterable[str] = (),
    diagnostics: list[Diagnostic] | None = None,
    projects: set[str] | None = None,
) -> list[SourceFile]:
    """Every ``.py`` file under ``root``'s source roots, sorted by path.

    Hidden folders, virtual environments (a folder holding ``pyvenv.cfg``), ``build``,
    ``dist`` and the ``exclude`` globs are skipped. Symlink loops and unreadable folders
    become diagnostics. ``projects``, when given, receives every walked folder (relative
    to ``root``) that holds a project file (:data:`PROJECT_FILES`): read from the listings
    the walk makes anyway, not with more system calls.
    """
    sink: list[Diagnostic] = diagnostics if diagnostics is not None else []
    patterns = tuple(DEFAULT_EXCLUDES) + tuple(exclude)
    files: dict[str, SourceFile] = {}
    root = root.resolve()
    for source_root in order_roots(source_roots):  # the most specific root names a file
        base = (root / source_root).resolve()
        if not base.is_dir():
            sink.append(
                Diagnostic(ROOT_NOT_A_FOLDER, Severity.ERROR, f"source root '{source_root}' is not a folder", source_root,
                           hint="fix 'roots' in the pvcheck configuration")
            )
            continue
        for file in _walk(root, base, patterns, sink, projects):
            files.setdefault(file.path, file)
    return sorted(files.values(), key=lambda f: f.path)


def _walk(root: Path, base: Path, patterns: tuple[str, ...], sink: list[Diagnostic],
          projects: set[str] | None = None) -> Iterator[SourceFile]:
    excluded = _Excludes(patterns)
    root_prefix, base_prefix = os.path.join(str(root), ""), os.path.join(str(base), "")
    seen_dirs: set[tuple[int, int]] = set()
    stack = [base]
    while stack:
        folder = stack.pop()
        try:
            stat = folder.stat()
        except OSError as exc:
            sink.append(_io_diagnostic(root, folder, exc))
            continue
        key = (stat.st_dev, stat.st_ino)
        if key in seen_dirs:
            sink.append(
                Diagnostic(SYMLINK_LOOP, Severity.WARNING, "folder already scanned (a symlink loop, or a second link to it)", _rel(root, folder),
                           hint="remove the link or exclude it")
            )
            continue
        seen_dirs.add(key)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            sink.append(_io_diagnostic(root, folder, exc))
            continue
        if folder != base and any(entry.name == "pyvenv.cfg" for entry in entries):
            continue  # a virtual environment (looked up in the listing: a stat could fail)
        if projects is not None and any(entry.name in PROJECT_FILES for entry in entries):
            projects.add(_rel(root, folder))
        subfolders = []
        for entry in entries:
            path = entry.path
            # string slicing, not pathlib: a few microseconds per entry of a large tree
            relative = path[len(root_prefix):].replace(os.sep, "/") if path.startswith(root_prefix) \
                else _rel(root, Path(path))
            if excluded(relative, entry.name):
                continue
            try:
                is_dir = entry.is_dir()
                is_file = entry.is_file()
            except OSError as exc:
                if exc.errno == errno.ELOOP:  # a link to itself, or links pointing at each other
                    sink.append(Diagnostic(SYMLINK_LOOP, Severity.WARNING, "looping symlink", relative,
                                           hint="remove the link or exclude it"))
                else:
                    sink.append(_io_diagnostic(root, Path(entry.path), exc))
                continue
            if (is_dir or is_file) and entry.is_symlink() and not _is_below(Path(os.path.realpath(entry.path)), root):
                # not the project's code (and in a git revision, not that revision's): a link to
                # "/" or to a shared folder elsewhere would have pvcheck walk that instead
                if is_dir or entry.name.endswith(".py"):
                    sink.append(
                        Diagnostic(SYMLINK_LOOP, Severity.WARNING, "symlink to a place outside the scanned root; not "
                                   "followed", relative, hint="scan the folder it points to separately, or exclude it")
                    )
                continue
            if is_dir:
                subfolders.append(Path(entry.path))
            elif is_file and entry.name.endswith(".py"):
                try:
                    size = entry.stat().st_size
                except OSError as exc:
                    sink.append(_io_diagnostic(root, Path(entry.path), exc))
                    continue
                below_base = path[len(base_prefix):].replace(os.sep, "/") if path.startswith(base_prefix) \
                    else entry.name
                module, is_package = module_name(below_base)
                yield SourceFile(relative, Path(path), module, is_package, size)
            elif not is_file and not is_dir and entry.name.endswith(".py") and entry.is_symlink():
                sink.append(
                    Diagnostic(SYMLINK_LOOP, Severity.WARNING, "broken or looping symlink", relative,
                               hint="remove the link or exclude it")
                )
        stack.extend(reversed(subfolders))


def _is_below(path: Path, base: Path) -> bool:
    try:
        path.relative_to(base)
        return True
    except ValueError:
        return False


def _rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix() or "."
    except ValueError:
        return path.as_posix()


def _io_diagnostic(root: Path, path: Path, exc: OSError) -> Diagnostic:
    return Diagnostic(CANNOT_READ, Severity.ERROR, f"cannot read: {exc.strerror or exc}", _rel(root, path),
                      hint="check permissions, or exclude it")
