"""The files of a commit in a work folder, from git's objects, for ``pvcheck history``.

A walk keeps two work folders (:class:`Workspace`): the commit analysed and its twin
one commit behind, which the policies read to explain cosmetic edits. Each is updated
file by file from ``git diff-tree`` (:class:`Mirror`), every file written, not only the
analysed ones (code reads data files by path), the bytes from one ``git cat-file
--batch`` process (:class:`Blobs`). Nothing here touches the user's working tree, index
or branches.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Optional, Type

from pvcheck.errors import RevisionError

#: Files the analyzer reads whatever the code says: Python sources, YAML run configs and
#: component specs, ``pyproject.toml`` (source roots, ``[tool.dagster]``) and the
#: requirements files pins are read from; ``requirements.txt`` and ``setup.cfg`` also mark
#: sub-projects (pvcheck.analyzer.subprojects). A commit that changes one is analysed.
ANALYZED_SUFFIXES = (".py", ".yaml", ".yml", "pyproject.toml", "requirements.txt", "requirements.in", "setup.cfg")

_GIT_TIMEOUT = 300

GIT_TIMEOUT = 300


def git(repo: Path, *args: str) -> bytes:
    env = dict(os.environ, GIT_PAGER="cat", LC_ALL="C", GIT_TERMINAL_PROMPT="0")
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    try:
        result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, env=env,
                                timeout=GIT_TIMEOUT, check=False)
    except FileNotFoundError:
        raise RevisionError("git is not installed or not on PATH", hint="install git") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RevisionError(f"git {args[0]} failed: {message[0] if message else 'exit ' + str(result.returncode)}",
                            str(repo), hint="check the repository and the revision with `git log --oneline`")
    return result.stdout


class Blobs:
    """One ``git cat-file --batch`` process, asked for one blob at a time."""

    def __init__(self, toplevel: Path) -> None:
        env = dict(os.environ, LC_ALL="C")
        env.pop("GIT_DIR", None)
        env.pop("GIT_WORK_TREE", None)
        self.process = subprocess.Popen(["git", "-C", str(toplevel), "cat-file", "--batch"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)

    def read(self, oid: str) -> bytes:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        stdin.write(oid.encode("ascii") + b"\n")
        stdin.flush()
        header = stdout.readline().split()
        if len(header) != 3 or header[1] != b"blob":
            raise RevisionError(f"git object {oid[:12]} is missing",
                                hint="fetch the full history (git fetch --unshallow)")
        size = int(header[2])
        data = stdout.read(size)
        stdout.read(1)  # the newline after every object
        return data

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        if self.process.stdout:
            self.process.stdout.close()
        self.process.wait(timeout=GIT_TIMEOUT)


#: One file change applied to a mirror: (project-relative path, blob id, bytes); bytes
#: None for a deletion.
Change = tuple[str, str, Optional[bytes]]


@dataclass
class Mirror:
    """The analyzed files of one commit's project folder, on disk, updated in place."""

    toplevel: Path
    prefix: str  # project folder relative to the repository top, "" or "sub/dir"
    root: Path
    blobs: Blobs
    files: dict[str, str] = field(default_factory=dict)  # project-relative path -> blob id

    def load(self, commit: str) -> list[Change]:
        """Write every analyzed file of ``commit`` (the first commit of the walk)."""
        spec = f"{commit}:{self.prefix}" if self.prefix else f"{commit}^{{tree}}"
        try:
            listing = git(self.toplevel, "ls-tree", "-r", "-z", spec)
        except RevisionError:
            listing = b""  # the project folder does not exist yet in this commit
        changes: list[Change] = []
        for record in listing.split(b"\0"):
            if record:
                meta, _, path = record.partition(b"\t")
                mode, kind, oid = meta.decode("ascii").split()
                changes += self._fetch(path.decode("utf-8", "surrogateescape"), mode, kind, oid)
        self.apply(changes)
        return changes

    def advance(self, old: str, new: str) -> list[Change]:
        """Apply the changes from commit ``old`` to ``new`` to the analyzed files; return them."""
        args = ["diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", old, new]
        if self.prefix:
            args += ["--", self.prefix]
        out = git(self.toplevel, *args).split(b"\0")
        changes: list[Change] = []
        index = 0
        while index + 1 < len(out):
            meta, path = out[index].decode("ascii"), out[index + 1].decode("utf-8", "surrogateescape")
            index += 2
            _, new_mode, _, new_oid, status = meta.lstrip(":").split()
            relative = path[len(self.prefix) + 1:] if self.prefix else path
            if status.startswith("D"):
                changes.append((relative, "", None))
            else:
                changes += self._fetch(relative, new_mode, "commit" if new_mode == "160000" else "blob", new_oid)
                if not changes or changes[-1][0] != relative:
                    changes.append((relative, "", None))  # now a symlink or submodule: gone for the analyzer
        self.apply(changes)
        return changes

    def _fetch(self, relative: str, mode: str, kind: str, oid: str) -> list[Change]:
        # every file is written, not only the analyzed ones: code reads data files by path
        # (a SQL query, a JSON schema), whose bytes are part of its steps' fingerprints
        if kind != "blob" or mode == "120000":
            return []  # submodules and symlinks: not part of this repository's code
        parts = PurePosixPath(relative).parts
        if not parts or any(p in ("", ".", "..") for p in parts):
            return []
        try:
            return [(relative, oid, self.blobs.read(oid))]
        except RevisionError:
            if relative.endswith(ANALYZED_SUFFIXES):
                raise
            return []  # a data file left out of a partial clone: read as absent, like a large file

    def apply(self, changes: list[Change]) -> None:
        for relative, oid, data in changes:
            target = self.root.joinpath(*PurePosixPath(relative).parts)
            if data is None:
                self.files.pop(relative, None)
                try:
                    target.unlink()
                except FileNotFoundError:
                    pass
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                self.files[relative] = oid

    def key(self) -> str:
        """The identity of what the analyzer would see: every analyzed path and blob id."""
        digest = hashlib.sha256()
        for path in sorted(self.files):
            digest.update(f"{path}\0{self.files[path]}\n".encode("utf-8", "surrogateescape"))
        return digest.hexdigest()


class Workspace:
    """Two mirrors: the commit being analyzed, and the last one analyzed before it. The
    policies read both trees to explain cosmetic edits ("comment changed at ...")."""

    def __init__(self, toplevel: Path, prefix: str, within: Optional[Path] = None) -> None:
        # ``within``: a folder another process owns and removes (a helper's: if the helper
        # is killed before it unwinds, its copy of the repository's files goes all the same)
        self.folder = Path(tempfile.mkdtemp(prefix="pvcheck-history-", dir=within))
        try:
            blobs = Blobs(toplevel)
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        mirrors = []
        for name in ("head", "base"):
            root = self.folder / name
            root.mkdir()
            mirrors.append(Mirror(toplevel, prefix, root, blobs))
        self.head, self.base = mirrors

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 traceback: Optional[TracebackType]) -> None:
        try:
            self.head.blobs.close()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def first_parent_commits(repo: Path | str, since: Optional[str] = None,
                         until: str = "HEAD") -> list[tuple[str, str, str]]:
    """(commit, author date, subject) along the first-parent chain, oldest first.

    With ``since``, the walk starts at that commit (included, as the starting state).
    """
    from pvcheck import gitio

    toplevel, _ = gitio.repository(repo)
    head = gitio.resolve(repo, until).commit
    spec = [head]
    if since:
        start = gitio.resolve(repo, since).commit
        ancestor = subprocess.run(["git", "-C", str(toplevel), "merge-base", "--is-ancestor", start, head],
                                  capture_output=True, check=False)
        if ancestor.returncode != 0:
            raise RevisionError(f"'{since}' is not an ancestor of {until}",
                                hint="give a commit of the current branch's history")
        spec = [f"{start}..{head}"]
    out = git(toplevel, "log", "--first-parent", "--reverse", "-z", "--format=%H%x1f%aI%x1f%s", *spec)
    commits = []
    for record in out.split(b"\0"):
        record = record.strip(b"\n")
        if record:
            commit, date, subject = record.decode("utf-8", "replace").split("\x1f", 2)
            commits.append((commit, date, subject))
    if since:
        start_line = git(toplevel, "log", "-1", "--format=%H%x1f%aI%x1f%s", start).decode("utf-8", "replace").strip()
        commit, date, subject = start_line.split("\x1f", 2)
        commits.insert(0, (commit, date, subject))
    return commits
