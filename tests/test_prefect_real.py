"""Patterns met on public Prefect projects (PrefectHQ/examples, PrefectHQ/prefect-recipes,
cityofaustin/atd-prefect, mortenoh/prefect-examples), each in a small fixture of its own."""

from __future__ import annotations

from pathlib import Path

from pvcheck.analyzer import scan_tree
from pvcheck.analyzer.frameworks.prefect import script_metadata
from pvcheck.policies import compare
from tests.conftest import FIXTURES, only_pipeline, write_tree


def test_uv_script_fixture_graph_and_environment():
    flow = only_pipeline(scan_tree(FIXTURES / "prefect_uv_script"))
    assert flow.name == "weather-digest"
    assert [(s.id, s.function) for s in flow.steps] == [
        ("fetch_forecast", "flows.weather_digest.fetch_forecast"), ("digest", "flows.weather_digest.digest")]
    assert sorted((e.source, e.target, e.kind) for e in flow.edges) == [("fetch_forecast", "digest", "data")]
    assert flow.config["requirements"] == {"requires-python": ">=3.10", "dependencies": ["prefect>=3.1", "httpx"]}
    assert tuple(flow.config_lines["requirements"])[:2] == ("flows/weather_digest.py", 1)
    assert [h.name for h in flow.steps[1].helpers if h.kind == "function"] == ["utils.units.to_celsius"]


def test_script_metadata_block():
    text = "#!/usr/bin/env python\n# /// script\n# dependencies = [\"prefect\"]\n#\n# ///\nimport prefect\n"
    assert script_metadata(text) == ({"dependencies": ["prefect"]}, 2)
    # not TOML: kept as its text, so any edit is still seen
    assert script_metadata("# /// script\n# dependencies = [\n# ///\n") == ("dependencies = [", 1)
    # near misses: another block type, an unclosed block, a plain comment
    assert script_metadata("# /// pyproject\n# x = 1\n# ///\n") is None
    assert script_metadata("# /// script\n# dependencies = []\n") is None
    assert script_metadata("# dependencies = ['prefect']\n") is None


TASKS = """
    from prefect import task

    @task
    def load() -> list:
        return [1]

    @task
    def align(rows: list, key: str) -> list:
        return [getattr(r, key) for r in rows]
"""

FLOW = """
    from prefect import flow
    from steps import align, load

    @flow
    def report():
        rows = load()
        align([dict(day=r, value=r * 2) for r in rows if r], "day")
"""

FLOW_REFORMATTED = """
    from prefect import flow
    from steps import align, load

    @flow
    def report():
        rows = load()
        align(
            [
                dict(day=r, value=r * 2)
                for r in rows
                if r
            ],
            "day",
        )
"""


def test_a_reformatted_comprehension_input_of_a_dynamic_task_is_a_run(tmp_path: Path):
    before = scan_tree(write_tree(tmp_path / "before", {"steps.py": TASKS, "flow.py": FLOW}))
    after = scan_tree(write_tree(tmp_path / "after", {"steps.py": TASKS, "flow.py": FLOW_REFORMATTED}))
    assert only_pipeline(after).steps[1].dynamic  # getattr: any real change is a version
    assert [c.decision.value for c in compare(before, after).pipelines] == ["run"]
    edited = scan_tree(write_tree(tmp_path / "edited", {"steps.py": TASKS,
                                                         "flow.py": FLOW.replace("r * 2", "r * 3")}))
    assert [c.decision.value for c in compare(before, edited).pipelines] == ["version"]


LOCAL_COLLECTION = {
    "src/prefect_examples/__init__.py": "",
    "src/prefect_examples/dhis2.py": """
        class Credentials:
            def get_client(self):
                return object()

        def get_credentials():
            return Credentials()

        def fetch_units(client):
            return [client]
    """,
    "flows/units.py": """
        from prefect import flow, task
        from prefect_examples.dhis2 import fetch_units, get_credentials

        @task
        def report(units: list) -> int:
            return len(units)

        @flow
        def units():
            client = get_credentials().get_client()
            report(fetch_units(client))
    """,
}


def test_a_package_of_the_tree_named_prefect_something_is_no_collection(tmp_path: Path):
    """mortenoh/prefect-examples keeps its helpers in `src/prefect_examples/`: they were
    taken for tasks of an installed Prefect collection (named, never fingerprinted), so an
    edit to them passed as run."""
    before = scan_tree(write_tree(tmp_path / "before", LOCAL_COLLECTION))
    flow = only_pipeline(before)
    assert [s.id for s in flow.steps] == ["report"]
    edited = dict(LOCAL_COLLECTION)
    edited["src/prefect_examples/dhis2.py"] = edited["src/prefect_examples/dhis2.py"].replace(
        "return Credentials()", "return Credentials() or None")
    after = scan_tree(write_tree(tmp_path / "after", edited))
    assert [c.decision.value for c in compare(before, after).pipelines] == ["version"]
    # near miss: the same names from an installed package (not in the tree) stay collection tasks
    installed = {k: v for k, v in LOCAL_COLLECTION.items() if k.startswith("flows/")}
    flow = only_pipeline(scan_tree(write_tree(tmp_path / "installed", installed)))
    assert [s.id for s in flow.steps] == ["get_credentials", "fetch_units", "report"]
