"""Properties of ``compare`` on arbitrary (small, synthetic) models: it never crashes,
every pipeline is accounted for, and a model compared with itself is unchanged."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pvcheck.model import Decision, Edge, Pipeline, Project, Status, Step
from pvcheck.policies import compare

FPS = st.sampled_from(["fp1:a", "fp1:b", "fp1:c", ""])
IDS = st.sampled_from(["load", "clean", "train", "score", "report"])


@st.composite
def steps(draw: st.DrawFn) -> Step:
    ident = draw(IDS)
    return Step(
        id=ident, function=f"steps.{ident}", name=ident, path="steps.py", line=draw(st.integers(0, 50)),
        fingerprint=draw(FPS), body_fingerprint=draw(FPS), signature_fingerprint=draw(FPS),
        config_fingerprint=draw(FPS), sketch=tuple(sorted(draw(st.sets(st.integers(0, 40), max_size=12)))),
        complexity=draw(st.integers(0, 5)), dynamic=draw(st.booleans()),
        config=draw(st.dictionaries(st.sampled_from(["enable_cache", "settings", "retries"]),
                                    st.one_of(st.booleans(), st.integers(0, 3),
                                              st.fixed_dictionaries({"docker": st.just({"image": "x"})})),
                                    max_size=2)),
    )


@st.composite
def pipelines(draw: st.DrawFn) -> Pipeline:
    found = draw(st.lists(steps(), max_size=5, unique_by=lambda s: s.id))
    ids = [s.id for s in found]
    edges = tuple(Edge(a, b, draw(st.sampled_from(["data", "order"])))
                  for a, b in draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)), max_size=4)))\
        if ids else ()
    name = draw(st.sampled_from(["training", "scoring", "etl"]))
    module = draw(st.sampled_from(["pipelines.a", "pipelines.b"]))
    return Pipeline(name=name, framework="zenml", function=f"{module}.{name}", module=module,
                    path=module.replace(".", "/") + ".py", line=1, steps=tuple(found), edges=edges,
                    fingerprint=draw(FPS), graph_fingerprint=draw(FPS), config_fingerprint=draw(FPS),
                    dynamic=draw(st.booleans()))


projects = st.builds(lambda ps: Project(root="", pipelines=tuple(ps)), st.lists(pipelines(), max_size=4))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(projects, projects)
def test_compare_accounts_for_every_pipeline_and_never_crashes(base: Project, head: Project) -> None:
    report = compare(base, head)
    heads = [c for c in report.pipelines if c.head is not None]
    bases = [c for c in report.pipelines if c.base is not None]
    assert len(heads) == len(head.pipelines) and len(bases) == len(base.pipelines)
    for change in report.pipelines:
        if change.status is Status.REMOVED:
            assert change.decision is None and change.head is None
        elif change.status is Status.ADDED:
            assert change.decision is Decision.PIPELINE
        else:
            assert change.decision is Decision.most_severe(f.decision for f in change.findings)
            assert change.continuity is not None and 0.0 <= change.continuity <= 1.0
    assert sum(report.summary[d.value] for d in Decision) + report.summary["removed"] == len(report.pipelines)


@settings(max_examples=60, deadline=None)
@given(projects)
def test_a_model_compared_with_itself_has_only_collision_findings(project: Project) -> None:
    report = compare(project, project)
    assert {c.status for c in report.pipelines} <= {Status.UNCHANGED}
    assert {f.rule for c in report.pipelines for f in c.findings} <= {"PV502"}
