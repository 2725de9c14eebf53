"""``pvcheck rules``: every rule listed, one explained with its example and near-miss."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pvcheck.cli import main
from pvcheck.config import Config
from pvcheck.model import Decision, Status
from pvcheck.policies import compare
from pvcheck.policies.registry import builtin_rules
from pvcheck.policies.ruledocs import explain, find_rule, rule_docs
from tests.gitrepo import cli_env

ROOT = Path(__file__).resolve().parent.parent


def test_every_builtin_rule_is_listed_with_a_rationale_and_examples() -> None:
    docs = {d.id: d for d in rule_docs()}
    for rule in builtin_rules():
        doc = docs[rule.id]
        assert doc.rationale, f"{rule.id} has no rationale in pvcheck/policies/rationale.py"
        assert doc.triggers and doc.near_misses, f"{rule.id} needs an example and a near-miss"
    assert "PV098" in docs  # the engine's own finding


def test_rules_lists_id_policy_default_and_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("PV402"))
    assert line.split()[1:3] == ["structural", "version"]
    assert "helper" in line


def test_rules_id_explains_what_why_example_near_miss_and_override(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "pv402"]) == 0  # ids are case-insensitive, as typed
    page = capsys.readouterr().out
    assert page.startswith("PV402 (structural, default: version, built-in)")
    assert "Why version:" in page
    trigger = page.index("Triggers it")
    near_miss = page.index("Near-miss (does not trigger it)")
    assert trigger < near_miss
    assert "+    return round(value * factor, 2)" in page[trigger:near_miss]  # the example's diff
    assert "(pipeline gets run)" in page[near_miss:]
    assert '[tool.pvcheck.rules]\n    PV402 = "run"' in page


def test_rules_json_is_data(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "PV101", "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["schema"] == "pvcheck.rules/1"
    [rule] = payload["rules"]
    assert rule["id"] == "PV101" and rule["default"] == "run" and rule["triggers"][0]["diff"].startswith("---")


def test_an_unknown_rule_is_one_line_and_exit_2() -> None:
    result = subprocess.run([sys.executable, "-m", "pvcheck", "rules", "PV999"], capture_output=True, text=True,
                            env=cli_env(), cwd=ROOT)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["pvcheck: error: no rule 'PV999'; 'pvcheck rules' lists every "
                                                  "rule id"]


def test_explain_works_for_a_plugin_rule_without_examples() -> None:
    from pvcheck.policies.ruledocs import RuleDoc

    page = explain(RuleDoc("ACME001", "team", "version", "a team rule", "", "plug-in team_rules"))
    assert page.startswith("ACME001 (team, default: version, plug-in team_rules)")
    assert "ACME001 = \"run\"" in page
    assert find_rule("acme001", [RuleDoc("ACME001", "team", "version", "x", "", "p")]) is not None


# --- PV504 honours its override ------------------------------------------------------------

FILES = {
    "steps.py": "from zenml import step\n\n@step\ndef load() -> int:\n    return 1\n",
    "old.py": "from zenml import pipeline\nfrom steps import load\n\n@pipeline(name='old')\ndef old():\n    load()\n",
}
NEW = "from zenml import pipeline\nfrom steps import load\n\n@pipeline(name='fresh')\ndef fresh():\n    load()\n"


def _added_decision(tmp_path: Path, config: Config) -> Decision | None:
    from pvcheck.analyzer import scan_tree

    for side, extra in (("base", {}), ("head", {"new.py": NEW})):
        for name, text in {**FILES, **extra}.items():
            (tmp_path / side / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / side / name).write_text(text, encoding="utf-8")
    report = compare(scan_tree(tmp_path / "base"), scan_tree(tmp_path / "head"), config)
    [added] = [c for c in report.pipelines if c.status is Status.ADDED]
    return added.decision


def test_an_added_pipeline_is_a_pipeline_by_default(tmp_path: Path) -> None:
    assert _added_decision(tmp_path, Config()) is Decision.PIPELINE


@pytest.mark.parametrize("override, expected", [("version", Decision.VERSION), ("off", Decision.RUN)])
def test_an_override_of_pv504_is_honoured(tmp_path: Path, override: str, expected: Decision) -> None:
    assert _added_decision(tmp_path, Config(rules={"PV504": override})) is expected
