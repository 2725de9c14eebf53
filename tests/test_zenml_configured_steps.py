"""ZenML steps called through configured copies (``fixtures/zenml_integrations``): an
integration step's ``with_options(...)`` held in a local of the pipeline, a module-level
``bento_builder = bento_builder_step.with_options(...)``, ``run_with_accelerate(step, ...)``.
Each is an invocation of the step it copies, with the copy's options as its configuration;
near-misses stay calls pvcheck does not follow."""

from __future__ import annotations

from pvcheck.analyzer import scan_tree
from tests.conftest import FIXTURES, only_pipeline

PROJECT = FIXTURES / "zenml_integrations"


def test_configured_copies_are_invocations_of_the_steps_they_copy():
    project = scan_tree(PROJECT)
    pipeline = only_pipeline(project, "churn_training")
    assert [(s.id, s.function) for s in pipeline.steps] == [
        ("load_customers", "steps.load.load_customers"),
        ("evidently_report_step", "zenml.integrations.evidently.steps.evidently_report_step"),
        ("train_model", "steps.train.train_model"),
        ("bento_builder_step", "zenml.integrations.bentoml.steps.bento_builder_step"),
    ]
    assert [(e.source, e.target, e.output, e.input) for e in pipeline.edges] == [
        ("load_customers", "evidently_report_step", "reference", "reference_dataset"),
        ("load_customers", "evidently_report_step", "current", "comparison_dataset"),
        ("load_customers", "train_model", "reference", "customers"),
        ("train_model", "bento_builder_step", "output", "model"),
    ]
    assert pipeline.coverage["calls_not_followed"] == [] and project.diagnostics == ()


def test_the_copies_options_are_the_invocations_configuration():
    steps = {s.id: s for s in only_pipeline(scan_tree(PROJECT), "churn_training").steps}
    assert steps["bento_builder_step"].config["parameters"]["labels"] == {"team": "retention"}
    assert steps["bento_builder_step"].config_lines["parameters"].path == "steps/deploy.py"  # where the copy is made
    assert steps["evidently_report_step"].config["parameters"]["metrics"][0]["$args"] == ["DataDriftPreset"]
    # run_with_accelerate's options, under the run config's step parameters
    assert steps["train_model"].config == {"num_processes": 2, "multi_gpu": True, "parameters": {"epochs": 3}}
    helpers = {h.name for h in steps["train_model"].helpers}
    assert "utils.features.numeric" in helpers  # the copied step's own reach


def test_near_misses_stay_calls_not_followed(tree):
    project = tree({
        "steps.py": """
            from zenml import step
            from zenml.integrations.huggingface.steps import run_with_accelerate

            def helper(x):
                return x

            @step
            def train() -> int:
                return 1

            THRESHOLD = round(0.5, 1)
            not_a_step = run_with_accelerate(helper, num_processes=2)
        """,
        "pipeline.py": """
            from zenml import pipeline
            from zenml.integrations.evidently.steps import evidently_report_step
            from steps import THRESHOLD, not_a_step, train

            @pipeline
            def p():
                train()
                not_a_step()
                THRESHOLD()
                evidently_report_step.with_options(parameters={})
        """,
    })
    pipeline = only_pipeline(project, "p")
    assert [s.id for s in pipeline.steps] == ["train"]  # the copy made without a call is no invocation
    unfollowed = [c["call"] for c in pipeline.coverage["calls_not_followed"]]
    assert unfollowed == ["'steps.not_a_step' (a repo-local constant)", "'steps.THRESHOLD' (a repo-local constant)"]


def test_dynamic_pipelines_map_and_submit_run_the_step(tree):
    project = tree({
        "steps.py": """
            from zenml import step

            @step
            def score(item: int) -> int:
                return item * 2

            @step
            def total(scores: list) -> int:
                return sum(scores)
        """,
        "pipeline.py": """
            from zenml import pipeline, unmapped
            from steps import score, total

            @pipeline(dynamic=True)
            def fan_out(weights: dict):
                scores = score.map(item=[1, 2, 3], weights=unmapped(weights))
                total(scores)
                extra = score.submit(4)
                names = {"a": 1}.keys().map(str)
        """,
    })
    pipeline = only_pipeline(project, "fan_out")
    assert [(s.id, s.function) for s in pipeline.steps] == [
        ("score", "steps.score"), ("total", "steps.total"), ("score_2", "steps.score")]
    assert [(e.source, e.target) for e in pipeline.edges] == [("score", "total")]
    unfollowed = [c["call"] for c in pipeline.coverage["calls_not_followed"]]
    # how many times `map` runs the step is known at run time; `.map` of anything else is no step
    assert unfollowed[0] == "'score.map(...)': how many times the step runs is known only at run time"
    assert len(unfollowed) == 2  # the second: the `.map` of a dict view, still a call not followed
