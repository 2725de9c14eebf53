"""A finished unit's cache record: the state of everything it depended on, and its
encoded result.

Used by the scan's own process and by worker processes alike (workers store the
entries of the units they ran, so thousands of small cache files are written in
parallel with the analysis rather than after it). Nothing here imports libcst.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Callable, Optional

from pvcheck.analyzer.serialize import EncodingError, dumps, encode
from pvcheck.analyzer.sources import TreeState

UNCACHEABLE = "uncacheable"
#: The two kinds of unit (see :mod:`pvcheck.analyzer.units`), here where modules that must
#: not import libcst can use them too.
ATTACHMENTS = "attachments"
PIPELINES = "pipelines"
#: The key of a dependency on the whole attachment map (a framework walked all of it).
ALL_TARGETS = "*"


def digest(value: Any) -> str:
    """A short hash of JSON data (sorted keys, so equal data hashes equal)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.blake2b(text.encode("ascii"), digest_size=16).hexdigest()


def fill_states(deps: Any, tree: TreeState, attachment_digest: Callable[[str], str]) -> None:
    """Put in a unit's dependency record (names only, as the unit recorded them) the
    state of each dependency in ``tree``."""
    if deps.file_list is not None:
        deps.file_list = tree.file_list_state()
    deps.modules = tree.modules_states(deps.modules)
    deps.files = {path: tree.file_state(path) for path in deps.files}
    deps.attachments = {target: attachment_digest(target) for target in deps.attachments}
    deps.run_configs = [(referring, reference, tree.run_config_state(referring, reference))
                        for referring, reference, _ in deps.run_configs]


def cache_variant(payload: list[Any], diagnostics: list[Any], deps: Any,
                  cacheable: bool) -> tuple[Optional[dict[str, Any]], Optional[list[Any]]]:
    """(the cache variant of a unit, or None when it cannot be cached; its encoded payload,
    or None when that cannot be encoded)."""
    try:
        encoded = [encode(item) for item in payload]
        encoded_diagnostics = [encode(d) for d in diagnostics]
    except EncodingError:
        return None, None
    if not cacheable or UNCACHEABLE in deps.attachments.values():
        return None, encoded
    return {"deps": deps.to_json(), "diagnostics": encoded_diagnostics, "payload": encoded}, encoded


def object_variant(payload: list[Any], diagnostics: list[Any], deps: Any, cacheable: bool) -> Optional[dict[str, Any]]:
    """The cache variant of a unit for a cache that keeps results as objects in this
    process (``AnalysisCache.holds_objects``), or None when it cannot be cached: the same
    record, with the payload and diagnostics as they are (frozen model objects). Encoding
    them only to decode them again cost dagster-open-platform's history walk 7 ms a commit,
    and giga-dagster's 100 MiB of memory."""
    if not cacheable or UNCACHEABLE in deps.attachments.values():
        return None
    return {"deps": deps.to_json(), "diagnostics": list(diagnostics), "payload": list(payload), "decoded": True}


def json_texts(encoded: list[Any]) -> list[str]:
    """Each encoded item as compact JSON text: a worker's results travel to the scan's
    process as text, which it joins into the scan's snapshot instead of encoding them again."""
    return [dumps(item) for item in encoded]
