"""Where Metaflow's ``resume`` must start for a changed flow.

``python flow.py resume STEP`` clones the tasks of the previous run and re-runs STEP and
every step downstream of it (``NativeRuntime``: the ``out_funcs`` closure of the step),
without checking whether any code changed. To re-run every changed step, the resume
step must reach all of them; of the steps that do, the one latest in graph order re-runs
the least. A change that no step carries (a flow decorator, an environment key of the
flow, a step the head no longer has) can affect every step: then the flow's first step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from pvcheck.model import PipelineChange

#: The frameworks whose reports name a resume step.
RESUMABLE_FRAMEWORKS = frozenset({"metaflow"})


def resume_from(change: "PipelineChange") -> Optional[str]:
    """The step ``resume`` should start from, or None when nothing needs re-running
    (``run``), the flow is new or removed, or it is not a resumable framework's."""
    from pvcheck.model import Decision

    head = change.head
    if change.framework not in RESUMABLE_FRAMEWORKS or head is None or change.base is None \
            or change.decision is not Decision.VERSION or not head.steps:
        return None
    order = [step.id for step in head.steps]  # topological
    changed: set[str] = set()
    for finding in change.findings:
        if finding.decision.severity < Decision.VERSION.severity:
            continue
        if finding.step is None or finding.step not in order:
            return order[0]
        changed.add(finding.step)
    if not changed:
        return None
    downstream: dict[str, set[str]] = {step: set() for step in order}
    for edge in head.edges:
        downstream[edge.source].add(edge.target)
    best = order[0]
    for step in order:
        if changed <= _reach(step, downstream):
            best = step
    return best


def _reach(start: str, downstream: dict[str, set[str]]) -> set[str]:
    """``start`` and every step after it."""
    seen = {start}
    pending = [start]
    while pending:
        for target in downstream.get(pending.pop(), ()):
            if target not in seen:
                seen.add(target)
                pending.append(target)
    return seen


__all__ = ["RESUMABLE_FRAMEWORKS", "resume_from"]
