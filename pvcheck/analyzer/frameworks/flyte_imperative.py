"""flytekit's ``ImperativeWorkflow`` (exported as ``flytekit.Workflow``), built at module level.

``wb = Workflow(name="x")`` makes a workflow named ``x`` (the name as given); then, in
straight-line module code, ``wb.add_workflow_input("a", T)`` declares an input,
``node = wb.add_entity(t, a=wb.inputs["a"])`` (and ``add_task`` / ``add_subwf`` /
``add_launch_plan``) adds a node numbered like any other (``n0``, ``n1`` ...), whose outputs
are ``node.outputs["o0"]`` or ``node.o0``; ``wb.add_workflow_output(...)`` names a result.
(``flytekit/core/workflow.py``, ``ImperativeWorkflow``.)

pvcheck walks the module-level statements that mention the workflow, in order, with the
same graph builder as ``@workflow`` bodies. Statements inside ``if``/``for``/functions that
mention it are not followed, and say so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

import libcst as cst

from pvcheck.analyzer.frameworks.flyte_graph import FlyteGraphBuilder
from pvcheck.plugin import (AnalysisContext, Literal, ModuleInfo, Parameter, Pipeline, PipelineParameter, Symbol,
                            Value, keyword_string)

if TYPE_CHECKING:
    from pvcheck.analyzer.frameworks.flyte import Flyte

IMPERATIVE = frozenset({"flytekit.Workflow", "flytekit.ImperativeWorkflow", "flytekit.core.workflow.ImperativeWorkflow"})
ADD_NODE = frozenset({"add_entity", "add_task", "add_subwf", "add_launch_plan"})


def imperative_pipelines(framework: "Flyte", module: ModuleInfo, ctx: AnalysisContext) -> Iterable[Pipeline]:
    if "Workflow(" not in module.text:
        return
    body = list(module.tree.body)
    for index, statement in enumerate(body):
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            continue
        assign = statement.body[0]
        if not isinstance(assign, cst.Assign) or len(assign.targets) != 1 \
                or not isinstance(assign.targets[0].target, cst.Name) or not isinstance(assign.value, cst.Call):
            continue
        func = assign.value.func
        if not isinstance(func, (cst.Name, cst.Attribute)) or not module.qualified_names(func) & IMPERATIVE:
            continue
        symbol = module.symbol(assign.targets[0].target.value)
        if symbol is not None:
            yield _pipeline(framework, module, symbol, assign, body[index + 1:], ctx)


def _mentions(node: cst.CSTNode, name: str) -> bool:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name) and current.value == name:
            return True
        stack.extend(current.children)
    return False


def _is_main_guard(statement: cst.BaseStatement) -> bool:
    if not isinstance(statement, cst.If) or not isinstance(statement.test, cst.Comparison):
        return False
    left = statement.test.left
    return isinstance(left, cst.Name) and left.value == "__name__"


def _pipeline(framework: "Flyte", module: ModuleInfo, symbol: Symbol, assign: cst.Assign,
              rest: list[cst.BaseStatement], ctx: AnalysisContext) -> Pipeline:
    variable = symbol.name
    assert isinstance(assign.value, cst.Call)
    call = assign.value
    name = keyword_string(call, "name")
    if name is None and call.args and call.args[0].keyword is None:
        first = ctx.value(call.args[0].value, module)
        name = first if isinstance(first, str) else None
    config, lines = ctx.keyword_config(call, module, skip=("name",))
    statements: list[cst.BaseStatement] = []
    builder = _ImperativeBuilder(framework, ctx, module, _EMPTY_FUNCTION, name or variable)
    builder.variable = variable
    for statement in rest:
        if not _mentions(statement, variable):
            continue
        if isinstance(statement, cst.SimpleStatementLine):
            statements.append(statement)
        elif _is_main_guard(statement):
            continue  # runs the workflow when the file is a script; builds nothing
        else:
            builder.not_followed(module, statement, f"a compound statement using imperative workflow '{variable}'")
    env: dict[str, Value] = {variable: Literal(None)}
    builder.block(cst.IndentedBlock(body=statements), env, module)
    builder.finish()
    return ctx.make_pipeline(
        name=name or variable, framework=framework.name, symbol=symbol, node=assign,
        invocations=builder.invocations, edges=builder.edges, config=config, config_lines=lines,
        parameters=tuple(builder.parameters), dynamic=builder.dynamic,
    )


_EMPTY_FUNCTION = cst.parse_statement("def _imperative():\n    pass\n")
assert isinstance(_EMPTY_FUNCTION, cst.FunctionDef)


class _ImperativeBuilder(FlyteGraphBuilder):
    """The Flyte graph builder, with the workflow object's methods as the ways to add nodes."""

    variable = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parameters: list[Parameter] = []

    def evaluate(self, expression: cst.BaseExpression, env: dict[str, Value], module: ModuleInfo) -> Value:
        if isinstance(expression, cst.Subscript) and isinstance(expression.value, cst.Attribute) \
                and self._is_workflow(expression.value.value) and expression.value.attr.value == "inputs" \
                and len(expression.slice) == 1 and isinstance(expression.slice[0].slice, cst.Index):
            key = self.evaluate(expression.slice[0].slice.value, env, module)
            if isinstance(key, Literal) and isinstance(key.value, str):
                return PipelineParameter(key.value)
        return super().evaluate(expression, env, module)

    def call(self, call: cst.Call, env: dict[str, Value], module: ModuleInfo) -> Value:
        func = call.func
        if isinstance(func, cst.Attribute) and self._is_workflow(func.value):
            method = func.attr.value
            if method in ADD_NODE and call.args and call.args[0].keyword is None:
                # add_entity(t, **inputs) is create_node(t, **inputs): a Node
                node = cst.Call(func=cst.Name("create_node"), args=call.args)
                return self._create_node(node, env, module, origin=call)
            if method == "add_workflow_input" and call.args:
                input_name = self.evaluate(call.args[0].value, env, module)
                if isinstance(input_name, Literal) and isinstance(input_name.value, str):
                    annotation = self.ctx.render(call.args[1].value, module) if len(call.args) > 1 else None
                    self.parameters.append(Parameter(input_name.value, "positional_or_keyword", annotation))
                    return PipelineParameter(input_name.value)
            if method == "add_workflow_output":
                for arg in call.args[1:]:
                    self.evaluate(arg.value, env, module)
                return Literal(None)
            if method in ("add_workflow_input", "add_workflow_output") or method in ADD_NODE:
                self.not_followed(module, call, f"an imperative workflow's {method}() not known statically")
                return Literal(None)
        return super().call(call, env, module)

    def _is_workflow(self, expression: cst.BaseExpression) -> bool:
        return isinstance(expression, cst.Name) and expression.value == self.variable
