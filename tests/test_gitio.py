"""Reading git revisions: never touching the user's checkout, sub-folder projects, errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import pvcheck
from pvcheck import gitio
from pvcheck.errors import PvcheckError, RevisionError
from pvcheck.model import Decision
from tests.gitrepo import SEMANTIC, churn_repo, git


def _prints(project: pvcheck.Project) -> dict[str, str]:
    return {p.name: p.fingerprint for p in project.pipelines}


def test_revision_scans_like_the_checkout_it_came_from(tmp_path: Path) -> None:
    repo = churn_repo(tmp_path)
    at_head = pvcheck.scan_revision(repo.root, "HEAD")
    assert at_head.root == "HEAD"
    assert _prints(at_head) == _prints(pvcheck.scan(repo.root))
    assert {s.path for p in at_head.pipelines for s in p.steps} >= {"steps/features.py", "steps/ingest.py"}


def test_older_revision_sees_old_code_and_checkout_is_untouched(tmp_path: Path) -> None:
    repo = churn_repo(tmp_path)
    old_prints = _prints(pvcheck.scan(repo.root))
    repo.replace("steps/features.py", *SEMANTIC)
    repo.commit("semantic")
    # leave the checkout in a state a careless implementation would disturb:
    # a staged edit, an unstaged edit and an untracked file
    repo.replace("steps/ingest.py", "def ", "def  ")
    git(repo.top, "add", "steps/ingest.py")
    repo.replace("steps/training.py", "def ", "def  ")
    repo.write("scratch.txt", "notes")
    before = (repo.status(), git(repo.top, "branch", "-a"), git(repo.top, "worktree", "list"),
              git(repo.top, "stash", "list"), git(repo.top, "rev-parse", "HEAD"),
              repo.read("steps/ingest.py"), repo.read("steps/training.py"))
    index_before = (repo.top / ".git" / "index").read_bytes()

    old = pvcheck.scan_revision(repo.root, "HEAD~1")

    assert _prints(old) == old_prints
    after = (repo.status(), git(repo.top, "branch", "-a"), git(repo.top, "worktree", "list"),
             git(repo.top, "stash", "list"), git(repo.top, "rev-parse", "HEAD"),
             repo.read("steps/ingest.py"), repo.read("steps/training.py"))
    assert after == before
    assert (repo.top / ".git" / "index").read_bytes() == index_before


def test_sub_folder_project_paths_are_relative_to_the_project(tmp_path: Path) -> None:
    repo = churn_repo(tmp_path, project="ml/churn")
    repo.write("../README.md", "top-level file outside the project")
    repo.commit("readme")
    project = pvcheck.scan_revision(repo.root, "HEAD")
    assert _prints(project) == _prints(pvcheck.scan(repo.root))
    paths = {p.path for p in project.pipelines}
    assert paths == {"pipelines/batch_scoring.py", "pipelines/training.py"}
    # the revision is resolved from any folder inside the repository
    assert gitio.resolve(repo.root / "steps", "HEAD").prefix == "ml/churn/steps"


def test_sub_folder_missing_in_revision_is_a_revision_error(tmp_path: Path) -> None:
    repo = churn_repo(tmp_path)
    (repo.root / "later").mkdir()
    repo.write("later/x.py", "x = 1\n")
    repo.commit("later")
    with pytest.raises(RevisionError) as caught:
        pvcheck.scan_revision(repo.root / "later", "HEAD~1")
    assert "'later'" in caught.value.one_line() and "HEAD~1" in caught.value.one_line()


def test_unknown_revision_names_it_and_says_what_to_do(tmp_path: Path) -> None:
    repo = churn_repo(tmp_path)
    with pytest.raises(RevisionError) as caught:
        pvcheck.scan_revision(repo.root, "no-such-branch")
    line = caught.value.one_line()
    assert "no-such-branch" in line and "git log" in line and "\n" not in line


@pytest.mark.parametrize("rev", ["--output=x", "-h", ""])
def test_option_like_revisions_are_refused(tmp_path: Path, rev: str) -> None:
    repo = churn_repo(tmp_path)
    with pytest.raises(RevisionError):
        gitio.resolve(repo.root, rev)


def test_not_a_repository(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(RevisionError, match="not a git repository"):
        pvcheck.scan_revision(tmp_path / "plain", "HEAD")


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_symlinks_inside_are_kept_and_escaping_ones_dropped(tmp_path: Path) -> None:
    repo = churn_repo(tmp_path)
    os.symlink("steps/features.py", repo.root / "alias.py")
    os.symlink("../../../../../../etc/passwd", repo.root / "escape.txt")
    os.symlink("/etc/hostname", repo.root / "absolute.txt")
    repo.commit("links")
    with gitio.checkout(gitio.resolve(repo.root, "HEAD")) as tree:
        assert (tree / "alias.py").is_symlink()
        assert (tree / "alias.py").read_text() == repo.read("steps/features.py")
        assert not os.path.lexists(tree / "escape.txt")
        assert not os.path.lexists(tree / "absolute.txt")
        assert (tree / "configs" / "training.yaml").read_bytes() == (repo.root / "configs/training.yaml").read_bytes()
    assert not tree.exists()  # the temporary tree is removed


def test_blobs_are_byte_exact_and_attributes_do_not_apply(tmp_path: Path) -> None:
    repo = churn_repo(tmp_path)
    data = bytes(range(256)) * 1000  # larger than a pipe buffer
    (repo.root / "blob.bin").write_bytes(data)
    repo.write(".gitattributes", "steps/* export-ignore\n*.py export-subst\n")
    repo.write("steps/stamp.py", "VERSION = '$Format:%H$'\n")
    repo.commit("attributes")
    with gitio.checkout(gitio.resolve(repo.root, "HEAD")) as tree:
        assert (tree / "blob.bin").read_bytes() == data
        assert (tree / "steps" / "stamp.py").read_text() == "VERSION = '$Format:%H$'\n"


def _drop_object(repo_top: Path, spec: str) -> None:
    """Delete the loose object ``spec`` names, as a partial clone lacks it."""
    oid = git(repo_top, "rev-parse", spec).strip()
    (repo_top / ".git" / "objects" / oid[:2] / oid[2:]).unlink()


def test_a_data_file_missing_from_the_repository_is_read_as_absent(tmp_path: Path) -> None:
    """zenml-projects without its LFS-sized CSVs: ``git ls-tree -l`` says ``BAD`` for their
    size. The revision is analysed with the file absent, as ``pvcheck history`` reads it."""
    repo = churn_repo(tmp_path)
    repo.write("data/customers.csv", "id,tenure\n1,30\n")
    repo.commit("data")
    _drop_object(repo.top, "HEAD:data/customers.csv")
    with gitio.checkout(gitio.resolve(repo.root, "HEAD")) as tree:
        assert (tree / "steps" / "ingest.py").is_file() and not (tree / "data" / "customers.csv").exists()
    assert _prints(pvcheck.scan_revision(repo.root, "HEAD")) == _prints(pvcheck.scan(repo.root))


def test_a_source_file_missing_from_the_repository_is_a_revision_error(tmp_path: Path) -> None:
    repo = churn_repo(tmp_path)
    repo.write("steps/extra.py", "LIMIT = 3\n")
    repo.commit("extra")
    _drop_object(repo.top, "HEAD:steps/extra.py")
    with pytest.raises(RevisionError, match="is missing"):
        pvcheck.scan_revision(repo.root, "HEAD")


def test_diff_between_revisions_and_folders(tmp_path: Path) -> None:
    repo = churn_repo(tmp_path)
    repo.replace("steps/features.py", *SEMANTIC)
    repo.commit("semantic")
    report = pvcheck.diff("HEAD~1", "HEAD", repo=repo.root)
    decisions = {c.name: c.decision for c in report.pipelines}
    assert decisions == {"churn_training": Decision.VERSION, "batch_features": Decision.RUN}
    # HEAD defaults to the working tree at repo
    assert {c.name: c.decision for c in pvcheck.diff("HEAD~1", repo=repo.root).pipelines} == decisions
    assert all(c.decision is Decision.RUN for c in pvcheck.diff("HEAD", repo=repo.root).pipelines)
    # folders are folders, also when git could resolve the name
    with gitio.checkout(gitio.resolve(repo.root, "HEAD~1")) as tree:
        report = pvcheck.diff(tree, repo.root)
    assert {c.name: c.decision for c in report.pipelines} == decisions


def test_diff_of_a_file_is_a_clear_error(tmp_path: Path) -> None:
    repo = churn_repo(tmp_path)
    with pytest.raises(PvcheckError, match="is a file"):
        pvcheck.diff(str(repo.root / "run.py"), repo.root, repo=repo.root)
