"""Kedro: nodes wired by dataset names, pipelines registered in ``pipeline_registry.py``.

What Kedro does at run time, and what this module mirrors statically:

* ``register_pipelines()`` returns the project's pipelines by name; ``find_pipelines()``
  collects ``create_pipeline()`` of every ``<package>.pipelines.<name>`` (and of
  ``<package>.pipeline``, the simplified starter layout, as ``__default__``);
* a node's name is ``name=`` or, in Kedro 1.x, ``func__`` plus 8 hex digits of a sha256
  (Kedro 0.x: ``func([a;b]) -> [c]``), prefixed by its namespace;
* an edge joins the node writing a dataset to every node reading it (``x@pandas`` is
  ``x``); ``params:`` inputs read ``conf/<env>/parameters*.yml``, datasets are
  described in ``conf/<env>/catalog*.yml`` (see :mod:`.kedro_conf`).

Without a registry in the tree (a scan of part of a project), each ``create_pipeline``
of the standard layouts is a pipeline on its own, named as ``find_pipelines`` names it.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any, Iterable, Optional

import libcst as cst

from pvcheck.analyzer.frameworks.kedro_conf import KedroConf, load_conf, resolve_placeholders, split_entry
from pvcheck.analyzer.frameworks.kedro_eval import Evaluator, KNode, KPipe, Opaque, node_name, strip_transcoding
from pvcheck.plugin import (AnalysisContext, Edge, Framework, FromAsset, GraphInput, Invocation, ModuleInfo, Pipeline,
                            Severity, StepDefinition, Symbol)
from pvcheck.diagnostics import NOT_FOLLOWED
from pvcheck.plugin import ORIGIN_DECORATOR, ConfigSource, module_name

_SPEC = re.compile(r"""(?im)^[\s"']*kedro(?:\[[^\]]*\])?\s*(==|~=|<=|<|>=|>)?\s*(\d+)\.(\d+)""")
_UPPER = re.compile(r"""(?im)^[\s"']*kedro(?:\[[^\]]*\])?[^\n,]*,\s*<\s*(\d+)(?:\.(\d+))?""")
_INIT_VERSION = re.compile(r"""(?m)^\s*kedro_init_version\s*=\s*["'](\d+)\.""")


class Kedro(Framework):
    name = "kedro"
    markers = (b"kedro", b"register_pipelines")  # a registry need not import kedro itself
    pipeline_markers = (b"register_pipelines", b"create_pipeline")

    def step_definition(self, symbol: Symbol, ctx: AnalysisContext) -> Optional[StepDefinition]:
        return None  # a node's function is a plain function: it is a step only where a node() names it

    def pipelines(self, module: ModuleInfo, ctx: AnalysisContext) -> Iterable[Pipeline]:
        registry = _function(module, "register_pipelines")
        if registry is not None and module.name.rpartition(".")[2] == "pipeline_registry":
            yield from self._registry(module, registry, ctx)
            return
        create = _function(module, "create_pipeline")
        if create is None:
            return
        found = _layout(module, ctx)
        if found is None:
            return
        package, name = found
        owner = ctx.index.module(f"{package}.pipeline_registry" if package else "pipeline_registry")
        if owner is not None and _function(owner, "register_pipelines") is not None:
            return  # the registry names this pipeline (or leaves it out, as Kedro would)
        project = _project_dir(ctx, module.path)
        evaluator = self._evaluator(ctx)
        value = evaluator.call_function(create, [], module, create.node)
        if not isinstance(value, KPipe):
            value = KPipe([], create)
            evaluator.not_followed(module, create.node, "create_pipeline() does not return a pipeline pvcheck can read")
        yield self._model(name, value.origin or create, value, ctx, project, evaluator.dynamic)

    # ------------------------------------------------------------------ the registry
    def _registry(self, module: ModuleInfo, registry: Symbol, ctx: AnalysisContext) -> Iterable[Pipeline]:
        project = _project_dir(ctx, module.path)
        evaluator = self._evaluator(ctx)
        result = evaluator.call_function(registry, [], module, registry.node)
        if not isinstance(result, dict):
            evaluator.not_followed(module, registry.node, "register_pipelines() does not return a dict pvcheck can "
                                   "read; its pipelines are not analyzed")
            return
        for key in sorted(result, key=str):
            value = result[key]
            if not isinstance(key, str) or not isinstance(value, KPipe):
                evaluator.not_followed(module, registry.node, f"the registered pipeline {key!r} is not a pipeline "
                                       "pvcheck can read")
                continue
            yield self._model(key, value.origin or registry, value, ctx, project, evaluator.dynamic)

    def _evaluator(self, ctx: AnalysisContext) -> Evaluator:
        return Evaluator(ctx, _kedro_module, self._find_pipelines)

    def _find_pipelines(self, module: ModuleInfo, call: cst.Call, evaluator: Evaluator) -> Any:
        """``find_pipelines()`` of the registry's package, as Kedro imports them."""
        ctx = evaluator.ctx
        wanted: Optional[list[str]] = None
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == "pipelines_to_find":
                value = evaluator.evaluate(arg.value, {}, module)
                if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                    return evaluator.not_followed(module, arg, "find_pipelines(pipelines_to_find=...) computed at "
                                                  "run time")
                wanted = value
        package = module.package
        prefix = f"{package}." if package else ""
        load_all = wanted is None or "__default__" in wanted
        found: dict[str, Any] = {}
        if load_all:
            default = ctx.index.resolve(f"{prefix}pipeline.create_pipeline")
            found["__default__"] = KPipe([])
            if default is not None and not default[1] and isinstance(default[0].node, cst.FunctionDef):
                value = evaluator.call_function(default[0], [], module, call)
                found["__default__"] = value if isinstance(value, KPipe) else KPipe([])
        names: set[str] = set()
        for file in ctx.index.files:
            if file.module.startswith(f"{prefix}pipelines."):
                rest = file.module[len(f"{prefix}pipelines."):].split(".")
                if len(rest) > 1 or file.is_package:
                    names.add(rest[0])
        for name in sorted(names):
            if wanted is not None and not load_all and name not in wanted:
                continue
            resolved = ctx.index.resolve(f"{prefix}pipelines.{name}.create_pipeline")
            if resolved is None or resolved[1] or not isinstance(resolved[0].node, cst.FunctionDef):
                evaluator.ctx.diagnose(NOT_FOLLOWED, Severity.WARNING, f"find_pipelines(): {prefix}pipelines.{name} has "
                                       "no create_pipeline function pvcheck can read; Kedro skips it too",
                                       module.path, module.line(call),
                                       hint="export create_pipeline from the pipeline package's __init__.py")
                continue
            value = evaluator.call_function(resolved[0], [], module, call)
            if isinstance(value, KPipe):
                found[name] = value
            else:
                evaluator.not_followed(module, call, f"create_pipeline() of {name} does not return a pipeline")
        return found

    # ------------------------------------------------------------------ the model
    def _model(self, name: str, symbol: Symbol, pipe: KPipe, ctx: AnalysisContext, project: str,
               dynamic: bool) -> Pipeline:
        conf = load_conf(ctx, project)
        legacy = _legacy_naming(ctx, project)
        nodes: list[tuple[str, KNode]] = []
        seen: set[str] = set()
        for node in pipe.nodes:
            node_id = node_name(node, legacy)
            if node_id in seen:
                ctx.diagnose(NOT_FOLLOWED, Severity.WARNING, f"pipeline '{name}': two different nodes are named "
                             f"'{node_id}' (Kedro refuses this); the second is left out", node.module.path,
                             node.module.line(node.call), hint="give the nodes distinct name= values")
                dynamic = True
                continue
            seen.add(node_id)
            nodes.append((node_id, node))
        producers: dict[str, str] = {}
        for node_id, node in nodes:
            for output in node.output_list():
                producers.setdefault(strip_transcoding(output), node_id)
        invocations: list[Invocation] = []
        edges: list[Edge] = []
        for node_id, node in nodes:
            invocation = self._invocation(node_id, node, conf, ctx)
            invocations.append(invocation)
            for key, dataset in _input_keys(node):
                producer = producers.get(strip_transcoding(dataset))
                if producer is not None and producer != node_id:
                    edges.append(Edge(producer, node_id, "data", strip_transcoding(dataset), key))
        node = symbol.node if symbol.node is not None else symbol.module.tree
        return ctx.make_pipeline(name=name, framework=self.name, symbol=symbol, node=node,
                                 invocations=invocations, edges=edges, config={}, config_lines={},
                                 dynamic=dynamic)

    def _invocation(self, node_id: str, node: KNode, conf: KedroConf, ctx: AnalysisContext) -> Invocation:
        inputs: dict[str, Any] = {}
        config: dict[str, Any] = {}
        lines: dict[str, tuple[str, int]] = {}
        where = (node.module.path, node.module.line(node.call))
        own = ConfigSource(*where, ORIGIN_DECORATOR)  # node(..., tags=, confirms= ...): the node's own keywords
        datasets: list[str] = []  # the catalog's dataset types the node loads and saves through
        for key, dataset in _input_keys(node):
            if dataset == "parameters":
                inputs[key] = FromAsset(dataset)
                config["parameters"] = dict(conf.parameters)
                lines.update({f"parameters.{k}": v for k, v in conf.parameter_lines.items()})
            elif dataset.startswith("params:"):
                inputs[key] = FromAsset(dataset)
                parameter = dataset[len("params:"):]
                known, value = conf.parameter(parameter)
                if not known and conf.found:
                    ctx.diagnose(NOT_FOLLOWED, Severity.WARNING, f"node {node_id} reads '{dataset}', which no "
                                 "conf/base or conf/local parameters file defines", *where,
                                 hint="define it, or expect its value at run time (--params) to go unchecked")
                config.setdefault("parameters", {})[parameter] = value
                top = conf.parameter_lines.get(parameter.split(".")[0])
                if top is not None:
                    lines[f"parameters.{parameter}"] = top
            else:
                inputs[key] = self._dataset(dataset, conf, config, lines, datasets)
        inputs["$outputs"] = GraphInput([self._dataset(o, conf, config, lines, datasets)
                                         for o in node.output_list()])
        for key, value in node.func.bound.items():
            inputs[f"partial.{key}"] = value
        if node.tags:
            config["tags"] = list(node.tags)
            lines["tags"] = own
        for key, value in node.options.items():
            config[key] = value
            lines[key] = own
        if node.confirms:
            config["confirms"] = node.confirms
            lines["confirms"] = own
        invocation = Invocation(node_id, node.func.definition, node.module, node.call, inputs, config, lines)
        # a dataset class of the project (`type: rocket_demand.datasets.ReportDataset`) is a
        # custom materializer: its code loads and saves what the node computes
        for dotted in sorted(set(datasets)):
            resolved = ctx.index.resolve(dotted)
            if resolved is not None and not resolved[1] and resolved[0].kind == "class" \
                    and resolved[0] not in invocation.reach:
                invocation.reach.append(resolved[0])
        return invocation

    @staticmethod
    def _dataset(dataset: str, conf: KedroConf, config: dict[str, Any], lines: dict[str, tuple[str, int]],
                 types: list[str]) -> FromAsset:
        """A dataset as a node sees it: its name and the catalog keys that shape the data
        (a version when they change); where it lives goes to the configuration (a run).
        The dataset types its entry names (nested ones too) are added to ``types``."""
        details: dict[str, Any] = {}
        found = conf.dataset(dataset)
        if found is not None:
            key, entry = found
            if "{" in key:
                entry = resolve_placeholders(entry, key, dataset)
            types.extend(_types(entry))
            run, version = split_entry(entry)
            details["catalog"] = version
            if run:
                config.setdefault("catalog", {})[dataset] = run
            if key in conf.catalog_lines:
                lines[f"catalog.{dataset}"] = conf.catalog_lines[key]
        return FromAsset(dataset, details)


def _types(entry: Any, depth: int = 0) -> list[str]:
    """The dotted class names a catalog entry loads through: its ``type``, and those of the
    datasets it wraps (``PartitionedDataset``'s ``dataset``, as a name or an entry)."""
    found: list[str] = []
    if isinstance(entry, dict) and depth < 8:
        for key, value in entry.items():
            if key in ("type", "dataset") and isinstance(value, str):
                found.append(value)
            elif isinstance(value, (dict, list)):
                found.extend(_types(value, depth + 1))
    elif isinstance(entry, list) and depth < 8:
        for value in entry:
            found.extend(_types(value, depth + 1))
    return found


def _input_keys(node: KNode) -> list[tuple[str, str]]:
    """(the function parameter an input binds to, the dataset name) for each input."""
    if isinstance(node.inputs, dict):  # in signature order, as KNode.input_list() orders them
        order = {p: i for i, p in enumerate(node.func.parameters)}
        return sorted(node.inputs.items(), key=lambda item: order.get(item[0], len(order)))
    names = node.func.parameters
    return [(names[i] if i < len(names) else f"#{i}", dataset) for i, dataset in enumerate(node.input_list())]


def _function(module: ModuleInfo, name: str) -> Optional[Symbol]:
    symbol = module.symbol(name)
    return symbol if symbol is not None and symbol.kind == "function" else None


def _layout(module: ModuleInfo, ctx: AnalysisContext) -> Optional[tuple[str, str]]:
    """(package, pipeline name) for a ``create_pipeline`` that ``find_pipelines`` would
    find: ``<package>.pipelines.<name>`` (usually re-exported from its ``pipeline``
    module) or ``<package>.pipeline`` (``__default__``)."""
    parts = module.name.split(".")
    for index in range(len(parts) - 2, -1, -1):
        if parts[index] == "pipelines":
            package = ".".join(parts[:index])
            name = parts[index + 1]
            target = ".".join((*parts[:index + 2], "create_pipeline"))
            resolved = ctx.index.resolve(target)
            if resolved is not None and resolved[0].module is module:
                return package, name
            return None
    if parts[-1] == "pipeline":
        return ".".join(parts[:-1]), "__default__"
    return None


def _kedro_module(module: ModuleInfo) -> str:
    """``func.__module__`` as Kedro sees it: the module name below the ``src`` folder."""
    parts = PurePosixPath(module.path).parts
    if "src" in parts[:-1]:
        cut = len(parts) - 1 - list(reversed(parts[:-1])).index("src")
        return module_name("/".join(parts[cut:]))[0]
    return module.name


def _project_dir(ctx: AnalysisContext, path: str) -> str:
    """The nearest folder above ``path`` with a ``conf/`` folder (the Kedro project)."""
    parts = PurePosixPath(path).parent.parts
    for cut in range(len(parts), -1, -1):
        folder = "/".join(parts[:cut])
        if ctx.project_files(f"{folder}/conf/*/*" if folder else "conf/*/*"):
            return folder
    return ""


def _legacy_naming(ctx: AnalysisContext, project: str) -> bool:
    """Whether the project pins Kedro 0.x (node names ``func([a]) -> [b]``): an ``==``,
    ``~=`` or ``<=`` pin on 0.x, or an upper bound ``<1.0``, in its requirements or
    pyproject; failing that, a ``kedro_init_version`` of 0.x. Otherwise Kedro 1.x naming."""
    prefix = f"{project}/" if project else ""
    init_version: Optional[str] = None
    for name in ("requirements.txt", "src/requirements.txt", "pyproject.toml"):
        if not ctx.project_files(f"{prefix}{name}"):
            continue
        try:
            text = (ctx.root / f"{prefix}{name}").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for match in _SPEC.finditer(text):
            operator, major, minor = match.group(1), int(match.group(2)), int(match.group(3))
            if operator in ("==", "~=", "<="):
                return major == 0
            bound = (operator, major, minor) if operator == "<" else None
            if bound is None:
                upper = _UPPER.match(text, match.start())
                bound = ("<", int(upper.group(1)), int(upper.group(2) or 0)) if upper is not None else None
            if bound is not None:
                return (bound[1], bound[2]) <= (1, 0)
        found = _INIT_VERSION.search(text)
        if found is not None and init_version is None:
            init_version = found.group(1)
    return init_version == "0"


__all__ = ["Kedro", "Opaque"]
