"""The ``signature`` policy: a step's parameters or outputs changed shape -- a new version.

Parameters and outputs are compared by name: added, removed, renamed (one removed and one
added at the same position), re-typed, made required or optional, or changed kind.
A default *value* is configuration (PV203), not signature. When the base is a lock-file
model only the signature fingerprint is known, and the finding says just that.
"""

from __future__ import annotations

from typing import Iterable, Iterator, Optional, Sequence

from pvcheck.config import Config
from pvcheck.model import Decision, Finding, Output, Parameter
from pvcheck.policies.base import Example, Policy, Rule
from pvcheck.policies.common import complexity_note, step_has_detail
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
            where = (head.path, head.line, head.id)
            note = complexity_note(base, head)
            suffix = f" ({note})" if note else ""
            if not (step_has_detail(base) and step_has_detail(head)):
                yield self.finding("PV301", f"step {head.id}: signature (parameters or outputs) changed{suffix}",
                                   *where)
                continue
            reported = False
            for text in _parameter_changes(base.parameters, head.parameters):
                reported = True
                yield self.finding("PV301", f"step {head.id}: {text}{suffix}", *where)
            for text in _output_changes(base.outputs, head.outputs):
                reported = True
                yield self.finding("PV302", f"step {head.id}: {text}{suffix}", *where)
            if not reported:
                yield self.finding("PV301", f"step {head.id}: signature changed{suffix}", *where)


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


def _parameter_changes(base: Sequence[Parameter], head: Sequence[Parameter]) -> Iterator[str]:
    old = {p.name: p for p in base}
    new = {p.name: p for p in head}
    renames = _renames([p.name for p in base], [p.name for p in head])
    renamed_old = {a for a, _ in renames}
    renamed_new = {b for _, b in renames}
    for a, b in renames:
        yield f"parameter {a} renamed to {b}"
    for name in old:
        if name not in new and name not in renamed_old:
            yield f"parameter {name} removed"
    for name in new:
        if name not in old and name not in renamed_new:
            yield f"parameter {name} added"
    for name in new:
        if name not in old:
            continue
        before, after = old[name], new[name]
        if before.annotation != after.annotation:
            yield f"parameter {name} re-typed {_type(before.annotation)} -> {_type(after.annotation)}"
        if before.kind != after.kind:
            yield f"parameter {name} is now {after.kind.replace('_', ' ')}"
        if before.has_default != after.has_default:
            yield f"parameter {name} is now {'optional' if after.has_default else 'required'}"
    if [p.name for p in base if p.name in new] != [p.name for p in head if p.name in old]:
        yield "parameters reordered"


def _output_changes(base: Sequence[Output], head: Sequence[Output]) -> Iterator[str]:
    old = {o.name: o for o in base}
    new = {o.name: o for o in head}
    renames = _renames([o.name for o in base], [o.name for o in head])
    renamed_old = {a for a, _ in renames}
    renamed_new = {b for _, b in renames}
    for a, b in renames:
        yield f"output {a} renamed to {b}"
    for name in old:
        if name not in new and name not in renamed_old:
            yield f"output {name} removed"
    for name in new:
        if name not in old and name not in renamed_new:
            yield f"output {name} added"
    for name in new:
        if name in old and old[name].annotation != new[name].annotation:
            yield f"output {name} re-typed {_type(old[name].annotation)} -> {_type(new[name].annotation)}"


def _type(annotation: Optional[str]) -> str:
    return annotation if annotation else "(unannotated)"


__all__ = ["SignaturePolicy"]
