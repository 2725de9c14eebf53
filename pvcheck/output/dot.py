"""Step graphs in Graphviz DOT (``pvcheck graph --format dot | dot -Tsvg``).

A pure function of the model. Every identifier and label is a double-quoted DOT string
with backslashes and quotes escaped, so no invocation id can break the file; several
pipelines become one ``cluster`` subgraph each inside one ``digraph``.
"""

from __future__ import annotations

from typing import Sequence

from pvcheck.model import Pipeline
from pvcheck.output.step_graph import StepGraph, StepStatus, plain_graph

#: (fill colour, border colour, extra style) per status, the palette of the Mermaid output.
NODE_STYLES: dict[StepStatus, tuple[str, str, str]] = {
    StepStatus.ADDED: ("#dafbe1", "#1a7f37", ""),
    StepStatus.REMOVED: ("#ffebe9", "#cf222e", "dashed"),
    StepStatus.BODY: ("#fff8c5", "#9a6700", ""),
    StepStatus.CONFIG: ("#ddf4ff", "#0969da", ""),
    StepStatus.RENAMED: ("#fbefff", "#8250df", ""),
    StepStatus.RERUN: ("#fff1e5", "#bc4c00", "dashed"),
    StepStatus.UNCHANGED: ("#f6f8fa", "#57606a", ""),
}

_EDGE_COLOURS = {StepStatus.ADDED: "#1a7f37", StepStatus.REMOVED: "#cf222e", StepStatus.UNCHANGED: "#57606a"}


def quote(text: str) -> str:
    """``text`` as a double-quoted DOT string. ``\\`` is escaped too: in labels ``\\l``,
    ``\\N`` and friends are directives."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "\\n") + '"'


def pipeline_dot(pipelines: Pipeline | Sequence[Pipeline]) -> str:
    """The plain graph of one pipeline, or of several (one cluster each)."""
    if isinstance(pipelines, Pipeline):
        pipelines = [pipelines]
    return dot([plain_graph(p) for p in pipelines])


def dot(graphs: Sequence[StepGraph], legend: bool | None = None) -> str:
    """One ``digraph``; several graphs become one cluster each."""
    if legend is None:
        legend = any(g.compared for g in graphs)
    name = graphs[0].name if len(graphs) == 1 else "pipelines"
    lines = [
        f"digraph {quote(name)} {{",
        '  graph [rankdir=TB, fontname="Helvetica", labelloc=t];',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9, color="#57606a"];',
    ]
    nested = len(graphs) > 1
    for number, graph in enumerate(graphs):
        indent = "    " if nested else "  "
        title = graph.name + (f"\n{graph.path}" if graph.path else "")
        if graph.decision is not None:
            title += f"\ndecision: {graph.decision.value}"
        if nested:
            lines.append(f"  subgraph {quote(f'cluster_{number}')} {{")
        lines.append(f"{indent}label={quote(title)};")
        ids = {node.key: f"{number}/{node.key}" for node in graph.nodes}
        for node in graph.nodes:
            fill, border, extra = NODE_STYLES[node.status]
            label = f"{node.id}\n{node.function}"
            if node.notes:
                label += "\n(" + ", ".join(node.notes) + ")"
            style = "rounded,filled" + (f",{extra}" if extra else "")
            penwidth = "1" if node.status is StepStatus.UNCHANGED else "2"
            lines.append(
                f"{indent}{quote(ids[node.key])} [label={quote(label)}, fillcolor={quote(fill)}, "
                f"color={quote(border)}, style={quote(style)}, penwidth={penwidth}];"
            )
        for edge in graph.edges:
            if edge.source not in ids or edge.target not in ids:
                continue
            attributes = [f"color={quote(_EDGE_COLOURS[edge.status])}"]
            if edge.label:
                attributes.append(f"label={quote(edge.label)}")
            if edge.kind != "data":
                attributes.append("style=dashed")
            elif edge.status is StepStatus.REMOVED:
                attributes.append("style=dotted")
            if edge.status is not StepStatus.UNCHANGED:
                attributes.append("penwidth=2")
            lines.append(f"{indent}{quote(ids[edge.source])} -> {quote(ids[edge.target])} [{', '.join(attributes)}];")
        if nested:
            lines.append("  }")
    if legend:
        lines.append(f"  subgraph {quote('cluster_legend')} {{")
        lines.append(f"    label={quote('Legend')};")
        for status in StepStatus:
            fill, border, extra = NODE_STYLES[status]
            style = "rounded,filled" + (f",{extra}" if extra else "")
            lines.append(
                f"    {quote('legend/' + status.value)} [label={quote(status.legend)}, fillcolor={quote(fill)}, "
                f"color={quote(border)}, style={quote(style)}];"
            )
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"
