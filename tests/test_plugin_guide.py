"""docs/plugins.md, end to end: its toy framework and policy (tests/plugin_guide/) registered
through entry points the way an installed package registers them, scanned and checked with
pvcheck.testing, and the guide's code blocks kept identical to the files tested here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pvcheck.analyzer import scan_tree
from pvcheck.analyzer.frameworks.base import available_frameworks
from pvcheck.policies import compare
from pvcheck.testing import assert_graph, check_rule_examples
from tests.conftest import FIXTURES
from tests.plugin_guide.owner_policy import OwnerPolicy

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "plugins.md"
ENTRY_POINTS = """\
[pvcheck.frameworks]
toyflow = tests.plugin_guide.toyflow:ToyFlow

[pvcheck.policies]
owner = tests.plugin_guide.owner_policy:OwnerPolicy
"""


def install(folder: Path) -> Path:
    """The metadata ``pip install`` of a package declaring the guide's entry points leaves."""
    info = folder / "toyflow_pvcheck-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toyflow-pvcheck\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    return folder


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = install(tmp_path / "site")
    monkeypatch.syspath_prepend(str(site))
    return site


def test_the_framework_is_found_through_its_entry_point(installed: Path) -> None:
    assert available_frameworks()["toyflow"] == "tests.plugin_guide.toyflow:ToyFlow"


def test_the_guide_project_has_the_graph_its_code_says(installed: Path) -> None:
    pipeline = assert_graph(FIXTURES / "toyflow_sales", "daily_sales",
                            steps=["read_orders", "total", "publish"],
                            edges=[("read_orders", "total", "data"), ("total", "publish", "data")])
    assert pipeline.framework == "toyflow" and not pipeline.dynamic
    assert pipeline.config["owner"] == "analytics"
    publish = pipeline.step("publish")
    assert publish is not None and publish.inputs["channel"] == "#finance"
    read = pipeline.step("read_orders")
    assert read is not None and read.config == {"retries": 2}
    assert any(h.name == "utils.money.to_cents" for h in read.helpers)


def test_without_the_plugin_nothing_is_claimed() -> None:
    assert scan_tree(FIXTURES / "toyflow_sales").pipelines == ()


def test_the_policy_examples_hold(installed: Path) -> None:
    assert check_rule_examples(OwnerPolicy) == 2


def test_a_helper_edit_in_the_guide_project_is_a_version_and_an_owner_change_a_pipeline(
        installed: Path, tmp_path: Path) -> None:
    base = scan_tree(FIXTURES / "toyflow_sales")
    head_root = shutil.copytree(FIXTURES / "toyflow_sales", tmp_path / "head")
    money = head_root / "utils" / "money.py"
    money.write_text(money.read_text().replace("round(amount * 100)", "int(amount * 100)"))
    change = compare(base, scan_tree(head_root)).pipelines[0]
    assert change.decision is not None and change.decision.value == "version"
    flows = head_root / "flows.py"
    flows.write_text(flows.read_text().replace('owner="analytics"', 'owner="finance"'))
    change = compare(base, scan_tree(head_root)).pipelines[0]
    assert change.decision is not None and change.decision.value == "pipeline"
    assert "TOY001" in {f.rule for f in change.findings}


def test_a_statement_the_toy_framework_does_not_model_is_the_flows_own_code(installed: Path, tmp_path: Path) -> None:
    # the guide's builder accounts for every call (account_calls): what is not a task call is
    # the flow's own code, fingerprinted, so an edit to it is never silently dropped
    base = scan_tree(FIXTURES / "toyflow_sales").pipelines[0]
    root = shutil.copytree(FIXTURES / "toyflow_sales", tmp_path / "t")
    flows = root / "flows.py"
    flows.write_text(flows.read_text().replace("    amount = total(orders)\n",
                                               "    amount = total(orders)\n    amount = amount * 2\n"))
    head = scan_tree(root).pipelines[0]
    assert base.code_fingerprint and head.code_fingerprint != base.code_fingerprint
    assert head.fingerprint != base.fingerprint
    assert [s.id for s in head.steps] == [s.id for s in base.steps]


def test_a_call_the_toy_framework_does_not_follow_is_reported(installed: Path, tmp_path: Path) -> None:
    root = shutil.copytree(FIXTURES / "toyflow_sales", tmp_path / "t")
    flows = root / "flows.py"
    flows.write_text("import random\n" + flows.read_text().replace(
        "    amount = total(orders)\n", "    amount = total(orders)\n    random.shuffle(orders)\n"))
    project = scan_tree(root)
    pipeline = project.pipelines[0]
    assert [c["call"] for c in pipeline.coverage["calls_not_followed"]] == ["'random.shuffle'"]
    assert any(d.code == "PV023" and d.path == "flows.py" for d in project.diagnostics)


def test_the_installed_plugins_work_from_the_command_line(installed: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(installed), str(ROOT)])}
    shown = subprocess.run([sys.executable, "-m", "pvcheck", "rules", "TOY001"], env=env,
                           capture_output=True, text=True, check=False)
    assert shown.returncode == 0, shown.stderr
    assert "TOY001" in shown.stdout and "owner" in shown.stdout


def blocks(text: str) -> dict[str, str]:
    """The guide's code blocks introduced by ``<!-- file: path -->``, by path."""
    pattern = re.compile(r"<!-- file: (\S+) -->\n```[a-z]*\n(.*?)```", re.S)
    return {path: code for path, code in pattern.findall(text)}


def test_the_guide_shows_the_code_that_is_tested() -> None:
    shown = blocks(GUIDE.read_text(encoding="utf-8"))
    assert set(shown) == {"tests/plugin_guide/toyflow.py", "tests/plugin_guide/owner_policy.py"}
    for path, code in shown.items():
        assert code == (ROOT / path).read_text(encoding="utf-8"), path
    assert ENTRY_POINTS.split("\n\n")[0] in GUIDE.read_text(encoding="utf-8")


def test_the_guide_plugins_use_only_the_public_surface() -> None:
    for path in ("toyflow.py", "owner_policy.py"):
        text = (ROOT / "tests" / "plugin_guide" / path).read_text(encoding="utf-8")
        imports = re.findall(r"^from (pvcheck\S*) import", text, re.M)
        assert imports == ["pvcheck.plugin"], (path, imports)
