"""Every error a user can cause: one line on stderr naming the file, the line and the fix,
exit status 2, no traceback (``--debug`` shows it).

Run through the installed ``pvcheck`` script with ``PVCHECK_DEBUG`` unset, exactly as a
user or a CI job would see it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Mapping, Optional, Union

import pytest

from tests.conftest import FIXTURES
from tests.gitrepo import GIT_ENV, PVCHECK, git

FileContent = Union[str, bytes]


def pvcheck(cwd: Path, *args: str, env: Optional[Mapping[str, str]] = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "PVCHECK_DEBUG"}
    environment.update({"PVCHECK_CACHE_DIR": str(cwd.parent / "cache"), "NO_COLOR": "1"}, **(env or {}))
    return subprocess.run([str(PVCHECK), *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=environment)


def project(tmp_path: Path, files: Mapping[str, FileContent] = {}) -> Path:
    root = tmp_path / "proj"
    shutil.copytree(FIXTURES / "zenml_churn", root)
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def one_error(done: subprocess.CompletedProcess[str], *expected: str) -> str:
    """The single error line; it must hold every ``expected`` fragment and a fix after '; '."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    line = lines[0]
    assert line.startswith("pvcheck: error: ") and "; " in line, line
    for fragment in expected:
        assert fragment in line, (fragment, line)
    return line


PYPROJECT_HEAD = '[project]\nname = "churn"\nversion = "1"\n\n[tool.ruff]\nexclude = ["build"]\n\n'

CONFIG_ERRORS = {
    "unknown key in pyproject.toml": (
        {"pyproject.toml": PYPROJECT_HEAD + '[tool.pvcheck]\nroots = ["."]\ncontinuity_treshold = 0.4\n'},
        ["pyproject.toml:10: ", "unknown configuration key 'tool.pvcheck.continuity_treshold'",
         "continuity_threshold"]),
    "unknown key in pvcheck.toml": (
        {"pvcheck.toml": "# settings\n\nexlude = ['legacy/**']\n"},
        ["pvcheck.toml:3: ", "unknown configuration key 'exlude'", "exclude"]),
    "wrong type, key also set by another tool": (
        {"pyproject.toml": PYPROJECT_HEAD + "[tool.pvcheck]\nexclude = 'build'\n"},
        ["pyproject.toml:9: ", "'tool.pvcheck.exclude' must be a list of strings", "fix its value"]),
    "number out of range": (
        {"pvcheck.toml": "continuity_threshold = 1.5\n"},
        ["pvcheck.toml:1: ", "'continuity_threshold' must be a number between 0 and 1"]),
    "size limit not positive": (
        {"pvcheck.toml": "\nmax_file_size = 0\n"}, ["pvcheck.toml:2: ", "'max_file_size' must be a positive integer"]),
    "bad rule id": (
        {"pyproject.toml": PYPROJECT_HEAD + "[tool.pvcheck.rules]\nPV4O1 = 'run'\n"},
        ["pyproject.toml:9: ", "'tool.pvcheck.rules.PV4O1' is not a rule id"]),
    "bad decision in an inline table": (
        {"pyproject.toml": PYPROJECT_HEAD + "[tool.pvcheck]\nroots = ['.']\nrules = { PV401 = 'maybe' }\n"},
        ["pyproject.toml:10: ", "must be one of run, version, pipeline, off, not 'maybe'"]),
    "malformed TOML": (
        {"pvcheck.toml": "roots = ['.']\nexclude = ['a',\npolicies = []\n"},
        ["pvcheck.toml:3: ", "configuration is not valid TOML", "fix the TOML syntax"]),
    "configuration not UTF-8": (
        {"pvcheck.toml": b"# r\xe9glages\nroots = ['.']\n"}, ["pvcheck.toml:1: ", "not valid UTF-8"]),
    "pvcheck table not a table": (
        {"pvcheck.toml": "[tool]\npvcheck = 3\n"}, ["pvcheck.toml:2: ", "'tool.pvcheck' must be a table"]),
    "tool not a table in pvcheck.toml": (
        {"pvcheck.toml": "tool = 3\n"}, ["pvcheck.toml:1: ", "unknown configuration key 'tool'"]),
    "unknown policy": (
        {"pvcheck.toml": "policies = ['cosmetic', 'strict']\n"}, ["pvcheck.toml:1: ", "unknown policy 'strict'"]),
    "unknown framework": (
        {"pvcheck.toml": "\n\nframeworks = ['zenml', 'kedro2']\n"},
        ["pvcheck.toml:3: ", "unknown framework 'kedro2'", "use one of: "]),
}


@pytest.mark.parametrize("case", sorted(CONFIG_ERRORS))
def test_configuration_errors(tmp_path: Path, case: str) -> None:
    files, expected = CONFIG_ERRORS[case]
    root = project(tmp_path, files)
    one_error(pvcheck(root, "scan", "."), *expected)


def test_plugin_that_cannot_be_imported_names_the_setting(tmp_path: Path) -> None:
    root = project(tmp_path, {"pyproject.toml": PYPROJECT_HEAD + "[tool.pvcheck]\n\nplugins = ['acme.rules:Strict']\n"})
    one_error(pvcheck(root, "diff", str(FIXTURES / "zenml_churn"), "."),
              "pyproject.toml:10: ", "cannot import policy plugin 'acme.rules:Strict'", "install the package")


@pytest.mark.parametrize("args, expected", [
    (["scan", "no/such/folder"], ["no such file or folder: no/such/folder"]),
    (["scan", ".", "--format", "xml"], ["invalid choice: 'xml'", "pvcheck scan --help"]),
    (["diff", "HEAD", "--format", "yaml"], ["invalid choice: 'yaml'", "pvcheck diff --help"]),
    (["scan", ".", "--config", "missing.toml"], ["missing.toml: cannot read configuration"]),
    (["scan", ".", "--colour"], ["unrecognized arguments: --colour"]),
    (["sacn", "."], ["invalid choice: 'sacn'", "'pvcheck --help'"]),
    ([], ["no command given", "pvcheck scan ."]),
    (["graph", ".", "--pipeline", "nope"], ["no pipeline named 'nope'", "churn_training"]),
])
def test_usage_errors(tmp_path: Path, args: list[str], expected: list[str]) -> None:
    one_error(pvcheck(project(tmp_path), *args), *expected)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = project(tmp_path)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    subprocess.run(["git", "-C", str(root), "commit", "-q", "-m", "churn"], check=True, capture_output=True,
                   env={**os.environ, **GIT_ENV})
    return root


def test_unknown_git_revision(repo: Path) -> None:
    one_error(pvcheck(repo, "diff", "v9.9"), "unknown git revision 'v9.9'", "git log")
    one_error(pvcheck(repo, "diff", "HEAD~3", "HEAD"), "unknown git revision 'HEAD~3'")
    one_error(pvcheck(repo, "check", "--base", "nope"), "unknown git revision 'nope'")


def test_revision_outside_a_repository(tmp_path: Path) -> None:
    one_error(pvcheck(project(tmp_path), "diff", "HEAD"), "not a git repository", "compare two folders")


@pytest.mark.parametrize("content, expected", [
    (b"\x93\x00\xfflock", ["pvcheck.lock:1: ", "not valid UTF-8"]),
    (b"", ["pvcheck.lock:1: ", "no valid 'schema'"]),
    (b"schema = 99\n", ["pvcheck.lock:1: ", "newer pvcheck"]),
])
def test_bad_lock_file_through_the_script(repo: Path, content: bytes, expected: list[str]) -> None:
    (repo / "pvcheck.lock").write_bytes(content)
    one_error(pvcheck(repo, "check"), *expected)
    one_error(pvcheck(repo, "lock"), *expected)  # never overwritten blindly
    assert (repo / "pvcheck.lock").read_bytes() == content


def test_conflicted_lock_file_fails_check(repo: Path) -> None:
    # (``pvcheck lock`` resolves the conflict instead: see test_cli_lock_check)
    (repo / "pvcheck.lock").write_text("schema = 1\n<<<<<<< HEAD\n=======\n>>>>>>> theirs\n")
    one_error(pvcheck(repo, "check"), "pvcheck.lock:2: ", "merge-conflict")


def test_lock_file_that_is_a_folder(repo: Path) -> None:
    (repo / "pvcheck.lock").mkdir()
    one_error(pvcheck(repo, "lock"), "pvcheck.lock: ", "is a folder")
    one_error(pvcheck(repo, "check"), "pvcheck.lock: ", "is a folder")


def test_lock_file_in_a_missing_folder(repo: Path) -> None:
    (repo / "pvcheck.toml").write_text("lock_file = 'locks/here/pvcheck.lock'\n")
    one_error(pvcheck(repo, "lock"), "locks/here/", "check that the folder exists")


def test_syntax_errors_print_the_report_then_one_line_each(tmp_path: Path) -> None:
    root = project(tmp_path, {"steps/broken.py": "from zenml import step\n\n@step\ndef f(:\n    pass\n",
                              "steps/latin.py": b"from zenml import step\nNAME = 'caf\xe9'\n"})
    done = pvcheck(root, "scan", ".")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "churn_training" in done.stdout and "batch_features" in done.stdout  # the rest was analyzed
    assert done.stderr.splitlines() == [
        "pvcheck: error: steps/broken.py:4: PV001 syntax error: invalid syntax; fix the syntax; the rest of "
        "the tree was analyzed",
        "pvcheck: error: steps/latin.py:2: PV002 file is not valid utf-8; save it as UTF-8 or fix its coding "
        "declaration",
    ]


@pytest.mark.parametrize("how", ["--debug", "PVCHECK_DEBUG"])
def test_debug_shows_the_traceback(tmp_path: Path, how: str) -> None:
    root = project(tmp_path, {"pvcheck.toml": "exlude = []\n"})
    if how == "--debug":
        done = pvcheck(root, "scan", ".", "--debug")
    else:
        done = pvcheck(root, "scan", ".", env={"PVCHECK_DEBUG": "1"})
    assert done.returncode != 0
    assert "Traceback (most recent call last)" in done.stderr
    assert re.search(r"ConfigError: .*pvcheck\.toml:1: unknown configuration key 'exlude'", done.stderr)
