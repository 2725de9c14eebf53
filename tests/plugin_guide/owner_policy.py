"""A policy plug-in: handing a flow to another team starts a new pipeline (rule TOY001)."""
from typing import Iterable

from pvcheck.plugin import Config, Decision, Example, Finding, PipelineComparison, Policy, Rule

STEPS = "import toyflow\n\n@toyflow.task\ndef load(path):\n    return [1, 2]\n"
FLOW = 'import toyflow\nfrom steps import load\n\n@toyflow.flow(name="example", owner="{owner}", {more})\ndef f():\n    load("a.csv")\n'


def tree(owner: str = "data", more: str = "retries=1") -> dict[str, str]:
    return {"steps.py": STEPS, "flow.py": FLOW.format(owner=owner, more=more)}


class OwnerPolicy(Policy):
    name = "owner"
    rule_prefix = "TOY"
    rules = (
        Rule("TOY001", "owner", "a flow's owner changed: its runs start a new lineage", Decision.PIPELINE,
             triggers=(Example(tree(), tree(owner="ml"), Decision.PIPELINE, note="owner data -> ml"),),
             near_misses=(Example(tree(), tree(more="retries=2"), Decision.RUN, note="retries: PV201, run"),),
             rationale="Another team owns the runs from now on; their history is not continued."),
    )

    def evaluate(self, comparison: PipelineComparison, config: Config) -> Iterable[Finding]:
        before, after = comparison.base.config.get("owner"), comparison.head.config.get("owner")
        if before != after:
            path, line = comparison.head.config_lines.get("owner", (comparison.head.path, comparison.head.line))
            yield self.finding("TOY001", f"owner changed from {before!r} to {after!r}", path, line)
