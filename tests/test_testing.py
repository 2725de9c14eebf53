"""pvcheck.testing: the helpers plug-in authors test with fail clearly, and pass only when they should."""

from __future__ import annotations

from pathlib import Path

import pytest

from pvcheck.model import Decision
from pvcheck.policies.base import Example, Rule
from pvcheck.policies.examples import PIPELINE, STEPS, edit, project
from pvcheck.policies.signature import SignaturePolicy
from pvcheck.testing import assert_graph, check_example, check_rule_examples, policy_config, write_files
from tests.conftest import FIXTURES

RATE = project(steps=edit(STEPS, "rate: float = 0.1", "rate: float = 0.2"))


def rule(trigger: Example, near_miss: Example) -> Rule:
    return Rule("PV203", "config", "a default changed", Decision.RUN, (trigger,), (near_miss,))


def test_a_trigger_that_does_not_trigger_fails_with_the_findings(tmp_path: Path) -> None:
    untouched = Example(project(), project(), Decision.RUN, note="nothing changed")
    with pytest.raises(AssertionError) as failure:
        check_example(rule(untouched, untouched), untouched, "trigger", tmp_path)
    assert str(failure.value).splitlines()[0] == "PV203 trigger (nothing changed): expected PV203 among the " \
                                                 "findings, got:"
    assert "(no findings)" in str(failure.value)


def test_a_near_miss_that_triggers_fails_naming_the_rule(tmp_path: Path) -> None:
    changed = Example(project(), RATE, Decision.RUN, note="default rate")
    with pytest.raises(AssertionError, match=r"PV203 near-miss \(default rate\): PV203 must not be found"):
        check_example(rule(changed, changed), changed, "near_miss", tmp_path)


def test_a_wrong_decision_fails_with_expected_and_actual(tmp_path: Path) -> None:
    changed = Example(project(), RATE, Decision.PIPELINE)
    with pytest.raises(AssertionError, match="expected decision pipeline, got run"):
        check_example(rule(changed, changed), changed, "trigger", tmp_path)


def test_a_missing_pipeline_is_named(tmp_path: Path) -> None:
    example = Example(project(), RATE, Decision.RUN, pipeline="nightly")
    with pytest.raises(AssertionError, match=r"no pipeline 'nightly' in the scanned trees; found \['example'\]"):
        check_example(rule(example, example), example, "trigger", tmp_path)


def test_a_right_example_passes(tmp_path: Path) -> None:
    check_example(rule(Example(project(), RATE, Decision.RUN), Example(project(), project(), Decision.RUN)),
                  Example(project(), RATE, Decision.RUN), "trigger", tmp_path)


def test_check_rule_examples_runs_a_builtin_policy() -> None:
    expected = sum(len(r.triggers) + len(r.near_misses) for r in SignaturePolicy.rules)
    assert check_rule_examples(SignaturePolicy) == expected


def test_a_rule_without_a_near_miss_is_refused() -> None:
    class OneSided(SignaturePolicy):
        rules = (Rule("PV301", "signature", "x", Decision.VERSION, triggers=(Example(project(), RATE,
                                                                                   Decision.RUN),)),)
    with pytest.raises(AssertionError, match="PV301: a rule needs at least one trigger and one near-miss"):
        check_rule_examples(OneSided)


def test_a_plugin_policy_is_added_to_the_plugins_a_builtin_is_not() -> None:
    from tests.plugin_guide.owner_policy import OwnerPolicy
    assert policy_config(OwnerPolicy).plugins == ("tests.plugin_guide.owner_policy:OwnerPolicy",)
    assert policy_config(SignaturePolicy).plugins == ()


def test_assert_graph_passes_on_the_right_graph_and_returns_the_pipeline() -> None:
    pipeline = assert_graph(FIXTURES / "zenml_churn", "churn_training", steps=None, edges=None)
    assert pipeline.name == "churn_training"


def test_assert_graph_shows_a_readable_diff(tmp_path: Path) -> None:
    root = write_files(tmp_path, project(pipeline=PIPELINE))
    assert_graph(root, "example", steps=["load", "train"], edges=[("load", "train", "data")])
    with pytest.raises(AssertionError) as failure:
        assert_graph(root, "example", steps=["load", "train", "evaluate"], edges=[("train", "load")])
    assert str(failure.value) == (
        "graph of pipeline 'example' differs:\n"
        "  - missing step evaluate\n"
        "  - missing edge train -> load\n"
        "  + unexpected edge load -> train")


def test_assert_graph_names_the_pipelines_it_found(tmp_path: Path) -> None:
    root = write_files(tmp_path, project())
    with pytest.raises(AssertionError, match=r"expected one pipeline 'nightly', found 0 among \['example'\]"):
        assert_graph(root, "nightly", steps=["load"])


def test_assert_graph_refuses_mixed_edge_forms(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="every edge"):
        assert_graph(write_files(tmp_path, project()), "example", edges=[("load", "train"), ("a", "b", "order")])
