"""YAML run configurations (ZenML's ``config_path=``, or assigned in pvcheck's config).

Loaded with PyYAML's ``SafeLoader`` only (what ``yaml.safe_load`` uses) -- a
``!!python/object`` tag is refused, not constructed -- and never from outside the
scanned root.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Optional

import yaml

from pvcheck.diagnostics import RUN_CONFIG_INVALID, RUN_CONFIG_OUTSIDE
from pvcheck.model import Severity

Diagnose = Callable[..., None]

#: Run configs hold settings; anything bigger is refused unread.
MAX_RUN_CONFIG_BYTES = 2_000_000
#: The most values a run config may stand for once YAML aliases are expanded.
MAX_RUN_CONFIG_VALUES = 100_000


@dataclass(frozen=True)
class RunConfig:
    """A loaded run config: pipeline-level keys, per-invocation step sections, and lines."""

    path: str  # relative to the root
    pipeline: dict[str, Any] = field(default_factory=dict)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)  # "key" or "steps.<id>.key" -> line


def load(root: Path, referring_path: str, reference: str, line: int, diagnose: Diagnose,
         split_steps: bool = True) -> Optional[RunConfig]:
    """Load ``reference`` relative to the file that names it, else relative to the root.
    ``split_steps=False`` keeps a top-level ``steps`` key as an ordinary one (a file that
    is not a ZenML run config)."""
    where = referring_path or reference
    root = root.resolve()
    candidates = []
    if referring_path:
        candidates.append((root / PurePosixPath(referring_path).parent / reference))
    candidates.append(root / reference)
    target: Optional[Path] = None
    for candidate in candidates:
        resolved = candidate.resolve()
        if not _inside(resolved, root):
            diagnose(RUN_CONFIG_OUTSIDE, Severity.ERROR, f"run config '{reference}' is outside the scanned root; not read",
                     where, line, hint="keep run configs inside the project")
            return None
        if resolved.is_file():
            target = resolved
            break
    if target is None:
        diagnose(RUN_CONFIG_INVALID, Severity.WARNING, f"run config '{reference}' not found", where, line,
                 hint="fix the path (relative to this file or to the project root)")
        return None
    relative = target.relative_to(root).as_posix()
    try:
        if target.stat().st_size > MAX_RUN_CONFIG_BYTES:
            diagnose(RUN_CONFIG_INVALID, Severity.ERROR, f"run config is over {MAX_RUN_CONFIG_BYTES} bytes; not read", relative,
                     0, hint="a run config holds settings, not data: move the data to a file it names")
            return None
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        diagnose(RUN_CONFIG_INVALID, Severity.ERROR, f"cannot read run config: {exc}", relative, 0,
                 hint="save it as UTF-8 and check permissions")
        return None
    loader = yaml.SafeLoader(text)  # what yaml.safe_load uses, parsing once for values and lines
    try:
        node = loader.get_single_node()
        # aliases let a few lines stand for billions of values, or for themselves; both are
        # refused before anything is constructed (everything later walks the expanded values)
        if node is not None and _expanded_size(node, MAX_RUN_CONFIG_VALUES) is None:
            diagnose(RUN_CONFIG_INVALID, Severity.ERROR, "run config is recursive or expands to more than "
                     f"{MAX_RUN_CONFIG_VALUES} values through YAML aliases; not read", relative, 1,
                     hint="write the values out instead of aliasing them")
            return None
        document = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        diagnose(RUN_CONFIG_INVALID, Severity.ERROR, f"run config is not safe YAML: {problem}", relative,
                 mark.line + 1 if mark is not None else 0,
                 hint="fix the YAML; tags like !!python/object are refused")
        return None
    except RecursionError:
        diagnose(RUN_CONFIG_INVALID, Severity.ERROR, "run config is nested too deeply to read", relative, 0,
                 hint="flatten it")
        return None
    finally:
        loader.dispose()
    if document is None:
        document = {}
    if not isinstance(document, dict):
        diagnose(RUN_CONFIG_INVALID, Severity.ERROR, "run config must be a mapping at the top level", relative, 1,
                 hint="write 'key: value' pairs")
        return None
    document = _jsonable(document)
    steps = document.pop("steps", None) or {} if split_steps else {}
    if not isinstance(steps, dict):
        steps = {}
    return RunConfig(
        path=relative,
        pipeline=document,
        steps={str(k): v if isinstance(v, dict) else {"value": v} for k, v in steps.items()},
        lines=_key_lines(node),
    )


def glob_files(root: Path, pattern: str) -> list[str]:
    """Files under ``root`` matching ``pattern`` (a glob relative to it), sorted, as
    relative ``/`` paths; never anything outside the root (symbolic links included)."""
    if pattern.startswith("/") or ".." in PurePosixPath(pattern).parts:
        return []
    try:
        base = root.resolve()
        found = []
        for candidate in base.glob(pattern):
            resolved = candidate.resolve()
            if candidate.is_file() and _inside(resolved, base):
                found.append(candidate.relative_to(base).as_posix())
    except (OSError, RuntimeError, ValueError):
        return []
    return sorted(found)


def _expanded_size(top: yaml.Node, limit: int) -> Optional[int]:
    """How many values ``top`` stands for once its aliases are expanded, or None when that
    is over ``limit`` or infinite (an alias inside its own anchor). Iterative: the nesting
    of a YAML file is not bounded by anything."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(top, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        children = _children(node)
        if finished:
            on_path.discard(key)
            total = 1 + sum(sizes[id(child)] for child in children)
            if total > limit:
                return None
            sizes[key] = total
            continue
        if key in sizes:
            continue
        on_path.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in on_path:
                return None
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(top)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def _key_lines(node: Any) -> dict[str, int]:
    lines: dict[str, int] = {}
    if not isinstance(node, yaml.MappingNode):
        return lines
    for key, value in node.value:
        name = str(key.value)
        lines[name] = key.start_mark.line + 1
        if name == "steps" and isinstance(value, yaml.MappingNode):
            for step_key, step_value in value.value:
                prefix = f"steps.{step_key.value}"
                lines[prefix] = step_key.start_mark.line + 1
                if isinstance(step_value, yaml.MappingNode):
                    for inner_key, _ in step_value.value:
                        lines[f"{prefix}.{inner_key.value}"] = inner_key.start_mark.line + 1
    return lines


def _jsonable(value: Any) -> Any:
    """YAML values as JSON-compatible ones (dates and odd keys become strings)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
