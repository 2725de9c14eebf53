"""Issue 12 §3, "nothing dropped silently": a pipeline body's own code, the calls it
does not follow (PV023), step-less pipelines (PV024), step calls wherever they are,
third-party steps as nodes, and the ``coverage`` member of ``scan``."""

from __future__ import annotations

import json
import subprocess
import sys

from pvcheck.analyzer import scan_tree
from pvcheck.config import Config
from pvcheck.policies import compare
from pvcheck.policies.matching import content_score
from tests.conftest import only_pipeline, write_tree

STEPS = """
    from zenml import step

    @step
    def load(days: int) -> list:
        return list(range(days))

    @step
    def train(rows: list, rate: float = 0.1) -> float:
        return sum(rows) * rate
"""

TASKS = """
    from prefect import task

    @task
    def extract(day: str) -> list:
        return [day]

    @task
    def count(rows: list) -> int:
        return len(rows)
"""


def codes(project, code):
    return [(d.path, d.line, d.message) for d in project.diagnostics if d.code == code]


# ------------------------------------------------------------------ calls not followed (PV023)
def test_calls_that_are_not_followed_are_reported_with_their_location(tree):
    project = tree({"steps.py": STEPS, "helpers.py": "def window(d):\n    return d // 2\n", "p.py": """
        import datetime
        import logging

        from zenml import pipeline
        from zenml.client import Client

        from helpers import window
        from steps import load, train

        @pipeline
        def training(days: int = 30):
            rows = load(days)
            names = ["a", "b"]
            names.append("c")
            logging.info("rows %s", len(names))
            print(str(days))
            model = Client().get_model("churn")
            rate = window(days) + datetime.date.today().day
            train(rows, rate=rate)
            rows.sort()
    """})
    found = [(line, message.split(" in pipeline")[0]) for _, line, message in codes(project, "PV023")]
    assert sorted(found) == [
        (18, "call of 'datetime.date.today'"),
        (18, "call of 'helpers.window' (a repo-local function)"),
    ]
    pipeline = only_pipeline(project)
    assert [s.id for s in pipeline.steps] == ["load", "train"]
    assert not pipeline.dynamic  # configuration changes stay `run`; code changes are PV407
    assert pipeline.coverage["steps_found"] == 2 and pipeline.coverage["files_read"] == []
    assert sorted(c["call"] for c in pipeline.coverage["calls_not_followed"]) == [
        "'datetime.date.today'", "'helpers.window' (a repo-local function)"]
    assert {(c["path"], c["line"]) for c in pipeline.coverage["calls_not_followed"]} == {("p.py", 18)}


def test_a_method_of_an_object_pvcheck_does_not_model_is_reported(tree):
    project = tree({"steps.py": STEPS, "p.py": """
        import pandas as pd
        from zenml import pipeline
        from steps import load, train

        @pipeline
        def training():
            frame = pd.DataFrame({"a": [1]})
            rows = load(frame.shape[0])
            train(rows)
    """})
    assert [m.split(" in pipeline")[0] for _, _, m in codes(project, "PV023")] == ["call of 'pandas.DataFrame'"]


# ------------------------------------------------------------------ the pipeline's own code
def _diff(tmp_path, before, after, files=None):
    base = write_tree(tmp_path / "base", {**(files or {}), "p.py": before})
    head = write_tree(tmp_path / "head", {**(files or {}), "p.py": after})
    return compare(scan_tree(base), scan_tree(head)).pipelines[0]


PIPE = """
    from zenml import pipeline
    from steps import load, train

    @pipeline
    def training(days: int = 30):
        rows = load(days)
        scale = 2
        factor = days * scale
        rate = 0.1
        train(rows, rate=rate)
"""


def test_computation_in_the_body_is_part_of_the_fingerprint(tmp_path):
    change = _diff(tmp_path, PIPE, PIPE.replace("days * scale", "days * scale + 1"), {"steps.py": STEPS})
    assert change.decision.value == "version"
    assert [(f.rule, f.line) for f in change.findings] == [("PV407", 8)]


def test_a_literal_used_only_as_a_step_input_is_configuration(tmp_path):
    change = _diff(tmp_path, PIPE, PIPE.replace("rate = 0.1", "rate = 0.2"), {"steps.py": STEPS})
    assert change.decision.value == "run"
    assert {f.rule for f in change.findings} == {"PV204"}


def test_a_literal_also_used_in_computation_is_code(tmp_path):
    # `scale` feeds `factor`, which no input records: its value is part of the code
    change = _diff(tmp_path, PIPE, PIPE.replace("scale = 2", "scale = 3"), {"steps.py": STEPS})
    assert change.decision.value == "version"
    assert "PV407" in {f.rule for f in change.findings}


def test_inputs_added_removed_or_rewritten_leave_the_code_alone(tmp_path):
    after = PIPE.replace("train(rows, rate=rate)", "train(rows=rows, rate=0.3)")
    change = _diff(tmp_path, PIPE, after, {"steps.py": STEPS})
    assert "PV407" not in {f.rule for f in change.findings}


# ------------------------------------------------------------------ step calls wherever they are
def test_tasks_are_found_in_fstrings_prints_handlers_and_other_statements(tree):
    project = tree({"tasks.py": TASKS, "f.py": """
        from prefect import flow
        from tasks import count, extract

        @flow
        def nightly(day: str):
            rows = extract(day)
            print(f"{count(rows)!r} rows, {count(rows):>5}")
            assert count(rows) > 0
            try:
                pass
            except ValueError:
                count(rows)
            finally:
                extract("cleanup")
            if count(rows):
                pass
            return str(count(rows))
    """})
    flow = only_pipeline(project)
    assert [s.id for s in flow.steps] == ["extract", "count", "count_2", "count_3", "count_4", "extract_2",
                                          "count_5", "count_6"]
    assert all(s.function.startswith("tasks.") for s in flow.steps)


def test_a_print_that_calls_a_task_is_never_cosmetic(tmp_path):
    before = """
        from prefect import flow
        from tasks import count, extract

        @flow
        def nightly(day: str):
            rows = extract(day)
            print(f"rows: {count(rows)!r}")
    """
    change = _diff(tmp_path, before, before.replace("rows: {", "n={"), {"tasks.py": TASKS})
    assert change.decision.value == "version"
    assert "PV105" not in {f.rule for f in change.findings}
    assert "PV407" in {f.rule for f in change.findings}


# ------------------------------------------------------------------ pipelines without steps (PV024)
def test_step_less_pipelines_have_their_own_fingerprints_and_a_diagnostic(tree):
    project = tree({"f.py": """
        import shutil
        from prefect import flow

        @flow
        def clear():
            shutil.rmtree("build/a")

        @flow
        def archive():
            shutil.make_archive("build/b", "zip")

        @flow
        def same_as_clear():
            shutil.rmtree("build/a")
    """})
    prints = {p.name: p.fingerprint for p in project.pipelines}
    assert prints["clear"] != prints["archive"]
    assert prints["clear"] == prints["same-as-clear"]  # the same code: the same computation
    assert sorted(line for _, line, _ in codes(project, "PV024")) == [5, 9, 13]
    clear, archive = only_pipeline(project, "clear"), only_pipeline(project, "archive")
    # the rename matcher never pairs on an empty step set, not even on equal fingerprints
    assert content_score(clear, only_pipeline(project, "same-as-clear"), Config()) == 0.0
    assert content_score(clear, archive, Config()) == 0.0


# ------------------------------------------------------------------ third-party steps as nodes
def test_zenml_integration_step_is_a_node_named_by_its_qualified_name(tree):
    project = tree({"steps.py": STEPS, "p.py": """
        from zenml import pipeline
        from zenml.integrations.evidently.steps import evidently_report_step as report
        from zenml.integrations.mlflow.steps.mlflow_deployer import mlflow_model_deployer_step
        from steps import load, train

        @pipeline
        def monitoring():
            ref = load(365, id="reference")
            cur = load(30)
            report.with_options(parameters={"metrics": ["DataQualityPreset"]})(
                reference_dataset=ref, comparison_dataset=cur)
            model = train(cur)
            mlflow_model_deployer_step(model=model, workers=2)
    """})
    pipeline = only_pipeline(project)
    assert [(s.id, s.function, s.kind) for s in pipeline.steps] == [
        ("reference", "steps.load", "step"),
        ("load", "steps.load", "step"),
        ("evidently_report_step", "zenml.integrations.evidently.steps.evidently_report_step", "step"),
        ("train", "steps.train", "step"),
        ("mlflow_model_deployer_step", "zenml.integrations.mlflow.steps.mlflow_deployer.mlflow_model_deployer_step",
         "step"),
    ]
    assert sorted((e.source, e.target, e.input) for e in pipeline.edges) == [
        ("load", "evidently_report_step", "comparison_dataset"), ("load", "train", "rows"),
        ("reference", "evidently_report_step", "reference_dataset"),
        ("train", "mlflow_model_deployer_step", "model")]
    report_step = pipeline.step("evidently_report_step")
    assert report_step.config == {"parameters": {"metrics": ["DataQualityPreset"]}}
    assert pipeline.step("mlflow_model_deployer_step").inputs["workers"] == 2
    assert project.diagnostics == ()
    assert pipeline.coverage["calls_not_followed"] == []


def test_prefect_collection_task_is_a_node_and_a_block_is_not(tree):
    project = tree({"tasks.py": TASKS, "f.py": """
        from prefect import flow
        from prefect_aws import S3Bucket
        from prefect_aws.s3 import s3_upload
        from tasks import count, extract

        @flow
        def upload(day: str):
            rows = extract(day)
            bucket = S3Bucket.load("reports")
            done = s3_upload.submit(data=rows, key="r.json", bucket=bucket)
            count(rows, wait_for=[done])
    """})
    flow = only_pipeline(project)
    assert [(s.id, s.function) for s in flow.steps] == [
        ("extract", "tasks.extract"), ("s3_upload", "prefect_aws.s3.s3_upload"), ("count", "tasks.count")]
    assert sorted((e.source, e.target, e.kind) for e in flow.edges) == [
        ("extract", "count", "data"), ("extract", "s3_upload", "data"), ("s3_upload", "count", "order")]
    assert [m.split(" in pipeline")[0] for _, _, m in codes(project, "PV023")] == \
        ["call of 'prefect_aws.S3Bucket.load'"]


def test_third_party_step_fingerprint_is_its_name(tree):
    files = {"steps.py": STEPS, "p.py": """
        from zenml import pipeline
        from zenml.integrations.evidently.steps import evidently_report_step
        from steps import load

        @pipeline
        def monitoring():
            evidently_report_step(reference_dataset=load(1), comparison_dataset=load(2))
    """}
    one = only_pipeline(tree(files)).step("evidently_report_step")
    two = only_pipeline(tree({**files, "p.py": files["p.py"].replace("load(2)", "load(3)")})).step(
        "evidently_report_step")
    assert one.fingerprint == two.fingerprint and one.fingerprint.startswith("fp1:")
    other = only_pipeline(tree({**files, "p.py": files["p.py"].replace(
        "import evidently_report_step", "import evidently_report_step, evidently_test_step").replace(
        "    evidently_report_step(", "    evidently_test_step(")})).step("evidently_test_step")
    assert other.fingerprint != one.fingerprint


# ------------------------------------------------------------------ coverage in scan's output
def test_scan_reports_coverage_in_json_and_text(tmp_path):
    root = write_tree(tmp_path / "p", {"tasks.py": TASKS, "f.py": """
        import os
        from prefect import flow
        from tasks import count, extract

        @flow
        def nightly(day: str):
            rows = extract(os.environ.get("DAY", day))
            count(rows)
    """})
    command = [sys.executable, "-m", "pvcheck", "scan", str(root)]
    data = json.loads(subprocess.run([*command, "--format", "json"], capture_output=True, text=True).stdout)
    pipeline = data["pipelines"][0]
    assert {"name", "framework", "path", "line", "fingerprint", "steps", "edges"} <= set(pipeline)
    assert pipeline["coverage"] == {"steps_found": 2, "files_read": [],
                                    "calls_not_followed": [{"call": "'os.environ.get'", "path": "f.py", "line": 7}]}
    text = subprocess.run(command, capture_output=True, text=True).stdout
    assert "coverage: 2 step(s) found, 1 call(s) not followed" in text
    assert "not followed: f.py:7: 'os.environ.get'" in text
