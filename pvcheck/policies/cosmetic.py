"""The ``cosmetic`` policy: edits that change the text but not the computation.

The analyzer's fingerprints already ignore them, so they never raise a decision; this
policy says *what* changed, so a reviewer sees why a pipeline keeps its version. It
looks only where the fingerprint is unchanged (a step, a helper it uses, the pipeline
function, the imports of their modules) and only when both source trees can still be
read; a model from a lock file has no text, and then there is nothing to explain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Optional

from pvcheck.config import Config
from pvcheck.model import Decision, Finding
from pvcheck.policies.base import Example, Policy, Rule
from pvcheck.policies.common import pipeline_has_detail, step_has_detail
from pvcheck.policies.examples import HELPERS, PIPELINE, STEPS, edit, project
from pvcheck.policies.matching import PipelineComparison
from pvcheck.policies.moves import Move, moves, names_only, same_code_content, same_content
from pvcheck.policies.sources import SourceTree
from pvcheck.policies.textdiff import classify, first_different_line

_RULE_OF = {"formatting": "PV101", "comments": "PV102", "docstrings": "PV102", "logging": "PV105",
            "renames": "PV104", "local_annotations": "PV101", "annotations": "PV107", "unused_variables": "PV110"}
#: The finding kind of each category (pvcheck.findings renders them).
_KIND_OF = {"formatting": "formatting-changed", "comments": "comments-changed", "docstrings": "docstring-changed",
            "logging": "logging-changed", "renames": "locals-renamed", "local_annotations": "local-annotations-changed",
            "annotations": "annotations-changed", "unused_variables": "unused-variables-changed"}

_MOVED_STEPS = edit(STEPS, "from helpers import scale", "from maths.scaling import scale")
_MOVED = "def scale(value: float, factor: float) -> float:\n    return value * factor\n"
_ONLY_UNUSED = HELPERS[HELPERS.index("def unused"):]
_OTHER_SCALE = "def scale(value: float, factor: float) -> float:\n    return value / factor\n"
_PERCENT = edit(HELPERS, "    return value * factor\n", "    return value * factor * 100\n")
_EXTRACTED = edit(edit(_PERCENT, "def scale", "PERCENT = 100\n\n\ndef scale"), "factor * 100", "factor * PERCENT")

_TOTAL = "    total = sum(rows)\n"
_UNUSED_LIST = edit(STEPS, _TOTAL, "    buckets = []\n" + _TOTAL)
_UNUSED_RESULT = edit(STEPS, _TOTAL, _TOTAL + "    checked = len(rows)\n")
_RESULT_DROPPED = edit(STEPS, _TOTAL, _TOTAL + "    len(rows)\n")
_USED_BY_LOCALS = edit(STEPS, _TOTAL + "    return scale(total, rate)",
                       "    buckets = []\n" + _TOTAL + "    return scale(total, rate) + len(locals())")
_USED_NESTED = edit(STEPS, _TOTAL + "    return scale(total, rate)",
                    "    buckets = []\n" + _TOTAL + "\n    def more():\n        return buckets\n\n"
                    "    return scale(total, rate) + len(more())")

_IMPORTS_SWAPPED = edit(STEPS, "from zenml import step\n\nfrom helpers import scale\n",
                        "from helpers import scale\nfrom zenml import step\n")


@dataclass(frozen=True)
class _Unit:
    """One definition whose fingerprint is unchanged, in both trees."""

    unit: str  # step | helper | pipeline
    subject: str  # step id, helper qualified name, pipeline name
    base_path: str
    base_line: int
    head_path: str
    head_line: int
    step: Optional[str]
    helper: bool = False


class CosmeticPolicy(Policy):
    name = "cosmetic"
    rules = (
        Rule(
            "PV101", "cosmetic", "formatting: whitespace, line breaks, quote style, parentheses, trailing commas",
            Decision.RUN,
            triggers=(Example(project(), project(steps=edit(STEPS, "rows = [1, 2, 3]",
                                                            "rows = [\n        1,\n        2,\n        (3),\n    ]")),
                              Decision.RUN, note="a list split over lines, with parentheses"),),
            near_misses=(Example(project(), project(steps=edit(STEPS, "rows = [1, 2, 3]",
                                                               "rows = [\n        1,\n        2,\n        4,\n    ]")),
                                 Decision.VERSION, note="reformatted and a value changed"),),
        ),
        Rule(
            "PV102", "cosmetic", "comments or docstrings changed", Decision.RUN,
            triggers=(
                Example(project(), project(steps=edit(STEPS, "    total = sum(rows)\n",
                                                      "    # the sum is scaled below\n    total = sum(rows)\n")),
                        Decision.RUN, note="a comment added"),
                Example(project(), project(steps=edit(STEPS, "    total = sum(rows)\n",
                                                      "    \"\"\"Sum and scale.\"\"\"\n    total = sum(rows)\n")),
                        Decision.RUN, note="a docstring added"),
            ),
            near_misses=(Example(project(), project(steps=edit(STEPS, "return scale(total, rate)",
                                                               "return scale(total, rate or float(\"#1\"))")),
                                 Decision.VERSION, note="a '#' inside a string is code, not a comment"),),
        ),
        Rule(
            "PV103", "cosmetic", "import order changed, or an unused import added or removed", Decision.RUN,
            triggers=(
                Example(project(), project(steps=_IMPORTS_SWAPPED), Decision.RUN, note="imports swapped"),
                Example(project(), project(steps="import os\n" + STEPS), Decision.RUN, note="unused import os"),
            ),
            near_misses=(Example(project(), project(steps="import os\n" + edit(STEPS, "rows = [1, 2, 3]",
                                                                               "rows = [1, 2, len(os.sep)]")),
                                 Decision.VERSION, note="the new import is used"),),
        ),
        Rule(
            "PV104", "cosmetic", "a local variable renamed consistently (alpha-equivalent body)", Decision.RUN,
            triggers=(Example(project(), project(steps=edit(STEPS, "    total = sum(rows)\n    return scale(total, "
                                                            "rate)", "    amount = sum(rows)\n    return "
                                                            "scale(amount, rate)")),
                              Decision.RUN, note="total renamed to amount"),),
            near_misses=(Example(project(), project(steps=edit(STEPS, "    total = sum(rows)\n    return scale(total, "
                                                               "rate)", "    amount = sum(rows)\n    return "
                                                               "scale(rate, amount)")),
                                 Decision.VERSION, note="renamed, and the arguments swapped"),),
        ),
        Rule(
            "PV105", "cosmetic", "a print/logging call statement added, removed or edited whose arguments have no "
            "side effects (names, literals, attribute reads, subscripts, f-strings, % and .format on literals, "
            "calls of pure builtins such as len and round)", Decision.RUN,
            triggers=(Example(project(), project(steps=edit(STEPS, "    total = sum(rows)\n",
                                                            "    total = sum(rows)\n    print(f\"total={total}\")\n")),
                              Decision.RUN, note="print(f\"total={total}\")"),
                      Example(project(), project(steps=edit(STEPS, "    total = sum(rows)\n",
                                                            "    total = sum(rows)\n    print(\"%d rows, total %s\" % "
                                                            "(len(rows), round(total, 2)), rows[0])\n")),
                              Decision.RUN, note="print(\"%d rows, total %s\" % (len(rows), round(total, 2)), rows[0])"),),
            near_misses=(Example(project(), project(steps=edit(STEPS, "    total = sum(rows)\n",
                                                               "    total = sum(rows)\n    print(rows.pop())\n")),
                                 Decision.VERSION, note="print(rows.pop()) changes rows"),),
        ),
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
        Rule(
            "PV107", "cosmetic", "parameter or return annotations of a repo-local helper (not a step, not decorated) "
            "added or changed; class-level annotations stay code (dataclass, pydantic and attrs fields)",
            Decision.RUN,
            triggers=(Example(project(), project(helpers=edit(HELPERS, "def scale(value: float, factor: float) -> "
                                                              "float:", "def scale(value: int | float, factor: "
                                                              "\"Factor\") -> \"np.float64\":")),
                              Decision.RUN, note="scale(value: int | float, factor: \"Factor\") -> \"np.float64\""),),
            near_misses=(Example(project(
                helpers="from dataclasses import dataclass\n\n\n@dataclass\nclass Factor:\n    value: float = 1.0\n\n\n"
                        + edit(HELPERS, "return value * factor", "return value * Factor(factor).value"),
            ), project(
                helpers="from dataclasses import dataclass\n\n\n@dataclass\nclass Factor:\n    value: int = 1\n\n\n"
                        + edit(HELPERS, "return value * factor", "return value * Factor(factor).value"),
            ), Decision.VERSION, note="a dataclass field re-typed: value: float -> value: int"),),
        ),
        Rule(
            "PV108", "cosmetic", "a helper function or module constant moved to another module or renamed, "
            "consistently with its uses, same body or value (plain functions that are called, constants with an "
            "immutable literal value; a class, a function passed as a value or a list/dict constant keep their "
            "names)", Decision.RUN,
            triggers=(
                Example(project(), project(steps=_MOVED_STEPS, helpers=_ONLY_UNUSED, maths__scaling_dot_py=_MOVED,
                                           maths____init___dot_py=""),
                        Decision.RUN, note="helpers.scale moved to maths.scaling.scale"),
                Example(project(), project(steps=edit(STEPS, "import scale", "import rescale")
                                           .replace("return scale(", "return rescale("),
                                           helpers=edit(HELPERS, "def scale(", "def rescale(")),
                        Decision.RUN, note="helpers.scale renamed to helpers.rescale"),
            ),
            near_misses=(
                Example(project(), project(steps=_MOVED_STEPS, helpers=_ONLY_UNUSED,
                                           maths__scaling_dot_py=edit(_MOVED, "value * factor", "value * factor + 1"),
                                           maths____init___dot_py=""),
                        Decision.VERSION, note="moved and its body changed"),
                Example(project(other_dot_py=_OTHER_SCALE),
                        project(steps=edit(STEPS, "from helpers import", "from other import"),
                                other_dot_py=_OTHER_SCALE),
                        Decision.VERSION, note="now calls another function of the same name, other.scale"),
            ),
        ),
        Rule(
            "PV109", "cosmetic", "a literal extracted into a module constant of the same value, or a constant "
            "replaced by its value (numbers, strings, True/False/None, tuples and operators of these)",
            Decision.RUN,
            triggers=(Example(project(helpers=_PERCENT), project(helpers=_EXTRACTED), Decision.RUN,
                              note="100 extracted into PERCENT = 100"),),
            near_misses=(Example(project(helpers=_PERCENT), project(helpers=edit(_EXTRACTED, "= 100", "= 1000")),
                                 Decision.VERSION, note="extracted with another value, PERCENT = 1000"),),
        ),
        Rule(
            "PV110", "cosmetic", "an assignment to a local variable nothing reads added, removed or edited: "
            "`x = f()` is `f()`, `x = []` (an inert literal) is nothing", Decision.RUN,
            triggers=(
                Example(project(steps=_UNUSED_LIST), project(), Decision.RUN, note="unused `buckets = []` removed"),
                Example(project(steps=_UNUSED_RESULT), project(steps=_RESULT_DROPPED), Decision.RUN,
                        note="`checked = len(rows)` became `len(rows)` (ruff's F841 fix)"),
            ),
            near_misses=(
                Example(project(steps=_UNUSED_RESULT), project(), Decision.VERSION,
                        note="`checked = len(rows)` removed with its call"),
                Example(project(steps=_USED_BY_LOCALS), project(steps=edit(_USED_BY_LOCALS, "    buckets = []\n", "")),
                        Decision.VERSION, note="`buckets` is read through locals()"),
                Example(project(steps=_USED_NESTED), project(steps=edit(_USED_NESTED, "    buckets = []\n", "")),
                        Decision.VERSION, note="`buckets` is read by a nested function"),
            ),
        ),
    )

    def evaluate(self, comparison: PipelineComparison, config: Config) -> Iterable[Finding]:
        yield from self._renames(comparison)
        yield from self._moves(comparison)
        base_sources, head_sources = comparison.base_sources, comparison.head_sources
        if base_sources is None or head_sources is None:
            return
        units = self._units(comparison)
        for unit in units:
            yield from self._explain(unit, base_sources, head_sources, config)
        yield from self._imports(comparison, units, base_sources, head_sources)

    def _renames(self, comparison: PipelineComparison) -> Iterator[Finding]:
        for match in comparison.steps.matches:
            base, head = match.base, match.head
            if base.fingerprint != head.fingerprint or not base.fingerprint or match.how == "swap":
                continue  # swapped calls are the structural policy's PV405, not a rename
            if base.id != head.id:
                yield self.finding("PV106", path=head.call_path or head.path, line=head.call_line or head.line,
                                   step=head.id, kind="step-renamed", subject=head.id, old=base.id, new=head.id)
            elif base.function != head.function:
                yield self.finding("PV106", path=head.path, line=head.line, step=head.id, kind="step-function-renamed",
                                   subject=head.id, old=base.function, new=head.function)

    def _moves(self, comparison: PipelineComparison) -> Iterator[Finding]:
        """Steps whose body differs by name only (the content layer is equal): what moved."""
        for match in comparison.steps.matches:
            base, head = match.base, match.head
            if same_content(base, head):
                for move in moves(base.helpers, head.helpers, head.path, head.line):
                    yield self._move(move, f"step {head.id}", head.path, head.line, head.id)
        base, head = comparison.base, comparison.head
        if same_code_content(base, head):  # helpers the pipeline body itself calls
            for move in moves(base.helpers, head.helpers, head.path, head.line):
                yield self._move(move, f"pipeline {head.name}", head.path, head.line, None)
        elif (base.dynamic or head.dynamic) and names_only(base, head) \
                and base.body_fingerprint != head.body_fingerprint:
            # a dynamic pipeline's body, folded in whole: it reaches what moved
            yield self.finding("PV108", path=head.path, line=head.line, kind="names-changed",
                               subject=f"pipeline {head.name}", detail={"owner": f"pipeline {head.name}", "body": True})

    def _move(self, move: Move, owner: str, path: str, line: int, step: Optional[str]) -> Finding:
        detail: dict[str, Any] = {"owner": owner}
        if move.noun:
            detail["noun"] = move.noun
        return self.finding(move.rule, path=move.path or path, line=move.line or line, step=step, kind=move.kind,
                            subject=move.new or move.old or owner, old=move.old, new=move.new, detail=detail)

    def _units(self, comparison: PipelineComparison) -> list[_Unit]:
        units: list[_Unit] = []
        seen: set[str] = set()
        for match in comparison.steps.matches:
            base, head = match.base, match.head
            if base.body_fingerprint != head.body_fingerprint or not (step_has_detail(base) and step_has_detail(head)):
                continue
            if head.function not in seen:
                seen.add(head.function)
                units.append(_Unit("step", head.id, base.path, base.line, head.path, head.line, head.id))
            old_helpers = {h.name: h for h in base.helpers}
            for helper in head.helpers:
                old = old_helpers.get(helper.name)
                if old is None or old.fingerprint != helper.fingerprint or helper.name in seen:
                    continue
                seen.add(helper.name)
                units.append(_Unit("helper", helper.name, old.path, old.line, helper.path,
                                   helper.line, head.id, helper=helper.kind == "function"))
        base, head = comparison.base, comparison.head
        if pipeline_has_detail(base) and pipeline_has_detail(head) and base.body_fingerprint \
                and base.body_fingerprint == head.body_fingerprint:
            units.append(_Unit("pipeline", head.name, base.path, base.line, head.path, head.line, None))
        return units

    def _explain(self, unit: _Unit, base_sources: SourceTree, head_sources: SourceTree,
                 config: Config) -> Iterator[Finding]:
        if unit.base_path == unit.head_path and unit.base_line == unit.head_line \
                and base_sources.same_text(unit.base_path, head_sources, unit.head_path):
            return  # the same file byte for byte: nothing to explain (and no need to parse it)
        old = base_sources.definition(unit.base_path, unit.base_line)
        new = head_sources.definition(unit.head_path, unit.head_line)
        if old is None or new is None:
            return
        aliases = {**base_sources.import_aliases(unit.base_path), **head_sources.import_aliases(unit.head_path)}
        categories = classify(old, new, config.cosmetic_calls, aliases, helper=unit.helper)
        line = first_different_line(old, new)
        for category in categories:
            yield self.finding(_RULE_OF[category], path=unit.head_path, line=line, step=unit.step,
                               kind=_KIND_OF[category], subject=unit.subject, detail={"unit": unit.unit})

    def _imports(self, comparison: PipelineComparison, units: list[_Unit], base_sources: SourceTree,
                 head_sources: SourceTree) -> Iterator[Finding]:
        # a module whose code changed anywhere in this pipeline may use a new import:
        # only modules where everything the pipeline uses is unchanged are judged here
        dirty: set[str] = set()
        for match in comparison.steps.matches:
            if match.base.body_fingerprint != match.head.body_fingerprint:
                dirty.update({match.base.path, match.head.path})
                dirty.update(h.path for h in (*match.base.helpers, *match.head.helpers))
        for step in (*comparison.steps.added, *comparison.steps.removed):
            dirty.add(step.path)
        if comparison.base.body_fingerprint != comparison.head.body_fingerprint:
            dirty.update({comparison.base.path, comparison.head.path})
        paths = sorted({u.head_path for u in units if u.head_path == u.base_path} - dirty)
        for path in paths:
            if base_sources.same_text(path, head_sources):
                continue  # an unchanged file has unchanged imports
            old, new = base_sources.imports(path), head_sources.imports(path)
            if old is None or new is None or [i for i, _ in old] == [i for i, _ in new]:
                continue
            old_names = [i for i, _ in old]
            new_names = [i for i, _ in new]
            line = next((n_line for (o, _), (n, n_line) in zip(old, new) if o != n), new[-1][1] if new else 0)
            added = [n for n in new_names if n not in old_names]
            removed = [o for o in old_names if o not in new_names]
            if not added and not removed:
                yield self.finding("PV103", path=path, line=line, kind="imports-reordered", subject=path)
            for name in added:
                where = next(n_line for n, n_line in new if n == name)
                yield self.finding("PV103", path=path, line=where, kind="unused-import-added", subject=path, new=name)
            for name in removed:
                yield self.finding("PV103", path=path, line=line, kind="unused-import-removed", subject=path,
                                   old=name)


__all__ = ["CosmeticPolicy"]
