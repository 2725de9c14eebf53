"""Dagster: ops wired in ``@graph``/``@job`` bodies, and software-defined assets.

What Dagster does, and what this module mirrors statically:

* an op's name is ``name=`` or the function's name; inside a graph or job a repeated op
  becomes ``name_2``, ``name_3`` ... and ``op.alias("x")`` names the invocation ``x``
  (``InProgressCompositionContext.observe_invocation`` in ``composition.py``); an op inside
  a graph used in a job is ``graph.op``;
* an op's inputs are its parameters, except a leading ``context`` (``_``, ``_context``,
  ``context_``) and parameters typed as Config or resources; its outputs are the keys of
  ``out={...}``, else ``result`` (``DEFAULT_OUTPUT``);
* an asset's key is ``key=``, else ``key_prefix`` + (``name=`` or the function's name)
  (``resolve_asset_key_and_name_for_decorator``); each of its inputs is an upstream asset:
  ``ins={"x": AssetIn(key)}``, else ``AssetIn(key_prefix=...)`` + the name, else the
  parameter's name (``build_and_validate_named_ins``); ``deps=[...]`` are upstream assets
  whose values are not passed in;
* assets are grouped into a pipeline per ``define_asset_job(name, selection=...)`` and per
  ``Definitions(assets=[...])``; assets that no job or ``Definitions`` lists form one
  pipeline per module, named after the module.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Iterator, Optional

import libcst as cst

from pvcheck.analyzer import pipeline_calls  # internal: the body accounting shared with the call-graph builder
from pvcheck.analyzer.discovery import SourceFile  # internal: code locations read the tree's file list
from pvcheck.analyzer.frameworks.dagster_factories import calls_factory, factory_assets, factory_names
from pvcheck.analyzer.frameworks.dagster_locations import CodeLocations, Location
from pvcheck.analyzer.frameworks.dagster_scope import LOCATION_MARKERS, Piece, Pieces, Scope, capturing
from pvcheck.plugin import (AnalysisContext, CallGraphBuilder, Diagnostic, Edge, Framework, Invocation, Literal,
                            ModuleInfo, Opaque, Output, Pipeline, Severity, StepDefinition, StepOutput, StepOutputs,
                            Symbol, Value, find_decorator, string_value)
from pvcheck.plugin import keyword_arg as _keyword
from pvcheck.plugin import keyword_string as _keyword_string
from pvcheck.plugin import method_name as _method
from pvcheck.plugin import read_only_visit
from pvcheck.diagnostics import CALL_NOT_FOLLOWED
from pvcheck.plugin import ORIGIN_OPTIONS, ConfigSource
from pvcheck.analyzer.frameworks.dagster_checks import attach as attach_checks
from pvcheck.analyzer.frameworks.dagster_resources import attach as attach_resources
from pvcheck.analyzer.frameworks.dagster_resources import binds_statically, bound_resources, job_bindings, job_location

_D = "dagster._core.definitions"


def _names(public: str, *internal: str) -> frozenset[str]:
    return frozenset({f"dagster.{public}", *(f"{_D}.{path}" for path in internal)})


OP = _names("op", "decorators.op_decorator.op")
GRAPH_ASSET = _names("graph_asset", "decorators.asset_decorator.graph_asset")
GRAPH_MULTI_ASSET = _names("graph_multi_asset", "decorators.asset_decorator.graph_multi_asset")
#: pvcheck's own integration: ``@versioned(dg.asset, ...)`` applies the Dagster decorator it is given.
VERSIONED = frozenset({"pvcheck.integrations.dagster.versioned"})
COMPONENT = frozenset({"dagster.Component", "dagster.components.Component", "dagster.StateBackedComponent",
                       "dagster.components.StateBackedComponent",
                       "dagster.components.component.component.Component"})
GRAPH = _names("graph", "decorators.graph_decorator.graph")
JOB = _names("job", "decorators.job_decorator.job")
ASSET = _names("asset", "decorators.asset_decorator.asset")
MULTI_ASSET = _names("multi_asset", "decorators.asset_decorator.multi_asset")
DEFINE_ASSET_JOB = _names("define_asset_job", "unresolved_asset_job_definition.define_asset_job")
DEFINITIONS = _names("Definitions", "definitions_class.Definitions")
ASSET_IN = _names("AssetIn", "asset_in.AssetIn")
ASSET_OUT = _names("AssetOut", "asset_out.AssetOut", "assets.definition.asset_out.AssetOut")
ASSET_KEY = _names("AssetKey", "events.AssetKey", "asset_key.AssetKey")
ASSET_SPEC = _names("AssetSpec", "asset_spec.AssetSpec", "assets.definition.asset_spec.AssetSpec")
ASSET_DEP = _names("AssetDep", "asset_dep.AssetDep", "assets.definition.asset_dep.AssetDep")
ASSET_SELECTION = _names("AssetSelection", "asset_selection.AssetSelection")
LOAD_FROM_MODULES = _names("load_assets_from_modules", "module_loaders.load_assets_from_modules.load_assets_from_modules")
#: Functions that hand back the assets they are given, with metadata added.
PASSTHROUGH = frozenset({"pvcheck.integrations.dagster.with_code_version",
                         "dagster.with_source_code_references", "dagster.link_code_references_to_git",
                         "dagster_cloud.metadata.source_code.link_code_references_to_git_if_cloud",
                         "dagster._core.definitions.metadata.source_code.with_source_code_references",
                         "dagster._core.definitions.metadata.source_code.link_code_references_to_git"})
DEFINITIONS_FACTORY = frozenset({"dagster.definitions", "dagster.components.definitions",
                                 "dagster.components.definitions.definitions"})
#: dg projects: every module under the project's ``defs`` package is part of the location.
LOAD_DEFS_FOLDER = frozenset({"dagster.load_from_defs_folder", "dagster.load_defs",
                              "dagster.components.load_from_defs_folder", "dagster.components.load_defs",
                              "dagster.components.core.load_defs.load_from_defs_folder",
                              "dagster.components.core.load_defs.load_defs"})
LOAD_FROM_PACKAGE = _names("load_assets_from_package_module",
                           "module_loaders.load_assets_from_modules.load_assets_from_package_module")
CONTEXT_TYPES = frozenset({"dagster.OpExecutionContext", "dagster.AssetExecutionContext",
                           "dagster.AssetCheckExecutionContext"})
#: Parameter types that make a parameter configuration or a resource, not an input.
CONFIG_OR_RESOURCE = frozenset({"dagster.Config", "dagster.PermissiveConfig", "dagster.ConfigurableResource",
                                "dagster.ConfigurableIOManager", "dagster.ConfigurableResourceFactory",
                                "dagster.ConfigurableIOManagerFactory", "dagster.ResourceParam"})
_CONTEXT_NAMES = frozenset({"context", "_context", "context_", "_"})  # get_valid_name_permutations("context")
DEFAULT_OUTPUT = "result"
_MAX_GRAPH_DEPTH = 8
_OP_OPTIONS = {"tag": "tags", "with_hooks": "hooks", "with_retry_policy": "retry_policy"}
_ASSET_IDENTITY = ("name", "key", "key_prefix", "ins", "deps", "decorator")
_MULTI_IDENTITY = ("name", "outs", "ins", "deps", "specs", "internal_asset_deps", "decorator")


class Dagster(Framework):
    name = "dagster"
    markers = (b"dagster",)

    def __init__(self) -> None:
        self._registry: Optional[AssetRegistry] = None
        self._registry_ctx: Optional[AnalysisContext] = None

    # ------------------------------------------------------------------ steps
    def step_definition(self, symbol: Symbol, ctx: AnalysisContext) -> Optional[StepDefinition]:
        node = symbol.node
        if not isinstance(node, cst.FunctionDef):
            return None
        module = symbol.module
        found = _decorator(node, module, OP)
        if found is not None:
            _, call, _ = found
            config, lines = ctx.keyword_config(call, module, skip=("name", "ins", "out", "decorator"))
            declared = _keyword_string(call, "name") or node.name.value
            return StepDefinition(symbol, self.name, "op", declared, config, lines, _op_outputs(call, module))
        found = _decorator(node, module, ASSET | GRAPH_ASSET)
        if found is not None:
            _, call, _ = found
            config, lines = ctx.keyword_config(call, module, skip=_ASSET_IDENTITY)
            key = _asset_key(call, node, module, ctx)
            return StepDefinition(symbol, self.name, "asset", key, config, lines, (Output(DEFAULT_OUTPUT),))
        found = _decorator(node, module, MULTI_ASSET | GRAPH_MULTI_ASSET)
        if found is not None:
            _, call, _ = found
            config, lines = ctx.keyword_config(call, module, skip=_MULTI_IDENTITY)
            declared = _keyword_string(call, "name") or node.name.value
            outputs = tuple(Output(name) for name in _multi_asset_outputs(call, module, ctx))
            return StepDefinition(symbol, self.name, "asset", declared, config, lines, outputs)
        return None

    def graph_function(self, symbol: Symbol) -> Optional[tuple[cst.FunctionDef, str]]:
        node = symbol.node
        if symbol.kind == "function" and isinstance(node, cst.FunctionDef):
            found = find_decorator(node, symbol.module, GRAPH)
            if found is not None:
                return node, _keyword_string(found[1], "name") or node.name.value
        return None

    # ------------------------------------------------------------------ pipelines
    def pipelines(self, module: ModuleInfo, ctx: AnalysisContext) -> Iterable[Pipeline]:
        registry = self.registry(ctx)
        scope = Scope(registry.pieces)  # what of the registry's build this unit depends on
        yield from self._pipelines(module, ctx, registry, scope)
        scope.commit(ctx)

    def _pipelines(self, module: ModuleInfo, ctx: AnalysisContext, registry: "AssetRegistry",
                   scope: Scope) -> Iterator[Pipeline]:
        for symbols in module.symbols.values():
            for symbol in symbols:
                node = symbol.node
                if symbol.kind == "function" and isinstance(node, cst.FunctionDef):
                    found = find_decorator(node, module, JOB)
                    if found is not None:
                        scope.everything()  # its resources: whichever Definitions lists it
                        yield self._job(symbol, node, found[1], None, ctx)
        finder = registry.finder(module)
        for call in finder.method_calls:
            assert isinstance(call.func, cst.Attribute)
            symbol = ctx.resolve_callee(module, call.func.value)
            graph = self.graph_function(symbol) if symbol is not None else None
            if symbol is not None and graph is not None:
                yield self._job(symbol, graph[0], call, graph[1], ctx, module)
        definitions = [c for c in finder.calls if module.qualified_names(c.func) & DEFINITIONS]
        jobs = 0
        for call in finder.calls:
            if module.qualified_names(call.func) & DEFINE_ASSET_JOB:
                jobs += 1
                claimed = registry.claiming(module, call)
                scope.claims()
                for claiming in claimed or [None]:
                    scope.location(claiming)  # None: resolved among the whole tree's assets
                yield self._asset_job(module, call, registry, ctx, jobs)
            elif module.qualified_names(call.func) & LOAD_DEFS_FOLDER:
                location = next((loc for loc in registry.locations if loc.call is call), None)
                scope.location(location)
                if location is not None and location.nodes:
                    yield self._asset_pipeline(module.name, Symbol(module, "Definitions", "definitions", call), call,
                                               location.nodes, {}, {}, False, ctx)
            elif _keyword(call, "assets") is not None:
                # several Definitions in one module are told apart by their order, never by
                # a line number (a reformat must not rename a pipeline)
                name = module.name if len(definitions) == 1 else \
                    f"{module.name}:definitions_{1 + next(i for i, d in enumerate(definitions) if d is call)}"
                assets = _keyword(call, "assets")
                assert assets is not None
                scope.location(registry.merged.get(id(call)) or registry.defining(module, call))
                nodes, dynamic = registry.followed(lambda: registry.select_list(assets.value, module, ctx))
                yield self._asset_pipeline(name, Symbol(module, "Definitions", "definitions", call), call,
                                           nodes, {}, {}, dynamic, ctx, site=call, location=(call, module))
        # this module's assets (and what reading them reported) are this unit's; whether a
        # location loads each one is a fact of that location, whether none does of the tree
        scope.part(module.name)
        for node in registry.nodes:
            if node.home is module:
                scope.upstream(node.qualified)
                scope.loaded(registry.loading(node) or registry.folder_loading(node), module.name)
        unlisted = [n for n in registry.nodes if n.home is module and n.qualified not in registry.covered]
        if unlisted:
            name = module.name if not definitions else f"{module.name}:unlisted"
            yield self._asset_pipeline(name, Symbol(module, "", "module", module.tree), module.tree, unlisted,
                                       {}, {}, False, ctx)

    def _job(self, symbol: Symbol, function: cst.FunctionDef, call: Optional[cst.Call], default: Optional[str],
             ctx: AnalysisContext, where: Optional[ModuleInfo] = None) -> Pipeline:
        """A ``@job`` function, or ``graph.to_job(...)`` (``call``, in module ``where``)."""
        module = where or symbol.module
        config, lines = ctx.keyword_config(call, module, skip=("name",))
        name = _keyword_string(call, "name", module, ctx.index) or default or function.name.value
        builder = DagsterGraphBuilder(self, ctx, symbol.module, function, name)
        builder.build()
        if where is None:  # a @job listed by a Definitions gets its resources
            attach_resources(builder.invocations, job_bindings(self.registry(ctx).locations, symbol, ctx), ctx)
        pipeline_symbol = symbol if where is None else Symbol(module, name, "job", call)
        node: cst.CSTNode = function if where is None else call  # type: ignore[assignment]
        return ctx.make_pipeline(name=name, framework=self.name, symbol=pipeline_symbol, node=node,
                                 invocations=builder.invocations, edges=builder.edges, config=config,
                                 config_lines=lines, parameters=ctx.parameters(function.params, symbol.module),
                                 dynamic=builder.dynamic, body=function if where is None else None,
                                 unfollowed=builder.unfollowed, masks=builder.masks,
                                 # ``graph.to_job()``: the graph's body is the job's code
                                 code=cst.IndentedBlock([]) if where is not None else None,
                                 inlined=[*builder.inlined, *([(symbol.module, function, symbol.qualified_name)]
                                                              if where is not None else [])])

    def _asset_job(self, module: ModuleInfo, call: cst.Call, registry: "AssetRegistry",
                   ctx: AnalysisContext, ordinal: int = 1) -> Pipeline:
        config, lines = ctx.keyword_config(call, module, skip=("name", "selection"))
        positional = [a for a in call.args if a.keyword is None and not a.star]
        name_arg = _keyword(call, "name")
        name_node = name_arg.value if name_arg is not None else (positional[0].value if positional else None)
        name = string_value(name_node) if name_node is not None else None
        if name is None and name_node is not None:
            known = ctx.value(name_node, module)  # a constant, a class attribute, an f-string of them
            name = known if isinstance(known, str) else None
        if name is None:
            name = f"{module.name}:asset_job_{ordinal}"  # by order in the module, not by line
            ctx.warn_dynamic(module, module.line(call), "an asset job name computed at run time")
        nodes, dynamic = registry.job_assets(module, call, _job_selection(call))
        return self._asset_pipeline(name, Symbol(module, name, "job", call), call, nodes, config, lines,
                                    dynamic, ctx, site=call,
                                    location=job_location(registry.locations, call))

    def _asset_pipeline(self, name: str, symbol: Symbol, node: cst.CSTNode, nodes: list["AssetNode"],
                        config: dict[str, Any], lines: dict[str, tuple[str, int]], dynamic: bool,
                        ctx: AnalysisContext, site: Optional[cst.Call] = None,
                        location: Optional[tuple[cst.Call, ModuleInfo]] = None) -> Pipeline:
        """A pipeline of assets. ``site``: the ``define_asset_job``/``Definitions`` call that
        makes it, whose arguments other than the selection are configuration -- unless
        they reach repo code (an IO manager's class, a config built by a function): that
        part is the pipeline's own code (PV407), each repo-local function call in it a PV023.
        ``location``: the ``Definitions(...)`` whose ``resources={...}`` the assets get."""
        chosen = sorted({n.qualified: n for n in nodes}.values(), key=lambda n: (n.home.path, n.line))
        invocations: list[Invocation] = []
        edges: list[Edge] = []
        producers = {key: n for n in chosen for key in n.produces}
        for asset in chosen:
            # upstream assets in the pipeline are edges; those outside it (source assets, or
            # assets the job does not select) are recorded as what the asset reads
            inputs: dict[str, Any] = {}
            external: list[str] = []
            for input_name, key in asset.ins.items():
                producer = producers.get(key)
                if producer is not None and producer is not asset:
                    edges.append(Edge(producer.id, asset.id, "data", producer.produces[key], input_name))
                    inputs[input_name] = {"$step": producer.id, "output": producer.produces[key]}
                else:
                    inputs[input_name] = {"$asset": key}
            for key in asset.deps:
                producer = producers.get(key)
                if producer is not None and producer is not asset:
                    edges.append(Edge(producer.id, asset.id, "order"))
                else:
                    external.append(key)
            if external:
                inputs["$deps"] = sorted(external)
            invocations.append(Invocation(asset.id, asset.definition, asset.symbol.module, asset.symbol.node,
                                          inputs))
        if location is not None:
            attach_resources(invocations, bound_resources(location[0], location[1], ctx), ctx)
        attach_checks(invocations, [asset.produces for asset in chosen], ctx)
        masks: Optional[dict[int, str]] = None
        unfollowed: list[dict[str, Any]] = []
        if site is not None:
            masks, unfollowed = _remembered_site_code(site, symbol.module, name, ctx)
        return ctx.make_pipeline(name=name, framework=self.name, symbol=symbol, node=node, invocations=invocations,
                                 edges=edges, config=config, config_lines=lines,
                                 dynamic=dynamic or any(n.dynamic for n in chosen), masks=masks,
                                 # a selection pvcheck cannot follow: the call's canonical form
                                 # (with what it reaches) stands for it, not its raw text
                                 body=site, code=site, unfollowed=unfollowed)

    # ------------------------------------------------------------------ assets
    def registry(self, ctx: AnalysisContext) -> "AssetRegistry":
        """Every asset of the tree and which of them a job or ``Definitions`` lists.

        Built once per index (so once per process), not once per unit: every module's
        pipelines unit needs the whole tree's assets, and rebuilding them per unit made a
        scan quadratic in the number of asset modules. What the build looked at and
        reported is not replayed here: each unit takes the pieces its pipelines used
        (:class:`~pvcheck.analyzer.frameworks.dagster_scope.Scope`), so that its record,
        complete for the cache, names its code location's files and not every asset file.
        """
        if self._registry is not None and self._registry_ctx is ctx:
            return self._registry

        def build() -> tuple[AssetRegistry, list[Diagnostic]]:
            sink: list[Diagnostic] = []
            saved, ctx.index.diagnostics = ctx.index.diagnostics, sink
            try:  # a context of its own: ctx must not remember these as already reported
                registry = AssetRegistry(self, AnalysisContext(ctx.root, ctx.index, ctx.config, ctx.frameworks))
            finally:
                ctx.index.diagnostics = saved
            assert ctx.index.recorder is not None  # remember's, filled by the build
            registry.pieces.whole = Piece(ctx.index.recorder, sink)
            return registry, sink

        # not replayed into the unit: it takes what it uses (Scope.commit, see dagster_scope)
        saved, ctx.index.recorder = ctx.index.recorder, None
        try:
            registry, _ = ctx.index.remember(("dagster", "asset-registry"), build)
        finally:
            ctx.index.recorder = saved
        registry.ctx = ctx  # what it looks up or reports from now on belongs to this unit
        self._registry, self._registry_ctx = registry, ctx
        return registry


# ---------------------------------------------------------------------- asset registry
@dataclass
class AssetNode:
    symbol: Symbol
    definition: StepDefinition
    id: str  # asset key (an @asset) or op name (a @multi_asset)
    produces: dict[str, str]  # asset key -> output name
    ins: dict[str, str]  # input name -> upstream asset key
    deps: list[str]  # upstream asset keys not passed in
    group: str
    line: int
    dynamic: bool = False
    #: an asset a factory made: the inner function, its decorator call and their module
    decorated: Optional[tuple[cst.FunctionDef, Optional[cst.Call], ModuleInfo]] = None
    called_in: Optional[ModuleInfo] = None  # the module whose call of the factory made it
    call: Optional[cst.Call] = None

    @property
    def home(self) -> ModuleInfo:
        """The module the asset is a module-level object of (where loaders find it)."""
        return self.called_in or self.symbol.module

    @property
    def qualified(self) -> str:
        return self.symbol.qualified_name


@dataclass
class AssetRegistry(CodeLocations):
    framework: Dagster
    ctx: AnalysisContext
    nodes: list[AssetNode] = field(default_factory=list)
    covered: set[str] = field(default_factory=set)
    dynamic: bool = False
    by_key: dict[str, AssetNode] = field(default_factory=dict)
    by_symbol: dict[str, AssetNode] = field(default_factory=dict)
    _depth: int = 0
    _finders: dict[str, "_CallFinder"] = field(default_factory=dict)
    locations: list["Location"] = field(default_factory=list)
    by_call: dict[int, AssetNode] = field(default_factory=dict)  # id() of a factory call -> its asset
    components: list[str] = field(default_factory=list)  # modules defining a Component with build_defs
    opaque: set[str] = field(default_factory=set)  # modules with assets made by code outside the tree
    pieces: Pieces = field(default_factory=Pieces)  # what each part of the build looked at (dagster_scope)
    _scoped: bool = False  # selecting among one location's assets, not the whole tree's
    _global: bool = False  # a selection ran among the whole tree's assets
    _touched: Optional[set[str]] = None  # modules whose assets an upstream key named
    _candidates: set[str] = field(default_factory=set)  # modules a location's list could take assets from
    module_names: set[str] = field(default_factory=set)  # the modules read for assets
    #: id() of a Definitions call merged into a dg project's location -> the location it made
    #: on its own: what its own asset list depends on (the assets of its own pipeline)
    merged: dict[int, "Location"] = field(default_factory=dict)

    def __post_init__(self) -> None:
        modules = []
        others: list[tuple[SourceFile, bytes]] = []
        for file in self.ctx.index.files:
            data = self.ctx.index.read(file)
            if data is None:
                continue
            if b"dagster" not in data:
                others.append((file, data))
                continue
            module = self.ctx.index.module(file.module)
            if module is not None:
                modules.append(module)
        # a module that calls an asset factory need not mention Dagster: it names the
        # factory (its import does, however aliased), so those names pick the extra modules
        names = factory_names(self.ctx.index, modules)
        if names:
            for file, data in others:
                if any(name in data for name in names):
                    module = self.ctx.index.module(file.module)
                    if module is not None:
                        modules.append(module)
                        # whether a module is one depends on every factory of the tree
                        self.pieces.only_whole = True
        self.module_names = {m.name for m in modules}
        structure = self.pieces.structure.record
        structure.census.update(LOCATION_MARKERS)  # which modules may define a location, their bytes
        structure.file_list = True  # packages, and the location nearest to a job
        # first every asset and the keys it produces, then (knowing them) what each depends on
        for module in modules:
            with capturing(self.ctx) as part:
                self._add_part(self._module_part(module))
            part.record.modules.add(module.name)  # handed to the part, so not looked up by it
            self.pieces.parts[module.name] = part
        self.nodes.sort(key=lambda n: (n.home.path, n.line))
        self.by_key = {key: n for n in self.nodes for key in n.produces}
        self.by_symbol = {n.qualified: n for n in self.nodes}
        self.by_call = {id(n.call): n for n in self.nodes if n.call is not None}
        for node in self.nodes:
            self._touched = set()
            with capturing(self.ctx) as upstream:
                self._upstream(node)
            for name in self._touched:  # the keys of assets it names are theirs
                upstream.add(self.pieces.parts.get(name) or Piece())
            self._touched = None
            self.pieces.upstream[node.qualified] = upstream
        for module in modules:
            for call in self.finder(module).calls:
                names = module.qualified_names(call.func)
                if names & DEFINITIONS:
                    assets = _keyword(call, "assets")
                    self._global = False
                    with capturing(self.ctx) as built:
                        nodes, dynamic = self.followed(lambda: self.select_list(assets.value, module, self.ctx)) \
                            if assets is not None else ([], False)
                    jobs = _keyword(call, "jobs")
                    with capturing(self.ctx) as claims:
                        listed = self._listed_jobs(jobs.value, module) if jobs is not None else set()
                    self.pieces.structure.add(claims)
                    if assets is not None or jobs is not None:  # resources alone make no location
                        location = Location(module, call, nodes, dynamic, "", listed)
                        self._add_location(location, built)
                elif names & LOAD_DEFS_FOLDER:
                    self._global = False
                    with capturing(self.ctx) as claims:
                        package = self._defs_package(module, call)
                    self.pieces.structure.add(claims)  # other jobs' locations depend on it too
                    with capturing(self.ctx) as built:
                        location = self._defs_folder(module, call, package)
                    built.add(claims)  # which package it is
                    if location is not None:
                        self._add_location(location, built)
                        self.pieces.folder(location, claims)
        # a Definitions inside a dg project's defs package is merged into that location
        folders = [loc for loc in self.locations if loc.package]
        for location in [loc for loc in self.locations if not loc.package]:
            home = next((f for f in folders if (location.module.name + ".").startswith(f.package + ".")), None)
            if home is not None:
                home.nodes = list({n.qualified: n for n in [*home.nodes, *location.nodes]}.values())
                home.dynamic = home.dynamic or location.dynamic
                home.jobs |= location.jobs
                self.locations.remove(location)
                self.pieces.built[id(home)].add(self.pieces.built[id(location)])
                self.merged[id(location.call)] = location
                if id(location) in self.pieces.unscoped:
                    self.pieces.unscoped.add(id(home))
        for location in self.locations:
            self.covered.update(n.qualified for n in location.nodes)
        with capturing(self.ctx) as workspace:
            self.add_workspace_locations()  # they resolve jobs; their assets stay in their modules' pipelines
        self.pieces.structure.add(workspace)
        for location in self.locations:
            if location.call is None:
                self.pieces.built[id(location)].add(workspace)  # it exists because a workspace file names it
        for module in modules:
            for call in self.finder(module).calls:
                if module.qualified_names(call.func) & DEFINE_ASSET_JOB:
                    selection = _job_selection(call)
                    chosen, _ = self.job_assets(module, call, selection)
                    self.covered.update(n.qualified for n in chosen)

    def _module_part(self, module: ModuleInfo) -> "_ModulePart":
        """One module's assets, components and opaque assets, kept per index by module name
        (a history walk rebuilds the registry at every commit that changes an asset module;
        the other modules' parts are the same). ``index.remember`` replays what the part
        looked at (the modules its factories live in, ...) into the build's record."""
        def compute() -> _ModulePart:
            registry = AssetRegistry.__new__(AssetRegistry)  # a blank one: only its collectors
            registry.framework, registry.ctx = self.framework, self.ctx
            registry.nodes, registry.components, registry.opaque, registry.dynamic = [], [], set(), False
            with self.ctx.reporting_into([]) as sink:  # reported again (deduplicated) on every use
                registry._collect(module)
            return _ModulePart(module, registry.nodes, registry.components, registry.opaque, registry.dynamic, sink)

        part = self.ctx.index.remember(("dagster-asset-part", module.name), compute)
        return part if part.module is module else compute()  # a second file of the same module name

    def _add_part(self, part: "_ModulePart") -> None:
        self.ctx.report(part.diagnostics)
        # copies: _upstream sets each node's inputs from the whole location, the part is kept
        self.nodes.extend(replace(node) for node in part.nodes)
        self.components.extend(part.components)
        self.opaque |= part.opaque
        self.dynamic = self.dynamic or part.dynamic

    def _add_location(self, location: Location, built: Piece) -> None:
        """A location, with what resolving its asset list looked at. It depends on the whole
        tree when the list selected among every asset of the tree (a key, an asset named
        by its key), or when a module that could hold its assets is no Dagster module yet
        but has module-level calls (a factory defined anywhere could make it one)."""
        self.locations.append(location)
        self.pieces.built[id(location)] = built
        built.record.modules.add(location.module.name)  # the module that defines it: handed, not looked up
        with capturing(self.ctx) as checked:
            for name in sorted(self._candidates - self.module_names):
                module = self.ctx.index.module(name) if name in self.ctx.index.by_module else None
                if module is not None and (calls_factory(self.ctx, module) or _names_asset_maker(module)):
                    self.pieces.unscoped.add(id(location))
        built.add(checked)  # what those calls resolve to: a factory appearing there is a change
        self._candidates = set()
        if self._global:
            self.pieces.unscoped.add(id(location))

    def defining(self, module: ModuleInfo, call: cst.Call) -> Optional[Location]:
        """The location a ``Definitions(...)`` call makes (a dg project's, when it is
        merged into one), if any."""
        for location in self.locations:
            if location.call is call:
                return location
        return next((loc for loc in self.locations if loc.package
                     and (module.name + ".").startswith(loc.package + ".")), None)

    def loading(self, node: AssetNode) -> Optional[Location]:
        """A location that loads ``node`` and whose record stands on its own, if any."""
        for location in self.locations:
            if self.pieces.location(location) is not None and any(n.qualified == node.qualified
                                                                  for n in location.nodes):
                return location
        return None

    def folder_loading(self, node: AssetNode) -> Optional[Location]:
        """A dg project's location whose ``defs`` package holds ``node``'s module, if any: it
        loads the node whether or not its record stands on its own (:meth:`loading`)."""
        home = node.home.name + "."
        return next((location for location in self.locations
                     if location.package and home.startswith(location.package + ".")), None)

    def _collect(self, module: ModuleInfo) -> None:
        for symbols in module.symbols.values():
            for symbol in symbols:
                if symbol.kind == "function":
                    node = self._asset(symbol)
                    if node is not None:
                        self.nodes.append(node)
                elif symbol.kind == "class":
                    self._component(symbol)
        made = list(factory_assets(self, module))
        self.nodes.extend(made)
        self._opaque_assets(module, {id(n.call) for n in made})

    def finder(self, module: ModuleInfo) -> "_CallFinder":
        """The job and ``Definitions`` calls of a module, found once per module."""
        found = self._finders.get(module.path)
        if found is None or found.module is not module:
            def find() -> _CallFinder:
                finder = _CallFinder(module, frozenset({"to_job"}), DEFINE_ASSET_JOB | DEFINITIONS | LOAD_DEFS_FOLDER)
                read_only_visit(module.tree, finder)  # libcst's visit, without rebuilding the tree
                return finder

            # per index, not per registry: a history walk rebuilds the registry at every
            # commit that changes an asset module, and the other modules' calls are the same
            found = self.ctx.index.remember(("dagster-calls", module.name), find)
            if found.module is not module:  # a second file of the same module name
                found = find()
            self._finders[module.path] = found
        return found

    def followed(self, work: Callable[[], list[AssetNode]]) -> tuple[list[AssetNode], bool]:
        """What ``work`` selects, and whether part of it could not be followed."""
        saved, self.dynamic = self.dynamic, False
        try:
            return work(), self.dynamic
        finally:
            self.dynamic = saved or self.dynamic

    def _asset(self, symbol: Symbol) -> Optional[AssetNode]:
        definition = self.framework.step_definition(symbol, self.ctx)
        if definition is None or definition.kind != "asset":
            return None
        function = definition.function
        module = symbol.module
        multi = _decorator(function, module, MULTI_ASSET | GRAPH_MULTI_ASSET)
        dynamic = False
        if multi is not None:
            produces = _multi_asset_keys(multi[1], module, self.ctx)
            if not produces:
                dynamic = True
                self.ctx.warn_dynamic(module, module.line(function), f"multi-asset '{definition.name}' whose "
                                      "asset keys are not known statically")
        else:
            produces = {definition.name: DEFAULT_OUTPUT}
        group = _keyword_string((multi or _decorator(function, module, ASSET | GRAPH_ASSET) or (None, None))[1],
                                "group_name") or "default"
        return AssetNode(symbol, definition, definition.name, produces, {}, [], group, module.line(function),
                         dynamic)

    def _opaque_assets(self, module: ModuleInfo, made: set[int]) -> None:
        """Assets that code outside the tree makes (``@dbt_assets``, ``define_dagstermill_asset(...)``,
        an integration's factory): a loader that reads the module gets assets no graph shows."""
        known = ASSET | GRAPH_ASSET | MULTI_ASSET | GRAPH_MULTI_ASSET | VERSIONED | OP | GRAPH | JOB
        for statement in module.tree.body:
            callee: Optional[cst.BaseExpression] = None
            if isinstance(statement, cst.FunctionDef):
                for decorator in statement.decorators:
                    expression = decorator.decorator
                    callee = expression.func if isinstance(expression, cst.Call) else expression
                    if self._opaque(module, callee, known):
                        self._note_opaque(module, statement, callee)
            elif isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    value = small.value if isinstance(small, (cst.Assign, cst.AnnAssign)) else None
                    if isinstance(value, cst.Call) and id(value) not in made \
                            and self._opaque(module, value.func, known):
                        self._note_opaque(module, small, value.func)

    def _opaque(self, module: ModuleInfo, callee: Optional[cst.BaseExpression], known: frozenset[str]) -> bool:
        if not isinstance(callee, (cst.Name, cst.Attribute)):
            return False
        names = module.qualified_names(callee)
        if not names or names & known or any(self.ctx.index.resolve(n) is not None for n in names):
            return False
        return any(_makes_assets(n.rpartition(".")[2]) and not n.startswith("dagster.") for n in names)

    def _note_opaque(self, module: ModuleInfo, node: cst.CSTNode, callee: cst.BaseExpression) -> None:
        self.opaque.add(module.name)
        self.ctx.warn_dynamic(module, module.line(node), f"assets that '{module.code(callee)}' (outside the "
                                                         "scanned tree) makes: they are in no graph")

    def _component(self, symbol: Symbol) -> None:
        """A Dagster Component's ``build_defs`` makes definitions at run time: say so."""
        node = symbol.node
        if not isinstance(node, cst.ClassDef) or not isinstance(node.body, cst.IndentedBlock):
            return
        bases = {q for base in node.bases if isinstance(base.value, (cst.Name, cst.Attribute))
                 for q in symbol.module.qualified_names(base.value)}
        if bases & COMPONENT and any(isinstance(s, cst.FunctionDef) and s.name.value == "build_defs"
                                     for s in node.body.body):
            self._not_followed(symbol.module, node, f"definitions that component '{node.name.value}' builds at "
                                                    "run time (Component.build_defs): its assets are in no graph")
            self.components.append(symbol.module.name)

    def _upstream(self, node: AssetNode) -> None:
        """An asset's inputs (parameters, ``ins=``) and ``deps=``, as upstream asset keys."""
        if node.decorated is not None:
            function, call, module = node.decorated
        else:
            function = node.definition.function
            module = node.symbol.module
            found = _decorator(function, module, ASSET | GRAPH_ASSET | MULTI_ASSET | GRAPH_MULTI_ASSET)
            assert found is not None
            call = found[1]
        produces = node.produces
        ins = {}
        explicit = _dict_items(_keyword(call, "ins"))
        for name in _input_names(function, module, self.ctx):
            asset_in = explicit.get(name)
            key = self._asset_in_key(asset_in, name, module) if asset_in is not None else name
            ins[name] = key
        for name, asset_in in explicit.items():
            ins.setdefault(name, self._asset_in_key(asset_in, name, module))
        deps: list[str] = []
        dep_list = _keyword(call, "deps")
        if dep_list is not None:
            deps.extend(self.keys(dep_list.value, module, function))
        for spec in _list_items(_keyword(call, "specs")):
            if isinstance(spec, cst.Call):
                spec_deps = _keyword(spec, "deps")
                if spec_deps is not None:
                    deps.extend(k for k in self.keys(spec_deps.value, module, function) if k not in produces)
        node.ins = ins
        node.deps = list(dict.fromkeys(deps))

    def _asset_in_key(self, asset_in: cst.BaseExpression, name: str, module: ModuleInfo) -> str:
        if isinstance(asset_in, cst.Call) and module.qualified_names(asset_in.func) & ASSET_IN:
            positional = [a for a in asset_in.args if a.keyword is None and not a.star]
            key = _keyword(asset_in, "key")
            key_node = key.value if key is not None else (positional[0].value if positional else None)
            if key_node is not None:
                path = _string_path(_key_value(key_node, module, self.ctx))
                if path is not None:  # "x", ["raw", "x"] or AssetKey([...]): one key
                    return "/".join(path)
                found = self.keys(key_node, module, asset_in)
                if len(found) == 1:
                    return found[0]
                self._not_followed(module, asset_in, f"an AssetIn key for '{name}'")
                return name
            prefix = _keyword(asset_in, "key_prefix")
            if prefix is not None:
                parts = _string_path(self.ctx.value(prefix.value, module))
                if parts is not None:
                    return "/".join([*parts, name])
                self._not_followed(module, asset_in, f"an AssetIn key prefix for '{name}'")
            return name
        self._not_followed(module, asset_in, f"an input '{name}' that is not an AssetIn(...)")
        return name

    def keys(self, expression: cst.BaseExpression, module: ModuleInfo, where: cst.CSTNode) -> list[str]:
        """The asset keys an expression names: a key, an asset, a list of them, an AssetDep ..."""
        if isinstance(expression, (cst.List, cst.Tuple)):
            return [k for e in expression.elements for k in self.keys(e.value, module, where)]
        if isinstance(expression, cst.Call) and id(expression) in self.by_call:
            return self._produced(self.by_call[id(expression)])
        if isinstance(expression, cst.Call):
            names = module.qualified_names(expression.func) if isinstance(expression.func,
                                                                          (cst.Name, cst.Attribute)) else set()
            positional = [a for a in expression.args if a.keyword is None and not a.star]
            if names & ASSET_KEY:
                path = _string_path(_key_value(expression, module, self.ctx))
                if path is not None:
                    return ["/".join(path)]
            elif names & (ASSET_SPEC | ASSET_DEP):
                first = _keyword(expression, "key") or _keyword(expression, "asset")
                target = first.value if first is not None else (positional[0].value if positional else None)
                if isinstance(target, (cst.List, cst.Tuple)):  # a key path, not a list of keys
                    path = _string_path(self.ctx.value(target, module))
                    if path is not None:
                        return ["/".join(path)]
                elif target is not None:
                    return self.keys(target, module, where)
            if isinstance(expression.func, cst.Attribute) and expression.func.attr.value == "from_user_string" \
                    and positional and string_value(positional[0].value) is not None:
                return [string_value(positional[0].value)]  # type: ignore[list-item]
        if isinstance(expression, (cst.Name, cst.Attribute)):
            symbol = self.ctx.resolve_callee(module, expression)
            if symbol is not None and symbol.qualified_name in self.by_symbol:
                found = self.by_symbol[symbol.qualified_name]
                if self._touched is not None:
                    self._touched.add(found.home.name)
                return list(found.produces)
            constant = self._constant(expression, module)
            if constant is not None and id(constant[0]) in self.by_call:
                return self._produced(self.by_call[id(constant[0])])
            if constant is not None and not isinstance(constant[0], cst.Call):
                self._depth += 1
                try:
                    return self.keys(constant[0], constant[1], where)
                finally:
                    self._depth -= 1
        path = _string_path(self.ctx.value(expression, module))
        if path is not None:
            return ["/".join(path)]
        self._not_followed(module, where, f"an asset reference '{' '.join(module.code(expression).split())}'")
        return []

    def _produced(self, raw: AssetNode) -> list[str]:
        """The keys an asset produces as the current scope knows it (a loader may prefix them)."""
        scoped = self.by_symbol.get(raw.qualified)
        if self._touched is not None:
            self._touched.add((scoped or raw).home.name)
        return list((scoped or raw).produces)

    def select_list(self, expression: cst.BaseExpression, module: ModuleInfo, ctx: AnalysisContext) -> list[AssetNode]:
        """``Definitions(assets=[...])``: assets, and ``load_assets_from_modules([...])``."""
        chosen: list[AssetNode] = []
        items = [e.value for e in expression.elements] if isinstance(expression, (cst.List, cst.Tuple)) \
            else [expression]
        for item in items:
            if isinstance(item, cst.StarredElement):
                item = item.value
            if isinstance(item, cst.Call) and isinstance(item.func, (cst.Name, cst.Attribute)) \
                    and module.qualified_names(item.func) & (LOAD_FROM_MODULES | LOAD_FROM_PACKAGE):
                chosen.extend(self._loaded(item, module))
                continue
            if isinstance(item, cst.Call) and isinstance(item.func, (cst.Name, cst.Attribute)) \
                    and module.qualified_names(item.func) & PASSTHROUGH and item.args \
                    and item.args[0].keyword is None and not item.args[0].star:
                chosen.extend(self.select_list(item.args[0].value, module, ctx))  # same assets, more metadata
                continue
            constant = self._constant(item, module)
            if constant is not None:  # ``ALL_ASSETS = [...]`` (or a loader call) kept in a constant
                self._depth += 1
                try:
                    chosen.extend(self.select_list(constant[0], constant[1], ctx))
                finally:
                    self._depth -= 1
                continue
            chosen.extend(self.select(item, module, ctx))
        return chosen

    def _constant(self, expression: cst.BaseExpression, module: ModuleInfo
                  ) -> Optional[tuple[cst.BaseExpression, ModuleInfo]]:
        """The value a name is bound to once at module level, if it is a list, tuple or call."""
        if not isinstance(expression, (cst.Name, cst.Attribute)):
            return None
        names = module.qualified_names(expression)
        if len(names) > 1 and isinstance(expression, cst.Name):
            # ``assets = load_assets_from_modules([assets])``: an import rebound by a module-level
            # assignment; a use after both (the only one a module-level name can have) is the assignment
            own = f"{module.name}.{expression.value}"
            rebound = [s for s in module.symbols.get(expression.value, []) if s.kind == "constant"]
            if own in names and len(rebound) == 1 and module.line(rebound[0].node) < module.line(expression):
                value = rebound[0].node.value if isinstance(rebound[0].node, (cst.Assign, cst.AnnAssign)) else None
                if isinstance(value, (cst.List, cst.Tuple, cst.Call)) and self._depth < 16:
                    return value, module
        resolved = self.ctx.index.resolve(next(iter(names))) if len(names) == 1 else None
        if resolved is None or resolved[1] or resolved[0].kind != "constant":
            return None
        symbol = resolved[0]
        assignments = [s for s in symbol.module.symbols.get(symbol.name, []) if s.kind == "constant"]
        node = assignments[0].node if len(assignments) == 1 else None
        value = node.value if isinstance(node, (cst.Assign, cst.AnnAssign)) else None
        if isinstance(value, (cst.List, cst.Tuple, cst.Call)) and self._depth < 16:
            return value, symbol.module
        return None

    def _loaded(self, call: cst.Call, module: ModuleInfo) -> list[AssetNode]:
        """``load_assets_from_modules(modules, group_name, key_prefix)`` (or the package form):
        the assets of those modules as Dagster loads them, keys prefixed and group set."""
        package = bool(module.qualified_names(call.func) & LOAD_FROM_PACKAGE)
        positional = [a.value for a in call.args if a.keyword is None and not a.star]
        named = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
        parameters = ("package_module" if package else "modules", "group_name", "key_prefix")
        given = {name: positional[i] if i < len(positional) else named.get(name) for i, name in enumerate(parameters)}
        first = given[parameters[0]]
        if first is None or any(a.star for a in call.args):
            self._not_followed(module, call, "assets loaded from modules not named statically")
            return []
        targets = [e.value for e in first.elements] if isinstance(first, (cst.List, cst.Tuple)) else [first]
        chosen: list[AssetNode] = []
        for target in targets:
            names = module.qualified_names(target) if isinstance(target, (cst.Name, cst.Attribute)) else set()
            resolved = self.ctx.index.resolve(next(iter(names))) if len(names) == 1 else None
            if resolved is None or resolved[0].kind != "module" or resolved[1]:
                self._not_followed(module, call, "assets loaded from a module outside the scanned tree")
                continue
            base = resolved[0].module.name
            self._candidate_modules(base, package)
            if any(name == base or (package and name.startswith(base + ".")) for name in self.opaque):
                self.dynamic = True  # reported where those assets are made
            chosen.extend(n for n in self.nodes if n.home.name == base
                          or (package and n.home.name.startswith(base + ".")))
        prefix: list[str] = []
        if given["key_prefix"] is not None:
            found = _string_path(self.ctx.value(given["key_prefix"], module))
            if found is None:
                self._not_followed(module, call, "a key prefix computed at run time")
            prefix = found or []
        group = string_value(given["group_name"]) if given["group_name"] is not None else None
        if given["group_name"] is not None and group is None:
            self._not_followed(module, call, "a group name computed at run time")
        return loaded_as(chosen, prefix, group)

    def _candidate_modules(self, base: str, package: bool) -> None:
        """Every module whose assets a loader of ``base`` (a package: and what is under it)
        takes, as a dependency: one with none now may gain some."""
        index = self.ctx.index
        names = [base]
        if package:
            index.files  # noqa: B018 - recorded: a module added under the package is loaded too
            names.extend(name for name in index.by_module if name.startswith(base + "."))
        for name in names:
            index.has_module(name)
            self._candidates.add(name)

    @contextmanager
    def scoped(self, nodes: list[AssetNode]) -> Iterator[None]:
        """Selections resolved among ``nodes`` (a code location's assets, as it loads them)
        instead of every asset of the tree."""
        saved = self.nodes, self.by_key, self.by_symbol, self._scoped
        self.nodes = nodes
        self.by_key = {key: n for n in nodes for key in n.produces}
        self.by_symbol = {n.qualified: n for n in nodes}
        self._scoped = True
        try:
            yield
        finally:
            self.nodes, self.by_key, self.by_symbol, self._scoped = saved

    def select(self, expression: cst.BaseExpression, module: ModuleInfo, ctx: AnalysisContext) -> list[AssetNode]:
        """The assets an asset selection picks (``AssetSelection`` algebra, lists, keys, assets)."""
        keys = self._selection(expression, module)
        return [n for n in self.nodes if keys is not None and n.qualified in keys]

    def _selection(self, expression: cst.BaseExpression, module: ModuleInfo) -> Optional[set[str]]:
        if isinstance(expression, cst.BinaryOperation):
            left = self._selection(expression.left, module)
            right = self._selection(expression.right, module)
            if left is None or right is None:
                return None
            if isinstance(expression.operator, cst.BitOr):
                return left | right
            if isinstance(expression.operator, cst.BitAnd):
                return left & right
            if isinstance(expression.operator, cst.Subtract):
                return left - right
        if isinstance(expression, cst.Call) and isinstance(expression.func, cst.Attribute):
            method = expression.func.attr.value
            receiver = expression.func.value
            if isinstance(receiver, (cst.Name, cst.Attribute)) and module.qualified_names(receiver) & ASSET_SELECTION:
                return self._selection_constructor(method, expression, module)
            if method in ("upstream", "downstream") and not any(a.keyword is None for a in expression.args) \
                    and _keyword(expression, "depth") is None:
                inner = self._selection(receiver, module)
                return self._closure(inner, method == "upstream") if inner is not None else None
        if isinstance(expression, (cst.List, cst.Tuple)):
            chosen: set[str] = set()
            for element in expression.elements:
                part = self._selection(element.value, module)
                if part is None:
                    return None
                chosen |= part
            return chosen
        direct = None if self._scoped else self._direct(expression, module)
        if direct is not None:
            return direct
        text = string_value(expression)
        if text is not None and not re.fullmatch(r"[A-Za-z0-9_/\-]+", text):
            self._not_followed(module, expression, f"an asset selection query '{text}'")
            return None
        if text is not None:  # a plain key ("a/b" is AssetKey.from_user_string's path a, b)
            return self._by_keys([text])
        constant = self._constant(expression, module)
        if constant is not None and isinstance(constant[0], cst.Call) \
                and not (isinstance(constant[0].func, (cst.Name, cst.Attribute))
                         and constant[1].qualified_names(constant[0].func) & (ASSET_KEY | ASSET_SPEC | ASSET_DEP)):
            # ``trips = AssetSelection.assets("trips")`` at module level, used in a job
            self._depth += 1
            try:
                return self._selection(constant[0], constant[1])
            finally:
                self._depth -= 1
        keys = self.keys(expression, module, expression)
        return self._by_keys(keys) if keys else None

    def _direct(self, expression: cst.BaseExpression, module: ModuleInfo) -> Optional[set[str]]:
        """An asset named as itself -- its function, a factory's call, a constant bound to
        one -- in a ``Definitions(assets=[...])`` list: that asset. Dagster takes the
        object; going by its key instead took whichever asset of the tree has that key
        last (another location's, a test's copy) and made the list depend on every asset."""
        if isinstance(expression, cst.Call):
            found = self.by_call.get(id(expression))
            return {found.qualified} if found is not None else None
        if not isinstance(expression, (cst.Name, cst.Attribute)):
            return None
        symbol = self.ctx.resolve_callee(module, expression)
        if symbol is not None and symbol.qualified_name in self.by_symbol:
            return {symbol.qualified_name}
        constant = self._constant(expression, module)
        if constant is not None and id(constant[0]) in self.by_call:
            return {self.by_call[id(constant[0])].qualified}
        return None

    def _selection_constructor(self, method: str, call: cst.Call, module: ModuleInfo) -> Optional[set[str]]:
        self._global = self._global or not self._scoped  # every asset's key or group is read
        if method == "all":
            return {n.qualified for n in self.nodes}
        if method == "key_prefixes":
            prefixes = []
            for arg in (a for a in call.args if a.keyword is None):
                path = _string_path(self.ctx.value(arg.value, module))
                if path is None:
                    self._not_followed(module, call, "AssetSelection.key_prefixes(...) computed at run time")
                    return None
                prefixes.append("/".join(path) + "/")
            return {n.qualified for n in self.nodes if any(k.startswith(p) for k in n.produces for p in prefixes)}
        if method == "groups":
            groups = {string_value(a.value) for a in call.args if a.keyword is None}
            return {n.qualified for n in self.nodes if n.group in groups}
        if method in ("assets", "keys"):
            keys = []
            for arg in (a for a in call.args if a.keyword is None):
                path = _string_path(self.ctx.value(arg.value, module)) \
                    if isinstance(arg.value, (cst.List, cst.Tuple)) else None
                # a list of strings is one key's path (CoercibleToAssetKey), not several keys
                keys.extend(["/".join(path)] if path is not None else self.keys(arg.value, module, call))
            return self._by_keys(keys)
        self._not_followed(module, call, f"AssetSelection.{method}(...)")
        return None

    def _by_keys(self, keys: Iterable[str]) -> set[str]:
        keys = list(keys)
        if keys:
            self._global = self._global or not self._scoped  # which asset has the key: any of them
        return {self.by_key[k].qualified for k in keys if k in self.by_key}

    def _closure(self, chosen: set[str], upstream: bool) -> set[str]:
        """``.upstream()`` / ``.downstream()``: every asset reachable, breadth first."""
        neighbours: dict[str, set[str]] = {}
        for node in self.nodes:
            for key in [*node.ins.values(), *node.deps]:
                producer = self.by_key.get(key)
                if producer is None or producer.qualified == node.qualified:
                    continue
                source, target = (node.qualified, producer.qualified) if upstream \
                    else (producer.qualified, node.qualified)
                neighbours.setdefault(source, set()).add(target)
        self._global = self._global or not self._scoped
        result = set(chosen)
        frontier = list(chosen)
        while frontier:
            for found in neighbours.get(frontier.pop(), ()):
                if found not in result:
                    result.add(found)
                    frontier.append(found)
        return result

    def _not_followed(self, module: ModuleInfo, node: cst.CSTNode, what: str) -> None:
        self.dynamic = True
        self.ctx.warn_dynamic(module, module.line(node), what)


@dataclass(frozen=True)
class _ModulePart:
    """What :meth:`AssetRegistry._collect` found in one module, with what it reported."""
    module: ModuleInfo
    nodes: list[AssetNode]
    components: list[str]
    opaque: set[str]
    dynamic: bool
    diagnostics: list[Diagnostic]


# ---------------------------------------------------------------------- op graphs
@dataclass
class _Frame:
    prefix: str
    collisions: dict[str, int] = field(default_factory=dict)


class DagsterGraphBuilder(CallGraphBuilder):
    """Walks a ``@job`` (or the ``@graph`` of ``to_job``) and the graphs it calls.

    It accounts for every call (PV023) and masks op invocations, their options and the
    inputs they record, so that what is left of the body is the job's own code (PV407),
    as ZenML's builder does (:mod:`pvcheck.analyzer.pipeline_calls`)."""

    option_methods = frozenset({"alias", *_OP_OPTIONS})
    account_calls = True
    api_packages = ("dagster",)

    def __init__(self, framework: Dagster, ctx: AnalysisContext, module: ModuleInfo,
                 function: cst.FunctionDef, name: str) -> None:
        super().__init__(framework, ctx, module, function, name)
        self.frames = [_Frame("")]
        #: graphs walked as nodes of this one: their masked code is this job's code too
        self.inlined: list[tuple[ModuleInfo, cst.FunctionDef, str]] = []

    def mask_invocation(self, call: cst.Call, options: list[cst.Call], env: dict[str, Value],
                        module: ModuleInfo, token: str) -> None:
        """An op or graph call: the node is the graph's, ``.alias()``/``.tag()`` are its
        name and configuration, and an argument its inputs record completely is an edge."""
        for option in options:
            pipeline_calls.mask_configuration(self, option, module, None)
        callee = call.func
        while isinstance(callee, cst.Call):
            callee = callee.func
        while isinstance(callee, cst.Attribute) and isinstance(callee.value, cst.Call):
            callee = callee.value.func
            while isinstance(callee, cst.Call):
                callee = callee.func
        self.mask(callee, token)
        if all(id(arg) in self.masks for option in options for arg in option.args):
            self.mask(call.func, token)
        for arg in call.args:
            if arg.star:
                continue
            if pipeline_calls.pure_data(arg.value, env) or pipeline_calls.fully_masked(arg.value, self.masks) \
                    or isinstance(arg.value, cst.Name) and pipeline_calls.modelled(env.get(arg.value.value)):
                self.mask(arg, "")

    def node_name(self, declared: str, options: list[cst.Call], env: dict[str, Value], module: ModuleInfo) -> str:
        """Dagster's node name: the alias, else the name, then ``name_2``, ``name_3`` ..."""
        frame = self.frames[-1]
        alias: Optional[str] = None
        for option in options:
            if _method(option) == "alias":
                arg = _keyword(option, "name") or (option.args[0] if option.args else None)
                value = self.evaluate(arg.value, env, module) if arg is not None else None
                if isinstance(value, Literal) and isinstance(value.value, str):
                    alias = value.value
                else:
                    self.not_followed(module, option, f"an alias computed at run time for '{declared}'")
        if alias is not None:
            name = alias
        elif frame.collisions.get(declared):
            frame.collisions[declared] += 1
            name = f"{declared}_{frame.collisions[declared]}"
        else:
            frame.collisions[declared] = 1
            name = declared
        full = frame.prefix + name
        if full in self._ids:
            self.ctx.warn_dynamic(module, module.line(options[0] if options else self.function),
                                  f"node '{full}' is invoked twice in '{self.pipeline_name}' (Dagster rejects this)")
            full = self.unique_id(full)
        return full

    def call(self, call: cst.Call, env: dict[str, Value], module: ModuleInfo) -> Value:
        if isinstance(call.func, cst.Attribute) and call.func.attr.value in ("map", "collect"):
            base = self.evaluate(call.func.value, env, module)
            if isinstance(base, (StepOutput, StepOutputs)):
                self.not_followed(module, call, "dynamic outputs (.map/.collect)")
                return Opaque(f"{call.func.attr.value}(...)", tuple(self.invocations_in(base)))
        callee, options = self.strip_options(call.func)
        symbol = self.ctx.resolve_callee(module, callee)
        if symbol is not None and symbol.kind == "function":
            definition = self.ctx.step_definition(self.framework, symbol)
            if definition is not None and definition.kind == "op":
                return self.invoke_op(definition, call, options, env, module)
            assert isinstance(self.framework, Dagster)
            graph = self.framework.graph_function(symbol)
            if graph is not None:
                return self.invoke_graph(symbol, graph[0], graph[1], call, options, env, module)
        return super().call(call, env, module)

    def invoke_graph(self, symbol: Symbol, function: cst.FunctionDef, declared: str, call: cst.Call,
                     options: list[cst.Call], env: dict[str, Value], module: ModuleInfo) -> Value:
        """A graph used as a node: its ops become ``graph.op`` (Dagster's node handles)."""
        if len(self.frames) > _MAX_GRAPH_DEPTH:
            self.not_followed(module, call, "graphs nested too deeply")
            return Opaque(declared)
        # the arguments belong to the calling graph: evaluate them before entering this one
        params = list(function.params.posonly_params) + list(function.params.params) \
            + list(function.params.kwonly_params)
        bindings: dict[str, Value] = {}
        for index, arg in enumerate(call.args):
            value = self.evaluate(arg.value, env, module)
            if arg.keyword is not None:
                bindings[arg.keyword.value] = value
            elif index < len(params):
                bindings[params[index].name.value] = value
        for param in params:
            if param.name.value not in bindings and param.default is not None:
                bindings[param.name.value] = self.evaluate(param.default, {}, symbol.module)
            bindings.setdefault(param.name.value, Opaque(f"graph input {param.name.value}"))
        name = self.node_name(declared, options, env, module)
        self.mask_invocation(call, options, env, module, "<graph>")
        if not any(node is function for _, node, _ in self.inlined):
            self.inlined.append((symbol.module, function, symbol.qualified_name))
        self.frames.append(_Frame(name + "."))
        try:
            result = self.block(function.body, bindings, symbol.module)
        finally:
            self.frames.pop()
        return result if result is not None else Opaque(declared)

    def invoke_op(self, definition: StepDefinition, call: cst.Call, options: list[cst.Call],
                  env: dict[str, Value], module: ModuleInfo) -> Value:
        positional: list[Value] = []
        keywords: dict[str, Value] = {}
        for arg in call.args:
            value = self.evaluate(arg.value, env, module)
            if arg.star:
                self.not_followed(module, arg, f"'{arg.star}' arguments to op '{definition.name}'")
            elif arg.keyword is not None:
                keywords[arg.keyword.value] = value
            else:
                positional.append(value)
        invocation_id = self.node_name(definition.name, options, env, module)
        self._ids.add(invocation_id)
        self.mask_invocation(call, options, env, module, "<step>")
        config: dict[str, Any] = {}
        lines: dict[str, tuple[str, int]] = {}
        for option in options:
            key = _OP_OPTIONS.get(_method(option))
            if key is not None and option.args:
                config[key] = self.ctx.value(option.args[0].value, module)
                lines[key] = ConfigSource(module.path, module.line(option), ORIGIN_OPTIONS)
        invocation = Invocation(invocation_id, definition, module, call, {}, config, lines)
        names = _input_names(definition.function, definition.symbol.module, self.ctx)
        bound: dict[str, Value] = {}
        for index, value in enumerate(positional):
            bound[names[index] if index < len(names) else f"${index}"] = value
        bound.update(keywords)
        for name, value in bound.items():
            invocation.inputs[name] = self.input_binding(value, invocation_id, name)
        self.invocations.append(invocation)
        return self.result_of(invocation)


# ---------------------------------------------------------------------- helpers
#: Arguments of ``define_asset_job``/``Definitions`` the graph or other pipelines record.
_SITE_GRAPH = frozenset({"name", "selection", "assets", "jobs", "schedules", "sensors", "asset_checks"})


def _remembered_site_code(call: cst.Call, module: ModuleInfo, name: str, ctx: AnalysisContext
                          ) -> tuple[dict[int, str], list[dict[str, Any]]]:
    """:func:`_site_code`, once per index while the module holds the same call (a history
    walk re-makes a location's pipelines whenever one of its assets changes; walking the
    call's arguments for repo code was a tenth of that). Its diagnostics are replayed."""
    def compute() -> tuple[dict[int, str], list[dict[str, Any]], list[Diagnostic]]:
        with capturing(ctx) as piece:
            masks, unfollowed = _site_code(call, module, name, ctx)
        return masks, unfollowed, piece.diagnostics

    # the key names the module (a new parse of it is new calls) and the call by identity
    masks, unfollowed, diagnostics = ctx.index.remember(("dagster-site", module.name, id(call), name), compute)
    ctx.report(diagnostics)
    return dict(masks), [dict(entry) for entry in unfollowed]


def _site_code(call: cst.Call, module: ModuleInfo, name: str, ctx: AnalysisContext
               ) -> tuple[dict[int, str], list[dict[str, Any]]]:
    """Masks over a ``define_asset_job``/``Definitions`` call (see ``_asset_pipeline``) and
    the repo-local calls left in it (PV023, as a pipeline body's calls are)."""
    masks: dict[int, str] = {id(call.func): "<definitions>"}
    unfollowed: list[dict[str, Any]] = []
    for position, arg in enumerate(call.args):
        keyword = arg.keyword.value if arg.keyword is not None else ("name" if position == 0 else None)
        if keyword == "resources" and binds_statically(call, module, ctx):
            masks[id(arg)] = ""  # configuration of the steps that use them (dagster_resources.attach)
            continue
        if not pipeline_calls.references_repo_code(arg.value, module, ctx.index):
            masks[id(arg)] = ""
            continue
        if keyword in _SITE_GRAPH:
            # the selection and the assets are this pipeline's nodes (a selection pvcheck
            # cannot follow makes it dynamic), jobs and schedules pipelines of their own
            masks[id(arg)] = ""
            continue
        stack: list[cst.CSTNode] = [arg.value]
        inner_calls: list[cst.Call] = []
        while stack:
            current = stack.pop()
            if isinstance(current, cst.Call):
                inner_calls.append(current)
            stack.extend(reversed(current.children))
        for inner in inner_calls:
            symbol = ctx.resolve_callee(module, inner.func)
            if symbol is None or symbol.kind != "function":
                continue  # a resource or config class: its code is in the reach, its use is the framework's
            what = f"'{symbol.qualified_name}' (a repo-local {symbol.kind})"
            ctx.diagnose(CALL_NOT_FOLLOWED, Severity.WARNING,
                         f"call of {what} in pipeline '{name}' is not a step, a nested pipeline, a framework API "
                         "or a known side-effect-free builtin", module.path, module.line(inner),
                         hint="pvcheck does not follow it: steps it runs are not in the graph, and any change to "
                              "the pipeline body is a new version; make it a step or move it out of the pipeline")
            entry = {"call": what, "path": module.path, "line": module.line(inner)}
            if entry not in unfollowed:
                unfollowed.append(entry)
    return masks, unfollowed


def _decorator(node: cst.FunctionDef, module: ModuleInfo, names: frozenset[str]
               ) -> Optional[tuple[cst.Decorator, Optional[cst.Call], str]]:
    """The Dagster decorator among ``names`` on ``node``: itself, or as pvcheck's
    ``@versioned(dg.asset, **options)`` applies it (the options are the decorator's
    keyword arguments; ``@versioned()`` alone is ``dg.asset``)."""
    found = find_decorator(node, module, names)
    if found is not None:
        return found
    wrapped = find_decorator(node, module, VERSIONED)
    if wrapped is None or wrapped[1] is None:
        return None
    call = wrapped[1]
    given = _keyword(call, "decorator") or next((a for a in call.args if a.keyword is None), None)
    if given is None:
        applied = {"dagster.asset"}
    elif isinstance(given.value, (cst.Name, cst.Attribute)):
        applied = set(module.qualified_names(given.value))
    else:
        applied = set()
    chosen = applied & names
    if not chosen:
        return None
    # the call itself stands for the decorator's: its keywords are the options (only
    # keywords are read from a decorator call), its positional argument is the decorator
    return wrapped[0], call, next(iter(chosen))


def _input_names(function: cst.FunctionDef, module: ModuleInfo, ctx: AnalysisContext) -> list[str]:
    """Parameters that are inputs: not the leading context, not Config, not resources."""
    params = list(function.params.posonly_params) + list(function.params.params)
    names = []
    for index, param in enumerate(params):
        annotation = param.annotation.annotation if param.annotation is not None else None
        qualified = _annotation_names(annotation, module)
        if index == 0 and (param.name.value in _CONTEXT_NAMES or qualified & CONTEXT_TYPES):
            continue
        if annotation is not None and _is_config_or_resource(annotation, module, ctx):
            continue
        names.append(param.name.value)
    return names


def _annotation_names(annotation: Optional[cst.BaseExpression], module: ModuleInfo) -> set[str]:
    if isinstance(annotation, cst.Subscript):
        annotation = annotation.value
    if isinstance(annotation, (cst.Name, cst.Attribute)):
        return module.qualified_names(annotation)
    return set()


def _is_config_or_resource(annotation: cst.BaseExpression, module: ModuleInfo, ctx: AnalysisContext,
                           depth: int = 0) -> bool:
    names = _annotation_names(annotation, module)
    if names & CONFIG_OR_RESOURCE or depth > 8:
        return bool(names & CONFIG_OR_RESOURCE)
    symbol = ctx.resolve_callee(module, annotation) if isinstance(annotation, (cst.Name, cst.Attribute)) else None
    if symbol is None or symbol.kind != "class" or not isinstance(symbol.node, cst.ClassDef):
        return False
    return any(_is_config_or_resource(base.value, symbol.module, ctx, depth + 1) for base in symbol.node.bases)


def _op_outputs(call: Optional[cst.Call], module: ModuleInfo) -> tuple[Output, ...]:
    out = _keyword(call, "out")
    if out is not None and isinstance(out.value, cst.Dict):
        names = [string_value(e.key) for e in out.value.elements if isinstance(e, cst.DictElement)]
        if all(n is not None for n in names):
            return tuple(Output(n) for n in names)  # type: ignore[arg-type]
    return (Output(DEFAULT_OUTPUT),)


def _asset_key(call: Optional[cst.Call], function: cst.FunctionDef, module: ModuleInfo, ctx: AnalysisContext) -> str:
    key = _keyword(call, "key")
    if key is not None:
        path = _string_path(_key_value(key.value, module, ctx))
        if path is not None:
            return "/".join(path)
        ctx.warn_dynamic(module, module.line(key), f"an asset key computed at run time for '{function.name.value}'")
        return function.name.value
    name = _keyword_string(call, "name") or function.name.value
    prefix = _keyword(call, "key_prefix")
    parts: list[str] = []
    if prefix is not None:
        found = _string_path(ctx.value(prefix.value, module))
        if found is None:
            ctx.warn_dynamic(module, module.line(prefix), f"a key prefix computed at run time for '{name}'")
        parts = found or []
    return "/".join([*parts, name])


def _key_value(expression: cst.BaseExpression, module: ModuleInfo, ctx: AnalysisContext) -> Any:
    """``AssetKey([...])`` or a plain string/list, as a value."""
    if isinstance(expression, cst.Call) and isinstance(expression.func, (cst.Name, cst.Attribute)) \
            and module.qualified_names(expression.func) & ASSET_KEY and expression.args:
        return ctx.value(expression.args[0].value, module)
    return ctx.value(expression, module)


def _string_path(value: Any) -> Optional[list[str]]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    if isinstance(value, dict) and value.get("$call", "").endswith("AssetKey") and "$args" in value:
        return _string_path(value["$args"][0])
    return None


def _multi_asset_outputs(call: Optional[cst.Call], module: ModuleInfo, ctx: AnalysisContext) -> list[str]:
    return list(_multi_asset_keys(call, module, ctx).values()) or [DEFAULT_OUTPUT]


def _multi_asset_keys(call: Optional[cst.Call], module: ModuleInfo, ctx: AnalysisContext) -> dict[str, str]:
    """A multi-asset's asset keys and their output names (``outs={...}`` or ``specs=[...]``)."""
    produces: dict[str, str] = {}
    for name, out in _dict_items(_keyword(call, "outs")).items():
        key_arg = _keyword(out, "key") if isinstance(out, cst.Call) else None
        prefix_arg = _keyword(out, "key_prefix") if isinstance(out, cst.Call) else None
        if key_arg is not None:
            path = _string_path(_key_value(key_arg.value, module, ctx))
        elif prefix_arg is not None:
            prefix = _string_path(ctx.value(prefix_arg.value, module))
            path = [*prefix, name] if prefix is not None else None
        else:
            path = [name]
        if path is not None:
            produces["/".join(path)] = name
    for spec in _list_items(_keyword(call, "specs")):
        if isinstance(spec, cst.Call) and module.qualified_names(spec.func) & ASSET_SPEC:
            first = _keyword(spec, "key") or (spec.args[0] if spec.args and spec.args[0].keyword is None else None)
            path = _string_path(_key_value(first.value, module, ctx)) if first is not None else None
            if path is not None:
                # AssetKey.to_python_identifier: the path joined by "__", other characters as "_"
                produces["/".join(path)] = re.sub(r"[^A-Za-z0-9_]", "_", "__".join(path))
    return produces


def _names_asset_maker(module: ModuleInfo) -> bool:
    """Whether a top-level decorator or assignment of ``module`` calls something named like
    an integration's asset maker (see ``AssetRegistry._opaque_assets``)."""
    for statement in module.tree.body:
        callees: list[cst.BaseExpression] = []
        if isinstance(statement, cst.FunctionDef):
            callees = [d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
                       for d in statement.decorators]
        elif isinstance(statement, cst.SimpleStatementLine):
            callees = [small.value.func for small in statement.body
                       if isinstance(small, (cst.Assign, cst.AnnAssign)) and isinstance(small.value, cst.Call)]
        for callee in callees:
            if isinstance(callee, (cst.Name, cst.Attribute)) \
                    and any(_makes_assets(n.rpartition(".")[2]) for n in module.qualified_names(callee)):
                return True
    return False


def _makes_assets(name: str) -> bool:
    """An integration's asset maker by its name: ``dbt_assets``, ``define_dagstermill_asset``
    ... -- not a class, not a function about keys, specs, selections or checks."""
    lowered = name.lower()
    return bool(re.search(r"(^|_)assets?(_|$)", lowered)) and not name[:1].isupper() \
        and not any(word in lowered for word in ("key", "spec", "selection", "check"))


def _job_selection(call: cst.Call) -> Optional[cst.BaseExpression]:
    """``define_asset_job(name, selection)``'s selection, positional or keyword."""
    selection = _keyword(call, "selection")
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return selection.value if selection is not None else (positional[1].value if len(positional) > 1 else None)


def loaded_as(nodes: list[AssetNode], prefix: list[str], group: Optional[str]) -> list[AssetNode]:
    """Assets as a loader with ``key_prefix``/``group_name`` hands them on: the keys of the
    loaded set, and references to them, get the prefix (Dagster's
    ``assets_with_loadable_prefix``); references to other assets stay; the group applies
    to assets in the default group."""
    if not prefix and group is None:
        return list(nodes)
    loaded = {key for n in nodes for key in n.produces}

    def key(k: str) -> str:
        return "/".join([*prefix, k]) if prefix and k in loaded else k

    return [replace(n, id=key(n.id) if n.id in n.produces else n.id,
                    produces={key(k): output for k, output in n.produces.items()},
                    ins={name: key(k) for name, k in n.ins.items()}, deps=[key(k) for k in n.deps],
                    group=group if group is not None and n.group == "default" else n.group) for n in nodes]


def _dict_items(arg: Optional[cst.Arg]) -> dict[str, cst.BaseExpression]:
    if arg is None or not isinstance(arg.value, cst.Dict):
        return {}
    items = {}
    for element in arg.value.elements:
        if isinstance(element, cst.DictElement):
            key = string_value(element.key)
            if key is not None:
                items[key] = element.value
    return items


def _list_items(arg: Optional[cst.Arg]) -> list[cst.BaseExpression]:
    if arg is None or not isinstance(arg.value, (cst.List, cst.Tuple)):
        return []
    return [e.value for e in arg.value.elements]


class _CallFinder(cst.CSTVisitor):
    """Calls of some methods (``.to_job``) and of some functions (``define_asset_job``), outside defs."""

    def __init__(self, module: ModuleInfo, methods: frozenset[str], functions: frozenset[str]) -> None:
        self.module = module
        self.methods = methods
        self.functions = functions
        self.method_calls: list[cst.Call] = []
        self.calls: list[cst.Call] = []
        self.depth = 0
        self.factories: list[bool] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        # the body of an @definitions factory is where a code location is defined: its
        # calls count as the module's own
        if not (self.depth == 0 and find_decorator(node, self.module, DEFINITIONS_FACTORY)):
            self.depth += 1
        self.factories.append(self.depth == 0)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        if not self.factories.pop():
            self.depth -= 1

    def visit_Call(self, node: cst.Call) -> None:
        if self.depth:
            return
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in self.methods:
            self.method_calls.append(node)
        elif isinstance(node.func, (cst.Name, cst.Attribute)) and self.module.qualified_names(node.func) & self.functions:
            self.calls.append(node)


__all__ = ["Dagster", "DagsterGraphBuilder", "AssetRegistry"]
