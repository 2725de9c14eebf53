"""The change-case suite: every ``fixtures/changes/<case>/`` is scanned on both sides,
compared, and checked against its ``case.toml``.

``case.toml``::

    description = "comment added to a step"
    [expected]
    churn_training = "run"          # pipeline name -> run | version | pipeline | removed
    [rules]
    present = ["PV102"]             # optional: rule ids that must appear
    absent = ["PV401"]              # optional: rule ids that must not

A pipeline name may appear more than once in a revision (a name collision): the
expected decision is then the most severe of them. ``removed`` means every pipeline of
that name is gone from the head revision. Pipelines not listed are not checked. Rules
are looked up across every pipeline of the case.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from pvcheck.analyzer import scan_tree
from pvcheck.model import Decision, Report, Status
from pvcheck.policies import compare

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CASES_ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "changes"
VERDICTS = {"run", "version", "pipeline", "removed"}


def case_dirs() -> list[Path]:
    return sorted(p for p in CASES_ROOT.iterdir() if (p / "case.toml").is_file()) if CASES_ROOT.is_dir() else []


def load_case(folder: Path) -> dict[str, Any]:
    spec = tomllib.loads((folder / "case.toml").read_text(encoding="utf-8"))
    assert isinstance(spec.get("description"), str) and spec["description"], f"{folder.name}: no description"
    expected = spec.get("expected")
    assert isinstance(expected, dict) and expected, f"{folder.name}: no [expected] table"
    for name, verdict in expected.items():
        assert verdict in VERDICTS, f"{folder.name}: {name} = {verdict!r} is not one of {sorted(VERDICTS)}"
    assert (folder / "before").is_dir() and (folder / "after").is_dir(), f"{folder.name}: before/ and after/"
    return spec


def verdict(report: Report, name: str) -> str:
    """What the report says about the pipeline(s) declaring ``name``."""
    changes = [c for c in report.pipelines if c.name == name]
    if not changes:
        return "(not found)"
    if all(c.status is Status.REMOVED for c in changes):
        return "removed"
    return Decision.most_severe(c.decision for c in changes if c.decision is not None).value


def explain(report: Report) -> str:
    lines = []
    for change in report.pipelines:
        lines.append(f"{change.name} [{change.status}] -> {change.decision}")
        lines.extend(f"    {f.rule} {f.decision} {f.path}:{f.line} {f.message}" for f in change.findings)
    lines.extend(f"  diagnostic {d.one_line()}" for d in report.diagnostics)
    return "\n".join(lines)


@pytest.mark.parametrize("folder", case_dirs(), ids=lambda p: p.name)
def test_change_case(folder: Path) -> None:
    spec = load_case(folder)
    report = compare(scan_tree(folder / "before"), scan_tree(folder / "after"))
    got = {name: verdict(report, name) for name in spec["expected"]}
    assert got == spec["expected"], f"{spec['description']}\n{explain(report)}"
    found = {f.rule for change in report.pipelines for f in change.findings}
    rules = spec.get("rules", {})
    missing = sorted(set(rules.get("present", ())) - found)
    unwanted = sorted(set(rules.get("absent", ())) & found)
    assert not missing and not unwanted, f"missing {missing}, unwanted {unwanted}\n{explain(report)}"


def test_the_suite_is_not_empty() -> None:
    assert len(case_dirs()) >= 20


@pytest.mark.parametrize("framework", ["prefect", "kfp", "airflow", "dagster"])
def test_every_framework_has_its_change_cases(framework: str) -> None:
    kinds = {p.name[len(framework) + 1:] for p in case_dirs() if p.name.startswith(framework + "_")}
    assert {"cosmetic", "config", "body", "edge_removed"} <= kinds
