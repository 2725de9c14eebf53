"""A history walk shared between processes (pvcheck.history_parts): the same history as
one process makes, byte for byte, however the commits fall to the walks."""

from __future__ import annotations

import multiprocessing
import pickle
import shutil
import sys
from pathlib import Path

import pytest

from pvcheck import gitio
from pvcheck.analyzer import parallel
from pvcheck.config import Config
from pvcheck.errors import RevisionError
from pvcheck.history import CommitWalk, _Fold, reusing_between_commits, walk
from pvcheck.history_git import first_parent_commits
from pvcheck.history_parts import MIN_STRETCH, Claims, Stretch, stretches
from pvcheck.lockfile import Lock, LockedPipeline
from pvcheck.model import Pipeline
from pvcheck.output.history_report import history_json
from tests.conftest import FIXTURES
from tests.gitrepo import Repo

on_linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the helpers must inherit the patches (fork)")


#: (file, text, its replacement, commit subject); a replacement of None deletes the file,
#: a text of None copies ``pipelines/training.py`` there with another function name
EVENTS = [
    ("utils/cleaning.py", ">= min_tenure_days", "> min_tenure_days", "helper edited"),
    ("README.md", "A small", "A tiny", "docs only"),
    ("utils/cleaning.py", "> min_tenure_days", ">= min_tenure_days", "helper reverted"),
    ("configs/training.yaml", "max_iter: 300", "max_iter: 500", "run config"),
    ("pipelines/training.py", '"""Train one model', '"""Train a model', "docstring"),
    ("pipelines/training.py", 'name="churn_training"', 'name="churn_training_v2"', "renamed"),
    ("pipelines/copy.py", None, "def copied_pipeline", "a second pipeline of the same name"),
    ("pipelines/copy.py", "        report(accuracy, label=f\"lr={lr}\")\n", "", "step removed from the copy"),
    ("utils/constants.py", "RANDOM_STATE = 42", "RANDOM_STATE  =  42", "constants reformatted"),
    ("pipelines/copy.py", "", None, "copy removed"),
    ("utils/cleaning.py", "fillna(-1)", "fillna(0)", "helper edited again"),
]


@pytest.fixture(scope="module")
def eventful(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twelve commits of a ZenML project doing what histories do: a helper edited, a
    change nothing reads (not analysed), a revert (a tree seen before), the run config, a
    pipeline renamed, a second pipeline sharing a name, a step removed, a file deleted."""
    repo = Repo(tmp_path_factory.mktemp("parts") / "repo")
    shutil.copytree(FIXTURES / "zenml_churn", repo.root, dirs_exist_ok=True)
    repo.commit("initial")
    for path, old, new, subject in EVENTS:
        if new is None:
            (repo.root / path).unlink()
        elif old is None:
            repo.write(path, repo.read("pipelines/training.py").replace("def training_pipeline", new))
        else:
            repo.replace(path, old, new)
        repo.commit(subject)
    return repo.root


def _fold(commits: list[tuple[str, str, str]], walks: list[CommitWalk]) -> str:
    """The history of ``walks`` (a forward one from the first commit, then each walk's
    analyses in commit order after the one before), folded as the walk folds them."""
    fold = _Fold(commits, None, None)
    for number, commit_walk in enumerate(walks):
        analyses = sorted(commit_walk, key=lambda a: a.index)
        if number:
            fold.take_over(commit_walk.boundary)
        for analysis in analyses:
            fold.add(analysis)
    return history_json(fold.history(0.0))


def test_a_backward_walk_makes_the_forward_walks_analyses(eventful: Path) -> None:
    toplevel, prefix = gitio.repository(eventful)
    commits = first_parent_commits(eventful)
    config = Config()
    with reusing_between_commits(config) as memory:
        forward = list(CommitWalk(toplevel, prefix, commits, config, memory, listing=True))
    with reusing_between_commits(config) as memory:
        backward = CommitWalk(toplevel, prefix, commits, config, memory, listing=True, backward=True)
        analyses = list(backward)
    assert [a.index for a in analyses] == list(range(len(commits) - 1, 0, -1))
    by_index = {a.index: a for a in forward}
    for analysis in analyses:
        twin = by_index[analysis.index]
        assert (analysis.commit, analysis.key, analysis.raw) == (twin.commit, twin.key, twin.raw)
        assert (analysis.report is None) == (twin.report is None)
        if analysis.report is not None:
            assert analysis.report.to_json() == twin.report.to_json(), analysis.index  # type: ignore[union-attr]
    assert sum(a.report is None for a in analyses) == 1  # the docs-only commit
    assert [p.name for p in backward.boundary] == [p.name for p in forward[0].pipelines]


def test_every_meeting_point_folds_into_the_one_process_history(eventful: Path) -> None:
    toplevel, prefix = gitio.repository(eventful)
    commits = first_parent_commits(eventful)
    config = Config()
    expected = history_json(walk(eventful, jobs=1))
    for meeting in range(len(commits)):
        with reusing_between_commits(config) as memory:
            forward = CommitWalk(toplevel, prefix, commits[:meeting + 1], config, memory, listing=True)
            backward = CommitWalk(toplevel, prefix, commits[meeting:], config, memory, listing=True,
                                  first_index=meeting, backward=True)
            assert _fold(commits, [forward, backward]) == expected, meeting
    # a forward walk of a later stretch starts from a commit another walk analysed
    with reusing_between_commits(config) as memory:
        walks = [CommitWalk(toplevel, prefix, commits[:5], config, memory, listing=True),
                 CommitWalk(toplevel, prefix, commits[4:9], config, memory, listing=True, first_index=4,
                            starts_known=True),
                 CommitWalk(toplevel, prefix, commits[8:], config, memory, listing=True, first_index=8,
                            backward=True)]
        assert _fold(commits, walks) == expected


def test_the_lock_follows_the_other_walks_pipelines_even_where_two_are_alike() -> None:
    """The lock finds a pipeline's entry by identity before its name, function, file and
    fingerprint: two pipelines alike in all four are told apart only so."""
    ours = (Pipeline("p", "zenml", "m.f", "m", "m.py", 3, fingerprint="x"),
            Pipeline("p", "zenml", "m.f", "m", "m.py", 3, fingerprint="x"))
    theirs = tuple(pickle.loads(pickle.dumps(ours)))
    fold = _Fold([("c", "", "")], None, None)
    fold.lock = Lock(entries=(LockedPipeline("one", 1, ours[0]), LockedPipeline("two", 3, ours[1])))
    fold.pipelines = ours
    fold.take_over(theirs)
    assert fold.lock.entry_for(theirs[1]).lineage == "two"  # type: ignore[union-attr]
    assert fold.lock.entry_for(theirs[0]).lineage == "one"  # type: ignore[union-attr]


def test_processes_share_a_walk_and_the_history_is_the_same(eventful: Path) -> None:
    expected = history_json(walk(eventful, jobs=1))
    for jobs in (2, 3, 4):
        done: list[int] = []
        history = walk(eventful, jobs=jobs, on_commit=lambda count, total, commit: done.append(count))
        assert history_json(history) == expected, jobs
        assert done == list(range(1, history.commits_walked + 1)), jobs  # every commit once, in order
    assert history_json(walk(eventful, jobs=2, pipeline="churn_training_v2")) == \
        history_json(walk(eventful, jobs=1, pipeline="churn_training_v2"))


@on_linux
def test_a_helper_that_fails_costs_time_not_results(eventful: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = history_json(walk(eventful, jobs=1))
    monkeypatch.setattr(parallel, "start_method", lambda: "fork")  # the patches must reach the helper
    original_forward, original_backward = CommitWalk._forward, CommitWalk._backward
    redone: list[int] = []

    def slow_forward(self, workspace):  # type: ignore[no-untyped-def]
        import time

        if self.starts_known:
            redone.append(self.first_index)  # only the failed helper's commits are walked so here
        for analysis in original_forward(self, workspace):
            time.sleep(0.3)  # the helper claims the last commits first
            yield analysis

    def crashing_backward(self, workspace):  # type: ignore[no-untyped-def]
        for number, analysis in enumerate(original_backward(self, workspace)):
            if number == 2:
                raise RuntimeError("a bug")
            yield analysis

    monkeypatch.setattr(CommitWalk, "_forward", slow_forward)
    monkeypatch.setattr(CommitWalk, "_backward", crashing_backward)
    monkeypatch.delenv("PVCHECK_DEBUG", raising=False)
    done: list[int] = []
    history = walk(eventful, jobs=2, on_commit=lambda count, total, commit: done.append(count))
    assert history_json(history) == expected
    assert redone == [history.commits_walked - 4]  # it had claimed the last three
    assert done == list(range(1, history.commits_walked + 1))


@on_linux
def test_a_user_error_in_a_helper_is_the_walks(eventful: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "start_method", lambda: "fork")

    def missing(self, workspace):  # type: ignore[no-untyped-def]
        raise RevisionError("git object 0123456789ab is missing", hint="fetch the full history")
        yield

    monkeypatch.setattr(CommitWalk, "_backward", missing)
    with pytest.raises(RevisionError) as raised:
        walk(eventful, jobs=2)
    assert raised.value.one_line() == "git object 0123456789ab is missing; fetch the full history"


@on_linux
def test_a_helper_the_walk_no_longer_waits_for_leaves_nothing_behind(
        eventful: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process fails while a helper still walks: the helper is ended, and its work
    folders (a copy of the repository's files) are removed all the same."""
    import tempfile
    import time

    monkeypatch.setattr(parallel, "start_method", lambda: "fork")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    original_backward = CommitWalk._backward
    started = multiprocessing.get_context("fork").Event()

    def slow_backward(self, workspace):  # type: ignore[no-untyped-def]
        started.set()
        for analysis in original_backward(self, workspace):
            time.sleep(60)  # still walking when it is ended
            yield analysis

    def failing_forward(self, workspace):  # type: ignore[no-untyped-def]
        assert started.wait(30)
        yield from ()
        raise RevisionError("git object 0123456789ab is missing")

    monkeypatch.setattr(CommitWalk, "_forward", failing_forward)
    monkeypatch.setattr(CommitWalk, "_backward", slow_backward)
    begun = time.monotonic()
    with pytest.raises(RevisionError):
        walk(eventful, jobs=2)
    assert time.monotonic() - begun < 30  # ended, not waited for
    assert list(temporary.iterdir()) == []


@on_linux
def test_a_helper_killed_before_it_unwinds_leaves_nothing_behind(
        eventful: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A helper that cannot remove its own work folders (killed, or stuck in native code
    until it is killed): the walk's process removes them, and analyses its commits."""
    import os
    import signal
    import tempfile

    expected = history_json(walk(eventful, jobs=1))
    monkeypatch.setattr(parallel, "start_method", lambda: "fork")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    original_backward = CommitWalk._backward

    def killed_backward(self, workspace):  # type: ignore[no-untyped-def]
        for analysis in original_backward(self, workspace):
            os.kill(os.getpid(), signal.SIGKILL)  # no unwinding: its folder stays unless removed for it
            yield analysis

    monkeypatch.setattr(CommitWalk, "_backward", killed_backward)
    monkeypatch.delenv("PVCHECK_DEBUG", raising=False)
    assert history_json(walk(eventful, jobs=2)) == expected
    assert list(temporary.iterdir()) == []


def test_errors_cross_processes_whole() -> None:
    error = RevisionError("no such revision 'v9'", "repo", 3, hint="list them with `git tag`")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is RevisionError
    assert (again.message, again.path, again.line, again.hint) == (error.message, "repo", 3, error.hint)


def test_stretches() -> None:
    # one process, or a walk too short for a helper to pay off: one stretch, no helper
    assert stretches(200, 1) == [Stretch(0, 199, False)]
    assert stretches(2 * MIN_STRETCH, 2) == [Stretch(0, 2 * MIN_STRETCH - 1, True)]  # jobs set: no minimum
    assert stretches(1, 2) == [Stretch(0, 0, False)]
    assert stretches(2, 2) == [Stretch(0, 1, False)]  # a helper needs two commits to walk
    assert stretches(3, 2) == [Stretch(0, 2, True)]
    # two cores: walked from both ends; four: two stretches, each from both ends; a third
    # core alone would walk nothing a pair does not
    assert stretches(101, 2) == stretches(101, 3) == [Stretch(0, 100, True)]
    assert stretches(101, 4) == [Stretch(0, 50, True), Stretch(50, 100, True)]
    assert stretches(5, 8) == [Stretch(0, 2, True), Stretch(2, 4, True)]  # two commits a helper at least


def test_stretches_by_default_need_commits_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PVCHECK_JOBS", "2")
    assert stretches(2 * MIN_STRETCH) == [Stretch(0, 2 * MIN_STRETCH - 1, False)]
    assert stretches(2 * MIN_STRETCH + 1) == [Stretch(0, 2 * MIN_STRETCH, True)]
    monkeypatch.setenv("PVCHECK_JOBS", "8")
    assert len(stretches(4 * MIN_STRETCH + 1)) == 2
    monkeypatch.setenv("PVCHECK_JOBS", "1")
    assert stretches(1000) == [Stretch(0, 999, False)]


def test_claims_give_each_commit_to_one_walk() -> None:
    claims = Claims.new(multiprocessing.get_context(), Stretch(10, 20, True))
    assert not claims.backward(10)  # the forward walk starts there
    assert claims.forward(11) and claims.forward(12)
    assert claims.backward(20) and claims.backward(19) and claims.backward(13)
    assert not claims.forward(13) and not claims.backward(12)
    assert (claims.high, claims.low) == (12, 13)
