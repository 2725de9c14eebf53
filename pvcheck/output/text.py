"""The ``text`` report: what a person reads in a terminal or a CI log."""

from __future__ import annotations

from pvcheck.model import Decision, Report, Severity, Status
from pvcheck.output.report import RenderContext, changed_steps, decision_word, where
from pvcheck.output.style import Style, short
from pvcheck.resume import resume_from

_DECISION_COLOUR = {Decision.RUN: "green", Decision.VERSION: "yellow", Decision.PIPELINE: "red"}


def render_text(report: Report, context: RenderContext) -> str:
    style = context.style
    lines: list[str] = []
    if context.gate is not None and context.gate.versions:
        lines.append(style(f"versions against {context.gate.against}:", "bold"))
        lines.extend(f"  {line}" for line in context.gate.versions)
        lines.append("")
    for change in report.pipelines:
        lines.extend(_pipeline(change, style))
        lines.append("")
    if not report.pipelines:
        lines.append("no pipelines on either side")
        lines.append("")
    for diagnostic in report.diagnostics:
        colour = "red" if diagnostic.severity == Severity.ERROR else "yellow"
        lines.append(style(f"{str(diagnostic.severity)}: ", colour) + diagnostic.one_line())
    summary = report.summary
    lines.append(style(
        f"{len(report.pipelines)} pipeline(s): {summary['run']} run, {summary['version']} version, "
        f"{summary['pipeline']} pipeline, {summary['removed']} removed  "
        f"({context.base_label} -> {context.head_label})", "dim"))
    gate = context.gate
    if gate is not None:
        if gate.passed:
            lines.append(style(f"check passed: {gate.against} is up to date", "green"))
            if gate.hint:
                lines.append(style(f"note: {gate.hint}", "dim"))
        else:
            for problem in gate.problems:
                place = f"{problem.path}:{problem.line}: " if problem.path and problem.line else \
                    (f"{problem.path}: " if problem.path else "")
                lines.append(style("FAIL ", "red", "bold") + f"{place}{problem.message}")
            if gate.hint:
                lines.append(style(f"hint: {gate.hint}", "bold"))
    return "\n".join(lines) + "\n"


def _pipeline(change, style: Style) -> list[str]:  # type: ignore[no-untyped-def]
    decision = change.decision
    badge = decision_word(decision).upper() if decision else "REMOVED"
    colour = _DECISION_COLOUR.get(decision, "magenta") if decision else "magenta"
    title = f"{style(change.name, 'bold')}  {style(badge, colour, 'bold')}  {change.status.value}  {change.path}"
    if change.status is Status.RENAMED and change.base is not None:
        title += style(f"  (was {change.base.name} in {change.base.path})", "dim")
    if change.base_fingerprint != change.head_fingerprint and change.base and change.head:
        title += style(f"  {short(change.base_fingerprint)} -> {short(change.head_fingerprint)}", "dim")
    lines = [title]
    if change.continuity is not None and change.continuity < 1.0:
        lines.append(f"  continuity {change.continuity:.2f}")
    for finding in change.findings:
        place = where(finding)
        prefix = f"{place}: " if place else ""
        tag = style(f"[{finding.rule}]", _DECISION_COLOUR.get(finding.decision, "dim"))
        lines.append(f"  {prefix}{tag} {finding.explain()}")
    impact = change.impact
    if impact is not None and impact.reruns:
        lines.append(style(f"  impact: {impact.summary()}", "bold"))
        for step, why in impact.changed:
            lines.append(f"    {step}: changed ({why})")
        for step, source in impact.upstream:
            lines.append(f"    {step}: re-runs, {impact.upstream_reason} ({source} re-runs)")
        for step, why in impact.uncached:
            lines.append(f"    {step}: not cached ({why})")
        if impact.cached:
            lines.append(style(f"    stay cached: {', '.join(impact.cached)}", "dim"))
    resume = resume_from(change)
    if resume is not None:
        lines.append(f"  resume from `{resume}` (Metaflow: `resume {resume}` re-runs it and every step after it)")
    steps = changed_steps(change)
    if steps:
        parts = [f"{step} {before}->{after}" for step, before, after in steps]
        lines.append(style("  complexity: " + ", ".join(parts), "dim"))
    return lines
