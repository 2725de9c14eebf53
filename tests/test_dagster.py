"""Dagster: op graphs and jobs, aliases, assets and how they are grouped into pipelines."""

from __future__ import annotations

from pvcheck.analyzer import scan_tree
from pvcheck.model import Pipeline, Project
from tests.conftest import FIXTURES, only_pipeline


def edges(pipeline: Pipeline) -> set[tuple]:
    return {(e.source, e.target, e.kind, e.output, e.input) for e in pipeline.edges}


def ids(pipeline: Pipeline) -> list[str]:
    return [s.id for s in pipeline.steps]


def dagster(project: Project) -> list[Pipeline]:
    return [p for p in project.pipelines if p.framework == "dagster"]


# ---------------------------------------------------------------------- the fixture project
def test_fixture_pipelines():
    project = scan_tree(FIXTURES / "dagster_assets")
    assert sorted(p.name for p in project.pipelines) == [
        "analytics.definitions", "nightly_maintenance", "revenue_job", "weekly_maintenance"]
    assert {p.framework for p in project.pipelines} == {"dagster"}
    assert not project.diagnostics
    assert not any(p.dynamic for p in project.pipelines)


def test_fixture_job_with_graph_and_alias():
    pipeline = only_pipeline(scan_tree(FIXTURES / "dagster_assets"), "nightly_maintenance")
    assert ids(pipeline) == ["list_tables", "vacuum_all.split_by_size", "vacuum_all.vacuum_large",
                             "vacuum_all.vacuum", "vacuum_all.report"]
    assert {s.kind for s in pipeline.steps} == {"op"}
    assert edges(pipeline) == {
        ("list_tables", "vacuum_all.split_by_size", "data", "result", "tables"),
        ("vacuum_all.split_by_size", "vacuum_all.vacuum_large", "data", "large", "tables"),
        ("vacuum_all.split_by_size", "vacuum_all.vacuum", "data", "small", "tables"),
        ("vacuum_all.vacuum_large", "vacuum_all.report", "data", "result", "first"),
        ("vacuum_all.vacuum", "vacuum_all.report", "data", "result", "second"),
    }
    assert pipeline.config == {"tags": {"schedule": "nightly"}}
    assert pipeline.step("vacuum_all.vacuum").config == {"tags": {"kind": "sql"}}
    # a resource parameter is no input
    assert pipeline.step("list_tables").inputs == {}


def test_fixture_graph_to_job():
    pipeline = only_pipeline(scan_tree(FIXTURES / "dagster_assets"), "weekly_maintenance")
    assert ids(pipeline) == ["split_by_size", "vacuum_large", "vacuum", "report"]
    assert pipeline.config == {"description": "the same graph, weekly"}
    assert pipeline.step("split_by_size").inputs == {"tables": {"$param": "tables"}}


def test_fixture_assets_grouped_by_definitions_and_asset_job():
    project = scan_tree(FIXTURES / "dagster_assets")
    everything = only_pipeline(project, "analytics.definitions")
    assert ids(everything) == ["raw/orders", "raw/customers", "daily_revenue", "customer_segments",
                               "revenue_dashboard"]
    assert {s.kind for s in everything.steps} == {"asset"}
    assert edges(everything) == {
        ("raw/orders", "daily_revenue", "data", "result", "orders"),
        ("raw/customers", "daily_revenue", "order", None, None),
        ("raw/orders", "customer_segments", "data", "result", "orders"),
        ("daily_revenue", "revenue_dashboard", "data", "result", "daily_revenue"),
        ("customer_segments", "revenue_dashboard", "data", "customer_totals", "customer_totals"),
    }
    segments = everything.step("customer_segments")
    assert [o.name for o in segments.outputs] == ["customer_totals", "customer_tiers"]
    orders = everything.step("raw/orders")
    # the resource Definitions binds to the key the asset asks for is its configuration
    assert orders.config == {"group_name": "ingest", "code_version": "2", "resources": {"warehouse": {
        "$call": "analytics.resources.WarehouseResource", "dsn": "postgresql://warehouse/analytics"}}}
    assert orders.inputs == {}  # context and the warehouse resource are not upstream assets
    assert {h.name for h in everything.step("daily_revenue").helpers} == {
        "analytics.utils.money.net_amount", "analytics.utils.money.VAT_RATE"}

    job = only_pipeline(project, "revenue_job")
    # AssetSelection.assets(daily_revenue).upstream(): the asset and everything it depends on
    assert ids(job) == ["raw/orders", "raw/customers", "daily_revenue"]
    assert job.config == {"tags": {"owner": "finance"}}


# ---------------------------------------------------------------------- recognition
def test_aliases_and_internal_import_paths(tree):
    project = tree({"pipes.py": """
        import dagster as dg
        from dagster import op as dagster_op
        from dagster._core.definitions.decorators.job_decorator import job

        @dagster_op(name="load_rows")
        def load():
            return 1

        @dg.op
        def save(rows):
            return rows

        @job(name="etl")
        def etl_job():
            save(load())
    """})
    pipeline = only_pipeline(project, "etl")
    assert ids(pipeline) == ["load_rows", "save"]
    assert edges(pipeline) == {("load_rows", "save", "data", "result", "rows")}
    assert pipeline.step("load_rows").function == "pipes.load"


def test_near_misses_are_not_dagster(tree):
    project = tree({
        "mylib.py": """
            def op(fn):
                return fn

            def job(fn):
                return fn

            def asset(fn):
                return fn
        """,
        "pipes.py": """
            import dagster
            from mylib import asset, job, op

            @op
            def one():
                return 1

            @asset
            def table():
                return 1

            @job
            def not_a_job():
                one()
        """,
    })
    assert dagster(project) == []


def test_repeated_ops_aliases_and_nested_graphs(tree):
    pipeline = only_pipeline(tree({"pipes.py": """
        from dagster import graph, job, op

        @op
        def add(context, x=0):
            return x + 1

        @graph
        def twice(x):
            return add(add(x))

        @job
        def counting():
            first = add()
            second = add(first)
            third = add.alias("third")(second)
            add(third)
            twice(third)
            twice.alias("again")(third)
    """}))
    # observe_invocation: name, name_2, name_3 ...; an alias does not count as a repeat
    assert ids(pipeline) == ["add", "add_2", "third", "add_3", "twice.add", "twice.add_2", "again.add",
                             "again.add_2"]
    assert ("third", "twice.add", "data", "result", "x") in edges(pipeline)
    assert ("twice.add", "twice.add_2", "data", "result", "x") in edges(pipeline)


def test_asset_inputs_keys_and_deps(tree):
    project = tree({"assets.py": """
        from dagster import AssetIn, AssetKey, AssetSpec, asset, multi_asset, AssetOut

        @asset(key=["lake", "events"])
        def events():
            return []

        @asset(name="sessions", key_prefix="lake")
        def build_sessions(events: list):  # the parameter names key ['events'], not ['lake', 'events']
            return []

        @asset(ins={"events": AssetIn(key_prefix=["lake"])})  # key_prefix + the input name
        def evts_count(events):
            return len(events)

        @asset(ins={"raw": AssetIn(["lake", "sessions"])}, deps=[AssetKey(["lake", "events"]), "external_table"])
        def sessions_count(raw):
            return len(raw)

        @multi_asset(specs=[AssetSpec(["lake", "a"]), AssetSpec("b", deps=[events])])
        def both():
            pass
    """})
    pipeline = only_pipeline(project, "assets")
    assert ids(pipeline) == ["lake/events", "lake/sessions", "evts_count", "sessions_count", "both"]
    assert edges(pipeline) == {
        ("lake/events", "evts_count", "data", "result", "events"),
        ("lake/sessions", "sessions_count", "data", "result", "raw"),
        ("lake/events", "sessions_count", "order", None, None),
        ("lake/events", "both", "order", None, None),
    }
    assert pipeline.step("lake/sessions").inputs == {"events": {"$asset": "events"}}
    # upstream assets of the pipeline are edges; the others are recorded as what the asset reads
    assert pipeline.step("sessions_count").inputs == {"raw": {"$step": "lake/sessions", "output": "result"},
                                                      "$deps": ["external_table"]}
    assert [o.name for o in pipeline.step("both").outputs] == ["lake__a", "b"]


def test_assets_without_definitions_form_one_pipeline_per_module(tree):
    project = tree({
        "shop/__init__.py": "",
        "shop/raw.py": """
            from dagster import asset

            @asset
            def orders():
                return []
        """,
        "shop/marts.py": """
            from dagster import asset, define_asset_job

            @asset
            def revenue(orders):
                return 0

            @asset
            def margin(revenue):
                return 0

            only_margin = define_asset_job(name="margin_job", selection=["margin"])
            by_group = define_asset_job("default_group", selection="orders")
        """,
    })
    # revenue is in no asset job and no Definitions: it forms its module's pipeline
    assert sorted(p.name for p in dagster(project)) == ["default_group", "margin_job", "shop.marts"]
    assert ids(only_pipeline(project, "margin_job")) == ["margin"]
    assert ids(only_pipeline(project, "default_group")) == ["orders"]
    assert ids(only_pipeline(project, "shop.marts")) == ["revenue"]


def test_unlisted_assets_and_selection_queries(tree):
    project = tree({"shop.py": """
        from dagster import AssetSelection, Definitions, asset, define_asset_job

        @asset
        def a():
            return 1

        @asset(group_name="g")
        def b(a):
            return a

        @asset
        def c(b):
            return b

        job = define_asset_job("g_job", selection=AssetSelection.groups("g").downstream() - AssetSelection.keys("c"))
        query = define_asset_job("query_job", selection="key:a+")
        defs = Definitions(assets=[a, b])
    """})
    assert ids(only_pipeline(project, "g_job")) == ["b"]
    assert ids(only_pipeline(project, "shop")) == ["a", "b"]
    assert ids(only_pipeline(project, "shop:unlisted")) == ["c"]
    query = only_pipeline(project, "query_job")
    assert query.dynamic
    assert any("selection query" in d.message for d in project.diagnostics)


# ---------------------------------------------------------------------- fingerprints
OPS = """
    from dagster import job, op
    from helpers import clean

    @op(tags={"team": "data"}, code_version="1")
    def load(context):
        rows = [1, 2, 3]
        return clean(rows)

    @op
    def total(rows):
        return sum(rows)

    @job
    def sums():
        total(load())
"""
HELPERS = """
    def clean(rows):
        return [r for r in rows if r]
"""


def scan_ops(tree, ops=OPS, helpers=HELPERS) -> Pipeline:
    return only_pipeline(tree({"pipes.py": ops, "helpers.py": helpers}))


def test_op_fingerprints(tree):
    base = scan_ops(tree)
    cosmetic = scan_ops(tree, OPS.replace("rows = [1, 2, 3]\n        return clean(rows)",
                                          "# sample\n        values = [1,2,3]\n        return clean( values )"))
    code_version = scan_ops(tree, OPS.replace('code_version="1"', 'code_version="2"'))
    body = scan_ops(tree, OPS.replace("[1, 2, 3]", "[1, 2, 3, 4]"))
    helper = scan_ops(tree, helpers=HELPERS.replace("if r", "if r > 0"))
    assert cosmetic.fingerprint == base.fingerprint
    assert code_version.fingerprint == base.fingerprint
    assert code_version.step("load").config_fingerprint != base.step("load").config_fingerprint
    assert body.step("load").body_fingerprint != base.step("load").body_fingerprint
    assert helper.step("load").body_fingerprint != base.step("load").body_fingerprint
    assert base.step("load").config == {"tags": {"team": "data"}, "code_version": "1"}


def test_asset_edge_removed_changes_graph(tree):
    source = """
        from dagster import asset

        @asset
        def a():
            return 1

        @asset(deps=[a])
        def b():
            return 2
    """
    base = only_pipeline(tree({"m.py": source}))
    without = only_pipeline(tree({"m.py": source.replace("(deps=[a])", "")}))
    assert edges(base) == {("a", "b", "order", None, None)} and edges(without) == set()
    assert without.graph_fingerprint != base.graph_fingerprint


def test_definitions_through_constants_and_dynamic_outputs(tree):
    project = tree({
        "assets.py": """
            from dagster import asset

            @asset
            def first():
                return 1

            @asset
            def second(first):
                return first

            ALL_ASSETS = [first, second]
        """,
        "jobs.py": """
            from dagster import DynamicOut, DynamicOutput, job, op

            @op(out=DynamicOut())
            def fan():
                yield DynamicOutput(1, mapping_key="a")

            @op
            def square(x):
                return x * x

            @job
            def fan_job():
                fan().map(square)
        """,
        "definitions.py": """
            from dagster import Definitions
            from assets import ALL_ASSETS

            defs = Definitions(assets=[*ALL_ASSETS])
        """,
    })
    definitions = only_pipeline(project, "definitions")
    assert ids(definitions) == ["first", "second"] and not definitions.dynamic
    assert only_pipeline(project, "fan_job").dynamic
    assert any("dynamic outputs" in d.message for d in project.diagnostics)
