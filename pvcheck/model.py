"""The plain data model shared by the analyzer, the policies and every output layer.

Everything here is a frozen dataclass holding JSON-compatible values, so a model can be
serialised, cached and compared without knowing where it came from. Nothing in this
module reads files, parses code or prints.

Configuration values (decorator keyword arguments, YAML run configs, parameter
defaults, literal inputs) are represented as JSON-compatible Python values. Code that
is not a literal is represented by a small tagged dict so that it still compares
meaningfully:

* ``{"$call": "zenml.config.DockerSettings", "requirements": [...]}`` -- a call with
  its keyword arguments (positional ones under ``"$args"``),
* ``{"$ref": "pkg.module.name"}`` -- a reference to a named object,
* ``{"$expr": "<normalised source>"}`` -- any other expression.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, Optional

#: Fingerprint scheme tag. Bump when the canonical form changes in any way.
FINGERPRINT_SCHEME = "fp1"

#: What fingerprints of the same code come out as, numbered; ``pvcheck.lock`` records it
#: (``fingerprints = 5``; a lock without the key is scheme 1), and a lock of another scheme
#: is not compared fingerprint by fingerprint (:mod:`pvcheck.lock`). Bump it in the same
#: commit as ANY change that gives unchanged code a different fingerprint (canonical form,
#: what a fingerprint covers, the digest) -- tests/test_lock_scheme.py holds it together
#: with the golden fingerprints. 2: pipeline bodies (Airflow/Dagster), layout-free text of
#: code pvcheck cannot follow, dynamic helpers, ``x[a,]`` canonical, content fingerprints.
#: 3: a repository file passed to any call is read (``OmegaConf.load("c.yaml")``, a repo
#: helper given a path constant); Airflow ids computed statically (``.format``, ``%``),
#: DAG wrappers, a call returning a framework object is no import-time effect; KFP YAML
#: specs, importers, wrapped functions and chained task calls read, prebuilt components'
#: pins as environment; Prefect gates over task results, script-folder imports, PEP 723
#: requirements; imports and materializers inside sub-projects of a collection, ZenML configured step
#: copies and ``.map``/``.submit``: the goldens hold none of these, real projects do.
#: 4: a dynamic helper (a materializer using ``getattr``) by its layout-free code, as
#: dynamic step code already was, not its token stream: a trailing comma a formatter
#: adds is no new version (zenml-projects 71e6c3b9, ``black`` over omni-reader).
#: 5: a function's assignment to a local nothing reads is its value's evaluation alone
#: (``x = f()`` is ``f()``, ``x = []`` nothing: PV110; zenml-projects a2410ff3); a
#: ``global X`` declaration is its names as written, no longer names "defined nowhere"
#: that made the function conservative (giga-dagster's lazy clients); ``getattr(obj,
#: "name", default)`` on a local or parameter is followed code, not PV010 (dynamic steps:
#: giga-dagster 121 -> 51 of 173, zenml-projects 16 -> 7 of 248); a repo module used as
#: a value (``mod = helpers; mod.scale()``), or imported by a literal name
#: (``import_module("helpers")``, ``sys.modules["helpers"]``), reaches all its definitions
#: (was: none, a missed version), as does an attribute a repo module does not bind
#: (``helpers.__dict__``); a step's parameter defaults put what they refer to in its reach.
#: 6: an f-string's format spec (``f"{x:.2f}"``) and raw prefix are code (a missed
#: version); a function or class defined twice under ``if``/``try`` is both definitions;
#: the module-level code of the packages a reached module is in is in the reach
#: (``random.seed`` in ``utils/__init__.py``);
#: a step's decorators other than its framework's are its code (``@torch.no_grad()``, a
#: project's wrapper), and the repo functions and classes a framework decorator names are
#: its reach (``cache_key_fn=``, ``on_failure=[...]``); a Dagster step's IO managers
#: (``io_manager_key=``, ``io_manager`` by default) are its resources; ``globals()``, ``eval``
#: and ``exec`` reach every top-level definition of their module; the hooks an invocation's
#: options name (``with_options(on_failure=alert)``) and a Dagster asset's checks are in
#: its reach. All were missed versions.
FINGERPRINT_SCHEME_NUMBER = 6

JSONValue = Any


class Decision(str, enum.Enum):
    """What a change means for a pipeline, ordered ``run < version < pipeline``."""

    RUN = "run"
    VERSION = "version"
    PIPELINE = "pipeline"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    def __lt__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, Decision):
            return NotImplemented
        return self.severity < other.severity

    def __le__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, Decision):
            return NotImplemented
        return self.severity <= other.severity

    def __gt__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, Decision):
            return NotImplemented
        return self.severity > other.severity

    def __ge__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, Decision):
            return NotImplemented
        return self.severity >= other.severity

    def __str__(self) -> str:
        return self.value

    @classmethod
    def most_severe(cls, decisions: Iterable["Decision"]) -> "Decision":
        """The most severe of ``decisions``; ``run`` when there are none."""
        result = cls.RUN
        for decision in decisions:
            if decision > result:
                result = decision
        return result


_SEVERITY = {Decision.RUN: 0, Decision.VERSION: 1, Decision.PIPELINE: 2}


class Severity(str, enum.Enum):
    """How bad an analyzer diagnostic is."""

    ERROR = "error"  # part of the tree could not be analyzed (syntax error, bad file ...)
    WARNING = "warning"  # analyzed, but conservatively (dynamic code, unresolved name ...)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Diagnostic:
    """Something the analyzer could not analyze, or could only analyze conservatively.

    ``code`` is a stable identifier (``PV0xx``), ``hint`` says what the user can do.
    """

    code: str
    severity: Severity
    message: str
    path: str
    line: int = 0
    hint: str = ""

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "hint": self.hint,
        }

    def one_line(self) -> str:
        """``path:line: message (hint)`` -- the form errors are printed in."""
        where = f"{self.path}:{self.line}" if self.line else self.path
        text = f"{where}: {self.code} {self.message}"
        return f"{text}; {self.hint}" if self.hint else text


@dataclass(frozen=True)
class Parameter:
    """One parameter of a step or pipeline function."""

    name: str
    kind: str  # positional_only | positional_or_keyword | var_positional | keyword_only | var_keyword
    annotation: Optional[str] = None  # normalised annotation source, names fully qualified
    has_default: bool = False
    default: JSONValue = None

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "name": self.name,
            "kind": self.kind,
            "annotation": self.annotation,
            "has_default": self.has_default,
            "default": self.default,
        }


@dataclass(frozen=True)
class Output:
    """One declared output of a step (``output``, ``output_0`` ... or an ``Annotated`` name)."""

    name: str
    annotation: Optional[str] = None

    def to_json(self) -> dict[str, JSONValue]:
        return {"name": self.name, "annotation": self.annotation}


REACH_EFFECTS = "effects"  # HelperRef kind: one module-level statement with an effect
REACH_FILE = "file"  # HelperRef kind: a repository file read by a computable path


@dataclass(frozen=True)
class HelperRef:
    """A repo-local definition a step depends on, directly or transitively; or another
    part of its reach: a module-level statement with an effect (kind ``effects``, named
    ``module.<effects>#NNN``), a repository file it reads (kind ``file``, ``file:path``)."""

    name: str  # fully qualified name: package.module.function
    kind: str  # function | class | constant
    path: str
    line: int
    fingerprint: str  # fingerprint of the definition's own normalised form
    # what it computes with the definitions it calls or reads by content, not by name
    # (equal for a helper moved or renamed with the same body; "" where not computed)
    content: str = ""

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "name": self.name,
            "kind": self.kind,
            "path": self.path,
            "line": self.line,
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True)
class StatementPrint:
    """The fingerprint of one top-level statement of a body, with its line.

    Policies use the sequence of these to point at the first line that changed.
    """

    line: int
    fingerprint: str


#: Where a configuration value came from (:attr:`ConfigSource.origin`), recorded by the analyzer.
ORIGIN_DECORATOR = "decorator"  # a keyword where the step or pipeline is defined (decorator, operator, node)
ORIGIN_OPTIONS = "options"  # with_options / configure / task methods that set options
ORIGIN_RUN_CONFIG = "run-config"  # a configuration file (a YAML run config, Kedro conf/, a Metaflow JSON config)
ORIGIN_CALL_SITE = "call-site"  # a value the pipeline is called with (``training(days=60)`` in a run script)
ORIGIN_RESOURCE = "resource"  # arguments of a resource a Dagster ``Definitions(resources={...})`` binds
ORIGINS = (ORIGIN_DECORATOR, ORIGIN_OPTIONS, ORIGIN_RUN_CONFIG, ORIGIN_CALL_SITE, ORIGIN_RESOURCE)


@dataclass(frozen=True, eq=False)
class ConfigSource:
    """Where one configuration key is written, and how it was set (``origin``, one of
    :data:`ORIGINS`; empty when a framework plug-in does not say).

    It reads like the ``(path, line)`` pair it replaced -- unpacking, indexing and
    comparing with such a pair still work -- so code written against the pair keeps working.
    """

    path: str
    line: int
    origin: str = ""

    def __iter__(self) -> Iterator[Any]:
        return iter((self.path, self.line))

    def __len__(self) -> int:
        return 2

    def __getitem__(self, index: int) -> Any:
        return (self.path, self.line)[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ConfigSource):
            return (self.path, self.line, self.origin) == (other.path, other.line, other.origin)
        if isinstance(other, tuple):
            return (self.path, self.line) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.path, self.line))


def config_source(value: Any, origin: str = "") -> ConfigSource:
    """``value`` (a :class:`ConfigSource` or a ``(path, line)`` pair) as a ConfigSource;
    ``origin`` is given to a pair, or to a source that has none."""
    if isinstance(value, ConfigSource):
        return value if value.origin or not origin else ConfigSource(value.path, value.line, origin)
    path, line = value
    return ConfigSource(path, line, origin)


@dataclass(frozen=True)
class Step:
    """One step *invocation* inside a pipeline, with what is known about its function.

    ``fingerprint`` is the code identity of the step: body (including repo-local helpers)
    and signature. Configuration is fingerprinted separately because a configuration
    change is, by default, only a new run.
    """

    id: str  # invocation id
    function: str  # fully qualified name of the step function
    name: str  # the step's declared name (decorator ``name=`` or the function name)
    path: str  # where the step function is defined
    line: int
    call_path: str = ""  # where it is invoked
    call_line: int = 0
    kind: str = "step"  # framework specific: step, task, op, asset, component, operator ...
    parameters: tuple[Parameter, ...] = ()
    outputs: tuple[Output, ...] = ()
    inputs: Mapping[str, JSONValue] = field(default_factory=dict)
    config: Mapping[str, JSONValue] = field(default_factory=dict)
    config_lines: Mapping[str, ConfigSource | tuple[str, int]] = field(default_factory=dict)
    fingerprint: str = ""
    body_fingerprint: str = ""
    signature_fingerprint: str = ""
    config_fingerprint: str = ""
    statements: tuple[StatementPrint, ...] = ()
    helpers: tuple[HelperRef, ...] = ()
    sketch: tuple[int, ...] = ()  # bottom-k shingle hashes of the normalised body
    complexity: int = 0  # radon cyclomatic complexity of the step function
    dynamic: bool = False  # the analyzer could not follow all of this step's code
    # the body fingerprint with repo-local references by content, not by qualified name:
    # equal when only helpers or constants moved or were renamed, or a literal became a
    # constant of the same value (PV108/PV109); "" where it does not apply (dynamic code,
    # a reach that rebinds a repo-local name, a lock file from before it)
    content_fingerprint: str = ""

    def to_json(self, full: bool = False) -> dict[str, JSONValue]:
        data: dict[str, JSONValue] = {
            "id": self.id,
            "function": self.function,
            "path": self.path,
            "line": self.line,
            "fingerprint": self.fingerprint,
        }
        if full:
            data.update(
                {
                    "name": self.name,
                    "kind": self.kind,
                    "call_path": self.call_path,
                    "call_line": self.call_line,
                    "body_fingerprint": self.body_fingerprint,
                    "signature_fingerprint": self.signature_fingerprint,
                    "config_fingerprint": self.config_fingerprint,
                    "parameters": [p.to_json() for p in self.parameters],
                    "outputs": [o.to_json() for o in self.outputs],
                    "inputs": dict(self.inputs),
                    "config": dict(self.config),
                    "helpers": [h.to_json() for h in self.helpers],
                    "complexity": self.complexity,
                    "dynamic": self.dynamic,
                }
            )
        return data


@dataclass(frozen=True)
class Edge:
    """A dependency between two invocations: ``data`` (an output passed on) or ``order``."""

    source: str
    target: str
    kind: str  # "data" | "order"
    output: Optional[str] = None  # the source's output name, for data edges
    input: Optional[str] = None  # the target's parameter name, for data edges

    def to_json(self) -> dict[str, JSONValue]:
        data: dict[str, JSONValue] = {"source": self.source, "target": self.target, "kind": self.kind}
        if self.kind == "data":
            data["output"] = self.output
            data["input"] = self.input
        return data


@dataclass(frozen=True)
class Pipeline:
    """One pipeline (DAG, flow, job ...) with its step graph, configuration and fingerprints."""

    name: str  # declared name
    framework: str
    function: str  # fully qualified name of the pipeline function or class
    module: str
    path: str
    line: int
    parameters: tuple[Parameter, ...] = ()
    steps: tuple[Step, ...] = ()  # invocations, topologically ordered
    edges: tuple[Edge, ...] = ()
    config: Mapping[str, JSONValue] = field(default_factory=dict)
    config_lines: Mapping[str, ConfigSource | tuple[str, int]] = field(default_factory=dict)
    fingerprint: str = ""  # graph + every step's code fingerprint
    graph_fingerprint: str = ""  # the shape of the graph: ids, functions, edges
    config_fingerprint: str = ""
    body_fingerprint: str = ""  # the pipeline function's own normalised body
    dynamic: bool = False  # part of the graph could not be followed statically
    # the pipeline body's code that is not a step call, a step input or configuration,
    # with the repo-local code it reaches (empty: a framework that does not compute it)
    code_fingerprint: str = ""
    statements: tuple[StatementPrint, ...] = ()  # per statement of that code, to locate a change
    helpers: tuple[HelperRef, ...] = ()  # repo-local definitions that code reaches
    # what the analysis covered: steps_found, calls_not_followed [{call, path, line}], files_read
    coverage: Mapping[str, JSONValue] = field(default_factory=dict)
    # ``fingerprint`` with repo-local references by content (steps' and the pipeline code's
    # content fingerprints): equal when only helpers or constants moved or were renamed
    content_fingerprint: str = ""
    code_content: str = ""  # ``code_fingerprint`` by content ("" where it does not apply)

    def step(self, invocation_id: str) -> Optional[Step]:
        for step in self.steps:
            if step.id == invocation_id:
                return step
        return None

    def to_json(self, full: bool = False) -> dict[str, JSONValue]:
        data: dict[str, JSONValue] = {
            "name": self.name,
            "framework": self.framework,
            "path": self.path,
            "line": self.line,
            "fingerprint": self.fingerprint,
            "steps": [s.to_json(full) for s in self.steps],
            "edges": [e.to_json() for e in self.edges],
        }
        if self.coverage:
            data["coverage"] = {key: self.coverage[key] for key in sorted(self.coverage)}
        if full:
            data.update(
                {
                    "code_fingerprint": self.code_fingerprint,
                    "function": self.function,
                    "module": self.module,
                    "graph_fingerprint": self.graph_fingerprint,
                    "config_fingerprint": self.config_fingerprint,
                    "body_fingerprint": self.body_fingerprint,
                    "parameters": [p.to_json() for p in self.parameters],
                    "config": dict(self.config),
                    "dynamic": self.dynamic,
                }
            )
        return data


@dataclass(frozen=True)
class Project:
    """Everything the analyzer found in one tree (one revision)."""

    root: str  # where it was scanned; never part of a fingerprint
    pipelines: tuple[Pipeline, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    files_scanned: int = 0
    lines_scanned: int = 0

    def pipelines_named(self, name: str) -> tuple[Pipeline, ...]:
        return tuple(p for p in self.pipelines if p.name == name)

    def to_json(self, full: bool = False) -> dict[str, JSONValue]:
        return {
            "schema": "pvcheck.scan/1",
            "pipelines": [p.to_json(full) for p in self.pipelines],
            "diagnostics": [d.to_json() for d in self.diagnostics],
        }


# --------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class Finding:
    """One reason for a decision, as data: what changed (``kind``, ``subject``), from what
    to what (``old``, ``new``), where (``path``, ``line``, ``step``) and by which rule.

    ``kind`` is a short stable name of the rule's variant (``body-changed``,
    ``config-value-changed`` ...; :mod:`pvcheck.findings` lists them). ``old``/``new`` are
    JSON values (``None`` when not applicable), ``detail`` holds the other facts the
    sentence uses (complexity, where a configuration value came from ...).

    ``message`` is the sentence, without the location: every output renders location in
    its own way. Built-in findings leave it empty and it is rendered from the fields by
    :meth:`explain` (one renderer for every format); a plug-in may pass its own sentence.
    """

    rule: str  # PV101 ...
    policy: str  # cosmetic | config | signature | structural | identity | a plugin's name
    decision: Decision
    message: str = ""
    path: str = ""
    line: int = 0
    step: Optional[str] = None  # invocation id, when the finding concerns one step
    kind: str = ""
    subject: str = ""  # what changed: a step id, a helper's qualified name, a configuration key ...
    old: JSONValue = None
    new: JSONValue = None
    detail: Mapping[str, JSONValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.message and self.kind:
            from pvcheck.findings import explain

            object.__setattr__(self, "message", explain(self))

    def __hash__(self) -> int:  # old/new/detail may be lists or dicts
        return hash((self.rule, self.policy, self.decision, self.message, self.path, self.line, self.step,
                     self.kind, self.subject, _frozen(self.old), _frozen(self.new), _frozen(self.detail)))

    def explain(self, where: bool = False) -> str:
        """The sentence; with ``where``, followed by `` at path:line`` (for outputs that have
        no location column of their own)."""
        if not where or not self.path:
            return self.message
        return f"{self.message} at {self.path}:{self.line}" if self.line else f"{self.message} in {self.path}"

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "rule": self.rule,
            "policy": self.policy,
            "decision": self.decision.value,
            "kind": self.kind,
            "subject": self.subject,
            "old": _json(self.old),
            "new": _json(self.new),
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "step": self.step,
            "detail": _json(dict(self.detail)),
        }


def _json(value: Any) -> JSONValue:
    """``value`` as JSON data: a model object by its ``to_json()`` (a typed value a policy
    put into ``old``/``new``), containers element by element."""
    if hasattr(value, "to_json"):
        return value.to_json()
    if isinstance(value, Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    return value


def _frozen(value: JSONValue) -> Any:
    """A hashable stand-in for a JSON value (dicts by sorted items)."""
    if hasattr(value, "to_json"):
        return _frozen(value.to_json())
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _frozen(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    return value


class Status(str, enum.Enum):
    UNCHANGED = "unchanged"
    MODIFIED = "modified"
    ADDED = "added"
    REMOVED = "removed"
    RENAMED = "renamed"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Impact:
    """Which steps of a changed pipeline run again and which stay cached (step ids, in
    graph order), under the framework's cache rules (``assumption`` says which)."""

    changed: tuple[tuple[str, str], ...] = ()  # (step, why): its own reach changed
    upstream: tuple[tuple[str, str], ...] = ()  # (step, the re-running step upstream of it)
    uncached: tuple[tuple[str, str], ...] = ()  # (step, why): runs whatever changed (no cache)
    cached: tuple[str, ...] = ()
    upstream_reason: str = "an input changes"
    assumption: str = ""

    @property
    def reruns(self) -> int:
        return len(self.changed) + len(self.upstream) + len(self.uncached)

    @property
    def total(self) -> int:
        return self.reruns + len(self.cached)

    def summary(self) -> str:
        """``3 of 9 steps re-run; 6 stay cached``."""
        text = f"{self.reruns} of {self.total} step{'s' if self.total != 1 else ''} re-run"
        if self.uncached:
            text += f" ({len(self.uncached)} not cached at all)"
        return text + f"; {len(self.cached)} stay cached"

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "changed": [{"step": step, "reason": why} for step, why in self.changed],
            "upstream": [{"step": step, "because_of": source} for step, source in self.upstream],
            "uncached": [{"step": step, "reason": why} for step, why in self.uncached],
            "cached": list(self.cached),
            "summary": self.summary(),
            "assumption": self.assumption,
        }


@dataclass(frozen=True)
class PipelineChange:
    """The comparison of one pipeline between two revisions."""

    name: str
    framework: str
    path: str
    status: Status
    decision: Optional[Decision]  # None for removed pipelines
    base: Optional[Pipeline] = None
    head: Optional[Pipeline] = None
    findings: tuple[Finding, ...] = ()
    continuity: Optional[float] = None
    step_matches: Mapping[str, str] = field(default_factory=dict)  # base id -> head id
    impact: Optional[Impact] = None  # which steps re-run; None for a removed pipeline

    @property
    def base_fingerprint(self) -> Optional[str]:
        return self.base.fingerprint if self.base else None

    @property
    def head_fingerprint(self) -> Optional[str]:
        return self.head.fingerprint if self.head else None

    def to_json(self) -> dict[str, JSONValue]:
        data: dict[str, JSONValue] = {
            "name": self.name,
            "framework": self.framework,
            "path": self.path,
            "status": self.status.value,
            "decision": self.decision.value if self.decision else None,
            "base_fingerprint": self.base_fingerprint,
            "head_fingerprint": self.head_fingerprint,
            "continuity": self.continuity,
            "findings": [f.to_json() for f in self.findings],
            "impact": self.impact.to_json() if self.impact is not None else None,
        }
        from pvcheck.resume import RESUMABLE_FRAMEWORKS, resume_from

        if self.framework in RESUMABLE_FRAMEWORKS:  # Metaflow: the step `resume` must start from
            data["resume_from"] = resume_from(self)
        return data


@dataclass(frozen=True)
class Report:
    """The comparison of two revisions: one change per pipeline."""

    pipelines: tuple[PipelineChange, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def summary(self) -> dict[str, int]:
        counts = {d.value: 0 for d in Decision}
        for change in self.pipelines:
            if change.decision is not None:
                counts[change.decision.value] += 1
        counts["removed"] = sum(1 for c in self.pipelines if c.status is Status.REMOVED)
        return counts

    @property
    def decision(self) -> Decision:
        return Decision.most_severe(c.decision for c in self.pipelines if c.decision)

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "schema": "pvcheck.diff/1",
            "pipelines": [c.to_json() for c in self.pipelines],
            "summary": self.summary,
            "diagnostics": [d.to_json() for d in self.diagnostics],
        }


# ---------------------------------------------------------------------- step inputs
# What a step invocation receives, typed. Frameworks build these; a Step keeps them in
# their serialized, tagged form (``Step.inputs``: what JSON output, the lock, the cache
# and every fingerprint have always held), and the policies and output layers read them
# back with :func:`read_inputs` instead of testing tags themselves:
#
# * ``{"$step": id, "output": name}`` (``"output": [names]`` for a whole tuple result,
#   no ``output`` for an Airflow XCom) -- :class:`FromStep`;
# * ``{"$asset": key, ...}`` (a Kedro dataset with its catalog keys, a Dagster asset
#   outside the job) -- :class:`FromAsset`;
# * ``{"$param": name}`` -- :class:`FromParameter`;
# * under the input name ``$condition``, what the step runs under -- :class:`RunCondition`;
# * under another ``$`` name (``$deps``, Kedro's ``$outputs``) -- :class:`GraphInput`;
# * anything else -- :class:`LiteralInput` (a list of step outputs too: compared as a
#   value, its edges are drawn separately).


@dataclass(frozen=True)
class FromStep:
    """An output of another invocation of the pipeline."""

    step: str
    #: one output, the names of a tuple result (a list in the tagged form), or None: the
    #: invocation's whole result (the tagged form has no ``output`` then)
    output: Optional[str | tuple[str, ...]] = None

    shapes_graph = False  # the edge is in the graph already
    is_value = False

    def tagged(self) -> JSONValue:
        if self.output is None:
            return {"$step": self.step}
        return {"$step": self.step, "output": list(self.output) if isinstance(self.output, tuple) else self.output}


@dataclass(frozen=True)
class FromAsset:
    """Data from outside the pipeline, by its key, with what the framework knows of it."""

    key: JSONValue
    details: Mapping[str, JSONValue] = field(default_factory=dict)

    shapes_graph = True
    is_value = False

    def tagged(self) -> JSONValue:
        return {"$asset": self.key, **{k: tagged(v) for k, v in self.details.items()}}


@dataclass(frozen=True)
class FromParameter:
    """A parameter of the pipeline function, passed on unchanged."""

    name: str

    shapes_graph = False
    is_value = True  # compared as a value, like a literal

    def tagged(self) -> JSONValue:
        return {"$param": self.name}


@dataclass(frozen=True)
class LiteralInput:
    """A value known statically (JSON-compatible; code that is not a literal in the
    tagged form the module docstring describes)."""

    value: JSONValue

    shapes_graph = False
    is_value = True

    def tagged(self) -> JSONValue:
        return tagged(self.value)


@dataclass(frozen=True)
class RunCondition:
    """The conditions an invocation runs under (``dsl.If``, a ``conditional``, an ``if``
    over flow parameters): which steps run is the pipeline's shape, like an edge."""

    conditions: tuple[str, ...]

    key = "$condition"  # the input name it is stored under
    shapes_graph = True
    is_value = False

    def tagged(self) -> JSONValue:
        return list(self.conditions)


@dataclass(frozen=True)
class GraphInput:
    """Another part of the graph's shape stored as an input under a ``$`` name:
    Dagster's ``$deps`` (assets outside the job), Kedro's ``$outputs`` (datasets written)."""

    value: JSONValue

    shapes_graph = True
    is_value = False

    def tagged(self) -> JSONValue:
        return tagged(self.value)


StepInput = FromStep | FromAsset | FromParameter | LiteralInput | RunCondition | GraphInput
_TYPED = (FromStep, FromAsset, FromParameter, LiteralInput, RunCondition, GraphInput)


def tagged(value: Any) -> JSONValue:
    """``value`` in the serialized form: every typed input in it (at any depth: a list of
    step outputs) replaced by its tag; JSON values unchanged."""
    if isinstance(value, _TYPED):
        return value.tagged()
    if isinstance(value, dict):
        return {k: tagged(v) for k, v in value.items()} if any(_holds_typed(v) for v in value.values()) else value
    if isinstance(value, list):
        return [tagged(v) for v in value] if any(_holds_typed(v) for v in value) else value
    return value


def _holds_typed(value: Any) -> bool:
    if isinstance(value, _TYPED):
        return True
    if isinstance(value, dict):
        return any(_holds_typed(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_typed(v) for v in value)
    return False


def tagged_inputs(inputs: Mapping[str, Any]) -> dict[str, JSONValue]:
    """A framework's inputs (typed, or already tagged) as a Step stores them."""
    return {name: tagged(value) for name, value in inputs.items()}


def read_input(name: str, value: JSONValue) -> StepInput:
    """One stored input, typed (see the section's comment for the forms)."""
    if name == RunCondition.key:
        return RunCondition(tuple(value) if isinstance(value, list) else (value,))
    if name.startswith("$"):
        return GraphInput(value)
    if isinstance(value, dict):
        if "$asset" in value:
            return FromAsset(value["$asset"], {k: v for k, v in value.items() if k != "$asset"})
        if "$step" in value:
            output = value.get("output")
            return FromStep(value["$step"], tuple(output) if isinstance(output, list) else output)
        if len(value) == 1 and isinstance(value.get("$param"), str):
            return FromParameter(value["$param"])
    return LiteralInput(value)


def read_inputs(inputs: Mapping[str, JSONValue]) -> dict[str, StepInput]:
    """A step's stored inputs, typed, in their order."""
    return {name: read_input(name, value) for name, value in inputs.items()}


def rename_steps(value: JSONValue, rename: Any) -> JSONValue:
    """A stored input with the invocation id of every step output in it (at any depth)
    replaced by ``rename(id)``; the rest unchanged."""
    if isinstance(value, dict):
        if isinstance(value.get("$step"), str):
            return {**value, "$step": rename(value["$step"])}
        return {k: rename_steps(v, rename) for k, v in value.items()}
    if isinstance(value, list):
        return [rename_steps(v, rename) for v in value]
    return value
