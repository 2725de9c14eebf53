"""Files in a folder that is not a package import their neighbours as Python does when it
runs them as scripts (the script's folder first on ``sys.path``): ``from helpers import x``
next to ``helpers.py`` is that file, not a third-party name (found in cityofaustin's Prefect
flows, where it hid two tasks of every flow and would have let an edit to them pass as run)."""

from __future__ import annotations

import shutil
from pathlib import Path

from pvcheck.analyzer import scan_tree
from pvcheck.analyzer.cache import AnalysisCache
from pvcheck.config import Config
from pvcheck.policies import compare
from tests.conftest import FIXTURES, only_pipeline, write_tree

FIXTURE = FIXTURES / "prefect_script_folders"

TASK = """
    from prefect import task

    @task
    def read_env(environment: str) -> dict:
        return {"environment": environment}
"""
FLOW = """
    from prefect import flow
    from common import read_env

    @flow
    def sync(environment: str = "production"):
        read_env(environment)
"""


def graph(pipeline):
    return [(s.id, s.function) for s in pipeline.steps], \
        sorted((e.source, e.target, e.kind) for e in pipeline.edges)


def test_fixture_graphs_use_the_module_next_to_each_script():
    project = scan_tree(FIXTURE)
    assert graph(only_pipeline(project, "Service bot: sync tickets")) == (
        [("read_env", "flows.service-bot.common.read_env"), ("pull_image", "flows.service-bot.common.pull_image"),
         ("sync", "flows.service-bot.sync_tickets.sync")],
        [("pull_image", "sync", "data"), ("read_env", "sync", "data")])
    assert only_pipeline(project, "Service bot: sync tickets").steps[1].config["retries"] == 3
    # a star import from the neighbour
    assert graph(only_pipeline(project, "Service bot: close tickets")) == (
        [("read_env", "flows.service-bot.common.read_env"), ("close", "flows.service-bot.close_tickets.close")],
        [("read_env", "close", "data")])
    # the same module name in another script folder is that folder's own file
    assert graph(only_pipeline(project, "rebuild")) == ([("read_env", "flows.nightly.common.read_env")], [])
    assert [d for d in project.diagnostics if d.code in ("PV010", "PV023", "PV024")] == []


def test_an_edit_to_the_neighbour_task_is_a_new_version(tmp_path: Path):
    before = tmp_path / "before"
    shutil.copytree(FIXTURE, before)
    after = tmp_path / "after"
    shutil.copytree(FIXTURE, after)
    common = after / "flows" / "service-bot" / "common.py"
    common.write_text(common.read_text().replace('{"environment": environment}', '{"env": environment}'))
    report = compare(scan_tree(before), scan_tree(after))
    assert {c.name: c.decision.value for c in report.pipelines} == {
        "Service bot: sync tickets": "version", "Service bot: close tickets": "version", "rebuild": "run"}


def test_a_package_folder_or_a_module_of_the_tree_wins_over_the_neighbour(tmp_path: Path):
    # a package's module is imported, not run: `common` is the top-level name (here absent: third-party)
    project = scan_tree(write_tree(tmp_path / "pkg", {
        "flows/__init__.py": "", "flows/common.py": TASK, "flows/sync.py": FLOW}))
    assert only_pipeline(project).steps == ()
    # a top-level module of the tree named like the neighbour is what the import names
    project = scan_tree(write_tree(tmp_path / "top", {
        "common.py": TASK.replace("@task", "@task(name='top_env')"), "flows/common.py": TASK, "flows/sync.py": FLOW}))
    assert [s.id for s in only_pipeline(project).steps] == ["top_env"]


def test_a_neighbour_added_later_invalidates_the_cached_unit(tmp_path: Path):
    root = write_tree(tmp_path / "tree", {"flows/sync.py": FLOW})
    first = scan_tree(root, cache=AnalysisCache(tmp_path / "cache", Config()))
    assert only_pipeline(first).steps == ()
    write_tree(root, {"flows/common.py": TASK})
    store = AnalysisCache(tmp_path / "cache", Config())
    second = scan_tree(root, cache=store)
    assert store.misses >= 1
    assert [s.function for s in only_pipeline(second).steps] == ["flows.common.read_env"]
    assert second.to_json(full=True) == scan_tree(root, cache=False).to_json(full=True)
