"""The ``cosmetic`` policy: edits that change the text but not the computation.

The analyzer's fingerprints already ignore them; this policy says *what* changed so a
reviewer sees why a pipeline keeps its version: a step renamed with its body unchanged
(PV106).
"""

from __future__ import annotations

from typing import Iterable

from pvcheck.config import Config
from pvcheck.model import Decision, Finding
from pvcheck.policies.base import Example, Policy, Rule
from pvcheck.policies.examples import PIPELINE, STEPS, edit, project
from pvcheck.policies.matching import PipelineComparison


class CosmeticPolicy(Policy):
    name = "cosmetic"
    rules = (
        Rule(
            "PV106", "cosmetic", "a step function or invocation id renamed, body unchanged (reported as a rename)",
            Decision.RUN,
            triggers=(Example(project(),
                              project(steps=edit(STEPS, "def train(", "def fit("),
                                      pipeline=edit(PIPELINE, "import load, train", "import load, fit")
                                      .replace("    train(rows)", "    fit(rows)")),
                              Decision.RUN, note="train renamed to fit"),),
            near_misses=(Example(project(),
                                 project(steps=edit(STEPS, "def train(", "def fit(")
                                         .replace("total = sum(rows)", "total = max(rows)"),
                                         pipeline=edit(PIPELINE, "import load, train", "import load, fit")
                                         .replace("    train(rows)", "    fit(rows)")),
                                 Decision.VERSION, note="renamed and changed: a body change (PV401)"),),
        ),
    )

    def evaluate(self, comparison: PipelineComparison, config: Config) -> Iterable[Finding]:
        for match in comparison.steps.matches:
            base, head = match.base, match.head
            if base.fingerprint != head.fingerprint or not base.fingerprint:
                continue
            if base.id != head.id:
                yield self.finding("PV106", f"step {base.id} renamed to {head.id} (body unchanged)",
                                   head.call_path or head.path, head.call_line or head.line, head.id)
            elif base.function != head.function:
                yield self.finding("PV106", f"step {head.id}: function {base.function} renamed to {head.function} "
                                   "(body unchanged)", head.path, head.line, head.id)


__all__ = ["CosmeticPolicy"]
