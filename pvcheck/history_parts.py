"""A long ``pvcheck history`` walk shared between processes.

One process walks a history commit after commit, each commit costing what it changed;
only the first commit, scanned with nothing to reuse, costs the whole tree. With more
than one usable core a long walk is shared: a helper process starts from the newest
commit and walks backwards while this one walks forwards from the oldest, each claiming
one commit at a time, until they meet, wherever the commits' costs put that. With four
cores or more the walk is first cut into stretches, each walked so from both ends.

The helpers send back their analyses (:class:`pvcheck.history.Analysis`, plain data),
and this process folds them all into the versions in commit order: the history is the
one a single process makes, byte for byte (``tests/test_history_parts.py``). A helper
that fails with a user error (a missing git object) raises it here, where one process
would have; one that fails any other way costs time, not results: the commits it had
claimed are analysed here.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import shutil
import signal
import tempfile
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional, Type

from pvcheck.config import Config
from pvcheck.errors import PvcheckError

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from pvcheck.history import Analysis
    from pvcheck.model import Pipeline

#: The fewest commits a process of a shared walk should have unless ``jobs`` is set: a
#: helper's start (a process, then a scan of its first commit with nothing to reuse) is
#: paid back from about ten commits on. Measured on two public repositories, two
#: processes against one: 0.93x-0.95x the wall time over 10 commits, 0.73x-0.76x over 20,
#: 0.61x-0.76x over 51-58; the claims keep a slow helper from costing more than its start.
MIN_STRETCH = 8

Commit = tuple[str, str, str]  # (commit, author date, subject)


@dataclass(frozen=True)
class Stretch:
    """Commits ``first`` to ``last`` of a walk (indexes, inclusive). Its analyses are those
    of the commits after ``first`` (of ``first`` too for the walk's first stretch): ``first``
    is where its forward walk starts, the last commit the stretch before analysed."""

    first: int
    last: int
    paired: bool  # a helper walks it backwards, towards its forward walk


def stretches(count: int, jobs: Optional[int] = None) -> list[Stretch]:
    """How a walk of ``count`` commits is shared. ``jobs``: the processes it may use;
    None: ``$PVCHECK_JOBS``, else one per usable core, and no helper for a walk of fewer
    than :data:`MIN_STRETCH` commits a process."""
    from pvcheck.analyzer.scan import usable_jobs

    steps = count - 1  # the analyses after the first commit's
    shortest = MIN_STRETCH if jobs is None else 1
    pairs = usable_jobs(jobs) // 2
    if pairs == 0 or steps < 2 * shortest:
        return [Stretch(0, max(steps, 0), False)]
    parts = max(1, min(pairs, steps // (2 * shortest)))
    bounds = [round(part * steps / parts) for part in range(parts + 1)]
    return [Stretch(bounds[part], bounds[part + 1], True) for part in range(parts)]


class Claims:
    """Which commits of a stretch its two walks have taken: the forward walk every commit
    up to ``high``, the backward one every commit from ``low``; a commit is taken once."""

    def __init__(self, shared: Any) -> None:
        self.shared = shared  # [high, low], in memory the processes share, with its lock

    @classmethod
    def new(cls, context: Any, stretch: Stretch) -> "Claims":
        return cls(context.Array("q", [stretch.first, stretch.last + 1]))

    def forward(self, index: int) -> bool:
        with self.shared.get_lock():
            if index >= self.shared[1]:
                return False
            self.shared[0] = index
            return True

    def backward(self, index: int) -> bool:
        with self.shared.get_lock():
            if index <= self.shared[0]:
                return False
            self.shared[1] = index
            return True

    @property
    def high(self) -> int:
        return int(self.shared[0])

    @property
    def low(self) -> int:
        return int(self.shared[1])


@dataclass
class Part:
    """One helper's share of the walk, as the fold takes it."""

    analyses: Optional[list["Analysis"]]  # in commit order; None: the helper failed
    boundary: tuple["Pipeline", ...]  # the pipelines of the commit before its first analysis
    reported: int  # analyses it reported done (progress)
    first: int  # the analyses it owed: commits first to last
    last: int


@dataclass
class _Helper:
    process: "BaseProcess"
    connection: Connection
    stretch: Stretch
    claims: Optional[Claims]
    backward: bool
    reported: int = 0
    outcome: Optional[tuple[Any, ...]] = None  # ("done", boundary, analyses), ("error", e), ("crash", text)


class Helpers:
    """The helper processes of one walk, started on entry (none for a short walk)."""

    def __init__(self, toplevel: Path, prefix: str, config: Config, commits: list[Commit],
                 plan: list[Stretch]) -> None:
        self.toplevel, self.prefix, self.config, self.commits, self.plan = toplevel, prefix, config, commits, plan
        self._claims: list[Optional[Claims]] = []
        self._helpers: list[_Helper] = []
        # the helpers' work folders, removed here once they have ended: a helper killed
        # (or stuck in native code) before it unwinds leaves no copy of the repository behind
        self._folder: Optional[Path] = None

    def __enter__(self) -> "Helpers":
        from pvcheck.analyzer.parallel import start_method

        context = multiprocessing.get_context(start_method())
        try:
            for number, stretch in enumerate(self.plan):
                claims = Claims.new(context, stretch) if stretch.paired else None
                self._claims.append(claims)
                if number > 0:
                    self._start(context, stretch, claims, backward=False)
                if claims is not None:
                    self._start(context, stretch, claims, backward=True)
        except BaseException:
            self.__exit__(None, None, None)  # the helpers started so far end, their folder goes
            raise
        return self

    def _start(self, context: Any, stretch: Stretch, claims: Optional[Claims], backward: bool) -> None:
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="pvcheck-history-helpers-"))
        parent_end, child_end = context.Pipe()
        arguments = (child_end, self.toplevel, self.prefix, self.config,
                     self.commits[stretch.first:stretch.last + 1], stretch.first, backward,
                     None if claims is None else claims.shared, self._folder)
        process = context.Process(target=_helper_main, args=arguments, daemon=True)
        process.start()
        child_end.close()
        self._helpers.append(_Helper(process, parent_end, stretch, claims, backward))

    def claim(self) -> Optional[Callable[[int], bool]]:
        """What this process's walk, the first stretch's forward one, asks before each commit."""
        claims = self._claims[0] if self._claims else None
        return None if claims is None else claims.forward

    def poll(self, progress: Callable[[str], None]) -> None:
        """Take what the helpers have sent so far, without waiting."""
        for helper in self._helpers:
            while helper.outcome is None and helper.connection.poll():
                self._receive(helper, progress)

    def results(self, progress: Callable[[str], None]) -> Iterator[Part]:
        """Each helper's part, in commit order, waiting for them. A user error a helper met
        is raised; a helper that failed otherwise gives ``analyses`` None."""
        for helper in self._helpers:
            while helper.outcome is None:  # the others' progress goes on meanwhile
                waiting = {id(h.connection): h for h in self._helpers if h.outcome is None}
                for ready in wait([h.connection for h in waiting.values()]):
                    self._receive(waiting[id(ready)], progress)
            kind = helper.outcome[0]
            if kind == "error":
                raise helper.outcome[1]
            if kind == "crash" and os.environ.get("PVCHECK_DEBUG"):
                raise RuntimeError(f"pvcheck history helper failed:\n{helper.outcome[1]}")
            stretch, claims = helper.stretch, helper.claims
            if helper.backward:
                assert claims is not None
                first, last = claims.low, stretch.last
            else:
                first, last = stretch.first + 1, (claims.high if claims is not None else stretch.last)
            analyses, boundary = None, ()
            if kind == "done":
                boundary, analyses = helper.outcome[1], helper.outcome[2]
                if helper.backward:
                    analyses.reverse()
            yield Part(analyses, boundary, helper.reported, first, last)

    def _receive(self, helper: _Helper, progress: Callable[[str], None]) -> None:
        try:
            message = helper.connection.recv()
        except (EOFError, OSError):
            message = ("crash", "the helper process ended unexpectedly")
        if message[0] == "commit":
            helper.reported += 1
            progress(message[1])
        else:
            helper.outcome = message

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 traceback_: Optional[TracebackType]) -> None:
        for helper in self._helpers:
            if helper.outcome is None:  # interrupted, or this process failed: no one waits for it
                helper.process.terminate()
        for helper in self._helpers:
            helper.process.join(timeout=10)
            if helper.process.is_alive():
                helper.process.kill()
                helper.process.join(timeout=5)
            helper.connection.close()
        self._helpers = []
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


def _helper_main(connection: Connection, toplevel: Path, prefix: str, config: Config, commits: list[Commit],
                 first_index: int, backward: bool, shared: Any, within: Path) -> None:
    """A helper process: walk a stretch, forwards from its first commit or backwards from
    its last, say each commit done, send all its analyses at the end."""
    from pvcheck.analyzer.parallel import trust_parsed_nodes
    from pvcheck.history import CommitWalk, reusing_between_commits

    gc.disable()  # the process ends with its walk (pvcheck.analyzer.scan.paused_gc)
    trust_parsed_nodes()
    # Ctrl-C reaches every process of the terminal's group: the command's process decides,
    # and ends a helper it no longer waits for by SIGTERM, on which the helper unwinds (its
    # work folders, a copy of the repository's files, are removed) instead of vanishing
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _unwind)
    claims = Claims(shared) if shared is not None else None
    claim = None if claims is None else claims.backward if backward else claims.forward
    try:
        analyses: list[Analysis] = []
        with reusing_between_commits(config) as memory:
            walk = CommitWalk(toplevel, prefix, commits, config, memory, listing=True, first_index=first_index,
                              backward=backward, starts_known=not backward, claim=claim,
                              within=within)
            for analysis in walk:
                connection.send(("commit", analysis.commit))
                analyses.append(analysis)
        # in one message: pipelines shared by many commits are pickled once
        connection.send(("done", walk.boundary, analyses))
    except PvcheckError as error:
        connection.send(("error", error))
    except BaseException:  # noqa: BLE001 - the walking process analyses these commits itself
        try:
            connection.send(("crash", traceback.format_exc()))
        except (OSError, ValueError):
            pass
    finally:
        connection.close()


def _unwind(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: the unwinding itself is not cut short
    raise SystemExit(1)
