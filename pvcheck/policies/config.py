"""The ``config`` policy: configuration changes are new runs, environment changes new versions.

Configuration (decorator keyword arguments, ``with_options``/``configure``, YAML run
configs, parameter defaults, literal values at the call site) is diffed with deepdiff
and reported key by key: ``steps.train.parameters.rate: 0.1 -> 0.2``. A key whose dotted
path (list indices dropped) or one of its ancestors matches a ``Config.environment_keys``
pattern (fnmatch) defines the environment the code runs in, so it is a new version.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping, Optional

from deepdiff import DeepDiff
from deepdiff.helper import NotPresent

from pvcheck.config import Config
from pvcheck.findings import key_path
from pvcheck.model import (ORIGIN_CALL_SITE, ORIGIN_DECORATOR, ORIGIN_OPTIONS, ORIGIN_RESOURCE, ORIGIN_RUN_CONFIG,
                           ConfigSource,
                           Decision, Finding, Parameter, Pipeline, Step, config_source, read_input)
from pvcheck.policies.base import Example, Policy, Rule
from pvcheck.policies.common import pipeline_has_detail, show, step_has_detail
from pvcheck.policies.examples import PIPELINE, STEPS, edit, project
from pvcheck.policies.matching import PipelineComparison

_RUN_CONFIG = '''\
enable_cache: false
steps:
  train:
    parameters:
      rate: 0.1
'''

_PIPELINE_WITH_YAML = edit(PIPELINE, "    train(rows)\n",
                           "    train(rows)\n\n\nconfigured = example_pipeline.with_options(config_path=\"run.yaml\")\n")


@dataclass(frozen=True)
class KeyChange:
    """One changed configuration key: dotted path, old and new value (``None`` when absent)."""

    path: tuple[Any, ...]
    old: Any
    new: Any
    added: bool = False
    removed: bool = False

    def dotted(self) -> str:
        text = ""
        for part in self.path:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
        return text

    def key(self) -> str:
        """The dotted path without list indices, as environment patterns see it."""
        return ".".join(str(p) for p in self.path if not isinstance(p, int))

    def describe(self, prefix: str) -> str:
        name = f"{prefix}{self.shown()}"
        if self.added:
            return f"{name}: added {show(self.new)}"
        if self.removed:
            return f"{name}: removed (was {show(self.old)})"
        return f"{name}: {show(self.old)} -> {show(self.new)}"

    def shown(self) -> str:
        """The dotted path as a finding shows it (``$``-keys by their meaning)."""
        return key_path(self.path)

    def kind(self) -> str:
        return "config-value-added" if self.added else ("config-value-removed" if self.removed
                                                         else "config-value-changed")


def diff_values(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[KeyChange]:
    """Key-by-key differences of two config dicts; added or removed tables are expanded
    to their leaves so that environment patterns see every key."""
    tree = DeepDiff(dict(old), dict(new), view="tree", verbose_level=2)
    changes: list[KeyChange] = []
    for report_type, levels in tree.items():
        for level in levels:
            path = tuple(level.path(output_format="list"))
            before = None if isinstance(level.t1, NotPresent) else level.t1
            after = None if isinstance(level.t2, NotPresent) else level.t2
            if report_type.endswith("_added"):
                changes.extend(_leaves(path, after, added=True))
            elif report_type.endswith("_removed"):
                changes.extend(_leaves(path, before, removed=True))
            elif isinstance(before, dict) and isinstance(after, dict) and not (before and after):
                # deepdiff reports {} -> {...} as one change of the whole table: expand it,
                # or an environment key inside ({} -> {settings: {docker: ...}}) passes as a run
                changes.extend(_leaves(path, after, added=True) if after else _leaves(path, before, removed=True))
            else:
                changes.append(KeyChange(path, before, after))
    changes.sort(key=lambda c: [str(p) for p in c.path])
    return changes


#: Keys that make a dict one of the analyzer's tagged values (a call, an expression, a
#: reference ...): shown whole in a finding, never key by key.
_TAGS = frozenset({"$call", "$expr", "$ref", "$step", "$asset", "$param", "$config", "$template", "$set"})


def _shown_changes(changes: list[KeyChange], old: Mapping[str, Any], new: Mapping[str, Any]
                   ) -> list[tuple[KeyChange, list[KeyChange]]]:
    """Changes as a finding shows them: leaves inside one tagged value (a call's positional
    arguments, an expression's source) become one change of the whole value (``metrics[0]:
    `Preset("a")` -> `Preset("b")```), with the leaves it stands for, so that every leaf's
    key still meets the environment patterns."""
    grouped: dict[tuple[Any, ...], tuple[KeyChange, list[KeyChange]]] = {}
    for change in changes:
        # cut where the path enters a tagged value's own ``$``-keys (``rate.$expr``,
        # ``metrics[0].$args[0]``); a call's keyword arguments read as keys and stay
        cut = next((n for n, part in enumerate(change.path) if isinstance(part, str) and part.startswith("$")
                    and (_tagged(_at(old, change.path[:n])) or _tagged(_at(new, change.path[:n])))),
                   len(change.path))
        if cut == len(change.path):
            grouped[change.path] = (change, [change])
            continue
        path = change.path[:cut]
        if path in grouped:
            grouped[path][1].append(change)
            continue
        before, after = _at(old, path), _at(new, path)
        whole = KeyChange(path, None if before is _ABSENT else before, None if after is _ABSENT else after,
                          added=before is _ABSENT, removed=after is _ABSENT)
        grouped[path] = (whole, [change])
    return list(grouped.values())


def _tagged(value: Any) -> bool:
    return isinstance(value, Mapping) and any(key in value for key in _TAGS)


_ABSENT = object()


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        else:
            return _ABSENT
    return value


def _leaves(path: tuple[Any, ...], value: Any, added: bool = False, removed: bool = False) -> Iterator[KeyChange]:
    if isinstance(value, dict) and value and "$call" not in value:
        for key in sorted(value, key=str):
            yield from _leaves(path + (key,), value[key], added, removed)
        return
    yield KeyChange(path, None if added else value, value if added else None, added, removed)


def is_environment_key(key: str, patterns: Iterable[str]) -> bool:
    """Whether a dotted key, or one of its ancestors, matches an environment pattern."""
    parts = key.split(".")
    candidates = [".".join(parts[: n + 1]) for n in range(len(parts))]
    return any(fnmatch.fnmatchcase(candidate, pattern) for candidate in candidates for pattern in patterns)


class ConfigPolicy(Policy):
    name = "config"
    rules = (
        Rule(
            "PV201", "config", "a step or pipeline decorator keyword argument changed (enable_cache, settings, "
            "retries, experiment_tracker ...)", Decision.RUN,
            triggers=(Example(project(), project(pipeline=edit(PIPELINE, "enable_cache=True", "enable_cache=False")),
                              Decision.RUN, note="enable_cache: true -> false"),),
            near_misses=(Example(project(), project(steps=edit(STEPS, "total = sum(rows)", "total = max(rows)")),
                                 Decision.VERSION, note="a body edit is not configuration"),),
        ),
        Rule(
            "PV202", "config", "with_options(...)/configure(...) arguments, a YAML run config value or an argument of a Dagster "
            "resource a step uses changed",
            Decision.RUN,
            triggers=(Example(project(pipeline=_PIPELINE_WITH_YAML, run_dot_yaml=_RUN_CONFIG),
                              project(pipeline=_PIPELINE_WITH_YAML, run_dot_yaml=edit(_RUN_CONFIG, "0.1", "0.3")),
                              Decision.RUN, note="steps.train.parameters.rate in run.yaml: 0.1 -> 0.3"),),
            near_misses=(Example(project(pipeline=_PIPELINE_WITH_YAML, run_dot_yaml=_RUN_CONFIG),
                                 project(pipeline=_PIPELINE_WITH_YAML,
                                         run_dot_yaml=_RUN_CONFIG + "# tuned later\n"),
                                 Decision.RUN, note="a YAML comment changes no value"),),
        ),
        Rule(
            "PV203", "config", "a step's or pipeline's parameter default value changed", Decision.RUN,
            triggers=(Example(project(), project(steps=edit(STEPS, "rate: float = 0.1", "rate: float = 0.2")),
                              Decision.RUN, note="default of rate: 0.1 -> 0.2"),),
            near_misses=(Example(project(), project(steps=edit(STEPS, "rate: float = 0.1", "rate: float = 1e-1")),
                                 Decision.RUN, note="the same default value, written differently"),),
        ),
        Rule(
            "PV204", "config", "a literal value passed to a step, or a pipeline parameter value, at the call site "
            "changed", Decision.RUN,
            triggers=(Example(project(pipeline=edit(PIPELINE, "train(rows)", "train(rows, rate=0.5)")),
                              project(pipeline=edit(PIPELINE, "train(rows)", "train(rows, rate=0.7)")),
                              Decision.RUN, note="call-site value of rate: 0.5 -> 0.7"),),
            near_misses=(Example(project(pipeline=edit(PIPELINE, "train(rows)", "train(rows, rate=0.5)")),
                                 project(pipeline=edit(PIPELINE, "train(rows)", "train(rows=rows, rate=0.5)")),
                                 Decision.RUN, note="passing the same values by keyword changes nothing"),),
        ),
        Rule(
            "PV205", "config", "a configuration key that defines the environment changed "
            "(settings.docker.*, requirements, base_image ...; configurable)", Decision.VERSION,
            triggers=(Example(
                project(steps=edit(STEPS, "@step\ndef train",
                                   '@step(settings={"docker": {"requirements": ["numpy==1.26"]}})\ndef train')),
                project(steps=edit(STEPS, "@step\ndef train",
                                   '@step(settings={"docker": {"requirements": ["numpy==2.0"]}})\ndef train')),
                Decision.VERSION, note="settings.docker.requirements[0]: numpy 1.26 -> 2.0"),),
            near_misses=(Example(
                project(steps=edit(STEPS, "@step\ndef train", "@step(enable_cache=True)\ndef train")),
                project(steps=edit(STEPS, "@step\ndef train", "@step(enable_cache=False)\ndef train")),
                Decision.RUN, note="enable_cache is run-time configuration"),),
        ),
        Rule(
            "PV206", "config", "configuration changed but the base records only its fingerprint (lock file), "
            "so an environment change cannot be ruled out", Decision.VERSION,
            triggers=(Example(project(), project(pipeline=edit(PIPELINE, "enable_cache=True", "enable_cache=False")),
                              Decision.VERSION, lock_base=True, note="compared with a lock file"),),
            near_misses=(Example(project(), project(steps=edit(STEPS, "    rows = [1, 2, 3]\n",
                                                               "    # fixed sample\n    rows = [1, 2, 3]\n")),
                                 Decision.RUN, lock_base=True, note="a comment, compared with a lock file"),),
        ),
    )

    def evaluate(self, comparison: PipelineComparison, config: Config) -> Iterable[Finding]:
        base, head = comparison.base, comparison.head
        yield from self._pipeline(base, head, config)
        for match in comparison.steps.matches:
            yield from self._step(match.base, match.head, config)

    # ------------------------------------------------------------------ pipelines
    def _pipeline(self, base: Pipeline, head: Pipeline, config: Config) -> Iterator[Finding]:
        if base.config_fingerprint == head.config_fingerprint and base.config_fingerprint:
            return
        where = {"path": head.path, "line": head.line, "subject": head.name, "detail": {"unit": "pipeline"}}
        if not (pipeline_has_detail(base) and pipeline_has_detail(head)):
            if base.config_fingerprint != head.config_fingerprint:
                yield self.finding("PV206", kind="config-fingerprint-only", **where)
            return
        for change, leaves in _shown_changes(diff_values(base.config, head.config), base.config, head.config):
            yield self._key_finding(change, leaves, "", head.config_lines, base.config_lines, head.path, head.line,
                                    None, config)
        yield from self._defaults(base.parameters, head.parameters, f"pipeline {head.name}", head.path, head.line,
                                  None)
        visible = (dict(base.config), _defaults(base.parameters)) != (dict(head.config), _defaults(head.parameters))
        if not visible and base.config_fingerprint != head.config_fingerprint:
            yield self.finding("PV206", kind="config-fingerprint-changed", **where)

    # ------------------------------------------------------------------ steps
    def _step(self, base: Step, head: Step, config: Config) -> Iterator[Finding]:
        if base.config_fingerprint == head.config_fingerprint and base.config_fingerprint:
            return
        if not (step_has_detail(base) and step_has_detail(head)):
            if base.config_fingerprint != head.config_fingerprint:
                yield self.finding("PV206", path=head.call_path or head.path, line=head.call_line or head.line,
                                   step=head.id, kind="config-fingerprint-only", subject=head.id,
                                   detail={"unit": "step"})
            return
        prefix = f"steps.{head.id}."
        for change, leaves in _shown_changes(diff_values(base.config, head.config), base.config, head.config):
            yield self._key_finding(change, leaves, prefix, head.config_lines, base.config_lines, head.path,
                                    head.line, head.id, config)
        yield from self._defaults(base.parameters, head.parameters, f"step {head.id}", head.path, head.line, head.id)
        old_inputs, new_inputs = _literal_inputs(base.inputs), _literal_inputs(head.inputs)
        for change, _ in _shown_changes(diff_values(old_inputs, new_inputs), old_inputs, new_inputs):
            yield self.finding("PV204", path=head.call_path or head.path, line=head.call_line or head.line,
                               step=head.id, kind=change.kind(), subject=f"{prefix}parameters.{change.shown()}",
                               old=change.old, new=change.new, detail={"origin": ORIGIN_CALL_SITE})
        # what the config fingerprint covers; a difference here that no finding above
        # shows (a parameter added with a default, a data input rewired) belongs to the
        # signature and structural policies
        visible = (dict(base.config), _defaults(base.parameters), dict(base.inputs)) != \
            (dict(head.config), _defaults(head.parameters), dict(head.inputs))
        if not visible and base.config_fingerprint != head.config_fingerprint:
            yield self.finding("PV206", path=head.path, line=head.line, step=head.id,
                               kind="config-fingerprint-changed", subject=head.id, detail={"unit": "step"})

    def _key_finding(self, change: KeyChange, leaves: list[KeyChange], prefix: str,
                     head_lines: Mapping[str, ConfigSource | tuple[str, int]],
                     base_lines: Mapping[str, ConfigSource | tuple[str, int]], def_path: str, def_line: int,
                     step: Optional[str], config: Config) -> Finding:
        where = _location(change.path, head_lines) or _location(change.path, base_lines)
        source = where or ConfigSource(def_path, def_line, ORIGIN_DECORATOR)
        origin = source.origin or _placed(source, def_path, def_line)
        # ``training_pipeline(days=60)`` in a run script, or ``with_options(parameters=...)``:
        # the values of a pipeline's parameters (a run config's are that file's values)
        parameters = step is None and origin != ORIGIN_RUN_CONFIG and change.path[:1] == ("parameters",)
        fields: dict[str, Any] = {"path": source.path, "line": source.line, "step": step, "kind": change.kind(),
                                  "subject": f"{prefix}{change.shown()}", "old": change.old, "new": change.new}
        detail: dict[str, Any] = {"origin": origin}
        if any(is_environment_key(leaf.key(), config.environment_keys) for leaf in leaves):
            return self.finding("PV205", **fields, detail={**detail, "environment": True})
        if origin == ORIGIN_RESOURCE:
            # ``Definitions(resources={key: Resource(...)})``: what the step is handed
            return self.finding("PV202", **fields, detail=detail)
        if parameters or origin == ORIGIN_CALL_SITE:
            return self.finding("PV204", **fields, detail=detail)
        return self.finding("PV201" if origin == ORIGIN_DECORATOR else "PV202", **fields, detail=detail)

    def _defaults(self, base: tuple[Parameter, ...], head: tuple[Parameter, ...], owner: str, path: str,
                  line: int, step: Optional[str]) -> Iterator[Finding]:
        before = {p.name: p.default for p in base if p.has_default}
        for parameter in head:
            if parameter.has_default and parameter.name in before and before[parameter.name] != parameter.default:
                yield self.finding("PV203", path=path, line=line, step=step, kind="default-changed",
                                   subject=parameter.name, old=before[parameter.name], new=parameter.default,
                                   detail={"owner": owner, "origin": "default"})


def _placed(source: ConfigSource, def_path: str, def_line: int) -> str:
    """The origin of a value whose framework did not record one (a plug-in that writes plain
    ``(path, line)`` pairs): written at or above the definition, in its file, it is the
    decorator's; anywhere else it was set by an options call."""
    return ORIGIN_DECORATOR if source.path == def_path and source.line <= def_line else ORIGIN_OPTIONS


def _defaults(parameters: Iterable[Parameter]) -> dict[str, Any]:
    return {p.name: p.default for p in parameters if p.has_default}


def _literal_inputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Call-site inputs that are values, not data edges from other steps."""
    return {k: v for k, v in inputs.items() if read_input(k, v).is_value}


def _location(path: tuple[Any, ...], lines: Mapping[str, ConfigSource | tuple[str, int]]
              ) -> Optional[ConfigSource]:
    """Where the longest known prefix of a key is written, and how it was set."""
    keys = [str(p) for p in path if not isinstance(p, int)]
    for n in range(len(keys), 0, -1):
        found = lines.get(".".join(keys[:n]))
        if found:
            return config_source(found)
    return None


__all__ = ["ConfigPolicy", "KeyChange", "diff_values", "is_environment_key"]
