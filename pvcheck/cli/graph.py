"""``pvcheck graph [PATH]``: the step graph as Mermaid or DOT, changes highlighted with ``--base``.

Several pipelines (no ``--pipeline``) are drawn in one document, one subgraph (Mermaid)
or cluster (DOT) each, so the output is always a single valid diagram that can be piped
into ``mmdc`` or ``dot``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Optional, Sequence

from pvcheck.cli import EXIT_ERROR, EXIT_OK, common_options
from pvcheck.cli.options import config_for
from pvcheck.errors import PvcheckError
from pvcheck.model import PipelineChange, Project, Severity
from pvcheck.output.dot import dot
from pvcheck.output.mermaid import mermaid
from pvcheck.output.step_graph import GraphEdge, StepGraph, StepStatus, change_graph, plain_graph

FORMATS = ("mermaid", "dot", "text", "json")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "graph", help="draw the step graph (Mermaid or DOT); with --base, what changed",
        description="Draw the step graph of each pipeline: nodes are step invocations (id and function), "
                    "solid edges pass data (output -> input), dashed edges only order. With --base, steps "
                    "are coloured by what happened to them since that revision.")
    parser.add_argument("path", nargs="?", default=None,
                        help="the project folder (default: the project governing the current folder)")
    parser.add_argument("--pipeline", metavar="NAME", help="draw only this pipeline (default: all of them)")
    parser.add_argument("--base", metavar="REV",
                        help="compare with this git revision (or folder) and highlight changes")
    parser.add_argument("--repo", metavar="PATH", help="the git repository --base is read from (default: PATH)")
    parser.add_argument("--direction", choices=("TD", "LR"), default="TD", help="top-down or left-right (default: TD)")
    common_options(parser, FORMATS, default_format="mermaid")


def run(args: argparse.Namespace) -> int:
    import pvcheck

    config = config_for(args, args.path)
    if args.base:
        report = pvcheck.diff(args.base, args.path, config, repo=args.repo or args.path, cache=not args.no_cache)
        graphs = _select_changes(report.pipelines, args.pipeline)
        diagnostics = report.diagnostics
    else:
        project = pvcheck.scan(args.path, config=config, cache=not args.no_cache)
        graphs = _select_pipelines(project, args.pipeline)
        diagnostics = project.diagnostics
    sys.stdout.write(render(graphs, args.format, args.direction))
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    for diagnostic in errors:
        print(f"pvcheck: error: {diagnostic.one_line()}", file=sys.stderr)
    return EXIT_ERROR if errors else EXIT_OK


def render(graphs: Sequence[StepGraph], fmt: str, direction: str = "TD") -> str:
    if fmt == "dot":
        return dot(graphs)
    if fmt == "json":
        return json.dumps({"schema": "pvcheck.graph/1", "pipelines": [_graph_json(g) for g in graphs]},
                          indent=2, ensure_ascii=False) + "\n"
    if fmt == "text":
        return _text(graphs)
    return mermaid(graphs, direction)


def _select_pipelines(project: Project, name: Optional[str]) -> list[StepGraph]:
    pipelines = list(project.pipelines)
    if name is not None:
        pipelines = [p for p in pipelines if p.name == name]
        if not pipelines:
            raise PvcheckError(f"no pipeline named '{name}' in {project.root}",
                               hint=_known([p.name for p in project.pipelines]))
    if not pipelines:
        raise PvcheckError(f"no pipelines found in {project.root}",
                           hint="check the path; `pvcheck scan` lists what the analyzer sees")
    return [plain_graph(p) for p in pipelines]


def _select_changes(changes: Sequence[PipelineChange], name: Optional[str]) -> list[StepGraph]:
    selected = list(changes)
    if name is not None:
        # a renamed pipeline answers to its old name too
        selected = [c for c in changes if c.name == name or (c.base is not None and c.base.name == name)]
        if not selected:
            raise PvcheckError(f"no pipeline named '{name}' on either side",
                               hint=_known(sorted({c.name for c in changes})))
    if not selected:
        raise PvcheckError("no pipelines found on either side",
                           hint="check the path; `pvcheck scan` lists what the analyzer sees")
    return [change_graph(c) for c in selected]


def _known(names: Sequence[str]) -> str:
    if not names:
        return "there are no pipelines; `pvcheck scan` lists what the analyzer sees"
    return "pick one of: " + ", ".join(sorted(set(names)))


def _graph_json(graph: StepGraph) -> dict[str, object]:
    return {
        "name": graph.name,
        "path": graph.path,
        "decision": graph.decision.value if graph.decision else None,
        "status": graph.pipeline_status.value if graph.pipeline_status else None,
        "steps": [{"id": n.id, "function": n.function, "status": n.status.value if graph.compared else None,
                   "renamed_from": n.renamed_from, "config_changed": n.config_changed} for n in graph.nodes],
        "edges": [{"source": _node_id(graph, e.source), "target": _node_id(graph, e.target), "kind": e.kind,
                   "output": e.output, "input": e.input,
                   "status": e.status.value if graph.compared else None} for e in graph.edges],
    }


def _node_id(graph: StepGraph, key: str) -> str:
    for node in graph.nodes:
        if node.key == key:
            return node.id
    return key


def _incoming(edge: GraphEdge, ids: dict[str, str], compared: bool) -> str:
    """``source.output`` for data, ``after source`` for order, with the edge's fate."""
    source = ids.get(edge.source, edge.source)
    if edge.kind == "data":
        text = f"{source}.{edge.output}" if edge.output else source
    else:
        text = f"after {source}"
    if compared and edge.status is not StepStatus.UNCHANGED:
        text += f" [{edge.status.value}]"
    return text


def _text(graphs: Sequence[StepGraph]) -> str:
    out: list[str] = []
    for graph in graphs:
        title = f"{graph.name}  {graph.path}"
        if graph.decision is not None:
            title += f"  ({graph.decision.value})"
        out.append(title)
        width = max((len(n.id) for n in graph.nodes), default=0)
        ids = {n.key: n.id for n in graph.nodes}
        for node in graph.nodes:
            incoming = [_incoming(e, ids, graph.compared) for e in graph.edges if e.target == node.key]
            status = f"  [{', '.join(node.notes)}]" if graph.compared and node.notes else ""
            out.append(f"  {node.id:<{width}}  {node.function}{status}  <- {', '.join(incoming) or '-'}")
        out.append("")
    return "\n".join(out)
