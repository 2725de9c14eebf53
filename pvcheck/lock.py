"""Writing ``pvcheck.lock`` as a library function: every pipeline's lineage and version,
moved as the decisions say (run: same version, version: +1, pipeline: a new lineage at
1; new pipelines start at 1, vanished ones leave the lock).

The whole read-compare-write runs under an exclusive lock, so concurrent callers
serialise instead of corrupting the file; the file itself is replaced atomically
(:func:`pvcheck.lockfile.write_lock`). ``pvcheck lock`` only renders the result.

Fingerprints of two schemes (:data:`pvcheck.model.FINGERPRINT_SCHEME_NUMBER`) cannot be
compared: an upgraded pvcheck fingerprints unchanged code differently, and comparing
would bump versions for nothing. :func:`lock_in_current_scheme` re-analyses the commit
the lock was written from instead, or asks for ``pvcheck lock --refresh``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

from pvcheck.config import Config, config_from_settings, settings_table
from pvcheck.errors import LockError
from pvcheck.lockfile import Lock, exclusive, first_conflict_line, read_lock, write_lock
from pvcheck.model import FINGERPRINT_SCHEME_NUMBER, Pipeline, Project, Report, Severity
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
    #: one-line notices for stderr (the lock's fingerprints re-analysed from a commit)
    notes: tuple[str, ...] = ()

    @property
    def errors(self) -> bool:
        return any(d.severity == Severity.ERROR for d in self.report.diagnostics)


def lock_project(path: Path | str = ".", config: Optional[Config] = None, cache: bool = True,
                 refresh: bool = False) -> LockResult:
    """Bring the lock file of the project at ``path`` up to date with its working tree.

    Nothing is written when a file does not parse: its pipelines would be dropped from
    the lock. ``refresh``: the lock describes the working tree (the caller asserts it):
    every locked pipeline is re-recorded as this pvcheck analyzes it, keeping its lineage
    and version (for a lock of an older fingerprint scheme that is not as committed).
    Raises :class:`~pvcheck.errors.PvcheckError` for a lock file that cannot be read or
    written, or one of another fingerprint scheme that cannot be re-analysed.
    """
    import pvcheck
    from pvcheck.versions import plan

    config = config or Config()
    root = Path(path)
    lock_path = root / config.lock_file
    notes: tuple[str, ...] = ()
    with exclusive(lock_path):
        old = read_lock(lock_path, resolve_conflicts=True)
        conflicted = old is not None and _has_conflict(lock_path)
        head = pvcheck.scan(root, config, cache=cache)
        if refresh and old is not None:
            # the tree as the lock's settings analyze it, as judge_against_lock compares it
            scope = head if not settings_changed(old, config) else \
                pvcheck.scan(root, _lock_config(old, config), cache=cache)
            old = _relocked(old, _as_locked(scope, old, config, cache))
            notes = (f"{config.lock_file}: re-recorded every pipeline under fingerprint scheme "
                     f"{FINGERPRINT_SCHEME_NUMBER}, versions and lineages kept",)
        else:
            old, notes = lock_in_current_scheme(old, root, config, cache)
        report = judge_against_lock(old, root, config, cache, head=head)
        new, changes = plan(old, report)
        new = replace(new, settings=settings_table(config))
        errors = any(d.severity == Severity.ERROR for d in report.diagnostics)
        written = False if errors else write_lock(lock_path, new)
    return LockResult(config.lock_file, written, conflicted, changes, report, tuple(collisions(report)), notes)


def lock_in_current_scheme(lock: Optional[Lock], root: Path, config: Config,
                           cache: bool = True) -> tuple[Optional[Lock], tuple[str, ...]]:
    """``lock`` with fingerprints of this pvcheck's scheme, and a notice when it had to
    be translated.

    A lock of another scheme is translated only when git holds the code it describes:
    the lock file on disk is byte for byte the one committed at the last commit that
    touched it, so that commit's code is what the lock was written from. That commit is
    re-analysed by this pvcheck and each locked pipeline takes its re-analysed model,
    keeping its lineage and version. Otherwise :class:`~pvcheck.errors.LockError`
    (exit 2) says to run ``pvcheck lock --refresh``.
    """
    if lock is None or lock.fingerprints == FINGERPRINT_SCHEME_NUMBER:
        return lock, ()
    from pvcheck import gitio

    lock_path = root / config.lock_file
    commit = gitio.last_commit_of(root, config.lock_file)
    committed = gitio.read_file_at(root, commit, config.lock_file) if commit else None
    try:
        on_disk: Optional[bytes] = lock_path.read_bytes()
    except OSError:
        on_disk = None
    if commit is None or committed is None or committed != on_disk:
        where = ("has no commit in git to re-analyse (not committed, no git, or a shallow clone: fetch its history)"
                 if commit is None else "was changed since it was committed")
        raise LockError(f"the lock file was recorded by fingerprint scheme {lock.fingerprints} (this pvcheck "
                        f"uses {FINGERPRINT_SCHEME_NUMBER}) and {where}, so its fingerprints cannot be compared",
                        config.lock_file,
                        hint=f"if {config.lock_file} describes the current code, run `pvcheck lock --refresh` "
                             f"(re-records every pipeline, versions and lineages kept), then commit it")
    assert commit is not None
    analysed = _as_locked(_scan_commit(root, commit, lock, config, cache), lock, config, cache)
    note = (f"{config.lock_file} was recorded by fingerprint scheme {lock.fingerprints}; comparing with commit "
            f"{commit[:7]}, re-analysed by this pvcheck")
    return _relocked(lock, analysed), (note,)


def _relocked(lock: Lock, models: dict[int, Pipeline]) -> Lock:
    """``lock`` with the pipelines ``models`` gives (entry index -> re-analysed
    :class:`~pvcheck.model.Pipeline`), in this pvcheck's fingerprint scheme. Entries
    without a model keep theirs (they compare as what they were: gone, or changed)."""
    entries = tuple(replace(entry, pipeline=models[i]) if i in models else entry
                    for i, entry in enumerate(lock.entries))
    return replace(lock, entries=entries, fingerprints=FINGERPRINT_SCHEME_NUMBER)


def _scan_commit(root: Path, commit: str, lock: Lock, config: Config, cache: bool) -> Project:
    """The project at ``commit`` as this pvcheck analyzes it, under the lock's settings
    (those it was written under), the way ``diff`` analyses a revision."""
    import pvcheck

    return pvcheck.scan_revision(root, commit, _lock_config(lock, config), cache=cache)


def _as_locked(project: Project, lock: Lock, config: Config, cache: bool) -> dict[int, Pipeline]:
    """Each lock entry's pipeline in ``project``, paired as comparing the lock with the
    working tree pairs them (the policies' matching), by entry index."""
    import pvcheck

    settings = _lock_config(lock, config)
    base = lock.project()
    index = {id(entry): i for i, entry in enumerate(lock.entries)}
    models: dict[int, Pipeline] = {}
    for change in pvcheck.diff(base, project, config=settings, cache=cache).pipelines:
        entry = lock.entry_for(change.base)
        if entry is not None and change.head is not None and id(entry) in index:
            models.setdefault(index[id(entry)], change.head)
    return models


def _lock_config(lock: Lock, config: Config) -> Config:
    """The settings ``lock`` was written under (``config`` for a lock that does not record them)."""
    return config_from_settings(lock.settings) if lock.settings is not None else config


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
        return bool(first_conflict_line(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError):
        return False


__all__ = ["LockResult", "lock_in_current_scheme", "lock_project"]
