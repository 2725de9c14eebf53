"""``pvcheck scan`` output: text for people, ``pvcheck.scan/1`` JSON for programs."""

from __future__ import annotations

import json
from typing import Any, Mapping

from pvcheck.model import Project, Severity
from pvcheck.output.style import Style, short


def scan_json(project: Project) -> str:
    return json.dumps(project.to_json(), indent=2, sort_keys=False) + "\n"


def _coverage(coverage: Mapping[str, Any], style: Style) -> list[str]:
    """What the analysis of one pipeline covered: steps found, calls it did not follow."""
    if not coverage:
        return []
    calls = list(coverage.get("calls_not_followed", ()))
    files = list(coverage.get("files_read", ()))
    head = (f"  coverage: {coverage.get('steps_found', 0)} step(s) found, {len(calls)} call(s) not followed"
            + (f", {len(files)} file(s) read" if files else ""))
    lines = [style(head, "dim")]
    for call in calls:
        lines.append(style(f"    not followed: {call.get('path')}:{call.get('line')}: {call.get('call')}", "yellow"))
    return lines


def scan_text(project: Project, style: Style) -> str:
    lines: list[str] = []
    for pipeline in project.pipelines:
        lines.append(
            f"{style(pipeline.name, 'bold')} ({pipeline.framework})  {pipeline.path}:{pipeline.line}  "
            f"{style(short(pipeline.fingerprint), 'dim')}"
            + (style("  [dynamic: fingerprinted conservatively]", "yellow") if pipeline.dynamic else "")
        )
        width = max((len(s.id) for s in pipeline.steps), default=0)
        incoming: dict[str, list[str]] = {}
        for edge in pipeline.edges:
            label = f"{edge.source}.{edge.output}" if edge.kind == "data" and edge.output else edge.source
            if edge.kind == "order":
                label = f"after {edge.source}"
            incoming.setdefault(edge.target, []).append(label)
        for step in pipeline.steps:
            sources = ", ".join(incoming.get(step.id, [])) or "-"
            lines.append(
                f"  {step.id.ljust(width)}  {style(short(step.fingerprint), 'dim')}  "
                f"{step.function}  {style('<- ' + sources, 'cyan')}"
            )
        if not pipeline.steps:
            lines.append("  (no steps)")
        lines.extend(_coverage(pipeline.coverage, style))
        lines.append("")
    if not project.pipelines:
        lines.append("no pipelines found")
        lines.append("")
    for diagnostic in project.diagnostics:
        colour = "red" if diagnostic.severity is Severity.ERROR else "yellow"
        lines.append(style(f"{diagnostic.severity.value}: ", colour) + diagnostic.one_line())
    summary = (f"{len(project.pipelines)} pipeline(s), "
               f"{sum(len(p.steps) for p in project.pipelines)} step invocation(s), "
               f"{project.files_scanned} file(s), {len(project.diagnostics)} diagnostic(s)")
    lines.append(style(summary, "dim"))
    return "\n".join(lines) + "\n"
