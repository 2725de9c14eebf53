"""Dagster code locations: where an asset job's selection is resolved.

A repository may hold several code locations -- a ``Definitions(...)`` (module level or
returned by an ``@definitions`` factory), a dg project's ``defs`` folder, or a module a
workspace file names -- and Dagster resolves an asset job's selection among the assets
of the location that loads the job, as that location loads them (key prefixes and groups
of its loaders). Resolving it among every asset of the tree made one job absorb the
assets of all the others.

Workspace files, at the scanned root (read with ``yaml.safe_load`` / ``tomllib``):
``workspace.yaml`` (``load_from:`` entries ``python_module`` / ``python_file`` /
``python_package``, each a name or a mapping with ``module_name`` / ``relative_path`` /
``package_name``, ``working_directory``, ``location_name``), ``dagster_cloud.yaml``
(``locations:`` with ``code_source`` and ``build.directory`` / ``working_directory``) and
``[tool.dagster]`` of ``pyproject.toml`` (``module_name``, ``python_file``,
``package_name``, ``working_directory``, ``code_location_name``). A named module that holds
a ``Definitions`` is that location already; one without is a location of its module-level
definitions, as Dagster loads it: assets defined or imported there, assets its
module-level ``load_assets_from_*`` calls load, and its asset jobs (defined or imported).
The files are dependencies of the result (a change to them is noticed by the cache).
"""

from __future__ import annotations

import posixpath
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Optional

import yaml

import libcst as cst

from pvcheck.analyzer.frameworks.dagster_scope import Piece, Pieces, capturing
from pvcheck.analyzer.module import ModuleInfo
from pvcheck.diagnostics import NOT_FOLLOWED
from pvcheck.model import Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

if TYPE_CHECKING:
    from pvcheck.analyzer.context import AnalysisContext
    from pvcheck.analyzer.frameworks.dagster import AssetNode
    from pvcheck.analyzer.index import ProjectIndex

#: The workspace files read, at the scanned root.
WORKSPACE_FILES = ("workspace.yaml", "dagster_cloud.yaml", "pyproject.toml")


@dataclass
class Location:
    """A Dagster code location: a ``Definitions(...)`` (module level or returned by an
    ``@definitions`` factory) or a dg project's ``defs`` folder."""

    module: ModuleInfo
    call: Optional[cst.Call]  # None for a module a workspace file names (no Definitions call)
    nodes: list["AssetNode"]  # its assets as it loads them (loader key prefixes and groups applied)
    dynamic: bool  # part of its asset list could not be followed
    package: str  # a dg project's defs package, whose jobs belong here ("" for a Definitions)
    jobs: set[int]  # id() of the define_asset_job calls its jobs=[...] lists
    name: str = ""  # the location name a workspace file gives


@dataclass(frozen=True)
class WorkspaceEntry:
    """A code location a workspace file names."""

    name: str  # location name ("" when the file gives none)
    module: str  # dotted module or package name ("" for a file)
    file: str  # a Python file, relative to ``folder`` ("" for a module)
    folder: str  # the working directory, relative to the scanned root ("" for the root)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _folder(value: Any) -> str:
    """A working directory relative to the root, normalised; "" for the root or for one
    that leaves the tree (never followed)."""
    folder = posixpath.normpath(_text(value).replace("\\", "/")) if _text(value) else "."
    return "" if folder == "." or folder.startswith("..") or folder.startswith("/") else folder


def _workspace_yaml(document: Any) -> list[WorkspaceEntry]:
    entries = []
    for item in document.get("load_from") or [] if isinstance(document, dict) else []:
        if not isinstance(item, dict):
            continue
        for kind, key in (("python_module", "module_name"), ("python_package", "package_name"),
                          ("python_file", "relative_path")):
            value = item.get(kind)
            spec = value if isinstance(value, dict) else {key: value}
            target = _text(spec.get(key))
            if target:
                entries.append(WorkspaceEntry(_text(spec.get("location_name")),
                                              target if kind != "python_file" else "",
                                              target if kind == "python_file" else "",
                                              _folder(spec.get("working_directory"))))
    return entries


def _dagster_cloud_yaml(document: Any) -> list[WorkspaceEntry]:
    entries = []
    for item in document.get("locations") or [] if isinstance(document, dict) else []:
        source = item.get("code_source") if isinstance(item, dict) else None
        if not isinstance(source, dict):
            continue
        build = item.get("build") if isinstance(item.get("build"), dict) else {}
        folder = _folder(item.get("working_directory") or build.get("directory"))
        module = _text(source.get("module_name")) or _text(source.get("package_name"))
        file = _text(source.get("python_file"))
        if module or file:
            entries.append(WorkspaceEntry(_text(item.get("location_name")), module, file, folder))
    return entries


def _tool_dagster(document: Any) -> list[WorkspaceEntry]:
    tool = document.get("tool", {}).get("dagster") if isinstance(document.get("tool"), dict) else None
    if not isinstance(tool, dict):
        return []
    module = _text(tool.get("module_name")) or _text(tool.get("package_name"))
    file = _text(tool.get("python_file"))
    if not (module or file):
        return []
    return [WorkspaceEntry(_text(tool.get("code_location_name")), module, file, _folder(tool.get("working_directory")))]


def workspace_entries(root: Path, index: "ProjectIndex") -> list[WorkspaceEntry]:
    """The code locations the workspace files at ``root`` name. Each file is recorded as
    a dependency first (present or not), so adding, editing or removing one is noticed;
    a file that is not valid YAML or TOML names none."""
    entries: list[WorkspaceEntry] = []
    for name in WORKSPACE_FILES:
        # parsed once per index while its bytes stay (the record names the file): a
        # history walk rebuilds the registry often, and YAML parsing is slow
        entries.extend(index.remember(("dagster-workspace-file", name), lambda: _file_entries(root, index, name)))
    return entries


def _file_entries(root: Path, index: "ProjectIndex", name: str) -> tuple[WorkspaceEntry, ...]:
    if index.data_file_state(name).endswith(":absent"):
        return ()
    try:
        text = (root / name).read_text(encoding="utf-8")
        document = tomllib.loads(text) if name.endswith(".toml") else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError):
        return ()
    if not isinstance(document, dict):
        return ()
    reader = {"workspace.yaml": _workspace_yaml, "dagster_cloud.yaml": _dagster_cloud_yaml}.get(name, _tool_dagster)
    return tuple(reader(document))



class CodeLocations:
    """The code-location half of :class:`~pvcheck.analyzer.frameworks.dagster.AssetRegistry`
    (which holds ``nodes``, ``locations``, ``components`` and the selection methods)."""

    ctx: "AnalysisContext"
    nodes: list["AssetNode"]
    locations: list[Location]
    components: list[str]
    _depth: int
    by_symbol: dict[str, "AssetNode"]
    pieces: Pieces

    def _add_location(self, location: Location, built: Piece) -> None:
        raise NotImplementedError  # AssetRegistry's

    def location_of(self, module: ModuleInfo, call: cst.Call) -> tuple[list[AssetNode], bool]:
        """The assets of the code location an asset job belongs to, as that location loads
        them: the ``Definitions`` whose ``jobs=`` lists it, else the dg ``defs`` package
        that holds it, else the location defined nearest to it in the package tree; every
        asset of the tree when the repository defines no location at all."""
        claimed = self.claiming(module, call)
        if claimed is None:
            if not self.locations:
                return self.nodes, False
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

    def claiming(self, module: ModuleInfo, call: cst.Call) -> Optional[list[Location]]:
        """The code locations an asset job belongs to (see :meth:`location_of`); None
        when none does."""
        if not self.locations:
            return None
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
        return claimed or None

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

    def add_workspace_locations(self) -> None:
        """A location for each module a workspace file names that holds no ``Definitions``
        location already (one that does is that location; its name is noted)."""
        for entry in workspace_entries(Path(self.ctx.root), self.ctx.index):
            module = self._entry_module(entry)
            if module is None:
                continue  # an installed package, or a file outside the scanned tree
            known = next((loc for loc in self.locations if loc.module is module), None)
            if known is not None:
                known.name = known.name or entry.name
                continue
            with capturing(self.ctx) as read:
                nodes, jobs = self._module_level(module)
            self.pieces.structure.add(read)  # the jobs it holds: whichever location another job is in
            self._add_location(Location(module, None, nodes, False, "", jobs, entry.name), read)

    def _entry_module(self, entry: WorkspaceEntry) -> Optional[ModuleInfo]:
        """The tree's module an entry names: by file under its working directory first,
        then by module name as the tree's roots name it."""
        index = self.ctx.index
        prefix = f"{entry.folder}/" if entry.folder else ""
        if entry.file:
            wanted = [posixpath.normpath(prefix + entry.file)]
        else:
            base = prefix + entry.module.replace(".", "/")
            wanted = [f"{base}.py", f"{base}/__init__.py"]
        by_path = {f.path: f for f in index.files}
        for path in wanted:
            if path in by_path:
                return index.module(by_path[path].module)
        if entry.module and index.has_module(entry.module):
            return index.module(entry.module)
        return None

    def _module_level(self, module: ModuleInfo) -> tuple[list["AssetNode"], set[int]]:
        """What Dagster finds at the top level of a module loaded without a ``Definitions``:
        assets defined or imported there, those its ``load_assets_from_*`` calls load, and
        the asset jobs bound there (defined or imported)."""
        from pvcheck.analyzer.frameworks.dagster import DEFINE_ASSET_JOB, LOAD_FROM_MODULES, LOAD_FROM_PACKAGE

        nodes: list[AssetNode] = []
        jobs: set[int] = set()
        for name in module.symbols:
            symbol = module.symbol(name)
            if symbol is None or name.startswith("*"):
                continue
            if symbol.kind == "import":
                resolved = self.ctx.index.resolve(symbol.target)
                if resolved is None or resolved[1]:
                    continue
                symbol = resolved[0]
            if symbol.kind == "function":
                found = self.by_symbol.get(symbol.qualified_name)
                if found is not None:
                    nodes.append(found)
            elif symbol.kind == "constant" and isinstance(symbol.node, (cst.Assign, cst.AnnAssign)):
                value = symbol.node.value
                if not isinstance(value, cst.Call) or not isinstance(value.func, (cst.Name, cst.Attribute)):
                    continue
                names = symbol.module.qualified_names(value.func)
                if names & DEFINE_ASSET_JOB:
                    jobs.add(id(value))
                elif names & (LOAD_FROM_MODULES | LOAD_FROM_PACKAGE):
                    nodes.extend(self._loaded(value, symbol.module))
        return list({n.qualified: n for n in nodes}.values()), jobs

    def _defs_package(self, module: ModuleInfo, call: cst.Call) -> str:
        """The ``defs`` package ``load_from_defs_folder(...)`` / ``load_defs(defs_module)``
        loads ("" when it is not in the scanned tree)."""
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
        return package

    def _defs_folder(self, module: ModuleInfo, call: cst.Call, package: str) -> Optional["Location"]:
        """``load_from_defs_folder(...)`` / ``load_defs(defs_module)``: a dg project, whose
        location is every asset under its ``defs`` package (:meth:`_defs_package`)."""
        if not package:
            self._not_followed(module, call, "a dg project's defs folder that is not in the scanned tree")
            return None
        self._candidate_modules(package, True)
        nodes = [n for n in self.nodes if (n.home.name + ".").startswith(package + ".")]
        # components (YAML, or Python classes) build definitions at run time: a job of this
        # location may select assets no graph shows
        dynamic = any((name + ".").startswith(package + ".") for name in self.components)
        source = self.ctx.index.by_module.get(package)
        if source is not None:
            folder = PurePosixPath(source.path).parent.as_posix()
            found: set[str] = set()
            for name in ("defs.yaml", "component.yaml"):
                pattern = f"{folder}/**/{name}" if folder != "." else f"**/{name}"
                # a dependency of whatever this feeds (the registry, the units): a YAML
                # component added, edited or removed must not let a cached result be reused
                found.update(self.ctx.index.data_files(pattern))
            for relative in sorted(found):
                dynamic = True
                self.ctx.diagnose(NOT_FOLLOWED, Severity.WARNING, "cannot follow statically: definitions a YAML "
                                  "component builds at run time: its assets are in no graph", relative, 1,
                                  hint="pvcheck fingerprints this conservatively: any change to it is a new version")
        return Location(module, call, nodes, dynamic, package, set())

