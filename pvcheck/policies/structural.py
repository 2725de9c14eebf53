"""The ``structural`` policy: what a step computes, and how steps are wired.

* a step's own body changed (PV401), located at the first top-level statement that
  differs; a repo-local helper it uses changed (PV402), located at the helper;
* invocations added or removed (PV403), data or order edges rewired (PV404);
* independent calls reordered with the graph unchanged (PV405, a run);
* anything changed in code the analyzer could not follow (PV406): never a run;
* the pipeline body's own code -- what is not a step call, a step input or configuration,
  and the repo-local code it reaches -- changed (PV407).
* a change in a step's reach that is no definition (PV408): a module-level statement
  with an effect in a module of the reach, a repository file the code reads, located at
  the first differing line; and any pipeline fingerprint change no other finding explains.

Every finding about a changed step shows radon's cyclomatic complexity before and after.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Optional

from pvcheck.config import Config
from pvcheck.model import REACH_EFFECTS as EFFECTS
from pvcheck.model import REACH_FILE as FILE
from pvcheck.model import Decision, Edge, Finding, HelperRef, Pipeline, Step
from pvcheck.model import read_input
from pvcheck.policies.base import Example, Policy, Rule
from pvcheck.policies.conditions import Reach, changed_parameters, reaching
from pvcheck.policies.common import first_changed_line, step_has_detail
from pvcheck.policies.examples import HELPERS, PIPELINE, STEPS, edit, project
from pvcheck.policies.matching import PipelineComparison, StepMatch
from pvcheck.policies.moves import moved_only, names_only, same_code_content, same_content
from pvcheck.policies.sources import SourceTree

_TWO_LOADS = edit(PIPELINE, "    rows = load()\n    train(rows)\n",
                  "    rows = load()\n    extra = load(id=\"extra\")\n    train(rows)\n    train(extra, id=\"train_extra\")\n")

_DYNAMIC_STEPS = edit(STEPS, "    rows = [1, 2, 3]\n", "    rows = getattr(__builtins__, \"list\")()\n")
_DYNAMIC_PIPELINE = edit(PIPELINE, "enable_cache=True", "dynamic=True")

_COMPUTING = edit(PIPELINE, "    train(rows)\n", "    cutoff = len(rows) * 2\n    train(rows, rate=cutoff)\n")
_SEEDED = edit(HELPERS, "def scale", "import random\n\nrandom.seed(7)\n\n\ndef scale")
_READER = edit(HELPERS, "    return value * factor\n",
               "    with open(\"weights.txt\") as handle:\n        return value * factor * float(handle.read())\n")

EdgeKey = tuple[str, str, str, str, str]
#: Kinds of reach entries that are not definitions: PV408's, not PV402's.
REACH_KINDS = frozenset({EFFECTS, FILE})


class StructuralPolicy(Policy):
    name = "structural"
    rules = (
        Rule(
            "PV401", "structural", "a step's body changed: statements, expressions, literals, calls", Decision.VERSION,
            triggers=(
                Example(project(), project(steps=edit(STEPS, "rows = [1, 2, 3]", "rows = [1, 2, 3, 4]")),
                        Decision.VERSION, note="a literal in load changed"),
                Example(project(), project(steps=edit(STEPS, "    total = sum(rows)\n",
                                                      "    total = sum(rows)\n    print(rows.pop())\n")),
                        Decision.VERSION, note="a print whose argument has a side effect"),
            ),
            near_misses=(Example(project(), project(steps=edit(STEPS, "    total = sum(rows)\n",
                                                               "    total = sum(rows)\n    print(total)\n")),
                                 Decision.RUN, note="a print of a plain name is cosmetic (PV105)"),),
        ),
        Rule(
            "PV402", "structural", "a repo-local helper (function, class, constant) used by a step changed, "
            "directly or transitively", Decision.VERSION,
            triggers=(Example(project(), project(helpers=edit(HELPERS, "return value * factor",
                                                              "return round(value * factor, 2)")),
                              Decision.VERSION, note="helpers.scale changed; train calls it"),),
            near_misses=(Example(project(), project(helpers=edit(HELPERS, "return value - 1", "return value - 2")),
                                 Decision.RUN, note="a helper nobody uses"),),
        ),
        Rule(
            "PV403", "structural", "a step invocation was added or removed", Decision.VERSION,
            triggers=(Example(project(), project(pipeline=edit(PIPELINE, "    train(rows)\n",
                                                               "    train(rows)\n    train(rows, id=\"again\")\n")),
                              Decision.VERSION, note="a second train invocation"),),
            near_misses=(Example(project(), project(pipeline=edit(PIPELINE, "    train(rows)\n",
                                                                  "    train(rows=rows)\n")),
                                 Decision.RUN, note="the same invocation written differently"),),
        ),
        Rule(
            "PV404", "structural", "a data edge or an order edge was rewired", Decision.VERSION,
            triggers=(Example(project(pipeline=_TWO_LOADS),
                              project(pipeline=_TWO_LOADS.replace("train(rows)\n", "train(extra)\n", 1)
                                      .replace("train(extra, id=", "train(rows, id=")),
                              Decision.VERSION, note="train and train_extra swap their inputs"),),
            near_misses=(Example(project(pipeline=_TWO_LOADS),
                                 project(pipeline=edit(_TWO_LOADS, "    rows = load()\n    extra = load(id=\"extra\")\n",
                                                       "    extra = load(id=\"extra\")\n    rows = load()\n")),
                                 Decision.RUN, note="independent calls reordered (PV405)"),),
        ),
        Rule(
            "PV405", "structural", "independent step calls reordered, same graph", Decision.RUN,
            triggers=(Example(project(pipeline=_TWO_LOADS),
                              project(pipeline=edit(_TWO_LOADS, "    rows = load()\n    extra = load(id=\"extra\")\n",
                                                    "    extra = load(id=\"extra\")\n    rows = load()\n")),
                              Decision.RUN, note="two loads swapped"),),
            near_misses=(Example(project(pipeline=_TWO_LOADS),
                                 project(pipeline=_TWO_LOADS.replace("train(rows)\n", "train(extra)\n", 1)
                                         .replace("train(extra, id=", "train(rows, id=")),
                                 Decision.VERSION, note="a rewired edge is not a reorder (PV404)"),),
        ),
        Rule(
            "PV407", "structural", "the pipeline body's own code changed (not a step call, a step input or "
            "configuration), or repo-local code it calls", Decision.VERSION,
            triggers=(Example(project(pipeline=_COMPUTING),
                              project(pipeline=edit(_COMPUTING, "len(rows) * 2", "len(rows) * 3")),
                              Decision.VERSION, note="computation in the pipeline body"),),
            near_misses=(Example(project(), project(pipeline=edit(PIPELINE, "train(rows)", "train(rows, rate=0.2)")),
                                 Decision.RUN, note="a literal passed to a step is its configuration (PV2xx)"),),
        ),
        Rule(
            "PV406", "structural", "something changed in a step or pipeline the analyzer cannot follow statically "
            "(dynamic code): never a run", Decision.VERSION,
            triggers=(
                Example(project(steps=edit(_DYNAMIC_STEPS, "@step\ndef load", "@step(enable_cache=True)\ndef load")),
                        project(steps=edit(_DYNAMIC_STEPS, "@step\ndef load", "@step(enable_cache=False)\ndef load")),
                        Decision.VERSION, note="a config change on a step with getattr(): not provably harmless"),
                Example(project(pipeline=_DYNAMIC_PIPELINE),
                        project(pipeline=edit(_DYNAMIC_PIPELINE, "train(rows)", "train(rows, rate=0.2)")),
                        Decision.VERSION, note="a call-site value in a dynamic=True pipeline"),
            ),
            near_misses=(Example(
                project(steps=edit(STEPS, "@step\ndef load", "@step(enable_cache=True)\ndef load")),
                project(steps=edit(STEPS, "@step\ndef load", "@step(enable_cache=False)\ndef load")),
                Decision.RUN, note="the same change on a step the analyzer follows"),),
        ),
        Rule(
            "PV408", "structural", "something else in the reach of a step or pipeline changed: a module-level "
            "statement with an effect, a repository file read by a computable path, or a difference no other "
            "rule explains", Decision.VERSION,
            triggers=(
                Example(project(helpers=_SEEDED), project(helpers=_SEEDED.replace("seed(7)", "seed(8)")),
                        Decision.VERSION, note="random.seed at the top of a module train reaches"),
                Example(project(helpers=_READER, weights_dot_txt="0.5\n"),
                        project(helpers=_READER, weights_dot_txt="0.25\n"), Decision.VERSION,
                        note="a file scale() reads changed"),
            ),
            near_misses=(
                Example(project(helpers=_SEEDED),
                        project(helpers=_SEEDED.replace("random.seed(7)", "random.seed(7)\nprint(\"seeded\")")),
                        Decision.RUN, note="a module-level print is cosmetic"),
                Example(project(helpers=_READER, weights_dot_txt="0.5\n", notes_dot_txt="a\n"),
                        project(helpers=_READER, weights_dot_txt="0.5\n", notes_dot_txt="b\n"), Decision.RUN,
                        note="a file nothing reads"),
            ),
        ),
    )

    def evaluate(self, comparison: PipelineComparison, config: Config) -> Iterable[Finding]:
        found: list[Finding] = []
        for match in comparison.steps.matches:
            reach = list(self._reach(match, comparison))
            found.extend(self._body(match, explained=bool(reach)))
            found.extend(reach)
            found.extend(self._dynamic_step(match))
        found.extend(self._invocations(comparison))
        rewired = list(self._edges(comparison))
        rewired.extend(self._external_inputs(match) for match in comparison.steps.matches
                       if match.base is not match.head and external_inputs(match.base) != external_inputs(match.head))
        found.extend(rewired)
        if not rewired:
            found.extend(self._reorder(comparison))
        found.extend(self._dynamic_pipeline(comparison))
        found.extend(self._pipeline_code(comparison))
        found.extend(self._unexplained(comparison, found))
        yield from found

    # ------------------------------------------------------------------ bodies and helpers
    def _body(self, match: StepMatch, explained: bool = False) -> Iterator[Finding]:
        base, head = match.base, match.head
        if base.body_fingerprint == head.body_fingerprint or same_content(base, head):
            return  # a rename with the same body is the cosmetic policy's PV106; a move PV108
        detail = _step_detail(base, head)
        located = False
        if step_has_detail(base) and step_has_detail(head):
            line = first_changed_line(base.statements, head.statements)
            if line is not None:
                located = True
                yield self.finding("PV401", path=head.path, line=line, step=head.id, kind="body-changed",
                                   subject=head.id, detail=detail)
            for finding in self._helpers(base, head, detail):
                located = True
                yield finding
        if not located and not explained and base.body_fingerprint != head.body_fingerprint:
            dynamic = {"dynamic": True} if (base.dynamic or head.dynamic) else {}
            yield self.finding("PV401", path=head.path, line=head.line, step=head.id, kind="body-changed",
                               subject=head.id, detail={**detail, **dynamic})

    def _helpers(self, base: Step, head: Step, detail: dict[str, Any]) -> Iterator[Finding]:
        old = {h.name: h for h in base.helpers if h.kind not in REACH_KINDS}
        new = {h.name: h for h in head.helpers if h.kind not in REACH_KINDS}
        for name in sorted(set(old) | set(new)):
            before, after = old.get(name), new.get(name)
            if after is not None and before is not None:
                if before.fingerprint != after.fingerprint:
                    yield self.finding("PV402", path=after.path, line=after.line, step=head.id,
                                       kind="helper-changed", subject=name, detail=detail)
            elif after is not None:
                yield self.finding("PV402", path=after.path, line=after.line, step=head.id, kind="helper-added",
                                   subject=name, detail=detail)
            elif before is not None:
                yield self.finding("PV402", path=head.path, line=head.line, step=head.id, kind="helper-removed",
                                   subject=name, detail=detail)

    # ------------------------------------------------------------------ the rest of the reach
    def _reach(self, match: StepMatch, comparison: PipelineComparison) -> Iterator[Finding]:
        """Module-level effects and files read, compared entry by entry."""
        base, head = match.base, match.head
        if base.body_fingerprint == head.body_fingerprint or same_content(base, head):
            return
        before = _effects_by_module(base.helpers)
        after = _effects_by_module(head.helpers)
        for module in sorted(set(before) | set(after)):
            old, new = before.get(module, []), after.get(module, [])
            if [h.fingerprint for h in old] == [h.fingerprint for h in new]:
                continue
            differing = next((i for i, (a, b) in enumerate(zip(old, new)) if a.fingerprint != b.fingerprint),
                             min(len(old), len(new)))
            located = new[differing] if differing < len(new) else (new[-1] if new else None)
            path = located.path if located is not None else old[0].path
            line = located.line if located is not None else 1
            yield self.finding("PV408", path=path, line=line, step=head.id, kind="module-effect-changed",
                               subject=path)
        old_files = {h.name: h for h in base.helpers if h.kind == FILE}
        new_files = {h.name: h for h in head.helpers if h.kind == FILE}
        for name in sorted(set(old_files) | set(new_files)):
            was, now = old_files.get(name), new_files.get(name)
            if was is not None and now is not None and was.fingerprint == now.fingerprint:
                continue
            path = (now or was).path  # type: ignore[union-attr]
            if now is None:
                yield self.finding("PV408", path=head.path, line=head.line, step=head.id, kind="file-read-removed",
                                   subject=path)
            elif was is None:
                yield self.finding("PV408", path=path, line=1, step=head.id, kind="file-read-added", subject=path)
            else:
                line = _first_different_line(comparison.base_sources, comparison.head_sources, path) or 1
                yield self.finding("PV408", path=path, line=line, step=head.id, kind="file-changed", subject=path)

    def _unexplained(self, comparison: PipelineComparison, found: list[Finding]) -> Iterator[Finding]:
        """The pipeline's fingerprint differs and nothing above says why (its module's
        effects, say): never a run by default."""
        base, head = comparison.base, comparison.head
        if base.fingerprint == head.fingerprint or any(f.decision != Decision.RUN for f in found):
            return
        if comparison.steps.added or comparison.steps.removed or base.graph_fingerprint != head.graph_fingerprint:
            return  # renames and reorders: the cosmetic and identity policies explain those
        if names_only(base, head):
            return  # helpers or constants moved or renamed, nothing else: PV108/PV109 say which
        if any(m.base.fingerprint != m.head.fingerprint and not moved_only(m.base, m.head)
               for m in comparison.steps.matches):
            return  # a step's code changed: the signature policy or the rules above say how
        line = head.line
        if comparison.base_sources is not None and comparison.head_sources is not None:
            line = _first_different_line(comparison.base_sources, comparison.head_sources, head.path) or head.line
        yield self.finding("PV408", path=head.path, line=line, kind="reach-changed", subject=head.name)

    # ------------------------------------------------------------------ the graph
    def _invocations(self, comparison: PipelineComparison) -> Iterator[Finding]:
        head = comparison.head
        for step in comparison.steps.removed:
            yield self.finding("PV403", path=head.path, line=head.line, step=step.id, kind="step-removed",
                               subject=step.id, old=step.function)
        for step in comparison.steps.added:
            yield self.finding("PV403", path=step.call_path or head.path, line=step.call_line or head.line,
                               step=step.id, kind="step-added", subject=step.id, new=step.function)

    def _edges(self, comparison: PipelineComparison) -> Iterator[Finding]:
        mapping = {m.base.id: m.head.id for m in comparison.steps.matches}
        added_ids = {s.id for s in comparison.steps.added}
        before: set[EdgeKey] = set()
        for edge in comparison.base.edges:
            if edge.source in mapping and edge.target in mapping:
                before.add(_key(edge, mapping[edge.source], mapping[edge.target]))
        after = {_key(e, e.source, e.target) for e in comparison.head.edges
                 if e.source not in added_ids and e.target not in added_ids}
        head_steps = {s.id: s for s in comparison.head.steps}
        for key in sorted(before - after):
            yield self._edge_finding(key, "removed", head_steps.get(key[1]), comparison.head)
        for key in sorted(after - before):
            yield self._edge_finding(key, "added", head_steps.get(key[1]), comparison.head)

    def _edge_finding(self, key: EdgeKey, what: str, target: Optional[Step], pipeline: Pipeline) -> Finding:
        source, target_id, kind, output, input_name = key
        path = (target.call_path if target else "") or pipeline.path
        line = (target.call_line if target else 0) or pipeline.line
        if kind == "data":
            subject = f"{source}.{output or 'output'} -> {target_id}.{input_name or '?'}"
        else:
            subject = f"{source} -> {target_id}"
        edge = {"edge": kind, "source": source, "target": target_id, "output": output or None,
                "input": input_name or None}
        return self.finding("PV404", path=path, line=line, step=target_id, kind=f"edge-{what}", subject=subject,
                            detail=edge)

    def _external_inputs(self, match: StepMatch) -> Finding:
        """Data read from outside the pipeline (a Dagster asset of another job) or the
        condition a task runs under changed: that rewires the graph, it is no setting."""
        head = match.head
        before, after = external_inputs(match.base), external_inputs(head)
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        return self.finding("PV404", path=head.call_path or head.path, line=head.call_line or head.line,
                            step=head.id, kind="upstream-changed", subject=head.id,
                            old={k: before[k] for k in changed if k in before},
                            new={k: after[k] for k in changed if k in after})

    def _reorder(self, comparison: PipelineComparison) -> Iterator[Finding]:
        matches = comparison.steps.matches
        if len(matches) < 2 or any(not m.base.call_line or not m.head.call_line for m in matches):
            return
        base_order = [m.head.id for m in sorted(matches, key=lambda m: (m.base.call_path, m.base.call_line))]
        head_order = [m.head.id for m in sorted(matches, key=lambda m: (m.head.call_path, m.head.call_line))]
        if base_order != head_order:
            moved = [a for a, b in zip(base_order, head_order) if a != b]
            head = comparison.head
            yield self.finding("PV405", path=head.path, line=head.line, kind="calls-reordered", subject=head.name,
                               old=base_order, new=head_order, detail={"moved": moved})

    # ------------------------------------------------------------------ dynamic code
    def _dynamic_step(self, match: StepMatch) -> Iterator[Finding]:
        base, head = match.base, match.head
        if not (base.dynamic or head.dynamic):
            return
        if (base.fingerprint, base.config_fingerprint) == (head.fingerprint, head.config_fingerprint):
            return
        yield self.finding("PV406", path=head.path, line=head.line, step=head.id, kind="dynamic-step-changed",
                           subject=head.id)

    def _dynamic_pipeline(self, comparison: PipelineComparison) -> Iterator[Finding]:
        base, head = comparison.base, comparison.head
        # a Prefect flow whose `if`/`for` over parameters are conditional parts of its graph
        # (coverage["conditions"]): not dynamic, but a parameter reaching one of them still
        # decides which tasks run
        conditional = bool(base.coverage.get("conditions") or head.coverage.get("conditions"))
        if not (base.dynamic or head.dynamic or conditional):
            return
        moved = names_only(base, head)  # the pipeline by content is the same: its body too
        code = [(base.fingerprint, head.fingerprint) if not moved else ("", ""),
                (base.graph_fingerprint, head.graph_fingerprint),
                (base.body_fingerprint, head.body_fingerprint) if not moved else ("", "")]
        code.extend((m.base.fingerprint, m.head.fingerprint) for m in comparison.steps.matches
                    if not moved_only(m.base, m.head))
        settings = [(base.config_fingerprint, head.config_fingerprint)]
        settings.extend((m.base.config_fingerprint, m.head.config_fingerprint) for m in comparison.steps.matches)
        # a lock file may not record every fingerprint: compare the ones both sides have
        steps_changed = bool(comparison.steps.added or comparison.steps.removed)
        if steps_changed or any(old and new and old != new for old, new in code):
            if not (base.dynamic or head.dynamic):
                return  # code changed in a followed flow: the other rules report it
            yield self.finding("PV406", path=head.path, line=head.line, kind="dynamic-pipeline-changed",
                               subject=head.name)
            return
        if not any(old and new and old != new for old, new in settings):
            return
        # only configuration changed: a run, unless a changed value can decide which steps exist
        reach = self._configuration_reach(comparison)
        if reach is None:
            yield self.finding("PV406", path=head.path, line=head.line, kind="dynamic-config-changed",
                               subject=head.name)
        elif reach:
            first = reach[0]
            yield self.finding("PV406", path=head.path, line=first.line, kind="parameter-decides-steps",
                               subject=first.parameter, detail={"pipeline": head.name, "code": first.code})

    def _configuration_reach(self, comparison: PipelineComparison) -> Optional[list[Reach]]:
        """Where changed pipeline parameters reach a build-time decision; None when that
        cannot be told. Only called when the code is unchanged (equal body and graph
        fingerprints), so the head's body stands for both revisions (a lock-file base has
        no text)."""
        base, head = comparison.base, comparison.head
        changed = changed_parameters(base, head)
        if changed is None:
            return None
        steps = {s.function for s in (*base.steps, *head.steps)}
        return reaching(head, comparison.head_sources, changed, steps)


    # ------------------------------------------------------------------ the pipeline's own code
    def _pipeline_code(self, comparison: PipelineComparison) -> Iterator[Finding]:
        base, head = comparison.base, comparison.head
        if not base.code_fingerprint or not head.code_fingerprint or base.code_fingerprint == head.code_fingerprint:
            return  # equal, or a side (a lock file, a framework) that does not record it
        if same_code_content(base, head):
            return  # only helpers it calls moved or were renamed: the cosmetic policy's PV108
        located = False
        if base.statements and head.statements:
            line = first_changed_line(base.statements, head.statements)
            if line is not None:
                located = True
                yield self.finding("PV407", path=head.path, line=line, kind="pipeline-code-changed",
                                   subject=head.name)
        old = {h.name: h for h in base.helpers}
        new = {h.name: h for h in head.helpers}
        for name in sorted(set(old) | set(new)):
            before, after = old.get(name), new.get(name)
            if before is not None and after is not None and before.fingerprint == after.fingerprint:
                continue
            located = True
            if after is None:
                yield self.finding("PV407", path=head.path, line=head.line, kind="pipeline-helper-removed",
                                   subject=name, detail={"pipeline": head.name})
            else:
                kind = "pipeline-helper-changed" if before is not None else "pipeline-helper-added"
                yield self.finding("PV407", path=after.path, line=after.line, kind=kind, subject=name,
                                   detail={"pipeline": head.name})
        before_params = [(p.name, p.kind, p.annotation) for p in base.parameters]
        after_params = [(p.name, p.kind, p.annotation) for p in head.parameters]
        if before_params != after_params and (base.parameters or head.parameters):
            located = True
            yield self.finding("PV407", path=head.path, line=head.line, kind="pipeline-parameters-changed",
                               subject=head.name, old=[[n, a] for n, _, a in before_params],
                               new=[[n, a] for n, _, a in after_params])
        if not located:
            yield self.finding("PV407", path=head.path, line=head.line, kind="pipeline-code-changed",
                               subject=head.name)


def _step_detail(base: Step, head: Step) -> dict[str, Any]:
    """What a finding about a changed step says besides the change: radon's complexity
    before and after, and the step's old id and function when it was renamed too."""
    detail: dict[str, Any] = {"complexity": [base.complexity, head.complexity]}
    if base.id != head.id:
        detail["was"] = base.id
    if base.function != head.function:
        detail["function"] = [base.function, head.function]
    return detail


def _effects_by_module(helpers: Iterable[HelperRef]) -> dict[str, list[HelperRef]]:
    """A step's module-level effect entries per module, in source order."""
    grouped: dict[str, list[HelperRef]] = {}
    for helper in sorted((h for h in helpers if h.kind == EFFECTS), key=lambda h: h.name):
        grouped.setdefault(helper.name.rsplit(".<effects>#", 1)[0], []).append(helper)
    return grouped


def _first_different_line(base: Optional[SourceTree], head: Optional[SourceTree], path: str) -> int:
    """The first line at which a text file differs between the two trees (1 when either
    side cannot be read as text, e.g. a binary file or a lock-file base; 0 when its lines
    are the same)."""
    old = base.text(path) if base is not None else None
    new = head.text(path) if head is not None else None
    if old is None or new is None:
        return 1
    old_lines, new_lines = old.splitlines(), new.splitlines()
    for number, (a, b) in enumerate(zip(old_lines, new_lines), start=1):
        if a != b:
            return number
    if len(old_lines) == len(new_lines):
        return 0  # the same lines (the file is not what changed): no line to point at
    return min(len(old_lines), len(new_lines)) + 1


def _key(edge: Edge, source: str, target: str) -> EdgeKey:
    return (source, target, edge.kind, edge.output or "", edge.input or "")



def external_inputs(step: Step) -> dict[str, object]:
    """Inputs that shape the graph rather than set a value: data from outside the
    pipeline (``{"$asset": key}``, ``$deps``) and the condition a task runs under
    (``$condition``)."""
    return {k: v for k, v in step.inputs.items() if read_input(k, v).shapes_graph}


__all__ = ["StructuralPolicy", "external_inputs"]
