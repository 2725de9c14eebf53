"""``compare``: two models in, one decision per pipeline out, with every reason.

The engine pairs pipelines and steps (:mod:`pvcheck.policies.matching`), runs every
enabled policy on each pair, applies the per-rule overrides of the configuration and
takes the most severe finding as the pipeline's decision (``run`` when there is none).
A policy that fails is reported and counted as ``version``: a crash must never let a
change pass as a mere run.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable, Mapping, Optional

from pvcheck.analyzer.reached import restore_reached
from pvcheck.config import Config
from pvcheck.diagnostics import POLICY_FAILED
from pvcheck.model import (
    Decision,
    Diagnostic,
    Finding,
    Pipeline,
    PipelineChange,
    Project,
    Report,
    Severity,
    Status,
)
from pvcheck.policies.base import Policy, RuleOverrides
from pvcheck.policies.impact import impact
from pvcheck.policies.matching import PipelineComparison, match_steps, pair_pipelines
from pvcheck.policies.registry import load_policies
from pvcheck.policies.sources import SourceTree

NEW_PIPELINE = "PV504"


def compare(base: Project, head: Project, config: Optional[Config] = None, *,
            content_ids: Optional[tuple[Mapping[str, str], Mapping[str, str]]] = None) -> Report:
    """Compare two revisions of a project and decide, per pipeline: run, version or pipeline.

    ``base`` may be a model reconstructed from a lock file (fingerprints only); policies
    then decide from fingerprints and give detail only where the models have it.
    ``content_ids``: per side, path -> an id of the file's bytes (git blob ids), when the
    caller has them: files with equal ids are known to be equal without being read.
    """
    config = config or Config()
    policies = load_policies(config)
    overrides = RuleOverrides(config.rules)
    diagnostics: list[Diagnostic] = []
    changes: list[PipelineChange] = []
    base_root = _existing_folder(base.root)
    head_root = _existing_folder(head.root)
    base_ids, head_ids = content_ids if content_ids is not None else (None, None)
    base_sources = SourceTree(base_root, base_ids) if base_root else None
    head_sources = SourceTree(head_root, head_ids) if head_root else None

    pairing = pair_pipelines(base, head, config)
    for base_pipeline, head_pipeline, how in pairing.pairs:
        comparison = PipelineComparison(
            base=base_pipeline,
            head=head_pipeline,
            how=how,
            steps=match_steps(base_pipeline.steps, head_pipeline.steps, config),
            base_project=base,
            head_project=head,
            base_root=base_root,
            head_root=head_root,
            base_sources=base_sources,
            head_sources=head_sources,
        )
        findings = _run(policies, overrides, diagnostics, head_pipeline,
                        lambda policy: policy.evaluate(comparison, config))
        decision = Decision.most_severe(f.decision for f in findings)
        status = _status(comparison)
        if status is Status.UNCHANGED and decision is Decision.PIPELINE:
            # a new lineage (e.g. a name collision new in head) is never "unchanged"
            status = Status.MODIFIED
        changes.append(PipelineChange(
            name=head_pipeline.name,
            framework=head_pipeline.framework,
            path=head_pipeline.path,
            status=status,
            decision=decision,
            base=base_pipeline,
            head=head_pipeline,
            findings=findings,
            continuity=comparison.continuity,
            step_matches={m.base.id: m.head.id for m in comparison.steps.matches},
        ))

    for head_pipeline in pairing.added:
        findings = _run(policies, overrides, diagnostics, head_pipeline,
                        lambda policy: _evaluate_added(policy, head_pipeline, head, config))
        changes.append(PipelineChange(
            name=head_pipeline.name,
            framework=head_pipeline.framework,
            path=head_pipeline.path,
            status=Status.ADDED,
            decision=_added_decision(findings, overrides),
            head=head_pipeline,
            findings=findings,
        ))

    for base_pipeline in pairing.removed:
        changes.append(PipelineChange(
            name=base_pipeline.name,
            framework=base_pipeline.framework,
            path=base_pipeline.path,
            status=Status.REMOVED,
            decision=None,
            base=base_pipeline,
        ))

    changes = [replace(c, impact=impact(c)) for c in changes]
    changes.sort(key=lambda c: (c.name, c.path, c.status.value))
    return Report(pipelines=tuple(changes), diagnostics=_diagnostics(base, head, diagnostics))


def _added_decision(findings: tuple[Finding, ...], overrides: RuleOverrides) -> Decision:
    """SPEC §7: an added pipeline is a new pipeline -- unless the user overrode PV504, the
    rule that says so (then the findings decide, like everywhere else)."""
    if NEW_PIPELINE not in overrides.table:
        return Decision.PIPELINE
    return Decision.most_severe(f.decision for f in findings)


def _evaluate_added(policy: Policy, pipeline: Pipeline, project: Project, config: Config) -> Iterable[Finding]:
    evaluate_added = getattr(policy, "evaluate_added", None)
    if evaluate_added is None:
        return ()
    result: Iterable[Finding] = evaluate_added(pipeline, project, config)
    return result


def _run(policies: list[Policy], overrides: RuleOverrides, diagnostics: list[Diagnostic], pipeline: Pipeline,
         work: Callable[[Policy], Iterable[Finding]]) -> tuple[Finding, ...]:
    """Every policy's findings, overridden, de-duplicated and sorted most severe first."""
    found: list[Finding] = []
    for policy in policies:
        try:
            produced = list(work(policy))
        except Exception as exc:
            if os.environ.get("PVCHECK_DEBUG"):
                raise
            message = f"policy '{policy.name}' failed on pipeline '{pipeline.name}': {type(exc).__name__}: {exc}"
            diagnostics.append(Diagnostic(POLICY_FAILED, Severity.ERROR, message, pipeline.path, pipeline.line,
                                          hint="report this to the policy's authors; run with PVCHECK_DEBUG=1"))
            produced = [Finding(POLICY_FAILED, policy.name, Decision.VERSION, path=pipeline.path, line=pipeline.line,
                                kind="policy-failed", subject=policy.name,
                                detail={"pipeline": pipeline.name, "error": f"{type(exc).__name__}: {exc}"})]
        for finding in produced:
            if not isinstance(finding, Finding):
                continue
            applied = overrides.apply(finding)
            if applied is not None:
                found.append(applied)
    unique = list(dict.fromkeys(found))
    unique.sort(key=lambda f: (-f.decision.severity, f.path, f.line, f.rule, f.step or "", f.message))
    return tuple(unique)


def _status(comparison: PipelineComparison) -> Status:
    """What happened to the pipeline's model; the decision is separate (a name collision
    makes an unchanged pipeline a ``pipeline`` decision)."""
    base, head = comparison.base, comparison.head
    if comparison.how != "name" or base.name != head.name or base.path != head.path:
        return Status.RENAMED
    return Status.UNCHANGED if _same_fingerprints(comparison) else Status.MODIFIED


def _same_fingerprints(comparison: PipelineComparison) -> bool:
    base, head = comparison.base, comparison.head
    if (base.fingerprint, base.config_fingerprint) != (head.fingerprint, head.config_fingerprint):
        return False
    if comparison.steps.added or comparison.steps.removed:
        return False
    return all(m.base.id == m.head.id and m.base.fingerprint == m.head.fingerprint
               and m.base.config_fingerprint == m.head.config_fingerprint for m in comparison.steps.matches)


def _existing_folder(root: str) -> Optional[Path]:
    if not root:
        return None
    path = Path(root)
    return path if path.is_dir() else None


def _diagnostics(base: Project, head: Project, extra: list[Diagnostic]) -> tuple[Diagnostic, ...]:
    """The head's diagnostics, then the base's that the head no longer has, then the engine's."""
    seen = {(d.code, d.path, d.line, d.message) for d in head.diagnostics}
    # a broken file no head pipeline reaches is still an error when a base pipeline did (issue 16)
    result = restore_reached(head.diagnostics, base.pipelines)
    for diagnostic in base.diagnostics:
        if (diagnostic.code, diagnostic.path, diagnostic.line, diagnostic.message) not in seen:
            result.append(replace(diagnostic, message=f"in the base revision: {diagnostic.message}"))
    result.extend(extra)
    return tuple(result)


__all__ = ["compare"]
