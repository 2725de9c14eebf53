"""libcst's scope, qualified-name and position metadata, computed much faster.

Resolving :class:`~libcst.metadata.ScopeProvider`, ``FullyQualifiedNameProvider`` and
``PositionProvider`` through :class:`~libcst.metadata.MetadataWrapper` costs many times
the parse itself: every provider is a generic visitor that rebuilds every node of the
tree, whitespace included, and qualified names are computed for every node, asked for
or not. This module gives the *same answers* for the nodes pvcheck asks about, cheaper:

* **Scopes** -- one walk that does exactly what libcst's ``ScopeVisitor`` (with
  ``ExpressionContextProvider``) does, in the same order, building libcst's own
  :class:`~libcst.metadata.Scope`, ``Assignment`` and ``Access`` objects with their own
  methods; it only skips the nodes that can hold no name (whitespace, operators,
  brackets) and never rebuilds a node. Same objects, same order: the same
  ``scope[name]`` answers and the same assignment order for accesses.
* **Qualified names** -- computed on demand, per node, with libcst's own
  ``Scope.get_qualified_names_for`` and ``FullyQualifiedNameVisitor._fully_qualify``,
  instead of for every node of the module up front.

Lines are :mod:`pvcheck.analyzer.fastlines`. A module this does not handle exactly like
libcst (:class:`Unsupported`) gets libcst's providers instead.
``tests/test_fast_metadata.py`` checks the answers against libcst's on every node of a
corpus of real code.
"""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap
from typing import Any, Callable, Optional

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import (
    ClassScope,
    ComprehensionScope,
    FunctionScope,
    GlobalScope,
    QualifiedName,
    Scope,
)
from libcst.metadata.name_provider import FullyQualifiedNameVisitor
from libcst.metadata.scope_provider import (
    Access,
    AnnotationScope,
    _gen_dotted_names,
)

# ---------------------------------------------------------------------------- traversal order

_DEFAULT = cst.MaybeSentinel.DEFAULT
_NONE, _LOAD, _STORE, _DEL = 0, 1, 2, 3  # expression contexts; _NONE: the node has none
_KEEP = -1  # a child has its parent's context

#: Nodes that can hold no name and are never asked about: skipped, children and all.
_PRUNED: frozenset[type] = frozenset(
    cls for cls in (*vars(cst._nodes.op).values(), *vars(cst._nodes.whitespace).values())  # type: ignore[attr-defined]
    if isinstance(cls, type) and issubclass(cls, cst.CSTNode)
) | {cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace, cst.RightCurlyBrace, cst.LeftParen,
     cst.RightParen, cst.Asynchronous, cst.FormattedStringText}

#: libcst's ``_ASSIGNMENT_LIKE_NODES``: leaving one advances its scope's assignment count.
_ASSIGNMENT_LIKE: frozenset[type] = frozenset({
    cst.AnnAssign, cst.AsName, cst.Assign, cst.AugAssign, cst.ClassDef, cst.CompFor, cst.FunctionDef, cst.Global,
    cst.Import, cst.ImportFrom, cst.NamedExpr, cst.Nonlocal, cst.Parameters, cst.WithItem,
    *(getattr(cst, name) for name in ("TypeVar", "TypeAlias", "TypeVarTuple", "ParamSpec") if hasattr(cst, name)),
})

#: ExpressionContextProvider's rules: (node type, field) -> context of that child; fields
#: of these node types that are not listed are not visited by it (no context).
_CONTEXT_RULES: dict[type, dict[str, int]] = {
    cst.Assign: {"targets": _STORE, "value": _KEEP},
    cst.AnnAssign: {"target": _STORE, "annotation": _KEEP, "value": _KEEP},
    cst.AugAssign: {"target": _STORE, "value": _KEEP},
    cst.NamedExpr: {"target": _STORE, "value": _KEEP},
    cst.AsName: {"name": _STORE},
    cst.CompFor: {"target": _STORE, "iter": _KEEP, "ifs": _KEEP, "inner_for_in": _KEEP},
    cst.For: {"target": _STORE, "iter": _KEEP, "body": _KEEP, "orelse": _KEEP},
    cst.Del: {"target": _DEL},
    cst.Attribute: {"value": _LOAD},
    cst.Subscript: {"value": _LOAD, "slice": _LOAD},
    cst.ClassDef: {"name": _STORE, "body": _KEEP, "bases": _KEEP, "keywords": _KEEP, "decorators": _KEEP},
    cst.FunctionDef: {"name": _STORE, "params": _KEEP, "body": _KEEP, "decorators": _KEEP, "returns": _KEEP},
    cst.Param: {"name": _STORE, "annotation": _KEEP, "default": _KEEP},
}

Field = tuple[str, bool, int]  # (name, visited only when not None, context rule)
_ORDER: dict[type, tuple[Field, ...]] = {}
_IS_STATEMENT: dict[type, bool] = {}


class Unsupported(Exception):
    """A module this module does not answer for exactly like libcst: use libcst's providers."""


def _is_statement(kind: type) -> bool:
    found = _IS_STATEMENT.get(kind)
    if found is None:
        found = _IS_STATEMENT[kind] = issubclass(kind, (cst.BaseSmallStatement, cst.BaseCompoundStatement))
    return found


def _fields(cls: type) -> tuple[Field, ...]:
    """The fields libcst's ``_visit_and_replace_children`` visits, in its order.

    Read from libcst's own source (the ``visit_*(self, "field", ...)`` calls, in
    evaluation order), so a libcst release that reorders or adds fields is followed.
    """
    found = _ORDER.get(cls)
    if found is not None:
        return found
    method = None
    for base in cls.__mro__:
        if "_visit_and_replace_children" in base.__dict__:
            method = base.__dict__["_visit_and_replace_children"]
            break
    order: list[str] = []
    guarded: set[str] = set()
    if method is not None:
        tree = ast.parse(textwrap.dedent(inspect.getsource(method)))

        def visits(node: ast.AST) -> set[str]:
            return {sub.args[1].value for sub in ast.walk(node) if _is_visit_call(sub)}  # type: ignore

        def walk(node: ast.AST) -> None:
            if isinstance(node, ast.IfExp):  # visited in one branch only: skipped when None
                guarded.update(visits(node.body) ^ visits(node.orelse))
            if _is_visit_call(node) and node.args[1].value not in order:  # type: ignore[attr-defined]
                order.append(node.args[1].value)  # type: ignore[attr-defined]
            for child in ast.iter_child_nodes(node):
                walk(child)

        walk(tree)
    rules = _CONTEXT_RULES.get(cls)
    result = tuple((name, name in guarded, (rules.get(name, _NONE) if rules is not None else _KEEP))
                   for name in order)
    _ORDER[cls] = result
    return result


#: Fields that only ever hold whitespace, punctuation or operators (all in _PRUNED): the
#: walk would visit them only to return at once.
_PUNCTUATION_FIELDS = frozenset({
    "lpar", "rpar", "comma", "semicolon", "colon", "first_colon", "second_colon", "dot", "equal", "lbrace",
    "rbrace", "lbracket", "rbracket", "leading_lines", "lines_after_decorators", "header", "footer",
    "trailing_whitespace", "asynchronous", "operator", "relative",
})
_WALKED: dict[type, tuple[Field, ...]] = {}


def _walked_fields(cls: type) -> tuple[Field, ...]:
    """:func:`_fields` without the punctuation and whitespace ones."""
    found = _WALKED.get(cls)
    if found is None:
        found = _WALKED[cls] = tuple(field for field in _fields(cls)
                                     if field[0] not in _PUNCTUATION_FIELDS and not field[0].startswith("whitespace"))
    return found


def _is_visit_call(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.startswith("visit_")
            and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str))


def _child_context(rule: int, context: int) -> int:
    if context == _NONE:
        return _NONE  # ExpressionContextProvider never reached the parent
    return context if rule == _KEEP else rule


# ---------------------------------------------------------------------------- scopes

class _ScopeWalk:
    """libcst's ``ScopeVisitor`` (and ``ExpressionContextVisitor``), as one direct walk."""

    def __init__(self, text: str) -> None:
        self.scope: Scope = GlobalScope()
        self.scopes: dict[int, Scope] = {}  # id(node) -> the scope libcst records for it
        self.statements: dict[int, cst.CSTNode] = {}  # id(node) -> innermost enclosing statement
        self.statement: Optional[cst.CSTNode] = None
        self.relative_imports: list[cst.ImportFrom] = []
        self.parsed_annotations: list[cst.Module] = []  # kept alive: node ids must not be reused
        self._deferred: list[tuple[Access, Optional[cst.Attribute], Optional[cst.BaseString]]] = []
        self._top_attribute: list[Optional[cst.Attribute]] = [None]
        self._in_annotation: list[bool] = [False]
        self._in_type_hint: list[bool] = [False]
        self._ignored_subscripts: set[int] = set()
        self._last_string_annotation: Optional[cst.BaseString] = None
        # libcst asks for qualified names of every call and subscript to spot typing
        # constructs; a module whose text never names them cannot have one
        self._typing_calls = any(word in text for word in ("NewType", "TypeVar", "cast"))
        self._typing = "typing" in text

    # ------------------------------------------------------------------ walking
    def run(self, module: cst.Module) -> None:
        self.visit(module, _LOAD)
        self._infer_accesses()

    def visit(self, node: cst.CSTNode, context: int) -> None:
        kind = type(node)
        if kind in _PRUNED:
            return
        statement = _IS_STATEMENT.get(kind)
        if statement is None:
            statement = _is_statement(kind)
        if statement:
            outer, self.statement = self.statement, node
        handler = _WALK_HANDLERS.get(kind)
        if handler is None:
            self.children(node, context)
            self.leave(node)
        else:
            handler(self, node, context)
        if statement:
            self.statement = outer

    def children(self, node: cst.CSTNode, context: int) -> None:
        for name, guarded, rule in _WALKED.get(type(node)) or _walked_fields(type(node)):
            value = getattr(node, name)
            if value is None or value is _DEFAULT:
                continue
            child = _child_context(rule, context)
            if isinstance(value, (tuple, list)):
                for item in value:
                    self.visit(item, child)
            else:
                self.visit(value, child)

    def child(self, node: cst.CSTNode, name: str, context: int) -> None:
        """Visit field ``name`` of ``node`` the way libcst's override does (``node.x.visit``)."""
        value = getattr(node, name)
        rules = _CONTEXT_RULES.get(type(node))
        rule = rules.get(name, _NONE) if rules is not None else _KEEP
        self.visit(value, _child_context(rule, context))

    def leave(self, node: cst.CSTNode) -> None:
        key = id(node)
        self.scopes[key] = self.scope
        self.statements[key] = self.statement  # type: ignore[assignment]
        if type(node) in _ASSIGNMENT_LIKE:
            self.scope._assignment_count += 1

    def mark(self, node: cst.CSTNode) -> None:
        """``provider.set_metadata(node, scope)`` of a node libcst does not visit."""
        self.scopes[id(node)] = self.scope
        self.statements[id(node)] = self.statement  # type: ignore[assignment]

    def _switch(self, scope: Scope) -> Scope:
        outer, self.scope = self.scope, scope
        return outer

    # ------------------------------------------------------------------ ScopeVisitor's overrides
    def _import(self, node: cst.Import | cst.ImportFrom, context: int) -> None:
        if isinstance(node, cst.ImportFrom) and node.relative:
            self.relative_imports.append(node)
        names = node.names
        if not isinstance(names, cst.ImportStar):
            for alias in names:
                self.mark(alias)
                asname = alias.asname
                if asname is not None:
                    values = _gen_dotted_names(cst.ensure_type(asname.name, cst.Name))
                    as_node = asname.name
                else:
                    values = _gen_dotted_names(alias.name)
                    as_node = alias.name
                for value, _ in values:
                    self.scope.record_import_assignment(value, node, as_node)
        self.leave(node)

    def _attribute(self, node: cst.Attribute, context: int) -> None:
        if self._top_attribute[-1] is None:
            self._top_attribute[-1] = node
        self.child(node, "value", context)
        if self._top_attribute[-1] is node:
            self._top_attribute[-1] = None
        self.leave(node)

    def _call(self, node: cst.Call, context: int) -> None:
        self._top_attribute.append(None)
        self._in_type_hint.append(False)
        special = False
        if self._typing_calls:
            qnames = {qn.name for qn in self.scope.get_qualified_names_for(node)}
            if "typing.NewType" in qnames or "typing.TypeVar" in qnames:
                special = True
                self.child(node, "func", context)
                self._in_type_hint[-1] = True
                for arg in node.args[1:]:
                    self.visit(arg, context)
            elif "typing.cast" in qnames:
                special = True
                self.child(node, "func", context)
                if node.args:
                    self._in_type_hint.append(True)
                    self.visit(node.args[0], context)
                    self._in_type_hint.pop()
                    for arg in node.args[1:]:
                        self.visit(arg, context)
        if not special:
            self.children(node, context)
        self.leave(node)
        self._top_attribute.pop()
        self._in_type_hint.pop()

    def _annotation(self, node: cst.Annotation, context: int) -> None:
        self._in_annotation.append(True)
        self.children(node, context)
        self.leave(node)
        self._in_annotation.pop()

    def _simple_string(self, node: cst.SimpleString, context: int) -> None:
        self._string_annotation(node)
        self.leave(node)

    def _concatenated_string(self, node: cst.ConcatenatedString, context: int) -> None:
        if not self._string_annotation(node):
            self.children(node, context)
        self.leave(node)

    def _string_annotation(self, node: cst.SimpleString | cst.ConcatenatedString) -> bool:
        if (self._in_type_hint[-1] or self._in_annotation[-1]) and not self._ignored_subscripts:
            value = node.evaluated_value
            if value:
                top_level = self._last_string_annotation is None
                if top_level:
                    self._last_string_annotation = node
                try:
                    parsed = cst.parse_module(value)  # type: ignore[arg-type]
                    self.parsed_annotations.append(parsed)
                    self.visit(parsed, _NONE)  # no expression context reaches a string's contents
                except cst.ParserSyntaxError:
                    pass  # what CPython and libcst do with an annotation that does not parse
                if top_level:
                    self._last_string_annotation = None
                return True
        return False

    def _subscript(self, node: cst.Subscript, context: int) -> None:
        in_type_hint = False
        if self._typing and isinstance(node.value, cst.Name):
            qnames = {qn.name for qn in self.scope.get_qualified_names_for(node.value)}
            if any(qn.startswith(("typing.", "typing_extensions.")) for qn in qnames):
                in_type_hint = True
            if "typing.Literal" in qnames or "typing_extensions.Literal" in qnames:
                self._ignored_subscripts.add(id(node))
        self._in_type_hint.append(in_type_hint)
        self.children(node, context)
        self.leave(node)
        self._in_type_hint.pop()
        self._ignored_subscripts.discard(id(node))

    def _name(self, node: cst.Name, context: int) -> None:
        if context == _STORE:
            self.scope.record_assignment(node.value, node)
        else:
            access = Access(node, self.scope, is_annotation=bool(self._in_annotation[-1]),
                            is_type_hint=bool(self._in_type_hint[-1]))
            self._deferred.append((access, self._top_attribute[-1], self._last_string_annotation))
        self.leave(node)

    def _function(self, node: cst.FunctionDef, context: int) -> None:
        self.scope.record_assignment(node.name.value, node)
        self.mark(node.name)
        outer = self.scope
        if node.type_parameters:
            self.scope = AnnotationScope(outer, node, None)
            self.child(node, "type_parameters", context)
        annotation_scope = self.scope
        self.scope = FunctionScope(annotation_scope, node, get_full_name_for_node(node.name))
        self.child(node, "params", context)
        self.child(node, "body", context)
        self.scope = annotation_scope
        for decorator in node.decorators:
            self._decorator(decorator, context)
        if node.returns:
            self.child(node, "returns", context)
        self.scope = outer
        self.leave(node)

    def _decorator(self, node: cst.Decorator, context: int) -> None:
        # for lines, a decorator counts as a statement of its own (see fastlines)
        outer, self.statement = self.statement, node
        self.visit(node, _child_context(_KEEP, context))
        self.statement = outer

    def _lambda(self, node: cst.Lambda, context: int) -> None:
        outer = self._switch(FunctionScope(self.scope, node))
        self.child(node, "params", context)
        self.child(node, "body", context)
        self.scope = outer
        self.leave(node)

    def _param(self, node: cst.Param, context: int) -> None:
        self.scope.record_assignment(node.name.value, node)
        self.mark(node.name)
        outer = self._switch(self.scope.parent)
        for name in ("default", "annotation"):
            if getattr(node, name):
                self.child(node, name, context)
        self.scope = outer
        self.leave(node)

    def _arg(self, node: cst.Arg, context: int) -> None:
        if node.value:
            self.child(node, "value", context)
        self.leave(node)

    def _class(self, node: cst.ClassDef, context: int) -> None:
        self.scope.record_assignment(node.name.value, node)
        self.mark(node.name)
        for decorator in node.decorators:
            self._decorator(decorator, context)
        outer = self.scope
        if node.type_parameters:
            self.scope = AnnotationScope(outer, node, None)
            self.child(node, "type_parameters", context)
        for base in node.bases:
            self.visit(base, _child_context(_KEEP, context))
        for keyword in node.keywords:
            self.visit(keyword, _child_context(_KEEP, context))
        inner = self.scope
        self.scope = ClassScope(inner, node, get_full_name_for_node(node.name))
        for statement in node.body.body:
            self.visit(statement, _child_context(_KEEP, context))
        self.scope = outer
        self.leave(node)

    def _global(self, node: cst.Global, context: int) -> None:
        for item in node.names:
            self.scope.record_global_overwrite(item.name.value)
            self._statement_of(item)
        self.leave(node)

    def _nonlocal(self, node: cst.Nonlocal, context: int) -> None:
        for item in node.names:
            self.scope.record_nonlocal_overwrite(item.name.value)
            self._statement_of(item)
        self.leave(node)

    def _statement_of(self, item: cst.NameItem) -> None:
        """The statement of a name libcst's scope visitor does not visit (``global x``):
        no scope, as libcst gives none, but a line without PositionProvider on the whole
        module (an 80 kB script of zenml-projects paid 0.25 s for its ``global args``)."""
        self.statements[id(item)] = self.statement  # type: ignore[assignment]
        self.statements[id(item.name)] = self.statement  # type: ignore[assignment]

    def _comprehension(self, node: Any, context: int) -> None:
        for_in = node.for_in
        comp_context = _child_context(_KEEP, context)  # the CompFor under the comprehension
        self.child(for_in, "iter", comp_context)
        self.mark(for_in)
        outer = self._switch(ComprehensionScope(self.scope, node))
        self.child(for_in, "target", comp_context)
        self.scope._assignment_count += 1
        for condition in for_in.ifs:
            self.visit(condition, _child_context(_KEEP, comp_context))
        if for_in.inner_for_in:
            self.child(for_in, "inner_for_in", comp_context)
        if isinstance(node, cst.DictComp):
            self.child(node, "key", context)
            self.child(node, "value", context)
        else:
            self.child(node, "elt", context)
        self.scope = outer
        self.leave(node)

    def _for(self, node: cst.For, context: int) -> None:
        self.child(node, "target", context)
        self.scope._assignment_count += 1
        for name in ("iter", "body", "orelse", "asynchronous"):
            if getattr(node, name) is not None:
                self.child(node, name, context)
        self.leave(node)

    def _type_alias(self, node: Any, context: int) -> None:
        self.scope.record_assignment(node.name.value, node)
        outer = self._switch(AnnotationScope(self.scope, node, None))
        if node.type_parameters is not None:
            self.child(node, "type_parameters", context)
        self.child(node, "value", context)
        self.scope = outer
        self.leave(node)

    def _type_var(self, node: Any, context: int) -> None:
        self.scope.record_assignment(node.name.value, node)
        if node.bound is not None:
            self.child(node, "bound", context)
        self.leave(node)

    def _type_name(self, node: Any, context: int) -> None:
        self.scope.record_assignment(node.name.value, node)
        self.leave(node)

    # ------------------------------------------------------------------ accesses
    def _infer_accesses(self) -> None:
        """libcst's ``ScopeVisitor.infer_accesses``, minus the assignments' back references
        (``Assignment.references``), which nothing in pvcheck reads."""
        for access, enclosing_attribute, enclosing_string in self._deferred:
            name = access.node.value  # type: ignore[union-attr]
            if enclosing_attribute is not None:
                for attr_name, node in _gen_dotted_names(enclosing_attribute):
                    if attr_name in access.scope:
                        access.node = node
                        name = attr_name
                        break
            if enclosing_string is not None:
                access.node = enclosing_string
            access.record_assignments(name)
            access.scope.record_access(name, access)
        self._deferred = []


#: libcst's ScopeVisitor overrides, by node type. Plain functions, not bound methods: a
#: table of bound methods would make every walk a reference cycle holding its module's
#: syntax tree until the garbage collector runs.
_WALK_HANDLERS: dict[type, Callable[[_ScopeWalk, Any, int], None]] = {
    cst.Import: _ScopeWalk._import,
    cst.ImportFrom: _ScopeWalk._import,
    cst.Attribute: _ScopeWalk._attribute,
    cst.Call: _ScopeWalk._call,
    cst.Annotation: _ScopeWalk._annotation,
    cst.SimpleString: _ScopeWalk._simple_string,
    cst.ConcatenatedString: _ScopeWalk._concatenated_string,
    cst.Subscript: _ScopeWalk._subscript,
    cst.Name: _ScopeWalk._name,
    cst.FunctionDef: _ScopeWalk._function,
    cst.Lambda: _ScopeWalk._lambda,
    cst.Param: _ScopeWalk._param,
    cst.Arg: _ScopeWalk._arg,
    cst.ClassDef: _ScopeWalk._class,
    cst.Global: _ScopeWalk._global,
    cst.Nonlocal: _ScopeWalk._nonlocal,
    cst.ListComp: _ScopeWalk._comprehension,
    cst.SetComp: _ScopeWalk._comprehension,
    cst.DictComp: _ScopeWalk._comprehension,
    cst.GeneratorExp: _ScopeWalk._comprehension,
    cst.For: _ScopeWalk._for,
}
for _type_name, _handler in (("TypeAlias", _ScopeWalk._type_alias), ("TypeVar", _ScopeWalk._type_var),
                             ("TypeVarTuple", _ScopeWalk._type_name), ("ParamSpec", _ScopeWalk._type_name)):
    if hasattr(cst, _type_name):  # newer libcst only
        _WALK_HANDLERS[getattr(cst, _type_name)] = _handler


class FastNames:
    """Scopes and fully qualified names of one module, like libcst's providers give them."""

    def __init__(self, tree: cst.Module, text: str, module_name: str, package: str) -> None:
        walk = _ScopeWalk(text)
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 10_000))
        try:
            walk.run(tree)
        finally:
            sys.setrecursionlimit(limit)
        for node in walk.relative_imports:
            if isinstance(node.names, cst.ImportStar):
                continue
            try:
                FullyQualifiedNameVisitor._fully_qualify_local(module_name, package, "." * len(node.relative) + "x")
            except ImportError:
                # libcst's FullyQualifiedNameProvider fails on such a module, depending on
                # which names are used: let it decide
                raise Unsupported("relative import beyond the top-level package") from None
        self.tree = tree
        self._keep = walk.parsed_annotations
        self.module_name = module_name
        self.package = package
        self.scopes = walk.scopes
        self.statements = walk.statements
        self._names: dict[int, frozenset[QualifiedName]] = {}  # every answer is computed once

    def release(self) -> None:
        """Break the scope graph's reference cycles (scope -> assignment -> scope), so that
        dropping this frees it, and the syntax tree it points into, at once instead of in
        a collection that walks every node of the tree."""
        for scope in {id(s): s for s in self.scopes.values()}.values():
            for table in ("_assignments", "_accesses_by_name", "_accesses_by_node"):
                found = getattr(scope, table, None)
                if isinstance(found, dict):
                    found.clear()
            if getattr(scope, "node", None) is not None:
                scope.node = None  # type: ignore[attr-defined]
        self.scopes, self.statements, self._names = {}, {}, {}

    def scope(self, node: cst.CSTNode) -> Optional[Scope]:
        return self.scopes.get(id(node))

    def qualified_names(self, node: cst.CSTNode) -> set[QualifiedName]:
        found = self._names.get(id(node))
        if found is None:
            found = self._names[id(node)] = frozenset(self._qualified_names(node))
        return set(found)

    def _qualified_names(self, node: cst.CSTNode) -> set[QualifiedName]:
        if node is self.tree:
            return {QualifiedName(self.module_name, cst.metadata.QualifiedNameSource.LOCAL)}
        scope = self.scopes.get(id(node))
        if scope is None:
            return set()
        return {FullyQualifiedNameVisitor._fully_qualify(self.module_name, self.package, qname)
                for qname in scope.get_qualified_names_for(node)}


# ---------------------------------------------------------------------------- read-only visits

_VISITOR_PLANS: dict[type, "_Plan"] = {}


class _Plan:
    """How to drive one visitor class: which callbacks it really has (libcst's base class
    declares a no-op ``visit_X``/``leave_X`` for every node type), whether whitespace and
    operator nodes can be skipped, whether attribute callbacks matter."""

    def __init__(self, cls: type) -> None:
        names: set[str] = set()
        for klass in cls.__mro__:
            if klass is cst.CSTVisitor:
                break
            names.update(n for n in vars(klass) if n.startswith(("visit_", "leave_")))
        self.generic = cls.on_visit is not cst.CSTVisitor.on_visit or cls.on_leave is not cst.CSTVisitor.on_leave
        self.hooks = any(n.count("_") >= 2 for n in names) \
            or cls.on_visit_attribute is not cst.CSTVisitor.on_visit_attribute \
            or cls.on_leave_attribute is not cst.CSTVisitor.on_leave_attribute
        pruned_names = {t.__name__ for t in _PRUNED}
        self.prune = not self.generic and not self.hooks \
            and not any(n.split("_", 1)[1] in pruned_names for n in names)
        self.visits = {n[len("visit_"):] for n in names if n.startswith("visit_")}
        self.leaves = {n[len("leave_"):] for n in names if n.startswith("leave_")}


Calls = list[tuple[cst.Call, Optional[cst.FunctionDef]]]
#: Nodes that hold no call and no import, whatever is in them: not descended into.
_CALL_FREE: frozenset[type] = _PRUNED | {
    cst.Name, cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.Ellipsis, cst.Pass, cst.Break,
    cst.Continue, cst.Newline, cst.EmptyLine, cst.TrailingWhitespace, cst.Comment,
}
#: Fields whose node can only be punctuation, whitespace or a plain name.
_CALL_FREE_FIELDS = _PUNCTUATION_FIELDS | {"posonly_ind", "keyword", "attr"}
_CALL_FIELDS: dict[type, tuple[str, ...]] = {}


def _call_fields(kind: type) -> tuple[str, ...]:
    found = _CALL_FIELDS.get(kind)
    if found is None:
        found = _CALL_FIELDS[kind] = tuple(name for name, _, _ in _fields(kind)
                                           if name not in _CALL_FREE_FIELDS and not name.startswith("whitespace"))
    return found


def code_children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """``node.children`` in the same order, less whitespace, punctuation and operator
    tokens, and without what ``children`` costs (libcst builds it by re-visiting, and
    re-validating, the node): for walks that look at names, literals, calls, statements."""
    children: list[cst.CSTNode] = []
    for name, _, _ in _WALKED.get(type(node)) or _walked_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, (tuple, list)):
            children.extend(item for item in value if isinstance(item, cst.CSTNode))
        elif isinstance(value, cst.CSTNode):
            children.append(value)
    return children


def child_nodes(node: cst.CSTNode) -> list[cst.CSTNode]:
    """``node.children`` without punctuation, whitespace, names and literals, and without
    what ``children`` costs (libcst builds it by re-visiting, and re-validating, the node):
    the nodes a walk looking for calls, statements or assignments needs to descend into."""
    children: list[cst.CSTNode] = []
    kind = type(node)
    for field in _CALL_FIELDS.get(kind) or _call_fields(kind):
        value = getattr(node, field)
        if value is None or value is _DEFAULT:
            continue
        if isinstance(value, (tuple, list)):
            children.extend(item for item in value if type(item) not in _CALL_FREE)
        elif type(value) not in _CALL_FREE:
            children.append(value)
    return children


def calls_and_imports(tree: cst.CSTNode) -> tuple[Calls, set[str], bool]:
    """Every call under ``tree`` in libcst's visit order, each with the outermost function
    it sits in (or None); the names imports bind anywhere; whether there is a star import.

    What a visitor with ``visit_Call``/``visit_FunctionDef``/``visit_Import*`` would
    collect through :func:`visit`, without its per-node dispatch: frameworks look at
    every call of every candidate module, and that walk cost half as much as building
    the module's scopes.
    """
    calls: Calls = []
    imported: set[str] = set()
    star = False
    stack: list[tuple[cst.CSTNode, Optional[cst.FunctionDef]]] = [(tree, None)]
    while stack:
        node, top = stack.pop()
        kind = type(node)
        if kind is cst.Call:
            calls.append((node, top))  # type: ignore[arg-type]
        elif kind is cst.FunctionDef:
            if top is None:
                top = node  # type: ignore[assignment]
        elif kind is cst.Import or kind is cst.ImportFrom:
            names = node.names  # type: ignore[attr-defined]
            if isinstance(names, cst.ImportStar):
                star = True
            else:
                for alias in names:
                    bound = alias.asname.name if alias.asname is not None else alias.name
                    while isinstance(bound, cst.Attribute):  # `import a.b.c` binds `a`
                        bound = bound.value
                    if isinstance(bound, cst.Name):
                        imported.add(bound.value)
        stack.extend((child, top) for child in reversed(child_nodes(node)))
    return calls, imported, star


def visit(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """``node.visit(visitor)`` for a visitor that only reads, without rebuilding the tree.

    libcst's ``visit`` constructs (and validates) a copy of every node it passes, even
    for a visitor that changes nothing. This calls the same ``visit_X``, ``leave_X`` and
    attribute callbacks in the same order (or ``on_visit``/``on_leave`` when the visitor
    overrides them), and skips whitespace and operator nodes when the visitor cannot
    react to them. A ``CSTTransformer`` gets libcst's own visit.
    """
    if not isinstance(visitor, cst.CSTVisitor):
        node.visit(visitor)  # type: ignore[arg-type]
        return
    plan = _VISITOR_PLANS.get(type(visitor))
    if plan is None:
        plan = _VISITOR_PLANS[type(visitor)] = _Plan(type(visitor))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        _visit(node, visitor, plan)
    finally:
        sys.setrecursionlimit(limit)


def _visit(node: cst.CSTNode, visitor: cst.CSTVisitor, plan: _Plan) -> None:
    kind = type(node)
    name = kind.__name__
    if plan.generic:
        proceed = visitor.on_visit(node)
    elif name in plan.visits:
        proceed = getattr(visitor, "visit_" + name)(node) is not False
    else:
        proceed = True
    if proceed:
        prune, hooks = plan.prune, plan.hooks
        for field, guarded, _ in _ORDER.get(kind) or _fields(kind):
            value = getattr(node, field)
            if guarded and value is None:
                continue  # libcst does not visit the field at all then
            if hooks:
                visitor.on_visit_attribute(node, field)
            if value is None or value is _DEFAULT:
                pass
            elif isinstance(value, (tuple, list)):
                for item in value:
                    if not (prune and type(item) in _PRUNED):
                        _visit(item, visitor, plan)
            elif not (prune and type(value) in _PRUNED):
                _visit(value, visitor, plan)
            if hooks:
                visitor.on_leave_attribute(node, field)
    if plan.generic:
        visitor.on_leave(node)
    elif name in plan.leaves:
        getattr(visitor, "leave_" + name)(node)
