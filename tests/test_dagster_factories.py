"""Dagster assets that are not plain ``@asset`` functions (issue 14): factories called
with literals, ``@graph_asset``, ``@multi_asset``, pvcheck's own ``@versioned`` and
``with_code_version``; Components and integration-made assets are diagnostics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pvcheck.analyzer import scan_tree
from pvcheck.model import Pipeline
from tests.conftest import FIXTURES, only_pipeline, scan_files

FACTORIES = FIXTURES / "dagster_factories"


def graph(pipeline: Pipeline) -> tuple[list[str], set[tuple[str, str, str]]]:
    return sorted(s.id for s in pipeline.steps), {(e.source, e.target, e.kind) for e in pipeline.edges}


def test_fixture_graph():
    project = scan_tree(FACTORIES)
    steps, edges = graph(only_pipeline(project, "warehouse.definitions"))
    assert steps == ["stats", "wh/crm/customers_copy", "wh/order_report", "wh/raw/items_copy", "wh/raw/orders_copy",
                     "wh/report_size"]
    assert edges == {("wh/raw/orders_copy", "wh/order_report", "data"),
                     ("wh/order_report", "wh/report_size", "data"),
                     ("wh/crm/customers_copy", "stats", "order"), ("wh/raw/items_copy", "stats", "order")}
    assert graph(only_pipeline(project, "nightly"))[0] == ["wh/crm/customers_copy", "wh/raw/items_copy",
                                                           "wh/raw/orders_copy"]
    # each factory call is its own asset, its arguments part of what it computes
    copies = {s.id: s for s in only_pipeline(project, "nightly").steps}
    assert len({s.fingerprint for s in copies.values()}) == 3
    assert copies["wh/raw/orders_copy"].function == "warehouse.factories.table_asset[raw/orders_copy]"
    [component] = [d for d in project.diagnostics]
    assert component.code == "PV010" and "component 'ExportComponent'" in component.message
    assert component.path == "warehouse/components.py"


_DAGSTER_GRAPH = """
import json, sys
sys.path.insert(0, sys.argv[1])
from warehouse.definitions import defs
asset_graph = defs.resolve_asset_graph()
out = {k.to_user_string(): sorted(p.to_user_string() for p in asset_graph.get(k).parent_keys)
       for k in asset_graph.get_all_asset_keys()}
out["$nightly"] = sorted(k.to_user_string() for k in defs.resolve_job_def("nightly").asset_layer.selected_asset_keys)
print(json.dumps(out))
"""


def test_same_asset_keys_and_deps_as_dagster_itself():
    pytest.importorskip("dagster")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))  # for pvcheck.integrations
    result = subprocess.run([sys.executable, "-c", _DAGSTER_GRAPH, str(FACTORIES)], capture_output=True, text=True,
                            timeout=300, check=True, env=env)
    dagster = json.loads(result.stdout.strip().splitlines()[-1])
    pipeline = only_pipeline(scan_tree(FACTORIES), "warehouse.definitions")
    ours: dict[str, list[str]] = {}
    for step in pipeline.steps:  # a multi-asset is one step producing several keys
        upstream = sorted(e.source for e in pipeline.edges if e.target == step.id)
        for key in (["wh/crm_stats", "wh/item_stats"] if step.id == "stats" else [step.id]):
            ours[key] = upstream
    assert ours == {k: v for k, v in dagster.items() if not k.startswith("$")}
    assert sorted(s.id for s in only_pipeline(scan_tree(FACTORIES), "nightly").steps) == dagster["$nightly"]


def test_graph_asset_covers_its_ops(tmp_path):
    files = {
        "pkg/__init__.py": "",
        "pkg/ops.py": "import dagster as dg\n\n@dg.op\ndef clean(x):\n    return x.strip()\n",
        "pkg/assets.py": "import dagster as dg\nfrom pkg.ops import clean\n\n@dg.asset\ndef raw():\n    return ' a '\n\n"
                         "@dg.graph_asset\ndef tidy(raw):\n    return clean(raw)\n",
    }
    before = only_pipeline(scan_files(tmp_path / "a", files), "pkg.assets").step("tidy")
    reformatted = dict(files, **{"pkg/ops.py": files["pkg/ops.py"].replace("return x.strip()", "return (x.strip())")})
    changed = dict(files, **{"pkg/ops.py": files["pkg/ops.py"].replace("x.strip()", "x.lower()")})
    assert only_pipeline(scan_files(tmp_path / "b", reformatted), "pkg.assets").step("tidy").fingerprint \
        == before.fingerprint
    assert only_pipeline(scan_files(tmp_path / "c", changed), "pkg.assets").step("tidy").fingerprint \
        != before.fingerprint


def test_factory_with_a_run_time_argument_is_a_diagnostic(tmp_path):
    project = scan_files(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/factory.py": "import dagster as dg\n\ndef make(name):\n    @dg.asset(name=name)\n    def _a():\n"
                          "        return 1\n    return _a\n",
        "pkg/defs.py": "import os\nimport dagster as dg\nfrom pkg.factory import make\n\nx = make(os.environ['N'])\n"
                       "y = make('fixed')\n\ndefs = dg.Definitions(assets=[x, y])\n",
    })
    assert any("asset factory 'make' called with values computed at run time" in d.message
               for d in project.diagnostics)
    pipeline = only_pipeline(project, "pkg.defs")
    assert [s.id for s in pipeline.steps] == ["fixed"] and pipeline.dynamic


def test_assets_made_outside_the_tree_are_a_diagnostic(tmp_path):
    project = scan_files(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/assets.py": textwrap.dedent("""
            import dagster as dg
            from dagstermill import define_dagstermill_asset
            from dagster_dbt import dbt_assets

            notebook = define_dagstermill_asset(name="nb", notebook_path="nb.ipynb")

            @dbt_assets(manifest="manifest.json")
            def models(context):
                yield from context.run()

            @dg.asset
            def plain():
                return 1
        """),
        "pkg/defs.py": "import dagster as dg\nfrom pkg import assets\n\n"
                       "defs = dg.Definitions(assets=dg.load_assets_from_modules([assets]))\n",
    })
    messages = sorted(d.message for d in project.diagnostics)
    assert len(messages) == 2
    assert "'dbt_assets'" in messages[0] and "'define_dagstermill_asset'" in messages[1]
    pipeline = only_pipeline(project, "pkg.defs")
    assert [s.id for s in pipeline.steps] == ["plain"] and pipeline.dynamic


def test_plain_module_level_calls_are_not_taken_for_assets(tmp_path):
    """The near miss: ordinary third-party calls at module level are no assets."""
    project = scan_files(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/assets.py": "import dagster as dg\nimport pandas as pd\n\nFRAME = pd.DataFrame()\n"
                         "KEY = dg.AssetKey(['a'])\n\n@dg.asset\ndef plain():\n    return 1\n",
    })
    assert not project.diagnostics
