"""Airflow 2 and 3: TaskFlow DAGs (``@dag``/``@task``) and classic operator DAGs.

What Airflow does when it parses a DAG file, and what this module mirrors statically:

* ``@dag`` makes a DAG whose id is ``dag_id=`` or the function's name
  (``dag_id or f.__name__``); ``with DAG(...)`` and ``dag = DAG(...)`` take the id as
  their first argument or ``dag_id=``;
* a ``@task`` function becomes a task when called inside a DAG; its ``task_id`` is
  ``task_id=`` (decorator or ``.override()``) or the function's name, and a repeated id
  gets Airflow's own suffix: ``name``, ``name__1``, ``name__2`` ... (``get_unique_task_id``
  in ``airflow/decorators/base.py``, ``airflow/sdk/bases/decorator.py`` in Airflow 3);
* inside a task group every id gets the group's prefix (``group.task``) unless
  ``prefix_group_id=False``; a ``@task_group`` called twice gets ``group__1``;
* a classic operator is any instantiation with ``task_id=`` inside the DAG (or with
  ``dag=`` naming it); the arguments that say *what runs* (:data:`BODY_KEYWORDS`, the
  operator class, and the ``python_callable`` with its helpers) are the step's body,
  every other argument is configuration;
* ``a >> b``, ``b << a``, lists on either side, ``chain``, ``chain_linear``,
  ``cross_downstream``, ``set_upstream``/``set_downstream`` and task groups (their roots
  and leaves) give order edges; passing a task's result to another gives a data edge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence

import libcst as cst

from pvcheck.analyzer import pipeline_calls as calls  # internal: the body accounting shared with the call-graph builder
from pvcheck.analyzer.frameworks.airflow_static import (UNKNOWN, Known, dag_helper_parameter, fully_known, known_value,
                                                      returns_dag)
from pvcheck.plugin import (AnalysisContext, BodyPart, CallGraphBuilder, Edge, Framework, Invocation, Literal,
                            ModuleInfo, Opaque, Output, Pipeline, Sequence_, StepDefinition, StepOutput, StepOutputs,
                            Symbol, Value, decorator_call, string_value)
from pvcheck.plugin import keyword_arg as _keyword
from pvcheck.plugin import keyword_string as _keyword_string
from pvcheck.plugin import merge_config as merge
from pvcheck.plugin import method_name as _method
from pvcheck.plugin import read_only_visit
from pvcheck.plugin import ORIGIN_DECORATOR, ConfigSource

_SDK = "airflow.sdk"
DAG_DECORATORS = frozenset({"airflow.decorators.dag", "airflow.models.dag.dag", f"{_SDK}.dag",
                            f"{_SDK}.definitions.dag.dag", f"{_SDK}.definitions.decorators.dag"})
DAG_CLASSES = frozenset({"airflow.DAG", "airflow.models.DAG", "airflow.models.dag.DAG", f"{_SDK}.DAG",
                         f"{_SDK}.definitions.dag.DAG"})
TASK_DECORATORS = frozenset({"airflow.decorators.task", f"{_SDK}.task", f"{_SDK}.definitions.decorators.task"})
#: ``@setup``/``@teardown`` turn a plain function into a task too.
SETUP_TEARDOWN = frozenset({"airflow.decorators.setup", "airflow.decorators.teardown", f"{_SDK}.setup",
                            f"{_SDK}.teardown", f"{_SDK}.definitions.decorators.setup",
                            f"{_SDK}.definitions.decorators.teardown"})
#: ``@task.run_if(...)``/``@task.skip_if(...)`` modify another ``@task`` decorator.
TASK_MODIFIERS = frozenset({"run_if", "skip_if"})
TASK_GROUP_DECORATORS = frozenset({"airflow.decorators.task_group", "airflow.decorators.task_group.task_group",
                                   f"{_SDK}.task_group", f"{_SDK}.definitions.decorators.task_group",
                                   f"{_SDK}.definitions.decorators.task_group.task_group"})
TASK_GROUP_CLASSES = frozenset({"airflow.utils.task_group.TaskGroup", f"{_SDK}.TaskGroup",
                                f"{_SDK}.definitions.taskgroup.TaskGroup"})
_DEPENDENCY_MODULES = ("airflow.models.baseoperator", "airflow.models", "airflow.utils.helpers", _SDK,
                       f"{_SDK}.bases.operator", f"{_SDK}.definitions.baseoperator")
CHAIN = frozenset(f"{m}.chain" for m in _DEPENDENCY_MODULES)
CHAIN_LINEAR = frozenset(f"{m}.chain_linear" for m in _DEPENDENCY_MODULES)
CROSS_DOWNSTREAM = frozenset(f"{m}.cross_downstream" for m in _DEPENDENCY_MODULES)
LABELS = frozenset({"airflow.utils.edgemodifier.Label", f"{_SDK}.Label", f"{_SDK}.definitions.edges.Label"})

#: Operator (and task decorator) arguments that say what runs: they are the step's body.
BODY_KEYWORDS = frozenset({"bash_command", "python_callable", "sql", "image", "cmds", "arguments", "command",
                           "entrypoint"})
#: Operator arguments that place a task rather than configure it.
_PLACEMENT = frozenset({"task_id", "dag", "task_group"})
_GROUP_PLACEMENT = ("group_id", "prefix_group_id", "dag", "parent_group", "add_suffix_on_collision")
_MAPPING_METHODS = frozenset({"expand", "expand_kwargs"})
_XCOM_RETURN_KEY = "return_value"  # airflow.utils.xcom.XCOM_RETURN_KEY
_SUFFIX = re.compile(r"__\d+$")


class Airflow(Framework):
    name = "airflow"
    markers = (b"airflow",)

    def step_definition(self, symbol: Symbol, ctx: AnalysisContext) -> Optional[StepDefinition]:
        node = symbol.node
        if not isinstance(node, cst.FunctionDef):
            return None
        found = _task_decorator(node, symbol.module)
        if found is None:
            return None
        call, kind = found
        module = symbol.module
        config, lines = ctx.keyword_config(call, module, skip=("task_id", *BODY_KEYWORDS))
        parts: list[BodyPart] = []
        if kind not in ("python", "setup", "teardown"):
            # @task.bash runs what the function returns, @task.docker runs it in a container
            parts.append(BodyPart("kind", value=kind))
        for arg in call.args if call is not None else ():
            if arg.keyword is not None and arg.keyword.value in BODY_KEYWORDS:
                parts.append(BodyPart(arg.keyword.value, arg.value))
        declared = _keyword_string(call, "task_id", module, ctx.index) or node.name.value
        annotation = ctx.render(node.returns.annotation, module) if node.returns is not None else None
        return StepDefinition(symbol, self.name, "task", declared, config, lines,
                              (Output(_XCOM_RETURN_KEY, annotation),), tuple(parts))

    def pipelines(self, module: ModuleInfo, ctx: AnalysisContext) -> Iterable[Pipeline]:
        for symbols in module.symbols.values():
            for symbol in symbols:
                node = symbol.node
                if symbol.kind == "function" and isinstance(node, cst.FunctionDef):
                    found = _find(node.decorators, module, DAG_DECORATORS)
                    if found is not None:
                        yield self._taskflow_dag(symbol, node, found, ctx)
        declarations = _classic_declarations(module, ctx)
        for index, declaration in enumerate(declarations):
            yield self._classic_dag(module, index, declaration, ctx)
        _warn_dag_factories(module, ctx, {id(d.call) for d in declarations})

    # ------------------------------------------------------------------ pipelines
    def _taskflow_dag(self, symbol: Symbol, node: cst.FunctionDef, call: Optional[cst.Call],
                      ctx: AnalysisContext) -> Pipeline:
        module = symbol.module
        config, lines = ctx.keyword_config(call, module, skip=("dag_id",))
        name = _keyword_string(call, "dag_id", module, ctx.index) or node.name.value
        if call is not None and _keyword(call, "dag_id") is not None and not _keyword_string(call, "dag_id", module, ctx.index):
            ctx.warn_dynamic(module, module.line(call), f"a dag_id computed at run time for '{name}'")
        builder = AirflowGraphBuilder(self, ctx, module, node, name)
        builder.scopes = [node.name.value]
        builder.template_folders = template_folders(config, module)
        builder.build()
        return ctx.make_pipeline(name=name, framework=self.name, symbol=symbol, node=node,
                                 invocations=builder.invocations, edges=builder.edges, config=config,
                                 config_lines=lines, parameters=ctx.parameters(node.params, module),
                                 dynamic=builder.dynamic, body=node, unfollowed=builder.unfollowed,
                                 masks=builder.final_masks(), inlined=builder.inlined)

    def _classic_dag(self, module: ModuleInfo, index: int, declaration: "_Declaration",
                     ctx: AnalysisContext) -> Pipeline:
        call = declaration.call
        config, lines = ctx.keyword_config(call, module, skip=("dag_id",))
        positional = [a for a in call.args if a.keyword is None and not a.star]
        id_node = _keyword(call, "dag_id")
        # DAG(dag_id, ...); a helper's dag_id parameter wherever the helper has it
        id_position = 0 if declaration.helper is None else \
            dag_helper_parameter(declaration.helper.node, "dag_id")  # type: ignore[arg-type]
        id_expression = id_node.value if id_node is not None else (
            positional[id_position].value if id_position is not None and id_position < len(positional) else None)
        name = string_value(id_expression)
        if name is None and id_expression is not None:
            known = known_value(id_expression, {}, module, ctx.value)  # DAG_ID, '{}_hourly'.format(SOURCE)
            name = known if isinstance(known, str) else None
        if name is None:
            name = ctx.render(id_expression, module) if id_expression is not None else f"dag_{index + 1}"
            ctx.warn_dynamic(module, module.line(call), f"a dag_id computed at run time ('{name}')")
        extra = [a for i, a in enumerate(positional) if i != id_position]
        if extra:
            config["$args"] = [ctx.value(a.value, module) for a in extra]
            lines["$args"] = ConfigSource(module.path, module.line(extra[0]), ORIGIN_DECORATOR)
        symbol = Symbol(module, name, "dag", declaration.statement)
        builder = AirflowGraphBuilder(self, ctx, module, None, name)
        builder.target = id(declaration.statement)  # unique even for two DAGs under one module-level if
        builder.scopes = []
        builder.template_folders = template_folders(config, module)
        if declaration.helper is not None:
            # ``create_dag(dag_id=...)``: the helper's code (its default_args ...) is the DAG's too
            helper = declaration.helper
            builder.inlined.append((helper.module, helper.node, helper.qualified_name))  # type: ignore[arg-type]
        code = builder.walk_module(declaration)
        body: cst.CSTNode = declaration.statement if isinstance(declaration.statement, cst.With) else module.tree
        return ctx.make_pipeline(name=name, framework=self.name, symbol=symbol, node=declaration.statement,
                                 invocations=builder.invocations, edges=builder.edges, config=config,
                                 config_lines=lines, dynamic=builder.dynamic, body=body,
                                 unfollowed=builder.unfollowed, masks=builder.final_masks(), code=code,
                                 inlined=builder.inlined)


#: Operator arguments Airflow renders from a template file when the string ends so.
_TEMPLATE_SUFFIXES = {"sql": (".sql", ".hql"), "bash_command": (".sh", ".bash")}


def template_folders(dag_config: dict[str, Any], module: ModuleInfo) -> list[str]:
    """The DAG's ``template_searchpath`` folders (Airflow searches the DAG file's folder
    first, then these; relative ones resolve from the scanned root)."""
    search = dag_config.get("template_searchpath")
    return [search] if isinstance(search, str) else [f for f in search if isinstance(f, str)] \
        if isinstance(search, list) else []


def template_parts(parts: list[BodyPart], folders: list[str]) -> list[BodyPart]:
    """``sql="queries/x.sql"``: Airflow reads that file and runs its content, so the
    file's bytes are part of the task's body (every candidate folder's, in search order)."""
    extra: list[BodyPart] = []
    for part in parts:
        suffixes = _TEMPLATE_SUFFIXES.get(part.label)
        text = part.value if part.node is None else string_value(part.node) \
            if isinstance(part.node, cst.BaseExpression) else None
        if suffixes and isinstance(text, str) and text.strip().endswith(suffixes):
            extra.append(BodyPart("template", value={"$template": text.strip(), "searchpath": folders}))
    return extra


# ---------------------------------------------------------------------- values
@dataclass(frozen=True)
class DagRef(Opaque):
    """A classic ``DAG(...)`` object bound to a name."""

    key: int = -1


@dataclass(frozen=True)
class GroupRef(Opaque):
    """A task group; its members are looked up when a dependency is set, as Airflow does."""

    group: str = ""


@dataclass(frozen=True)
class LocalFunction(Opaque):
    """A function defined inside the walked code (a nested ``@task``, a callable in a ``with DAG``)."""

    symbol: Optional[Symbol] = None


@dataclass(frozen=True)
class EdgeLabel(Opaque):
    """``Label("...")`` between two tasks: it passes the left side's leaves on."""

    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class ForeignTask(Opaque):
    """A task of another DAG of the module: dependencies on it are that DAG's business."""


@dataclass
class _Group:
    id: str
    prefix: bool
    config: dict[str, Any]
    members: list[str]


@dataclass(frozen=True)
class _Declaration:
    key: int  # position of the declaring statement in the module body
    statement: cst.CSTNode  # the With or the SimpleStatementLine
    call: cst.Call
    helper: Optional[Symbol] = None  # the repo's own function that returns the DAG (``create_dag``)


# ---------------------------------------------------------------------- graph builder
class AirflowGraphBuilder(CallGraphBuilder):
    """Walks a ``@dag`` function, or a module's top level for one classic DAG.

    Like ZenML's, Prefect's and KFP's builders it accounts for every call (PV023) and
    masks what the graph records -- task and operator constructions, their configuration,
    dependencies, task factories and groups -- so that what is left of the DAG's
    definition is its own code (PV407, see :mod:`pvcheck.analyzer.pipeline_calls`).
    """

    option_methods = frozenset({"override", "partial"})
    account_calls = True
    api_packages = ("airflow",)

    def __init__(self, framework: Framework, ctx: AnalysisContext, module: ModuleInfo,
                 function: Optional[cst.FunctionDef], name: str) -> None:
        super().__init__(framework, ctx, module, function or cst.FunctionDef(cst.Name("_"), cst.Parameters(),
                                                                               cst.IndentedBlock([])), name)
        self.target: Optional[int] = None  # the classic DAG being built (None: a @dag function)
        self.in_target = function is not None
        self.scopes: list[str] = []
        self.groups: list[_Group] = []
        self.group_members: dict[str, list[str]] = {}
        self._used_groups: set[str] = set()
        self._factories: dict[tuple[str, str], bool] = {}
        self._dag_helpers: dict[int, bool] = {}
        self.target_statement: Optional[cst.CSTNode] = None
        self.dicts: dict[str, tuple[cst.Dict, ModuleInfo]] = {}  # names bound to dict displays while walking
        self.bound_parts: list[BodyPart] = []  # the walked values an operator's body arguments read
        self.template_folders: list[str] = []
        #: helpers walked as part of the DAG (task factories, @task_group functions): their
        #: masked code is the DAG's code too
        self.inlined: list[tuple[ModuleInfo, cst.FunctionDef, str]] = []
        self._kept: set[int] = set()  # nodes one walk could not mask: never masked (see final_masks)
        self._capturing = 0  # > 0 while evaluating arguments recorded as configuration
        self._step_code = 0  # > 0 while evaluating an operator's body arguments (the step's code)
        self._foreign = 0  # tasks of other DAGs met: their statements are not this DAG's code
        self._passed_callables: set[int] = set()  # arguments of task factory calls (a python_callable?)
        self._passed: list[Symbol] = []  # functions of other modules an operator runs (its reach)

    # ------------------------------------------------------------------ module walk (classic)
    def walk_module(self, declaration: _Declaration) -> cst.IndentedBlock:
        """Walk the module from the DAG's declaration; the statements that build this DAG
        (its own code: the ``with`` block's statements, and the module-level ones after
        the declaration that are not another DAG's) as a block."""
        self.target_statement = declaration.statement
        code: list[cst.BaseStatement] = []
        env: dict[str, Value] = {}
        self.walk_statements(self.module.tree.body[declaration.key:], declaration, env, code)
        function = cst.FunctionDef(cst.Name("_"), cst.Parameters(), cst.IndentedBlock(code))
        calls.keep_literal_assignments(function, self.masks, self._literal_assignments)
        return cst.IndentedBlock(code)

    def walk_statements(self, statements: Sequence[cst.CSTNode], declaration: _Declaration,
                        env: dict[str, Value], code: Optional[list[cst.BaseStatement]] = None) -> None:
        code = code if code is not None else []
        for statement in statements:
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                continue  # module-level definitions resolve by name
            branch = _branch_holding(statement, declaration.statement)
            if branch is not None:  # the DAG is declared under a module-level if / try
                self.walk_statements(branch, declaration, env, code)
                continue
            if statement is declaration.statement and isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if isinstance(small, cst.Assign) and small.value is declaration.call:
                        for target in small.targets:
                            self.bind(target.target, DagRef("DAG", key=id(declaration.statement)), env, self.module)
                        self.mask(small, "")  # the DAG's arguments are its configuration
                    else:
                        self.statement(small, env, self.module)
                code.append(statement)  # type: ignore[arg-type]
                continue
            foreign = self._foreign
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    self.statement(small, env, self.module)
                    self.mask_global_targets(small)
            elif isinstance(statement, cst.With) or self._mentions(statement, env):
                self.statement(statement, env, self.module)
            else:
                continue
            if _is_main_guard(statement) or self._foreign != foreign:
                continue  # another DAG's task, or code that runs only as a script
            if statement is declaration.statement and isinstance(statement, cst.With):
                code.extend(statement.body.body if isinstance(statement.body, cst.IndentedBlock) else
                            [cst.SimpleStatementLine(list(statement.body.body))])
            elif not (isinstance(statement, cst.With) and any(
                    self.builds_dag(item.item, self.module) for item in statement.items)):
                code.append(statement)  # type: ignore[arg-type]

    def builds_dag(self, expression: cst.BaseExpression, module: ModuleInfo) -> bool:
        """``DAG(...)``, or a call of the repo's own helper that returns one."""
        if not isinstance(expression, cst.Call):
            return False
        if _names(expression, module) & DAG_CLASSES:
            return True
        known = self._dag_helpers.get(id(expression))  # the trees outlive the builder: ids are stable
        if known is None:
            known = self._dag_helpers[id(expression)] = dag_helper(expression, module, self.ctx) is not None
        return known

    def _mentions(self, node: cst.CSTNode, env: dict[str, Value]) -> bool:
        """Whether a module-level block uses this DAG or one of its tasks (else it is not ours)."""
        if _is_main_guard(node):
            return False
        relevant = {name for name, value in env.items()
                    if (isinstance(value, DagRef) and value.key == self.target)
                    or self.invocations_in(value) or isinstance(value, GroupRef)}
        finder = _NameFinder(relevant)
        read_only_visit(node, finder)
        return finder.found

    # ------------------------------------------------------------------ statements
    def statement(self, statement: cst.CSTNode, env: dict[str, Value], module: ModuleInfo,
                  first: bool = False) -> Optional[tuple[Optional[Value]]]:
        if isinstance(statement, cst.FunctionDef):
            # Python's __qualname__: nested definitions live in "<locals>" of their function
            qualified = f"{self.scopes[-1]}.<locals>.{statement.name.value}" if self.scopes \
                else statement.name.value
            symbol = Symbol(module, qualified, "function", statement)
            env[statement.name.value] = LocalFunction(qualified, symbol=symbol)
            if self.ctx.step_definition(self.framework, symbol) is not None:
                self.mask(statement, "")  # a task defined in the DAG: a step, fingerprinted as one
            return None
        if isinstance(statement, cst.Expr) and not isinstance(statement.value, (cst.SimpleString,
                                                                                cst.ConcatenatedString)):
            self.evaluate(statement.value, env, module)
            if self._covered(statement.value):
                self.mask(statement, "")  # dependencies only: the graph's edges
            elif calls.fully_masked(statement.value, self.masks):
                self.mask(statement, "")
            return None
        if isinstance(statement, cst.ClassDef) and not self.scopes:
            return None
        if isinstance(statement, cst.If) and _is_main_guard(statement):
            return None
        if isinstance(statement, cst.With):
            return self.with_statement(statement, env, module)
        if isinstance(statement, cst.Assign):
            for target in statement.targets:  # ``task_args = {"dag": dag, ...}`` for ``**task_args``
                if isinstance(target.target, cst.Name):
                    if isinstance(statement.value, cst.Dict):
                        self.dicts[target.target.value] = (statement.value, module)
                        if len(statement.targets) == 1 and not calls.references_repo_code(
                                statement.value, module, self.ctx.index):
                            # ``default_args = {...}`` spread into operators: their configuration,
                            # unless the code uses the dict otherwise (keep_literal_assignments)
                            self._literal_assignments.append((statement.value, target.target.value))
                    else:
                        self.dicts.pop(target.target.value, None)
        return super().statement(statement, env, module, first)

    def with_statement(self, statement: cst.With, env: dict[str, Value], module: ModuleInfo
                       ) -> Optional[tuple[Optional[Value]]]:
        entered_target: Optional[bool] = None
        groups: list[tuple[_Group, Optional[cst.AsName]]] = []
        teardowns: list[str] = []
        for item in statement.items:
            expression = item.item
            names = _names(expression, module)
            if self.builds_dag(expression, module):
                # another DAG's block (or ours, when walking from our own declaration)
                mine = self.target is not None and statement is self.target_statement
                entered_target = mine
                if item.asname is not None and mine:
                    self.bind(item.asname.name, DagRef("DAG", key=self.target or 0), env, module)
                self.mask(item, "")  # the DAG's configuration
                continue
            if isinstance(expression, cst.Call) and names & TASK_GROUP_CLASSES:
                calls.mask_configuration(self, expression, module, "<group>")
                if item.asname is not None:
                    self.mask(item.asname, "")
                config, prefix = self.group_settings(expression, module)
                group = self.open_group(self.group_label(expression, env, module), prefix is not False, config,
                                        module, expression)
                groups.append((group, item.asname))
                if item.asname is not None:
                    self.bind(item.asname.name, GroupRef(group.id, group=group.id), env, module)
                continue
            value = self.evaluate(expression, env, module)
            if isinstance(value, DagRef):
                entered_target = value.key == self.target
            else:
                teardowns.extend(self.invocations_in(value))
                if item.asname is not None:
                    self.bind(item.asname.name, value, env, module)
        saved = self.in_target
        if entered_target is not None:
            self.in_target = entered_target
        before = len(self.invocations)
        try:
            result = self._nested(statement.body, env, module)
        finally:
            self.in_target = saved
            for group, _ in reversed(groups):
                self.close_group(group)
        if teardowns:
            self.teardown_context(teardowns, [i.id for i in self.invocations[before:]])
        return result

    def teardown_context(self, teardowns: list[str], inside: list[str]) -> None:
        """``with teardown_task:``: its setups before the block's tasks, the teardown after them
        (Airflow's setup/teardown context: ``s >> work >> t``)."""
        members = set(inside)
        roots = [m for m in inside if not any(e.target == m and e.source in members for e in self.edges)]
        leaves = [m for m in inside if not any(e.source == m and e.target in members for e in self.edges)]
        for teardown in teardowns:
            setups = [e.source for e in self.edges if e.target == teardown and e.source not in members]
            for setup in dict.fromkeys(setups):
                self.edges.extend(Edge(setup, root, "order") for root in roots)
            self.edges.extend(Edge(leaf, teardown, "order") for leaf in leaves)

    # ------------------------------------------------------------------ expressions
    def evaluate(self, expression: cst.BaseExpression, env: dict[str, Value], module: ModuleInfo) -> Value:
        if id(expression) in self._passed_callables and isinstance(expression, (cst.Name, cst.Attribute)) and not (
                isinstance(expression, cst.Name) and expression.value in env):
            symbol = self.ctx.resolve_callee(module, expression)
            if symbol is not None and symbol.kind == "function" and isinstance(symbol.node, cst.FunctionDef) \
                    and self.ctx.step_definition(self.framework, symbol) is None:
                return LocalFunction(symbol.qualified_name, symbol=symbol)  # a callable handed to a task factory
        if isinstance(expression, cst.Name) and expression.value in env:
            value = env[expression.value]
            token = self.task_token(value)
            if token is not None:
                # a task, group or DAG by name: the graph knows it; a rename of the
                # variable is not a change, which task is used is
                self.mask(expression, token)
            return value
        if isinstance(expression, cst.BinaryOperation) and isinstance(expression.operator,
                                                                      (cst.RightShift, cst.LeftShift)):
            left = self.evaluate(expression.left, env, module)
            right = self.evaluate(expression.right, env, module)
            if isinstance(expression.operator, cst.RightShift):
                return self.depend(left, right, module, expression)
            self.depend(right, left, module, expression)
            return right
        value = super().evaluate(expression, env, module)
        if type(value) is Opaque and not value.depends_on and isinstance(
                expression, (cst.Call, cst.BinaryOperation, cst.FormattedString, cst.Dict)):
            # ``'load_{}'.format(table)`` in a loop: Airflow's name for a task, group or DAG
            known = known_value(expression, env, module, self.ctx.value)
            if isinstance(known, (str, dict)):
                return Known(value.text, known=known)
        return value

    def call(self, call: cst.Call, env: dict[str, Value], module: ModuleInfo) -> Value:
        func = call.func
        mapping: list[cst.Call] = []
        if isinstance(func, cst.Attribute) and func.attr.value in _MAPPING_METHODS:
            mapping.append(call)
            func = func.value
            if not isinstance(func, cst.Call):
                return self._invoke_callee(func, call, [], mapping, env, module)
            callee, options = self.strip_options(func)
            return self._invoke_callee(callee, call, options, mapping, env, module)
        if isinstance(func, cst.Attribute) and func.attr.value in ("append", "extend") \
                and isinstance(func.value, cst.Name) and isinstance(env.get(func.value.value), Sequence_) \
                and len(call.args) == 1 and call.args[0].keyword is None and not call.args[0].star:
            # ``tasks.append(Operator(...))`` in a loop: the list of tasks grows as Python's would
            items = env[func.value.value].items  # type: ignore[union-attr]
            added = self.evaluate(call.args[0].value, env, module)
            if func.attr.value == "append":
                env[func.value.value] = Sequence_((*items, added))
            elif isinstance(added, Sequence_):
                env[func.value.value] = Sequence_((*items, *added.items))
            elif items and all(isinstance(item, Literal) for item in items) and not self.invocations_in(added):
                # ``primary_key.extend(fields)``: a list of values, not of tasks; it is the
                # DAG's code, and no longer a value known statically
                env[func.value.value] = Opaque(self.ctx.render(func.value, module))
            else:
                self.not_followed(module, call, "a list of tasks extended with values not known statically")
            return Literal(None)
        if isinstance(func, cst.Attribute) and func.attr.value in ("as_setup", "as_teardown"):
            base = self.evaluate(func.value, env, module)
            if self.invocations_in(base):
                # ``t.as_teardown(setups=s)`` marks them and sets ``s >> t``; it returns ``t``
                setups = self.keyword(call, "setups")
                if setups is not None:
                    self.depend(self.evaluate(setups.value, env, module), base, module, call)
                return base
        if isinstance(func, cst.Attribute) and func.attr.value in ("set_downstream", "set_upstream"):
            base = self.evaluate(func.value, env, module)
            if self.invocations_in(base) or isinstance(base, (GroupRef, EdgeLabel)):
                for arg in call.args:
                    other = self.evaluate(arg.value, env, module)
                    if func.attr.value == "set_downstream":
                        self.depend(base, other, module, call)
                    else:
                        self.depend(other, base, module, call)
                return Literal(None)
        callee, options = self.strip_options(func)
        return self._invoke_callee(callee, call, options, mapping, env, module)

    def _invoke_callee(self, callee: cst.BaseExpression, call: cst.Call, options: list[cst.Call],
                       mapping: list[cst.Call], env: dict[str, Value], module: ModuleInfo) -> Value:
        symbol: Optional[Symbol] = None
        if isinstance(callee, cst.Name) and isinstance(env.get(callee.value), LocalFunction):
            symbol = env[callee.value].symbol  # type: ignore[union-attr]
        elif isinstance(callee, (cst.Name, cst.Attribute)) and not (
                isinstance(callee, cst.Name) and callee.value in env):
            symbol = self.ctx.resolve_callee(module, callee)
        if symbol is not None and symbol.kind == "function" and isinstance(symbol.node, cst.FunctionDef):
            definition = self.ctx.step_definition(self.framework, symbol)
            if definition is not None:
                return self.invoke_task(definition, call, options, mapping, env, module)
            group = _find(symbol.node.decorators, symbol.module, TASK_GROUP_DECORATORS)
            if group is not None:
                self.walked_helper(symbol, call, options)
                return self.invoke_group(symbol, symbol.node, group, call, options, env, module)
            if not options and not mapping and self.makes_tasks(symbol):
                self.walked_helper(symbol, call, options)
                return self.invoke_factory(symbol, symbol.node, call, env, module)
            if self._keyword_any(call, options, mapping, "task_id") is not None:
                self.not_followed(module, call, f"tasks built by the factory '{symbol.name}'")
        names = _names(callee, module) if symbol is None else set()
        if names & (CHAIN | CHAIN_LINEAR | CROSS_DOWNSTREAM):
            return self.dependency_call(call, names, env, module)
        if names & LABELS:
            return EdgeLabel("Label")
        if names & DAG_CLASSES or symbol is not None and self.builds_dag(call, module):
            return Opaque("DAG")  # another DAG of the module (its own pipeline)
        if self._keyword_any(call, options, mapping, "task_id") is not None and (
                symbol is None or symbol.kind == "class"):
            return self.invoke_operator(callee, call, options, mapping, env, module)
        if self.account_calls and not self._step_code and not self._framework_object(callee, env) and (
                not self._capturing or symbol is not None):
            # in configuration (an operator's arguments) a third-party call is recorded by
            # value; a repo-local one is code, kept unmasked and reported
            calls.account(self, call, callee, symbol, env, module)
        flows: list[str] = []
        for arg in call.args:
            flows.extend(self.invocations_in(self.evaluate(arg.value, env, module)))
        return Opaque(self.ctx.render(call.func, module) + "(...)", tuple(flows))

    def invocations_in(self, value: Value) -> list[str]:
        """The tasks whose results a value carries (unlike ZenML's ``after=``, a string is no task)."""
        if isinstance(value, (StepOutput, StepOutputs)):
            return [value.invocation]
        if isinstance(value, Sequence_):
            return [source for item in value.items for source in self.invocations_in(item)]
        if type(value) is Opaque:
            return list(value.depends_on)
        return []

    # ------------------------------------------------------------------ the DAG's own code
    def final_masks(self) -> dict[int, str]:
        """The masks, less any node one walk of it could not mask (a factory argument that
        is a literal in one call and computed in another): never hide code."""
        return {key: token for key, token in self.masks.items() if key not in self._kept}

    def task_token(self, value: Value) -> Optional[str]:
        """The mask of a name bound to a task, a group, the DAG or a list of them: which
        one by its position in the graph (a task_id renamed is not a change of code, the
        task used is)."""
        if isinstance(value, (StepOutput, StepOutputs)):
            order = next((i for i, inv in enumerate(self.invocations) if inv.id == value.invocation), -1)
            return f"<task #{order}>"
        if isinstance(value, GroupRef):
            return f"<group #{list(self.group_members).index(value.group) if value.group in self.group_members else -1}>"
        if isinstance(value, DagRef):
            return "<dag>"
        if isinstance(value, EdgeLabel):
            return "<label>"
        if isinstance(value, Sequence_) and value.items:
            tokens = [self.task_token(item) for item in value.items]
            if all(t is not None for t in tokens):
                return "[" + " ".join(t for t in tokens if t is not None) + "]"
        return None

    def mask_global_targets(self, small: cst.CSTNode) -> None:
        """``name = ...`` at module level: the name is a global, which the canonical form
        would read as a reference to every assignment of it (configuration included); the
        statement's own code stands for it."""
        targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else \
            [small.target] if isinstance(small, (cst.AnnAssign, cst.AugAssign)) else []
        for target in targets:
            for name in _target_names(target):
                self.mask(name, f"<global {name.value}>")

    def keep(self, node: cst.CSTNode) -> None:
        self._kept.add(id(node))

    def mask_task_call(self, call: cst.Call, overrides: list[cst.Call], partials: list[cst.Call],
                       mapping: list[cst.Call], env: dict[str, Value], module: ModuleInfo) -> None:
        """A ``@task`` call: the task is a node, ``.override()`` is configuration, and an
        argument the task's inputs record (a literal, a task result) is the graph's."""
        for override in overrides:
            calls.mask_configuration(self, override, module, None)
        for source in (*partials, *(mapping or [call])):
            for arg in source.args:
                if not arg.star and self.recorded(arg.value, env, module):
                    self.mask(arg, "")
                else:
                    self.keep(arg)
        callee = call.func
        while isinstance(callee, (cst.Call, cst.Attribute)):
            callee = callee.func if isinstance(callee, cst.Call) else callee.value
        self.mask(callee, "<step>")
        if not partials and not mapping and all(id(arg) in self.masks for o in overrides for arg in o.args):
            self.mask(call.func, "<step>")  # so that ``t.override(...)(x)`` is fully masked

    def recorded(self, node: cst.BaseExpression, env: dict[str, Value], module: ModuleInfo) -> bool:
        """Whether a task input records an argument completely (its value, or its task)."""
        if calls.pure_data(node, env) or isinstance(node, cst.Name) and id(node) in self.masks:
            return True
        if isinstance(node, cst.Call) and calls.fully_masked(node, self.masks):
            return True  # ``load(extract())``: another task's result
        return isinstance(node, cst.Name) and node.value in env and calls.modelled(env[node.value])

    def walked_helper(self, symbol: Symbol, call: cst.Call, options: list[cst.Call]) -> None:
        """A task factory or ``@task_group`` called in the DAG: the call is the graph's,
        the helper's own code (masked the same way) is the DAG's code."""
        assert isinstance(symbol.node, cst.FunctionDef)
        if not any(node is symbol.node for _, node, _ in self.inlined):
            self.inlined.append((symbol.module, symbol.node, symbol.qualified_name))
        for option in options:
            calls.mask_configuration(self, option, self.module, None)
        callee = call.func
        while isinstance(callee, cst.Call):
            callee = callee.func
        while isinstance(callee, cst.Attribute) and isinstance(callee.value, cst.Call):
            callee = callee.value.func
        # its arguments stay code: a literal a factory uses outside its tasks is recorded
        # nowhere else
        self.mask(callee, f"<tasks {symbol.qualified_name}>")

    def _framework_object(self, callee: cst.BaseExpression, env: dict[str, Value]) -> bool:
        """A method of the DAG, a task group, a label or another DAG's task."""
        root = callee
        while isinstance(root, (cst.Attribute, cst.Subscript, cst.Call)):
            root = root.func if isinstance(root, cst.Call) else root.value
        return root is not callee and isinstance(root, cst.Name) \
            and isinstance(env.get(root.value), (DagRef, GroupRef, EdgeLabel, ForeignTask))

    def _covered(self, node: cst.CSTNode) -> bool:
        """Whether an expression only wires tasks the graph knows (``a >> [b, c]``,
        ``chain(a, b)``, ``a.set_downstream(b)``): its edges are the graph's."""
        if id(node) in self.masks:
            return True
        if isinstance(node, (cst.List, cst.Tuple)):
            return all(self._covered(e.value) for e in node.elements)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.RightShift, cst.LeftShift)):
            return self._covered(node.left) and self._covered(node.right)
        if isinstance(node, cst.Call):
            if calls.fully_masked(node, self.masks):
                return True
            names = _names(node, self.module)
            if names & LABELS:
                return all(isinstance(a.value, cst.SimpleString) for a in node.args)
            if names & (CHAIN | CHAIN_LINEAR | CROSS_DOWNSTREAM):
                return all(self._covered(a.value) for a in node.args)
            if isinstance(node.func, cst.Attribute) and node.func.attr.value in (
                    "set_downstream", "set_upstream", "as_setup", "as_teardown"):
                return self._covered(node.func.value) and all(self._covered(a.value) for a in node.args)
        return False

    # ------------------------------------------------------------------ membership and ids
    def belongs(self, calls: list[cst.Call], env: dict[str, Value], module: ModuleInfo) -> bool:
        """Whether a task created by these calls is in the DAG being built."""
        for call in calls:
            dag = self.keyword(call, "dag")
            node, where = (dag.value, module) if dag is not None else (None, module)
            for arg in call.args:
                spread = self.keyword_dict(arg.value, env, module) if arg.star == "**" and node is None else None
                if spread is not None and "dag" in spread:
                    node, where = spread["dag"]  # ``**default_task_args`` carrying ``dag=``
            if node is not None:
                value = self.evaluate(node, env, where)
                if isinstance(value, Literal) and value.value is None:
                    continue  # dag=None (a helper's default): the DAG of the with block, as in Airflow
                return isinstance(value, DagRef) and value.key == self.target
        return self.in_target

    def task_id(self, base: str, unique: bool, node: cst.CSTNode) -> str:
        """The id Airflow gives a task: group prefix, then ``__N`` for a repeated TaskFlow id."""
        group = self.groups[-1] if self.groups else None
        full = self.child_id(base)
        if full in self._ids:
            if not unique:  # an operator: Airflow raises DuplicateTaskIdFound; keep the graph whole
                self.ctx.warn_dynamic(self.module, self.module.line(node), f"task_id '{full}' is used twice in "
                                      f"DAG '{self.pipeline_name}' (Airflow rejects this)")
            prefix = _SUFFIX.split(full)[0]
            suffixes = [int(m.group(1)) for m in (re.match(rf"^{re.escape(prefix)}__(\d+)$", i) for i in self._ids)
                        if m is not None]
            core = _SUFFIX.split(base)[0]
            full = self.child_id(f"{core}__{max(suffixes, default=0) + 1}")
        self._ids.add(full)
        if group is not None:
            for open_group in self.groups:
                open_group.members.append(full)
        return full

    def child_id(self, label: str) -> str:
        for group in reversed(self.groups):
            if group.prefix:
                return f"{group.id}.{label}"
        return label

    # ------------------------------------------------------------------ TaskFlow
    def invoke_task(self, definition: StepDefinition, call: cst.Call, options: list[cst.Call],
                    mapping: list[cst.Call], env: dict[str, Value], module: ModuleInfo) -> Value:
        overrides = [c for c in options if _method(c) == "override"]
        partials = [c for c in options if _method(c) == "partial"]
        if not self.belongs(overrides, env, module):
            return ForeignTask(definition.name)
        positional: list[Value] = []
        keywords: dict[str, Value] = {}
        # ``t.partial(a=...).expand(b=[...])``: the inputs are the partial and mapping arguments
        for source in (*partials, *(mapping or [call])):
            for arg in source.args:
                value = self.evaluate(arg.value, env, module)
                if arg.star:
                    self.not_followed(module, arg, f"'{arg.star}' arguments to task '{definition.name}'")
                elif arg.keyword is not None:
                    keywords[arg.keyword.value] = value
                else:
                    positional.append(value)
        declared = definition.name
        config: dict[str, Any] = {}
        lines: dict[str, tuple[str, int]] = {}
        for override in overrides:
            explicit = self.keyword(override, "task_id")
            if explicit is not None:
                text = self.evaluate(explicit.value, env, module)
                if isinstance(text, Literal) and isinstance(text.value, str):
                    declared = text.value
                elif isinstance(text, Known) and text.text_value is not None:
                    declared = text.text_value
                else:
                    self.not_followed(module, override, f"a task_id computed at run time for '{definition.name}'")
            extra, extra_lines = self.ctx.keyword_config(override, module, skip=_PLACEMENT)
            config.update(extra)
            lines.update(extra_lines)
        if mapping:
            config["$mapped"] = True
        invocation_id = self.task_id(declared, unique=True, node=call)
        config = self.group_config(config)
        self.mask_task_call(call, overrides, partials, mapping, env, module)
        invocation = Invocation(invocation_id, definition, module, call, {}, config, lines)
        names = [p.name for p in self.ctx.function_facts(definition).parameters
                 if p.kind in ("positional_only", "positional_or_keyword")]
        bound: dict[str, Value] = {}
        for index, value in enumerate(positional):
            bound[names[index] if index < len(names) else f"${index}"] = value
        bound.update(keywords)
        for name, value in bound.items():
            invocation.inputs[name] = self.input_binding(value, invocation_id, name)
        self.invocations.append(invocation)
        return StepOutput(invocation_id, _XCOM_RETURN_KEY)

    def group_config(self, config: dict[str, Any]) -> dict[str, Any]:
        for group in self.groups:
            if group.config:
                config = merge({"task_group": {group.id: group.config}}, config)
        return config

    # ------------------------------------------------------------------ task factories
    def makes_tasks(self, symbol: Symbol, depth: int = 0) -> bool:
        """Whether a plain repo-local function creates tasks when called: an operator with
        ``task_id=``, a ``TaskGroup``, a ``@task`` call, or another such function."""
        function = symbol.node
        if not isinstance(function, cst.FunctionDef) or depth > 4:
            return False
        key = (symbol.module.path, symbol.name)
        known = self._factories.get(key)
        if known is not None:
            return known
        self._factories[key] = False  # recursion guard
        finder = _TaskMakingFinder(symbol.module)
        read_only_visit(function.body, finder)
        found = finder.found
        for callee in finder.callees:
            if found:
                break
            other = self.ctx.resolve_callee(symbol.module, callee)
            if other is None or other.kind != "function" or not isinstance(other.node, cst.FunctionDef):
                continue
            found = self.ctx.step_definition(self.framework, other) is not None \
                or _find(other.node.decorators, other.module, TASK_GROUP_DECORATORS) is not None \
                or self.makes_tasks(other, depth + 1)
        self._factories[key] = found
        return found

    def invoke_factory(self, symbol: Symbol, function: cst.FunctionDef, call: cst.Call, env: dict[str, Value],
                       module: ModuleInfo) -> Value:
        """A helper that creates tasks, called while the DAG is built: Airflow runs it then,
        so its tasks are the DAG's (its ``with`` context, or the ``dag=`` it is given)."""
        self.scopes.append(symbol.name)
        self._passed_callables.update(id(arg.value) for arg in call.args)
        star = function.params.star_kwarg
        saved = self.dicts.get(star.name.value) if isinstance(star, cst.Param) else None
        if isinstance(star, cst.Param):
            # ``def make_task(dag, task_id, **kwargs): return Op(..., **kwargs)``: the keywords
            # the call adds, each read through the name inline() binds it to
            named = {p.name.value for p in (*function.params.posonly_params, *function.params.params,
                                            *function.params.kwonly_params)}
            extra = [a.keyword.value for a in call.args if a.keyword is not None and a.keyword.value not in named]
            spread = cst.Dict([cst.DictElement(cst.SimpleString(repr(k)), cst.Name(k)) for k in extra])
            finder = _NameCollector(set(extra))
            read_only_visit(function.body, finder)  # a local of the same name would hide the keyword's value
            if not any(a.star == "**" for a in call.args) and not finder.found:
                self.dicts[star.name.value] = (spread, symbol.module)
        try:
            return self.inline(symbol, function, call, env, module)
        finally:
            self.scopes.pop()
            if isinstance(star, cst.Param):
                if saved is not None:
                    self.dicts[star.name.value] = saved
                else:
                    self.dicts.pop(star.name.value, None)

    # ------------------------------------------------------------------ task groups
    def group_settings(self, call: cst.Call, module: ModuleInfo) -> tuple[dict[str, Any], Optional[bool]]:
        """A TaskGroup's (or ``@task_group``'s) configuration, and its ``prefix_group_id`` if given."""
        config, _ = self.ctx.keyword_config(call, module, skip=_GROUP_PLACEMENT)
        prefix_arg = self.keyword(call, "prefix_group_id")
        prefix = None if prefix_arg is None else self.ctx.value(prefix_arg.value, module) is not False
        return config, prefix

    def open_group(self, label: Optional[str], prefix: bool, config: dict[str, Any], module: ModuleInfo,
                   node: cst.CSTNode, suffix: bool = False) -> _Group:
        if label is None:
            label = "task_group"
            self.not_followed(module, node, "a task group id computed at run time")
        full = self.child_id(label)
        if full in self._used_groups:
            if suffix:  # @task_group adds __N on collision (add_suffix_on_collision=True)
                base = _SUFFIX.split(label)[0]
                taken = [int(m.group(1)) for m in (re.match(rf"^{re.escape(self.child_id(base))}__(\d+)$", g)
                                                  for g in self._used_groups) if m is not None]
                label = f"{base}__{max(taken, default=0) + 1}"
                full = self.child_id(label)
            else:
                self.ctx.warn_dynamic(module, module.line(node),
                                      f"task group '{full}' is used twice in DAG '{self.pipeline_name}'")
        self._used_groups.add(full)
        group = _Group(full, prefix, config, [])
        self.groups.append(group)
        self.group_members[full] = group.members
        return group

    def group_label(self, call: cst.Call, env: dict[str, Value], module: ModuleInfo) -> Optional[str]:
        """A ``TaskGroup``'s id: a literal, or a value known while walking (a factory's argument)."""
        explicit = _keyword(call, "group_id")
        positional = [a for a in call.args if a.keyword is None and not a.star]
        node = explicit.value if explicit is not None else (positional[0].value if positional else None)
        if node is None:
            return None
        value = self.evaluate(node, env, module)
        if isinstance(value, Known) and value.text_value is not None:
            return value.text_value
        return value.value if isinstance(value, Literal) and isinstance(value.value, str) else None

    def close_group(self, group: _Group) -> None:
        if self.groups and self.groups[-1] is group:
            self.groups.pop()

    def invoke_group(self, symbol: Symbol, function: cst.FunctionDef, decorator: Optional[cst.Call],
                     call: cst.Call, options: list[cst.Call], env: dict[str, Value], module: ModuleInfo) -> Value:
        if not self.in_target:
            return ForeignTask(symbol.name)
        # the decorator's arguments (in the group's module), then .override(...)'s (at the call)
        label = _keyword_string(decorator, "group_id") or function.name.value
        config, prefix = self.group_settings(decorator, symbol.module) if decorator is not None else ({}, None)
        for override in options:
            explicit = self.keyword(override, "group_id")
            if explicit is not None:
                label = string_value(explicit.value)
            extra, extra_prefix = self.group_settings(override, module)
            config.update(extra)
            prefix = extra_prefix if extra_prefix is not None else prefix
        group = self.open_group(label, prefix is not False, config, module, call, suffix=True)
        self.scopes.append(symbol.name)
        try:
            result = self.inline(symbol, function, call, env, module)
        finally:
            self.scopes.pop()
            self.close_group(group)
        if isinstance(result, Opaque) and not self.invocations_in(result):
            return GroupRef(group.id, group=group.id)
        return result

    # ------------------------------------------------------------------ classic operators
    def invoke_operator(self, callee: cst.BaseExpression, call: cst.Call, options: list[cst.Call],
                        mapping: list[cst.Call], env: dict[str, Value], module: ModuleInfo) -> Value:
        sources = [*options, *(mapping or [call])]
        if not self.belongs(sources, env, module):
            return ForeignTask(self.ctx.render(callee, module))
        values: dict[str, tuple[cst.Arg, Value]] = {}
        positional: list[tuple[cst.Arg, Value]] = []
        self._capturing += 1
        try:
            self._operator_arguments(sources, values, positional, env, module)
        finally:
            self._capturing -= 1
        for source in sources:  # what the graph records; arguments naming repo code stay code
            calls.mask_configuration(self, source, module, None, BODY_KEYWORDS)
        self.mask(callee, "<task>")  # the operator: a node of the graph
        task_arg = values.get("task_id")
        declared = "task"
        if task_arg is not None and isinstance(task_arg[1], Literal) and isinstance(task_arg[1].value, str):
            declared = task_arg[1].value
        elif task_arg is not None and isinstance(task_arg[1], Known) and task_arg[1].text_value is not None:
            declared = task_arg[1].text_value
        else:
            self.not_followed(module, call, "an operator task_id computed at run time")
            if task_arg is not None:
                declared = " ".join(module.code(task_arg[0].value).split())
        invocation_id = self.task_id(declared, unique=False, node=call)
        parts = [BodyPart("operator", callee)]
        config: dict[str, Any] = {}
        lines: dict[str, tuple[str, int]] = {}
        inputs: dict[str, Any] = {}
        self.bound_parts = []
        self._passed = []
        for index, (arg, value) in enumerate(positional):
            parts.append(self.body_part(f"${index}", arg.value, value, env, module))
        for key, (arg, value) in values.items():
            if key in _PLACEMENT:
                continue
            if key in BODY_KEYWORDS:
                parts.append(self.body_part(key, arg.value, value, env, module))
            else:
                config[key] = self.config_value(arg.value, env, module)
                lines[key] = ConfigSource(module.path, module.line(arg), ORIGIN_DECORATOR)  # the operator's own
            if self.invocations_in(value):
                inputs[key] = self.input_binding(value, invocation_id, key)
        if mapping:
            config["$mapped"] = True
        parts.extend(self.bound_parts)
        parts.extend(template_parts(parts, self.template_folders))
        symbol = Symbol(module, f"{self.pipeline_name}.{invocation_id}", "operator", call)
        definition = StepDefinition(symbol, self.framework.name, "operator", declared, {}, {},
                                    (Output(_XCOM_RETURN_KEY),), tuple(parts))
        invocation = Invocation(invocation_id, definition, module, call, inputs, self.group_config(config), lines,
                                reach=list(self._passed))
        self.invocations.append(invocation)
        return StepOutput(invocation_id, _XCOM_RETURN_KEY)

    def _operator_arguments(self, sources: list[cst.Call], values: dict[str, tuple[cst.Arg, Value]],
                            positional: list[tuple[cst.Arg, Value]], env: dict[str, Value],
                            module: ModuleInfo) -> None:
        """An operator's arguments (its own, ``.partial``'s and ``.expand``'s), evaluated."""
        for source in sources:
            for arg in source.args:
                if arg.star == "**":
                    spread = self.keyword_dict(arg.value, env, module)
                    if spread is None:
                        self.not_followed(module, arg, "'**' arguments to an operator")
                        continue
                    for key, (element, element_module) in spread.items():
                        values.setdefault(key, (cst.Arg(element, keyword=cst.Name(key)),
                                                self.evaluate(element, env, element_module)))
                    continue
                step_code = arg.keyword is None or arg.keyword.value in BODY_KEYWORDS
                self._step_code += step_code  # what runs: the step's own code, with its reach
                try:
                    value = self.evaluate(arg.value, env, module)
                finally:
                    self._step_code -= step_code
                if arg.star:
                    self.not_followed(module, arg, "'**' arguments to an operator")
                elif arg.keyword is not None:
                    values[arg.keyword.value] = (arg, value)
                else:
                    positional.append((arg, value))

    def config_value(self, node: cst.BaseExpression, env: dict[str, Value], module: ModuleInfo) -> Any:
        """A configuration value, with names bound while walking (a loop variable) replaced by their value."""
        if _uses_only_globals(node, env):
            return self.ctx.value(node, module)
        if isinstance(node, cst.Dict):
            result: dict[str, Any] = {}
            for element in node.elements:
                if isinstance(element, cst.DictElement):
                    key = self.config_value(element.key, env, module)
                    result[key if isinstance(key, str) else self.ctx.render(element.key, module)] = \
                        self.config_value(element.value, env, module)
                else:
                    result["**"] = self.config_value(element.value, env, module)
            return result
        if isinstance(node, (cst.List, cst.Tuple)):
            return [self.config_value(e.value, env, module) for e in node.elements]
        value = self.evaluate(node, env, module)
        if isinstance(value, Literal):
            return value.value
        if isinstance(value, (StepOutput, StepOutputs)):
            return {"$step": value.invocation}
        return {"$expr": value.text if isinstance(value, Opaque) else " ".join(module.code(node).split())}

    def body_part(self, label: str, node: cst.BaseExpression, value: Value, env: dict[str, Value],
                  module: ModuleInfo) -> BodyPart:
        """One argument that says what an operator runs, as code or as a known value."""
        if isinstance(value, LocalFunction) and value.symbol is not None:
            if value.symbol.module.path != module.path:
                # ``create_python_task(dag, "etl", etl)``: a function of the DAG's module passed
                # to a factory of another; it runs as the task, so its code is the task's reach
                self._passed.append(value.symbol)
                return BodyPart(label, value={"$callable": value.symbol.qualified_name})
            return BodyPart(label, value.symbol.node)
        if isinstance(value, Literal) and not _uses_only_globals(node, env):
            return BodyPart(label, value=value.value)
        if _uses_only_globals(node, env):
            return BodyPart(label, node)
        bound = _bound_names(node, env)
        values = {name: _walked_value(env[name]) for name in sorted(bound)}
        if bound and all(v is not UNKNOWN for v in values.values()):
            # ``sql=copy_statement(table, schema)`` in a loop or a task factory: the code,
            # with the values its walked names had (part of the code's fingerprint)
            self.bound_parts.append(BodyPart(f"{label} bindings", value=values))
            return BodyPart(label, node)
        self.not_followed(module, node, f"an operator argument '{label}' computed at run time")
        text = value.text if isinstance(value, Opaque) else " ".join(module.code(node).split())
        return BodyPart(label, value={"$expr": text})

    # ------------------------------------------------------------------ dependencies
    def depend(self, upstream: Value, downstream: Value, module: ModuleInfo, node: cst.CSTNode) -> Value:
        """``upstream >> downstream``: order edges from its leaves to the other's roots."""
        if isinstance(downstream, EdgeLabel):
            return EdgeLabel("Label", sources=tuple(self.leaves(upstream)))
        if _foreign(upstream) or _foreign(downstream):
            return downstream
        sources = self.leaves(upstream)
        targets = self.roots(downstream)
        if (not sources and not self._empty(upstream)) or (not targets and not self._empty(downstream)):
            self.not_followed(module, node, "a dependency on something that is not a task")
        for source in sources:
            for target in targets:
                self.edges.append(Edge(source, target, "order"))
        return downstream

    def _empty(self, value: Value) -> bool:
        return isinstance(value, (GroupRef, EdgeLabel)) or (isinstance(value, Sequence_) and not value.items)

    def _members(self, value: Value) -> list[str]:
        if isinstance(value, GroupRef):
            return list(self.group_members.get(value.group, ()))
        return []

    def leaves(self, value: Value) -> list[str]:
        if isinstance(value, EdgeLabel):
            return list(value.sources)
        if isinstance(value, GroupRef):
            members = self._members(value)
            inside = set(members)
            has_downstream = {e.source for e in self.edges if e.source in inside and e.target in inside}
            return [m for m in members if m not in has_downstream]
        if isinstance(value, Sequence_):
            return [leaf for item in value.items for leaf in self.leaves(item)]
        return self.invocations_in(value) if isinstance(value, (StepOutput, StepOutputs)) else []

    def roots(self, value: Value) -> list[str]:
        if isinstance(value, GroupRef):
            members = self._members(value)
            inside = set(members)
            has_upstream = {e.target for e in self.edges if e.source in inside and e.target in inside}
            return [m for m in members if m not in has_upstream]
        if isinstance(value, Sequence_):
            return [root for item in value.items for root in self.roots(item)]
        return self.invocations_in(value) if isinstance(value, (StepOutput, StepOutputs)) else []

    def dependency_call(self, call: cst.Call, names: set[str], env: dict[str, Value], module: ModuleInfo) -> Value:
        """``chain``, ``chain_linear`` and ``cross_downstream``."""
        values: list[Value] = []
        for arg in call.args:
            value = self.evaluate(arg.value, env, module)
            if arg.star == "*" and isinstance(value, Sequence_):
                values.extend(value.items)  # chain(*tasks)
            elif arg.star:
                self.not_followed(module, call, "a dependency helper called with '*' arguments not known statically")
            else:
                values.append(value)
        if names & CROSS_DOWNSTREAM:
            if len(values) == 2:
                self.depend(values[0], values[1], module, call)
            return Literal(None)
        linear = bool(names & CHAIN_LINEAR)
        for upstream, downstream in zip(values, values[1:]):
            if not linear and isinstance(upstream, Sequence_) and isinstance(downstream, Sequence_):
                if len(upstream.items) != len(downstream.items):
                    self.not_followed(module, call, "chain() over lists of different lengths")
                for up, down in zip(upstream.items, downstream.items):
                    self.depend(up, down, module, call)
            else:
                self.depend(upstream, downstream, module, call)
        return Literal(None)

    def keyword_dict(self, node: cst.BaseExpression, env: dict[str, Value], module: ModuleInfo
                     ) -> Optional[dict[str, tuple[cst.BaseExpression, ModuleInfo]]]:
        """``**kwargs`` of an operator: a dict display, or a name bound to one (while walking
        or at module level), as keyword -> value expression. None when not known."""
        if isinstance(node, cst.Name) and node.value in self.dicts:
            node, module = self.dicts[node.value]
        elif isinstance(node, cst.Name) and node.value not in env:
            bound = [s for s in module.symbols.get(node.value, []) if s.kind == "constant"]
            statement = bound[0].node if len(bound) == 1 else None
            if isinstance(statement, (cst.Assign, cst.AnnAssign)) and statement.value is not None:
                node = statement.value
        if not isinstance(node, cst.Dict):
            return None
        found: dict[str, tuple[cst.BaseExpression, ModuleInfo]] = {}
        for element in node.elements:
            key = string_value(element.key) if isinstance(element, cst.DictElement) else None
            if key is None:
                return None
            found[key] = (element.value, module)
        return found

    def _keyword_any(self, call: cst.Call, options: list[cst.Call], mapping: list[cst.Call],
                     name: str) -> Optional[cst.Arg]:
        for source in (call, *options, *mapping):
            found = self.keyword(source, name)
            if found is not None:
                return found
        return None


# ---------------------------------------------------------------------- helpers
def _target_names(target: cst.BaseExpression) -> list[cst.Name]:
    if isinstance(target, cst.Name):
        return [target]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for e in target.elements for n in _target_names(e.value)]
    return []


def _walked_value(value: Value) -> Any:
    """The value of a name bound while walking, when it is wholly known (a literal, or a
    value computed from known ones such as ``row.get("name")``); UNKNOWN otherwise."""
    if isinstance(value, Literal):
        return value.value
    if isinstance(value, Known) and fully_known(value.known):
        return value.known
    return UNKNOWN


def _foreign(value: Value) -> bool:
    if isinstance(value, Sequence_):
        return any(_foreign(item) for item in value.items)
    return isinstance(value, ForeignTask)


def _task_decorator(node: cst.FunctionDef, module: ModuleInfo) -> Optional[tuple[Optional[cst.Call], str]]:
    """The ``@task``/``@task.<kind>`` decorator of a function: (its call, the kind)."""
    for decorator in node.decorators:
        callee, call = decorator_call(decorator)
        if not isinstance(callee, (cst.Name, cst.Attribute)):
            continue
        for qualified in module.qualified_names(callee):
            if qualified in TASK_DECORATORS:
                return call, "python"
            if qualified in SETUP_TEARDOWN:
                return call, qualified.rsplit(".", 1)[1]
            head, _, kind = qualified.rpartition(".")
            if head in TASK_DECORATORS and kind not in TASK_MODIFIERS:
                return call, kind
    return None


def _find(decorators: Iterable[cst.Decorator], module: ModuleInfo, names: frozenset[str]) -> Optional[cst.Call]:
    """The call of the first decorator named in ``names`` (an empty call for a bare one)."""
    for decorator in decorators:
        callee, call = decorator_call(decorator)
        if isinstance(callee, (cst.Name, cst.Attribute)) and module.qualified_names(callee) & names:
            return call if call is not None else cst.Call(callee)
    return None


def _names(expression: cst.BaseExpression, module: ModuleInfo) -> set[str]:
    if isinstance(expression, cst.Call):
        expression = expression.func
    if isinstance(expression, (cst.Name, cst.Attribute)):
        return module.qualified_names(expression)
    return set()


def _classic_declarations(module: ModuleInfo, ctx: AnalysisContext) -> list[_Declaration]:
    """``with DAG(...)`` blocks and ``name = DAG(...)`` assignments at module level, also
    under a module-level ``if`` or ``try`` (an optional-import guard): Airflow runs those
    when it parses the file, so their DAGs exist whenever the condition holds. A call of
    the repo's own helper that returns a ``DAG(...)`` (``create_dag(dag_id=...)``) declares
    one the same way."""
    found = []
    for index, statement in enumerate(module.tree.body):
        for inner in _module_level(statement):
            declared = _declared_dag(inner, module, ctx)
            if declared is not None:
                found.append(_Declaration(index, inner, *declared))
    return found


def dag_helper(call: cst.BaseExpression, module: ModuleInfo, ctx: AnalysisContext,
               known: Optional[dict[int, bool]] = None) -> Optional[Symbol]:
    """The repo-local function a call runs when that function only wraps ``DAG(...)``
    (``known``: answers already found, by function node)."""
    if not isinstance(call, cst.Call) or not isinstance(call.func, (cst.Name, cst.Attribute)):
        return None
    symbol = ctx.resolve_callee(module, call.func)
    if symbol is None or symbol.kind != "function" or not isinstance(symbol.node, cst.FunctionDef):
        return None
    found = known.get(id(symbol.node)) if known is not None else None
    if found is None:
        found = returns_dag(symbol.node, symbol.module, DAG_CLASSES)
        if known is not None:
            known[id(symbol.node)] = found
    return symbol if found else None


def _module_level(statement: cst.CSTNode, depth: int = 0) -> Iterable[cst.CSTNode]:
    """A top-level statement, or the statements of its if / try branches (nested a little)."""
    if depth > 3:
        return
    if isinstance(statement, (cst.If, cst.Try)) and not _is_main_guard(statement):
        for branch in _branches(statement):
            for inner in branch:
                yield from _module_level(inner, depth + 1)
    else:
        yield statement


def _branches(statement: cst.CSTNode) -> list[Sequence[cst.CSTNode]]:
    blocks: list[cst.BaseSuite] = []
    if isinstance(statement, cst.If):
        blocks.append(statement.body)
        orelse: Any = statement.orelse
        while orelse is not None:
            blocks.append(orelse.body)
            orelse = orelse.orelse if isinstance(orelse, cst.If) else None
    elif isinstance(statement, cst.Try):
        blocks.extend([statement.body, *(h.body for h in statement.handlers)])
        if statement.orelse is not None:
            blocks.append(statement.orelse.body)
    return [list(b.body) if isinstance(b, cst.IndentedBlock) else [] for b in blocks]


def _branch_holding(statement: cst.CSTNode, target: cst.CSTNode) -> Optional[Sequence[cst.CSTNode]]:
    """The statements of the if / try branch of ``statement`` that (at some depth) holds ``target``."""
    if statement is target or not isinstance(statement, (cst.If, cst.Try)):
        return None
    for branch in _branches(statement):
        if any(inner is target or _branch_holding(inner, target) is not None for inner in branch):
            return branch
    return None


def _declared_dag(statement: cst.CSTNode, module: ModuleInfo, ctx: AnalysisContext
                  ) -> Optional[tuple[cst.Call, Optional[Symbol]]]:
    """The ``DAG(...)`` (or DAG helper) call a module-level statement declares a DAG with."""
    calls_made: list[cst.BaseExpression] = []
    if isinstance(statement, cst.With):
        calls_made = [item.item for item in statement.items]
    elif isinstance(statement, cst.SimpleStatementLine):
        calls_made = [small.value for small in statement.body if isinstance(small, cst.Assign)]
    for call in calls_made:
        if isinstance(call, cst.Call) and _names(call, module) & DAG_CLASSES:
            return call, None
    for call in calls_made:
        helper = dag_helper(call, module, ctx)
        if helper is not None:
            return call, helper  # type: ignore[return-value]
    return None


class _DagCallFinder(cst.CSTVisitor):
    def __init__(self, module: ModuleInfo) -> None:
        self.module = module
        self.functions: list[cst.FunctionDef] = []
        self.calls: list[tuple[cst.Call, Optional[cst.FunctionDef]]] = []  # DAG(...), and the function it is in
        self.others: list[tuple[cst.Call, bool]] = []  # other calls (a DAG helper's?), inside a function or not

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.functions.pop()

    def visit_If(self, node: cst.If) -> Optional[bool]:
        return False if _is_main_guard(node) else None  # runs only as a script, never in Airflow

    def visit_Call(self, node: cst.Call) -> None:
        if _names(node, self.module) & DAG_CLASSES:
            self.calls.append((node, self.functions[-1] if self.functions else None))
        elif isinstance(node.func, (cst.Name, cst.Attribute)):
            self.others.append((node, bool(self.functions)))


def _warn_dag_factories(module: ModuleInfo, ctx: AnalysisContext, declared: set[int]) -> None:
    """A ``DAG(...)`` built inside a function is a factory: its graph cannot be followed.
    A helper that only wraps ``DAG(...)`` is not one by itself (a module-level call of it
    declares a DAG); its calls inside functions are. At module level, a DAG built anywhere
    but a declaration (``for s in SOURCES: globals()[s] = create_dag(...)``) is reported too."""
    if "dag" not in module.text.lower():
        return
    finder = _DagCallFinder(module)
    read_only_visit(module.tree, finder)  # libcst's visit, without rebuilding the tree
    for call, function in finder.calls:
        if function is not None and not returns_dag(function, module, DAG_CLASSES):
            ctx.warn_dynamic(module, module.line(call), "a DAG built inside a function (a DAG factory)")
        elif function is None and id(call) not in declared:
            ctx.warn_dynamic(module, module.line(call), "a DAG built outside a `with DAG(...)` block or a "
                             "`name = DAG(...)` declaration (in a loop, through globals(), as an argument)")
    known: dict[int, bool] = {}
    for call, inside in finder.others:
        if id(call) in declared:
            continue
        helper = dag_helper(call, module, ctx, known)
        if helper is None:
            continue
        where = "inside a function (a DAG factory" if inside else \
            "outside a declaration (in a loop, through globals(), as an argument"
        ctx.warn_dynamic(module, module.line(call), f"a DAG built {where}; through '{helper.name}')")


class _NameFinder(cst.CSTVisitor):
    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.found = False

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self.names:
            self.found = True


def _bound_names(node: cst.CSTNode, env: dict[str, Value]) -> set[str]:
    """The names bound while walking that an expression reads."""
    finder = _NameCollector(set(env))
    read_only_visit(node, finder)
    return finder.found


class _NameCollector(cst.CSTVisitor):
    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.found: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self.names:
            self.found.add(node.value)


def _uses_only_globals(node: cst.CSTNode, env: dict[str, Value]) -> bool:
    """Whether an expression names nothing bound while walking (it can be read as code)."""
    finder = _NameFinder(set(env))
    read_only_visit(node, finder)
    return not finder.found


def _is_main_guard(node: cst.CSTNode) -> bool:
    if not isinstance(node, cst.If) or not isinstance(node.test, cst.Comparison):
        return False
    test = node.test
    return isinstance(test.left, cst.Name) and test.left.value == "__name__" and len(test.comparisons) == 1 \
        and string_value(test.comparisons[0].comparator) == "__main__"


def _group_label(call: cst.Call) -> Optional[str]:
    explicit = _keyword(call, "group_id")
    if explicit is not None:
        return string_value(explicit.value)
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return string_value(positional[0].value) if positional else None


__all__ = ["Airflow", "AirflowGraphBuilder", "BODY_KEYWORDS"]


class _TaskMakingFinder(cst.CSTVisitor):
    """In a function body: a call with ``task_id=`` or of a ``TaskGroup``, and every callee."""

    def __init__(self, module: ModuleInfo) -> None:
        self.module = module
        self.found = False
        self.callees: list[cst.BaseExpression] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # a nested definition runs when called, not when the helper is

    def visit_Call(self, node: cst.Call) -> None:
        if _keyword(node, "task_id") is not None or _names(node, self.module) & TASK_GROUP_CLASSES:
            self.found = True
        elif isinstance(node.func, (cst.Name, cst.Attribute)):
            self.callees.append(node.func)
