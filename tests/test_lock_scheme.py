"""Upgrading pvcheck must not bump versions: a lock records its fingerprint scheme, and a
lock of another scheme is judged through its commit re-analysed by this pvcheck (or
needs ``pvcheck lock --refresh``), never by comparing fingerprints of two schemes."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest

import pvcheck.lock
from pvcheck import gitio
from pvcheck.check import check_project
from pvcheck.cli import main
from pvcheck.config import Config
from pvcheck.errors import LockError
from pvcheck.lock import judge_against_lock, lock_project
from pvcheck.lockfile import Lock, dumps, loads, read_lock
from pvcheck.model import FINGERPRINT_SCHEME_NUMBER, Decision
from pvcheck.versions import plan
from tests.gitrepo import COSMETIC, SEMANTIC, Repo, churn_repo, git
from tests.test_fingerprints import GOLDEN

#: The golden step fingerprints (tests/test_fingerprints.py) each scheme produces, as one
#: digest. Changing the goldens without a new scheme number fails here: old locks would
#: be compared with fingerprints computed differently and bump versions for nothing.
GOLDEN_BY_SCHEME = {2: "e407e989ff0db08a",
                    3: "e407e989ff0db08a",  # the goldens read no file passed to a call
                    4: "e407e989ff0db08a",  # nor reach a dynamic helper
                    5: "e407e989ff0db08a",  # nor assign a local nothing reads, nor declare a global
                    6: "e407e989ff0db08a"}  # nor format with a spec, define twice or import for effect

_FP = re.compile(r'"fp1:[0-9a-f]{32}"')


def test_the_scheme_number_moves_with_the_golden_fingerprints() -> None:
    current = hashlib.sha256(repr(sorted(GOLDEN.items())).encode()).hexdigest()[:16]
    assert GOLDEN_BY_SCHEME.get(FINGERPRINT_SCHEME_NUMBER) == current, (
        "the golden fingerprints and FINGERPRINT_SCHEME_NUMBER must move together: when unchanged code "
        "fingerprints differently, bump FINGERPRINT_SCHEME_NUMBER in pvcheck/model.py (locks of the old "
        f"scheme are then re-analysed, not compared) and pin the new golden digest for it here ({current})")


def as_scheme_1(text: str) -> str:
    """A lock as the previous release wrote it: no ``fingerprints`` key, and every
    fingerprint computed differently (each stored value replaced by another)."""
    old = _FP.sub(lambda m: '"fp1:' + hashlib.sha256(b"old" + m.group().encode()).hexdigest()[:32] + '"', text)
    return re.sub(r"^fingerprints = \d+\n", "", old, flags=re.M)


def versions(repo: Repo) -> dict[str, tuple[str, int]]:
    lock = read_lock(repo.root / "pvcheck.lock")
    assert lock is not None
    return {e.pipeline.name: (e.lineage, e.version) for e in lock.entries}


@pytest.fixture
def upgraded(tmp_path: Path) -> Repo:
    """churn_training at v2 in a lock written by the previous release, committed."""
    repo = churn_repo(tmp_path)
    assert lock_project(repo.root).written
    repo.replace("steps/features.py", *SEMANTIC)
    assert lock_project(repo.root).written
    lock = repo.root / "pvcheck.lock"
    lock.write_text(as_scheme_1(lock.read_text(encoding="utf-8")), encoding="utf-8")
    repo.commit("lock written by pvcheck 0.x")
    return repo


def test_the_simulated_old_lock_would_bump_versions_if_compared(upgraded: Repo) -> None:
    old = read_lock(upgraded.root / "pvcheck.lock")
    assert old is not None and old.fingerprints == 1
    _, changes = plan(old, judge_against_lock(old, upgraded.root, Config()))
    assert any(c.bumped for c in changes)  # what the upgrade path exists to prevent


def test_unchanged_code_against_an_old_scheme_lock_passes(upgraded: Repo) -> None:
    before = versions(upgraded)
    assert before["churn_training"][1] == 2
    result = check_project(upgraded.root)
    assert result.passed, result.gate.problems
    assert all(b.decision is Decision.RUN for b in result.gate.bumps)
    commit = gitio.last_commit_of(upgraded.root, "pvcheck.lock")
    assert commit is not None
    assert result.notes == (f"pvcheck.lock was recorded by fingerprint scheme 1; comparing with commit "
                            f"{commit[:7]}, re-analysed by this pvcheck",)
    assert versions(upgraded) == before  # check never writes


def test_a_real_change_is_still_a_version(upgraded: Repo) -> None:
    upgraded.replace("steps/features.py", *COSMETIC)
    assert check_project(upgraded.root).passed
    upgraded.replace("steps/features.py", "test_size * 1.5", "test_size * 2")
    result = check_project(upgraded.root)
    assert not result.passed
    bump = next(b for b in result.gate.bumps if b.pipeline == "churn_training")
    assert (bump.before, bump.after, bump.decision) == (2, 3, Decision.VERSION)


def test_lock_writes_the_current_scheme_keeping_versions(upgraded: Repo) -> None:
    before = versions(upgraded)
    result = lock_project(upgraded.root)
    assert result.written and not any(c.bumped for c in result.changes)
    assert len(result.notes) == 1 and "fingerprint scheme 1" in result.notes[0]
    text = (upgraded.root / "pvcheck.lock").read_text(encoding="utf-8")
    assert f"\nfingerprints = {FINGERPRINT_SCHEME_NUMBER}\n" in text
    assert versions(upgraded) == before
    upgraded.commit("lock in the new scheme")
    again = check_project(upgraded.root)
    assert again.passed and again.notes == ()


def test_the_cli_says_so_in_one_line(upgraded: Repo, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(upgraded.root)
    assert main(["check"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len([line for line in err if "fingerprint scheme" in line]) == 1
    assert re.fullmatch(r"pvcheck: pvcheck\.lock was recorded by fingerprint scheme 1; comparing with commit "
                        r"[0-9a-f]{7}, re-analysed by this pvcheck", err[0])


def test_a_lock_edited_since_its_commit_is_an_error_naming_the_fix(upgraded: Repo, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    lock = upgraded.root / "pvcheck.lock"
    lock.write_text(lock.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    monkeypatch.delenv("PVCHECK_DEBUG", raising=False)
    monkeypatch.chdir(upgraded.root)
    assert main(["check"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("pvcheck: error: pvcheck.lock: ")
    assert "fingerprint scheme 1" in err[0] and "changed since it was committed" in err[0]
    assert "`pvcheck lock --refresh`" in err[0]
    assert main(["lock"]) == 2  # lock refuses too: it would bump every version
    assert "--refresh" in capsys.readouterr().err


def test_an_old_lock_outside_git_is_an_error(upgraded: Repo, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    shutil.copytree(upgraded.root, plain, ignore=shutil.ignore_patterns(".git"))
    with pytest.raises(LockError, match="has no commit in git.*--refresh"):
        check_project(plain)


def test_refresh_keeps_versions_and_lineages(upgraded: Repo, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    shutil.copytree(upgraded.root, plain, ignore=shutil.ignore_patterns(".git"))
    before = read_lock(plain / "pvcheck.lock")
    assert before is not None
    result = lock_project(plain, refresh=True)
    assert result.written and not any(c.bumped for c in result.changes)
    after = read_lock(plain / "pvcheck.lock")
    assert after is not None and after.fingerprints == FINGERPRINT_SCHEME_NUMBER
    assert {e.pipeline.name: (e.lineage, e.version) for e in after.entries} == \
        {e.pipeline.name: (e.lineage, e.version) for e in before.entries}
    assert check_project(plain).passed


def test_refresh_through_the_cli(upgraded: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    before = versions(upgraded)
    lock = upgraded.root / "pvcheck.lock"
    lock.write_text(lock.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    monkeypatch.chdir(upgraded.root)
    assert main(["lock", "--refresh"]) == 0
    assert versions(upgraded) == before
    assert main(["check"]) == 0


def test_a_lock_of_the_current_scheme_is_not_re_analysed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = churn_repo(tmp_path)
    assert lock_project(repo.root).written
    repo.commit("lock")

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("a lock of the current scheme was re-analysed")

    monkeypatch.setattr(pvcheck.lock, "_scan_commit", forbidden)
    monkeypatch.setattr(gitio, "last_commit_of", forbidden)
    result = check_project(repo.root)
    assert result.passed and result.notes == ()
    repo.replace("steps/features.py", *SEMANTIC)
    assert not check_project(repo.root).passed
    assert lock_project(repo.root).written


def test_the_scheme_key_round_trips() -> None:
    assert loads("schema = 1\n").fingerprints == 1  # written before the key existed
    assert f"\nfingerprints = {FINGERPRINT_SCHEME_NUMBER}\n" in dumps(Lock())
    assert loads(dumps(Lock())).fingerprints == FINGERPRINT_SCHEME_NUMBER
    with pytest.raises(LockError, match="'fingerprints'"):
        loads('fingerprints = "two"\nschema = 1\n')


def test_a_project_in_a_sub_folder(tmp_path: Path) -> None:
    repo = churn_repo(tmp_path, project="ml")
    assert lock_project(repo.root).written
    lock = repo.root / "pvcheck.lock"
    lock.write_text(as_scheme_1(lock.read_text(encoding="utf-8")), encoding="utf-8")
    repo.commit("old lock")
    result = check_project(repo.root)
    assert result.passed and len(result.notes) == 1


def test_a_shallow_clone_cannot_tell_the_lock_commit(upgraded: Repo, tmp_path: Path) -> None:
    # the lock's commit is not the newest: a depth-1 clone shows only the newest, which
    # seems to add every file -- re-analysing it would hide the change made since the lock
    upgraded.replace("steps/features.py", "test_size * 1.5", "test_size * 2")
    upgraded.commit("a change, lock not updated")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{upgraded.top}", str(shallow))
    assert gitio.last_commit_of(shallow, "pvcheck.lock") is None
    with pytest.raises(LockError, match="shallow clone"):
        check_project(shallow)
    assert not check_project(upgraded.root).passed  # the full history re-analyses and sees it
