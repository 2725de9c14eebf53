"""Parsing an edited module again from the tree of its previous version.

``pvcheck history`` parses every file a commit changed, and most commits change a few
lines of a long module: libcst's parser, the largest single cost of a walk, reads the
whole file again for them. :func:`reparse` parses only the runs of top-level statements
the edit touched and puts them between the previous tree's own nodes for the rest. The
result is the tree :func:`libcst.parse_module` gives for the new text -- node for node,
whitespace and module configuration included -- or None, and the caller parses the
whole text. That holds because:

* the text is cut only where a top-level statement's text begins (its leading blank and
  comment lines included), where Python's tokenizer is at a line start with no bracket,
  string or indentation open; a line diff gives the changed lines, and each run to parse
  again reaches from the last cut strictly before a change to the first cut strictly
  after it (a line changed right at a cut may continue the statement before it, a line
  added to a class body, or belong to the one after it, a decorator), so the text
  outside the runs is the same in both versions and so are its statements;
* a run must read on its own as it does between its neighbours: an ``else`` that now
  continues the statement before it does not parse alone; blank and comment lines that
  an indented block before or after the run could own (its footer: the lines up to the
  last one indented as far as the block) must start at the first column; a run that does
  not end the file ends with nothing after its last statement;
* what libcst derives from the whole module is checked: the indentation unit (its first
  indented block's) and the newline (its first line break's) each run was parsed with
  must be the new module's, else the run's blocks and newlines would carry other values;
* the run's leading blank and comment lines, which a module parsed on its own puts in its
  header, go to its first statement, as they do in the file.

Top-level statements are found with Python's own ``ast`` (lines only: nothing is
compiled or run), paired with libcst's one by one; when the two do not pair up, a run
does not fit, or the text has line breaks libcst does not give back (a lone carriage
return), the answer is None. ``tests/test_splice.py`` holds the result equal to the full
parse for edits at every kind of cut and for generated edits of the fixture modules.
"""

from __future__ import annotations

import ast
import difflib
import re
from typing import Optional

import libcst as cst

_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what Python's tokenizer counts as the end of a line
_LONE_CR = re.compile(r"\r(?!\n)")
_COMPOUND = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.AsyncFor, ast.While,
             ast.With, ast.AsyncWith, ast.Try, *((ast.TryStar,) if hasattr(ast, "TryStar") else ()),
             *((ast.Match,) if hasattr(ast, "Match") else ()))
_CLAUSES = (cst.Else, cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally, cst.If)


def reparse(old_tree: cst.Module, old_text: str, new_text: str) -> Optional[cst.Module]:
    """``libcst.parse_module(new_text)``, made from ``old_tree`` (the parse of ``old_text``)
    and parses of the runs of statements the edit touched; None when that cannot be done
    safely (the caller then parses ``new_text`` whole). A syntax error in an edited run
    gives None too: the full parse reports it where it is."""
    if old_text == new_text:
        return old_tree
    if _LONE_CR.search(old_text) or _LONE_CR.search(new_text):
        return None
    old_starts = _line_starts(old_text)
    cuts = _cuts(old_tree, old_text, old_starts)
    if not cuts:  # unreadable, or no statement to keep
        return None
    body = old_tree.body
    hunks = _hunks(old_text, new_text, old_starts)
    # a line diff may put lines added at the end of a block after the blank lines that
    # follow it (they match the old blank lines as well): then the statement before the
    # change is parsed with it too
    pieces = _pieces(body, new_text, _windows(cuts, hunks, len(new_text), 0)) \
        or _pieces(body, new_text, _windows(cuts, hunks, len(new_text), 1))
    if pieces is None:
        return None
    newline = pieces[0][2].default_newline if pieces[0][0] == 0 else old_tree.default_newline
    indent = _module_indent(old_tree, pieces)
    if indent is None or any(p.default_newline != newline for _, _, p in pieces):
        return None
    statements: list[cst.BaseStatement] = []
    kept = 0
    for begin, stop, piece in pieces:
        statements.extend(body[kept:begin])
        made = list(piece.body)
        if begin and piece.header:  # a module parsed on its own keeps its first lines apart
            made[0] = made[0].with_changes(leading_lines=(*piece.header, *made[0].leading_lines))
        statements.extend(made)
        kept = stop
    statements.extend(body[kept:])
    changes: dict[str, object] = {"default_indent": indent, "default_newline": newline}
    first, last = pieces[0], pieces[-1]
    if first[0] == 0:
        changes["header"] = first[2].header
    if last[1] == len(body):
        changes["footer"] = last[2].footer
        changes["has_trailing_newline"] = last[2].has_trailing_newline
    return old_tree.with_changes(body=statements, **changes)


def _pieces(body: "tuple[cst.BaseStatement, ...] | list[cst.BaseStatement]", new_text: str,
            windows: list[tuple[int, int, int, int]]) -> Optional[list[tuple[int, int, cst.Module]]]:
    """Each window's statements parsed from the new text, if every one reads on its own as
    it does between its neighbours; else None."""
    pieces = []
    for begin, stop, new_begin, new_stop in windows:
        try:
            piece = cst.parse_module(new_text[new_begin:new_stop])
        except Exception:  # noqa: BLE001 - the full parse says what is wrong, and where
            return None
        if not _fits(piece, body, begin, stop):
            return None
        pieces.append((begin, stop, piece))
    return pieces


def _hunks(old: str, new: str, old_starts: list[int]) -> list[tuple[int, int, int, int]]:
    """(start, end in old, start, end in new) of each run of changed lines, as offsets
    (``old_starts``: :func:`_line_starts` of ``old``)."""
    new_starts = _line_starts(new)
    old_lines = [old[a:b] for a, b in zip(old_starts, old_starts[1:])]
    new_lines = [new[a:b] for a, b in zip(new_starts, new_starts[1:])]
    # the lines both versions begin and end with, then a line diff of what is between
    head = 0
    while head < min(len(old_lines), len(new_lines)) and old_lines[head] == new_lines[head]:
        head += 1
    tail = 0
    while tail < min(len(old_lines), len(new_lines)) - head and old_lines[-1 - tail] == new_lines[-1 - tail]:
        tail += 1
    matcher = difflib.SequenceMatcher(None, old_lines[head:len(old_lines) - tail],
                                      new_lines[head:len(new_lines) - tail], autojunk=False)
    hunks = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            hunks.append((old_starts[head + i1], old_starts[head + i2], new_starts[head + j1], new_starts[head + j2]))
    return hunks


def _line_starts(text: str) -> list[int]:
    """The offset of every line's start, and the text's length last."""
    starts = [0, *(m.end() for m in _LINE_BREAK.finditer(text))]
    if starts[-1] != len(text):
        starts.append(len(text))
    return starts


def _windows(cuts: list[int], hunks: list[tuple[int, int, int, int]], new_size: int, slack: int
             ) -> list[tuple[int, int, int, int]]:
    """(first statement, statement after the last, start and end in the new text) of each
    run of statements to parse again: from the last cut before a change (``slack``
    statements further back) to the first cut after it, runs sharing statements merged."""
    windows: list[list[int]] = []
    for old_start, old_end, _, _ in hunks:
        # strictly before and after: lines changed right at a cut may continue the statement
        # before it (a line added at the end of a class body) or belong to the one after
        # it (a decorator)
        begin = max(max((k for k, cut in enumerate(cuts) if cut < old_start), default=0) - slack, 0)
        stop = next((k for k in range(begin + 1, len(cuts)) if cuts[k] > old_end), len(cuts))
        if windows and begin < windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], stop)
        else:
            windows.append([begin, stop])

    def moved(offset: int) -> int:  # an offset outside every change, in the new text
        return offset + sum((ne - ns) - (oe - os) for os, oe, ns, ne in hunks if os < offset)

    return [(begin, stop, moved(cuts[begin]), moved(cuts[stop]) if stop < len(cuts) else new_size)
            for begin, stop in windows]


def _fits(piece: cst.Module, body: "tuple[cst.BaseStatement, ...] | list[cst.BaseStatement]", begin: int,
          stop: int) -> bool:
    """Whether a run parsed on its own reads as it does between its neighbours."""
    if not piece.body:
        return False
    if stop < len(body):
        if piece.footer:  # lines after its last statement: the next statement's, in the file
            return False
        if not isinstance(piece.body[-1], cst.SimpleStatementLine) and not _flush_left(body[stop].leading_lines):
            return False  # an indented comment after a block is the block's (its footer)
    leading = (*piece.header, *piece.body[0].leading_lines)
    return not begin or isinstance(body[begin - 1], cst.SimpleStatementLine) or _flush_left(leading)


def _flush_left(lines: "tuple[cst.EmptyLine, ...] | list[cst.EmptyLine]") -> bool:
    """Whether blank and comment lines all start at the first column: none of them can be
    an indented block's footer."""
    return all(not line.whitespace.value for line in lines)


def _cuts(tree: cst.Module, text: str, starts_of_lines: list[int]) -> Optional[list[int]]:
    """Per top-level statement, the offset its text begins at (its leading blank and
    comment lines included; 0 for the first); None when ``ast`` cannot read the text or its
    statements do not pair up with libcst's. ``starts_of_lines``: :func:`_line_starts`."""
    try:
        parsed = ast.parse(text).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    starts: list[int] = []  # the line of each statement's first token (a decorator's, for a def)
    at = 0
    for statement in tree.body:
        if at >= len(parsed):
            return None
        first = parsed[at]
        if isinstance(statement, cst.SimpleStatementLine):
            group = parsed[at:at + len(statement.body)]
            if len(group) != len(statement.body) or any(isinstance(s, _COMPOUND) for s in group):
                return None
            at += len(statement.body)
        else:
            if not isinstance(first, _COMPOUND):
                return None
            at += 1
        decorators = getattr(first, "decorator_list", None)
        starts.append(min(d.lineno for d in decorators) if decorators else first.lineno)
    if at != len(parsed):
        return None
    lines = [line - len(statement.leading_lines) for line, statement in zip(starts, tree.body)]
    if any(b <= a for a, b in zip(lines, lines[1:])) or (lines and lines[0] < 1):
        return None
    if lines and (lines[-1] > len(starts_of_lines) or starts_of_lines[lines[-1] - 1] >= len(text)):
        return None  # a line the text does not have: the two parsers disagree
    return [starts_of_lines[line - 1] if k else 0 for k, line in enumerate(lines)]


def _module_indent(old: cst.Module, pieces: list[tuple[int, int, cst.Module]]) -> Optional[str]:
    """The indentation unit of the new module -- libcst takes its first indented block's --
    if every parsed run with a block used it; None otherwise."""
    unit: Optional[str] = None
    replaced_block = False  # an old statement with a block was parsed again before this point
    kept = 0
    for begin, stop, piece in [*pieces, (len(old.body), len(old.body), None)]:
        if unit is None and any(_has_block(s) for s in old.body[kept:begin]):
            if replaced_block:
                return None  # the old unit may come from a block that is gone
            unit = old.default_indent
        if piece is not None:
            if unit is None and any(_has_block(s) for s in piece.body):
                unit = piece.default_indent
            replaced_block = replaced_block or any(_has_block(s) for s in old.body[begin:stop])
        kept = stop
    if unit is None:
        return None if replaced_block else old.default_indent  # no block at all, before or after
    for _, _, piece in pieces:
        if piece.default_indent != unit and any(_has_block(s) for s in piece.body):
            return None
    return unit


def _has_block(node: cst.CSTNode) -> bool:
    """Whether a top-level statement has an indented block (an INDENT token) in any clause."""
    if isinstance(node, cst.SimpleStatementLine):
        return False
    if isinstance(node, cst.Match):
        return True  # its cases are always indented
    for child in node.children:
        if isinstance(child, cst.IndentedBlock) or (isinstance(child, _CLAUSES) and _has_block(child)):
            return True
    return False


__all__ = ["reparse"]
