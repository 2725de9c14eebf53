"""Issue 12 §3 for Airflow and Dagster: a DAG's or job's own code -- everything in its
definition that is not a task, operator or op construction, their configuration, a
dependency or a known framework API -- is part of the pipeline's fingerprint (PV407),
and each call pvcheck does not follow there is a PV023 with its location."""

from __future__ import annotations

from pathlib import Path

from pvcheck.analyzer import scan_tree
from pvcheck.policies import compare
from tests.conftest import only_pipeline, write_tree

HELPERS = """
    def cutoff_days():
        return 7

    def partitions(n):
        return [f"p{i}" for i in range(n)]
"""


def _diff(tmp_path: Path, files: dict[str, str], name: str, old: str, new: str):
    assert old in files[name], old
    base = scan_tree(write_tree(tmp_path / "base", files))
    head = scan_tree(write_tree(tmp_path / "head", {**files, name: files[name].replace(old, new)}))
    return compare(base, head).pipelines[0]


def _pv023(project) -> list[tuple[str, int, str]]:
    return sorted((d.path, d.line, d.message.split(" in pipeline")[0]) for d in project.diagnostics
                  if d.code == "PV023")


def _rules(change) -> set[str]:
    return {f.rule for f in change.findings}


# ====================================================================== Airflow
TASKFLOW = {"helpers.py": HELPERS, "dags/daily.py": """
    from datetime import datetime

    from airflow.decorators import dag, task

    from helpers import cutoff_days

    @task(retries=2)
    def extract(days: int) -> list:
        return list(range(days))

    @task
    def count(rows: list) -> int:
        return len(rows)

    @dag(schedule="@daily", start_date=datetime(2024, 1, 1))
    def daily():
        days = cutoff_days() + 1  # computed while the DAG is parsed
        rows = extract(days)
        count(rows)
        limit = 3
        stamp = datetime.now().isoformat()
        print(limit, stamp)

    daily()
"""}


def test_taskflow_dag_calls_not_followed_are_reported_with_their_location(tmp_path: Path) -> None:
    project = scan_tree(write_tree(tmp_path, TASKFLOW))
    assert _pv023(project) == [
        ("dags/daily.py", 17, "call of 'helpers.cutoff_days' (a repo-local function)"),
        ("dags/daily.py", 21, "call of 'datetime.datetime.now.isoformat'"),
    ]
    pipeline = only_pipeline(project)
    assert [s.id for s in pipeline.steps] == ["extract", "count"]
    assert pipeline.code_fingerprint and not pipeline.dynamic
    assert "helpers.cutoff_days" in [h.name for h in pipeline.helpers]
    assert [c["line"] for c in pipeline.coverage["calls_not_followed"]] == [17, 21]


def test_a_change_of_the_dags_own_code_is_a_version(tmp_path: Path) -> None:
    change = _diff(tmp_path, TASKFLOW, "dags/daily.py", "cutoff_days() + 1", "cutoff_days() + 2")
    assert change.decision.value == "version"
    assert [(f.rule, f.line) for f in change.findings if f.rule == "PV407"] == [("PV407", 17)]


def test_a_helper_the_dag_body_calls_is_in_its_reach(tmp_path: Path) -> None:
    change = _diff(tmp_path, TASKFLOW, "helpers.py", "return 7", "return 8")
    assert change.decision.value == "version"
    assert any(f.rule == "PV407" and "helpers.cutoff_days" in f.message for f in change.findings)


def test_comments_and_formatting_of_the_dag_body_stay_run(tmp_path: Path) -> None:
    change = _diff(tmp_path, TASKFLOW, "dags/daily.py",
                   "        days = cutoff_days() + 1  # computed while the DAG is parsed\n",
                   "        # the window\n        days = (\n            cutoff_days()\n            + 1\n        )\n")
    assert change.decision.value == "run", [(f.rule, f.message) for f in change.findings]


def test_task_keywords_stay_configuration(tmp_path: Path) -> None:
    files = {**TASKFLOW, "dags/daily.py": TASKFLOW["dags/daily.py"].replace(
        "count(rows)\n", "count.override(retries=1)(rows)\n")}
    change = _diff(tmp_path, files, "dags/daily.py", "override(retries=1)", "override(retries=4)")
    assert change.decision.value == "run"
    assert "PV407" not in _rules(change) and "PV202" in _rules(change)  # a step's configuration


def test_a_task_input_literal_is_configuration_not_code(tmp_path: Path) -> None:
    files = {**TASKFLOW, "dags/daily.py": TASKFLOW["dags/daily.py"].replace("extract(days)", "extract(30)")}
    change = _diff(tmp_path, files, "dags/daily.py", "extract(30)", "extract(31)")
    assert "PV407" not in _rules(change)


CLASSIC = {"helpers.py": HELPERS, "plugins/__init__.py": "", "plugins/factory.py": """
    from airflow.operators.bash import BashOperator

    def export(table: str):
        return BashOperator(task_id=f"export_{table}", bash_command=f"export {table}")
""", "dags/warehouse.py": """
    from datetime import datetime

    from airflow import DAG
    from airflow.operators.bash import BashOperator

    from helpers import partitions
    from plugins.factory import export

    default_args = {"owner": "data", "retries": 2}

    with DAG("warehouse", start_date=datetime(2024, 1, 1), schedule="@daily", default_args=default_args):
        prefix = "wh_{}".format("daily")
        parts = partitions(4)
        load = BashOperator(task_id="load", bash_command="load --all", retries=3)
        done = BashOperator(task_id="done", bash_command="echo done")
        load >> export("orders") >> done
"""}


def test_with_dag_block_reports_unfollowed_calls_but_not_task_factories(tmp_path: Path) -> None:
    project = scan_tree(write_tree(tmp_path, CLASSIC))
    # a method of a literal (``"wh_{}".format(...)``) computes a value: no PV023
    assert _pv023(project) == [("dags/warehouse.py", 13, "call of 'helpers.partitions' (a repo-local function)")]
    pipeline = only_pipeline(project)
    assert [s.id for s in pipeline.steps] == ["load", "export_orders", "done"]
    assert "helpers.partitions" in [h.name for h in pipeline.helpers]


def test_with_dag_block_code_change_is_a_version(tmp_path: Path) -> None:
    change = _diff(tmp_path, CLASSIC, "dags/warehouse.py", "partitions(4)", "partitions(5)")
    assert change.decision.value == "version"
    assert ("PV407", 13) in [(f.rule, f.line) for f in change.findings]


def test_with_dag_block_operator_and_default_args_changes_stay_configuration(tmp_path: Path) -> None:
    for old, new in (("retries=3", "retries=4"), ('"retries": 2', '"retries": 5'),
                     ('schedule="@daily"', 'schedule="@hourly"')):
        change = _diff(tmp_path / old[:7].strip('"'), CLASSIC, "dags/warehouse.py", old, new)
        assert change.decision.value == "run", (old, [(f.rule, f.message) for f in change.findings])
        assert "PV407" not in _rules(change)


def test_with_dag_block_reformatted_and_commented_stays_run(tmp_path: Path) -> None:
    change = _diff(tmp_path, CLASSIC, "dags/warehouse.py", "        parts = partitions(4)\n",
                   "        # how the table is split\n        parts = partitions(\n            4,\n        )\n")
    assert change.decision.value == "run", [(f.rule, f.message) for f in change.findings]


def test_a_task_factory_body_is_code_of_the_dag_but_its_operator_keywords_are_not(tmp_path: Path) -> None:
    change = _diff(tmp_path, CLASSIC, "plugins/factory.py", 'bash_command=f"export {table}")',
                   'bash_command=f"export {table}", retries=4)')
    assert change.decision.value == "run" and "PV407" not in _rules(change)
    factory = CLASSIC["plugins/factory.py"].replace("    return BashOperator", "    print(table)\n    return BashOperator")
    change = _diff(tmp_path / "code", {**CLASSIC, "plugins/factory.py": factory}, "plugins/factory.py",
                   "print(table)", "table = table.strip()")
    assert change.decision.value == "version" and "PV407" in _rules(change)


ASSIGNED = {"helpers.py": HELPERS, "dags/exports.py": """
    from datetime import datetime

    from airflow import DAG
    from airflow.operators.bash import BashOperator

    from helpers import cutoff_days

    dag = DAG("exports", start_date=datetime(2024, 1, 1), schedule="@weekly")
    task_args = {"dag": dag, "retries": 3}
    window = cutoff_days()
    extract = BashOperator(task_id="extract", bash_command="dump", **task_args)
    publish = BashOperator(task_id="publish", bash_command="publish", **task_args)
    extract >> publish
"""}


def test_classic_module_level_dag_code_is_fingerprinted_and_its_configuration_is_not(tmp_path: Path) -> None:
    project = scan_tree(write_tree(tmp_path / "scan", ASSIGNED))
    assert _pv023(project) == [("dags/exports.py", 10, "call of 'helpers.cutoff_days' (a repo-local function)")]
    change = _diff(tmp_path / "a", ASSIGNED, "dags/exports.py", "window = cutoff_days()", "window = cutoff_days() * 2")
    assert change.decision.value == "version" and "PV407" in _rules(change)
    change = _diff(tmp_path / "b", ASSIGNED, "dags/exports.py", '"retries": 3', '"retries": 4')
    assert change.decision.value == "run" and "PV407" not in _rules(change)
    change = _diff(tmp_path / "c", ASSIGNED, "dags/exports.py", 'schedule="@weekly"', 'schedule="@daily"')
    assert change.decision.value == "run" and "PV407" not in _rules(change)


def test_a_task_id_renamed_stays_out_of_the_dags_code(tmp_path: Path) -> None:
    # the wiring names tasks by variable; which task is used is code, its id is not
    files = {**CLASSIC, "dags/warehouse.py": CLASSIC["dags/warehouse.py"].replace(
        "load >> export", "print(load)\n        load >> export")}
    base = only_pipeline(scan_tree(write_tree(tmp_path / "base", files)))
    head = only_pipeline(scan_tree(write_tree(tmp_path / "head", {
        **files, "dags/warehouse.py": files["dags/warehouse.py"].replace('task_id="done"', 'task_id="finished"')})))
    assert base.code_fingerprint == head.code_fingerprint


# ====================================================================== Dagster
OPS = {"helpers.py": HELPERS, "ops.py": """
    from dagster import op

    @op
    def fetch(context) -> list:
        return [1, 2, 3]

    @op
    def total(context, rows: list) -> int:
        return sum(rows)
""", "jobs.py": """
    from dagster import graph, job

    from helpers import partitions
    from ops import fetch, total

    @graph
    def rollup():
        names = partitions(2)
        total(fetch())

    @job(tags={"team": "data"})
    def nightly():
        window = partitions(3)
        total.alias("sum_all").tag({"kind": "sum"})(fetch())
        rollup()
"""}


def test_job_body_calls_not_followed_are_reported(tmp_path: Path) -> None:
    project = scan_tree(write_tree(tmp_path, OPS))
    assert _pv023(project) == [("jobs.py", 8, "call of 'helpers.partitions' (a repo-local function)"),
                               ("jobs.py", 13, "call of 'helpers.partitions' (a repo-local function)")]
    pipeline = only_pipeline(project)
    assert [s.id for s in pipeline.steps] == ["fetch", "sum_all", "rollup.fetch", "rollup.total"]
    assert {"helpers.partitions", "jobs.rollup"} <= {h.name for h in pipeline.helpers}


def test_job_body_and_nested_graph_code_changes_are_versions(tmp_path: Path) -> None:
    change = _diff(tmp_path / "a", OPS, "jobs.py", "partitions(3)", "partitions(4)")
    assert change.decision.value == "version" and ("PV407", 13) in [(f.rule, f.line) for f in change.findings]
    change = _diff(tmp_path / "b", OPS, "jobs.py", "partitions(2)", "partitions(1)")
    assert change.decision.value == "version" and any("jobs.rollup" in f.message for f in change.findings)


def test_job_op_options_and_tags_stay_configuration(tmp_path: Path) -> None:
    for old, new in (('{"kind": "sum"}', '{"kind": "total"}'), ('tags={"team": "data"}', 'tags={"team": "ml"}')):
        change = _diff(tmp_path / new[-5:-2], OPS, "jobs.py", old, new)
        assert change.decision.value == "run", (old, [(f.rule, f.message) for f in change.findings])
        assert "PV407" not in _rules(change)


def test_job_body_reformatted_stays_run(tmp_path: Path) -> None:
    change = _diff(tmp_path, OPS, "jobs.py", "        window = partitions(3)\n",
                   "        # the window\n        window = partitions(\n            3\n        )\n")
    assert change.decision.value == "run", [(f.rule, f.message) for f in change.findings]


ASSET_JOB = {"helpers.py": HELPERS + """
    def run_config():
        return {"ops": {"orders": {"config": {"limit": 10}}}}
""", "assets.py": """
    from dagster import asset

    @asset
    def orders() -> list:
        return [1, 2]
""", "defs.py": """
    from dagster import Definitions, define_asset_job

    from assets import orders
    from helpers import run_config

    refresh = define_asset_job("refresh", selection=[orders], config=run_config(), tags={"team": "data"})
    defs = Definitions(assets=[orders], jobs=[refresh])
"""}


def test_asset_job_call_site_code_is_fingerprinted(tmp_path: Path) -> None:
    project = scan_tree(write_tree(tmp_path / "scan", ASSET_JOB))
    assert _pv023(project) == [("defs.py", 6, "call of 'helpers.run_config' (a repo-local function)")]
    _diff(tmp_path / "a", ASSET_JOB, "helpers.py", '"limit": 10', '"limit": 20')  # writes base/ and head/
    refresh = next(c for c in compare(scan_tree(tmp_path / "a" / "base"), scan_tree(tmp_path / "a" / "head")).pipelines
                   if c.name == "refresh")
    assert refresh.decision.value == "version" and "PV407" in _rules(refresh)


def test_asset_job_tags_stay_configuration(tmp_path: Path) -> None:
    base = scan_tree(write_tree(tmp_path / "base", ASSET_JOB))
    head = scan_tree(write_tree(tmp_path / "head", {**ASSET_JOB, "defs.py": ASSET_JOB["defs.py"].replace(
        '"team": "data"', '"team": "ml"')}))
    refresh = next(c for c in compare(base, head).pipelines if c.name == "refresh")
    assert refresh.decision.value == "run" and "PV407" not in _rules(refresh)


DYNAMIC_JOB = {"assets.py": ASSET_JOB["assets.py"], "jobs.py": """
    import dagster as dg

    # a selection query pvcheck does not follow: the job is dynamic
    predict = dg.define_asset_job("predict", selection=dg.AssetSelection.from_string("key:orders+"),
                                  tags={"team": "ml"})
"""}


def test_a_dynamic_asset_job_reformatted_stays_run_and_its_selection_changed_is_a_version(tmp_path: Path) -> None:
    project = scan_tree(write_tree(tmp_path / "scan", DYNAMIC_JOB))
    assert only_pipeline(project, "predict").dynamic
    reformatted = """
    import dagster as dg

    predict = dg.define_asset_job(
        "predict",
        selection=dg.AssetSelection.from_string(
            'key:orders+'
        ),
        tags={"team": "ml"},
    )
"""
    for where, old, new, decision in (("a", DYNAMIC_JOB["jobs.py"], reformatted, "run"),
                                      ("b", "key:orders+", "key:orders", "version")):
        base = scan_tree(write_tree(tmp_path / where / "base", DYNAMIC_JOB))
        head = scan_tree(write_tree(tmp_path / where / "head", {**DYNAMIC_JOB,
                                                                "jobs.py": DYNAMIC_JOB["jobs.py"].replace(old, new)}))
        change = next(c for c in compare(base, head).pipelines if c.name == "predict")
        assert change.decision.value == decision, [(f.rule, f.message) for f in change.findings]
