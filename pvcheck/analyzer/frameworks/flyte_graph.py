"""The walk of a flytekit ``@workflow`` body: node ids, promises, conditionals, map tasks.

See ``flyte.py`` for what flytekit does; this module mirrors it on top of
:class:`~pvcheck.analyzer.callgraph.CallGraphBuilder`.

Ids are given while walking, as flytekit gives them, from the counter of the compilation
state being filled. Nodes inside a conditional or an inlined subworkflow get a
placeholder prefix (their parent node's id is known only once the parent is complete),
and ``with_overrides(node_name=...)`` may rename a node after promises of it were used:
:meth:`FlyteGraphBuilder.finish` rewrites every id once the walk is done.
"""

from __future__ import annotations

import builtins
import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Optional

import libcst as cst

from pvcheck.analyzer.frameworks.flyte import (
    LAUNCH_PLAN_FACTORIES,
    launch_plan_workflow,
    misplaced_module,
    returns_named_tuple,
)
from pvcheck.plugin import (CallGraphBuilder, Edge, FromStep, Invocation, Literal, ModuleInfo, Opaque,
                            PipelineParameter, RunCondition, StepDefinition, StepOutput, StepOutputs, Symbol, Value,
                            merge_config)
from pvcheck.plugin import ORIGIN_OPTIONS, ConfigSource

MAP_TASK = frozenset({"flytekit.map_task", "flytekit.core.array_node_map_task.map_task",
                      "flytekit.core.map_task.map_task"})
PARTIAL = frozenset({"functools.partial"})
CONDITIONAL = frozenset({"flytekit.conditional", "flytekit.core.condition.conditional"})
CREATE_NODE = frozenset({"flytekit.create_node", "flytekit.core.node_creation.create_node"})
GATES = frozenset({"flytekit.sleep", "flytekit.wait_for_input", "flytekit.approve",
                   "flytekit.core.gate.sleep", "flytekit.core.gate.wait_for_input", "flytekit.core.gate.approve"})
_TUPLE_TYPES = frozenset({"typing.NamedTuple", "typing_extensions.NamedTuple", "collections.namedtuple"})
_BUILTINS = frozenset(dir(builtins))
_PLACEHOLDER = "\x00"


@dataclass(frozen=True)
class _Node(StepOutputs):
    """A ``Node`` from ``create_node``: outputs are its attributes, ``runs_before`` works."""


@dataclass(frozen=True)
class _Group(Opaque):
    """A subworkflow or launch plan without outputs (a ``VoidPromise``): ``depends_on`` are its nodes."""


@dataclass(frozen=True)
class _Partial(Opaque):
    """``functools.partial(task, ...)`` bound to a name in the workflow, for a ``map_task``."""

    node: Optional[cst.Call] = None


@dataclass
class _State:
    """One flytekit compilation state: the prefix of its ids and how many nodes it holds."""

    prefix: str
    count: int = 0


@dataclass
class _Case:
    condition: Optional[str] = None  # None: else_()
    sources: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    result: Optional[Value] = None


class FlyteGraphBuilder(CallGraphBuilder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._states = [_State("")]
        self._serial = 0
        self._prefixes: dict[str, str] = {}  # placeholder -> the parent node's id + "-"
        self._renames: dict[str, str] = {}  # node id -> with_overrides(node_name=...)
        self._by_id: dict[str, Invocation] = {}
        self._cases: list[_Case] = []  # the conditional cases being walked, innermost last
        self._synthetic: dict[int, cst.CSTNode] = {}  # id(call made by pvcheck) -> the source node

    def not_followed(self, module: ModuleInfo, node: cst.CSTNode, what: str) -> None:
        super().not_followed(module, self._synthetic.get(id(node), node), what)

    # ------------------------------------------------------------------ hooks
    def pipeline_function(self, symbol: Symbol) -> Optional[cst.FunctionDef]:
        node = symbol.node
        if symbol.kind == "function":
            return self.framework.pipeline_function(symbol)  # type: ignore[attr-defined]
        if symbol.kind == "constant" and isinstance(node, cst.Assign) and isinstance(node.value, cst.Call):
            # a launch plan: one node that launches its workflow
            call = node.value
            if isinstance(call.func, cst.Attribute) and symbol.module.qualified_names(call.func) \
                    & LAUNCH_PLAN_FACTORIES:
                workflow = launch_plan_workflow(call, symbol.module, self.ctx)
                if workflow is not None:
                    return self.framework.pipeline_function(workflow)  # type: ignore[attr-defined]
        return None

    def invocation_id(self, definition: StepDefinition, call: cst.Call, env: dict[str, Value]) -> str:
        return self._next_id()

    def result_of(self, invocation: Invocation) -> Value:
        names = tuple(o.name for o in invocation.definition.outputs)
        if len(names) == 1 and not returns_named_tuple(invocation.definition, self.ctx):
            return StepOutput(invocation.id, names[0])
        return StepOutputs(invocation.id, names)  # a VoidPromise when there is no output

    def other_call(self, call: cst.Call, env: dict[str, Value], module: ModuleInfo) -> Optional[Value]:
        func = call.func
        if not isinstance(func, (cst.Name, cst.Attribute)):
            return None
        symbol = self.ctx.resolve_callee(module, func)
        gate = bool(module.qualified_names(func) & GATES)
        if gate or (symbol is not None and _is_foreign_entity(symbol)):
            # a node pvcheck has no function for: it still takes an id, after its arguments
            flows: list[str] = []
            for arg in call.args:
                flows.extend(self.invocations_in(self.evaluate(arg.value, env, module)))
            node_id = self._next_id()
            what = "a gate node (sleep / wait_for_input / approve)" if gate else \
                f"a node of '{symbol.qualified_name}', a task pvcheck cannot see into (a task object or reference)"
            self.not_followed(module, call, f"{what}, not a step,")
            return Opaque(f"node {node_id}", tuple(dict.fromkeys(flows)))
        if symbol is not None and _is_tuple_type(symbol):
            return None  # the workflow's NamedTuple of outputs, built from promises
        if symbol is not None and symbol.kind in ("function", "constant"):
            # plain Python the workflow runs while it compiles
            self.not_followed(module, call, f"a call of '{symbol.qualified_name}', which is not a "
                              "@task, @workflow or launch plan,")
        elif symbol is None:
            qualified = module.qualified_names(func)
            if not qualified and not (isinstance(func, cst.Name) and func.value in _BUILTINS):
                self.not_followed(module, call, f"a call of '{self.ctx.render(func, module)}', a name not "
                                  "defined or imported,")
            elif len(qualified) == 1:
                name = next(iter(qualified))
                meant = misplaced_module(name, self.ctx)
                if meant is not None:
                    # nearly every call in a workflow body is a node: one that cannot be found is
                    # most likely a task whose module has another name in this scan
                    self.not_followed(module, call, f"a call of '{name}', which resolves to nothing in the "
                                      f"tree (is it '{meant}'? set `roots` so module names match imports),")
        return None

    # ------------------------------------------------------------------ ids
    def _next_id(self) -> str:
        state = self._states[-1]
        node_id = f"{state.prefix}n{state.count}"
        state.count += 1
        return node_id

    def _open_state(self) -> str:
        self._serial += 1
        placeholder = f"{_PLACEHOLDER}{self._serial}{_PLACEHOLDER}"
        # the placeholder stands for the parent's whole id, which holds its own parent's
        self._states.append(_State(placeholder))
        return placeholder

    def _close_state(self, placeholder: str) -> str:
        """Pop a nested state; its parent node takes the next id of the enclosing one."""
        self._states.pop()
        parent = self._next_id()
        self._prefixes[placeholder] = parent + "-"
        return parent

    def finish(self) -> None:
        """Give every node its final id (placeholders and node_name overrides resolved)."""
        def final(node_id: str) -> str:
            node_id = self._renames.get(node_id, node_id)
            # a parent's id may itself hold the placeholder of its own parent
            for _ in range(len(self._prefixes) + 1):
                if _PLACEHOLDER not in node_id:
                    break
                for placeholder, prefix in self._prefixes.items():
                    node_id = node_id.replace(placeholder, prefix)
            return node_id

        def rewrite(value: Any) -> Any:
            if isinstance(value, FromStep):
                return dataclasses.replace(value, step=final(value.step))
            if isinstance(value, RunCondition):
                return RunCondition(tuple(rewrite(list(value.conditions))))
            if isinstance(value, dict):
                return {k: (final(v) if k == "$step" and isinstance(v, str) else rewrite(v)) for k, v in value.items()}
            if isinstance(value, list):
                return [rewrite(v) for v in value]
            if isinstance(value, str) and "{" in value:  # condition texts name nodes as {id.output}
                return re.sub(r"\{([^{}.]+)\.", lambda m: "{" + final(m.group(1)) + ".", value)
            return value

        for invocation in self.invocations:
            invocation.id = final(invocation.id)
            invocation.inputs = rewrite(invocation.inputs)
        self.edges = [dataclasses.replace(e, source=final(e.source), target=final(e.target)) for e in self.edges]

    # ------------------------------------------------------------------ calls
    def invoke(self, definition: StepDefinition, call: cst.Call, option_calls: list[cst.Call],
               env: dict[str, Value], module: ModuleInfo) -> Value:
        result = super().invoke(definition, call, option_calls, env, module)
        invocation = self.invocations[-1]
        self._by_id[invocation.id] = invocation
        if self._cases:
            self._cases[-1].members.append(invocation.id)
        return result

    def inline(self, symbol: Symbol, function: cst.FunctionDef, call: cst.Call, env: dict[str, Value],
               module: ModuleInfo) -> Value:
        """A subworkflow or launch plan: its arguments are nodes of this workflow, its own
        nodes are numbered in a state of their own, then it takes this workflow's next id."""
        if symbol.kind == "constant" and isinstance(symbol.node, cst.Assign) and isinstance(symbol.node.value, cst.Call):
            workflow = launch_plan_workflow(symbol.node.value, symbol.module, self.ctx)
            if workflow is None:
                return Opaque(symbol.qualified_name)
            symbol = workflow  # the launch plan's workflow, read in its own module
        if len(self._states) > 8:
            self.not_followed(module, call, "workflows nested too deeply")
            return Opaque(symbol.qualified_name)
        params = [*function.params.posonly_params, *function.params.params, *function.params.kwonly_params]
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
            bindings.setdefault(param.name.value, PipelineParameter(param.name.value))
        placeholder = self._open_state()
        before = len(self.invocations)
        try:
            result = self.block(function.body, bindings, symbol.module)
        finally:
            self._close_state(placeholder)
        if result is None:  # a subworkflow without outputs: `>>` orders all of its nodes
            return _Group(symbol.qualified_name, tuple(i.id for i in self.invocations[before:]))
        return result

    def evaluate(self, expression: cst.BaseExpression, env: dict[str, Value], module: ModuleInfo) -> Value:
        if isinstance(expression, cst.BinaryOperation) and isinstance(expression.operator, cst.RightShift):
            left = self.evaluate(expression.left, env, module)
            right = self.evaluate(expression.right, env, module)
            self._order(left, right, module, expression)
            return right
        if isinstance(expression, cst.Attribute):
            base = self.evaluate(expression.value, env, module)
            name = expression.attr.value
            if isinstance(base, _Node) and name == "outputs":
                return base
            if isinstance(base, StepOutputs) and name in base.outputs:
                return StepOutput(base.invocation, name)
            if isinstance(base, (StepOutput, StepOutputs)):
                return base  # an attribute of a promised dataclass: still that output
            if any(isinstance(n, cst.Call) for n in _walk(expression.value)):
                # not evaluated twice: the receiver may have made nodes
                return Opaque(self.ctx.render(expression, module), tuple(self.invocations_in(base)))
            return super().evaluate(expression, env, module)
        return super().evaluate(expression, env, module)

    def call(self, call: cst.Call, env: dict[str, Value], module: ModuleInfo) -> Value:
        func = call.func
        chain = _conditional_chain(call, module)
        if chain is not None:
            return self._conditional(chain, env, module)
        if isinstance(func, cst.Attribute) and func.attr.value in ("with_overrides", "runs_before"):
            receiver = self.evaluate(func.value, env, module)
            if func.attr.value == "with_overrides":
                self._with_overrides(receiver, call, env, module)
            elif call.args:
                self._order(receiver, self.evaluate(call.args[0].value, env, module), module, call, method=True)
            return receiver
        if isinstance(func, (cst.Name, cst.Attribute)) and module.qualified_names(func) & CREATE_NODE and call.args:
            return self._create_node(call, env, module)
        if isinstance(func, cst.Name) and isinstance(env.get(func.value), _Partial):
            return self._call_partial(env[func.value], call, env, module)  # type: ignore[arg-type]
        if isinstance(func, (cst.Name, cst.Attribute)) and module.qualified_names(func) & PARTIAL:
            return _Partial(self.ctx.render(func, module) + "(...)", (), call)  # for a map_task below
        if isinstance(func, cst.Call) and isinstance(func.func, cst.Attribute) \
                and module.qualified_names(func.func) & LAUNCH_PLAN_FACTORIES:
            workflow = launch_plan_workflow(func, module, self.ctx)
            function = self.pipeline_function(workflow) if workflow is not None else None
            if workflow is not None and function is not None:
                return self.inline(workflow, function, call, env, module)
        mapped = self._map_task(func, module, env)
        if mapped is not None:
            return self._invoke_map(mapped, call, env, module)
        return super().call(call, env, module)

    def _create_node(self, call: cst.Call, env: dict[str, Value], module: ModuleInfo,
                     origin: Optional[cst.Call] = None) -> Value:
        """``create_node(t, **inputs)`` (``origin``: the source call it stands for, if other)."""
        origin = origin or call
        entity = call.args[0].value
        inner = cst.Call(func=entity, args=call.args[1:])
        self._synthetic[id(inner)] = origin  # made here: lines are the source call's
        before = len(self.invocations)
        value = self.call(inner, env, module)
        if len(self.invocations) > before and isinstance(value, (StepOutput, StepOutputs)):
            invocation = self.invocations[-1]
            invocation.call_node = origin
            return _Node(value.invocation, tuple(o.name for o in invocation.definition.outputs))
        return value

    def _call_partial(self, partial: "_Partial", call: cst.Call, env: dict[str, Value], module: ModuleInfo) -> Value:
        """``p = functools.partial(t, x=x)`` then ``p(y=y)``: a node of ``t`` with both sets of inputs."""
        bound = partial.node
        if bound is None or not bound.args:
            return Opaque(partial.text)
        inner = cst.Call(func=bound.args[0].value, args=[*bound.args[1:], *call.args])
        self._synthetic[id(inner)] = call
        before = len(self.invocations)
        value = self.call(inner, env, module)
        if len(self.invocations) > before:
            self.invocations[-1].call_node = call
        return value

    def _with_overrides(self, receiver: Value, call: cst.Call, env: dict[str, Value], module: ModuleInfo) -> None:
        invocation = self._by_id.get(receiver.invocation) if isinstance(receiver, (StepOutput, StepOutputs)) else None
        if invocation is None:
            self.not_followed(module, call, "a with_overrides() on something that is not a task's node")
            return
        config, lines = self.ctx.keyword_config(call, module, skip=("node_name",))
        invocation.config = merge_config(invocation.config, config)
        invocation.config_lines.update(lines)
        arg = self.keyword(call, "node_name")
        if arg is None:
            return
        value = self.evaluate(arg.value, env, module)
        if not isinstance(value, Literal) or not isinstance(value.value, str):
            self.not_followed(module, arg, "a node_name computed at run time")
            return
        prefix = invocation.id[: invocation.id.rfind(_PLACEHOLDER) + 1]
        self._renames[invocation.id] = prefix + dnsify(value.value)

    def _order(self, left: Value, right: Value, module: ModuleInfo, node: cst.CSTNode, method: bool = False) -> None:
        """``left >> right`` / ``left.runs_before(right)``, as flytekit's classes implement them."""
        if isinstance(left, _Group):
            sources = list(left.depends_on)
        elif isinstance(left, _Node):
            sources = [left.invocation]
        elif isinstance(left, StepOutputs) and (left.outputs or method):
            return  # the named tuple of a multi-output task (and a VoidPromise's runs_before): no-ops
        elif isinstance(left, StepOutput) and method:
            self.not_followed(module, node, "a runs_before() on a promise (flytekit's Promise has none)")
            return
        elif isinstance(left, (StepOutput, StepOutputs)):
            sources = [left.invocation]
        else:
            self.not_followed(module, node, "an ordering (>> / runs_before) of something that is not a node")
            return
        targets = self.invocations_in(right) if isinstance(right, (StepOutput, StepOutputs, _Group)) else []
        if not targets:
            self.not_followed(module, node, "an ordering (>> / runs_before) onto something that is not a node")
        for source in sources:
            for target in targets:
                self.edges.append(Edge(source, target, "order"))

    # ------------------------------------------------------------------ map_task
    def _map_task(self, func: cst.BaseExpression, module: ModuleInfo, env: dict[str, Value]
                  ) -> Optional[tuple[cst.Call, ModuleInfo]]:
        """The ``map_task(...)`` call ``func`` is, or names (a module-level ``mapped = map_task(t)``)."""
        if isinstance(func, cst.Name) and func.value in env:
            return None
        if isinstance(func, cst.Call) and isinstance(func.func, (cst.Name, cst.Attribute)) \
                and module.qualified_names(func.func) & MAP_TASK:
            return func, module
        symbol = self.ctx.resolve_callee(module, func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if symbol is not None and symbol.kind == "constant" and isinstance(symbol.node, cst.Assign):
            value = symbol.node.value
            if isinstance(value, cst.Call) and isinstance(value.func, (cst.Name, cst.Attribute)) \
                    and symbol.module.qualified_names(value.func) & MAP_TASK:
                return value, symbol.module
        return None

    def _invoke_map(self, mapped: tuple[cst.Call, ModuleInfo], call: cst.Call, env: dict[str, Value],
                    module: ModuleInfo) -> Value:
        map_call, map_module = mapped
        target = map_call.args[0].value if map_call.args and map_call.args[0].keyword is None else None
        bound: list[cst.Arg] = []
        if isinstance(target, cst.Name) and map_module is module and isinstance(env.get(target.value), _Partial):
            target = env[target.value].node  # type: ignore[union-attr]  # partial_task = functools.partial(...)
        if isinstance(target, cst.Call) and isinstance(target.func, (cst.Name, cst.Attribute)) \
                and map_module.qualified_names(target.func) & PARTIAL and target.args:
            bound = [a for a in target.args[1:] if a.keyword is not None]
            target = target.args[0].value
        symbol = self.ctx.resolve_callee(map_module, target) if target is not None else None
        definition = self.ctx.step_definition(self.framework, symbol) if symbol is not None else None
        if definition is None:
            self.not_followed(module, call, "a map_task over something that is not a @task")
            return Opaque("map_task(...)")
        definition = dataclasses.replace(definition, kind="map_task")
        # partial-bound arguments are inputs of every mapped run (read in the map_task's module)
        env_for_bound = env if map_module is module else {}
        result = super().invoke(definition, call, [], env, module)
        invocation = self.invocations[-1]
        self._by_id[invocation.id] = invocation
        if self._cases:
            self._cases[-1].members.append(invocation.id)
        for arg in bound:
            assert arg.keyword is not None
            value = self.evaluate(arg.value, env_for_bound, map_module)
            invocation.inputs[arg.keyword.value] = self.input_binding(value, invocation.id, arg.keyword.value)
        config, _ = self.ctx.keyword_config(map_call, map_module)
        invocation.config = merge_config(invocation.config, {"map_task": config})
        invocation.config_lines["map_task"] = ConfigSource(map_module.path, map_module.line(map_call), ORIGIN_OPTIONS)
        return result

    # ------------------------------------------------------------------ conditional
    def _conditional(self, chain: list[tuple[str, cst.Call]], env: dict[str, Value], module: ModuleInfo) -> Value:
        root = chain[0][1]
        name_value = self.evaluate(root.args[0].value, env, module) if root.args else Literal(None)
        placeholder = self._open_state()
        cases: list[_Case] = []
        earlier: list[str] = []
        complete = False
        try:
            for method, call in chain[1:]:
                if method in ("if_", "elif_"):
                    expression = call.args[0].value if call.args else None
                    case = _Case(self._condition_text(expression, env, module) if expression is not None else "?")
                    if expression is not None:
                        case.sources = self._flows(expression, env, module)
                    cases.append(case)
                elif method == "else_":
                    cases.append(_Case())
                elif method in ("then", "fail") and cases:
                    self._cases.append(cases[-1])
                    try:
                        if method == "then" and call.args:
                            cases[-1].result = self.evaluate(call.args[0].value, env, module)
                    finally:
                        self._cases.pop()
                    complete = cases[-1].condition is None
                else:
                    self.not_followed(module, call, f"a conditional(...).{method}() flytekit does not know")
        finally:
            parent = self._close_state(placeholder) if complete else None
            if not complete:
                self._states.pop()
        if parent is None:
            self.not_followed(module, root, "a conditional without else_() (flytekit does not close it)")
        sources: list[str] = []
        for case in cases:
            conditions = [f"not {text}" for text in earlier]
            if case.condition is not None:
                conditions.append(case.condition)
                earlier.append(case.condition)
            for source in case.sources:
                if source not in sources:
                    sources.append(source)
            for member in case.members:
                invocation = self._by_id[member]
                # which tasks run is the workflow's shape, not a setting: structural, like an edge
                invocation.inputs[RunCondition.key] = RunCondition((
                    f"conditional {name_value.value!r}"  # type: ignore[union-attr]
                    if isinstance(name_value, Literal) else "conditional", *conditions))
                for source in sources:
                    self.edges.append(Edge(source, member, "order"))
        results = [s for case in cases for s in self.invocations_in(case.result) if case.result is not None]
        return Opaque(f"conditional at line {module.line(root)}", tuple(dict.fromkeys(results)))

    def _condition_text(self, expression: cst.BaseExpression, env: dict[str, Value], module: ModuleInfo) -> str:
        """A condition as stable text: nodes as ``{id.output}``, inputs as ``{name}``, literals by value."""
        if isinstance(expression, cst.Comparison):
            parts = [self._condition_text(expression.left, env, module)]
            for target in expression.comparisons:
                parts.append(" ".join(module.code(target.operator).split()))
                parts.append(self._condition_text(target.comparator, env, module))
            return "(" + " ".join(parts) + ")"
        if isinstance(expression, cst.BinaryOperation) and isinstance(expression.operator, (cst.BitAnd, cst.BitOr)):
            operator = "&" if isinstance(expression.operator, cst.BitAnd) else "|"
            left = self._condition_text(expression.left, env, module)
            return f"({left} {operator} {self._condition_text(expression.right, env, module)})"
        if isinstance(expression, cst.Call) and isinstance(expression.func, cst.Attribute) and not expression.args:
            # promise.is_true() / is_false() / is_none()
            return f"{self._condition_text(expression.func.value, env, module)}.{expression.func.attr.value}()"
        value = self.evaluate(expression, env, module)
        if isinstance(value, StepOutput):
            return f"{{{value.invocation}.{value.output}}}"
        if isinstance(value, PipelineParameter):
            return f"{{{value.name}}}"
        if isinstance(value, Literal):
            return repr(value.value)
        return self.ctx.render(expression, module)


def _conditional_chain(call: cst.Call, module: ModuleInfo) -> Optional[list[tuple[str, cst.Call]]]:
    """``conditional("c").if_(...).then(...)...`` as [("conditional", root), ("if_", call), ...]."""
    chain: list[tuple[str, cst.Call]] = []
    current: cst.BaseExpression = call
    while isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute) \
            and current.func.attr.value in ("if_", "elif_", "else_", "then", "fail"):
        chain.insert(0, (current.func.attr.value, current))
        current = current.func.value
    if not chain or not isinstance(current, cst.Call) or not isinstance(current.func, (cst.Name, cst.Attribute)) \
            or not module.qualified_names(current.func) & CONDITIONAL:
        return None
    return [("conditional", current), *chain]


def dnsify(value: str) -> str:
    """flytekit's ``_dnsify``: a node name made DNS-safe (``Train_Model`` -> ``train-model``)."""
    import hashlib

    result = ""
    if len(value) >= 63:
        digest = hashlib.sha224(value.encode("utf-8")).hexdigest()[:10]
        value = f"{digest}-{value[-(63 - 10 - 1):]}"
    for ch in value:
        if ch in "_-.":
            if result != "" and len(result) < 62:
                result += "-"
        elif not ch.isalnum():
            pass
        elif ch.islower() or ch.isdigit():
            result += ch
        else:
            if result != "" and result[-1] != "-" and len(result) < 62:
                result += "-"
            result += ch.lower()
    return result[:-1] if result.endswith("-") else result


def _walk(node: cst.CSTNode) -> list[cst.CSTNode]:
    found = [node]
    for child in node.children:
        found.extend(_walk(child))
    return found


def _is_foreign_entity(symbol: Symbol) -> bool:
    """A Flyte entity pvcheck cannot read: a module-level object made by a call
    (``ShellTask(...)``, ``SQLite3Task(...)``, ``ContainerTask(...)``, a plug-in's task) or a
    function under a flytekit decorator that is not ``@task`` (``@reference_task`` ...)."""
    node = symbol.node
    if symbol.kind == "constant":
        return isinstance(node, cst.Assign) and isinstance(node.value, cst.Call) and not _is_tuple_type(symbol)
    if symbol.kind == "function" and isinstance(node, cst.FunctionDef):
        for decorator in node.decorators:
            callee = decorator.decorator.func if isinstance(decorator.decorator, cst.Call) else decorator.decorator
            if isinstance(callee, (cst.Name, cst.Attribute)) and any(
                    q.startswith("flytekit") for q in symbol.module.qualified_names(callee)):
                return True
    return False


def _is_tuple_type(symbol: Symbol) -> bool:
    """``Outputs = NamedTuple(...)`` / ``namedtuple(...)`` at module level: a type, no node."""
    node = symbol.node
    if symbol.kind != "constant" or not isinstance(node, cst.Assign) or not isinstance(node.value, cst.Call):
        return False
    callee = node.value.func
    return isinstance(callee, (cst.Name, cst.Attribute)) and bool(symbol.module.qualified_names(callee) & _TUPLE_TYPES)
