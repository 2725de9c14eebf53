"""Which steps a change makes run again, and which stay cached, under each framework's cache rules.

A step is **changed** when its own reach changed (code, signature, environment, an
invocation added or rewired) or, where the framework's cache key includes them, its
parameter values. A step **re-runs because an input changes** when it is downstream of a
re-running step along data edges and the framework keys its cache on input artifacts
or values. A step that is **not cached** at all (ZenML ``enable_cache=False``, a Prefect task
without a cache policy that outlives its flow run, a Flyte task without ``cache``, or a
framework without a step cache: Airflow, Metaflow, Kedro) runs whatever changed, and its
consumers with it. The rest **stays cached**.

tests/test_impact_real.py checks these rules against real runs of ZenML, Prefect,
Dagster and Flyte on the fixtures/impact_* projects.

What pvcheck assumes per framework is :data:`CACHE_MODELS` (documented in the README);
it is a prediction from the code, not a promise of the scheduler's behaviour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Optional

from pvcheck.model import Decision, Finding, Impact, Pipeline, PipelineChange, Status, Step

#: Rules whose findings change a step's parameter values (call-site literals, defaults,
#: YAML ``parameters``), as opposed to run settings such as ``enable_cache`` or retries.
_PARAMETER_RULES = {"PV203", "PV204"}


def _enable_cache(step: Step, pipeline: Pipeline) -> str:
    """ZenML, KFP: caching is on unless ``enable_cache=False`` (the step's own setting, else
    the pipeline's)."""
    own = step.config.get("enable_cache")
    if own is False or (own is None and pipeline.config.get("enable_cache") is False):
        return "enable_cache=False"
    return ""


def _kfp_cache(step: Step, pipeline: Pipeline) -> str:
    """KFP caches a task unless ``task.set_caching_options(enable_caching=False)``."""
    options = step.config.get("caching_options")
    if isinstance(options, dict) and options.get("enable_caching") is False:
        return "set_caching_options(enable_caching=False)"
    return ""


#: Prefect policies whose key changes on every flow run (``DEFAULT`` includes ``RUN_ID``).
_PREFECT_PER_RUN = re.compile(r"\b(NO_CACHE|RUN_ID|DEFAULT)\b")


def _prefect_cache(step: Step, pipeline: Pipeline) -> str:
    """Prefect 3 serves a task from its cache across flow runs only with a ``cache_policy``
    (or ``cache_key_fn``) that does not key on the run, and a persisted result: its
    default policy is ``INPUTS + TASK_SOURCE + RUN_ID``."""
    config = step.config
    if config.get("refresh_cache") is True:
        return "refresh_cache=True"
    if config.get("persist_result") is False:  # the task's own: one with a policy persists whatever its flow says
        return "persist_result=False"
    if "cache_key_fn" in config:
        return ""
    if "cache_policy" not in config:
        return "no cache_policy: Prefect's default keys on the flow run"
    if _PREFECT_PER_RUN.search(_text(config["cache_policy"])):
        return "cache_policy keys on the flow run"
    return ""


def _flyte_cache(step: Step, pipeline: Pipeline) -> str:
    """Flyte caches a task only when asked (``cache=True``, ``cache=Cache(...)``; Flyte 2
    ``cache="auto"``); ``"disable"`` and ``"override"`` run it every time."""
    value = step.config.get("cache")
    if value is None or value is False:
        return "no cache=: Flyte runs an uncached task every time"
    behavior = value.get("behavior") if isinstance(value, dict) else value
    if behavior in ("disable", "override"):
        return f"cache={behavior}"
    return ""


def _text(value: Any) -> str:
    """A configuration value as the text it was written as (a name, a call, an expression)."""
    if isinstance(value, dict):
        return " ".join(_text(item) for pair in sorted(value.items()) for item in pair)
    if isinstance(value, (list, tuple)):
        return " ".join(_text(item) for item in value)
    return str(value)


@dataclass(frozen=True)
class CacheModel:
    """How a framework decides that a step can be served from its cache."""

    caches: bool  # False: every step runs on every run
    parameters_in_key: bool  # a parameter value change re-runs the step
    downstream: str  # "always": a re-run upstream re-runs its consumers; "if_output_changes": may
    assumption: str  # one sentence for the report
    #: why a step of this framework is not cached at all ("" when it may be)
    step_uncached: Callable[[Step, Pipeline], str] = _enable_cache

    def upstream_reason(self) -> str:
        return "an input changes" if self.downstream == "always" else "an input may change"


CACHE_MODELS: dict[str, CacheModel] = {
    "zenml": CacheModel(True, True, "if_output_changes",
                        "ZenML keys a step's cache on its code, parameters and inputs, each input by its value "
                        "hash where the materializer computes one (built-in types, pydantic, dataclasses), else "
                        "by artifact id: a consumer of a re-run step re-runs unless its input hashes the same"),
    "kfp": CacheModel(True, True, "always",
                      "KFP keys a task's cache on its component spec and inputs; a re-run upstream task "
                      "produces new artifacts, so its consumers re-run", _kfp_cache),
    "prefect": CacheModel(True, True, "if_output_changes",
                          "assumes tasks cache with INPUTS + TASK_SOURCE (or pvcheck's SemanticSource): a "
                          "consumer re-runs when an upstream value actually changes, which only running tells; "
                          "a task without a cache_policy keys on its flow run and always runs",
                          _prefect_cache),
    "flyte": CacheModel(True, True, "if_output_changes",
                        "Flyte keys a cached task on its signature, cache_version and input values: a consumer "
                        "re-runs when an upstream output actually changes; a task without cache= always runs",
                        _flyte_cache),
    "dagster": CacheModel(True, False, "always",
                          "Dagster marks an asset unsynced when its code version changes; materialized again, "
                          "it gets a new data version (derived from the code version, even for the same "
                          "output), which marks every asset downstream unsynced; run configuration is not "
                          "part of a code version"),
}


def cache_model(framework: str) -> CacheModel:
    """The framework's cache rules; a framework without an entry has no step cache
    (Airflow, Metaflow, Kedro, and any plug-in that does not say otherwise)."""
    model = CACHE_MODELS.get(framework)
    if model is not None:
        return model
    return CacheModel(False, True, "always", f"{framework} has no step cache: every step runs on every run")


def impact(change: PipelineChange) -> Optional[Impact]:
    """The steps of the head pipeline that re-run, and why; None for a pipeline that is
    unchanged or removed."""
    head = change.head
    if head is None or change.status in (Status.REMOVED, Status.UNCHANGED):
        return None
    model = cache_model(change.framework)
    ids = [step.id for step in head.steps]
    changed: dict[str, str] = {}
    if change.base is None:
        changed = {step_id: "new pipeline" for step_id in ids}
    else:
        matched_heads = set(change.step_matches.values())
        for step_id in ids:
            if step_id not in matched_heads:
                changed[step_id] = "new step"
        for finding in change.findings:
            reason = _changes_step(finding, model)
            if reason and finding.step in ids and finding.step not in changed:
                changed[finding.step] = reason
    uncached = {step.id: why for step in head.steps if step.id not in changed
                for why in [_uncached(step, head, model)] if why}
    upstream: dict[str, str] = {}
    consumers: dict[str, list[str]] = {}
    for edge in head.edges:
        if edge.kind == "data":
            consumers.setdefault(edge.source, []).append(edge.target)
    queue = [step_id for step_id in ids if step_id in changed or step_id in uncached]
    while queue:
        source = queue.pop(0)
        for target in consumers.get(source, ()):
            if target not in changed and target not in uncached and target not in upstream:
                upstream[target] = source
                queue.append(target)
    return Impact(
        changed=tuple((step_id, changed[step_id]) for step_id in ids if step_id in changed),
        upstream=tuple((step_id, upstream[step_id]) for step_id in ids if step_id in upstream),
        uncached=tuple((step_id, uncached[step_id]) for step_id in ids if step_id in uncached),
        cached=tuple(step_id for step_id in ids if step_id not in changed and step_id not in upstream
                     and step_id not in uncached),
        upstream_reason=model.upstream_reason(),
        assumption=model.assumption,
    )


def _uncached(step: Step, pipeline: Pipeline, model: CacheModel) -> str:
    """Why ``step`` runs on every run whatever changed ("" when it may be cached)."""
    if not model.caches:
        return "no step cache"
    return model.step_uncached(step, pipeline)


def _changes_step(finding: Finding, model: CacheModel) -> str:
    """Why ``finding`` makes its step run again ("" when it does not)."""
    if finding.step is None:
        return ""
    if finding.decision >= Decision.VERSION:
        return f"{finding.rule}: {finding.policy} change"
    if finding.rule in _PARAMETER_RULES or (finding.rule == "PV202" and _sets_parameter(finding)):
        return f"{finding.rule}: parameter value" if model.parameters_in_key else ""
    return ""


def _sets_parameter(finding: Finding) -> bool:
    """A configuration finding whose key sets a step parameter (``steps.train.parameters.rate``
    in a YAML run config), as opposed to a run setting (``steps.train.enable_cache``)."""
    return finding.kind.startswith("config-value-") and "parameters" in finding.subject.split(".")[:-1]


__all__ = ["CACHE_MODELS", "CacheModel", "cache_model", "impact"]
