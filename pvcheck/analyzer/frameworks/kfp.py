"""Kubeflow Pipelines v2: ``@dsl.component`` tasks wired inside a ``@dsl.pipeline`` function.

What the KFP SDK does when it compiles a pipeline, and what this module mirrors
statically (read in ``sdk/python/kfp/dsl`` and ``sdk/python/kfp/compiler`` of
kubeflow/pipelines):

* a component's name is its function name made Kubernetes-safe
  (``_python_function_name_to_component_name`` then ``ComponentSpec._transform_name``
  with ``maybe_rename_for_k8s``: ``train_model`` -> ``train-model``); a pipeline's name is
  ``name=`` or its function name, made safe the same way;
* a task is named after its component and made unique in the pipeline with ``-2``,
  ``-3`` ... (``Pipeline.add_task``, ``make_name_unique_by_adding_index``);
* a component's outputs are its ``Output[...]``/``OutputPath(...)`` parameters and its
  return value: ``Output`` for a single one, the fields of a ``NamedTuple``
  (``component_factory.get_name_to_specs``); ``task.output`` is the only output,
  ``task.outputs["k"]`` a named one;
* ``task.after(t)`` adds a dependency; the ``set_*`` methods configure the task;
* the tasks in a ``dsl.If``/``Elif``/``Else``/``Condition`` block depend on the tasks whose
  outputs the condition reads (``compiler_utils.get_dependencies``); a ``dsl.ParallelFor``
  body is compiled once (one task per component call, fanned out at run time); an
  ``ExitHandler``'s exit task runs after every task in its block.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Optional

import libcst as cst

# internal: the own-code accounting of CallGraphBuilder (which calls its masks cover), for
# KFP's task methods (`.after()`, `.set_*()`) that are part of the graph, not code
from pvcheck.analyzer import pipeline_calls
from pvcheck.plugin import (AnalysisContext, CallGraphBuilder, DecoratedPipelines, Edge, Invocation, Literal,
                            calls_and_imports,
                            ModuleInfo, Opaque, Output, Pipeline, PipelineParameter, RunCondition, Sequence_,
                            StepDefinition, StepOutput, StepOutputs, Symbol, Value, assemble_pipeline,
                            decorated_function, installed_step, merge_config, named_tuple_outputs, pipeline_config,
                            plain_text, string_value)
from pvcheck.plugin import keyword_string as _keyword_string
from pvcheck.plugin import ORIGIN_OPTIONS, ORIGIN_RUN_CONFIG, ConfigSource
from pvcheck.analyzer.frameworks.kfp_interface import SINGLE_OUTPUT, component_outputs, k8s_name
from pvcheck.analyzer.frameworks.kfp_interface import DSL as _DSL
from pvcheck.analyzer.frameworks.kfp_loaded import WRAPPERS, loaded_component, pinned_requirement, wrapped_function

COMPONENT_DECORATORS = (*(f"{d}.component" for d in _DSL), "kfp.dsl.component_decorator.component",
                        # KFP v1 (also in KFP 2's kfp.components for a while)
                        "kfp.components.func_to_container_op", "kfp.components.create_component_from_func",
                        "kfp.components.create_component_from_func_v2")
CONTAINER_DECORATORS = ("kfp.dsl.container_component",
                        "kfp.dsl.container_component_decorator.container_component")
PIPELINE_DECORATORS = (*(f"{d}.pipeline" for d in _DSL), "kfp.dsl.pipeline_context.pipeline")
#: Task group context managers -> what they do to the tasks inside them.
GROUPS: dict[str, str] = {
    f"{prefix}.{name}": kind
    for prefix in (*_DSL, "kfp.dsl.tasks_group")
    for name, kind in (("If", "if"), ("Condition", "if"), ("Elif", "elif"), ("Else", "else"),
                       ("ParallelFor", "loop"), ("ExitHandler", "exit"))
}
PASSTHROUGH = frozenset(f"{d}.Collected" for d in _DSL) | {"kfp.dsl.for_loop.Collected"}
ONE_OF = frozenset(f"{d}.OneOf" for d in _DSL) | {"kfp.dsl.pipeline_channel.OneOf"}
#: ``dsl.importer(...)``: a task of KFP's own importer component, whose output is ``artifact``.
IMPORTERS = frozenset(f"{d}.importer" for d in _DSL) | {"kfp.dsl.importer_node.importer"}
#: KFP v1 operations that are tasks without a component: not modelled, reported by name.
V1_OPS = frozenset(f"kfp.dsl.{op}" for op in ("ContainerOp", "ResourceOp", "VolumeOp", "VolumeSnapshotOp"))
#: Installed packages of prebuilt components: their calls are tasks named by qualified name.
EXTERNAL_COMPONENT_PACKAGES = ("google_cloud_pipeline_components.",)

#: PipelineTask methods that configure the task: method -> (config key, parameter names).
TASK_OPTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "set_cpu_limit": ("cpu_limit", ("cpu",)),
    "set_cpu_request": ("cpu_request", ("cpu",)),
    "set_memory_limit": ("memory_limit", ("memory",)),
    "set_memory_request": ("memory_request", ("memory",)),
    "set_accelerator_type": ("accelerator_type", ("accelerator",)),
    "add_node_selector_constraint": ("accelerator_type", ("accelerator",)),
    "set_accelerator_limit": ("accelerator_limit", ("limit",)),
    "set_gpu_limit": ("accelerator_limit", ("gpu",)),
    "set_display_name": ("display_name", ("name",)),
    "set_container_image": ("image", ("name",)),  # an environment key: a new version
    "set_caching_options": ("caching_options", ("enable_caching", "cache_key")),
    "set_retry": ("retry", ("num_retries", "backoff_duration", "backoff_factor", "backoff_max_duration")),
    "set_env_variable": ("env", ("name", "value")),
    "ignore_upstream_failure": ("ignore_upstream_failure", ()),
}


class KubeflowPipelines(DecoratedPipelines):
    name = "kfp"
    markers = (b"kfp",)
    pipeline_decorators = PIPELINE_DECORATORS
    constant_steps = True  # op = load_component_from_file(...), op = create_component_from_func(fn)

    def step_definition(self, symbol: Symbol, ctx: AnalysisContext) -> Optional[StepDefinition]:
        if symbol.kind == "constant":
            return loaded_component(symbol, ctx)
        found = decorated_function(symbol, COMPONENT_DECORATORS + CONTAINER_DECORATORS)
        if found is None:
            return None
        node, call, qualified = found
        containerized = qualified in CONTAINER_DECORATORS
        # base_image, packages_to_install, target_image ...: the environment the body runs in
        config, lines = ctx.keyword_config(call, symbol.module)
        return StepDefinition(symbol, self.name, "component", k8s_name(node.name.value), config, lines,
                              component_outputs(node, symbol.module, ctx, containerized))

    def pipeline(self, symbol: Symbol, ctx: AnalysisContext) -> Pipeline:
        module = symbol.module
        node = symbol.node
        assert isinstance(node, cst.FunctionDef)
        call = self.pipeline_decorator_call(node, module)
        config, lines = pipeline_config(symbol, call, ctx, skip=("name",))
        name = k8s_name(_keyword_string(call, "name", module, ctx.index) or node.name.value)
        builder = KFPGraphBuilder(self, ctx, module, node, name)
        builder.build()
        return assemble_pipeline(builder, symbol, config, lines)


@dataclass
class _Group:
    """One task group context manager the walk is inside."""

    kind: str  # if | elif | else | loop | exit
    line: tuple[str, int]
    sources: list[str] = field(default_factory=list)  # tasks the group depends on
    condition: list[str] = field(default_factory=list)  # rendered conditions (if/elif/else)
    loop: Optional[dict[str, Any]] = None
    exit_task: Optional[str] = None
    members: list[str] = field(default_factory=list)


class KFPGraphBuilder(CallGraphBuilder):
    account_calls = True
    api_packages = ("kfp",)
    reports_local_calls = True  # other_call: PV010 for a repo-local function or constant

    def external_step(self, callee: cst.BaseExpression, module: ModuleInfo) -> Optional[StepDefinition]:
        if pipeline_calls.qualified_callee(callee, module) in IMPORTERS:
            # one name whichever way it is imported: the importer component is KFP's own
            importer = pipeline_calls.external_step(self.framework.name, "importer", "kfp.dsl.importer", module,
                                                    callee)
            return replace(importer, name="importer", outputs=(Output("artifact", "Artifact"),))
        # a prebuilt component of Google Cloud Pipeline Components (`CustomTrainingJobOp`)
        definition = installed_step(self, callee, module, "component",
                                    lambda name: name.startswith(EXTERNAL_COMPONENT_PACKAGES) and ".types." not in name)
        if definition is None:
            return None
        definition = replace(definition, name=k8s_name(definition.name))
        pinned = pinned_requirement(definition.qualified_name, module.path, self.ctx)
        if pinned is None:
            return definition
        # its code is the package's: the pinned version is the component's environment
        requirement, path, line = pinned
        return replace(definition, config={"requirements": [requirement]},
                       config_lines={"requirements": ConfigSource(path, line, ORIGIN_RUN_CONFIG)})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._groups: list[_Group] = []
        # depth -> (conditions, sources) of the If/Elif chain just walked at that depth
        self._chains: dict[int, tuple[list[str], list[str]]] = {}
        self._tasks: dict[str, Invocation] = {}

    # ------------------------------------------------------------------ hooks
    def pipeline_function(self, symbol: Symbol) -> Optional[cst.FunctionDef]:
        assert isinstance(self.framework, KubeflowPipelines)
        found = self.framework.pipeline_function(symbol)
        if found is not None:
            return found
        # a plain function of the tree that calls components: KFP runs it while compiling
        # the pipeline, so the tasks it makes are the pipeline's (a helper that builds the
        # graph). Inlined like a nested pipeline; its call stays the pipeline's own code,
        # so any edit of the helper is still a version (PV407).
        node = symbol.node
        if symbol.kind == "function" and isinstance(node, cst.FunctionDef) and not node.decorators \
                and self._makes_tasks(node, symbol.module):
            return node
        return None

    def _makes_tasks(self, node: cst.FunctionDef, module: ModuleInfo) -> bool:
        calls, _, _ = calls_and_imports(node.body)
        for call, _ in calls:
            callee = self.ctx.resolve_callee(module, call.func) \
                if isinstance(call.func, (cst.Name, cst.Attribute)) else None
            if callee is not None and (self.ctx.step_definition(self.framework, callee) is not None
                                       or self.framework.pipeline_function(callee) is not None):
                return True
        return False

    def invocation_id(self, definition: StepDefinition, call: cst.Call, env: dict[str, Value]) -> str:
        base = definition.name or "task"
        candidate, index = base, 2
        while candidate in self._ids:
            candidate = f"{base}-{index}"
            index += 1
        return candidate

    def result_of(self, invocation: Invocation) -> Value:
        # the call gives the PipelineTask; .output / .outputs[...] pick outputs from it
        return StepOutputs(invocation.id, tuple(o.name for o in invocation.definition.outputs))

    def other_call(self, call: cst.Call, env: dict[str, Value], module: ModuleInfo) -> Optional[Value]:
        func = call.func
        qualified = module.qualified_names(func) if isinstance(func, (cst.Name, cst.Attribute)) else set()
        if qualified & WRAPPERS:
            # a component made in the pipeline body (``op = func_to_container_op(fn)``, then ``op(...)``)
            made = wrapped_function(call, module, self.ctx)
            if made is not None:
                return _LocalComponent(self.ctx.render(func, module) + "(...)", (), made)
        if qualified & V1_OPS:
            op = next(iter(qualified & V1_OPS)).rpartition(".")[2]
            self.not_followed(module, call, f"a KFP v1 dsl.{op} (a task without a component: not modelled)")
            return _opaque_call(self, call, env, module)
        if isinstance(func, cst.Call) or isinstance(func, cst.Name) and isinstance(env.get(func.value), _Foreign):
            # a component made while the pipeline compiles (load_component_from_file(...)(...))
            value = _opaque_call(self, call, env, module)
            return _Foreign(value.text, value.depends_on, " ".join(module.code(func).split()))
        symbol = self.ctx.resolve_callee(module, func)
        if symbol is not None:
            if symbol.kind == "constant" and not _is_named_tuple_type(symbol, self.ctx):
                self.not_followed(module, call, f"a call of '{symbol.qualified_name}', a component not defined "
                                  "with @dsl.component (loaded from YAML?),")
            elif symbol.kind == "function":
                self.not_followed(module, call, f"a call of '{symbol.qualified_name}', which is not a component,")
            return _opaque_call(self, call, env, module)
        if len(qualified) != 1 or "." not in next(iter(qualified)):
            return _opaque_call(self, call, env, module)  # a builtin, or a name that is not imported
        name = next(iter(qualified))
        first = call.args[0] if call.args and call.args[0].keyword is None and not call.args[0].star else None
        receiver = self.evaluate(first.value, env, module) if first is not None else None
        if name.startswith("kfp.kubernetes.") and isinstance(receiver, StepOutputs) \
                and receiver.invocation in self._tasks:
            return self._kubernetes(call, name.rsplit(".", 1)[1], receiver, module)
        value = _opaque_call(self, call, env, module, receiver, skip_first=first is not None)
        if name.startswith(_DSL) or name.startswith("kfp.kubernetes.") and name.rpartition(".")[2][:1].islower():
            # (kfp.kubernetes.use_secret_as_env(t, ...) of a task pvcheck does not know: t is reported)
            return value
        # a package's callable: maybe a prebuilt component (google_cloud_pipeline_components,
        # kfp.kubernetes.CreatePVC ...); using its result as a task is reported below
        return _Foreign(value.text, value.depends_on, name)

    # ------------------------------------------------------------------ expressions
    def evaluate(self, expression: cst.BaseExpression, env: dict[str, Value], module: ModuleInfo) -> Value:
        if isinstance(expression, cst.Attribute) and expression.attr.value in ("output", "outputs"):
            task = self.evaluate(expression.value, env, module)
            if isinstance(task, StepOutputs) and task.invocation in self._tasks:
                if expression.attr.value == "outputs":
                    return task
                return StepOutput(task.invocation, task.outputs[0] if len(task.outputs) == 1 else SINGLE_OUTPUT)
            self._foreign_task(task, module, expression)
            # not evaluated twice: the receiver may have made tasks (an inlined pipeline)
            return task if isinstance(task, (StepOutput, StepOutputs)) else Opaque(
                self.ctx.render(expression, module), tuple(self.invocations_in(task)))
        return super().evaluate(expression, env, module)

    def subscript(self, expression: cst.Subscript, env: dict[str, Value], module: ModuleInfo) -> Value:
        key = string_value(expression.slice[0].slice.value) if len(expression.slice) == 1 \
            and isinstance(expression.slice[0].slice, cst.Index) else None
        if key is None:
            return super().subscript(expression, env, module)
        base = self.evaluate(expression.value, env, module)
        if isinstance(base, StepOutputs):  # outputs["k"]: named even when the signature could not be read
            return StepOutput(base.invocation, key)
        if isinstance(base, StepOutput):  # the one output an inlined pipeline returned
            return base
        if isinstance(base, Literal) and isinstance(base.value, dict) and key in base.value:
            return Literal(base.value[key])
        return Opaque(plain_text(expression, module), tuple(self.invocations_in(base)))

    def call(self, call: cst.Call, env: dict[str, Value], module: ModuleInfo) -> Value:
        func = call.func
        if isinstance(func, cst.Name) and isinstance(env.get(func.value), _LocalComponent):
            return self.invoke(env[func.value].definition, call, [], env, module)  # type: ignore[union-attr]
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method == "after" or method in TASK_OPTIONS or method.startswith("set_"):
                task = self.evaluate(func.value, env, module)
                if isinstance(task, StepOutputs) and task.invocation in self._tasks:
                    if self._task_method(self._tasks[task.invocation], method, call, env, module) \
                            and self._masked(func.value):
                        self.mask(call, "<task>")  # the setting is the task's config, the edge is in the graph
                    return task
                if isinstance(task, _Foreign):
                    self._foreign_task(task, module, call)
                elif method == "after":
                    self.not_followed(module, call, "an .after() on something that is not a task")
                return _opaque_call(self, call, env, module, task)
            if isinstance(func.value, cst.Call):
                # another method of a call's result (v1 ``ContainerOp(...).add_env_variable(...)``,
                # ``comp(...).add_pod_label(...)``): the receiver is evaluated once, here -- it may
                # make a task -- and the method call stays the pipeline's own code, as on a name
                receiver = self.evaluate(func.value, env, module)
                is_task = isinstance(receiver, StepOutputs) and receiver.invocation in self._tasks
                if not is_task:
                    pipeline_calls.account(self, call, func, None, env, module)
                flows = _opaque_call(self, call, env, module, receiver)
                return receiver if is_task else flows
        if isinstance(func, (cst.Name, cst.Attribute)):
            qualified = module.qualified_names(func)
            if qualified & PASSTHROUGH and len(call.args) == 1:
                return self.evaluate(call.args[0].value, env, module)
            if qualified & ONE_OF:
                return Sequence_(tuple(self.evaluate(a.value, env, module) for a in call.args))
        return super().call(call, env, module)

    def invoke(self, definition: StepDefinition, call: cst.Call, option_calls: list[cst.Call],
               env: dict[str, Value], module: ModuleInfo) -> Value:
        result = super().invoke(definition, call, option_calls, env, module)
        invocation = self.invocations[-1]
        self._tasks[invocation.id] = invocation
        conditions: list[str] = []
        for group in self._groups:
            for source in group.sources:
                if source != invocation.id:
                    self.edges.append(Edge(source, invocation.id, "order"))
            if group.condition:
                conditions.extend(group.condition)
            if group.loop is not None:
                invocation.config = merge_config(invocation.config, {"parallel_for": group.loop})
                invocation.config_lines["parallel_for"] = ConfigSource(*group.line, ORIGIN_OPTIONS)
            if group.kind == "exit":
                group.members.append(invocation.id)
        if conditions:
            # which tasks run is the pipeline's shape, not a setting: structural, like an edge
            invocation.inputs[RunCondition.key] = RunCondition(tuple(conditions))
        return result

    # ------------------------------------------------------------------ task methods
    def _masked(self, receiver: cst.BaseExpression) -> bool:
        """The receiver of a task method leaves nothing unmodelled: a name, or a task call
        (or task method call) whose parts are all masked."""
        return isinstance(receiver, cst.Name) or pipeline_calls.fully_masked(receiver, self.masks)

    def _task_method(self, invocation: Invocation, method: str, call: cst.Call, env: dict[str, Value],
                     module: ModuleInfo) -> bool:
        """Apply ``task.after(...)`` / ``task.set_*(...)``; True when every argument was modelled."""
        modelled = True
        if method == "after":
            for arg in call.args:
                value = self.evaluate(arg.value, env, module)
                sources = self.invocations_in(value)
                if isinstance(value, _Foreign):
                    self._foreign_task(value, module, arg)
                elif not sources:
                    self.not_followed(module, arg, "an .after() of something that is not a task")
                modelled = modelled and bool(sources) and pipeline_calls.modelled(value)
                for source in sources:
                    self.edges.append(Edge(source, invocation.id, "order"))
            return modelled
        key, names = TASK_OPTIONS.get(method, (method[len("set_"):], ()))
        values: dict[str, Any] = {}
        for index, arg in enumerate(call.args):
            name = arg.keyword.value if arg.keyword is not None else (
                names[index] if index < len(names) else f"${index}")
            value = self.evaluate(arg.value, env, module)
            modelled = modelled and pipeline_calls.modelled(value)
            for source in self.invocations_in(value):  # a task output used as a setting is read from it
                output = value.output if isinstance(value, StepOutput) else None
                self.edges.append(Edge(source, invocation.id, "data", output, key))
            values[name] = self.ctx.value(arg.value, module)
        if method == "set_env_variable" and isinstance(values.get("name"), str):
            setting: Any = {"env": {values["name"]: values.get("value")}}
        elif not values:
            setting = {key: True}
        elif len(values) == 1 and len(names) == 1:
            setting = {key: next(iter(values.values()))}
        else:
            setting = {key: values}
        invocation.config = merge_config(invocation.config, setting)
        invocation.config_lines[key] = ConfigSource(module.path, module.line(call), ORIGIN_OPTIONS)
        return modelled

    def _kubernetes(self, call: cst.Call, function: str, task: StepOutputs, module: ModuleInfo) -> Value:
        """``kfp.kubernetes.use_secret_as_env(task, ...)`` and friends configure the task."""
        invocation = self._tasks[task.invocation]
        config, _ = self.ctx.keyword_config(call, module)
        settings = invocation.config.get("kubernetes", {})
        calls = list(settings.get(function, [])) + [config]
        invocation.config = merge_config(invocation.config, {"kubernetes": {function: calls}})
        invocation.config_lines["kubernetes"] = ConfigSource(module.path, module.line(call), ORIGIN_OPTIONS)
        return task

    def _foreign_task(self, value: Value, module: ModuleInfo, node: cst.CSTNode) -> None:
        if isinstance(value, _Foreign):
            self.not_followed(module, node, f"a task of '{value.callee}', a component pvcheck cannot see into "
                              "(from a package or a YAML file),")

    # ------------------------------------------------------------------ task groups
    def statement(self, statement: cst.CSTNode, env: dict[str, Value], module: ModuleInfo,
                  first: bool = False) -> Optional[tuple[Optional[Value]]]:
        depth = len(self._groups)
        kinds = [self._group_kind(item.item, module) for item in statement.items] \
            if isinstance(statement, cst.With) else []
        if not any(kinds):
            self._chains.pop(depth, None)  # an Elif/Else must follow its If directly
            if isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Call):
                # a call made for its effect: in a pipeline body, that is a task being created
                self._foreign_task(self.evaluate(statement.value, env, module), module, statement)
                return None
            return super().statement(statement, env, module, first)
        if not all(kinds):
            self.not_followed(module, statement, "a with statement mixing task groups and other context managers")
        if not {"if", "elif", "else"} & set(kinds):
            self._chains.pop(depth, None)
        return self._group(statement, kinds, env, module)

    def _group_kind(self, expression: cst.BaseExpression, module: ModuleInfo) -> Optional[str]:
        if isinstance(expression, cst.Call) and isinstance(expression.func, (cst.Name, cst.Attribute)):
            for qualified in module.qualified_names(expression.func):
                if qualified in GROUPS:
                    return GROUPS[qualified]
        return None

    def _group(self, statement: cst.With, kinds: list[Optional[str]], env: dict[str, Value], module: ModuleInfo
               ) -> Optional[tuple[Optional[Value]]]:
        depth = len(self._groups)
        line = (module.path, module.line(statement))
        opened: list[_Group] = []
        for item, kind in zip(statement.items, kinds):
            if kind is None:
                self.evaluate(item.item, env, module)
                continue
            assert isinstance(item.item, cst.Call)
            group = _Group(kind, line)
            if kind in ("if", "elif", "else"):
                self._condition(group, item.item, depth, env, module)
            elif kind == "loop":
                self._loop(group, item, env, module)
            else:
                self._exit_handler(group, item.item, env, module)
            if item.asname is not None and kind != "loop":
                self.bind(item.asname.name, Opaque(f"task group at line {line[1]}"), env, module)
            opened.append(group)
        self._groups.extend(opened)
        try:
            result = self._nested(statement.body, env, module)
        finally:
            del self._groups[len(self._groups) - len(opened):]
            for index in [d for d in self._chains if d > depth]:
                del self._chains[index]
        for group in opened:
            if group.exit_task is not None:
                for member in group.members:
                    self.edges.append(Edge(member, group.exit_task, "order"))
        return result

    def _condition(self, group: _Group, call: cst.Call, depth: int, env: dict[str, Value],
                   module: ModuleInfo) -> None:
        previous = self._chains.get(depth)
        if group.kind != "if" and previous is None:
            self.not_followed(module, call, f"a dsl.{group.kind.title()} that does not follow a dsl.If")
            previous = ([], [])
        earlier, earlier_sources = previous if group.kind != "if" and previous is not None else ([], [])
        group.condition = [f"not ({text})" for text in earlier]
        group.sources = list(earlier_sources)
        if group.kind == "else":
            self._chains.pop(depth, None)
            return
        argument = _argument(call, "condition", 0)
        if argument is None:
            self.not_followed(module, call, "a condition group without a condition")
            return
        value = self.evaluate(argument, env, module)
        text = self._condition_text(argument, env, module)
        group.condition.append(text)
        group.sources.extend(s for s in self.invocations_in(value) if s not in group.sources)
        self._chains[depth] = (earlier + [text], group.sources)

    def _condition_text(self, expression: cst.BaseExpression, env: dict[str, Value], module: ModuleInfo) -> str:
        """A condition as stable text: tasks by id, parameters by name, literals by value.

        Local variable names and formatting stay out, so renaming ``t`` or re-quoting a
        key does not read as a changed condition.
        """
        if isinstance(expression, cst.Comparison):
            parts = [self._condition_text(expression.left, env, module)]
            for target in expression.comparisons:
                parts.append(" ".join(module.code(target.operator).split()))
                parts.append(self._condition_text(target.comparator, env, module))
            return "(" + " ".join(parts) + ")"
        if isinstance(expression, cst.BooleanOperation):
            operator = " ".join(module.code(expression.operator).split())
            left = self._condition_text(expression.left, env, module)
            return f"({left} {operator} {self._condition_text(expression.right, env, module)})"
        if isinstance(expression, cst.UnaryOperation):
            operator = " ".join(module.code(expression.operator).split())
            return f"({operator} {self._condition_text(expression.expression, env, module)})"
        value = self.evaluate(expression, env, module)
        if isinstance(value, StepOutput):
            return f"{{{value.invocation}.{value.output}}}"
        if isinstance(value, PipelineParameter):
            return f"{{{value.name}}}"
        if isinstance(value, Literal):
            return repr(value.value)
        return self.ctx.render(expression, module)

    def _loop(self, group: _Group, item: cst.WithItem, env: dict[str, Value], module: ModuleInfo) -> None:
        assert isinstance(item.item, cst.Call)
        call = item.item
        argument = _argument(call, "items", 0)
        items: Value = self.evaluate(argument, env, module) if argument is not None else Opaque("no items")
        group.sources = self.invocations_in(items)
        parallelism = _argument(call, "parallelism", 2)
        static = self.ctx.value(argument, module) if argument is not None else None
        group.loop = {"items": _describe(items, static)}
        if parallelism is not None:
            group.loop["parallelism"] = self.ctx.value(parallelism, module)
        if item.asname is not None:
            # each iteration's item: still the same upstream output, one element of it at a time
            element: Value = items if isinstance(items, StepOutput) else Opaque(
                "dsl.ParallelFor item", tuple(group.sources))
            self.bind(item.asname.name, element, env, module)

    def _exit_handler(self, group: _Group, call: cst.Call, env: dict[str, Value], module: ModuleInfo) -> None:
        argument = _argument(call, "exit_task", 0)
        tasks = self.invocations_in(self.evaluate(argument, env, module)) if argument is not None else []
        if len(tasks) != 1:
            self.not_followed(module, call, "an ExitHandler whose exit task is not known statically")
            return
        group.exit_task = tasks[0]


@dataclass(frozen=True)
class _Foreign(Opaque):
    """What a call of a package's callable gave: perhaps a task of a prebuilt component."""

    callee: str = ""


@dataclass(frozen=True)
class _LocalComponent(Opaque):
    """A component made by a call in the pipeline body: calling it makes a task."""

    definition: Optional[StepDefinition] = None


def _is_named_tuple_type(symbol: Symbol, ctx: AnalysisContext) -> bool:
    """``Outputs = NamedTuple(...)`` at module level: calling it builds a pipeline's return value."""
    node = symbol.node
    return isinstance(node, cst.Assign) and named_tuple_outputs(node.value, symbol.module, ctx) is not None


def _argument(call: cst.Call, keyword: str, position: int) -> Optional[cst.BaseExpression]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    return positional[position].value if position < len(positional) else None


def _describe(value: Value, static: Any = None) -> Any:
    """A loop's items as a config value: a parameter, a task output, or the static value."""
    if isinstance(value, PipelineParameter):
        return {"$param": value.name}
    if isinstance(value, StepOutput):
        return {"$step": value.invocation, "output": value.output}
    return static


def _opaque_call(builder: CallGraphBuilder, call: cst.Call, env: dict[str, Value], module: ModuleInfo,
                 receiver: Optional[Value] = None, skip_first: bool = False) -> Value:
    """A call KFP does not model, remembering every task output flowing into it (receiver too).

    ``receiver`` is a value the caller has already evaluated: the method's object, or the
    first argument when ``skip_first`` (nothing is evaluated twice: it may make tasks).
    """
    flows: list[str] = []
    if receiver is not None:
        flows.extend(builder.invocations_in(receiver))
    elif isinstance(call.func, cst.Attribute):
        flows.extend(builder.invocations_in(builder.evaluate(call.func.value, env, module)))
    for arg in call.args[1:] if skip_first else call.args:
        flows.extend(builder.invocations_in(builder.evaluate(arg.value, env, module)))
    return Opaque(builder.ctx.render(call.func, module) + "(...)", tuple(dict.fromkeys(flows)))
