"""KFP components that are not a decorated function of the tree, as real projects write them.

* **A component spec loaded from YAML**: ``op = components.load_component_from_file(path)``
  (or ``load_component_from_text(TEXT)``) at module level, then ``op(...)`` in a pipeline.
  KFP names the task after the spec's name (``name:`` of a v1 spec, ``pipelineInfo.name``
  of a compiled v2 one) and its outputs after the spec's outputs. The spec *is* the
  component's code (image, command, the embedded Python of a compiled component): the
  step's body is the load call plus the bytes of the file, so editing the YAML is a new
  version. A path that cannot be computed, or a file that is not there, is PV022, and the
  step is then fingerprinted by its load call only.
* **A function made a component by a call**: ``op = create_component_from_func(fn, ...)``,
  ``func_to_container_op(fn)`` (KFP v1) or ``dsl.component(fn, base_image=...)``: the step
  is ``fn``'s code, the call's keywords its configuration (``base_image``,
  ``packages_to_install``: environment).
* **The version of a package of prebuilt components** (``google-cloud-pipeline-components``)
  pinned in the project's requirements: a prebuilt component's code is that package's,
  so its pin is the step's ``requirements`` (an environment key).

Nothing is imported or executed: paths are computed as file reads are (reach.py), YAML
is read with ``yaml.safe_load`` semantics, requirements as text.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any, Optional

import libcst as cst

from pvcheck.analyzer.frameworks.kfp_interface import component_outputs, k8s_name
from pvcheck.analyzer.reach import static_path
from pvcheck.diagnostics import UNKNOWN_READ
from pvcheck.plugin import AnalysisContext, BodyPart, ModuleInfo, Output, Severity, StepDefinition, Symbol

#: Loaders of a component spec -> what their first argument is.
LOADERS: dict[str, str] = {
    **{f"{p}.load_component_from_file": "file" for p in ("kfp.components", "kfp.components.yaml_component")},
    **{f"{p}.load_component_from_text": "text" for p in ("kfp.components", "kfp.components.yaml_component")},
}
#: Calls that make a component of a repo-local function (v1 and v2).
WRAPPERS = frozenset({
    "kfp.components.func_to_container_op", "kfp.components.create_component_from_func",
    "kfp.components.create_component_from_func_v2", "kfp.dsl.component", "kfp.v2.dsl.component",
    "kfp.dsl.component_decorator.component",
})
#: Top-level package of prebuilt components -> its distribution name.
DISTRIBUTIONS = {"google_cloud_pipeline_components": "google-cloud-pipeline-components"}
_REQUIREMENT_FILES = ("requirements.txt", "requirements.in", "pyproject.toml", "setup.cfg", "environment.yml")


def loaded_component(symbol: Symbol, ctx: AnalysisContext) -> Optional[StepDefinition]:
    """The component a module constant holds: a loaded spec or a wrapped function; else None."""
    node = symbol.node
    value = node.value if isinstance(node, (cst.Assign, cst.AnnAssign)) else None
    if not isinstance(value, cst.Call) or not isinstance(value.func, (cst.Name, cst.Attribute)):
        return None
    module = symbol.module
    names = module.qualified_names(value.func)
    kind = next((LOADERS[n] for n in names if n in LOADERS), None)
    if kind is not None:
        return _spec_component(symbol, value, kind, ctx)
    if names & WRAPPERS:
        return wrapped_function(value, module, ctx)
    return None


# ---------------------------------------------------------------------- YAML specs
def _spec_component(symbol: Symbol, call: cst.Call, kind: str, ctx: AnalysisContext) -> StepDefinition:
    module = symbol.module
    argument = _first_argument(call, ("component_file", "file_path", "text", "filename"))
    spec: Any = None
    parts = [BodyPart("component", node=call)]
    if kind == "text":
        text = ctx.value(argument, module) if argument is not None else None
        if isinstance(text, str):
            spec = _safe_yaml(text)
    else:
        path = _spec_path(argument, symbol, ctx) if argument is not None else None
        if path is None:
            ctx.diagnose(UNKNOWN_READ, Severity.WARNING,
                         f"component '{symbol.name}' is loaded from a YAML file whose path pvcheck cannot "
                         "compute statically, or which is not in the scanned tree; a change to that file's "
                         "content goes unnoticed", module.path, module.line(call),
                         hint="build the path from a literal or Path(__file__), relative to this file or the root")
        else:
            # the bytes of the spec are the component's code (image, command, embedded source)
            state = ctx.index.data_file_state(path)
            parts.append(BodyPart("component_spec", value=state.rpartition(":")[2]))
            loaded = ctx.project_yaml(path)
            spec = loaded.pipeline if loaded is not None else None
    name, outputs = _spec_interface(spec)
    return StepDefinition(symbol, "kfp", "component", k8s_name(name or symbol.name), {}, {}, outputs, tuple(parts))


def _spec_path(argument: cst.BaseExpression, symbol: Symbol, ctx: AnalysisContext) -> Optional[str]:
    """The spec file from the root: as reads resolve it (``__file__``-relative, else from the
    root), else next to the module (a script run from its own folder)."""
    path = static_path(argument, symbol.module, ctx.index)
    if path is None:
        return None
    candidates = [path]
    folder = posixpath.dirname(symbol.module.path)
    if folder and not path.startswith(folder + "/"):
        candidates.append(posixpath.normpath(posixpath.join(folder, path)))
    for candidate in candidates:
        if ctx.project_files(candidate):
            return candidate
    return None


def _safe_yaml(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def _spec_interface(spec: Any) -> tuple[Optional[str], tuple[Output, ...]]:
    """(name, outputs) of a v1 component spec (``name``, ``outputs: [{name: ...}]``) or a
    compiled v2 one (``pipelineInfo.name``, ``root.outputDefinitions``)."""
    if not isinstance(spec, dict):
        return None, ()
    info = spec.get("pipelineInfo")
    if isinstance(info, dict):
        name = info.get("name")
        outputs: list[Output] = []
        root = spec.get("root")
        definitions = root.get("outputDefinitions") if isinstance(root, dict) else None
        for group in ("artifacts", "parameters"):
            entries = definitions.get(group) if isinstance(definitions, dict) else None
            if isinstance(entries, dict):
                outputs.extend(Output(str(key), group[:-1]) for key in entries)
        return (name if isinstance(name, str) else None), tuple(outputs)
    name = spec.get("name")
    entries = spec.get("outputs")
    outputs = [Output(str(entry["name"]), str(entry.get("type", ""))) for entry in entries
               if isinstance(entry, dict) and "name" in entry] if isinstance(entries, list) else []
    return (name if isinstance(name, str) else None), tuple(outputs)


# ---------------------------------------------------------------------- wrapped functions
def wrapped_function(call: cst.Call, module: ModuleInfo, ctx: AnalysisContext) -> Optional[StepDefinition]:
    """The component ``create_component_from_func(fn, ...)`` (or another of :data:`WRAPPERS`)
    makes of a repo-local function ``fn``, written in ``module``; None for anything else."""

    argument = _first_argument(call, ("func", "python_func"))
    if argument is None:
        return None
    function = ctx.resolve_callee(module, argument)
    if function is None or not isinstance(function.node, cst.FunctionDef):
        return None
    config, lines = ctx.keyword_config(call, module, skip=("func", "python_func"))
    node = function.node
    return StepDefinition(function, "kfp", "component", k8s_name(node.name.value), config, lines,
                          component_outputs(node, function.module, ctx, False))


def _first_argument(call: cst.Call, keywords: tuple[str, ...]) -> Optional[cst.BaseExpression]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in keywords:
            return arg.value
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return positional[0].value if positional else None


# ---------------------------------------------------------------------- pinned packages
def pinned_requirement(qualified: str, module_path: str, ctx: AnalysisContext) -> Optional[tuple[str, str, int]]:
    """(``google-cloud-pipeline-components==2.17.0``, file, line) when the nearest
    requirements file above ``module_path`` (up to the root) that names the package
    ``qualified`` comes from pins it; None when none does."""
    distribution = DISTRIBUTIONS.get(qualified.split(".", 1)[0])
    if distribution is None:
        return None
    pattern = re.compile(r"(?im)^[\s\"'-]*" + re.escape(distribution).replace(r"\-", "[-_]")
                         + r"\s*(?:\[[^\]]*\])?\s*(===?|~=)\s*([0-9][0-9A-Za-z.*+!-]*)")
    folder = posixpath.dirname(module_path)
    while True:
        for name in _REQUIREMENT_FILES:
            path = f"{folder}/{name}" if folder else name
            if not ctx.project_files(path):
                continue
            ctx.index.data_file_state(path)  # the pin is read from this file: depend on its bytes
            try:
                text = (ctx.root / path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            found = pattern.search(text)
            if found is not None:
                line = text.count("\n", 0, found.start(2)) + 1
                return f"{distribution}{found.group(1)}{found.group(2)}", path, line
        if not folder:
            return None
        folder = posixpath.dirname(folder)


__all__ = ["DISTRIBUTIONS", "LOADERS", "WRAPPERS", "loaded_component", "pinned_requirement", "wrapped_function"]
