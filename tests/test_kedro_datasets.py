"""A Kedro dataset class of the project, named by a catalog entry's ``type`` (or a wrapped
``dataset``), is a custom materializer: it loads and saves what a node computes, so it is
in the reach of every node reading or writing that dataset."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pvcheck.analyzer import scan_tree
from pvcheck.config import Config
from pvcheck.model import Decision
from pvcheck.policies import compare
from tests.conftest import FIXTURES

_DATASET = '''from kedro.io import AbstractDataset


class ReportDataset(AbstractDataset):
    def __init__(self, filepath: str):
        self._filepath = filepath

    def _load(self):
        return open(self._filepath).read()

    def _save(self, data):
        open(self._filepath, "w").write(data.upper())

    def _describe(self):
        return {"filepath": self._filepath}


class UnusedDataset(ReportDataset):
    def _save(self, data):
        open(self._filepath, "w").write(data)
'''


def _project(root: Path, dataset: str, entry: str) -> Path:
    shutil.copytree(FIXTURES / "kedro_rockets", root)
    package = root / "src" / "rocket_demand" / "datasets"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "report.py").write_text(dataset)
    catalog = root / "conf" / "base" / "catalog.yml"
    text = catalog.read_text()
    assert "launch_report:\n  type: text.TextDataset\n" in text
    catalog.write_text(text.replace("launch_report:\n  type: text.TextDataset\n", f"launch_report:\n{entry}"))
    return root


def _decisions(tmp_path: Path, entry: str, old: str, new: str) -> dict[str, Decision]:
    base = scan_tree(_project(tmp_path / "base", _DATASET, entry), Config(), cache=False)
    head = scan_tree(_project(tmp_path / "head", _DATASET.replace(old, new), entry), Config(), cache=False)
    return {c.name: c.decision for c in compare(base, head, Config()).pipelines if c.decision is not None}


@pytest.mark.parametrize("entry", [
    "  type: rocket_demand.datasets.report.ReportDataset\n",
    "  type: partitions.PartitionedDataset\n  dataset: rocket_demand.datasets.report.ReportDataset\n",
    "  type: partitions.PartitionedDataset\n  dataset:\n    type: rocket_demand.datasets.report.ReportDataset\n",
])
def test_a_project_dataset_class_is_in_the_reach_of_its_nodes(tmp_path: Path, entry: str) -> None:
    decisions = _decisions(tmp_path, entry, "data.upper()", "data.lower()")
    # format_report writes launch_report: the reporting pipeline and the default one hold it
    assert decisions["reporting"] is Decision.VERSION
    assert decisions["ingestion"] is Decision.RUN


def test_a_dataset_class_no_entry_names_is_not_reached(tmp_path: Path) -> None:
    # near-miss: UnusedDataset is in the same module, but no catalog entry loads through it
    decisions = _decisions(tmp_path, "  type: rocket_demand.datasets.report.ReportDataset\n",
                           "write(data)\n", "write(data[::-1])\n")
    assert set(decisions.values()) == {Decision.RUN}
