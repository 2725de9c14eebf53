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
* a test or iterable over a task's result (``if docker_res:``, ``for ou in org_units:``,
  ``if y.result() == "ok":``) is a decision on data, like KFP's ``dsl.If`` on a task
  output: the tasks inside are conditional parts too, with an order edge from each task
  the decision reads (they cannot start before its result is known), and a loop's
  variable carries that task as its source;
* a test or iterable that calls anything else (a task, a helper, a method) is left to
  the base builder (PV010, dynamic): pvcheck cannot tell what the call does.

The flow's ``coverage["conditions"]`` lists them; the structural policy then treats a
parameter change that reaches one of them (also through a task's result) as a change of
which tasks run (SPEC: version). A loop's task runs are counted only at run time: PV028
says so.
"""

from __future__ import annotations

from typing import Any, Optional

import libcst as cst

from pvcheck.plugin import (CallGraphBuilder, Edge, ModuleInfo, Opaque, RunCondition, Severity, StepOutput,
                            StepOutputs, Value, plain_text)
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
        decided_by = self._decision(tests, env, module)
        if decided_by is None:
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
        self._after(decided_by, steps_before)
        self._record("if", statement, module, f"if {first}", steps_before)

    def loop(self, statement: cst.For, env: dict[str, Value], module: ModuleInfo) -> None:
        # checked on the text first: an iterable that runs a task (`t.map(xs).result()`) is
        # evaluated once, by the base builder, or the task would be counted twice
        decided_by = None
        if self._followable([statement.iter], module, env) \
                and self.iteration_values(statement.iter, env, module) is None:
            decided_by = self._decision([statement.iter], env, module)
        if decided_by is None:
            super().loop(statement, env, module)  # unrolled, or over calls: the base builder
            return
        label = f"for {_text(statement.target, module)} in {_text(statement.iter, module)}"
        before = dict(env)
        body_env = dict(before)
        # each item of a task's result comes from that task: passing it on is a data edge
        self.bind(statement.target, Opaque("loop variable", tuple(decided_by)), body_env, module)
        steps_before = len(self.invocations)
        self._within(label, statement.body, body_env, module)
        self._join(env, [body_env, before])  # the loop may run zero times
        if statement.orelse is not None:
            self._nested(statement.orelse.body, env, module)
        self._after(decided_by, steps_before)
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
    def _decision(self, expressions: list[cst.BaseExpression], env: dict[str, Value], module: ModuleInfo
                  ) -> Optional[list[str]]:
        """The task runs that tests or iterables read (empty: parameters and literals only),
        or None when one of them calls something that may run code or a task.

        Allowed: names, attributes, subscripts, literals, operators, the builtins of
        ``_PURE_BUILTINS``, mapping views, and ``.result()`` / ``.wait()`` of a name that
        holds a task's future. Checked on the text before anything is evaluated, so a test
        left to the base builder is evaluated once only.
        """
        if not self._followable(expressions, module, env):
            return None
        sources: list[str] = []
        self._unmasked += 1  # evaluated for its sources only: its text stays part of the flow's code
        try:
            for expression in expressions:
                sources.extend(self.task_sources(self.evaluate(expression, env, module)))
        finally:
            self._unmasked -= 1
        return list(dict.fromkeys(sources))

    def _followable(self, expressions: list[cst.BaseExpression], module: ModuleInfo, env: dict[str, Value]) -> bool:
        """No part of the expressions may run code or a task (see ``_decision``)."""
        for expression in expressions:
            for node in _walk(expression):
                if isinstance(node, (cst.Await, cst.Lambda, cst.NamedExpr)):
                    return False
                if isinstance(node, cst.Call) and not (_pure_call(node, module) or self._reads_result(node, env)):
                    return False
        return True

    @staticmethod
    def _reads_result(call: cst.Call, env: dict[str, Value]) -> bool:
        """``future.result()`` / ``state.wait()`` without arguments, on a local holding a task's run."""
        func = call.func
        return not call.args and isinstance(func, cst.Attribute) and func.attr.value in ("result", "wait") \
            and isinstance(func.value, cst.Name) and isinstance(env.get(func.value.value), (StepOutput, StepOutputs))

    def _after(self, sources: list[str], steps_before: int) -> None:
        """Order edges from the tasks a decision reads to the task runs it decides on."""
        linked = {(e.source, e.target) for e in self.edges}  # a data edge says it already
        for invocation in self.invocations[steps_before:]:
            for source in sources:
                if source != invocation.id and (source, invocation.id) not in linked:
                    linked.add((source, invocation.id))
                    self.edges.append(Edge(source, invocation.id, "order"))

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
                            "min", "max", "abs", "int", "str", "bool", "all", "any", "isinstance"})
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
    """A condition's label, written the same way whatever its layout (parentheses, line
    breaks, quotes, comments): it is part of the graph, and a reformat is not a change."""
    return plain_text(node, module)


def _walk(node: cst.CSTNode) -> list[cst.CSTNode]:
    found: list[cst.CSTNode] = []
    stack = [node]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(current.children)
    return found
