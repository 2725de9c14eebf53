"""The line libcst's ``PositionProvider`` gives a node's start, without running it on the module.

``PositionProvider`` generates the code of the whole module to find positions, which
costs more than parsing it. pvcheck needs the lines of a few nodes per module, mostly
statements, so:

* a statement's line (and a decorator's) comes from Python's own parser, ``ast``
  (parsing only: nothing is compiled or run), paired with libcst's statements one by
  one -- both give the line of the statement's first token (for a ``def`` or ``class``,
  of the ``def``/``class`` keyword, decorators apart);
* any other node is on its statement's line when ``ast`` says the statement spans one
  line; else libcst's ``PositionProvider`` runs on that one statement (a compound
  statement reduced to its header, a decorator alone) and its answer is shifted to where
  the statement starts.

When the two parsers' statements do not pair up (syntax ``ast`` does not know, a libcst
statement type not listed here), or a node is not one the scope walk saw, the answer
comes from ``PositionProvider`` on the whole module, as before.
"""

from __future__ import annotations

import ast
from typing import Any, Iterator, Optional, Sequence

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

Span = tuple[int, int, bool]  # (first line, last line, the whole span shares the first line's answer)


class FastLines:
    """Lines of one module's nodes; ``statements`` maps id(node) to its innermost statement
    (or decorator), as :class:`~pvcheck.analyzer.fastmeta.FastNames` recorded it."""

    def __init__(self, tree: cst.Module, text: str, statements: dict[int, cst.CSTNode]) -> None:
        self.tree = tree
        self.text = text
        self.statements = statements
        self._spans: Optional[dict[int, Span]] = None
        self._local: dict[int, dict[int, int]] = {}  # id(statement) -> id(node) -> line
        self._full: Optional[dict[int, int]] = None
        self._fallback = False
        self._functions: dict[int, ast.AST] = {}  # id(libcst FunctionDef) -> ast's

    def ast_function(self, node: cst.FunctionDef) -> Optional[ast.AST]:
        """The ``ast`` node of a function of this module (None when the parsers did not pair up)."""
        self._statement_spans()
        return self._functions.get(id(node))

    def line(self, node: cst.CSTNode) -> int:
        spans = self._statement_spans()
        if self._fallback:
            return self._slow(node)
        if type(node) is cst.SimpleStatementLine and node.body:
            node = node.body[0]  # the line's first token is its first small statement's
        elif type(node) is cst.Module:
            return 1  # PositionProvider starts a module at its first line, blank or not
        key = id(node)
        span = spans.get(key)
        if span is not None and span[2]:
            return span[0]
        statement = self.statements.get(key)
        if statement is None:
            return self._slow(node)
        outer = spans.get(id(statement))
        if outer is None:
            return self._slow(node)
        if outer[2] and outer[0] == outer[1] and not isinstance(statement, cst.BaseCompoundStatement):
            return outer[0]  # a one-line statement: every node in it starts on that line
        found = self._positions_in(statement, outer[0]).get(key)
        return found if found is not None else self._slow(node)

    # ------------------------------------------------------------------ statements, from ast
    def _statement_spans(self) -> dict[int, Span]:
        if self._spans is None:
            spans: dict[int, Span] = {}
            functions: dict[int, ast.AST] = {}
            try:
                parsed = ast.parse(self.text)  # parsing only: nothing is compiled or run
                _pair_block(self.tree.body, parsed.body, spans, functions)
            except (SyntaxError, ValueError, RecursionError, MemoryError, _Mismatch):
                self._fallback = True  # every answer from libcst's provider
                functions = {}
            self._spans = spans
            self._functions = functions
        return self._spans

    def _positions_in(self, statement: cst.CSTNode, line: int) -> dict[int, int]:
        """Lines of every node of one statement (a compound one reduced to its header, a
        decorator on a stub), from PositionProvider on it alone, shifted to ``line``."""
        key = id(statement)
        found = self._local.get(key)
        if found is not None:
            return found
        if isinstance(statement, cst.Decorator):
            anchor: cst.CSTNode = statement.decorator  # where ast's decorator line is
            alone = cst.Module(body=[cst.FunctionDef(name=cst.Name("f"), params=cst.Parameters(), body=_stub(),
                                                     decorators=[statement])])
        elif isinstance(statement, cst.BaseSmallStatement):
            anchor = statement
            alone = cst.Module(body=[cst.SimpleStatementLine(body=[statement])])
        else:
            anchor = _header_only(statement)
            alone = cst.Module(body=[anchor])
        positions = MetadataWrapper(alone, unsafe_skip_copy=True).resolve(PositionProvider)
        shift = line - positions[anchor].start.line
        # only nodes of the real tree: ids of the scaffolding built here could be reused later
        found = {id(node): position.start.line + shift for node, position in positions.items()
                 if id(node) in self.statements}
        self._local[key] = found
        return found

    def _slow(self, node: cst.CSTNode) -> int:
        if self._full is None:
            positions = MetadataWrapper(self.tree, unsafe_skip_copy=True).resolve(PositionProvider)
            self._full = {id(n): p.start.line for n, p in positions.items()}
        return self._full.get(id(node), 0)


class _Mismatch(Exception):
    """libcst's and ast's statements do not pair up."""


def _stub() -> cst.IndentedBlock:
    return cst.IndentedBlock(body=[cst.SimpleStatementLine(body=[cst.Pass()])])


def _header_only(statement: cst.CSTNode) -> cst.CSTNode:
    """A compound statement with its body replaced by ``pass`` (the nodes of the header
    keep their identity: ``with_changes`` shares them)."""
    changes: dict[str, Any] = {}
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef, cst.With, cst.While, cst.For, cst.If)):
        changes["body"] = _stub()
    if isinstance(statement, (cst.While, cst.For, cst.If)):
        changes["orelse"] = None
    return statement.with_changes(**changes) if changes else statement


_PAIRS: dict[type, tuple[type, ...]] = {
    cst.FunctionDef: (ast.FunctionDef, ast.AsyncFunctionDef), cst.ClassDef: (ast.ClassDef,), cst.If: (ast.If,),
    cst.For: (ast.For, ast.AsyncFor), cst.While: (ast.While,), cst.With: (ast.With, ast.AsyncWith),
    cst.Try: (ast.Try,), cst.Expr: (ast.Expr,), cst.Assign: (ast.Assign,), cst.AnnAssign: (ast.AnnAssign,),
    cst.AugAssign: (ast.AugAssign,), cst.Return: (ast.Return,), cst.Pass: (ast.Pass,), cst.Break: (ast.Break,),
    cst.Continue: (ast.Continue,), cst.Raise: (ast.Raise,), cst.Assert: (ast.Assert,), cst.Del: (ast.Delete,),
    cst.Global: (ast.Global,), cst.Nonlocal: (ast.Nonlocal,), cst.Import: (ast.Import,),
    cst.ImportFrom: (ast.ImportFrom,),
}
for _cst_name, _ast_name in (("TryStar", "TryStar"), ("Match", "Match")):
    if hasattr(cst, _cst_name) and hasattr(ast, _ast_name):
        _PAIRS[getattr(cst, _cst_name)] = (getattr(ast, _ast_name),)


def _pair_block(body: Sequence[cst.CSTNode], statements: list[ast.stmt], spans: dict[int, Span],
                functions: dict[int, ast.AST]) -> None:
    """Pair libcst's statements with ast's (one ``SimpleStatementLine`` holds several)."""
    flat = list(_flatten(body))
    if len(flat) != len(statements):
        raise _Mismatch
    for node, tree in zip(flat, statements):
        _pair(node, tree, spans, functions)


def _flatten(body: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            yield from statement.body
        else:
            yield statement


def _pair(node: cst.CSTNode, tree: ast.stmt, spans: dict[int, Span], functions: dict[int, ast.AST]) -> None:
    expected = _PAIRS.get(type(node))
    if expected is None or not isinstance(tree, expected):
        raise _Mismatch
    spans[id(node)] = (tree.lineno, tree.end_lineno or tree.lineno, True)
    kind = type(node).__name__
    if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
        if isinstance(node, cst.FunctionDef):
            functions[id(node)] = tree
        decorators = tree.decorator_list  # type: ignore[attr-defined]
        if len(node.decorators) != len(decorators):
            raise _Mismatch
        for decorator, expression in zip(node.decorators, decorators):
            # ast's line is the expression's; the decorator starts at its "@", which is on
            # that line unless the expression is parenthesised or continued with a backslash
            simple = not decorator.decorator.lpar and "\\" not in decorator.whitespace_after_at.value \
                if isinstance(decorator.decorator, cst.BaseExpression) else False  # type: ignore[attr-defined]
            spans[id(decorator)] = (expression.lineno, expression.end_lineno or expression.lineno, simple)
        _pair_block(node.body.body, tree.body, spans, functions)  # type: ignore[attr-defined]
    elif isinstance(node, cst.With):
        _pair_block(node.body.body, tree.body, spans, functions)  # type: ignore[attr-defined]
    elif isinstance(node, (cst.For, cst.While)):
        _pair_block(node.body.body, tree.body, spans, functions)  # type: ignore[attr-defined]
        _pair_block(node.orelse.body.body if node.orelse else (), tree.orelse, spans, functions)  # type: ignore[attr-defined]
    elif isinstance(node, cst.If):
        assert isinstance(tree, ast.If)
        _pair_block(node.body.body, tree.body, spans, functions)
        orelse = node.orelse
        if isinstance(orelse, cst.If):
            if len(tree.orelse) != 1:
                raise _Mismatch
            _pair(orelse, tree.orelse[0], spans, functions)
        else:
            _pair_block(orelse.body.body if orelse is not None else (), tree.orelse, spans, functions)
    elif kind in ("Try", "TryStar"):
        _pair_block(node.body.body, tree.body, spans, functions)  # type: ignore[attr-defined]
        handlers = node.handlers  # type: ignore[attr-defined]
        if len(handlers) != len(tree.handlers):  # type: ignore[attr-defined]
            raise _Mismatch
        for handler, tree_handler in zip(handlers, tree.handlers):  # type: ignore[attr-defined]
            _pair_block(handler.body.body, tree_handler.body, spans, functions)
        orelse, final = node.orelse, node.finalbody  # type: ignore[attr-defined]
        _pair_block(orelse.body.body if orelse else (), tree.orelse, spans, functions)  # type: ignore[attr-defined]
        _pair_block(final.body.body if final else (), tree.finalbody, spans, functions)  # type: ignore[attr-defined]
    elif kind == "Match":
        cases = node.cases  # type: ignore[attr-defined]
        if len(cases) != len(tree.cases):  # type: ignore[attr-defined]
            raise _Mismatch
        for case, tree_case in zip(cases, tree.cases):  # type: ignore[attr-defined]
            _pair_block(case.body.body, tree_case.body, spans, functions)
