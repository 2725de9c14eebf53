"""Finding kinds and the one renderer of a finding's sentence.

Policies build :class:`~pvcheck.model.Finding` objects from fields (``kind``, ``subject``,
``old``, ``new``, ``detail``); this module turns them into the sentence every output
shows -- text, markdown, GitHub annotations, SARIF and JSON's ``message`` -- so that the
wording lives in one place and no output prints a location twice (the sentence never
contains one: each output adds the location its own way).

Values are shown the way they read in code: JSON for literals, and the analyzer's tagged
forms (``{"$ref": ...}``, ``{"$call": ...}``, ``{"$expr": ...}``, ``{"$step": ...}``,
``{"$asset": ...}`` ...) as readable text, so no internal marker reaches a user.

A plug-in policy may pass its own ``message``; it can also register a renderer for its
own kinds with :func:`register_kind`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable, Mapping

if TYPE_CHECKING:  # pragma: no cover - typing only
    from pvcheck.model import Finding

Renderer = Callable[["Finding"], str]

_RENDERERS: dict[str, Renderer] = {}


def register_kind(kind: str, renderer: Renderer) -> None:
    """Render findings of ``kind`` with ``renderer`` (a plug-in's own kinds)."""
    _RENDERERS[kind] = renderer


def kinds() -> tuple[str, ...]:
    """Every kind with a renderer, sorted."""
    return tuple(sorted(_RENDERERS))


def explain(finding: "Finding") -> str:
    """The sentence for ``finding``, without its location."""
    renderer = _RENDERERS.get(finding.kind)
    if renderer is not None:
        return renderer(finding)
    text = finding.subject or finding.kind
    if finding.old is not None or finding.new is not None:
        text += f": {show(finding.old)} -> {show(finding.new)}"
    return text


def _kind(*names: str) -> Callable[[Renderer], Renderer]:
    def register(renderer: Renderer) -> Renderer:
        for name in names:
            _RENDERERS[name] = renderer
        return renderer
    return register


# --------------------------------------------------------------------------- values


#: Key-path segments the analyzer writes with a ``$`` and how they read.
_KEY_WORDS = {"$args": "args", "$condition": "run condition", "$deps": "upstream assets",
              "$mapped": "mapped", "$outputs": "outputs"}


def show(value: Any) -> str:
    """A value as it reads in a sentence: literals as JSON, code by its source in backticks
    (```len(rows) * 2```, so that it does not read as a string)."""
    if hasattr(value, "to_json"):
        value = value.to_json()
    text = _show(value)
    if isinstance(value, Mapping) and any(k in value for k in ("$expr", "$ref", "$call")):
        return f"`{text}`"
    return text


def _show(value: Any) -> str:
    if hasattr(value, "to_json"):  # a typed model value: shown by its JSON form
        value = value.to_json()
    if isinstance(value, Mapping):
        tagged = _tagged(value)
        if tagged is not None:
            return tagged
        items = sorted(value.items(), key=lambda item: str(item[0]))
        return "{" + ", ".join(f"{_key(k)}: {_show(v)}" for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def _key(key: Any) -> str:
    """A dict key as it reads: JSON, or a ``$``-key by its meaning."""
    text = str(key)
    return _KEY_WORDS.get(text, text[1:]) if text.startswith("$") else _show(text)


def _tagged(value: Mapping[str, Any]) -> str | None:
    """The readable form of one of the analyzer's tagged values; None for a plain dict."""
    if "$expr" in value and isinstance(value["$expr"], str):
        return value["$expr"]
    if "$ref" in value and isinstance(value["$ref"], str):
        return value["$ref"]
    if "$call" in value and isinstance(value["$call"], str):
        args = [_show(a) for a in value.get("$args", ())]
        args += [f"{k}={_show(v)}" for k, v in sorted(value.items()) if not str(k).startswith("$")]
        return f"{value['$call']}({', '.join(args)})"
    if "$step" in value:
        output = value.get("output")
        if isinstance(output, list):
            output = ", ".join(str(o) for o in output)
        return f"output {output} of step {value['$step']}" if output else f"step {value['$step']}"
    if "$asset" in value:
        rest = {k: v for k, v in value.items() if k != "$asset"}
        return f"asset {value['$asset']}" + (f" {_show(rest)}" if rest else "")
    if "$param" in value:
        return f"pipeline parameter {value['$param']}"
    if "$set" in value and isinstance(value["$set"], list):
        return "{" + ", ".join(_show(v) for v in value["$set"]) + "}"
    if "$config" in value:
        return f"config {value['$config']}"
    if "$template" in value:
        return f"template {_show(value['$template'])}"
    if "$none" in value:
        return "null"
    return None


def key_path(parts: Any) -> str:
    """A configuration key path as it reads: ``steps.train.parameters.rate``, ``tags[1]``
    (``$``-segments by their meaning: ``$args`` -> ``args``)."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        word = _KEY_WORDS.get(str(part), str(part)[1:] if str(part).startswith("$") else str(part))
        text += f".{word}" if text else word
    return text


def _condition(value: Any) -> str:
    """A run condition (lists of the source of each enclosing condition) as a sentence."""
    if isinstance(value, (list, tuple)):
        parts = [_condition(v) for v in value]
        return " and ".join(p for p in parts if p) or "none"
    if value is None:
        return "none"
    return f"`{value}`" if isinstance(value, str) else _show(value)


def _complexity(finding: "Finding") -> str:
    """`` (complexity 3 -> 5)``: radon's cyclomatic complexity before and after."""
    value = finding.detail.get("complexity")
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return ""
    before, after = value
    if not before and not after:
        return ""
    return f" (complexity {after})" if before == after else f" (complexity {before} -> {after})"


def _unit(finding: "Finding") -> str:
    """``step train`` / ``helper a.b (used by step train)`` / ``pipeline p``: whose code."""
    unit = finding.detail.get("unit", "step")
    if unit == "helper":
        return f"helper {finding.subject} (used by step {finding.step})"
    return f"{unit} {finding.subject}"


# --------------------------------------------------------------------------- cosmetic

_COSMETIC = {"formatting-changed": "formatting changed", "comments-changed": "comments changed",
             "docstring-changed": "docstring changed", "logging-changed": "print/logging statements changed",
             "locals-renamed": "local names renamed consistently",
             "local-annotations-changed": "annotations of local variables changed",
             "annotations-changed": "parameter/return annotations changed",
             "unused-variables-changed": "assignments of unused local variables changed"}


@_kind(*_COSMETIC)
def _cosmetic(f: "Finding") -> str:
    return f"{_unit(f)}: {_COSMETIC[f.kind]} (same computation)"


@_kind("imports-reordered")
def _imports_reordered(f: "Finding") -> str:
    return f"imports of {f.subject} reordered"


@_kind("unused-import-added")
def _import_added(f: "Finding") -> str:
    return f"import added to {f.subject}, unused by this pipeline: {f.new}"


@_kind("unused-import-removed")
def _import_removed(f: "Finding") -> str:
    return f"import removed from {f.subject}, unused by this pipeline: {f.old}"


@_kind("step-renamed")
def _step_renamed(f: "Finding") -> str:
    return f"step {f.old} renamed to {f.new} (body unchanged)"


@_kind("step-function-renamed")
def _function_renamed(f: "Finding") -> str:
    return f"step {f.subject}: function {f.old} renamed to {f.new} (body unchanged)"


# moves and renames the content layer sees through (PV108, PV109): ``detail["owner"]`` is
# ``step train`` or ``pipeline p``, ``old``/``new`` qualified names

def _owner(f: "Finding") -> str:
    owner = f.detail.get("owner")
    return f"{owner}: " if owner else ""


@_kind("definition-moved")
def _definition_moved(f: "Finding") -> str:
    old_module, _, old_name = str(f.old).rpartition(".")
    new_module, _, new_name = str(f.new).rpartition(".")
    how = "renamed to" if old_module == new_module else ("moved to" if old_name == new_name
                                                          else "moved and renamed to")
    noun = f.detail.get("noun", "helper")
    return f"{_owner(f)}{noun} {f.old} {how} {f.new}, {'value' if noun == 'constant' else 'body'} unchanged"


@_kind("constant-inlined")
def _constant_inlined(f: "Finding") -> str:
    return f"{_owner(f)}constant {f.old} replaced by its value (the same value)"


@_kind("literal-extracted")
def _literal_extracted(f: "Finding") -> str:
    return f"{_owner(f)}literal extracted into constant {f.new} (the same value)"


@_kind("names-changed")
def _names_changed(f: "Finding") -> str:
    whose = "its body refers" if f.detail.get("body") else "refers"
    return (f"{_owner(f)}{whose} to repo-local definitions by other names or places; what they compute is "
            "unchanged")


# --------------------------------------------------------------------------- config

#: Where a configuration value came from (``ConfigSource.origin``), as a sentence says it.
ORIGIN_WORDS = {"decorator": "decorator", "options": "with_options/configure", "run-config": "run config",
                "call-site": "at the call site", "default": "parameter default", "resource": "resource"}


def _origin(f: "Finding") -> str:
    origin = f.detail.get("origin")
    words = [ORIGIN_WORDS.get(str(origin), str(origin))] if origin else []
    if origin == "call-site" and f.step is None:
        words = ["pipeline call site"]  # the values a pipeline is called with
    if f.detail.get("environment"):
        words = ["environment"]
    return f" ({'; '.join(words)})" if words else ""


@_kind("config-value-changed")
def _config_changed(f: "Finding") -> str:
    return f"{f.subject}: {show(f.old)} -> {show(f.new)}{_origin(f)}"


@_kind("config-value-added")
def _config_added(f: "Finding") -> str:
    return f"{f.subject}: added {show(f.new)}{_origin(f)}"


@_kind("config-value-removed")
def _config_removed(f: "Finding") -> str:
    return f"{f.subject}: removed (was {show(f.old)}){_origin(f)}"


@_kind("default-changed")
def _default_changed(f: "Finding") -> str:
    return f"{f.detail.get('owner', '')}: default of parameter {f.subject}: {show(f.old)} -> {show(f.new)}"


@_kind("config-fingerprint-only")
def _config_fingerprint_only(f: "Finding") -> str:
    return f"{f.detail.get('unit', 'step')} {f.subject}: configuration changed (the base records only a fingerprint)"


@_kind("config-fingerprint-changed")
def _config_fingerprint_changed(f: "Finding") -> str:
    return (f"{f.detail.get('unit', 'step')} {f.subject}: configuration fingerprint changed without a visible "
            "key difference")


# --------------------------------------------------------------------------- signature

@_kind("signature-changed")
def _signature_changed(f: "Finding") -> str:
    what = " (parameters or outputs)" if f.detail.get("fingerprint_only") else ""
    return f"step {f.step}: signature{what} changed{_complexity(f)}"


def _type(annotation: Any) -> str:
    return str(annotation) if annotation else "(unannotated)"


@_kind("parameter-renamed", "output-renamed")
def _renamed(f: "Finding") -> str:
    return f"step {f.step}: {f.kind.split('-')[0]} {f.old} renamed to {f.new}{_complexity(f)}"


@_kind("parameter-added", "output-added")
def _added(f: "Finding") -> str:
    return f"step {f.step}: {f.kind.split('-')[0]} {f.subject} added{_complexity(f)}"


@_kind("parameter-removed", "output-removed")
def _removed(f: "Finding") -> str:
    return f"step {f.step}: {f.kind.split('-')[0]} {f.subject} removed{_complexity(f)}"


@_kind("parameter-retyped", "output-retyped")
def _retyped(f: "Finding") -> str:
    what = f.kind.split("-")[0]
    return f"step {f.step}: {what} {f.subject} re-typed {_type(f.old)} -> {_type(f.new)}{_complexity(f)}"


@_kind("parameter-kind-changed")
def _parameter_kind(f: "Finding") -> str:
    return f"step {f.step}: parameter {f.subject} is now {str(f.new).replace('_', ' ')}{_complexity(f)}"


@_kind("parameter-default-presence-changed")
def _parameter_optional(f: "Finding") -> str:
    return f"step {f.step}: parameter {f.subject} is now {'optional' if f.new else 'required'}{_complexity(f)}"


@_kind("parameters-reordered")
def _parameters_reordered(f: "Finding") -> str:
    return f"step {f.step}: parameters reordered{_complexity(f)}"


# --------------------------------------------------------------------------- structural

def _step_label(f: "Finding") -> str:
    notes = [f"was {f.detail['was']}"] if f.detail.get("was") else []
    function = f.detail.get("function")
    if isinstance(function, (list, tuple)) and len(function) == 2:
        notes.append(f"function {function[0]} -> {function[1]}")
    return f"step {f.step}" + (f" ({'; '.join(notes)})" if notes else "")


@_kind("body-changed")
def _body_changed(f: "Finding") -> str:
    why = " (code the analyzer cannot follow: any edit counts)" if f.detail.get("dynamic") else ""
    return f"{_step_label(f)} body changed{why}{_complexity(f)}"


@_kind("helper-changed")
def _helper_changed(f: "Finding") -> str:
    return f"{_step_label(f)}: helper {f.subject} changed{_complexity(f)}"


@_kind("helper-added")
def _helper_added(f: "Finding") -> str:
    return f"{_step_label(f)}: now uses helper {f.subject}{_complexity(f)}"


@_kind("helper-removed")
def _helper_removed(f: "Finding") -> str:
    return f"{_step_label(f)}: no longer uses helper {f.subject}{_complexity(f)}"


@_kind("module-effect-changed")
def _effect_changed(f: "Finding") -> str:
    return (f"unexplained change in the reach of step {f.step}: a module-level statement with an effect in "
            f"{f.subject} changed")


@_kind("file-read-added")
def _file_added(f: "Finding") -> str:
    return f"step {f.step} now reads {f.subject}"


@_kind("file-read-removed")
def _file_removed(f: "Finding") -> str:
    return f"step {f.step} no longer reads {f.subject}"


@_kind("file-changed")
def _file_changed(f: "Finding") -> str:
    return f"step {f.step} reads {f.subject}, which changed"


@_kind("reach-changed")
def _reach_changed(f: "Finding") -> str:
    return (f"unexplained change in the reach of pipeline {f.subject} (module-level code of the pipeline's module, "
            "the hooks its decorator names, or what they reach)")


@_kind("step-added")
def _step_added(f: "Finding") -> str:
    return f"step invocation {f.subject} ({f.new}) added"


@_kind("step-removed")
def _step_removed(f: "Finding") -> str:
    return f"step invocation {f.subject} ({f.old}) removed"


@_kind("edge-added", "edge-removed")
def _edge(f: "Finding") -> str:
    what = f.kind.split("-")[1]
    edge = f.detail
    if edge.get("edge") == "data":
        return (f"data edge {edge.get('source')}.{edge.get('output') or 'output'} -> "
                f"{edge.get('target')}.{edge.get('input') or '?'} {what}")
    return f"order edge {edge.get('source')} -> {edge.get('target')} {what}"


@_kind("upstream-changed")
def _upstream(f: "Finding") -> str:
    old = f.old if isinstance(f.old, Mapping) else {}
    new = f.new if isinstance(f.new, Mapping) else {}
    parts = []
    for key in sorted(set(old) | set(new)):
        if key == "$condition":
            parts.append(f"run condition {_condition(old.get(key))} -> {_condition(new.get(key))}")
        else:
            name = _KEY_WORDS.get(key, f"input {key}")
            parts.append(f"{name}: {show(old.get(key))} -> {show(new.get(key))}")
    return f"step {f.subject}: upstream data or run condition changed ({'; '.join(parts)})"


@_kind("calls-reordered")
def _reordered(f: "Finding") -> str:
    moved = f.detail.get("moved", [])
    return f"independent step calls reordered ({', '.join(str(m) for m in moved)}); the graph is unchanged"


@_kind("dynamic-step-changed")
def _dynamic_step(f: "Finding") -> str:
    return (f"step {f.subject} has code pvcheck cannot follow statically (see the PV010/PV011 diagnostics); "
            "any change to it is a new version")


@_kind("dynamic-pipeline-changed")
def _dynamic_pipeline(f: "Finding") -> str:
    return f"pipeline {f.subject} is built in a way pvcheck cannot follow statically; any change to it is a new version"


@_kind("dynamic-config-changed")
def _dynamic_config(f: "Finding") -> str:
    return (f"pipeline {f.subject} is built in a way pvcheck cannot follow statically and its configuration "
            "changed where pvcheck cannot tell whether it decides which steps exist; a new version")


@_kind("parameter-decides-steps")
def _decides_steps(f: "Finding") -> str:
    return (f"pipeline {f.detail.get('pipeline')}: the changed parameter {f.subject} decides which steps exist: "
            f"it reaches `{f.detail.get('code')}`, evaluated while the graph is built; a new version")


@_kind("pipeline-code-changed")
def _pipeline_code(f: "Finding") -> str:
    return f"pipeline {f.subject}: code in the pipeline body changed (not a step call, a step input or configuration)"


@_kind("pipeline-helper-changed", "pipeline-helper-added")
def _pipeline_helper(f: "Finding") -> str:
    what = "changed" if f.kind.endswith("changed") else "newly used"
    return f"pipeline {f.detail.get('pipeline')}: {f.subject}, used by the pipeline body, {what}"


@_kind("pipeline-helper-removed")
def _pipeline_helper_removed(f: "Finding") -> str:
    return f"pipeline {f.detail.get('pipeline')}: the pipeline body no longer uses {f.subject}"


@_kind("pipeline-parameters-changed")
def _pipeline_parameters(f: "Finding") -> str:
    def text(parameters: Any) -> str:
        return ", ".join(f"{p[0]}: {p[1]}" if p[1] else str(p[0]) for p in parameters or ())
    return f"pipeline {f.subject}: parameters changed ({text(f.old)}) -> ({text(f.new)})"


# --------------------------------------------------------------------------- identity

@_kind("continuity-lost")
def _continuity(f: "Finding") -> str:
    lost = f.detail.get("lost", [])
    return (f"continuity {f.new:.2f} is below {f.detail.get('threshold', 0):.2f}: {len(lost)} of "
            f"{f.detail.get('steps', 0)} steps have no counterpart ({', '.join(str(s) for s in lost)}); "
            "this is a new pipeline")


@_kind("name-collision")
def _collision(f: "Finding") -> str:
    others = ", ".join(f"{o['function']} at {o['path']}:{o['line']}" for o in f.detail.get("others", []))
    text = f"name collision: {f.detail.get('function')} and {others} all declare the pipeline name '{f.subject}'"
    if f.detail.get("in_base"):
        text += (" (warning: the base revision has this collision too; `check` fails until each has its own "
                 "name or one is excluded)")
    return text


@_kind("pipeline-renamed")
def _pipeline_renamed(f: "Finding") -> str:
    return f"pipeline renamed: {f.old} -> {f.new}"


@_kind("pipeline-moved")
def _pipeline_moved(f: "Finding") -> str:
    return f"pipeline {f.subject} moved: {f.old} -> {f.new}"


@_kind("pipeline-added")
def _pipeline_added(f: "Finding") -> str:
    return f"new pipeline {f.subject} ({f.new})"


@_kind("policy-failed")
def _policy_failed(f: "Finding") -> str:
    return f"policy '{f.subject}' failed on pipeline '{f.detail.get('pipeline')}': {f.detail.get('error')}; " \
           "counted as a new version"


__all__ = ["ORIGIN_WORDS", "explain", "key_path", "kinds", "register_kind", "show"]
