"""Dagster resources bound in a code location: configuration and code of the steps using them.

``Definitions(resources={"warehouse": Warehouse(scale=2.0)})`` hands an asset (or an op
of a ``@job`` its ``jobs=[...]`` lists) that asks
for ``warehouse`` (a parameter of that name, or ``required_resource_keys``) the object
built there. For each step that uses a bound resource:

* the constructor's arguments are the step's configuration, under ``resources.<key>``
  (a change is a config finding, a `run`: Dagster's ``code_version`` does not cover
  resources, and neither does pvcheck's code fingerprint);
* a repo-local resource class joins the step's reach: its methods run inside the step,
  so editing one changes what the step computes (a `version`).

The step's parameter annotation usually names the class already
(:mod:`pvcheck.analyzer.annotations`); a resource used through
``context.resources.<key>`` only names its key, and the binding is then the only place
the class is seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import libcst as cst

from pvcheck.analyzer import pipeline_calls
from pvcheck.analyzer.context import AnalysisContext, Invocation
from pvcheck.analyzer.frameworks.base import keyword_arg
from pvcheck.analyzer.frameworks.dagster_locations import Location
from pvcheck.analyzer.module import ModuleInfo, Symbol
from pvcheck.analyzer.values import string_value
from pvcheck.model import ORIGIN_RESOURCE, ConfigSource

_MAX_DEPTH = 8


@dataclass(frozen=True)
class Binding:
    """One ``key: resource`` entry of a ``Definitions(resources=...)``."""

    value: Any  # the constructor call as configuration: {"$call": ..., arg: value}
    classes: tuple[Symbol, ...]  # the repo-local class built, if any
    path: str
    line: int


def bound_resources(call: cst.Call, module: ModuleInfo, ctx: AnalysisContext) -> dict[str, Binding]:
    """The resources a ``Definitions(...)`` call binds, by key (literal keys only)."""
    found: dict[str, Binding] = {}
    for key, resource, home in _entries(call, module, ctx) or ():
        if key is None:
            continue
        classes: tuple[Symbol, ...] = ()
        if isinstance(resource, cst.Call):
            built = ctx.resolve_callee(home, resource.func)
            if built is not None and built.kind == "class":
                classes = (built,)
        found[key] = Binding(ctx.value(resource, home), classes, home.path, home.line(resource))
    return found


def binds_statically(call: cst.Call, module: ModuleInfo, ctx: AnalysisContext) -> bool:
    """Whether every resource ``Definitions(resources=...)`` binds is read by
    :func:`bound_resources` whole: a literal key, a constructor whose arguments reach no
    repo code. Then the argument is configuration of the steps using each resource (and
    the classes are in their reach), not the pipeline's own code."""
    entries = _entries(call, module, ctx)
    return entries is not None and all(
        key is not None and isinstance(resource, cst.Call)
        and not any(pipeline_calls.references_repo_code(a.value, home, ctx.index) for a in resource.args)
        for key, resource, home in entries)


def _entries(call: cst.Call, module: ModuleInfo, ctx: AnalysisContext
             ) -> Optional[list[tuple[Optional[str], cst.BaseExpression, ModuleInfo]]]:
    """The ``key: resource`` entries of ``Definitions(resources=...)``, each resource
    followed to where it is built; ``None`` as the key of an entry without a literal key
    (a ``**spread``, a computed key). ``None`` when the argument is absent or not a dict."""
    argument = keyword_arg(call, "resources")
    if argument is None:
        return None
    table, where = _follow(argument.value, module, ctx, 0)
    if not isinstance(table, cst.Dict):
        return None
    entries: list[tuple[Optional[str], cst.BaseExpression, ModuleInfo]] = []
    for element in table.elements:
        key = string_value(element.key) if isinstance(element, cst.DictElement) else None
        if not isinstance(key, str):
            entries.append((None, element.value, where))
            continue
        resource, home = _follow(element.value, where, ctx, 0)
        entries.append((key, resource, home))
    return entries


def _follow(node: cst.BaseExpression, module: ModuleInfo, ctx: AnalysisContext, depth: int
            ) -> tuple[cst.BaseExpression, ModuleInfo]:
    """A name of a module constant (``RESOURCES``, ``warehouse = Warehouse(...)``) as the
    expression assigned to it, where it is assigned."""
    if depth > _MAX_DEPTH or not isinstance(node, (cst.Name, cst.Attribute)):
        return node, module
    names = module.qualified_names(node)
    resolved = ctx.index.resolve(next(iter(names))) if len(names) == 1 else None
    if resolved is None or resolved[1] or resolved[0].kind != "constant":
        return node, module
    symbol = resolved[0]
    assignments = [s.node for s in symbol.module.symbols.get(symbol.name, []) if s.kind == "constant"]
    if len(assignments) != 1 or not isinstance(assignments[0], (cst.Assign, cst.AnnAssign)) \
            or assignments[0].value is None:
        return node, module
    return _follow(assignments[0].value, symbol.module, ctx, depth + 1)


def used_keys(invocation: Invocation, ctx: AnalysisContext) -> set[str]:
    """The resource keys a step asks for: its parameters' names, ``required_resource_keys``,
    and the IO managers that store its outputs and load its inputs (custom materializers):
    ``io_manager_key=`` (``io_manager`` when it names none) and the ``io_manager_key`` /
    ``input_manager_key`` of its ``AssetOut``/``Out``/``AssetIn``/``In``."""
    config = invocation.definition.config
    keys = {p.name for p in ctx.function_facts(invocation.definition).parameters}
    required = config.get("required_resource_keys")
    if isinstance(required, dict):
        required = required.get("$set")
    if isinstance(required, (list, tuple)):
        keys.update(k for k in required if isinstance(k, str))
    own = config.get("io_manager_key")
    keys.add(own if isinstance(own, str) else "io_manager")
    node = invocation.definition.symbol.node
    for decorator in node.decorators if isinstance(node, cst.FunctionDef) else ():
        keys.update(_manager_keys(decorator.decorator))
    return keys


_MANAGER_KEYWORDS = frozenset({"io_manager_key", "input_manager_key"})


def _manager_keys(decorator: cst.BaseExpression) -> set[str]:
    """The literal ``io_manager_key=`` / ``input_manager_key=`` anywhere in a decorator
    (``outs={"a": AssetOut(io_manager_key="csv")}``, ``ins={...: AssetIn(...)}``)."""
    found: set[str] = set()
    stack: list[cst.CSTNode] = [decorator]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Arg) and node.keyword is not None and node.keyword.value in _MANAGER_KEYWORDS:
            key = string_value(node.value)
            if key is not None:
                found.add(key)
        stack.extend(node.children)
    return found


def attach(invocations: list[Invocation], bindings: dict[str, Binding], ctx: AnalysisContext) -> None:
    """Give each step the resources it uses: their arguments as configuration, their
    repo-local classes as reach."""
    if not bindings:
        return
    for invocation in invocations:
        keys = sorted(used_keys(invocation, ctx) & bindings.keys())
        if not keys:
            continue
        resources = invocation.config.setdefault("resources", {})
        for key in keys:
            binding = bindings[key]
            resources[key] = binding.value
            invocation.config_lines[f"resources.{key}"] = ConfigSource(binding.path, binding.line, ORIGIN_RESOURCE)
            invocation.reach.extend(c for c in binding.classes if c not in invocation.reach)


def job_location(locations: list[Location], call: cst.Call) -> Optional[tuple[cst.Call, ModuleInfo]]:
    """The ``Definitions(...)`` (and its module) whose ``jobs=[...]`` lists an asset job."""
    for location in locations:
        if id(call) in location.jobs and not location.package:
            return location.call, location.module
    return None


def job_bindings(locations: list[Location], job: Symbol, ctx: AnalysisContext) -> dict[str, Binding]:
    """The resources of the ``Definitions(...)`` whose ``jobs=[...]`` lists a ``@job``."""
    for location in locations:
        listed = keyword_arg(location.call, "jobs")
        if location.package or listed is None or not isinstance(listed.value, (cst.List, cst.Tuple)):
            continue
        for element in listed.value.elements:
            found = ctx.resolve_callee(location.module, element.value)
            if found is not None and found.qualified_name == job.qualified_name:
                return bound_resources(location.call, location.module, ctx)
    return {}


__all__ = ["Binding", "attach", "bound_resources", "job_bindings", "job_location", "used_keys"]
