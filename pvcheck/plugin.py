"""The public, stable surface for framework and policy plug-ins.

A plug-in imports from here only; the modules these names live in are internal and may
be reorganised, this module's names may not (adding is fine, removing or renaming is a
breaking change). ``docs/plugins.md`` builds one framework and one policy with it.
"""

from __future__ import annotations

from pvcheck.analyzer.context import AnalysisContext, Invocation
from pvcheck.analyzer.frameworks.base import (
    BodyPart,
    ConfigAttachment,
    DecoratedPipelines,
    Framework,
    StepDefinition,
    decorator_call,
    find_decorator,
    keyword_arg,
    keyword_string,
)
from pvcheck.analyzer.module import ModuleInfo, Symbol
from pvcheck.config import Config
from pvcheck.model import Decision, Diagnostic, Edge, Finding, Output, Parameter, Pipeline, Severity, Step
from pvcheck.policies.base import Example, Policy, Rule
from pvcheck.policies.matching import PipelineComparison

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
#: find_decorator -- the first decorator of a function whose callee is one of some qualified names.
#: decorator_call -- ``@x`` -> (x, None); ``@x(...)`` -> (x, the call).
#: keyword_arg -- the ``name=`` argument of a call, or None.
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

__all__ = [
    "AnalysisContext",
    "BodyPart",
    "Config",
    "ConfigAttachment",
    "Decision",
    "DecoratedPipelines",
    "Diagnostic",
    "Edge",
    "Example",
    "Finding",
    "Framework",
    "Invocation",
    "ModuleInfo",
    "Output",
    "Parameter",
    "Pipeline",
    "PipelineComparison",
    "Policy",
    "Rule",
    "Severity",
    "Step",
    "StepDefinition",
    "Symbol",
    "decorator_call",
    "find_decorator",
    "keyword_arg",
    "keyword_string",
]
