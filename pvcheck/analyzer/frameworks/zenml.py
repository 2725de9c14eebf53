"""ZenML: ``@step`` functions wired by calling them inside a ``@pipeline`` function.

What ZenML does at run time, and what this module mirrors statically:

* a step invocation's id is ``id=`` or the step's name, then ``name_2``, ``name_3`` ...
  for repeated calls (``Pipeline._compute_invocation_id``);
* ``after=`` takes an invocation id, a step output, or a list of them;
* a step's outputs are named by ``Annotated[T, "name"]`` or
  ``Annotated[T, ArtifactConfig(name=...)]``, else ``output`` (one) or
  ``output_0``, ``output_1`` ... (a tuple);
* ``step.with_options(...)``/``step.configure(...)`` and the pipeline's counterparts,
  and a YAML file given as ``config_path=``, configure without changing code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Optional

import libcst as cst

from pvcheck.analyzer.frameworks.materializers import step_materializers  # ZenML's own: its materializers
from pvcheck.plugin import (AnalysisContext, CallGraphBuilder, ConfigAttachment, DecoratedPipelines, ModuleInfo, Opaque,
                            Output, Pipeline, Severity, StepDefinition, Symbol, Value, assemble_pipeline,
                            calls_and_imports, decorated_function, find_decorator, installed_step, merge_config,
                            render, string_value)
from pvcheck.plugin import keyword_string as _keyword_string
from pvcheck.diagnostics import COMPUTED_CONFIG_PATH, ZENML_LEGACY
from pvcheck.plugin import ORIGIN_CALL_SITE, ORIGIN_RUN_CONFIG, ConfigSource

STEP_DECORATORS = ("zenml.step", "zenml.steps.step", "zenml.steps.step_decorator.step")
PIPELINE_DECORATORS = ("zenml.pipeline", "zenml.pipelines.pipeline", "zenml.pipelines.pipeline_decorator.pipeline")
OPTION_METHODS = frozenset({"with_options", "configure"})
#: Methods of a step that run it in a dynamic pipeline (``@pipeline(dynamic=True)``).
RUN_METHODS = frozenset({"map", "product", "submit"})
#: Integration functions that take a step and return it configured (called, not decorating).
STEP_WRAPPERS = frozenset({"zenml.integrations.huggingface.steps.run_with_accelerate",
                           "zenml.integrations.huggingface.steps.accelerate_runner.run_with_accelerate"})
_ANNOTATED = ("typing.Annotated", "typing_extensions.Annotated")
_TUPLE = ("typing.Tuple", "tuple")
_ARTIFACT_CONFIG = ("zenml.ArtifactConfig", "zenml.artifacts.artifact_config.ArtifactConfig")


class ZenML(DecoratedPipelines):
    name = "zenml"
    # `.run(`: a pre-0.40 run script instantiates the pipeline with its steps and runs it
    # (`p(importer=load()).run()`) without importing zenml; those arguments bind the steps
    markers = (b"zenml", b"with_options", b".configure(", b".run(")
    pipeline_decorators = PIPELINE_DECORATORS

    def step_definition(self, symbol: Symbol, ctx: AnalysisContext) -> Optional[StepDefinition]:
        found = decorated_function(symbol, STEP_DECORATORS)
        if found is None:
            return None
        node, call, _ = found
        config, lines = ctx.keyword_config(call, symbol.module, skip=("name",))
        declared = _keyword_string(call, "name", symbol.module, ctx.index) or node.name.value
        return StepDefinition(symbol, self.name, "step", declared, config, lines,
                              outputs(node, symbol.module))

    def step_reach(self, definition: StepDefinition, ctx: AnalysisContext) -> list[Symbol]:
        node = definition.symbol.node
        if not isinstance(node, cst.FunctionDef):
            return []
        found = decorated_function(definition.symbol, STEP_DECORATORS)
        return step_materializers(node, found[1] if found is not None else None, definition.symbol.module, ctx)

    def pipeline(self, symbol: Symbol, ctx: AnalysisContext) -> Pipeline:
        module = symbol.module
        node = symbol.node
        assert isinstance(node, cst.FunctionDef)
        call = self.pipeline_decorator_call(node, module)
        config, lines = ctx.keyword_config(call, module, skip=("name",))
        name = _keyword_string(call, "name", module, ctx.index) or node.name.value
        if "dynamic" in config and config["dynamic"] is True:
            ctx.warn_dynamic(module, module.line(node), f"pipeline '{name}' is declared dynamic=True")
        step_configs: dict[str, dict[str, Any]] = {}
        attachments = list(ctx.attachments.get(symbol.qualified_name, ()))
        for run_config in ctx.run_configs_for(name):
            attachments.insert(0, _attachment_from_run_config(symbol.qualified_name, run_config))
        if "config_path" in config and isinstance(config["config_path"], str):
            loaded = ctx.run_config(module, config["config_path"], lines["config_path"][1])
            if loaded is not None:
                attachments.insert(0, _attachment_from_run_config(symbol.qualified_name, loaded))
        elif "config_path" in config:
            _computed_config_path(ctx, module, lines["config_path"][1], name)
        for attachment in attachments:
            config = merge_config(config, attachment.config)
            lines.update(attachment.config_lines)
            for invocation_id, values in attachment.step_config.items():
                step_configs[invocation_id] = merge_config(step_configs.get(invocation_id, {}), values)
        builder = ZenMLGraphBuilder(self, ctx, module, node, name)
        builder.build()
        legacy = _step_parameters(node, module.text)
        bound: list[Symbol] = []
        if legacy:
            bound = _legacy_bindings(ctx, legacy, attachments, module, node, name)
        for invocation in builder.invocations:
            extra = step_configs.get(invocation.id)
            if extra:
                invocation.config = merge_config(invocation.config, extra)
                for attachment in attachments:
                    for key in extra:
                        path_line = attachment.config_lines.get(f"steps.{invocation.id}.{key}")
                        if path_line:
                            invocation.config_lines[key] = path_line
        return assemble_pipeline(builder, symbol, config, lines,
                                 dynamic=config.get("dynamic") is True or bool(legacy), bound=bound)

    def attachments(self, module: ModuleInfo, ctx: AnalysisContext) -> Iterable[ConfigAttachment]:
        """Configuration applied outside pipeline bodies: ``x.with_options(...)``,
        ``x.configure(...)`` (with their ``config_path=`` files) and the parameter values
        a pipeline is called with (``training(days=60)`` in ``run.py``)."""
        calls, imported, star = calls_and_imports(module.tree)
        pipeline_body: dict[int, bool] = {}  # id(top-level function) -> decorated as a pipeline
        for call, enclosing in calls:
            if not star and not _may_name_definition(call.func, module, imported):
                continue
            if enclosing is not None:
                inside = pipeline_body.get(id(enclosing))
                if inside is None:
                    inside = pipeline_body[id(enclosing)] = \
                        find_decorator(enclosing, module, PIPELINE_DECORATORS) is not None
                if inside:
                    continue  # invocation config, read by the graph builder
            if isinstance(call.func, cst.Attribute) and call.func.attr.value in OPTION_METHODS:
                attachment = self._options_attachment(call, module, ctx)
            else:
                attachment = self._parameters_attachment(call, module, ctx)
            if attachment is not None:
                yield attachment

    def _options_attachment(self, call: cst.Call, module: ModuleInfo, ctx: AnalysisContext
                            ) -> Optional[ConfigAttachment]:
        assert isinstance(call.func, cst.Attribute)
        symbol = ctx.resolve_callee(module, call.func.value)
        if symbol is None:
            return None
        if ctx.step_definition(self, symbol) is None and self.pipeline_function(symbol) is None:
            return None
        config, lines = ctx.keyword_config(call, module)
        step_config: dict[str, dict[str, Any]] = {}
        reference = config.pop("config_path", None)
        path_line = lines.pop("config_path", None)
        if reference is not None and not isinstance(reference, str) and path_line is not None:
            _computed_config_path(ctx, module, path_line[1], symbol.qualified_name.rpartition(".")[2])
        if isinstance(reference, str):
            loaded = ctx.run_config(module, reference, module.line(call))
            if loaded is not None:
                from_file = _attachment_from_run_config(symbol.qualified_name, loaded)
                config = merge_config(from_file.config, config)
                lines = {**from_file.config_lines, **lines}
                step_config = from_file.step_config
        return ConfigAttachment(symbol.qualified_name, config, lines, step_config)

    def _parameters_attachment(self, call: cst.Call, module: ModuleInfo, ctx: AnalysisContext
                               ) -> Optional[ConfigAttachment]:
        callee = call.func
        while isinstance(callee, cst.Call) and isinstance(callee.func, cst.Attribute) \
                and callee.func.attr.value in OPTION_METHODS:
            callee = callee.func.value
        symbol = ctx.resolve_callee(module, callee)
        function = self.pipeline_function(symbol) if symbol is not None else None
        if symbol is None or function is None or not call.args:
            return None
        names = [p.name.value for p in (*function.params.posonly_params, *function.params.params)]
        values: dict[str, Any] = {}
        for index, arg in enumerate(call.args):
            name = arg.keyword.value if arg.keyword is not None else (names[index] if index < len(names) else None)
            if name is not None and not arg.star:
                values[name] = ctx.value(arg.value, module)
        return ConfigAttachment(symbol.qualified_name, {"parameters": values},
                                {"parameters": ConfigSource(module.path, module.line(call), ORIGIN_CALL_SITE)})


class ZenMLGraphBuilder(CallGraphBuilder):
    reserved_keywords = frozenset({"id", "after"})
    option_methods = OPTION_METHODS
    account_calls = True
    api_packages = ("zenml",)

    def external_step(self, callee: cst.BaseExpression, module: ModuleInfo) -> Optional[StepDefinition]:
        # `from zenml.integrations.evidently.steps import evidently_report_step`: a step
        # ZenML ships with an integration (snake_case functions in a `steps` module); its
        # `.with_options` is a configured copy (ZenMLGraphBuilder.call), never a step itself
        return installed_step(self, callee, module, "step", lambda name: name.startswith("zenml.integrations.")
                              and ".steps" in name and name.rpartition(".")[2].islower()
                              and name.rpartition(".")[2] not in OPTION_METHODS and name not in STEP_WRAPPERS)

    def call(self, call: cst.Call, env: dict[str, Value], module: ModuleInfo) -> Value:
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "with_options" or _wraps_step(call, module):
            found = self._configured(call, env, module)
            if found is not None:
                # `report = evidently_report_step.with_options(...)`, called later: a copy of the
                # step whose options are the configuration of the invocation that calls it
                self.mask(call, "")
                return _StepRef(module.code(call), (), found[0], tuple(found[1]))
        if isinstance(func, cst.Attribute) and func.attr.value in RUN_METHODS:
            found = self._configured(func.value, env, module)
            if found is not None:
                # a dynamic pipeline's `train.map(items)` / `.product(...)` / `.submit(x)`: the
                # step runs (how many times is known at run time; the pipeline is dynamic=True)
                if func.attr.value != "submit":
                    self.not_followed(module, call, f"'{found[0].name}.{func.attr.value}(...)': how many times "
                                      "the step runs is known only at run time")
                return self.invoke_with(found[0], call, found[1], [], env, module)
        callee, direct = self.strip_options(func)
        if isinstance(callee, (cst.Name, cst.Attribute)):
            bound = isinstance(callee, cst.Name) and isinstance(env.get(callee.value), _StepRef)
            found = self._configured(callee, env, module) if bound or _names_constant(callee, module, self.ctx) \
                else None
            if found is not None:  # a local copy, or a module-level `fast = train.with_options(...)`
                return self.invoke_with(found[0], call, found[1], direct, env, module)
        return super().call(call, env, module)

    def invoke_with(self, definition: StepDefinition, call: cst.Call, options: list[tuple[cst.Call, ModuleInfo]],
                    direct: list[cst.Call], env: dict[str, Value], module: ModuleInfo) -> Value:
        """An invocation of a configured copy: the copy's options (each read in the module
        that wrote it) first, the options written at the call (``direct``) over them."""
        result = self.invoke(definition, call, direct, env, module)
        invocation = self.invocations[-1]
        config: dict[str, Any] = {}
        lines: dict[str, Any] = {}
        for option_call, option_module in options:
            extra, extra_lines = self.ctx.keyword_config(option_call, option_module)
            config = merge_config(config, extra)
            lines.update(extra_lines)
        invocation.config = merge_config(config, invocation.config)
        invocation.config_lines = {**lines, **invocation.config_lines}
        return result

    def _configured(self, target: cst.BaseExpression, env: dict[str, Value], module: ModuleInfo, depth: int = 0
                    ) -> Optional[tuple[StepDefinition, list[tuple[cst.Call, ModuleInfo]]]]:
        """The step ``target`` stands for and the option calls that configure it: a
        ``@step`` function or an integration step, ``x.with_options(...)`` of one, a local
        bound to such a copy, or a module-level ``fast = x.with_options(...)``."""
        if depth > 8:
            return None
        if isinstance(target, cst.Name) and target.value in env:
            bound = env[target.value]
            return (bound.definition, list(bound.options)) if isinstance(bound, _StepRef) \
                and bound.definition is not None else None
        inner, options = self.strip_options(target)
        configured = [(o, module) for o in options]
        if isinstance(inner, cst.Call) and _wraps_step(inner, module):
            # `run_with_accelerate(finetune, num_processes=2)`: the step, run another way
            found = self._configured(inner.args[0].value, env, module, depth + 1)
            return (found[0], found[1] + [(inner, module)] + configured) if found is not None else None
        if isinstance(inner, cst.Name) and inner.value in env:
            found = self._configured(inner, env, module, depth + 1)
            return (found[0], found[1] + configured) if found is not None else None
        symbol = self.ctx.resolve_callee(module, inner)
        if symbol is None:
            external = self.external_step(inner, module)
            return (external, configured) if external is not None else None
        if symbol.kind != "constant":
            definition = self.ctx.step_definition(self.framework, symbol)
            return (definition, configured) if definition is not None else None
        assignments = [s for s in symbol.module.symbols.get(symbol.name, []) if s.kind == "constant"]
        if len(assignments) != 1 or not isinstance(assignments[0].node, cst.Assign) \
                or not isinstance(assignments[0].node.value, cst.Call):
            return None
        aliased, alias_options = self.strip_options(assignments[0].node.value)
        if not alias_options and not (isinstance(aliased, cst.Call) and _wraps_step(aliased, symbol.module)):
            return None
        found = self._configured(assignments[0].node.value, {}, symbol.module, depth + 1)
        if found is None:
            return None
        return found[0], found[1] + configured

    def pipeline_function(self, symbol: Symbol) -> Optional[cst.FunctionDef]:
        assert isinstance(self.framework, ZenML)
        return self.framework.pipeline_function(symbol)

    def invocation_id(self, definition: StepDefinition, call: cst.Call, env: dict[str, Value]) -> str:
        explicit = self.keyword(call, "id")
        if explicit is not None:
            value = self.evaluate(explicit.value, env, self.module)
            text = getattr(value, "value", None)
            if isinstance(text, str):
                return self.unique_id(text)
            self.not_followed(self.module, call, f"an invocation id computed at run time for '{definition.name}'")
        return self.unique_id(definition.name)

    def order_dependencies(self, call: cst.Call, env: dict[str, Value]) -> list[str]:
        after = self.keyword(call, "after")
        if after is None:
            return []
        return self.invocations_in(self.evaluate(after.value, env, self.module))


@dataclass(frozen=True)
class _StepRef(Opaque):
    """A configured copy of a step (``x.with_options(...)``) held in a local of the pipeline."""

    definition: Optional[StepDefinition] = None
    options: tuple[tuple[cst.Call, ModuleInfo], ...] = ()


def _wraps_step(call: cst.Call, module: ModuleInfo) -> bool:
    """``run_with_accelerate(step, ...)``: a function of an integration that returns the
    step it is given, configured to run another way (not a step of its own)."""
    return bool(call.args) and call.args[0].keyword is None and not call.args[0].star \
        and isinstance(call.func, (cst.Name, cst.Attribute)) and bool(module.qualified_names(call.func) & STEP_WRAPPERS)


def _names_constant(callee: cst.BaseExpression, module: ModuleInfo, ctx: AnalysisContext) -> bool:
    """Whether ``callee`` names a repo-local module constant (a possible configured copy)."""
    symbol = ctx.resolve_callee(module, callee)
    return symbol is not None and symbol.kind == "constant"


def _computed_config_path(ctx: AnalysisContext, module: ModuleInfo, line: int, target: str) -> None:
    """PV027: a ``config_path=`` pvcheck cannot evaluate (``os.path.join(.., args.config)``,
    an f-string with a variable). The YAML it names is configuration pvcheck never sees,
    so it must be named in the pvcheck settings instead of silently left out."""
    ctx.diagnose(COMPUTED_CONFIG_PATH, Severity.WARNING,
                 f"config_path of '{target}' is computed at run time: the YAML it names is not read",
                 module.path, line,
                 hint="list the YAML in [tool.pvcheck.run_configs] so that its settings are part of the version")


def _step_parameters(node: cst.FunctionDef, text: str = "") -> list[str]:
    """Parameters of a pipeline function that its body calls: ZenML's pre-0.40 API, where
    step instances are passed to the pipeline (``p(importer=load(), trainer=Trainer())``)
    and called through the parameter names. A new-API pipeline only reads its parameters."""
    names = {p.name.value for p in (*node.params.posonly_params, *node.params.params,
                                      *node.params.kwonly_params)}
    # a call of a parameter needs ``name(`` (or ``name (``) somewhere in the module's text:
    # without it, no walk of the body (most pipelines: this runs for every one of them)
    if text and not any(re.search(rf"\b{re.escape(name)}\s*\(", text) for name in names):
        return []
    called: list[str] = []

    class _Calls(cst.CSTVisitor):
        def visit_Call(self, call: cst.Call) -> None:
            func = call.func
            if isinstance(func, cst.Name) and func.value in names and func.value not in called:
                called.append(func.value)

    node.body.visit(_Calls())
    return called


def _legacy_bindings(ctx: AnalysisContext, legacy: list[str], attachments: list[ConfigAttachment],
                     module: ModuleInfo, node: cst.FunctionDef, name: str) -> list[Symbol]:
    """PV026, and the repo-local steps the pipeline is instantiated with: the call sites'
    arguments (``importer=load_rows()``, ``trainer=Trainer(...)``) name them. Their code
    becomes part of the pipeline's fingerprint; the pipeline is conservative (dynamic)."""
    bound: dict[str, Symbol] = {}
    unbound: list[str] = []
    for parameter in legacy:
        found = False
        for attachment in attachments:
            value = attachment.config.get("parameters", {}).get(parameter)
            callee = value.get("$call") if isinstance(value, dict) else None
            resolved = ctx.index.resolve(callee) if isinstance(callee, str) else None
            if resolved is not None and not resolved[1]:
                bound[resolved[0].qualified_name] = resolved[0]
                found = True
        if not found:
            unbound.append(parameter)
    missing = f"; not bound to a repo-local step at any call site: {', '.join(unbound)}" if unbound else ""
    ctx.diagnose(ZENML_LEGACY, Severity.WARNING,
                 f"ZenML pre-0.40 pipeline '{name}': steps passed as parameters ({', '.join(legacy)}){missing}",
                 module.path, module.line(node),
                 hint="pvcheck does not build its graph: the steps bound where it is instantiated are "
                      "fingerprinted with the pipeline, any change to them or to it is a new version; "
                      "call @step functions in the pipeline body (ZenML >= 0.40) to get a graph")
    return list(bound.values())


def _may_name_definition(callee: cst.BaseExpression, module: ModuleInfo, imported: set[str]) -> bool:
    """False only when ``callee`` cannot resolve to a definition of the tree: its root
    name is bound neither at module level nor by an import (a local variable, a
    parameter, a builtin). Resolving every call of a module costs more than the rest of
    this pass; most calls in step bodies are on locals (``df.dropna()``)."""
    root = callee
    while isinstance(root, (cst.Attribute, cst.Call)):
        root = root.value if isinstance(root, cst.Attribute) else root.func
    if not isinstance(root, cst.Name):
        return True
    return root.value in imported or root.value in module.symbols


def _attachment_from_run_config(target: str, run_config) -> ConfigAttachment:  # type: ignore[no-untyped-def]
    lines = {key: ConfigSource(run_config.path, line, ORIGIN_RUN_CONFIG) for key, line in run_config.lines.items()}
    return ConfigAttachment(target, dict(run_config.pipeline), lines, dict(run_config.steps))


def outputs(node: cst.FunctionDef, module: ModuleInfo) -> tuple[Output, ...]:
    """ZenML's output names for a step's return annotation."""
    if node.returns is None:
        return (Output("output"),)
    annotation = node.returns.annotation
    if isinstance(annotation, cst.Name) and annotation.value == "None":
        return ()
    elements = _tuple_elements(annotation, module)
    if elements is None:
        return (Output(_annotated_name(annotation, module) or "output", render(annotation, module)),)
    return tuple(
        Output(_annotated_name(element, module) or f"output_{i}", render(element, module))
        for i, element in enumerate(elements)
    )


def _subscript_of(node: cst.BaseExpression, module: ModuleInfo, names: tuple[str, ...]) -> Optional[
        list[cst.BaseExpression]]:
    if not isinstance(node, cst.Subscript):
        return None
    base = node.value
    qualified = module.qualified_names(base) if isinstance(base, (cst.Name, cst.Attribute)) else set()
    if not qualified & set(names):
        return None
    return [e.slice.value for e in node.slice if isinstance(e.slice, cst.Index)]


def _tuple_elements(node: cst.BaseExpression, module: ModuleInfo) -> Optional[list[cst.BaseExpression]]:
    elements = _subscript_of(node, module, _TUPLE)
    if elements is None or any(isinstance(e, cst.Ellipsis) for e in elements):
        return None
    return elements


def _annotated_name(node: cst.BaseExpression, module: ModuleInfo) -> Optional[str]:
    parts = _subscript_of(node, module, _ANNOTATED)
    if not parts:
        return None
    for meta in parts[1:]:
        name = string_value(meta)
        if name is not None:
            return name
        if isinstance(meta, cst.Call) and isinstance(meta.func, (cst.Name, cst.Attribute)) \
                and module.qualified_names(meta.func) & set(_ARTIFACT_CONFIG):
            for arg in meta.args:
                if arg.keyword is not None and arg.keyword.value == "name":
                    return string_value(arg.value)
    return None
