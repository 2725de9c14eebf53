"""The markdown report of a comparison: what a pull request comment or a CI summary shows.

A summary table (pipeline, old version, new version, decision), then one section per
changed pipeline with its step graph as Mermaid (GitHub renders it) and its findings.
A pure function of the :class:`~pvcheck.model.Report`; versions come from the caller
(``check`` knows them from the lock file, ``diff`` does not).
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence, Union

from pvcheck.model import Decision, Finding, PipelineChange, Report, Severity, Status
from pvcheck.output.mermaid import mermaid
from pvcheck.output.step_graph import change_graph
from pvcheck.output.style import short
from pvcheck.resume import resume_from

#: A version as the caller knows it: a number (``3`` -> ``v3``) or a ready label.
VersionLabel = Union[int, str, None]
Versions = Mapping[str, tuple[VersionLabel, VersionLabel]]

_DECISION_TEXT = {
    Decision.RUN: "run",
    Decision.VERSION: "**version**",
    Decision.PIPELINE: "**pipeline**",
}

_HEADLINE_WORDS = {
    Decision.PIPELINE: ("new pipeline", "new pipelines"),
    Decision.VERSION: ("new version", "new versions"),
    Decision.RUN: ("run", "runs"),
}

#: Past this many steps a graph stops helping in a comment; the findings still say it all.
MAX_GRAPH_STEPS = 60


def cell(text: object) -> str:
    """``text`` safe inside a markdown table cell (no column breaks, no HTML)."""
    value = str(text).replace("\r", "").replace("\n", " ")
    # '<' could open an HTML tag; '>' is harmless and stays readable in the raw text
    return value.replace("&", "&amp;").replace("<", "&lt;").replace("|", "\\|")


def code(text: object, table: bool = True) -> str:
    """``text`` as an inline code span, whatever backticks it holds. In a table cell a
    ``|`` must be escaped even inside code; elsewhere the escape would show."""
    value = str(text).replace("\n", " ")
    if table:
        value = value.replace("|", "\\|")
    fence = "`"
    while fence in value:
        fence += "`"
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def version_label(value: VersionLabel) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, int):
        return f"v{value}"
    return str(value)


def headline(report: Report) -> str:
    """``pvcheck: 1 new version, 2 runs`` -- the report's first line."""
    counts = {d: 0 for d in Decision}
    for change in report.pipelines:
        if change.decision is not None:
            counts[change.decision] += 1
    removed = sum(1 for c in report.pipelines if c.status is Status.REMOVED)
    parts = []
    for decision in (Decision.PIPELINE, Decision.VERSION, Decision.RUN):
        if counts[decision]:
            singular, plural = _HEADLINE_WORDS[decision]
            parts.append(f"{counts[decision]} {singular if counts[decision] == 1 else plural}")
    if removed:
        parts.append(f"{removed} removed")
    return "pvcheck: " + (", ".join(parts) if parts else "no pipelines")


def is_changed(change: PipelineChange) -> bool:
    """Worth a section of its own: anything but an untouched pipeline."""
    return change.status is not Status.UNCHANGED or bool(change.findings)


def markdown_report(report: Report, versions: Optional[Versions] = None, title: Optional[str] = None,
                    graphs: bool = True) -> str:
    """The whole report as GitHub-flavoured markdown.

    ``versions`` maps a pipeline name to its (old, new) version, e.g. ``{"training": (3, 4)}``;
    pipelines it does not name show fingerprints instead.
    """
    versions = versions or {}
    out: list[str] = [f"## {title or headline(report)}", ""]
    if not report.pipelines:
        out += ["No pipelines found on either side.", ""]
    else:
        out += _summary_table(report.pipelines, versions)
    for change in report.pipelines:
        if is_changed(change):
            out += _section(change, versions.get(change.name), graphs)
    out += _diagnostics(report)
    return "\n".join(out).rstrip("\n") + "\n"


def _summary_table(changes: Sequence[PipelineChange], versions: Versions) -> list[str]:
    known = any(change.name in versions for change in changes)
    old_head, new_head = ("old version", "new version") if known else ("base", "head")
    rows = [f"| pipeline | status | {old_head} | {new_head} | decision |", "|---|---|---|---|---|"]
    for change in changes:
        if change.name in versions:
            old, new = (version_label(v) for v in versions[change.name])
        else:
            old, new = _fingerprint_labels(change)
        decision = _DECISION_TEXT[change.decision] if change.decision else "—"
        rows.append(f"| {code(change.name)} | {change.status.value} | {cell(old)} | {cell(new)} | {decision} |")
    return rows + [""]


def _fingerprint_labels(change: PipelineChange) -> tuple[str, str]:
    old = short(change.base_fingerprint) if change.base else "—"
    new = short(change.head_fingerprint) if change.head else "—"
    return (f"`{old}`" if old != "—" else old, f"`{new}`" if new != "—" else new)


def _section(change: PipelineChange, version: Optional[tuple[VersionLabel, VersionLabel]], graphs: bool) -> list[str]:
    decision = change.decision.value if change.decision else "removed"
    heading = f"### {code(change.name, table=False)}: {decision}"
    if version is not None:
        heading += f" ({version_label(version[0])} → {version_label(version[1])})"
    out = [heading, ""]
    facts = [code(change.path, table=False)] if change.path else []
    if change.status is Status.RENAMED and change.base is not None:
        facts.append(f"renamed from {code(change.base.name, False)} ({code(change.base.path, False)})")
    elif change.status is not Status.MODIFIED:
        facts.append(change.status.value)
    if change.continuity is not None and change.base is not None and change.head is not None:
        facts.append(f"continuity {change.continuity:.0%}")
    if change.impact is not None and change.impact.total:
        facts.append(f"**{change.impact.summary()}**")
    resume = resume_from(change)
    if resume is not None:
        facts.append(f"resume from {code(resume, False)}")
    if facts:
        out += [" · ".join(facts), ""]
    out += _impact(change)
    graph = change_graph(change)
    if graphs and graph.nodes and len(graph.nodes) <= MAX_GRAPH_STEPS:
        out += ["```mermaid", mermaid([graph]).rstrip("\n"), "```", ""]
    elif graphs and len(graph.nodes) > MAX_GRAPH_STEPS:
        out += [f"_{len(graph.nodes)} steps: graph left out; `pvcheck graph --pipeline {change.name}` draws it._", ""]
    if change.findings:
        out += _findings_table(change.findings)
    else:
        out += ["No findings.", ""]
    return out


def _impact(change: PipelineChange) -> list[str]:
    """Which steps re-run and why, under the framework's cache rules (a collapsed block)."""
    impact = change.impact
    if impact is None or not impact.reruns:
        return []
    rows = ["<details>", f"<summary>What re-runs: {cell(impact.summary())}</summary>", "",
            "| step | re-runs because |", "|---|---|"]
    rows += [f"| {code(step)} | it changed ({cell(why)}) |" for step, why in impact.changed]
    rows += [f"| {code(step)} | {cell(impact.upstream_reason)} ({code(source)} re-runs) |"
             for step, source in impact.upstream]
    rows += [f"| {code(step)} | not cached ({cell(why)}) |" for step, why in impact.uncached]
    if impact.cached:
        rows.append(f"| {', '.join(code(step) for step in impact.cached)} | stay cached |")
    return rows + ["", f"_{cell(impact.assumption)}._", "", "</details>", ""]


def _findings_table(findings: Sequence[Finding]) -> list[str]:
    ordered = sorted(findings, key=lambda f: (-f.decision.severity, f.path, f.line, f.rule))
    rows = ["| decision | rule | step | where | reason |", "|---|---|---|---|---|"]
    for finding in ordered:
        where = f"{finding.path}:{finding.line}" if finding.line else finding.path
        rows.append(
            f"| {_DECISION_TEXT[finding.decision]} | {cell(finding.rule)} | "
            f"{code(finding.step) if finding.step else ''} | {code(where) if where else ''} | "
            f"{cell(finding.explain())} |"
        )
    return rows + [""]


def _diagnostics(report: Report) -> list[str]:
    if not report.diagnostics:
        return []
    errors = sum(1 for d in report.diagnostics if d.severity is Severity.ERROR)
    summary = f"Analyzer diagnostics ({len(report.diagnostics)}, {errors} error{'s' if errors != 1 else ''})"
    out = ["<details>", f"<summary>{summary}</summary>", "", "| code | where | message |", "|---|---|---|"]
    for diagnostic in report.diagnostics:
        where = f"{diagnostic.path}:{diagnostic.line}" if diagnostic.line else diagnostic.path
        message = diagnostic.message + (f"; {diagnostic.hint}" if diagnostic.hint else "")
        out.append(f"| {cell(diagnostic.code)} | {code(where)} | {cell(message)} |")
    return out + ["", "</details>", ""]
