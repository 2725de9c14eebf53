"""What each Dagster pipeline depends on, out of everything the asset registry looked at.

The registry (:class:`~pvcheck.analyzer.frameworks.dagster.AssetRegistry`) is built from
every Dagster module of the tree. A pipelines unit that replayed the whole build's record
depended on every one of those files: in a history walk, any edit to any asset module
re-ran every job of every code location (a third of ``history``'s time on a repository of
several locations). Here each piece of the build keeps a record of its own -- what it
looked at (:class:`~pvcheck.analyzer.index.Recorder`) and what it reported -- and a unit
depends on the pieces its pipelines used:

* an asset job, a ``Definitions(assets=...)`` list, a ``load_from_defs_folder`` location
  and an asset module whose assets a location loads (but see below) depend on the
  :meth:`location record <Pieces.location>` of their code location: the module that
  defines it, how its asset list (or ``defs`` package) was resolved, every module that
  could hold one of its assets (a module of a loaded package with none still counts: it
  may gain one), and each of its assets' own module and upstream keys. An asset job also
  depends on which location it belongs to (:meth:`Scope.claims`): how the set of locations
  was found (the files holding a location's marker text, with their bytes:
  :data:`LOCATION_MARKERS`; the file list; what each location's ``jobs=`` and ``defs``
  package resolution and the workspace files looked at). An edit to an asset of another
  location, or to a module no location loads, leaves the unit reused; any edit that could
  change which assets the location holds, their keys, groups or code (a new asset in a
  group a job selects, a changed selected asset) re-runs it. The unit's selection itself
  runs in the unit, recorded.
* an asset module of a dg project's ``defs`` package needs of its location only that it
  loads the module's assets, whatever the other modules hold: it depends on which package
  the location loads and the module that makes it (:meth:`Pieces.loads`), even when the
  location's record does not stand on its own. A ``Definitions`` of such a module, merged
  into the project's location, depends on the location it makes on its own: its own asset
  list. (dagster-open-platform, where each module of the package has its own
  ``Definitions``: 16 units fewer ran at each commit, 12 instead of 28.)
* anything else (a ``@job`` and its resources, assets in no location, a location whose
  list names assets by key across the whole tree) depends on the whole build, as before.

Diagnostics travel with their pieces: a unit reports those of the pieces it depends on;
one that depends on the whole build reports all of them. Every piece is some unit's (an
asset module's part is its own unit's), so a scan reports what it reported before.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator, Optional

from pvcheck.analyzer.index import Recorder
from pvcheck.model import Diagnostic

if TYPE_CHECKING:
    from pvcheck.analyzer.context import AnalysisContext
    from pvcheck.analyzer.frameworks.dagster_locations import Location

#: Text every module that defines a code location holds (qualified names are made of a
#: file's own import and attribute names): ``Definitions(...)``, ``load_from_defs_folder``,
#: ``load_defs``.
LOCATION_MARKERS = ("Definitions", "load_from_defs_folder", "load_defs")


@dataclass
class Piece:
    """What one part of the registry's build looked at, and what it reported."""

    record: Recorder = field(default_factory=Recorder)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def add(self, other: "Piece") -> None:
        self.record.update(other.record)
        self.diagnostics.extend(d for d in other.diagnostics if d not in self.diagnostics)


@contextmanager
def capturing(ctx: "AnalysisContext") -> Iterator[Piece]:
    """What the block looks at and reports, kept apart (and passed on to the outer record
    and sink, as if nothing had been kept)."""
    index = ctx.index
    piece = Piece()
    outer, index.recorder = index.recorder, piece.record
    try:
        with ctx.reporting_into(piece.diagnostics):
            yield piece
    finally:
        index.recorder = outer
        if outer is not None:
            outer.update(piece.record)
        ctx.report(piece.diagnostics)


class Pieces:
    """The registry's pieces: per asset module, per asset's upstream keys, per location."""

    def __init__(self) -> None:
        self.whole: Optional[Piece] = None  # the build's own record and every diagnostic
        self.only_whole = False  # the build read what no piece accounts for (workspace files, ...)
        self.structure = Piece()  # how the set of locations was found
        self.parts: dict[str, Piece] = {}  # module name -> its assets (AssetRegistry._module_part)
        self.upstream: dict[str, Piece] = {}  # asset (qualified name) -> its upstream keys
        self.built: dict[int, Piece] = {}  # id(Location) -> how its asset list was resolved
        self.unscoped: set[int] = set()  # id(Location) of those that used the whole tree
        self.packages: dict[int, Piece] = {}  # id(Location) of a dg project's -> which package it loads
        self._locations: dict[int, Optional[Piece]] = {}

    def folder(self, location: "Location", claims: Piece) -> None:
        """A dg project's location: ``claims`` found its ``defs`` package, its module makes it."""
        found = Piece()
        found.add(claims)
        found.record.modules.add(location.module.name)
        self.packages[id(location)] = found

    def loads(self, location: "Location", home: str) -> Optional[Piece]:
        """What makes ``location`` load the assets of module ``home`` whatever else the tree
        holds: for a dg project's location and a module of its ``defs`` package, which
        package that is (a module under it is loaded, whatever its assets); None otherwise."""
        if self.only_whole or not location.package or not (home + ".").startswith(location.package + "."):
            return None
        return self.packages.get(id(location))

    def location(self, location: "Location") -> Optional[Piece]:
        """Everything the location's assets, as loaded, depend on; None: the whole build."""
        key = id(location)
        if key in self._locations:
            return self._locations[key]
        found: Optional[Piece] = None
        built = self.built.get(key)
        if not self.only_whole and key not in self.unscoped and built is not None:
            found = Piece()
            found.add(built)
            for node in location.nodes:
                found.add(self.parts.get(node.home.name) or Piece())
                found.add(self.upstream.get(node.qualified) or Piece())
        self._locations[key] = found
        return found


class Scope:
    """What one pipelines unit depends on, filled while it makes its pipelines."""

    def __init__(self, pieces: Pieces) -> None:
        self.pieces = pieces
        self.whole = pieces.only_whole
        self.used: list[Piece] = []

    def everything(self) -> None:
        self.whole = True

    def location(self, location: Optional["Location"]) -> None:
        found = self.pieces.location(location) if location is not None else None
        if found is None:
            self.whole = True
        else:
            self.used.append(found)

    def loaded(self, location: Optional["Location"], home: str) -> None:
        """That ``location`` loads an asset of the unit's own module ``home``, so that no
        pipeline of the unit shows it: which package a dg project's location loads
        (:meth:`Pieces.loads`), or else everything the location's assets depend on."""
        found = self.pieces.loads(location, home) if location is not None else None
        if found is None:
            self.location(location)
        else:
            self.used.append(found)

    def claims(self) -> None:
        """Which location an asset job belongs to: how the set of locations was found."""
        self.used.append(self.pieces.structure)

    def part(self, module: str) -> None:
        """The unit's own module's assets (and their upstream keys) are its to report."""
        part = self.pieces.parts.get(module)
        if part is not None:
            self.used.append(part)

    def upstream(self, qualified: str) -> None:
        found = self.pieces.upstream.get(qualified)
        if found is not None:
            self.used.append(found)

    def commit(self, ctx: "AnalysisContext") -> None:
        """Into the unit: the record of what it used, and what that reported."""
        chosen = [self.pieces.whole] if self.whole and self.pieces.whole is not None else self.used
        recorder = ctx.index.recorder
        # each once: a module's assets all name their location's piece
        for piece in {id(piece): piece for piece in chosen}.values():
            if recorder is not None:
                recorder.update(piece.record)
            ctx.report(piece.diagnostics)


__all__ = ["LOCATION_MARKERS", "Piece", "Pieces", "Scope", "capturing"]
