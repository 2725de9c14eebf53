"""A third-party pvcheck policy: configuration changes on training steps are new versions.

Some teams want a changed learning rate or iteration count to produce a new model
version, not merely another run. This policy says so for steps whose declared name
matches ``train*`` or ``fit*``.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Iterable

from pvcheck.config import Config
from pvcheck.model import Decision, Finding
from pvcheck.policies import PipelineComparison, Policy, Rule

TRAINING_STEPS = ("train*", "fit*")


class StrictTrainingConfig(Policy):
    name = "strict-training-config"
    rule_prefix = "STR"  # plug-in rule ids live in their own namespace; PV is pvcheck's
    rules = (
        Rule("STR001", "strict-training-config", "configuration of a training step changed (team rule: a new version)",
             Decision.VERSION),
    )

    def evaluate(self, comparison: PipelineComparison, config: Config) -> Iterable[Finding]:
        for match in comparison.steps.matches:
            base, head = match.base, match.head
            if base.config_fingerprint == head.config_fingerprint:
                continue
            if any(fnmatchcase(head.name, pattern) for pattern in TRAINING_STEPS):
                yield self.finding("STR001", f"step {head.id}: configuration of a training step changed",
                                   head.path, head.line, head.id)
