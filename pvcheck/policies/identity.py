"""The ``identity`` policy: is it still the same pipeline?

* continuity (share of base steps with a counterpart) below the threshold: a new
  pipeline (PV501);
* two different pipelines in one revision declaring one name: a collision (PV502);
* a pipeline renamed or moved to another file: reported, a run by itself (PV503);
* a pipeline that did not exist in the base (PV504).
"""

from __future__ import annotations

from typing import Iterable, Iterator, Optional

from pvcheck.config import Config
from pvcheck.model import Decision, Finding, Pipeline, Project
from pvcheck.policies.base import Example, Policy, Rule
from pvcheck.policies.examples import PIPELINE, STEPS, edit, project
from pvcheck.policies.matching import PipelineComparison, collisions

_OTHER_STEPS = '''\
from zenml import step


@step
def fetch(url: str = "https://example.org/data.json") -> dict:
    payload = {"url": url, "items": []}
    for index in range(10):
        payload["items"].append(index * index)
    return payload


@step
def summarise(payload: dict) -> str:
    lines = [f"{key}={value}" for key, value in sorted(payload.items())]
    return "\\n".join(lines)
'''

_OTHER_PIPELINE = edit(PIPELINE, "from steps import load, train", "from other_steps import fetch, summarise") \
    .replace("    rows = load()\n    train(rows)\n", "    payload = fetch()\n    summarise(payload)\n")

_SAME_NAME_ELSEWHERE = '''\
from zenml import pipeline

from steps import load


@pipeline(name="example")
def another_example():
    load()
'''


class IdentityPolicy(Policy):
    name = "identity"
    rules = (
        Rule(
            "PV501", "identity", "continuity below the threshold: most base steps have no counterpart "
            "(matched by id, fingerprint or similarity)", Decision.PIPELINE,
            triggers=(Example(project(), project(pipeline=_OTHER_PIPELINE, other_steps_dot_py=_OTHER_STEPS),
                              Decision.PIPELINE, note="every step replaced by unrelated ones"),),
            near_misses=(Example(project(), project(steps=edit(STEPS, "rows = [1, 2, 3]", "rows = [3, 2, 1]")
                                                    .replace("total = sum(rows)", "total = sum(rows) + 1")),
                                 Decision.VERSION, note="every step tweaked a little"),),
        ),
        Rule(
            "PV502", "identity", "two different pipelines in one revision share a declared name (collision)",
            Decision.PIPELINE,
            triggers=(Example(project(), project(pipelines2_dot_py=_SAME_NAME_ELSEWHERE), Decision.PIPELINE,
                              note="a second pipeline declares name=\"example\""),),
            near_misses=(Example(project(), project(pipelines2_dot_py=_SAME_NAME_ELSEWHERE.replace(
                "name=\"example\"", "name=\"another\"")), Decision.RUN, note="a second pipeline, its own name"),),
        ),
        Rule(
            "PV503", "identity", "a pipeline renamed or moved to another file (reported as a rename)", Decision.RUN,
            triggers=(
                Example(project(), project(pipeline=edit(PIPELINE, 'name="example"', 'name="example_v2"')),
                        Decision.RUN, pipeline="example_v2", note="declared name changed"),
                Example(project(), {**{k: v for k, v in project().items() if k != "pipeline.py"},
                                    "flows/training.py": PIPELINE},
                        Decision.RUN, note="moved to flows/training.py"),
            ),
            near_misses=(Example(project(), project(pipeline=edit(PIPELINE, "enable_cache=True",
                                                                  "enable_cache=False")),
                                 Decision.RUN, note="same name, same file"),),
        ),
        Rule(
            "PV504", "identity", "a pipeline that the base revision does not have", Decision.PIPELINE,
            triggers=(Example(project(), project(pipelines2_dot_py=_SAME_NAME_ELSEWHERE.replace(
                "name=\"example\"", "name=\"another\"")), Decision.PIPELINE, pipeline="another",
                note="a new pipeline"),),
            near_misses=(Example(project(), project(pipeline=edit(PIPELINE, 'name="example"', 'name="renamed"')),
                                 Decision.RUN, pipeline="renamed", note="a renamed pipeline is not a new one"),),
        ),
    )

    def evaluate(self, comparison: PipelineComparison, config: Config) -> Iterable[Finding]:
        base, head = comparison.base, comparison.head
        continuity = comparison.continuity
        if continuity < config.continuity_threshold:
            lost = [s.id for s in comparison.steps.removed]
            yield self.finding("PV501", path=head.path, line=head.line, kind="continuity-lost", subject=head.name,
                               new=round(continuity, 4),
                               detail={"threshold": config.continuity_threshold, "lost": lost,
                                       "steps": len(base.steps)})
        if base.name != head.name:
            yield self.finding("PV503", path=head.path, line=head.line, kind="pipeline-renamed", subject=head.name,
                               old=base.name, new=head.name)
        if base.path != head.path:
            yield self.finding("PV503", path=head.path, line=head.line, kind="pipeline-moved", subject=head.name,
                               old=base.path, new=head.path)
        yield from self._collisions(head, comparison.head_project, comparison.base_project)

    def evaluate_added(self, pipeline: Pipeline, project: Project, config: Config) -> Iterable[Finding]:
        """Findings for a pipeline the base does not have."""
        yield self.finding("PV504", path=pipeline.path, line=pipeline.line, kind="pipeline-added",
                           subject=pipeline.name, new=pipeline.function)
        yield from self._collisions(pipeline, project)

    def _collisions(self, pipeline: Pipeline, project: Project, base: Optional[Project] = None) -> Iterator[Finding]:
        """PV502 for a collision ``pipeline`` is part of: a ``pipeline`` decision when it is new,
        a warning (``run``) when the base revision has a collision of the same name already --
        the diff did not make it, and ``check`` still fails on it."""
        old = {c.name for c in collisions(base)} if base is not None else set()
        for collision in collisions(project):
            if not any(p is pipeline for p in collision.pipelines):
                continue
            others = [p for p in collision.pipelines if p is not pipeline]
            in_base = collision.name in old
            detail = {"function": pipeline.function, "in_base": in_base,
                      "others": [{"function": p.function, "path": p.path, "line": p.line} for p in others]}
            yield self.finding("PV502", path=pipeline.path, line=pipeline.line, kind="name-collision",
                               subject=collision.name, detail=detail, decision=Decision.RUN if in_base else None)


__all__ = ["IdentityPolicy"]
