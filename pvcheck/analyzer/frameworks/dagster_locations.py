"""Dagster code locations: where an asset job's selection is resolved.

A repository may hold several code locations -- a ``Definitions(...)`` (module level or
returned by an ``@definitions`` factory) or a dg project's ``defs`` folder -- and Dagster
resolves an asset job's selection among the assets of the location that loads the job,
as that location loads them (key prefixes and groups of its loaders). Resolving it among
every asset of the tree made one job absorb the assets of all the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import libcst as cst

from pvcheck.analyzer.module import ModuleInfo
from pvcheck.diagnostics import NOT_FOLLOWED
from pvcheck.model import Severity

if TYPE_CHECKING:
    from pvcheck.analyzer.context import AnalysisContext
    from pvcheck.analyzer.frameworks.dagster import AssetNode


@dataclass
class Location:
    """A Dagster code location: a ``Definitions(...)`` (module level or returned by an
    ``@definitions`` factory) or a dg project's ``defs`` folder."""

    module: ModuleInfo
    call: cst.Call
    nodes: list["AssetNode"]  # its assets as it loads them (loader key prefixes and groups applied)
    dynamic: bool  # part of its asset list could not be followed
    package: str  # a dg project's defs package, whose jobs belong here ("" for a Definitions)
    jobs: set[int]  # id() of the define_asset_job calls its jobs=[...] lists



class CodeLocations:
    """The code-location half of :class:`~pvcheck.analyzer.frameworks.dagster.AssetRegistry`
    (which holds ``nodes``, ``locations``, ``components`` and the selection methods)."""

    ctx: "AnalysisContext"
    nodes: list["AssetNode"]
    locations: list[Location]
    components: list[str]
    _depth: int

    def location_of(self, module: ModuleInfo, call: cst.Call) -> tuple[list[AssetNode], bool]:
        """The assets of the code location an asset job belongs to, as that location loads
        them: the ``Definitions`` whose ``jobs=`` lists it, else the dg ``defs`` package
        that holds it, else the location defined nearest to it in the package tree; every
        asset of the tree when the repository defines no location at all."""
        if not self.locations:
            return self.nodes, False
        claimed = [loc for loc in self.locations if id(call) in loc.jobs]
        if not claimed:
            claimed = [loc for loc in self.locations
                       if loc.package and (module.name + ".").startswith(loc.package + ".")]
        if not claimed:
            # the location defined in the job's own package or the nearest one above it
            # (a dg project's location covers only its defs package, handled above)
            package = module.name.rpartition(".")[0]
            homes = [(loc.module.name.rpartition(".")[0], loc) for loc in self.locations if not loc.package]
            above = [(home, loc) for home, loc in homes if not home or (package + ".").startswith(home + ".")]
            if above:
                deepest = max(len(home) for home, _ in above)
                claimed = [loc for home, loc in above if len(home) == deepest]
        if not claimed:
            # in no location we can see (a lesson's copy, a location built at run time):
            # the assets of the nearest package around the job that has any
            parts = module.name.split(".")
            for cut in range(len(parts) - 1, -1, -1):
                prefix = ".".join(parts[:cut]) + "." if cut else ""
                nearby = [n for n in self.nodes if n.home.name.startswith(prefix)]
                if nearby:
                    return nearby, False
            return self.nodes, False
        nodes = list({n.qualified: n for loc in claimed for n in loc.nodes}.values())
        return nodes, any(loc.dynamic for loc in claimed)

    def job_assets(self, module: ModuleInfo, call: cst.Call,
                   selection: Optional[cst.BaseExpression]) -> tuple[list[AssetNode], bool]:
        """The assets an asset job selects within its code location, and whether part of
        the selection or of the location could not be followed."""
        nodes, dynamic = self.location_of(module, call)
        if selection is None:
            return list(nodes), dynamic  # Dagster: no selection means every asset of the location
        with self.scoped(nodes):
            chosen, not_followed = self.followed(lambda: self.select(selection, module, self.ctx))
        return chosen, dynamic or not_followed

    def _listed_jobs(self, expression: cst.BaseExpression, module: ModuleInfo) -> set[int]:
        """The ``define_asset_job`` calls a ``jobs=[...]`` names (directly or through constants)."""
        from pvcheck.analyzer.frameworks.dagster import DEFINE_ASSET_JOB
        found: set[int] = set()
        items = [e.value for e in expression.elements] if isinstance(expression, (cst.List, cst.Tuple)) \
            else [expression]
        for item in items:
            if isinstance(item, cst.Call) and isinstance(item.func, (cst.Name, cst.Attribute)) \
                    and module.qualified_names(item.func) & DEFINE_ASSET_JOB:
                found.add(id(item))
                continue
            constant = self._constant(item, module)
            if constant is not None:
                self._depth += 1
                try:
                    found |= self._listed_jobs(constant[0], constant[1])
                finally:
                    self._depth -= 1
        return found

    def _defs_folder(self, module: ModuleInfo, call: cst.Call) -> Optional["Location"]:
        """``load_from_defs_folder(...)`` / ``load_defs(defs_module)``: a dg project, whose
        location is every asset under its ``defs`` package."""
        from pvcheck.analyzer.frameworks.dagster import LOAD_DEFS_FOLDER, _keyword
        root = _keyword(call, "defs_root") or next((a for a in call.args if a.keyword is None), None)
        package = ""
        if root is not None and module.qualified_names(call.func) & {n for n in LOAD_DEFS_FOLDER if
                                                                      n.endswith(".load_defs")}:
            names = module.qualified_names(root.value) if isinstance(root.value, (cst.Name, cst.Attribute)) else set()
            resolved = self.ctx.index.resolve(next(iter(names))) if len(names) == 1 else None
            if resolved is not None and resolved[0].kind == "module" and not resolved[1]:
                package = resolved[0].module.name
        else:  # the project's defs package next to the module that loads it (dg's layout)
            parent = module.name.rpartition(".")[0]
            candidate = f"{parent}.defs" if parent else "defs"
            if self.ctx.index.has_module(candidate):
                package = candidate
        if not package:
            self._not_followed(module, call, "a dg project's defs folder that is not in the scanned tree")
            return None
        nodes = [n for n in self.nodes if (n.home.name + ".").startswith(package + ".")]
        # components (YAML, or Python classes) build definitions at run time: a job of this
        # location may select assets no graph shows
        dynamic = any((name + ".").startswith(package + ".") for name in self.components)
        source = self.ctx.index.by_module.get(package)
        if source is not None:
            folder = (Path(self.ctx.root) / source.path).parent
            for found in sorted([*folder.rglob("defs.yaml"), *folder.rglob("component.yaml")]):
                dynamic = True
                relative = found.relative_to(Path(self.ctx.root)).as_posix()
                self.ctx.diagnose(NOT_FOLLOWED, Severity.WARNING, "cannot follow statically: definitions a YAML "
                                  "component builds at run time: its assets are in no graph", relative, 1,
                                  hint="pvcheck fingerprints this conservatively: any change to it is a new version")
        return Location(module, call, nodes, dynamic, package, set())

