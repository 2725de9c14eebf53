"""Dagster IO managers are custom materializers: the resource that stores an asset's
output and loads its inputs runs inside the step. The one bound to the key the step
uses -- ``io_manager_key=``, ``io_manager`` when it names none, an ``AssetOut``'s or
``AssetIn``'s key -- is in its reach (an edit to its methods is a version) and its
constructor arguments are its configuration (a change is a run).
"""

from __future__ import annotations

from typing import Mapping

import pytest

from pvcheck.config import Config
from pvcheck.model import Decision
from pvcheck.policies import compare

_ASSETS = """
import dagster as dg

from project.io_managers import CsvIO, ParquetIO


@dg.asset{decorator}
def rows() -> list:
    return [1, 2]


@dg.multi_asset(outs={{"left": dg.AssetOut(io_manager_key="csv"), "right": dg.AssetOut()}})
def split(rows: list):
    return rows[:1], rows[1:]


defs = dg.Definitions(
    assets=[rows, split],
    resources={{"io_manager": ParquetIO(root="data"), "csv": CsvIO(sep=","), "unused": CsvIO(sep=";")}},
)
"""

_IO = """
import dagster as dg


class ParquetIO(dg.ConfigurableIOManager):
    root: str

    def handle_output(self, context, obj):
        write_parquet(obj, self.root)

    def load_input(self, context):
        return read_parquet(self.root)


class CsvIO(dg.ConfigurableIOManager):
    sep: str

    def handle_output(self, context, obj):
        write_csv(obj, self.sep)

    def load_input(self, context):
        return read_csv(self.sep)


class UnusedIO(dg.ConfigurableIOManager):
    def handle_output(self, context, obj):
        return None

    def load_input(self, context):
        return None


def write_parquet(obj, root):
    return None


def read_parquet(root):
    return []


def write_csv(obj, sep):
    return None


def read_csv(sep):
    return []
"""


def _files(decorator: str = "", io: str = _IO, assets: str = _ASSETS) -> Mapping[str, str]:
    return {"project/__init__.py": "", "project/definitions.py": assets.format(decorator=decorator),
            "project/io_managers.py": io}


def _decisions(tree, base: Mapping[str, str], head: Mapping[str, str]) -> dict[str, Decision]:  # type: ignore[no-untyped-def]
    report = compare(tree(base), tree(head), Config())
    return {change.name: change.decision for change in report.pipelines if change.decision is not None}


@pytest.mark.parametrize("decorator, old, new", [
    ("", "write_parquet(obj, self.root)", "write_parquet(obj, self.root + '/v2')"),  # the default key
    ('(io_manager_key="csv")', "write_csv(obj, self.sep)", "write_csv(obj, self.sep * 2)"),
    ("", "return []\n\n\ndef write_csv", "return [0]\n\n\ndef write_csv"),  # what its method calls
])
def test_an_edit_to_the_io_manager_a_step_uses_is_a_version(tree, decorator: str, old: str, new: str) -> None:
    base = _files(decorator)
    head = _files(decorator, _IO.replace(old, new))
    assert head != base
    assert set(_decisions(tree, base, head).values()) == {Decision.VERSION}


def test_an_asset_out_names_its_io_manager(tree) -> None:  # type: ignore[no-untyped-def]
    # `rows` names csv nowhere: only `split` (AssetOut(io_manager_key="csv")) uses CsvIO
    base = _files()
    project = tree(base)
    (pipeline,) = project.pipelines
    helpers = {step.id: {h.name for h in step.helpers} for step in pipeline.steps}
    assert "project.io_managers.CsvIO" in helpers["split"]
    assert "project.io_managers.CsvIO" not in helpers["rows"]
    assert "project.io_managers.ParquetIO" in helpers["rows"]


def test_an_io_manager_no_step_uses_is_not_in_the_reach(tree) -> None:  # type: ignore[no-untyped-def]
    # near-miss: bound to "unused" (and a class nobody binds): no step asks for it
    base = _files()
    head = _files(io=_IO.replace("    def handle_output(self, context, obj):\n        return None",
                                 "    def handle_output(self, context, obj):\n        return obj"))
    assert head != base
    assert set(_decisions(tree, base, head).values()) == {Decision.RUN}


def test_an_io_manager_argument_is_configuration(tree) -> None:  # type: ignore[no-untyped-def]
    # near-miss: a constructor argument is the step's resources.io_manager config, a run
    base = _files()
    head = _files(assets=_ASSETS.replace('ParquetIO(root="data")', 'ParquetIO(root="data2")'))
    report = compare(tree(base), tree(head), Config())
    assert {c.decision for c in report.pipelines} == {Decision.RUN}
    assert any("resources.io_manager" in f.message for c in report.pipelines for f in c.findings)
