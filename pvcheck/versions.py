"""Versions from decisions: what ``pvcheck lock`` writes and what ``pvcheck check`` demands.

A report comparing the lock (rebuilt as a project) with the working tree says, per
pipeline, ``run``, ``version`` or ``pipeline``. This module turns that into version
numbers: ``run`` keeps the version, ``version`` adds one, ``pipeline`` starts a new
lineage at version 1, a new pipeline starts at 1 and a vanished one leaves the lock.
It knows nothing of files or output.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

from pvcheck.lockfile import Lock, LockedPipeline, lineage_id, sort_entries
from pvcheck.model import Decision, Finding, PipelineChange, Project, Report, Status


@dataclass(frozen=True)
class VersionChange:
    """One pipeline's version before (in the lock) and after (for the working tree)."""

    change: PipelineChange
    before: Optional[LockedPipeline]  # None: not in the lock
    after: Optional[LockedPipeline]  # None: the pipeline is gone

    @property
    def name(self) -> str:
        return self.change.name

    @property
    def new_lineage(self) -> bool:
        return self.before is not None and self.after is not None and self.before.lineage != self.after.lineage

    @property
    def bumped(self) -> bool:
        """The lock does not record this pipeline's current version (it needs `pvcheck lock`)."""
        if self.before is None or self.after is None:
            return True
        return (self.before.lineage, self.before.version, self.before.pipeline.name) != \
            (self.after.lineage, self.after.version, self.after.pipeline.name)

    @property
    def reverted(self) -> bool:
        """The change returns the pipeline to an earlier version of its lineage."""
        return (self.before is not None and self.after is not None and not self.new_lineage
                and self.after.version in {v for v, _ in self.before.earlier})

    @property
    def decision(self) -> Optional[Decision]:
        return self.change.decision

    def describe(self) -> str:
        """``churn_training v3 -> v4 (version): step split_dataset body changed at steps/features.py:41``."""
        before, after = self.before, self.after
        if before is None and after is not None:
            text = f"{after.pipeline.name} new pipeline at v{after.version}"
        elif after is None and before is not None:
            text = f"{before.pipeline.name} v{before.version} removed (no longer in the code)"
        elif before is not None and after is not None:
            if self.new_lineage:
                text = f"{after.pipeline.name} v{before.version} -> new lineage {after.lineage} v{after.version}"
            elif self.reverted:
                text = f"{after.pipeline.name} v{before.version} -> back to v{after.version}"
            elif before.version != after.version:
                text = f"{after.pipeline.name} v{before.version} -> v{after.version}"
            else:
                text = f"{after.pipeline.name} v{after.version}"
            if before.pipeline.name != after.pipeline.name:
                text += f" (renamed from {before.pipeline.name})"
        else:  # pragma: no cover - a change always has one side
            text = self.name
        label = self.decision.value if self.decision is not None else "removed"
        text += f" ({label})"
        why = self._reason()
        if why is not None and (self.bumped or self.decision is not Decision.RUN):
            text += f": {why.message}"
            place = f"{why.path}:{why.line}" if why.line else why.path
            if place and place not in why.message:
                text += f" at {place}"
        elif self.change.status is Status.UNCHANGED:
            text += ": unchanged"
        return text

    def _reason(self) -> Optional[Finding]:
        for finding in self.change.findings:
            if finding.decision is self.change.decision:
                return finding
        return None


def plan(lock: Optional[Lock], report: Report) -> tuple[Lock, tuple[VersionChange, ...]]:
    """The lock for the working tree, given the report comparing ``lock`` with it.

    ``report`` must come from comparing ``lock.project()`` (the base) with the working
    tree (the head). Lineage ids of new lineages are derived from content, so two
    processes locking the same tree write the same file.
    """
    lock = lock or Lock()
    entries: list[LockedPipeline] = []
    changes: list[VersionChange] = []
    used: set[str] = set()
    for change in report.pipelines:
        before = lock.entry_for(change.base)
        if change.head is None:
            changes.append(VersionChange(change, before, None))
            continue
        decision = change.decision or Decision.PIPELINE
        if before is None or decision is Decision.PIPELINE or before.lineage in used:
            lineage = lineage_id(change.head)
            while lineage in used:  # two identical pipelines: keep ids distinct
                lineage += "-2"
            after = LockedPipeline(lineage=lineage, version=1, pipeline=change.head)
        elif decision is Decision.VERSION:
            known = before.known_versions
            # back to an earlier version's code: that version again; else the next number.
            # A version is known by its code fingerprint only, so a change that a version
            # owes to configuration (an environment key: an image, a pinned package) is
            # never "back to" one: its fingerprint may equal this version's or an earlier
            # one's with another environment. Never the current version either: it changed.
            same = [v for v, fingerprint in known if fingerprint == change.head.fingerprint
                    and v != before.version] if _code_only(change) else []
            version = max(same) if same else max(v for v, _ in known) + 1
            after = LockedPipeline(lineage=before.lineage, version=version, pipeline=change.head,
                                   earlier=tuple(k for k in known if k[0] != version))
        else:
            after = LockedPipeline(lineage=before.lineage, version=before.version, pipeline=change.head,
                                   earlier=before.earlier)
        used.add(after.lineage)
        entries.append(after)
        changes.append(VersionChange(change, before, after))
    changes.sort(key=lambda c: (c.name, c.change.path))
    return Lock(entries=sort_entries(entries)), tuple(changes)


#: Policies whose findings are about code, which the fingerprint a version is known by covers.
_CODE_POLICIES = frozenset({"cosmetic", "signature", "structural", "identity"})


def _code_only(change: PipelineChange) -> bool:
    """Whether every finding that makes ``change`` a version is about code (not settings,
    not a plug-in policy, which may judge anything)."""
    return all(f.policy in _CODE_POLICIES for f in change.findings if f.decision is Decision.VERSION)


def rebase(judged: Report, current: Project) -> Report:
    """Settings are not code: ``judged`` compares the lock with the working tree under the
    settings the lock was made with, so its decisions see only code changes; this puts
    in each pipeline as analyzed under the current settings (what the lock will record).
    A pipeline only the current settings see (a new root) is added; one they no longer
    see (a new exclude) is removed."""
    by_identity = {(p.function, p.name): p for p in current.pipelines}
    used: set[tuple[str, str]] = set()
    changes: list[PipelineChange] = []
    for change in judged.pipelines:
        key = (change.head.function, change.head.name) if change.head is not None else None
        if key is None or key not in by_identity:
            if change.base is not None:
                changes.append(replace(change, status=Status.REMOVED, decision=None, head=None, impact=None))
            continue
        used.add(key)
        changes.append(replace(change, head=by_identity[key]))
    for key, pipeline in by_identity.items():
        if key not in used:
            changes.append(PipelineChange(name=pipeline.name, framework=pipeline.framework, path=pipeline.path,
                                          status=Status.ADDED, decision=Decision.PIPELINE, head=pipeline))
    changes.sort(key=lambda c: (c.name, c.path, c.status.value))
    return Report(pipelines=tuple(changes), diagnostics=current.diagnostics)


def collisions(report: Report) -> list[tuple[str, tuple[str, ...]]]:
    """Declared names that two different pipelines of the working tree share:
    (name, their paths). They would share one pipeline, its versions and runs."""
    by_name: dict[str, list[PipelineChange]] = {}
    for change in report.pipelines:
        if change.head is not None:
            by_name.setdefault(change.head.name, []).append(change)
    result = []
    for name, group in sorted(by_name.items()):
        prints = {c.head.fingerprint for c in group if c.head is not None}
        if len(group) > 1 and len(prints) > 1:
            result.append((name, tuple(sorted(f"{c.head.path}:{c.head.line}" for c in group if c.head))))
    return result


__all__ = ["VersionChange", "collisions", "plan"]
