"""Static evaluation of a pipeline function whose body *calls* its steps.

ZenML, Prefect, Airflow TaskFlow, Dagster ``@job`` and KFP pipelines are all written
this way: the framework runs the pipeline function once, and each step call records an
invocation whose arguments may be outputs of earlier calls. :class:`CallGraphBuilder`
does the same walk without running anything: it tracks what each local name holds
(a step output, a pipeline parameter, a literal, something opaque), unrolls loops over
literal sequences, inlines pipelines called inside pipelines, and reports everything it
cannot follow as a diagnostic that makes the pipeline's fingerprint conservative.

Frameworks subclass it and override the hooks in the "framework hooks" section.
"""

from __future__ import annotations

import itertools

from dataclasses import dataclass
from typing import Any, Iterable, Optional, Union

import libcst as cst

from pvcheck.analyzer import pipeline_calls as calls
from pvcheck.analyzer.fastmeta import code_children
from pvcheck.analyzer.context import AnalysisContext, Invocation
from pvcheck.analyzer.frameworks.base import Framework, StepDefinition
from pvcheck.analyzer.module import ModuleInfo, Symbol
from pvcheck.analyzer.values import is_literal, literal_value, plain_text
from pvcheck.diagnostics import CALL_NOT_FOLLOWED
from pvcheck.model import Edge, FromParameter, FromStep, Severity

_MAX_UNROLL = 256
_MAX_INLINE_DEPTH = 8


@dataclass(frozen=True)
class StepOutput:
    """One output of an invocation (``output`` is the output name)."""

    invocation: str
    output: str


@dataclass(frozen=True)
class StepOutputs:
    """All outputs of an invocation, before unpacking (a multi-output step's return)."""

    invocation: str
    outputs: tuple[str, ...]


@dataclass(frozen=True)
class PipelineParameter:
    name: str


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Constructed(Literal):
    """A repo-local class built from literals in the pipeline body (``TrainCfg(lr=0.1)``):
    a value (``{"$call": class, arg: value}``) whose class code runs wherever it goes."""

    classes: tuple[Symbol, ...] = ()


@dataclass(frozen=True)
class Opaque:
    """Something the analyzer does not model (an external artifact, a client look-up ...)."""

    text: str
    depends_on: tuple[str, ...] = ()  # invocations whose outputs flow into it


@dataclass(frozen=True)
class Sequence_:
    items: tuple["Value", ...]


Value = Union[StepOutput, StepOutputs, PipelineParameter, Literal, Opaque, Sequence_]


class CallGraphBuilder:
    """Walks one pipeline function and collects invocations and edges."""

    #: Keyword arguments of a step call that are not step inputs.
    reserved_keywords: frozenset[str] = frozenset()
    #: Attribute calls on a step that return a configured copy of it.
    option_methods: frozenset[str] = frozenset()

    def __init__(self, framework: Framework, ctx: AnalysisContext, module: ModuleInfo,
                 function: cst.FunctionDef, name: str) -> None:
        self.framework = framework
        self.ctx = ctx
        self.module = module
        self.function = function
        self.pipeline_name = name
        self.invocations: list[Invocation] = []
        self.edges: list[Edge] = []
        self.dynamic = False
        self._ids: set[str] = set()
        self._inline_depth = 0
        #: id(node) -> token: parts of the body other fingerprints cover (step calls,
        #: their inputs); the rest of the body is the pipeline's own code (``masked_body``)
        self.masks: dict[int, str] = {}
        self._literal_assignments: list[tuple[cst.BaseExpression, str]] = []  # (value, bound name)
        #: calls whose code is not part of the graph: {"call", "path", "line"} (coverage)
        self.unfollowed: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ framework hooks
    def pipeline_function(self, symbol: Symbol) -> Optional[cst.FunctionDef]:
        """The function of a pipeline called inside this one (to inline), or None."""
        return None

    def invocation_id(self, definition: StepDefinition, call: cst.Call, env: dict[str, Value]) -> str:
        """The id of a new invocation: the step's name, then ``name_2``, ``name_3`` ..."""
        return self.unique_id(definition.name)

    def order_dependencies(self, call: cst.Call, env: dict[str, Value]) -> list[str]:
        """Invocations this call must run after, apart from data dependencies."""
        return []

    def result_of(self, invocation: Invocation) -> Value:
        """What a step call evaluates to inside the pipeline body."""
        outputs = tuple(o.name for o in invocation.definition.outputs)
        if len(outputs) == 1:
            return StepOutput(invocation.id, outputs[0])
        return StepOutputs(invocation.id, outputs)

    def other_call(self, call: cst.Call, env: dict[str, Value], module: ModuleInfo) -> Optional[Value]:
        """A call that is neither a step nor a pipeline; None to treat it as opaque."""
        return None

    #: Report every call of the body that is not followed (PV023) and keep the masks
    #: ``masked_body`` needs. Frameworks that fingerprint their pipeline's own code turn it on.
    account_calls: bool = False
    #: Packages whose functions are the framework's own API (``zenml``, ``prefect`` ...).
    api_packages: tuple[str, ...] = ()
    #: The framework reports calls of repo-local functions itself (PV010).
    reports_local_calls: bool = False

    def external_step(self, callee: cst.BaseExpression, module: ModuleInfo) -> Optional[StepDefinition]:
        """A step from an installed package (a ZenML integration step, a Prefect collection
        task, a prebuilt KFP component), identified by its qualified name; None otherwise."""
        return None

    # ------------------------------------------------------------------ helpers for hooks
    def unique_id(self, base: str) -> str:
        candidate = base
        index = 2
        while candidate in self._ids:
            candidate = f"{base}_{index}"
            index += 1
        return candidate

    def keyword(self, call: cst.Call, name: str) -> Optional[cst.Arg]:
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == name:
                return arg
        return None

    def invocations_in(self, value: Value) -> list[str]:
        """The invocations a value comes from (for order edges given as outputs or ids)."""
        if isinstance(value, (StepOutput, StepOutputs)):
            return [value.invocation]
        if isinstance(value, Literal) and isinstance(value.value, str):
            return [value.value]
        if isinstance(value, Literal) and isinstance(value.value, list):
            return [v for v in value.value if isinstance(v, str)]
        if isinstance(value, Sequence_):
            found: list[str] = []
            for item in value.items:
                found.extend(self.invocations_in(item))
            return found
        if isinstance(value, Opaque):
            return list(value.depends_on)
        return []

    # ------------------------------------------------------------------ walking
    def build(self, bindings: Optional[dict[str, Value]] = None) -> Optional[Value]:
        env: dict[str, Value] = dict(bindings or {})
        for param in _parameters(self.function.params):
            env.setdefault(param.name.value, PipelineParameter(param.name.value))
        result = self.block(self.function.body, env, self.module)
        if self.account_calls:
            calls.keep_literal_assignments(self.function, self.masks, self._literal_assignments)
        return result

    def block(self, block: cst.BaseSuite, env: dict[str, Value], module: ModuleInfo) -> Optional[Value]:
        for index, statement in enumerate(_flatten(block)):
            result = self.statement(statement, env, module, first=index == 0)
            if result is not None:
                return result[0]
        return None

    def statement(self, statement: cst.CSTNode, env: dict[str, Value], module: ModuleInfo,
                  first: bool = False) -> Optional[tuple[Optional[Value]]]:
        """Process one statement; a ``return`` gives back a 1-tuple with its value."""
        if isinstance(statement, cst.Assign):
            value = self.evaluate(statement.value, env, module)
            for target in statement.targets:
                self.bind(target.target, value, env, module)
            if len(statement.targets) == 1:
                self._literal_assignment(statement.targets[0].target, statement.value, value)
            if self.account_calls and calls.step_statement(statement, self.masks):
                self.mask(statement, "")
        elif isinstance(statement, cst.AnnAssign):
            if statement.value is not None:
                value = self.evaluate(statement.value, env, module)
                self.bind(statement.target, value, env, module)
                self._literal_assignment(statement.target, statement.value, value)
                if self.account_calls and calls.step_statement(statement, self.masks):
                    self.mask(statement, "")
        elif isinstance(statement, cst.AugAssign):
            self.evaluate(statement.value, env, module)
            self.bind(statement.target, Opaque(plain_text(statement, module)), env, module)
        elif isinstance(statement, cst.Expr):
            if not (first and isinstance(statement.value, (cst.SimpleString, cst.ConcatenatedString))):
                self.evaluate(statement.value, env, module)
                if self.account_calls and calls.step_statement(statement, self.masks):
                    self.mask(statement, "")  # only a step call, or only a task's configuration
        elif isinstance(statement, cst.Return):
            return (self.evaluate(statement.value, env, module) if statement.value is not None else None,)
        elif isinstance(statement, cst.For):
            self.loop(statement, env, module)
        elif isinstance(statement, cst.If):
            self.conditional(statement, env, module)
        elif isinstance(statement, cst.With):
            for item in statement.items:
                self.evaluate(item.item, env, module)
            return self._nested(statement.body, env, module)
        elif isinstance(statement, (cst.Pass, cst.Import, cst.ImportFrom)):
            pass
        elif isinstance(statement, cst.Try):
            self.not_followed(module, statement, "a try statement in the pipeline body")
            result = self._nested(statement.body, env, module)
            # steps called in handlers, else and finally are steps of the pipeline too
            for handler in statement.handlers:
                self._nested(handler.body, env, module)
            for extra in (statement.orelse, statement.finalbody):
                if extra is not None:
                    self._nested(extra.body, env, module)
            return result
        elif isinstance(statement, cst.While):
            self.not_followed(module, statement, "a while loop in the pipeline body")
            self.evaluate(statement.test, env, module)
            return self._nested(statement.body, env, module)
        elif isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            self.not_followed(module, statement, "a definition inside the pipeline body")
        else:
            self.not_followed(module, statement, f"a {type(statement).__name__} statement in the pipeline body")
            self._flows(statement, env, module)  # step calls inside (`assert`, `del` ...) still count
        return None

    def _literal_assignment(self, target: cst.BaseExpression, node: cst.BaseExpression, value: Value) -> None:
        # `lr = 0.1` then `train(lr=lr)`: the value reaches the step as its input (config);
        # it is masked unless the name is used where no input captures it (see build)
        if self.account_calls and isinstance(target, cst.Name) and calls.modelled(value) \
                and isinstance(value, (Literal, Sequence_)):
            self._literal_assignments.append((node, target.value))

    def _nested(self, block: cst.BaseSuite, env: dict[str, Value], module: ModuleInfo
                ) -> Optional[tuple[Optional[Value]]]:
        for statement in _flatten(block):
            result = self.statement(statement, env, module)
            if result is not None:
                return result
        return None

    def not_followed(self, module: ModuleInfo, node: cst.CSTNode, what: str) -> None:
        self.dynamic = True
        self.ctx.warn_dynamic(module, module.line(node), f"{what} of pipeline '{self.pipeline_name}'")
        self._record_unfollowed(what, module, node)

    def _record_unfollowed(self, what: str, module: ModuleInfo, node: cst.CSTNode) -> None:
        entry = {"call": what.rstrip(","), "path": module.path, "line": module.line(node)}
        if entry not in self.unfollowed:
            self.unfollowed.append(entry)

    def unfollowed_call(self, module: ModuleInfo, call: cst.Call, what: str) -> None:
        """A call whose code is not part of the graph (PV023): the pipeline's own code
        covers it, so any change to the body is a version, but steps it may run are unseen."""
        self.ctx.diagnose(
            CALL_NOT_FOLLOWED, Severity.WARNING,
            f"call of {what} in pipeline '{self.pipeline_name}' is not a step, a nested pipeline, a framework API "
            "or a known side-effect-free builtin", module.path, module.line(call),
            hint="pvcheck does not follow it: steps it runs are not in the graph, and any change to the pipeline "
                 "body is a new version; make it a step or move it out of the pipeline")
        self._record_unfollowed(what, module, call)

    def mask(self, node: cst.CSTNode, token: str) -> None:
        if self.account_calls:
            self.masks[id(node)] = token

    def loop(self, statement: cst.For, env: dict[str, Value], module: ModuleInfo) -> None:
        items = self.iteration_values(statement.iter, env, module)
        if items is None:
            self.not_followed(module, statement, "a loop over values not known statically")
            self.bind(statement.target, Opaque("loop variable"), env, module)
            self._nested(statement.body, env, module)
            return
        for item in items[:_MAX_UNROLL]:
            self.bind(statement.target, item, env, module)
            self._nested(statement.body, env, module)
        if statement.orelse is not None:
            self._nested(statement.orelse.body, env, module)

    def iteration_values(self, expression: cst.BaseExpression, env: dict[str, Value],
                         module: ModuleInfo) -> Optional[list[Value]]:
        if isinstance(expression, cst.Call) and isinstance(expression.func, cst.Name) \
                and expression.func.value == "range" and 1 <= len(expression.args) <= 3:
            bounds = [self.evaluate(a.value, env, module) for a in expression.args]
            if all(isinstance(b, Literal) and isinstance(b.value, int) for b in bounds):
                values = range(*[b.value for b in bounds])  # type: ignore[union-attr]
                if len(values) <= _MAX_UNROLL:
                    return [Literal(v) for v in values]
            return None
        combined = self.combined_iteration(expression, env, module)
        if combined is not None:
            return combined if len(combined) <= _MAX_UNROLL else None
        value = self.evaluate(expression, env, module)
        if isinstance(value, Sequence_):
            return list(value.items)
        if isinstance(value, Literal) and isinstance(value.value, list):
            return [Literal(v) for v in value.value]
        if isinstance(value, Literal) and isinstance(value.value, dict) and "$call" not in value.value:
            return [Literal(k) for k in value.value]
        return None

    def combined_iteration(self, expression: cst.BaseExpression, env: dict[str, Value],
                           module: ModuleInfo) -> Optional[list[Value]]:
        """``enumerate(X)``, ``zip(X, Y)``, ``D.items()`` / ``.keys()`` / ``.values()`` of a
        literal dict, ``itertools.product(X, Y)`` over values known statically, as the
        tuples Python would produce (so ``for i, lr in enumerate(RATES)`` is unrolled with
        its ids like a literal list); None for anything else."""
        if not isinstance(expression, cst.Call) or any(a.star or a.keyword is not None and a.keyword.value != "start"
                                                       for a in expression.args):
            return None
        func = expression.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("items", "keys", "values") and not expression.args:
            mapping = self.evaluate(func.value, env, module)
            if not (isinstance(mapping, Literal) and isinstance(mapping.value, dict) and "$call" not in mapping.value
                    and not any(k.startswith("$") for k in mapping.value)):
                return None
            pairs = list(mapping.value.items())
            if func.attr.value == "keys":
                return [Literal(k) for k, _ in pairs]
            if func.attr.value == "values":
                return [Literal(v) for _, v in pairs]
            return [Sequence_((Literal(k), Literal(v))) for k, v in pairs]
        names = module.qualified_names(func) if isinstance(func, (cst.Name, cst.Attribute)) else frozenset()
        if len(names) != 1:
            return None
        name = next(iter(names))
        positional = [a.value for a in expression.args if a.keyword is None]
        if name == "enumerate" and 1 <= len(expression.args) <= 2:
            start_value = self.evaluate(expression.args[1].value, env, module) if len(expression.args) == 2 \
                else Literal(0)
            items = self.iteration_values(expression.args[0].value, env, module)
            if items is None or not (isinstance(start_value, Literal) and type(start_value.value) is int):
                return None
            return [Sequence_((Literal(start_value.value + i), item)) for i, item in enumerate(items)]
        if name in ("zip", "itertools.product") and positional and len(positional) == len(expression.args):
            columns = [self.iteration_values(a, env, module) for a in positional]
            if any(c is None for c in columns):
                return None
            if name == "zip":
                return [Sequence_(tuple(row)) for row in zip(*columns)]  # type: ignore[misc]
            total = 1
            for column in columns:
                total *= len(column)  # type: ignore[arg-type]
            if total > _MAX_UNROLL:
                return None
            return [Sequence_(tuple(row)) for row in itertools.product(*columns)]  # type: ignore[misc]
        return None

    def conditional(self, statement: cst.If, env: dict[str, Value], module: ModuleInfo) -> None:
        self.evaluate(statement.test, env, module)
        self.not_followed(module, statement, "a condition that decides which steps run")
        self._nested(statement.body, env, module)
        orelse = statement.orelse
        while orelse is not None:
            if isinstance(orelse, cst.If):
                self.evaluate(orelse.test, env, module)
                self._nested(orelse.body, env, module)
                orelse = orelse.orelse
            else:
                self._nested(orelse.body, env, module)
                orelse = None

    def bind(self, target: cst.BaseExpression, value: Value, env: dict[str, Value], module: ModuleInfo) -> None:
        if isinstance(target, cst.Name):
            env[target.value] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            elements = [e.value for e in target.elements]
            parts = self.unpack(value, len(elements))
            for element, part in zip(elements, parts):
                self.bind(element, part, env, module)
        # attribute and subscript targets hold nothing the graph needs

    def unpack(self, value: Value, count: int) -> list[Value]:
        if isinstance(value, StepOutputs) and len(value.outputs) == count:
            return [StepOutput(value.invocation, name) for name in value.outputs]
        if isinstance(value, Sequence_) and len(value.items) == count:
            return list(value.items)
        if isinstance(value, Literal) and isinstance(value.value, list) and len(value.value) == count:
            return [Literal(v) for v in value.value]
        return [value] * count

    # ------------------------------------------------------------------ expressions
    def evaluate(self, expression: cst.BaseExpression, env: dict[str, Value], module: ModuleInfo) -> Value:
        if isinstance(expression, cst.Call):
            return self.call(expression, env, module)
        if isinstance(expression, cst.Name):
            if expression.value in env:
                return env[expression.value]
            return self.constant(expression, module)
        if isinstance(expression, (cst.Tuple, cst.List)):
            return Sequence_(tuple(self.evaluate(e.value, env, module) for e in expression.elements))
        if isinstance(expression, cst.Subscript):
            return self.subscript(expression, env, module)
        if isinstance(expression, cst.FormattedString):
            text = self.format_string(expression, env, module)
            return Literal(text) if text is not None else Opaque(plain_text(expression, module))
        literal = literal_value(expression)
        if is_literal(literal):
            return Literal(literal)
        if isinstance(expression, cst.Attribute):
            base = self.evaluate(expression.value, env, module)
            if isinstance(base, (StepOutput, StepOutputs)):
                return base
            return self.constant(expression, module)
        return Opaque(plain_text(expression, module), tuple(self._flows(expression, env, module)))

    def _flows(self, expression: cst.CSTNode, env: dict[str, Value], module: ModuleInfo) -> list[str]:
        """Invocations whose outputs are used anywhere inside an expression."""
        found: list[str] = []
        for child in code_children(expression):
            if isinstance(child, cst.Name) and child.value in env:
                found.extend(self.invocations_in(env[child.value]))
            elif isinstance(child, cst.Call):
                found.extend(self.invocations_in(self.call(child, env, module)))
            elif isinstance(child, cst.CSTNode):
                found.extend(self._flows(child, env, module))
        return found

    def constant(self, expression: cst.BaseExpression, module: ModuleInfo) -> Value:
        value = self.ctx.value(expression, module)
        if isinstance(value, dict) and ("$ref" in value or "$expr" in value):
            return Opaque(self.ctx.render(expression, module))
        return Literal(value)

    def subscript(self, expression: cst.Subscript, env: dict[str, Value], module: ModuleInfo) -> Value:
        base = self.evaluate(expression.value, env, module)
        if len(expression.slice) == 1 and isinstance(expression.slice[0].slice, cst.Index):
            key = self.evaluate(expression.slice[0].slice.value, env, module)
            if isinstance(key, Literal):
                if isinstance(base, StepOutputs):
                    if isinstance(key.value, int) and -len(base.outputs) <= key.value < len(base.outputs):
                        return StepOutput(base.invocation, base.outputs[key.value])
                    if isinstance(key.value, str) and key.value in base.outputs:
                        return StepOutput(base.invocation, key.value)
                if isinstance(base, Sequence_) and isinstance(key.value, int) \
                        and -len(base.items) <= key.value < len(base.items):
                    return base.items[key.value]
                if isinstance(base, Literal) and isinstance(base.value, (list, dict)):
                    try:
                        return Literal(base.value[key.value])
                    except (IndexError, KeyError, TypeError):
                        pass
        if isinstance(base, (StepOutput, StepOutputs)):
            return base
        return Opaque(plain_text(expression, module), tuple(self.invocations_in(base)))

    def format_string(self, expression: cst.FormattedString, env: dict[str, Value], module: ModuleInfo
                      ) -> Optional[str]:
        pieces = []
        known = True
        for part in expression.parts:
            if isinstance(part, cst.FormattedStringText):
                pieces.append(part.value)
                continue
            # every part is evaluated, even after one that is not known: a step called
            # inside an f-string (`print(f"{train()!r}")`) runs all the same
            value = self.evaluate(part.expression, env, module)
            for spec in part.format_spec or ():
                if isinstance(spec, cst.FormattedStringExpression):  # `{x:{width()}}`
                    self.evaluate(spec.expression, env, module)
            if part.format_spec or part.conversion or not isinstance(value, Literal) \
                    or isinstance(value.value, (dict, list)):
                known = False
                continue
            pieces.append(str(value.value))
        return "".join(pieces) if known else None

    def call(self, call: cst.Call, env: dict[str, Value], module: ModuleInfo) -> Value:
        callee, option_calls = self.strip_options(call.func)
        symbol = self.ctx.resolve_callee(module, callee)
        if symbol is not None:
            definition = self.ctx.step_definition(self.framework, symbol)
            if definition is not None:
                return self.invoke(definition, call, option_calls, env, module)
            inner = self.pipeline_function(symbol)
            if inner is not None:
                return self.inline(symbol, inner, call, env, module)
            if symbol.kind == "class" and not option_calls:
                built = self.construction(symbol, call, env, module)
                if built is not None:
                    return built
        external = self.external_step(callee, module) if symbol is None else None
        if external is not None:
            return self.invoke(external, call, option_calls, env, module)
        if self.account_calls:
            calls.account(self, call, callee, symbol, env, module)
        other = self.other_call(call, env, module)
        if other is not None:
            return other
        flows: list[str] = []
        for arg in call.args:
            flows.extend(self.invocations_in(self.evaluate(arg.value, env, module)))
        return Opaque(self.ctx.render(call.func, module) + "(...)", tuple(flows))

    def construction(self, symbol: Symbol, call: cst.Call, env: dict[str, Value], module: ModuleInfo
                     ) -> Optional[Constructed]:
        """``TrainCfg(lr=0.1)``: a repo-local class built from literals. Passed to a step it
        is that step's configuration (a call-site value, like ``lr=0.1``) and the class
        joins the step's reach; anything else built in the body stays the pipeline's code."""
        value: dict[str, Any] = {"$call": symbol.qualified_name}
        positional: list[Any] = []
        classes: dict[str, Symbol] = {symbol.qualified_name: symbol}
        for arg in call.args:
            if arg.star:
                return None
            argument = self.evaluate(arg.value, env, module)
            plain = _plain(argument, classes)
            if plain is _NOT_PLAIN:
                return None
            if arg.keyword is not None:
                value[arg.keyword.value] = plain
            else:
                positional.append(plain)
        if positional:
            value["$args"] = positional
        return Constructed(value, tuple(classes[k] for k in sorted(classes)))

    def strip_options(self, func: cst.BaseExpression) -> tuple[cst.BaseExpression, list[cst.Call]]:
        """``step.with_options(...)`` -> (``step``, [the options call])."""
        options: list[cst.Call] = []
        while isinstance(func, cst.Call) and isinstance(func.func, cst.Attribute) \
                and func.func.attr.value in self.option_methods:
            options.insert(0, func)
            func = func.func.value
        return func, options

    def invoke(self, definition: StepDefinition, call: cst.Call, option_calls: list[cst.Call],
               env: dict[str, Value], module: ModuleInfo) -> Value:
        # arguments are evaluated before the call, so their invocations come first
        positional: list[Value] = []
        keywords: dict[str, Value] = {}
        self.mask(call.func, "<step>")  # the step itself is a node of the graph
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value in self.reserved_keywords:
                if calls.simple_reference(arg.value, env):
                    self.mask(arg, "")  # an id or an order edge: in the graph
                continue
            value = self.evaluate(arg.value, env, module)
            if not arg.star and (calls.modelled(value) or calls.pure_data(arg.value, env)):
                # the step's input, however passed: its config or a data edge; an input added
                # or removed is a config or structural change, not a change of this code
                self.mask(arg, "")
            if arg.star:
                # `*args` of a tuple or list known statically (`download_args = (year, area)`)
                # and `**kwargs` of a literal dict are the step's inputs one by one; their
                # text stays the pipeline's own code (not masked), so an edit there is a version
                spread = _spread(value, arg.star)
                if spread is None:
                    self.not_followed(module, arg, f"'{arg.star}' arguments to step '{definition.name}'")
                elif isinstance(spread, dict):
                    keywords.update(spread)
                else:
                    positional.extend(spread)
                continue
            if arg.keyword is not None:
                keywords[arg.keyword.value] = value
            else:
                positional.append(value)
        invocation_id = self.invocation_id(definition, call, env)
        self._ids.add(invocation_id)
        config: dict[str, Any] = {}
        lines: dict[str, tuple[str, int]] = {}
        for option_call in option_calls:
            extra, extra_lines = self.ctx.keyword_config(option_call, module)
            config.update(extra)
            lines.update(extra_lines)
        invocation = Invocation(invocation_id, definition, module, call, {}, config, lines)
        names = [p.name for p in self.ctx.function_facts(definition).parameters
                 if p.kind in ("positional_only", "positional_or_keyword")]
        bound: dict[str, Value] = {}
        for index, value in enumerate(positional):
            bound[names[index] if index < len(names) else f"${index}"] = value
        bound.update(keywords)
        for name, value in bound.items():
            invocation.inputs[name] = self.input_binding(value, invocation_id, name)
            classes: dict[str, Symbol] = {}
            _plain(value, classes)
            invocation.reach.extend(c for c in classes.values() if c not in invocation.reach)
        for source in self.order_dependencies(call, env):
            self.edges.append(Edge(source, invocation_id, "order"))
        self.invocations.append(invocation)
        return self.result_of(invocation)

    def input_binding(self, value: Value, target: str, name: str) -> Any:
        """The model's view of one step input, adding data edges on the way."""
        if isinstance(value, StepOutput):
            self.edges.append(Edge(value.invocation, target, "data", value.output, name))
            return FromStep(value.invocation, value.output)
        if isinstance(value, StepOutputs):
            for output in value.outputs or ("output",):
                self.edges.append(Edge(value.invocation, target, "data", output, name))
            return FromStep(value.invocation, tuple(value.outputs))
        if isinstance(value, PipelineParameter):
            return FromParameter(value.name)
        if isinstance(value, Literal):
            return value.value
        if isinstance(value, Sequence_):
            return [self.input_binding(item, target, name) for item in value.items]
        for source in value.depends_on:
            self.edges.append(Edge(source, target, "data", None, name))
        return {"$expr": value.text}

    def inline(self, symbol: Symbol, function: cst.FunctionDef, call: cst.Call, env: dict[str, Value],
               module: ModuleInfo) -> Value:
        if self._inline_depth >= _MAX_INLINE_DEPTH:
            self.not_followed(module, call, "pipelines nested too deeply")
            return Opaque(symbol.qualified_name)
        bindings: dict[str, Value] = {}
        params = _parameters(function.params)
        for index, arg in enumerate(call.args):
            value = self.evaluate(arg.value, env, module)
            if arg.keyword is not None:
                bindings[arg.keyword.value] = value
            elif index < len(params):
                bindings[params[index].name.value] = value
        for param in params:
            if param.name.value not in bindings and param.default is not None:
                bindings[param.name.value] = self.evaluate(param.default, {}, symbol.module)
            bindings.setdefault(param.name.value, PipelineParameter(param.name.value))
        self._inline_depth += 1
        try:
            result = self.block(function.body, bindings, symbol.module)
        finally:
            self._inline_depth -= 1
        return result if result is not None else Opaque(symbol.qualified_name)


_NOT_PLAIN = object()


def _plain(value: Value, classes: dict[str, Symbol]) -> Any:
    """A literal value as plain data (``_NOT_PLAIN`` when it is not one), collecting the
    classes of the constructions inside it."""
    if isinstance(value, Constructed):
        classes.update((c.qualified_name, c) for c in value.classes)
        return value.value
    if isinstance(value, Literal):
        return value.value
    if isinstance(value, Sequence_):
        items = [_plain(item, classes) for item in value.items]
        return _NOT_PLAIN if any(i is _NOT_PLAIN for i in items) else items
    return _NOT_PLAIN


def _parameters(params: cst.Parameters) -> list[cst.Param]:
    return list(params.posonly_params) + list(params.params) + list(params.kwonly_params)


def _flatten(block: cst.BaseSuite) -> Iterable[cst.CSTNode]:
    if isinstance(block, cst.SimpleStatementSuite):
        yield from block.body
        return
    for statement in block.body:
        if isinstance(statement, cst.SimpleStatementLine):
            yield from statement.body
        else:
            yield statement


def _spread(value: Value, star: str) -> Optional[Union[list[Value], dict[str, Value]]]:
    """The values ``*value`` (a list) or ``**value`` (a dict by keyword) passes, when known
    statically; None otherwise."""
    if star == "*":
        if isinstance(value, Sequence_):
            return list(value.items)
        if isinstance(value, Literal) and isinstance(value.value, (list, tuple)):
            return [Literal(v) for v in value.value]
        return None
    if isinstance(value, Literal) and isinstance(value.value, dict) \
            and all(isinstance(k, str) and not k.startswith("$") for k in value.value):
        return {k: Literal(v) for k, v in value.value.items()}
    return None
