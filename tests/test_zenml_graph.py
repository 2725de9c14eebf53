"""Step graphs of ZenML pipelines: ids, data and order edges, loops, nesting, configuration."""

from __future__ import annotations

import json

import pytest

from pvcheck.analyzer import scan_tree
from pvcheck.model import Severity
from tests.conftest import FIXTURES, only_pipeline

STEPS = """
    from typing import Tuple

    from typing_extensions import Annotated
    from zenml import ArtifactConfig, step

    @step
    def load(source: str = "db") -> int:
        return 1

    @step
    def split(x: int) -> Tuple[Annotated[int, "train"], Annotated[int, "test"]]:
        return x, x

    @step
    def fit(train: int, lr: float = 0.1) -> Annotated[int, ArtifactConfig(name="model")]:
        return train

    @step
    def score(model: int, test: int) -> float:
        return 0.5

    @step
    def pair(a: int, b: int) -> Tuple[int, int]:
        return a, b

    @step
    def note() -> None:
        pass
"""


def edges(pipeline):
    return [(e.source, e.target, e.kind, e.output, e.input) for e in pipeline.edges]


def test_multi_output_unpacking_and_named_outputs(tree):
    pipeline = only_pipeline(tree({"steps.py": STEPS, "flow.py": """
        from zenml import pipeline
        from steps import fit, load, score, split

        @pipeline
        def training():
            train, test = split(load())
            model = fit(train)
            score(model, test=test)
    """}))
    assert [s.id for s in pipeline.steps] == ["load", "split", "fit", "score"]
    assert edges(pipeline) == [
        ("load", "split", "data", "output", "x"),
        ("split", "fit", "data", "train", "train"),
        ("fit", "score", "data", "model", "model"),
        ("split", "score", "data", "test", "test"),
    ]
    split_step = pipeline.step("split")
    assert [o.name for o in split_step.outputs] == ["train", "test"]
    assert [o.name for o in pipeline.step("score").outputs] == ["output"]


def test_default_tuple_output_names_and_subscript(tree):
    pipeline = only_pipeline(tree({"steps.py": STEPS, "flow.py": """
        from zenml import pipeline
        from steps import fit, load, pair

        @pipeline
        def p():
            both = pair(load(), 2)
            fit(both[1])
    """}))
    assert [o.name for o in pipeline.step("pair").outputs] == ["output_0", "output_1"]
    assert ("pair", "fit", "data", "output_1", "train") in edges(pipeline)
    assert pipeline.step("pair").inputs["b"] == 2


def test_custom_ids_repeated_calls_and_after(tree):
    pipeline = only_pipeline(tree({"steps.py": STEPS, "flow.py": """
        from zenml import pipeline
        from steps import load, note

        @pipeline
        def p():
            first = load()
            load(id="second")
            load()
            note(after=first)
            note(after="second")
            note(after=["load", "second"])
    """}))
    assert [s.id for s in pipeline.steps] == ["load", "second", "load_2", "note", "note_2", "note_3"]
    order = [(e.source, e.target) for e in pipeline.edges if e.kind == "order"]
    assert order == [("load", "note"), ("second", "note_2"), ("load", "note_3"), ("second", "note_3")]


def test_pipeline_parameters_literals_and_external_values(tree):
    pipeline = only_pipeline(tree({"steps.py": STEPS, "flow.py": """
        from zenml import ExternalArtifact, pipeline
        from steps import fit, load

        @pipeline
        def p(lr: float = 0.01, source: str = "s3://bucket"):
            data = load(source=source)
            fit(data, lr=lr)
            fit(ExternalArtifact(value=3), lr=0.5)
    """}))
    assert pipeline.step("load").inputs == {"source": {"$param": "source"}}
    assert pipeline.step("fit").inputs == {"train": {"$step": "load", "output": "output"}, "lr": {"$param": "lr"}}
    fit_2 = pipeline.step("fit_2")
    assert fit_2.inputs["lr"] == 0.5
    assert "$expr" in fit_2.inputs["train"]
    assert [(p.name, p.default) for p in pipeline.parameters] == [("lr", 0.01), ("source", "s3://bucket")]


def test_loops_unrolled_over_literals_constants_and_range(tree):
    pipeline = only_pipeline(tree({"steps.py": STEPS, "flow.py": """
        from zenml import pipeline
        from steps import fit, load

        RATES = (0.1, 0.01)

        @pipeline
        def p():
            data = load()
            for lr in RATES:
                fit(data, lr=lr)
            for i in range(2):
                fit(data, lr=i, id=f"fit_range_{i}")
    """}))
    assert [s.id for s in pipeline.steps] == ["load", "fit", "fit_2", "fit_range_0", "fit_range_1"]
    assert [pipeline.step(i).inputs["lr"] for i in ("fit", "fit_2", "fit_range_0", "fit_range_1")] == [
        0.1, 0.01, 0, 1]
    assert not pipeline.dynamic


def test_loop_over_runtime_values_is_a_diagnostic_and_dynamic(tree):
    project = tree({"steps.py": STEPS, "flow.py": """
        from zenml import pipeline
        from steps import fit, load

        @pipeline
        def p(rates: list):
            data = load()
            for lr in rates:
                fit(data, lr=lr)
    """})
    pipeline = only_pipeline(project)
    assert pipeline.dynamic
    assert any(d.code == "PV010" and d.path == "flow.py" and d.line == 7 for d in project.diagnostics)


def test_nested_pipeline_is_inlined(tree):
    pipeline = only_pipeline(tree({"steps.py": STEPS, "flow.py": """
        from zenml import pipeline
        from steps import fit, load, score, split

        @pipeline
        def prepare(source: str = "db"):
            train, test = split(load(source=source))
            return train, test

        @pipeline
        def full():
            train, test = prepare(source="lake")
            score(fit(train), test)
    """}), "full")
    assert [s.id for s in pipeline.steps] == ["load", "split", "fit", "score"]
    assert pipeline.step("load").inputs == {"source": "lake"}
    assert ("split", "score", "data", "test", "test") in edges(pipeline)


def test_with_options_inside_pipeline_is_invocation_config(tree):
    pipeline = only_pipeline(tree({"steps.py": STEPS, "flow.py": """
        from zenml import pipeline
        from steps import fit, load

        @pipeline
        def p():
            fit.with_options(enable_cache=False)(load())
    """}))
    assert pipeline.step("fit").config == {"enable_cache": False}
    assert edges(pipeline) == [("load", "fit", "data", "output", "train")]


def test_yaml_run_config_and_configure_in_another_module(tree):
    project = tree({"steps.py": STEPS, "flow.py": """
        from zenml import pipeline
        from steps import fit, load

        @pipeline(enable_cache=True)
        def p():
            fit(load())
    """, "conf/run.yaml": """
        settings:
          docker:
            requirements: [torch]
        steps:
          fit:
            parameters:
              lr: 0.3
    """, "run.py": """
        from flow import p
        from steps import load

        load.configure(enable_cache=False)
        p.with_options(config_path="conf/run.yaml")()
    """})
    pipeline = only_pipeline(project)
    assert pipeline.config == {"enable_cache": True, "settings": {"docker": {"requirements": ["torch"]}}}
    assert pipeline.config_lines["settings"] == ("conf/run.yaml", 1)
    assert pipeline.step("fit").config == {"parameters": {"lr": 0.3}}
    assert pipeline.step("fit").config_lines["parameters"] == ("conf/run.yaml", 6)
    assert pipeline.step("load").config == {"enable_cache": False}


def test_config_path_outside_root_and_python_tags_are_refused(tmp_path, tree):
    (tmp_path / "secret.yaml").write_text("enable_cache: false\n")
    project = tree({"steps.py": STEPS, "flow.py": """
        from zenml import pipeline
        from steps import load

        @pipeline(config_path="../../secret.yaml")
        def p():
            load()

        @pipeline(config_path="evil.yaml")
        def q():
            load()
    """, "evil.yaml": "enable_cache: !!python/object/apply:os.system ['touch pwned']\n"})
    codes = {(d.code, d.severity) for d in project.diagnostics}
    assert ("PV013", Severity.ERROR) in codes
    assert ("PV014", Severity.ERROR) in codes
    assert all(p.config.get("enable_cache") is None for p in project.pipelines)
    assert not (tmp_path / "pwned").exists()


def test_fixture_project_full_graph():
    project = scan_tree(FIXTURES / "zenml_churn")
    assert [p.name for p in project.pipelines] == ["batch_features", "churn_training"]
    assert project.diagnostics == ()
    training = project.pipelines[1]
    assert [s.id for s in training.steps] == [
        "load_customers", "build_features", "split_dataset", "train_model", "evaluate_model", "report",
        "train_model_2", "evaluate_model_2", "report_2"]
    assert training.step("train_model").inputs["learning_rate"] == 0.1
    assert training.step("train_model_2").inputs["learning_rate"] == 0.01
    assert training.step("report_2").inputs["label"] == "lr=0.01"
    assert training.config["enable_cache"] is False  # from configs/training.yaml via run.py
    assert training.step("train_model").config["parameters"] == {"max_iter": 300}
    assert "parameters" not in training.step("train_model_2").config
    data = json.loads(json.dumps(project.to_json()))
    assert data["schema"] == "pvcheck.scan/1"
    # the fields the spec fixes, and the coverage of each pipeline
    assert set(data["pipelines"][0]) == {"name", "framework", "path", "line", "fingerprint", "steps", "edges",
                                         "coverage"}
    assert data["pipelines"][1]["coverage"] == {"steps_found": 9, "calls_not_followed": [], "files_read": []}
    assert set(data["pipelines"][0]["steps"][0]) == {"id", "function", "path", "line", "fingerprint"}


def test_options_inside_one_pipeline_do_not_leak_into_another(tree):
    project = tree({"steps.py": STEPS, "flow.py": """
        from zenml import pipeline
        from steps import fit, load

        @pipeline
        def tuned():
            fit.with_options(enable_cache=False)(load())

        @pipeline
        def plain():
            fit(load())
    """})
    assert only_pipeline(project, "tuned").step("fit").config == {"enable_cache": False}
    assert only_pipeline(project, "plain").step("fit").config == {}


def test_call_site_parameter_values_are_pipeline_config(tree):
    project = tree({"steps.py": STEPS, "flow.py": """
        from zenml import pipeline
        from steps import fit, load

        @pipeline
        def p(lr: float = 0.1):
            fit(load(), lr=lr)
    """, "run.py": """
        from flow import p

        if __name__ == "__main__":
            p.with_options(enable_cache=False)(lr=0.5)
    """})
    pipeline = only_pipeline(project)
    assert pipeline.config == {"enable_cache": False, "parameters": {"lr": 0.5}}
    assert pipeline.config_lines["parameters"] == ("run.py", 4)


def test_second_fixture_package_layout_nested_pipeline_and_loop_ids():
    project = scan_tree(FIXTURES / "zenml_recsys")
    assert project.diagnostics == ()
    training = only_pipeline(project, "als_training")
    assert [s.id for s in training.steps] == [
        "load_interactions", "split_by_time", "fit_als_32", "evaluate_ranking", "publish_model",
        "fit_als_64", "evaluate_ranking_2", "publish_model_2"]
    assert ("fit_als_64", "publish_model_2", "order", None, None) in edges(training)
    assert ("fit_als_32", "evaluate_ranking", "data", "als_model", "model") in edges(training)
    assert training.step("fit_als_64").config["parameters"] == {"regularization": 0.01}
    assert training.step("publish_model").config == {"enable_cache": False, "retries": 2}
    assert training.config["parameters"] == {"days": 60}
    assert [h.name for h in training.step("evaluate_ranking").helpers] == [
        "recsys.utils.matrix.to_user_item", "recsys.utils.metrics.precision_at_k"]


@pytest.mark.parametrize("call", [
    "def main():\n    from flow import p as training\n    training(lr=0.5)\n",  # an import inside a function
    "import flow as pipelines\n\ndef main():\n    pipelines.p(lr=0.5)\n",  # through a module alias
    "from flow import p\nimport flow\n\ntrain = p\n\ndef main():\n    p(lr=0.5)\n",  # a module-level name
])
def test_call_site_parameters_found_however_the_pipeline_is_named(tree, call):
    """Calls whose callee is a local or a builtin are skipped before resolution; calls
    through any import form still reach the pipeline."""
    project = tree({"steps.py": STEPS, "flow.py": """
        from zenml import pipeline
        from steps import fit, load

        @pipeline
        def p(lr: float = 0.1):
            fit(load(), lr=lr)
    """, "run.py": '"""Starts the zenml pipeline."""\n' + call})  # the docstring makes it a candidate
    assert only_pipeline(project).config == {"parameters": {"lr": 0.5}}


def test_call_on_a_local_named_like_the_pipeline_is_not_its_configuration(tree):
    project = tree({"steps.py": STEPS, "flow.py": """
        from zenml import pipeline
        from steps import fit, load

        @pipeline
        def p(lr: float = 0.1):
            fit(load(), lr=lr)
    """, "run.py": """
        \"\"\"Starts the zenml pipeline.\"\"\"
        from flow import p as pipeline_p

        def main(p):
            p(lr=0.5)
            len([1])
    """})
    assert only_pipeline(project).config == {}
