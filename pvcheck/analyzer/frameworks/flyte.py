"""Flyte: ``@task`` functions wired into ``@workflow`` functions (flytekit 1.x), and
``@env.task`` functions of a ``TaskEnvironment`` (flyte-sdk 2, the ``flyte`` package).

What flytekit does when it compiles a workflow, and what this plug-in mirrors statically
(read in ``flytekit/core`` of flyteorg/flytekit, 1.16):

* a task's and a workflow's name is ``module.function`` (``tracker.extract_task_module``);
  ``@task`` takes no ``name=``;
* calling a task, a workflow or a launch plan inside a workflow adds one node whose id is
  ``f"{prefix}n{len(compilation_state.nodes)}"`` (``promise.create_and_link_node``): ``n0``,
  ``n1`` ... in call order; ``.with_overrides(node_name=...)`` replaces the id with the
  DNS-safe form of the name (``node.Node.with_overrides``, ``utils._dnsify``);
* a call returns a ``Promise`` (one output), a named tuple of promises (several outputs,
  or a ``NamedTuple`` return: fields ``o0``, ``o1`` ... or the tuple's names) or a
  ``VoidPromise`` (no output); ``create_node(t, ...)`` returns the ``Node``, whose outputs
  are attributes and ``.outputs[...]``;
* ``a >> b`` and ``node.runs_before(other)`` add ``a``'s node upstream of ``b``'s; on the
  named tuple of a multi-output task both are no-ops (``promise.create_task_output``), and
  so is ``runs_before`` on a ``VoidPromise``;
* ``conditional(name)`` opens a compilation state of its own (``enter_conditional_section``,
  same prefix, no nodes): the tasks in its ``then(...)`` branches are numbered ``n0``,
  ``n1`` ... inside it, and the branch node itself takes the next id of the workflow's
  counter when the last case (``else_()``) ends (``ConditionalSection.end_branch``);
* a subworkflow or launch plan called in a workflow is one node; pvcheck reads its
  workflow too and names its nodes ``<node>-<inner id>``, so its tasks are covered;
* ``map_task(t)`` / ``map_task(functools.partial(t, ...))`` make one array node.

The graph builder is in ``flyte_graph.py``, flyte-sdk 2 in ``flyte_v2.py``.
"""

from __future__ import annotations

from typing import Iterable, Optional

import libcst as cst

from pvcheck.plugin import (AnalysisContext, ConfigAttachment, DecoratedPipelines, ModuleInfo, Output, Pipeline,
                            StepDefinition, Symbol, assemble_pipeline, calls_and_imports, find_decorator,
                            named_tuple_outputs, pipeline_config)
from pvcheck.plugin import ORIGIN_OPTIONS, ConfigSource

TASK_DECORATORS = ("flytekit.task", "flytekit.core.task.task")
DYNAMIC_DECORATORS = ("flytekit.dynamic", "flytekit.core.dynamic_workflow_task.dynamic", "flytekit.core.task.dynamic")
EAGER_DECORATORS = ("flytekit.eager", "flytekit.core.task.eager")
WORKFLOW_DECORATORS = ("flytekit.workflow", "flytekit.core.workflow.workflow")
LAUNCH_PLAN_FACTORIES = frozenset({
    "flytekit.LaunchPlan.get_or_create", "flytekit.core.launch_plan.LaunchPlan.get_or_create",
    "flytekit.LaunchPlan.create", "flytekit.core.launch_plan.LaunchPlan.create",
})
_TUPLE = frozenset({"typing.Tuple", "tuple"})


class Flyte(DecoratedPipelines):
    name = "flyte"
    markers = (b"flyte", b".task")  # flyte-sdk 2 tasks may import only their environment
    pipeline_decorators = WORKFLOW_DECORATORS
    # workflows, and flyte-sdk 2 environments, whose tasks are the pipeline
    pipeline_markers = (b"workflow", b"Workflow(", b"TaskEnvironment", b".task")

    def step_definition(self, symbol: Symbol, ctx: AnalysisContext) -> Optional[StepDefinition]:
        node = symbol.node
        if not isinstance(node, cst.FunctionDef):
            return None
        found = find_decorator(node, symbol.module, TASK_DECORATORS + DYNAMIC_DECORATORS + EAGER_DECORATORS)
        if found is None:
            from pvcheck.analyzer.frameworks.flyte_v2 import task_definition

            return task_definition(self.name, symbol, ctx)
        _, call, qualified = found
        module = symbol.module
        kind = "task"
        if qualified in DYNAMIC_DECORATORS or qualified in EAGER_DECORATORS:
            kind = "dynamic" if qualified in DYNAMIC_DECORATORS else "eager"
            # the body builds its graph when it runs: its calls are code of this step, so any
            # change to them, or to the tasks they call, is a change of this step's body
            ctx.warn_dynamic(module, module.line(node), f"@{kind} task '{node.name.value}' builds its "
                             "workflow at run time; its body is fingerprinted as one step")
        config, lines = ctx.keyword_config(call, module)
        return StepDefinition(symbol, self.name, kind, task_name(symbol), config, lines, outputs(node, module, ctx))

    def pipelines(self, module: ModuleInfo, ctx: AnalysisContext) -> Iterable[Pipeline]:
        yield from super().pipelines(module, ctx)
        from pvcheck.analyzer.frameworks.flyte_v2 import environment_pipelines

        yield from environment_pipelines(self, module, ctx)
        from pvcheck.analyzer.frameworks.flyte_imperative import imperative_pipelines

        yield from imperative_pipelines(self, module, ctx)

    def pipeline(self, symbol: Symbol, ctx: AnalysisContext) -> Pipeline:
        from pvcheck.analyzer.frameworks.flyte_graph import FlyteGraphBuilder

        module = symbol.module
        node = symbol.node
        assert isinstance(node, cst.FunctionDef)
        call = self.pipeline_decorator_call(node, module)
        config, lines = pipeline_config(symbol, call, ctx)
        builder = FlyteGraphBuilder(self, ctx, module, node, task_name(symbol))
        found = find_decorator(node, module, WORKFLOW_DECORATORS)
        for decorator in node.decorators:
            if found is None or decorator is not found[0]:
                # flytekit compiles what the decorator returns: nodes it adds are not in this body
                builder.not_followed(module, decorator, f"a decorator '{ctx.render(decorator.decorator, module)}' "
                                     "wrapping the workflow function")
        builder.build()
        builder.finish()
        return assemble_pipeline(builder, symbol, config, lines)  # own code not accounted: no masks

    def attachments(self, module: ModuleInfo, ctx: AnalysisContext) -> Iterable[ConfigAttachment]:
        """``LaunchPlan.get_or_create(wf, name=..., default_inputs=..., fixed_inputs=...)``: the
        inputs and schedule a workflow is launched with are configuration of that workflow."""
        if "LaunchPlan" not in module.text:
            return
        calls, _, _ = calls_and_imports(module.tree)
        for call, _ in calls:
            if not isinstance(call.func, cst.Attribute) or call.func.attr.value not in ("get_or_create", "create"):
                continue
            if not module.qualified_names(call.func) & LAUNCH_PLAN_FACTORIES:
                continue
            workflow = launch_plan_workflow(call, module, ctx)
            if workflow is None:
                continue
            config, _ = ctx.keyword_config(call, module, skip=("workflow",))
            plan = config.pop("name", None)
            key = plan if isinstance(plan, str) else "default"
            yield ConfigAttachment(workflow.qualified_name, {"launch_plans": {key: config}},
                                   {"launch_plans": ConfigSource(module.path, module.line(call), ORIGIN_OPTIONS)})


def task_name(symbol: Symbol) -> str:
    """flytekit's name of a task or workflow: ``module.function``."""
    return f"{symbol.module.name}.{symbol.name}"


def launch_plan_workflow(call: cst.Call, module: ModuleInfo, ctx: AnalysisContext) -> Optional[Symbol]:
    """The workflow a ``LaunchPlan.get_or_create(...)`` call launches, when repo-local."""
    target: Optional[cst.BaseExpression] = None
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "workflow":
            target = arg.value
    if target is None and call.args and call.args[0].keyword is None:
        target = call.args[0].value
    if target is None:
        return None
    symbol = ctx.resolve_callee(module, target)
    if symbol is None or symbol.kind != "function" or not isinstance(symbol.node, cst.FunctionDef):
        return None
    if find_decorator(symbol.node, symbol.module, WORKFLOW_DECORATORS) is None:
        return None
    return symbol


def outputs(node: cst.FunctionDef, module: ModuleInfo, ctx: AnalysisContext) -> tuple[Output, ...]:
    """flytekit's output names (``transform_function_to_interface``): ``o0``, ``o1`` ... for
    a plain return or a tuple, the field names of a ``NamedTuple``; none for ``None``."""
    if node.returns is None:
        return ()
    annotation = node.returns.annotation
    if isinstance(annotation, cst.Name) and annotation.value == "None":
        return ()
    fields = named_tuple_outputs(annotation, module, ctx)
    if fields is not None:
        return tuple(fields)
    if isinstance(annotation, cst.Subscript) and isinstance(annotation.value, (cst.Name, cst.Attribute)) \
            and module.qualified_names(annotation.value) & _TUPLE:
        elements = [e.slice.value for e in annotation.slice if isinstance(e.slice, cst.Index)]
        if elements and not any(isinstance(e, cst.Ellipsis) for e in elements):
            return tuple(Output(f"o{i}", ctx.render(e, module)) for i, e in enumerate(elements))
    return (Output("o0", ctx.render(annotation, module)),)


def misplaced_module(qualified: str, ctx: AnalysisContext) -> Optional[str]:
    """The module of the tree an unresolved dotted name probably means: one whose name ends
    with the name's module part (the tree was scanned from a folder above the import root)."""
    module_part = qualified.rpartition(".")[0]
    if not module_part:
        return None
    suffix = "." + module_part
    for file in ctx.index.files:  # the file list: a dependency of this answer
        if file.module.endswith(suffix):
            return file.module
    return None


def returns_named_tuple(definition: StepDefinition, ctx: AnalysisContext) -> bool:
    """flytekit returns a tuple even for a one-field ``NamedTuple`` (``output_tuple_name``)."""
    node = definition.symbol.node
    if not isinstance(node, cst.FunctionDef) or node.returns is None:
        return False
    return named_tuple_outputs(node.returns.annotation, definition.symbol.module, ctx) is not None

