"""Prefect flows with `if` / `for` over parameters: conditional parts of the graph (PV028)."""

from __future__ import annotations

from pathlib import Path

from pvcheck.analyzer import scan_tree
from pvcheck.policies import compare
from tests.conftest import FIXTURES, only_pipeline, write_tree

FIXTURE = FIXTURES / "prefect_reports"

TASKS = """
    from prefect import task

    @task
    def load() -> list:
        return [1]

    @task
    def clean(rows: list) -> list:
        return rows

    @task
    def enrich(rows: list) -> list:
        return rows

    @task
    def save(rows: list) -> None:
        print(rows)
"""


def edges(pipeline):
    return sorted((e.source, e.target, e.kind, e.output, e.input) for e in pipeline.edges)


def codes(project, code):
    return [d for d in project.diagnostics if d.code == code]


def test_fixture_graph_with_conditional_parts():
    project = scan_tree(FIXTURE)
    flow = only_pipeline(project)
    assert not flow.dynamic
    assert codes(project, "PV010") == []
    assert [s.id for s in flow.steps] == ["fetch_index", "fetch_page", "summarize", "render_report", "publish",
                                          "archive"]
    assert {s.id: s.inputs.get("$condition") for s in flow.steps} == {
        "fetch_index": None,
        "fetch_page": ["if urls", "for url in urls"],
        "summarize": None,
        "render_report": ["if include_report"],
        "publish": ["if include_report"],
        "archive": ["else (if include_report)"],
    }
    assert edges(flow) == [
        ("fetch_page", "summarize", "data", None, "pages"),  # collected by pages.append in the loop
        ("render_report", "publish", "data", "result", "report"),
        ("summarize", "archive", "data", "result", "summary"),
        ("summarize", "render_report", "data", "result", "summary"),
    ]
    assert [(c["kind"], c["condition"], c["line"], c["steps"]) for c in flow.coverage["conditions"]] == [
        ("if", "if urls", 12, ["fetch_page"]),
        ("for", "for url in urls", 13, ["fetch_page"]),
        ("if", "if include_report", 16, ["render_report", "publish", "archive"]),
    ]
    loops = codes(project, "PV028")
    assert [(d.path, d.line) for d in loops] == [("flows/crawl.py", 13)]
    assert "fetch_page run once per item of `urls`, a count known only at run time" in loops[0].message


def test_a_test_or_iterable_that_calls_a_task_stays_dynamic(tree):
    project = tree({"steps.py": TASKS, "flow.py": """
        from prefect import flow
        from steps import clean, load, save

        @flow
        def over_call():
            for row in load():
                save(row)

        @flow
        def test_call():
            if clean([1]):
                save([2])
    """})
    for name in ("over-call", "test-call"):
        flow = only_pipeline(project, name)
        assert flow.dynamic, name
        assert "conditions" not in flow.coverage
    assert codes(project, "PV028") == []
    assert len(codes(project, "PV010")) == 2


def test_conditions_and_loops_over_task_results_are_conditional_parts(tree):
    project = tree({"steps.py": TASKS, "flow.py": """
        from prefect import flow
        from steps import clean, enrich, load, save

        @flow
        def test_on_data():
            rows = load()
            if rows:
                save(clean(rows))

        @flow
        def over_data():
            rows = load()
            for row in rows:
                save(row)

        @flow
        def on_a_future():
            state = load.submit()
            if state.result() == [] and len(rows := [1]) > 0:
                save([0])

        @flow
        def on_a_submitted_result():
            future = load.submit()
            if future.result():
                enrich([1])
    """})
    flow = only_pipeline(project, "test-on-data")
    assert not flow.dynamic
    assert {s.id: s.inputs.get("$condition") for s in flow.steps} == {
        "load": None, "clean": ["if rows"], "save": ["if rows"]}
    # clean reads rows (a data edge); save runs only once load's result is known (order)
    assert edges(flow) == [("clean", "save", "data", "result", "rows"),
                           ("load", "clean", "data", "result", "rows"),
                           ("load", "save", "order", None, None)]

    flow = only_pipeline(project, "over-data")
    assert not flow.dynamic
    assert flow.steps[1].inputs.get("$condition") == ["for row in rows"]
    assert edges(flow) == [("load", "save", "data", None, "rows")]  # the loop variable is load's
    assert [d.line for d in codes(project, "PV028")] == [13]

    # a walrus in the test: still the base builder's
    assert only_pipeline(project, "on-a-future").dynamic
    flow = only_pipeline(project, "on-a-submitted-result")
    assert not flow.dynamic
    assert edges(flow) == [("load", "enrich", "order", None, None)]
    assert len(codes(project, "PV010")) == 1


def test_literal_loops_are_unrolled_not_conditional(tree):
    flow = only_pipeline(project := tree({"steps.py": TASKS, "flow.py": """
        from prefect import flow
        from steps import save

        @flow
        def fixed():
            for part in ["a", "b"]:
                save([part])
    """}))
    assert [s.id for s in flow.steps] == ["save", "save_2"]
    assert all("$condition" not in s.inputs for s in flow.steps)
    assert codes(project, "PV028") == [] and not flow.dynamic


def test_values_from_both_branches_reach_a_later_task(tree):
    flow = only_pipeline(tree({"steps.py": TASKS, "flow.py": """
        from prefect import flow
        from steps import clean, enrich, load, save

        @flow
        def etl(deep: bool = False):
            rows = load()
            if deep:
                rows = enrich(rows)
            else:
                rows = clean(rows)
            save(rows)
    """}))
    assert not flow.dynamic
    assert edges(flow) == [
        ("clean", "save", "data", None, "rows"),
        ("enrich", "save", "data", None, "rows"),
        ("load", "clean", "data", "result", "rows"),
        ("load", "enrich", "data", "result", "rows"),
    ]


def test_an_if_without_else_keeps_the_value_from_before(tree):
    flow = only_pipeline(tree({"steps.py": TASKS, "flow.py": """
        from prefect import flow
        from steps import clean, load, save

        @flow
        def etl(tidy: bool = True):
            rows = load()
            if tidy:
                rows = clean(rows)
            save(rows)
    """}))
    assert ("load", "save", "data", None, "rows") in edges(flow)
    assert ("clean", "save", "data", None, "rows") in edges(flow)


def test_results_collected_by_append_are_edges_without_a_loop(tree):
    flow = only_pipeline(tree({"steps.py": TASKS, "flow.py": """
        from prefect import flow
        from steps import load, save

        @flow
        def etl():
            batches = []
            batches.append(load())
            save(batches)
    """}))
    assert edges(flow) == [("load", "save", "data", None, "rows")]


LOOP_CARRIED = """
    from prefect import flow
    from steps import enrich, load, save

    @flow
    def etl(rounds: list[int]):
        rows = load()
        for _ in rounds:
            rows = enrich(rows)
        save(rows)
"""


def test_a_loop_carried_value_dropped_is_a_new_version(tmp_path: Path):
    before = write_tree(tmp_path / "before", {"steps.py": TASKS, "flow.py": LOOP_CARRIED})
    after = write_tree(tmp_path / "after", {"steps.py": TASKS, "flow.py": LOOP_CARRIED.replace(
        "rows = enrich(rows)", "enrich(rows)")})
    report = compare(scan_tree(before), scan_tree(after))
    assert [c.decision.value for c in report.pipelines] == ["version"]
    assert not only_pipeline(scan_tree(before)).dynamic


def test_a_parameter_reaching_a_loop_is_a_new_version(tmp_path: Path):
    text = LOOP_CARRIED.replace("rounds: list[int]", "rounds: list[int] = [1]")
    before = write_tree(tmp_path / "before", {"steps.py": TASKS, "flow.py": text})
    after = write_tree(tmp_path / "after", {"steps.py": TASKS, "flow.py": text.replace("= [1]", "= [1, 2]")})
    report = compare(scan_tree(before), scan_tree(after))
    assert [c.decision.value for c in report.pipelines] == ["version"]
    assert "PV406" in {f.rule for c in report.pipelines for f in c.findings}


def test_fixture_gated_on_task_results():
    """A publisher whose flow runs its tasks only when earlier tasks say so (the shape of
    public ETL flows: `if image_ready:`, `for source in sources:`, `if healthy:`)."""
    project = scan_tree(FIXTURES / "prefect_gated")
    flow = only_pipeline(project)
    assert flow.name == "Permits: publish to open data"  # name= through a module constant
    assert not flow.dynamic and codes(project, "PV010") == []
    assert {s.id: s.inputs.get("$condition") for s in flow.steps} == {
        "read_settings": None,
        "pull_image": None,
        "list_sources": ["if image_ready"],
        "export_source": ["if image_ready", "for source in sources"],
        "check_counts": None,
        "record_run": ["if healthy"],
        "alert": ["else (if healthy)"],
    }
    assert [s.function for s in flow.steps][4] == "tasks.publish.check_counts"
    assert edges(flow) == [
        ("check_counts", "alert", "order", None, None),
        ("check_counts", "record_run", "order", None, None),
        ("export_source", "check_counts", "data", None, "counts"),
        ("list_sources", "export_source", "data", None, "source"),
        ("pull_image", "export_source", "order", None, None),
        ("pull_image", "list_sources", "order", None, None),
        ("read_settings", "list_sources", "data", "result", "settings"),
        ("read_settings", "record_run", "data", "result", "block"),
    ]
    assert [(c["condition"], c["line"], c["steps"]) for c in flow.coverage["conditions"]] == [
        ("if image_ready", 16, ["list_sources", "export_source"]),
        ("for source in sources", 18, ["export_source"]),
        ("if healthy", 23, ["record_run", "alert"]),
    ]
    assert [(d.path, d.line) for d in codes(project, "PV028")] == [("flows/publish_permits.py", 18)]


def test_star_arguments_known_statically_are_the_task_inputs(tree):
    project = tree({"steps.py": TASKS + """
    @task
    def fetch(variable: str, year: int, area: list) -> list:
        return [variable, year, area]
    """, "flow.py": """
        from prefect import flow
        from steps import fetch, load, save

        DEFAULTS = {"year": 2023, "area": [0]}

        @flow
        def climate(year: int = 2024):
            area = load()
            common = (year, area)
            fetch("temperature", *common)
            fetch("rain", **DEFAULTS)
            fetch("wind", *get_args())
    """})
    flow = only_pipeline(project)
    temperature, rain, wind = flow.steps[1:]
    assert temperature.inputs == {"variable": "temperature", "year": {"$param": "year"},
                                  "area": {"$step": "load", "output": "result"}}
    assert rain.inputs == {"variable": "rain", "year": 2023, "area": [0]}
    assert wind.inputs == {"variable": "wind"}  # not known statically: PV010 names it
    assert ("load", "fetch", "data", "result", "area") in edges(flow)
    assert [d.message for d in codes(project, "PV010")] == [
        "cannot follow statically: '*' arguments to step 'fetch' of pipeline 'climate'"]


def test_a_loop_over_a_mapped_result_counts_its_task_once(tree):
    project = tree({"steps.py": TASKS, "flow.py": """
        from prefect import flow
        from steps import clean, save

        @flow
        def prices(batches: list):
            for rows in clean.map(batches).result():
                save(rows)
    """})
    flow = only_pipeline(project)
    assert [s.id for s in flow.steps] == ["clean", "save"]
    assert flow.dynamic and len(codes(project, "PV010")) == 1
