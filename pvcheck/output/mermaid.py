"""Step graphs as Mermaid flowcharts (GitHub renders them in markdown and PR comments).

A pure function of the model. Node ids are generated (``s0``, ``s1`` ...) rather than
derived from invocation ids, because Mermaid gives meaning to words like ``end`` and to
ids beginning with ``o`` or ``x`` next to a link; what users see is the label, and every
label is escaped with Mermaid's entity codes so quotes, ``#``, ``<``, ``|`` and
backticks in names cannot break the diagram or inject markup.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from pvcheck.model import Pipeline
from pvcheck.output.step_graph import StepGraph, StepStatus, plain_graph

#: Fill, border and text colours per status: GitHub's palette, readable in light and dark themes.
CLASS_STYLES: dict[StepStatus, str] = {
    StepStatus.ADDED: "fill:#dafbe1,stroke:#1a7f37,stroke-width:2px,color:#0d2b14",
    StepStatus.REMOVED: "fill:#ffebe9,stroke:#cf222e,stroke-width:2px,stroke-dasharray:5 5,color:#4c0a0e",
    StepStatus.BODY: "fill:#fff8c5,stroke:#9a6700,stroke-width:2px,color:#3b2300",
    StepStatus.CONFIG: "fill:#ddf4ff,stroke:#0969da,stroke-width:2px,color:#0a2540",
    StepStatus.RENAMED: "fill:#fbefff,stroke:#8250df,stroke-width:2px,color:#2e1065",
    StepStatus.RERUN: "fill:#fff1e5,stroke:#bc4c00,stroke-width:2px,stroke-dasharray:3 3,color:#3d1300",
    StepStatus.UNCHANGED: "fill:#f6f8fa,stroke:#57606a,color:#1f2328",
}

_LEGEND_STYLE = "fill:none,stroke:none,color:#57606a"

_LINK_STYLES = {
    StepStatus.ADDED: "stroke:#1a7f37,stroke-width:2px",
    StepStatus.REMOVED: "stroke:#cf222e,stroke-width:2px,stroke-dasharray:4 4",
}

_ENTITIES = {
    "#": "#35;",  # first: every other escape introduces a '#'
    '"': "#quot;",
    "<": "#lt;",
    ">": "#gt;",
    "&": "#amp;",
    "`": "#96;",  # a leading backtick would switch Mermaid to markdown strings
    "|": "#124;",  # closes an edge label
    "\n": " ",
    "\r": " ",
}
_ESCAPE = re.compile("|".join(re.escape(c) for c in _ENTITIES))


def escape(text: str) -> str:
    """``text`` made safe inside a double-quoted Mermaid label."""
    return _ESCAPE.sub(lambda m: _ENTITIES[m.group(0)], text)


def pipeline_mermaid(pipelines: Pipeline | Sequence[Pipeline], direction: str = "TD") -> str:
    """The plain graph of one pipeline, or of several (one subgraph each)."""
    if isinstance(pipelines, Pipeline):
        pipelines = [pipelines]
    return mermaid([plain_graph(p) for p in pipelines], direction)


def mermaid(graphs: Sequence[StepGraph], direction: str = "TD", legend: bool | None = None) -> str:
    """One Mermaid flowchart; several graphs become one subgraph each.

    ``legend`` defaults to showing one when any graph comes from a comparison.
    """
    if direction not in ("TD", "TB", "BT", "LR", "RL"):
        raise ValueError(f"not a Mermaid direction: {direction}")
    if legend is None:
        legend = any(g.compared for g in graphs)
    lines = [f"flowchart {direction}"]
    classes: dict[StepStatus | str, list[str]] = {}
    link_styles: list[tuple[int, StepStatus]] = []
    links = 0
    nested = len(graphs) > 1
    for number, graph in enumerate(graphs):
        indent = "    " if nested else "  "
        if nested:
            lines.append(f'  subgraph p{number}["{escape(_title(graph))}"]')
            lines.append(f"    direction {direction}")
        ids = {node.key: f"p{number}s{index}" if nested else f"s{index}" for index, node in enumerate(graph.nodes)}
        if not graph.nodes:
            empty = f"p{number}empty" if nested else "empty"
            lines.append(f'{indent}{empty}["{escape(graph.name)}: no steps found"]')
        for node in graph.nodes:
            label = f"<b>{escape(node.id)}</b><br/>{escape(node.function)}"
            if node.notes:
                label += f"<br/><i>{escape(', '.join(node.notes))}</i>"
            shape = ('(["', '"])') if node.status is StepStatus.REMOVED else ('["', '"]')
            lines.append(f"{indent}{ids[node.key]}{shape[0]}{label}{shape[1]}")
            classes.setdefault(node.status, []).append(ids[node.key])
        for edge in graph.edges:
            if edge.source not in ids or edge.target not in ids:
                continue  # an edge to a step the analyzer did not list: nothing to draw it to
            arrow = "-->" if edge.kind == "data" else "-.->"
            text = f'|"{escape(edge.label)}"|' if edge.label else ""
            lines.append(f"{indent}{ids[edge.source]} {arrow}{text} {ids[edge.target]}")
            if edge.status in _LINK_STYLES:
                link_styles.append((links, edge.status))
            links += 1
        if nested:
            lines.append("  end")
    if legend:
        # one compact line under the graph, not a box wider than it: a borderless node
        # that an invisible link ('~~~', after every real link so linkStyle indices stay
        # right) from the last step places below the drawing
        label = " · ".join(f"{_SWATCH[status]} {status.legend}" for status in _used_statuses(graphs))
        lines.append(f'  legend["{escape(label)}"]')
        last = _last_node(graphs)
        if last is not None:
            lines.append(f"  {last} ~~~ legend")
        classes.setdefault("legendline", []).append("legend")  # type: ignore[arg-type]
    for status, style in CLASS_STYLES.items():
        if status in classes:
            lines.append(f"  classDef {status.value} {style}")
    if "legendline" in classes:
        lines.append(f"  classDef legendline {_LEGEND_STYLE}")
    for status, members in classes.items():
        lines.append(f"  class {','.join(members)} {getattr(status, 'value', status)}")
    for index, status in link_styles:
        lines.append(f"  linkStyle {index} {_LINK_STYLES[status]}")
    return "\n".join(lines) + "\n"


def _title(graph: StepGraph) -> str:
    title = f"{graph.name} · {graph.path}" if graph.path else graph.name
    if graph.decision is not None:
        title += f" · {graph.decision.value}"
    return title


#: The colour of each status in the one-line legend (the fills of :data:`CLASS_STYLES`).
_SWATCH: dict[StepStatus, str] = {
    StepStatus.ADDED: "🟩", StepStatus.REMOVED: "🟥", StepStatus.BODY: "🟨", StepStatus.CONFIG: "🟦",
    StepStatus.RENAMED: "🟪", StepStatus.RERUN: "🟧", StepStatus.UNCHANGED: "⬜",
}


def _used_statuses(graphs: Iterable[StepGraph]) -> list[StepStatus]:
    """The statuses some node has: the legend explains what the picture shows, no more."""
    used = {node.status for g in graphs for node in g.nodes}
    return [s for s in StepStatus if s in used]


def _last_node(graphs: Sequence[StepGraph]) -> str | None:
    """The generated id of the last node drawn (the legend goes under it)."""
    nested = len(graphs) > 1
    for number in range(len(graphs) - 1, -1, -1):
        count = len(graphs[number].nodes)
        if count:
            return f"p{number}s{count - 1}" if nested else f"s{count - 1}"
    return None
