"""The framework plug-in interface and its registry.

A framework teaches the analyzer three things: which files may hold its pipelines (a
cheap byte-level pre-filter), which functions are its steps, and how a pipeline
wires step invocations into a graph. Everything else -- parsing, name resolution,
fingerprints, configuration files -- is the analyzer's, offered through
:class:`~pvcheck.analyzer.context.AnalysisContext`.

Frameworks register under the entry point group ``pvcheck.frameworks``; the built-in
ones are listed in :data:`BUILTIN_FRAMEWORKS` so they work without installation
metadata too.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from importlib import metadata
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Optional, Sequence

import libcst as cst

from pvcheck.analyzer.module import ModuleInfo, Symbol
from pvcheck.analyzer.values import string_value, to_value
from pvcheck.config import Config, setting_location
from pvcheck.errors import ConfigError
from pvcheck.model import Output, Pipeline

if TYPE_CHECKING:
    from pvcheck.analyzer.context import AnalysisContext
    from pvcheck.analyzer.index import ProjectIndex

ENTRY_POINT_GROUP = "pvcheck.frameworks"

#: name -> "module:Class" of the frameworks that ship with pvcheck.
BUILTIN_FRAMEWORKS: dict[str, str] = {
    "zenml": "pvcheck.analyzer.frameworks.zenml:ZenML",
    "airflow": "pvcheck.analyzer.frameworks.airflow:Airflow",
    "dagster": "pvcheck.analyzer.frameworks.dagster:Dagster",
    "prefect": "pvcheck.analyzer.frameworks.prefect:Prefect",
    "kfp": "pvcheck.analyzer.frameworks.kfp:KubeflowPipelines",
    "kedro": "pvcheck.analyzer.frameworks.kedro:Kedro",
    "metaflow": "pvcheck.analyzer.frameworks.metaflow:Metaflow",
    "flyte": "pvcheck.analyzer.frameworks.flyte:Flyte",
}


@dataclass(frozen=True)
class BodyPart:
    """Code that is part of what a step runs besides, or instead of, a function body.

    Airflow's ``BashOperator(bash_command=...)`` has no function at all: its arguments
    *are* the body. A ``@task.docker(image=...)`` task runs its function inside an image
    that is as much a part of the computation as the code. Either ``node`` (canonicalised
    like code, in the step's module, so its repo-local references count as helpers) or
    ``value`` (a value known statically, fingerprinted as canonical JSON) is given.
    """

    label: str
    node: Optional[cst.CSTNode] = None
    value: Any = None


@dataclass(frozen=True)
class StepDefinition:
    """A function a framework runs as one unit, as declared (not yet invoked).

    ``symbol.node`` is normally the step's ``FunctionDef``; a step that is not a function
    (an operator instantiation) has the call there instead, and its ``body_parts`` are
    all of its body.
    """

    symbol: Symbol
    framework: str
    kind: str  # step | task | op | asset | component | operator ...
    name: str  # declared name: decorator name= or the function name
    config: dict[str, Any] = field(default_factory=dict)  # decorator keyword arguments
    config_lines: dict[str, tuple[str, int]] = field(default_factory=dict)
    outputs: tuple[Output, ...] = ()
    body_parts: tuple[BodyPart, ...] = ()

    @property
    def function(self) -> cst.FunctionDef:
        assert isinstance(self.symbol.node, cst.FunctionDef)
        return self.symbol.node

    @property
    def qualified_name(self) -> str:
        return self.symbol.qualified_name


@dataclass(frozen=True)
class ConfigAttachment:
    """Configuration applied to a step or pipeline from elsewhere in the tree
    (``train.configure(...)`` in ``run.py``, a ``with_options`` call ...)."""

    target: str  # fully qualified name of the step or pipeline function
    config: dict[str, Any]
    config_lines: dict[str, tuple[str, int]]
    step_config: dict[str, dict[str, Any]] = field(default_factory=dict)  # invocation id -> config (YAML steps:)


class Framework(ABC):
    """One pipeline framework. Subclasses are small: see ``zenml.py`` for the reference."""

    name: ClassVar[str]
    #: A file whose bytes contain none of these is not handed to this framework.
    markers: ClassVar[tuple[bytes, ...]]
    #: A file that defines a pipeline contains one of these (empty: any file may); its
    #: other files get no pipelines pass (they still get the attachments pass).
    pipeline_markers: ClassVar[tuple[bytes, ...]] = ()
    #: A module constant may hold a step (KFP: ``op = load_component_from_file(...)``):
    #: ``step_definition`` is then asked about constants too, not only functions.
    constant_steps: ClassVar[bool] = False

    def matches(self, data: bytes) -> bool:
        return any(marker in data for marker in self.markers)

    @abstractmethod
    def step_definition(self, symbol: Symbol, ctx: "AnalysisContext") -> Optional[StepDefinition]:
        """The step ``symbol`` declares, or None when it is not one of this framework's steps."""

    @abstractmethod
    def pipelines(self, module: ModuleInfo, ctx: "AnalysisContext") -> Iterable[Pipeline]:
        """Every pipeline defined in ``module``, with its graph, config and fingerprints."""

    def attachments(self, module: ModuleInfo, ctx: "AnalysisContext") -> Iterable[ConfigAttachment]:
        """Configuration this module applies to steps or pipelines defined anywhere."""
        return ()

    def step_reach(self, definition: StepDefinition, ctx: "AnalysisContext") -> Sequence[Symbol]:
        """Repo-local definitions the framework runs with the step besides what its code
        names (ZenML: its materializers); they join the step's reach."""
        return ()


def available_frameworks() -> dict[str, str]:
    """name -> ``module:Class`` of every registered framework (nothing is imported)."""
    specs: dict[str, str] = dict(BUILTIN_FRAMEWORKS)
    try:
        for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
            specs.setdefault(entry.name, entry.value)
    except Exception:  # broken installation metadata must not stop a scan
        pass
    return specs


class DecoratedPipelines(Framework):
    """A framework whose pipelines are functions under a decorator (ZenML, Prefect, KFP):
    finding them is the same everywhere, building one is each framework's own."""

    #: Fully qualified names of the pipeline decorator.
    pipeline_decorators: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        decorators = cls.__dict__.get("pipeline_decorators")
        if decorators and "pipeline_markers" not in cls.__dict__:
            # the decorator's own name is in the file, however it is imported or aliased:
            # a qualified name is made of the file's import and attribute names
            cls.pipeline_markers = tuple(sorted({d.rpartition(".")[2].encode() for d in decorators}))

    def pipeline_function(self, symbol: Symbol) -> Optional[cst.FunctionDef]:
        """The function ``symbol`` names, when it is decorated as a pipeline."""
        node = symbol.node
        if isinstance(node, cst.FunctionDef) and find_decorator(node, symbol.module, self.pipeline_decorators):
            return node
        return None

    def pipeline_decorator_call(self, node: cst.FunctionDef, module: ModuleInfo) -> Optional[cst.Call]:
        """The call of a called pipeline decorator (``@pipeline(name=...)``), or None when bare."""
        found = find_decorator(node, module, self.pipeline_decorators)
        assert found is not None, "only for functions pipeline_function() accepted"
        return found[1]

    def pipelines(self, module: ModuleInfo, ctx: "AnalysisContext") -> Iterable[Pipeline]:
        for symbols in module.symbols.values():
            for symbol in symbols:
                if symbol.kind == "function" and self.pipeline_function(symbol) is not None:
                    yield self.pipeline(symbol, ctx)

    @abstractmethod
    def pipeline(self, symbol: Symbol, ctx: "AnalysisContext") -> Pipeline:
        """The pipeline a decorated function defines."""


def load_frameworks(enabled: Iterable[str] = (), config: Optional[Config] = None) -> list[Framework]:
    """The registered frameworks (built-in and entry points), optionally only ``enabled``.

    A name no registry knows is a :class:`ConfigError` placed at the ``frameworks``
    setting of ``config``'s file (the configuration layer does not know the registry)."""
    enabled = tuple(enabled)
    wanted = set(enabled)
    specs = available_frameworks()
    unknown = [name for name in enabled if name not in specs]
    if unknown:
        raise ConfigError(f"unknown framework '{unknown[0]}' in 'frameworks'",
                          hint=f"use one of: {', '.join(sorted(specs))}").located(
            *(setting_location(config, "frameworks") if config is not None else (None, 0)))
    frameworks = []
    for name in sorted(specs):
        if wanted and name not in wanted:
            continue
        frameworks.append(_instantiate(name, specs[name]))
    return frameworks


def _instantiate(name: str, spec: str) -> Framework:
    module_name, _, attribute = spec.partition(":")
    try:
        target = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot load framework '{name}' from '{spec}': {exc}",
                          hint="check the plug-in's installation") from None
    instance = target()
    if not isinstance(instance, Framework):
        raise ConfigError(f"framework '{name}' ({spec}) is not a pvcheck Framework",
                          hint="subclass pvcheck.analyzer.frameworks.base.Framework")
    return instance


def decorator_call(decorator: cst.Decorator) -> tuple[cst.BaseExpression, Optional[cst.Call]]:
    """``@x`` -> (x, None); ``@x(...)`` -> (x, the call)."""
    expression = decorator.decorator
    if isinstance(expression, cst.Call):
        return expression.func, expression
    return expression, None


def find_decorator(
    node: cst.FunctionDef | cst.ClassDef, module: ModuleInfo, names: Iterable[str]
) -> Optional[tuple[cst.Decorator, Optional[cst.Call], str]]:
    """The first decorator whose callee is one of the fully qualified ``names``."""
    wanted = set(names)
    for decorator in node.decorators:
        callee, call = decorator_call(decorator)
        if not isinstance(callee, (cst.Name, cst.Attribute)):
            continue
        for qualified in module.qualified_names(callee):
            if qualified in wanted:
                return decorator, call, qualified
    return None


def decorated_function(symbol: Symbol, names: Iterable[str]
                       ) -> Optional[tuple[cst.FunctionDef, Optional[cst.Call], str]]:
    """``symbol``'s function when one of its decorators is one of the fully qualified
    ``names``: (the function, the decorator's call or None when bare, the name matched).
    What a framework's ``step_definition`` starts with."""
    node = symbol.node
    if not isinstance(node, cst.FunctionDef):
        return None
    found = find_decorator(node, symbol.module, names)
    return (node, found[1], found[2]) if found is not None else None


def keyword_arg(call: Optional[cst.Call], name: str) -> Optional[cst.Arg]:
    """The ``name=`` argument of a call, or None."""
    if call is None:
        return None
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def keyword_string(call: Optional[cst.Call], name: str, module: Optional[ModuleInfo] = None,
                   index: Optional["ProjectIndex"] = None) -> Optional[str]:
    """The string passed as ``name=``, or None. With ``module`` and ``index`` also a string
    known when the code is read: a module constant (``name=FLOW_NAME``, followed across
    modules), a class attribute (``Names.TRAINING``), an f-string of those
    (``f"{PREFIX}_train"``) -- so a pipeline keeps its name through a refactoring."""
    arg = keyword_arg(call, name)
    if arg is None:
        return None
    text = string_value(arg.value)
    if text is None and module is not None and index is not None:
        value = to_value(arg.value, module, index)
        text = value if isinstance(value, str) else None
    return text


def method_name(call: cst.Call) -> str:
    """``x.after(...)`` -> ``"after"``; a plain call -> ``""``."""
    return call.func.attr.value if isinstance(call.func, cst.Attribute) else ""
