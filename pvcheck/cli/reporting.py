"""What ``pvcheck diff`` and ``pvcheck check`` share: printing a report, its errors,
and the path prefix that turns project paths into repository paths."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pvcheck.model import Report, Severity
from pvcheck.output.report import RenderContext, render_report


def repository_prefix(folder: Path | str) -> str:
    """``folder`` relative to the top of the git checkout that holds it, as ``sub/dir/``
    (``""`` at the top). GitHub annotations and SARIF locations are repository-relative;
    pvcheck's paths are project-relative. Outside a checkout: relative to the current
    folder when below it, else ``""``."""
    start = Path(folder).resolve()
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return _as_prefix(start.relative_to(candidate))
    try:
        return _as_prefix(start.relative_to(Path.cwd().resolve()))
    except ValueError:
        return ""


def _as_prefix(relative: Path) -> str:
    text = relative.as_posix()
    return "" if text in ("", ".") else text.rstrip("/") + "/"


def print_report(report: Report, fmt: str, context: RenderContext) -> None:
    sys.stdout.write(render_report(report, fmt, context))
    sys.stdout.flush()


def print_errors(report: Report) -> bool:
    """One line per error diagnostic on stderr; True when there was one."""
    # == rather than "is": Severity is a str enum, and a value that went through JSON
    # (a cache, a plugin) may come back as the plain string
    errors = [d for d in report.diagnostics if d.severity == Severity.ERROR]
    for diagnostic in errors:
        print(f"pvcheck: error: {diagnostic.one_line()}", file=sys.stderr)
    return bool(errors)


def is_folder(value: str | None) -> bool:
    return bool(value) and os.path.isdir(str(value))
