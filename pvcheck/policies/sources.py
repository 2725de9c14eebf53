"""Reading the source of one definition again, to explain a cosmetic edit.

Models carry fingerprints, not text. When both scanned trees still exist, the cosmetic
policy re-reads a definition (a step, a helper, the pipeline function) to say *what*
changed without changing the computation. The text is only parsed with :mod:`ast` and
:mod:`tokenize` -- never imported, executed or evaluated. Any problem (a missing folder,
an unreadable file, a syntax error) simply means "no explanation available".
"""

from __future__ import annotations

import ast
import io
import re
import textwrap
import tokenize
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping, Optional, Union

MAX_SOURCE_BYTES = 2_000_000

DefinitionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign]


@dataclass(frozen=True)
class Definition:
    """One definition's text from its ``def``/``class`` line (decorators excluded) to its end."""

    path: str
    first_line: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return textwrap.dedent("\n".join(self.lines)) + "\n"

    def tree(self) -> Optional[ast.Module]:
        try:
            return ast.parse(self.text)
        except (SyntaxError, ValueError):
            return None

    def comments(self) -> list[str]:
        return [tok.string for tok in _tokens(self.text) if tok.type == tokenize.COMMENT]

    def code_lines(self) -> list[str]:
        """The lines with comments cut off and comment-only or empty lines dropped.

        The definition's own name and its parameters' default values are masked: a
        rename is PV106 and a default value is configuration (PV203), not formatting.
        """
        text = _masked(self.text)
        cuts: dict[int, int] = {}
        for tok in _tokens(text):
            if tok.type == tokenize.COMMENT:
                cuts[tok.start[0]] = tok.start[1]
        result = []
        for number, line in enumerate(text.splitlines(), start=1):
            if number in cuts:
                line = line[: cuts[number]]
            line = line.rstrip()
            if line.strip():
                result.append(line)
        return result


_DEF_NAME = re.compile(r"^(\s*(?:async\s+)?(?:def|class)\s+)[A-Za-z_][A-Za-z0-9_]*")


def _masked(text: str) -> str:
    """``text`` with the top definition's name and every parameter default replaced by ``_``."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return text
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, ast.arguments):
            for default in [*node.defaults, *(d for d in node.kw_defaults if d is not None)]:
                if default.end_lineno is not None and default.end_col_offset is not None:
                    spans.append((default.lineno, default.col_offset, default.end_lineno, default.end_col_offset))
    lines = text.splitlines()
    # replace from the end so that earlier offsets stay valid (offsets are UTF-8 byte offsets)
    for start_line, start_col, end_line, end_col in sorted(spans, reverse=True):
        first = lines[start_line - 1].encode("utf-8")
        last = lines[end_line - 1].encode("utf-8")
        merged = (first[:start_col] + b"_" + last[end_col:]).decode("utf-8", "replace")
        lines[start_line - 1 : end_line] = [merged]
    if lines:
        lines[0] = _DEF_NAME.sub(r"\1_", lines[0])
    return "\n".join(lines) + "\n"


def _tokens(text: str) -> list[tokenize.TokenInfo]:
    try:
        return list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []


class SourceTree:
    """The files of one scanned tree, read lazily and parsed at most once."""

    def __init__(self, root: Optional[Path], content_ids: Optional[Mapping[str, str]] = None) -> None:
        self.root = root
        # path -> an id of the file's bytes (a git blob id, say): equal ids are equal texts,
        # found without reading either file
        self.content_ids = content_ids
        self._texts: dict[str, Optional[str]] = {}
        self._modules: dict[str, Optional[ast.Module]] = {}
        # the cosmetic policy asks for the same definitions once per pipeline reaching them
        self._definitions: dict[tuple[str, int], Optional[Definition]] = {}
        self._starts: dict[str, tuple[dict[int, ast.AST], list[str]]] = {}
        self._aliases: dict[str, dict[str, str]] = {}

    def same_text(self, path: str, other: "SourceTree", other_path: Optional[str] = None) -> bool:
        """Whether ``path`` here reads as ``other_path`` (default: the same path) in ``other``.
        Equal content ids answer without reading; anything else compares the texts (ids
        that differ may still read the same, e.g. with other line endings)."""
        other_path = path if other_path is None else other_path
        if self.content_ids is not None and other.content_ids is not None:
            mine = self.content_ids.get(path)
            if mine is not None and mine == other.content_ids.get(other_path):
                return True
        return self.text(path) == other.text(other_path)

    def text(self, path: str) -> Optional[str]:
        if path in self._texts:
            return self._texts[path]
        found: Optional[str] = None
        if self.root is not None and path and not Path(path).is_absolute() and ".." not in Path(path).parts:
            file = self.root / path
            try:
                if file.is_file() and file.stat().st_size <= MAX_SOURCE_BYTES:
                    found = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                found = None
        self._texts[path] = found
        return found

    def module(self, path: str) -> Optional[ast.Module]:
        if path not in self._modules:
            text = self.text(path)
            tree: Optional[ast.Module] = None
            if text is not None:
                try:
                    tree = ast.parse(text)
                except (SyntaxError, ValueError, RecursionError):
                    tree = None
            self._modules[path] = tree
        return self._modules[path]

    def definition(self, path: str, line: int) -> Optional[Definition]:
        """The function, class or assignment whose first line (decorators aside) is ``line``."""
        key = (path, line)
        if key not in self._definitions:
            self._definitions[key] = self._definition(path, line)
        return self._definitions[key]

    def _definition(self, path: str, line: int) -> Optional[Definition]:
        starting, lines = self._starting(path)
        node = starting.get(line)
        if node is None:
            return None
        end = getattr(node, "end_lineno", None) or node.lineno
        return Definition(path, node.lineno, tuple(lines[node.lineno - 1 : end]))

    def _starting(self, path: str) -> tuple[dict[int, ast.AST], list[str]]:
        """Line -> the first definition (in ``ast.walk`` order) that starts there, decorators
        aside, and the module's lines: one walk and one split of the module for all its
        look-ups (a pipeline reaching many helpers asks for a dozen definitions of one module)."""
        found = self._starts.get(path)
        if found is None:
            starting: dict[int, ast.AST] = {}
            text, tree = self.text(path), self.module(path)
            for node in _statements(tree) if tree is not None and text is not None else ():
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)):
                    for line in _start_lines(node):
                        starting.setdefault(line, node)
            found = self._starts[path] = (starting, text.splitlines() if text is not None else [])
        return found

    def import_aliases(self, path: str) -> dict[str, str]:
        """Local name -> imported dotted name, from the module's top-level imports."""
        if path not in self._aliases:
            self._aliases[path] = self._import_aliases(path)
        return dict(self._aliases[path])

    def _import_aliases(self, path: str) -> dict[str, str]:
        tree = self.module(path)
        aliases: dict[str, str] = {}
        for node in tree.body if tree is not None else ():
            if isinstance(node, ast.Import):
                for alias in node.names:
                    aliases[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else \
                        alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        return aliases

    def imports(self, path: str) -> Optional[list[tuple[str, int]]]:
        """Top-level imports as (``from m import a as b`` normalised, line), in file order."""
        tree = self.module(path)
        if tree is None:
            return None
        found = []
        for node in tree.body:
            if isinstance(node, ast.Import):
                found.extend((f"import {a.name}" + (f" as {a.asname}" if a.asname else ""), node.lineno)
                             for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
                found.extend((f"from {module} import {a.name}" + (f" as {a.asname}" if a.asname else ""),
                              node.lineno) for a in node.names)
        return found


def _statements(tree: ast.Module) -> Iterator[ast.AST]:
    """The statements of ``tree`` in ``ast.walk``'s order (breadth first, fields in order),
    without walking a single expression: no expression holds a statement, so leaving them
    out changes no statement's place in that order."""
    queue = deque([tree])
    while queue:
        node = queue.popleft()
        yield node
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                queue.extend(item for item in value if isinstance(item, _HOLDS_STATEMENTS))


#: What statements are found in: statements, ``except`` clauses and ``case`` blocks.
_HOLDS_STATEMENTS = (ast.stmt, ast.excepthandler, ast.match_case)


def _start_lines(node: ast.AST) -> Iterator[int]:
    """The lines a definition is found by: its first line, and those of its decorators."""
    yield node.lineno  # type: ignore[attr-defined]
    decorators = getattr(node, "decorator_list", None)
    if decorators:
        yield from range(decorators[0].lineno, node.lineno)  # type: ignore[attr-defined]


__all__ = ["Definition", "SourceTree"]
