"""Writing ``pvcheck.lock`` as a library function: every pipeline's lineage and version,
moved as the decisions say (run: same version, version: +1, pipeline: a new lineage at
1; new pipelines start at 1, vanished ones leave the lock).

The whole read-compare-write runs under an exclusive lock, so concurrent callers
serialise instead of corrupting the file; the file itself is replaced atomically
(:func:`pvcheck.lockfile.write_lock`). ``pvcheck lock`` only renders the result.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

from pvcheck.config import Config, config_from_settings, settings_table
from pvcheck.lockfile import Lock, exclusive, read_lock, write_lock
from pvcheck.model import Project, Report, Severity
from pvcheck.versions import VersionChange, collisions, rebase


@dataclass(frozen=True)
class LockResult:
    """What :func:`lock_project` did. ``written`` is False when the lock was up to date
    or when errors (``report.diagnostics`` of severity error) kept it from being written."""

    lock_file: str
    written: bool
    resolved_conflict: bool
    changes: tuple[VersionChange, ...]
    report: Report
    collisions: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def errors(self) -> bool:
        return any(d.severity == Severity.ERROR for d in self.report.diagnostics)


def lock_project(path: Path | str = ".", config: Optional[Config] = None, cache: bool = True) -> LockResult:
    """Bring the lock file of the project at ``path`` up to date with its working tree.

    Nothing is written when a file does not parse: its pipelines would be dropped from
    the lock. Raises :class:`~pvcheck.errors.PvcheckError` for a lock file that cannot
    be read or written.
    """
    from pvcheck.versions import plan

    config = config or Config()
    root = Path(path)
    lock_path = root / config.lock_file
    with exclusive(lock_path):
        old = read_lock(lock_path, resolve_conflicts=True)
        conflicted = old is not None and _has_conflict(lock_path)
        report = judge_against_lock(old, root, config, cache)
        new, changes = plan(old, report)
        new = replace(new, settings=settings_table(config))
        errors = any(d.severity == Severity.ERROR for d in report.diagnostics)
        written = False if errors else write_lock(lock_path, new)
    return LockResult(config.lock_file, written, conflicted, changes, report, tuple(collisions(report)))


def settings_changed(lock: Optional[Lock], config: Config) -> bool:
    """The lock records settings, and they are not ``config``'s (locks from before
    settings were recorded count as unchanged)."""
    return lock is not None and lock.settings is not None and lock.settings != settings_table(config)


def judge_against_lock(lock: Optional[Lock], root: Path, config: Config, cache: bool = True,
                       head: Optional[Project] = None) -> Report:
    """The lock compared with the working tree (``head``: the tree already scanned with
    ``config``). When the settings changed since the lock was written, decisions are made
    under the lock's settings (so adding ``run_configs``, a root or an exclude never bumps
    a version by itself), and the pipelines are then taken as the current settings
    analyze them."""
    import pvcheck

    base = lock.project() if lock is not None else Project(root=config.lock_file)
    head = head if head is not None else pvcheck.scan(root, config, cache=cache)
    if not settings_changed(lock, config):
        return pvcheck.diff(base, head, config=config)
    assert lock is not None and lock.settings is not None
    judged = pvcheck.diff(base, root, config=config_from_settings(lock.settings), cache=cache)
    return rebase(judged, head)


def _has_conflict(path: Path) -> bool:
    try:
        return "\n<<<<<<< " in "\n" + path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False


__all__ = ["LockResult", "lock_project"]
