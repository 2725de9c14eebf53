"""The ``github`` report: GitHub Actions workflow commands, one annotation per line.

``::error`` for what makes a new pipeline (and for a failed gate), ``::warning`` for a
new version, ``::notice`` for a run-level finding (renames, cosmetic edits).
Values are escaped as the Actions toolkit does (``escapeData``/``escapeProperty`` of
``@actions/core``): ``%``, CR and LF everywhere, and ``:`` and ``,`` in properties.
"""

from __future__ import annotations

from pvcheck.model import Decision, Report, Severity
from pvcheck.output.report import RenderContext

_LEVEL = {Decision.PIPELINE: "error", Decision.VERSION: "warning", Decision.RUN: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, file: str = "", line: int = 0, title: str = "") -> str:
    properties = []
    if file:
        properties.append(f"file={escape_property(file)}")
        if line:
            properties.append(f"line={line}")
    if title:
        properties.append(f"title={escape_property(title)}")
    head = f"::{level} " + ",".join(properties) if properties else f"::{level}"
    return f"{head}::{escape_data(message)}"


def render_github(report: Report, context: RenderContext) -> str:
    lines: list[str] = []
    for change in report.pipelines:
        for finding in change.findings:
            lines.append(command(
                _LEVEL[finding.decision],
                f"{change.name}: {finding.explain()} ({finding.decision.value})",
                context.repo_path(finding.path), finding.line, finding.rule,
            ))
    for diagnostic in report.diagnostics:
        level = "error" if diagnostic.severity == Severity.ERROR else "warning"
        message = diagnostic.message + (f"; {diagnostic.hint}" if diagnostic.hint else "")
        lines.append(command(level, message, context.repo_path(diagnostic.path), diagnostic.line, diagnostic.code))
    gate = context.gate
    if gate is not None:
        for problem in gate.problems:
            message = problem.message + (f"; {gate.hint}" if gate.hint else "")
            lines.append(command("error", message, context.repo_path(problem.path), problem.line,
                                 problem.rule))
    summary = report.summary
    lines.append(f"pvcheck: {len(report.pipelines)} pipeline(s): {summary['run']} run, {summary['version']} version, "
                 f"{summary['pipeline']} pipeline, {summary['removed']} removed")
    return "\n".join(lines) + "\n"
