"""KFP components that are not decorated functions: YAML specs, wrapped functions, the
importer, prebuilt components with a pinned package, v1 pipelines (fixtures/kfp_vertex)."""

from __future__ import annotations

import shutil
from pathlib import Path

from pvcheck.analyzer import scan_tree
from pvcheck.analyzer.cache import AnalysisCache
from pvcheck.config import Config
from tests.conftest import FIXTURES, only_pipeline
from tests.project_edits import edit_file

FIXTURE = FIXTURES / "kfp_vertex"


def edges(pipeline):
    return sorted((e.source, e.target, e.kind, e.output, e.input) for e in pipeline.edges)


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "kfp_vertex"
    shutil.copytree(FIXTURE, target)
    return target




# ---------------------------------------------------------------------- the fixture project
def test_fixture_graph():
    project = scan_tree(FIXTURE)
    assert project.diagnostics == ()
    pipeline = only_pipeline(project)
    assert (pipeline.name, pipeline.dynamic) == ("churn-retrain", False)
    assert [(s.id, s.function, s.kind, s.path) for s in pipeline.steps] == [
        ("validate-rows", "components.specs.validate_rows_op", "component", "components/specs.py"),
        ("build-features", "components.features.build_features", "component", "components/features.py"),
        ("customtrainingjobop", "google_cloud_pipeline_components.v1.custom_job.CustomTrainingJobOp", "component",
         "pipelines/retrain.py"),
        ("importer", "kfp.dsl.importer", "importer", "pipelines/retrain.py"),
        ("score-customers", "components.specs.score_customers_op", "component", "components/specs.py"),
        ("publish-scores", "components.specs.publish_scores_op", "component", "components/specs.py"),
    ]
    assert edges(pipeline) == [
        ("build-features", "customtrainingjobop", "data", "features", "base_output_directory"),
        ("build-features", "score-customers", "data", "features", "features"),
        ("customtrainingjobop", "importer", "order", None, None),  # .after(train)
        ("importer", "score-customers", "data", "artifact", "model"),
        ("score-customers", "publish-scores", "data", "scores", "scores"),
        ("validate-rows", "build-features", "data", "report", "report"),
    ]


def test_fixture_outputs_and_configuration():
    pipeline = only_pipeline(scan_tree(FIXTURE))
    outputs = {s.id: [o.name for o in s.outputs] for s in pipeline.steps}
    assert outputs == {
        "validate-rows": ["report"],  # a v1 spec's outputs: list
        "build-features": ["features"],  # Output[Dataset] of the wrapped function
        "customtrainingjobop": [],
        "importer": ["artifact"],
        "score-customers": ["scores"],  # a compiled spec's root.outputDefinitions
        "publish-scores": [],  # an inline spec without outputs
    }
    config = {s.id: s.config for s in pipeline.steps}
    assert config["build-features"] == {"base_image": "python:3.11-slim",
                                        "packages_to_install": ["pandas==2.2.2", "pyarrow==16.1.0"],
                                        "cpu_limit": "2"}
    # the prebuilt component's code is the pinned package's
    assert config["customtrainingjobop"] == {"requirements": ["google-cloud-pipeline-components==2.17.0"]}
    assert tuple(pipeline.step("customtrainingjobop").config_lines["requirements"]) == ("requirements.txt", 2)
    assert config["validate-rows"] == config["importer"] == {}
    assert pipeline.step("importer").inputs == {"artifact_uri": {"$param": "serving_model"},
                                                "artifact_class": {"$expr": "kfp.dsl.Model"}, "reimport": False}


def test_spec_files_are_the_component_code(tmp_path):
    base = only_pipeline(scan_tree(FIXTURE))
    root = _copy(tmp_path)
    edit_file(root, "components/specs/score_customers.yaml", "churn-score:2.0.1", "churn-score:2.1.0")
    changed = only_pipeline(scan_tree(root))
    differs = {s.id for s in base.steps if s.body_fingerprint != changed.step(s.id).body_fingerprint}
    assert differs == {"score-customers"}
    assert changed.fingerprint != base.fingerprint


def test_a_spec_edit_reaches_a_cached_scan(tmp_path):
    root = _copy(tmp_path)
    store = tmp_path / "cache"
    before = only_pipeline(scan_tree(root, cache=AnalysisCache(store, Config())))
    edit_file(root, "components/specs/validate_rows.yaml", "churn-validate:1.4.0", "churn-validate:1.5.0")
    edit_file(root, "requirements.txt", "components==2.17.0", "components==2.18.0")
    after = only_pipeline(scan_tree(root, cache=AnalysisCache(store, Config())))
    assert after.step("validate-rows").body_fingerprint != before.step("validate-rows").body_fingerprint
    assert after.step("customtrainingjobop").config == {
        "requirements": ["google-cloud-pipeline-components==2.18.0"]}
    assert after.step("publish-scores").fingerprint == before.step("publish-scores").fingerprint


def test_an_unpinned_package_gives_no_requirement(tmp_path):
    root = _copy(tmp_path)
    edit_file(root, "requirements.txt", "google-cloud-pipeline-components==2.17.0", "google-cloud-pipeline-components>=2.17")
    assert only_pipeline(scan_tree(root)).step("customtrainingjobop").config == {}


# ---------------------------------------------------------------------- forms seen in public projects
def test_spec_next_to_the_module_and_compiled_names(tree):
    project = tree({
        "pipelines/ingest/components/download.yaml": (
            "pipelineInfo:\n  name: download-object\nroot:\n  outputDefinitions:\n"
            "    artifacts:\n      output: {}\n    parameters:\n      object_key: {}\n"),
        "pipelines/ingest/pipeline.py": """
            from kfp import dsl
            from kfp.components import load_component_from_file

            download_op = load_component_from_file("components/download.yaml")

            @dsl.pipeline(name="Ingest")
            def ingest(bucket: str):
                raw = download_op(bucket=bucket)
                again = download_op(bucket=raw.outputs["object_key"]).after(raw)
        """})
    assert project.diagnostics == ()
    pipeline = only_pipeline(project)
    assert [(s.id, [o.name for o in s.outputs]) for s in pipeline.steps] == [
        ("download-object", ["output", "object_key"]), ("download-object-2", ["output", "object_key"])]
    assert edges(pipeline) == [
        ("download-object", "download-object-2", "data", "object_key", "bucket"),
        ("download-object", "download-object-2", "order", None, None),
    ]


def test_v1_function_components(tree):
    pipeline = only_pipeline(tree({
        "steps.py": """
            import kfp.components as comp
            from kfp.components import OutputPath, create_component_from_func, func_to_container_op

            @func_to_container_op
            def draw(low: int, high: int) -> int:
                return low

            def add(a: float, b: float) -> float:
                return a + b

            add_op = comp.create_component_from_func(add, base_image="python:3.9")

            @create_component_from_func
            def report(total: float, summary: OutputPath(str)):
                open(summary, "w").write(str(total))
        """,
        "p.py": """
            import kfp.dsl as dsl
            from steps import add_op, draw, report

            @dsl.pipeline(name="Calculation")
            def calc(b: float = 7):
                first = draw(0, 10)
                with dsl.Condition(first.output > 5):
                    total = add_op(first.output, b)
                    report(total.output)
        """}))
    assert not pipeline.dynamic
    assert [(s.id, s.function, s.config) for s in pipeline.steps] == [
        ("draw", "steps.draw", {}), ("add", "steps.add", {"base_image": "python:3.9"}),
        ("report", "steps.report", {})]
    assert [o.name for o in pipeline.step("report").outputs] == ["summary"]
    assert ("draw", "add", "data", "Output", "a") in edges(pipeline)
    assert ("add", "report", "data", "Output", "total") in edges(pipeline)


def test_tasks_made_in_a_chained_method_call_are_found(tree):
    project = tree({"p.py": """
        from kfp import dsl

        @dsl.component
        def train(x: int) -> int:
            return x

        @dsl.pipeline
        def labelled():
            first = train(x=1).add_pod_label("team", "ml")
            train(x=first.output)
    """})
    pipeline = only_pipeline(project)
    assert [s.id for s in pipeline.steps] == ["train", "train-2"]
    assert edges(pipeline) == [("train", "train-2", "data", "Output", "x")]
    assert project.diagnostics == ()


def test_v1_ops_are_reported_by_name(tree):
    project = tree({"p.py": """
        import kfp.dsl as dsl

        @dsl.pipeline(name="Recommender")
        def recommender():
            data = dsl.ContainerOp(name="update", image="acme/update:0.2").add_env_variable({"A": "1"})
            train = dsl.ContainerOp(name="train", image="acme/train:0.1")
            train.after(data)
    """})
    pipeline = only_pipeline(project)
    assert pipeline.dynamic and pipeline.steps == ()
    messages = sorted((d.line, d.message) for d in project.diagnostics if d.code == "PV010")
    assert [line for line, m in messages if "a KFP v1 dsl.ContainerOp" in m] == [5, 6]


def test_kubernetes_settings_of_an_unknown_task_blame_the_task(tree):
    project = tree({"p.py": """
        from kfp import dsl
        from kfp.kubernetes import use_secret_as_env
        from vendor_components import sdg

        @dsl.pipeline
        def generate():
            task = sdg(model="m")
            use_secret_as_env(task=task, secret_name="llm", secret_key_to_env={"k": "K"})
    """})
    messages = [d.message for d in project.diagnostics if d.code in ("PV010", "PV023")]
    assert any("vendor_components.sdg" in m for m in messages)
    assert not any("use_secret_as_env" in m for m in messages)


def test_components_made_in_the_pipeline_body(tree):
    project = tree({"p.py": """
        import kfp
        from kfp import dsl

        def download(year: int) -> str:
            return str(year)

        def clean(raw: str) -> str:
            return raw.strip()

        @dsl.pipeline(name="Mailing list")
        def mailing(year: int):
            download_op = kfp.components.func_to_container_op(download, packages_to_install=["requests"])
            clean_op = kfp.components.func_to_container_op(clean)
            raw = download_op(year)
            clean_op(raw=raw.output)
    """})
    pipeline = only_pipeline(project)
    assert [(s.id, s.function, s.config) for s in pipeline.steps] == [
        ("download", "p.download", {"packages_to_install": ["requests"]}), ("clean", "p.clean", {})]
    assert edges(pipeline) == [("download", "clean", "data", "Output", "raw")]
    assert not pipeline.dynamic and project.diagnostics == ()


def test_a_helper_that_makes_tasks_is_inlined_and_stays_code(tree):
    files = {"steps.py": """
        from kfp import dsl

        @dsl.component
        def load(uri: str) -> str:
            return uri

        @dsl.component
        def train(data: str, epochs: int) -> str:
            return data
    """, "p.py": """
        from kfp import dsl
        from steps import load, train

        def build_graph(uri, epochs):
            data = load(uri=uri)
            return train(data=data.output, epochs=epochs)

        def table_name():
            return "churn"

        @dsl.pipeline
        def weekly(uri: str = "gs://acme/churn"):
            build_graph(uri, 10)

        @dsl.pipeline
        def named(uri: str = "gs://acme/churn"):
            load(uri=table_name())
    """}
    project = tree(files)
    weekly = only_pipeline(project, "weekly")
    assert [(s.id, s.inputs) for s in weekly.steps] == [
        ("load", {"uri": {"$param": "uri"}}),
        ("train", {"data": {"$step": "load", "output": "Output"}, "epochs": 10})]
    assert not weekly.dynamic
    # near miss: a helper that makes no task is not inlined: still reported, still dynamic
    named = only_pipeline(project, "named")
    assert named.dynamic and [s.id for s in named.steps] == ["load"]
    assert any("table_name', which is not a component" in d.message for d in project.diagnostics)
    # the helper is the pipeline's code: editing it is a version of the pipeline
    edited = tree({**files, "p.py": files["p.py"].replace("data=data.output, epochs=epochs",
                                                          "data=data.output, epochs=epochs * 2")})
    assert only_pipeline(edited, "weekly").code_fingerprint != weekly.code_fingerprint
