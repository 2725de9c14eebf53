"""Packages of the tree that no source root holds, and the imports that name them.

With ``src/mypkg/`` scanned from ``.`` (a layout the root detection did not recognise),
the package is module ``src.mypkg`` while the code imports ``mypkg``: the import would
look third-party and a helper edited there would pass as ``run``. Such a package sits in
a folder that is not itself a package; this module finds those ("orphans"), lets the
index follow an import of one to the files that are there (so the helper is still
fingerprinted), and reports each such import (PV020) with the root to add.
"""

from __future__ import annotations

import functools
import re
from typing import Iterable, Mapping, Optional

from pvcheck.analyzer.discovery import SourceFile
from pvcheck.diagnostics import PACKAGE_WITHOUT_ROOT
from pvcheck.model import Diagnostic, Severity


def orphan_packages(by_module: Mapping[str, SourceFile]) -> dict[str, str]:
    """Top-level package name -> the module prefix it lies under (``mypkg`` -> ``src``), for
    packages whose parent folder is not a package and whose name no root provides. When
    several folders hold a package of that name, the shallowest (then first by name) is
    taken: the choice is reported, never silent."""
    found: dict[str, str] = {}
    for name in sorted(by_module, key=lambda m: (m.count("."), m)):
        if not by_module[name].is_package or "." not in name:
            continue
        prefix, _, package = name.rpartition(".")
        if prefix in by_module or package in by_module or package in found:
            continue
        found[package] = prefix
    return found


def root_folder(prefix: str, by_module: Mapping[str, SourceFile], package: str) -> str:
    """The folder (relative to the scanned root) that a source root must name for
    ``package`` to import: the folder holding ``<prefix>.<package>``'s ``__init__.py``."""
    path = by_module[f"{prefix}.{package}"].path  # e.g. "src/mypkg/__init__.py"
    return path.rsplit("/", 2)[0]


def orphan_imports(files: Iterable[SourceFile], contents: Mapping[str, Optional[bytes]],
                   by_module: Mapping[str, SourceFile], orphans: Mapping[str, str]) -> list[Diagnostic]:
    """PV020 for every ``import`` / ``from`` statement naming one of the ``orphans``.

    A line-based look at bytes already read, only when the tree has orphans (most trees
    have none, and then nothing is scanned); relative imports are not concerned.
    """
    if not orphans:
        return []
    names = "|".join(re.escape(n) for n in sorted(orphans, key=lambda n: (-len(n), n)))
    pattern = re.compile(
        rb"^[ \t]*(?:from[ \t]+(" + names.encode() + rb")(?=[ \t.])|import[ \t]+(" + names.encode() + rb")(?=[ \t.,;\r\n]|$))",
        re.MULTILINE,
    )
    diagnostics = []
    for file in files:
        data = contents.get(file.path)
        if not data:
            continue
        for package, line in _imports_of(pattern, data):
            if any(package in names for _, names in file.subprojects):
                continue  # the file's own project holds it (pvcheck.analyzer.subprojects)
            folder = root_folder(orphans[package], by_module, package)
            diagnostics.append(Diagnostic(
                PACKAGE_WITHOUT_ROOT, Severity.WARNING,
                f"import of '{package}', a package of the scanned tree ({folder}/{package}/) that no source root "
                f"holds; pvcheck followed it there, but names its modules '{orphans[package]}.{package}...'",
                file.path, line, hint=f"add '{folder}' to roots in [tool.pvcheck]"))
    return diagnostics


@functools.lru_cache(maxsize=4096)
def _imports_of(pattern: "re.Pattern[bytes]", data: bytes) -> tuple[tuple[str, int], ...]:
    """(package, line) of each import ``pattern`` finds in ``data``; kept by the bytes:
    every commit of a history walk looks at every file again (20 ms a commit on a
    collection of 460 files)."""
    return tuple(((match.group(1) or match.group(2)).decode(), data.count(b"\n", 0, match.start()) + 1)
                 for match in pattern.finditer(data))
