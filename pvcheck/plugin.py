"""The public, stable surface for framework and policy plug-ins.

A plug-in imports from here only; the modules these names live in are internal and may
be reorganised, this module's names may not (adding is fine, removing or renaming is a
breaking change). ``docs/plugins.md`` builds one framework and one policy with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pvcheck.analyzer.callgraph import (
    CallGraphBuilder,
    Literal,
    Opaque,
    PipelineParameter,
    Sequence_,
    StepOutput,
    StepOutputs,
    Value,
)
from pvcheck.analyzer.context import AnalysisContext, Invocation
from pvcheck.analyzer.context import merge as merge_config
from pvcheck.analyzer.discovery import module_name
from pvcheck.analyzer.fastmeta import calls_and_imports
from pvcheck.analyzer.fingerprint import digest
from pvcheck.analyzer.fastmeta import visit as read_only_visit
from pvcheck.analyzer.frameworks.assembly import assemble_pipeline, installed_step, named_tuple_outputs, pipeline_config
from pvcheck.analyzer.frameworks.base import (
    BodyPart,
    ConfigAttachment,
    DecoratedPipelines,
    Framework,
    StepDefinition,
    decorated_function,
    decorator_call,
    find_decorator,
    keyword_arg,
    keyword_string,
    method_name,
)
from pvcheck.analyzer.index import ProjectIndex
from pvcheck.analyzer.module import ModuleInfo, Symbol
from pvcheck.analyzer.values import is_literal, literal_value, plain_text, render, string_value
from pvcheck.config import Config
from pvcheck.model import Decision, Diagnostic, Edge, Finding, Output, Parameter, Pipeline, Severity, Step
from pvcheck.model import FromAsset, FromParameter, FromStep, GraphInput, LiteralInput, RunCondition, StepInput
from pvcheck.model import (ORIGIN_CALL_SITE, ORIGIN_DECORATOR, ORIGIN_OPTIONS, ORIGIN_RESOURCE, ORIGIN_RUN_CONFIG,
                           ConfigSource)
from pvcheck.findings import register_kind

if TYPE_CHECKING:
    from pvcheck.policies.base import Example, Policy, Rule
    from pvcheck.policies.matching import PipelineComparison

#: The policy side, imported when first asked for: a framework plug-in (the built-in ones
#: too) imports this module, and loading the policies with every scan costs time for nothing.
_POLICY_NAMES = {"Example": "pvcheck.policies.base", "Policy": "pvcheck.policies.base",
                 "Rule": "pvcheck.policies.base", "PipelineComparison": "pvcheck.policies.matching"}


def __getattr__(name: str) -> Any:
    module = _POLICY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'pvcheck.plugin' has no attribute '{name}'")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


# One line each, for `help(pvcheck.plugin)` and the guide's table. The objects are the
# internal ones (re-exported, not copied), so `isinstance` works across both names.
#: Framework -- base class of a framework plug-in: markers, step_definition, pipelines.
#: DecoratedPipelines -- a Framework whose pipelines are decorated functions; implement pipeline().
#: StepDefinition -- a function a framework runs as one step, as declared.
#: ConfigAttachment -- configuration applied to a step or pipeline from elsewhere in the tree.
#: BodyPart -- code or a static value that is part of a step's body besides its function.
#: AnalysisContext -- the services a framework gets during a scan (values, config, make_pipeline).
#: Invocation -- one call of a step inside a pipeline, handed to AnalysisContext.make_pipeline.
#: ModuleInfo -- one parsed file: its libcst tree, path, qualified names of its expressions.
#: Symbol -- one top-level definition (function, class) of a module.
#: decorated_function -- a symbol's function and its decorator call, when decorated with one of some qualified names.
#: find_decorator -- the first decorator of a function whose callee is one of some qualified names.
#: decorator_call -- ``@x`` -> (x, None); ``@x(...)`` -> (x, the call).
#: keyword_arg -- the ``name=`` argument of a call, or None.
#: method_name -- ``x.after(...)`` -> ``"after"``; a plain call -> ``""``.
#: keyword_string -- the string passed as ``name=`` (a literal, or a constant known statically).
#: Pipeline -- one scanned pipeline: its steps, edges, config and fingerprints.
#: Step -- one invocation of a step in a pipeline, with its fingerprints.
#: Edge -- a data or order dependency between two step invocations.
#: Output -- a named output a step declares.
#: Parameter -- a parameter of a step or pipeline function, with its default.
#: Policy -- base class of a policy plug-in: name, rule_prefix, rules, evaluate().
#: Rule -- a rule id with its summary, default decision, triggers and near-misses.
#: Example -- a before/after pair of small source trees and the decision it must get.
#: PipelineComparison -- one matched pipeline (base, head, step matching) a policy evaluates.
#: Finding -- one rule's verdict on a comparison (made with Policy.finding).
#: Decision -- run, version or pipeline.
#: Severity -- how serious a diagnostic is (error or warning).
#: Diagnostic -- something the analyzer could not follow, with a PV0xx code.
#: Config -- the user's settings, as the policies and the analyzer receive them.
#: pipeline_config -- a pipeline decorator's keyword configuration with its attachments merged over it.
#: assemble_pipeline -- the finished Pipeline of a body a CallGraphBuilder has walked.
#: named_tuple_outputs -- the fields of a NamedTuple annotation (a call, a repo-local class) as outputs.
#: installed_step -- a step shipped in an installed package, for CallGraphBuilder.external_step.
#: CallGraphBuilder -- walks a pipeline function: step calls become invocations, data flow edges.
#: Value -- what an expression of a pipeline body evaluates to during the walk (one of the next six).
#: StepOutput -- one output of a step invocation.
#: StepOutputs -- all outputs of a step invocation (a call's result before it is unpacked).
#: PipelineParameter -- a parameter of the pipeline function.
#: Literal -- a value written in the code.
#: Opaque -- a value the walk cannot model, with the invocations it depends on.
#: Sequence_ -- a tuple or list of values.
#: merge_config -- two configuration tables merged deeply, the second winning.
#: string_value -- the value of a string literal, or None.
#: plain_text -- an expression written out canonically: values by value, no layout or comments.
#: literal_value -- the value of a plain literal expression, or a marker is_literal tells apart.
#: is_literal -- whether literal_value found a literal.
#: digest -- the one hash every fingerprint uses (``fp1:`` and SHA-256 of the parts).
#: module_name -- a module's dotted name from its path under a source root, and whether it is a package.
#: render -- short normalised source text of an expression, names fully qualified.
#: ProjectIndex -- the tree's modules by name, parsed on demand (AnalysisContext.index).
#: calls_and_imports -- every call of a tree with its enclosing function, the names imports bind.
#: StepInput -- what a step invocation receives, typed: one of the next six (Step.inputs keeps them tagged).
#: FromStep -- an output of another invocation of the pipeline (a data edge).
#: FromAsset -- data from outside the pipeline, by its key.
#: FromParameter -- a parameter of the pipeline function, passed on.
#: LiteralInput -- a value known statically.
#: RunCondition -- the conditions an invocation runs under (stored under the input name RunCondition.key).
#: GraphInput -- another part of the graph's shape stored as a ``$`` input ($deps, $outputs).
#: ConfigSource -- where a configuration value is written (path, line) and how it was set (one of the ORIGIN_*).
#: ORIGIN_DECORATOR -- a keyword where the step or pipeline is defined (decorator, operator, node).
#: ORIGIN_OPTIONS -- with_options / configure / task methods that set options.
#: ORIGIN_RUN_CONFIG -- a configuration file (a YAML run config, Kedro conf/, a Metaflow JSON config).
#: ORIGIN_CALL_SITE -- a value the pipeline is called with (a run script's call).
#: ORIGIN_RESOURCE -- arguments of a resource bound where the pipeline is defined (Dagster Definitions).
#: register_kind -- a plug-in's own finding kind and the function that writes its sentence.
#: read_only_visit -- ``tree.visit(visitor)`` for a visitor that only reads, without rebuilding the tree.

__all__ = [
    "AnalysisContext",
    "BodyPart",
    "CallGraphBuilder",
    "Config",
    "ConfigAttachment",
    "ConfigSource",
    "Decision",
    "DecoratedPipelines",
    "Diagnostic",
    "Edge",
    "Example",
    "Finding",
    "Framework",
    "FromAsset",
    "FromParameter",
    "FromStep",
    "GraphInput",
    "Invocation",
    "Literal",
    "LiteralInput",
    "ModuleInfo",
    "ORIGIN_CALL_SITE",
    "ORIGIN_DECORATOR",
    "ORIGIN_OPTIONS",
    "ORIGIN_RESOURCE",
    "ORIGIN_RUN_CONFIG",
    "Opaque",
    "Output",
    "Parameter",
    "Pipeline",
    "PipelineComparison",
    "PipelineParameter",
    "Policy",
    "ProjectIndex",
    "Rule",
    "RunCondition",
    "Sequence_",
    "Severity",
    "Step",
    "StepDefinition",
    "StepInput",
    "StepOutput",
    "StepOutputs",
    "Symbol",
    "Value",
    "assemble_pipeline",
    "calls_and_imports",
    "decorated_function",
    "decorator_call",
    "digest",
    "find_decorator",
    "installed_step",
    "is_literal",
    "keyword_arg",
    "keyword_string",
    "literal_value",
    "merge_config",
    "method_name",
    "module_name",
    "named_tuple_outputs",
    "pipeline_config",
    "plain_text",
    "read_only_visit",
    "register_kind",
    "render",
    "string_value",
]
