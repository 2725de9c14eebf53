"""What a step's and a pipeline's decorators contribute to their code.

A framework's own decorator (``@step(enable_cache=...)``, ``@task(retries=3)``) is
configuration, but two things around it run with the step and are code:

* any *other* decorator: a wrapper the project defines (``@logged``, ``@times(2)``), a
  library's (``@torch.no_grad()``, ``@retry(...)``, ``@functools.lru_cache``), or a method of
  an object the project makes from its own class (``tracker = Tracker()``,
  ``@tracker.wrap``) -- :func:`wraps_code`;
* the repo functions and classes a framework decorator's arguments name: a hook
  (``on_failure=[notify]``), a cache key function, a materializer class -- :func:`hooks`.
  Steps named there (Dagster's ``deps=[raw]``) are the graph's, constants are configuration
  values, and a class only read for its attributes (``name=Names.TRAINING``) is a
  namespace of them. The same for what configuration set where a step is used names
  (``with_options(on_failure=alert)``) -- :func:`configured_code`.

A decorator is a framework's when the package it comes from starts with a framework's
name or one of its markers (``zenml``, ``dagster_dbt``, ``flytekit`` ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

import libcst as cst

from pvcheck.analyzer.canonical import Canon
from pvcheck.analyzer.module import ModuleInfo, Symbol

if TYPE_CHECKING:
    from pvcheck.analyzer.context import AnalysisContext
    from pvcheck.analyzer.frameworks.base import Framework
    from pvcheck.analyzer.index import ProjectIndex


def framework_roots(frameworks: Iterable["Framework"]) -> tuple[str, ...]:
    """The name prefixes of the packages frameworks' decorators come from: every built-in
    framework's name (also where none is loaded: ``code_version`` of a ZenML step in a
    process without ZenML), and the names and markers of the frameworks given."""
    from pvcheck.analyzer.frameworks.base import BUILTIN_FRAMEWORKS

    names = set(BUILTIN_FRAMEWORKS)
    for framework in frameworks:
        names.update(marker.decode() for marker in (framework.name.encode(), *framework.markers))
    return tuple(sorted(name for name in names if name.isidentifier()))


def _callee(decorator: cst.BaseExpression) -> cst.BaseExpression:
    return decorator.func if isinstance(decorator, cst.Call) else decorator


def wraps_code(ctx: "AnalysisContext", module: ModuleInfo, decorator: cst.BaseExpression,
               roots: tuple[str, ...]) -> bool:
    """Whether a decorator of a step runs code around it that is not a framework's (its
    expression is then the step's code)."""
    callee = _callee(decorator)
    if ctx.resolve_callee(module, callee) is not None:
        return True
    if not isinstance(callee, (cst.Name, cst.Attribute)):
        return False
    names = module.qualified_names(callee)
    if len(names) != 1:
        return True  # bound nowhere or in several ways: code, which the canonical form flags
    name = next(iter(names))
    found = ctx.index.resolve(name)
    if found is not None:
        # a method of an object the project makes from its own class is its code; one of
        # a framework's object (``env = flyte.TaskEnvironment(...)``, ``@env.task``) is not
        value = getattr(found[0].node, "value", None)
        return isinstance(value, cst.Call) and ctx.resolve_callee(found[0].module, value.func) is not None
    return not name.split(".")[0].startswith(roots)


def hooks(arguments: Canon, roots: tuple[str, ...]) -> list[Symbol]:
    """The repo functions and classes the canonical form of a framework decorator names
    that run with what it decorates."""
    namespaces = {name for _, name, rest, how in arguments.sites if rest and how != "call"}
    namespaces.difference_update(name for _, name, rest, how in arguments.sites if not rest or how == "call")
    return [symbol for name, symbol in arguments.references.items()
            if _runs_with(symbol, roots) and not (symbol.kind == "class" and name in namespaces)]


def configured_code(index: "ProjectIndex", config: Any, roots: tuple[str, ...]) -> list[Symbol]:
    """The repo functions and classes configuration values name -- ``{"$ref": ...}``,
    ``{"$call": ...}``, as ``with_options(on_failure=alert)`` or ``configure(...)`` write
    them where a step is used: hooks and materializers set per invocation."""
    names: set[str] = set()
    stack = [config]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("$ref", "$call") and isinstance(item, str):
                    names.add(item)
                else:
                    stack.append(item)
        elif isinstance(value, (list, tuple)):
            stack.extend(value)
    found: list[Symbol] = []
    for name in sorted(names):
        resolved = index.resolve(name)
        if resolved is None or resolved[1]:
            continue
        if _runs_with(resolved[0], roots):
            found.append(resolved[0])
    return found


def _runs_with(symbol: Symbol, roots: tuple[str, ...]) -> bool:
    """A class, or a function that is no step, asset or task (named by another step's
    decorator, one of those is wiring of the graph); constants are configuration values."""
    node = symbol.node
    if symbol.kind == "class":
        return True
    return symbol.kind == "function" and not (isinstance(node, cst.FunctionDef) and any(
        name.split(".")[0].startswith(roots)
        for decorator in node.decorators for name in symbol.module.qualified_names(_callee(decorator.decorator))))


__all__ = ["configured_code", "framework_roots", "hooks", "wraps_code"]
