"""Units of analysis work and what each one depended on.

A scan is split into units: for every (framework, candidate file) pair, first the
*attachments* unit (configuration the file applies to steps or pipelines defined
anywhere) and then, once every attachment of the tree is known, the *pipelines* unit.
Each unit runs with a fresh :class:`RecordingContext` over a shared, lazily parsed
:class:`~pvcheck.analyzer.index.ProjectIndex`: modules are parsed (and their metadata
resolved) once per process, and so are name resolutions and definition fingerprints
(``ProjectIndex.remember`` replays into each unit what they looked at), while what is
memoised per context (function facts, reported diagnostics) starts empty. So each
unit's record of what it read and what it reported is complete on its own, whichever
units ran before it: that is what makes a unit's result reusable from the cache, and
units runnable in any process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from pvcheck.analyzer import runconfig
from pvcheck.analyzer.context import AnalysisContext
from pvcheck.analyzer.discovery import SourceFile
from pvcheck.analyzer.frameworks.base import ConfigAttachment, Framework
from pvcheck.analyzer.index import ProjectIndex, Recorder
from pvcheck.analyzer.module import ModuleInfo
from pvcheck.analyzer.records import ALL_TARGETS, ATTACHMENTS, PIPELINES
from pvcheck.analyzer.sources import CENSUS
from pvcheck.config import Config
from pvcheck.diagnostics import INTERNAL_ERROR, TOO_DEEP
from pvcheck.model import Diagnostic, Severity


@dataclass(frozen=True)
class Unit:
    """One framework's pass of one kind over one candidate file."""

    kind: str  # ATTACHMENTS | PIPELINES
    framework: str
    path: str


@dataclass
class Dependencies:
    """What a unit looked at, with the state it saw (see :mod:`pvcheck.analyzer.sources`)."""

    modules: dict[str, Optional[str]] = field(default_factory=dict)  # name -> "path:hash", None: absent
    files: dict[str, Optional[str]] = field(default_factory=dict)  # path -> hash of bytes read directly
    file_list: Optional[str] = None  # digest of the file list, when the unit walked it
    run_configs: list[tuple[str, str, str]] = field(default_factory=list)  # (referring, reference, state)
    attachments: dict[str, str] = field(default_factory=dict)  # target -> digest of its attachments

    def to_json(self) -> dict[str, Any]:
        return {"m": self.modules, "f": self.files, "l": self.file_list,
                "r": [list(r) for r in self.run_configs], "a": self.attachments}


@dataclass
class UnitResult:
    unit: Unit
    payload: list[Any]  # ConfigAttachment (attachments) or Pipeline (pipelines)
    diagnostics: list[Diagnostic]
    deps: Dependencies
    cacheable: bool = True
    stored: bool = False  # a worker completed the record and stored it in the cache
    encoded_payload: Optional[list[Any]] = None  # set by workers for attachments (digests need it)
    payload_json: Optional[list[str]] = None  # set by workers for pipelines: each as JSON text (snapshots)


class RecordingAttachments(Mapping[str, list[ConfigAttachment]]):
    """The attachment map a pipelines unit sees; every look-up is a recorded dependency.
    A view, not a copy: a scan makes one per unit, over the same map."""

    def __init__(self, data: Mapping[str, list[ConfigAttachment]], seen: set[str]) -> None:
        self._data = data
        self._seen = seen

    def get(self, key: Any, default: Any = None) -> Any:
        self._seen.add(str(key))
        return self._data.get(key, default)

    def __getitem__(self, key: Any) -> Any:
        self._seen.add(str(key))
        return self._data[key]

    def __contains__(self, key: object) -> bool:
        self._seen.add(str(key))
        return key in self._data

    def _everything(self) -> None:
        self._seen.add(ALL_TARGETS)

    def __iter__(self):  # type: ignore[no-untyped-def]
        self._everything()
        return iter(self._data)

    def __len__(self) -> int:
        self._everything()
        return len(self._data)

    def keys(self):  # type: ignore[no-untyped-def]
        self._everything()
        return self._data.keys()

    def values(self):  # type: ignore[no-untyped-def]
        self._everything()
        return self._data.values()

    def items(self):  # type: ignore[no-untyped-def]
        self._everything()
        return self._data.items()


class RecordingContext(AnalysisContext):
    """An :class:`AnalysisContext` for one unit, noting the run configs it reads."""

    def __init__(self, root: Path, index: ProjectIndex, config: Config, frameworks: list[Framework],
                 attachments: Mapping[str, list[ConfigAttachment]]) -> None:
        super().__init__(root, index, config, frameworks)
        self.targets_seen: set[str] = set()
        self.attachments = RecordingAttachments(attachments, self.targets_seen)
        self.run_config_refs: list[tuple[str, str]] = []

    def run_config(self, module: ModuleInfo, reference: str, line: int) -> Optional[runconfig.RunConfig]:
        self.run_config_refs.append((module.path, reference))
        return super().run_config(module, reference, line)

    def project_files(self, pattern: str) -> list[str]:
        self.run_config_refs.append(("", pattern))  # a glob: its state is which files match
        return super().project_files(pattern)

    def project_yaml(self, reference: str) -> Optional[runconfig.RunConfig]:
        self.run_config_refs.append(("", reference))
        return super().project_yaml(reference)

    def run_configs_for(self, pipeline_name: str) -> list[runconfig.RunConfig]:
        for reference in self.config.run_configs.get(pipeline_name, ()):
            self.run_config_refs.append(("", reference))
        return super().run_configs_for(pipeline_name)


class UnitRunner:
    """Runs units of one tree in this process, parsing each module at most once."""

    def __init__(self, root: Path, config: Config, files: list[SourceFile],
                 contents: Mapping[str, Optional[bytes]], frameworks: list[Framework]) -> None:
        self.root = root
        self.config = config
        self.frameworks = {f.name: f for f in frameworks}
        self.framework_list = frameworks
        self.index = ProjectIndex(files, config.max_file_size, [], contents)
        self.by_path = {f.path: f for f in files}

    def run(self, unit: Unit, attachments: Optional[Mapping[str, list[ConfigAttachment]]] = None) -> UnitResult:
        framework = self.frameworks[unit.framework]
        file = self.by_path[unit.path]
        index = self.index
        recorder = Recorder()
        sink: list[Diagnostic] = []
        saved = index.diagnostics
        index.recorder, index.diagnostics = recorder, sink
        ctx = RecordingContext(self.root, index, self.config, self.framework_list,
                               attachments if unit.kind == PIPELINES and attachments is not None else {})
        payload: list[Any] = []
        failed = False
        try:
            module = index.load(file)
            if module is not None:
                if unit.kind == ATTACHMENTS:
                    found = _guarded(framework, module, lambda: list(framework.attachments(module, ctx)), ctx)
                else:
                    found = _guarded(framework, module, lambda: list(framework.pipelines(module, ctx)), ctx)
                failed = found is None
                payload = found or []
        finally:
            index.recorder, index.diagnostics = None, saved
        # a module's parse diagnostics belong to every unit that looked at it, whichever
        # unit happened to parse it first in this process (the few modules that have any are
        # checked against the record, not the hundred modules a unit may look at)
        for path in sorted(path for path in index.parse_diagnostics if self._looked_at(path, recorder)):
            sink.extend(d for d in index.parse_diagnostics[path] if d not in sink)
        # names only: the caller, who holds the whole tree's state, fills in what each was
        deps = Dependencies(
            modules={name: None for name in sorted(recorder.modules)},
            files={path: None for path in sorted(recorder.files)},
            file_list="?" if recorder.file_list else None,
            # a file the analyzed code reads is a dependency like a run config named from the
            # root: its state is the same ``path:hash`` (see ProjectIndex.data_file_state)
            run_configs=[(referring, reference, "") for referring, reference
                         in sorted(set(ctx.run_config_refs) | {("", path) for path in recorder.data_files}
                                   | {(CENSUS, marker) for marker in recorder.census})],
        )
        cacheable = not failed
        if unit.kind == PIPELINES:
            deps.attachments = {target: "" for target in sorted(ctx.targets_seen)}
        elif ctx.targets_seen:
            cacheable = False  # an attachments unit reading attachments would depend on unit order
        return UnitResult(unit, payload, sink, deps, cacheable)

    def _looked_at(self, path: str, recorder: Recorder) -> bool:
        """Whether the unit loaded the file at ``path``, or asked for the module it defines."""
        if path in recorder.parsed:
            return True
        file = self.by_path.get(path)
        if file is None or file.module not in recorder.modules:
            return False
        winner = self.index.by_module.get(file.module)  # the file that defines the name
        return winner is not None and winner.path == path


def _guarded(framework: Framework, module: ModuleInfo, work: Callable[[], list[Any]],
             ctx: AnalysisContext) -> Optional[list[Any]]:
    """Run one framework on one module; a failure there must not lose the rest of the tree."""
    try:
        return work()
    except Exception as exc:
        # libcst sometimes turns a RecursionError into another error while handling it (a
        # KeyError from its position bookkeeping): the cause is still the nesting
        if _caused_by_recursion(exc):
            ctx.diagnose(TOO_DEEP, Severity.ERROR, "code nested too deeply to analyze", module.path, 0,
                         hint="flatten the nesting, or exclude the file")
            return None
        if os.environ.get("PVCHECK_DEBUG"):
            raise
        ctx.diagnose(INTERNAL_ERROR, Severity.ERROR,
                     f"internal error in the {framework.name} analysis: {type(exc).__name__}: {_text(exc)}",
                     module.path, 0, hint="please report this; run with PVCHECK_DEBUG=1 for the traceback")
    return None


def _caused_by_recursion(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: Optional[BaseException] = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, RecursionError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _text(exc: BaseException) -> str:
    """The message of ``exc``, short; never failing (the repr of a deep syntax tree can)."""
    try:
        return str(exc)[:300]
    except Exception:  # noqa: BLE001 - a message is not worth a second failure
        return "(message unavailable)"
