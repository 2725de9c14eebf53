"""What a pipeline body calls besides its steps, and what its own code is.

A pipeline function is code like any other: besides wiring steps it may compute values,
call helpers, read a client. Nothing in it may pass unseen (SPEC §3, "nothing reaches
`run` by not being looked at"), so the graph builder sorts every call of the body into

* a step (a node), a nested pipeline (inlined), a step from an installed package
  (a node identified by its qualified name, see :class:`ExternalStep`);
* a framework API call, a method of a step's result, a known side-effect-free builtin,
  a cosmetic call (``print``, logging) or a method of a value known statically: followed;
* anything else: a PV023 diagnostic, recorded in the pipeline's coverage.

The builder also records *masks*: the step calls and the step inputs it modelled. The
pipeline body with those masked is the pipeline's own code: its fingerprint (with the
repo-local code it reaches) is part of the pipeline's fingerprint, and a change to it
that no other rule explains is a new version (PV407).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator, Optional

import libcst as cst

from pvcheck.analyzer.fastmeta import code_children
from pvcheck.analyzer.frameworks.base import BodyPart, StepDefinition
from pvcheck.analyzer.module import ModuleInfo, Symbol

if TYPE_CHECKING:
    from pvcheck.analyzer.callgraph import CallGraphBuilder
    from pvcheck.analyzer.index import ProjectIndex

#: Builtins that compute a value from their arguments and touch nothing else.
SAFE_BUILTINS = frozenset({
    "abs", "all", "any", "bool", "dict", "divmod", "enumerate", "float", "format", "frozenset", "int",
    "isinstance", "issubclass", "len", "list", "max", "min", "range", "repr", "reversed", "round", "set",
    "slice", "sorted", "str", "sum", "tuple", "zip",
})


@dataclass(frozen=True)
class ExternalStep(StepDefinition):
    """A step defined in an installed package: its code is not in the tree, so its
    identity is its fully qualified name, and its arguments are configuration."""

    external: str = ""

    @property
    def qualified_name(self) -> str:
        return self.external


def external_step(framework: str, kind: str, qualified: str, module: ModuleInfo, node: cst.CSTNode) -> ExternalStep:
    """The definition of a third-party step called at ``node``; its body fingerprint is
    the hash of its qualified name (the only thing known about its code)."""
    symbol = Symbol(module, qualified.rpartition(".")[2], "import", node, target=qualified)
    return ExternalStep(symbol, framework, kind, qualified.rpartition(".")[2],
                        body_parts=(BodyPart("external", value=qualified),), external=qualified)


def qualified_callee(callee: cst.BaseExpression, module: ModuleInfo) -> Optional[str]:
    """The one fully qualified name ``callee`` refers to, or None."""
    if not isinstance(callee, (cst.Name, cst.Attribute)):
        return None
    names = module.qualified_names(callee)
    return next(iter(names)) if len(names) == 1 else None


def modelled(value: Any) -> bool:
    """True when a value is fully captured by the graph or a step's inputs: a literal, a
    pipeline parameter, a step output, or a sequence of those."""
    from pvcheck.analyzer.callgraph import Literal, PipelineParameter, Sequence_, StepOutput, StepOutputs

    if isinstance(value, (Literal, PipelineParameter, StepOutput, StepOutputs)):
        return True
    return isinstance(value, Sequence_) and all(modelled(item) for item in value.items)


def pure_data(node: cst.BaseExpression, env: dict[str, Any]) -> bool:
    """An argument a step input records completely as text (``{"$expr": ...}``): literals
    and literal containers, and names of pipeline parameters or step outputs. A local
    bound to a literal is not accepted: its value is not in the text."""
    from pvcheck.analyzer.callgraph import PipelineParameter, StepOutput, StepOutputs

    if isinstance(node, (cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary)):
        return True
    if isinstance(node, cst.Name):
        return node.value in ("True", "False", "None") or \
            isinstance(env.get(node.value), (PipelineParameter, StepOutput, StepOutputs))
    if isinstance(node, cst.UnaryOperation):
        return isinstance(node.expression, (cst.Integer, cst.Float))
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return all(not isinstance(e, cst.StarredElement) and pure_data(e.value, env) for e in node.elements)
    if isinstance(node, cst.Dict):
        return all(isinstance(e, cst.DictElement) and pure_data(e.key, env) and pure_data(e.value, env)
                   for e in node.elements)
    return False


def simple_reference(node: cst.BaseExpression, env: dict[str, Any]) -> bool:
    """An ``id=``/``after=``/``wait_for=`` value the graph captures: a string literal, a
    local bound to a modelled value, an attribute of one, or a list or tuple of those."""
    if isinstance(node, cst.SimpleString):
        return True
    if isinstance(node, cst.Name):
        return node.value in env and modelled(env[node.value])
    if isinstance(node, cst.Attribute):
        return simple_reference(node.value, env)
    if isinstance(node, (cst.List, cst.Tuple)):
        return all(simple_reference(e.value, env) for e in node.elements)
    return False


def fully_masked(node: cst.CSTNode, masks: dict[int, str]) -> bool:
    """A call the graph records completely: masked itself, or a step call (or task
    method) whose callee and every argument are masked."""
    if id(node) in masks:
        return True
    return isinstance(node, cst.Call) and id(node.func) in masks and all(id(arg) in masks for arg in node.args)


def _name_targets(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Name):
        return True
    return isinstance(node, (cst.Tuple, cst.List)) and all(_name_targets(e.value) for e in node.elements)


def step_statement(statement: cst.CSTNode, masks: dict[int, str]) -> bool:
    """``x = step(...)``, ``a, b = step(...)`` or ``step(...)`` with nothing unmodelled: the
    invocation and its edges are the graph's (PV403/PV404), not code of the pipeline."""
    if isinstance(statement, cst.Expr):
        return fully_masked(statement.value, masks)
    if isinstance(statement, cst.Assign):
        return all(_name_targets(t.target) for t in statement.targets) and fully_masked(statement.value, masks)
    if isinstance(statement, cst.AnnAssign):
        return statement.value is not None and _name_targets(statement.target) \
            and fully_masked(statement.value, masks)
    return False


def keep_literal_assignments(function: cst.FunctionDef, masks: dict[int, str],
                             candidates: list[tuple[cst.BaseExpression, str]]) -> None:
    """Mask the value of ``name = <literal>`` when every other use of ``name`` in the body
    is masked (a step input that records the value); otherwise the literal is code."""
    if not candidates:
        return
    used = set(_unmasked_names(function.body, masks))
    for node, name in candidates:
        if name not in used:
            masks[id(node)] = "<literal>"


def _unmasked_names(node: cst.CSTNode, masks: dict[int, str]) -> Iterator[str]:
    """Names read outside masked parts (assignment targets are not reads)."""
    stack: list[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        if id(current) in masks:
            continue
        if isinstance(current, cst.Name):
            yield current.value
            continue
        if isinstance(current, cst.AssignTarget) and isinstance(current.target, cst.Name):
            continue
        if isinstance(current, cst.AnnAssign) and isinstance(current.target, cst.Name):
            stack.append(current.annotation)
            if current.value is not None:
                stack.append(current.value)
            continue
        stack.extend(code_children(current))


def account(builder: "CallGraphBuilder", call: cst.Call, callee: cst.BaseExpression, symbol: Optional[Symbol],
            env: dict[str, Any], module: ModuleInfo) -> None:
    """Report ``call`` (PV023) unless it is one pvcheck follows (see the module docstring)."""
    from pvcheck.analyzer.callgraph import Literal, Opaque, Sequence_, StepOutput, StepOutputs

    if symbol is not None:
        if not builder.reports_local_calls:
            builder.unfollowed_call(module, call, f"'{symbol.qualified_name}' (a repo-local {symbol.kind})")
        return
    root: cst.BaseExpression = callee
    while isinstance(root, (cst.Attribute, cst.Subscript, cst.Call)):
        root = root.func if isinstance(root, cst.Call) else root.value
    if root is not callee and isinstance(root, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString,
                                                 cst.Integer, cst.Float)):
        return  # ``"{}_{}".format(a, b)``: a method of a literal, computing a value from its arguments
    if isinstance(root, cst.Name) and root.value in env and root is not callee:
        value = env[root.value]
        if isinstance(value, (StepOutput, StepOutputs, Literal, Sequence_)) or type(value).__name__ == "_TaskRef":
            return  # a method of a step's result (a framework object) or of a value known statically
        if isinstance(value, Opaque) and _is_api(value.text.partition("(")[0], builder.api_packages):
            return  # `client = Client()` then `client.get_artifact_version(...)`: the framework's API
    for candidate in (callee, root):
        name = qualified_callee(candidate, module)
        if name is None:
            continue
        if _is_api(name, builder.api_packages) or name in SAFE_BUILTINS or name.startswith("builtins.") \
                and name[len("builtins."):] in SAFE_BUILTINS:
            return
        if candidate is callee and any(fnmatch.fnmatchcase(name, pattern)
                                       for pattern in builder.ctx.config.cosmetic_calls):
            return
    text = " ".join(module.code(callee).split())
    name = qualified_callee(callee, module)
    if name is not None and "<locals>" in name:
        name = None  # a method of a local: its code says more than a scope path
    builder.unfollowed_call(module, call, f"'{name or text}'")


def references_repo_code(node: cst.CSTNode, module: ModuleInfo, index: "ProjectIndex", _depth: int = 0) -> bool:
    """Whether an expression names a repo-local function or class, or a module constant
    whose value does: configuration records such a value as text (``{"$ref": ...}``,
    ``{"$call": ...}``), not the code behind it, so the expression must stay code."""
    if _depth > 4:
        return True
    stack: list[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (cst.Name, cst.Attribute)):
            for qualified in module.qualified_names(current):
                resolved = index.resolve(qualified)
                if resolved is None:
                    continue
                symbol = resolved[0]
                if symbol.kind in ("function", "class"):
                    return True
                if symbol.kind == "constant":
                    for bound in symbol.module.symbols.get(symbol.name, []):
                        value = getattr(bound.node, "value", None)
                        if bound.kind == "constant" and isinstance(value, cst.BaseExpression) \
                                and references_repo_code(value, symbol.module, index, _depth + 1):
                            return True
            if isinstance(current, cst.Attribute):
                stack.append(current.value)  # ``helpers.build().x``: its root may be a call
            continue
        stack.extend(code_children(current))
    return False


def mask_configuration(builder: "CallGraphBuilder", call: cst.Call, module: ModuleInfo, token: Optional[str] = "",
                       always: frozenset[str] = frozenset()) -> None:
    """Mask a call the graph records as configuration (an operator, a ``TaskGroup``, an op's
    options): its callee, and every argument except those that reach repo code (they stay
    the pipeline's code, and that code is in its reach). Keywords in ``always`` are masked
    whatever they name (an operator's ``python_callable`` is the step's own body)."""
    index = builder.ctx.index
    for arg in call.args:
        keyword = arg.keyword.value if arg.keyword is not None else None
        if keyword in always or not references_repo_code(arg.value, module, index):
            builder.mask(arg, "")
    if token is not None:  # None: the callee is masked by the caller (``Op.partial(...).expand(...)``)
        builder.mask(call.func, token)


def _is_api(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == package or name.startswith(package + ".") for package in packages)


__all__ = ["ExternalStep", "SAFE_BUILTINS", "account", "external_step", "fully_masked", "keep_literal_assignments",
           "mask_configuration", "modelled", "pure_data", "qualified_callee", "references_repo_code", "simple_reference",
           "step_statement"]
