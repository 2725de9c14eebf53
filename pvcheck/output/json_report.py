"""The ``json`` report: ``pvcheck.diff/1`` (SPEC §7), for programs.

``pvcheck check`` prints the same object with one more top-level member, ``check``:
``{"passed": bool, "against": str, "versions": [{pipeline, from, to, decision,
summary}], "problems": [{rule, message, path, line, pipeline}], "hint": str}``. Readers
of ``pvcheck.diff/1`` can ignore it.
"""

from __future__ import annotations

import json
from typing import Any

from pvcheck.model import Report
from pvcheck.output.report import RenderContext


def render_json(report: Report, context: RenderContext) -> str:
    data: dict[str, Any] = report.to_json()
    gate = context.gate
    if gate is not None:
        data["check"] = {
            "passed": gate.passed,
            "against": gate.against,
            "versions": [bump.to_json() for bump in gate.bumps],
            "problems": [
                {"rule": p.rule, "message": p.message, "path": p.path, "line": p.line, "pipeline": p.pipeline}
                for p in gate.problems
            ],
            "hint": gate.hint,
        }
    return json.dumps(data, indent=2) + "\n"
