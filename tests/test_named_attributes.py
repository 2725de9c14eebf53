"""``getattr(obj, "name", default)`` on a local variable or parameter names its attribute
as ``obj.name`` does: code pvcheck follows, not PV010 (giga-dagster, zenml-projects: the
idiom for optional attributes of run-time objects). A computed name, or a module or other
global as the object, stays code pvcheck cannot follow.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pvcheck.analyzer import scan_tree
from pvcheck.analyzer.functions import source_fingerprint
from pvcheck.config import Config
from tests.conftest import write_tree

STEP = '''\
from zenml import step

from utils.meta import describe


@step
def report(rows: list) -> dict:
    return describe(rows)
'''

PIPELINE = '''\
from zenml import pipeline

from steps.report import report


@pipeline
def reporting():
    report([])
'''

HELPER = '''\
import utils.format as format_module
from utils import format

DEFAULTS = object()


class Holder:
    def __init__(self, value):
        {init}

    def value(self):
        return self.kept


def describe(rows):
    first = rows[0] if rows else None
    {body}
'''

SIMPLE = {"init": "self.kept = value", "body": "return {}"}


def _dynamic(root: Path, **parts: str) -> tuple[bool, list[str]]:
    files = {"utils/__init__.py": "", "utils/format.py": "def scale(x):\n    return x\n",
             "utils/meta.py": HELPER.format(**{**SIMPLE, **parts}), "steps/__init__.py": "",
             "steps/report.py": STEP, "pipeline.py": PIPELINE}
    project = scan_tree(write_tree(root, files), Config(), cache=False)
    (step,) = project.pipelines[0].steps
    return step.dynamic, [d.code for d in project.diagnostics]


@pytest.mark.parametrize("body", [
    'return {"meta": getattr(first, "metadata", None)}',
    'return {"meta": getattr(first.properties, "metadata")}',
    'return [getattr(row, "name", "") for row in rows]',
    'return {"size": Holder(rows).value() if hasattr(first, "size") else 0}',
])
def test_a_named_attribute_of_run_time_data_is_followed(tmp_path: Path, body: str) -> None:
    assert _dynamic(tmp_path, body=body) == (False, [])


def test_setattr_and_delattr_by_name_on_self(tmp_path: Path) -> None:
    init = 'setattr(self, "kept", value)\n        delattr(self, "stale") if hasattr(self, "stale") else None'
    assert _dynamic(tmp_path, init=init, body="return {'v': Holder(rows).value()}") == (False, [])


@pytest.mark.parametrize("body, why", [
    ('key = "metadata"\n    return {"meta": getattr(first, key)}', "a computed name"),
    ('return {"meta": getattr(first, f"meta{len(rows)}")}', "an f-string"),
    ('return {"scaled": getattr(format, "scale")(rows)}', "a repo module: format.scale is reached by name"),
    ('return {"scaled": getattr(format_module, "scale")(rows)}', "an aliased repo module"),
    ('return {"v": getattr(DEFAULTS, "value", None)}', "a module-level object"),
    ('return {"meta": getattr(first, "not a name", None)}', "not an identifier"),
    ('return {"meta": getattr(*rows)}', "a starred argument"),
])
def test_what_stays_code_pvcheck_cannot_follow(tmp_path: Path, body: str, why: str) -> None:
    dynamic, codes = _dynamic(tmp_path, body=body)
    assert dynamic and "PV010" in codes, why


@pytest.mark.parametrize("init", [
    'self.kept = getattr(DEFAULTS, "value", value)',  # a module-level object, from a method
    'self.kept = getattr(format_module, "scale")(value)',
])
def test_a_global_stays_code_pvcheck_cannot_follow_in_a_method(tmp_path: Path, init: str) -> None:
    dynamic, codes = _dynamic(tmp_path, init=init, body="return {'v': Holder(rows).value()}")
    assert dynamic and "PV010" in codes


def test_the_named_attribute_is_part_of_the_fingerprint() -> None:
    base = 'def f(obj):\n    return getattr(obj, "metadata", None)\n'
    assert source_fingerprint(base) != source_fingerprint(base.replace('"metadata"', '"properties"'))
    assert source_fingerprint(base) != source_fingerprint(base.replace(", None)", ", {})"))
    assert source_fingerprint(base) == source_fingerprint(base.replace('"metadata"', "'metadata'"))
