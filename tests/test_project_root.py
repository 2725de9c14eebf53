"""Where the project is, and what a word on the command line means: found as ruff and
pytest find theirs, never guessed."""

from __future__ import annotations

from pathlib import Path

import pytest

import pvcheck
from pvcheck.cli import main
from pvcheck.config import find_project, load_config
from pvcheck.errors import ConfigError, PvcheckError
from tests.gitrepo import churn_repo, git


def test_check_from_a_sub_folder_uses_the_projects_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    repo = churn_repo(tmp_path)
    monkeypatch.chdir(repo.root)
    assert main(["lock"]) == 0
    repo.commit("lock")
    monkeypatch.chdir(repo.root / "steps")
    capsys.readouterr()
    assert main(["check"]) == 0  # the lock of the project, not "steps/pvcheck.lock does not exist"
    assert not (repo.root / "steps" / "pvcheck.lock").exists()
    assert main(["lock"]) == 0
    assert not (repo.root / "steps" / "pvcheck.lock").exists()  # no second lock invited


def test_the_project_is_the_folder_holding_the_settings(tmp_path: Path) -> None:
    repo = churn_repo(tmp_path, project="ml", files={"pvcheck.toml": "continuity_threshold = 0.7\n"})
    assert find_project(repo.root / "steps") == repo.root.resolve()
    assert find_project(repo.top) == repo.top.resolve()  # above the project: nothing governs it
    (repo.top / "README.md").write_text("x", encoding="utf-8")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    assert find_project(outside) == outside.resolve()


def test_library_scan_reads_the_projects_settings_like_the_cli(tmp_path: Path) -> None:
    repo = churn_repo(tmp_path, files={"pvcheck.toml": 'exclude = ["pipelines/batch_scoring.py"]\n'})
    assert [p.name for p in pvcheck.scan(repo.root).pipelines] == ["churn_training"]
    assert len(pvcheck.scan(repo.root, config=pvcheck.Config()).pipelines) == 2  # an explicit config wins


def test_a_name_that_is_both_a_folder_and_a_revision_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    repo = churn_repo(tmp_path)
    monkeypatch.delenv("PVCHECK_DEBUG", raising=False)  # errors as a user sees them
    git(repo.top, "branch", "master")
    (repo.root / "master").mkdir()
    (repo.root / "master" / "notes.txt").write_text("a folder named like a branch\n", encoding="utf-8")
    monkeypatch.chdir(repo.root)
    assert main(["diff", "master"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("pvcheck: error: 'master' is both a folder and a git revision; write ./master for the folder, "
                   "or master^{commit} for the revision")
    assert main(["diff", "master^{commit}"]) == 0
    with pytest.raises(PvcheckError):
        pvcheck.diff("master", repo=repo.root)
    assert pvcheck.diff(Path("master"), Path("."), repo=repo.root) is not None  # a Path is a folder


def test_a_malformed_tool_pvcheck_header_is_an_error_not_the_defaults(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("PVCHECK_DEBUG", raising=False)
    repo = churn_repo(tmp_path, files={"pyproject.toml": "[project]\nname = 'x'\n\n[tool.pvcheck\nroots = ['.']\n"})
    monkeypatch.chdir(repo.root)
    assert main(["scan"]) == 2
    err = capsys.readouterr().err
    assert "pyproject.toml:4" in err and "not valid TOML" in err
    with pytest.raises(ConfigError):
        load_config(repo.root / "pyproject.toml")


def test_a_pyproject_without_pvcheck_settings_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = churn_repo(tmp_path, files={"pyproject.toml": "[tool.ruff]\nline-length = 100\n"})
    monkeypatch.chdir(repo.root)
    assert main(["scan", "-q"]) == 0
