"""``pvcheck diff BASE [HEAD]``: folders and revisions, formats, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pvcheck.cli import main
from pvcheck.output.report import REPORT_FORMATS
from tests.conftest import FIXTURES
from tests.gitrepo import SEMANTIC, churn_repo, run_pvcheck

PIPELINE_KEYS = {"name", "framework", "path", "status", "decision", "base_fingerprint", "head_fingerprint",
                 "findings"}
# SPEC §7 fixes the first seven; kind, subject, old, new and detail are the finding as data
FINDING_KEYS = {"rule", "policy", "decision", "message", "path", "line", "step",
                "kind", "subject", "old", "new", "detail"}


@pytest.fixture
def two_folders(tmp_path: Path) -> tuple[Path, Path]:
    base, head = tmp_path / "base", tmp_path / "head"
    shutil.copytree(FIXTURES / "zenml_churn", base)
    shutil.copytree(FIXTURES / "zenml_churn", head)
    features = head / "steps" / "features.py"
    features.write_text(features.read_text().replace(*SEMANTIC))
    (head / "pipelines" / "batch_scoring.py").unlink()
    return base, head


def test_json_is_pvcheck_diff_1(two_folders: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    base, head = two_folders
    assert main(["diff", str(base), str(head), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "pvcheck.diff/1"
    assert set(data) == {"schema", "pipelines", "summary", "diagnostics"}
    rows = {p["name"]: p for p in data["pipelines"]}
    for row in rows.values():
        assert PIPELINE_KEYS <= set(row)
        for finding in row["findings"]:
            assert set(finding) == FINDING_KEYS
            assert "\\" not in finding["path"]
    assert rows["churn_training"]["decision"] == "version" and rows["churn_training"]["status"] == "modified"
    assert rows["batch_features"]["status"] == "removed" and rows["batch_features"]["decision"] is None
    assert rows["batch_features"]["head_fingerprint"] is None
    assert data["summary"]["version"] == 1 and data["summary"]["removed"] == 1
    finding = rows["churn_training"]["findings"][0]
    assert finding["path"] == "steps/features.py" and finding["step"] == "split_dataset"


def test_text_names_decision_finding_and_complexity(two_folders: tuple[Path, Path],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    base, head = two_folders
    assert main(["diff", str(base), str(head)]) == 0
    out = capsys.readouterr().out
    assert "churn_training  VERSION  modified" in out
    assert "steps/features.py:23: [PV401]" in out
    assert "complexity: split_dataset 1->1" in out
    assert "batch_features  REMOVED  removed" in out
    assert "\x1b[" not in out  # not a terminal: no colour


@pytest.mark.parametrize("fmt", REPORT_FORMATS)
def test_every_format_renders(two_folders: tuple[Path, Path], capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    base, head = two_folders
    assert main(["diff", str(base), str(head), "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert "churn_training" in out or "split_dataset" in out


def test_revisions_of_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    repo = churn_repo(tmp_path, project="ml")
    repo.replace("steps/features.py", *SEMANTIC)
    repo.commit("semantic")
    monkeypatch.chdir(repo.top)
    assert main(["diff", "HEAD~1", "HEAD", "--repo", "ml", "--format", "json"]) == 0
    rows = {p["name"]: p for p in json.loads(capsys.readouterr().out)["pipelines"]}
    assert rows["churn_training"]["decision"] == "version"
    assert rows["churn_training"]["findings"][0]["path"] == "steps/features.py"
    # HEAD defaults to the working tree, here equal to HEAD
    assert main(["diff", "HEAD", "--repo", "ml", "--format", "github"]) == 0
    assert "::" not in capsys.readouterr().out
    assert main(["diff", "HEAD~1", "--repo", "ml", "--format", "github"]) == 0
    assert "::warning file=ml/steps/features.py,line=23,title=PV401::" in capsys.readouterr().out


def test_unknown_revision_is_exit_2_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    repo = churn_repo(tmp_path)
    monkeypatch.delenv("PVCHECK_DEBUG", raising=False)
    assert main(["diff", "v9.9", "--repo", str(repo.root)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown git revision 'v9.9'" in err and "Traceback" not in err


def test_not_a_repository_is_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("PVCHECK_DEBUG", raising=False)
    (tmp_path / "plain").mkdir()
    assert main(["diff", "HEAD", "--repo", str(tmp_path / "plain")]) == 2
    assert "not a git repository" in capsys.readouterr().err


def test_usage_errors_are_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["diff"])
    assert caught.value.code == 2
    with pytest.raises(SystemExit) as caught:
        main(["diff", "a", "b", "--format", "yaml"])
    assert caught.value.code == 2
    assert "--format" in capsys.readouterr().err


def test_syntax_error_prints_report_then_errors(two_folders: tuple[Path, Path],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    base, head = two_folders
    (head / "steps" / "bad.py").write_text("from zenml import step\n\n@step\ndef f(:\n    pass\n")
    assert main(["diff", str(base), str(head), "--format", "json"]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["diagnostics"][0]["code"] == "PV001"
    assert captured.err.strip().splitlines() == [line for line in captured.err.strip().splitlines()
                                                 if "steps/bad.py:4: PV001" in line]


def test_diff_through_the_installed_script(tmp_path: Path) -> None:
    repo = churn_repo(tmp_path)
    repo.replace("steps/features.py", *SEMANTIC)
    result = run_pvcheck("diff", "HEAD", "--format", "json", cwd=repo.root)
    assert result.returncode == 0, result.stderr
    assert {p["name"]: p["decision"] for p in json.loads(result.stdout)["pipelines"]} == \
        {"batch_features": "run", "churn_training": "version"}
    result = run_pvcheck("diff", "does-not-exist", cwd=repo.root)
    assert result.returncode == 2 and "Traceback" not in result.stderr and result.stderr.count("\n") == 1
