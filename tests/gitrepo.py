"""Throw-away git repositories for the git, lock and check tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Mapping, Optional

from tests.conftest import FIXTURES

#: The pvcheck command of the interpreter running the tests: the one the README's test command
#: installed into its virtual environment, wherever that is (never a fixed path).
PVCHECK = Path(sys.executable).with_name("pvcheck.exe" if os.name == "nt" else "pvcheck")

# the user's git configuration (signing, hooks, default branch) must not leak in
GIT_ENV = {
    "GIT_AUTHOR_NAME": "pvcheck tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "pvcheck tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=True)
    return result.stdout


class Repo:
    """A git repository in a temporary folder, the project possibly in a sub-folder."""

    def __init__(self, top: Path, project: str = "") -> None:
        self.top = top
        self.root = top / project if project else top
        self.root.mkdir(parents=True, exist_ok=True)
        git(top, "init", "-q", "-b", "main")

    def write(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def read(self, relative: str) -> str:
        return (self.root / relative).read_text(encoding="utf-8")

    def replace(self, relative: str, old: str, new: str) -> None:
        text = self.read(relative)
        assert old in text, f"{old!r} not in {relative}"
        self.write(relative, text.replace(old, new, 1))

    def commit(self, message: str = "change") -> str:
        git(self.top, "add", "-A")
        git(self.top, "commit", "-q", "--allow-empty", "-m", message)
        return git(self.top, "rev-parse", "HEAD").strip()

    def status(self) -> str:
        return git(self.top, "status", "--porcelain=v1", "--untracked-files=all")


def churn_repo(tmp_path: Path, project: str = "", files: Optional[Mapping[str, str]] = None) -> Repo:
    """A repository whose first commit is a copy of fixtures/zenml_churn."""
    repo = Repo(tmp_path / "repo", project)
    shutil.copytree(FIXTURES / "zenml_churn", repo.root, dirs_exist_ok=True)
    for name, text in (files or {}).items():
        repo.write(name, text)
    repo.commit("initial")
    return repo


def cli_env() -> dict[str, str]:
    """The environment for running pvcheck as a user would: no debug, no colour."""
    env = {k: v for k, v in os.environ.items() if k not in ("PVCHECK_DEBUG", "FORCE_COLOR")}
    env["NO_COLOR"] = "1"
    env.update(GIT_ENV)
    return env


def run_pvcheck(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PVCHECK), *args], cwd=cwd, capture_output=True, text=True, env=cli_env(),
                          timeout=300)


#: A cosmetic edit of steps/features.py (a comment) and a semantic one (a literal).
COSMETIC = ("    train, test = train_test_split(", "    # split once, reproducibly\n    train, test = train_test_split(")
SEMANTIC = ("test_size=test_size, random_state", "test_size=test_size * 1.5, random_state")
