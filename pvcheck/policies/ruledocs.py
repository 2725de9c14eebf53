"""Rules a user can look up (``pvcheck rules``, like ``ruff rule``): the catalogue of every
rule of the policies that run, built-in and plug-in, and the page that explains one.

The page is made from the rule itself: its summary, its rationale, and the before/after
examples the test-suite runs (``tests/test_rules.py``), so the documentation shows exactly
the change that triggers the rule and the near-miss that does not.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable, Mapping, Optional

from pvcheck.config import Config
from pvcheck.policies.base import Example, Rule
from pvcheck.policies.rationale import ENGINE_RULES, RATIONALE


@dataclass(frozen=True)
class RuleDoc:
    """One rule as ``pvcheck rules`` lists it. ``origin`` is ``built-in`` or the plug-in's policy."""

    id: str
    policy: str
    default: str
    summary: str
    rationale: str
    origin: str
    triggers: tuple[Example, ...] = ()
    near_misses: tuple[Example, ...] = ()

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "policy": self.policy, "default": self.default, "summary": self.summary,
                "rationale": self.rationale, "origin": self.origin,
                "triggers": [example_json(e) for e in self.triggers],
                "near_misses": [example_json(e) for e in self.near_misses]}


def rule_docs(config: Optional[Config] = None) -> list[RuleDoc]:
    """Every rule of the policies that run under ``config`` (plug-ins included), by id."""
    from pvcheck.policies.registry import BUILTIN_POLICIES, builtin_rules, load_policies

    builtin_ids = {rule.id for rule in builtin_rules()}
    docs: dict[str, RuleDoc] = {}
    for policy in load_policies(config or Config()):
        origin = "built-in" if policy.name in BUILTIN_POLICIES else f"plug-in {type(policy).__module__}"
        for rule in getattr(policy, "rules", ()):
            docs.setdefault(rule.id, _doc(rule, "built-in" if rule.id in builtin_ids else origin))
    for rule in builtin_rules():  # a built-in policy turned off still has documented rules
        docs.setdefault(rule.id, _doc(rule, "built-in"))
    for rule_id, (policy, default, summary) in ENGINE_RULES.items():
        docs.setdefault(rule_id, RuleDoc(rule_id, policy, default, summary, RATIONALE.get(rule_id, ""), "built-in"))
    return sorted(docs.values(), key=lambda d: d.id)


def _doc(rule: Rule, origin: str) -> RuleDoc:
    rationale = getattr(rule, "rationale", "") or RATIONALE.get(rule.id, "")
    return RuleDoc(rule.id, rule.policy, rule.default.value, rule.summary, rationale, origin,
                   tuple(rule.triggers), tuple(rule.near_misses))


def find_rule(rule_id: str, docs: Iterable[RuleDoc]) -> Optional[RuleDoc]:
    wanted = rule_id.strip().upper()
    return next((doc for doc in docs if doc.id.upper() == wanted), None)


def explain(doc: RuleDoc) -> str:
    """The page ``pvcheck rules ID`` prints: what, why, an example, a near-miss, how to override."""
    lines = [f"{doc.id} ({doc.policy}, default: {doc.default}, {doc.origin})", "", doc.summary, ""]
    if doc.rationale:
        lines += ["Why " + doc.default + ":", *_indent_wrapped(doc.rationale), ""]
    for title, examples in (("Triggers it", doc.triggers), ("Near-miss (does not trigger it)", doc.near_misses)):
        for example in examples[:2]:
            note = f" -- {example.note}" if example.note else ""
            lines.append(f"{title}{note} (pipeline gets {example.expect.value}):")
            lines += ["    " + line for line in example_diff(example.before, example.after)]
            lines.append("")
    lines += [
        "Override in pyproject.toml (or pvcheck.toml without the [tool.pvcheck] prefix):",
        "    [tool.pvcheck.rules]",
        f'    {doc.id} = "{"version" if doc.default == "run" else "run"}"   # one of "run", "version", "pipeline", "off"',
    ]
    return "\n".join(lines) + "\n"


def catalogue_text(docs: Iterable[RuleDoc]) -> str:
    """One line per rule: id, policy, default decision, summary."""
    rows = [(d.id, d.policy, d.default, d.summary) for d in docs]
    width = max((len(r[1]) for r in rows), default=6)
    lines = [f"{rid}  {policy:<{width}}  {default:<8}  {summary}" for rid, policy, default, summary in rows]
    lines.append("")
    lines.append("'pvcheck rules ID' explains one rule, with an example and a near-miss.")
    return "\n".join(lines) + "\n"


def example_diff(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """A unified diff of the files an example changes (``---``/``+++`` headers per file)."""
    lines: list[str] = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        lines += [line.rstrip("\n") for line in difflib.unified_diff(
            (old or "").splitlines(True), (new or "").splitlines(True),
            fromfile=path if old is not None else "/dev/null", tofile=path if new is not None else "/dev/null",
            n=1)]
    return lines


def example_json(example: Example) -> dict[str, object]:
    return {"expect": example.expect.value, "note": example.note,
            "diff": "\n".join(example_diff(example.before, example.after))}


def _indent_wrapped(text: str, width: int = 88) -> list[str]:
    import textwrap
    return textwrap.wrap(text, width=width, initial_indent="    ", subsequent_indent="    ")


__all__ = ["RuleDoc", "catalogue_text", "example_diff", "explain", "find_rule", "rule_docs"]
