"""PV110: an assignment to a local variable that nothing reads is its value's evaluation
alone -- ``x = f()`` is ``f()`` (ruff's F841 fix), ``x = []`` is nothing -- in the
fingerprint (``pvcheck.analyzer.canonical``) and in the cosmetic explanation
(``pvcheck.policies.textdiff``). Everything that can read the variable keeps it code.
"""

from __future__ import annotations

import libcst as cst
import pytest

from pvcheck.analyzer.canonical import _inert, dead_stores
from pvcheck.analyzer.functions import source_fingerprint
from pvcheck.config import DEFAULT_COSMETIC_CALLS
from pvcheck.policies.sources import Definition
from pvcheck.policies.textdiff import classify

STEP = "def step(rows, rate):\n{edit}    total = sum(rows)\n    return total * rate\n"


def _step(edit: str = "") -> str:
    return STEP.format(edit="".join(f"    {line}\n" for line in edit.splitlines()))


def _same(before: str, after: str) -> bool:
    return source_fingerprint(before) == source_fingerprint(after)


@pytest.mark.parametrize("edit", [
    "bucket_ranges = []",
    "endpoint_name = None",
    "threshold = -0.5",
    "labels = {'a': [1, 2], 'b': (3, 'x')}",
    "kinds = {1, 'two', None}",
    "note = 'a' 'b'",
])
def test_an_unused_inert_literal_is_nothing(edit: str) -> None:
    assert _same(_step(), _step(edit))


def test_an_unused_result_is_its_call() -> None:
    assert _same(_step("checked = len(rows)"), _step("len(rows)"))
    assert _same(_step("executor = make(rows, verbose=True)"), _step("make(rows, verbose=True)"))
    assert _same(_step("a = len(rows)\na = max(rows)"), _step("len(rows)\nmax(rows)"))  # two dead stores


@pytest.mark.parametrize("before, after", [
    (_step("checked = len(rows)"), _step()),  # the call went too
    (_step("scratch = rows.pop()"), _step()),
    (_step("unused = missing_name"), _step()),  # a NameError is behaviour: a name is no inert literal
    (_step("bad = {[]}"), _step()),  # an unhashable set member raises
    (_step("bad = {[]: 1}"), _step()),
    (_step("text = f'{rows.pop()}'"), _step()),
    # `[0] * 0 if False else []` is no literal: it stays
    (_step("if rate:\n    scratch = [0] * 0 if False else []\nelse:\n    scratch = ()"), _step()),
])
def test_what_stays_code(before: str, after: str) -> None:
    assert not _same(before, after)


@pytest.mark.parametrize("edit, why", [
    ("buckets = []\ntotal2 = len(buckets)", "read later"),
    ("buckets = []\ndel buckets", "deleted"),
    ("buckets = []\nbuckets += [1]", "augmented"),
    ("buckets = []\nfor buckets in rows:\n    pass", "a loop target"),
    ("buckets = []\nprint(len(locals()))", "locals()"),
    ("buckets = []\nprint(vars())", "vars()"),
    ("buckets = []\nprint(eval('1'))", "eval"),
    ("buckets = []\nimport sys\nprint(sys._getframe().f_locals)", "a frame"),
    ("buckets = []\ndef more():\n    return buckets\nprint(more())", "a nested function reads it"),
    ("buckets = []\nclass Holder:\n    buckets = 1\nprint(Holder)", "a class attribute of that name"),
    ("buckets = []\nprint(rows.buckets)", "an attribute of that name"),
    ("buckets = []\nprint(dict(buckets=1))", "a keyword of that name"),
])
def test_a_variable_that_may_be_read_keeps_its_store(edit: str, why: str) -> None:
    removed = "\n".join(line for line in edit.splitlines() if line != "buckets = []")
    assert not _same(_step(edit), _step(removed)), why


def test_an_annotated_store_is_a_store() -> None:
    # zenml-projects a2410ff3: `metadata_dict: Dict[str, Any] = <read>` became `_ = <read>`
    before = _step("metadata: dict = rows[0].outputs['model']")
    assert _same(before, _step("_ = rows[0].outputs['model']"))
    assert _same(before, _step("rows[0].outputs['model']"))
    assert not _same(before, _step())  # the read went too
    assert dead_stores(_function("def f(a):\n    x: int = 1\n    y: int\n    return a\n")) == frozenset({"x"})


def test_a_global_or_nonlocal_name_is_no_local() -> None:
    module = "seen = 0\ndef step(rows):\n    global seen\n    seen = 1\n    return rows\n"
    assert not _same(module, module.replace("    seen = 1\n", ""))
    nested = ("def outer(rows):\n    seen = 0\n    def inner():\n        nonlocal seen\n        seen = 1\n"
              "    inner()\n    return rows\n")
    assert not _same(nested, nested.replace("        seen = 1\n", "        pass\n"))


def test_a_module_level_assignment_is_never_unused() -> None:
    # another module may import it
    assert not _same("LIMIT = 3\ndef step(rows):\n    return rows\n", "def step(rows):\n    return rows\n")


def _function(text: str) -> cst.FunctionDef:
    statement = cst.parse_module(text).body[0]
    assert isinstance(statement, cst.FunctionDef)
    return statement


def test_dead_stores_by_name() -> None:
    function = _function("def f(a):\n    x = 1\n    y = 2\n    if a:\n        x = g()\n    return y\n")
    assert dead_stores(function) == frozenset({"x"})
    assert dead_stores(_function("def f(a):\n    x = 1\n    return a\n")) == frozenset({"x"})
    assert dead_stores(_function("def f(a):\n    x = 1\n    return exec('x')\n")) == frozenset()
    assert dead_stores(_function("def f(a):\n    x, y = 1, 2\n    return a\n")) == frozenset()  # not `x = v`
    assert dead_stores(_function("def f(a):\n    x = y = 1\n    return a\n")) == frozenset()


@pytest.mark.parametrize("text, inert", [
    ("[]", True), ("()", True), ("{}", True), ("None", True), ("-1", True), ("b'x'", True), ("...", True),
    ("{'a': (1, 2)}", True), ("{1, 2}", True),
    ("{[]}", False), ("{(1,): 2}", False), ("[x]", False), ("f'a'", False), ("-x", False), ("1 + 2", False),
    ("[*a]", False), ("{**a}", False), ("not True", False),
])
def test_inert_literals(text: str, inert: bool) -> None:
    assert _inert(cst.parse_expression(text)) is inert


def _explained(before: str, after: str) -> list[str]:
    return classify(Definition("steps.py", 1, before.splitlines()), Definition("steps.py", 1, after.splitlines()),
                    DEFAULT_COSMETIC_CALLS)


def test_the_explanation_names_the_unused_variables() -> None:
    assert _explained(_step("bucket_ranges = []"), _step()) == ["unused_variables"]
    assert _explained(_step(), _step("bucket_ranges = []")) == ["unused_variables"]
    assert _explained(_step("checked = len(rows)"), _step("len(rows)")) == ["unused_variables"]
    assert _explained(_step("checked = len(rows)"), _step("# checked by the caller\nlen(rows)")) == [
        "comments", "unused_variables"]
    renamed = "def step(items, rate):\n    scratch = []\n    total = sum(items)\n    return total * rate\n"
    assert _explained(renamed, _step()) == ["unused_variables", "renames"]
    # what the analyzer keeps as code is not explained away
    assert _explained(_step("buckets = []\nrows.extend(locals())"), _step("rows.extend(locals())")) == []
    assert _explained(_step("checked = len(rows)"), _step()) == []
