"""Matching pipelines and steps between two revisions, and continuity (SPEC §4).

Pipelines are paired by declared name and module first; the rest by content (a renamed
or moved pipeline keeps most of its steps); what is still unpaired but shares a
declared name is paired last (moved *and* changed), so continuity can judge it.
Steps inside a pair are matched by invocation id, then by code fingerprint (a renamed
step), then by similarity of their normalised bodies (a renamed and edited step).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

from pvcheck.config import Config
from pvcheck.model import Pipeline, Project, Step
from pvcheck.model import rename_steps
from pvcheck.policies.sources import SourceTree


def similarity(a: tuple[int, ...], b: tuple[int, ...], floor: float = 0.0) -> float:
    """:func:`pvcheck.analyzer.fingerprint.similarity`, imported only when a pair of steps
    needs it: that module loads libcst, which a diff served from the cache never needs."""
    from pvcheck.analyzer.fingerprint import similarity as similarity_of_sketches

    return similarity_of_sketches(a, b, floor)


@dataclass(frozen=True)
class StepMatch:
    """A base step and the head step it became. ``how``: ``id``, ``fingerprint`` or ``similarity``."""

    base: Step
    head: Step
    how: str
    similarity: float = 1.0


@dataclass(frozen=True)
class StepMatching:
    matches: tuple[StepMatch, ...]
    removed: tuple[Step, ...]  # base steps with no match
    added: tuple[Step, ...]  # head steps with no match

    @property
    def continuity(self) -> float:
        """Share of base steps that have a match; 1.0 when the base had none."""
        total = len(self.matches) + len(self.removed)
        return len(self.matches) / total if total else 1.0

    def head_id(self, base_id: str) -> Optional[str]:
        for match in self.matches:
            if match.base.id == base_id:
                return match.head.id
        return None


@dataclass(frozen=True)
class PipelineComparison:
    """One pipeline in two revisions, with its matched steps: what policies look at.

    ``how`` says how the pair was found: ``name`` (declared name and module), ``content``
    (rename or move) or ``moved`` (same name, other module, content changed too).
    ``base_root``/``head_root`` are the scanned folders when they still exist, and
    ``base_sources``/``head_sources`` read them (shared by every pipeline of one
    comparison), so that policies can explain cosmetic edits; ``None`` when a folder is
    gone or the model was read from a lock file.
    """

    base: Pipeline
    head: Pipeline
    how: str
    steps: StepMatching
    base_project: Project
    head_project: Project
    base_root: Optional[Path] = None
    head_root: Optional[Path] = None
    base_sources: Optional[SourceTree] = None
    head_sources: Optional[SourceTree] = None

    @property
    def continuity(self) -> float:
        return self.steps.continuity


@dataclass(frozen=True)
class PipelinePairing:
    pairs: tuple[tuple[Pipeline, Pipeline, str], ...]
    removed: tuple[Pipeline, ...]
    added: tuple[Pipeline, ...]


def match_steps(base: Sequence[Step], head: Sequence[Step], config: Config, use_ids: bool = True) -> StepMatching:
    """Match the invocations of one pipeline in two revisions (SPEC §4)."""
    matches: list[StepMatch] = []
    open_base = list(base)
    open_head = list(head)

    def take(pairs: Iterable[tuple[Step, Step, str, float]]) -> None:
        for b, h, how, score in pairs:
            matches.append(StepMatch(b, h, how, score))
            open_base.remove(b)
            open_head.remove(h)

    if use_ids:
        take(_swapped_calls(open_base, open_head))
        head_by_id: dict[str, Step] = {}
        for step in open_head:
            head_by_id.setdefault(step.id, step)
        # ids are unique within a pipeline in every framework, but a hand-edited lock
        # file may repeat one: each head step is taken once
        take([(b, head_by_id.pop(b.id), "id", 1.0) for b in list(open_base) if b.id in head_by_id])

    # renames: equal code fingerprints; prefer the same function, then invocation order
    by_fingerprint: list[tuple[Step, Step, str, float]] = []
    used: set[int] = set()
    for b in open_base:
        candidates = [h for h in open_head if id(h) not in used and h.fingerprint and h.fingerprint == b.fingerprint]
        if candidates:
            chosen = min(candidates, key=lambda h: (h.function != b.function, h.name != b.name))
            used.add(id(chosen))
            by_fingerprint.append((b, chosen, "fingerprint", 1.0))
    take(by_fingerprint)

    # modified and renamed: the most similar pairs first, greedily
    # only pairs at or over the threshold are scored in full and sorted: nothing under it is taken
    threshold = config.similarity_threshold
    scored = sorted(
        (t for t in ((similarity(b.sketch, h.sketch, threshold), i, j) for i, b in enumerate(open_base)
                     for j, h in enumerate(open_head) if b.sketch and h.sketch) if t[0] >= threshold),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    taken_b: set[int] = set()
    taken_h: set[int] = set()
    similar: list[tuple[Step, Step, str, float]] = []
    for score, i, j in scored:
        if i in taken_b or j in taken_h:
            continue
        taken_b.add(i)
        taken_h.add(j)
        similar.append((open_base[i], open_head[j], "similarity", score))
    take(similar)

    order = {s.id: n for n, s in enumerate(base)}
    matches.sort(key=lambda m: order.get(m.base.id, 0))
    return StepMatching(tuple(matches), tuple(open_base), tuple(open_head))


def _swapped_calls(base: Sequence[Step], head: Sequence[Step]) -> list[tuple[Step, Step, str, float]]:
    """Invocations of one step function whose generated ids moved with their order: two
    calls with different arguments swapped get each other's id (``train_model`` and
    ``train_model_2``). When the ids of a function's calls are the same set on both sides,
    and every call has exactly one identical call on the other side -- same code, same
    arguments, inputs from identical calls -- that pairing is the truth, not the ids: the
    graph is the same, only the order changed (PV405)."""
    if len(base) == len(head) and all(old is new for old, new in zip(base, head)):
        return []  # the very same invocations (a model a history walk reused): nothing moved
    by_function: dict[str, tuple[list[Step], list[Step]]] = {}
    for step in base:
        by_function.setdefault(step.function, ([], []))[0].append(step)
    for step in head:
        by_function.setdefault(step.function, ([], []))[1].append(step)
    candidates = [(old, new) for old, new in by_function.values()
                  if len(old) >= 2 and len(old) == len(new) and {s.id for s in old} == {s.id for s in new}]
    if not candidates:
        return []  # no function called twice on both sides: nothing can have swapped
    base_keys, head_keys = _call_keys(base), _call_keys(head)
    pairs: list[tuple[Step, Step, str, float]] = []
    for old, new in candidates:
        old_keys = {base_keys[s.id]: s for s in old}
        new_keys = {head_keys[s.id]: s for s in new}
        if len(old_keys) != len(old) or len(new_keys) != len(new) or set(old_keys) != set(new_keys):
            continue  # not a permutation of identical calls: ids decide, as usual
        if all(old_keys[k].id == new_keys[k].id for k in old_keys):
            continue  # nothing moved
        pairs.extend((old_keys[k], new_keys[k], "swap", 1.0) for k in old_keys)
    return pairs


def _call_keys(steps: Sequence[Step]) -> dict[str, str]:
    """Per invocation id, what makes the call: its code and its arguments, with an input
    from another call standing for *that* call's key rather than its id (ids are what a
    swap changes). Configuration attached by id (a YAML ``steps.<id>``) is left out: it
    follows the id, and the config policy reports it on the matched pair. A step without a
    fingerprint (a thin lock file) gets a key of its own that matches nothing."""
    by_id = {s.id: s for s in steps}
    keys: dict[str, str] = {}

    def key(step_id: str, visiting: frozenset[str]) -> str:
        if step_id in keys:
            return keys[step_id]
        step = by_id.get(step_id)
        if step is None or not step.fingerprint or step_id in visiting:
            return f"?{step_id}"

        def rename(source: str) -> str:
            return key(source, visiting | {step_id})

        inputs = json.dumps(rename_steps(dict(step.inputs), rename), sort_keys=True, default=str)
        found = keys[step_id] = hashlib.blake2b(f"{step.fingerprint}|{inputs}".encode(), digest_size=16).hexdigest()
        return found

    for step in steps:
        key(step.id, frozenset())
    return keys


def content_score(base: Pipeline, head: Pipeline, config: Config) -> float:
    """How much of ``base`` survives in ``head`` judged by code alone (ids ignored).

    Never pairs on an empty step set: two pipelines without steps have nothing to be
    continuous in (every step-less pipeline once had the same fingerprint, and two
    unrelated ones were taken for a rename)."""
    if not base.steps or not head.steps:
        return 0.0
    if base.fingerprint and base.fingerprint == head.fingerprint:
        return 1.0
    return match_steps(base.steps, head.steps, config, use_ids=False).continuity


def _may_continue(base: Pipeline, head: Pipeline, threshold: float) -> bool:
    """Whether ``content_score`` can reach ``threshold``: at most as many base steps
    continue as the head has steps (an equal fingerprint scores 1.0 whatever the counts)."""
    if not base.steps or not head.steps:
        return False
    if base.fingerprint and base.fingerprint == head.fingerprint:
        return True
    return min(len(base.steps), len(head.steps)) / len(base.steps) >= threshold


def pair_pipelines(base: Project, head: Project, config: Config) -> PipelinePairing:
    """Pair the pipelines of two revisions: by name and module, by content, by name."""
    open_base = list(base.pipelines)
    open_head = list(head.pipelines)
    pairs: list[tuple[Pipeline, Pipeline, str]] = []

    def pair_by(key: Callable[[Pipeline], object], how: str) -> None:
        for b in list(open_base):
            for h in open_head:
                if h.framework == b.framework and key(h) == key(b):
                    pairs.append((b, h, how))
                    open_base.remove(b)
                    open_head.remove(h)
                    break

    pair_by(lambda p: (p.name, p.module), "name")

    # a pair is taken at a positive score of at least the threshold: the pairs that cannot
    # reach it (too few head steps to continue the base's) are not scored at all, and a
    # reorganisation that moves 140 pipelines scores 20,000 pairs, not sorts them
    threshold = config.continuity_threshold
    scored = sorted(
        (t for t in ((content_score(b, h, config), i, j) for i, b in enumerate(open_base)
                     for j, h in enumerate(open_head)
                     if b.framework == h.framework and _may_continue(b, h, threshold))
         if t[0] > 0 and t[0] >= threshold),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    taken_b: set[int] = set()
    taken_h: set[int] = set()
    by_content: list[tuple[Pipeline, Pipeline, str]] = []
    for score, i, j in scored:
        if score <= 0 or score < config.continuity_threshold:
            break
        if i in taken_b or j in taken_h:
            continue
        taken_b.add(i)
        taken_h.add(j)
        by_content.append((open_base[i], open_head[j], "content"))
    for b, h, how in by_content:
        pairs.append((b, h, how))
        open_base.remove(b)
        open_head.remove(h)

    # a pipeline moved to another module and changed beyond recognition keeps its name:
    # pair it so that continuity, not a silent add/remove, tells the story
    pair_by(lambda p: p.name, "moved")

    return PipelinePairing(tuple(pairs), tuple(open_base), tuple(open_head))


@dataclass(frozen=True)
class Collision:
    """Two or more different pipelines in one revision sharing a declared name."""

    name: str
    pipelines: tuple[Pipeline, ...] = field(default_factory=tuple)


#: The collisions of the last two projects asked for, by identity: a policy asks once per
#: pipeline, which made a diff of n pipelines O(n^2) (half a second at 300 pipelines).
_RECENT: list[tuple[Project, tuple["Collision", ...]]] = []


def collisions(project: Project) -> tuple[Collision, ...]:
    """Declared names used by pipelines that differ (different fingerprints or places)."""
    for known, found in _RECENT:
        if known is project:
            return found
    result = _collisions(project)
    _RECENT.insert(0, (project, result))
    del _RECENT[2:]  # a base and a head; older projects are let go
    return result


def _collisions(project: Project) -> tuple[Collision, ...]:
    by_name: dict[str, list[Pipeline]] = {}
    for pipeline in project.pipelines:
        by_name.setdefault(pipeline.name, []).append(pipeline)
    found = []
    for name, group in sorted(by_name.items()):
        distinct = {(p.fingerprint, p.config_fingerprint) for p in group}
        if len(group) > 1 and len(distinct) > 1:
            found.append(Collision(name, tuple(group)))
    return tuple(found)


__all__ = [
    "Collision",
    "PipelineComparison",
    "PipelinePairing",
    "StepMatch",
    "StepMatching",
    "collisions",
    "content_score",
    "match_steps",
    "pair_pipelines",
]
