"""A framework plug-in for "toyflow": ``@task`` steps called inside a ``@flow`` function."""
from typing import Optional

import libcst as cst

from pvcheck.plugin import (AnalysisContext, DecoratedPipelines, Edge, Invocation, Pipeline, StepDefinition,
                            Symbol, find_decorator, keyword_string)


class ToyFlow(DecoratedPipelines):
    name = "toyflow"
    markers = (b"toyflow",)
    pipeline_decorators = ("toyflow.flow",)

    def step_definition(self, symbol: Symbol, ctx: AnalysisContext) -> Optional[StepDefinition]:
        found = None
        if isinstance(symbol.node, cst.FunctionDef):
            found = find_decorator(symbol.node, symbol.module, ("toyflow.task",))
        if found is None:
            return None
        config, lines = ctx.keyword_config(found[1], symbol.module)
        return StepDefinition(symbol, self.name, "task", symbol.node.name.value, config, lines)

    def pipeline(self, symbol: Symbol, ctx: AnalysisContext) -> Pipeline:
        module, node = symbol.module, symbol.node
        call = self.pipeline_decorator_call(node, module)
        config, lines = ctx.keyword_config(call, module, skip=("name",))
        invocations, edges, made_by, dynamic = [], [], {}, False
        for line in node.body.body:  # each statement: `x = task(...)` or `task(...)`
            statement = line.body[0] if isinstance(line, cst.SimpleStatementLine) else line
            value = getattr(statement, "value", None)
            target = statement.targets[0].target if isinstance(statement, cst.Assign) else None
            callee = ctx.resolve_callee(module, value.func) if isinstance(value, cst.Call) else None
            definition = callee and ctx.step_definition(self, callee)
            if definition is None:  # not a task call: say so, never ignore it
                ctx.warn_dynamic(module, module.line(statement), "a statement that is not a task call")
                dynamic = True
                continue
            seen = sum(i.definition is definition for i in invocations)  # ids: train, train_2 ...
            invocation = Invocation(definition.name + (f"_{seen + 1}" if seen else ""), definition, module, value)
            names = [p.name.value for p in definition.function.params.params]
            for position, arg in enumerate(value.args):
                param = arg.keyword.value if arg.keyword else names[position]
                if isinstance(arg.value, cst.Name) and arg.value.value in made_by:
                    invocation.inputs[param] = {"$step": made_by[arg.value.value], "output": "output"}
                    edges.append(Edge(made_by[arg.value.value], invocation.id, "data", "output", param))
                else:
                    invocation.inputs[param] = ctx.value(arg.value, module)
            if isinstance(target, cst.Name):
                made_by[target.value] = invocation.id
            invocations.append(invocation)
        return ctx.make_pipeline(
            name=keyword_string(call, "name", module, ctx.index) or node.name.value, framework=self.name,
            symbol=symbol, node=node, invocations=invocations, edges=edges, config=config,
            config_lines=lines, parameters=ctx.parameters(node.params, module), dynamic=dynamic)
