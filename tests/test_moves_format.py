"""Issue 13, reformatting code pvcheck cannot follow, and call-site values written as
expressions: layout (``ruff format``, comments) is no change, anything else is."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Mapping

import libcst as cst
import pytest

from pvcheck.analyzer.canonical import layout_free_tokens
from pvcheck.analyzer.functions import source_fingerprint
from pvcheck.analyzer.values import plain_text
from pvcheck.config import Config
from pvcheck.model import Decision, Finding
from pvcheck.policies.engine import compare
from pvcheck.testing import scan_tree, write_files


def _tokens(code: str) -> list[str]:
    return layout_free_tokens(cst.parse_module(code))


@pytest.mark.parametrize("before, after", [
    ("x = job('a', selection=[b, c])\n", 'x = job(\n    "a",\n    selection=[\n        b,\n        c,\n    ],\n)\n'),
    ("x = f(a)  # why\n", "# because\nx = f(a)\n"),
    ("x = (a + b) * c\n", "x = (\n    a + b\n) * c\n"),
    ("q = f'{s!r:>3} t'\n", 'q = (\n    f"{s!r:>3} t"\n)\n'),
    ("x = 1_000\n", "x = 1000\n"),
    ("def f(a, b):\n    return a\n", "def f(\n    a,\n    b,\n):\n    return a\n"),
])
def test_layout_is_not_code(before: str, after: str) -> None:
    assert _tokens(before) == _tokens(after)


@pytest.mark.parametrize("before, after", [
    ("x = job('a', selection=[b, c])\n", "x = job('a', selection=[c, b])\n"),   # order
    ("x = (a + b) * c\n", "x = a + b * c\n"),                                  # grouping
    ("x = f(a)\n", "x = g(a)\n"),                                              # a name (nothing is resolved)
    ("x = y[1]\n", "x = y[1,]\n"),                                             # a tuple key
    ("q = rf'a\\n'\n", "q = f'a\\n'\n"),                                       # raw or not
    ("def f(a):\n    '''Doc.'''\n    return a\n", "def f(a):\n    return a\n"),  # a docstring may be read
    ("x = 'a'\n", "x = b'a'\n"),
])
def test_everything_else_is(before: str, after: str) -> None:
    assert _tokens(before) != _tokens(after)


def test_a_one_tuple_key_is_not_the_key() -> None:
    # the canonical form too: x[1,] indexes with the tuple (1,)
    assert source_fingerprint("def f(x):\n    return x[1]\n") != source_fingerprint("def f(x):\n    return x[1,]\n")
    assert source_fingerprint("def f(x):\n    return x[1, 2]\n") == source_fingerprint(
        "def f(x):\n    return x[1, 2,]\n")


class _Module:
    """Just enough of a module for ``plain_text``'s fallback (the node's own source)."""

    def code(self, node: cst.CSTNode) -> str:
        return cst.Module([]).code_for_node(node)


@pytest.mark.parametrize("before, after, same", [
    ("{'a': 1, 'b': x}", '{\n    "a": 1,\n    "b": x,  # note\n}', True),
    ("foo(a, b=2)", "foo(\n    a,\n    b=2,\n)", True),
    ("a + b * c", "a + (b * c)", True),
    ("(a + b) * c", "a + b * c", False),
    ("-x ** 2", "(-x) ** 2", False),
    ("x[1]", "x[1,]", False),
    ("f'{x!r:>3}a'", 'f"{x!r:>3}a"', True),
    ("{'a': 1}", "{'a': 2}", False),
])
def test_call_site_expressions_are_written_out_by_value(before: str, after: str, same: bool) -> None:
    module = _Module()
    assert (plain_text(cst.parse_expression(before), module) == plain_text(cst.parse_expression(after), module)) \
        is same  # type: ignore[arg-type]


DYNAMIC_STEPS = '''\
from zenml import step


@step
def load() -> list:
    rows = getattr(__builtins__, "list")([1, 2, 3])  # rows from a computed name
    return rows


@step
def train(rows: list, params: dict = None) -> float:
    return sum(rows)
'''

PIPELINE = '''\
from zenml import pipeline

from steps import load, train


@pipeline(name="example")
def example_pipeline(rate: float = 0.1):
    rows = load()
    train(rows, params={'rate': rate, 'depth': 3, 'name': 'gbm'})
'''


def _decide(tmp_path: Path, before: Mapping[str, str], after: Mapping[str, str]) -> tuple[Decision, list[Finding]]:
    config = Config(roots=(".",))
    base = scan_tree(write_files(tmp_path / "before", before), config)
    head = scan_tree(write_files(tmp_path / "after", after), config)
    change = next(c for c in compare(base, head, config).pipelines if c.name == "example")
    return change.decision, list(change.findings)


def test_a_dynamic_step_reformatted_is_run(tmp_path: Path) -> None:
    reformatted = DYNAMIC_STEPS.replace('    rows = getattr(__builtins__, "list")([1, 2, 3])  # rows from a computed name\n',
                                        "    # rows from a computed name\n    rows = getattr(\n"
                                        "        __builtins__, 'list'\n    )([1, 2, 3,])\n")
    decision, findings = _decide(tmp_path, {"steps.py": DYNAMIC_STEPS, "pipeline.py": PIPELINE},
                                 {"steps.py": reformatted, "pipeline.py": PIPELINE})
    assert decision is Decision.RUN, [f.message for f in findings]
    changed = reformatted.replace("[1, 2, 3,]", "[1, 2, 4,]")
    decision, findings = _decide(tmp_path / "changed", {"steps.py": DYNAMIC_STEPS, "pipeline.py": PIPELINE},
                                 {"steps.py": changed, "pipeline.py": PIPELINE})
    assert decision is Decision.VERSION
    assert "PV406" in {f.rule for f in findings}


def test_a_reformatted_call_site_expression_is_no_config_change(tmp_path: Path) -> None:
    reformatted = PIPELINE.replace("    train(rows, params={'rate': rate, 'depth': 3, 'name': 'gbm'})\n",
                                   '    train(\n        rows,\n        params={\n            "rate": rate,\n'
                                   '            "depth": 3,\n            "name": "gbm",\n        },\n    )\n')
    config = Config(roots=(".",))
    base = scan_tree(write_files(tmp_path / "b", {"steps.py": DYNAMIC_STEPS, "pipeline.py": PIPELINE}), config)
    head = scan_tree(write_files(tmp_path / "a", {"steps.py": DYNAMIC_STEPS, "pipeline.py": reformatted}), config)
    change = next(c for c in compare(base, head, config).pipelines if c.name == "example")
    assert change.decision is Decision.RUN
    assert not [f for f in change.findings if f.rule.startswith("PV2")], [f.message for f in change.findings]
    step = {s.id: s for s in head.pipelines[0].steps}["train"]
    assert step.inputs["params"] == {"$expr": "{'rate': rate, 'depth': 3, 'name': 'gbm'}"}
    assert step.config_fingerprint == {s.id: s for s in base.pipelines[0].steps}["train"].config_fingerprint
    # and a value changed inside it is one
    changed = PIPELINE.replace("'depth': 3", "'depth': 4")
    decision, findings = _decide(tmp_path / "c", {"steps.py": DYNAMIC_STEPS, "pipeline.py": PIPELINE},
                                 {"steps.py": DYNAMIC_STEPS, "pipeline.py": changed})
    assert "PV204" in {f.rule for f in findings}


def _ruff() -> list[str]:
    found = shutil.which("ruff", path=str(Path(sys.executable).parent))
    return [found] if found else []


@pytest.mark.skipif(not _ruff(), reason="ruff is not installed")
@pytest.mark.parametrize("length", ["88", "40"])
def test_ruff_format_of_dynamic_code_and_call_sites_is_run(tmp_path: Path, length: str) -> None:
    before = write_files(tmp_path / "before", {"steps.py": DYNAMIC_STEPS, "pipeline.py": PIPELINE})
    after = tmp_path / "after"
    shutil.copytree(before, after)
    subprocess.run([*_ruff(), "format", "--no-cache", "--isolated", "-q", "--line-length", length, str(after)],
                   check=True)
    assert (after / "pipeline.py").read_text() != PIPELINE  # quotes at least
    if length == "40":
        assert (after / "steps.py").read_text() != DYNAMIC_STEPS  # the dynamic step split over lines
    config = Config(roots=(".",))
    change = next(c for c in compare(scan_tree(before, config), scan_tree(after, config), config).pipelines
                  if c.name == "example")
    assert change.decision is Decision.RUN, [f.message for f in change.findings]
    assert not [f for f in change.findings if f.rule.startswith("PV2")]
