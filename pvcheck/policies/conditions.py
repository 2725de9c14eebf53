"""Does a configuration change reach a build-time condition of a pipeline body?

A pipeline with a Python ``if``/``for``/``while`` over values pvcheck cannot know is
conservative (PV010/PV406): its code changes are always a new version. A *configuration*
change (a parameter default, a pipeline parameter value from a run script or YAML, a
decorator keyword) is still only a run, unless the changed value can decide which steps
exist: a changed parameter that flows -- directly or through local variables -- into the
test of an ``if``/``while``, the iterable of a ``for`` or a comprehension, or into a call
that is not a step (a helper could branch on it while the graph is built).

Read from the pipeline function's source text (Python's ``ast``, never executed); with
no source at hand (a lock file) the answer is "unknown", and the caller stays conservative.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional

from pvcheck.model import Parameter, Pipeline
from pvcheck.policies.sources import SourceTree

_SAFE_CALLS = frozenset({"len", "str", "int", "float", "bool", "print", "range", "list", "dict", "tuple", "set",
                         "min", "max", "sorted", "enumerate", "zip", "isinstance", "round", "abs"})


@dataclass(frozen=True)
class Reach:
    """Where a changed configuration value decides the graph: the parameter, the line and
    the code of the condition (or call) it reaches."""

    parameter: str
    line: int
    code: str


def changed_parameters(base: Pipeline, head: Pipeline) -> Optional[set[str]]:
    """Names of pipeline parameters whose value changed (default, or a value set in a run
    script or YAML run config under ``parameters``/``params``); None when some pipeline-level
    change may be a parameter pvcheck cannot name."""
    names = {n for n in _defaults(base.parameters).keys() | _defaults(head.parameters).keys()
             if _defaults(base.parameters).get(n, _MISSING) != _defaults(head.parameters).get(n, _MISSING)}
    for key in ("parameters", "params"):
        old, new = base.config.get(key, {}), head.config.get(key, {})
        if old == new:
            continue
        if not (isinstance(old, dict) and isinstance(new, dict)):
            return None
        names.update(k for k in old.keys() | new.keys() if old.get(k, _MISSING) != new.get(k, _MISSING))
    return names


def reaching(pipeline: Pipeline, sources: Optional[SourceTree], parameters: set[str],
             step_functions: Iterable[str]) -> Optional[list[Reach]]:
    """Where ``parameters`` reach a build-time decision in ``pipeline``'s body; None when
    the body's source cannot be read."""
    if not parameters:
        return []
    if sources is None:
        return None
    definition = sources.definition(pipeline.path, pipeline.line)
    tree = definition.tree() if definition is not None else None
    function = next((n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None) \
        if tree is not None else None
    if function is None or definition is None:
        return None
    steps = {name.rsplit(".", 1)[-1] for name in step_functions}
    tainted = _propagate(function, parameters)
    found: list[Reach] = []
    for node, expression in _decisions(function, steps):
        used = sorted(n.id for n in ast.walk(expression) if isinstance(n, ast.Name) and n.id in tainted)
        if used:
            line = definition.first_line + node.lineno - 1  # type: ignore[attr-defined]
            found.append(Reach(tainted[used[0]], line, ast.unparse(expression)))
    return found


_MISSING = object()


def _defaults(parameters: Iterable[Parameter]) -> dict[str, object]:
    return {p.name: p.default for p in parameters if p.has_default}


def _propagate(function: ast.AST, parameters: set[str]) -> dict[str, str]:
    """Every name whose value may depend on a changed parameter -> that parameter."""
    tainted = {name: name for name in parameters}
    changed = True
    while changed:
        changed = False
        for node in ast.walk(function):
            pairs: list[tuple[list[ast.AST], Optional[ast.AST]]] = []
            if isinstance(node, ast.Assign):
                pairs.append((list(node.targets), node.value))
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
                pairs.append(([node.target], node.value))
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                pairs.append(([node.target], node.iter))
            elif isinstance(node, ast.NamedExpr):
                pairs.append(([node.target], node.value))
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                pairs.extend(([item.optional_vars], item.context_expr) for item in node.items if item.optional_vars)
            for targets, value in pairs:
                if value is None:
                    continue
                source = next((tainted[n.id] for n in ast.walk(value) if isinstance(n, ast.Name) and n.id in tainted),
                              None)
                if source is None:
                    continue
                for target in targets:
                    for name in (n.id for n in ast.walk(target) if isinstance(n, ast.Name)):
                        if name not in tainted:
                            tainted[name] = source
                            changed = True
    return tainted


def _decisions(function: ast.AST, steps: set[str]) -> Iterator[tuple[ast.AST, ast.AST]]:
    """(node, expression) pairs whose value decides what the body does while the graph is
    built: tests, iterables, and the arguments of calls that are not steps."""
    for node in ast.walk(function):
        if isinstance(node, (ast.If, ast.While, ast.IfExp, ast.Assert)):
            yield node, node.test
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            yield node, node.iter
        elif isinstance(node, ast.comprehension):
            yield node.iter, node.iter
            for test in node.ifs:
                yield test, test
        elif isinstance(node, ast.Match):
            yield node, node.subject
        elif isinstance(node, ast.Call) and not _is_step_call(node, steps):
            for argument in [*node.args, *(k.value for k in node.keywords)]:
                yield node, argument


def _is_step_call(call: ast.Call, steps: set[str]) -> bool:
    """A call of a step (``train(...)``, ``train.with_options(...)(...)``, ``train.submit(...)``)
    or of a harmless builtin: its arguments are run-time values, not build-time decisions."""
    func = call.func
    while isinstance(func, ast.Call):
        func = func.func
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return bool(parts) and (parts[-1] in steps or (len(parts) == 1 and parts[0] in _SAFE_CALLS))


__all__ = ["Reach", "changed_parameters", "reaching"]
