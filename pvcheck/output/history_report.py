"""``pvcheck history`` as text, JSON or markdown (the SVG timeline is in :mod:`timeline_svg`)."""

from __future__ import annotations

import json

from pvcheck.history import History, PipelineEvent
from pvcheck.output.markdown import cell, code
from pvcheck.output.style import Style


def _decision(event: PipelineEvent) -> str:
    return event.decision.value if event.decision else "removed"


def _raw(event: PipelineEvent) -> str:
    return "new" if event.raw_changed else "same"


def _why(event: PipelineEvent, subject: str) -> str:
    """The finding that decided; never the commit's subject alone, which says what the
    author meant, not what changed (it appears only as context of a no-change line)."""
    if event.reason:
        return event.reason
    if event.decision is None:
        return "no longer in the code"
    return f'nothing in its reach changed (commit "{subject}")'


def churn_line(history: History) -> str:
    """``pvcheck made 18 versions where raw-source hashing made 44 (2.4x fewer)``."""
    versions = sum(s.versions for s in history.summaries)
    raw = sum(s.raw_versions for s in history.summaries)
    ratio = f" ({raw / versions:.1f}x fewer)" if versions and raw > versions else ""
    return (f"pvcheck made {versions} version{'s' if versions != 1 else ''} where raw-source hashing made "
            f"{raw}{ratio}, over {history.commits_walked} commits")


def history_text(history: History, style: Style | None = None) -> str:
    style = style or Style(False)
    rows = [("commit", "pipeline", "decision", "version", "raw-source", "why")]
    for entry in history.entries:
        for event in entry.events:
            rows.append((entry.short, event.pipeline, _decision(event), event.label, _raw(event),
                         _why(event, entry.subject)))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    colours = {"pipeline": ("red", "bold"), "version": ("yellow", "bold"), "run": ("dim",), "removed": ("magenta",)}
    out = []
    for number, row in enumerate(rows):
        cells = [row[i].ljust(widths[i]) for i in range(5)]
        if number == 0:
            out.append(style("  ".join(cells + [row[5]]), "bold"))
            continue
        cells[2] = style(cells[2], *colours.get(row[2], ()))
        out.append("  ".join(cells + [row[5]]))
    out.append("")
    summary = [("pipeline", "commits", "runs", "versions", "lineages", "raw-source versions", "now")]
    for s in history.summaries:
        summary.append((s.name, str(s.commits), str(s.runs), str(s.versions), str(s.lineages), str(s.raw_versions),
                        s.final))
    widths = [max(len(r[i]) for r in summary) for i in range(7)]
    for number, row in enumerate(summary):
        line = "  ".join(row[i].ljust(widths[i]) if i == 0 or i == 6 else row[i].rjust(widths[i]) for i in range(7))
        out.append(style(line.rstrip(), "bold") if number == 0 else line.rstrip())
    out.append("")
    out.append(churn_line(history) + f" ({history.commits_analyzed} analyzed).")
    return "\n".join(out) + "\n"


def history_json(history: History) -> str:
    return json.dumps(history.to_json(), indent=2, ensure_ascii=False) + "\n"


def history_markdown(history: History) -> str:
    out = ["## pvcheck history", "", churn_line(history) + ".", ""]
    out += ["| pipeline | commits | runs | versions (pvcheck) | lineages | versions (raw-source hash) | now |",
            "|---|---:|---:|---:|---:|---:|---|"]
    for s in history.summaries:
        out.append(f"| {code(s.name)} | {s.commits} | {s.runs} | **{s.versions}** | {s.lineages} | "
                   f"{s.raw_versions} | {cell(s.final)} |")
    out += ["", "| commit | pipeline | decision | version | raw-source | why |", "|---|---|---|---|---|---|"]
    for entry in history.entries:
        for event in entry.events:
            decision = _decision(event)
            if decision in ("version", "pipeline"):
                decision = f"**{decision}**"
            out.append(f"| {code(entry.short)} | {code(event.pipeline)} | {decision} | {cell(event.label)} | "
                       f"{_raw(event)} | {cell(_why(event, entry.subject))} |")
    return "\n".join(out) + "\n"
