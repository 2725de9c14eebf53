"""Broken files no pipeline reaches: their PV001/PV002/PV003 become warnings.

A file that does not parse, is not text, or is over ``max_file_size`` cannot be
analyzed. When a pipeline may run it, that is an error (``check`` and ``lock`` stop);
a scratch notebook or a one-off script nobody imports cannot change what any pipeline
runs, so it only gets a warning.

"Reached" errs on the side of reached, since a missed error is the worse mistake. A
file is reached when it is the module of a pipeline, a step (definition or call) or a
helper; when it is imported, directly or through packages' ``__init__``, by a reached
file (a reached module's own packages are imported too); when it sits in a package a reached file imports from; when it names a pipeline
or step decorator (it may define a pipeline the analyzer could not see); and every
broken file is reached when reached code imports dynamically (``import_module``,
``__import__``) or when a reached file's own imports cannot be read.

Imports are found with a line-based look at bytes the scan already read, as
:mod:`pvcheck.analyzer.orphans` does: nothing is parsed, and nothing runs at all unless
the tree has a broken file.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Iterable, Mapping, Optional

from pvcheck.analyzer.discovery import SourceFile
from pvcheck.analyzer.subprojects import rebase
from pvcheck.diagnostics import NOT_TEXT, SYNTAX_ERROR, TOO_LARGE
from pvcheck.model import Diagnostic, Pipeline, Severity

#: The diagnostics of a file that cannot be analyzed at all.
UNANALYZABLE = frozenset({SYNTAX_ERROR, NOT_TEXT, TOO_LARGE})

HINT = "; it fails check and lock once a pipeline imports it"
REASON = ("not reached by any pipeline: no pipeline, step or helper module imports it, "
          "and it declares no pipeline or step")

# ``from .x import (a, b)`` over several lines, ``import a.b as c, d``; an over-reading
# (a match inside a string) only makes more files reached
_FROM = re.compile(rb"^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]*(\([^)]*\)|(?:[^\n\\]|\\\r?\n)*)", re.MULTILINE)
_IMPORT = re.compile(rb"^[ \t]*import[ \t]+((?:[^\n\\#;]|\\\r?\n)*)", re.MULTILINE)
_DYNAMIC = re.compile(rb"\bimport_module\b|\b__import__\b|\bimportlib\b|\brunpy\b")
# a pipeline or step decorator of any framework, however imported: ``@pipeline``,
# ``@dsl.pipeline(...)``, ``@task``, ``@flow``, ``@op``, ``@asset``, ``@workflow`` ...
_DECORATOR = re.compile(
    rb"^[ \t]*@[ \t]*(?:[\w]+[ \t]*\.[ \t]*)*(?:pipeline|step|task|flow|workflow|dynamic|op|asset|multi_asset|"
    rb"graph_asset|graph|job|component|container_component|dag|map_task)\b", re.MULTILINE)


def downgrade_unreached(diagnostics: list[Diagnostic], pipelines: Iterable[Pipeline], files: list[SourceFile],
                        contents: Mapping[str, Optional[bytes]], orphans: Mapping[str, str]) -> list[Diagnostic]:
    """``diagnostics`` with each PV001/PV002/PV003 error of an unreached file made a warning."""
    broken = {d.path for d in diagnostics if d.code in UNANALYZABLE and d.severity == Severity.ERROR}
    if not broken:
        return diagnostics
    unreached = broken - _reached(pipelines, files, contents, orphans, broken)
    if not unreached:
        return diagnostics
    return [replace(d, severity=Severity.WARNING, message=f"{d.message}; {REASON}",
                    hint=f"{d.hint}{HINT}" if d.hint else d.hint)
            if d.path in unreached and d.code in UNANALYZABLE and d.severity == Severity.ERROR else d
            for d in diagnostics]


def restore_reached(diagnostics: Iterable[Diagnostic], base: Iterable[Pipeline]) -> list[Diagnostic]:
    """The warnings :func:`downgrade_unreached` made, back to errors for the files that a
    pipeline of the base side of a comparison (the lock, a base revision) reached: a file
    broken so badly that its pipeline vanished with its decorator is still that pipeline's."""
    paths = _seeds(base)
    suffix = f"; {REASON}"
    return [replace(d, severity=Severity.ERROR,
                    message=d.message.removesuffix(suffix) + "; a pipeline of the base reached it",
                    hint=d.hint.removesuffix(HINT))
            if d.path in paths and d.code in UNANALYZABLE and d.severity == Severity.WARNING
            and d.message.endswith(suffix) else d
            for d in diagnostics]


def _seeds(pipelines: Iterable[Pipeline]) -> set[str]:
    """The files of every pipeline, step (definition and call) and helper."""
    seeds = set()
    for pipeline in pipelines:
        seeds.add(pipeline.path)
        seeds.update(h.path for h in pipeline.helpers)
        for step in pipeline.steps:
            seeds.update((step.path, step.call_path))
            seeds.update(h.path for h in step.helpers)
    return seeds


def _reached(pipelines: Iterable[Pipeline], files: list[SourceFile], contents: Mapping[str, Optional[bytes]],
             orphans: Mapping[str, str], broken: set[str]) -> set[str]:
    """The paths of every file a pipeline may run (all of ``broken`` when in doubt)."""
    by_path = {f.path: f for f in files}
    by_module: dict[str, SourceFile] = {}
    for file in files:
        by_module.setdefault(file.module, file)
    seeds = _seeds(pipelines)
    for path in broken:
        if _declares_pipeline(by_path.get(path), contents.get(path)):
            seeds.add(path)
    # the folders above an orphan package (pvcheck.analyzer.orphans) are not packages
    folders = {".".join(p.split(".")[:cut]) for p in orphans.values() for cut in range(1, p.count(".") + 2)}
    reached: set[str] = set()
    imported: set[str] = set()  # module names reached code imports (and their packages)
    queue = [p for p in seeds if p in by_path]
    while queue:
        path = queue.pop()
        if path in reached:
            continue
        reached.add(path)
        data = contents.get(path)
        if data is None or _DYNAMIC.search(data):
            return set(broken)  # its imports are unknown: every broken file may be one of them
        file = by_path[path]
        parents = file.module.split(".")[:-1]  # importing a module runs its packages' __init__ first
        packages = {".".join(parents[:cut]) for cut in range(1, len(parents) + 1)}
        for name in (packages | _imports(data, file, orphans, by_module)) - folders:
            imported.add(name)
            found = by_module.get(name)
            if found is not None and found.path not in reached:
                queue.append(found.path)
    # a file in a package reached code imports from (plugins found by walking a package)
    for path in broken - reached:
        file = by_path.get(path)
        if file is not None and file.package and file.package in imported and not file.is_package:
            reached.add(path)
    return reached


def _declares_pipeline(file: Optional[SourceFile], data: Optional[bytes]) -> bool:
    """Whether the file names a pipeline or step decorator (unknown bytes: yes)."""
    if file is None:
        return True
    if data is None:  # over max_file_size or binary: the scan did not keep its bytes
        try:
            data = file.absolute.read_bytes()
        except OSError:
            return True
    return _DECORATOR.search(data) is not None


def _imports(data: bytes, file: SourceFile, orphans: Mapping[str, str],
             by_module: Mapping[str, SourceFile]) -> set[str]:
    """Every module name an import statement of ``data`` makes Python load: each package
    on the way, and ``from x import y``'s ``x.y`` when that is a module (or all of ``x``'s
    submodules for ``*``)."""
    names: set[str] = set()
    for match in _FROM.finditer(data):
        base = _absolute(match.group(1).decode("ascii", "replace"), file)
        if base is None:
            continue
        targets = _names(match.group(2))
        names.add(base)
        if "*" in targets:
            names.update(m for m in by_module if m.startswith(base + "."))
        names.update(f"{base}.{t}" if base else t for t in targets if t != "*")
    for match in _IMPORT.finditer(data):
        names.update(_names(match.group(1)))
    loaded: set[str] = set()
    for name in names:
        parts = name.split(".")
        first = 1
        rebased = rebase(file.subprojects, name)
        if rebased != name:  # the file's own project holds it: its folders are no packages
            parts, first = rebased.split("."), rebased.count(".") - name.count(".") + 1
        elif parts[0] in orphans and parts[0] not in by_module:
            # the folders above an orphan package are not packages: importing it loads none of them
            prefix = orphans[parts[0]].split(".")
            parts, first = [*prefix, *parts], len(prefix) + 1
        loaded.update(".".join(parts[:cut]) for cut in range(first, len(parts) + 1))
    return loaded


def _names(text: bytes) -> list[str]:
    """``a.b as c, d`` -> ``["a.b", "d"]``."""
    cleaned = re.sub(rb"#[^\n]*|\\\r?\n|[()]", b" ", text).decode("utf-8", "replace")
    found = []
    for part in cleaned.split(","):
        words = part.split()
        if words and (words[0] == "*" or re.fullmatch(r"[\w.]+", words[0])):
            found.append(words[0])
    return found


def _absolute(module: str, file: SourceFile) -> Optional[str]:
    """A ``from`` statement's module as an absolute name (None: above the top package)."""
    dots = len(module) - len(module.lstrip("."))
    if not dots:
        return module
    package = file.package.split(".") if file.package else []
    if dots - 1 > len(package):
        return None
    kept = package[: len(package) - (dots - 1)]
    rest = module[dots:]
    return ".".join([*kept, rest] if rest else kept)
