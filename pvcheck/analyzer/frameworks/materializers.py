"""ZenML materializers a step's outputs go through: part of the step's reach.

A materializer writes a step's output and reads it back in the next step: its code is as
much a part of the computation as the step's. Two ways bring one in:

* ``@step(output_materializers=CsvMaterializer)`` (a class, a list, or a dict of output
  name -> class): every repo-local class named there;
* a repo-local ``BaseMaterializer`` subclass whose ``ASSOCIATED_TYPES`` lists a type the
  step returns (ZenML picks it by type). pvcheck looks for such classes in the modules the
  step's module imports from and in the modules that define its output types: ZenML
  registers a materializer when its module is imported, which is what an import from the
  step's module does (a materializer imported only elsewhere, e.g. by a run script, is
  not found: name it with ``output_materializers=``).

Only repo-local classes count; a materializer from an integration package is the
framework's code, pinned by its version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import libcst as cst

from pvcheck.plugin import ModuleInfo, Symbol

if TYPE_CHECKING:
    from pvcheck.plugin import AnalysisContext

_KEYWORD = "output_materializers"
_TYPES = "ASSOCIATED_TYPES"


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
        for candidate in _candidate_modules(node, module, returned, ctx):
            for symbol, types in _materializer_classes(candidate):
                if types & returned:
                    found.setdefault(symbol.qualified_name, symbol)
    return [found[name] for name in sorted(found)]


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


def _candidate_modules(node: cst.FunctionDef, module: ModuleInfo, returned: frozenset[str],
                       ctx: "AnalysisContext") -> list[ModuleInfo]:
    modules: dict[str, ModuleInfo] = {module.name: module}
    targets = [s.target for symbols in module.symbols.values() for s in symbols if s.kind in ("import", "star")]
    targets.extend(returned)
    for target in sorted(set(targets)):
        resolved = ctx.index.resolve(target)
        if resolved is not None:
            modules.setdefault(resolved[0].module.name, resolved[0].module)
        elif ctx.index.has_module(target):
            loaded = ctx.index.module(target)
            if loaded is not None:
                modules.setdefault(loaded.name, loaded)
    return [modules[name] for name in sorted(modules)]


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


__all__ = ["step_materializers"]
