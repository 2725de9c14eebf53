"""Every rule's own examples, run through scan and compare: the trigger produces the
rule and its decision; the near-miss looks alike but must not produce the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from pvcheck.model import Decision, Report
from pvcheck.policies import builtin_rules, compare
from pvcheck.policies.base import Example, Rule
from pvcheck.policies.common import fingerprints_only
from tests.conftest import scan_files

RULES = builtin_rules()
CASES = [
    pytest.param(rule, example, kind, id=f"{rule.id}-{kind}{n}")
    for rule in RULES
    for kind, examples in (("trigger", rule.triggers), ("near_miss", rule.near_misses))
    for n, example in enumerate(examples)
]


def run_example(tmp_path: Path, example: Example) -> Report:
    base = scan_files(tmp_path / "before", example.before)
    head = scan_files(tmp_path / "after", example.after)
    if example.lock_base:
        base = fingerprints_only(base)
    return compare(base, head)


@pytest.mark.parametrize(("rule", "example", "kind"), CASES)
def test_rule_example(tmp_path: Path, rule: Rule, example: Example, kind: str) -> None:
    report = run_example(tmp_path, example)
    changes = [c for c in report.pipelines if c.name == example.pipeline]
    assert changes, f"no pipeline {example.pipeline!r} in {[c.name for c in report.pipelines]}"
    rules = {f.rule for c in changes for f in c.findings}
    decision = Decision.most_severe(c.decision for c in changes if c.decision)
    shown = [f.to_json() for c in changes for f in c.findings]
    if kind == "trigger":
        assert rule.id in rules, (example.note, shown)
    else:
        assert rule.id not in rules, (example.note, shown)
    assert decision is example.expect, (example.note, shown)


def test_every_rule_has_both_sides() -> None:
    for rule in RULES:
        assert rule.triggers and rule.near_misses, rule.id


def test_rule_ids_are_stable_and_grouped_by_policy() -> None:
    prefixes = {"cosmetic": "PV1", "config": "PV2", "signature": "PV3", "structural": "PV4", "identity": "PV5"}
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    for rule in RULES:
        assert rule.id.startswith(prefixes[rule.policy]), rule.id
        assert rule.summary and "\n" not in rule.summary


def test_readme_table_lists_every_rule_with_its_policy_and_default() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Decisions and rules", 1)[1].split("\n## ", 1)[0]
    for rule in RULES:
        row = f"| {rule.id} | {rule.policy} | {rule.default.value} |"
        assert row in section, row
