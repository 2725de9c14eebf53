"""Rendering a :class:`~pvcheck.model.Report` in one of the report formats.

A format is a function ``render(report, context) -> str``. The built-in ones are named
by dotted path below and imported on first use, so ``pvcheck diff`` only loads the one
it prints; :func:`register_format` adds or replaces one at run time.

The context carries what is not in the report: styling, the labels of both sides,
the path prefix that makes project-relative paths repository-relative (GitHub and
SARIF need those), and the result of ``pvcheck check``'s gate when there is one.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional

from pvcheck.model import Decision, Finding, PipelineChange, Report
from pvcheck.output.style import Style

#: Format name -> ``module:function``. ``markdown`` is the pull-request comment (summary
#: table, Mermaid step graphs); ``pvcheck.output.markdown_plain`` is a graph-free fallback.
FORMATS: dict[str, str] = {
    "text": "pvcheck.output.text:render_text",
    "json": "pvcheck.output.json_report:render_json",
    "markdown": "pvcheck.output.report:render_pull_request",
    "github": "pvcheck.output.github:render_github",
    "sarif": "pvcheck.output.sarif:render_sarif",
}

#: The ``--format`` choices of ``pvcheck diff`` and ``pvcheck check``.
REPORT_FORMATS: tuple[str, ...] = tuple(FORMATS)

# the gate's data lives with the gate (pvcheck.check); renderers read it
from pvcheck.check import LOCK_STALE_RULE, Gate, GateProblem  # noqa: E402,F401


@dataclass(frozen=True)
class RenderContext:
    style: Style = field(default_factory=lambda: Style(False))
    base_label: str = "base"
    head_label: str = "working tree"
    path_prefix: str = ""  # the project folder relative to the repository top, "" or "sub/dir/"
    gate: Optional[Gate] = None
    # pipeline name -> (old version, new version), when a lock file tells them
    versions: Mapping[str, tuple[Optional[int], Optional[int]]] = field(default_factory=dict)

    def repo_path(self, path: str) -> str:
        """A project-relative path as the repository sees it (GitHub and SARIF want that)."""
        return f"{self.path_prefix}{path}" if path else path


Renderer = Callable[[Report, RenderContext], str]

_registered: dict[str, Renderer] = {}


def register_format(name: str, renderer: Renderer) -> None:
    """Add (or replace) a report format."""
    _registered[name] = renderer


def render_report(report: Report, fmt: str, context: Optional[RenderContext] = None) -> str:
    """``report`` in format ``fmt`` (one of :data:`REPORT_FORMATS` or a registered one)."""
    renderer = _registered.get(fmt)
    if renderer is None:
        dotted = FORMATS.get(fmt)
        if dotted is None:
            known = ", ".join(sorted({*FORMATS, *_registered}))
            raise ValueError(f"unknown report format '{fmt}' (known: {known})")
        module_name, _, function = dotted.partition(":")
        renderer = getattr(importlib.import_module(module_name), function)
        _registered[fmt] = renderer
    return renderer(report, context or RenderContext())


# --------------------------------------------------------------------------- helpers renderers share


def reason(change: PipelineChange) -> Optional[Finding]:
    """The finding that decided the pipeline: the first one at its decision."""
    for finding in change.findings:
        if finding.decision is change.decision:
            return finding
    return change.findings[0] if change.findings else None


def where(finding: Finding) -> str:
    if not finding.path:
        return ""
    return f"{finding.path}:{finding.line}" if finding.line else finding.path


def changed_steps(change: PipelineChange) -> list[tuple[str, int, int]]:
    """(head step id, complexity before, complexity after) of matched steps whose code changed."""
    if change.base is None or change.head is None:
        return []
    result = []
    for base_id, head_id in change.step_matches.items():
        before, after = change.base.step(base_id), change.head.step(head_id)
        if before is None or after is None:
            continue
        if before.fingerprint != after.fingerprint:
            result.append((head_id, before.complexity, after.complexity))
    return sorted(result)


def decision_word(decision: Optional[Decision]) -> str:
    return decision.value if decision is not None else "-"


def render_pull_request(report: Report, context: RenderContext) -> str:
    """The ``markdown`` format: the pull-request report, with the gate's verdict first."""
    from pvcheck.output.markdown import markdown_report

    body = markdown_report(report, versions=dict(context.versions))
    gate = context.gate
    if gate is None:
        return body
    lines = [("**pvcheck check passed**" if gate.passed else "**pvcheck check failed**") + f" against {gate.against}"]
    lines += [f"- :x: {p.message}" for p in gate.problems]
    if gate.hint and not gate.passed:
        lines.append(f"\n{gate.hint}")
    return "\n".join(lines) + "\n\n" + body
