"""A configuration table that appears where the base had none is compared key by key:
an environment key inside it is a version, not a run hidden in one whole-table change."""

from __future__ import annotations

from pathlib import Path

import pytest

from pvcheck.analyzer import scan_tree
from pvcheck.model import Decision
from pvcheck.policies import compare
from pvcheck.policies.config import diff_values

STEPS = "from zenml import step\n\n\n@step{decorator}\ndef load() -> int:\n    return 1\n"
PIPELINE = ("from zenml import pipeline\n\nfrom steps import load\n\n\n@pipeline{decorator}\n"
            "def example():\n    load()\n")


def _decision(tmp_path: Path, step_decorator: str = "", pipeline_decorator: str = "") -> tuple[Decision, set[str]]:
    for side, step_dec, pipe_dec in (("base", "", ""), ("head", step_decorator, pipeline_decorator)):
        (tmp_path / side).mkdir()
        (tmp_path / side / "steps.py").write_text(STEPS.format(decorator=step_dec), encoding="utf-8")
        (tmp_path / side / "pipeline.py").write_text(PIPELINE.format(decorator=pipe_dec), encoding="utf-8")
    [change] = compare(scan_tree(tmp_path / "base"), scan_tree(tmp_path / "head")).pipelines
    return change.decision, {f.rule for f in change.findings}


@pytest.mark.parametrize("where", ["step", "pipeline"])
def test_docker_settings_added_to_a_bare_decorator_are_an_environment_change(tmp_path: Path, where: str) -> None:
    decorator = '(settings={"docker": {"parent_image": "python:3.11-slim"}})'
    decision, rules = _decision(tmp_path, **{f"{where}_decorator": decorator})
    assert decision is Decision.VERSION and "PV205" in rules


def test_near_miss_enable_cache_added_to_a_bare_decorator_is_a_run(tmp_path: Path) -> None:
    decision, rules = _decision(tmp_path, step_decorator="(enable_cache=False)")
    assert decision is Decision.RUN and rules == {"PV201"}


def test_empty_tables_are_expanded_to_their_keys() -> None:
    # deepdiff reports this one as a single change of the whole (root) table
    changes = diff_values({}, {"enable_cache": False, "settings": {"docker": {"parent_image": "x"}}})
    assert [c.path for c in changes] == [("enable_cache",), ("settings", "docker", "parent_image")]
    assert all(c.added for c in changes)
    [change] = diff_values({"settings": {}}, {"settings": {"docker": {"parent_image": "x"}}})
    assert change.path == ("settings", "docker", "parent_image") and change.added
    [change] = diff_values({"retries": {"max": 2}}, {})
    assert change.path == ("retries", "max") and change.removed
