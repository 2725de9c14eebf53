"""``pvcheck lock`` and ``pvcheck check`` end to end on a throw-away git repository."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pvcheck.cli import main
from pvcheck.lockfile import read_lock
from tests.gitrepo import COSMETIC, PVCHECK, SEMANTIC, Repo, churn_repo, cli_env, git, run_pvcheck

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def versions(repo: Repo) -> dict[str, int]:
    lock = read_lock(repo.root / "pvcheck.lock")
    assert lock is not None
    return {e.pipeline.name: e.version for e in lock.entries}


def lineages(repo: Repo) -> dict[str, str]:
    lock = read_lock(repo.root / "pvcheck.lock")
    assert lock is not None
    return {e.pipeline.name: e.lineage for e in lock.entries}


@pytest.fixture
def locked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    repo = churn_repo(tmp_path)
    monkeypatch.chdir(repo.root)
    assert main(["lock"]) == 0
    repo.commit("lock")
    return repo


def test_lock_check_cosmetic_semantic_relock(locked: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo = locked
    capsys.readouterr()
    assert versions(repo) == {"batch_features": 1, "churn_training": 1}
    assert main(["check"]) == 0
    assert "check passed" in capsys.readouterr().out

    repo.replace("steps/features.py", *COSMETIC)
    assert main(["check"]) == 0, capsys.readouterr().out
    capsys.readouterr()

    repo.replace("steps/features.py", *SEMANTIC)
    assert main(["check"]) == 1
    captured = capsys.readouterr()
    assert "churn_training v1 -> v2 (version): step split_dataset body changed" in captured.out
    assert "steps/features.py:" in captured.out
    assert "run `pvcheck lock` and commit pvcheck.lock" in captured.out
    assert versions(repo) == {"batch_features": 1, "churn_training": 1}  # check never writes

    before = lineages(repo)
    assert main(["lock"]) == 0
    out = capsys.readouterr().out
    assert "churn_training v1 -> v2 (version)" in out and "wrote pvcheck.lock" in out
    assert versions(repo) == {"batch_features": 1, "churn_training": 2}
    assert lineages(repo) == before
    assert main(["check"]) == 0
    # locking again changes nothing, not even the file's bytes
    text = repo.read("pvcheck.lock")
    assert main(["lock"]) == 0
    assert "pvcheck.lock is up to date" in capsys.readouterr().out
    assert repo.read("pvcheck.lock") == text


def test_new_lineage_added_and_removed_pipelines(locked: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo = locked
    repo.write("pipelines/extra.py", "from zenml import pipeline\nfrom steps import load_customers\n\n\n"
                                     "@pipeline\ndef extra_pipeline():\n    load_customers()\n")
    (repo.root / "pipelines" / "batch_scoring.py").unlink()
    capsys.readouterr()
    assert main(["check", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "pvcheck.diff/1"
    problems = " | ".join(p["message"] for p in data["check"]["problems"])
    assert "extra_pipeline new pipeline at v1" in problems
    assert "batch_features v1 removed" in problems
    assert data["check"]["passed"] is False

    # every step replaced by unrelated ones: a new lineage, whatever the name says
    repo.write("pipelines/training.py", "from zenml import pipeline\nfrom steps.evaluation import report\n\n\n"
                                        "@pipeline(name=\"churn_training\")\ndef training_pipeline():\n"
                                        "    report(0.5, label=\"x\")\n")
    old = lineages(repo)["churn_training"]
    assert main(["lock"]) == 0
    out = capsys.readouterr().out
    assert "new lineage" in out
    assert set(versions(repo)) == {"churn_training", "extra_pipeline"}
    assert lineages(repo)["churn_training"] != old and versions(repo)["churn_training"] == 1
    assert main(["check"]) == 0


def test_missing_lock_fails_the_gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    repo = churn_repo(tmp_path)
    monkeypatch.chdir(repo.root)
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "pvcheck.lock does not exist" in out and "pvcheck lock" in out


def test_name_collision_fails_check(locked: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo = locked
    repo.write("pipelines/other.py", "from zenml import pipeline\nfrom steps import load_customers\n\n\n"
                                     "@pipeline(name=\"churn_training\")\ndef other():\n    load_customers()\n")
    main(["lock"])
    capsys.readouterr()
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "name collision: 2 different pipelines are named 'churn_training'" in out
    assert "give each pipeline its own name" in out


@pytest.mark.parametrize("content, words", [
    ("schema = 1\n<<<<<<< HEAD\nx = 1\n=======\nx = 2\n>>>>>>> b\n", "pvcheck.lock:2: the lock file has merge-conflict"),
    ("schema = 1\n[[pipelines]\n", "pvcheck.lock:2: the lock file is not valid TOML"),
    ("schema = 7\n", "pvcheck.lock:1: the lock file was written by a newer pvcheck"),
])
def test_bad_lock_is_exit_2_one_line_no_traceback(locked: Repo, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str], content: str, words: str) -> None:
    monkeypatch.delenv("PVCHECK_DEBUG", raising=False)
    locked.write("pvcheck.lock", content)
    capsys.readouterr()
    assert main(["check"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_lock_resolves_a_merge_conflict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    repo = churn_repo(tmp_path)
    monkeypatch.chdir(repo.root)
    main(["lock"])
    repo.commit("lock v1")
    git(repo.top, "checkout", "-q", "-b", "feature")
    repo.replace("steps/features.py", *SEMANTIC)
    main(["lock"])
    repo.commit("feature: v2")
    git(repo.top, "checkout", "-q", "main")
    repo.replace("steps/ingest.py", "def ", "def  ")  # keep the main branch moving
    repo.replace("steps/training.py", "return", "return  ")
    main(["lock"])
    repo.commit("main: relock")
    merge = subprocess.run(["git", "-C", str(repo.top), "merge", "-q", "feature"], capture_output=True, text=True,
                           env=cli_env())
    if "<<<<<<<" not in repo.read("pvcheck.lock"):
        # the lock changes did not overlap: make the conflict by hand, as git would
        assert merge.returncode == 0
        text = repo.read("pvcheck.lock")
        repo.write("pvcheck.lock", text.replace("version = 2", "<<<<<<< HEAD\nversion = 1\n=======\nversion = 2\n"
                                                                ">>>>>>> feature", 1))
    capsys.readouterr()
    monkeypatch.delenv("PVCHECK_DEBUG", raising=False)
    assert main(["check"]) == 2
    assert "resolve the conflict by re-running `pvcheck lock`" in capsys.readouterr().err
    monkeypatch.setenv("PVCHECK_DEBUG", "1")
    assert main(["lock"]) == 0
    assert "resolved the merge conflict in pvcheck.lock" in capsys.readouterr().out
    assert "<<<<<<<" not in repo.read("pvcheck.lock")
    assert versions(repo)["churn_training"] == 2
    assert main(["check"]) == 0


def test_check_base_and_fail_on(locked: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo = locked
    repo.replace("steps/features.py", *SEMANTIC)
    main(["lock"])
    repo.commit("v2")
    capsys.readouterr()
    assert main(["check", "--base", "HEAD~1"]) == 0
    out = capsys.readouterr().out
    assert "churn_training v1 -> v2 (version): step split_dataset body changed" in out
    assert main(["check", "--base", "HEAD~1", "--fail-on", "pipeline"]) == 0
    capsys.readouterr()
    assert main(["check", "--base", "HEAD~1", "--fail-on", "version"]) == 1
    assert "churn_training is a new version (--fail-on version)" in capsys.readouterr().out
    # --base with a stale lock: the lock must still be brought up to date
    repo.replace("steps/features.py", "1.5", "2.5")
    assert main(["check", "--base", "HEAD~1"]) == 1
    assert "pvcheck.lock is stale: churn_training v2 -> v3 (version)" in capsys.readouterr().out


def test_syntax_error_is_reported_and_exit_2_and_lock_refuses(locked: Repo, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    locked.write("steps/broken.py", "from zenml import step\n\n\n@step\ndef oops(:\n    pass\n")
    text = locked.read("pvcheck.lock")
    capsys.readouterr()
    assert main(["check"]) == 2
    captured = capsys.readouterr()
    assert "churn_training" in captured.out  # the report is still printed
    assert "steps/broken.py:5: PV001" in captured.err
    assert main(["lock"]) == 2
    assert "pvcheck.lock not written" in capsys.readouterr().err
    assert locked.read("pvcheck.lock") == text


def test_lock_file_setting_and_project_in_a_sub_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    repo = churn_repo(tmp_path, project="ml", files={"pyproject.toml": "[tool.pvcheck]\nlock_file = \"versions.lock\"\n"})
    monkeypatch.chdir(repo.top)
    assert main(["lock", "ml"]) == 0
    assert (repo.root / "versions.lock").is_file() and not (repo.root / "pvcheck.lock").exists()
    repo.commit("lock")
    repo.replace("steps/features.py", *SEMANTIC)
    capsys.readouterr()
    assert main(["check", "ml", "--format", "github"]) == 1
    out = capsys.readouterr().out
    # annotations are repository-relative
    assert "::error file=ml/steps/features.py,line=" in out and "versions.lock is stale" in out


def test_lock_json_output(locked: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    locked.replace("steps/features.py", *SEMANTIC)
    capsys.readouterr()
    assert main(["lock", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "pvcheck.lock-result/1" and data["written"] is True
    row = {p["name"]: p for p in data["pipelines"]}["churn_training"]
    assert (row["previous_version"], row["version"], row["decision"]) == (1, 2, "version")


def test_two_concurrent_lock_processes_do_not_corrupt_the_lock(tmp_path: Path) -> None:
    repo = churn_repo(tmp_path)
    repo.replace("steps/features.py", *SEMANTIC)
    processes = [subprocess.Popen([str(PVCHECK), "lock", str(repo.root)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=cli_env()) for _ in range(2)]
    results = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], results
    text = repo.read("pvcheck.lock")
    tomllib.loads(text)
    assert versions(repo) == {"batch_features": 1, "churn_training": 1}
    # exactly one wrote it; the other found it up to date
    outs = sorted("wrote" in out for out, _ in results)
    assert outs == [False, True], results
    assert sorted(p.name for p in repo.root.iterdir() if p.name.startswith((".pvcheck", "pvcheck"))) == \
        ["pvcheck.lock"]


def test_check_through_the_installed_script(locked: Repo) -> None:
    locked.replace("steps/features.py", *SEMANTIC)
    result = run_pvcheck("check", cwd=locked.root)
    assert result.returncode == 1, result.stderr
    assert "churn_training v1 -> v2 (version)" in result.stdout and "\x1b[" not in result.stdout
    result = run_pvcheck("check", "--format", "sarif", cwd=locked.root)
    assert result.returncode == 1
    assert json.loads(result.stdout)["version"] == "2.1.0"
    assert "check failed" in result.stderr
    locked.write("pvcheck.lock", "<<<<<<< ours\n")
    result = run_pvcheck("check", cwd=locked.root)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
