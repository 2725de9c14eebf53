"""Metaflow ``Config`` values where decorators use them.

A ``Config("config", default="settings.json")`` is read when a run starts, and its values
may configure the flow's decorators: ``@pypi_base(packages=config_expr("config.packages"))``
or, inside the class body, ``@resources(cpu=config.cpu)``. A package pinned in that file
is then as much the environment as one written in the decorator, so the decorator's value
must be the file's value: this module reads the file (JSON and YAML, with the analyzer's
safe YAML loader; nothing is evaluated) and substitutes the values it names.

An expression that is not a plain path into the values (``config_expr("cfg.x.lower()")``)
takes the whole document as its value, so any change of the file changes the decorator. A
file that cannot be read this way (TOML, a parser that is the user's code) is a PV010
diagnostic where a decorator uses it.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Optional

import libcst as cst

from pvcheck.plugin import AnalysisContext, ModuleInfo, literal_value, string_value
from pvcheck.plugin import ORIGIN_RUN_CONFIG, ConfigSource

CONFIG_EXPR = frozenset({"metaflow.config_expr", "metaflow.user_configs.config_parameters.config_expr"})
_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_READABLE = (".json", ".yaml", ".yml")
#: Parsers whose result is what the file says (Metaflow's default is ``json.loads``).
_PLAIN_PARSERS = frozenset({"json.loads", "yaml.safe_load"})


class ConfigValues:
    """The ``Config`` attributes of one flow, their documents, and decorator arguments
    read with those documents substituted."""

    def __init__(self, ctx: AnalysisContext, warn: Callable[[ModuleInfo, cst.CSTNode, str, str], None]) -> None:
        self.ctx = ctx
        self.warn = warn
        self.documents: dict[str, Optional[Any]] = {}  # attribute -> values (None: not readable)
        self.lines: dict[str, tuple[str, int]] = {}  # "config_values.<attr>.<key>" -> where it is written

    def add(self, attribute: str, call: cst.Call, module: ModuleInfo) -> None:
        """Read the document of ``attribute = Config(...)``, when pvcheck can."""
        document: Optional[Any] = None
        parser = _argument(call, "parser")
        plain = parser is None or (isinstance(parser, (cst.Name, cst.Attribute)) and bool(
            module.qualified_names(parser) & _PLAIN_PARSERS)) or string_value(parser) in _PLAIN_PARSERS
        default = _argument(call, "default")
        inline = _argument(call, "default_value")
        reference = string_value(default) if default is not None else None
        if reference is not None and reference.endswith(_READABLE):
            loaded = self.ctx.run_config(module, reference, module.line(call))
            if loaded is not None:
                document = dict(loaded.pipeline)
                if loaded.steps:  # the run-config reader files a top-level "steps" apart
                    document["steps"] = loaded.steps
                for key, line in loaded.lines.items():
                    self.lines[f"config_values.{attribute}.{key}"] = ConfigSource(loaded.path, line,
                                                                                   ORIGIN_RUN_CONFIG)
        elif inline is not None and plain:
            text = string_value(inline)
            if text is not None:
                try:
                    document = json.loads(text) if text.strip() else {}
                except ValueError:
                    document = None
            elif isinstance(inline, cst.Dict):
                document = self.ctx.value(inline, module)
        self.documents[attribute] = document

    def value(self, expression: cst.BaseExpression, module: ModuleInfo) -> Any:
        """``expression`` as a configuration value, Config references resolved."""
        reference = self._reference(expression, module)
        if reference is not None:
            return self._resolve(expression, module, *reference)
        if isinstance(expression, cst.Dict) and all(isinstance(e, cst.DictElement) for e in expression.elements):
            result: dict[str, Any] = {}
            for element in expression.elements:
                assert isinstance(element, cst.DictElement)
                key = literal_value(element.key)
                name = key if isinstance(key, str) else self.ctx.render(element.key, module)
                result[name] = self.value(element.value, module)
            return result
        if isinstance(expression, (cst.List, cst.Tuple)) and all(isinstance(e, cst.Element)
                                                                 for e in expression.elements):
            return [self.value(e.value, module) for e in expression.elements]
        return self.ctx.value(expression, module)

    def _reference(self, expression: cst.BaseExpression, module: ModuleInfo) -> Optional[tuple[str, Optional[list[str]]]]:
        """(config attribute, path into it) for ``config.a.b``, ``config_expr("config.a")``
        and ``config_expr("config").a``; the path is None for an expression that is more."""
        attributes: list[str] = []
        node = expression
        while isinstance(node, cst.Attribute):
            attributes.insert(0, node.attr.value)
            node = node.value
        if isinstance(node, cst.Name) and node.value in self.documents and attributes:
            return node.value, attributes
        if isinstance(node, cst.Call) and isinstance(node.func, (cst.Name, cst.Attribute)) \
                and module.qualified_names(node.func) & CONFIG_EXPR:
            text = string_value(node.args[0].value) if node.args else None
            if text is None or not _PATH.match(text.strip()):
                return "", None  # an expression: every Config it names
            parts = text.strip().split(".")
            return parts[0], [*parts[1:], *attributes]
        return None

    def _resolve(self, expression: cst.BaseExpression, module: ModuleInfo, attribute: str,
                 path: Optional[list[str]]) -> Any:
        text = module.code(expression)
        if not attribute:
            named = sorted(set(_IDENTIFIER.findall(text)) & set(self.documents))
            if named and all(self.documents[n] is not None for n in named):
                return {"$config": text, "$values": {n: self.documents[n] for n in named}}
            attribute = named[0] if named else ""
        document = self.documents.get(attribute)
        if attribute not in self.documents or document is None:
            self.warn(module, expression, f"'{text}' uses a Config whose values pvcheck cannot read",
                      "pvcheck reads JSON and YAML Config files without a parser of the user's: a change of "
                      "this Config's file is not seen, review it by hand")
            return {"$config": text}
        if path is None:
            return {"$config": text, "$values": document}  # any change of the file changes it
        value = document
        for key in path:
            if not isinstance(value, dict) or key not in value:
                return {"$config": text, "$values": document}
            value = value[key]
        return value


def _argument(call: cst.Call, keyword: str) -> Optional[cst.BaseExpression]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    return None


__all__ = ["ConfigValues"]
