"""Dagster asset checks run with the asset they check: their code is in its reach."""

from __future__ import annotations

from typing import Mapping

import pytest

from pvcheck.config import Config
from pvcheck.model import Decision
from pvcheck.policies import compare

_ASSETS = '''
import dagster as dg

from project.checks_helpers import validate


@dg.asset
def rows() -> list:
    return [1, 2]


@dg.asset(key_prefix=["raw"])
def orders() -> list:
    return [3]


@dg.asset
def other() -> int:
    return 1


@dg.asset_check(asset={target})
def rows_ok(rows: list) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=validate(rows))


@dg.asset_check(asset=other)
def other_ok(other: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=other > 0)


rows_job = dg.define_asset_job("rows_job", selection=[rows, orders])

defs = dg.Definitions(assets=[rows, orders, other], asset_checks=[rows_ok, other_ok], jobs=[rows_job])
'''

_HELPERS = "def validate(rows):\n    return len(rows) > 0\n"


def _files(target: str, assets: str = _ASSETS, helpers: str = _HELPERS) -> Mapping[str, str]:
    return {"project/__init__.py": "", "project/definitions.py": assets.replace("{target}", target),
            "project/checks_helpers.py": helpers}


def _decisions(tree, base: Mapping[str, str], head: Mapping[str, str]) -> dict[str, Decision]:  # type: ignore[no-untyped-def]
    return {c.name: c.decision for c in compare(tree(base), tree(head), Config()).pipelines if c.decision}


@pytest.mark.parametrize("target", ["rows", '"rows"', 'dg.AssetKey("rows")'])
def test_an_edit_to_a_check_is_a_version_of_what_runs_its_asset(tree, target: str) -> None:  # type: ignore[no-untyped-def]
    base = _files(target)
    by_helper = _decisions(tree, base, _files(target, helpers=_HELPERS.replace("> 0", ">= 0")))
    by_body = _decisions(tree, base, _files(target, _ASSETS.replace("passed=validate(rows)",
                                                                     "passed=not validate(rows)")))
    assert by_helper["rows_job"] is by_body["rows_job"] is Decision.VERSION


@pytest.mark.parametrize("target", ['dg.AssetKey(["raw", "orders"])', '["raw", "orders"]'])
def test_a_check_names_a_prefixed_asset_by_its_key(tree, target: str) -> None:  # type: ignore[no-untyped-def]
    decisions = _decisions(tree, _files(target), _files(target, helpers=_HELPERS.replace("> 0", ">= 0")))
    assert decisions["rows_job"] is Decision.VERSION


def test_a_check_of_an_asset_outside_the_job_changes_nothing_there(tree) -> None:  # type: ignore[no-untyped-def]
    # near-miss: other_ok checks `other`, which rows_job does not select
    base = _files("rows")
    decisions = _decisions(tree, base, _files("rows", _ASSETS.replace("passed=other > 0", "passed=other > 1")))
    assert decisions["rows_job"] is Decision.RUN
    assert decisions["project.definitions"] is Decision.VERSION  # the location holds `other`


def test_a_check_whose_asset_cannot_be_read_is_reported(tree) -> None:  # type: ignore[no-untyped-def]
    assets = _ASSETS.replace("from project.checks_helpers", "from project.pick import pick_asset\nfrom project.checks_helpers")
    files = {**_files("pick_asset()", assets), "project/pick.py": "def pick_asset():\n    return 'rows'\n"}
    warnings = [d for d in tree(files).diagnostics
                if d.code == "PV010" and "asset check 'project.definitions.rows_ok'" in d.message]
    assert len(warnings) == 1


def test_the_asset_a_check_names_is_no_helper_of_itself(tree) -> None:  # type: ignore[no-untyped-def]
    project = tree(_files("rows"))
    helpers = {h.name for p in project.pipelines if p.name == "rows_job" for s in p.steps if s.id == "rows"
               for h in s.helpers}
    assert "project.definitions.rows_ok" in helpers
    assert "project.definitions.rows" not in helpers
