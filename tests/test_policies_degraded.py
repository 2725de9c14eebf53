"""Policies on thin models: a base rebuilt from a lock file, or reduced to fingerprints.

``pvcheck check`` compares the working tree with a model read from ``pvcheck.lock``.
Whatever that model lacks, no policy may crash, and no decision may become *less*
severe than with the full base (a missed version is worse than a spurious one).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pvcheck.analyzer import scan_tree
from pvcheck.model import Decision, Project, Report, Status
from pvcheck.policies import compare
from pvcheck.policies.common import fingerprints_only
from tests.test_change_cases import case_dirs

SEVERITY = {None: -1, Decision.RUN: 0, Decision.VERSION: 1, Decision.PIPELINE: 2}


def decisions(report: Report) -> dict[tuple[str, str], Decision | None]:
    return {(c.name, c.path): c.decision for c in report.pipelines if c.status is not Status.REMOVED}


def via_lock_file(base: Project) -> Project:
    """``base`` written to a lock file and read back, as ``pvcheck check`` sees it."""
    from pvcheck.lockfile import dumps, loads
    from pvcheck.versions import plan

    lock, _ = plan(None, compare(Project(root=""), base))
    return loads(dumps(lock)).project()


@pytest.mark.parametrize("folder", case_dirs(), ids=lambda p: p.name)
def test_thin_bases_never_lower_a_decision(folder: Path) -> None:
    base, head = scan_tree(folder / "before"), scan_tree(folder / "after")
    full = decisions(compare(base, head))
    thin = decisions(compare(fingerprints_only(base), head))
    locked = decisions(compare(via_lock_file(base), head))
    assert thin.keys() == full.keys() == locked.keys()
    for key, decision in full.items():
        assert SEVERITY[thin[key]] >= SEVERITY[decision], (key, thin[key], decision)
        # the lock keeps configuration and statements: the decision is exactly the same
        assert locked[key] == decision, (key, locked[key], decision)


def test_fingerprints_only_base_still_locates_and_explains_what_it_can(tmp_path: Path) -> None:
    case = Path(__file__).resolve().parent.parent / "fixtures" / "changes"
    base = fingerprints_only(scan_tree(case / "body_changed" / "before"))
    report = compare(base, scan_tree(case / "body_changed" / "after"))
    training = next(c for c in report.pipelines if c.name == "churn_training")
    body = [f for f in training.findings if f.rule == "PV401"]
    assert body and body[0].path == "steps/features.py" and body[0].step == "build_features"
    assert "complexity 1" in body[0].message  # complexity survives in the lock


def test_config_change_against_a_fingerprint_only_base_is_a_version_not_a_run() -> None:
    case = Path(__file__).resolve().parent.parent / "fixtures" / "changes" / "yaml_value"
    report = compare(fingerprints_only(scan_tree(case / "before")), scan_tree(case / "after"))
    training = next(c for c in report.pipelines if c.name == "churn_training")
    assert training.decision is Decision.VERSION
    assert [f.rule for f in training.findings] == ["PV206"]


def test_an_empty_base_makes_every_pipeline_new_and_an_empty_head_removes_them() -> None:
    head = scan_tree(Path(__file__).resolve().parent.parent / "fixtures" / "zenml_churn")
    added = compare(Project(root=""), head)
    assert {c.status for c in added.pipelines} == {Status.ADDED}
    assert {c.decision for c in added.pipelines} == {Decision.PIPELINE}
    removed = compare(head, Project(root=""))
    assert {c.status for c in removed.pipelines} == {Status.REMOVED}
    assert {c.decision for c in removed.pipelines} == {None}
    assert removed.to_json()["summary"]["removed"] == len(head.pipelines)
