"""A strict checker for the subset of Mermaid's flowchart syntax pvcheck writes.

Runs everywhere (CI has no browser). It accepts only the statement forms
:mod:`pvcheck.output.mermaid` emits, with the rules Mermaid's grammar imposes on them
(``flowchart`` header, balanced ``subgraph``/``end``, quoted labels free of raw quotes,
ids that are not keywords, every linked or classed node declared, ``linkStyle`` indices
in range), so an escaping or structure bug fails here. That these forms are what real
Mermaid accepts is checked by ``test_real_mermaid_*``, which renders them in Chromium
when it is available.
"""

from __future__ import annotations

import re

_ID = r"[A-Za-z_][A-Za-z0-9_]*"
_LABEL = r'"(?P<label>[^"]*)"'
_RESERVED = {"end", "subgraph", "graph", "flowchart", "class", "classDef", "style", "linkStyle", "click",
             "direction", "call", "href", "default"}
_ALLOWED_TAGS = re.compile(r"</?b>|<br/>|</?i>")
_ENTITY = re.compile(r"#(?:[a-z]+|\d+);")

HEADER = re.compile(r"^flowchart (TD|TB|BT|LR|RL)$")
SUBGRAPH = re.compile(rf"^subgraph (?P<id>{_ID})\[{_LABEL}\]$")
DIRECTION = re.compile(r"^direction (TD|TB|BT|LR|RL)$")
NODE = re.compile(rf'^(?P<id>{_ID})(?:\[{_LABEL}\]|\(\[{_LABEL.replace("label", "label2")}\]\))$')
EDGE = re.compile(rf'^(?P<a>{_ID}) (?P<arrow>-->|-\.->)(?:\|{_LABEL}\|)? (?P<b>{_ID})$')
CHAIN = re.compile(rf"^{_ID}(?: ~~~ {_ID})+$")
CLASSDEF = re.compile(rf"^classDef (?P<name>{_ID}) (?P<style>[a-z-]+:[^,;\s][^,;]*(?:,[a-z-]+:[^,;]+)*)$")
CLASS = re.compile(rf"^class (?P<ids>{_ID}(?:,{_ID})*) (?P<name>{_ID})$")
LINKSTYLE = re.compile(r"^linkStyle (?P<index>\d+) (?P<style>[a-z-]+:[^,;]+(?:,[a-z-]+:[^,;]+)*)$")


class MermaidSyntaxError(AssertionError):
    pass


def check_label(label: str, line_number: int) -> None:
    rest = _ALLOWED_TAGS.sub("", label)
    if "<" in rest or ">" in rest:
        raise MermaidSyntaxError(f"line {line_number}: raw '<' or '>' in label {label!r}")
    if "#" in _ENTITY.sub("", rest):
        raise MermaidSyntaxError(f"line {line_number}: a '#' that is not an entity code in {label!r}")
    for bad in ("|", "`", "\n"):
        if bad in rest:
            raise MermaidSyntaxError(f"line {line_number}: raw {bad!r} in label {label!r}")


def check(text: str) -> dict[str, int]:
    """Raise :class:`MermaidSyntaxError` unless ``text`` is a well-formed flowchart;
    return counts of what it holds."""
    lines = [line.strip() for line in text.splitlines()]
    if not lines or not HEADER.match(lines[0]):
        raise MermaidSyntaxError(f"line 1: expected 'flowchart <direction>', got {lines[0] if lines else ''!r}")
    nodes: set[str] = set()
    subgraphs: set[str] = set()
    classes: set[str] = set()
    used_classes: set[str] = set()
    classed: list[tuple[int, str]] = []
    edges: list[tuple[int, str, str]] = []
    link_styles: list[tuple[int, int]] = []
    links = 0
    depth = 0
    for number, line in enumerate(lines[1:], start=2):
        if not line or line.startswith("%%"):
            continue
        if line == "end":
            depth -= 1
            if depth < 0:
                raise MermaidSyntaxError(f"line {number}: 'end' without 'subgraph'")
            continue
        if match := SUBGRAPH.match(line):
            identifier = match.group("id")
            _check_id(identifier, number)
            if identifier in subgraphs or identifier in nodes:
                raise MermaidSyntaxError(f"line {number}: id {identifier} declared twice")
            check_label(match.group("label"), number)
            subgraphs.add(identifier)
            depth += 1
        elif DIRECTION.match(line):
            if depth == 0:
                raise MermaidSyntaxError(f"line {number}: 'direction' outside a subgraph")
        elif match := NODE.match(line):
            identifier = match.group("id")
            _check_id(identifier, number)
            if identifier in nodes or identifier in subgraphs:
                raise MermaidSyntaxError(f"line {number}: node {identifier} declared twice")
            check_label(match.group("label") or match.group("label2") or "", number)
            nodes.add(identifier)
        elif match := EDGE.match(line):
            if match.group("label") is not None:
                check_label(match.group("label"), number)
            edges.append((number, match.group("a"), match.group("b")))
            links += 1
        elif CHAIN.match(line):
            ids = [part.strip() for part in line.split("~~~")]
            edges.extend((number, a, b) for a, b in zip(ids, ids[1:]))
            links += len(ids) - 1
        elif match := CLASSDEF.match(line):
            classes.add(match.group("name"))
        elif match := CLASS.match(line):
            used_classes.add(match.group("name"))
            classed.extend((number, identifier) for identifier in match.group("ids").split(","))
        elif match := LINKSTYLE.match(line):
            link_styles.append((number, int(match.group("index"))))
        else:
            raise MermaidSyntaxError(f"line {number}: not a statement pvcheck writes: {line!r}")
    if depth != 0:
        raise MermaidSyntaxError("unbalanced subgraph/end")
    for number, a, b in edges:
        for identifier in (a, b):
            if identifier not in nodes:
                raise MermaidSyntaxError(f"line {number}: link to undeclared node {identifier}")
    for number, identifier in classed:
        if identifier not in nodes:
            raise MermaidSyntaxError(f"line {number}: class on undeclared node {identifier}")
    for name in used_classes - classes:
        raise MermaidSyntaxError(f"class {name} used but never defined")
    for number, index in link_styles:
        if index >= links:
            raise MermaidSyntaxError(f"line {number}: linkStyle {index} but only {links} links")
    return {"nodes": len(nodes), "links": links, "subgraphs": len(subgraphs)}


def _check_id(identifier: str, number: int) -> None:
    if identifier in _RESERVED or identifier.lower() == "end":
        raise MermaidSyntaxError(f"line {number}: id {identifier!r} is a Mermaid keyword")
