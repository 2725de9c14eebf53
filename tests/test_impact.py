"""Impact: which steps a change re-runs and which stay cached, per framework cache rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


from pvcheck.model import Decision, Edge, Finding, Pipeline, PipelineChange, Report, Status, Step
from pvcheck.output.mermaid import mermaid
from pvcheck.output.report import RenderContext, render_report
from pvcheck.output.step_graph import StepStatus, change_graph
from pvcheck.policies.impact import CACHE_MODELS, cache_model, impact

# load -> clean -> train -> evaluate, and load -> profile (a side branch)
IDS = ("load", "clean", "train", "evaluate", "profile")
EDGES = (("load", "clean"), ("clean", "train"), ("train", "evaluate"), ("load", "profile"))


def _pipeline(framework: str, step_config: dict[str, dict[str, Any]] | None = None,
              config: dict[str, Any] | None = None) -> Pipeline:
    step_config = step_config or {}
    steps = tuple(Step(id=i, function=f"steps.{i}", name=i, path="steps.py", line=n + 1, fingerprint=f"fp1:{i}",
                       config=step_config.get(i, {})) for n, i in enumerate(IDS))
    edges = tuple(Edge(s, t, "data", "output", "data") for s, t in EDGES)
    return Pipeline(name="p", framework=framework, function="pipelines.p", module="pipelines", path="p.py", line=1,
                    steps=steps, edges=edges, config=config or {})


def _change(framework: str, *findings: Finding, **head: Any) -> PipelineChange:
    return PipelineChange(name="p", framework=framework, path="p.py", status=Status.MODIFIED,
                          decision=Decision.most_severe(f.decision for f in findings), base=_pipeline(framework),
                          head=_pipeline(framework, **head), findings=findings,
                          step_matches={i: i for i in IDS})


BODY = Finding("PV401", "structural", Decision.VERSION, "step clean body changed", "steps.py", 2, "clean")
PARAMETER = Finding("PV204", "config", Decision.RUN, "steps.train.parameters.lr: 0.1 -> 0.2 (at the call site)",
                    "p.py", 4, "train")
RETRIES = Finding("PV201", "config", Decision.RUN, "steps.train.retries: 1 -> 3 (decorator)", "steps.py", 3, "train")


def test_zenml_a_changed_step_reruns_everything_downstream_and_the_side_branch_stays_cached() -> None:
    result = impact(_change("zenml", BODY))
    assert result is not None
    assert [s for s, _ in result.changed] == ["clean"]
    assert result.upstream == (("train", "clean"), ("evaluate", "train"))
    assert result.cached == ("load", "profile")
    assert result.summary() == "3 of 5 steps re-run; 2 stay cached"


def test_zenml_a_parameter_value_is_in_the_cache_key_a_retry_setting_is_not() -> None:
    assert [s for s, _ in impact(_change("zenml", PARAMETER)).changed] == ["train"]
    near_miss = impact(_change("zenml", RETRIES))
    assert near_miss.changed == () and near_miss.reruns == 0


def test_dagster_a_config_change_does_not_change_a_code_version() -> None:
    assert impact(_change("dagster", PARAMETER)).reruns == 0
    assert [s for s, _ in impact(_change("dagster", BODY)).changed] == ["clean"]


def test_prefect_downstream_may_rerun_when_a_value_changes() -> None:
    result = impact(_change("prefect", BODY))
    assert result.upstream_reason == "an input may change" and "INPUTS" in result.assumption


def test_airflow_has_no_cache_every_step_runs() -> None:
    result = impact(_change("airflow", BODY))
    assert [s for s, _ in result.changed] == ["clean"]
    assert {s for s, _ in result.uncached} == {"load", "train", "evaluate", "profile"}
    assert result.cached == ()
    assert "no step cache" in result.assumption
    assert not cache_model("airflow").caches and set(CACHE_MODELS) >= {"zenml", "kfp", "prefect", "dagster"}


def test_enable_cache_false_reruns_the_step_and_its_consumers_a_step_may_turn_it_back_on() -> None:
    result = impact(_change("zenml", BODY, step_config={"profile": {"enable_cache": False}}))
    assert result.uncached == (("profile", "enable_cache=False"),)
    everything_off = impact(_change("zenml", BODY, config={"enable_cache": False},
                                    step_config={"load": {"enable_cache": True}}))
    assert "load" in everything_off.cached  # the step's own setting wins over the pipeline's


def test_new_steps_and_new_pipelines() -> None:
    change = _change("zenml")
    added = PipelineChange(name="p", framework="zenml", path="p.py", status=Status.ADDED, decision=Decision.PIPELINE,
                           head=change.head)
    assert impact(added).reruns == 5 and impact(added).changed[0] == ("load", "new pipeline")
    unmatched = PipelineChange(**{**change.__dict__, "step_matches": {i: i for i in IDS if i != "profile"}})
    assert ("profile", "new step") in impact(unmatched).changed
    unchanged = PipelineChange(**{**change.__dict__, "status": Status.UNCHANGED})
    assert impact(unchanged) is None


def test_impact_in_json_text_markdown_and_the_graph() -> None:
    from dataclasses import replace

    change = _change("zenml", BODY)
    change = replace(change, impact=impact(change))
    report = Report(pipelines=(change,))
    data = json.loads(render_report(report, "json"))["pipelines"][0]["impact"]
    assert data["changed"] == [{"step": "clean", "reason": "PV401: structural change"}]
    assert data["upstream"][0] == {"step": "train", "because_of": "clean"}
    assert data["cached"] == ["load", "profile"] and data["summary"] == "3 of 5 steps re-run; 2 stay cached"
    text = render_report(report, "text", RenderContext())
    assert "impact: 3 of 5 steps re-run; 2 stay cached" in text
    assert "train: re-runs, an input may change (clean re-runs)" in text
    markdown = render_report(report, "markdown", RenderContext())
    assert "**3 of 5 steps re-run; 2 stay cached**" in markdown and "What re-runs" in markdown
    status = {n.id: n.status for n in change_graph(change).nodes}
    assert status["train"] is StepStatus.RERUN and status["evaluate"] is StepStatus.RERUN
    assert status["load"] is StepStatus.UNCHANGED
    assert "classDef rerun " in mermaid([change_graph(change)]) and "🟧 re-runs: upstream changed" in \
        mermaid([change_graph(change)])


def test_diff_computes_impact_end_to_end() -> None:
    import pvcheck

    examples = Path(__file__).resolve().parent.parent / "docs" / "examples" / "churn_pr"
    report = pvcheck.diff(examples / "base", examples / "head")
    training = next(c for c in report.pipelines if c.name == "churn_training")
    assert training.impact is not None
    assert ("train_model", "PV401: structural change") in training.impact.changed


def _with(framework: str, **config: Any) -> tuple[Step, Pipeline]:
    pipeline = _pipeline(framework, step_config={"train": config})
    return next(step for step in pipeline.steps if step.id == "train"), pipeline


def test_prefect_caches_across_runs_only_with_a_policy_that_does_not_key_on_the_run() -> None:
    uncached = cache_model("prefect").step_uncached
    assert uncached(*_with("prefect")).startswith("no cache_policy")  # Prefect's default keys on the run
    assert uncached(*_with("prefect", cache_policy={"$expr": "SemanticSource() + INPUTS"})) == ""
    assert uncached(*_with("prefect", cache_key_fn={"$ref": "prefect.tasks.task_input_hash"})) == ""
    assert uncached(*_with("prefect", cache_policy={"$ref": "prefect.cache_policies.NO_CACHE"}))
    assert uncached(*_with("prefect", cache_policy={"$expr": "INPUTS + TASK_SOURCE + RUN_ID"}))
    assert uncached(*_with("prefect", cache_policy={"$ref": "app.MY_DEFAULT_POLICY"})) == ""  # a name, not DEFAULT
    assert uncached(*_with("prefect", cache_policy={"$ref": "prefect.cache_policies.INPUTS"},
                           refresh_cache=True)) == "refresh_cache=True"
    assert uncached(*_with("prefect", cache_policy={"$ref": "prefect.cache_policies.INPUTS"},
                           persist_result=False)) == "persist_result=False"
    result = impact(_change("prefect", BODY))  # no task here has a policy: all of them run
    assert {s for s, _ in result.uncached} == {"load", "train", "evaluate", "profile"} and result.cached == ()


def test_flyte_caches_a_task_only_when_asked() -> None:
    uncached = cache_model("flyte").step_uncached
    assert uncached(*_with("flyte")) and uncached(*_with("flyte", cache=False))
    assert uncached(*_with("flyte", cache=True)) == ""
    assert uncached(*_with("flyte", cache={"$call": "flytekit.Cache", "version": "1"})) == ""
    assert uncached(*_with("flyte", cache="disable")) == "cache=disable"
    assert uncached(*_with("flyte", cache={"$call": "flyte.Cache", "behavior": "override"})) == "cache=override"
    assert uncached(*_with("flyte", cache="auto")) == ""


def test_kfp_caching_options_turn_a_task_cache_off() -> None:
    uncached = cache_model("kfp").step_uncached
    assert uncached(*_with("kfp", caching_options={"enable_caching": False}))
    assert uncached(*_with("kfp", caching_options={"enable_caching": True, "cache_key": "v1"})) == ""
    assert uncached(*_with("kfp")) == ""


def test_zenml_consumers_may_rerun_inputs_are_keyed_by_value_hash() -> None:
    model = cache_model("zenml")
    assert model.upstream_reason() == "an input may change" and "value hash" in model.assumption
    assert cache_model("dagster").upstream_reason() == "an input changes"  # data versions follow code versions
