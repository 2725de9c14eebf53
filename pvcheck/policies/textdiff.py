"""Naming the kind of a cosmetic edit between two texts of one definition.

Called only when the analyzer's fingerprint of the definition is unchanged, i.e. the
computation is known to be the same. The question here is only *what kind* of edit it
was, so that a report can say "comments changed" rather than nothing. Each category is
checked on its own, so one edit can be several at once:

* ``comments`` -- the comment tokens differ;
* ``docstrings`` -- a docstring differs;
* ``logging`` -- a print/logging statement (``Config.cosmetic_calls``) was added, removed
  or edited;
* ``formatting`` -- the syntax trees are equal (whitespace, line breaks, quotes,
  parentheses, trailing commas) but the code text is not;
* ``unused_variables`` -- a local variable nothing reads was assigned, or its
  assignment went (``x = f()`` is ``f()``; ``x = []`` is nothing);
* ``renames`` -- equal once local names are numbered by first use.
"""

from __future__ import annotations

import ast
import copy
import fnmatch
from functools import lru_cache
from typing import Iterable, Mapping, Optional

from pvcheck.config import FRAME_READERS, LOG_METHODS
from pvcheck.policies.sources import Definition

CATEGORIES = ("formatting", "comments", "docstrings", "logging", "local_annotations", "annotations",
              "unused_variables", "renames")

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def classify(base: Definition, head: Definition, cosmetic_calls: Iterable[str],
             aliases: Mapping[str, str] = {}, helper: bool = False) -> list[str]:
    """The cosmetic categories that tell ``base`` from ``head`` (empty when the text is equal)."""
    if base.lines == head.lines:
        return []
    # a function of the texts alone: a helper many pipelines reach is explained once per
    # edit, not once per pipeline (a comparison asked it 364 times over 38 commits of
    # zenml-projects, at about 4 ms each)
    return list(_classify_texts(tuple(base.lines), tuple(head.lines), tuple(cosmetic_calls),
                                tuple(sorted(aliases.items())), helper))


@lru_cache(maxsize=256)
def _classify_texts(base_lines: tuple[str, ...], head_lines: tuple[str, ...], cosmetic_calls: tuple[str, ...],
                    aliases: tuple[tuple[str, str], ...], helper: bool) -> tuple[str, ...]:
    return tuple(_classify(Definition("", 1, base_lines), Definition("", 1, head_lines), cosmetic_calls,
                           dict(aliases), helper))


def _classify(base: Definition, head: Definition, cosmetic_calls: tuple[str, ...], aliases: Mapping[str, str],
              helper: bool) -> list[str]:
    base_tree, head_tree = base.tree(), head.tree()
    if base_tree is None or head_tree is None:
        return []
    patterns = cosmetic_calls
    found: list[str] = []
    if base.comments() != head.comments():
        found.append("comments")
    _blank_names_and_defaults(base_tree)
    _blank_names_and_defaults(head_tree)
    if _dump(base_tree) == _dump(head_tree):
        if base.code_lines() != head.code_lines():
            found.append("formatting")
        return _ordered(found)
    if _docstrings(base_tree) != _docstrings(head_tree):
        found.append("docstrings")
    _strip_docstrings(base_tree)
    _strip_docstrings(head_tree)
    if _cosmetic_statements(base_tree, patterns, aliases) != _cosmetic_statements(head_tree, patterns, aliases):
        found.append("logging")
    _strip_cosmetic(base_tree, patterns, aliases)
    _strip_cosmetic(head_tree, patterns, aliases)
    if _local_annotations(base_tree) != _local_annotations(head_tree):
        found.append("local_annotations")
    _strip_local_annotations(base_tree)
    _strip_local_annotations(head_tree)
    if helper:
        if _signature_annotations(base_tree) != _signature_annotations(head_tree):
            found.append("annotations")
        _strip_signature_annotations(base_tree)
        _strip_signature_annotations(head_tree)
    if _dump(base_tree) != _dump(head_tree):
        if _dump(_numbered(base_tree)) == _dump(_numbered(head_tree)):
            found.append("renames")
        else:
            _strip_dead_stores(base_tree)
            _strip_dead_stores(head_tree)
            if _dump(base_tree) == _dump(head_tree):
                found.append("unused_variables")
            elif _dump(_numbered(base_tree)) == _dump(_numbered(head_tree)):
                found.extend(("unused_variables", "renames"))
    return _ordered(found)


def first_different_line(base: Definition, head: Definition) -> int:
    """The head line where the two texts start to differ."""
    for offset, (old, new) in enumerate(zip(base.lines, head.lines)):
        if old != new:
            return head.first_line + offset
    return head.first_line + min(len(base.lines), len(head.lines), max(len(head.lines) - 1, 0))


def _ordered(found: list[str]) -> list[str]:
    return [c for c in CATEGORIES if c in found]


def _dump(tree: ast.AST) -> str:
    return ast.dump(tree, annotate_fields=True, include_attributes=False)


def _blank_names_and_defaults(tree: ast.Module) -> None:
    """The top definition's own name (a rename is PV106) and parameter default values
    (configuration, PV203) are not the cosmetic policy's business."""
    for node in tree.body[:1]:
        if isinstance(node, _DEFS):
            node.name = "_"
    for node in ast.walk(tree):
        if isinstance(node, ast.arguments):
            node.defaults = [ast.Constant(value=None) for _ in node.defaults]
            node.kw_defaults = [None if d is None else ast.Constant(value=None) for d in node.kw_defaults]


def _docstring_holders(tree: ast.AST) -> list[ast.AST]:
    return [n for n in ast.walk(tree) if isinstance(n, _DEFS)]


def _docstrings(tree: ast.AST) -> list[Optional[str]]:
    return [ast.get_docstring(n, clean=False) for n in _docstring_holders(tree)]  # type: ignore[arg-type]


def _strip_docstrings(tree: ast.AST) -> None:
    for node in _docstring_holders(tree):
        body = node.body  # type: ignore[attr-defined]
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]


def _dotted(node: ast.AST, aliases: Mapping[str, str]) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ""
    parts.append(aliases.get(node.id, node.id))
    return ".".join(reversed(parts))


def _is_cosmetic(statement: ast.stmt, patterns: tuple[str, ...], aliases: Mapping[str, str]) -> bool:
    if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
        return False
    func = statement.value.func
    if isinstance(func, ast.Attribute) and func.attr in LOG_METHODS:
        # only called on definitions whose fingerprint is unchanged, so the analyzer has
        # already proven the call cosmetic (a logger bound to a variable, ``log.info``)
        return True
    name = _dotted(func, aliases)
    return bool(name) and any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def _statement_lists(tree: ast.AST) -> Iterable[tuple[ast.AST, str]]:
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            value = getattr(node, field, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                yield node, field


def _cosmetic_statements(tree: ast.AST, patterns: tuple[str, ...], aliases: Mapping[str, str]) -> list[str]:
    return [_dump(s) for node, field in _statement_lists(tree) for s in getattr(node, field)
            if _is_cosmetic(s, patterns, aliases)]


def _strip_cosmetic(tree: ast.AST, patterns: tuple[str, ...], aliases: Mapping[str, str]) -> None:
    for node, field in list(_statement_lists(tree)):
        kept = [s for s in getattr(node, field) if not _is_cosmetic(s, patterns, aliases)]
        if field == "body" and not kept:
            kept = [ast.Pass()]
        setattr(node, field, kept)


def _functions(tree: ast.AST) -> list[ast.AST]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _local_annotations(tree: ast.AST) -> list[str]:
    """The annotated assignments inside functions (``x: T = v``, ``x: T``)."""
    return [_dump(s) for f in _functions(tree) for s in ast.walk(f) if isinstance(s, ast.AnnAssign)]


def _strip_local_annotations(tree: ast.AST) -> None:
    """In functions, ``x: T = v`` becomes ``x = v`` and a bare ``x: T`` goes (the analyzer's rule)."""
    for function in _functions(tree):
        for node, field in list(_statement_lists(function)):
            kept: list[ast.stmt] = []
            for statement in getattr(node, field):
                if isinstance(statement, ast.AnnAssign):
                    if statement.value is not None:
                        kept.append(ast.Assign(targets=[statement.target], value=statement.value))
                    elif not isinstance(statement.target, ast.Name):
                        kept.append(statement)
                else:
                    kept.append(statement)
            if field == "body" and not kept:
                kept = [ast.Pass()]
            setattr(node, field, kept)


def _own_statement_lists(function: ast.AST) -> Iterable[tuple[ast.AST, str]]:
    """The statement lists of a function's own body, nested blocks included, nested
    functions and classes not."""
    stack = [function]
    while stack:
        node = stack.pop()
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            value = getattr(node, field, None)
            if not isinstance(value, list):
                continue
            if value and isinstance(value[0], ast.stmt):
                yield node, field
            stack.extend(child for child in value if not isinstance(child, (*_DEFS, ast.Lambda)))


def _strip_dead_stores(tree: ast.AST) -> None:
    """In every function, ``x = value`` where nothing reads ``x`` (the analyzer's
    ``dead_stores``): the binding goes, ``value`` stays as a statement, and goes too
    when it is an inert literal."""
    for function in _functions(tree):
        stores: dict[str, set[int]] = {}
        for node, field in _own_statement_lists(function):
            for statement in getattr(node, field):
                if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                        and isinstance(statement.targets[0], ast.Name):
                    stores.setdefault(statement.targets[0].id, set()).add(id(statement.targets[0]))
        if not stores:
            continue
        live: set[str] = set()
        dynamic = False
        for node in (n for statement in function.body for n in ast.walk(statement)):  # type: ignore[attr-defined]
            for found in _mentions(node):
                if found in FRAME_READERS:
                    dynamic = True
                if not (isinstance(node, ast.Name) and id(node) in stores.get(found, ())):
                    live.add(found)
        if dynamic:
            continue
        dead = {name for name in stores if name not in live}
        if not dead:
            continue
        for node, field in list(_own_statement_lists(function)):
            kept: list[ast.stmt] = []
            for statement in getattr(node, field):
                if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                        and isinstance(statement.targets[0], ast.Name) and statement.targets[0].id in dead:
                    if not _inert(statement.value):
                        kept.append(ast.Expr(value=statement.value))
                else:
                    kept.append(statement)
            if field == "body" and not kept:
                kept = [ast.Pass()]
            setattr(node, field, kept)


def _mentions(node: ast.AST) -> list[str]:
    """The names a node mentions in any role (as the analyzer's walk sees every name node)."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return list(node.names)
    if isinstance(node, _DEFS):
        return [node.name]
    if isinstance(node, ast.alias):
        return [node.asname or node.name.partition(".")[0]]
    if isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)):
        return [node.name] if node.name else []
    if isinstance(node, ast.MatchMapping):
        return [node.rest] if node.rest else []
    if isinstance(node, ast.keyword):
        return [node.arg] if node.arg else []
    return []


def _inert(node: ast.expr) -> bool:
    """The analyzer's inert literals: numbers, strings, True/False/None, ``...``, lists,
    tuples and dicts of these; sets and dict keys of hashable scalars only."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, (int, float, complex)) \
            and not isinstance(node.operand.value, bool)
    if isinstance(node, (ast.List, ast.Tuple)):
        return all(not isinstance(e, ast.Starred) and _inert(e) for e in node.elts)
    if isinstance(node, ast.Set):
        return all(_hashable_scalar(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _hashable_scalar(k) and _inert(v) for k, v in zip(node.keys, node.values))
    return False


def _hashable_scalar(node: ast.expr) -> bool:
    return not isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict)) and _inert(node)


def _signature_annotations(tree: ast.Module) -> list[str]:
    top = tree.body[0] if tree.body else None
    if not isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return []
    args = top.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, *(a for a in (args.vararg, args.kwarg) if a)]
    return [_dump(a.annotation) if a.annotation is not None else "" for a in every] + [
        _dump(top.returns) if top.returns is not None else ""]


def _strip_signature_annotations(tree: ast.Module) -> None:
    top = tree.body[0] if tree.body else None
    if not isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return
    args = top.args
    for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, *(a for a in (args.vararg, args.kwarg) if a)):
        arg.annotation = None
    top.returns = None


def _numbered(tree: ast.AST) -> ast.AST:
    """A copy with every variable and parameter name replaced by its first-use number."""
    tree = copy.deepcopy(tree)
    numbers: dict[str, str] = {}

    def number(name: str) -> str:
        return numbers.setdefault(name, f"v{len(numbers)}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            node.id = number(node.id)
        elif isinstance(node, ast.arg):
            node.arg = number(node.arg)
    return tree


__all__ = ["CATEGORIES", "classify", "first_different_line"]
