"""Kedro's configuration as pvcheck reads it: parameters and the data catalog.

Kedro's ``OmegaConfigLoader`` reads ``conf/<env>/`` files matching ``parameters*`` and
``catalog*`` (also in sub-folders), the ``base`` environment first and the default run
environment ``local`` over it, a top-level key of ``local`` replacing the one of
``base``. pvcheck does the same with YAML files only (``yaml.safe_load`` semantics) and
never resolves ``${...}`` interpolations: they are compared as written.

What a change means follows from what the value does:

* a parameter value is input data for a node: another *run*;
* a catalog entry's path-like keys (where the data lives, its credentials, whether it is
  versioned) are another *run* of the same code;
* every other catalog key (``type``, ``load_args``, ``save_args``, ``fs_args`` ...)
  changes how data is read or written, so it is part of the computation: a *version*.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from pvcheck.plugin import ORIGIN_RUN_CONFIG, ConfigSource

if TYPE_CHECKING:
    from pvcheck.plugin import AnalysisContext

#: Environments read, in order (later ones win), as ``kedro run`` does by default.
ENVIRONMENTS = ("base", "local")
#: Catalog keys whose change is another run: where the data is, not what it is.
RUN_KEYS = frozenset({"filepath", "path", "credentials", "versioned", "metadata"})
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass
class KedroConf:
    """The merged parameters and catalog of one Kedro project."""

    parameters: dict[str, Any] = field(default_factory=dict)
    parameter_lines: dict[str, tuple[str, int]] = field(default_factory=dict)  # top-level key -> where
    catalog: dict[str, Any] = field(default_factory=dict)
    catalog_lines: dict[str, tuple[str, int]] = field(default_factory=dict)
    found: bool = False  # a conf folder exists

    def parameter(self, name: str) -> tuple[bool, Any]:
        """(known, value) of ``params:a.b`` style names (``a.b`` walks nested mappings)."""
        value: Any = self.parameters
        for part in name.split("."):
            if not isinstance(value, dict) or part not in value:
                return False, None
            value = value[part]
        return True, value

    def dataset(self, name: str) -> Optional[tuple[str, dict[str, Any]]]:
        """The catalog entry a dataset name uses: (entry key, entry), exact or by a dataset
        factory pattern (``"{name}_csv"``), the most specific pattern first as Kedro ranks
        them; None for a dataset the catalog does not declare (a ``MemoryDataset``)."""
        entry = self.catalog.get(name)
        if isinstance(entry, dict):
            return name, entry
        matches = [key for key in self.catalog if "{" in key and _matches(key, name)]
        if not matches:
            return None
        best = min(matches, key=_specificity)
        found = self.catalog[best]
        return (best, found) if isinstance(found, dict) else None


def load_conf(ctx: "AnalysisContext", project_dir: str) -> KedroConf:
    """The configuration of the Kedro project in ``project_dir`` (relative to the root)."""
    conf = KedroConf()
    prefix = f"{project_dir}/" if project_dir else ""
    for env in ENVIRONMENTS:
        folder = f"{prefix}conf/{env}"
        for kind, target, lines in (("parameters", conf.parameters, conf.parameter_lines),
                                    ("catalog", conf.catalog, conf.catalog_lines)):
            for path in _config_files(ctx, folder, kind):
                conf.found = True
                loaded = ctx.project_yaml(path)
                if loaded is None:
                    continue
                for key, value in loaded.pipeline.items():
                    if kind == "catalog" and key.startswith("_"):
                        continue  # YAML anchors for reuse, not datasets (Kedro skips them too)
                    target[key] = value
                    lines[key] = ConfigSource(loaded.path, loaded.lines.get(key, 0), ORIGIN_RUN_CONFIG)
    return conf


def _config_files(ctx: "AnalysisContext", folder: str, kind: str) -> list[str]:
    """The files ``OmegaConfigLoader`` reads for ``kind`` in one environment folder:
    ``kind*``, ``kind*/**`` and ``**/kind*``, as YAML."""
    found: set[str] = set()
    for suffix in ("yml", "yaml"):
        found.update(ctx.project_files(f"{folder}/**/{kind}*.{suffix}"))
        found.update(ctx.project_files(f"{folder}/{kind}*/**/*.{suffix}"))
    return sorted(found)


def split_entry(entry: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(keys whose change is a run, keys whose change is a version) of a catalog entry."""
    run = {k: v for k, v in entry.items() if k in RUN_KEYS}
    version = {k: v for k, v in entry.items() if k not in RUN_KEYS}
    return run, version


def resolve_placeholders(entry: Any, pattern: str, name: str) -> Any:
    """A factory entry with ``{placeholder}`` values filled in from the dataset name."""
    values = _parse(pattern, name) or {}

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), value)
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    return fill(entry)


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    pieces = []
    last = 0
    for match in _PLACEHOLDER.finditer(pattern):
        pieces.append(re.escape(pattern[last:match.start()]))
        pieces.append(f"(?P<{_group(match.group(1))}>.+?)" if _group(match.group(1)) else "(?:.+?)")
        last = match.end()
    pieces.append(re.escape(pattern[last:]))
    return re.compile("".join(pieces) + r"\Z")


def _group(name: str) -> str:
    return name if name.isidentifier() else ""


def _matches(pattern: str, name: str) -> bool:
    return _regex(pattern).match(name) is not None


def _parse(pattern: str, name: str) -> Optional[dict[str, str]]:
    match = _regex(pattern).match(name)
    return {k: v for k, v in match.groupdict().items() if v is not None} if match else None


def _specificity(pattern: str) -> tuple[int, int, str]:
    """Kedro's ranking of factory patterns (``CatalogConfigResolver._sort_patterns``): more
    characters outside placeholders first, then more placeholders, then alphabetical."""
    outside = len(_PLACEHOLDER.sub("", pattern))
    return (-outside, -len(_PLACEHOLDER.findall(pattern)), pattern)
