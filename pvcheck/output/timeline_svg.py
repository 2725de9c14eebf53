"""``pvcheck history --format svg``: one timeline per pipeline, hand-written SVG.

Commits run left to right. On each pipeline's lane, pvcheck's decisions: a small grey
dot for another run of the same version, a blue dot (with its number) for a new
version, a red diamond for a new lineage (a new pipeline), a black cross for a removal.
Under the lane, a thin strip of orange ticks marks every version a raw-source hash
would have made at the same commits, so the churn difference is visible at a glance.
The right margin gives the totals. No dependency: strings in, an SVG document out.
"""

from __future__ import annotations

from typing import Callable, Optional
from xml.sax.saxutils import escape as _xml_escape

from pvcheck.history import History, PipelineEvent, PipelineSummary

RUN = "#8c959f"
VERSION = "#0969da"
LINEAGE = "#cf222e"
RAW = "#e16f24"
INK = "#1f2328"
MUTED = "#57606a"
GRID = "#d0d7de"

_LEFT = 170  # pipeline names
_RIGHT = 230  # totals
_TOP = 96  # title and legend
_LANE = 64
_FONT = "font-family=\"-apple-system,Segoe UI,Helvetica,Arial,sans-serif\""


def _esc(text: str) -> str:
    return _xml_escape(text, {'"': "&quot;"})


def timeline_svg(history: History, title: Optional[str] = None, width: Optional[int] = None) -> str:
    """The whole history as one SVG document."""
    names = [s.name for s in history.summaries]
    total = max(history.commits_walked, 1)
    plot = width - _LEFT - _RIGHT if width else max(480, min(1200, total * 8))
    full_width = _LEFT + plot + _RIGHT
    height = _TOP + _LANE * max(len(names), 1) + 56
    step = plot / (total - 1) if total > 1 else 0.0

    def x(index: int) -> float:
        return round(_LEFT + index * step, 1) if total > 1 else _LEFT + plot / 2

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{full_width}" height="{height}" '
        f'viewBox="0 0 {full_width} {height}" role="img" aria-label="{_esc(title or "pvcheck history")}">',
        f'<rect width="{full_width}" height="{height}" fill="#ffffff"/>',
        f'<text x="16" y="28" {_FONT} font-size="17" font-weight="600" fill="{INK}">'
        f'{_esc(title or _default_title(history))}</text>',
    ]
    out += _legend(16, 56)
    if not names:
        out.append(f'<text x="{_LEFT}" y="{_TOP + 30}" {_FONT} font-size="13" fill="{MUTED}">'
                   "no pipelines in this history</text>")
    by_pipeline: dict[str, list[tuple[int, str, str, PipelineEvent]]] = {n: [] for n in names}
    for entry in history.entries:
        for event in entry.events:
            if event.pipeline in by_pipeline:
                by_pipeline[event.pipeline].append((entry.index, entry.short, entry.subject, event))
    for lane, summary in enumerate(history.summaries):
        y = _TOP + lane * _LANE + 22
        out += _lane(summary, by_pipeline[summary.name], y, x, plot)
    out += _axis(history, x, _TOP + _LANE * max(len(names), 1) + 4, total)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _default_title(history: History) -> str:
    versions = sum(s.versions for s in history.summaries)
    raw = sum(s.raw_versions for s in history.summaries)
    return (f"pvcheck history: {history.commits_walked} commits, {versions} versions by pvcheck, "
            f"{raw} by raw-source hashing")


def _legend(x0: int, y: int) -> list[str]:
    items = [
        (_dot(0, 0, RUN, 4), "run (same version)"),
        (_dot(0, 0, VERSION, 6), "new version"),
        (_diamond(0, 0, LINEAGE, 8), "new pipeline / lineage"),
        (_cross(0, 0, INK, 5), "removed"),
        (f'<rect x="-1.5" y="-7" width="3" height="14" fill="{RAW}"/>', "raw-source hash version"),
    ]
    out = []
    cursor = x0 + 8
    for shape, label in items:
        out.append(f'<g transform="translate({cursor},{y})">{shape}</g>')
        out.append(f'<text x="{cursor + 12}" y="{y + 4}" {_FONT} font-size="12" fill="{INK}">{_esc(label)}</text>')
        cursor += 24 + int(len(label) * 6.6)
    return out


def _lane(summary: PipelineSummary, events: list[tuple[int, str, str, PipelineEvent]], y: int,
          x: Callable[[int], float], plot: float) -> list[str]:
    out = [
        f'<text x="{_LEFT - 14}" y="{y + 4}" text-anchor="end" {_FONT} font-size="13" font-weight="600" '
        f'fill="{INK}">{_esc(_clip(summary.name, 22))}</text>',
        f'<text x="{_LEFT - 14}" y="{y + 22}" text-anchor="end" {_FONT} font-size="10" fill="{RAW}">raw-source</text>',
    ]
    if events:
        start = x(events[0][0])
        end = x(events[-1][0]) if events[-1][3].version is None else _LEFT + plot
        out.append(f'<line x1="{start}" y1="{y}" x2="{end}" y2="{y}" stroke="{GRID}" stroke-width="2"/>')
    out.append(f'<line x1="{_LEFT}" y1="{y + 18}" x2="{_LEFT + plot}" y2="{y + 18}" stroke="{GRID}" '
               'stroke-width="1" stroke-dasharray="2 3"/>')
    # runs first so versions and lineages are drawn on top of them
    for index, short, subject, event in sorted(events, key=lambda item: _rank(item[3])):
        cx = x(index)
        tip = f"<title>{_esc(short)} {_esc(subject)}: {_esc(_describe(event))}</title>"
        if event.raw_changed:
            out.append(f'<rect x="{cx - 1.5}" y="{y + 12}" width="3" height="12" fill="{RAW}">{tip}</rect>')
        if event.version is None:
            out.append(f"<g>{_cross(cx, y, INK, 6)}{tip}</g>")
        elif event.new_version and (event.version == 1):
            out.append(f"<g>{_diamond(cx, y, LINEAGE, 9)}{tip}</g>")
        elif event.new_version:
            out.append(f"<g>{_dot(cx, y, VERSION, 6)}{tip}</g>")
        else:
            out.append(f"<g>{_dot(cx, y, RUN, 3.5)}{tip}</g>")
    # version labels above their marks: new lineages first (they matter most), then
    # versions wherever they do not overlap a label already placed
    placed: list[tuple[float, float]] = []
    for want_lineage in (True, False):
        for index, _short, _subject, event in events:
            if not event.new_version or event.version is None or (event.version == 1) is not want_lineage:
                continue
            cx = x(index)
            half = len(event.label) * 2.9 + 2  # about half the label's width at 10px
            if any(cx - half < right + 3 and cx + half > left - 3 for left, right in placed):
                continue  # the mark and its tooltip remain
            placed.append((cx - half, cx + half))
            colour = LINEAGE if event.version == 1 else VERSION
            out.append(f'<text x="{cx}" y="{y - 11}" text-anchor="middle" {_FONT} font-size="10" '
                       f'fill="{colour}">{_esc(event.label)}</text>')
    totals = (f'<tspan fill="{VERSION}" font-weight="600">{summary.versions}</tspan> versions, '
              f'<tspan fill="{RAW}" font-weight="600">{summary.raw_versions}</tspan> raw-source')
    out.append(f'<text x="{_LEFT + plot + 18}" y="{y + 4}" {_FONT} font-size="12" fill="{INK}">{totals}</text>')
    lineages = f"{summary.lineages} lineage{'s' if summary.lineages != 1 else ''}"
    detail = f"{summary.runs} runs, {lineages}, now {summary.final}"
    out.append(f'<text x="{_LEFT + plot + 18}" y="{y + 20}" {_FONT} font-size="10" fill="{MUTED}">'
               f"{_esc(detail)}</text>")
    return out


def _axis(history: History, x: Callable[[int], float], y: int, total: int) -> list[str]:
    out = [f'<line x1="{x(0)}" y1="{y}" x2="{x(total - 1)}" y2="{y}" stroke="{MUTED}" stroke-width="1"/>']
    ticks = _ticks(total)
    for index in ticks:
        out.append(f'<line x1="{x(index)}" y1="{y}" x2="{x(index)}" y2="{y + 5}" stroke="{MUTED}"/>')
        out.append(f'<text x="{x(index)}" y="{y + 18}" text-anchor="middle" {_FONT} font-size="10" '
                   f'fill="{MUTED}">{index + 1}</text>')
    out.append(f'<text x="{x(0)}" y="{y + 34}" {_FONT} font-size="10" fill="{MUTED}">'
               f"commit {_esc(history.first[:10])} (oldest)</text>")
    out.append(f'<text x="{x(total - 1)}" y="{y + 34}" text-anchor="end" {_FONT} font-size="10" fill="{MUTED}">'
               f"commit {_esc(history.last[:10])} (newest) · first-parent commits →</text>")
    return out


def _ticks(total: int) -> list[int]:
    if total <= 1:
        return [0]
    raw = max(1, total // 10)
    magnitude = 10 ** (len(str(raw)) - 1)
    spacing = min((m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw), default=raw)
    ticks = list(range(0, total, spacing))
    if total - 1 - ticks[-1] > spacing // 2:
        ticks.append(total - 1)
    return ticks


def _rank(event: PipelineEvent) -> int:
    if not event.new_version and event.version is not None:
        return 0
    return 1 if event.version != 1 else 2


def _describe(event: PipelineEvent) -> str:
    decision = event.decision.value if event.decision else "removed"
    text = f"{event.pipeline} {event.label} ({decision})"
    return f"{text}: {event.reason}" if event.reason else text


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _dot(cx: float, cy: float, colour: str, r: float) -> str:
    return f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="{colour}" stroke="#ffffff" stroke-width="1"/>'


def _diamond(cx: float, cy: float, colour: str, r: float) -> str:
    points = f"{cx},{cy - r} {cx + r},{cy} {cx},{cy + r} {cx - r},{cy}"
    return f'<polygon points="{points}" fill="{colour}" stroke="#ffffff" stroke-width="1"/>'


def _cross(cx: float, cy: float, colour: str, r: float) -> str:
    return (f'<path d="M{cx - r},{cy - r} L{cx + r},{cy + r} M{cx - r},{cy + r} L{cx + r},{cy - r}" '
            f'stroke="{colour}" stroke-width="2.5"/>')
