"""The ``sarif`` report: SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.

One run; ``tool.driver.rules`` has one rule per PV id that occurs (policy rules,
analyzer diagnostics, the gate's stale-lock rule), each with a ``shortDescription``;
every finding is a result with its rule, a level (``error`` for a new pipeline,
``warning`` for a new version, ``note`` for a run) and its physical location.
"""

from __future__ import annotations

import json
from typing import Any, Optional

from pvcheck.diagnostics import CATALOGUE
from pvcheck.model import Decision, Report, Severity
from pvcheck.output.report import LOCK_STALE_RULE, RenderContext

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/pvcheck-ml/"

_LEVEL = {Decision.PIPELINE: "error", Decision.VERSION: "warning", Decision.RUN: "note"}

#: Analyzer diagnostic codes (from the catalogue, :mod:`pvcheck.diagnostics`) and the gate's own rule.
DIAGNOSTIC_RULES: dict[str, str] = {
    **{code: info.title[:1].upper() + info.title[1:] for code, info in CATALOGUE.items()},
    LOCK_STALE_RULE: "pvcheck.lock is stale: re-run `pvcheck lock` and commit it",
}


def _policy_rules() -> dict[str, tuple[str, str, str]]:
    """id -> (summary, policy, default decision) of every known policy rule."""
    try:
        from pvcheck.policies.registry import all_rules

        rules = all_rules()
    except Exception:  # a broken third-party plugin must not stop the report
        try:
            from pvcheck.policies.registry import builtin_rules

            rules = builtin_rules()
        except Exception:
            rules = []
    return {r.id: (r.summary, r.policy, r.default.value) for r in rules}


def render_sarif(report: Report, context: RenderContext) -> str:
    from pvcheck import __version__

    known = _policy_rules()
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []

    def rule_index(rule_id: str, policy: str = "", level: str = "warning") -> int:
        if rule_id not in rules:
            summary, owner, default = known.get(rule_id, (DIAGNOSTIC_RULES.get(rule_id, ""), policy, ""))
            descriptor: dict[str, Any] = {
                "id": rule_id,
                "shortDescription": {"text": summary or f"pvcheck rule {rule_id} ({owner or 'pvcheck'})"},
                "defaultConfiguration": {"level": _LEVEL[Decision(default)] if default else level},
            }
            if owner:
                descriptor["properties"] = {"policy": owner}
            info = CATALOGUE.get(rule_id)
            if info is not None:  # a diagnostic: what it means and what to do
                descriptor["fullDescription"] = {"text": info.help}
                descriptor["help"] = {"text": info.fix}
            rules[rule_id] = descriptor
        return list(rules).index(rule_id)

    for change in report.pipelines:
        for finding in change.findings:
            level = _LEVEL[finding.decision]
            results.append(_result(
                finding.rule, rule_index(finding.rule, finding.policy, level), level,
                f"{change.name}: {finding.explain()} ({finding.decision.value})",
                context.repo_path(finding.path), finding.line,
                {"pipeline": change.name, "decision": finding.decision.value, "policy": finding.policy,
                 **({"step": finding.step} if finding.step else {}),
                 **({"kind": finding.kind, "subject": finding.subject} if finding.kind else {})},
            ))
    for diagnostic in report.diagnostics:
        level = "error" if diagnostic.severity == Severity.ERROR else "warning"
        message = diagnostic.message + (f"; {diagnostic.hint}" if diagnostic.hint else "")
        results.append(_result(diagnostic.code, rule_index(diagnostic.code, level=level), level, message,
                               context.repo_path(diagnostic.path), diagnostic.line, {}))
    if context.gate is not None:
        for problem in context.gate.problems:
            message = problem.message + (f"; {context.gate.hint}" if context.gate.hint else "")
            results.append(_result(problem.rule, rule_index(problem.rule, level="error"), "error", message,
                                   context.repo_path(problem.path), problem.line,
                                   {"pipeline": problem.pipeline} if problem.pipeline else {}))

    log = {
        "version": "2.1.0",  # first, so that consumers can sniff it
        "$schema": SARIF_SCHEMA,
        "runs": [{
            "tool": {"driver": {
                "name": "pvcheck",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": list(rules.values()),
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json.dumps(log, indent=2) + "\n"


def _result(rule_id: str, index: int, level: str, message: str, path: str, line: int,
            properties: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"ruleId": rule_id, "ruleIndex": index, "level": level, "message": {"text": message}}
    location = _location(path, line)
    if location is not None:
        result["locations"] = [location]
    if properties:
        result["properties"] = properties
    return result


def _location(path: str, line: int) -> Optional[dict[str, Any]]:
    if not path:
        return None
    physical: dict[str, Any] = {"artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"}}
    if line > 0:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical}
