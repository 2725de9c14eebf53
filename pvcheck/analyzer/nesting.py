"""A cheap estimate of how deeply a file's code nests, checked before libcst parses it.

libcst's native parser recurses once per level of nesting on the C stack: about 1,300
nested brackets, or a few thousand chained ``lambda``/``not``/``-``/``if-else``, abort
the whole process with a segmentation fault that no ``except`` can catch (in a worker
process too: the pool breaks). Its running time also grows with the cube of such
chains. So files that could do that are refused up front (diagnostic PV007) by one
linear regular-expression scan, a few per cent of what parsing costs.

The estimate is an upper bound of the expression depth: brackets, operators and the
keywords that build nested nodes each count one level; a comma (or ``=``, ``;``) starts
a sibling at the depth of its bracket, a newline outside brackets a new statement. An
f-string's text is scanned as code, because libcst parses its expressions. ``elif``
chains, which nest statements without indentation, are counted separately. Real code
stays far below the limit; pvcheck's own analysis gives up on the deepest code it
accepts (a ``RecursionError``, also PV007), but without taking the process down.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from pvcheck.diagnostics import TOO_DEEP
from pvcheck.model import Diagnostic, Severity

#: The deepest estimate accepted. CPython itself refuses more than 200 nested brackets;
#: libcst crashes near 1,300 and takes seconds per expression beyond 1,000.
MAX_NESTING = 500

_KEYWORDS = r"(?:not|and|or|if|else|lambda|await|for|in|is|yield|elif|def|class)"
_STRING = (
    r'(?:"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*(?:"""|\Z)'
    r"|'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*(?:'''|\Z)"
    r'|"[^"\\\r\n]*(?:\\.[^"\\\r\n]*)*"'
    r"|'[^'\\\r\n]*(?:\\.[^'\\\r\n]*)*')"
)
# Characters and names that cannot change the estimate are consumed by the regex engine
# itself, so the Python loop only sees the tokens that matter. A name is skipped whole
# (an atomic group, emulated with a lookahead and a back-reference) unless it is a
# keyword or a string prefix. Some token alternative matches wherever skipping stops,
# the end of the text included, so a match never fails and never backtracks.
_SKIPPED = (
    r"(?:[^#A-Za-z_\"'()\[\]{}\-+*/%@&|^~<>.,;=\\\r\n!]+"
    r"|!(?!=)"
    r"|\\(?!\r?\n)"
    r"|(?!" + _KEYWORDS + r"\b)(?=(?P<name>[A-Za-z_]\w*))(?P=name)(?![\"']))*"
)
_TOKEN = re.compile(
    _SKIPPED
    + r"(?:(?P<comment>#[^\r\n]*)"
    + r"|(?P<keyword>" + _KEYWORDS + r"\b)"
    + r"|(?P<string>(?P<prefix>[A-Za-z_]\w*)?" + _STRING + r")"
    + r"|(?P<open>[(\[{])"
    + r"|(?P<close>[)\]}])"
    + r"|(?P<operator>\*\*|//|<<|>>|<=|>=|==|!=|->|:=|[-+*/%@&|^~<>.])"
    + r"|(?P<separator>[,;=])"
    + r"|(?P<continuation>\\\r?\n)"
    + r"|(?P<newline>\r?\n|\r)"
    + r"|(?P<other>[A-Za-z_]\w*|[\"'])"  # a name before an unterminated quote; that quote
    + r"|\Z)",
    re.DOTALL,
)


_LEVEL_CHARACTERS = "-+*/%@&|^~<>=.()[]{}"  # "=": the scan counts == != <= >= := as operators
_WITHOUT_LEVEL_CHARACTERS = str.maketrans("", "", _LEVEL_CHARACTERS)
_ANY_KEYWORD = re.compile(_KEYWORDS + r"\b")  # a superset: no word boundary in front


@dataclass(frozen=True)
class Nesting:
    """Where a file's nesting estimate first went over the limit."""

    depth: int
    line: int  # 1-based
    kind: str  # "expression" or "elif chain"


def excessive_nesting(text: str, limit: int = MAX_NESTING) -> Optional[Nesting]:
    """The first place where ``text`` nests deeper than ``limit``, or None."""
    if len(text) <= limit or _level_bound(text, limit) <= limit:
        return None
    found = _scan(text, 0, limit)
    if found is None:
        return None
    depth, offset, kind = found
    return Nesting(depth, text.count("\n", 0, offset) + 1, kind)


def _level_bound(text: str, limit: int) -> int:
    """An upper bound of the estimate, found at C speed (a quarter of the scan's cost):
    each level the scan counts is an operator or bracket character, or a keyword; an
    ``elif`` chain needs that many ``elif``. Small modules end here."""
    bound = len(text) - len(text.translate(_WITHOUT_LEVEL_CHARACTERS))
    if bound > limit:
        return bound
    return max(bound + len(_ANY_KEYWORD.findall(text)), text.count("elif"))


def nesting_diagnostic(path: str, text: str, limit: int = MAX_NESTING) -> Optional[Diagnostic]:
    """A PV007 diagnostic when ``text`` is too deeply nested to hand to the parser."""
    found = excessive_nesting(text, limit)
    if found is None:
        return None
    return Diagnostic(TOO_DEEP, Severity.ERROR,
                      f"code nested too deeply to analyze ({found.kind} about {found.depth} levels deep, "
                      f"limit {limit})", path, found.line,
                      hint="flatten the nesting (or load such data from a file), or exclude the file")


def _scan(text: str, base: int, limit: int, nested_only: bool = False) -> Optional[tuple[int, int, str]]:
    """(depth, offset, kind) where the estimate, starting at ``base``, first exceeds ``limit``.

    ``nested_only`` is for the text of string literals: only what nests without bound in
    libcst's parser counts there (brackets, chains of unary operators, ``**``, ``not``,
    ``lambda``, ``await``, ``if``/``else``), not a long ``a + b + c`` -- which is what a
    base64 blob or a prose docstring looks like as code.
    """
    depth = base
    stack: list[int] = []  # the depth at each open bracket
    elifs = 0
    operand_allowed = True  # nested_only: nothing but blanks since an operator, bracket or keyword
    last_end = 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if nested_only:
            if text[last_end:match.start(kind) if kind else match.end()].strip():
                operand_allowed = False  # a name or number was skipped: the next operator is binary
            last_end = match.end()
        if kind == "operator":
            if not nested_only:
                depth += 1
            else:
                operator = match.group(kind)
                if operator == "**" or (operand_allowed and operator in "-+~"):
                    depth += 1
                operand_allowed = True
        elif kind == "newline":
            if not stack:
                depth = base
            continue
        elif kind == "open":
            stack.append(depth)
            depth += 1
            operand_allowed = True
        elif kind == "close":
            depth = (stack.pop() if stack else base) + 1  # f()() and a[1][2] chain like operators
            operand_allowed = False
        elif kind == "separator":
            depth = stack[-1] + 1 if stack else base
            operand_allowed = True
        elif kind == "keyword":
            word = match.group(kind)
            if word == "elif":
                elifs += 1
                if elifs > limit:
                    return elifs, match.start(kind), "elif chain"
            elif word == "def" or word == "class":
                elifs = 0
            elif not nested_only or word in ("not", "lambda", "await", "if", "else"):
                depth += 1
            operand_allowed = True
        elif kind == "string":
            literal = match.group(kind)
            prefix = (match.group("prefix") or "").lower()
            body = _string_body(literal[len(prefix):])
            inner = None
            if len(prefix) <= 2 and ("f" in prefix or "t" in prefix):
                inner = _scan(body, depth, limit, nested_only)  # libcst parses the expressions in it
            elif len(body) > limit:  # short strings cannot hold `limit` levels
                # a string annotation ("List[Foo]") is parsed as code too, by libcst's scope
                # analysis and by pvcheck's: whichever string ends up in one
                inner = _scan(body, 0, limit, nested_only=True)
            if inner is not None:
                return inner[0], match.start(kind), inner[2]
            operand_allowed = False
            continue
        else:
            continue  # comments, continuations, the end of the text
        if depth > limit:
            return depth, match.start(kind), "expression"
    return None


def _string_body(literal: str) -> str:
    """A string literal without its quotes (an unterminated one keeps its end)."""
    quotes = 3 if literal[:3] in ('"""', "'''") else 1
    body = literal[quotes:]
    if len(body) >= quotes and body.endswith(literal[:quotes]):
        body = body[: len(body) - quotes]
    return body
