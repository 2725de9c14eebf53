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
from pvcheck.model import Decision, Finding, Parameter, Pipeline, Step
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
        name = f"{prefix}{self.dotted()}"
        if self.added:
            return f"{name}: added {show(self.new)}"
        if self.removed:
            return f"{name}: removed (was {show(self.old)})"
        return f"{name}: {show(self.old)} -> {show(self.new)}"


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
        if not (pipeline_has_detail(base) and pipeline_has_detail(head)):
            if base.config_fingerprint != head.config_fingerprint:
                yield self.finding("PV206", f"pipeline {head.name}: configuration changed (the base records "
                                   "only a fingerprint)", head.path, head.line)
            return
        for change in diff_values(base.config, head.config):
            yield self._key_finding(change, "", head.config_lines, base.config_lines, head.path, head.line,
                                    None, config)
        yield from self._defaults(base.parameters, head.parameters, f"pipeline {head.name}", head.path, head.line,
                                  None)
        visible = (dict(base.config), _defaults(base.parameters)) != (dict(head.config), _defaults(head.parameters))
        if not visible and base.config_fingerprint != head.config_fingerprint:
            yield self.finding("PV206", f"pipeline {head.name}: configuration fingerprint changed without a "
                               "visible key difference", head.path, head.line)

    # ------------------------------------------------------------------ steps
    def _step(self, base: Step, head: Step, config: Config) -> Iterator[Finding]:
        if base.config_fingerprint == head.config_fingerprint and base.config_fingerprint:
            return
        if not (step_has_detail(base) and step_has_detail(head)):
            if base.config_fingerprint != head.config_fingerprint:
                yield self.finding("PV206", f"step {head.id}: configuration changed (the base records only a "
                                   "fingerprint)", head.call_path or head.path, head.call_line or head.line, head.id)
            return
        prefix = f"steps.{head.id}."
        for change in diff_values(base.config, head.config):
            yield self._key_finding(change, prefix, head.config_lines, base.config_lines, head.path, head.line,
                                    head.id, config)
        yield from self._defaults(base.parameters, head.parameters, f"step {head.id}", head.path, head.line, head.id)
        for change in diff_values(_literal_inputs(base.inputs), _literal_inputs(head.inputs)):
            yield self.finding("PV204", f"{change.describe(prefix + 'parameters.')} (at the call site)",
                               head.call_path or head.path, head.call_line or head.line, head.id)
        # what the config fingerprint covers; a difference here that no finding above
        # shows (a parameter added with a default, a data input rewired) belongs to the
        # signature and structural policies
        visible = (dict(base.config), _defaults(base.parameters), dict(base.inputs)) != \
            (dict(head.config), _defaults(head.parameters), dict(head.inputs))
        if not visible and base.config_fingerprint != head.config_fingerprint:
            yield self.finding("PV206", f"step {head.id}: configuration fingerprint changed without a visible "
                               "key difference", head.path, head.line, head.id)

    def _key_finding(self, change: KeyChange, prefix: str, head_lines: Mapping[str, tuple[str, int]],
                     base_lines: Mapping[str, tuple[str, int]], def_path: str, def_line: int,
                     step: Optional[str], config: Config) -> Finding:
        where = _location(change.path, head_lines) or _location(change.path, base_lines)
        path, line = where or (def_path, def_line)
        message = change.describe(prefix)
        if is_environment_key(change.key(), config.environment_keys):
            return self.finding("PV205", f"{message} (environment)", path, line, step)
        if path.endswith((".yaml", ".yml", ".json")):  # JSON: a Metaflow Config file
            return self.finding("PV202", f"{message} (run config)", path, line, step)
        if step is not None and change.path[:1] == ("resources",):
            # ``Definitions(resources={key: Resource(...)})``: what the step is handed
            return self.finding("PV202", f"{message} (resource)", path, line, step)
        if step is None and change.path[:1] == ("parameters",):
            # ``training_pipeline(days=60)`` in a run script: pipeline parameter values
            return self.finding("PV204", f"{message} (pipeline call site)", path, line, step)
        if path == def_path and line <= def_line:
            return self.finding("PV201", f"{message} (decorator)", path, line, step)
        return self.finding("PV202", f"{message} (with_options/configure)", path, line, step)

    def _defaults(self, base: tuple[Parameter, ...], head: tuple[Parameter, ...], owner: str, path: str,
                  line: int, step: Optional[str]) -> Iterator[Finding]:
        before = {p.name: p.default for p in base if p.has_default}
        for parameter in head:
            if parameter.has_default and parameter.name in before and before[parameter.name] != parameter.default:
                yield self.finding("PV203", f"{owner}: default of parameter {parameter.name}: "
                                   f"{show(before[parameter.name])} -> {show(parameter.default)}", path, line, step)


def _defaults(parameters: Iterable[Parameter]) -> dict[str, Any]:
    return {p.name: p.default for p in parameters if p.has_default}


def _literal_inputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Call-site inputs that are values, not data edges from other steps."""
    return {k: v for k, v in inputs.items()
            if not k.startswith("$") and not (isinstance(v, dict) and ("$step" in v or "$asset" in v))}


def _location(path: tuple[Any, ...], lines: Mapping[str, tuple[str, int]]) -> Optional[tuple[str, int]]:
    """Where the longest known prefix of a key is written."""
    keys = [str(p) for p in path if not isinstance(p, int)]
    for n in range(len(keys), 0, -1):
        found = lines.get(".".join(keys[:n]))
        if found:
            return found
    return None


__all__ = ["ConfigPolicy", "KeyChange", "diff_values", "is_environment_key"]
