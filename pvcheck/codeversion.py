"""Code versions of live functions: where a function is defined, statically analyzed.

:func:`code_version` takes a function object the caller already has (a plain function,
a ZenML step, a Prefect task, a Dagster op or asset, a Flyte task), reads only *where*
it is defined (``__code__.co_filename``, ``__module__``, ``__qualname__``) and analyzes
that file and the repo-local helpers it reaches with pvcheck's analyzer. Nothing is
imported, re-imported, executed or evaluated.

Results are cached per process. A cached result is reused while every source file the
analysis read has the same (mtime, size) as when it was read; an edit of the function
or of any helper it reaches makes the next call analyze again.
"""

from __future__ import annotations

import fnmatch
import functools
import inspect
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FunctionType
from typing import Any, Callable, Optional, Union

from pvcheck.analyzer.functions import (
    CodeVersionError,
    FunctionPrint,
    Stamp,
    TreeFunctions,
    function_source,
    source_fingerprint,
    stamp,
)
from pvcheck.config import DEFAULT_EXCLUDES, Config, find_config, load_config

#: Files that mark a project's root folder.
PROJECT_MARKERS = ("pyproject.toml", "setup.cfg", "pvcheck.toml")
_INSTALLED = frozenset({"site-packages", "dist-packages"})


@dataclass(frozen=True)
class Location:
    """Where a function is defined, as its own object says (no import, no exec)."""

    path: Path  # the source file, resolved
    module: str  # ``__module__``
    qualname: str  # ``__qualname__``
    line: int  # ``co_firstlineno``: the first decorator's line, else the ``def``'s


@dataclass(frozen=True)
class Tree:
    """The tree a function is analyzed in."""

    root: Path  # the project root
    roots: tuple[str, ...]  # source roots, relative to root; the function's import root first
    config: Config
    config_stamp: tuple[Optional[str], Stamp]
    packages: tuple[str, ...] = ()  # installed code: only its own top-level package

    @property
    def key(self) -> "TreeKey":
        return (str(self.root), self.roots, self.config.cache_key(), self.packages)


# ---------------------------------------------------------------------- public
def code_version(function: Callable[..., Any]) -> str:
    """The semantic fingerprint of ``function`` including the repo-local helpers it uses.

    ``function`` is a plain function or method, or a framework's wrapper around one
    (ZenML step, Prefect task, Dagster op or asset, Flyte task, anything with
    ``__wrapped__``). Stable under cosmetic edits (formatting, comments, docstrings,
    renamed locals, logging) of the function and its helpers; changed by any other edit
    of either. Raises :class:`~pvcheck.analyzer.functions.CodeVersionError` when the
    function has no source file or cannot be found in it statically (a lambda, a
    function made by ``exec``).

    A function whose source *file* cannot be read but whose source the interpreter
    still has (a notebook cell, a REPL with ``linecache``, a file deleted since import)
    falls back to the fingerprint of that source alone, without its helpers, and warns
    once per function: a cache keyed on it keeps working instead of failing every run.
    """
    try:
        return describe(function).fingerprint
    except CodeVersionError as exc:
        fallback = _interpreter_source_version(function, exc)
        if fallback is None:
            raise
        return fallback


_WARNED: set[str] = set()


def _interpreter_source_version(function: Callable[..., Any], error: CodeVersionError) -> Optional[str]:
    """The fingerprint of the source the interpreter holds for ``function``, or None
    when it holds none either (a lambda made by ``eval``) or the error is not about a
    missing file (a function that is in its file under another name is not guessed)."""
    if "source file" not in str(error):
        return None
    try:
        plain = unwrap(function)
        source = inspect.getsource(plain)
    except (CodeVersionError, OSError, TypeError):
        return None
    import textwrap
    import warnings

    try:
        version = source_fingerprint(textwrap.dedent(source))
    except Exception:  # noqa: BLE001 - a fragment libcst cannot parse: no fallback
        return None
    name = f"{plain.__module__}.{plain.__qualname__}"
    if name not in _WARNED:
        _WARNED.add(name)
        warnings.warn(f"pvcheck: {error}; the code version of {name} hashes the source the interpreter has, "
                      "without the helpers it calls (define it in a .py file of the project for those)",
                      stacklevel=3)
    return version


def describe(function: Callable[..., Any]) -> FunctionPrint:
    """Like :func:`code_version`, with the helpers, files and diagnostics behind it."""
    return _describe(locate_function(function))


def code_version_at(module: str, qualname: str) -> str:
    """The code version of the function ``qualname`` of module ``module``, by name.

    For callers that hold a name rather than an object (ZenML loads cache functions by
    import path). The module's file is taken from ``sys.modules`` when it is imported,
    else looked up on ``sys.path``; it is never imported here.
    """
    path = _module_file(module)
    if path is None:
        raise CodeVersionError(f"no source file for module '{module}' on sys.path",
                               hint="import the module first, or add its folder to sys.path")
    return _describe(Location(path, module, qualname, 0)).fingerprint


def fingerprint(source_or_function: Union[str, Callable[..., Any]]) -> str:
    """The canonical fingerprint of a piece of code: source text or a live function.

    Only that code counts (its helpers do not; :func:`code_version` includes them). A
    function's text is read from its source file, decorators included. Cosmetic edits
    leave the fingerprint unchanged; so does renaming the function.
    """
    if isinstance(source_or_function, str):
        return source_fingerprint(source_or_function)
    where = locate_function(source_or_function)
    return source_fingerprint(function_source(where.path, where.qualname, where.line))


def clear_cache() -> None:
    """Forget every cached analysis of this process."""
    with _LOCK:
        _RESULTS.clear()
        _TREES.clear()
        _CONFIGS.clear()
        _LOCATED.clear()


# ---------------------------------------------------------------------- live objects
def unwrap(function: Any) -> FunctionType:
    """The plain Python function a framework object or decorator wraps.

    Reads attributes only. Where each framework keeps the function (read from their
    source): ZenML ``BaseStep.entrypoint``, Prefect ``Task.fn``, Dagster
    ``OpDefinition.compute_fn.decorated_fn`` and ``AssetsDefinition.op``, Flyte
    ``PythonFunctionTask.task_function``; ``functools.wraps`` sets ``__wrapped__``.
    """
    current = function
    for _ in range(32):
        if isinstance(current, FunctionType) and getattr(current, "__wrapped__", None) is None:
            return current
        current_next = _inner(current)
        if current_next is None or current_next is current:
            break
        current = current_next
    raise CodeVersionError(f"cannot find the Python function behind {function!r}",
                           hint="pass a function, or a step, task, op or asset made from one")


def _inner(obj: Any) -> Any:
    if isinstance(obj, (staticmethod, classmethod)) or inspect.ismethod(obj):
        return obj.__func__
    if isinstance(obj, functools.partial):
        return obj.func
    wrapped = getattr(obj, "__wrapped__", None) if isinstance(obj, FunctionType) else None
    if wrapped is not None:
        return wrapped
    # ZenML's @step makes a class in the user's module: look at the bases too
    packages = {cls.__module__.partition(".")[0] for cls in type(obj).__mro__}
    if "zenml" in packages:
        return getattr(obj, "entrypoint", None)
    if "prefect" in packages:
        return getattr(obj, "fn", None)
    if "flytekit" in packages:
        return getattr(obj, "task_function", None)
    if "dagster" in packages:
        if hasattr(obj, "decorated_fn"):  # DecoratedOpFunction
            return obj.decorated_fn
        if type(obj).__name__ == "AssetsDefinition":
            node = obj.node_def
            if type(node).__name__ != "OpDefinition":
                raise CodeVersionError(f"asset {obj.key.to_user_string()} is computed by a graph, not one "
                                       "function", hint="take the code version of the graph's ops")
            return node
        return getattr(obj, "compute_fn", None)
    return getattr(obj, "__wrapped__", None)


def locate_function(function: Callable[..., Any]) -> Location:
    """Where ``function`` (after :func:`unwrap`) is defined, from its own attributes."""
    plain = unwrap(function)
    code = plain.__code__
    filename = code.co_filename
    if not filename or filename.startswith("<") or not filename.endswith(".py"):
        raise CodeVersionError(f"function '{plain.__qualname__}' has no Python source file ({filename})",
                               hint="define it in a .py file of the project, not in a REPL or via exec")
    path = Path(filename)
    if not path.is_absolute():
        path = Path(os.getcwd()) / path
    path = path.resolve()
    if not path.is_file():
        raise CodeVersionError(f"the source file of '{plain.__qualname__}' does not exist", str(path))
    return Location(path, plain.__module__ or "", plain.__qualname__, code.co_firstlineno)


# ---------------------------------------------------------------------- analysis
_LOCK = threading.RLock()  # Prefect and Dagster run tasks in threads
TreeKey = tuple[str, tuple[str, ...], str, tuple[str, ...]]
_RESULTS: dict[tuple[str, str, str, int], tuple[FunctionPrint, dict[str, Stamp], TreeKey]] = {}
_TREES: dict[TreeKey, TreeFunctions] = {}
_CONFIGS: dict[Path, tuple[tuple[Optional[str], Stamp], Config]] = {}
_LOCATED: dict[tuple[str, str, tuple[str, ...], str], Tree] = {}


def _describe(where: Location) -> FunctionPrint:
    with _LOCK:
        tree = _tree(where)
        key = (str(where.path), where.module, where.qualname, where.line)
        cached = _RESULTS.get(key)
        if cached is not None:
            result, stamps, tree_key = cached
            if tree_key == tree.key and all(stamp(p) == s for p, s in stamps.items()):
                return result
        functions = _TREES.get(tree.key)
        if functions is None or not functions.unchanged() or functions.file_at(where.path) is None:
            functions = TreeFunctions(tree.root, tree.roots, tree.config, tree.packages)
            _TREES[tree.key] = functions
        source = functions.file_at(where.path)
        if source is None:
            raise CodeVersionError(f"{where.path} is not among the project's source files under {tree.root}",
                                   str(where.path), hint="check 'exclude' in the pvcheck configuration")
        result = functions.function(source.module, where.qualname, where.line)
        # every file the tree has read so far: a superset of what this result depends on
        # (re-export modules passed through while resolving names count too)
        stamps = functions.stamps
        if tree.config_stamp[0]:
            stamps[tree.config_stamp[0]] = tree.config_stamp[1]
        _RESULTS[key] = (result, stamps, tree.key)
        return result


def _tree(where: Location) -> Tree:
    """The project a function belongs to and the source roots its imports resolve in."""
    key = (str(where.path), where.module, tuple(sys.path), os.getcwd())
    cached = _LOCATED.get(key)
    if cached is not None:
        config_file, seen = cached.config_stamp
        if config_file is None or stamp(config_file) == seen:
            return cached
    tree = _find_tree(where)
    _LOCATED[key] = tree
    return tree


def _find_tree(where: Location) -> Tree:
    import_root = _import_root(where.path, where.module)
    if any(part in _INSTALLED for part in import_root.parts):
        # code installed as a package (``pip install .``): its own package is the project
        top = where.module.partition(".")[0] if where.module not in ("", "__main__") else where.path.stem
        return Tree(import_root, (".",), Config(), (None, None), (top,))
    root = _project_root(import_root)
    config, config_stamp = _config(root)
    roots = [_relative(import_root, root)]
    patterns = tuple(DEFAULT_EXCLUDES) + tuple(config.exclude)
    # the folders on sys.path inside the project are where its other modules import from
    for entry in sys.path:
        folder = Path(entry or os.getcwd())
        try:
            folder = folder.resolve()
            relative = folder.relative_to(root).as_posix()
        except (OSError, ValueError, RuntimeError):
            continue
        if not folder.is_dir() or any(fnmatch.fnmatchcase(part, p) for part in relative.split("/") for p in patterns):
            continue  # a virtual environment or build folder inside the project
        roots.append(relative or ".")
    if config_stamp[0]:
        roots.extend(config.roots or (".",))
    unique = tuple(dict.fromkeys(r for r in roots))
    return Tree(root, unique, config, config_stamp)


def _import_root(path: Path, module: str) -> Path:
    """The sys.path folder ``module`` was imported from, or else the top of its package."""
    parts = module.split(".") if module and module != "__main__" else []
    if parts:
        chain = parts if path.name == "__init__.py" else parts[:-1]
        matches = path.name == "__init__.py" or path.stem == parts[-1]
        folder = path.parent
        for name in reversed(chain):
            if folder.name != name:
                matches = False
                break
            folder = folder.parent
        if matches:
            return folder
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        folder = folder.parent
    return folder


def _project_root(import_root: Path) -> Path:
    for folder in (import_root, *import_root.parents):
        if any((folder / marker).is_file() for marker in PROJECT_MARKERS):
            return folder
    return import_root


def _config(root: Path) -> tuple[Config, tuple[Optional[str], Stamp]]:
    """The pvcheck configuration of the project at ``root`` (defaults when it has none)."""
    found = find_config(root)
    if found is None or found.parent.resolve() != root:
        return Config(), (None, None)
    current = (str(found), stamp(found))
    cached = _CONFIGS.get(root)
    if cached is not None and cached[0] == current:
        return cached[1], current
    config = load_config(found)
    _CONFIGS[root] = (current, config)
    return config, current


def _module_file(module: str) -> Optional[Path]:
    loaded = sys.modules.get(module)
    filename = getattr(loaded, "__file__", None) if loaded is not None else None
    if filename and filename.endswith(".py"):
        return Path(filename).resolve()
    relative = Path(*module.split("."))
    for entry in sys.path:
        folder = Path(entry or os.getcwd())
        for candidate in (folder / relative.with_suffix(".py"), folder / relative / "__init__.py"):
            if candidate.is_file():
                return candidate.resolve()
    return None


def _relative(folder: Path, root: Path) -> str:
    return folder.relative_to(root).as_posix() or "."


__all__ = ["CodeVersionError", "FunctionPrint", "Location", "clear_cache", "code_version", "code_version_at",
           "describe", "fingerprint", "locate_function", "unwrap"]
