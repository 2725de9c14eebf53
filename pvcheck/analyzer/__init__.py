"""The analyzer: a source tree in, a :class:`~pvcheck.model.Project` out.

It never imports, executes or evaluates the code it reads.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from pvcheck.analyzer.context import AnalysisContext
from pvcheck.analyzer.discovery import discover
from pvcheck.analyzer.frameworks.base import Framework, load_frameworks
from pvcheck.analyzer.index import ProjectIndex
from pvcheck.analyzer.module import ModuleInfo
from pvcheck.config import Config
from pvcheck.model import Diagnostic, Pipeline, Project, Severity

__all__ = ["scan_tree"]


def scan_tree(root: Path | str, config: Optional[Config] = None) -> Project:
    """Analyze every Python file under ``root`` and return its pipelines.

    Files that cannot be read or parsed become diagnostics; the rest of the tree is
    still analyzed.
    """
    config = config or Config()
    root_path = Path(root)
    diagnostics: list[Diagnostic] = []
    files = discover(root_path, config.roots, config.exclude, diagnostics)
    index = ProjectIndex(files, config.max_file_size, diagnostics)
    frameworks = load_frameworks(config.frameworks)
    ctx = AnalysisContext(root_path, index, config, frameworks)

    candidates: list[tuple[Framework, ModuleInfo]] = []
    lines = 0
    for file in files:
        data = index.read(file)
        if data is None:
            continue
        lines += data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
        interested = [f for f in frameworks if f.matches(data)]
        if not interested:
            continue
        module = index.load(file)
        if module is None:
            continue
        candidates.extend((framework, module) for framework in interested)

    for framework, module in candidates:
        for attachment in _guarded(framework, module, lambda: list(framework.attachments(module, ctx)), ctx) or ():
            ctx.attachments.setdefault(attachment.target, []).append(attachment)

    pipelines: list[Pipeline] = []
    for framework, module in candidates:
        found = _guarded(framework, module, lambda: list(framework.pipelines(module, ctx)), ctx)
        pipelines.extend(found or ())

    pipelines.sort(key=lambda p: (p.path, p.line, p.name))
    unique = {(d.code, d.path, d.line, d.message): d for d in diagnostics}
    ordered = sorted(unique.values(), key=lambda d: (d.path, d.line, d.code, d.message))
    return Project(
        root=str(root_path),
        pipelines=tuple(pipelines),
        diagnostics=tuple(ordered),
        files_scanned=len(files),
        lines_scanned=lines,
    )


def _guarded(framework: Framework, module: ModuleInfo, work, ctx: AnalysisContext):  # type: ignore[no-untyped-def]
    """Run one framework on one module; a failure there must not lose the rest of the tree."""
    try:
        return work()
    except RecursionError:
        ctx.diagnose("PV007", Severity.ERROR, "code nested too deeply to analyze", module.path, 0,
                     hint="flatten the nesting, or exclude the file")
    except Exception as exc:
        if os.environ.get("PVCHECK_DEBUG"):
            raise
        ctx.diagnose("PV099", Severity.ERROR,
                     f"internal error in the {framework.name} analysis: {type(exc).__name__}: {exc}",
                     module.path, 0, hint="please report this; run with PVCHECK_DEBUG=1 for the traceback")
    return None

