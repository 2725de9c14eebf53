"""Moves and renames of helpers and constants, and literals extracted into constants:
a step whose body fingerprint changed only because the repo-local definitions it uses
have other qualified names (the content layer, ``pvcheck/analyzer/content.py``, is
equal on both sides). The structural policy leaves such a step alone; the cosmetic
policy names what moved (PV108) or which literal became a constant (PV109).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Optional

from pvcheck.model import HelperRef, Pipeline, Step

_KINDS = ("function", "constant", "class")


def same_content(base: Step, head: Step) -> bool:
    """The body fingerprints differ and the bodies by content are equal (both known)."""
    return bool(base.content_fingerprint) and base.content_fingerprint == head.content_fingerprint \
        and base.body_fingerprint != head.body_fingerprint


def moved_only(base: Step, head: Step) -> bool:
    """The step's code differs by names only: same body by content, same signature."""
    return same_content(base, head) and base.signature_fingerprint == head.signature_fingerprint


def same_code_content(base: Pipeline, head: Pipeline) -> bool:
    """The pipeline body's own code differs, and by content it is equal (both known)."""
    return bool(base.code_content) and base.code_content == head.code_content \
        and base.code_fingerprint != head.code_fingerprint


def names_only(base: Pipeline, head: Pipeline) -> bool:
    """The whole pipeline fingerprint differs by names only (every part by content is equal)."""
    return bool(base.content_fingerprint) and base.content_fingerprint == head.content_fingerprint


@dataclass(frozen=True)
class Move:
    """One thing the content layer saw through, as data (``pvcheck.findings`` writes the
    sentence). ``rule``: PV108 (moved or renamed) or PV109 (a literal extracted into a
    constant, or a constant replaced by its value); ``kind``: the finding kind."""

    rule: str
    kind: str  # definition-moved | constant-inlined | literal-extracted | names-changed
    path: str
    line: int
    old: Optional[str] = None  # qualified name before
    new: Optional[str] = None  # qualified name after
    noun: str = ""  # helper | constant


def moves(base: Iterable[HelperRef], head: Iterable[HelperRef], path: str, line: int) -> Iterator[Move]:
    """What changed name between two reaches with the same content: helpers paired by
    their content; a constant with no counterpart was extracted from, or inlined into,
    literals. ``path``/``line``: where to point when no helper says more."""
    old = {h.name: h for h in base if h.kind in _KINDS}
    new = {h.name: h for h in head if h.kind in _KINDS}
    gone = [old[name] for name in sorted(set(old) - set(new))]
    came = [new[name] for name in sorted(set(new) - set(old))]
    found = False
    paired: set[str] = set()
    for before in gone:
        after = next((h for h in came if h.kind == before.kind and h.content and h.content == before.content), None)
        if after is None:
            continue
        came.remove(after)
        paired.add(before.name)
        found = True
        yield Move("PV108", "definition-moved", after.path, after.line, before.name, after.name, _noun(after))
    for before in gone:
        if before.name not in paired and before.kind == "constant" and before.content:
            found = True
            yield Move("PV109", "constant-inlined", path, line, old=before.name, noun="constant")
    for after in came:
        if after.kind == "constant" and after.content:
            found = True
            yield Move("PV109", "literal-extracted", after.path, after.line, new=after.name, noun="constant")
    if not found:
        yield Move("PV108", "names-changed", path, line)


def _noun(helper: HelperRef) -> str:
    return "constant" if helper.kind == "constant" else "helper"


__all__ = ["Move", "moved_only", "moves", "names_only", "same_code_content", "same_content"]
