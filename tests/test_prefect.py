"""Prefect 3 flows: task ids, data and order edges, subflows, configuration, fingerprints."""

from __future__ import annotations

import shutil
from pathlib import Path

from pvcheck.analyzer import scan_tree
from tests.conftest import FIXTURES, only_pipeline
from tests.project_edits import edit_file

FIXTURE = FIXTURES / "prefect_etl"


def edges(pipeline):
    return sorted((e.source, e.target, e.kind, e.output, e.input) for e in pipeline.edges)


def dynamic_messages(project):
    return [d.message for d in project.diagnostics if d.code == "PV010"]


# ---------------------------------------------------------------------- the fixture project
def test_fixture_flows_and_names():
    project = scan_tree(FIXTURE)
    assert [(p.name, p.framework, p.path, p.function) for p in project.pipelines] == [
        ("daily-orders-etl", "prefect", "flows/daily_etl.py", "flows.daily_etl.daily_etl"),
        ("order-quality", "prefect", "flows/quality.py", "flows.quality.quality_checks"),
    ]
    assert project.diagnostics == ()
    assert not any(p.dynamic for p in project.pipelines)


def test_fixture_graph_is_exact():
    pipeline = only_pipeline(scan_tree(FIXTURE), "daily-orders-etl")
    assert [(s.id, s.function, s.kind) for s in pipeline.steps] == [
        ("fetch_orders", "tasks.extract.fetch_orders", "task"),
        ("fetch_customers", "tasks.extract.fetch_customers", "task"),
        ("normalize-records", "tasks.transform.normalize", "task"),
        ("normalize-records_2", "tasks.transform.normalize", "task"),
        ("enrich", "tasks.transform.enrich", "task"),
        ("count_nulls", "flows.quality.count_nulls", "task"),
        ("count_duplicates", "flows.quality.count_duplicates", "task"),
        ("report_quality", "flows.quality.report_quality", "task"),
        ("summarize", "tasks.transform.summarize", "task"),
        ("write_orders", "tasks.load.write_table", "task"),
        ("write_table", "tasks.load.write_table", "task"),
    ]
    assert edges(pipeline) == sorted([
        ("fetch_orders", "normalize-records", "data", "result", "rows"),  # a submitted future
        ("fetch_customers", "normalize-records_2", "data", "result", "rows"),
        ("normalize-records", "enrich", "data", "result", "orders"),
        ("normalize-records_2", "enrich", "data", "result", "customers"),
        ("enrich", "count_nulls", "data", "result", "rows"),  # the subflow, inlined
        ("enrich", "count_duplicates", "data", "result", "rows"),
        ("count_nulls", "report_quality", "data", "result", "nulls"),
        ("count_duplicates", "report_quality", "data", "result", "duplicates"),
        ("enrich", "summarize", "data", "result", "rows"),  # unmapped(enriched)
        ("enrich", "write_orders", "data", "result", "rows"),
        ("report_quality", "write_orders", "order", None, None),  # wait_for=[subflow result]
        ("summarize", "write_table", "data", "result", "rows"),  # the mapped futures
    ])


def test_fixture_configuration():
    pipeline = only_pipeline(scan_tree(FIXTURE), "daily-orders-etl")
    # decorator keywords, and with_options(...) applied in deploy.py
    assert pipeline.config == {"log_prints": True, "retries": 1, "timeout_seconds": 3600}
    assert pipeline.config_lines["timeout_seconds"] == ("deploy.py", 4)
    assert pipeline.step("fetch_orders").config == {
        "retries": 3, "retry_delay_seconds": 30, "cache_policy": {"$ref": "prefect.cache_policies.INPUTS"}}
    assert pipeline.step("normalize-records").config == {"log_prints": True}
    assert pipeline.step("summarize").config == {"cache_policy": None}
    # with_options(name=..., retries=...) at the call: renames the invocation, adds config
    assert pipeline.step("write_orders").config == {"persist_result": True, "tags": ["warehouse"], "retries": 5}
    assert pipeline.step("write_table").config == {"persist_result": True, "tags": ["warehouse"]}
    assert pipeline.step("write_orders").inputs == {"rows": {"$step": "enrich", "output": "result"},
                                                    "table": "orders"}
    assert pipeline.step("summarize").inputs["region"] == ["eu", "us", "apac"]
    assert [p.name for p in pipeline.parameters] == ["run_date"]


def test_fixture_helpers_are_part_of_task_bodies():
    pipeline = only_pipeline(scan_tree(FIXTURE), "daily-orders-etl")
    assert [h.name for h in pipeline.step("fetch_orders").helpers] == [
        "utils.dates.RAW_BUCKET", "utils.dates.partition_path"]
    assert [h.name for h in pipeline.step("normalize-records").helpers] == [
        "utils.cleaning.REQUIRED_FIELDS", "utils.cleaning.drop_incomplete", "utils.cleaning.lower_keys"]


# ---------------------------------------------------------------------- name resolution
TASKS = """
    from prefect import task

    @task
    def load() -> int:
        return 1

    @task(name="fit-model", retries=2)
    def fit(x: int, lr: float = 0.1) -> int:
        return x
"""


def test_decorator_aliases_are_recognised(tree):
    project = tree({
        "a.py": """
            import prefect as p
            from prefect import flow as f, task as t

            @t
            def one() -> int:
                return 1

            @p.task()
            def two(x: int) -> int:
                return x

            @f(name="aliased")
            def aliased():
                two(one())
        """,
        "b.py": """
            from prefect.flows import flow
            from prefect.tasks import task as make_task

            @make_task
            def three() -> int:
                return 3

            @flow
            def qualified_flow():
                three()
        """,
    })
    aliased = only_pipeline(project, "aliased")
    assert [s.id for s in aliased.steps] == ["one", "two"]
    assert edges(aliased) == [("one", "two", "data", "result", "x")]
    assert [s.id for s in only_pipeline(project, "qualified-flow").steps] == ["three"]


def test_a_function_merely_named_task_is_not_a_task(tree):
    project = tree({
        "ops.py": """
            from invoke import task

            @task
            def clean(c):
                c.run("rm -rf build")
        """,
        "flow.py": """
            from prefect import flow

            from ops import clean

            def task(fn):
                return fn

            @task
            def local_step():
                return 1

            @flow
            def housekeeping():
                clean(None)
                local_step()
        """,
    })
    pipeline = only_pipeline(project, "housekeeping")
    assert pipeline.steps == ()
    # plain functions run by the flow itself cannot be versioned as tasks: conservative
    assert pipeline.dynamic
    assert any("flow.local_step" in m for m in dynamic_messages(project))


def test_tasks_and_flows_from_other_modules_and_packages(tree):
    pipeline = only_pipeline(tree({
        "steps/__init__.py": "from steps.core import fit, load\n",
        "steps/core.py": TASKS,
        "flows/main.py": """
            from prefect import flow
            import steps

            @flow
            def training():
                steps.fit(steps.load(), lr=0.5)
        """,
    }))
    assert [(s.id, s.name) for s in pipeline.steps] == [("load", "load"), ("fit-model", "fit-model")]
    assert pipeline.step("fit-model").inputs == {"x": {"$step": "load", "output": "result"}, "lr": 0.5}
    assert pipeline.step("fit-model").config == {"retries": 2}


# ---------------------------------------------------------------------- calls, futures, options
def test_repeated_calls_submit_map_and_wait_for(tree):
    pipeline = only_pipeline(tree({"steps.py": TASKS, "flow.py": """
        from prefect import flow, unmapped
        from prefect.futures import wait

        from steps import fit, load

        @flow
        def sweep(rates: list[float]):
            first = load.submit()
            second = load()
            models = fit.map(unmapped(first), rates)
            wait(models)
            final = fit(second, wait_for=[models, first])
            fit(final, lr=0.2)
    """}))
    assert [s.id for s in pipeline.steps] == ["load", "load_2", "fit-model", "fit-model_2", "fit-model_3"]
    assert edges(pipeline) == sorted([
        ("load", "fit-model", "data", "result", "x"),
        ("load_2", "fit-model_2", "data", "result", "x"),
        ("fit-model", "fit-model_2", "order", None, None),
        ("load", "fit-model_2", "order", None, None),
        ("fit-model_2", "fit-model_3", "data", "result", "x"),
    ])
    assert pipeline.step("fit-model").inputs["lr"] == {"$param": "rates"}


def test_future_result_keeps_the_data_edge(tree):
    pipeline = only_pipeline(tree({"steps.py": TASKS, "flow.py": """
        from prefect import flow
        from steps import fit, load

        @flow
        def f():
            future = load.submit()
            value = future.result()
            fit(value)
    """}))
    assert edges(pipeline) == [("load", "fit-model", "data", "result", "x")]


def test_with_options_names_and_configures_invocations(tree):
    pipeline = only_pipeline(tree({"steps.py": TASKS + """
    fast_load = load.with_options(name="fast-load", retries=5)
    """, "flow.py": """
        from prefect import flow
        from steps import fast_load, fit, load

        @flow
        def f():
            quick = fit.with_options(name="quick", timeout_seconds=60)
            a = fast_load()
            b = load.with_options(retries=1).submit()
            quick(a)
            quick(b)
    """}))
    assert [s.id for s in pipeline.steps] == ["fast-load", "load", "quick", "quick_2"]
    assert pipeline.step("fast-load").config == {"retries": 5}
    assert pipeline.step("load").config == {"retries": 1}
    assert pipeline.step("quick").config == {"retries": 2, "timeout_seconds": 60}
    assert edges(pipeline) == sorted([
        ("fast-load", "quick", "data", "result", "x"),
        ("load", "quick_2", "data", "result", "x"),
    ])


def test_async_flow_awaits_tasks(tree):
    pipeline = only_pipeline(tree({"steps.py": TASKS, "flow.py": """
        from prefect import flow
        from steps import fit, load

        @flow
        async def nightly():
            data = await load()
            await fit(data)
    """}))
    assert edges(pipeline) == [("load", "fit-model", "data", "result", "x")]


def test_subflow_parameters_bind_to_parent_values(tree):
    pipeline = only_pipeline(tree({"steps.py": TASKS, "flow.py": """
        from prefect import flow
        from steps import fit, load

        @flow
        def child(x, lr=0.3):
            return fit(x, lr=lr)

        @flow(name="parent")
        def parent():
            model = child(load())
            fit(model)
    """}), "parent")
    assert [s.id for s in pipeline.steps] == ["load", "fit-model", "fit-model_2"]
    assert pipeline.step("fit-model").inputs == {"x": {"$step": "load", "output": "result"}, "lr": 0.3}
    assert edges(pipeline) == sorted([
        ("load", "fit-model", "data", "result", "x"),
        ("fit-model", "fit-model_2", "data", "result", "x"),
    ])


def test_what_cannot_be_followed_is_reported(tree):
    project = tree({"steps.py": TASKS + """
    from prefect import task as make_task

    def _raw():
        return 2

    built = make_task(_raw)
    """, "flow.py": """
        from prefect import flow
        from steps import built, fit, load

        @flow
        def loops(items: list[int]):
            for item in load():  # over a task's result: how many runs depends on data
                fit(item)

        @flow
        def comprehension(items: list[int]):
            [load.submit() for _ in items]

        @flow
        def factory():
            built()
    """})
    for name in ("loops", "comprehension", "factory"):
        assert only_pipeline(project, name).dynamic, name
    messages = dynamic_messages(project)
    assert any("loop over values not known statically" in m for m in messages)
    assert any("comprehension that runs tasks" in m for m in messages)
    assert any("task made by calling task()" in m for m in messages)


# ---------------------------------------------------------------------- fingerprints
def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "prefect_etl"
    shutil.copytree(FIXTURE, target)
    return target




def _etl(root: Path):
    return only_pipeline(scan_tree(root), "daily-orders-etl")


def test_cosmetic_edits_keep_every_fingerprint(tmp_path):
    base = _etl(FIXTURE)
    root = _copy(tmp_path)
    edit_file(root, "tasks/transform.py", "    cleaned = [lower_keys(row) for row in rows]\n",
          "    # lower-case first\n    tidy = [lower_keys(r) for r in rows]\n")
    edit_file(root, "tasks/transform.py", 'print(f"normalized {len(cleaned)} rows")\n    return drop_incomplete(cleaned)',
          "print(f'normalized {len(tidy)} rows')\n    print('dropping incomplete', rows)\n"
          "    return drop_incomplete(\n        tidy,\n    )")
    edit_file(root, "flows/daily_etl.py",
          "    orders = fetch_orders.submit(run_date)\n    customers = fetch_customers.submit(run_date)\n",
          "    customers = fetch_customers.submit(run_date)\n"
          "    orders = fetch_orders.submit(\n        run_date\n    )\n")
    head = _etl(root)
    assert head.fingerprint == base.fingerprint
    assert head.graph_fingerprint == base.graph_fingerprint
    assert {s.id: s.config_fingerprint for s in head.steps} == {s.id: s.config_fingerprint for s in base.steps}


def test_body_edit_changes_only_that_tasks_fingerprint(tmp_path):
    base = _etl(FIXTURE)
    root = _copy(tmp_path)
    edit_file(root, "tasks/transform.py", '"revenue": sum(amounts)', '"revenue": round(sum(amounts), 2)')
    head = _etl(root)
    changed = {s.id for s in head.steps if s.fingerprint != base.step(s.id).fingerprint}
    assert changed == {"summarize"}
    assert head.fingerprint != base.fingerprint
    assert head.graph_fingerprint == base.graph_fingerprint


def test_helper_edit_changes_the_tasks_that_use_it(tmp_path):
    base = _etl(FIXTURE)
    root = _copy(tmp_path)
    edit_file(root, "utils/dates.py", 'RAW_BUCKET = "s3://acme-raw/exports"', 'RAW_BUCKET = "s3://acme-raw/v2"')
    head = _etl(root)
    changed = {s.id for s in head.steps if s.body_fingerprint != base.step(s.id).body_fingerprint}
    assert changed == {"fetch_orders", "fetch_customers"}


def test_config_edits_change_config_fingerprints_only(tmp_path):
    base = _etl(FIXTURE)
    root = _copy(tmp_path)
    edit_file(root, "tasks/extract.py", "@task(retries=3, retry_delay_seconds=30)\ndef fetch_customers",
          "@task(retries=5, retry_delay_seconds=60)\ndef fetch_customers")
    edit_file(root, "flows/daily_etl.py", 'with_options(name="write_orders", retries=5)',
          'with_options(name="write_orders", retries=2)')
    head = _etl(root)
    assert head.fingerprint == base.fingerprint
    changed = {s.id for s in head.steps if s.config_fingerprint != base.step(s.id).config_fingerprint}
    assert changed == {"fetch_customers", "write_orders"}
    assert head.step("fetch_customers").config["retries"] == 5


def test_removed_wait_for_changes_the_graph(tmp_path):
    base = _etl(FIXTURE)
    root = _copy(tmp_path)
    edit_file(root, "flows/daily_etl.py", '"orders", wait_for=[quality])', '"orders")')
    head = _etl(root)
    assert head.graph_fingerprint != base.graph_fingerprint
    assert ("report_quality", "write_orders", "order", None, None) not in edges(head)
    assert {s.id: s.fingerprint for s in head.steps} == {s.id: s.fingerprint for s in base.steps}


def test_a_helper_the_flow_runs_itself_counts_for_the_flow(tmp_path):
    import pvcheck
    from tests.conftest import write_tree

    flow = """
        from prefect import flow, task

        from paths import partition

        @task
        def load(path: str) -> int:
            return len(path)

        @flow
        def nightly(day: str):
            load(partition(day))
    """
    base = write_tree(tmp_path / "base", {"flow.py": flow, "paths.py": "def partition(day):\n    return day\n"})
    head = write_tree(tmp_path / "head", {"flow.py": flow, "paths.py": "def partition(day):\n    return 'x/' + day\n"})
    before, after = scan_tree(base).pipelines[0], scan_tree(head).pipelines[0]
    assert before.dynamic and before.fingerprint != after.fingerprint
    report = pvcheck.diff(base, head, cache=False)
    assert report.pipelines[0].decision.value == "version"
    # PV407 names the helper the flow body reaches: the change is located, not only "dynamic"
    assert {f.rule for f in report.pipelines[0].findings} == {"PV406", "PV407"}
    assert any("paths.partition" in f.message for f in report.pipelines[0].findings if f.rule == "PV407")


def test_materialize_makes_a_task(tree):
    pipeline = only_pipeline(tree({"flow.py": """
        from prefect import flow
        from prefect.assets import Asset, materialize

        RAW = Asset(key="s3://bucket/raw.json")

        @materialize(RAW, "s3://bucket/extra.json", by="spark", retries=2)
        def fetch() -> dict:
            return {}

        @materialize("s3://bucket/clean.json")
        def clean(raw: dict) -> dict:
            return raw

        @flow
        def assets():
            clean(fetch())
    """}))
    assert [s.id for s in pipeline.steps] == ["fetch", "clean"]
    assert edges(pipeline) == [("fetch", "clean", "data", "result", "raw")]
    assert pipeline.step("fetch").config == {
        "by": "spark", "retries": 2,
        "assets": [{"$call": "prefect.assets.Asset", "key": "s3://bucket/raw.json"}, "s3://bucket/extra.json"]}
