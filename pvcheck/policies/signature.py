"""The ``signature`` policy: a step's parameters or outputs changed shape -- a new version.

Parameters and outputs are compared by name: added, removed, renamed (one removed and one
added at the same position), re-typed, made required or optional, or changed kind.
A default *value* is configuration (PV203), not signature. When the base is a lock-file
model only the signature fingerprint is known, and the finding says just that.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Sequence

from pvcheck.config import Config
from pvcheck.model import Decision, Finding, Output, Parameter
from pvcheck.policies.base import Example, Policy, Rule
from pvcheck.policies.common import step_has_detail
from pvcheck.policies.examples import STEPS, edit, project
from pvcheck.policies.matching import PipelineComparison


class SignaturePolicy(Policy):
    name = "signature"
    rules = (
        Rule(
            "PV301", "signature", "a step parameter was added, removed, renamed or re-typed", Decision.VERSION,
            triggers=(
                Example(project(), project(steps=edit(STEPS, "rate: float = 0.1", "rate: float = 0.1, "
                                                      "bias: float = 0.0")),
                        Decision.VERSION, note="parameter bias added"),
                Example(project(), project(steps=edit(STEPS, "rate: float = 0.1", "rate: int = 1")),
                        Decision.VERSION, note="parameter rate re-typed float -> int"),
            ),
            near_misses=(Example(project(), project(steps=edit(STEPS, "rate: float = 0.1", "rate: float = 0.3")),
                                 Decision.RUN, note="only the default value changed (PV203)"),),
        ),
        Rule(
            "PV302", "signature", "a step output was added, removed, renamed or re-typed "
            "(Annotated[..., \"name\"], tuples)", Decision.VERSION,
            triggers=(
                Example(project(), project(steps=edit(STEPS, ") -> float:", ") -> int:")),
                        Decision.VERSION, note="output re-typed float -> int"),
                Example(project(steps=edit(STEPS, "from zenml import step\n",
                                           "from typing_extensions import Annotated\nfrom zenml import step\n")
                                .replace(") -> float:", ') -> Annotated[float, "score"]:')),
                        project(steps=edit(STEPS, "from zenml import step\n",
                                           "from typing_extensions import Annotated\nfrom zenml import step\n")
                                .replace(") -> float:", ') -> Annotated[float, "loss"]:')),
                        Decision.VERSION, note="output renamed score -> loss"),
            ),
            near_misses=(Example(project(), project(steps=edit(STEPS, ") -> float:", ")  ->  float :")),
                                 Decision.RUN, note="spacing in the annotation is formatting"),),
        ),
    )

    def evaluate(self, comparison: PipelineComparison, config: Config) -> Iterable[Finding]:
        for match in comparison.steps.matches:
            base, head = match.base, match.head
            if base.signature_fingerprint == head.signature_fingerprint:
                continue
            where = {"path": head.path, "line": head.line, "step": head.id}
            complexity = {"complexity": [base.complexity, head.complexity]}
            if not (step_has_detail(base) and step_has_detail(head)):
                yield self.finding("PV301", **where, kind="signature-changed", subject=head.id,
                                   detail={**complexity, "fingerprint_only": True})
                continue
            reported = False
            for kind, subject, old, new in _parameter_changes(base.parameters, head.parameters):
                reported = True
                yield self.finding("PV301", **where, kind=kind, subject=subject, old=old, new=new, detail=complexity)
            for kind, subject, old, new in _output_changes(base.outputs, head.outputs):
                reported = True
                yield self.finding("PV302", **where, kind=kind, subject=subject, old=old, new=new, detail=complexity)
            if not reported:
                yield self.finding("PV301", **where, kind="signature-changed", subject=head.id, detail=complexity)


def _renames(old: Sequence[str], new: Sequence[str]) -> list[tuple[str, str]]:
    """Pairs (old name, new name) at the same position where one vanished and one appeared."""
    gone = [n for n in old if n not in new]
    came = [n for n in new if n not in old]
    pairs = []
    for name in gone:
        position = old.index(name)
        if position < len(new) and new[position] in came:
            pairs.append((name, new[position]))
            came.remove(new[position])
    return pairs


#: (kind, subject, old, new) of one signature change
Change = tuple[str, str, Any, Any]


def _parameter_changes(base: Sequence[Parameter], head: Sequence[Parameter]) -> Iterator[Change]:
    old = {p.name: p for p in base}
    new = {p.name: p for p in head}
    renames = _renames([p.name for p in base], [p.name for p in head])
    renamed_old = {a for a, _ in renames}
    renamed_new = {b for _, b in renames}
    for a, b in renames:
        yield "parameter-renamed", b, a, b
    for name in old:
        if name not in new and name not in renamed_old:
            yield "parameter-removed", name, old[name].annotation, None
    for name in new:
        if name not in old and name not in renamed_new:
            yield "parameter-added", name, None, new[name].annotation
    for name in new:
        if name not in old:
            continue
        before, after = old[name], new[name]
        if before.annotation != after.annotation:
            yield "parameter-retyped", name, before.annotation, after.annotation
        if before.kind != after.kind:
            yield "parameter-kind-changed", name, before.kind, after.kind
        if before.has_default != after.has_default:
            yield "parameter-default-presence-changed", name, before.has_default, after.has_default
    order = [p.name for p in base if p.name in new], [p.name for p in head if p.name in old]
    if order[0] != order[1]:
        yield "parameters-reordered", "", order[0], order[1]


def _output_changes(base: Sequence[Output], head: Sequence[Output]) -> Iterator[Change]:
    old = {o.name: o for o in base}
    new = {o.name: o for o in head}
    renames = _renames([o.name for o in base], [o.name for o in head])
    renamed_old = {a for a, _ in renames}
    renamed_new = {b for _, b in renames}
    for a, b in renames:
        yield "output-renamed", b, a, b
    for name in old:
        if name not in new and name not in renamed_old:
            yield "output-removed", name, old[name].annotation, None
    for name in new:
        if name not in old and name not in renamed_new:
            yield "output-added", name, None, new[name].annotation
    for name in new:
        if name in old and old[name].annotation != new[name].annotation:
            yield "output-retyped", name, old[name].annotation, new[name].annotation


__all__ = ["SignaturePolicy"]
