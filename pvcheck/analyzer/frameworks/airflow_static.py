"""Airflow's own: names known when the DAG file is read, and helpers that return a DAG.

Public DAG files name their tasks with the loop variable of a loop over a module
constant: ``task_id='load_{}'.format(table['name'])``, ``'%s_to_s3' % name``,
``prefix + '_check'``. Airflow computes those ids when it parses the file, from values
that are all in the file, so pvcheck computes them too (:func:`known_value`): the graph
gets Airflow's ids instead of ``load_{}.format(...)__7``. Only the *name* is taken from
this evaluation (:class:`Known`): the value stays opaque everywhere else, so the
step's body and configuration are read exactly as before.

Many projects also wrap ``DAG(...)`` in a helper of their own (``create_dag(dag_id=...,
**kwargs)`` returning ``airflow.DAG(default_args=..., **kwargs)``): a module-level call of
such a helper declares a DAG just as ``DAG(...)`` does (:func:`returns_dag`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

import libcst as cst

from pvcheck.plugin import Literal, ModuleInfo, Opaque, Sequence_, Value, literal_value, is_literal, read_only_visit

#: What :func:`known_value` returns when the value is not known statically.
UNKNOWN: Any = object()
_SCALARS = (str, int, float, bool)
#: ``str`` methods with no side effect whose result pvcheck computes for a known string.
_STRING_METHODS = frozenset({"lower", "upper", "strip", "lstrip", "rstrip", "replace", "title", "capitalize"})


@dataclass(frozen=True)
class Known(Opaque):
    """A value computed from values known statically (``'load_{}'.format(table)``, a row
    ``{"name": "orders"}`` of a module-level list walked with the DAG): opaque like any
    other computed value, except where it names a task, a group or a DAG."""

    known: Any = None

    @property
    def text_value(self) -> Optional[str]:
        return self.known if isinstance(self.known, str) else None


def known_value(node: cst.BaseExpression, env: dict[str, Value], module: ModuleInfo,
                constant: Callable[[cst.BaseExpression, ModuleInfo], Any]) -> Any:
    """The value of an expression computed from literals, names bound while walking to
    known values, and module constants (``constant``: the index's reading of a name);
    :data:`UNKNOWN` for anything else. No side effect: nothing is evaluated twice."""
    literal = literal_value(node)
    if is_literal(literal):
        return literal
    if isinstance(node, cst.Name):
        if node.value in env:
            return _bound(env[node.value])
        return _plain(constant(node, module))
    if isinstance(node, cst.Attribute):
        root = node
        while isinstance(root, cst.Attribute):
            root = root.value  # type: ignore[assignment]
        return UNKNOWN if isinstance(root, cst.Name) and root.value in env else _plain(constant(node, module))
    if isinstance(node, cst.Subscript):
        return _subscript(node, env, module, constant)
    if isinstance(node, cst.FormattedString):
        return _formatted(node, env, module, constant)
    if isinstance(node, cst.BinaryOperation):
        left = known_value(node.left, env, module, constant)
        right = known_value(node.right, env, module, constant)
        if isinstance(node.operator, cst.Add) and isinstance(left, str) and isinstance(right, str):
            return left + right
        if isinstance(node.operator, cst.Modulo) and isinstance(left, str) and (
                _scalar(right) or isinstance(right, list) and all(_scalar(r) for r in right)):
            arguments = tuple(right) if isinstance(right, list) else right
            return _guarded(lambda: left % arguments)
        return UNKNOWN
    if isinstance(node, cst.Call):
        return _call(node, env, module, constant)
    if isinstance(node, (cst.Tuple, cst.List)):
        # a container may hold values computed at run time beside known ones
        # (``{"name": "orders", "schema": load_schema()}``): those stay UNKNOWN inside it
        items = [known_value(e.value, env, module, constant) for e in node.elements
                 if not isinstance(e, cst.StarredElement)]
        return items if len(items) == len(node.elements) else UNKNOWN
    if isinstance(node, cst.Dict):
        found: dict[Any, Any] = {}
        for element in node.elements:
            if not isinstance(element, cst.DictElement):
                return UNKNOWN
            key = known_value(element.key, env, module, constant)
            if not _scalar(key):
                return UNKNOWN
            found[key] = known_value(element.value, env, module, constant)
        return found
    return UNKNOWN


def _bound(value: Value) -> Any:
    """The known value of a name bound while walking."""
    if isinstance(value, Known):
        return value.known
    if isinstance(value, Literal):
        return _plain(value.value)
    if isinstance(value, Sequence_):
        return [_bound(item) for item in value.items]
    return UNKNOWN


def fully_known(value: Any) -> bool:
    """Whether a known value holds nothing computed at run time (it can be fingerprinted)."""
    if isinstance(value, dict):
        return all(fully_known(v) for v in value.values())
    if isinstance(value, list):
        return all(fully_known(v) for v in value)
    return _scalar(value)


def _plain(value: Any) -> Any:
    """A value read from a literal or a module constant, unless it holds something computed
    at run time (pvcheck's ``{"$call": ...}`` / ``{"$ref": ...}`` / ``{"$expr": ...}`` markers)."""
    if isinstance(value, dict):
        if any(isinstance(k, str) and k.startswith("$") for k in value):
            return UNKNOWN
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value if value is None or isinstance(value, _SCALARS) else UNKNOWN


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, _SCALARS)


def _guarded(compute: Callable[[], Any]) -> Any:
    try:
        result = compute()
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return UNKNOWN  # Python would raise too: not a name pvcheck can give
    return result if isinstance(result, str) else UNKNOWN


def _subscript(node: cst.Subscript, env: dict[str, Value], module: ModuleInfo,
               constant: Callable[[cst.BaseExpression, ModuleInfo], Any]) -> Any:
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return UNKNOWN
    base = known_value(node.value, env, module, constant)
    key = known_value(node.slice[0].slice.value, env, module, constant)
    if isinstance(base, (dict, list)) and _scalar(key):
        try:
            found = base[key]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            return UNKNOWN
        return UNKNOWN if found is UNKNOWN else found
    return UNKNOWN


def _formatted(node: cst.FormattedString, env: dict[str, Value], module: ModuleInfo,
               constant: Callable[[cst.BaseExpression, ModuleInfo], Any]) -> Any:
    pieces: list[str] = []
    for part in node.parts:
        if isinstance(part, cst.FormattedStringText):
            pieces.append(part.value)
            continue
        value = known_value(part.expression, env, module, constant)
        if part.format_spec or part.conversion or not _scalar(value):
            return UNKNOWN
        pieces.append(str(value))
    return "".join(pieces)


def _call(node: cst.Call, env: dict[str, Value], module: ModuleInfo,
          constant: Callable[[cst.BaseExpression, ModuleInfo], Any]) -> Any:
    if any(a.star for a in node.args):
        return UNKNOWN
    positional = [known_value(a.value, env, module, constant) for a in node.args if a.keyword is None]
    keywords = {a.keyword.value: known_value(a.value, env, module, constant) for a in node.args
                if a.keyword is not None}
    if any(v is UNKNOWN for v in (*positional, *keywords.values())):
        return UNKNOWN
    func = node.func
    if isinstance(func, cst.Name) and func.value == "str" and len(positional) == 1 and not keywords \
            and "str" not in env and _scalar(positional[0]):
        return str(positional[0])
    if not isinstance(func, cst.Attribute):
        return UNKNOWN
    base = known_value(func.value, env, module, constant)
    method = func.attr.value
    if isinstance(base, str) and method == "format":
        if not all(_scalar(v) for v in (*positional, *keywords.values())):
            return UNKNOWN  # '{0[name]}'.format(row): indexing inside the template
        return _guarded(lambda: base.format(*positional, **keywords))
    if isinstance(base, str) and method in _STRING_METHODS and not keywords:
        return _guarded(lambda: getattr(base, method)(*positional))
    if isinstance(base, dict) and method == "get" and not keywords and 1 <= len(positional) <= 2:
        found = base.get(positional[0], positional[1] if len(positional) == 2 else None)
        return UNKNOWN if found is UNKNOWN else found
    return UNKNOWN


# ---------------------------------------------------------------------- DAG helpers
def returns_dag(function: cst.FunctionDef, module: ModuleInfo, dag_classes: frozenset[str]) -> bool:
    """Whether a function is a thin wrapper of ``DAG(...)``: it returns a ``DAG(...)`` it
    builds (directly, or through a name bound to it) and creates no task itself. Called at
    module level it declares a DAG; called inside a function it is a DAG factory."""
    finder = _ReturnFinder(module, dag_classes)
    read_only_visit(function.body, finder)
    if finder.makes_tasks or not finder.dags:
        return False
    return any(isinstance(r, cst.Call) and id(r) in finder.dags
               or isinstance(r, cst.Name) and r.value in finder.dag_names for r in finder.returned)


class _ReturnFinder(cst.CSTVisitor):
    def __init__(self, module: ModuleInfo, dag_classes: frozenset[str]) -> None:
        self.module = module
        self.dag_classes = dag_classes
        self.dags: set[int] = set()
        self.dag_names: set[str] = set()
        self.returned: list[cst.BaseExpression] = []
        self.makes_tasks = False
        self.depth = 0  # inside a nested definition: its returns are not the helper's, its tasks count

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.depth -= 1

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.depth += 1

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.depth -= 1

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, (cst.Name, cst.Attribute)) and self.module.qualified_names(func) & self.dag_classes:
            if not self.depth:
                self.dags.add(id(node))
        elif any(a.keyword is not None and a.keyword.value == "task_id" for a in node.args):
            self.makes_tasks = True

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.depth:
            return
        value = node.value
        if isinstance(value, cst.Call) and isinstance(value.func, (cst.Name, cst.Attribute)) \
                and self.module.qualified_names(value.func) & self.dag_classes:
            self.dag_names.update(t.target.value for t in node.targets if isinstance(t.target, cst.Name))

    def visit_With(self, node: cst.With) -> None:
        self.makes_tasks = True  # ``with DAG(...) as dag:`` inside: tasks are made there

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None and not self.depth:
            self.returned.append(node.value)


def dag_helper_parameter(function: cst.FunctionDef, name: str) -> Optional[int]:
    """The position of a helper's parameter (``dag_id``), for a positional argument."""
    for index, param in enumerate([*function.params.posonly_params, *function.params.params]):
        if param.name.value == name:
            return index
    return None
