"""The pre-commit hook (``.pre-commit-hooks.yaml``).

Always: the manifest's schema, and the hook's ``entry`` run on a throw-away repository
as pre-commit would run it. With pre-commit available (on PATH, or its executable in
``PVCHECK_PRE_COMMIT``): ``pre-commit validate-manifest`` and ``pre-commit try-repo``
end to end. pre-commit is a test-only tool, never a dependency of pvcheck.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
MANIFEST = REPO / ".pre-commit-hooks.yaml"
EXAMPLE = REPO / "docs" / "examples" / "churn_pr"
PRE_COMMIT = os.environ.get("PVCHECK_PRE_COMMIT") or shutil.which("pre-commit")

#: What pre-commit's manifest schema (pre_commit/clientlib.py) requires and allows.
_REQUIRED = {"id": str, "name": str, "entry": str, "language": str}
_OPTIONAL = {"description": str, "pass_filenames": bool, "files": str, "exclude": str, "types": list,
             "types_or": list, "exclude_types": list, "always_run": bool, "require_serial": bool,
             "minimum_pre_commit_version": str, "args": list, "stages": list, "verbose": bool,
             "fail_fast": bool, "additional_dependencies": list, "language_version": str, "log_file": str}
_LANGUAGES = {"conda", "coursier", "dart", "docker", "docker_image", "dotnet", "fail", "golang", "haskell",
              "julia", "lua", "node", "perl", "pygrep", "python", "r", "ruby", "rust", "script", "swift",
              "system", "unsupported", "unsupported_script"}


def _hooks() -> list[dict]:
    hooks = yaml.safe_load(MANIFEST.read_text())
    assert isinstance(hooks, list) and hooks
    return hooks


def _hook() -> dict:
    (hook,) = [h for h in _hooks() if h["id"] == "pvcheck"]
    return hook


def test_manifest_schema():
    for hook in _hooks():
        for key, kind in _REQUIRED.items():
            assert isinstance(hook.get(key), kind), key
        for key, value in hook.items():
            assert key in _REQUIRED or key in _OPTIONAL, f"unknown key {key}"
            if key in _OPTIONAL:
                assert isinstance(value, _OPTIONAL[key]), key
        assert hook["language"] in _LANGUAGES
    hook = _hook()
    assert hook["language"] == "python" and hook["pass_filenames"] is False  # pvcheck checks the whole tree
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert shlex.split(hook["entry"])[0] in scripts  # the console script the python env installs
    assert shlex.split(hook["entry"])[1] == "check"


@pytest.mark.parametrize("path, runs", [
    ("steps/model.py", True), ("configs/train.yaml", True), ("configs/train.yml", True),
    ("pyproject.toml", True), ("pvcheck.lock", True), ("sub/pvcheck.lock", True),
    ("README.md", False), ("data/table.csv", False), ("notpvcheck.lock", False),
])
def test_files_pattern(path, runs):
    assert bool(re.search(_hook()["files"], path)) is runs


def _git(folder: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
                   check=True, capture_output=True)


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "project"
    shutil.copytree(EXAMPLE / "base", folder)
    _git(folder, "init", "-q")
    _git(folder, "add", "-A")
    _git(folder, "commit", "-q", "-m", "base")
    return folder


def _entry(folder: Path) -> subprocess.CompletedProcess[str]:
    """The hook's entry as pre-commit runs it: in the repository root, no file names."""
    words = shlex.split(_hook()["entry"])
    command = [sys.executable, "-m", "pvcheck", *words[1:]]  # the 'pvcheck' script of this interpreter
    env = {k: v for k, v in os.environ.items() if k != "PVCHECK_DEBUG"}
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, env=env, timeout=600)


def test_entry_fails_until_the_lock_records_the_change(project):
    first = _entry(project)
    assert first.returncode == 1 and "pvcheck.lock does not exist" in first.stdout + first.stderr
    subprocess.run([sys.executable, "-m", "pvcheck", "lock", "--quiet"], cwd=project, check=True, capture_output=True)
    assert _entry(project).returncode == 0
    # a cosmetic edit passes, a semantic one fails until re-locked
    model = project / "steps" / "model.py"
    model.write_text(model.read_text().replace("def report(accuracy: float) -> None:",
                                                "def report(accuracy: float) -> None:\n    # just a comment"))
    assert _entry(project).returncode == 0
    shutil.copy(EXAMPLE / "head" / "steps" / "model.py", model)
    stale = _entry(project)
    assert stale.returncode == 1 and "pvcheck.lock is stale" in stale.stdout + stale.stderr


@pytest.mark.skipif(PRE_COMMIT is None, reason="pre-commit not installed (set PVCHECK_PRE_COMMIT to its executable)")
def test_pre_commit_validates_the_manifest():
    result = subprocess.run([PRE_COMMIT, "validate-manifest", str(MANIFEST)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(PRE_COMMIT is None, reason="pre-commit not installed (set PVCHECK_PRE_COMMIT to its executable)")
def test_pre_commit_try_repo(project):
    """The real thing: pre-commit builds the hook's environment from this repository
    (pip install from PyPI: slow the first time) and runs it on staged changes."""
    subprocess.run([sys.executable, "-m", "pvcheck", "lock", "--quiet"], cwd=project, check=True, capture_output=True)
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "lock")
    shutil.copy(EXAMPLE / "head" / "steps" / "model.py", project / "steps" / "model.py")
    _git(project, "add", "-A")

    def try_repo() -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != "PVCHECK_DEBUG"}
        return subprocess.run([PRE_COMMIT, "try-repo", str(REPO), "pvcheck"], cwd=project, capture_output=True,
                              text=True, env=env, timeout=1800)

    failed = try_repo()
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "pvcheck check" in failed.stdout and "Failed" in failed.stdout
    assert "pvcheck.lock is stale" in failed.stdout
    subprocess.run([sys.executable, "-m", "pvcheck", "lock", "--quiet"], cwd=project, check=True, capture_output=True)
    _git(project, "add", "pvcheck.lock")
    passed = try_repo()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout
