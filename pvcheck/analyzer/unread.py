"""Pipeline frameworks a tree imports that no enabled plug-in reads (diagnostic PV025).

Without this, a Luigi or Hamilton project -- or a Kedro one with ``frameworks =
["zenml"]`` in the configuration -- scans to a silent "0 pipeline(s)", which reads as
"nothing to version". A byte-level test first (is the package name in the file at all?),
then one regular expression for the import lines: no parsing, so it costs next to
nothing on files that mention none of these names.
"""

from __future__ import annotations

import re
from typing import Iterable, Iterator, Mapping, Optional

from pvcheck.diagnostics import FRAMEWORK_NOT_READ
from pvcheck.model import Diagnostic, Severity

#: import root -> (display name, plug-in names that read it; empty: none ships with pvcheck)
KNOWN: dict[str, tuple[str, tuple[str, ...]]] = {
    "luigi": ("Luigi", ()),
    "hamilton": ("Hamilton", ()),
    "ray.workflow": ("Ray Workflows", ()),
    "hera": ("Argo Workflows (hera)", ()),
    "mage_ai": ("Mage", ()),
    "sematic": ("Sematic", ()),
    "flytekit": ("Flyte", ("flyte", "flytekit")),
    "flyte": ("Flyte", ("flyte", "flytekit")),
    "metaflow": ("Metaflow", ("metaflow",)),
    "kedro": ("Kedro", ("kedro",)),
    "zenml": ("ZenML", ("zenml",)),
    "prefect": ("Prefect", ("prefect",)),
    "airflow": ("Airflow", ("airflow",)),
    "dagster": ("Dagster", ("dagster",)),
    "kfp": ("Kubeflow Pipelines", ("kfp",)),
}


def _pattern(roots: list[str]) -> re.Pattern[bytes]:
    """Import lines of these roots: ``import luigi``, ``import luigi.contrib as c``,
    ``from luigi import Task``, ``from ray import workflow`` (``ray`` alone is not Ray
    Workflows). One pass of one regular expression per file, in C."""
    plain = sorted({r.split(".")[0] for r in roots}, key=lambda r: (-len(r), r))
    names = b"|".join(re.escape(r.encode()) for r in plain)
    return re.compile(rb"[ \t]*(?:import|from)[ \t]+(" + names + rb")(?![\w])(\.[\w.]*)?([^\n]*)")


def unread_frameworks(contents: Mapping[str, Optional[bytes]], enabled: Iterable[str]) -> list[Diagnostic]:
    """One PV025 warning per known framework that some file imports and no enabled
    plug-in reads: where it is first imported, and in how many files."""
    active = set(enabled)
    unread = [root for root, (_, readers) in KNOWN.items() if not active & set(readers)]
    if not unread:
        return []
    pattern = _pattern(unread)
    found: dict[str, list] = {}  # display name -> [first path, its line, number of files, plug-in names]
    for path in sorted(contents):
        data = contents[path]
        if data is None:
            continue
        seen_here: set[str] = set()
        for match, line in _import_lines(data, pattern):
            root = _root(match, unread)
            if root is None:
                continue
            name, readers = KNOWN[root]
            if name in seen_here:
                continue
            seen_here.add(name)
            if name in found:
                found[name][2] += 1
            else:
                found[name] = [path, line, 1, readers]
    diagnostics = []
    for name, (path, line, files, readers) in sorted(found.items()):
        others = f" (and in {files - 1} more file(s))" if files > 1 else ""
        hint = (f"enable the '{readers[0]}' framework in the pvcheck configuration ('frameworks')" if readers
                else "pvcheck has no plug-in for it: these pipelines are not analyzed or versioned")
        diagnostics.append(Diagnostic(FRAMEWORK_NOT_READ, Severity.WARNING, f"{name} is imported here{others}, but no enabled "
                                      f"pvcheck framework plug-in reads {name} pipelines", path, line, hint))
    return diagnostics


def _import_lines(data: bytes, pattern: re.Pattern[bytes]) -> Iterator[tuple[re.Match[bytes], int]]:
    """Matches of ``pattern`` on the lines holding the word ``import``, with their line
    numbers. Finding ``import`` is a C substring search; running the pattern over whole
    files costs several times more (it is tried at every line start)."""
    position = data.find(b"import")
    line_end = -1
    while position != -1:
        if position > line_end:  # not on the line just looked at
            start = data.rfind(b"\n", 0, position) + 1
            line_end = data.find(b"\n", position)
            if line_end == -1:
                line_end = len(data)
            match = pattern.match(data, start, line_end)
            if match is not None:
                yield match, data.count(b"\n", 0, start) + 1
        position = data.find(b"import", max(position + 6, line_end))
    return


def _root(match: re.Match[bytes], unread: list[str]) -> Optional[str]:
    """The :data:`KNOWN` key an import line brings in, if it is one of ``unread``."""
    head = match.group(1).decode("ascii")
    dotted = head + (match.group(2) or b"").decode("ascii", "replace")
    rest = match.group(3) or b""
    if head == "ray":
        is_workflow = dotted.startswith("ray.workflow") or (
            dotted == "ray" and rest.lstrip().startswith(b"import") and re.search(rb"\bworkflow\b", rest) is not None)
        return "ray.workflow" if is_workflow and "ray.workflow" in unread else None
    return head if head in unread else None
