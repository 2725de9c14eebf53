"""The engine: overrides, disabled policies, failing policies, statuses, ordering,
diagnostics and the report shape of SPEC §7."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Iterable

import pytest

from pvcheck.analyzer import scan_tree
from pvcheck.config import Config
from pvcheck.model import Decision, Diagnostic, Finding, Project, Report, Severity, Status
from pvcheck.policies import PipelineComparison, Policy, Rule, compare
from pvcheck.policies.config import diff_values, is_environment_key
from tests.test_change_cases import case_dirs

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "changes"


def run_case(name: str, config: Config | None = None) -> Report:
    return compare(scan_tree(CASES / name / "before"), scan_tree(CASES / name / "after"), config)


def change(report: Report, name: str):  # type: ignore[no-untyped-def]
    return next(c for c in report.pipelines if c.name == name)


def test_a_rule_override_changes_the_decision_and_off_drops_the_rule() -> None:
    assert change(run_case("step_decorator_config"), "churn_training").decision is Decision.RUN
    stricter = change(run_case("step_decorator_config", Config(rules={"PV201": "version"})), "churn_training")
    assert stricter.decision is Decision.VERSION
    assert [f.decision for f in stricter.findings if f.rule == "PV201"] == [Decision.VERSION]
    off = change(run_case("env_requirements", Config(rules={"PV205": "off"})), "churn_training")
    assert "PV205" not in {f.rule for f in off.findings} and off.decision is Decision.RUN


def test_a_disabled_policy_does_not_run() -> None:
    full = change(run_case("comment_added"), "churn_training")
    assert "PV102" in {f.rule for f in full.findings}
    without = change(run_case("comment_added", Config(policies=("config", "signature", "structural", "identity"))),
                     "churn_training")
    assert not [f for f in without.findings if f.policy == "cosmetic"]
    no_identity = run_case("every_step_replaced", Config(policies=("cosmetic", "config", "signature", "structural")))
    assert change(no_identity, "churn_scoring").decision is Decision.VERSION


class Exploding(Policy):
    name = "exploding"
    rule_prefix = "BOOM"
    rules = (Rule("BOOM001", "exploding", "always fails", Decision.RUN),)

    def evaluate(self, comparison: PipelineComparison, config: Config) -> Iterable[Finding]:
        raise RuntimeError("boom")


def test_a_failing_policy_is_reported_and_counts_as_a_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PVCHECK_DEBUG", raising=False)  # tests/conftest.py makes failures raise by default
    module = types.ModuleType("exploding_policy_module")
    module.Exploding = Exploding  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "exploding_policy_module", module)
    report = run_case("comment_added", Config(plugins=("exploding_policy_module:Exploding",)))
    training = change(report, "churn_training")
    assert training.decision is Decision.VERSION
    failed = [f for f in training.findings if f.rule == "PV098"]
    assert failed and failed[0].policy == "exploding" and "boom" in failed[0].message
    assert any(d.code == "PV098" and d.severity is Severity.ERROR for d in report.diagnostics)


@pytest.mark.parametrize("folder", case_dirs(), ids=lambda p: p.name)
def test_a_revision_compared_with_itself_is_unchanged(folder: Path) -> None:
    head = scan_tree(folder / "after")
    report = compare(head, head)
    assert {c.status for c in report.pipelines} <= {Status.UNCHANGED}
    # only a name collision in the revision itself is worth a finding
    assert all(c.decision is Decision.RUN or folder.name == "name_collision" for c in report.pipelines)
    assert {f.rule for c in report.pipelines for f in c.findings} <= {"PV502"}


def test_statuses_and_report_shape() -> None:
    report = run_case("pipeline_added")
    statuses = {c.name: c.status for c in report.pipelines}
    assert statuses == {"churn_monitoring": Status.ADDED, "churn_scoring": Status.UNCHANGED,
                        "churn_training": Status.UNCHANGED}
    data = report.to_json()
    assert data["schema"] == "pvcheck.diff/1"
    assert data["summary"] == {"run": 2, "version": 0, "pipeline": 1, "removed": 0}
    added = next(p for p in data["pipelines"] if p["name"] == "churn_monitoring")
    assert added["decision"] == "pipeline" and added["base_fingerprint"] is None
    assert set(added["findings"][0]) == {"rule", "policy", "decision", "message", "path", "line", "step", "kind",
                                         "subject", "old", "new", "detail"}
    assert (added["findings"][0]["kind"], added["findings"][0]["subject"]) == ("pipeline-added", "churn_monitoring")
    renamed = change(run_case("pipeline_renamed"), "churn_model_training")
    assert renamed.status is Status.RENAMED and renamed.decision is Decision.RUN
    removed = change(run_case("pipeline_removed"), "churn_scoring")
    assert removed.status is Status.REMOVED and removed.decision is None and removed.head is None
    modified = change(run_case("body_changed"), "churn_training")
    assert modified.status is Status.MODIFIED


def test_findings_come_most_severe_first_and_name_their_step_and_place() -> None:
    report = run_case("dynamic_step_config")
    findings = change(report, "churn_scoring").findings
    severities = [f.decision.severity for f in findings]
    assert severities == sorted(severities, reverse=True)
    assert all(f.path and f.line > 0 and f.step == "clean_scores" for f in findings)


def test_body_changes_are_located_at_the_first_changed_line_with_complexity() -> None:
    training = change(run_case("body_changed"), "churn_training")
    body = next(f for f in training.findings if f.rule == "PV401")
    assert (body.path, body.line, body.step) == ("steps/features.py", 19, "build_features")
    assert body.message == "step build_features body changed (complexity 1)"  # the location is path/line
    assert (body.kind, body.subject, body.detail["complexity"]) == ("body-changed", "build_features", [1, 1])
    helper = next(f for f in change(run_case("helper_changed"), "churn_training").findings if f.rule == "PV402")
    assert (helper.path, helper.line) == ("utils/cleaning.py", 6)
    assert "helper utils.cleaning.drop_inactive changed" in helper.message and helper.kind == "helper-changed"


def test_config_changes_are_reported_key_by_key() -> None:
    yaml_change = next(f for f in change(run_case("yaml_value"), "churn_training").findings)
    assert yaml_change.message == "steps.train_model.parameters.max_iter: 300 -> 500 (run config)"
    assert (yaml_change.path, yaml_change.line) == ("configs/training.yaml", 4)
    env = next(f for f in change(run_case("env_requirements"), "churn_training").findings)
    assert env.rule == "PV205"
    assert env.message.startswith('steps.train_model.settings.docker.requirements[0]: "scikit-learn==1.5.2" -> '
                                  '"scikit-learn==1.6.0"')
    call = next(f for f in change(run_case("call_site_value"), "churn_training").findings)
    assert call.message == "steps.train_model.parameters.learning_rate: 0.01 -> 0.003 (at the call site)"


def test_environment_patterns_match_a_key_or_its_ancestors() -> None:
    patterns = ("settings.docker.*", "requirements", "*.base_image")
    assert is_environment_key("settings.docker.requirements", patterns)
    assert is_environment_key("requirements.extra", patterns)
    assert is_environment_key("settings.orchestrator.base_image", patterns)
    assert not is_environment_key("settings.resources.cpu_count", patterns)
    assert not is_environment_key("enable_cache", patterns)
    custom = Config(environment_keys=("settings.resources.*",))
    report = run_case("env_requirements", custom)
    assert change(report, "churn_training").decision is Decision.RUN  # docker is no longer "environment"


def test_added_tables_are_expanded_to_their_leaves() -> None:
    changes = diff_values({"enable_cache": True}, {"enable_cache": True, "settings": {"docker": {"image": "x"}}})
    assert [(c.dotted(), c.added, c.new) for c in changes] == [("settings.docker.image", True, "x")]
    assert [c.describe("steps.s.") for c in diff_values({"a": [1]}, {"a": [2, 3]})] == [
        "steps.s.a[0]: 1 -> 2", "steps.s.a[1]: added 3"]


def test_report_diagnostics_are_the_heads_plus_the_bases_that_are_gone() -> None:
    only_base = Diagnostic("PV001", Severity.ERROR, "syntax error", "old.py", 3)
    both = Diagnostic("PV011", Severity.WARNING, "name 'x' is not defined", "steps.py", 9)
    report = compare(Project(root="", diagnostics=(only_base, both)), Project(root="", diagnostics=(both,)))
    assert [d.message for d in report.diagnostics] == ["name 'x' is not defined",
                                                        "in the base revision: syntax error"]


def test_a_changed_step_shows_its_complexity_before_and_after(tree) -> None:  # type: ignore[no-untyped-def]
    from pvcheck.policies.examples import STEPS, edit, project

    before = tree(project())
    after = tree(project(steps=edit(STEPS, "    total = sum(rows)\n",
                                    "    total = sum(rows)\n    if total < 0:\n        total = 0\n")))
    finding = next(f for f in change(compare(before, after), "example").findings if f.rule == "PV401")
    assert finding.message.endswith("(complexity 1 -> 2)")
    assert (finding.path, finding.line, finding.step) == ("steps.py", 15, "train")
