"""``pvcheck check [PATH] [--base REV] [--fail-on version|pipeline]``: the CI gate.

The working tree is compared with pvcheck.lock: every pipeline whose version the lock
does not record (a change that makes a new version or lineage, a pipeline the lock does
not have, a lock entry whose pipeline is gone) makes the lock stale, and a stale lock
or a name collision fails the gate (exit 1). With ``--base REV`` the report compares
that revision with the working tree instead, and the lock, if there is one, must still
be up to date. ``--fail-on`` also fails on decisions at or above a level.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

from pvcheck.cli import EXIT_ERROR, EXIT_GATE, EXIT_OK, common_options
from pvcheck.cli.options import config_for
from pvcheck.cli.reporting import print_errors, print_report, repository_prefix
from pvcheck.lockfile import Lock, read_lock
from pvcheck.model import Decision, Project, Report, Status
from pvcheck.output.report import LOCK_STALE_RULE, REPORT_FORMATS, Gate, GateProblem, RenderContext
from pvcheck.output.style import Style
from pvcheck.versions import VersionChange, collisions, plan

HINT_STALE = "run `pvcheck lock` and commit {lock}"
HINT_COLLISION = "give each pipeline its own name (e.g. @pipeline(name=...))"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check", help="CI gate: fail when pvcheck.lock is stale or pipeline names collide",
        description="Compare the working tree with pvcheck.lock (or with --base REV), report every version "
                    "bump, and exit 1 when the lock is stale or two pipelines share a name.")
    parser.add_argument("path", nargs="?", default=".", help="the project folder (default: .)")
    parser.add_argument("--base", metavar="REV", help="compare with this git revision instead of the lock")
    parser.add_argument("--fail-on", choices=["version", "pipeline"],
                        help="also fail when a pipeline's decision is at or above this level")
    common_options(parser, REPORT_FORMATS)


def run(args: argparse.Namespace) -> int:
    import pvcheck

    config = config_for(args, args.path)
    root = Path(args.path)
    lock_path = root / config.lock_file
    lock = read_lock(lock_path)
    head = pvcheck.scan(root, config, cache=not args.no_cache)

    # the lock against the working tree: is every current version recorded?
    lock_report = pvcheck.diff(lock.project() if lock else Project(root=config.lock_file), head, config=config)
    _, lock_changes = plan(lock, lock_report)
    problems: list[GateProblem] = []
    if lock is None and not args.base:
        problems.append(GateProblem(f"{config.lock_file} does not exist", config.lock_file))
    elif lock is not None:
        problems += [_stale(c, config.lock_file) for c in lock_changes if c.bumped]

    if args.base:
        report = pvcheck.diff(args.base, head, config=config, repo=root, cache=not args.no_cache)
        against = f"revision {args.base}"
        base_lock = _lock_at(root, args.base, config.lock_file)
        versions = _versions_between(report, base_lock, lock)
    else:
        report = lock_report
        against = config.lock_file
        versions = {c.name: (c.before.version if c.before else None, c.after.version if c.after else None)
                    for c in lock_changes}

    hints: list[str] = []
    if problems:
        hints.append(HINT_STALE.format(lock=config.lock_file))
    for name, places in collisions(report):
        problems.append(GateProblem(f"name collision: {len(places)} different pipelines are named '{name}' "
                                    f"({', '.join(places)})", *_place(places[0]), rule=_collision_rule(report, name),
                                    pipeline=name))
        if HINT_COLLISION not in hints:
            hints.append(HINT_COLLISION)
    if args.fail_on:
        level = Decision(args.fail_on)
        for change in report.pipelines:
            if change.decision is not None and change.decision >= level:
                problems.append(GateProblem(
                    f"{change.name} is a new {change.decision.value} (--fail-on {level.value})",
                    change.path, change.head.line if change.head else 0, rule=_decision_rule(change),
                    pipeline=change.name))

    if args.base:
        version_lines = tuple(_describe(change, versions.get(change.name, (None, None))) for change in report.pipelines)
    else:
        version_lines = tuple(c.describe() for c in lock_changes) if lock is not None else ()
    gate = Gate(
        against=against,
        versions=version_lines,
        problems=tuple(problems),
        hint="; ".join(hints),
    )
    context = RenderContext(
        style=Style.for_stream(sys.stdout),
        base_label=against,
        head_label="working tree",
        path_prefix=repository_prefix(root),
        gate=gate,
        versions=versions,
    )
    print_report(report, args.format, context)
    if print_errors(report):
        return EXIT_ERROR
    if not gate.passed:
        if args.format != "text":  # text already ends with the verdict; keep it visible in CI logs
            print(f"pvcheck: check failed: {len(gate.problems)} problem(s); {gate.hint}", file=sys.stderr)
        return EXIT_GATE
    return EXIT_OK


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
            if finding.policy == "identity" and "collision" in finding.message.lower() and change.name == name:
                return finding.rule
    return LOCK_STALE_RULE


def _decision_rule(change) -> str:  # type: ignore[no-untyped-def]
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


def _versions_between(report: Report, before: Optional[Lock], after: Optional[Lock]) -> dict[str, tuple]:
    versions: dict[str, tuple] = {}
    for change in report.pipelines:
        old = _version_of(before, change.base)
        new = _version_of(after, change.head)
        if change.status is Status.REMOVED:
            new = None
        if old is not None or new is not None:
            versions[change.name] = (old, new)
    return versions


def _version_of(lock: Optional[Lock], pipeline) -> Optional[int]:  # type: ignore[no-untyped-def]
    if lock is None or pipeline is None:
        return None
    for entry in lock.entries:
        p = entry.pipeline
        if (p.name, p.function, p.fingerprint) == (pipeline.name, pipeline.function, pipeline.fingerprint):
            return entry.version
    return None


def _describe(change, versions: tuple) -> str:  # type: ignore[no-untyped-def]
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
    return text
