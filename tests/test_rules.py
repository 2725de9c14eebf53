"""Every rule's own examples, run through scan and compare: the trigger produces the
rule and its decision; the near-miss looks alike but must not produce the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from pvcheck.policies import builtin_rules
from pvcheck.policies.base import Example, Rule
from pvcheck.testing import check_example, rule_cases

RULES = builtin_rules()
CASES = [pytest.param(rule, example, kind, id=case_id) for rule, example, kind, case_id in rule_cases(RULES)]


@pytest.mark.parametrize(("rule", "example", "kind"), CASES)
def test_rule_example(tmp_path: Path, rule: Rule, example: Example, kind: str) -> None:
    check_example(rule, example, kind, tmp_path)


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
