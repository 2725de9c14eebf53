"""``pvcheck history``: what pvcheck would have decided at every commit of a branch.

The first-parent history is replayed as if ``pvcheck lock`` had run after each commit:
each commit's tree is compared with the versions recorded after the previous one, and
:func:`pvcheck.versions.plan` moves them exactly as ``pvcheck lock`` would (run: same
version; version: +1; pipeline: a new lineage at v1). Next to it, the versions a
raw-source hash would have made: the hash of the raw bytes of every file a pipeline,
its steps and their helpers live in, which is what frameworks key versions on today.

Made for long histories:

* two work folders (the commit analyzed and the one before it, which the policies read
  to explain cosmetic edits) are kept and updated file by file from ``git diff-tree``
  (every file: code reads data files by path), instead of checking out every commit;
* a commit that changes none of the files the analyzer reads (:data:`ANALYZED_SUFFIXES`,
  and the files the last model read by path) is not analyzed at all: its model is the
  previous one;
* models are cached by the set of (path, blob id) of the tree, so a revert or a
  branch that comes back to an earlier tree is not analyzed again;
* raw-source hashes are computed from git's blob ids, never by reading files;
* a long walk is shared between cores (:mod:`pvcheck.history_parts`): a helper process
  walks it backwards from the newest commit until it meets this one's forward walk, and
  the analyses of both are folded into the versions in commit order.

Nothing here touches the user's working tree, index or branches.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional, Union

from pvcheck.config import Config
from pvcheck.errors import RevisionError
from pvcheck.history_git import ANALYZED_SUFFIXES, Change, Mirror, Workspace, first_parent_commits
from pvcheck.model import REACH_FILE, Decision, Pipeline, Project, Report, Status

if TYPE_CHECKING:
    from pvcheck.analyzer.cache import AnalysisCache
    from pvcheck.lockfile import Lock

# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class PipelineEvent:
    """What one commit did to one pipeline."""

    pipeline: str  # the name after the commit (before it, for a removed pipeline)
    status: Status
    decision: Optional[Decision]  # None: the pipeline was removed
    lineage: int  # 1 for the first lineage of this name, 2 after a new-pipeline decision ...
    version: Optional[int]  # None when removed
    new_version: bool  # pvcheck made a version here (a new lineage's v1 included)
    raw_changed: bool  # the raw-source hash made a new version here
    reason: str = ""  # the finding that decided it, ``message at path:line``
    renamed_from: Optional[str] = None

    @property
    def label(self) -> str:
        if self.version is None:
            return "removed"
        return f"v{self.version}" if self.lineage == 1 else f"L{self.lineage} v{self.version}"

    def to_json(self) -> dict[str, object]:
        return {
            "pipeline": self.pipeline,
            "status": self.status.value,
            "decision": self.decision.value if self.decision else None,
            "lineage": self.lineage,
            "version": self.version,
            "new_version": self.new_version,
            "raw_changed": self.raw_changed,
            "reason": self.reason,
            "renamed_from": self.renamed_from,
        }


@dataclass(frozen=True)
class CommitEntry:
    """One commit that touched at least one pipeline."""

    commit: str
    subject: str
    date: str  # author date, ISO 8601
    index: int  # position in the walked history, 0 = oldest
    events: tuple[PipelineEvent, ...]

    @property
    def short(self) -> str:
        return self.commit[:10]

    def to_json(self) -> dict[str, object]:
        return {"commit": self.commit, "subject": self.subject, "date": self.date, "index": self.index,
                "pipelines": [e.to_json() for e in self.events]}


@dataclass(frozen=True)
class PipelineSummary:
    """Per pipeline over the whole walk: how many versions each scheme made."""

    name: str
    commits: int  # commits that touched it
    runs: int  # commits pvcheck judged to be another run of the same version
    versions: int  # versions pvcheck made, each new lineage's v1 included
    lineages: int
    raw_versions: int  # versions a raw-source hash would have made
    final: str  # e.g. "v4", "L2 v1" or "removed"

    def to_json(self) -> dict[str, object]:
        return {"pipeline": self.name, "commits": self.commits, "runs": self.runs, "versions": self.versions,
                "lineages": self.lineages, "raw_source_versions": self.raw_versions, "final": self.final}


@dataclass(frozen=True)
class History:
    entries: tuple[CommitEntry, ...]
    summaries: tuple[PipelineSummary, ...]
    commits_walked: int
    commits_analyzed: int  # commits whose tree was actually scanned (the rest reused a model)
    seconds: float
    first: str = ""  # oldest commit walked
    last: str = ""  # newest commit walked

    def to_json(self) -> dict[str, object]:
        return {
            "schema": "pvcheck.history/1",
            "commits_walked": self.commits_walked,
            "commits_analyzed": self.commits_analyzed,
            "first": self.first,
            "last": self.last,
            "commits": [e.to_json() for e in self.entries],
            "summary": [s.to_json() for s in self.summaries],
        }


# --------------------------------------------------------------------------- the walk


def raw_source_hash(pipeline: Pipeline, blobs: dict[str, str]) -> str:
    """The version key of raw-source hashing: every file the pipeline, its steps and
    their helpers live in, by git blob id (a hash of the raw bytes)."""
    paths = {pipeline.path}
    for step in pipeline.steps:
        paths.add(step.path)
        paths.update(helper.path for helper in step.helpers)
    digest = hashlib.sha256()
    for path in sorted(p for p in paths if p):
        digest.update(f"{path}\0{blobs.get(path, '-')}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


@dataclass
class _Track:
    """Everything known about one pipeline during the walk: by name, or by name and file
    while another pipeline of the tree has that name (a collection of projects, each with
    its ``training_pipeline``: one row each, not one row flipping between them)."""

    name: str
    lineages: dict[str, int] = field(default_factory=dict)  # lineage id -> 1, 2, ...
    versions: set[tuple[str, int]] = field(default_factory=set)
    raw: set[str] = field(default_factory=set)
    last_raw: Optional[str] = None
    commits: int = 0
    runs: int = 0
    final: str = ""


def walk(
    repo: Path | str = ".",
    config: Optional[Config] = None,
    since: Optional[str] = None,
    pipeline: Optional[str] = None,
    cache: bool = True,
    on_commit: Optional[Callable[[int, int, str], None]] = None,
    reuse: bool = True,
    jobs: Optional[int] = None,
) -> History:
    """Replay the first-parent history of the project folder ``repo``.

    ``pipeline`` keeps only that pipeline (by name) in the result; all are analyzed,
    because the decision of one can depend on the others (renames, collisions).
    ``on_commit(done, total, commit)`` is called after each commit (progress).

    ``reuse`` (the default) carries analysis from one commit to the next in this process
    (:mod:`pvcheck.analyzer.incremental`): a commit costs what it changed. ``reuse=False``
    scans every commit on its own, through the analysis cache when ``cache`` is set; it
    is the reference the reuse is tested against (the results are identical).

    ``jobs``: how many processes may share a long walk with reuse (default:
    ``$PVCHECK_JOBS``, else one per usable core): a helper process walks it backwards from
    its newest commit while this one walks forwards (:mod:`pvcheck.history_parts`). The
    result does not depend on it.
    """
    from pvcheck import gitio

    started = time.perf_counter()
    config = config or Config()
    toplevel, prefix = gitio.repository(repo)
    commits = first_parent_commits(repo, since)
    if not commits:
        raise RevisionError(f"no commits to walk in {repo}", hint="commit something first")
    fold = _Fold(commits, pipeline, on_commit)
    if not reuse:
        for analysis in CommitWalk(toplevel, prefix, commits, config, cache, listing=False):
            fold.add(analysis)
            fold.progress(analysis.commit)
        return fold.history(time.perf_counter() - started)

    from pvcheck.history_parts import Helpers, stretches

    plan = stretches(len(commits), jobs)
    # the helper processes start before this one has loaded anything (a fork copies it)
    with Helpers(toplevel, prefix, config, commits, plan) as helpers:
        with reusing_between_commits(config) as memory:
            for analysis in CommitWalk(toplevel, prefix, commits[:plan[0].last + 1], config, memory, listing=True,
                                       claim=helpers.claim()):
                fold.add(analysis)
                fold.progress(analysis.commit)
                helpers.poll(fold.progress)
        for part in helpers.results(fold.progress):
            analyses, boundary = part.analyses, part.boundary
            if analyses is None and part.first <= part.last:  # the helper failed (a bug): its commits, here
                with reusing_between_commits(config) as memory:
                    again = CommitWalk(toplevel, prefix, commits[part.first - 1:part.last + 1], config, memory,
                                       listing=True, first_index=part.first - 1, starts_known=True)
                    analyses, boundary = list(again), again.boundary
                for analysis in analyses[part.reported:]:
                    fold.progress(analysis.commit)
            if analyses:
                fold.take_over(boundary)
                for analysis in analyses:
                    fold.add(analysis)
    return fold.history(time.perf_counter() - started)


@contextmanager
def reusing_between_commits(config: Config) -> Iterator["AnalysisCache"]:
    """What carries analysis from one commit's scan to the next: the incremental session,
    the listing memo, the installed plug-ins read once, the garbage collector paused. The
    cache it yields keeps the analysis of a tree seen before in memory."""
    from pvcheck.analyzer.cache import MemoryCache
    from pvcheck.analyzer.incremental import session
    from pvcheck.analyzer.listing import tracking
    from pvcheck.analyzer.scan import paused_gc

    with session(), tracking(), _installed_plugins_fixed(), paused_gc():
        yield MemoryCache(config)


@contextmanager
def _installed_plugins_fixed() -> Iterator[None]:
    """Read the installed distributions' entry points once for the whole walk, not three
    times per commit (framework plug-ins, their cache digest, policy plug-ins: about 20 ms
    each). Nothing is installed or removed while one command runs."""
    from importlib import metadata

    from pvcheck.policies import registry

    original = metadata.entry_points
    found: dict[tuple[tuple[str, Any], ...], Any] = {}

    def entry_points(**params: Any) -> Any:
        key = tuple(sorted(params.items()))
        if key not in found:
            found[key] = original(**params)
        return found[key]

    metadata.entry_points, registry.entry_points = entry_points, entry_points  # type: ignore[assignment]
    try:
        yield
    finally:
        metadata.entry_points, registry.entry_points = original, original  # type: ignore[assignment]


@dataclass(frozen=True)
class Analysis:
    """One walked commit, analysed but not yet folded into the versions: the comparison
    with the commit before it and what the fold needs besides. Plain data, so that a
    helper process can make these for its stretch of the walk and send them back."""

    index: int  # position in the walked history
    commit: str
    key: Optional[str]  # the tree's identity (:meth:`Mirror.key`); None: not analysed
    report: Optional[Report]  # None: nothing the analyzer reads changed, same models, same versions
    raw: tuple[str, ...] = ()  # the raw-source hash of each change's head ("" if removed)
    pipelines: tuple[Pipeline, ...] = ()  # the analysed project's pipelines, in its order


class CommitWalk:
    """The commits of a walk (or of a stretch of one) analysed one after the other, each
    compared with the commit before it.

    Forward (the default) the first commit is compared with nothing, unless
    ``starts_known``: then it is only where the walk starts (another walk analyses it).
    ``backward`` walks from the last commit to the first, which is only reached, as what
    the second is compared with; the analyses are those a forward walk makes, in reverse.
    ``claim(index)`` is asked before each analysis but a forward walk's first: the walk
    ends at the first refusal. Once iterated, :attr:`boundary` holds the pipelines of the
    commit just before the first analysis in commit order (the starting commit of a walk
    that ``starts_known``, the commit a backward walk stopped at): another walk made them
    too, and :meth:`_Fold.take_over` links the two.
    """

    def __init__(self, toplevel: Path, prefix: str, commits: list[tuple[str, str, str]], config: Config,
                 cache: Union[bool, "AnalysisCache"], *, listing: bool, first_index: int = 0,
                 backward: bool = False, starts_known: bool = False,
                 claim: Optional[Callable[[int], bool]] = None, within: Optional[Path] = None) -> None:
        self.toplevel, self.prefix, self.commits, self.config, self.cache = toplevel, prefix, commits, config, cache
        self.listing = listing  # tell the listing memo what changed (a walk that reuses)
        self.first_index = first_index
        self.backward = backward
        self.starts_known = starts_known
        self.claim = claim
        self.within = within  # where its work folders go (pvcheck.history_git.Workspace)
        self.boundary: tuple[Pipeline, ...] = ()
        self._models: dict[str, Project] = {}  # by tree: a revert is not analysed again

    def __iter__(self) -> Iterator[Analysis]:
        from pvcheck.analyzer.listing import active as listing_memo

        self._memo = listing_memo() if self.listing else None
        with Workspace(self.toplevel, self.prefix, self.within) as workspace:
            yield from (self._backward(workspace) if self.backward else self._forward(workspace))

    def _forward(self, workspace: Workspace) -> Iterator[Analysis]:
        mirror = workspace.head  # the base follows a commit behind
        previous: Optional[str] = None
        project: Optional[Project] = None
        previous_project = Project(root="")
        reads: frozenset[str] = frozenset()  # what the last model's analysis read by path
        for index, (commit, _, _) in enumerate(self.commits, self.first_index):
            if previous is None:
                changed = mirror.load(commit)
            else:
                if self.claim is not None and not self.claim(index):
                    return
                changed = self._advance(mirror, previous, commit)
            previous = commit
            if project is not None and not _reads_changed(changed, reads):
                workspace.base.apply(changed)  # (the base stays this commit's twin)
                yield Analysis(index, commit, None, None)
                continue  # nothing the analyzer reads changed: same models, same versions
            key = mirror.key()
            project = self._model(mirror, key)
            reads = _reads(project)
            # A cached model may come from an earlier commit: point it at the folders that
            # hold its files now. Its pipelines are what the lock recorded, object for object.
            head = replace(project, root=str(mirror.root))
            if index == self.first_index and self.starts_known:
                self.boundary = project.pipelines
            else:
                base = replace(previous_project, root=str(workspace.base.root)) if previous_project.root else \
                    previous_project
                yield self._analysis(index, commit, key, base, head, workspace.base, mirror)
            workspace.base.apply(changed)  # the base catches up: it is this commit from now on
            previous_project = head

    def _backward(self, workspace: Workspace) -> Iterator[Analysis]:
        older, newer = workspace.base, workspace.head  # the older is scanned, the newer follows
        last = len(self.commits) - 1
        newer.apply(older.load(self.commits[last][0]))
        project = self._model(older, older.key())
        reads = _reads(project)
        for position in range(last, 0, -1):
            index = self.first_index + position
            if self.claim is not None and not self.claim(index):
                break
            commit = self.commits[position][0]
            changed = self._advance(older, commit, self.commits[position - 1][0])
            # (the newer commit's model reads what the older one's would: their code is the same)
            if not _reads_changed(changed, reads):
                newer.apply(changed)
                yield Analysis(index, commit, None, None)
                continue
            earlier = self._model(older, older.key())
            yield self._analysis(index, commit, newer.key(), replace(earlier, root=str(older.root)),
                                 replace(project, root=str(newer.root)), older, newer)
            newer.apply(changed)
            project, reads = earlier, _reads(earlier)
        self.boundary = project.pipelines

    def _advance(self, mirror: Mirror, old: str, new: str) -> list[Change]:
        existed = set(mirror.files) if self._memo is not None else set()
        changed = mirror.advance(old, new)
        if self._memo is not None:  # the next scan reads again only what changed
            self._memo.note((path, data is not None and path in existed) for path, _, data in changed)
        return changed

    def _model(self, mirror: Mirror, key: str) -> Project:
        from pvcheck.analyzer import scan_tree

        project = self._models.get(key)
        if project is None:
            project = self._models[key] = scan_tree(mirror.root, self.config, cache=self.cache)
        return project

    def _analysis(self, index: int, commit: str, key: str, base: Project, head: Project, base_mirror: Mirror,
                  head_mirror: Mirror) -> Analysis:
        from pvcheck.policies import compare

        report = compare(base, head, self.config, content_ids=(base_mirror.files, head_mirror.files))
        raw = tuple(raw_source_hash(c.head, head_mirror.files) if c.head is not None else "" for c in report.pipelines)
        return Analysis(index, commit, key, report, raw, head.pipelines)


def _reads_changed(changed: list[Change], reads: frozenset[str]) -> bool:
    """Whether a commit changed a file the analyzer reads: one of
    :data:`ANALYZED_SUFFIXES`, or one the last model read by path."""
    return any(path.endswith(ANALYZED_SUFFIXES) or path in reads for path, _, _ in changed)


class _Fold:
    """The analyses of a walk, in commit order, folded into the lock ``pvcheck lock`` would
    have written after each commit and into one row per pipeline."""

    def __init__(self, commits: list[tuple[str, str, str]], pipeline: Optional[str],
                 on_commit: Optional[Callable[[int, int, str], None]]) -> None:
        self.commits = commits
        self.pipeline = pipeline
        self.on_commit = on_commit
        self.done = 0
        self.lock: Optional[Lock] = None
        self.tracks: dict[str, _Track] = {}
        self.entries: list[CommitEntry] = []
        self.keys: set[str] = set()  # the trees analysed: a tree seen before is not analysed again
        self.pipelines: tuple[Pipeline, ...] = ()  # of the last analysed commit

    def progress(self, commit: str) -> None:
        """One more commit analysed, here or in a helper process."""
        self.done += 1
        if self.on_commit:
            self.on_commit(self.done, len(self.commits), commit)

    def add(self, analysis: Analysis) -> None:
        from pvcheck.versions import plan

        if analysis.report is not None:
            assert analysis.key is not None
            self.keys.add(analysis.key)
            self.lock, changes = plan(self.lock, analysis.report)
            self.pipelines = analysis.pipelines
            raw = {id(c.head): r for c, r in zip(analysis.report.pipelines, analysis.raw) if c.head is not None}
            events = _events(analysis.report, changes, self.tracks, raw)
            if self.pipeline is not None:
                events = [e for e in events if _named(e.pipeline, self.pipeline) or e.renamed_from == self.pipeline]
            if events:
                _, date, subject = self.commits[analysis.index]
                self.entries.append(CommitEntry(analysis.commit, subject, date, analysis.index, tuple(events)))

    def take_over(self, pipelines: tuple[Pipeline, ...]) -> None:
        """Before the analyses of another walk: ``pipelines`` are its own of the last commit
        folded here, the very objects its comparisons hold, where the lock holds this
        walk's. The lock finds its entry for a pipeline by identity first (two pipelines
        may be equal in all but place), so its entries are given the other walk's."""
        if self.lock is None or len(pipelines) != len(self.pipelines):
            return
        theirs = {id(mine): their for mine, their in zip(self.pipelines, pipelines)}
        self.lock = replace(self.lock, entries=tuple(replace(e, pipeline=theirs.get(id(e.pipeline), e.pipeline))
                                                     for e in self.lock.entries))
        self.pipelines = pipelines

    def history(self, seconds: float) -> History:
        commits = self.commits
        summaries = tuple(
            PipelineSummary(t.name, t.commits, t.runs, len(t.versions), len(t.lineages), len(t.raw), t.final)
            for t in sorted(self.tracks.values(), key=lambda t: t.name)
            if self.pipeline is None or _named(t.name, self.pipeline)
        )
        return History(tuple(self.entries), summaries, len(commits), len(self.keys), seconds, commits[0][0], commits[-1][0])


def _reads(project: Project) -> frozenset[str]:
    """Files the analysis of ``project``'s commit read besides :data:`ANALYZED_SUFFIXES`:
    those its steps and pipelines read by path (``file:`` reach) and the configuration
    files it took settings from."""
    reads: set[str] = set()
    for pipeline in project.pipelines:
        for helper in (*pipeline.helpers, *(h for step in pipeline.steps for h in step.helpers)):
            if helper.kind == REACH_FILE:
                reads.add(helper.name[len("file:"):])
        for where in (pipeline.config_lines, *(step.config_lines for step in pipeline.steps)):
            reads.update(source[0] for source in where.values())
    return frozenset(reads)


def _named(row: str, name: str) -> bool:
    """Whether a row is the pipeline called ``name`` (one of them, where several are)."""
    return row == name or row.startswith(name + " [")


def _shared_names(pipelines: Iterable[Optional[Pipeline]]) -> set[str]:
    counts = Counter(p.name for p in pipelines if p is not None)
    return {name for name, count in counts.items() if count > 1}


def _row(name: str, path: str, shared: set[str]) -> str:
    """A pipeline's row: its name, with its file while another pipeline has that name."""
    return f"{name} [{path}]" if name in shared else name


def _events(report: Report, changes, tracks: dict[str, _Track], raw: dict[int, str]) -> list[PipelineEvent]:  # type: ignore[no-untyped-def]
    """The events of one commit, updating ``tracks``; untouched pipelines give none.
    ``raw``: the raw-source hash of each head pipeline, by ``id``."""
    events: list[PipelineEvent] = []
    shared_before = _shared_names(c.change.base for c in changes)
    shared_after = _shared_names(c.change.head for c in changes)
    for change in changes:
        pc = change.change
        old_name = pc.base.name if pc.base is not None else None
        old_row = _row(old_name, pc.base.path, shared_before) if pc.base is not None and old_name else None
        name = pc.head.name if pc.head is not None else (old_name or pc.name)
        path = pc.head.path if pc.head is not None else (pc.base.path if pc.base is not None else pc.path)
        row = _row(name, path, shared_after if pc.head is not None else shared_before)
        renamed_from = old_name if old_name is not None and old_name != name else None
        if old_row is not None and old_row != row and old_row in tracks and row not in tracks:
            # the row follows the pipeline: to its new name, or in and out of a name another
            # pipeline came to share
            track = tracks.pop(old_row)
            track.name = row
            tracks[row] = track
        track = tracks.setdefault(row, _Track(row))
        name = row

        if change.after is None:  # removed
            track.final = "removed"
            track.last_raw = None
            track.commits += 1
            events.append(PipelineEvent(name, pc.status, None, 0, None, False, False, "removed from the code"))
            continue
        after = change.after
        lineage = track.lineages.setdefault(after.lineage, len(track.lineages) + 1)
        new_version = (after.lineage, after.version) not in track.versions
        track.versions.add((after.lineage, after.version))
        raw_hash = raw[id(after.pipeline)]
        raw_changed = raw_hash != track.last_raw
        track.last_raw = raw_hash
        track.raw.add(raw_hash)
        label = f"v{after.version}" if lineage == 1 else f"L{lineage} v{after.version}"
        track.final = label
        touched = new_version or raw_changed or pc.status is not Status.UNCHANGED or bool(pc.findings)
        if not touched:
            continue
        track.commits += 1
        if not new_version:
            track.runs += 1
        events.append(PipelineEvent(name, pc.status, pc.decision, lineage, after.version, new_version, raw_changed,
                                    _reason(pc), renamed_from))
    return events


def _reason(change) -> str:  # type: ignore[no-untyped-def]
    for finding in change.findings:
        if finding.decision is change.decision:
            place = f"{finding.path}:{finding.line}" if finding.line else finding.path
            return f"{finding.message} at {place}" if place and place not in finding.message else finding.message
    if change.status is Status.ADDED:
        return "new pipeline"
    return ""

