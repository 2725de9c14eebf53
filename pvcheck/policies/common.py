"""Small helpers the built-in policies share: how much detail a model has, where a
body first differs, how to show a value in a message.

Models reconstructed from a lock file carry fingerprints but no statements, helpers,
parameters or configuration. Policies ask :func:`step_has_detail` /
:func:`pipeline_has_detail` before explaining a change, and fall back to deciding from
fingerprints alone.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Optional, Sequence

from pvcheck.findings import show as readable
from pvcheck.model import Pipeline, Project, StatementPrint, Step


def step_has_detail(step: Step) -> bool:
    """True for a step from a scan; False for one rebuilt from a lock file.

    Every scanned step function has at least one statement (``pass`` counts), a
    lock file records none.
    """
    return bool(step.statements)


def pipeline_has_detail(pipeline: Pipeline) -> bool:
    return (any(step_has_detail(s) for s in pipeline.steps) or bool(pipeline.config_lines)
            or bool(pipeline.parameters) or bool(pipeline.config))


def first_changed_line(base: Sequence[StatementPrint], head: Sequence[StatementPrint]) -> Optional[int]:
    """The head line of the first top-level statement that differs; None if none does."""
    for old, new in zip(base, head):
        if old.fingerprint != new.fingerprint:
            return new.line
    if len(head) > len(base):
        return head[len(base)].line
    if len(base) > len(head):
        return head[-1].line if head else None
    return None


def show(value: Any) -> str:
    """A configuration value as it reads in a message: literals as JSON (keys sorted), the
    analyzer's tagged values (``$ref``, ``$call``, ``$expr`` ...) as readable code."""
    return readable(value)


def fingerprints_only(project: Project) -> Project:
    """``project`` as a lock file remembers it: names, places, fingerprints, sketches,
    complexity and the graph; no statements, helpers, parameters or configuration.

    Used to show (and test) that every policy degrades gracefully on such a base.
    """
    pipelines = []
    for pipeline in project.pipelines:
        steps = tuple(
            Step(id=s.id, function=s.function, name=s.name, path=s.path, line=s.line, fingerprint=s.fingerprint,
                 body_fingerprint=s.body_fingerprint, signature_fingerprint=s.signature_fingerprint,
                 config_fingerprint=s.config_fingerprint, sketch=s.sketch, complexity=s.complexity)
            for s in pipeline.steps
        )
        pipelines.append(Pipeline(
            name=pipeline.name, framework=pipeline.framework, function=pipeline.function, module=pipeline.module,
            path=pipeline.path, line=pipeline.line, steps=steps, edges=pipeline.edges,
            fingerprint=pipeline.fingerprint, graph_fingerprint=pipeline.graph_fingerprint,
            config_fingerprint=pipeline.config_fingerprint, body_fingerprint=pipeline.body_fingerprint,
            code_fingerprint=pipeline.code_fingerprint,
        ))
    return replace(project, root="", pipelines=tuple(pipelines), diagnostics=())


__all__ = [
    "fingerprints_only",
    "first_changed_line",
    "pipeline_has_detail",
    "show",
    "step_has_detail",
]
