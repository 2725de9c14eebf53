"""Dagster code locations (issue 14): a job's selection is resolved within the location
that defines it, with the asset keys Dagster gives (loader key prefixes and groups)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from pvcheck.analyzer import scan_tree
from pvcheck.model import Pipeline
from tests.conftest import FIXTURES, only_pipeline, scan_files

LOCATIONS = FIXTURES / "dagster_locations"


def graph(pipeline: Pipeline) -> tuple[list[str], set[tuple[str, str, str]]]:
    return sorted(s.id for s in pipeline.steps), {(e.source, e.target, e.kind) for e in pipeline.edges}


def test_each_job_selects_only_its_own_location():
    project = scan_tree(LOCATIONS)
    assert not project.diagnostics
    sales = (["sales/clean_orders", "sales/customers", "sales/raw_orders", "sales/revenue_by_customer"],
             {("sales/raw_orders", "sales/clean_orders", "data"),
              ("sales/clean_orders", "sales/revenue_by_customer", "data"),
              ("sales/customers", "sales/revenue_by_customer", "order")})
    assert graph(only_pipeline(project, "sales_refresh")) == sales
    assert graph(only_pipeline(project, "sales.definitions")) == sales
    marketing = (["campaign_report", "campaigns"], {("campaigns", "campaign_report", "order")})
    assert graph(only_pipeline(project, "marketing_weekly")) == marketing  # @definitions factory, no selection
    assert graph(only_pipeline(project, "marketing.definitions")) == marketing
    platform = (["platform/events", "platform/sessions"], {("platform/events", "platform/sessions", "data")})
    assert graph(only_pipeline(project, "platform_ingest")) == platform  # dg defs folder, group selection
    assert graph(only_pipeline(project, "platform_proj.definitions")) == platform
    assert len(project.pipelines) == 6


def test_without_locations_a_job_still_selects_every_asset(tmp_path):
    """The near miss: no Definitions anywhere, so nothing scopes the job (Dagster's own
    rule for an unresolved job is the repository it ends up in; all of them is the safe side)."""
    project = scan_files(tmp_path, {
        "a/assets.py": "import dagster as dg\n\n@dg.asset\ndef one():\n    return 1\n",
        "b/assets.py": "import dagster as dg\n\n@dg.asset\ndef two():\n    return 2\n",
        "b/jobs.py": "import dagster as dg\n\nall_job = dg.define_asset_job('all_job', dg.AssetSelection.all())\n",
    })
    assert graph(only_pipeline(project, "all_job"))[0] == ["one", "two"]


def test_loader_prefix_and_group_positional_and_keyword(tmp_path):
    files = {
        "pkg/__init__.py": "",
        "pkg/raw.py": textwrap.dedent("""
            import dagster as dg

            @dg.asset
            def orders():
                return [1]

            @dg.asset(group_name="kept")
            def refunds(orders):
                return orders
        """),
        "pkg/defs.py": textwrap.dedent("""
            import dagster as dg
            from pkg import raw

            loaded = dg.load_assets_from_modules([raw], "{group}", {prefix})
            job = dg.define_asset_job("by_group", selection=dg.AssetSelection.groups("shop"))
            defs = dg.Definitions(assets=loaded, jobs=[job])
        """),
    }
    positional = dict(files)
    positional["pkg/defs.py"] = files["pkg/defs.py"].format(group="shop", prefix='["eu", "shop"]')
    project = scan_files(tmp_path / "positional", positional)
    assert graph(only_pipeline(project, "pkg.defs")) == (
        ["eu/shop/orders", "eu/shop/refunds"], {("eu/shop/orders", "eu/shop/refunds", "data")})
    assert graph(only_pipeline(project, "by_group"))[0] == ["eu/shop/orders"]  # "kept" keeps its group
    keyword = dict(files)
    keyword["pkg/defs.py"] = files["pkg/defs.py"].replace(
        'dg.load_assets_from_modules([raw], "{group}", {prefix})',
        'dg.load_assets_from_modules(modules=[raw], key_prefix="eu", group_name="shop")')
    project = scan_files(tmp_path / "keyword", keyword)
    assert graph(only_pipeline(project, "pkg.defs"))[0] == ["eu/orders", "eu/refunds"]


def test_run_time_prefix_is_a_diagnostic(tmp_path):
    project = scan_files(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/raw.py": "import dagster as dg\n\n@dg.asset\ndef orders():\n    return [1]\n",
        "pkg/defs.py": "import os\nimport dagster as dg\nfrom pkg import raw\n\n"
                       "defs = dg.Definitions(assets=dg.load_assets_from_modules([raw], key_prefix=os.environ['P']))\n",
    })
    assert any("key prefix computed at run time" in d.message for d in project.diagnostics)
    assert only_pipeline(project, "pkg.defs").dynamic


_DAGSTER_GRAPH = """
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
out = {}
for name in ("sales.definitions", "marketing.definitions", "platform_proj.definitions"):
    defs = importlib.import_module(name).defs
    defs = defs() if callable(defs) and not hasattr(defs, "resolve_asset_graph") else defs
    asset_graph = defs.resolve_asset_graph()
    out[name] = {k.to_user_string(): sorted(p.to_user_string() for p in asset_graph.get(k).parent_keys)
                 for k in asset_graph.get_all_asset_keys()}
    for job in defs.resolve_all_job_defs():
        if not job.name.startswith("__"):
            out[job.name] = sorted(k.to_user_string() for k in job.asset_layer.selected_asset_keys)
print(json.dumps(out))
"""


def test_same_assets_and_deps_as_dagster_itself():
    """Dagster builds the fixture's Definitions (in a subprocess: the test imports its own
    fixture, pvcheck never does); pvcheck's steps and edges must be the same."""
    pytest.importorskip("dagster")
    result = subprocess.run([sys.executable, "-c", _DAGSTER_GRAPH, str(LOCATIONS)], capture_output=True,
                            text=True, timeout=300, check=True)
    dagster = json.loads(result.stdout.strip().splitlines()[-1])
    project = scan_tree(LOCATIONS)
    for name in ("sales.definitions", "marketing.definitions", "platform_proj.definitions"):
        pipeline = only_pipeline(project, name)
        ours = {s.id: sorted(e.source for e in pipeline.edges if e.target == s.id) for s in pipeline.steps}
        assert ours == dagster[name]
    for job in ("sales_refresh", "marketing_weekly", "platform_ingest"):
        assert sorted(s.id for s in only_pipeline(project, job).steps) == dagster[job]


# ---------------------------------------------------------------------- patterns of public projects
def test_rebound_loader_wrappers_and_selection_constants(tmp_path):
    """``x = load_assets_from_modules([x])``, ``with_source_code_references(...)`` around the
    list, a selection kept in a constant and subtracted, a key given as a path list."""
    project = scan_files(tmp_path, {
        "shop/__init__.py": "",
        "shop/assets.py": textwrap.dedent("""
            import dagster as dg

            @dg.asset(key_prefix=["raw"])
            def orders():
                return [1]

            @dg.asset(ins={"orders": dg.AssetIn(key=["raw", "orders"])})
            def weekly(orders):
                return orders

            @dg.asset
            def adhoc():
                return 0
        """),
        "shop/jobs.py": textwrap.dedent("""
            import dagster as dg

            weekly_sel = dg.AssetSelection.assets("weekly")
            adhoc_sel = dg.AssetSelection.keys("adhoc")
            raw_sel = dg.AssetSelection.keys(["raw", "orders"])
            rest_job = dg.define_asset_job("rest", selection=dg.AssetSelection.all() - weekly_sel - adhoc_sel)
            raw_job = dg.define_asset_job("raw_only", selection=raw_sel)
            prefix_job = dg.define_asset_job("by_prefix", selection=dg.AssetSelection.key_prefixes("raw"))
        """),
        "shop/definitions.py": textwrap.dedent("""
            import dagster as dg
            from shop import assets as shop_assets
            from shop.jobs import prefix_job, raw_job, rest_job

            shop_assets = dg.load_assets_from_modules([shop_assets])

            defs = dg.Definitions(
                assets=dg.with_source_code_references([*shop_assets]),
                jobs=[rest_job, raw_job, prefix_job],
            )
        """),
    })
    assert not project.diagnostics
    assert graph(only_pipeline(project, "shop.definitions"))[0] == ["adhoc", "raw/orders", "weekly"]
    assert graph(only_pipeline(project, "rest"))[0] == ["raw/orders"]
    assert graph(only_pipeline(project, "raw_only"))[0] == ["raw/orders"]
    assert graph(only_pipeline(project, "by_prefix"))[0] == ["raw/orders"]


def test_an_unknown_wrapper_is_not_followed(tmp_path):
    """The near miss of the pass-through wrappers: a repo-external function around the
    asset list may return anything, so the location's assets are not known."""
    project = scan_files(tmp_path, {
        "shop/__init__.py": "",
        "shop/assets.py": "import dagster as dg\n\n@dg.asset\ndef a():\n    return 1\n",
        "shop/definitions.py": "import dagster as dg\nimport magic\nfrom shop.assets import a\n\n"
                               "defs = dg.Definitions(assets=magic.wrap([a]))\n",
    })
    assert only_pipeline(project, "shop.definitions").dynamic
    assert any("asset reference 'magic.wrap" in d.message for d in project.diagnostics)


def test_definitions_factory_from_dagster_components(tmp_path):
    """``from dagster.components import definitions`` (dg projects) is the same factory."""
    project = scan_files(tmp_path, {
        "shop/__init__.py": "",
        "shop/assets.py": "import dagster as dg\n\n@dg.asset\ndef a():\n    return 1\n",
        "shop/definitions.py": textwrap.dedent("""
            from dagster import Definitions
            from dagster.components import definitions
            from shop.assets import a

            @definitions
            def defs() -> Definitions:
                return Definitions(assets=[a])
        """),
    })
    assert graph(only_pipeline(project, "shop.definitions"))[0] == ["a"]


def test_a_definitions_list_takes_the_asset_it_names_not_another_with_its_key(tmp_path):
    """Two lessons define ``trips`` (same key, as a course's copies do); each lesson's
    ``Definitions(assets=[trips])`` lists its own. Going by the key took the copy found
    last in the tree for both (near-miss: a key named as a string is still a key)."""
    for lesson in ("lesson_1", "lesson_2"):
        (tmp_path / lesson / "assets").mkdir(parents=True)
        (tmp_path / lesson / "__init__.py").write_text("")
        (tmp_path / lesson / "assets" / "__init__.py").write_text("")
        (tmp_path / lesson / "assets" / "trips.py").write_text(textwrap.dedent(f"""\
            import dagster as dg


            @dg.asset
            def trips() -> int:
                return {1 if lesson == "lesson_1" else 2}
            """))
        (tmp_path / lesson / "definitions.py").write_text(textwrap.dedent(f"""\
            import dagster as dg

            from {lesson}.assets.trips import trips

            defs = dg.Definitions(assets=[trips])
            by_key = dg.define_asset_job("{lesson}_job", selection=["trips"])
            """))
    project = scan_tree(tmp_path)
    for lesson in ("lesson_1", "lesson_2"):
        steps = only_pipeline(project, f"{lesson}.definitions").steps
        assert [(s.id, s.path) for s in steps] == [("trips", f"{lesson}/assets/trips.py")]
        # the job's string key is resolved within its own location: its own copy too
        steps = only_pipeline(project, f"{lesson}_job").steps
        assert [(s.id, s.path) for s in steps] == [("trips", f"{lesson}/assets/trips.py")]
