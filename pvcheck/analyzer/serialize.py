"""A faithful JSON form of analyzer results, for the analysis cache.

JSON, not pickle: the cache folder may be shared, and loading a cache entry must never
be able to run code. Decoding only builds the model's own frozen dataclasses (a fixed
list, looked up by name) from plain JSON values.

The form keeps every type the model uses apart, so ``decode(encode(x)) == x`` holds
field by field: a list is a JSON array; a tuple ``{"t": [...]}``; a dict ``{"d": {...}}``
(string keys only); a dataclass ``{"c": "Step", "f": {...}}``; an enum member
``{"e": "Severity", "v": "error"}``. Anything else (a set, a dict with non-string keys,
an unknown class) raises :class:`EncodingError`, and the result is simply not cached.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
from typing import Any

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
    "ConfigAttachment": "pvcheck.analyzer.frameworks.base:ConfigAttachment",
}
_ENUMS: dict[str, type[enum.Enum]] = {"Severity": model.Severity, "Decision": model.Decision}
_resolved: dict[str, type] = {}


class EncodingError(ValueError):
    """A value the cache's JSON form cannot carry faithfully."""


def encode(value: Any) -> Any:
    """``value`` as plain JSON data (see the module docstring for the form)."""
    if isinstance(value, enum.Enum):  # first: a str or int enum is also a str or an int
        name = type(value).__name__
        if _ENUMS.get(name) is not type(value):
            raise EncodingError(f"enum {name} is not cacheable")
        return {"e": name, "v": value.value}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if name not in _CLASSES or _class(name) is not type(value):
            raise EncodingError(f"class {type(value).__qualname__} is not cacheable")
        return {"c": name, "f": {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, tuple):
        return {"t": [encode(item) for item in value]}
    if isinstance(value, dict) or _is_mapping(value):
        items = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise EncodingError(f"a dict key that is not a string: {key!r}")
            items[key] = encode(item)
        return {"d": items}
    raise EncodingError(f"a {type(value).__name__} is not cacheable")


def decode(data: Any) -> Any:
    """The value :func:`encode` turned into ``data``; raises ValueError on anything else."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(item) for item in data]
    if isinstance(data, dict) and len(data) in (1, 2):
        if "t" in data and len(data) == 1:
            return tuple(decode(item) for item in _list(data["t"]))
        if "d" in data and len(data) == 1:
            inner = data["d"]
            if not isinstance(inner, dict):
                raise ValueError("malformed dict")
            return {key: decode(item) for key, item in inner.items()}
        if "c" in data and "f" in data:
            cls = _class(data["c"])
            fields = data["f"]
            if not isinstance(fields, dict):
                raise ValueError("malformed dataclass")
            known = {f.name for f in dataclasses.fields(cls)}
            if set(fields) - known:
                raise ValueError(f"unknown fields of {data['c']}")
            return cls(**{key: decode(item) for key, item in fields.items()})
        if "e" in data and "v" in data:
            enum_type = _ENUMS.get(data["e"]) if isinstance(data["e"], str) else None
            if enum_type is None:
                raise ValueError(f"unknown enum {data['e']!r}")
            return enum_type(data["v"])
    raise ValueError("malformed cache data")


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError("malformed tuple")
    return value


def _is_mapping(value: Any) -> bool:
    from collections.abc import Mapping

    return isinstance(value, Mapping)


def _class(name: Any) -> type:
    if not isinstance(name, str) or name not in _CLASSES:
        raise ValueError(f"class {name!r} may not appear in a cache entry")
    found = _resolved.get(name)
    if found is None:
        module_name, _, attribute = _CLASSES[name].partition(":")
        found = getattr(importlib.import_module(module_name), attribute)
        _resolved[name] = found
    return found


__all__ = ["EncodingError", "decode", "encode"]
