"""SPEC §4: pipelines matched by name and module, then by content; steps by invocation
id, then fingerprint, then similarity; continuity decides ``pipeline``."""

from __future__ import annotations

from pathlib import Path

from pvcheck.analyzer import scan_tree
from pvcheck.config import Config
from pvcheck.model import Decision, Pipeline, Project, Status, Step
from pvcheck.policies import compare
from pvcheck.policies.matching import collisions, match_steps, pair_pipelines

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "changes"


def step(id: str, fingerprint: str = "", sketch: tuple[int, ...] = (), function: str = "") -> Step:
    return Step(id=id, function=function or f"steps.{id}", name=id, path="steps.py", line=1,
                fingerprint=fingerprint or f"fp:{id}", sketch=sketch)


def pipeline(name: str, module: str, steps: tuple[Step, ...], fingerprint: str = "") -> Pipeline:
    return Pipeline(name=name, framework="zenml", function=f"{module}.{name}", module=module,
                    path=module.replace(".", "/") + ".py", line=1, steps=steps,
                    fingerprint=fingerprint or f"p:{module}:{name}")


def test_steps_match_by_id_first_even_when_the_code_changed() -> None:
    matching = match_steps([step("train", "a")], [step("train", "b")], Config())
    assert [(m.base.id, m.head.id, m.how) for m in matching.matches] == [("train", "train", "id")]
    assert matching.continuity == 1.0


def test_steps_match_by_fingerprint_when_renamed() -> None:
    matching = match_steps([step("train", "same"), step("load")], [step("fit", "same"), step("load")], Config())
    assert {(m.base.id, m.head.id, m.how) for m in matching.matches} == {("train", "fit", "fingerprint"),
                                                                         ("load", "load", "id")}


def test_steps_match_by_similarity_above_the_bound_only() -> None:
    sketch = tuple(range(64))
    close = tuple(range(8, 72))  # bottom-64 of the union is 0..63, 56 of them shared: 0.875
    far = tuple(range(40, 104))
    config = Config(similarity_threshold=0.6)
    matched = match_steps([step("train", "a", sketch)], [step("fit", "b", close)], config)
    assert [(m.how, round(m.similarity, 2)) for m in matched.matches] == [("similarity", 0.88)]
    unmatched = match_steps([step("train", "a", sketch)], [step("fit", "b", far)], config)
    assert not unmatched.matches and unmatched.continuity == 0.0
    assert [s.id for s in unmatched.removed] == ["train"] and [s.id for s in unmatched.added] == ["fit"]
    strict = match_steps([step("train", "a", sketch)], [step("fit", "b", close)], Config(similarity_threshold=0.9))
    assert not strict.matches


def test_similarity_pairs_the_most_alike_first() -> None:
    base = [step("a", "1", tuple(range(0, 64))), step("b", "2", tuple(range(100, 164)))]
    head = [step("x", "3", tuple(range(102, 166))), step("y", "4", tuple(range(1, 65)))]
    matching = match_steps(base, head, Config())
    assert {(m.base.id, m.head.id) for m in matching.matches} == {("a", "y"), ("b", "x")}


def test_continuity_is_the_share_of_base_steps_with_a_match() -> None:
    base = [step("a"), step("b"), step("c"), step("d")]
    head = [step("a"), step("e"), step("f")]
    assert match_steps(base, head, Config()).continuity == 0.25
    assert match_steps([], [step("a")], Config()).continuity == 1.0


def test_pipelines_pair_by_name_and_module_then_content_then_name() -> None:
    shared = (step("load", "l"), step("train", "t"))
    base = Project(root="", pipelines=(
        pipeline("training", "pipelines.training", shared),
        pipeline("old_name", "pipelines.scoring", (step("score", "s"),)),
        pipeline("moved", "pipelines.moved", (step("x", "x1"),)),
        pipeline("gone", "pipelines.gone", (step("g", "g1"),)),
    ))
    head = Project(root="", pipelines=(
        pipeline("training", "pipelines.training", shared),
        pipeline("new_name", "pipelines.scoring", (step("score", "s"),)),
        pipeline("moved", "flows.moved", (step("y", "y1"),)),
        pipeline("fresh", "pipelines.fresh", (step("f", "f1"),)),
    ))
    pairing = pair_pipelines(base, head, Config())
    assert sorted((b.name, h.name, how) for b, h, how in pairing.pairs) == [
        ("moved", "moved", "moved"), ("old_name", "new_name", "content"), ("training", "training", "name")]
    assert [p.name for p in pairing.removed] == ["gone"]
    assert [p.name for p in pairing.added] == ["fresh"]


def test_a_moved_and_rewritten_pipeline_is_paired_by_name_and_judged_by_continuity() -> None:
    base = Project(root="", pipelines=(pipeline("moved", "pipelines.moved", (step("x", "x1"),)),))
    head = Project(root="", pipelines=(pipeline("moved", "flows.moved", (step("y", "y1"),)),))
    change = compare(base, head).pipelines[0]
    assert change.status is Status.RENAMED and change.decision is Decision.PIPELINE
    assert {f.rule for f in change.findings} >= {"PV501", "PV503"}


def test_collisions_are_different_pipelines_sharing_a_declared_name() -> None:
    a = pipeline("training", "pipelines.a", (step("x"),), fingerprint="p1")
    b = pipeline("training", "pipelines.b", (step("y"),), fingerprint="p2")
    twin = pipeline("training", "pipelines.c", (step("x"),), fingerprint="p1")
    assert [c.name for c in collisions(Project(root="", pipelines=(a, b)))] == ["training"]
    assert collisions(Project(root="", pipelines=(a, twin))) == ()


def _case(name: str, config: Config | None = None) -> dict[str, object]:
    report = compare(scan_tree(CASES / name / "before"), scan_tree(CASES / name / "after"), config)
    return {c.name: c for c in report.pipelines}


def test_continuity_threshold_is_configurable() -> None:
    scoring = _case("every_step_replaced")["churn_scoring"]
    assert scoring.decision is Decision.PIPELINE and scoring.continuity == 0.0  # type: ignore[attr-defined]
    lenient = _case("every_step_replaced", Config(continuity_threshold=0.0))["churn_scoring"]
    assert lenient.decision is Decision.VERSION  # type: ignore[attr-defined]
    assert "PV501" not in {f.rule for f in lenient.findings}  # type: ignore[attr-defined]


def test_every_step_tweaked_keeps_full_continuity() -> None:
    scoring = _case("every_step_tweaked")["churn_scoring"]
    assert scoring.continuity == 1.0 and scoring.decision is Decision.VERSION  # type: ignore[attr-defined]


def test_a_renamed_and_edited_step_is_matched_by_similarity_unless_the_bound_forbids_it() -> None:
    training = _case("renamed_and_modified")["churn_training"]
    assert training.step_matches["train_model"] == "fit_model"  # type: ignore[attr-defined]
    assert "PV403" not in {f.rule for f in training.findings}  # type: ignore[attr-defined]
    strict = _case("renamed_and_modified", Config(similarity_threshold=1.0))["churn_training"]
    assert "train_model" not in strict.step_matches  # type: ignore[attr-defined]
    assert "PV403" in {f.rule for f in strict.findings}  # type: ignore[attr-defined]


def test_repeated_ids_are_matched_once_each() -> None:
    matching = match_steps([step("a", "1"), step("a", "2")], [step("a", "1")], Config())
    assert len(matching.matches) == 1 and len(matching.removed) == 1


def test_similarity_with_a_floor_is_the_similarity_or_certainly_under_the_floor() -> None:
    """The floor spares sorting the union of sketches that cannot reach it; every score
    that can is exactly the plain one (so pairing takes the same pairs)."""
    import random

    from pvcheck.analyzer.fingerprint import SKETCH_SIZE, similarity

    rng = random.Random(7)
    checked = skipped = 0
    for _ in range(3000):
        shared = rng.sample(range(10_000), rng.randint(0, SKETCH_SIZE))
        a = tuple(sorted(set(shared + rng.sample(range(10_000, 20_000), rng.randint(0, SKETCH_SIZE))))[:SKETCH_SIZE])
        b = tuple(sorted(set(shared + rng.sample(range(20_000, 30_000), rng.randint(0, SKETCH_SIZE))))[:SKETCH_SIZE])
        floor = rng.choice([0.0, 0.3, 0.6, 0.9])
        plain, floored = similarity(a, b), similarity(a, b, floor)
        if floored == plain:
            checked += 1
        else:
            assert floored == 0.0 and plain < floor, (plain, floored, floor)
            skipped += 1
    assert checked > 1000 and skipped > 100
