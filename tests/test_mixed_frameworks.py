"""A tree that mixes frameworks scans in one run, each pipeline tagged with its framework."""

from __future__ import annotations

import dataclasses
import json

from pvcheck.analyzer import scan_tree
from pvcheck.cli import main
from pvcheck.config import Config
from tests.conftest import FIXTURES, write_tree

MIXED = {
    "shared/__init__.py": "",
    "shared/cleaning.py": """
        def drop_empty(rows):
            return [row for row in rows if row]
    """,
    "zenml_side/training.py": """
        from zenml import pipeline, step

        from shared.cleaning import drop_empty

        @step
        def load() -> list:
            return drop_empty([1, None, 2])

        @step
        def fit(rows: list) -> int:
            return len(rows)

        @pipeline(name="zenml_training")
        def training():
            fit(load())
    """,
    "airflow_side/dags.py": """
        from airflow.decorators import dag, task
        from airflow.operators.python import PythonOperator

        from shared.cleaning import drop_empty

        @task
        def extract():
            return drop_empty([1, None])

        @dag(dag_id="airflow_etl")
        def etl():
            rows = extract()
            PythonOperator(task_id="clean", python_callable=drop_empty, op_args=[rows])
    """,
    "dagster_side/assets.py": """
        from dagster import Definitions, asset, job, op

        from shared.cleaning import drop_empty

        @asset
        def raw_rows():
            return drop_empty([1, None])

        @asset
        def row_count(raw_rows):
            return len(raw_rows)

        @op
        def ping():
            return 1

        @job
        def dagster_ping():
            ping()

        defs = Definitions(assets=[raw_rows, row_count], jobs=[dagster_ping])
    """,
    "prefect_side/flows.py": """
        from prefect import flow, task

        from shared.cleaning import drop_empty

        @task
        def fetch():
            return drop_empty([1, None])

        @flow(name="prefect_etl")
        def etl_flow():
            fetch()
    """,
    "kfp_side/pipeline.py": """
        from kfp import dsl

        @dsl.component(base_image="python:3.12")
        def add(a: int, b: int) -> int:
            return a + b

        @dsl.pipeline(name="kfp-sum")
        def sum_pipeline(x: int = 1):
            add(a=x, b=2)
    """,
}

EXPECTED = {
    ("zenml", "zenml_training"),
    ("airflow", "airflow_etl"),
    ("dagster", "dagster_side.assets"),
    ("dagster", "dagster_ping"),
    ("prefect", "prefect_etl"),
    ("kfp", "kfp-sum"),
}


def test_mixed_tree_scans_in_one_run(tree):
    project = tree(MIXED)
    assert {(p.framework, p.name) for p in project.pipelines} == EXPECTED
    assert not project.diagnostics
    # every framework sees only its own steps
    kinds = {p.framework: {s.kind for s in p.steps} for p in project.pipelines if p.name != "dagster_ping"}
    assert kinds["zenml"] == {"step"}
    assert kinds["airflow"] == {"task", "operator"}
    assert kinds["dagster"] == {"asset"}
    # the shared helper is part of every step that uses it, whatever the framework
    for pipeline in project.pipelines:
        for step in pipeline.steps:
            if step.id in ("load", "extract", "clean", "raw_rows", "fetch"):
                assert "shared.cleaning.drop_empty" in [h.name for h in step.helpers], (pipeline.name, step.id)


def test_mixed_tree_json_tags_each_pipeline(tmp_path, capsys):
    root = write_tree(tmp_path / "mixed", MIXED)
    assert main(["scan", str(root), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["schema"] == "pvcheck.scan/1"
    assert {(p["framework"], p["name"]) for p in report["pipelines"]} == EXPECTED


def test_fixture_projects_scan_together_as_alone():
    """Fixture projects side by side (each its own source root) give what each gives alone."""
    roots = ("zenml_recsys", "airflow_reports", "dagster_assets")
    alone = set()
    for name in roots:
        alone |= {(p.framework, p.name, p.fingerprint) for p in scan_tree(FIXTURES / name).pipelines}
    together = scan_tree(FIXTURES, dataclasses.replace(Config(), roots=roots))
    assert {(p.framework, p.name, p.fingerprint) for p in together.pipelines} == alone
    assert {p.framework for p in together.pipelines} == {"zenml", "airflow", "dagster"}
    assert not together.diagnostics
