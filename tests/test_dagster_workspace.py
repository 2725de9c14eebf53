"""Dagster code locations named by workspace files: ``workspace.yaml``, ``dagster_cloud.yaml``
and ``[tool.dagster]``. A job's asset selection resolves within its location."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pvcheck.analyzer import scan_tree
from pvcheck.analyzer.cache import AnalysisCache
from pvcheck.config import Config
from pvcheck.output.scan import scan_json

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "dagster_workspace"


def _graphs(root: Path, cache: object = False) -> dict[str, tuple[list[str], list[tuple[str, str, str]]]]:
    project = scan_tree(root, Config(), cache=cache)  # type: ignore[arg-type]
    return {p.name: ([s.id for s in p.steps], sorted((e.source, e.target, e.kind) for e in p.edges))
            for p in project.pipelines}


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURE, root)
    return root


def test_each_job_selects_within_the_location_workspace_yaml_names(tree: Path) -> None:
    assert _graphs(tree) == {
        "a_job": (["a_raw", "a_clean"], [("a_raw", "a_clean", "data")]),
        "b_job": (["b_orders", "b_totals", "b_report"], [("b_orders", "b_totals", "data"),
                                                          ("b_totals", "b_report", "order")]),
        # scratch/ is named by no entry: today's rules, the nearest package with assets
        "adhoc_job": (["c_sample"], []),
    }


def test_without_a_workspace_file_every_job_takes_every_asset(tree: Path) -> None:
    (tree / "workspace.yaml").unlink()
    graphs = _graphs(tree)
    assert {name: len(steps) for name, (steps, _) in graphs.items()} == {"a_job": 6, "b_job": 6, "adhoc_job": 6}


def test_tool_dagster_in_pyproject_names_a_location(tree: Path) -> None:
    (tree / "workspace.yaml").unlink()
    (tree / "pyproject.toml").write_text('[tool.dagster]\nmodule_name = "team_a.repo"\ncode_location_name = "a"\n')
    graphs = _graphs(tree)
    assert graphs["a_job"][0] == ["a_raw", "a_clean"]
    # team_b is in no location; a location exists elsewhere, so its job keeps to its package
    assert graphs["b_job"][0] == ["b_orders", "b_totals", "b_report"]


def test_dagster_cloud_yaml_locations_with_a_build_directory(tree: Path) -> None:
    (tree / "workspace.yaml").unlink()
    (tree / "dagster_cloud.yaml").write_text(
        "locations:\n"
        "  - location_name: a\n    code_source:\n      module_name: team_a.repo\n    build:\n      directory: ./\n"
        "  - location_name: b\n    code_source:\n      python_file: team_b/repo.py\n")
    graphs = _graphs(tree)
    assert graphs["a_job"][0] == ["a_raw", "a_clean"] and graphs["b_job"][0] == ["b_orders", "b_totals", "b_report"]


@pytest.mark.parametrize("text", ["load_from: [\n", "load_from:\n  - python_module: not_in_the_tree\n", "- 1\n"])
def test_a_workspace_file_that_names_nothing_here_changes_nothing(tree: Path, text: str) -> None:
    (tree / "workspace.yaml").write_text(text)
    without = tree.parent / "without"
    shutil.copytree(tree, without)
    (without / "workspace.yaml").unlink()
    assert _graphs(tree) == _graphs(without)


def test_the_workspace_file_is_a_dependency_of_cached_results(tree: Path, tmp_path: Path) -> None:
    store = AnalysisCache(tmp_path / "cache", Config())
    first = scan_json(scan_tree(tree, Config(), cache=store))
    (tree / "workspace.yaml").unlink()
    again = scan_json(scan_tree(tree, Config(), cache=AnalysisCache(tmp_path / "cache", Config())))
    assert again != first
    assert again == scan_json(scan_tree(tree, Config(), cache=False))
