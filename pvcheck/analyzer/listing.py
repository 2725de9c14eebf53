"""What a scan reads from disk before it analyzes anything, and how a history walk keeps it.

A scan starts by finding its source roots, walking the folders for ``.py`` files and
reading each one (:func:`read_listing`). A history walk does that at every commit, over a
tree where a commit edits a few files: walking and reading the whole tree again cost
more than the analysis of the edit on the larger public repositories. While a
:class:`ListingMemo` is active (:func:`tracking`) and the walk tells it every change it
makes to the folder (:meth:`ListingMemo.note`), a scan of that folder takes the last
listing with the edited files read again: the same files, bytes, diagnostics and line
counts a fresh walk finds. Only edits of files the listing holds, and of files no walk
or root detection looks into, are taken that way; a file added or deleted, or an edited
project file (``pyproject.toml`` ...), makes the next scan read everything again.

Nothing here imports libcst.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Iterable, Iterator, Optional

from pvcheck.analyzer.discovery import PROJECT_FILES, SourceFile, discover
from pvcheck.analyzer.roots import detect_roots
from pvcheck.analyzer.sources import count_lines, read_source
from pvcheck.config import Config
from pvcheck.model import Diagnostic


@dataclass
class Listing:
    """The source files of a folder and their bytes, as one scan read them."""

    root: Path
    config: Config  # the configuration it was read with
    roots: tuple[str, ...]  # the source roots: the configuration's, or the ones detected
    files: list[SourceFile]
    projects: set[str]  # folders holding a project file (discovery's ``projects``)
    found: list[Diagnostic]  # what detecting the roots and walking the folders reported
    contents: dict[str, Optional[bytes]]
    problems: dict[str, Diagnostic] = field(default_factory=dict)  # path -> why its bytes are unusable
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """Every diagnostic, in the order a fresh read reports them."""
        return [*self.found, *(self.problems[f.path] for f in self.files if f.path in self.problems)]

    @property
    def line_count(self) -> int:
        return sum(self.lines.values())

    def _read(self, file: SourceFile) -> None:
        data, problem = read_source(file, self.config.max_file_size)
        self.contents[file.path] = data
        self.problems.pop(file.path, None)
        if problem is not None:
            self.problems[file.path] = problem
        self.lines[file.path] = count_lines(data) if data is not None else 0

    def refreshed(self, edited: Iterable[str]) -> Optional["Listing"]:
        """This listing after the files at ``edited`` (paths it holds) changed bytes, or
        None when one of them is not one of its files or cannot be looked at now."""
        positions = {file.path: number for number, file in enumerate(self.files)}
        files = list(self.files)
        fresh = replace(self, files=files, contents=dict(self.contents), problems=dict(self.problems),
                        lines=dict(self.lines))
        for path in sorted(edited):
            number = positions.get(path)
            if number is None:
                return None
            try:
                size = files[number].absolute.stat().st_size  # what the walk would find
            except OSError:
                return None
            files[number] = replace(files[number], size=size)
            fresh._read(files[number])
        return fresh


def read_listing(root: Path, config: Config) -> Listing:
    """The source roots, files and bytes of the folder ``root``, read from disk."""
    found: list[Diagnostic] = []
    roots = tuple(config.roots) or detect_roots(root, found)
    projects: set[str] = set()
    files = discover(root, roots, config.exclude, found, projects)
    listing = Listing(root, config, roots, files, projects, found, {})
    for file in files:
        listing._read(file)
    return listing


class ListingMemo:
    """The last listing a scan read, with what changed in its folder since (see the module
    docstring). Whoever activates it notes every change to the folder: a scan of the same
    folder with the same configuration reads again only the files noted as edited."""

    def __init__(self) -> None:
        self._last: Optional[Listing] = None
        self._edited: set[str] = set()
        self._moved = False  # a file added or deleted, a project file edited

    def note(self, changes: Iterable[tuple[str, bool]]) -> None:
        """Files of the folder changed: (path from the root, whether only its bytes did:
        it existed before and exists after)."""
        for path, edited in changes:
            if not edited or PurePosixPath(path).name in PROJECT_FILES:
                self._moved = True
            elif path.endswith(".py"):
                self._edited.add(path)
            # another file's bytes: no walk and no root detection reads them

    def listing(self, root: Path, config: Config) -> Listing:
        last = self._last
        found: Optional[Listing] = None
        if last is not None and not self._moved and last.root == root and last.config == config:
            found = last.refreshed(self._edited)
        if found is None:
            found = read_listing(root, config)
        self._last, self._edited, self._moved = found, set(), False
        return found


_ACTIVE: Optional[ListingMemo] = None


def active() -> Optional[ListingMemo]:
    """The memo scans in this process take their listing from now, if any."""
    return _ACTIVE


@contextmanager
def tracking() -> Iterator[ListingMemo]:
    """Scans inside the block take their listing from one :class:`ListingMemo`: the caller
    must :meth:`~ListingMemo.note` every change it makes to the scanned folder."""
    global _ACTIVE
    previous, _ACTIVE = _ACTIVE, ListingMemo()
    current = _ACTIVE
    try:
        yield current
    finally:
        _ACTIVE = previous
