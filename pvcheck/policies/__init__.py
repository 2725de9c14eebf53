"""Policies: two models in, a decision per pipeline out (run, version or pipeline).

``compare(base, head, config)`` is the entry point; :class:`Policy` and :class:`Rule`
are what third-party policies build on.
"""

from pvcheck.policies.base import Example, Policy, Rule
from pvcheck.policies.engine import compare
from pvcheck.policies.matching import PipelineComparison, StepMatch
from pvcheck.policies.registry import all_rules, builtin_rules, load_policies

__all__ = [
    "Example",
    "PipelineComparison",
    "Policy",
    "Rule",
    "StepMatch",
    "all_rules",
    "builtin_rules",
    "compare",
    "load_policies",
]
