"""The policy interface: a named class that turns one pipeline comparison into findings.

A :class:`Policy` never decides a pipeline's fate alone: it emits :class:`Finding`
objects, each tied to a :class:`Rule`, and the engine takes the most severe one after
applying the user's per-rule overrides. Every rule carries before/after examples
(small source trees) that the test-suite runs through ``scan`` and ``compare``, so the
documentation of a rule cannot drift away from what it does.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Mapping, Optional

from pvcheck.config import Config
from pvcheck.model import Decision, Finding

if TYPE_CHECKING:  # pragma: no cover - typing only
    from pvcheck.policies.matching import PipelineComparison


@dataclass(frozen=True)
class Example:
    """A before/after pair of small source trees (relative path -> file text).

    ``expect`` is the decision the pipeline named ``pipeline`` must get when the trees
    are scanned and compared. With ``lock_base`` the base is first reduced to what a
    lock file records (:func:`pvcheck.policies.common.fingerprints_only`).
    """

    before: Mapping[str, str]
    after: Mapping[str, str]
    expect: Decision
    pipeline: str = "example"
    note: str = ""
    lock_base: bool = False


@dataclass(frozen=True)
class Rule:
    """A stable rule: id ``PVnnn``, the policy that emits it, its default decision.

    ``triggers`` are examples that must produce the rule; ``near_misses`` look alike
    but must not.
    """

    id: str
    policy: str
    summary: str
    default: Decision
    triggers: tuple[Example, ...] = ()
    near_misses: tuple[Example, ...] = ()
    #: Why a change of this kind needs ``default`` (``pvcheck rules ID`` shows it). The
    #: built-in rules keep theirs in :mod:`pvcheck.policies.rationale`.
    rationale: str = ""


class Policy:
    """Base class of every policy, built-in or third-party.

    Subclasses set :attr:`name` and :attr:`rules`, and implement :meth:`evaluate`.
    Findings are created with :meth:`finding`, which fills in the policy name and the
    rule's default decision; the engine then applies ``Config.rules`` overrides.
    """

    name: ClassVar[str] = ""
    rules: ClassVar[tuple[Rule, ...]] = ()
    #: The namespace of this policy's rule ids: ``PV`` is pvcheck's own; a plug-in declares
    #: its own (``STR`` -> ``STR001``) and cannot take ``PV`` ids (checked at load time).
    rule_prefix: ClassVar[str] = ""

    def evaluate(self, comparison: "PipelineComparison", config: Config) -> Iterable[Finding]:
        """The findings for one matched pipeline (base and head both present)."""
        raise NotImplementedError

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(f"policy {self.name!r} has no rule {rule_id}")

    def finding(
        self,
        rule_id: str,
        message: str = "",
        path: str = "",
        line: int = 0,
        step: Optional[str] = None,
        decision: Optional[Decision] = None,
        *,
        kind: str = "",
        subject: str = "",
        old: Any = None,
        new: Any = None,
        detail: Optional[Mapping[str, Any]] = None,
    ) -> Finding:
        """A finding of one of this policy's rules, at its default decision unless given.

        Give the facts (``kind``, ``subject``, ``old``, ``new``, ``detail``) and the
        sentence is rendered from them (:mod:`pvcheck.findings`); or give ``message``,
        the sentence itself, without the location (outputs add it).
        """
        default = self.rule(rule_id).default if decision is None else decision
        return Finding(rule=rule_id, policy=self.name, decision=default, message=message, path=path,
                       line=line, step=step, kind=kind, subject=subject, old=old, new=new,
                       detail=dict(detail or {}))


@dataclass
class RuleOverrides:
    """``Config.rules`` applied to findings: a new decision, or ``off`` to drop them."""

    table: Mapping[str, str] = field(default_factory=dict)

    def apply(self, finding: Finding) -> Optional[Finding]:
        override = self.table.get(finding.rule)
        if override is None:
            return finding
        if override == "off":
            return None
        decision = Decision(override)
        if decision is finding.decision:
            return finding
        return replace(finding, decision=decision)


__all__ = ["Example", "Policy", "Rule", "RuleOverrides"]
