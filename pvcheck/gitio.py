"""Reading a git revision into a temporary folder, with ``git`` itself.

Only read-only plumbing is used (``rev-parse``, ``ls-tree``, ``cat-file``): the user's
working tree, index, branches and stash are never touched, and no worktree is added.
Blobs are written byte for byte, so ``.gitattributes`` (``export-ignore``,
``export-subst``, filters) cannot change what is analyzed, which ``git archive`` would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Iterator, Optional

from pvcheck.errors import RevisionError
from pvcheck.history_git import ANALYZED_SUFFIXES

_GIT_TIMEOUT = 300  # seconds; a huge repository on a slow disk, not a hang


@dataclass(frozen=True)
class Revision:
    """A resolved revision of the repository that holds a project folder."""

    name: str  # what the user typed, e.g. ``main`` or ``HEAD~1``
    commit: str  # full object id
    toplevel: Path  # the repository's top-level folder
    prefix: str  # the project folder relative to ``toplevel``, with ``/``; "" at the top


def _git(repo: Path, *args: str, stdin: Optional[bytes] = None) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ)
    # a user's pager, locale or hooks must not change what we read
    env.update({"GIT_PAGER": "cat", "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"})
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    try:
        return subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True, env=env,
                              timeout=_GIT_TIMEOUT, check=False)
    except FileNotFoundError:
        raise RevisionError("git is not installed or not on PATH", hint="install git, or compare two folders") from None
    except subprocess.TimeoutExpired:
        raise RevisionError(f"git {args[0]} took longer than {_GIT_TIMEOUT}s", str(repo),
                            hint="try again, or compare two folders") from None


def _first_line(data: bytes) -> str:
    text = data.decode("utf-8", "replace").strip()
    return text.splitlines()[0] if text else ""


def repository(repo: Path | str) -> tuple[Path, str]:
    """The top-level folder of the git repository holding ``repo``, and ``repo``'s
    place in it (``""`` at the top, else ``sub/dir``)."""
    folder = Path(repo)
    if not folder.is_dir():
        raise RevisionError(f"no such folder: {repo}", hint="pass --repo PATH of a git repository")
    result = _git(folder, "rev-parse", "--show-toplevel", "--show-prefix")
    if result.returncode != 0:
        raise RevisionError(f"not a git repository: {repo}",
                            hint="pass --repo PATH of a git repository, or compare two folders")
    lines = result.stdout.decode("utf-8", "surrogateescape").splitlines()
    if not lines:
        # a bare repository or the inside of .git: there is no project folder to map
        raise RevisionError(f"not inside a git working tree: {repo}", hint="pass --repo PATH of a checkout")
    toplevel = Path(lines[0])
    prefix = lines[1].strip("/") if len(lines) > 1 else ""
    return toplevel, prefix


def resolve(repo: Path | str, rev: str) -> Revision:
    """Resolve ``rev`` (a branch, tag, commit, ``HEAD~2`` ...) in the repository holding ``repo``."""
    toplevel, prefix = repository(repo)
    if not rev or rev.startswith("-"):
        raise RevisionError(f"'{rev}' is not a git revision", hint="give a branch, tag or commit, or a folder")
    result = _git(toplevel, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    if result.returncode != 0:
        raise RevisionError(f"unknown git revision '{rev}' in {toplevel}",
                            hint="check it with `git log --oneline`; in CI fetch history first "
                                 "(actions/checkout with fetch-depth: 0)")
    commit = result.stdout.decode("ascii").strip()
    return Revision(name=rev, commit=commit, toplevel=toplevel, prefix=prefix)


@contextmanager
def checkout(revision: Revision) -> Iterator[Path]:
    """The project folder of ``revision`` materialised in a temporary folder.

    The folder is deleted when the ``with`` block ends. Paths inside it mirror the
    project folder, so paths the analyzer reports are relative to the project root.
    """
    entries = _blobs(revision)
    size = sum(entry[3] for entry in entries)
    with tempfile.TemporaryDirectory(prefix="pvcheck-rev-", dir=_scratch_folder(size)) as temporary:
        root = Path(temporary) / "tree"
        root.mkdir()
        _materialise(revision, root, entries)
        yield root


_RAM_FOLDER = "/dev/shm"


def _scratch_folder(size: int) -> Optional[str]:
    """Where to write a revision of ``size`` bytes: a RAM-backed folder when the system
    has one with room to spare, else the default temporary folder (None). A revision is
    thousands of small files written and deleted again; on a disk-backed /tmp that alone
    can take seconds. An explicit ``TMPDIR`` is always respected."""
    if os.environ.get("TMPDIR") or not sys.platform.startswith("linux") or not os.path.isdir(_RAM_FOLDER) \
            or not os.access(_RAM_FOLDER, os.W_OK | os.X_OK):
        return None
    try:
        stats = os.statvfs(_RAM_FOLDER)
    except OSError:
        return None
    return _RAM_FOLDER if stats.f_bavail * stats.f_frsize > 2 * size + (64 << 20) else None


def _blobs(revision: Revision) -> list[tuple[str, str, str, int]]:
    """(mode, object id, path, size) of every file of the revision's project folder."""
    spec = revision.commit + (f":{revision.prefix}" if revision.prefix else "")
    if revision.prefix:
        kind = _git(revision.toplevel, "cat-file", "-t", spec)
        if kind.returncode != 0 or kind.stdout.strip() != b"tree":
            raise RevisionError(f"folder '{revision.prefix}' does not exist in revision '{revision.name}'",
                                hint="pick a revision that has the project, or run from the repository's top")
    listing = _git(revision.toplevel, "ls-tree", "-r", "-l", "-z", "--full-tree", spec)
    if listing.returncode != 0:
        raise RevisionError(f"cannot list revision '{revision.name}': {_first_line(listing.stderr)}",
                            str(revision.toplevel), hint="check the repository with `git fsck`")
    entries: list[tuple[str, str, str, int]] = []
    for record in listing.stdout.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind_name, oid, size = meta.decode("ascii").split()
        if kind_name != "blob":
            continue  # submodules (commit entries) are not part of this repository's code
        # the size is "BAD" for an object the repository lacks (a partial clone): written
        # as absent, or an error for a file the analyzer reads (_write_blobs)
        entries.append((mode, oid, raw_path.decode("utf-8", "surrogateescape"), int(size) if size.isdigit() else 0))
    return entries


def _materialise(revision: Revision, root: Path, entries: list[tuple[str, str, str, int]]) -> None:
    targets: dict[str, list[tuple[str, Path]]] = {}  # object id -> [(mode, where)]
    for mode, oid, relative, _ in entries:
        target = _safe_target(root, relative)
        if target is not None:
            targets.setdefault(oid, []).append((mode, target))
    if targets:
        _write_blobs(revision, root, targets)


def _write_blobs(revision: Revision, root: Path, targets: dict[str, list[tuple[str, Path]]]) -> None:
    """Stream every blob through one ``git cat-file --batch`` process straight to disk,
    so memory stays bounded by the largest single file."""
    env = dict(os.environ, LC_ALL="C", GIT_PAGER="cat")
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    order = sorted(targets)
    process = subprocess.Popen(["git", "-C", str(revision.toplevel), "cat-file", "--batch"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert process.stdin is not None and process.stdout is not None

    def feed() -> None:
        # a separate thread: git's output pipe fills up while we are still writing ids
        try:
            process.stdin.write(("\n".join(order) + "\n").encode("ascii"))  # type: ignore[union-attr]
            process.stdin.close()  # type: ignore[union-attr]
        except OSError:
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    symlinks: list[tuple[Path, bytes]] = []
    try:
        for oid in order:
            header = process.stdout.readline().split()
            if len(header) != 3 or header[1] != b"blob":
                # "<oid> missing": a partial clone or a corrupt object. A data file is read
                # as absent, as `pvcheck history` reads it; a file the analyzer reads is not
                # analysed without its bytes
                if not any(str(target).endswith(ANALYZED_SUFFIXES) for _, target in targets[oid]):
                    continue
                raise RevisionError(f"object {oid[:12]} of revision '{revision.name}' is missing",
                                    str(revision.toplevel), hint="fetch the full history (git fetch --refetch)")
            data = _read_exactly(process.stdout, int(header[2]))
            process.stdout.read(1)  # the newline after each blob
            for mode, target in targets[oid]:
                target.parent.mkdir(parents=True, exist_ok=True)
                if mode == "120000":
                    symlinks.append((target, data))
                else:
                    target.write_bytes(data)
    finally:
        process.stdout.close()
        writer.join(timeout=_GIT_TIMEOUT)
        if process.poll() is None:
            process.kill()
        process.wait()
    # links last, so a link to a file of the revision can fall back to a copy of it
    for target, data in symlinks:
        _write_symlink(root, target, data)


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = stream.read(min(remaining, 1 << 20))
        if not chunk:
            raise RevisionError("git cat-file stopped early", hint="try again; check the repository with `git fsck`")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _safe_target(root: Path, relative: str) -> Optional[Path]:
    """Where ``relative`` goes below ``root``; None for a path that would escape it."""
    parts = PurePosixPath(relative).parts
    if not parts or any(part in ("", ".", "..") for part in parts) or PurePosixPath(relative).is_absolute():
        return None
    return root.joinpath(*parts)


def _write_symlink(root: Path, target: Path, data: bytes) -> None:
    """A symlink from the revision, only when it stays inside the materialised tree:
    a link to ``../../etc`` must not make pvcheck read files outside the revision."""
    link = data.decode("utf-8", "surrogateescape")
    resolved = os.path.normpath(os.path.join(str(target.parent), link))
    if os.path.isabs(link) or not (resolved == str(root) or resolved.startswith(str(root) + os.sep)):
        return
    try:
        os.symlink(link, target)
    except OSError:
        # no symlink support (Windows without developer mode): fall back to a copy
        # when the target is a file that already exists
        source = Path(resolved)
        if source.is_file():
            shutil.copyfile(source, target)


def read_file_at(repo: Path | str, rev: str, relative: str) -> Optional[bytes]:
    """The content of ``relative`` (a path inside the project folder ``repo``) in ``rev``;
    None when the revision has no such file."""
    revision = resolve(repo, rev)
    path = f"{revision.prefix}/{relative}" if revision.prefix else relative
    result = _git(revision.toplevel, "cat-file", "blob", f"{revision.commit}:{path}")
    return result.stdout if result.returncode == 0 else None


def last_commit_of(repo: Path | str, relative: str) -> Optional[str]:
    """The last commit (of HEAD's history) that touched ``relative``, a path inside the
    project folder ``repo``; None when it was never committed or ``repo`` is not in a
    git working tree."""
    try:
        toplevel, prefix = repository(repo)
    except RevisionError:
        return None
    path = f"{prefix}/{relative}" if prefix else relative
    result = _git(toplevel, "log", "-1", "--format=%H", "--", path)
    commit = result.stdout.decode("ascii", "replace").strip()
    if result.returncode != 0 or not commit:
        return None
    # in a shallow clone the oldest commit fetched seems to add every file: that it
    # touched ``relative`` says nothing, so it cannot be told when it was last changed
    boundary = _shallow_boundary(toplevel)
    return None if boundary is None or commit in boundary else commit


def _shallow_boundary(toplevel: Path) -> Optional[set[str]]:
    """The commits a shallow clone was cut at (their parents are missing); empty when
    the clone is complete, None when it is shallow but they cannot be read."""
    result = _git(toplevel, "rev-parse", "--is-shallow-repository", "--git-path", "shallow")
    lines = result.stdout.decode("utf-8", "surrogateescape").splitlines()
    if result.returncode != 0 or len(lines) < 2 or lines[0].strip() != "true":
        return set()
    try:
        return set((toplevel / lines[1].strip()).read_text(encoding="ascii").split())
    except (OSError, UnicodeDecodeError):
        return None
