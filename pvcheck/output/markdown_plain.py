"""A plain ``markdown`` report: a summary table, then the findings per pipeline.

The fallback for ``--format markdown``; the pull-request renderer (with step graphs)
replaces it in :data:`pvcheck.output.report.FORMATS`.
"""

from __future__ import annotations

from pvcheck.model import Report
from pvcheck.output.report import RenderContext, changed_steps, decision_word, where


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report, context: RenderContext) -> str:
    out = [f"## pvcheck: {context.base_label} → {context.head_label}", ""]
    gate = context.gate
    if gate is not None:
        out.append("**check passed**" if gate.passed else f"**check failed**: {_cell(gate.hint)}")
        out.append("")
        for problem in gate.problems:
            out.append(f"- :x: {_cell(problem.message)}")
        for line in gate.versions:
            out.append(f"- `{_cell(line)}`")
        out.append("")
    if report.pipelines:
        out += ["| pipeline | status | decision | findings |", "|---|---|---|---|"]
        for change in report.pipelines:
            out.append(f"| `{_cell(change.name)}` | {change.status.value} | **{decision_word(change.decision)}** "
                       f"| {len(change.findings)} |")
        out.append("")
    else:
        out += ["No pipelines on either side.", ""]
    for change in report.pipelines:
        if not change.findings:
            continue
        out.append(f"### `{_cell(change.name)}`: {decision_word(change.decision)}")
        out.append("")
        for finding in change.findings:
            place = where(finding)
            out.append(f"- `{finding.rule}` {finding.decision.value}: {_cell(finding.explain())}"
                       + (f" (`{place}`)" if place else ""))
        steps = changed_steps(change)
        if steps:
            out.append("- complexity: " + ", ".join(f"`{s}` {b} → {a}" for s, b, a in steps))
        out.append("")
    if report.diagnostics:
        out.append("### Diagnostics")
        out.append("")
        for diagnostic in report.diagnostics:
            out.append(f"- {str(diagnostic.severity)}: `{_cell(diagnostic.one_line())}`")
        out.append("")
    summary = report.summary
    out.append(f"_{summary['run']} run, {summary['version']} version, {summary['pipeline']} pipeline, "
               f"{summary['removed']} removed_")
    return "\n".join(out) + "\n"
