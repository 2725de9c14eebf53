"""flyte-sdk 2 (the ``flyte`` package): ``env = flyte.TaskEnvironment(...)`` and ``@env.task``.

Flyte 2 has no workflow to compile: a task calls other tasks while it runs, and the
graph exists only at run time. What is static, and what pvcheck reads
(``src/flyte/_task_environment.py`` of flyteorg/flyte-sdk):

* a ``TaskEnvironment`` (or ``env.clone_with(...)``) gives its tasks their image, resources,
  secrets, environment variables and cache (``TaskEnvironment.task`` passes them on);
* a task's name is ``f"{env.name}.{function name}"``;
* ``@env.task(cache=, retries=, timeout=, ...)`` configures one task.

pvcheck makes one pipeline per environment, named by the environment's name, with the
environment's tasks (defined in the module that defines it) and every task they call,
transitively, as steps (id: the function name). A call of a task inside a task's body
(direct, awaited, or through ``flyte.map``) is an ``order`` edge from caller to callee:
best effort, since which calls happen is decided at run time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Optional

import libcst as cst

from pvcheck.plugin import (AnalysisContext, Edge, Invocation, ModuleInfo, Pipeline, StepDefinition, Symbol,
                            decorator_call, keyword_string, merge_config)

if TYPE_CHECKING:
    from pvcheck.analyzer.frameworks.flyte import Flyte

TASK_ENVIRONMENT = frozenset({"flyte.TaskEnvironment", "flyte._task_environment.TaskEnvironment"})
MAP = frozenset({"flyte.map", "flyte._map.map"})
_MAX_TASKS = 512


def environment(symbol: Symbol, ctx: AnalysisContext, depth: int = 0
                ) -> Optional[tuple[str, dict[str, Any], dict[str, tuple[str, int]]]]:
    """(name, config, config lines) of a module-level ``TaskEnvironment`` assignment."""
    node = symbol.node
    if depth > 4 or symbol.kind != "constant" or not isinstance(node, cst.Assign) \
            or not isinstance(node.value, cst.Call):
        return None
    call = node.value
    module = symbol.module
    func = call.func
    if isinstance(func, (cst.Name, cst.Attribute)) and _is_task_environment(module.qualified_names(func)):
        config, lines = ctx.keyword_config(call, module, skip=("name",))
        name = keyword_string(call, "name")
        if name is None and call.args and call.args[0].keyword is None:
            first = ctx.value(call.args[0].value, module)
            name = first if isinstance(first, str) else None
        return (name or symbol.name), config, lines
    if isinstance(func, cst.Attribute) and func.attr.value == "clone_with":
        base = ctx.resolve_callee(module, func.value)
        found = environment(base, ctx, depth + 1) if base is not None else None
        if found is None:
            return None
        config, lines = ctx.keyword_config(call, module, skip=("name",))
        return keyword_string(call, "name") or found[0], merge_config(found[1], config), {**found[2], **lines}
    return None


def _is_task_environment(qualified: frozenset[str]) -> bool:
    """``flyte.TaskEnvironment``, or a plug-in's subclass of it from the flyte packages
    (``flyteplugins.*.ClusteredTaskEnvironment`` ...), which takes the same arguments."""
    return bool(qualified & TASK_ENVIRONMENT) or any(
        name.startswith(("flyte.", "flyteplugins.")) and name.endswith("TaskEnvironment") for name in qualified)


def _decorating_environment(node: cst.FunctionDef, module: ModuleInfo, ctx: AnalysisContext
                            ) -> Optional[tuple[Symbol, Optional[cst.Call]]]:
    for decorator in node.decorators:
        callee, call = decorator_call(decorator)
        if isinstance(callee, cst.Attribute) and callee.attr.value == "task":
            symbol = ctx.resolve_callee(module, callee.value)
            if symbol is not None and environment(symbol, ctx) is not None:
                return symbol, call
    return None


def task_definition(framework: str, symbol: Symbol, ctx: AnalysisContext) -> Optional[StepDefinition]:
    """The step an ``@env.task`` function declares: the environment's settings, then its own."""
    node = symbol.node
    if not isinstance(node, cst.FunctionDef) or not node.decorators:
        return None
    found = _decorating_environment(node, symbol.module, ctx)
    if found is None:
        return None
    env_symbol, call = found
    env = environment(env_symbol, ctx)
    assert env is not None
    name, env_config, env_lines = env
    config, lines = ctx.keyword_config(call, symbol.module, skip=("short_name",))
    from pvcheck.analyzer.frameworks.flyte import outputs

    return StepDefinition(symbol, framework, "task", f"{name}.{node.name.value}",
                          merge_config(_inherited(env_config), config), {**env_lines, **lines},
                          outputs(node, symbol.module, ctx))


def _inherited(config: dict[str, Any]) -> dict[str, Any]:
    # depends_on only tells the deployer what else to deploy; the rest reaches every task
    return {k: v for k, v in config.items() if k != "depends_on"}


def environment_pipelines(framework: "Flyte", module: ModuleInfo, ctx: AnalysisContext) -> Iterable[Pipeline]:
    if "TaskEnvironment" in module.text or "clone_with" in module.text:
        for symbols in module.symbols.values():
            for symbol in symbols:
                env = environment(symbol, ctx)
                if env is not None:
                    yield _pipeline(framework, symbol, env, ctx)
    if ".task" in module.text:
        _report_unreached(framework, module, ctx)


def _own_tasks(framework: "Flyte", module: ModuleInfo, env_symbol: Symbol, ctx: AnalysisContext
               ) -> list[StepDefinition]:
    """The tasks ``module`` defines with ``@env.task`` of the environment ``env_symbol``."""
    found: list[StepDefinition] = []
    for symbols in module.symbols.values():
        for symbol in symbols:
            if symbol.kind == "function" and isinstance(symbol.node, cst.FunctionDef) and symbol.node.decorators:
                decorating = _decorating_environment(symbol.node, module, ctx)
                if decorating is not None and decorating[0].qualified_name == env_symbol.qualified_name:
                    definition = ctx.step_definition(framework, symbol)
                    if definition is not None:
                        found.append(definition)
    return found


def _report_unreached(framework: "Flyte", module: ModuleInfo, ctx: AnalysisContext) -> None:
    """A task defined outside its environment's module belongs to the environment's pipeline
    only when one of that module's tasks calls it (directly or transitively): say so when not."""
    for symbols in module.symbols.values():
        for symbol in symbols:
            if symbol.kind != "function" or not isinstance(symbol.node, cst.FunctionDef) or not symbol.node.decorators:
                continue
            decorating = _decorating_environment(symbol.node, module, ctx)
            if decorating is None:
                _report_unresolved_environment(symbol, ctx)
                continue
            if decorating[0].module is module:
                continue
            env_symbol = decorating[0]
            reached = _closure(framework, _own_tasks(framework, env_symbol.module, env_symbol, ctx), ctx)[0]
            if symbol.qualified_name not in reached:
                ctx.warn_dynamic(module, module.line(symbol.node), f"flyte task '{symbol.name}' of environment "
                                 f"'{env_symbol.name}' is defined outside {env_symbol.module.path} and no task "
                                 "there calls it; it is in no pipeline")


def _report_unresolved_environment(symbol: Symbol, ctx: AnalysisContext) -> None:
    """``@env.task`` where ``env`` is imported from a module of the tree under another name."""
    from pvcheck.analyzer.frameworks.flyte import misplaced_module

    assert isinstance(symbol.node, cst.FunctionDef)
    for decorator in symbol.node.decorators:
        callee, _ = decorator_call(decorator)
        if not isinstance(callee, cst.Attribute) or callee.attr.value != "task" \
                or not isinstance(callee.value, (cst.Name, cst.Attribute)):
            continue
        qualified = symbol.module.qualified_names(callee.value)
        if len(qualified) != 1 or ctx.resolve_callee(symbol.module, callee.value) is not None:
            continue
        meant = misplaced_module(next(iter(qualified)), ctx)
        if meant is not None:
            ctx.warn_dynamic(symbol.module, symbol.module.line(symbol.node),
                             f"task '{symbol.name}': '{next(iter(qualified))}' resolves to nothing in the tree "
                             f"(is it in '{meant}'? set `roots` so module names match imports)")


def _closure(framework: "Flyte", pending: list[StepDefinition], ctx: AnalysisContext
             ) -> tuple[dict[str, str], dict[str, Invocation], list[Edge]]:
    """Tasks reached from ``pending`` by calls: qualified name -> step id, the invocations,
    and the caller -> callee edges (by qualified name)."""
    invocations: dict[str, Invocation] = {}
    ids: dict[str, str] = {}
    edges: list[Edge] = []
    pending = list(pending)
    while pending and len(ids) < _MAX_TASKS:
        definition = pending.pop(0)
        if definition.qualified_name in ids:
            continue
        step_id = _unique(definition.symbol.name, invocations)
        ids[definition.qualified_name] = step_id
        invocations[step_id] = Invocation(step_id, definition, definition.symbol.module, definition.symbol.node)
        for callee in _called_tasks(framework, definition, ctx):
            pending.append(callee)
            edges.append(Edge(definition.qualified_name, callee.qualified_name, "order"))
    return ids, invocations, edges


def _pipeline(framework: "Flyte", env_symbol: Symbol, env: tuple[str, dict[str, Any], dict[str, tuple[str, int]]],
              ctx: AnalysisContext) -> Pipeline:
    name, config, lines = env
    ids, invocations, edges = _closure(framework, _own_tasks(framework, env_symbol.module, env_symbol, ctx), ctx)
    edges = [Edge(ids[e.source], ids[e.target], "order") for e in edges if e.source in ids and e.target in ids]
    node = env_symbol.node
    assert node is not None
    return ctx.make_pipeline(name=name, framework=framework.name, symbol=env_symbol, node=node,
                             invocations=list(invocations.values()), edges=edges, config=config,
                             config_lines=lines)


def _unique(base: str, taken: dict[str, Invocation]) -> str:
    candidate, index = base, 2
    while candidate in taken:
        candidate = f"{base}_{index}"
        index += 1
    return candidate


def _called_tasks(framework: "Flyte", definition: StepDefinition, ctx: AnalysisContext) -> list[StepDefinition]:
    """The tasks a task's body calls (``t(...)``, ``await t(...)``, ``flyte.map(t, ...)``), in order."""
    module = definition.symbol.module
    found: list[StepDefinition] = []
    for call in _calls(definition.function.body):
        targets = [call.func]
        if isinstance(call.func, (cst.Name, cst.Attribute)) and module.qualified_names(call.func) & MAP and call.args:
            targets.append(call.args[0].value)
        for target in targets:
            symbol = ctx.resolve_callee(module, target) if isinstance(target, (cst.Name, cst.Attribute)) else None
            callee = ctx.step_definition(framework, symbol) if symbol is not None else None
            if callee is not None and callee.qualified_name != definition.qualified_name:
                found.append(callee)
    return found


def _calls(node: cst.CSTNode) -> list[cst.Call]:
    found: list[cst.Call] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Call):
            found.append(current)
        stack.extend(reversed(current.children))
    return found
