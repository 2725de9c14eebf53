"""An edited module parsed from its previous tree (pvcheck.analyzer.splice) is exactly the
tree libcst's full parse gives: node for node, whitespace and module configuration."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Optional

import libcst as cst
import pytest

from pvcheck.analyzer.splice import reparse

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _same(a: cst.Module, b: cst.Module) -> bool:
    return (a.deep_equals(b) and a.code == b.code
            and all(getattr(a, f) == getattr(b, f) for f in ("default_indent", "default_newline",
                                                             "has_trailing_newline", "encoding"))
            and all(len(getattr(a, f)) == len(getattr(b, f))
                    and all(x.deep_equals(y) for x, y in zip(getattr(a, f), getattr(b, f)))
                    for f in ("header", "footer")))


def _check(old: str, new: str) -> Optional[cst.Module]:
    """The reparse of ``new`` from ``old``, after checking it against the full parse."""
    spliced = reparse(cst.parse_module(old), old, new)
    if spliced is not None:
        assert _same(spliced, cst.parse_module(new)), (old, new)
    return spliced


BASE = '''"""A module."""
import os

from utils import helper  # noqa: F401

LIMIT = 3


def first(x):
    if x:
        return helper(x)
    return None


class Model:
    size = 2

    def fit(self, data):
        return data[: self.size]


@decorate
def second(y):
    return y + LIMIT


RESULT = second(1)
'''


@pytest.mark.parametrize("old, new", [
    pytest.param(BASE, BASE.replace("return y + LIMIT", "return y * LIMIT"), id="a function body"),
    pytest.param(BASE, BASE.replace("import os\n", "import os\nimport sys\n"), id="an import added at the top"),
    pytest.param(BASE, BASE.replace("RESULT = second(1)\n", "RESULT = second(2)\n"), id="the last statement"),
    pytest.param(BASE, BASE + "\n\ndef third():\n    return 3\n", id="a function appended"),
    pytest.param(BASE, BASE.replace("LIMIT = 3", "LIMIT = 4").replace("return data", "return list(data)"),
                 id="two places"),
    # right at a cut: the line continues the class before it, or is a decorator of the def after it
    pytest.param(BASE, BASE.replace("        return data[: self.size]\n",
                                    "        return data[: self.size]\n\n    def score(self):\n        return 1\n"),
                 id="a method appended to a class"),
    pytest.param(BASE, BASE.replace("@decorate\n", "@decorate\n@other\n"), id="a decorator added"),
    # an indented comment after a block belongs to the block (its footer); flush left, to what follows
    pytest.param(BASE, BASE.replace("    return None\n", "    return None\n    # the end of first\n"),
                 id="an indented comment after a block"),
    pytest.param(BASE, BASE.replace("    return None\n\n\n", "    return None\n\n\n# about Model\n"),
                 id="a flush-left comment before a class"),
    pytest.param(BASE, BASE.replace("    return None\n\n\nclass", "    return None\n  # half way\n\n\nclass"),
                 id="a comment indented less than the block"),
    pytest.param(BASE, BASE.replace("    return None\n", "    return None\n    \n"), id="a line of spaces"),
    pytest.param(BASE, BASE.replace("RESULT = second(1)\n", "RESULT = second(1)\n# trailing\n"),
                 id="a comment at the end of the file"),
    pytest.param(BASE, BASE.rstrip("\n"), id="no newline at the end any more"),
    pytest.param(BASE.rstrip("\n"), BASE.rstrip("\n") + " + 1", id="an edit at an end without newline"),
    pytest.param(BASE, BASE.replace("LIMIT = 3\n", "if LIMIT:\n    pass\nLIMIT = 3\n"), id="a block before the rest"),
    pytest.param(BASE, BASE.replace('"""A module."""\n', '#!/usr/bin/env python\n"""A module."""\n'),
                 id="the header"),
    pytest.param(BASE, BASE.replace("LIMIT = 3\n", "LIMIT = (\n    3\n)\n"), id="a statement over lines"),
    pytest.param(BASE, BASE.replace("def second(y):", "def second(y, z=1):"), id="a signature"),
    pytest.param(BASE, BASE.replace("RESULT = second(1)\n", "RESULT = second(1); OTHER = 2\n"),
                 id="two statements on a line"),
])
def test_a_reparse_is_the_full_parse(old: str, new: str) -> None:
    assert _check(old, new) is not None


def test_an_unchanged_statement_is_the_previous_tree_s_node() -> None:
    old_tree = cst.parse_module(BASE)
    spliced = reparse(old_tree, BASE, BASE.replace("return y + LIMIT", "return y * LIMIT"))
    assert spliced is not None
    # all but the edited def and, the edit ending where its text ends, the statement after it
    assert [s is t for s, t in zip(spliced.body, old_tree.body)] == [True] * 6 + [False, False]


def test_the_module_s_indentation_unit_is_the_first_block_s() -> None:
    # libcst stores a block's indentation only where it differs from the module's unit,
    # which is its first block's: a piece parsed alone must not take another
    two = "import os\n\n\ndef a():\n  return 1\n\n\ndef b():\n  return 2\n"
    assert _check(two, two.replace("return 2", "return 3")) is not None
    # the first block's indentation changes: the unit of every block changes with it
    _check(two, two.replace("def a():\n  return 1", "def a():\n    return 1"))
    mixed = "def a():\n    return 1\n\n\ndef b():\n  return 2\n"
    _check(mixed, mixed.replace("return 2", "return 3"))
    _check(mixed, mixed.replace("def a():\n    return 1", "def a():\n  return 1"))
    _check("x = 1\n", "def a():\n\treturn 1\nx = 1\n")


def test_windows_line_endings_and_mixed_ones() -> None:
    crlf = BASE.replace("\n", "\r\n")
    assert _check(crlf, crlf.replace("return y + LIMIT", "return y * LIMIT")) is not None
    _check(crlf, crlf.replace("RESULT = second(1)\r\n", "RESULT = second(1)\nOTHER = 2\n"))
    _check(BASE, BASE.replace("RESULT = second(1)\n", "RESULT = second(1)\r\n"))
    # libcst does not give a lone carriage return back: such a file is parsed whole
    mac = BASE.replace("\n", "\r")
    assert reparse(cst.parse_module(mac), mac, mac.replace("return y + LIMIT", "return y * LIMIT")) is None


def test_an_edit_that_breaks_the_syntax_is_left_to_the_full_parse() -> None:
    old_tree = cst.parse_module(BASE)
    assert reparse(old_tree, BASE, BASE.replace("def second(y):", "def second(y:")) is None



def test_a_clause_added_to_the_statement_before_the_edit_is_parsed_with_it() -> None:
    # the changed lines start where the ``if`` ends: the ``if`` is parsed again, with its ``else``
    old = "import os\nif A:\n    x = 1\ny = 2\n"
    assert _check(old, "import os\nif A:\n    x = 1\nelse:\n    y = 2\n") is not None
    assert _check(old, "import os\nif A:\n    x = 1\n    # more\ny = 2\n") is not None


def _edits(text: str, rng: random.Random) -> list[str]:
    """Edits of the kinds commits make: lines inserted, deleted, changed or moved, blank
    lines and comments (flush left and indented) added, several at once."""
    lines = text.splitlines(keepends=True)
    made = []
    snippets = ["x = 1\n", "    y = 2\n", "        return 3\n", "\n", "# note\n", "    # note\n", "    \n",
                "@decorate\n", "def extra():\n    return 4\n", "class Extra:\n    pass\n", "else:\n",
                "    pass\n", "import sys\n", "if FLAG:\n    z = 5\n"]
    for _ in range(40):
        edited = list(lines)
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            at = rng.randrange(len(edited) + 1)
            kind = rng.randrange(4)
            if kind == 0:
                edited.insert(at, rng.choice(snippets))
            elif kind == 1 and at < len(edited):
                del edited[at]
            elif kind == 2 and at < len(edited):
                edited[at] = edited[at].replace("return", "return not", 1).replace("=", "= 0 or", 1)
            elif at < len(edited):
                moved = edited.pop(at)
                edited.insert(rng.randrange(len(edited) + 1), moved)
        made.append("".join(edited))
    return made


def _fixture_sources() -> list[Path]:
    found = sorted(p for p in FIXTURES.rglob("*.py") if p.stat().st_size > 300)
    return found[:: max(1, len(found) // 60)]  # a spread of the fixture projects' modules


@pytest.mark.parametrize("path", _fixture_sources(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_generated_edits_of_fixture_modules_reparse_as_the_full_parse(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    try:
        cst.parse_module(text)
    except cst.ParserSyntaxError:
        pytest.skip("a fixture that is meant not to parse")
    rng = random.Random(path.name)
    spliced = 0
    for new in _edits(text, rng):
        try:
            cst.parse_module(new)
        except cst.ParserSyntaxError:
            assert reparse(cst.parse_module(text), text, new) is None
            continue
        spliced += _check(text, new) is not None
    assert spliced > 0  # the check is not vacuous: most edits that parse are spliced


def test_an_indented_comment_left_after_a_block_that_is_gone_is_not_lost() -> None:
    # the comment was ``f``'s footer; after a simple statement it belongs to ``y``, which
    # the run parsed on its own cannot give it: the run does not fit
    old = "def a():\n    pass\n\n\ndef f():\n    x = 1\n    # c\n\n\ny = 2\n"
    assert _check(old, old.replace("def f():\n    x = 1\n", "z = 0\n")) is None


def test_a_module_without_statements_is_parsed_whole() -> None:
    assert reparse(cst.parse_module("# only notes\n"), "# only notes\n", "# other notes\n") is None
    assert _check("# notes\n", "# notes\nx = 1\n") is None
