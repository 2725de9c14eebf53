"""Pipeline assembly that every decorated-pipeline framework does the same way.

ZenML, Prefect, KFP and Flyte each read a pipeline decorator's keywords, merge the
configuration attached from elsewhere (a run script's ``with_options``, a launch plan),
walk the body with a :class:`~pvcheck.analyzer.callgraph.CallGraphBuilder` and hand the
result to :meth:`AnalysisContext.make_pipeline`; and each recognises steps shipped in an
installed package by their qualified name. Those parts live here once and are public
through :mod:`pvcheck.plugin`; what stays in a framework is what is its own (naming,
run configs, the graph walk's hooks).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Optional

import libcst as cst

from pvcheck.analyzer import pipeline_calls
from pvcheck.analyzer.callgraph import CallGraphBuilder
from pvcheck.analyzer.context import AnalysisContext, merge
from pvcheck.analyzer.frameworks.base import StepDefinition
from pvcheck.analyzer.module import ModuleInfo, Symbol
from pvcheck.analyzer.values import string_value
from pvcheck.model import Output, Pipeline

__all__ = ["assemble_pipeline", "installed_step", "named_tuple_outputs", "pipeline_config"]

_NAMED_TUPLE = frozenset({"typing.NamedTuple", "typing_extensions.NamedTuple"})


def pipeline_config(symbol: Symbol, call: Optional[cst.Call], ctx: AnalysisContext,
                    skip: Iterable[str] = ()) -> tuple[dict[str, Any], dict[str, tuple[str, int]]]:
    """The configuration of the pipeline ``symbol`` defines: the keywords of its decorator
    ``call`` (but ``skip``), with every attachment to it from elsewhere in the tree merged
    over them; and where each key was set, ``{key: (path, line)}``."""
    config, lines = ctx.keyword_config(call, symbol.module, skip=skip)
    for attachment in ctx.attachments.get(symbol.qualified_name, ()):
        config = merge(config, attachment.config)
        lines.update(attachment.config_lines)
    return config, lines


def assemble_pipeline(builder: CallGraphBuilder, symbol: Symbol, config: dict[str, Any],
                      lines: dict[str, tuple[str, int]], *, dynamic: bool = False,
                      bound: Iterable[Symbol] = ()) -> Pipeline:
    """The finished pipeline of a body ``builder`` has walked (``build()`` done).

    A builder that accounts for every call (``account_calls``) also hands on its masks,
    so the pipeline's own code is fingerprinted, and the calls it did not follow
    (coverage); one that does not, neither. ``dynamic``: the framework knows the graph is
    decided at run time besides what the walk found; ``bound``: see
    :meth:`AnalysisContext.make_pipeline`.
    """
    function = builder.function
    accounted = builder.account_calls
    return builder.ctx.make_pipeline(
        name=builder.pipeline_name,
        framework=builder.framework.name,
        symbol=symbol,
        node=function,
        invocations=builder.invocations,
        edges=builder.edges,
        config=config,
        config_lines=lines,
        parameters=builder.ctx.parameters(function.params, builder.module),
        dynamic=builder.dynamic or dynamic,
        body=function,
        masks=builder.masks if accounted else None,
        unfollowed=builder.unfollowed if accounted else (),
        bound=bound,
    )


def installed_step(builder: CallGraphBuilder, callee: cst.BaseExpression, module: ModuleInfo, kind: str,
                   accepts: Callable[[str], bool]) -> Optional[StepDefinition]:
    """A step shipped in an installed package, for :meth:`CallGraphBuilder.external_step`:
    ``callee`` names exactly one qualified name and ``accepts`` it (a ZenML integration's
    ``steps`` module, a Prefect collection, a prebuilt KFP component). Its body fingerprint
    is that name: nothing else of its code is known."""
    name = pipeline_calls.qualified_callee(callee, module)
    if name is None or not accepts(name):
        return None
    receiver = callee
    while isinstance(receiver, cst.Attribute):
        receiver = receiver.value
    if not isinstance(receiver, cst.Name):
        return None  # `get_credentials().get_client()`: a method of a value made at run time
    if builder.ctx.index.resolve(name.partition(".")[0]) is not None:
        # a package of the scanned tree (`src/prefect_examples/`, a workspace member):
        # its code is read and fingerprinted like any helper, never taken as installed
        return None
    return pipeline_calls.external_step(builder.framework.name, kind, name, module, callee)


def named_tuple_outputs(annotation: cst.BaseExpression, module: ModuleInfo, ctx: AnalysisContext,
                        depth: int = 0) -> Optional[list[Output]]:
    """The fields of ``NamedTuple("Outputs", [("a", int)])``, ``NamedTuple("O", a=int)``,
    or a repo-local ``class Outputs(NamedTuple)`` / ``Outputs = NamedTuple(...)``, as outputs
    (KFP and Flyte name a step's outputs by them); None when ``annotation`` is none of those."""
    if depth > 4:
        return None
    if isinstance(annotation, cst.Call) and isinstance(annotation.func, (cst.Name, cst.Attribute)) \
            and module.qualified_names(annotation.func) & _NAMED_TUPLE:
        fields: list[Output] = []
        for arg in annotation.args[1:]:
            if arg.keyword is not None:
                fields.append(Output(arg.keyword.value, ctx.render(arg.value, module)))
            elif isinstance(arg.value, (cst.List, cst.Tuple)):
                for element in arg.value.elements:
                    pair = element.value
                    if isinstance(pair, cst.Tuple) and len(pair.elements) == 2:
                        name = string_value(pair.elements[0].value)
                        if name is not None:
                            fields.append(Output(name, ctx.render(pair.elements[1].value, module)))
        return fields
    if not isinstance(annotation, (cst.Name, cst.Attribute)):
        return None
    names = module.qualified_names(annotation)
    resolved = ctx.index.resolve(next(iter(names))) if len(names) == 1 else None
    if resolved is None or resolved[1]:
        return None
    symbol = resolved[0]
    if symbol.kind == "class" and isinstance(symbol.node, cst.ClassDef):
        bases = [b.value for b in symbol.node.bases if isinstance(b.value, (cst.Name, cst.Attribute))]
        if not any(symbol.module.qualified_names(b) & _NAMED_TUPLE for b in bases):
            return None
        return [Output(s.target.value, ctx.render(s.annotation.annotation, symbol.module))
                for line in symbol.node.body.body if isinstance(line, cst.SimpleStatementLine)
                for s in line.body if isinstance(s, cst.AnnAssign) and isinstance(s.target, cst.Name)]
    if symbol.kind == "constant" and isinstance(symbol.node, cst.Assign):
        return named_tuple_outputs(symbol.node.value, symbol.module, ctx, depth + 1)
    return None
