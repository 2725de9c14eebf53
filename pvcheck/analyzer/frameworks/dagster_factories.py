"""Dagster asset factories: a function that defines an ``@asset`` inside and returns it,
called at module level with literal arguments (``orders = make_table_asset("orders")``).

Dagster sees one asset per call, keyed by what the inner decorator's ``name=`` / ``key=``
/ ``key_prefix=`` evaluate to with the call's arguments. pvcheck mirrors that statically:
each call becomes an asset whose code is the whole factory (the inner function reads the
factory's parameters) plus the call's arguments (a changed argument changes the asset).
A factory whose key needs more than literals and the factory's own parameters is a
diagnostic, never a silently missing asset.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, Optional

import libcst as cst

from pvcheck.analyzer.frameworks.base import BodyPart, StepDefinition
from pvcheck.analyzer.module import ModuleInfo, Symbol
from pvcheck.analyzer.values import is_literal, literal_value
from pvcheck.model import Output

if TYPE_CHECKING:
    from pvcheck.analyzer.context import AnalysisContext
    from pvcheck.analyzer.frameworks.dagster import AssetNode, AssetRegistry
    from pvcheck.analyzer.index import ProjectIndex

_NOT_LITERAL = object()


def factory_names(index: "ProjectIndex", modules: list[ModuleInfo]) -> set[bytes]:
    """The names of the asset factories these modules define (for a byte pre-filter).
    Each module's are kept per index while its tree stays (a history walk rebuilds the
    registry at every commit that changes an asset module: 29 ms a commit on a project
    of 110 Dagster modules); they depend on that module alone."""
    found: set[bytes] = set()
    for module in modules:
        kept = index.remember(("dagster-factory-names", module.name),
                              lambda module=module: (module, _factories(module)))
        found |= kept[1] if kept[0] is module else _factories(module)  # a re-parse, or a second file of the name
    return found


def _factories(module: ModuleInfo) -> frozenset[bytes]:
    from pvcheck.analyzer.frameworks.dagster import ASSET

    return frozenset(statement.name.value.encode() for statement in module.tree.body
                     if isinstance(statement, cst.FunctionDef)
                     and _returned_asset(statement, module, ASSET) is not None)


def calls_factory(ctx: "AnalysisContext", module: ModuleInfo) -> bool:
    """Whether a module-level call in ``module`` (where :func:`factory_assets` looks) is of
    a repo-local asset factory: a fact of the module and of what its calls resolve to
    (recorded), not of the tree's list of factories."""
    from pvcheck.analyzer.frameworks.dagster import ASSET

    for call in _top_calls(module):
        factory = ctx.resolve_callee(module, call.func)
        if factory is not None and factory.kind == "function" and isinstance(factory.node, cst.FunctionDef) \
                and _returned_asset(factory.node, factory.module, ASSET) is not None:
            return True
    return False


def _top_calls(module: ModuleInfo) -> Iterator[cst.Call]:
    for statement in module.tree.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            value = small.value if isinstance(small, (cst.Assign, cst.AnnAssign, cst.Expr)) else None
            calls = [e.value for e in value.elements] if isinstance(value, (cst.List, cst.Tuple)) else [value]
            yield from (call for call in calls if isinstance(call, cst.Call))


def factory_assets(registry: "AssetRegistry", module: ModuleInfo) -> Iterator["AssetNode"]:
    """The assets that module-level calls of repo-local factories in ``module`` make."""
    for call in _top_calls(module):
        node = _factory_call(registry, module, call)
        if node is not None:
            yield node


def _factory_call(registry: "AssetRegistry", module: ModuleInfo, call: cst.Call) -> Optional["AssetNode"]:
    from pvcheck.analyzer.frameworks.dagster import ASSET, DEFAULT_OUTPUT, AssetNode, _keyword

    ctx = registry.ctx
    factory = ctx.resolve_callee(module, call.func)
    if factory is None or factory.kind != "function" or not isinstance(factory.node, cst.FunctionDef):
        return None
    inner = _returned_asset(factory.node, factory.module, ASSET)
    if inner is None:
        return None
    function, decorator_call = inner
    bindings = _bindings(factory.node, call)
    if bindings is None:
        registry._not_followed(module, call, f"an asset factory '{factory.name}' called with values "
                                             "computed at run time")
        return None
    key = _key(decorator_call, function, bindings)
    if key is None:
        registry._not_followed(module, call, f"the asset key an asset factory '{factory.name}' makes")
        return None
    group = _evaluate(_value_node(_keyword(decorator_call, "group_name")), bindings)
    config, lines = ctx.keyword_config(decorator_call, factory.module,
                                       skip=("name", "key", "key_prefix", "ins", "deps", "group_name"))
    symbol = Symbol(factory.module, f"{factory.name}[{key}]", "function", factory.node)
    definition = StepDefinition(symbol, "dagster", "asset", key, config, lines, (Output(DEFAULT_OUTPUT),),
                                (BodyPart("factory arguments", value=bindings),))
    return AssetNode(symbol, definition, key, {key: DEFAULT_OUTPUT}, {}, [],
                     group if isinstance(group, str) else "default", module.line(call), False,
                     decorated=(function, decorator_call, factory.module), called_in=module, call=call)


def _returned_asset(factory: cst.FunctionDef, module: ModuleInfo, names: frozenset[str]
                    ) -> Optional[tuple[cst.FunctionDef, Optional[cst.Call]]]:
    """The ``@asset`` function defined directly in ``factory``'s body and returned by it."""
    from pvcheck.analyzer.frameworks.dagster import _decorator

    if not isinstance(factory.body, cst.IndentedBlock):
        return None
    defined: dict[str, tuple[cst.FunctionDef, Optional[cst.Call]]] = {}
    returned: Optional[str] = None
    for statement in factory.body.body:
        if isinstance(statement, cst.FunctionDef):
            found = _decorator(statement, module, names)
            if found is not None:
                defined[statement.name.value] = (statement, found[1])
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Return) and isinstance(small.value, cst.Name):
                    returned = small.value.value
    return defined.get(returned) if returned is not None else None


def _bindings(factory: cst.FunctionDef, call: cst.Call) -> Optional[dict[str, Any]]:
    """Parameter -> literal value for this call (defaults included); None when an
    argument is not a literal."""
    params = [*factory.params.posonly_params, *factory.params.params, *factory.params.kwonly_params]
    bound: dict[str, Any] = {}
    positional = [a for a in call.args if a.keyword is None]
    if any(a.star for a in call.args) or len(positional) > len(factory.params.posonly_params) \
            + len(factory.params.params):
        return None
    for param, arg in zip([*factory.params.posonly_params, *factory.params.params], positional):
        bound[param.name.value] = _literal(arg.value)
    for arg in call.args:
        if arg.keyword is not None:
            bound[arg.keyword.value] = _literal(arg.value)
    for param in params:
        if param.name.value not in bound and param.default is not None:
            bound[param.name.value] = _literal(param.default)
    if any(value is _NOT_LITERAL for value in bound.values()):
        return None
    return bound


def _literal(node: cst.BaseExpression) -> Any:
    """A plain literal, or a list/tuple of them; ``_NOT_LITERAL`` otherwise."""
    if isinstance(node, (cst.List, cst.Tuple)):
        values = [_literal(e.value) if isinstance(e, cst.Element) else _NOT_LITERAL for e in node.elements]
        return _NOT_LITERAL if any(v is _NOT_LITERAL for v in values) else values
    value = literal_value(node)
    return value if is_literal(value) else _NOT_LITERAL


def _key(call: Optional[cst.Call], function: cst.FunctionDef, bindings: dict[str, Any]) -> Optional[str]:
    """The inner decorator's asset key with the factory's arguments in place."""
    from pvcheck.analyzer.frameworks.dagster import _keyword

    key = _evaluate(_value_node(_keyword(call, "key")), bindings)
    if _keyword(call, "key") is not None:
        return _path(key)
    name = _evaluate(_value_node(_keyword(call, "name")), bindings) if _keyword(call, "name") is not None \
        else function.name.value
    prefix = _evaluate(_value_node(_keyword(call, "key_prefix")), bindings) \
        if _keyword(call, "key_prefix") is not None else []
    name_path, prefix_path = _path(name), _path(prefix) if prefix != [] else ""
    if name_path is None or prefix_path is None:
        return None
    return "/".join(p for p in (prefix_path, name_path) if p)


def _evaluate(node: Optional[cst.BaseExpression], bindings: dict[str, Any]) -> Any:
    """A literal, a factory parameter, or an f-string of them; None otherwise."""
    if node is None:
        return None
    if isinstance(node, cst.Name) and node.value in bindings:
        return bindings[node.value]
    if isinstance(node, cst.FormattedString):
        parts = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                parts.append(part.value)
            elif isinstance(part, cst.FormattedStringExpression) and part.format_spec is None \
                    and part.conversion is None:
                value = _evaluate(part.expression, bindings)
                if not isinstance(value, (str, int)):
                    return None
                parts.append(str(value))
            else:
                return None
        return "".join(parts)
    if isinstance(node, (cst.List, cst.Tuple)):
        values = [_evaluate(e.value, bindings) for e in node.elements]
        return None if any(v is None for v in values) else values
    value = _literal(node)
    return None if value is _NOT_LITERAL else value


def _path(value: Any) -> Optional[str]:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return "/".join(value)
    return None


def _value_node(arg: Optional[cst.Arg]) -> Optional[cst.BaseExpression]:
    return arg.value if arg is not None else None
