"""A faithful JSON form of analyzer results, for the analysis cache.

JSON, not pickle: the cache folder may be shared, and loading a cache entry must never
be able to run code. Decoding only builds the model's own frozen dataclasses (a fixed
list, looked up by name) from plain JSON values.

The form keeps every type the model uses apart, so decoding gives back an equal value
field by field: a list is a JSON array; a tuple ``{"$t": [...]}``; a dict
``{"$d": [[key, value], ...]}`` (string keys only); a dataclass
``{"$c": "Step", "$a": [value, ...]}`` (every field, in the class's order); an enum
member ``{"$e": "Severity", "$v": "error"}``. Anything else (a set, a dict with non-string
keys, an unknown class) raises :class:`EncodingError`, and the result is simply not
cached.

Every JSON object of the form is one of those markers (a dict's keys are inside pairs),
so :func:`loads` decodes in the JSON parser's own ``object_hook``, one call per object,
instead of walking every value again in Python. JSON objects that are not markers (the
cache entry's own envelope, keyed by plain names that never start with ``$``) are left
as they are.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import json
from collections.abc import Mapping
from typing import Any, Union

from pvcheck import model

#: Classes a cache entry may contain: name -> "module:attribute" (imported only when met).
_CLASSES: dict[str, str] = {
    "Pipeline": "pvcheck.model:Pipeline",
    "Step": "pvcheck.model:Step",
    "Edge": "pvcheck.model:Edge",
    "Parameter": "pvcheck.model:Parameter",
    "Output": "pvcheck.model:Output",
    "HelperRef": "pvcheck.model:HelperRef",
    "StatementPrint": "pvcheck.model:StatementPrint",
    "Diagnostic": "pvcheck.model:Diagnostic",
    "ConfigSource": "pvcheck.model:ConfigSource",
    "ConfigAttachment": "pvcheck.analyzer.frameworks.base:ConfigAttachment",
}
#: Classes decoded as :class:`Deferred` (building them would import libcst, which a scan
#: served from the cache never needs), with their fields in order (tests/test_cache.py
#: keeps this in step with the class).
_DEFERRED: dict[str, tuple[str, ...]] = {
    "ConfigAttachment": ("target", "config", "config_lines", "step_config"),
}
_ENUMS: dict[str, type[enum.Enum]] = {"Severity": model.Severity, "Decision": model.Decision}
_resolved: dict[str, type] = {}


class EncodingError(ValueError):
    """A value the cache's JSON form cannot carry faithfully."""


class Deferred:
    """A decoded dataclass not built yet: its class name and decoded fields."""

    __slots__ = ("name", "fields")

    def __init__(self, name: str, fields: dict[str, Any]) -> None:
        self.name = name
        self.fields = fields

    def real(self) -> Any:
        return _build(self.name, [self.fields[key] for key in _DEFERRED[self.name]])

    def __getattr__(self, attribute: str) -> Any:
        try:
            return self.fields[attribute]
        except KeyError:
            raise AttributeError(attribute) from None


_PLAIN = (str, int, float, bool, type(None))
#: Dataclasses met so far: type -> (name in the form, field names in order).
_ENCODABLE: dict[type, tuple[str, tuple[str, ...]]] = {}


def encode(value: Any) -> Any:
    """``value`` as plain JSON data (see the module docstring for the form)."""
    kind = type(value)
    if kind in _PLAIN:  # exact types: a str or int enum member is not one of them
        return value
    layout = _ENCODABLE.get(kind)
    if layout is not None:
        return {"$c": layout[0], "$a": [encode(getattr(value, name)) for name in layout[1]]}
    if kind is list:
        return [encode(item) for item in value]
    if kind is tuple:
        return {"$t": [encode(item) for item in value]}
    return _encode_other(value)


def _encode_other(value: Any) -> Any:
    if isinstance(value, enum.Enum):  # first: a str or int enum is also a str or an int
        name = type(value).__name__
        if _ENUMS.get(name) is not type(value):
            raise EncodingError(f"enum {name} is not cacheable")
        return {"$e": name, "$v": value.value}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Deferred):
        return {"$c": value.name, "$a": [encode(value.fields[key]) for key in _DEFERRED[value.name]]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if name not in _CLASSES or _class(name) is not type(value):
            raise EncodingError(f"class {type(value).__qualname__} is not cacheable")
        _ENCODABLE[type(value)] = (name, tuple(f.name for f in dataclasses.fields(value)))
        return encode(value)
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, tuple):
        return {"$t": [encode(item) for item in value]}
    if isinstance(value, Mapping):
        items = []
        for key, item in value.items():
            if not isinstance(key, str):
                raise EncodingError(f"a dict key that is not a string: {key!r}")
            items.append([key, encode(item)])
        return {"$d": items}
    raise EncodingError(f"a {type(value).__name__} is not cacheable")


def dumps(data: Any) -> str:
    """Plain JSON data (what :func:`encode` returns) as compact ASCII JSON text."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=True)


def loads(text: Union[str, bytes]) -> Any:
    """Parse JSON text, decoding the markers of the form; ValueError on anything malformed."""
    return json.loads(text, object_hook=_hook)


def decode(data: Any) -> Any:
    """The value :func:`encode` turned into ``data`` (already parsed JSON data)."""
    return loads(json.dumps(data))


def resolve(value: Any) -> Any:
    """``value`` itself, or the real object a :class:`Deferred` stands for."""
    return value.real() if isinstance(value, Deferred) else value


def _hook(data: dict[str, Any]) -> Any:
    if len(data) > 2:
        return data  # markers have one or two keys; this is the cache entry's own structure
    if len(data) == 1:
        if "$t" in data:
            return tuple(_list(data["$t"]))
        if "$d" in data:
            return _pairs(data["$d"])
    elif len(data) == 2:
        if "$c" in data and "$a" in data:
            name, values = data["$c"], data["$a"]
            if not isinstance(name, str) or name not in _CLASSES or not isinstance(values, list):
                raise ValueError(f"class {name!r} may not appear in a cache entry")
            deferred = _DEFERRED.get(name)
            if deferred is None:
                return _build(name, values)
            if len(values) != len(deferred):
                raise ValueError(f"not the fields of {name}")
            return Deferred(name, dict(zip(deferred, values)))
        if "$e" in data and "$v" in data:
            enum_type = _ENUMS.get(data["$e"]) if isinstance(data["$e"], str) else None
            if enum_type is None:
                raise ValueError(f"unknown enum {data['$e']!r}")
            return enum_type(data["$v"])
    if any(key.startswith("$") for key in data):
        raise ValueError("malformed cache data")
    return data


_LAYOUTS: dict[str, tuple[tuple[str, ...], bool]] = {}  # class -> (field names, has __post_init__)


def _build(name: str, values: list[Any]) -> Any:
    cls = _class(name)
    layout = _LAYOUTS.get(name)
    if layout is None:
        layout = _LAYOUTS[name] = (tuple(f.name for f in dataclasses.fields(cls)), hasattr(cls, "__post_init__"))
    names, post_init = layout
    if len(values) != len(names):
        raise ValueError(f"not the fields of {name}")
    if post_init:
        return cls(*values)
    # every field given, nothing to run after __init__: set the fields directly (what
    # pickle does), several times faster than a frozen dataclass's __init__
    built = object.__new__(cls)
    built.__dict__.update(zip(names, values))
    return built


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError("malformed tuple")
    return value


def _pairs(value: Any) -> dict[str, Any]:
    try:
        pairs = dict(value)  # a list of [key, value] lists, or it raises
    except (TypeError, ValueError):
        raise ValueError("malformed pairs") from None
    if not isinstance(value, list) or not all(type(key) is str for key in pairs):
        raise ValueError("malformed pairs")
    return pairs


def _class(name: Any) -> type:
    if not isinstance(name, str) or name not in _CLASSES:
        raise ValueError(f"class {name!r} may not appear in a cache entry")
    found = _resolved.get(name)
    if found is None:
        module_name, _, attribute = _CLASSES[name].partition(":")
        found = getattr(importlib.import_module(module_name), attribute)
        _resolved[name] = found
    return found


__all__ = ["Deferred", "EncodingError", "decode", "encode", "loads", "resolve"]
