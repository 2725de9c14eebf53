"""Random edits of Python source with libcst, for the property tests.

Cosmetic edits (:func:`cosmetic`) are ones pvcheck must ignore: reformatting (line
breaks inside brackets, extra parentheses, trailing commas, quote style), comments,
docstrings, consistent renames of local variables, and ``print``/logging statements whose
arguments have no side effects. Semantic edits (:func:`semantic_sites`,
:func:`apply_semantic`) change what code computes: a literal, an operator, a dropped
statement. Every choice comes from the ``random.Random`` passed in (seeded by
hypothesis), so an edit is reproducible from its draws. The edited code is only parsed,
never run.
"""

from __future__ import annotations

import ast
import keyword
import random
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence, Union

import libcst as cst
from libcst import MaybeSentinel

COSMETIC_KINDS = ("parentheses", "quotes", "trailing_commas", "line_breaks", "comments", "docstrings",
                  "renames", "prints")

_BREAK = cst.ParenthesizedWhitespace(first_line=cst.TrailingWhitespace(), empty_lines=[], indent=True,
                                     last_line=cst.SimpleWhitespace("    "))


def _break(rng: random.Random) -> cst.ParenthesizedWhitespace:
    """A line break inside brackets, sometimes with a comment on the line it ends."""
    if rng.random() < 0.3:
        return _BREAK.with_changes(first_line=cst.TrailingWhitespace(
            whitespace=cst.SimpleWhitespace("  "), comment=cst.Comment("# wrapped")))
    return _BREAK


class _Edit(cst.CSTTransformer):
    """A transformer that leaves f-strings alone (before 3.12, their expressions cannot
    span lines or reuse the quote)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def visit_FormattedString(self, node: cst.FormattedString) -> bool:
        return False


def _wrap(expression: cst.BaseExpression) -> cst.BaseExpression:
    return expression.with_changes(lpar=[cst.LeftParen(), *expression.lpar],
                                   rpar=[*expression.rpar, cst.RightParen()])


class _Parentheses(_Edit):

    def _maybe(self, expression: cst.BaseExpression) -> cst.BaseExpression:
        return _wrap(expression) if self.rng.random() < 0.4 else expression

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        return updated.with_changes(value=self._maybe(updated.value))

    def leave_Return(self, original: cst.Return, updated: cst.Return) -> cst.Return:
        if updated.value is None:
            return updated
        return updated.with_changes(value=self._maybe(updated.value),
                                    whitespace_after_return=cst.SimpleWhitespace(" "))

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:
        return updated.with_changes(value=self._maybe(updated.value))

    def leave_BinaryOperation(self, original: cst.BinaryOperation,
                              updated: cst.BinaryOperation) -> cst.BinaryOperation:
        return updated.with_changes(left=self._maybe(updated.left), right=self._maybe(updated.right))

    def leave_ComparisonTarget(self, original: cst.ComparisonTarget,
                               updated: cst.ComparisonTarget) -> cst.ComparisonTarget:
        return updated.with_changes(comparator=self._maybe(updated.comparator))

    def leave_Element(self, original: cst.Element, updated: cst.Element) -> cst.Element:
        return updated.with_changes(value=self._maybe(updated.value))

    def leave_DictElement(self, original: cst.DictElement, updated: cst.DictElement) -> cst.DictElement:
        return updated.with_changes(value=self._maybe(updated.value))


class _Quotes(_Edit):

    def leave_SimpleString(self, original: cst.SimpleString, updated: cst.SimpleString) -> cst.SimpleString:
        text = updated.value
        prefix = text[: len(text) - len(text.lstrip("rRbBuU"))]
        body = text[len(prefix):]
        if body[:3] in ('"""', "'''") or "\\" in body[1:-1] or "'" in body[1:-1] or '"' in body[1:-1]:
            return updated
        if self.rng.random() < 0.7:
            quote = "'" if body[0] == '"' else '"'
            return updated.with_changes(value=f"{prefix}{quote}{body[1:-1]}{quote}")
        return updated


class _TrailingCommas(_Edit):
    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.lambdas = 0

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.lambdas += 1

    def leave_Lambda(self, original: cst.Lambda, updated: cst.Lambda) -> cst.Lambda:
        self.lambdas -= 1
        return updated

    def _last(self, items: Sequence[cst.CSTNode]) -> Sequence[cst.CSTNode]:
        if not items or getattr(items[-1], "comma", None) is not MaybeSentinel.DEFAULT or self.rng.random() < 0.3:
            return items
        return [*items[:-1], items[-1].with_changes(comma=cst.Comma())]

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        args = updated.args
        if len(args) == 1 and isinstance(args[0].value, cst.GeneratorExp) and not args[0].value.lpar:
            return updated  # f(x for x in y,) is a syntax error
        return updated.with_changes(args=self._last(args))

    def leave_List(self, original: cst.List, updated: cst.List) -> cst.List:
        return updated.with_changes(elements=self._last(updated.elements))

    def leave_Dict(self, original: cst.Dict, updated: cst.Dict) -> cst.Dict:
        return updated.with_changes(elements=self._last(updated.elements))

    def leave_Parameters(self, original: cst.Parameters, updated: cst.Parameters) -> cst.Parameters:
        if self.lambdas or updated.kwonly_params or updated.star_kwarg is not None \
                or not isinstance(updated.star_arg, MaybeSentinel):
            return updated
        return updated.with_changes(params=self._last(updated.params))


class _LineBreaks(_Edit):

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        if not updated.args or self.rng.random() < 0.4:
            return updated
        args = [arg.with_changes(comma=arg.comma.with_changes(whitespace_after=_break(self.rng)))
                if isinstance(arg.comma, cst.Comma) else arg for arg in updated.args]
        return updated.with_changes(args=args, whitespace_before_args=_break(self.rng))

    def leave_List(self, original: cst.List, updated: cst.List) -> cst.List:
        if not updated.elements or self.rng.random() < 0.4:
            return updated
        return updated.with_changes(lbracket=cst.LeftSquareBracket(whitespace_after=_break(self.rng)))

    def leave_Dict(self, original: cst.Dict, updated: cst.Dict) -> cst.Dict:
        if not updated.elements or self.rng.random() < 0.4:
            return updated
        elements = [e.with_changes(comma=e.comma.with_changes(whitespace_after=_break(self.rng)))
                    if isinstance(e.comma, cst.Comma) else e for e in updated.elements]
        return updated.with_changes(elements=elements, lbrace=cst.LeftCurlyBrace(whitespace_after=_break(self.rng)))


class _Comments(_Edit):

    def _lead(self, node: Union[cst.SimpleStatementLine, cst.BaseCompoundStatement]):  # type: ignore[no-untyped-def]
        if self.rng.random() < 0.4:
            comment = cst.EmptyLine(comment=cst.Comment(self.rng.choice(["# note", "# TODO: tidy", "#: why"])))
            return node.with_changes(leading_lines=[*node.leading_lines, comment])
        return node

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine,
                                  updated: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
        updated = self._lead(updated)
        if updated.trailing_whitespace.comment is None and self.rng.random() < 0.3:
            updated = updated.with_changes(trailing_whitespace=cst.TrailingWhitespace(
                whitespace=cst.SimpleWhitespace("  "), comment=cst.Comment("# because"), newline=cst.Newline()))
        return updated

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        return self._lead(updated)

    def leave_If(self, original: cst.If, updated: cst.If) -> cst.If:
        return self._lead(updated)

    def leave_For(self, original: cst.For, updated: cst.For) -> cst.For:
        return self._lead(updated)


def _is_docstring(statement: cst.CSTNode) -> bool:
    return (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.Expr)
            and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


def _docstring(text: str) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine(body=[cst.Expr(cst.SimpleString(f'"""{text}"""'))])


class _Docstrings(_Edit):

    def _edit(self, body: Sequence[cst.BaseStatement]) -> list[cst.BaseStatement]:
        statements = list(body)
        has = bool(statements) and _is_docstring(statements[0])
        action = self.rng.choice(["add", "change", "remove", "keep"])
        if not has and action in ("add", "change"):
            return [_docstring("Added by a property test."), *statements]
        if has and action == "change":
            return [_docstring("Reworded:\n\n    the text says something else now.\n    "), *statements[1:]]
        if has and action == "remove" and len(statements) > 1:
            return statements[1:]
        return statements

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        if not isinstance(updated.body, cst.IndentedBlock):
            return updated
        return updated.with_changes(body=updated.body.with_changes(body=self._edit(updated.body.body)))

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        return updated.with_changes(body=self._edit(updated.body))


class _BoundNames(cst.CSTVisitor):
    """The names a function binds locally (its parameters excluded)."""

    def __init__(self) -> None:
        self.bound: set[str] = set()
        self.declared: set[str] = set()  # global / nonlocal: not locals

    def _targets(self, node: cst.BaseExpression) -> None:
        if isinstance(node, cst.Name):
            self.bound.add(node.value)
        elif isinstance(node, (cst.Tuple, cst.List)):
            for element in node.elements:
                self._targets(element.value)
        elif isinstance(node, cst.StarredElement):
            self._targets(node.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._targets(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._targets(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._targets(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._targets(node.target)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._targets(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._targets(node.name)  # type: ignore[arg-type]

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._targets(node.target)

    def visit_Global(self, node: cst.Global) -> None:
        self.declared.update(item.name.value for item in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.declared.update(item.name.value for item in node.names)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # a nested function has its own locals

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


class _References(cst.CSTVisitor):
    """Name nodes that are variable references (not attribute names or keywords)."""

    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.found: set[int] = set()

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self.names:
            self.found.add(id(node))

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


class _Rename(cst.CSTTransformer):
    def __init__(self, nodes: set[int], new_names: dict[str, str]) -> None:
        self.nodes = nodes
        self.new_names = new_names

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        if id(original) in self.nodes:
            return updated.with_changes(value=self.new_names[original.value])
        return updated


def _all_names(module: cst.Module) -> set[str]:
    names: set[str] = set()

    class Collect(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            names.add(node.value)

    module.visit(Collect())
    return names


def _rename_locals(module: cst.Module, rng: random.Random) -> cst.Module:
    taken = _all_names(module) | set(dir(__builtins__))
    module_level = {name for statement in module.body for name in _top_level_names(statement)}
    for index, statement in enumerate(module.body):
        if not isinstance(statement, cst.FunctionDef) or rng.random() < 0.3:
            continue
        collector = _BoundNames()
        statement.body.visit(collector)
        params = {p.name.value for p in _parameters(statement.params)}
        local = sorted(collector.bound - collector.declared - params - module_level)
        if not local:
            continue
        new_names = {}
        for name in local:
            candidate = f"{name}_{rng.choice(['v', 'tmp', 'renamed', 'x2'])}"
            while candidate in taken or keyword.iskeyword(candidate):
                candidate += "_"
            taken.add(candidate)
            new_names[name] = candidate
        references = _References(set(new_names))
        statement.body.visit(references)
        renamed = statement.with_changes(body=statement.body.visit(_Rename(references.found, new_names)))
        module = module.with_changes(body=[*module.body[:index], renamed, *module.body[index + 1:]])
    return module


def _parameters(params: cst.Parameters) -> Iterator[cst.Param]:
    yield from params.posonly_params
    yield from params.params
    yield from params.kwonly_params
    for extra in (params.star_arg, params.star_kwarg):
        if isinstance(extra, cst.Param):
            yield extra


def _top_level_names(statement: cst.CSTNode) -> Iterator[str]:
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        yield statement.name.value
    elif isinstance(statement, cst.SimpleStatementLine):
        collector = _BoundNames()
        statement.visit(collector)
        yield from collector.bound
        for small in statement.body:
            if isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    bound = alias.asname.name if alias.asname is not None else alias.name
                    while isinstance(bound, cst.Attribute):
                        bound = bound.value
                    if isinstance(bound, cst.Name):
                        yield bound.value


def _insert_prints(module: cst.Module, rng: random.Random) -> cst.Module:
    names = {name for statement in module.body for name in _top_level_names(statement)}
    body = list(module.body)
    for index, statement in enumerate(body):
        if not isinstance(statement, cst.FunctionDef) or not isinstance(statement.body, cst.IndentedBlock):
            continue
        params = [p.name.value for p in _parameters(statement.params)]
        inner = list(statement.body.body)
        for _ in range(rng.randint(0, 2)):
            first = 1 if inner and _is_docstring(inner[0]) else 0
            inner.insert(rng.randint(first, len(inner)), _cosmetic_call(rng, params, names))
        body[index] = statement.with_changes(body=statement.body.with_changes(body=inner))
    return module.with_changes(body=body)


def _cosmetic_call(rng: random.Random, params: list[str], module_names: set[str]) -> cst.SimpleStatementLine:
    """A print or logging statement with side-effect-free arguments: literals, names
    bound on entry (parameters), f-strings of them, attribute reads."""
    arguments = [repr(rng.choice(["checkpoint", "here", "rows: %s"]))]
    if params:
        param = rng.choice(params)
        arguments.append(rng.choice([param, f'f"{{{param}}}!"', f"{param}.__class__", f'f"{param}={{{param}!r}}"']))
    callee = "print"
    if "logger" in module_names and rng.random() < 0.5:
        callee = f"logger.{rng.choice(['info', 'debug', 'warning'])}"
    elif "logging" in module_names and rng.random() < 0.5:
        callee = f"logging.{rng.choice(['info', 'debug'])}"
    return cst.parse_statement(f"{callee}({', '.join(arguments)})\n")


def cosmetic(source: str, rng: random.Random, kinds: Sequence[str] = COSMETIC_KINDS) -> str:
    """``source`` with cosmetic edits of the given kinds, chosen by ``rng``."""
    module = cst.parse_module(source)
    for kind in kinds:
        if kind == "renames":
            module = _rename_locals(module, rng)
        elif kind == "prints":
            module = _insert_prints(module, rng)
        else:
            transformer: Callable[[random.Random], cst.CSTTransformer] = {
                "parentheses": _Parentheses, "quotes": _Quotes, "trailing_commas": _TrailingCommas,
                "line_breaks": _LineBreaks, "comments": _Comments, "docstrings": _Docstrings,
            }[kind]
            module = module.visit(transformer(rng))
    code = module.code
    ast.parse(code)  # the generator must produce valid Python (parsed, never run)
    return code


# ---------------------------------------------------------------------------- semantic edits
@dataclass(frozen=True)
class Site:
    """One place a semantic edit can be made: the n-th node of a kind in a definition."""

    definition: str  # the function or module constant's name in its module
    kind: str  # literal | operator | statement
    index: int


_SWAPS: dict[type, type] = {
    cst.Add: cst.Subtract, cst.Subtract: cst.Add, cst.Multiply: cst.Divide, cst.Divide: cst.Multiply,
    cst.FloorDivide: cst.Divide, cst.Modulo: cst.FloorDivide, cst.Power: cst.Multiply,
    cst.GreaterThanEqual: cst.GreaterThan, cst.GreaterThan: cst.GreaterThanEqual,
    cst.LessThan: cst.LessThanEqual, cst.LessThanEqual: cst.LessThan, cst.Equal: cst.NotEqual,
    cst.NotEqual: cst.Equal, cst.And: cst.Or, cst.Or: cst.And, cst.Minus: cst.Plus, cst.Plus: cst.Minus,
    cst.BitAnd: cst.BitOr, cst.BitOr: cst.BitAnd,
}


def _is_cosmetic_call(statement: cst.CSTNode) -> bool:
    if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.Expr) and isinstance(statement.body[0].value, cst.Call)):
        return False
    func = statement.body[0].value.func
    root = func
    while isinstance(root, cst.Attribute):
        root = root.value
    return isinstance(root, cst.Name) and root.value in ("print", "logger", "logging")


class _Nodes(cst.CSTVisitor):
    def __init__(self) -> None:
        self.literals: list[cst.CSTNode] = []
        self.operators: list[cst.CSTNode] = []

    def visit_Integer(self, node: cst.Integer) -> None:
        self.literals.append(node)

    def visit_Float(self, node: cst.Float) -> None:
        self.literals.append(node)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        self.literals.append(node)

    def visit_FormattedString(self, node: cst.FormattedString) -> bool:
        return False

    def _operator(self, operator: cst.CSTNode) -> None:
        if type(operator) in _SWAPS:
            self.operators.append(operator)

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        self._operator(node.operator)

    def visit_ComparisonTarget(self, node: cst.ComparisonTarget) -> None:
        self._operator(node.operator)

    def visit_BooleanOperation(self, node: cst.BooleanOperation) -> None:
        self._operator(node.operator)

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        self._operator(node.operator)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False


def _definitions(module: cst.Module) -> Iterator[tuple[str, cst.CSTNode, list[cst.CSTNode]]]:
    """(name, node, the statements a semantic edit may touch) of each top-level definition."""
    for statement in module.body:
        if isinstance(statement, cst.FunctionDef) and isinstance(statement.body, cst.IndentedBlock):
            yield statement.name.value, statement, [s for s in statement.body.body
                                                    if not _is_docstring(s) and not _is_cosmetic_call(s)]
        elif isinstance(statement, cst.SimpleStatementLine) and isinstance(statement.body[0], cst.Assign) \
                and len(statement.body) == 1:
            for target in statement.body[0].targets:
                if isinstance(target.target, cst.Name):
                    yield target.target.value, statement, [statement]


def _nodes(module: cst.Module, definition: str) -> tuple[list[cst.CSTNode], list[cst.CSTNode], list[cst.CSTNode]]:
    for name, node, statements in _definitions(module):
        if name != definition:
            continue
        collector = _Nodes()
        for statement in statements:
            if isinstance(node, cst.FunctionDef):
                statement.visit(collector)
            else:  # a constant: only its value
                statement.body[0].value.visit(collector)  # type: ignore[attr-defined]
        droppable = statements if isinstance(node, cst.FunctionDef) and len(statements) > 1 else []
        return collector.literals, collector.operators, droppable
    return [], [], []


def semantic_sites(source: str, definitions: set[str]) -> list[Site]:
    """Every semantic edit possible in the named top-level functions and constants."""
    module = cst.parse_module(source)
    sites = []
    for name in sorted(definitions):
        literals, operators, statements = _nodes(module, name)
        sites.extend(Site(name, "literal", i) for i in range(len(literals)))
        sites.extend(Site(name, "operator", i) for i in range(len(operators)))
        sites.extend(Site(name, "statement", i) for i in range(len(statements)))
    return sites


def apply_semantic(source: str, site: Site) -> str:
    module = cst.parse_module(source)
    literals, operators, statements = _nodes(module, site.definition)
    if site.kind == "statement":
        edited = module.deep_remove(statements[site.index])
    elif site.kind == "operator":
        old = operators[site.index]
        edited = module.deep_replace(old, _swap(old))
    else:
        old = literals[site.index]
        edited = module.deep_replace(old, _changed_literal(old))
    assert isinstance(edited, cst.Module)
    code = edited.code
    assert code != source
    ast.parse(code)
    return code


def _swap(operator: cst.CSTNode) -> cst.CSTNode:
    replacement = _SWAPS[type(operator)]
    fields = {name: getattr(operator, name) for name in ("whitespace_before", "whitespace_after")
              if hasattr(operator, name) and name in replacement.__dataclass_fields__}  # type: ignore[attr-defined]
    return replacement(**fields)


def _changed_literal(node: cst.CSTNode) -> cst.CSTNode:
    if isinstance(node, cst.Integer):
        return node.with_changes(value=str(int(node.value.replace("_", ""), 0) + 1))
    if isinstance(node, cst.Float):
        return node.with_changes(value=node.value + "1" if not node.value.endswith(".") else node.value + "5")
    assert isinstance(node, cst.SimpleString)
    text = node.value
    prefix = len(text) - len(text.lstrip("rRbBuU"))
    quotes = 3 if text[prefix:prefix + 3] in ('"""', "'''") else 1
    cut = prefix + quotes
    return node.with_changes(value=text[:cut] + "x" + text[cut:])


def step_modules_and_helpers(steps: Sequence[object]) -> dict[str, set[str]]:
    """module -> names of its top-level definitions that steps run (the step functions and,
    transitively, the helpers and constants they use)."""
    found: dict[str, set[str]] = {}
    for step in steps:
        for qualified in [step.function, *(h.name for h in step.helpers)]:  # type: ignore[attr-defined]
            module, _, name = qualified.rpartition(".")
            found.setdefault(module, set()).add(name)
    return found


def definitions_using(steps: Sequence[object], module: str, name: str) -> set[str]:
    """The step functions that run ``module.name``: itself, or through their helpers."""
    qualified = f"{module}.{name}"
    return {step.function for step in steps  # type: ignore[attr-defined]
            if step.function == qualified or qualified in {h.name for h in step.helpers}}  # type: ignore[attr-defined]


__all__ = ["COSMETIC_KINDS", "Site", "apply_semantic", "cosmetic", "definitions_using", "semantic_sites",
           "step_modules_and_helpers"]

