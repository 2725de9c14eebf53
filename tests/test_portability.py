"""Nothing tracked may depend on the machine it was written on.

A fixed path to a virtual environment in a test made the suite pass where it was written
and fail 38 tests on every fresh clone: this test fails as soon as one appears. Its own
examples are built from parts at run time, so this file passes its own check.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Folders that only exist on some machine: a home, a workspace, a virtual environment,
#: a temporary folder, a package manager's prefix, a Windows user profile.
MACHINE_PATH = re.compile(
    r"(?<![\w.~$-])(?:/(?:work|root|home|Users|opt|tmp|usr/local|var/folders|private/var)/"
    r"|[A-Za-z]:\\\\?(?:Users|Windows)\\)"
)

#: Lines that mention such a path as data, never as something to use: a shell command
#: inside a fixture DAG (pvcheck never runs analyzed code).
def rooted(*parts: str) -> str:
    """An absolute POSIX path made of ``parts``: how this file names one without writing it."""
    return "/" + "/".join(parts)


ALLOWED = {
    ("fixtures/airflow_reports/dags/sales_etl.py",
     f'return "gsutil cp {rooted("tmp", "sales", "*.json")} gs://sales-archive/"'),
}

#: Text files worth reading; binary fixtures (images) cannot name a path.
TEXT_SUFFIXES = {".py", ".md", ".toml", ".txt", ".yml", ".yaml", ".json", ".cfg", ".ini", ".sh", ".sql", ".lock", ""}


def tracked_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    result = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True)
    return [name for name in result.stdout.decode("utf-8").split("\0") if name]


def machine_paths(relative: str, text: str) -> list[str]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if MACHINE_PATH.search(line) and (relative, line.strip()) not in ALLOWED:
            found.append(f"{relative}:{number}: {line.strip()}")
    return found


def test_no_tracked_file_names_a_machine_path() -> None:
    offending: list[str] = []
    for relative in tracked_files():
        path = ROOT / relative
        if path.suffix not in TEXT_SUFFIXES or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:  # the non-UTF-8 fixtures
            continue
        offending.extend(machine_paths(relative, text))
    assert not offending, "machine-specific absolute paths in tracked files:\n" + "\n".join(offending)


@pytest.mark.parametrize("line", [
    f'PVCHECK = Path("{rooted("tmp", "venv", "bin", "pvcheck")}")',
    f"cd {rooted('work', 'main')} && pytest",
    f"python={rooted('root', '.pyenv', 'shims', 'python3')}",
    f"see {rooted('home', 'alice', 'projects', 'ml')}",
    "C:" + "\\".join(["", "Users", "alice", "venv", "Scripts", "pvcheck.exe"]),
    rooted("usr", "local", "lib", "node_modules", "mermaid", "dist", "mermaid.min.js"),
])
def test_the_check_catches_machine_paths(line: str) -> None:
    assert machine_paths("example.py", line)


@pytest.mark.parametrize("line", [
    "fixtures/zenml_churn/steps/features.py",
    'pvcheck.diff("fixtures/zenml_churn", "../churn-edited")',
    "git diff --output=x",
    "https://pypi.org/project/pvcheck-ml/",
    "~/projects" + "/" + "tmp/x",  # a folder named tmp inside the home folder
    "$HOME/.cache/pvcheck",
])
def test_the_check_lets_relative_and_portable_paths_through(line: str) -> None:
    assert not machine_paths("example.py", line)
