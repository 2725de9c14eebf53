"""Collections of independent projects, scanned from the folder that holds them.

A repository such as ``zenml-projects`` holds many projects side by side, each run from
its own folder and importing its own ``steps``, ``pipelines`` and ``utils`` absolutely:
``llm-complete-guide/pipelines/x.py`` does ``from steps import embed``, which Python finds
because ``llm-complete-guide/`` is the working folder. Scanned from the collection's
root, no source root holds ``steps``; making every project folder a root would not do
either, as ten projects would then define ten modules named ``steps``.

The rule (sound and local; module names do not change):

- a **sub-project** is a folder below the scanned root that holds a project file
  (:data:`~pvcheck.analyzer.discovery.PROJECT_FILES`: ``pyproject.toml``, ``setup.py``,
  ``setup.cfg``, ``requirements.txt``) and is not itself a source root;
- an absolute import in a file of a sub-project whose first name no source root
  provides (no module of the tree is called that, or starts so) but which the
  sub-project folder holds (a package, a namespace folder or a ``.py`` file directly
  in it) is read as that module of the sub-project: ``steps.embed`` in
  ``llm-complete-guide`` is ``llm-complete-guide.steps.embed``, the name the file
  already has. The nearest sub-project holding the name wins (nested projects);
- a package no root holds that lies in *another* sub-project (``gradio/`` of one
  project, while another imports the installed ``gradio``) is not on this project's
  path: its import is third-party there, not that folder (no PV020).

An import that a source root resolves is never re-read, so a tree that scans fine
today reads every import as before, and its module names, fingerprints and pipeline
identities are unchanged. Each file carries what applies to it
(``SourceFile.subprojects``): the module reading its imports needs no other context,
and the file's state in caches and history changes when that does.
"""

from __future__ import annotations

import functools
import re
from dataclasses import replace
from typing import Iterable, Mapping, Optional

from pvcheck.analyzer.discovery import SourceFile, module_name
from pvcheck.analyzer.orphans import orphan_packages, root_folder


def with_subprojects(files: list[SourceFile], projects: Iterable[str],
                     contents: Optional[Mapping[str, Optional[bytes]]] = None) -> list[SourceFile]:
    """``files``, those inside a sub-project (one of the folders ``projects`` holding a
    project file) carrying the names their absolute imports find there. ``contents`` (the
    files' bytes) narrow the packages of other projects a file is kept from to those it
    imports: adding a package to one project then changes no other project's files."""
    folders = sorted(p for p in set(projects) if p not in (".", ""))
    if not folders or not files:
        return files
    tops = {f.module.partition(".")[0] for f in files}
    wanted = set(folders)
    held: dict[str, list[SourceFile]] = {}  # one pass over the files, not one per folder
    for file in files:
        for folder in _ancestors(file.path):
            if folder in wanted:
                held.setdefault(folder, []).append(file)
    found: dict[str, tuple[str, tuple[str, ...]]] = {}  # folder -> (module prefix, names)
    for folder, inside in held.items():
        described = _describe(folder, inside, tops)
        if described is not None:
            found[folder] = described
    if not found:
        return files
    sibling = _orphans_by_project(files, found)
    result = []
    for file in files:
        head = file.module.partition(".")[0]
        chain = []
        mine = set()
        for folder in _ancestors(file.path):  # nearest first
            entry = found.get(folder)
            if entry is None or not file.module.startswith(entry[0] + "."):
                continue
            mine.add(folder)
            names = tuple(n for n in entry[1] if n != head)  # the file's own names stay its own
            if names:
                chain.append((entry[0], names))
        if mine and sibling:
            # a package no root holds that lies in another project is not on this one's path:
            # read under this project's prefix, where it is not, it is third-party (as Python says)
            nearest = next(f for f in _ancestors(file.path) if f in mine)
            taken = {n for _, names in chain for n in names}
            imported = _import_heads(contents.get(file.path)) if contents is not None else None
            foreign = sorted(n for n, where in sibling.items() if where not in mine and n not in taken and n != head
                             and (imported is None or n in imported))
            if foreign:
                chain.append((found[nearest][0], tuple(foreign)))
        result.append(replace(file, subprojects=tuple(chain)) if chain else file)
    return result


_IMPORT_LINE = re.compile(rb"^[ \t]*(?:from[ \t]+([A-Za-z_]\w*)|import[ \t]+([^\n#;]+))", re.MULTILINE)


def _import_heads(data: Optional[bytes]) -> Optional[frozenset[str]]:
    """The first names a file's absolute imports name (None: unknown, every name counts).
    A line-based look; a name it misses is still followed as before (PV020), never lost."""
    if data is None:
        return None
    return _heads(data)


@functools.lru_cache(maxsize=4096)
def _heads(data: bytes) -> frozenset[str]:
    """Kept by the bytes: every commit of a history walk asks again for every file."""
    heads: set[str] = set()
    for match in _IMPORT_LINE.finditer(data):
        if match.group(1):
            heads.add(match.group(1).decode("ascii"))
            continue
        for part in match.group(2).decode("utf-8", "replace").replace("(", " ").split(","):
            words = part.split()
            if words:
                heads.add(words[0].split(".")[0])
    return frozenset(heads)


def _orphans_by_project(files: list[SourceFile], found: dict[str, tuple[str, tuple[str, ...]]]) -> dict[str, str]:
    """Packages no root holds (pvcheck.analyzer.orphans) that lie inside a sub-project: name
    -> the nearest sub-project folder holding it."""
    by_module: dict[str, SourceFile] = {}
    for file in files:
        by_module.setdefault(file.module, file)
    located = {}
    for name, prefix in orphan_packages(by_module).items():
        folder = root_folder(prefix, by_module, name)
        holder = next((f for f in (folder, *_ancestors(folder + "/x")) if f in found), None)
        if holder is not None:
            located[name] = holder
    return located


def _describe(folder: str, files: list[SourceFile], tops: set[str]) -> tuple[str, tuple[str, ...]] | None:
    """The module prefix of ``folder``'s ``files`` and the top-level names it holds that no
    source root provides; None when it is a source root or provides nothing new."""
    start = folder + "/"
    prefix = None
    names: set[str] = set()
    for file in files:
        rest = file.path[len(start):]
        below, _ = module_name(rest)
        if file.module == below:
            return None  # the folder is a source root: its names are top-level already
        if not file.module.endswith("." + below):
            continue  # a deeper source root names this file
        here = file.module[: -len(below) - 1]
        if prefix is None:
            prefix = here
        elif here != prefix:
            continue
        first = rest.split("/", 1)[0]
        name = first[:-3] if first.endswith(".py") and "/" not in rest else first
        if name != "__init__" and name.isidentifier() and name not in tops:
            names.add(name)
    if prefix is None or not names:
        return None
    return prefix, tuple(sorted(names))


def _ancestors(path: str) -> Iterable[str]:
    """``a/b/c.py`` -> ``a/b``, ``a``."""
    parts = path.split("/")[:-1]
    for cut in range(len(parts), 0, -1):
        yield "/".join(parts[:cut])


def rebase(subprojects: tuple[tuple[str, tuple[str, ...]], ...], dotted: str) -> str:
    """An absolute dotted name imported in a file with these ``subprojects``, as the module
    name of the tree it is (``steps.embed`` -> ``llm-complete-guide.steps.embed``)."""
    if not subprojects or not dotted:
        return dotted
    head = dotted.partition(".")[0]
    for prefix, names in subprojects:
        if head in names:
            return f"{prefix}.{dotted}"
    return dotted
