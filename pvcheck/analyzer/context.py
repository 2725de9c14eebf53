"""What the analyzer offers a framework while it builds pipelines.

:class:`AnalysisContext` owns the index of modules, the fingerprinter and the
diagnostics of one scan, and turns framework-level facts (a step definition, an
invocation, a list of edges) into the model's :class:`~pvcheck.model.Step` and
:class:`~pvcheck.model.Pipeline` with every fingerprint filled in.
"""

from __future__ import annotations

import heapq

import textwrap
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, TypeVar

import libcst as cst

from pvcheck.analyzer import decorators, runconfig
from pvcheck.analyzer.annotations import annotation_references
from pvcheck.analyzer.canonical import Canon, layout_free_tokens
from pvcheck.analyzer.fingerprint import (
    DefinitionPrint,
    Fingerprinter,
    Reach,
    canonical_json,
    digest,
    sketch,
    statement_prints,
    tokens_digest,
)
from pvcheck.analyzer.frameworks.base import BodyPart, ConfigAttachment, Framework, StepDefinition
from pvcheck.analyzer.index import ProjectIndex
from pvcheck.analyzer.module import ModuleInfo, Symbol
from pvcheck.analyzer.reach import (FILE_PREFIX, UNKNOWN_READ, FileRead, file_reads, helper_text, may_read,
                                    template_reads)
from pvcheck.analyzer.values import render, to_value
from pvcheck.config import Config
from pvcheck.diagnostics import NO_STEPS, NOT_FOLLOWED, UNDEFINED_NAME
from pvcheck.model import (
    ORIGIN_DECORATOR,
    ORIGIN_OPTIONS,
    ConfigSource,
    Diagnostic,
    Edge,
    HelperRef,
    REACH_FILE,
    Parameter,
    Pipeline,
    Severity,
    StatementPrint,
    Step,
)
from pvcheck.model import read_input, tagged_inputs

T = TypeVar("T")

#: Methods whose keyword arguments set a step's or pipeline's options where it is used
#: (ZenML ``with_options``/``configure``, Prefect ``with_options``, Airflow ``override``/
#: ``partial``, Flyte ``with_overrides``): how :meth:`AnalysisContext.keyword_config` tells
#: an options call from a definition's own keywords.
OPTION_CALLS = frozenset({"with_options", "configure", "override", "partial", "with_overrides"})


@dataclass
class FunctionFacts:
    """What is known about a step function, independent of where it is invoked."""

    parameters: tuple[Parameter, ...]
    body_fingerprint: str
    signature_fingerprint: str
    statements: tuple[StatementPrint, ...]
    helpers: tuple[HelperRef, ...]
    sketch: tuple[int, ...]
    complexity: int
    dynamic: bool
    content_fingerprint: str = ""  # the body by content (fingerprint.py ``content``)


@dataclass
class Invocation:
    """One call of a step inside a pipeline, as a framework found it."""

    id: str
    definition: StepDefinition
    call_module: ModuleInfo
    call_node: Optional[cst.CSTNode]
    inputs: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    config_lines: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: repo-local classes of values built in the pipeline body and passed to this call
    #: (``trainer(cfg=TrainCfg(lr=0.1))``): the step runs their code, so they join its reach
    reach: list[Symbol] = field(default_factory=list)


class AnalysisContext:
    """Services for frameworks during one scan of one tree."""

    def __init__(self, root: Path, index: ProjectIndex, config: Config, frameworks: list[Framework]) -> None:
        self.root = root
        self.index = index
        self.config = config
        self.frameworks = frameworks
        self._roots: Optional[tuple[str, ...]] = None  # the packages the frameworks' decorators come from
        if index.root is None:
            index.root = root  # where the files that code reads by a relative path are
        self.fingerprinter = Fingerprinter(index, config.cosmetic_calls, config.pure_calls)
        self.attachments: dict[str, list[ConfigAttachment]] = {}
        self._facts: dict[tuple[str, int], FunctionFacts] = {}
        self._reported: set[tuple[str, int, str]] = set()

    # ------------------------------------------------------------------ diagnostics
    def diagnose(self, code: str, severity: Severity, message: str, path: str, line: int = 0,
                 hint: str = "") -> None:
        key = (path, line, message)
        if key in self._reported:
            return
        self._reported.add(key)
        self.index.diagnostics.append(Diagnostic(code, severity, message, path, line, hint))

    def report(self, diagnostics: Iterable[Diagnostic]) -> None:
        """What a kept result reported when it was made, reported again here (each once,
        as :meth:`diagnose` would): a Dagster unit replays a whole code location's."""
        reported, sink = self._reported, self.index.diagnostics
        for diagnostic in diagnostics:
            key = (diagnostic.path, diagnostic.line, diagnostic.message)
            if key not in reported:
                reported.add(key)
                sink.append(diagnostic)

    @contextmanager
    def reporting_into(self, sink: list[Diagnostic]) -> Iterator[list[Diagnostic]]:
        """What the block reports goes to ``sink``, none of it taken as reported already:
        for a result kept beyond this unit (per index), whose diagnostics every unit that
        uses it reports again."""
        saved = self.index.diagnostics, self._reported
        self.index.diagnostics, self._reported = sink, set()
        try:
            yield sink
        finally:
            self.index.diagnostics, self._reported = saved

    def warn_dynamic(self, module: ModuleInfo, line: int, what: str) -> None:
        self.diagnose(NOT_FOLLOWED, Severity.WARNING, f"cannot follow statically: {what}", module.path, line,
                      hint="pvcheck fingerprints this conservatively: any change to it is a new version")

    # ------------------------------------------------------------------ resolution
    def resolve_callee(self, module: ModuleInfo, expression: cst.BaseExpression) -> Optional[Symbol]:
        """The repo-local function or class a name in ``module`` refers to."""
        if not isinstance(expression, (cst.Name, cst.Attribute)):
            return None
        names = module.qualified_names(expression)
        if not names and isinstance(expression, cst.Name):
            # a name nothing in the module binds: one a `from x import *` brings in, found
            # as Python finds it (the fingerprint reads it the same way, Canonicalizer.name_token)
            resolved = self.index.resolve_star(module, expression.value)
        elif len(names) != 1:
            return None
        else:
            resolved = self.index.resolve(next(iter(names)))
        if resolved is None or resolved[1]:
            return None
        return resolved[0]

    def step_definition(self, framework: Framework, symbol: Symbol) -> Optional[StepDefinition]:
        if symbol.kind != "function" and not (symbol.kind == "constant" and framework.constant_steps):
            return None
        return framework.step_definition(symbol, self)

    def value(self, expression: cst.BaseExpression, module: ModuleInfo) -> Any:
        return to_value(expression, module, self.index)

    def render(self, expression: cst.CSTNode, module: ModuleInfo) -> str:
        return render(expression, module, self.index)

    def keyword_config(self, call: Optional[cst.Call], module: ModuleInfo, skip: Iterable[str] = (),
                       origin: str = "") -> tuple[dict[str, Any], dict[str, ConfigSource]]:
        """The keyword arguments of a decorator or configuration call, as config values, with
        where each is written and how it was set (``origin``, :data:`pvcheck.model.ORIGINS`).
        Without ``origin`` the call tells: ``x.with_options(...)`` and the other option
        methods set options where a step is used, any other call (a decorator, an operator)
        is the definition's own."""
        config: dict[str, Any] = {}
        lines: dict[str, ConfigSource] = {}
        if call is None:
            return config, lines
        if not origin:
            method = call.func.attr.value if isinstance(call.func, cst.Attribute) else ""
            origin = ORIGIN_OPTIONS if method in OPTION_CALLS else ORIGIN_DECORATOR
        skipped = set(skip)
        for arg in call.args:
            if arg.keyword is None or arg.keyword.value in skipped:
                continue
            config[arg.keyword.value] = self.value(arg.value, module)
            lines[arg.keyword.value] = ConfigSource(module.path, module.line(arg), origin)
        return config, lines

    def run_config(self, module: ModuleInfo, reference: str, line: int) -> Optional[runconfig.RunConfig]:
        """A YAML run config named in ``module`` (relative to it, or to the root)."""
        return runconfig.load(self.root, module.path, reference, line, self.diagnose)

    def project_files(self, pattern: str) -> list[str]:
        """Files under the root matching a glob (``conf/base/parameters*.yml``), sorted,
        relative with ``/``. A unit that lists files depends on which ones exist."""
        return runconfig.glob_files(self.root, pattern)

    def project_yaml(self, reference: str) -> Optional[runconfig.RunConfig]:
        """A YAML file named relative to the root (a framework's own configuration, such as
        Kedro's ``conf/base/catalog.yml``): every top-level key kept, ``steps`` included."""
        return runconfig.load(self.root, "", reference, 0, self.diagnose, split_steps=False)

    def run_configs_for(self, pipeline_name: str) -> list[runconfig.RunConfig]:
        """The run configs the pvcheck configuration assigns to a pipeline."""
        loaded = []
        for reference in self.config.run_configs.get(pipeline_name, ()):
            found = runconfig.load(self.root, "", reference, 0, self.diagnose)
            if found is not None:
                loaded.append(found)
        return loaded

    # ------------------------------------------------------------------ steps
    def function_facts(self, definition: StepDefinition) -> FunctionFacts:
        # keyed by node too: steps that are not functions (operators) share no function
        key = (definition.qualified_name, id(definition.symbol.node))
        facts = self._facts.get(key)
        if facts is None:
            facts = self._shared_facts(definition)
            self._facts[key] = facts
        return facts

    def _shared_facts(self, definition: StepDefinition) -> FunctionFacts:
        """The facts of a function step, once per index (every unit of a Dagster location
        makes the location's steps; a history walk keeps the index from commit to commit),
        with the diagnostics their making reported replayed into this context. They read
        only the index (recorded by ``remember``); steps with body parts (operators) are
        made per context."""
        if definition.body_parts:
            return self._function_facts(definition)

        def isolated() -> tuple[FunctionFacts, list[Diagnostic]]:
            with self.reporting_into([]) as sink:
                return self._function_facts(definition), sink

        facts, reported = self.index.remember(
            ("facts", definition.framework, definition.qualified_name, definition.name,
             id(definition.symbol.node), definition.outputs), isolated)
        self.report(reported)
        return facts

    def _step_canon(self, definition: StepDefinition, function: Optional[cst.FunctionDef]) -> Canon:
        """The canonical body of a step: its function body, then its labelled body parts."""
        module = definition.symbol.module
        canonicalizer = self.fingerprinter.canonicalizer(module)
        canon = self._own_body(module, function, "canon", lambda: canonicalizer.function_body(function)).copy() \
            if function is not None else Canon()
        parts = list(definition.body_parts)
        given = {id(part.node) for part in parts}
        for decorator in function.decorators if function is not None else ():
            expression = decorator.decorator
            if id(expression) in given:
                continue
            if decorators.wraps_code(self, module, expression, self._framework_roots()):
                parts.append(BodyPart("decorator", expression))
            else:
                for symbol in decorators.hooks(canonicalizer.expression(expression), self._framework_roots()):
                    canon.references.setdefault(symbol.qualified_name, symbol)
        for part in parts:
            start = len(canon.tokens)
            canon.tokens.append(f"[{part.label}]")
            line = module.line(part.node) if part.node is not None else module.line(definition.symbol.node)
            if part.node is None:
                canon.tokens.append("v:" + canonical_json(part.value))
            else:
                if isinstance(part.node, (cst.FunctionDef, cst.ClassDef)):
                    piece = canonicalizer.definition(part.node)
                else:
                    piece = canonicalizer.expression(part.node)
                canon.tokens.extend(piece.tokens)
                canon.references.update(piece.references)
                canon.dynamic.extend(piece.dynamic)
                canon.unresolved.extend(piece.unresolved)
            canon.statements.append((line, start, len(canon.tokens)))
        return canon

    def _pipeline_hooks(self, node: cst.CSTNode, module: ModuleInfo) -> list[Symbol]:
        """The repo functions and classes a pipeline's decorators name (``@pipeline(on_failure=
        notify)``, ``@flow(on_completion=[...])``): their code runs with the pipeline."""
        if not isinstance(node, cst.FunctionDef) or not node.decorators:
            return []
        canonicalizer = self.fingerprinter.canonicalizer(module)
        found: dict[str, Symbol] = {}
        for decorator in node.decorators:
            for symbol in decorators.hooks(canonicalizer.expression(decorator.decorator), self._framework_roots()):
                found.setdefault(symbol.qualified_name, symbol)
        return [found[name] for name in sorted(found)]

    def _framework_roots(self) -> tuple[str, ...]:
        if self._roots is None:
            self._roots = decorators.framework_roots(self.frameworks)
        return self._roots

    def _own_body(self, module: ModuleInfo, function: cst.CSTNode, what: str, compute: Callable[[], T],
                  context: Optional[cst.CSTNode] = None) -> T:
        """What a step function's own code gives (its canonical form, the files it reads, its
        complexity), once per index while its module is unchanged: a step's facts are made
        again whenever anything it reaches changes, and most of the time its body did not.
        The same for a pipeline's body (``context``: the function it is read in). The entry
        holds the nodes, so no other node can take their ``id`` while it lives."""
        fingerprinter = self.fingerprinter
        key = ("step-own", what, fingerprinter.cosmetic_calls, fingerprinter.pure_calls, module.name, id(function),
               id(context))
        node, around, value = self.index.remember(key, lambda: (function, context, compute()))
        return value if node is function and around is context else compute()  # type: ignore[no-any-return]

    def _function_facts(self, definition: StepDefinition) -> FunctionFacts:
        module = definition.symbol.module
        node = definition.symbol.node
        assert node is not None
        function = node if isinstance(node, cst.FunctionDef) else None
        canon = self._step_canon(definition, function)
        framework = next((f for f in self.frameworks if f.name == definition.framework), None)
        for symbol in framework.step_reach(definition, self) if framework is not None else ():
            canon.references.setdefault(symbol.qualified_name, symbol)  # a materializer, say
        if function is not None:
            # the framework builds these arguments from their types: the step runs their code
            for symbol in annotation_references(function, module, self.index):
                canon.references.setdefault(symbol.qualified_name, symbol)
        named = list(canon.references.values())
        reads: list[FileRead] = []
        if function is not None and may_read(module, named):
            reads.extend(self._own_body(module, function, "reads",
                                        lambda: file_reads(function, module, self.index, named)))
        for part in definition.body_parts:  # an operator's python_callable, a SQL template
            if part.node is not None:
                reads.extend(file_reads(part.node, module, self.index, named))
            reads.extend(template_reads(part, module))
        body_fp, helpers, reach = self.fingerprinter.body(canon, module, reads, f"step '{definition.name}'")
        printed = reach.definitions
        self.report_reads(reach)
        dynamic = False
        for line, why in canon.dynamic:
            dynamic = True
            self.warn_dynamic(module, line, f"step '{definition.name}' {why}")
        for line, name in canon.unresolved:
            dynamic = True
            self.diagnose(UNDEFINED_NAME, Severity.WARNING, f"name '{name}' in step '{definition.name}' is not defined "
                          "or imported", module.path, line,
                          hint="import it explicitly; until then any change here is a new version")
        own_dynamic = dynamic
        dynamic_helpers = []
        for helper in printed:
            if self._report_dynamic(helper):
                dynamic_helpers.append(helper)
                dynamic = True
        if own_dynamic:
            # fold the code in, all of it but its layout: then no edit but formatting and
            # comments can pass as "the same computation"
            body_fp = digest("dynamic", body_fp, layout_free(node))
        elif dynamic_helpers:
            # only reached code is dynamic (a materializer using getattr): its own text,
            # not the step's, which keeps its semantic fingerprint (issue 12)
            body_fp = digest("dynamic-helpers", body_fp, *(f"{h.symbol.qualified_name}={helper_text(h.symbol)}"
                                                           for h in dynamic_helpers))
        parameters = self.parameters(function.params, module) if function is not None else ()
        signature_fp = digest(
            "signature",
            canonical_json([[p.name, p.kind, p.annotation, p.has_default] for p in parameters]),
            canonical_json([[o.name, o.annotation] for o in definition.outputs]),
        )
        return FunctionFacts(
            parameters=parameters,
            body_fingerprint=body_fp,
            signature_fingerprint=signature_fp,
            statements=tuple(StatementPrint(line, fp) for line, fp in statement_prints(canon)),
            helpers=tuple(helpers),
            sketch=sketch(canon.tokens),
            complexity=self._own_body(module, function, "complexity", lambda: _complexity(module, function))
            if function is not None else 0,
            dynamic=dynamic,
            # dynamic code folds its raw text in: no layer may call an edit there harmless
            content_fingerprint="" if dynamic else reach.content,
        )

    def report_reads(self, reach: Reach) -> None:
        """Diagnostics for the file reads of a reach whose content is not fingerprinted:
        one per place, naming the code that reads (a helper read by many steps is one)."""
        for module, read, owner in reach.unknown_reads:
            self.diagnose(UNKNOWN_READ, Severity.WARNING,
                          f"{owner} reads a file through {read.call} whose path pvcheck cannot compute statically; "
                          "a change to that file's content goes unnoticed", module.path, read.line,
                          hint="build the path from a literal or Path(__file__), or pass the data as a step input")
        for module, read, owner in reach.outside_reads:
            self.diagnose(UNKNOWN_READ, Severity.WARNING,
                          f"{owner} reads '{read.path}' through {read.call}, outside the scanned tree; its content "
                          "is not fingerprinted", module.path, read.line,
                          hint="keep the file in the repository, or scan the folder that holds it")

    def parameters(self, params: cst.Parameters, module: ModuleInfo) -> tuple[Parameter, ...]:
        result = []
        for kind, group in (
            ("positional_only", params.posonly_params),
            ("positional_or_keyword", params.params),
        ):
            for param in group:
                result.append(self._parameter(param, kind, module))
        if isinstance(params.star_arg, cst.Param):
            result.append(self._parameter(params.star_arg, "var_positional", module))
        for param in params.kwonly_params:
            result.append(self._parameter(param, "keyword_only", module))
        if params.star_kwarg is not None:
            result.append(self._parameter(params.star_kwarg, "var_keyword", module))
        return tuple(result)

    def _parameter(self, param: cst.Param, kind: str, module: ModuleInfo) -> Parameter:
        annotation = self.render(param.annotation.annotation, module) if param.annotation is not None else None
        if param.default is None:
            return Parameter(param.name.value, kind, annotation)
        return Parameter(param.name.value, kind, annotation, True, self.value(param.default, module))

    def make_step(self, invocation: Invocation) -> Step:
        definition = invocation.definition
        facts = self.function_facts(definition)
        config = merge(definition.config, invocation.config)
        config_lines = {**definition.config_lines, **invocation.config_lines}
        for attachment in self.attachments.get(definition.qualified_name, ()):
            config = merge(config, attachment.config)
            config_lines.update(attachment.config_lines)
        defaults = {p.name: p.default for p in facts.parameters if p.has_default}
        inputs = tagged_inputs(invocation.inputs)  # the serialized form a Step keeps and fingerprints
        config_fp = digest("config", canonical_json(config), canonical_json(defaults), canonical_json(inputs))
        module = definition.symbol.module
        call_line = invocation.call_module.line(invocation.call_node) if invocation.call_node is not None else 0
        # what the call passes (Invocation.reach), and the hooks its configuration names
        passed = [*invocation.reach,
                  *(s for s in decorators.configured_code(self.index, config, self._framework_roots())
                    if s not in invocation.reach)]
        body_fp, helpers, dynamic, content = self._passed_reach(passed, facts, definition.qualified_name)
        return Step(
            id=invocation.id,
            function=definition.qualified_name,
            name=definition.name,
            path=module.path,
            line=module.line(definition.symbol.node) if definition.symbol.node is not None else 0,
            call_path=invocation.call_module.path,
            call_line=call_line,
            kind=definition.kind,
            parameters=facts.parameters,
            outputs=definition.outputs,
            inputs=inputs,
            config=config,
            config_lines=config_lines,
            fingerprint=digest("step", body_fp, facts.signature_fingerprint),
            body_fingerprint=body_fp,
            signature_fingerprint=facts.signature_fingerprint,
            config_fingerprint=config_fp,
            statements=facts.statements,
            helpers=helpers,
            sketch=facts.sketch,
            complexity=facts.complexity,
            dynamic=dynamic,
            content_fingerprint=content,
        )

    def _body_content(self, canon: Canon, invocations: list[Invocation]) -> str:
        """A pipeline body by content, with the functions of its steps left out of its
        reach: each step's own code is in the pipeline's fingerprint already, by content
        where it has one (so a dynamic step elsewhere does not take the body's away)."""
        steps = {invocation.definition.qualified_name for invocation in invocations}
        reach = self.fingerprinter.reach([s for name, s in canon.references.items() if name not in steps])
        return self.fingerprinter.content(canon, reach, tokens_digest(canon.tokens))[0]

    def _report_dynamic(self, helper: DefinitionPrint) -> bool:
        """Diagnostics for what pvcheck cannot follow in one reached definition (a
        :class:`DefinitionPrint`); whether there is any."""
        for line, why in helper.dynamic:
            self.warn_dynamic(helper.symbol.module, line, f"helper '{helper.symbol.qualified_name}' {why}")
        for line, name in helper.unresolved:
            self.diagnose(UNDEFINED_NAME, Severity.WARNING,
                          f"name '{name}' in helper '{helper.symbol.qualified_name}' is not defined or imported",
                          helper.symbol.module.path, line, hint="import it explicitly")
        return bool(helper.dynamic or helper.unresolved)

    def _passed_reach(self, passed: list[Symbol], facts: FunctionFacts,
                      own: str) -> tuple[str, tuple[HelperRef, ...], bool, str]:
        """The step's body fingerprint, helpers, dynamic flag and content fingerprint with the
        reach of the definitions its invocation passes it (:attr:`Invocation.reach`, hooks its
        configuration names) that its own reach lacks -- and that are not the step itself
        (``@asset_check(asset=orders)`` names the asset it is attached to). The content
        fingerprint takes them by name: a class passed in and changed must never look like a
        move (PV108)."""
        reached = {h.name for h in facts.helpers}
        # one of the step's helpers has all it reaches among them already: no walk for it
        passed = [symbol for symbol in passed if symbol.qualified_name not in reached]
        known = reached | {own}
        if not passed:
            return facts.body_fingerprint, facts.helpers, facts.dynamic, facts.content_fingerprint
        reach = self.fingerprinter.reach(sorted(passed, key=lambda s: s.qualified_name))
        added = [d for d in reach.definitions if d.symbol.qualified_name not in known]
        files = [f for f in reach.files if f.name not in known]
        if not added and not files:
            return facts.body_fingerprint, facts.helpers, facts.dynamic, facts.content_fingerprint
        self.report_reads(reach)
        dynamic = facts.dynamic
        for printed in added:
            dynamic = self._report_dynamic(printed) or dynamic
        body_fp = digest("passed", facts.body_fingerprint,
                         *(f"{d.symbol.qualified_name}={d.fingerprint}" for d in added),
                         *sorted(f.fingerprint for f in files))
        if dynamic and not facts.dynamic:
            # as for a step's own reach: no edit to code pvcheck cannot follow is "the same"
            body_fp = digest("dynamic-helpers", body_fp, *(f"{d.symbol.qualified_name}={helper_text(d.symbol)}"
                                                           for d in added if d.dynamic or d.unresolved))
        refs = [HelperRef(d.symbol.qualified_name, d.symbol.kind, d.symbol.module.path, d.line, d.fingerprint)
                for d in added]
        helpers = tuple(sorted((*facts.helpers, *refs, *files), key=lambda h: h.name))
        content = "" if dynamic or not facts.content_fingerprint else digest(
            "passed", facts.content_fingerprint, *(f"{d.symbol.qualified_name}={d.fingerprint}" for d in added),
            *sorted(f.fingerprint for f in files))
        return body_fp, helpers, dynamic, content

    # ------------------------------------------------------------------ pipelines
    def make_pipeline(
        self,
        *,
        name: str,
        framework: str,
        symbol: Symbol,
        node: cst.CSTNode,
        invocations: list[Invocation],
        edges: Iterable[Edge],
        config: Mapping[str, Any],
        config_lines: Mapping[str, tuple[str, int]],
        parameters: tuple[Parameter, ...] = (),
        dynamic: bool = False,
        body: Optional[cst.CSTNode] = None,
        masks: Optional[dict[int, str]] = None,
        unfollowed: Iterable[dict[str, Any]] = (),
        bound: Iterable[Symbol] = (),
        code: Optional[cst.CSTNode] = None,
        inlined: Iterable[tuple[ModuleInfo, cst.FunctionDef, str]] = (),
    ) -> Pipeline:
        """A finished pipeline: steps in topological order and every fingerprint.

        ``masks`` (from a graph builder that accounts for every call) turns on the
        pipeline's own code: the body without its step calls and modelled inputs, with
        what it reaches, is then part of the fingerprint. ``unfollowed`` fills ``coverage``.
        ``bound``: definitions the pipeline runs without calling them by name (ZenML's
        pre-0.40 steps passed as parameters); their code, with its reach, is folded into the
        body fingerprint so that an edit to one is a change to this pipeline.
        ``code``: with ``masks``, the pipeline's own code when it is not a function body (the
        statements of a ``with DAG(...)`` block or of a module building a classic DAG);
        ``inlined``: (module, function, qualified name) of helpers the builder walked as part
        of the pipeline (Airflow task factories, nested Dagster graphs), their code masked
        the same way and folded in as helpers of the body.
        """
        module = symbol.module
        steps = [self.make_step(invocation) for invocation in invocations]
        edge_list = _dedupe_edges(edges, {s.id for s in steps})
        steps = _topological(steps, edge_list)
        graph_parts = [
            "graph",
            canonical_json(sorted([s.id, s.name] for s in steps)),
            canonical_json(sorted([e.source, e.target, e.kind, e.output or "", e.input or ""] for e in edge_list)),
        ]
        external = sorted([s.id, _external_inputs(s.inputs)] for s in steps if _external_inputs(s.inputs))
        if external:  # outside data and run conditions shape the graph too
            graph_parts.append(canonical_json(external))
        graph_fp = digest(*graph_parts)
        body_fp = ""
        if body is not None:
            canonicalizer = self.fingerprinter.canonicalizer(module)
            context = node if isinstance(node, cst.FunctionDef) else None
            if isinstance(body, cst.FunctionDef):
                canon = self._own_body(module, body, "canon", lambda: canonicalizer.function_body(body))
            else:
                # a Dagster job's define_asset_job(...) call: the same for every job unit a
                # change to its code location runs again
                canon = self._own_body(module, body, "pipeline-site", lambda: canonicalizer.expression(body, context),
                                       context)
            canon = canon.copy()  # kept: what is added from here on is this pipeline's
            body_fp = tokens_digest(canon.tokens)
            if canon.dynamic:
                dynamic = True
                for line, why in canon.dynamic:
                    self.warn_dynamic(module, line, f"pipeline '{name}' {why}")
        parts = ["pipeline", graph_fp, *sorted(f"{s.id}={s.fingerprint}" for s in steps)]
        # the pipeline module's effects, and the hooks its decorator names, with what they reach
        around = self.fingerprinter.reach(self._pipeline_hooks(node, module), [module])
        self.report_reads(around)
        if around.definitions or around.files:  # only then: unchanged fingerprints for modules without effects
            parts.append(digest("reach", *(f"{d.symbol.qualified_name}={d.fingerprint}" for d in around.definitions),
                                *sorted(f.fingerprint for f in around.files)))
        dynamic_part: Optional[tuple[int, str]] = None  # (index in parts, the same by content)
        if dynamic:
            body_content = ""
            if body is not None:
                # code that cannot be followed may run repo-local helpers (a Prefect flow calling
                # a plain function): a change to one of them is a change to this pipeline too
                body_fp = self.fingerprinter.body(canon)[0]
                body_content = self._body_content(canon, invocations)
                bound_reach = self.fingerprinter.reach(sorted(bound, key=lambda s: s.qualified_name))
                if bound_reach.definitions or bound_reach.files:
                    self.report_reads(bound_reach)
                    bound_parts = ["bound", *sorted(f"{d.symbol.qualified_name}={d.fingerprint}"
                                                    for d in bound_reach.definitions),
                                   *sorted(f.fingerprint for f in bound_reach.files)]
                    body_fp = digest(body_fp, *bound_parts)
                    body_content = digest(body_content, *bound_parts) if body_content else ""
            dynamic_part = (len(parts), body_content)
            parts.append(body_fp or layout_free(node))
        code_fp = code_content = ""
        code_statements: tuple[StatementPrint, ...] = ()
        code_helpers: tuple[HelperRef, ...] = ()
        if masks is not None and (isinstance(body, cst.FunctionDef) or code is not None):
            own = masked_code(self.fingerprinter.canonicalizer(module), code if code is not None else body, masks)
            body_code, reached, code_reach = self.fingerprinter.body(own)
            # the signature too: a parameter re-typed changes what the framework parses a
            # value into (pydantic validation in ZenML, Prefect), defaults are configuration
            signature = canonical_json([[p.name, p.kind, p.annotation] for p in parameters])
            code_fp = digest("pipeline-code", body_code, signature)
            if code_reach.content:
                code_content = digest("pipeline-code", code_reach.content, signature)
            code_statements = tuple(StatementPrint(line, fp) for line, fp in statement_prints(own))
            extra: dict[str, HelperRef] = {}
            for where, function, qualified in inlined:
                piece, piece_reached, _ = self.fingerprinter.body(
                    masked_code(self.fingerprinter.canonicalizer(where), function, masks))
                extra[qualified] = HelperRef(qualified, "function", where.path, where.line(function), piece)
                for helper in piece_reached:
                    extra.setdefault(helper.name, helper)
            if extra:
                known = {h.name for h in reached}
                reached = [*reached, *(extra[n] for n in sorted(extra) if n not in known)]
                inlined_parts = ["inlined", *(f"{n}={extra[n].fingerprint}" for n in sorted(extra))]
                code_fp = digest(code_fp, *inlined_parts)
                # inlined factories by name: a move of one is not recognised, never hidden
                code_content = digest(code_content, *inlined_parts) if code_content else ""
            code_helpers = tuple(reached)
            # the pipeline's own code is part of what it computes: two pipelines with
            # different bodies never share a fingerprint, with or without steps
            parts.append("code:" + code_fp)
        elif not steps and not dynamic:
            # a framework without the pipeline's own code (Airflow, Dagster): a step-less
            # pipeline is still identified by its code, never by an empty graph alone
            parts.append("code:" + (body_fp or layout_free(node)))
        # what the analysis covered: the steps, the calls it did not follow, and the
        # repository files the reach reads (their contents are part of the fingerprints)
        files_read = sorted({h.name[len(FILE_PREFIX):] if h.name.startswith(FILE_PREFIX) else h.path
                             for h in (*code_helpers, *(h for s in steps for h in s.helpers))
                             if h.kind == REACH_FILE})
        coverage = {"steps_found": len(steps), "calls_not_followed": list(unfollowed), "files_read": files_read}
        if not steps:
            self.diagnose(NO_STEPS, Severity.WARNING, f"pipeline '{name}' has no steps pvcheck can see",
                          module.path, module.line(node),
                          hint="its identity is its own code: any change to it is a new version; "
                               "check that its steps are decorated and imported")
        # the same parts with references by content (moves and renames, PV108): the steps'
        # content fingerprints and the pipeline code's, where they exist
        content_parts = [*parts[:2], *sorted(f"{s.id}={_content_of(s)}" for s in steps), *parts[2 + len(steps):]]
        if dynamic_part is not None and dynamic_part[1]:
            content_parts[dynamic_part[0]] = dynamic_part[1]
        if code_content:
            content_parts[content_parts.index("code:" + code_fp)] = "code:" + code_content
        defaults = {p.name: p.default for p in parameters if p.has_default}
        return Pipeline(
            name=name,
            framework=framework,
            function=symbol.qualified_name,
            module=module.name,
            path=module.path,
            line=module.line(node),
            parameters=parameters,
            steps=tuple(steps),
            edges=tuple(edge_list),
            config=dict(config),
            config_lines=dict(config_lines),
            fingerprint=digest(*parts),
            graph_fingerprint=graph_fp,
            config_fingerprint=digest("config", canonical_json(config), canonical_json(defaults)),
            body_fingerprint=body_fp,
            dynamic=dynamic,
            code_fingerprint=code_fp,
            statements=code_statements,
            helpers=code_helpers,
            coverage=coverage,
            content_fingerprint=digest(*content_parts),
            code_content=code_content,
        )


def masked_code(canonicalizer: Any, node: cst.CSTNode, masks: dict[int, str]) -> Canon:
    """The canonical form of a pipeline's own code: a function body, or a block of
    statements (an Airflow ``with DAG`` block), with the parts in ``masks`` replaced."""
    if isinstance(node, cst.FunctionDef):
        return canonicalizer.masked_body(node, masks)  # type: ignore[no-any-return]
    canonicalizer.masks = masks
    try:
        return canonicalizer.expression(node)  # type: ignore[no-any-return]
    finally:
        canonicalizer.masks = {}


def _content_of(step: Step) -> str:
    """A step's code by content (``Step.content_fingerprint``) where it has one."""
    if not step.content_fingerprint:
        return step.fingerprint
    return digest("step-content", step.content_fingerprint, step.signature_fingerprint)


def layout_free(node: cst.CSTNode) -> str:
    """The fingerprint of code pvcheck cannot follow: everything but its layout (see
    ``canonical.layout_free_tokens``), so that a reformat or a comment is no new version."""
    return digest("code", tokens_digest(layout_free_tokens(node)))


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """A deep merge of two config dicts; ``override`` wins."""
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict) and "$call" not in value:
            result[key] = merge(result[key], value)
        else:
            result[key] = value
    return result


def _external_inputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs that shape the graph: outside data (``$asset``, ``$deps``), run conditions."""
    return {k: v for k, v in inputs.items() if read_input(k, v).shapes_graph}


def _dedupe_edges(edges: Iterable[Edge], ids: set[str]) -> list[Edge]:
    seen = set()
    result = []
    for edge in edges:
        key = (edge.source, edge.target, edge.kind, edge.output, edge.input)
        if key in seen or edge.source not in ids or edge.target not in ids:
            continue
        seen.add(key)
        result.append(edge)
    return result


def _topological(steps: list[Step], edges: list[Edge]) -> list[Step]:
    """Kahn's algorithm; ties keep invocation order, so the result is deterministic.

    The ready step that comes first in invocation order is placed next; in a cycle (none
    ready), the first remaining one. Heaps keep it O(n log n): a pipeline of a thousand
    assets must not cost a million comparisons.
    """
    order = {s.id: i for i, s in enumerate(steps)}
    incoming: dict[str, set[str]] = {s.id: set() for s in steps}
    for edge in edges:
        if edge.source != edge.target:
            incoming[edge.target].add(edge.source)
    outgoing: dict[str, list[str]] = {s.id: [] for s in steps}
    for target, sources in incoming.items():
        for source in sources:
            outgoing[source].append(target)
    waiting = {step_id: len(sources) for step_id, sources in incoming.items()}
    ready = [order[s.id] for s in steps if not waiting[s.id]]
    heapq.heapify(ready)
    pending = list(range(len(steps)))  # every step by order; placed ones are skipped lazily
    placed: set[int] = set()
    done: list[Step] = []
    while len(done) < len(steps):
        while ready and ready[0] in placed:
            heapq.heappop(ready)
        if ready:
            chosen = heapq.heappop(ready)
        else:  # a cycle: keep invocation order for the rest
            while pending[0] in placed:
                heapq.heappop(pending)
            chosen = heapq.heappop(pending)
        placed.add(chosen)
        step = steps[chosen]
        done.append(step)
        for target in outgoing[step.id]:
            waiting[target] -= 1
            if waiting[target] == 0:
                heapq.heappush(ready, order[target])
    return done


def _complexity(module: ModuleInfo, function: cst.FunctionDef) -> int:
    """radon's cyclomatic complexity of one function (0 when radon cannot read it): on
    the ``ast`` of the module when there is one already, else on the function's code."""
    try:
        from radon.complexity import cc_visit, cc_visit_ast

        parsed = module.ast_function(function)
        blocks = cc_visit_ast(parsed) if parsed is not None else cc_visit(textwrap.dedent(module.code(function)))
    except Exception:
        return 0
    return blocks[0].complexity if blocks else 0


__all__ = ["AnalysisContext", "Invocation", "FunctionFacts", "merge"]
