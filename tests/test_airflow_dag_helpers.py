"""Airflow DAG files as larger public repositories write them (issue 14): the project's
own ``create_dag(**kwargs)`` wrapping ``airflow.DAG``, tasks made by a
``create_python_task(dag, task_id, callable)`` helper of another module, task ids computed
from the rows of a module-level list (``'export_{}'.format(row['name'])``, ``'%s' % x``,
``+``), and DAGs built per source inside a function (reported, not guessed)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from pvcheck.analyzer import scan_tree
from pvcheck.model import Pipeline
from tests.conftest import FIXTURES, only_pipeline, scan_files

HELPERS = FIXTURES / "airflow_dag_helpers"


def graph(pipeline: Pipeline) -> tuple[list[str], set[tuple[str, str]]]:
    return [s.id for s in pipeline.steps], {(e.source, e.target) for e in pipeline.edges}


def test_fixture_dags_and_the_one_diagnostic():
    project = scan_tree(HELPERS)
    assert sorted(p.name for p in project.pipelines) == ["orders_import", "table_exports"]
    assert not any(p.dynamic for p in project.pipelines)
    # the DAGs built per source inside a function: reported where the helper is called
    assert [(d.code, d.path, d.line) for d in project.diagnostics] == [("PV010", "dags/per_source_sync.py", 10)]
    assert "through 'create_dag'" in project.diagnostics[0].message


def test_a_dag_declared_by_the_projects_own_helper():
    pipeline = only_pipeline(scan_tree(HELPERS), "orders_import")
    assert graph(pipeline) == (["fetch_orders", "load_orders"], {("fetch_orders", "load_orders")})
    assert pipeline.config["schedule"] == "@hourly"
    # keywords the task helper passes on through **kwargs are the task's configuration
    assert pipeline.step("load_orders").config == {"trigger_rule": "all_success", "retries": 5}
    assert pipeline.step("fetch_orders").config == {"trigger_rule": "all_success"}


def test_a_callable_handed_to_a_task_helper_is_the_tasks_reach_and_only_its_own():
    pipeline = only_pipeline(scan_tree(HELPERS), "orders_import")
    assert [h.name for h in pipeline.step("fetch_orders").helpers] == [
        "dags.orders_import.fetch_orders", "pipeline.etl.client.OrdersClient", "pipeline.etl.orders.download_orders"]
    # the module-level calls of the helpers build the DAG: they are no import-time effect
    # that would put every callable of the file in every task's reach
    assert [h.name for h in pipeline.step("load_orders").helpers] == [
        "dags.orders_import.ORDERS_TABLE", "dags.orders_import.load_orders", "pipeline.etl.orders.write_orders"]


def test_task_ids_computed_from_a_module_level_list():
    pipeline = only_pipeline(scan_tree(HELPERS), "table_exports")
    steps, edges = graph(pipeline)
    assert steps == ["start", "export_orders", "orders_check", "export_customers", "customers_check"]
    assert edges == {("start", "export_orders"), ("export_orders", "orders_check"),
                     ("start", "export_customers"), ("export_customers", "customers_check")}
    assert pipeline.step("export_orders").config["env"]["BUCKET"] == "exports-eu"
    # ``"check.sh " + name``: the same code with another table is another computation
    assert pipeline.step("orders_check").fingerprint != pipeline.step("customers_check").fingerprint


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(HELPERS, root)
    return root


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_changes_reach_the_right_tasks(tmp_path):
    root = _copy(tmp_path)
    before = {s.id: s.fingerprint for s in only_pipeline(scan_tree(root), "orders_import").steps}
    before_dag = only_pipeline(scan_tree(root), "orders_import").fingerprint
    # the ETL helper of one callable: that task only
    _edit(root / "pipeline/etl/client.py", '"status": "paid"', '"status": "open"')
    after = {s.id: s.fingerprint for s in only_pipeline(scan_tree(root), "orders_import").steps}
    assert after["fetch_orders"] != before["fetch_orders"]
    assert after["load_orders"] == before["load_orders"]
    # the project's create_dag: every DAG it declares
    _edit(root / "pipeline/utils/dag_factory.py", '"retries": 3', '"retries": 4')
    assert only_pipeline(scan_tree(root), "orders_import").fingerprint != before_dag


def test_near_misses(tmp_path):
    """A function that builds a DAG *and* its tasks is a DAG factory, not a DAG helper; a
    module-level call of a function that returns no DAG declares nothing; an id made from
    a value computed at run time stays reported."""
    project = scan_files(tmp_path, {
        "dags/__init__.py": "",
        "dags/factory.py": textwrap.dedent("""
            import os
            from airflow import DAG
            from airflow.operators.bash import BashOperator

            def build(dag_id):
                dag = DAG(dag_id)
                BashOperator(task_id="only", bash_command="echo", dag=dag)
                return dag

            def settings():
                return {"owner": "ops"}

            BUILT = build("built")
            SETTINGS = settings()

            with DAG("plain") as dag:
                for name in os.environ["TABLES"].split(","):
                    BashOperator(task_id="load_{}".format(name), bash_command="echo")
        """),
    })
    assert [p.name for p in project.pipelines] == ["plain"]
    messages = sorted(d.message for d in project.diagnostics)
    assert any("a DAG built inside a function (a DAG factory)" in m for m in messages)
    assert any("a loop over values not known statically" in m for m in messages)
    assert any("an operator task_id computed at run time" in m for m in messages)


def test_ids_through_format_percent_plus_and_dict_get(tmp_path):
    project = scan_files(tmp_path, {
        "dags/__init__.py": "",
        "dags/ids.py": textwrap.dedent("""
            from airflow import DAG
            from airflow.operators.empty import EmptyOperator

            PREFIX = "wh"
            ROWS = [{"id": "a", "kind": "fact"}, {"id": "b"}]

            with DAG("{}_ids".format(PREFIX)):
                for row in ROWS:
                    kind = row.get("kind", "dim")
                    EmptyOperator(task_id="%s_%s" % (row["id"], kind))
                    EmptyOperator(task_id=PREFIX + "_" + str(row["id"]).upper())
        """),
    })
    pipeline = only_pipeline(project, "wh_ids")
    assert [s.id for s in pipeline.steps] == ["a_fact", "wh_A", "b_dim", "wh_B"]
    assert not project.diagnostics


def test_dags_built_in_a_module_level_loop_are_reported(tmp_path):
    """``globals()[name] = create_dag(...)`` in a loop: Airflow finds those DAGs, pvcheck
    does not list them, so it says so (a declaration beside them is still read)."""
    project = scan_files(tmp_path, {
        "dags/__init__.py": "",
        "dags/helpers.py": "import airflow\n\n\ndef make_dag(**kwargs):\n    return airflow.DAG(**kwargs)\n",
        "dags/sources.py": textwrap.dedent("""
            from airflow import DAG
            from airflow.operators.bash import BashOperator
            from dags.helpers import make_dag

            for source in ["crm", "billing"]:
                globals()[source] = make_dag(dag_id=source)
            for source in ["ledger"]:
                globals()[source] = DAG(source)
            AUDIT = make_dag(dag_id="audit")
            BashOperator(task_id="scan", bash_command="audit.sh ", dag=AUDIT)
            if __name__ == "__main__":
                DAG("debug")
        """),
    })
    assert [(p.name, [s.id for s in p.steps]) for p in project.pipelines] == [("audit", ["scan"])]
    built = sorted(d.line for d in project.diagnostics if "a DAG built outside" in d.message)
    assert built == [6, 8]
