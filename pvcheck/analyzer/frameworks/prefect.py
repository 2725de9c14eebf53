"""Prefect 3: ``@task`` functions called, submitted or mapped inside ``@flow`` functions.

What Prefect does at run time, and what this module mirrors statically
(read in ``src/prefect/flows.py`` and ``src/prefect/tasks.py`` of PrefectHQ/prefect):

* a flow's name is ``name=`` or the function name with ``_`` replaced by ``-``
  (``Flow.__init__``); a task's name is ``name=`` or the function name (``Task.__init__``);
* ``task(...)``, ``task.submit(...)`` and ``task.map(...)`` all create task runs; the
  latter two return futures (``PrefectFuture``, ``PrefectFutureList``) that may be passed
  to other tasks, which then wait for them -- a data dependency;
* ``wait_for=`` (accepted by all three) adds dependencies without passing data, and
  ``return_state=``/``deferred=`` are not task inputs (``raise_for_reserved_arguments``);
* ``unmapped(x)``, ``quote(x)`` and ``allow_failure(x)`` wrap a value for ``map`` or
  ``wait_for`` without changing where it comes from;
* ``task.with_options(...)`` returns a configured copy (its ``name=`` renames it);
* a flow called inside a flow is a subflow: its task runs belong to the parent's run.

Prefect has no stable per-call id, so an invocation is named by the task's name, then
``name_2``, ``name_3`` ... for repeated calls, like ZenML.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any, Iterable, Optional

import libcst as cst

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.9 / 3.10
    import tomli as tomllib

from pvcheck.analyzer.frameworks.prefect_branches import ConditionalParts  # Prefect's own: if/for over parameters
from pvcheck.plugin import (AnalysisContext, CallGraphBuilder, ConfigAttachment, DecoratedPipelines, Literal,
                            ModuleInfo, Opaque, Output, Pipeline, ProjectIndex, Sequence_, StepDefinition, StepOutput,
                            StepOutputs, Symbol, Value, assemble_pipeline, decorated_function, find_decorator,
                            installed_step, merge_config, pipeline_config, read_only_visit)
from pvcheck.plugin import keyword_string as _keyword_string
from pvcheck.plugin import ORIGIN_DECORATOR, ORIGIN_RUN_CONFIG, ConfigSource

FLOW_DECORATORS = ("prefect.flow", "prefect.flows.flow", "prefect.main.flow")
TASK_DECORATORS = ("prefect.task", "prefect.tasks.task", "prefect.main.task")
#: ``@materialize(asset, ..., **task_kwargs)`` makes a ``MaterializingTask`` (prefect.assets).
MATERIALIZE_DECORATORS = ("prefect.assets.materialize", "prefect.assets.materialize.materialize")
#: Wrappers that mark how a value is used but not where it comes from.
PASSTHROUGH_CALLS = frozenset({
    "prefect.unmapped", "prefect.main.unmapped", "prefect.utilities.annotations.unmapped",
    "prefect.allow_failure", "prefect.main.allow_failure", "prefect.utilities.annotations.allow_failure",
    "prefect.utilities.annotations.quote",
})
#: Keyword arguments of a task call that are not task inputs.
RESERVED_KEYWORDS = frozenset({"wait_for", "return_state", "deferred"})
#: Methods of a task that create task runs.
RUN_METHODS = frozenset({"submit", "map"})
#: Methods of a future or state that give back the task's result (or wait for it).
RESULT_METHODS = frozenset({"result", "wait"})
OPTION_METHODS = frozenset({"with_options"})
#: The one output of a task: Prefect does not name return values; ``future.result()`` reads it.
RESULT = "result"


class Prefect(DecoratedPipelines):
    name = "prefect"
    markers = (b"prefect", b"with_options")
    pipeline_decorators = FLOW_DECORATORS

    def step_definition(self, symbol: Symbol, ctx: AnalysisContext) -> Optional[StepDefinition]:
        found = decorated_function(symbol, TASK_DECORATORS + MATERIALIZE_DECORATORS)
        if found is None:
            return None
        node, call, qualified = found
        config, lines = ctx.keyword_config(call, symbol.module, skip=("name",))
        if qualified in MATERIALIZE_DECORATORS and call is not None:
            # the assets it materializes: where its result goes, configuration like a storage key
            config["assets"] = [ctx.value(arg.value, symbol.module) for arg in call.args if arg.keyword is None]
            lines["assets"] = ConfigSource(symbol.module.path, symbol.module.line(call), ORIGIN_DECORATOR)
        declared = _keyword_string(call, "name", symbol.module, ctx.index) or node.name.value
        annotation = ctx.render(node.returns.annotation, symbol.module) if node.returns is not None else None
        return StepDefinition(symbol, self.name, "task", declared, config, lines, (Output(RESULT, annotation),))

    def pipeline(self, symbol: Symbol, ctx: AnalysisContext) -> Pipeline:
        module = symbol.module
        node = symbol.node
        assert isinstance(node, cst.FunctionDef)
        call = self.pipeline_decorator_call(node, module)
        config, lines = pipeline_config(symbol, call, ctx, skip=("name",))
        script = script_metadata(module.text)
        if script is not None:  # `uv run flow.py` builds the flow's environment from it
            config["requirements"], line = script
            lines["requirements"] = ConfigSource(module.path, line, ORIGIN_RUN_CONFIG)
        builder = PrefectGraphBuilder(self, ctx, module, node, flow_name(call, node, module, ctx.index))
        builder.build()
        pipeline = assemble_pipeline(builder, symbol, config, lines)
        if builder.conditions:  # read by the structural policy: parameters that decide which tasks run
            pipeline.coverage["conditions"] = sorted(builder.conditions, key=lambda c: (c["path"], c["line"]))  # type: ignore[index]
        return pipeline

    def attachments(self, module: ModuleInfo, ctx: AnalysisContext) -> Iterable[ConfigAttachment]:
        """``my_flow.with_options(...)`` outside flow bodies (a run script): flow configuration.

        Inside a flow, ``with_options`` configures one invocation; the graph builder
        handles that. A task's ``with_options`` outside flows makes a new task object
        that is handled where it is called.
        """
        finder = _OptionCallFinder(module)
        read_only_visit(module.tree, finder)
        for call in finder.calls:
            assert isinstance(call.func, cst.Attribute)
            symbol = ctx.resolve_callee(module, call.func.value)
            if symbol is None or self.pipeline_function(symbol) is None:
                continue
            config, lines = ctx.keyword_config(call, module, skip=("name",))
            yield ConfigAttachment(symbol.qualified_name, config, lines)


#: Inline script metadata (PEP 723): a ``# /// script`` comment block, each line ``#`` or
#: ``# <TOML>``, closed by ``# ///``.
_SCRIPT_BLOCK = re.compile(r"^# /// script[ \t]*\r?\n((?:#(?: [^\r\n]*)?\r?\n)*?)# ///[ \t]*$", re.MULTILINE)


def script_metadata(text: str) -> Optional[tuple[Any, int]]:
    """The ``script`` metadata block of a flow's file and its first line, or None.

    Its ``dependencies`` and ``requires-python`` define the environment ``uv run`` (or
    ``pipx run``) builds for the flow, so they are configuration that defines the
    environment (an edit is a new version), though Python reads them as comments. A
    block that is not valid TOML is kept as its text: still compared, never dropped.
    """
    found = _SCRIPT_BLOCK.search(text)
    if found is None:
        return None
    body = "".join(line[2:] if line.startswith("# ") else line[1:]
                   for line in found.group(1).splitlines(keepends=True))
    line = text.count("\n", 0, found.start()) + 1
    try:
        return tomllib.loads(body), line
    except (tomllib.TOMLDecodeError, ValueError):
        return " ".join(body.split()), line


def flow_name(call: Optional[cst.Call], node: cst.FunctionDef, module: Optional[ModuleInfo] = None,
              index: Optional[ProjectIndex] = None) -> str:
    """Prefect's name for a flow: ``name=``, else the function name with ``-`` for ``_``."""
    return _keyword_string(call, "name", module, index) or node.name.value.replace("_", "-")


class PrefectGraphBuilder(ConditionalParts):
    reserved_keywords = RESERVED_KEYWORDS
    option_methods = OPTION_METHODS
    account_calls = True
    api_packages = ("prefect",)
    reports_local_calls = True  # other_call: PV010 for a repo-local function

    def external_step(self, callee: cst.BaseExpression, module: ModuleInfo) -> Optional[StepDefinition]:
        # a task of a Prefect collection (`from prefect_aws.s3 import s3_download`): tasks
        # there are snake_case functions; CamelCase names are blocks (`S3Bucket.load`)
        if isinstance(callee, cst.Attribute) and callee.attr.value in RUN_METHODS:
            callee = callee.value  # `s3_download.submit(...)`
        return installed_step(self, callee, module, "task",
                              lambda name: name.startswith("prefect_") and name == name.lower())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._name: Optional[str] = None  # the with_options(name=...) of the invocation being made
        self._module = self.module  # the module of the call being made (subflows live elsewhere)

    # ------------------------------------------------------------------ hooks
    def pipeline_function(self, symbol: Symbol) -> Optional[cst.FunctionDef]:
        assert isinstance(self.framework, Prefect)
        return self.framework.pipeline_function(symbol)

    def invocation_id(self, definition: StepDefinition, call: cst.Call, env: dict[str, Value]) -> str:
        return self.unique_id(self._name or definition.name)

    def order_dependencies(self, call: cst.Call, env: dict[str, Value]) -> list[str]:
        wait_for = self.keyword(call, "wait_for")
        if wait_for is None:
            return []
        value = self.evaluate(wait_for.value, env, self._module)
        sources = self.invocations_in(value)
        if not sources and not _is_empty(value):
            self.not_followed(self._module, wait_for, "a wait_for= whose futures are not known statically")
        return sources

    def result_of(self, invocation: Any) -> Value:
        # a call, a future and a list of futures all stand for the task's one result
        return StepOutput(invocation.id, RESULT)

    def other_call(self, call: cst.Call, env: dict[str, Value], module: ModuleInfo) -> Optional[Value]:
        symbol = self.ctx.resolve_callee(module, call.func)
        if symbol is not None and symbol.kind == "function":
            # plain Python run by the flow itself: part of what the flow computes, but no task
            self.not_followed(module, call, f"a call of '{symbol.qualified_name}', which is not a task,")
        return _opaque_call(self, call, env, module)

    # ------------------------------------------------------------------ calls
    def evaluate(self, expression: cst.BaseExpression, env: dict[str, Value], module: ModuleInfo) -> Value:
        if isinstance(expression, cst.Await):  # async flows: `await task(...)` is the task call
            return self.evaluate(expression.expression, env, module)
        if isinstance(expression, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            before = len(self.invocations)
            value = super().evaluate(expression, env, module)
            if len(self.invocations) > before:  # how many task runs it makes is known only at run time
                self.not_followed(module, expression, "a comprehension that runs tasks")
            return value
        return super().evaluate(expression, env, module)

    def call(self, call: cst.Call, env: dict[str, Value], module: ModuleInfo) -> Value:
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value in RUN_METHODS:
            found = self._task(func.value, env, module)
            if found is not None:
                return self.invoke_with(found[0], call, found[1], env, module)
        if isinstance(func, cst.Attribute) and func.attr.value in RESULT_METHODS:
            receiver = self.evaluate(func.value, env, module)
            if isinstance(receiver, (StepOutput, StepOutputs)):
                return receiver
            return _opaque_call(self, call, env, module, receiver)  # not evaluated twice
        if isinstance(func, (cst.Name, cst.Attribute)) and module.qualified_names(func) & PASSTHROUGH_CALLS \
                and len(call.args) == 1:
            return self.evaluate(call.args[0].value, env, module)
        if isinstance(func, cst.Attribute) and func.attr.value in OPTION_METHODS:
            found = self._task(call, env, module)
            if found is not None:  # `fast = load.with_options(...)` inside the flow, called later
                return _TaskRef(module.code(call), (), found[0], tuple(found[1]))
        found = self._task(func, env, module)
        if found is not None and (found[1] or isinstance(func, cst.Name) and isinstance(env.get(func.value), _TaskRef)):
            return self.invoke_with(found[0], call, found[1], env, module)
        result = super().call(call, env, module)
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value in env:
            # `pages.append(fetch(n))`: the local now holds the task's result too; without
            # this, `combine(pages)` -> `combine([])` would be the same input and no edge
            name = func.value.value
            held = self.task_sources(env[name])
            added = [s for s in self.task_sources(result) if s not in held]
            if added:
                env[name] = Opaque(f"{name} after .{func.attr.value}(...)", tuple(dict.fromkeys(held + added)))
        return result

    def invoke(self, definition: StepDefinition, call: cst.Call, option_calls: list[cst.Call],
               env: dict[str, Value], module: ModuleInfo) -> Value:
        return self.invoke_with(definition, call, [(o, module) for o in option_calls], env, module)

    def invoke_with(self, definition: StepDefinition, call: cst.Call, options: list[tuple[cst.Call, ModuleInfo]],
                    env: dict[str, Value], module: ModuleInfo) -> Value:
        """An invocation configured by ``with_options`` calls, each read in its own module."""
        name: Optional[str] = None
        for option_call, option_module in options:
            arg = self.keyword(option_call, "name")
            if arg is None:
                continue
            # the last with_options(name=...) wins: each returns a renamed copy
            value = self.evaluate(arg.value, env if option_module is module else {}, option_module)
            name = value.value if isinstance(value, Literal) and isinstance(value.value, str) else None
            if name is None:
                self.not_followed(option_module, option_call, f"a task name computed at run time for "
                                  f"'{definition.name}'")
        saved = self._name, self._module
        self._name, self._module = name, module
        try:
            result = super().invoke(definition, call, [], env, module)
        finally:
            self._name, self._module = saved
        invocation = self.invocations[-1]
        self.mark(invocation)  # the `if` / `for` it runs under, if any
        for option_call, option_module in options:
            config, lines = self.ctx.keyword_config(option_call, option_module, skip=("name",))
            invocation.config = merge_config(invocation.config, config)
            invocation.config_lines.update(lines)
        return result

    def _task(self, target: cst.BaseExpression, env: dict[str, Value], module: ModuleInfo
              ) -> Optional[tuple[StepDefinition, list[tuple[cst.Call, ModuleInfo]]]]:
        """The task ``target`` stands for, with the ``with_options`` calls that configure it.

        A ``@task`` function; ``task.with_options(...)``; a local name bound to such a copy
        in the flow; or a module-level ``fast = task.with_options(...)``.
        """
        if isinstance(target, cst.Name) and target.value in env:
            bound = env[target.value]
            if isinstance(bound, _TaskRef):
                return bound.definition, list(bound.options)
            return None
        inner, options = self.strip_options(target)
        configured = [(o, module) for o in options]
        symbol = self.ctx.resolve_callee(module, inner)
        if symbol is not None and symbol.kind != "constant":
            definition = self.ctx.step_definition(self.framework, symbol)
            return (definition, configured) if definition is not None else None
        found = self._task_alias(inner, module)
        if found is None:
            return None
        return found[0], found[1] + configured

    def _task_alias(self, target: cst.BaseExpression, module: ModuleInfo
                    ) -> Optional[tuple[StepDefinition, list[tuple[cst.Call, ModuleInfo]]]]:
        """A module-level ``fast_load = load.with_options(retries=5)``."""
        if not isinstance(target, (cst.Name, cst.Attribute)):
            return None
        names = module.qualified_names(target)
        if len(names) != 1:
            return None
        resolved = self.ctx.index.resolve(next(iter(names)))
        if resolved is None or resolved[1] or resolved[0].kind != "constant":
            return None
        symbol = resolved[0]
        assignments = [s for s in symbol.module.symbols.get(symbol.name, []) if s.kind == "constant"]
        if len(assignments) != 1 or not isinstance(assignments[0].node, cst.Assign) \
                or not isinstance(assignments[0].node.value, cst.Call):
            return None
        value = assignments[0].node.value
        if _builds_task(value, symbol.module):
            self.not_followed(module, target, f"a task made by calling task() at import time ('{symbol.name}')")
            return None
        inner, options = self.strip_options(value)
        if not options:
            return None
        found = self._task(inner, {}, symbol.module)
        if found is None:
            return None
        return found[0], found[1] + [(o, symbol.module) for o in options]


@dataclass(frozen=True)
class _TaskRef(Opaque):
    """A configured copy of a task held in a local variable of the flow."""

    definition: Optional[StepDefinition] = None
    options: tuple[tuple[cst.Call, ModuleInfo], ...] = ()


def _builds_task(call: cst.Call, module: ModuleInfo) -> bool:
    """``task(fn, ...)`` or ``task(...)(fn)``: a task object the analyzer cannot see the definition of."""
    func: cst.BaseExpression = call.func
    if isinstance(func, cst.Call):
        func = func.func
    return isinstance(func, (cst.Name, cst.Attribute)) and bool(module.qualified_names(func) & set(TASK_DECORATORS))


def _opaque_call(builder: CallGraphBuilder, call: cst.Call, env: dict[str, Value], module: ModuleInfo,
                 receiver: Optional[Value] = None) -> Value:
    """A call the framework does not model, remembering every step output flowing into it.

    The default forgets the receiver of a method call (``df.dropna()``); in a flow body,
    where plain Python runs between tasks, that would lose data edges. ``receiver`` is
    the method's object when the caller has already evaluated it.
    """
    flows: list[str] = []
    func = call.func
    if receiver is not None:
        flows.extend(builder.invocations_in(receiver))
    elif isinstance(func, cst.Attribute):
        flows.extend(builder.invocations_in(builder.evaluate(func.value, env, module)))
    for arg in call.args:
        flows.extend(builder.invocations_in(builder.evaluate(arg.value, env, module)))
    return Opaque(builder.ctx.render(func, module) + "(...)", tuple(dict.fromkeys(flows)))


def _is_empty(value: Value) -> bool:
    if isinstance(value, Sequence_):
        return not value.items
    return isinstance(value, Literal) and value.value in (None, [], ())


class _OptionCallFinder(cst.CSTVisitor):
    """``x.with_options(...)`` calls outside the bodies of flow functions."""

    def __init__(self, module: ModuleInfo) -> None:
        self.module = module
        self.calls: list[cst.Call] = []
        self._in_flow = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if find_decorator(node, self.module, FLOW_DECORATORS):
            self._in_flow += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        if find_decorator(original_node, self.module, FLOW_DECORATORS):
            self._in_flow -= 1

    def visit_Call(self, node: cst.Call) -> None:
        if not self._in_flow and isinstance(node.func, cst.Attribute) and node.func.attr.value in OPTION_METHODS:
            self.calls.append(node)
