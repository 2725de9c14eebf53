"""pvcheck: is this change to an ML pipeline a new run, a new version, or a new pipeline?

The public, typed API. The command line is built on these functions and nothing else.
"""

from __future__ import annotations

from pvcheck import _safe_path  # noqa: F401  first: see there (python -m pvcheck in a project)
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from pvcheck.config import Config, load_config
from pvcheck.model import (
    Decision,
    Diagnostic,
    Edge,
    Finding,
    Pipeline,
    PipelineChange,
    Project,
    Report,
    Step,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from contextlib import ExitStack
    from typing import Any, Callable, ContextManager

__version__ = "0.1.0"


def scan(path: Path | str = ".", config: Optional[Config] = None, cache: bool = True) -> Project:
    """Analyze the tree at ``path`` statically and return its pipelines.

    Nothing in the tree is imported or executed. Unreadable or unparsable files are
    :class:`Diagnostic` entries of the result; the rest of the tree is still analyzed.
    With ``cache`` (the default), results of unchanged files are reused from the
    analysis cache (``$PVCHECK_CACHE_DIR``, default ``~/.cache/pvcheck``); ``cache=False``
    neither reads nor writes it. ``config=None`` reads the settings that govern ``path``
    (``pvcheck.toml`` or ``[tool.pvcheck]``, found upwards), exactly as ``pvcheck scan``.
    """
    from pvcheck.analyzer import scan_tree

    if config is None:  # the project's own settings, found as the command line finds them
        from pvcheck.config import find_config

        folder = Path(path)
        config = load_config(find_config(folder if folder.is_dir() else folder.parent)) if folder.exists() else None
    return scan_tree(Path(path), config, cache=cache)


def scan_revision(repo: Path | str, rev: str, config: Optional[Config] = None, cache: bool = True) -> Project:
    """Analyze the project folder ``repo`` as it is in git revision ``rev``.

    ``rev`` is anything git resolves to a commit (``main``, ``v1.2``, ``HEAD~3``, a
    hash). ``repo`` may be a sub-folder of a repository: only that folder of the
    revision is analyzed, and paths are relative to it. The revision is read with
    git's plumbing into a temporary folder; the working tree, index and branches are
    never touched. Raises :class:`~pvcheck.errors.RevisionError` for an unknown
    revision or a folder that is not in a git repository. The result's ``root`` is
    ``rev`` (the temporary folder is gone when this returns).
    """
    from dataclasses import replace

    with _revision_tree(repo, rev) as tree:
        project = scan(tree, config, cache=cache)
    return replace(project, root=rev)


def diff(
    base: Path | str | Project,
    head: Path | str | Project | None = None,
    config: Optional[Config] = None,
    repo: Path | str = ".",
    cache: bool = True,
) -> Report:
    """Compare two revisions of a project: for each pipeline a decision, ``run``,
    ``version`` or ``pipeline``, with the findings behind it.

    ``base`` and ``head`` are each a folder (when a folder of that name exists), else a
    git revision of the repository at ``repo``, or an already scanned :class:`Project`
    (e.g. one rebuilt from ``pvcheck.lock``). ``head=None`` is the working tree at
    ``repo``. Both sides are analyzed with the same ``config`` (``None``: the settings
    governing HEAD's folder, else ``repo``, as the command line reads them), so a
    setting never shows up as a change. A name that is both a folder and a revision is
    an error (write ``./name`` or ``name^{commit}``). Raises
    :class:`~pvcheck.errors.RevisionError` for an unknown revision.
    """
    from contextlib import ExitStack

    from pvcheck.policies import compare

    if config is None:  # the settings of the project being changed: HEAD's folder, else the repository's
        from pvcheck.config import find_config

        folder = Path(head) if isinstance(head, (str, Path)) and Path(head).is_dir() else Path(repo)
        config = load_config(find_config(folder)) if folder.is_dir() else Config()
    with ExitStack() as stack:
        # revision trees stay on disk until the comparison is done: policies may re-read
        # the source to explain a cosmetic edit
        base_project = _side(base, config, repo, cache, stack)
        head_project = _side(repo if head is None else head, config, repo, cache, stack)
        return compare(base_project, head_project, config)


def _side(side: Path | str | Project, config: Config, repo: Path | str, cache: bool, stack: "ExitStack") -> Project:
    if isinstance(side, Project):
        return side
    if Path(side).is_dir():
        if isinstance(side, str):  # a Path is meant as a folder; a word may be either
            _refuse_ambiguous(side, repo)
        return scan(side, config, cache=cache)
    if Path(side).exists():
        from pvcheck.errors import PvcheckError

        raise PvcheckError(f"'{side}' is a file, not a folder or a git revision", str(side),
                           hint="give the project's folder or a revision such as HEAD~1")
    tree = stack.enter_context(_revision_tree(repo, str(side)))
    return scan(tree, config, cache=cache)


def _refuse_ambiguous(name: str, repo: Path | str) -> None:
    """A name that is both a folder and a git revision (``master``) is an error, not a guess."""
    from pvcheck import gitio
    from pvcheck.errors import PvcheckError, RevisionError

    if "/" in name or name in (".", ".."):  # a path, not a revision name
        return
    try:
        gitio.resolve(repo, name)
    except RevisionError:  # not a revision, or no repository: the folder it is
        return
    raise PvcheckError(f"'{name}' is both a folder and a git revision",
                       hint=f"write ./{name} for the folder, or {name}^{{commit}} for the revision")


def _revision_tree(repo: Path | str, rev: str) -> "ContextManager[Path]":
    from pvcheck import gitio

    return gitio.checkout(gitio.resolve(repo, rev))


def fingerprint(source_or_function: "str | Callable[..., Any]") -> str:
    """The canonical ``fp1:`` fingerprint of a piece of code: source text (a function, a
    class or a module) or a live function, whose text is read from its source file.

    Cosmetic edits (formatting, comments, docstrings, import order and aliases, renamed
    locals, ``print``/logging calls) and renaming the function leave it unchanged; any
    other edit changes it. Only that code counts: :func:`code_version` adds its helpers.
    """
    from pvcheck.codeversion import fingerprint as _fingerprint

    return _fingerprint(source_or_function)


def code_version(function: "Callable[..., Any]") -> str:
    """A step's semantic fingerprint including the repo-local helpers it uses, for use
    where a framework takes a version or cache key (Dagster ``code_version=``, Flyte
    ``cache_version``, a ZenML or Prefect cache policy: see ``pvcheck.integrations``).

    ``function`` is a plain function or a framework's step, task, op or asset. Its
    source file is analyzed statically -- nothing is imported -- and the result is
    cached until a file it depends on changes. Raises
    :class:`~pvcheck.codeversion.CodeVersionError` when it has no source file.
    """
    from pvcheck.codeversion import code_version as _code_version

    return _code_version(function)


__all__ = [
    "Config",
    "Decision",
    "Diagnostic",
    "Edge",
    "Finding",
    "Pipeline",
    "PipelineChange",
    "Project",
    "Report",
    "Step",
    "__version__",
    "code_version",
    "fingerprint",
    "load_config",
    "diff",
    "scan",
    "scan_revision",
]
