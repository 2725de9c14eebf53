"""Repo-local definitions a step reaches through the types of its parameters.

A framework builds some of a step's arguments from their annotations: Dagster makes a
``Config`` from run config and hands over the ``ConfigurableResource`` bound to the
parameter, ZenML and Prefect validate a pydantic model, Flyte a dataclass. The step then
calls the object's methods through the parameter (``warehouse.rows()``) and reads its
defaults (``config.threshold``) -- code its body never names. So every repo-local class
(or type alias, or validator function) named in a step's parameter or return
annotations joins the step's reach: all its methods, class attributes, defaults,
decorators and repo-local bases, as for any helper.

Annotations are read the way a type checker reads them, without evaluating anything:
``Optional[X]``, ``list[X]``, ``X | None``, ``Annotated[X, Field(...)]``, dotted names,
and string (forward) annotations, which are parsed as expressions and resolved in the
step's module. Strings that are not types -- ``Literal["a"]`` values, the output names
ZenML puts in ``Annotated[T, "name"]`` -- are not names of anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator, Optional

import libcst as cst

from pvcheck.analyzer.canonical import dotted_name
from pvcheck.analyzer.module import ModuleInfo, Symbol

if TYPE_CHECKING:
    from pvcheck.analyzer.index import ProjectIndex

_MAX_DEPTH = 16  # nesting of subscripts and string annotations inside strings
#: Subscripts whose arguments are values, not types.
_VALUE_SUBSCRIPTS = frozenset({"Literal"})
#: Subscripts whose first argument is the type and the rest is metadata.
_METADATA_SUBSCRIPTS = frozenset({"Annotated"})


def annotation_references(function: cst.FunctionDef, module: ModuleInfo, index: "ProjectIndex") -> list[Symbol]:
    """The repo-local definitions named in ``function``'s parameter and return annotations,
    in source order, each once."""
    annotations = [p.annotation.annotation for p in _params(function.params) if p.annotation is not None]
    if function.returns is not None:
        annotations.append(function.returns.annotation)
    found: dict[str, Symbol] = {}
    for annotation in annotations:
        for symbol in _references(annotation, module, index, True, False, 0):
            found.setdefault(symbol.qualified_name, symbol)
    return list(found.values())


def _params(params: cst.Parameters) -> list[cst.Param]:
    found = [*params.posonly_params, *params.params, *params.kwonly_params]
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            found.append(star)
    return found


def _references(node: cst.CSTNode, module: ModuleInfo, index: "ProjectIndex", is_type: bool, parsed: bool,
                depth: int) -> Iterator[Symbol]:
    """Definitions ``node`` names. ``is_type``: a string here is a forward reference;
    ``parsed``: ``node`` comes from a string, so it is not in the module's tree and its
    names are resolved as module-level names of ``module``."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(node, (cst.Name, cst.Attribute)):
        symbol = _resolve(node, module, index, parsed)
        if symbol is not None:
            yield symbol
            return
        if isinstance(node, cst.Attribute):  # ``self_module.Inner`` not resolved as a whole
            yield from _references(node.value, module, index, False, parsed, depth + 1)
        return
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        if is_type:
            yield from _forward(node, module, index, depth)
        return
    if isinstance(node, cst.Subscript):
        yield from _references(node.value, module, index, False, parsed, depth + 1)
        last = _last_name(node.value)
        if last in _VALUE_SUBSCRIPTS:
            return
        for position, element in enumerate(node.slice):
            if isinstance(element.slice, cst.Index):
                # ``Annotated[T, "output name", Field(...)]``: only T is a type; calls in
                # the metadata (validators, ``Field(default_factory=...)``) still count
                typed = is_type and (last not in _METADATA_SUBSCRIPTS or position == 0)
                yield from _references(element.slice.value, module, index, typed, parsed, depth + 1)
        return
    if isinstance(node, cst.BinaryOperation):  # ``X | None``
        yield from _references(node.left, module, index, is_type, parsed, depth + 1)
        yield from _references(node.right, module, index, is_type, parsed, depth + 1)
        return
    if isinstance(node, (cst.Tuple, cst.List)):  # ``Callable[[X], Y]``, ``tuple[X, Y]``
        for element in node.elements:
            yield from _references(element.value, module, index, is_type, parsed, depth + 1)
        return
    for child in node.children:  # a call in metadata: ``Field(default_factory=make)``
        yield from _references(child, module, index, False, parsed, depth + 1)


def _forward(node: cst.BaseString, module: ModuleInfo, index: "ProjectIndex", depth: int) -> Iterator[Symbol]:
    text = node.evaluated_value if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)) else None
    if not isinstance(text, str) or not text.strip():
        return
    try:
        parsed = cst.parse_expression(text.strip())
    except Exception:  # not an expression: a ZenML output name with spaces, say
        return
    yield from _references(parsed, module, index, True, True, depth + 1)


def _resolve(node: cst.BaseExpression, module: ModuleInfo, index: "ProjectIndex", parsed: bool) -> Optional[Symbol]:
    root = node
    while isinstance(root, cst.Attribute):
        root = root.value
    symbols = module.symbols
    if isinstance(root, cst.Name) and root.value not in symbols and not any(k.startswith("*") for k in symbols):
        return None  # ``int``, ``list``: bound nowhere in the module, so nothing of the tree
    if parsed:
        dotted = dotted_name(node)
        names = frozenset({f"{module.name}.{dotted}"}) if dotted else frozenset()
    else:
        names = module.qualified_names(node)
    for name in sorted(names):
        resolved = index.resolve(name)
        if resolved is not None and resolved[0].kind in ("class", "function", "constant"):
            return resolved[0]  # ``Outer.Inner``: the whole of ``Outer``
    return None


def _last_name(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return ""


__all__ = ["annotation_references"]
