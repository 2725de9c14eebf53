"""Pipeline frameworks a tree imports that no enabled plug-in reads (diagnostic PV020).

Without this, a Luigi or Hamilton project -- or a Kedro one with ``frameworks =
["zenml"]`` in the configuration -- scans to a silent "0 pipeline(s)", which reads as
"nothing to version". A byte-level test first (is the package name in the file at all?),
then one regular expression for the import lines: no parsing, so it costs next to
nothing on files that mention none of these names.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping, Optional

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
_NEEDLES = tuple(sorted({root.split(".")[0].encode() for root in KNOWN}))
# `import luigi`, `import luigi.contrib as c`, `from luigi import Task`, `from ray import workflow`
_IMPORT = re.compile(
    rb"^[ \t]*(?:import[ \t]+([A-Za-z_][\w.]*)|from[ \t]+([A-Za-z_][\w.]*)[ \t]+import[ \t]+\(?[ \t]*([\w, \t]*))",
    re.MULTILINE)


def unread_frameworks(contents: Mapping[str, Optional[bytes]], enabled: Iterable[str]) -> list[Diagnostic]:
    """One PV020 warning per known framework that some file imports and no enabled
    plug-in reads: where it is first imported, and in how many files."""
    active = set(enabled)
    found: dict[str, list] = {}  # display name -> [first path, its line, number of files, plug-in names]
    for path in sorted(contents):
        data = contents[path]
        if data is None or not any(needle in data for needle in _NEEDLES):
            continue
        seen_here: set[str] = set()
        for match in _IMPORT.finditer(data):
            root = _root(match)
            if root is None:
                continue
            name, readers = KNOWN[root]
            if name in seen_here or active & set(readers):
                continue
            seen_here.add(name)
            if name in found:
                found[name][2] += 1
            else:
                found[name] = [path, data.count(b"\n", 0, match.start()) + 1, 1, readers]
    diagnostics = []
    for name, (path, line, files, readers) in sorted(found.items()):
        others = f" (and in {files - 1} more file(s))" if files > 1 else ""
        hint = (f"enable the '{readers[0]}' framework in the pvcheck configuration ('frameworks')" if readers
                else "pvcheck has no plug-in for it: these pipelines are not analyzed or versioned")
        diagnostics.append(Diagnostic("PV020", Severity.WARNING, f"{name} is imported here{others}, but no enabled "
                                      f"pvcheck framework plug-in reads {name} pipelines", path, line, hint))
    return diagnostics


def _root(match: re.Match[bytes]) -> Optional[str]:
    """The :data:`KNOWN` key an import line brings in, if any."""
    imported, source, names = match.group(1), match.group(2), match.group(3)
    dotted = (imported or source or b"").decode("ascii", "replace")
    if source is not None and dotted == "ray" and re.search(rb"\bworkflow\b", names or b""):
        return "ray.workflow"
    for root in KNOWN:
        if dotted == root or dotted.startswith(root + "."):
            return root
    return None
