"""Static evaluation of the code that builds Kedro pipelines.

Kedro pipelines are data, not decorated functions: ``create_pipeline()`` returns
``pipeline([node(f, "in", "out"), ...])``, modular pipelines re-use one with
``pipeline(base, namespace="a", inputs={...})``, and ``register_pipelines()`` returns a
dict of them (often from ``find_pipelines()`` plus ``sum(...)``). This module walks such
code without running it: straight-line assignments, calls of repo-local functions
(inlined, arguments bound), ``+``/``-``/``|``/``&`` and ``sum`` over pipelines,
comprehensions and ``for`` loops over literal sequences. Anything else is reported
(``PV010``) and makes the pipeline conservative.

Names and namespaces follow Kedro's own code (``kedro/pipeline/node.py``,
``kedro/pipeline/pipeline.py``; see :func:`node_name` and :func:`namespaced`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional, Union

import libcst as cst

from pvcheck.plugin import AnalysisContext, BodyPart, ModuleInfo, StepDefinition, Symbol, is_literal, literal_value

NODE = frozenset({"kedro.pipeline.node", "kedro.pipeline.Node", "kedro.pipeline.node.node", "kedro.pipeline.node.Node"})
PIPELINE = frozenset({"kedro.pipeline.pipeline", "kedro.pipeline.Pipeline", "kedro.pipeline.pipeline.pipeline",
                      "kedro.pipeline.pipeline.Pipeline", "kedro.pipeline.modular_pipeline.pipeline"})
FIND_PIPELINES = frozenset({"kedro.framework.project.find_pipelines"})
PARTIAL = frozenset({"functools.partial"})
_MAX_DEPTH = 8
_MAX_UNROLL = 256

DatasetNames = Union[None, str, list, dict]


@dataclass
class Func:
    """What a node runs, with what Kedro's naming needs to know about it."""

    definition: StepDefinition
    module_name: str  # ``func.__module__`` as Kedro sees it (src layout prefix removed)
    name: str  # ``func.__name__``
    partial: bool = False
    parameters: tuple[str, ...] = ()  # signature order, for dict inputs
    bound: dict[str, Any] = field(default_factory=dict)  # partial(f, x=1): values bound at the call


@dataclass
class KNode:
    """One ``node(...)``: the function and the dataset names as Kedro holds them."""

    func: Func
    inputs: DatasetNames
    outputs: DatasetNames
    name: Optional[str]
    namespace: Optional[str]
    tags: tuple[str, ...]
    confirms: DatasetNames
    module: ModuleInfo
    call: cst.Call
    options: dict[str, Any] = field(default_factory=dict)  # other node() arguments: configuration

    def input_list(self) -> list[str]:
        """``Node.inputs``: dict inputs in the order they bind to the function's signature."""
        if isinstance(self.inputs, dict):
            order = {p: i for i, p in enumerate(self.func.parameters)}
            keys = sorted(self.inputs, key=lambda k: order.get(k, len(order)))  # stable: **kwargs keep dict order
            return [self.inputs[k] for k in keys]
        return _to_list(self.inputs)

    def output_list(self) -> list[str]:
        return _to_list(self.outputs)


@dataclass
class KPipe:
    """A pipeline value: its nodes, and the function that made it (for its location)."""

    nodes: list[KNode]
    origin: Optional[Symbol] = None


@dataclass(frozen=True)
class Opaque:
    text: str


def node_name(node: KNode, legacy: bool) -> str:
    """``Node.name``. Kedro 1.x: ``name=`` or ``func__`` plus 8 hex digits of the sha256
    of ``module.func|inputs|outputs`` (``Node._set_unique_name``); Kedro 0.x: ``name=``
    or ``func([a;b]) -> [c]`` (``Node.__str__``); the namespace, if any, in front."""
    if node.name:
        base = node.name
    elif legacy:
        ins = f"[{';'.join(node.input_list())}]" if node.inputs else "None"
        outs = f"[{';'.join(node.output_list())}]" if node.outputs else "None"
        base = f"{node.func.name}({ins}) -> {outs}"
    else:
        if node.func.partial:
            stem = f"partial({node.func.name})"
            key = f"{stem}|{node.input_list()}|{node.output_list()}"
        else:
            stem = node.func.name
            key = f"{node.func.module_name}.{node.func.name}|{node.input_list()}|{node.output_list()}"
        base = f"{stem}__{hashlib.sha256(key.encode()).hexdigest()[:8]}"
    return f"{node.namespace}.{base}" if node.namespace else base


def namespaced(nodes: list[KNode], namespace: Optional[str], mapping: dict[str, str], prefix: bool) -> list[KNode]:
    """``Pipeline._map_nodes``/``_copy_node``: every dataset name renamed as Kedro does."""

    def rename(name: str) -> str:
        if name in mapping:
            return mapping[name]
        if name == "parameters":
            return name
        base, _, suffix = name.partition("@")
        if "@" in name and base in mapping:
            return f"{mapping[base]}@{suffix}"
        if prefix and namespace:
            if name.startswith("params:"):
                return f"params:{namespace}.{name[len('params:'):]}"
            return f"{namespace}.{name}"
        return name

    def names(value: DatasetNames) -> DatasetNames:
        if value is None:
            return None
        if isinstance(value, str):
            return rename(value)
        if isinstance(value, dict):
            return {k: rename(v) for k, v in value.items()}
        return [rename(v) for v in value]

    result = []
    for node in nodes:
        space = node.namespace
        if namespace:
            space = f"{namespace}.{node.namespace}" if node.namespace else namespace
        result.append(replace(node, inputs=names(node.inputs), outputs=names(node.outputs),
                              confirms=names(node.confirms), namespace=space))
    return result


def strip_transcoding(name: str) -> str:
    return name.partition("@")[0]


def _to_list(value: DatasetNames) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return list(value.values())
    return list(value)


class Evaluator:
    """Evaluates pipeline-building code; ``dynamic`` is set when something was not followed."""

    def __init__(self, ctx: AnalysisContext, kedro_module: Callable[[ModuleInfo], str],
                 find_pipelines: Callable[[ModuleInfo, cst.Call, "Evaluator"], Any]) -> None:
        self.ctx = ctx
        self.kedro_module = kedro_module
        self.find_pipelines = find_pipelines
        self.dynamic = False
        self._stack: list[str] = []

    # ------------------------------------------------------------------ reporting
    def not_followed(self, module: ModuleInfo, node: cst.CSTNode, what: str) -> Opaque:
        self.dynamic = True
        self.ctx.warn_dynamic(module, module.line(node), what)
        return Opaque(what)

    # ------------------------------------------------------------------ functions
    def call_function(self, symbol: Symbol, args: list[tuple[Optional[str], Any]], module: ModuleInfo,
                      where: cst.CSTNode) -> Any:
        """A repo-local function called with evaluated arguments: its body, walked."""
        function = symbol.node
        if not isinstance(function, cst.FunctionDef) or symbol.qualified_name in self._stack \
                or len(self._stack) >= _MAX_DEPTH:
            return self.not_followed(module, where, f"a call of '{symbol.qualified_name}' (recursive or too deep)")
        env: dict[str, Any] = {}
        params = function.params
        positional = [*params.posonly_params, *params.params]
        extra_keywords: dict[str, Any] = {}
        extra_positional: list[Any] = []
        index = 0
        for keyword, value in args:
            if keyword == "**":
                if isinstance(value, dict):
                    for k, v in value.items():
                        args.append((k, v))
                    continue
                return self.not_followed(module, where, f"'**' arguments to '{symbol.qualified_name}'")
            if keyword is None:
                if index < len(positional):
                    env[positional[index].name.value] = value
                else:
                    extra_positional.append(value)
                index += 1
            elif any(p.name.value == keyword for p in (*positional, *params.kwonly_params)):
                env[keyword] = value
            else:
                extra_keywords[keyword] = value
        for param in (*positional, *params.kwonly_params):
            if param.name.value not in env:
                if param.default is None:
                    return self.not_followed(module, where, f"'{symbol.qualified_name}' called without "
                                             f"'{param.name.value}'")
                env[param.name.value] = self.evaluate(param.default, {}, symbol.module)
        if isinstance(params.star_arg, cst.Param):
            env[params.star_arg.name.value] = extra_positional
        if params.star_kwarg is not None:
            env[params.star_kwarg.name.value] = extra_keywords
        self._stack.append(symbol.qualified_name)
        try:
            result = self.block(function.body, env, symbol.module)
        finally:
            self._stack.pop()
        if isinstance(result, KPipe) and result.origin is None:
            result = KPipe(result.nodes, symbol)
        return result

    def block(self, block: cst.BaseSuite, env: dict[str, Any], module: ModuleInfo) -> Any:
        """Run statements; the value of the first ``return`` reached (None without one)."""
        statements = block.body if isinstance(block, cst.IndentedBlock) else [block]
        for statement in statements:
            if isinstance(statement, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                smalls = statement.body
            elif isinstance(statement, cst.For):
                self._loop(statement, env, module)
                continue
            elif isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                continue  # a nested definition runs nothing by being defined
            else:
                self.not_followed(module, statement, f"a '{type(statement).__name__}' statement where a Kedro "
                                  "pipeline is built")
                continue
            for small in smalls:
                returned, value = self._small(small, env, module)
                if returned:
                    return value
        return None

    def _small(self, small: cst.BaseSmallStatement, env: dict[str, Any], module: ModuleInfo) -> tuple[bool, Any]:
        if isinstance(small, cst.Return):
            return True, self.evaluate(small.value, env, module) if small.value is not None else None
        if isinstance(small, cst.Assign):
            value = self.evaluate(small.value, env, module)
            for target in small.targets:
                self._bind(target.target, value, env, module)
        elif isinstance(small, cst.AnnAssign) and small.value is not None:
            self._bind(small.target, self.evaluate(small.value, env, module), env, module)
        elif isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name):
            current = env.get(small.target.value, Opaque(small.target.value))
            operator = {cst.AddAssign: "+", cst.SubtractAssign: "-", cst.BitOrAssign: "|",
                        cst.BitAndAssign: "&"}.get(type(small.operator))
            right = self.evaluate(small.value, env, module)
            env[small.target.value] = self._operate(operator or "?", current, right, module, small)
        elif isinstance(small, cst.Expr):
            if isinstance(small.value, cst.Call):
                self._mutating_call(small.value, env, module)
            # anything else is a docstring, a bare literal or name: no effect on the pipeline
        elif isinstance(small, (cst.Import, cst.ImportFrom, cst.Pass)):
            pass
        else:
            self.not_followed(module, small, f"a '{type(small).__name__}' statement where a Kedro pipeline is built")
        return False, None

    def _mutating_call(self, call: cst.Call, env: dict[str, Any], module: ModuleInfo) -> None:
        """``pipes.append(p)``, ``pipes.extend([...])``, ``registry.update({...})``."""
        func = call.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value in env:
            target = env[func.value.value]
            method = func.attr.value
            args = [self.evaluate(a.value, env, module) for a in call.args]
            if method == "append" and isinstance(target, list) and len(args) == 1:
                target.append(args[0])
                return
            if method == "extend" and isinstance(target, list) and len(args) == 1 and isinstance(args[0], list):
                target.extend(args[0])
                return
            if method == "update" and isinstance(target, dict) and len(args) == 1 and isinstance(args[0], dict):
                target.update(args[0])
                return
        value = self.evaluate(call, env, module)
        if not isinstance(value, Opaque):
            self.not_followed(module, call, "a call whose result is dropped where a Kedro pipeline is built")

    def _loop(self, statement: cst.For, env: dict[str, Any], module: ModuleInfo) -> None:
        items = self.evaluate(statement.iter, env, module)
        if not isinstance(items, list) or len(items) > _MAX_UNROLL or statement.orelse is not None:
            self.not_followed(module, statement, "a loop over values known only at run time")
            return
        for item in items:
            self._bind(statement.target, item, env, module)
            if self.block(statement.body, env, module) is not None:
                self.not_followed(module, statement, "a 'return' inside a loop")
                return

    def _bind(self, target: cst.BaseExpression, value: Any, env: dict[str, Any], module: ModuleInfo) -> None:
        if isinstance(target, cst.Name):
            env[target.value] = value
        elif isinstance(target, (cst.Tuple, cst.List)) and isinstance(value, list) \
                and len(value) == len(target.elements):
            for element, item in zip(target.elements, value):
                self._bind(element.value, item, env, module)
        elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name) \
                and isinstance(env.get(target.value.value), dict) and len(target.slice) == 1 \
                and isinstance(target.slice[0].slice, cst.Index):
            key = self.evaluate(target.slice[0].slice.value, env, module)
            if isinstance(key, str):
                env[target.value.value][key] = value
                return
            self.not_followed(module, target, "a registry key computed at run time")
        else:
            self.not_followed(module, target, "an assignment pvcheck cannot follow where a Kedro pipeline is built")
            if isinstance(target, cst.Name):
                env[target.value] = Opaque("")

    # ------------------------------------------------------------------ expressions
    def evaluate(self, expression: cst.BaseExpression, env: dict[str, Any], module: ModuleInfo) -> Any:
        literal = literal_value(expression)
        if is_literal(literal):
            return literal
        if isinstance(expression, cst.Name):
            if expression.value in env:
                return env[expression.value]
            return self._global(expression, module)
        if isinstance(expression, cst.Attribute):
            return self._global(expression, module)
        if isinstance(expression, (cst.List, cst.Tuple, cst.Set)):
            items: list[Any] = []
            for element in expression.elements:
                value = self.evaluate(element.value, env, module)
                if isinstance(element, cst.StarredElement):
                    if not isinstance(value, list):
                        return self.not_followed(module, element, "a starred value known only at run time")
                    items.extend(value)
                else:
                    items.append(value)
            return items
        if isinstance(expression, cst.Dict):
            result: dict[Any, Any] = {}
            for element in expression.elements:
                if isinstance(element, cst.DictElement):
                    result[_hashable(self.evaluate(element.key, env, module))] = self.evaluate(element.value, env,
                                                                                                 module)
                else:
                    spread = self.evaluate(element.value, env, module)
                    if not isinstance(spread, dict):
                        return self.not_followed(module, element, "a '**' value known only at run time")
                    result.update(spread)
            return result
        if isinstance(expression, cst.FormattedString):
            return self._fstring(expression, env, module)
        if isinstance(expression, cst.BinaryOperation):
            operator = {cst.Add: "+", cst.Subtract: "-", cst.BitOr: "|", cst.BitAnd: "&"}.get(type(expression.operator))
            left = self.evaluate(expression.left, env, module)
            right = self.evaluate(expression.right, env, module)
            return self._operate(operator or "?", left, right, module, expression)
        if isinstance(expression, cst.Subscript):
            return self._subscript(expression, env, module)
        if isinstance(expression, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
            return self._comprehension(expression, env, module)
        if isinstance(expression, cst.Call):
            return self._call(expression, env, module)
        return self.not_followed(module, expression, "an expression pvcheck cannot evaluate where a Kedro pipeline "
                                 "is built")

    def _global(self, expression: cst.BaseExpression, module: ModuleInfo) -> Any:
        """A module-level name: a literal constant, or a pipeline assigned at module level."""
        value = self.ctx.value(expression, module)
        if not (isinstance(value, dict) and ("$ref" in value or "$expr" in value or "$call" in value)):
            return value
        names = module.qualified_names(expression)
        resolved = self.ctx.index.resolve(next(iter(names))) if len(names) == 1 else None
        if resolved is not None and not resolved[1]:
            symbol = resolved[0]
            assignments = [s for s in symbol.module.symbols.get(symbol.name, []) if s.kind == "constant"]
            if symbol.kind == "constant" and len(assignments) == 1 and isinstance(symbol.node, cst.Assign) \
                    and symbol.qualified_name not in self._stack and len(self._stack) < _MAX_DEPTH:
                self._stack.append(symbol.qualified_name)
                try:
                    return self.evaluate(symbol.node.value, {}, symbol.module)
                finally:
                    self._stack.pop()
        return self.not_followed(module, expression, f"'{module.code(expression)}' is not a value pvcheck can read")

    def _fstring(self, expression: cst.FormattedString, env: dict[str, Any], module: ModuleInfo) -> Any:
        text = []
        for part in expression.parts:
            if isinstance(part, cst.FormattedStringText):
                text.append(part.value)
                continue
            assert isinstance(part, cst.FormattedStringExpression)
            value = self.evaluate(part.expression, env, module)
            if part.conversion is not None or part.format_spec is not None \
                    or not isinstance(value, (str, int)) or isinstance(value, bool):
                return self.not_followed(module, expression, "a name computed at run time")
            text.append(str(value))
        return "".join(text)

    def _operate(self, operator: str, left: Any, right: Any, module: ModuleInfo, where: cst.CSTNode) -> Any:
        if isinstance(left, Opaque) or isinstance(right, Opaque):
            return Opaque("")
        if operator == "+" and left == 0 and isinstance(right, KPipe) and not isinstance(left, bool):
            return right  # Pipeline.__radd__: sum() starts from 0
        if isinstance(left, KPipe) and isinstance(right, KPipe):
            if operator in "+|":
                return KPipe(_union(left.nodes, right.nodes))
            if operator == "-":
                gone = {_key(n) for n in right.nodes}
                return KPipe([n for n in left.nodes if _key(n) not in gone])
            if operator == "&":
                kept = {_key(n) for n in right.nodes}
                return KPipe([n for n in left.nodes if _key(n) in kept])
        if operator == "+" and isinstance(left, (str, list)) and type(left) is type(right):
            return left + right
        return self.not_followed(module, where, "an operation pvcheck cannot evaluate where a Kedro pipeline is built")

    def _subscript(self, expression: cst.Subscript, env: dict[str, Any], module: ModuleInfo) -> Any:
        container = self.evaluate(expression.value, env, module)
        if len(expression.slice) == 1 and isinstance(expression.slice[0].slice, cst.Index):
            key = self.evaluate(expression.slice[0].slice.value, env, module)
            if isinstance(container, dict) and _hashable(key) in container:
                return container[_hashable(key)]
            if isinstance(container, list) and isinstance(key, int) and -len(container) <= key < len(container):
                return container[key]
        return self.not_followed(module, expression, "a look-up pvcheck cannot evaluate")

    def _comprehension(self, expression: Union[cst.ListComp, cst.GeneratorExp, cst.SetComp], env: dict[str, Any],
                       module: ModuleInfo) -> Any:
        clauses = []
        clause: Optional[cst.CompFor] = expression.for_in
        while clause is not None:
            clauses.append(clause)
            clause = clause.inner_for_in
        results: list[Any] = []

        def walk(level: int, scope: dict[str, Any]) -> bool:
            if level == len(clauses):
                results.append(self.evaluate(expression.elt, scope, module))
                return True
            clause = clauses[level]
            items = self.evaluate(clause.iter, scope, module)
            if not isinstance(items, list) or len(items) > _MAX_UNROLL or clause.asynchronous is not None:
                self.not_followed(module, clause, "a comprehension over values known only at run time")
                return False
            for item in items:
                inner = dict(scope)
                self._bind(clause.target, item, inner, module)
                keep = True
                for condition in clause.ifs:
                    verdict = self.evaluate(condition.test, inner, module)
                    if not isinstance(verdict, bool):
                        self.not_followed(module, condition, "a comprehension condition known only at run time")
                        return False
                    keep = keep and verdict
                if keep and not walk(level + 1, inner):
                    return False
            return True

        if not walk(0, dict(env)):
            return Opaque("")
        return results

    # ------------------------------------------------------------------ calls
    def _call(self, call: cst.Call, env: dict[str, Any], module: ModuleInfo) -> Any:
        func = call.func
        root = func
        while isinstance(root, cst.Attribute):
            root = root.value
        if isinstance(func, cst.Attribute) and not (isinstance(root, cst.Name) and root.value not in env
                                                     and module.qualified_names(func)):
            return self._method(call, func, env, module)  # on a value: pipes.values(), p.tag(...)
        if isinstance(func, cst.Name) and func.value in env:
            return self.not_followed(module, call, f"a call of the local value '{func.value}'")
        names = module.qualified_names(func) if isinstance(func, (cst.Name, cst.Attribute)) else frozenset()
        if names & NODE:
            return self._node(call, env, module)
        if names & PIPELINE:
            return self._pipeline(call, env, module)
        if names & FIND_PIPELINES:
            return self.find_pipelines(module, call, self)
        if names == {"sum"}:
            return self._sum(call, env, module)
        if names & {"list", "tuple"} and len(call.args) == 1:
            value = self.evaluate(call.args[0].value, env, module)
            return list(value) if isinstance(value, (list, dict)) else value
        if names == {"dict"} and all(a.keyword is not None for a in call.args):
            return {a.keyword.value: self.evaluate(a.value, env, module) for a in call.args if a.keyword}
        symbol = self.ctx.resolve_callee(module, func)
        if symbol is not None and symbol.kind == "function":
            args = self._arguments(call, env, module)
            return self.call_function(symbol, args, module, call) if args is not None else Opaque("")
        return self.not_followed(module, call, f"a call of '{module.code(func)}' where a Kedro pipeline is built")

    def _arguments(self, call: cst.Call, env: dict[str, Any], module: ModuleInfo) -> Optional[list[tuple[
            Optional[str], Any]]]:
        args: list[tuple[Optional[str], Any]] = []
        for arg in call.args:
            value = self.evaluate(arg.value, env, module)
            if arg.star == "*":
                if not isinstance(value, list):
                    self.not_followed(module, arg, "'*' arguments known only at run time")
                    return None
                args.extend((None, v) for v in value)
            elif arg.star == "**":
                args.append(("**", value))
            else:
                args.append((arg.keyword.value if arg.keyword is not None else None, value))
        return args

    def _method(self, call: cst.Call, func: cst.Attribute, env: dict[str, Any], module: ModuleInfo) -> Any:
        target = self.evaluate(func.value, env, module)
        method = func.attr.value
        if isinstance(target, dict) and method in ("values", "keys", "items") and not call.args:
            return {"values": list(target.values()), "keys": list(target.keys()),
                    "items": [[k, v] for k, v in target.items()]}[method]
        if isinstance(target, dict) and method == "get" and call.args:
            key = self.evaluate(call.args[0].value, env, module)
            if _hashable(key) in target:
                return target[_hashable(key)]
            return self.evaluate(call.args[1].value, env, module) if len(call.args) > 1 else None
        if isinstance(target, dict) and method == "copy" and not call.args:
            return dict(target)
        if isinstance(target, KPipe) and method == "tag" and len(call.args) == 1:
            tags = self.evaluate(call.args[0].value, env, module)
            tags = [tags] if isinstance(tags, str) else tags
            if isinstance(tags, list) and all(isinstance(t, str) for t in tags):
                return KPipe([replace(n, tags=tuple(sorted({*n.tags, *tags}))) for n in target.nodes], target.origin)
        if isinstance(target, Opaque):
            return target
        return self.not_followed(module, call, f"'.{method}(...)' where a Kedro pipeline is built")

    def _sum(self, call: cst.Call, env: dict[str, Any], module: ModuleInfo) -> Any:
        if not call.args or call.args[0].keyword is not None:
            return self.not_followed(module, call, "sum() without a sequence")
        items = self.evaluate(call.args[0].value, env, module)
        start: Any = 0
        for arg in call.args[1:]:
            start = self.evaluate(arg.value, env, module)
        if not isinstance(items, list):
            return self.not_followed(module, call, "sum() over values known only at run time")
        total = start
        for item in items:
            total = self._operate("+", total, item, module, call)
        if total == 0 and not isinstance(total, bool):
            return KPipe([])  # sum of nothing: Kedro's registries use it for an empty pipeline
        return total

    def _node(self, call: cst.Call, env: dict[str, Any], module: ModuleInfo) -> Any:
        positional = ["func", "inputs", "outputs", "name", "tags", "confirms", "namespace"]
        values: dict[str, cst.BaseExpression] = {}
        for index, arg in enumerate(call.args):
            if arg.star:
                return self.not_followed(module, arg, "'*' or '**' arguments to node()")
            key = arg.keyword.value if arg.keyword is not None else (positional[index] if index < len(positional)
                                                                      else "?")
            values[key] = arg.value
        if "func" not in values:
            return self.not_followed(module, call, "node() without a function")
        func = self._func(values["func"], env, module)
        if func is None:
            return Opaque("")
        options = {}
        if "preview_fn" in values:  # what Kedro-Viz shows for the node; never part of a run
            options["preview_fn"] = self.ctx.value(values.pop("preview_fn"), module)
        evaluated = {k: self.evaluate(v, env, module) for k, v in values.items() if k != "func"}
        for key in ("inputs", "outputs", "confirms"):
            if not _names_ok(evaluated.get(key)):
                return self.not_followed(module, values[key], f"node {key} pvcheck cannot read")
        for key in ("name", "namespace"):
            if evaluated.get(key) is not None and not isinstance(evaluated[key], str):
                return self.not_followed(module, values[key], f"a node {key} computed at run time")
        tags = evaluated.get("tags")
        tags = [tags] if isinstance(tags, str) else (tags or [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            return self.not_followed(module, values["tags"], "node tags computed at run time")
        unknown = sorted(set(evaluated) - {"inputs", "outputs", "name", "tags", "confirms", "namespace"})
        if unknown:
            self.not_followed(module, call, f"node() argument(s) {', '.join(unknown)}")
        return KPipe([KNode(func, evaluated.get("inputs"), evaluated.get("outputs"), evaluated.get("name"),
                            evaluated.get("namespace"), tuple(sorted(set(tags))), evaluated.get("confirms"),
                            module, call, options)])

    def _func(self, expression: cst.BaseExpression, env: dict[str, Any], module: ModuleInfo) -> Optional[Func]:
        """The function a node runs: repo-local (its code and helpers are its body),
        ``functools.partial`` of one, a lambda, or a third-party function (by name)."""
        if isinstance(expression, cst.Call) and isinstance(expression.func, (cst.Name, cst.Attribute)) \
                and module.qualified_names(expression.func) & PARTIAL and expression.args:
            inner = self._func(expression.args[0].value, env, module)
            if inner is None:
                return None
            bound = {}
            for position, arg in enumerate(expression.args[1:]):
                if arg.star:
                    self.not_followed(module, arg, "'*' arguments to functools.partial")
                    return None
                bound[arg.keyword.value if arg.keyword else f"#{position}"] = self.ctx.value(arg.value, module)
            taken = {k for k in bound if not k.startswith("#")}
            skip = len([k for k in bound if k.startswith("#")])
            parameters = tuple(p for p in inner.parameters[skip:] if p not in taken)
            return replace(inner, partial=True, parameters=parameters, bound=bound)
        if isinstance(expression, cst.Lambda):
            symbol = Symbol(module, "<lambda>", "function", expression)
            definition = StepDefinition(symbol, "kedro", "node", "<lambda>",
                                        body_parts=(BodyPart("lambda", node=expression),))
            params = tuple(p.name.value for p in (*expression.params.posonly_params, *expression.params.params,
                                                  *expression.params.kwonly_params))
            return Func(definition, self.kedro_module(module), "<lambda>", parameters=params)
        if not isinstance(expression, (cst.Name, cst.Attribute)) or (isinstance(expression, cst.Name)
                                                                      and expression.value in env):
            self.not_followed(module, expression, "a node function pvcheck cannot resolve")
            return None
        symbol = self.ctx.resolve_callee(module, expression)
        if symbol is not None and isinstance(symbol.node, cst.FunctionDef):
            function = symbol.node
            definition = StepDefinition(symbol, "kedro", "node", function.name.value)
            params = tuple(p.name.value for p in (*function.params.posonly_params, *function.params.params,
                                                  *function.params.kwonly_params))
            return Func(definition, self.kedro_module(symbol.module), function.name.value, parameters=params)
        names = module.qualified_names(expression)
        if len(names) == 1 and symbol is None and not self.ctx.index.resolve(next(iter(names))):
            qualified = next(iter(names))
            # a third-party function: what it computes is its name (and its package's version)
            holder = Symbol(module, qualified, "function", expression)
            definition = StepDefinition(holder, "kedro", "node", qualified.rpartition(".")[2],
                                        body_parts=(BodyPart("function", value=qualified),))
            return Func(definition, qualified.rpartition(".")[0], qualified.rpartition(".")[2])
        self.not_followed(module, expression, f"the node function '{module.code(expression)}' is not a function "
                          "pvcheck can read")
        return None

    def _pipeline(self, call: cst.Call, env: dict[str, Any], module: ModuleInfo) -> Any:
        if not call.args or call.args[0].keyword not in (None,) and call.args[0].keyword.value != "nodes":
            return self.not_followed(module, call, "pipeline() without nodes")
        nodes_value = self.evaluate(call.args[0].value, env, module)
        options: dict[str, Any] = {}
        for arg in call.args[1:]:
            if arg.keyword is None or arg.star:
                return self.not_followed(module, arg, "pipeline() arguments pvcheck cannot read")
            options[arg.keyword.value] = self.evaluate(arg.value, env, module)
        items = [nodes_value] if isinstance(nodes_value, KPipe) else nodes_value
        if not isinstance(items, list):
            return self.not_followed(module, call, "pipeline() nodes known only at run time")
        nodes: list[KNode] = []
        for item in items:
            if isinstance(item, KPipe):
                nodes = _union(nodes, item.nodes)
            elif isinstance(item, Opaque):
                self.dynamic = True  # already reported; the rest of the pipeline is still read
            else:
                return self.not_followed(module, call, "pipeline() over something that is not a node or a pipeline")
        if any(isinstance(v, Opaque) for v in options.values()):
            return Opaque("")
        namespace = options.get("namespace")
        mapping: dict[str, str] = {}
        for key in ("inputs", "outputs"):
            names = _mapping(options.get(key), lambda n: n)
            if names is None:
                return self.not_followed(module, call, f"pipeline() {key} pvcheck cannot read")
            mapping.update(names)
        params = _mapping(options.get("parameters"),
                          lambda n: n if n.startswith("params:") else f"params:{n}")
        if params is None:
            return self.not_followed(module, call, "pipeline() parameters pvcheck cannot read")
        mapping.update(params)
        prefix = options.get("prefix_datasets_with_namespace", True)
        if namespace is not None and not isinstance(namespace, str) or not isinstance(prefix, bool):
            return self.not_followed(module, call, "a namespace computed at run time")
        if namespace or mapping:
            nodes = namespaced(nodes, namespace, mapping, prefix)
        tags = options.get("tags")
        if tags:
            tags = [tags] if isinstance(tags, str) else tags
            if not isinstance(tags, list):
                return self.not_followed(module, call, "pipeline tags computed at run time")
            nodes = [replace(n, tags=tuple(sorted({*n.tags, *tags}))) for n in nodes]
        unknown = sorted(set(options) - {"inputs", "outputs", "parameters", "namespace", "tags",
                                         "prefix_datasets_with_namespace"})
        if unknown:
            self.not_followed(module, call, f"pipeline() argument(s) {', '.join(unknown)}")
        return KPipe(nodes)


def _names_ok(value: Any) -> bool:
    if value is None or isinstance(value, str):
        return True
    if isinstance(value, list):
        return all(isinstance(v, str) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    return False


def _mapping(value: Any, normalise: Callable[[str], str]) -> Optional[dict[str, str]]:
    """``_get_dataset_names_mapping`` / ``_get_param_names_mapping``."""
    if value is None:
        return {}
    if isinstance(value, str):
        return {normalise(value): normalise(value)}
    if isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return {normalise(k): normalise(v) for k, v in value.items()}
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return {normalise(v): normalise(v) for v in value}
    return None


def _key(node: KNode) -> tuple[Any, ...]:
    """What makes two nodes equal for Kedro (``Node._unique_key``): name, inputs, outputs."""
    def hashable(value: DatasetNames) -> Any:
        if isinstance(value, dict):
            return tuple(sorted(value.items()))
        if isinstance(value, list):
            return tuple(value)
        return value

    return (id(node.func.definition.symbol.node), node.name, node.namespace, hashable(node.inputs),
            hashable(node.outputs))


def _union(left: list[KNode], right: list[KNode]) -> list[KNode]:
    seen = {_key(n) for n in left}
    result = list(left)
    for node in right:
        if _key(node) not in seen:
            seen.add(_key(node))
            result.append(node)
    return result


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
