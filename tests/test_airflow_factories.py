"""Airflow tasks made the way public projects make them (issue 14): task and TaskGroup
factories called inside a DAG, loops over module constants, ``dag=`` through
``**default_task_args``, DAGs under a module-level ``if``, mapped operators."""

from __future__ import annotations

import textwrap

from pvcheck.analyzer import scan_tree
from pvcheck.model import Pipeline
from tests.conftest import FIXTURES, only_pipeline, scan_files

FACTORIES = FIXTURES / "airflow_factories"


def graph(pipeline: Pipeline) -> tuple[list[str], set[tuple[str, str]]]:
    return [s.id for s in pipeline.steps], {(e.source, e.target) for e in pipeline.edges}


def test_fixture_has_no_diagnostics_and_three_dags():
    project = scan_tree(FACTORIES)
    assert not project.diagnostics
    assert sorted(p.name for p in project.pipelines) == ["exports", "notifications", "warehouse_load"]
    assert not any(p.dynamic for p in project.pipelines)


def test_factories_in_a_loop_over_a_module_constant():
    pipeline = only_pipeline(scan_tree(FACTORIES), "warehouse_load")
    steps, edges = graph(pipeline)
    assert sorted(steps) == sorted(["start", "done", "backfill", "load_orders", "load_customers",
                                    "check_orders.nulls", "check_orders.dupes",
                                    "check_customers.nulls", "check_customers.dupes"])
    assert edges == {
        ("start", "load_orders"), ("load_orders", "check_orders.nulls"),
        ("check_orders.nulls", "check_orders.dupes"), ("check_orders.dupes", "done"),
        ("start", "load_customers"), ("load_customers", "check_customers.nulls"),
        ("check_customers.nulls", "check_customers.dupes"), ("check_customers.dupes", "done"),
        ("start", "backfill"), ("backfill", "done"),
    }
    assert pipeline.step("backfill").config["$mapped"] is True
    assert pipeline.step("load_orders").config["conn_id"] == "warehouse"
    # the same factory, another table: another computation
    assert pipeline.step("load_orders").fingerprint != pipeline.step("load_customers").fingerprint
    assert pipeline.config["default_args"]["retries"] == 2


def test_dag_through_default_task_args_and_a_helper_argument():
    pipeline = only_pipeline(scan_tree(FACTORIES), "exports")
    assert graph(pipeline) == (["extract", "load_exports", "publish"],
                               {("extract", "load_exports"), ("load_exports", "publish")})
    assert pipeline.step("extract").config == {"retries": 3, "owner": "exports"}


def test_dag_under_an_optional_import_guard():
    pipeline = only_pipeline(scan_tree(FACTORIES), "notifications")
    assert graph(pipeline) == (["digest", "announce"], {("digest", "announce")})


def test_near_misses(tmp_path):
    """A helper that makes no task is not inlined; a ``**`` dict naming another DAG keeps
    the task out; a DAG under ``if __name__ == "__main__"`` is still not one."""
    project = scan_files(tmp_path, {
        "dags/__init__.py": "",
        "dags/helpers.py": "def label(x):\n    return f'load_{x}'\n",
        "dags/one.py": textwrap.dedent("""
            from datetime import datetime
            from airflow import DAG
            from airflow.operators.bash import BashOperator
            from dags.helpers import label

            first = DAG("first", start_date=datetime(2024, 1, 1))
            second = DAG("second", start_date=datetime(2024, 1, 1))
            to_second = {"dag": second}
            a = BashOperator(task_id=label("a"), bash_command="echo a", dag=first)
            b = BashOperator(task_id="b", bash_command="echo b", **to_second)

            if __name__ == "__main__":
                with DAG("debug", start_date=datetime(2024, 1, 1)):
                    BashOperator(task_id="c", bash_command="echo c")
        """),
    })
    assert sorted(p.name for p in project.pipelines) == ["first", "second"]
    first = only_pipeline(project, "first")
    assert [s.id for s in first.steps] == ["label(\"a\")"] and first.dynamic  # a run-time id stays a diagnostic
    assert [s.id for s in only_pipeline(project, "second").steps] == ["b"]


def test_unknown_spread_is_a_diagnostic(tmp_path):
    project = scan_files(tmp_path, {
        "dags/__init__.py": "",
        "dags/one.py": textwrap.dedent("""
            from datetime import datetime
            from airflow import DAG
            from airflow.operators.bash import BashOperator
            from company.settings import task_args

            with DAG("one", start_date=datetime(2024, 1, 1)):
                BashOperator(task_id="a", bash_command="echo a", **task_args())
        """),
    })
    assert only_pipeline(project, "one").dynamic
    assert any("'**' arguments to an operator" in d.message for d in project.diagnostics)
