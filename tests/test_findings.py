"""Findings as data: every built-in finding carries its kind, subject, old and new values;
one renderer writes the sentence every output shows, without a location inside it and
without the analyzer's ``$``-markers; configuration values say where they came from."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import pytest

from pvcheck.analyzer import scan_tree
from pvcheck.analyzer.serialize import decode, encode
from pvcheck.findings import explain, kinds, register_kind, show
from pvcheck.model import (
    ORIGIN_OPTIONS,
    ORIGIN_RUN_CONFIG,
    ORIGINS,
    ConfigSource,
    Decision,
    Finding,
    Parameter,
    Pipeline,
    PipelineChange,
    Project,
    Report,
    StatementPrint,
    Status,
    Step,
)
from pvcheck.output.report import render_report
from pvcheck.policies import compare
from pvcheck.policies.impact import CACHE_MODELS, _changes_step

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "changes"
#: The analyzer's markers; none may reach a sentence a user reads.
MARKERS = re.compile(r"\$(ref|call|step|asset|condition|expr|args|param|deps|config|template|set|outputs|mapped)\b")


def case_names() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if (p / "case.toml").is_file())


@lru_cache(maxsize=None)
def all_reports() -> tuple[tuple[str, Report], ...]:
    return tuple((name, compare(scan_tree(CASES / name / "before"), scan_tree(CASES / name / "after")))
                 for name in case_names())


def test_no_marker_reaches_a_message_in_any_format() -> None:
    leaks = []
    for name, report in all_reports():
        for change in report.pipelines:
            for finding in change.findings:
                if MARKERS.search(finding.message):
                    leaks.append(f"{name}: {finding.message}")
        for fmt in ("text", "markdown", "github", "sarif"):
            rendered = render_report(report, fmt)
            messages = rendered.splitlines()
            leaks += [f"{name} ({fmt}): {line}" for line in messages if MARKERS.search(line)]
        data = json.loads(render_report(report, "json"))
        leaks += [f"{name} (json): {f['message']}" for p in data["pipelines"] for f in p["findings"]
                  if MARKERS.search(f["message"])]
    assert not leaks, "\n".join(leaks[:20])


def test_every_finding_is_data_and_its_sentence_has_no_location() -> None:
    seen_kinds = set()
    for name, report in all_reports():
        for change in report.pipelines:
            for finding in change.findings:
                assert finding.kind in kinds(), f"{name}: {finding.rule} has no registered kind: {finding}"
                seen_kinds.add(finding.kind)
                assert finding.message == explain(finding) == finding.explain()
                if finding.path and finding.line:
                    assert f"{finding.path}:{finding.line}" not in finding.message, f"{name}: {finding.message}"
                data = finding.to_json()
                json.dumps(data)  # old, new and detail are JSON values
                assert {"kind", "subject", "old", "new", "message", "rule", "path", "line", "step"} <= set(data)
    # the fixtures exercise most kinds; a kind nothing produces is dead wording
    assert len(seen_kinds) >= 40, sorted(set(kinds()) - seen_kinds)


def test_text_output_prints_each_location_once() -> None:
    report = dict(all_reports())["helper_changed"]
    text = render_report(report, "text")
    line = next(line for line in text.splitlines() if "[PV402]" in line)
    assert line.count("utils/cleaning.py:6") == 1, line


def test_structured_fields_of_a_config_change() -> None:
    report = dict(all_reports())["yaml_value"]
    finding = next(f for c in report.pipelines for f in c.findings if f.rule == "PV202")
    assert (finding.kind, finding.subject, finding.old, finding.new) == (
        "config-value-changed", "steps.train_model.parameters.max_iter", 300, 500)
    assert finding.detail["origin"] == ORIGIN_RUN_CONFIG
    assert finding.explain(where=True).endswith("(run config) at configs/training.yaml:4")


def test_a_tagged_value_reads_as_code() -> None:
    assert show({"$expr": "len(rows) * 2"}) == "`len(rows) * 2`"
    assert show({"$call": "zenml.config.DockerSettings", "requirements": ["numpy"]}) == \
        '`zenml.config.DockerSettings(requirements=["numpy"])`'
    assert show({"$step": "load", "output": "rows"}) == "output rows of step load"
    assert show({"$asset": "web/visits"}) == "asset web/visits"
    assert show({"plain": 1}) == '{"plain": 1}'  # a plain dict stays JSON


def _project(lines: dict[str, ConfigSource], value: object, config: dict[str, object] | None = None) -> Project:
    step = Step(id="train", function="steps.train", name="train", path="steps.py", line=5, call_path="flow.py",
                call_line=9, config=config or {"retries": value}, config_lines=lines, config_fingerprint=f"fp{value}",
                fingerprint="fp", statements=(StatementPrint(6, "x"),),
                parameters=(Parameter("rate", "positional_or_keyword"),))
    pipeline = Pipeline(name="p", framework="zenml", function="flow.p", module="flow", path="flow.py", line=7,
                        steps=(step,), config_fingerprint="same", fingerprint="same")
    return Project(root="", pipelines=(pipeline,))


@pytest.mark.parametrize(("origin", "path", "rule", "words"), [
    (ORIGIN_RUN_CONFIG, "settings.py", "PV202", "(run config)"),  # not a .yaml: the origin says it
    (ORIGIN_OPTIONS, "conf/run.yaml", "PV202", "(with_options/configure)"),  # a .yaml name guesses nothing
    ("decorator", "steps.py", "PV201", "(decorator)"),
])
def test_the_recorded_origin_decides_the_rule_not_the_file_suffix(origin: str, path: str, rule: str,
                                                                    words: str) -> None:
    lines = {"retries": ConfigSource(path, 3, origin)}
    report = compare(_project(lines, 1), _project(lines, 2))
    findings = [f for c in report.pipelines for f in c.findings if f.policy == "config"]
    assert [(f.rule, f.detail["origin"]) for f in findings] == [(rule, origin)]
    assert findings[0].message == f"steps.train.retries: 1 -> 2 {words}"


def test_config_source_reads_like_the_pair_it_replaced_and_survives_the_cache() -> None:
    source = ConfigSource("conf/run.yaml", 4, ORIGIN_RUN_CONFIG)
    path, line = source
    assert (path, line) == ("conf/run.yaml", 4) and source == ("conf/run.yaml", 4) and source[1] == 4
    assert source != ConfigSource("conf/run.yaml", 4, ORIGIN_OPTIONS)
    restored = decode(json.loads(json.dumps(encode({"k": source}))))
    assert restored["k"] == source and restored["k"].origin == ORIGIN_RUN_CONFIG


def test_scanned_config_records_its_origin() -> None:
    project = scan_tree(CASES / "yaml_value" / "after")
    pipeline = next(p for p in project.pipelines if p.name == "churn_training")
    origins = {getattr(source, "origin", "") for step in pipeline.steps for source in step.config_lines.values()}
    assert ORIGIN_RUN_CONFIG in origins


def _finding(rule: str, subject: str, message: str) -> Finding:
    return Finding(rule, "config", Decision.RUN, message, "run.yaml", 3, "train", kind="config-value-changed",
                   subject=subject, old=1, new=2)


def test_impact_reads_parameters_from_the_subject_not_the_message() -> None:
    zenml = CACHE_MODELS["zenml"]
    assert _changes_step(_finding("PV202", "steps.train.parameters.rate", "anything"), zenml) == \
        "PV202: parameter value"
    # a message that mentions .parameters. does not make a run setting a parameter
    assert _changes_step(_finding("PV202", "steps.train.enable_cache", "see steps.train.parameters.rate"),
                         zenml) == ""


def test_a_plugin_kind_and_a_plugin_sentence() -> None:
    register_kind("owner-changed", lambda f: f"owner of {f.subject}: {f.old} -> {f.new}")
    finding = Finding("OWN001", "owner", Decision.VERSION, path="flow.py", line=3, kind="owner-changed",
                      subject="p", old="a", new="b")
    assert finding.message == "owner of p: a -> b"
    own = Finding("OWN002", "owner", Decision.VERSION, "a sentence of its own", "flow.py", 3)
    assert own.explain() == "a sentence of its own" and own.explain(where=True) == "a sentence of its own at flow.py:3"
    # findings with list values still hash (the engine de-duplicates them)
    assert len({finding, finding, own}) == 2


def test_overriding_a_decision_keeps_the_fields() -> None:
    from pvcheck.policies.base import RuleOverrides

    finding = _finding("PV202", "steps.train.parameters.rate", "")
    stricter = RuleOverrides({"PV202": "version"}).apply(finding)
    assert stricter is not None and stricter.decision is Decision.VERSION
    assert (stricter.kind, stricter.subject, stricter.old, stricter.new) == (finding.kind, finding.subject, 1, 2)


def test_json_change_carries_the_fields() -> None:
    change = PipelineChange("p", "zenml", "flow.py", Status.MODIFIED, Decision.RUN,
                            findings=(_finding("PV202", "steps.train.parameters.rate", ""),))
    data = change.to_json()["findings"][0]
    assert (data["kind"], data["subject"], data["old"], data["new"]) == \
        ("config-value-changed", "steps.train.parameters.rate", 1, 2)
    assert data["message"] == "steps.train.parameters.rate: 1 -> 2"


@pytest.mark.parametrize(("before", "after", "subject", "sentence"), [
    # a positional argument of a call: the whole call, as code
    ({"metrics": [{"$call": "Preset", "$args": ["a"]}]}, {"metrics": [{"$call": "Preset", "$args": ["b"]}]},
     "steps.train.metrics[0]", 'steps.train.metrics[0]: `Preset("a")` -> `Preset("b")` (decorator)'),
    # a call's keyword argument reads as a key and stays precise
    ({"settings": {"$call": "S", "cpu": 1}}, {"settings": {"$call": "S", "cpu": 2}},
     "steps.train.settings.cpu", "steps.train.settings.cpu: 1 -> 2 (decorator)"),
    # a $-key of the configuration itself (Airflow's positional DAG arguments) is no tagged value
    ({"$args": [1]}, {"$args": [2]}, "steps.train.args[0]", "steps.train.args[0]: 1 -> 2 (decorator)"),
    ({"rate": {"$expr": "n * 2"}}, {"rate": {"$expr": "n * 3"}}, "steps.train.rate",
     "steps.train.rate: `n * 2` -> `n * 3` (decorator)"),
])
def test_tagged_values_are_shown_whole_and_keys_stay_keys(before: dict[str, object], after: dict[str, object],
                                                           subject: str, sentence: str) -> None:
    lines = {key: ConfigSource("steps.py", 3, "decorator") for key in {*before, *after}}
    report = compare(_project(lines, 1, before), _project(lines, 2, after))
    findings = [f for c in report.pipelines for f in c.findings if f.policy == "config"]
    assert [(f.subject, f.message) for f in findings] == [(subject, sentence)]
    assert not MARKERS.search(findings[0].message)


def test_a_typed_value_in_a_finding_is_shown_and_serialised_by_its_json_form() -> None:
    class Typed:  # what a typed model value (a step input, say) looks like to a finding
        def to_json(self) -> dict[str, str]:
            return {"$asset": "web/visits"}

        def __eq__(self, other: object) -> bool:  # and so, like a mutable dataclass, no hash
            return isinstance(other, Typed)

    finding = Finding("PV404", "structural", Decision.VERSION, path="p.py", line=1, kind="upstream-changed",
                      subject="s", old={"sessions": Typed()}, new={})
    assert "asset web/visits" in finding.message and not MARKERS.search(finding.message)
    assert json.loads(json.dumps(finding.to_json()))["old"] == {"sessions": {"$asset": "web/visits"}}
    twin = Finding("PV404", "structural", Decision.VERSION, path="p.py", line=1, kind="upstream-changed",
                   subject="s", old={"sessions": Typed()}, new={})
    assert hash(finding) == hash(twin)  # a value without hash of its own still lets equal findings hash alike


def test_every_configuration_value_of_every_fixture_says_where_it_came_from() -> None:
    """The analyzer records the origin where it collects a value, for every framework."""
    fixtures = CASES.parent
    roots = [p for p in sorted(fixtures.iterdir()) if p.is_dir() and p.name != "changes"]
    roots += [CASES / name / "after" for name in case_names()]
    missing = []
    for root in roots:
        for pipeline in scan_tree(root).pipelines:
            owners = [(pipeline.name, pipeline.config_lines), *((f"{pipeline.name}/{s.id}", s.config_lines)
                                                               for s in pipeline.steps)]
            missing += [f"{root.relative_to(fixtures)}: {pipeline.framework} {owner} {key}"
                        for owner, lines in owners for key, source in lines.items()
                        if getattr(source, "origin", "") not in ORIGINS]
    assert not missing, missing[:20]


@pytest.mark.parametrize(("fields", "sentence"), [
    ({"kind": "definition-moved", "old": "utils.time.hour_of_day", "new": "utils.timeparse.hour_of_day",
      "detail": {"owner": "step train"}},
     "step train: helper utils.time.hour_of_day moved to utils.timeparse.hour_of_day, body unchanged"),
    ({"kind": "definition-moved", "old": "helpers.RATE", "new": "helpers.LEARNING_RATE",
      "detail": {"owner": "pipeline p", "noun": "constant"}},
     "pipeline p: constant helpers.RATE renamed to helpers.LEARNING_RATE, value unchanged"),
    ({"kind": "literal-extracted", "new": "helpers.RATE", "detail": {"owner": "step train"}},
     "step train: literal extracted into constant helpers.RATE (the same value)"),
    ({"kind": "constant-inlined", "old": "helpers.RATE", "detail": {"owner": "step train"}},
     "step train: constant helpers.RATE replaced by its value (the same value)"),
    ({"kind": "names-changed", "detail": {"owner": "pipeline p", "body": True}},
     "pipeline p: its body refers to repo-local definitions by other names or places; what they compute is "
     "unchanged"),
])
def test_the_sentences_of_moves_and_renames(fields: dict[str, object], sentence: str) -> None:
    """PV108/PV109 (the cosmetic policy's moves) render from fields like every other kind."""
    finding = Finding("PV108", "cosmetic", Decision.RUN, path="steps.py", line=3, **fields)  # type: ignore[arg-type]
    assert finding.message == sentence
