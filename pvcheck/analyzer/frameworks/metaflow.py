"""Metaflow: ``FlowSpec`` subclasses whose ``@step`` methods are wired by ``self.next(...)``.

What Metaflow does (``metaflow/graph.py``, ``FlowGraph`` and ``DAGNode._parse``, 2.19), and
what this module mirrors statically:

* a flow is a ``FlowSpec`` subclass; its steps are every attribute that is a ``@step``
  method, inherited ones included (``dir(flow)``), and a step's id is the attribute name;
  the flow's name is the class name;
* a step's transitions are read from its **last statement** only, which must be
  ``self.next(...)``: ``self.next(self.a)`` (linear, or a join when the method takes
  ``inputs``), ``self.next(self.a, self.b)`` (a static split), ``foreach="attr"`` and
  ``num_parallel=`` (fan-outs), ``self.next({"x": self.a, ...}, condition="attr")``
  (a switch; keys may be ``self.config.key``);
* the start and end steps are ``@step(start=True)`` / ``@step(end=True)`` or the steps
  named ``start`` / ``end``; a one-step flow's step is both;
* ``Parameter``, ``Config`` and ``IncludeFile`` class attributes are the flow's parameters;
  step decorators (``@resources``, ``@retry`` ...) and flow decorators (``@project``,
  ``@conda_base`` ...) configure it.

Edges: Metaflow passes data as artifacts (``self.x = ...``) that a step hands on to the
steps ``self.next`` names, so every transition is a **data** edge (the artifacts flow along
it); its ``output`` names the fan-out or switch case (``foreach:items``, ``num_parallel``,
``case:<key>``) and its ``input`` is the join's ``inputs`` parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Optional

import libcst as cst

from pvcheck.analyzer.frameworks.metaflow_config import ConfigValues
from pvcheck.plugin import (AnalysisContext, BodyPart, Edge, Framework, Invocation, ModuleInfo, Output, Parameter,
                            Pipeline, Severity, StepDefinition, Symbol, decorator_call, keyword_arg)
from pvcheck.diagnostics import BASE_FLOW, NOT_FOLLOWED
from pvcheck.plugin import ORIGIN_DECORATOR, ConfigSource, digest, is_literal, literal_value, string_value

FLOWSPEC = frozenset({"metaflow.FlowSpec", "metaflow.flowspec.FlowSpec"})
STEP = frozenset({"metaflow.step", "metaflow.decorators.step"})
PARAMETER_CLASSES = {
    "metaflow.Parameter": "Parameter", "metaflow.parameters.Parameter": "Parameter",
    "metaflow.Config": "Config", "metaflow.user_configs.config_parameters.Config": "Config",
    "metaflow.IncludeFile": "IncludeFile", "metaflow.includefile.IncludeFile": "IncludeFile",
}
#: Step decorators that configure how a step runs: a change is another run.
CONFIG_DECORATORS = frozenset({"resources", "retry", "timeout", "catch", "card", "batch", "kubernetes"})
#: Decorators that define the environment the code runs in: a change is a new version
#: (their names are in the default ``environment_keys``).
ENVIRONMENT_DECORATORS = frozenset({"conda", "pypi", "environment", "conda_base", "pypi_base"})
#: Flow decorators that schedule, name or trigger a flow without changing what it computes.
FLOW_CONFIG_DECORATORS = frozenset({"project", "schedule", "trigger", "trigger_on_finish"})
#: ``Parameter(...)`` arguments that are the value (configuration) or describe it for people.
_VALUE_ARGUMENTS = frozenset({"default", "default_value", "help", "show_default", "required", "name"})
_MAX_DEPTH = 20


@dataclass
class _Class:
    """A repo-local class of the flow's ancestry."""

    symbol: Symbol
    node: cst.ClassDef
    bases: list["_Class"] = field(default_factory=list)
    flowspec: bool = False  # FlowSpec is a direct base
    foreign: list[str] = field(default_factory=list)  # bases outside the tree (not FlowSpec/object)

    @property
    def module(self) -> ModuleInfo:
        return self.symbol.module


@dataclass(frozen=True)
class _Member:
    """A class-level definition as the flow sees it (the first one along the MRO wins)."""

    name: str
    owner: _Class
    node: cst.CSTNode  # FunctionDef, ClassDef or the assignment statement
    value: Optional[cst.BaseExpression] = None


@dataclass
class _Transition:
    targets: list[tuple[str, Optional[str]]]  # (target step, edge output)
    valid: bool
    why: str = ""


@dataclass(frozen=True)
class MetaflowStepSymbol(Symbol):
    """A step method: canonicalised in the module that defines it, named after the flow
    that runs it (``flows.train.TrainFlow.start`` for a step inherited from a base flow),
    so two flows sharing an inherited step never share its facts."""

    flow_qualified: str = ""

    @property
    def qualified_name(self) -> str:
        return f"{self.flow_qualified}.{self.name.rpartition('.')[2]}"


class Metaflow(Framework):
    name = "metaflow"
    markers = (b"metaflow",)
    pipeline_markers = (b"class ",)

    def step_definition(self, symbol: Symbol, ctx: AnalysisContext) -> Optional[StepDefinition]:
        # Metaflow steps are methods: they are only ever found through their flow class
        return None

    def pipelines(self, module: ModuleInfo, ctx: AnalysisContext) -> Iterable[Pipeline]:
        for symbols in module.symbols.values():
            for symbol in symbols:
                if symbol.kind != "class" or not isinstance(symbol.node, cst.ClassDef) or not symbol.node.bases:
                    continue
                flow = _FlowReader(self, ctx, symbol)
                pipeline = flow.build()
                if pipeline is not None:
                    yield pipeline


class _FlowReader:
    """Reads one class: whether it is a flow, its members along the MRO, and its graph."""

    def __init__(self, framework: Metaflow, ctx: AnalysisContext, symbol: Symbol) -> None:
        self.framework = framework
        self.ctx = ctx
        self.symbol = symbol
        self.module = symbol.module
        self.dynamic = False
        self._classes: dict[str, _Class] = {}
        # class-level code pvcheck does not follow: said only once the class is known to be a flow
        self._unclear: list[tuple[_Class, cst.CSTNode, str]] = []
        self.configs = ConfigValues(ctx, self._warn_at)

    # ------------------------------------------------------------------ ancestry
    def _class(self, symbol: Symbol, depth: int = 0) -> Optional[_Class]:
        key = symbol.qualified_name
        if key in self._classes:
            return self._classes[key]
        if depth > _MAX_DEPTH or not isinstance(symbol.node, cst.ClassDef):
            return None
        info = _Class(symbol, symbol.node)
        self._classes[key] = info
        for arg in symbol.node.bases:
            if arg.keyword is not None or arg.star:
                continue
            names = symbol.module.qualified_names(arg.value) if isinstance(arg.value, (cst.Name, cst.Attribute)) \
                else frozenset()
            if names & FLOWSPEC:
                info.flowspec = True
                continue
            if names <= {"object"} and names:
                continue
            resolved = self.ctx.resolve_callee(symbol.module, arg.value)
            base = self._class(resolved, depth + 1) if resolved is not None and resolved.kind == "class" else None
            if base is None:
                info.foreign.append(self.ctx.render(arg.value, symbol.module))
            else:
                info.bases.append(base)
        return info

    def _is_flow(self, info: _Class, seen: Optional[set[str]] = None) -> bool:
        seen = seen if seen is not None else set()
        if info.symbol.qualified_name in seen:
            return False
        seen.add(info.symbol.qualified_name)
        return info.flowspec or any(self._is_flow(base, seen) for base in info.bases)

    def _mro(self, info: _Class) -> list[_Class]:
        """Python's C3 linearisation of the repo-local ancestry (depth-first when it fails)."""
        def linearize(cls: _Class, depth: int) -> list[_Class]:
            if depth > _MAX_DEPTH:
                raise ValueError("too deep")
            sequences = [linearize(b, depth + 1) for b in cls.bases] + [list(cls.bases)]
            result = [cls]
            while any(sequences):
                for sequence in sequences:
                    if not sequence:
                        continue
                    head = sequence[0]
                    if not any(head in s[1:] for s in sequences):
                        break
                else:
                    raise ValueError("inconsistent hierarchy")
                result.append(head)
                sequences = [s[1:] if s and s[0] is head else s for s in sequences]
            return result

        try:
            return linearize(info, 0)
        except (ValueError, RecursionError):
            order: list[_Class] = []
            stack = [info]
            while stack:
                cls = stack.pop(0)
                if cls not in order:
                    order.append(cls)
                    stack.extend(cls.bases)
            return order

    def _members(self, mro: list[_Class]) -> dict[str, _Member]:
        members: dict[str, _Member] = {}
        for cls in mro:
            for statement in cls.node.body.body if isinstance(cls.node.body, cst.IndentedBlock) else ():
                for member in self._statement_members(cls, statement):
                    members.setdefault(member.name, member)
        return members

    def _statement_members(self, cls: _Class, statement: cst.CSTNode) -> Iterator[_Member]:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            yield _Member(statement.name.value, cls, statement)
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign):
                    for target in small.targets:
                        if isinstance(target.target, cst.Name):
                            yield _Member(target.target.value, cls, small, small.value)
                elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    yield _Member(small.target.value, cls, small, small.value)
                elif not isinstance(small, (cst.Expr, cst.Pass)):
                    self._unclear.append((cls, small, "a class-level statement that is not a definition"))
        else:
            self._unclear.append((cls, statement, "class-level control flow (members may depend on it)"))

    def _warn(self, cls: _Class, node: cst.CSTNode, what: str) -> None:
        self._warn_at(cls.module, node, f"flow class '{cls.node.name.value}': {what}")

    def _warn_at(self, module: ModuleInfo, node: cst.CSTNode, what: str, hint: str = "") -> None:
        self.dynamic = True
        if hint:
            self.ctx.diagnose(NOT_FOLLOWED, Severity.WARNING, f"cannot follow statically: {what}", module.path,
                              module.line(node), hint=hint)
        else:
            self.ctx.warn_dynamic(module, module.line(node), what)

    # ------------------------------------------------------------------ the flow
    def build(self) -> Optional[Pipeline]:
        info = self._class(self.symbol)
        if info is None:
            return None
        node = info.node
        mro = self._mro(info)
        members = self._members(mro)
        steps = {name: m for name, m in members.items()
                 if isinstance(m.node, cst.FunctionDef) and _step_call(m.node, m.owner.module) is not False}
        if not self._is_flow(info) and not (steps and any(cls.foreign for cls in mro)):
            return None  # steps on a class whose FlowSpec ancestry is outside the tree: still a flow
        start, end = _start_end(steps)
        if start is None:
            return None  # a base flow or mixin: its steps reach pipelines through subclasses
        transitions = {name: _transition(m.node, m.owner.module) for name, m in steps.items()
                       if isinstance(m.node, cst.FunctionDef)}
        missing = sorted({t for tr in transitions.values() for t, _ in tr.targets if t not in steps})
        if missing:
            # a base flow: subclasses define the rest (Metaflow's lint refuses it as a flow)
            self.ctx.diagnose(BASE_FLOW, Severity.WARNING, f"flow class '{node.name.value}' goes to steps it does not "
                              f"define ({', '.join(missing)}): read as a base flow, not a pipeline",
                              self.module.path, self.module.line(node),
                              hint="define the steps, or ignore this if subclasses define them")
            return None
        for cls, statement, what in self._unclear:
            self._warn(cls, statement, what)
        for cls in mro:
            for foreign in cls.foreign:
                self._warn(cls, cls.node, f"base class {foreign} is not in the tree; the steps and helpers it "
                           "defines are not followed")
        parameters, config, lines = self._parameters(members)
        flow_config, flow_lines = self._flow_decorators(mro)
        config.update(flow_config)
        lines.update(flow_lines)
        qualified = self.symbol.qualified_name
        invocations: list[Invocation] = []
        edges: list[Edge] = []
        for name in _graph_order(start, transitions, list(steps)):
            member = steps[name]
            function = member.node
            assert isinstance(function, cst.FunctionDef)
            module = member.owner.module
            definition = self._step_definition(name, member, members, qualified)
            invocations.append(Invocation(name, definition, module, function))
            if name == end:
                continue  # Metaflow gives the end step no transitions
            transition = transitions[name]
            if not transition.valid:
                self.dynamic = True
                self.ctx.warn_dynamic(module, module.line(function),
                                      f"step '{name}' of flow '{self.symbol.name}' {transition.why}")
            for target, output in transition.targets:
                edges.append(Edge(name, target, "data", output, _join_input(steps[target].node)))
        dynamic_body = node if self.dynamic else None
        return self.ctx.make_pipeline(name=node.name.value, framework=self.framework.name, symbol=self.symbol,
                                      node=node, invocations=invocations, edges=edges, config=config,
                                      config_lines=lines, parameters=parameters, dynamic=self.dynamic,
                                      body=dynamic_body)

    def _parameters(self, members: dict[str, _Member]) -> tuple[
            tuple[Parameter, ...], dict[str, Any], dict[str, tuple[str, int]]]:
        """``Parameter``/``Config``/``IncludeFile`` attributes: their default values are the
        pipeline's parameters; the rest of each declaration is configuration."""
        parameters: list[Parameter] = []
        declared: dict[str, Any] = {}
        lines: dict[str, tuple[str, int]] = {}
        for name in sorted(members):
            member = members[name]
            kind = _parameter_class(member, member.owner.module)
            if kind is None:
                continue
            call = member.value
            assert isinstance(call, cst.Call)
            module = member.owner.module
            default = keyword_arg(call, "default") or keyword_arg(call, "default_value")
            value = self.ctx.value(default.value, module) if default is not None else None
            parameters.append(Parameter(name, "keyword_only", None, default is not None, value))
            declared[name] = _declaration(call, module, self.ctx.value, skip=("default", "default_value"))
            declared[name]["class"] = kind
            lines[f"flow_parameters.{name}"] = ConfigSource(module.path, module.line(member.node), ORIGIN_DECORATOR)
            if kind == "Config":
                self.configs.add(name, call, module)
        config: dict[str, Any] = {"flow_parameters": declared} if declared else {}
        values = {k: v for k, v in self.configs.documents.items() if v is not None}
        if values:  # what the files say: a change is another run, unless a decorator makes it more
            config["config_values"] = values
            lines.update(self.configs.lines)
        return tuple(parameters), config, lines

    def _flow_decorators(self, mro: list[_Class]) -> tuple[dict[str, Any], dict[str, tuple[str, int]]]:
        """Decorators of the flow class and of its bases (a subclass inherits them; its own
        win for the same decorator)."""
        config: dict[str, Any] = {}
        lines: dict[str, tuple[str, int]] = {}
        for info in reversed(mro):
            for decorator in info.node.decorators:
                short = _metaflow_name(decorator, info.module)
                if short in FLOW_CONFIG_DECORATORS or short in ENVIRONMENT_DECORATORS:
                    _, call = decorator_call(decorator)
                    config[short] = _declaration(call, info.module, self.configs.value)
                    lines[short] = ConfigSource(info.module.path, info.module.line(decorator), ORIGIN_DECORATOR)
                else:
                    # a FlowMutator or an unknown flow decorator may add steps or decorators
                    self._warn(info, decorator, f"flow decorator '{info.module.code(decorator.decorator)}'")
        return config, lines

    # ------------------------------------------------------------------ steps
    def _step_definition(self, name: str, member: _Member, members: dict[str, _Member],
                         flow_qualified: str) -> StepDefinition:
        function = member.node
        assert isinstance(function, cst.FunctionDef)
        module = member.owner.module
        config: dict[str, Any] = {}
        lines: dict[str, tuple[str, int]] = {}
        parts: list[BodyPart] = []
        for decorator in function.decorators:
            short = _metaflow_name(decorator, module)
            if short == "step":
                continue
            if short in CONFIG_DECORATORS or short in ENVIRONMENT_DECORATORS:
                _, call = decorator_call(decorator)
                config[short] = _declaration(call, module, self.configs.value)
                lines[short] = ConfigSource(module.path, module.line(decorator), ORIGIN_DECORATOR)
                for key in config[short]:
                    lines[f"{short}.{key}"] = lines[short]
            else:
                # another decorator (@parallel, @secrets, a user's @user_step_decorator)
                # changes what runs: it is part of the step's code
                parts.append(BodyPart("decorator", decorator.decorator))
        parts.extend(self._reached_members(member, members, module))
        symbol = MetaflowStepSymbol(module, f"{member.owner.node.name.value}.{name}", "function", function,
                                    flow_qualified=flow_qualified)
        return StepDefinition(symbol, self.framework.name, "step", name, config, lines,
                              tuple(Output(a) for a in _artifacts(function)), tuple(parts))

    def _reached_members(self, step: _Member, members: dict[str, _Member], module: ModuleInfo) -> list[BodyPart]:
        """The flow's own helpers a step uses through ``self`` (methods, class constants,
        parameter declarations), transitively: Python resolves them along the flow's MRO,
        so they are part of the step's computation as much as a module-level helper."""
        parts: list[BodyPart] = []
        seen: set[str] = {step.name}
        pending = sorted(_self_attributes(step.node))
        while pending:
            name = pending.pop(0)
            if name in seen or name not in members:
                continue
            seen.add(name)
            member = members[name]
            if isinstance(member.node, cst.FunctionDef) and _step_call(member.node, member.owner.module) is not False:
                continue  # another step: self.next(self.x) names it, its code is its own
            kind = _parameter_class(member, member.owner.module)
            if kind is not None:
                assert isinstance(member.value, cst.Call)
                value = _declaration(member.value, member.owner.module, self.ctx.value, skip=_VALUE_ARGUMENTS)
                value.pop("$args", None)  # the command-line name: how a run is started, not what it computes
                parts.append(BodyPart(f"self.{name}", value={"class": kind, **value}))
                continue
            pending.extend(sorted(_self_attributes(member.node)))
            if member.owner.module is module:
                parts.append(BodyPart(f"self.{name}", member.node))
            else:
                # defined in another module: fingerprinted there, with that module's names
                canon = self.ctx.fingerprinter.canonicalizer(member.owner.module).definition(member.node)
                fingerprint = self.ctx.fingerprinter.body(canon)[0]
                if canon.dynamic or canon.unresolved:
                    fingerprint = digest("dynamic", fingerprint, member.owner.module.code(member.node))
                parts.append(BodyPart(f"self.{name}", value={"fingerprint": fingerprint}))
        return parts


# ---------------------------------------------------------------------- syntax helpers
def _metaflow_name(decorator: cst.Decorator, module: ModuleInfo) -> Optional[str]:
    """``resources`` for ``@resources(...)`` imported from metaflow; None for others."""
    callee, _ = decorator_call(decorator)
    if not isinstance(callee, (cst.Name, cst.Attribute)):
        return None
    for qualified in module.qualified_names(callee):
        if qualified in STEP:
            return "step"
        if qualified.startswith("metaflow."):
            return qualified.rpartition(".")[2]
    return None


def _step_call(function: cst.FunctionDef, module: ModuleInfo) -> Optional[cst.Call] | bool:
    """False when ``function`` is not a ``@step``; else its call (None when bare)."""
    for decorator in function.decorators:
        if _metaflow_name(decorator, module) == "step":
            return decorator_call(decorator)[1]
    return False


def _start_end(steps: dict[str, _Member]) -> tuple[Optional[str], Optional[str]]:
    """Metaflow's ``FlowGraph._identify_start_end``."""
    def annotated(flag: str) -> list[str]:
        found = []
        for name, member in steps.items():
            assert isinstance(member.node, cst.FunctionDef)
            call = _step_call(member.node, member.owner.module)
            arg = keyword_arg(call, flag) if isinstance(call, cst.Call) else None
            if arg is not None and literal_value(arg.value) is True:
                found.append(name)
        return found

    def resolve(flag: str, fallback: str) -> Optional[str]:
        found = annotated(flag)
        if len(found) == 1:
            return found[0]
        return fallback if not found and fallback in steps else None

    if len(steps) == 1:
        only = next(iter(steps))
        return only, only
    return resolve("start", "start"), resolve("end", "end")


def _graph_order(start: str, transitions: dict[str, _Transition], steps: list[str]) -> list[str]:
    """Steps depth-first from the start (as Metaflow traverses), then unreachable ones."""
    order: list[str] = []
    stack = [start]
    while stack:
        name = stack.pop()
        if name in order or name not in steps:
            continue
        order.append(name)
        transition = transitions.get(name)
        stack.extend(reversed([t for t, _ in transition.targets] if transition is not None else []))
    order.extend(name for name in steps if name not in order)
    return order


def _tail(function: cst.FunctionDef) -> Optional[cst.BaseSmallStatement]:
    body = function.body
    if isinstance(body, cst.SimpleStatementSuite):
        return body.body[-1] if body.body else None
    last = body.body[-1] if body.body else None
    if isinstance(last, cst.SimpleStatementLine) and last.body:
        return last.body[-1]
    return None


def _self_attribute(node: cst.BaseExpression) -> Optional[str]:
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
        return node.attr.value
    return None


def _transition(function: cst.FunctionDef, module: ModuleInfo) -> _Transition:
    """``DAGNode._parse``: the transitions of a step's last statement."""
    tail = _tail(function)
    if not (isinstance(tail, cst.Expr) and isinstance(tail.value, cst.Call)
            and _self_attribute(tail.value.func) == "next"):
        return _Transition([], False, "does not end with self.next(...)")
    call = tail.value
    positional = [a for a in call.args if a.keyword is None and not a.star]
    keywords = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
    if any(a.star for a in call.args):
        return _Transition([], False, "passes *args/**kwargs to self.next")
    if len(positional) == 1 and isinstance(positional[0].value, cst.Dict) and "condition" in keywords:
        condition = string_value(keywords["condition"])
        cases = _switch_cases(positional[0].value)
        if condition is None or cases is None or len(keywords) != 1:
            return _Transition([], False, "has a switch self.next({...}, condition=...) that is not literal")
        return _Transition([(target, f"case:{key}") for key, target in cases], True)
    targets = [_self_attribute(a.value) for a in positional]
    names = [t for t in targets if t is not None]
    if len(names) != len(targets) or not names:
        return _Transition(names and [(t, None) for t in names] or [], False,
                           "calls self.next with something other than self.<step>")
    if not keywords:
        return _Transition([(t, None) for t in names], True)
    if len(keywords) == 1 and len(names) == 1:
        if "foreach" in keywords:
            attribute = string_value(keywords["foreach"])
            if attribute is not None:
                return _Transition([(names[0], f"foreach:{attribute}")], True)
        if "num_parallel" in keywords:
            return _Transition([(names[0], "num_parallel")], True)
    return _Transition([(t, None) for t in names], False, "calls self.next with arguments Metaflow does not accept")


def _switch_cases(node: cst.Dict) -> Optional[list[tuple[str, str]]]:
    """``DAGNode._parse_switch_dict``: literal keys or ``self.config.key``, values ``self.step``."""
    cases = []
    for element in node.elements:
        if not isinstance(element, cst.DictElement):
            return None
        literal = literal_value(element.key)
        key: Optional[str] = str(literal) if is_literal(literal) and literal is not None else None
        if isinstance(element.key, cst.Attribute) and isinstance(element.key.value, cst.Attribute) \
                and _self_attribute(element.key.value) is not None:
            key = f"config:{_self_attribute(element.key.value)}.{element.key.attr.value}"
        target = _self_attribute(element.value)
        if key is None or target is None:
            return None
        cases.append((key, target))
    return cases or None


def _join_input(node: cst.CSTNode) -> Optional[str]:
    """The ``inputs`` parameter of a join step (Metaflow: a step with more than ``self``)."""
    if not isinstance(node, cst.FunctionDef):
        return None
    params = node.params.params
    return params[1].name.value if len(params) > 1 else None


def _self_attributes(node: cst.CSTNode) -> set[str]:
    """Names read or called as ``self.<name>`` (and ``super().<name>``) anywhere in ``node``."""
    found: set[str] = set()

    class Visitor(cst.CSTVisitor):
        def visit_Attribute(self, attribute: cst.Attribute) -> None:
            name = _self_attribute(attribute)
            if name is not None:
                found.add(name)
            elif isinstance(attribute.value, cst.Call) and isinstance(attribute.value.func, cst.Name) \
                    and attribute.value.func.value == "super":
                found.add(attribute.attr.value)

    node.visit(Visitor())
    return found


def _artifacts(function: cst.FunctionDef) -> list[str]:
    """Artifacts a step assigns (``self.model = ...``): what it hands on to later steps."""
    found: set[str] = set()

    def targets(target: cst.BaseExpression) -> None:
        name = _self_attribute(target)
        if name is not None:
            found.add(name)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                targets(element.value)

    class Visitor(cst.CSTVisitor):
        def visit_Assign(self, node: cst.Assign) -> None:
            for target in node.targets:
                targets(target.target)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            targets(node.target)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            targets(node.target)

    function.body.visit(Visitor())
    return sorted(found)


def _parameter_class(member: _Member, module: ModuleInfo) -> Optional[str]:
    call = member.value
    if not isinstance(call, cst.Call) or not isinstance(call.func, (cst.Name, cst.Attribute)):
        return None
    for qualified in module.qualified_names(call.func):
        if qualified in PARAMETER_CLASSES:
            return PARAMETER_CLASSES[qualified]
    return None


def _declaration(call: Optional[cst.Call], module: ModuleInfo,
                 read: Callable[[cst.BaseExpression, ModuleInfo], Any], skip: Iterable[str] = ()) -> dict[str, Any]:
    """A decorator's or declaration's arguments as configuration values (positional ones
    under ``$args``: ``Parameter("alpha")`` names the command-line option)."""
    if call is None:
        return {}
    skipped = set(skip)
    values: dict[str, Any] = {}
    positional = []
    for arg in call.args:
        if arg.star:
            value = read(arg.value, module)
            if arg.star == "**" and isinstance(value, dict) and not any(k.startswith("$") for k in value):
                values.update(value)  # @pypi_base(**config_expr("config.pypi")): the values, as keywords
            else:
                values[arg.star] = value
        elif arg.keyword is None:
            positional.append(read(arg.value, module))
        elif arg.keyword.value not in skipped:
            values[arg.keyword.value] = read(arg.value, module)
    if positional:
        values["$args"] = positional
    return values


__all__ = ["Metaflow", "MetaflowStepSymbol"]
