"""Impact predictions confirmed by the frameworks themselves.

Each fixtures/impact_<framework>/ holds one small churn project in four versions, each
edit made to the version before it:

* ``before``: load -> clean -> train -> evaluate, and load -> profile;
* ``same_output``: ``clean`` rewritten (a loop instead of a comprehension), same output;
* ``after``: ``clean`` also drops outliers, so its output changes;
* ``cosmetic``: ``after`` reformatted, commented, imports reordered;
* ``parameter`` (ZenML, Prefect, Flyte): the literal passed to ``train``'s parameter
  ``shrink`` at the call site changes, a parameter value in those frameworks' cache keys.

pvcheck predicts, from ``pvcheck.diff`` of each version against the one before it, which
steps are changed, which re-run because an input changes, which are not cached and which
stay cached. The fixture's ``runner.py`` then runs the versions in that order against one
local store of the real framework, in a child process (the frameworks keep global state:
configuration folders, databases, servers, logging) with a timeout, and reports which
steps ran and what the framework recorded. Every step that ran must be predicted to
re-run, every step predicted changed (or not cached) must have run, and where the
framework's downstream rule is "always" the two sets are equal.

The projects use pvcheck's integrations (``semantic_cache``, ``SemanticSource``,
``versioned``, ``SemanticVersion``), which key each framework's cache on pvcheck's code
version: that is what makes the framework agree that a cosmetic edit re-runs nothing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pytest

import pvcheck
from pvcheck.model import PipelineChange, Status
from pvcheck.policies.impact import CacheModel, cache_model

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
VERSIONS = ("before", "same_output", "after", "cosmetic")
WITH_PARAMETER = (*VERSIONS, "parameter")
STEPS = frozenset({"load", "clean", "train", "evaluate", "profile"})
TIMEOUT = 600  # seconds for one framework's four runs; they take 4 to 25 s here


@dataclass(frozen=True)
class Prediction:
    """pvcheck's impact for one version against the one before it, by step function name."""

    model: CacheModel
    changed: frozenset[str]
    upstream: frozenset[str]
    uncached: frozenset[str]
    cached: frozenset[str]

    @property
    def must_run(self) -> frozenset[str]:
        return self.changed | self.uncached

    @property
    def may_run(self) -> frozenset[str]:
        return self.must_run | self.upstream


def predict(framework: str, versions: tuple[str, ...]) -> dict[str, Prediction]:
    """pvcheck's prediction for every version after the first."""
    folder = FIXTURES / f"impact_{framework}"
    predictions = {}
    for base, head in zip(versions, versions[1:]):
        (change,) = pvcheck.diff(folder / base, folder / head).pipelines
        predictions[head] = _prediction(change)
    return predictions


def _prediction(change: PipelineChange) -> Prediction:
    assert change.head is not None
    model = cache_model(change.framework)
    # Flyte names nodes n0, n1 ...: compare by the step's function, as the runners report
    name = {step.id: step.function.rsplit(".", 1)[-1] for step in change.head.steps}
    assert set(name.values()) == STEPS
    if change.impact is None:  # nothing changed: only what is never cached runs
        assert change.status is Status.UNCHANGED
        uncached = frozenset(name[step.id] for step in change.head.steps
                             if model.step_uncached(step, change.head))
        return Prediction(model, frozenset(), frozenset(), uncached, STEPS - uncached)
    impact = change.impact
    return Prediction(model,
                      changed=frozenset(name[step] for step, _ in impact.changed),
                      upstream=frozenset(name[step] for step, _ in impact.upstream),
                      uncached=frozenset(name[step] for step, _ in impact.uncached),
                      cached=frozenset(name[step] for step in impact.cached))


def run_versions(framework: str, versions: tuple[str, ...], tmp_path: Path,
                 env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Run the fixture's versions in order with the real framework; one record per version."""
    folder = FIXTURES / f"impact_{framework}"
    clean_env = {key: value for key, value in os.environ.items()
                 if not key.startswith(("ZENML_", "PREFECT_", "DAGSTER_", "FLYTE"))}
    clean_env.update(env, PYTHONDONTWRITEBYTECODE="1",  # same-size edits must not reuse stale bytecode
                     PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, str(folder / "runner.py"), str(tmp_path / "work"),
                           *(str(folder / version) for version in versions)],
                          cwd=tmp_path, env=clean_env, capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr[-4000:]
    records = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert [record["version"] for record in records] == list(versions), done.stdout[-2000:]
    return {record["version"]: record for record in records}


def assert_agrees(prediction: Prediction, ran: set[str], version: str) -> None:
    """What the framework ran is what pvcheck predicted, under the framework's own rule."""
    assert prediction.must_run <= ran, f"{version}: predicted to run but served from cache: " \
                                       f"{sorted(prediction.must_run - ran)}"
    assert ran <= prediction.may_run, f"{version}: ran although predicted to stay cached: " \
                                      f"{sorted(ran - prediction.may_run)}"
    if prediction.model.downstream == "always":
        assert ran == prediction.may_run, f"{version}: predicted to re-run but did not: " \
                                          f"{sorted(prediction.may_run - ran)}"


def check(framework: str, records: dict[str, dict[str, Any]],
          expected: dict[str, set[str]]) -> dict[str, Prediction]:
    """Compare every run after the first with pvcheck's prediction, and with the steps this
    test expects the framework to run (so that a framework change shows up too)."""
    assert set(records["before"]["ran"]) == STEPS  # a new store: everything runs once
    predictions = predict(framework, tuple(records))
    for version, prediction in predictions.items():
        ran = set(records[version]["ran"])
        assert len(ran) == len(records[version]["ran"]), records[version]  # nothing ran twice
        assert_agrees(prediction, ran, version)
        assert ran == expected[version], (version, sorted(ran))
    # the edit of clean is the one change; the side branch stays cached
    for version in ("same_output", "after"):
        assert predictions[version].changed == {"clean"}
        assert predictions[version].upstream == {"train", "evaluate"}
        assert "load" in predictions[version].cached
    assert predictions["cosmetic"].changed == predictions["cosmetic"].upstream == frozenset()
    if "parameter" in predictions:  # a parameter value is part of the cache key
        assert predictions["parameter"].changed == {"train"} and predictions["parameter"].upstream == {"evaluate"}
    return predictions


def _installed(module: str) -> Optional[str]:
    # find_spec, not import: the frameworks are only ever imported in the child process
    return None if importlib.util.find_spec(module) is not None else f"{module} is not installed"


def _skip_unless(module: str) -> Any:
    reason = _installed(module)
    return pytest.mark.skipif(reason is not None, reason=reason or "")


@_skip_unless("zenml")
def test_zenml_runs_what_pvcheck_predicts(tmp_path: Path) -> None:
    records = run_versions("zenml", WITH_PARAMETER, tmp_path, {
        "ZENML_CONFIG_PATH": str(tmp_path / "zenml-config"),
        "ZENML_LOCAL_STORES_PATH": str(tmp_path / "zenml-stores"),
        "ZENML_ANALYTICS_OPT_IN": "false",
        "ZENML_LOGGING_VERBOSITY": "WARN",
        "ZENML_ENABLE_RICH_TRACEBACK": "false",
    })
    predictions = check("zenml", records, {
        # ZenML keys an input by its content hash: clean's new code gave the same list, so
        # train and evaluate were served from the cache ("an input may change")
        "same_output": {"clean"},
        "after": {"clean", "train", "evaluate"},
        "cosmetic": set(),
        "parameter": {"train", "evaluate"},  # a new shrink: a new model, evaluated again
    })
    assert predictions["after"].model.upstream_reason() == "an input may change"
    for version in WITH_PARAMETER[1:]:  # ZenML's own record says the same as the step bodies
        status = records[version]["status"]
        assert {step for step, value in status.items() if value == "completed"} == set(records[version]["ran"])
        assert set(status) == STEPS and set(status.values()) <= {"completed", "cached"}


@_skip_unless("prefect")
def test_prefect_runs_what_pvcheck_predicts(tmp_path: Path) -> None:
    home = tmp_path / "prefect-home"
    records = run_versions("prefect", WITH_PARAMETER, tmp_path, {
        "PREFECT_HOME": str(home),  # a new local server database (ephemeral mode) in here
        "PREFECT_LOCAL_STORAGE_PATH": str(home / "storage"),  # where cached results persist
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_API_BLOCKS_REGISTER_ON_START": "false",  # no block types needed: a faster start
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "300",  # 20 s is short on a busy CI machine
    })
    predictions = check("prefect", records, {
        # profile has Prefect's default policy (it keys on the flow run): it always runs
        "same_output": {"clean", "profile"},
        "after": {"clean", "train", "evaluate", "profile"},
        "cosmetic": {"profile"},
        "parameter": {"train", "evaluate", "profile"},  # INPUTS holds the parameter
    })
    assert all(prediction.uncached == {"profile"} for prediction in predictions.values())
    for version in WITH_PARAMETER[1:]:
        states = records[version]["status"]
        assert {task for task, state in states.items() if state == "Completed"} == set(records[version]["ran"])
        assert {task for task, state in states.items() if state == "Cached"} == STEPS - set(records[version]["ran"])


@_skip_unless("dagster")
def test_dagster_unsynced_assets_are_what_pvcheck_predicts(tmp_path: Path) -> None:
    records = run_versions("dagster", VERSIONS, tmp_path, {"DAGSTER_HOME": str(tmp_path / "dagster-home")})
    check("dagster", records, {
        # the data version of an asset with a code version derives from it: re-materialized
        # clean gets a new one even with the same output, so train and evaluate are unsynced
        "same_output": {"clean", "train", "evaluate"},
        "after": {"clean", "train", "evaluate"},
        "cosmetic": set(),
    })
    for version in ("same_output", "after"):  # right after the edit, only the edited asset
        assert records[version]["unsynced"] == {"clean": ["has a new code version"]}
    assert records["cosmetic"]["unsynced"] == {}


@_skip_unless("flytekit")
def test_flyte_local_cache_runs_what_pvcheck_predicts(tmp_path: Path) -> None:
    # flytekit's local cache lives under ~/.flyte/local-cache: a home of its own
    records = run_versions("flyte", WITH_PARAMETER, tmp_path, {"HOME": str(tmp_path / "home")})
    predictions = check("flyte", records, {
        "same_output": {"clean", "profile"},  # profile has no cache=: it always runs
        "after": {"clean", "train", "evaluate", "profile"},
        "cosmetic": {"profile"},
        "parameter": {"train", "evaluate", "profile"},  # an input value of train
    })
    assert all(prediction.uncached == {"profile"} for prediction in predictions.values())
