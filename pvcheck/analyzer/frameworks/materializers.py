"""ZenML materializers a step's outputs go through: part of the step's reach.

A materializer writes a step's output and reads it back in the next step: its code is as
much a part of the computation as the step's. Two ways bring one in:

* ``@step(output_materializers=CsvMaterializer)`` (a class, a list, or a dict of output
  name -> class): every repo-local class named there;
* a repo-local class anywhere in the scanned tree whose ``ASSOCIATED_TYPES`` lists a type
  the step returns, or a base class of one (ZenML registers a materializer globally when
  its module is imported, whoever imports it, and picks one by walking the output type's
  MRO). Types compare by resolved qualified name, so a re-export names the same type.
  A subclass of such a class inherits its ``ASSOCIATED_TYPES`` and registers too. In a
  collection of projects (pvcheck.analyzer.subprojects) "the tree" is what the step's
  own project can import: its files and those of no project, not another project's.

The tree is indexed once per process: only files whose bytes contain ``ASSOCIATED_TYPES``
(or, for subclasses, a found class's name) are parsed, and a unit depends on that census
(which files hold the text and their bytes), not on every file.

Only repo-local classes count; a materializer from an integration package is the
framework's code, pinned by its version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import libcst as cst

from pvcheck.plugin import ModuleInfo, Symbol

if TYPE_CHECKING:
    from pvcheck.plugin import AnalysisContext, ProjectIndex

_KEYWORD = "output_materializers"
_TYPES = "ASSOCIATED_TYPES"
_MAX_INHERITANCE = 4  # levels of materializer subclasses followed
_MAX_TYPES = 64  # classes of one output type's MRO followed


def step_materializers(node: cst.FunctionDef, decorator: cst.Call | None, module: ModuleInfo,
                       ctx: "AnalysisContext") -> list[Symbol]:
    """Repo-local materializer classes of the step defined by ``node``, sorted by name."""
    found: dict[str, Symbol] = {}
    for arg in decorator.args if decorator is not None else ():
        if arg.keyword is not None and arg.keyword.value == _KEYWORD:
            for expression in _names(arg.value):
                symbol = ctx.resolve_callee(module, expression)
                if symbol is not None and symbol.kind == "class":
                    found[symbol.qualified_name] = symbol
    returned = _returned_types(node, module)
    if returned:
        index = ctx.index
        served = _with_bases({_resolved(name, index) for name in returned}, index)
        for symbol, types in tree_materializers(index, module.source.project_scope):
            if types & served:
                found.setdefault(symbol.qualified_name, symbol)
    return [found[name] for name in sorted(found)]


def tree_materializers(index: "ProjectIndex", scope: str = "") -> list[tuple[Symbol, frozenset[str]]]:
    """Every class of the tree that declares or inherits ``ASSOCIATED_TYPES``, with those
    types by resolved qualified name; in a collection of projects (``scope``: a
    sub-project's module prefix) only those its code can import. Computed once per index
    and scope."""
    return index.remember(("zenml", "materializers", scope), lambda: _index(index, scope))


def _index(index: "ProjectIndex", scope: str) -> list[tuple[Symbol, frozenset[str]]]:
    found: dict[str, tuple[Symbol, frozenset[str]]] = {}
    for module in _modules(index, _TYPES, scope):
        for symbol, types in _materializer_classes(module):
            found[symbol.qualified_name] = (symbol, frozenset(_resolved(t, index) for t in types))
    # subclasses that inherit ASSOCIATED_TYPES: in the files that name a class found so far
    pending = sorted({symbol.name for symbol, _ in found.values()})
    for _ in range(_MAX_INHERITANCE):
        if not pending:
            break
        names, pending = pending, []
        modules = {m.name: m for name in names for m in _modules(index, name, scope)}
        for module in (modules[n] for n in sorted(modules)):
            for symbol in (s for symbols in module.symbols.values() for s in symbols):
                if symbol.kind != "class" or symbol.qualified_name in found or not isinstance(symbol.node, cst.ClassDef):
                    continue
                types: set[str] = set()
                for base in symbol.node.bases:
                    for name in _names(base.value):
                        for qualified in module.qualified_names(name):
                            parent = found.get(_resolved(qualified, index))
                            if parent is not None:
                                types.update(parent[1])
                if types:
                    found[symbol.qualified_name] = (symbol, frozenset(types))
                    pending.append(symbol.name)
    return [found[name] for name in sorted(found)]


def _modules(index: "ProjectIndex", marker: str, scope: str) -> list[ModuleInfo]:
    """The parsed modules whose files contain ``marker`` (a census: see ``ProjectIndex.census``)."""
    modules: dict[str, ModuleInfo] = {}
    for file in index.census(marker, scope):
        if file.module in modules or index.by_module.get(file.module) is not file:
            continue  # a module name two files share: Python imports the first
        module = index.module(file.module)
        if module is not None:
            modules[module.name] = module
    return [modules[name] for name in sorted(modules)]


def _resolved(name: str, index: "ProjectIndex") -> str:
    """A type's qualified name where it is defined (a re-export names the same class)."""
    found = index.resolve(name)
    if found is not None and not found[1] and found[0].kind == "class":
        return found[0].qualified_name
    return name


def _with_bases(types: set[str], index: "ProjectIndex") -> frozenset[str]:
    """``types`` and the base classes of the repo-local ones, transitively: ZenML serves a
    type with the materializer of the first class of its MRO that has one."""
    result = set(types)
    pending = list(types)
    while pending and len(result) < _MAX_TYPES:
        found = index.resolve(pending.pop())
        if found is None or found[1] or found[0].kind != "class" or not isinstance(found[0].node, cst.ClassDef):
            continue
        module = found[0].module
        for base in found[0].node.bases:
            for name in _names(base.value):
                for qualified in module.qualified_names(name):
                    resolved = _resolved(qualified, index)
                    if resolved not in result:
                        result.add(resolved)
                        pending.append(resolved)
    return frozenset(result)


def _names(expression: cst.CSTNode) -> Iterator[cst.BaseExpression]:
    """Every name or dotted name inside an expression (not the parts of a dotted one)."""
    if isinstance(expression, (cst.Name, cst.Attribute)):
        yield expression
        return
    for child in expression.children:
        yield from _names(child)


def _returned_types(node: cst.FunctionDef, module: ModuleInfo) -> frozenset[str]:
    """Qualified names of every type named in the return annotation."""
    if node.returns is None:
        return frozenset()
    names: set[str] = set()
    for expression in _names(node.returns.annotation):
        names.update(module.qualified_names(expression))
    return frozenset(names)


def _materializer_classes(module: ModuleInfo) -> list[tuple[Symbol, frozenset[str]]]:
    """Classes of ``module`` that declare ``ASSOCIATED_TYPES``, with those types."""
    found = []
    for symbols in module.symbols.values():
        for symbol in symbols:
            node = symbol.node
            if symbol.kind != "class" or not isinstance(node, cst.ClassDef):
                continue
            types: set[str] = set()
            for statement in node.body.body if isinstance(node.body, cst.IndentedBlock) else ():
                if not isinstance(statement, cst.SimpleStatementLine):
                    continue
                for small in statement.body:
                    targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else \
                        [small.target] if isinstance(small, cst.AnnAssign) else []
                    if any(isinstance(t, cst.Name) and t.value == _TYPES for t in targets) and small.value is not None:
                        for expression in _names(small.value):
                            types.update(module.qualified_names(expression))
            if types:
                found.append((symbol, frozenset(types)))
    return found


__all__ = ["step_materializers", "tree_materializers"]
