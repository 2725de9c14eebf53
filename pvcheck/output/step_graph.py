"""The step graph a renderer draws: nodes and edges, each with what happened to it.

Mermaid, DOT and the markdown report all draw the same thing, so the work of deciding
what a step's fate was (added, removed, body or config changed, renamed) is done once,
here, from the model alone. Renderers only choose shapes and colours.

The fate of a matched step is read from its fingerprints first, because they are the
ground truth of the analyzer, and then from the findings that name the step, so that a
policy's verdict (a dynamic step, a plugin's rule) is never hidden by identical prints.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Iterable, Optional

from pvcheck.model import Decision, Pipeline, PipelineChange, Status, Step
from pvcheck.model import FromStep, read_input


class StepStatus(str, enum.Enum):
    """What happened to one step invocation, most striking first."""

    ADDED = "added"
    REMOVED = "removed"
    BODY = "body"  # its code changed: body, helpers or signature
    CONFIG = "config"  # its configuration changed
    RENAMED = "renamed"  # invocation id or function renamed, nothing else
    RERUN = "rerun"  # unchanged itself, but re-runs because a step upstream does (impact)
    UNCHANGED = "unchanged"

    @property
    def legend(self) -> str:
        return _LEGEND[self]


_LEGEND = {
    StepStatus.ADDED: "added",
    StepStatus.REMOVED: "removed",
    StepStatus.BODY: "code changed",
    StepStatus.CONFIG: "config changed",
    StepStatus.RENAMED: "renamed",
    StepStatus.RERUN: "re-runs: upstream changed",
    StepStatus.UNCHANGED: "unchanged",
}

#: Order in which statuses appear in legends and in which a node's style is chosen.
STATUS_ORDER: tuple[StepStatus, ...] = tuple(StepStatus)

_CODE_POLICIES = frozenset({"structural", "signature"})
#: Structural rules about the graph (invocations, edges, order), not a step's code:
#: the graph shows them as added/removed nodes and edges.
_GRAPH_RULES = frozenset({"PV403", "PV404", "PV405"})


@dataclass(frozen=True)
class Node:
    """One invocation to draw. ``key`` is unique within the graph, ``id`` is what users see."""

    key: str
    id: str
    function: str
    status: StepStatus = StepStatus.UNCHANGED
    renamed_from: Optional[str] = None  # the base invocation id, when it differs
    config_changed: bool = False  # also true for a body change with a config change

    @property
    def notes(self) -> tuple[str, ...]:
        """Short words for the label, so a graph reads without colours too."""
        notes: list[str] = []
        if self.status in (StepStatus.ADDED, StepStatus.REMOVED):
            notes.append(self.status.value)
        if self.status is StepStatus.BODY:
            notes.append("code changed")
        if self.config_changed:
            notes.append("config changed")
        if self.renamed_from is not None:
            notes.append(f"was {self.renamed_from}")
        return tuple(notes)


@dataclass(frozen=True)
class GraphEdge:
    source: str  # node keys
    target: str
    kind: str  # data | order
    output: Optional[str] = None
    input: Optional[str] = None
    status: StepStatus = StepStatus.UNCHANGED  # ADDED, REMOVED or UNCHANGED

    @property
    def label(self) -> str:
        if self.kind != "data":
            return ""
        if self.output and self.input:
            return f"{self.output} → {self.input}"
        return self.output or self.input or ""


@dataclass(frozen=True)
class StepGraph:
    """The graph of one pipeline, optionally annotated with a comparison."""

    name: str
    path: str
    nodes: tuple[Node, ...]
    edges: tuple[GraphEdge, ...]
    compared: bool = False  # True when statuses come from a comparison
    decision: Optional[Decision] = None
    pipeline_status: Optional[Status] = None

    def statuses(self) -> tuple[StepStatus, ...]:
        """The statuses present, in legend order (for legends that list only what is used)."""
        used = {n.status for n in self.nodes} | {e.status for e in self.edges}
        return tuple(s for s in STATUS_ORDER if s in used)


def plain_graph(pipeline: Pipeline) -> StepGraph:
    """The graph of one pipeline as it is, nothing highlighted."""
    nodes = tuple(Node(step.id, step.id, step.function) for step in pipeline.steps)
    edges = tuple(GraphEdge(e.source, e.target, e.kind, e.output, e.input) for e in pipeline.edges)
    return StepGraph(pipeline.name, pipeline.path, nodes, edges)


def change_graph(change: PipelineChange) -> StepGraph:
    """The head graph of a compared pipeline, with removed steps and edges kept as ghosts."""
    base, head = change.base, change.head
    if head is None and base is None:
        return StepGraph(change.name, change.path, (), (), True, change.decision, change.status)
    if head is None or base is None:
        # a whole pipeline added or removed: every step shares its fate
        pipeline = head or base
        assert pipeline is not None
        status = StepStatus.ADDED if head is not None else StepStatus.REMOVED
        plain = plain_graph(pipeline)
        nodes = tuple(Node(n.key, n.id, n.function, status) for n in plain.nodes)
        edges = tuple(GraphEdge(e.source, e.target, e.kind, e.output, e.input, status) for e in plain.edges)
        return StepGraph(change.name, change.path, nodes, edges, True, change.decision, change.status)

    matches = step_matches(change)
    by_step: dict[str, list[str]] = {}
    for finding in change.findings:
        if finding.step and finding.rule not in _GRAPH_RULES:
            by_step.setdefault(finding.step, []).append(finding.policy)

    head_of = dict(matches)  # base id -> head id
    base_of = {h: b for b, h in matches.items()}
    removed_key = {s.id: _ghost_key(s.id, head) for s in base.steps if s.id not in head_of}

    nodes: list[Node] = []
    for step in head.steps:
        old_id = base_of.get(step.id)
        if old_id is None:
            nodes.append(Node(step.id, step.id, step.function, StepStatus.ADDED))
            continue
        old = base.step(old_id)
        assert old is not None
        policies = by_step.get(step.id, []) + (by_step.get(old_id, []) if old_id != step.id else [])
        nodes.append(_matched_node(old, step, policies))
    for step in base.steps:
        if step.id in removed_key:
            nodes.append(Node(removed_key[step.id], step.id, step.function, StepStatus.REMOVED))
    if change.impact is not None:  # unchanged steps that re-run because of a step upstream
        reruns = {step_id for step_id, _ in change.impact.upstream}
        nodes = [replace(n, status=StepStatus.RERUN) if n.id in reruns and n.status is StepStatus.UNCHANGED
                 else n for n in nodes]

    def base_key(step_id: str) -> str:
        return head_of.get(step_id) or removed_key.get(step_id, step_id)

    base_edges = {(base_key(e.source), base_key(e.target), e.kind, e.output, e.input): e for e in base.edges}
    head_edges = {(e.source, e.target, e.kind, e.output, e.input): e for e in head.edges}
    edges: list[GraphEdge] = []
    for key in head_edges:
        status = StepStatus.UNCHANGED if key in base_edges else StepStatus.ADDED
        edges.append(GraphEdge(*key, status=status))
    for key in base_edges:
        if key not in head_edges:
            edges.append(GraphEdge(*key, status=StepStatus.REMOVED))
    return StepGraph(change.name, change.path, tuple(nodes), tuple(edges), True, change.decision, change.status)


def step_matches(change: PipelineChange) -> dict[str, str]:
    """Base id -> head id: the policies' matches, completed by invocation id.

    SPEC §4 matches steps by invocation id first, so a base step whose id is still in the
    head and that the policies left out (an unchanged pipeline may carry no matches) is
    the same step.
    """
    matches = dict(change.step_matches)
    if change.base is None or change.head is None:
        return matches
    taken = set(matches.values())
    head_ids = {s.id for s in change.head.steps}
    for step in change.base.steps:
        if step.id not in matches and step.id in head_ids and step.id not in taken:
            matches[step.id] = step.id
            taken.add(step.id)
    return matches


def _matched_node(old: Step, new: Step, policies: Iterable[str]) -> Node:
    policies = set(policies)
    code = (
        old.body_fingerprint != new.body_fingerprint
        or old.signature_fingerprint != new.signature_fingerprint
        or bool(policies & _CODE_POLICIES)
    )
    config = _config_view(old) != _config_view(new) or "config" in policies
    renamed_from = old.id if old.id != new.id else None
    if code:
        status = StepStatus.BODY
    elif config:
        status = StepStatus.CONFIG
    elif renamed_from is not None or old.function != new.function:
        status = StepStatus.RENAMED
    else:
        status = StepStatus.UNCHANGED
    if renamed_from is None and old.function != new.function:
        renamed_from = old.function.rpartition(".")[2] + "()"
    return Node(new.id, new.id, new.function, status, renamed_from, config)


def _config_view(step: Step) -> tuple[object, ...]:
    """What counts as a step's configuration when drawing it.

    Not ``config_fingerprint``: it also covers the inputs wired from other steps, and a
    rewired edge is drawn as an edge, not as a configuration change of its target.
    """
    literal_inputs = {k: v for k, v in step.inputs.items() if not isinstance(read_input(k, v), FromStep)}
    defaults = {p.name: p.default for p in step.parameters if p.has_default}
    return (repr(sorted(step.config.items())), repr(sorted(literal_inputs.items())), repr(sorted(defaults.items())))


def _ghost_key(step_id: str, head: Pipeline) -> str:
    """A key for a removed step that cannot collide with a head step's id."""
    key = f"{step_id} (removed)"
    ids = {s.id for s in head.steps}
    while key in ids:
        key += "'"
    return key

