"""Reading expressions as configuration values, and rendering them as normalised text.

:func:`to_value` turns literal code into JSON-compatible values (see :mod:`pvcheck.model`
for the tagged forms used for calls, references and other expressions).
:func:`render` gives short, stable text for an expression: names fully qualified,
literals by value, no formatting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional

import libcst as cst

from pvcheck.analyzer.module import ModuleInfo

if TYPE_CHECKING:
    from pvcheck.analyzer.index import ProjectIndex

_MAX_DEPTH = 12


def to_value(node: cst.BaseExpression, module: ModuleInfo, index: "ProjectIndex", _depth: int = 0) -> Any:
    """The JSON-compatible value of ``node``; repo-local constants are followed."""
    if _depth > _MAX_DEPTH:
        return {"$expr": render(node, module, index)}
    literal = literal_value(node)
    if literal is not _NOT_LITERAL:
        return literal
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        items = [to_value(e.value, module, index, _depth + 1) for e in node.elements
                 if isinstance(e, cst.Element)]
        if isinstance(node, cst.Set):
            return {"$set": sorted(items, key=repr)}
        return items
    if isinstance(node, cst.Dict):
        result: dict[str, Any] = {}
        for element in node.elements:
            if not isinstance(element, cst.DictElement):
                result["**"] = to_value(element.value, module, index, _depth + 1)
                continue
            key = to_value(element.key, module, index, _depth + 1)
            result[key if isinstance(key, str) else render(element.key, module, index)] = to_value(
                element.value, module, index, _depth + 1)
        return result
    if isinstance(node, cst.Call):
        call: dict[str, Any] = {"$call": render(node.func, module, index)}
        positional = []
        for arg in node.args:
            value = to_value(arg.value, module, index, _depth + 1)
            if arg.keyword is not None:
                call[arg.keyword.value] = value
            elif arg.star:
                call[arg.star] = value
            else:
                positional.append(value)
        if positional:
            call["$args"] = positional
        return call
    if isinstance(node, (cst.Name, cst.Attribute)):
        constant = constant_value(node, module, index, _depth)
        if constant is not _NOT_LITERAL:
            return constant
        return {"$ref": render(node, module, index)}
    if isinstance(node, cst.FormattedString):
        text = formatted_value(node, lambda e: to_value(e, module, index, _depth + 1))
        if text is not None:
            return text
    return {"$expr": render(node, module, index)}


def formatted_value(node: cst.FormattedString, value_of: Callable[[cst.BaseExpression], Any]) -> Optional[str]:
    """The text of an f-string whose parts are all known when the code is read: plain text,
    and ``{NAME}`` of a string or integer constant (no format spec, no conversion but
    ``!s``); None when a part is only known at run time. ``f'train'`` is ``"train"``."""
    pieces: list[str] = []
    for part in node.parts:
        if isinstance(part, cst.FormattedStringText):
            text = _plain_text(node, part.value)
            if text is None:
                return None
            pieces.append(text)
            continue
        assert isinstance(part, cst.FormattedStringExpression)
        if part.format_spec or part.conversion not in (None, "s") or part.equal is not None:
            return None
        value = value_of(part.expression)
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            return None
        pieces.append(str(value))
    return "".join(pieces)


def _plain_text(node: cst.FormattedString, raw: str) -> Optional[str]:
    """A literal piece of an f-string as a value: its escapes read like a plain string's
    (``{{`` is ``{``), with the f-string's own quotes and raw/bytes prefix."""
    prefix = node.prefix.lower().replace("f", "")
    quote = node.end
    try:
        value = cst.SimpleString(prefix + quote + raw.replace("{{", "{").replace("}}", "}") + quote).evaluated_value
    except Exception:  # an escape libcst cannot read: leave it to the text form
        return None
    return value if isinstance(value, str) else None


def constant_value(node: cst.BaseExpression, module: ModuleInfo, index: "ProjectIndex", _depth: int = 0) -> Any:
    """The value of a name bound once, at module level, to a literal (followed across modules)."""
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    names = module.qualified_names(node)
    if len(names) != 1:
        return _NOT_LITERAL
    resolved = index.resolve(next(iter(names)))
    if resolved is None:
        return _NOT_LITERAL
    symbol, rest = resolved
    if symbol.kind == "class" and len(rest) == 1 and isinstance(symbol.node, cst.ClassDef):
        return _class_attribute(symbol.node, rest[0], symbol.module, index, _depth)
    if symbol.kind != "constant" or rest:
        return _NOT_LITERAL
    assignments = [s for s in symbol.module.symbols.get(symbol.name, []) if s.kind == "constant"]
    if len(assignments) != 1 or not isinstance(assignments[0].node, (cst.Assign, cst.AnnAssign)):
        return _NOT_LITERAL
    value = assignments[0].node.value
    if value is None:
        return _NOT_LITERAL
    return to_value(value, symbol.module, index, _depth + 1)


def _class_attribute(node: cst.ClassDef, name: str, module: ModuleInfo, index: "ProjectIndex", _depth: int) -> Any:
    """The value of a class attribute assigned once, in the class body itself, to a literal
    or a constant (``class Names: TRAINING = "churn_training"``)."""
    values = []
    for line in node.body.body:
        for small in getattr(line, "body", ()) if isinstance(line, cst.SimpleStatementLine) else ():
            if isinstance(small, cst.Assign) and any(isinstance(t.target, cst.Name) and t.target.value == name
                                                     for t in small.targets):
                values.append(small.value)
            elif isinstance(small, (cst.AnnAssign, cst.AugAssign)) and isinstance(small.target, cst.Name) \
                    and small.target.value == name:
                values.append(small.value if isinstance(small, cst.AnnAssign) else None)
        if isinstance(line, (cst.FunctionDef, cst.ClassDef)) and line.name.value == name:
            return _NOT_LITERAL
    if len(values) != 1 or values[0] is None:
        return _NOT_LITERAL
    value = to_value(values[0], module, index, _depth + 1)
    return _NOT_LITERAL if isinstance(value, dict) and ("$ref" in value or "$expr" in value) else value


class _NotLiteral:
    def __repr__(self) -> str:
        return "<not a literal>"


_NOT_LITERAL: Any = _NotLiteral()


def literal_value(node: cst.BaseExpression) -> Any:
    """The value of a plain literal (string, an f-string of text only, number,
    True/False/None, negative number)."""
    if isinstance(node, cst.FormattedString) and all(isinstance(p, cst.FormattedStringText) for p in node.parts):
        text = formatted_value(node, lambda e: _NOT_LITERAL)
        return text if text is not None else _NOT_LITERAL
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        try:
            value = node.evaluated_value
        except Exception:
            return _NOT_LITERAL
        if isinstance(value, bytes):
            return value.decode("latin-1")
        return value if value is not None else _NOT_LITERAL
    if isinstance(node, (cst.Integer, cst.Float)):
        try:
            return node.evaluated_value
        except Exception:
            return _NOT_LITERAL
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
        inner = literal_value(node.expression)
        if isinstance(inner, (int, float)) and not isinstance(inner, bool):
            return -inner if isinstance(node.operator, cst.Minus) else inner
    return _NOT_LITERAL


def is_literal(value: Any) -> bool:
    return value is not _NOT_LITERAL


def string_value(node: Optional[cst.BaseExpression]) -> Optional[str]:
    """The value of a string literal, or None."""
    if node is None:
        return None
    value = literal_value(node)
    return value if isinstance(value, str) else None


#: Names that ``typing_extensions`` takes from ``typing`` unchanged on every Python it
#: supports (3.9 on), so ``typing_extensions.X`` and ``typing.X`` are one object. A fixed
#: list, not a look-up in the running interpreter: a fingerprint must not depend on it.
#: (``Literal``, ``TypedDict``, ``Protocol``, ``Any`` ... are re-implemented on some
#: versions and stay apart.)
TYPING_SAME_OBJECT = frozenset({
    "AbstractSet", "Annotated", "AnyStr", "AsyncIterable", "AsyncIterator", "Awaitable", "BinaryIO", "Callable",
    "ChainMap", "ClassVar", "Collection", "Container", "Coroutine", "Counter", "DefaultDict", "Deque", "Dict",
    "Final", "ForwardRef", "FrozenSet", "Generic", "Hashable", "IO", "ItemsView", "Iterable", "Iterator",
    "KeysView", "List", "Mapping", "MappingView", "Match", "MutableMapping", "MutableSequence", "MutableSet",
    "NoReturn", "Optional", "OrderedDict", "Pattern", "Reversible", "Sequence", "Set", "Sized", "TYPE_CHECKING",
    "Text", "TextIO", "Tuple", "Type", "Union", "ValuesView", "cast", "final", "no_type_check", "overload",
})


def same_typing_object(qualified: str) -> str:
    """``typing.X`` for ``typing_extensions.X`` when the two are one object; else unchanged."""
    if qualified.startswith("typing_extensions.") and \
            qualified[len("typing_extensions."):].split(".", 1)[0] in TYPING_SAME_OBJECT:
        return "typing." + qualified[len("typing_extensions."):]
    return qualified


def render(node: cst.CSTNode, module: ModuleInfo, index: Optional["ProjectIndex"] = None) -> str:
    """Short normalised source text of an expression, names fully qualified."""
    if isinstance(node, (cst.Name, cst.Attribute)):
        names = module.qualified_names(node)
        if len(names) == 1:
            name = next(iter(names))
            if "<locals>" not in name:
                return same_typing_object(name)
        if isinstance(node, cst.Attribute):
            return f"{render(node.value, module, index)}.{node.attr.value}"
        return node.value
    literal = literal_value(node) if isinstance(node, cst.BaseExpression) else _NOT_LITERAL
    if literal is not _NOT_LITERAL:
        return repr(literal)
    if isinstance(node, cst.Subscript):
        inner = ", ".join(render(e.slice, module, index) for e in node.slice)
        return f"{render(node.value, module, index)}[{inner}]"
    if isinstance(node, cst.Index):
        return render(node.value, module, index)
    if isinstance(node, (cst.Tuple, cst.List)):
        inner = ", ".join(render(e.value, module, index) for e in node.elements)
        return f"({inner})" if isinstance(node, cst.Tuple) else f"[{inner}]"
    if isinstance(node, cst.Call):
        args = []
        for arg in node.args:
            text = render(arg.value, module, index)
            if arg.keyword is not None:
                text = f"{arg.keyword.value}={text}"
            elif arg.star:
                text = f"{arg.star}{text}"
            args.append(text)
        return f"{render(node.func, module, index)}({', '.join(args)})"
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        return f"{render(node.left, module, index)} | {render(node.right, module, index)}"
    return plain_text(node, module)


#: Operator node -> its text (``plain_text``).
_OPERATORS = {
    "Add": "+", "Subtract": "-", "Multiply": "*", "Divide": "/", "FloorDivide": "//", "Modulo": "%",
    "Power": "**", "MatrixMultiply": "@", "LeftShift": "<<", "RightShift": ">>", "BitAnd": "&", "BitOr": "|",
    "BitXor": "^", "And": "and", "Or": "or", "Not": "not ", "Minus": "-", "Plus": "+", "BitInvert": "~",
    "Equal": "==", "NotEqual": "!=", "LessThan": "<", "LessThanEqual": "<=", "GreaterThan": ">",
    "GreaterThanEqual": ">=", "In": "in", "NotIn": "not in", "Is": "is", "IsNot": "is not",
}
_GROUPED = (cst.BinaryOperation, cst.BooleanOperation, cst.Comparison, cst.UnaryOperation, cst.IfExp, cst.Lambda,
            cst.NamedExpr, cst.Await, cst.Yield)


def plain_text(node: cst.CSTNode, module: ModuleInfo) -> str:
    """The source of an expression written out again the same way whatever its layout:
    no comments, line breaks or trailing commas, strings and numbers by value, nested
    operations always in parentheses (so the text stays unambiguous). A call-site value
    compared by this text is compared by value, not by how `ruff format` wrote it.
    Constructs it does not know (lambdas, comprehensions ...) keep their source text
    with whitespace collapsed."""
    def text(child: cst.CSTNode) -> str:
        return plain_text(child, module)

    def grouped(child: cst.CSTNode) -> str:
        return f"({text(child)})" if isinstance(child, _GROUPED) else text(child)

    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{grouped(node.value)}.{node.attr.value}"
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Float, cst.Imaginary)):
        try:
            return repr(node.evaluated_value)  # type: ignore[union-attr]
        except Exception:  # an f-string in a concatenation, an odd escape
            pass
    elif isinstance(node, cst.Call):
        args = [f"{a.keyword.value}={text(a.value)}" if a.keyword is not None else f"{a.star}{text(a.value)}"
                for a in node.args]
        return f"{grouped(node.func)}({', '.join(args)})"
    elif isinstance(node, cst.Subscript):
        inner = ", ".join(text(e.slice) for e in node.slice) + ("," if len(node.slice) == 1
                                                                 and isinstance(node.slice[0].comma, cst.Comma) else "")
        return f"{grouped(node.value)}[{inner}]"
    elif isinstance(node, cst.Index):
        return (node.star or "") + text(node.value)
    elif isinstance(node, cst.Slice):
        parts = [text(p) if p is not None else "" for p in (node.lower, node.upper)]
        return ":".join(parts) + (f":{text(node.step)}" if node.step is not None else "")
    elif isinstance(node, (cst.Tuple, cst.List, cst.Set)):
        items = [("*" + text(e.value)) if isinstance(e, cst.StarredElement) else text(e.value) for e in node.elements]
        if isinstance(node, cst.Tuple):
            return f"({', '.join(items)}{',' if len(items) == 1 else ''})"
        return f"[{', '.join(items)}]" if isinstance(node, cst.List) else f"{{{', '.join(items)}}}"
    elif isinstance(node, cst.Dict):
        items = [f"**{text(e.value)}" if isinstance(e, cst.StarredDictElement) else f"{text(e.key)}: {text(e.value)}"
                 for e in node.elements]
        return f"{{{', '.join(items)}}}"
    elif isinstance(node, cst.BinaryOperation) and type(node.operator).__name__ in _OPERATORS:
        return f"{grouped(node.left)} {_OPERATORS[type(node.operator).__name__]} {grouped(node.right)}"
    elif isinstance(node, cst.BooleanOperation) and type(node.operator).__name__ in _OPERATORS:
        return f"{grouped(node.left)} {_OPERATORS[type(node.operator).__name__]} {grouped(node.right)}"
    elif isinstance(node, cst.UnaryOperation) and type(node.operator).__name__ in _OPERATORS:
        return f"{_OPERATORS[type(node.operator).__name__]}{grouped(node.expression)}"
    elif isinstance(node, cst.Comparison) and all(type(c.operator).__name__ in _OPERATORS
                                                  for c in node.comparisons):
        return " ".join([grouped(node.left), *(f"{_OPERATORS[type(c.operator).__name__]} {grouped(c.comparator)}"
                                               for c in node.comparisons)])
    elif isinstance(node, cst.IfExp):
        return f"{grouped(node.body)} if {grouped(node.test)} else {grouped(node.orelse)}"
    elif isinstance(node, cst.FormattedString):
        prefix = node.start.strip("'\"").lower()
        parts = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                parts.append(part.value)
            else:
                conversion = f"!{part.conversion}" if part.conversion else ""
                spec = ":" + "".join(p.value if isinstance(p, cst.FormattedStringText) else "{" + text(p.expression)
                                     + "}" for p in part.format_spec) if part.format_spec else ""
                parts.append("{" + text(part.expression) + conversion + spec + "}")
        return f'{prefix}"{"".join(parts)}"'
    elif isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
        # `ruff format` splits a long comprehension over lines: written out again, the
        # same text either way (the clauses spaced as in one line)
        clauses: list[str] = []
        clause: Optional[cst.CompFor] = node.for_in
        while clause is not None:
            head = "async for" if clause.asynchronous is not None else "for"
            target = clause.target
            names = ", ".join(text(e.value) for e in target.elements) \
                if isinstance(target, cst.Tuple) and not target.lpar else text(target)
            clauses.append(f"{head} {names} in {text(clause.iter)}")
            clauses.extend(f"if {text(condition.test)}" for condition in clause.ifs)
            clause = clause.inner_for_in
        if isinstance(node, cst.DictComp):
            body = f"{text(node.key)}: {text(node.value)}"
        else:
            body = text(node.elt)
        inner = " ".join([body, *clauses])
        if isinstance(node, cst.ListComp):
            return f"[{inner}]"
        if isinstance(node, cst.GeneratorExp):
            return f"({inner})" if node.lpar else inner
        return f"{{{inner}}}"
    return " ".join(module.code(node).split())
