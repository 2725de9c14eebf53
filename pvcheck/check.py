"""The CI gate as a library function: the working tree against ``pvcheck.lock`` (or a base
revision), every version bump, and whether the gate passes.

``pvcheck check``, the GitHub Action and library users all call :func:`check_project`;
the command line only renders its :class:`CheckResult`.

The working tree is compared with the lock: every pipeline whose version the lock does
not record (a change that makes a new version or lineage, a pipeline the lock does not
have, a lock entry whose pipeline is gone) makes the lock stale, and a stale lock or a
name collision fails the gate. With ``base`` the report compares that revision with the
working tree instead, and the lock, if there is one, must still be up to date.
``fail_on`` also fails on decisions at or above a level.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from pvcheck.config import Config
from pvcheck.lock import judge_against_lock, lock_in_current_scheme, settings_changed
from pvcheck.lockfile import Lock, read_lock
from pvcheck.model import Decision, PipelineChange, Report, Status
from pvcheck.versions import VersionChange, collisions, plan

#: Rule id of gate problems (a stale lock); findings use PV1xx-PV5xx, diagnostics PV0xx.
LOCK_STALE_RULE = "PV900"

HINT_STALE = "run `pvcheck lock` and commit {lock}"
HINT_COLLISION = "give each pipeline its own name (e.g. @pipeline(name=...))"


@dataclass(frozen=True)
class GateProblem:
    """One reason the gate fails, located where the user has to act."""

    message: str
    path: str = ""
    line: int = 0
    rule: str = LOCK_STALE_RULE
    pipeline: str = ""


@dataclass(frozen=True)
class VersionBump:
    """One pipeline's version on both sides of the comparison (``None``: not there)."""

    pipeline: str
    before: Optional[int]
    after: Optional[int]
    decision: Optional[Decision]  # None: the pipeline was removed
    summary: str  # "churn_training v3 -> v4 (version): ..." for text output

    def to_json(self) -> dict[str, Any]:
        return {"pipeline": self.pipeline, "from": self.before, "to": self.after,
                "decision": self.decision.value if self.decision is not None else None, "summary": self.summary}


@dataclass(frozen=True)
class Gate:
    """The outcome of the gate: version bumps, problems, and what to do."""

    against: str  # "pvcheck.lock" or "revision main"
    bumps: tuple[VersionBump, ...] = ()
    problems: tuple[GateProblem, ...] = ()
    hint: str = ""

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def versions(self) -> tuple[str, ...]:
        """One sentence per pipeline, as text output prints it."""
        return tuple(bump.summary for bump in self.bumps)


@dataclass(frozen=True)
class CheckResult:
    """What :func:`check_project` found: the report it judged and the gate's verdict."""

    report: Report
    gate: Gate
    #: pipeline name -> (version before, version after), for labels in reports
    versions: dict[str, tuple[Optional[int], Optional[int]]]
    #: one-line notices for stderr (the lock's fingerprints re-analysed from a commit)
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.gate.passed


def check_project(
    path: Path | str = ".",
    base: Optional[str] = None,
    fail_on: Optional[Decision | str] = None,
    config: Optional[Config] = None,
    cache: bool = True,
) -> CheckResult:
    """Run the gate on the project at ``path`` (its working tree).

    ``base`` is a git revision to compare with instead of the lock; ``fail_on``
    (``version`` or ``pipeline``) also fails on decisions at or above that level.
    Raises :class:`~pvcheck.errors.PvcheckError` for a bad lock file or revision.
    """
    import pvcheck

    config = config or Config()
    root = Path(path)
    lock = read_lock(root / config.lock_file)
    # a lock of an older fingerprint scheme: its commit re-analysed (or exit 2, --refresh)
    lock, notes = lock_in_current_scheme(lock, root, config, cache)
    head = pvcheck.scan(root, config, cache=cache)

    # the lock against the working tree: is every current version recorded? (under the
    # lock's own settings when they changed since: settings alone never bump a version)
    lock_report = judge_against_lock(lock, root, config, cache, head=head)
    _, lock_changes = plan(lock, lock_report)
    problems: list[GateProblem] = []
    if lock is None and not base:
        problems.append(GateProblem(f"{config.lock_file} does not exist", config.lock_file))
    elif lock is not None:
        problems += [_stale(c, config.lock_file) for c in lock_changes if c.bumped]

    if base:
        report = pvcheck.diff(base, head, config=config, repo=root, cache=cache)
        against = f"revision {base}"
        versions = _versions_between(report, _lock_at(root, base, config.lock_file), lock)
        bumps = tuple(_bump_between(change, versions.get(change.name, (None, None))) for change in report.pipelines)
    else:
        report = lock_report
        against = config.lock_file
        versions = {c.name: (c.before.version if c.before else None, c.after.version if c.after else None)
                    for c in lock_changes}
        bumps = tuple(_bump_from_lock(c) for c in lock_changes) if lock is not None else ()

    hints: list[str] = []
    if problems:
        hints.append(HINT_STALE.format(lock=config.lock_file))
    elif settings_changed(lock, config):
        hints.append(f"pvcheck's settings changed since {config.lock_file} was written: no version changes, "
                     f"but run `pvcheck lock` to record them")
    for name, places in collisions(report):
        problems.append(GateProblem(f"name collision: {len(places)} different pipelines are named '{name}' "
                                    f"({', '.join(places)})", *_place(places[0]), rule=_collision_rule(report, name),
                                    pipeline=name))
        if HINT_COLLISION not in hints:
            hints.append(HINT_COLLISION)
    if fail_on:
        level = Decision(fail_on)
        for change in report.pipelines:
            if change.decision is not None and change.decision >= level:
                problems.append(GateProblem(
                    f"{change.name} is a new {change.decision.value} (--fail-on {level.value})",
                    change.path, change.head.line if change.head else 0, rule=_decision_rule(change),
                    pipeline=change.name))
    gate = Gate(against=against, bumps=bumps, problems=tuple(problems), hint="; ".join(hints))
    return CheckResult(report=report, gate=gate, versions=versions, notes=notes)


def _bump_from_lock(change: VersionChange) -> VersionBump:
    return VersionBump(change.name, change.before.version if change.before else None,
                       change.after.version if change.after else None, change.decision, change.describe())


def _stale(change: VersionChange, lock_file: str) -> GateProblem:
    """Where the user has to look: the change that moved the version, else the lock."""
    for finding in change.change.findings:
        if finding.decision is change.decision and finding.path:
            return GateProblem(f"{lock_file} is stale: {change.describe()}", finding.path, finding.line,
                               pipeline=change.name)
    head = change.change.head
    if head is not None:
        return GateProblem(f"{lock_file} is stale: {change.describe()}", head.path, head.line, pipeline=change.name)
    return GateProblem(f"{lock_file} is stale: {change.describe()}", lock_file, pipeline=change.name)


def _place(place: str) -> tuple[str, int]:
    path, _, line = place.rpartition(":")
    return (path, int(line)) if line.isdigit() else (place, 0)


def _collision_rule(report: Report, name: str) -> str:
    """The identity policy's rule for the collision when it reported one."""
    for change in report.pipelines:
        for finding in change.findings:
            if finding.kind == "name-collision" and change.name == name:
                return finding.rule
    return LOCK_STALE_RULE


def _decision_rule(change: PipelineChange) -> str:
    for finding in change.findings:
        if finding.decision is change.decision:
            return finding.rule
    return LOCK_STALE_RULE


def _lock_at(root: Path, rev: str, lock_file: str) -> Optional[Lock]:
    """The lock as committed in ``rev``, for "v3 -> v4" labels; None when it has none."""
    from pvcheck.lockfile import read_lock_at

    try:
        return read_lock_at(root, rev, lock_file)
    except Exception:  # labels only: a missing or old lock must not fail the gate
        return None


def _versions_between(report: Report, before: Optional[Lock],
                      after: Optional[Lock]) -> dict[str, tuple[Optional[int], Optional[int]]]:
    versions: dict[str, tuple[Optional[int], Optional[int]]] = {}
    for change in report.pipelines:
        old = _version_of(before, change.base)
        new = _version_of(after, change.head)
        if change.status is Status.REMOVED:
            new = None
        if old is not None or new is not None:
            versions[change.name] = (old, new)
    return versions


def _version_of(lock: Optional[Lock], pipeline: Any) -> Optional[int]:
    if lock is None or pipeline is None:
        return None
    for entry in lock.entries:
        p = entry.pipeline
        if (p.name, p.function, p.fingerprint) == (pipeline.name, pipeline.function, pipeline.fingerprint):
            return entry.version
    return None


def _bump_between(change: PipelineChange, versions: tuple[Optional[int], Optional[int]]) -> VersionBump:
    """``churn_training v1 -> v2 (version): <reason>`` for a change between two revisions."""
    old, new = versions
    if old is not None and new is not None and old != new:
        label = f"v{old} -> v{new}"
    elif new is not None or old is not None:
        label = f"v{new if new is not None else old}"
    else:
        label = ""
    text = f"{change.name} {label}".rstrip() + f" ({change.decision.value if change.decision else 'removed'})"
    for finding in change.findings:
        if finding.decision is change.decision:
            place = f"{finding.path}:{finding.line}" if finding.line else finding.path
            text += f": {finding.message}" + (f" at {place}" if place and place not in finding.message else "")
            break
    else:
        if change.status is Status.UNCHANGED:
            text += ": unchanged"
    return VersionBump(change.name, old, new, change.decision, text)


__all__ = ["CheckResult", "Gate", "GateProblem", "LOCK_STALE_RULE", "VersionBump", "check_project"]
