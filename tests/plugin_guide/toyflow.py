"""A framework plug-in for "toyflow": ``@task`` steps called inside a ``@flow`` function."""
from typing import Optional

from pvcheck.plugin import (AnalysisContext, CallGraphBuilder, DecoratedPipelines, Output, Pipeline, StepDefinition,
                            Symbol, assemble_pipeline, decorated_function, keyword_string, pipeline_config)


class ToyFlow(DecoratedPipelines):
    name = "toyflow"
    markers = (b"toyflow",)
    pipeline_decorators = ("toyflow.flow",)

    def step_definition(self, symbol: Symbol, ctx: AnalysisContext) -> Optional[StepDefinition]:
        found = decorated_function(symbol, ("toyflow.task",))
        if found is None:
            return None
        node, call, _ = found
        config, lines = ctx.keyword_config(call, symbol.module)
        return StepDefinition(symbol, self.name, "task", node.name.value, config, lines, (Output("output"),))

    def pipeline(self, symbol: Symbol, ctx: AnalysisContext) -> Pipeline:
        call = self.pipeline_decorator_call(symbol.node, symbol.module)
        config, lines = pipeline_config(symbol, call, ctx, skip=("name",))  # with_options(...) elsewhere too
        name = keyword_string(call, "name", symbol.module, ctx.index) or symbol.node.name.value
        builder = ToyFlowGraph(self, ctx, symbol.module, symbol.node, name)
        builder.build()  # task calls become invocations, the values they pass edges
        return assemble_pipeline(builder, symbol, config, lines)


class ToyFlowGraph(CallGraphBuilder):
    account_calls = True  # every other call of a flow is reported, and the flow's own code fingerprinted
    api_packages = ("toyflow",)
