"""Source roots found without configuration: where a project's packages are imported from.

Module names are derived relative to a source root, so a package under ``src/`` that is
scanned from ``.`` is named ``src.mypkg`` and ``import mypkg`` would look third-party: a
helper edited there would pass unseen. The build configuration already says where the
packages live; this module reads it (TOML only, nothing is run) and looks for the
layouts tools use by convention:

- ``[tool.setuptools.packages.find] where``, ``[tool.setuptools] package-dir``;
- Poetry ``packages = [{include = ..., from = ...}]``; Hatch ``[tool.hatch.build.targets.wheel] packages``;
- Dagster: ``[tool.dagster] module_name`` / ``working_directory``, ``[tool.dg.project] root_module``
  (the folder that holds the named package is the root);
- ``[tool.uv.workspace] members`` (globs): each member is detected in turn, with its own
  ``pyproject.toml``, or is a root itself;
- a ``src/`` folder that is not a package and holds packages.

The scanned root itself is always a root too. Roots are returned most specific first:
where roots overlap, a file is named after the deepest root holding it. Explicit
``roots`` in pvcheck's configuration replace all of this.

Not roots, but read with them: **sub-projects** of a collection (a folder with its own
``pyproject.toml``, ``setup.py``, ``setup.cfg`` or ``requirements.txt``, whose files import
its ``steps``/``utils`` absolutely). Making each one a root would give ten projects ten
modules named ``steps``; instead module names stay as these roots give them, and an
absolute import no root resolves is read from the importing file's own sub-project
(:mod:`pvcheck.analyzer.subprojects`). Imports a root resolves never change.
"""

from __future__ import annotations

import fnmatch
import re
import sys
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

from pvcheck.diagnostics import PYPROJECT_UNREADABLE
from pvcheck.model import Diagnostic, Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_MAX_MEMBERS = 200  # a workspace glob that matches more folders than this is not followed further


def detect_roots(root: Path, diagnostics: Optional[list[Diagnostic]] = None) -> tuple[str, ...]:
    """The source roots of the project at ``root``, relative to it, most specific first."""
    sink = diagnostics if diagnostics is not None else []
    found: list[str] = []
    _detect(root, "", found, sink, depth=0)
    found.append(".")
    return order_roots(found)


def order_roots(roots: Iterable[str]) -> tuple[str, ...]:
    """``roots`` without duplicates, deepest first (stable among equals): the most specific
    root names a file that several roots hold."""
    unique = list(dict.fromkeys(_normal(r) for r in roots))
    return tuple(sorted(unique, key=lambda r: -_depth(r)))


def _normal(relative: str) -> str:
    parts = [p for p in relative.replace("\\", "/").split("/") if p not in ("", ".")]
    return "/".join(parts) or "."


def _depth(relative: str) -> int:
    return 0 if relative == "." else relative.count("/") + 1


def _detect(root: Path, folder: str, found: list[str], sink: list[Diagnostic], depth: int) -> None:
    """Roots declared by the project in ``folder`` (relative to ``root``); ``folder`` itself
    is added when it is a workspace member that declares nothing more specific."""
    base = root / folder if folder else root
    document = _pyproject(base, folder, sink)
    declared: list[str] = []
    if document is not None:
        declared.extend(_declared(base, document))
    if (base / "src").is_dir() and not (base / "src" / "__init__.py").is_file() and _holds_packages(base / "src"):
        declared.append("src")
    for relative in declared:
        joined = _normal(f"{folder}/{relative}" if folder else relative)
        if _inside(root, root / joined) and (root / joined).is_dir():
            found.append(joined)
    if folder and not declared:
        found.append(folder)
    if document is not None and depth < 2:
        for member in _members(root, base, folder, document):
            _detect(root, member, found, sink, depth + 1)


def _pyproject(base: Path, folder: str, sink: list[Diagnostic]) -> Optional[dict[str, Any]]:
    path = base / "pyproject.toml"
    if not path.is_file():
        return None
    shown = f"{folder}/pyproject.toml" if folder else "pyproject.toml"
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        found = re.search(r"at line (\d+)", str(exc))  # tomllib names the line only in its message
        line = getattr(exc, "lineno", 0) or (int(found.group(1)) if found else 0)
        sink.append(Diagnostic(PYPROJECT_UNREADABLE, Severity.WARNING, f"cannot read {shown} to detect source roots "
                               f"({type(exc).__name__})", shown, line,
                               hint="fix the file, or set 'roots' in the pvcheck configuration"))
        return None


def _table(document: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _declared(base: Path, document: dict[str, Any]) -> Iterator[str]:
    """Folders the build configuration names as holding the packages (relative to ``base``)."""
    yield from _strings(_table(document, "tool", "setuptools", "packages", "find", "where"))
    package_dir = _table(document, "tool", "setuptools", "package-dir")
    if isinstance(package_dir, dict):
        for package, where in package_dir.items():
            if not isinstance(where, str):
                continue
            if package == "":
                yield where  # {"" = "src"}: every package lives under src/
            elif _normal(where).rsplit("/", 1)[-1] == package.rsplit(".", 1)[-1] and "/" in _normal(where):
                yield _normal(where).rsplit("/", 1)[0]  # {"mypkg" = "lib/mypkg"}: lib/ holds it
    poetry = _table(document, "tool", "poetry", "packages")
    if isinstance(poetry, list):
        for entry in poetry:
            if isinstance(entry, dict) and isinstance(entry.get("from"), str):
                yield entry["from"]
    for package_path in _strings(_table(document, "tool", "hatch", "build", "targets", "wheel", "packages")):
        normal = _normal(package_path)
        if "/" in normal:
            yield normal.rsplit("/", 1)[0]  # "src/mypkg" -> src/
    yield from _strings(_table(document, "tool", "dagster", "working_directory"))
    for module in (*_strings(_table(document, "tool", "dagster", "module_name")),
                   *_strings(_table(document, "tool", "dg", "project", "root_module")),
                   *_strings(_table(document, "tool", "dg", "project", "code_location_target_module"))):
        holder = _holder(base, module)
        if holder is not None:
            yield holder


def _holder(base: Path, module: str) -> Optional[str]:
    """The folder (``.`` or ``src``) holding the top package of a dotted module name."""
    top = module.strip().split(".")[0]
    if not top.isidentifier():
        return None
    for candidate in (".", "src"):
        folder = base / candidate
        if (folder / top / "__init__.py").is_file() or (folder / f"{top}.py").is_file() or (folder / top).is_dir():
            return candidate
    return None


def _holds_packages(folder: Path) -> bool:
    try:
        return any(entry.is_dir() and (entry / "__init__.py").is_file() for entry in folder.iterdir())
    except OSError:
        return False


def _members(root: Path, base: Path, folder: str, document: dict[str, Any]) -> list[str]:
    """The workspace members of ``[tool.uv.workspace]`` (globs, minus ``exclude``)."""
    workspace = _table(document, "tool", "uv", "workspace")
    if not isinstance(workspace, dict):
        return []
    excluded = _strings(workspace.get("exclude"))
    members: list[str] = []
    for pattern in _strings(workspace.get("members")):
        for match in sorted(base.glob(pattern)) if pattern not in ("", ".") else [base]:
            if len(members) >= _MAX_MEMBERS:
                break
            if not match.is_dir() or not _inside(root, match):
                continue
            relative = match.relative_to(base).as_posix()
            if relative == "." or any(fnmatch.fnmatchcase(relative, e) for e in excluded):
                continue
            members.append(_normal(f"{folder}/{relative}" if folder else relative))
    return members


def _inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except (OSError, ValueError, RuntimeError):
        return False
