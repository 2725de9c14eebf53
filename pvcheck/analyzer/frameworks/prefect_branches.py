"""Prefect flows with ordinary ``if`` / ``for`` over parameters: a graph with conditional parts.

A Prefect flow body is plain Python run at run time, so ``if include_report:`` or ``for url
in urls:`` decides which task runs happen. Instead of a whole-flow "dynamic" verdict, the
tasks inside are nodes of the graph marked with the condition they run under (the
``$condition`` input, as KFP's ``dsl.If``): a changed condition is a structural change
(PV404) and the flow stays comparable step by step. Soundness rests on three choices:

* nothing inside a branch or loop is masked: its whole text, task calls included, is part
  of the flow's own code (PV407), so an edit there is a new version even where the graph
  cannot show it (a data flow that only exists on one path, a loop-carried value);
* after the statement, a name assigned on some path holds every value it may have
  (including the one from before, for an ``if`` without ``else`` or a loop that runs zero
  times), so a later task gets an edge from each possible source;
* a test or iterable that calls something or reads a task's result is left to the base
  builder (PV010, dynamic): which tasks run then depends on data, not on parameters.

The flow's ``coverage["conditions"]`` lists them; the structural policy then treats a
parameter change that reaches one of them as a change of which tasks run (SPEC: version).
A loop's task runs are counted only at run time: PV028 says so.
"""

from __future__ import annotations

from typing import Any, Optional

import libcst as cst

from pvcheck.plugin import CallGraphBuilder, ModuleInfo, Opaque, RunCondition, Severity, Value
from pvcheck.diagnostics import RUNTIME_LOOP


class ConditionalParts(CallGraphBuilder):
    """``if`` / ``for`` over parameters as conditional parts of the graph (see the module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._conditions: list[str] = []  # the conditions the statement being walked runs under
        self._unmasked = 0  # > 0 inside a branch or loop: its text stays part of the flow's code
        #: one entry per condition or run-time loop, for ``coverage["conditions"]``
        self.conditions: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ masking
    def mask(self, node: cst.CSTNode, token: str) -> None:
        if not self._unmasked:
            super().mask(node, token)

    def _literal_assignment(self, target: cst.BaseExpression, node: cst.BaseExpression, value: Value) -> None:
        if not self._unmasked:
            super()._literal_assignment(target, node, value)

    # ------------------------------------------------------------------ statements
    def conditional(self, statement: cst.If, env: dict[str, Value], module: ModuleInfo) -> None:
        branches: list[tuple[str, cst.BaseSuite]] = []
        tests: list[cst.BaseExpression] = []
        first = _text(statement.test, module)
        current: Optional[cst.If | cst.Else] = statement
        has_else = False
        while current is not None:
            if isinstance(current, cst.If):
                tests.append(current.test)
                label = f"if {first}" if current is statement else f"elif {_text(current.test, module)} (if {first})"
                branches.append((label, current.body))
                current = current.orelse
            else:
                branches.append((f"else (if {first})", current.body))
                has_else = True
                current = None
        if not all(self._parameter_decision(test, env, module) for test in tests):
            super().conditional(statement, env, module)
            return
        before = dict(env)
        outcomes: list[dict[str, Value]] = []
        steps_before = len(self.invocations)
        for label, body in branches:
            branch_env = dict(before)
            self._within(label, body, branch_env, module)
            outcomes.append(branch_env)
        if not has_else:
            outcomes.append(before)  # no else: the statement may run nothing
        self._join(env, outcomes)
        self._record("if", statement, module, f"if {first}", steps_before)

    def loop(self, statement: cst.For, env: dict[str, Value], module: ModuleInfo) -> None:
        if self.iteration_values(statement.iter, env, module) is not None \
                or not self._parameter_decision(statement.iter, env, module):
            super().loop(statement, env, module)  # unrolled, or over data: the base builder
            return
        label = f"for {_text(statement.target, module)} in {_text(statement.iter, module)}"
        before = dict(env)
        body_env = dict(before)
        self.bind(statement.target, Opaque("loop variable"), body_env, module)
        steps_before = len(self.invocations)
        self._within(label, statement.body, body_env, module)
        self._join(env, [body_env, before])  # the loop may run zero times
        if statement.orelse is not None:
            self._nested(statement.orelse.body, env, module)
        ran = self._record("for", statement, module, label, steps_before)
        if ran:
            self.ctx.diagnose(
                RUNTIME_LOOP, Severity.WARNING,
                f"flow '{self.pipeline_name}': {', '.join(ran)} run once per item of "
                f"`{_text(statement.iter, module)}`, a count known only at run time",
                module.path, module.line(statement),
                hint="each is one node of the graph marked with its loop; an edit inside the loop is a new version, "
                     "a changed parameter that reaches the loop too")

    # ------------------------------------------------------------------ helpers
    def _parameter_decision(self, expression: cst.BaseExpression, env: dict[str, Value], module: ModuleInfo) -> bool:
        """A test or iterable made of names, attributes, subscripts, literals and operators
        (no call: it would run code or a task) whose value comes from no task."""
        for node in _walk(expression):
            if isinstance(node, (cst.Await, cst.Lambda, cst.NamedExpr)):
                return False
            if isinstance(node, cst.Call) and not _pure_call(node, module):
                return False
        self._unmasked += 1  # evaluated for its sources only: its text stays part of the flow's code
        try:
            return not self.task_sources(self.evaluate(expression, env, module))
        finally:
            self._unmasked -= 1

    def task_sources(self, value: Value) -> list[str]:
        """The task runs a value comes from. ``invocations_in`` also takes a string literal
        for an id (ZenML's ``after="load"``); in a flow body a string is data."""
        made = {invocation.id for invocation in self.invocations}
        return [source for source in self.invocations_in(value) if source in made]

    def _within(self, label: str, body: cst.BaseSuite, env: dict[str, Value], module: ModuleInfo) -> None:
        self._conditions.append(label)
        self._unmasked += 1
        try:
            self._nested(body, env, module)
        finally:
            self._unmasked -= 1
            self._conditions.pop()

    def _join(self, env: dict[str, Value], outcomes: list[dict[str, Value]]) -> None:
        """``env`` after the statement: every value a name may hold on some path."""
        for name in sorted({n for outcome in outcomes for n in outcome}):
            values = [outcome[name] for outcome in outcomes if name in outcome]
            if len(values) == len(outcomes) and all(v == values[0] for v in values):
                env[name] = values[0]
                continue
            sources: list[str] = []
            for value in values:
                sources.extend(self.task_sources(value))
            env[name] = Opaque(f"one of the values of '{name}' after a condition or loop",
                               tuple(dict.fromkeys(sources)))

    def _record(self, kind: str, statement: cst.CSTNode, module: ModuleInfo, text: str, steps_before: int
                ) -> list[str]:
        ran = [invocation.id for invocation in self.invocations[steps_before:]]
        self.conditions.append({"kind": kind, "condition": text, "path": module.path,
                                "line": module.line(statement), "steps": ran})
        return ran

    def mark(self, invocation: Any) -> None:
        """The conditions an invocation just made runs under, as its ``$condition`` input."""
        if self._conditions:
            invocation.inputs[RunCondition.key] = RunCondition(tuple(self._conditions))


#: Builtins that make an iterable or a number from their arguments and run no user code
#: of their own (``range(1, pages + 1)``, ``enumerate(urls)``).
_PURE_BUILTINS = frozenset({"range", "enumerate", "zip", "sorted", "reversed", "len", "list", "tuple", "set",
                            "min", "max", "abs", "int", "str", "bool"})
#: Views of a mapping (``settings.items()``).
_PURE_METHODS = frozenset({"items", "keys", "values"})


def _pure_call(call: cst.Call, module: ModuleInfo) -> bool:
    """A call that only rearranges its (separately checked) arguments: a listed builtin,
    or a mapping view without arguments."""
    func = call.func
    if isinstance(func, cst.Name):
        return func.value in _PURE_BUILTINS and module.qualified_names(func) == {func.value}
    return isinstance(func, cst.Attribute) and func.attr.value in _PURE_METHODS and not call.args


def _text(node: cst.CSTNode, module: ModuleInfo) -> str:
    return " ".join(module.code(node).split())


def _walk(node: cst.CSTNode) -> list[cst.CSTNode]:
    found: list[cst.CSTNode] = []
    stack = [node]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(current.children)
    return found
