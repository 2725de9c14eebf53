"""Issue 12, materializers: matched by type across the whole tree (ZenML registers them
globally at import time), and a dynamic materializer that no longer turns a cosmetic
edit of its step into a new version."""

from __future__ import annotations

from pathlib import Path

import pytest

from pvcheck.analyzer import scan_tree
from pvcheck.analyzer.cache import AnalysisCache
from pvcheck.config import Config
from pvcheck.policies import compare
from tests.conftest import only_pipeline, write_tree

REPORT = """
    from dataclasses import dataclass

    @dataclass
    class TrainingReport:
        accuracy: float
        rows: int

    class DetailedReport(TrainingReport):
        pass
"""

# the step module imports no materializer: ZenML still uses one registered anywhere
STEPS = """
    from zenml import step

    from reports import TrainingReport

    @step
    def summarize(rows: int = 3) -> TrainingReport:
        return TrainingReport(accuracy=0.5, rows=rows)
"""

PIPE = """
    from zenml import pipeline
    from steps import summarize

    @pipeline
    def reporting():
        summarize()
"""

# reached only through a run script that imports it for its registration
MATERIALIZER = """
    import json
    import os

    from zenml.materializers.base_materializer import BaseMaterializer

    from reports.model import TrainingReport

    class ReportMaterializer(BaseMaterializer):
        ASSOCIATED_TYPES = (TrainingReport,)

        def save(self, report: TrainingReport) -> None:
            with self.artifact_store.open(os.path.join(self.uri, "r.json"), "w") as handle:
                json.dump({"accuracy": report.accuracy}, handle)
"""

UNRELATED = """
    import pickle

    from zenml.materializers.base_materializer import BaseMaterializer

    class ModelMaterializer(BaseMaterializer):
        ASSOCIATED_TYPES = (dict,)

        def save(self, model: dict) -> None:
            with self.artifact_store.open(self.uri + "/m.pkl", "wb") as handle:
                pickle.dump(model, handle, protocol=4)
"""


def project(**extra: str) -> dict[str, str]:
    files = {
        "reports/__init__.py": "from reports.model import DetailedReport, TrainingReport\n",
        "reports/model.py": REPORT,
        "steps.py": STEPS,
        "flow.py": PIPE,
        "io_types/__init__.py": "",
        "io_types/materializer.py": MATERIALIZER,
        "io_types/models.py": UNRELATED,
        "run.py": "import io_types.materializer  # noqa: F401\nfrom flow import reporting\n",
    }
    files.update(extra)
    return files


def _diff(tmp_path: Path, before: dict[str, str], after: dict[str, str]):
    base = scan_tree(write_tree(tmp_path / "base", before))
    head = scan_tree(write_tree(tmp_path / "head", after))
    return compare(base, head).pipelines[0]


def _helpers(files: dict[str, str], tmp_path: Path) -> list[str]:
    pipeline = only_pipeline(scan_tree(write_tree(tmp_path / "scan", files)))
    return [h.name for h in pipeline.steps[0].helpers if h.kind == "class"]


# ------------------------------------------------------------------ matched by type across the tree
def test_a_materializer_for_the_step_type_anywhere_in_the_tree_is_in_its_reach(tmp_path: Path) -> None:
    # the step names the type through a re-export, the materializer through its home module
    assert "io_types.materializer.ReportMaterializer" in _helpers(project(), tmp_path)


def test_a_materializer_for_an_unrelated_type_is_not(tmp_path: Path) -> None:
    assert "io_types.models.ModelMaterializer" not in _helpers(project(), tmp_path)


def test_editing_a_materializer_matched_by_type_is_a_version(tmp_path: Path) -> None:
    after = project(**{"io_types/materializer.py": MATERIALIZER.replace('"accuracy"', '"score"')})
    change = _diff(tmp_path, project(), after)
    assert change.decision.value == "version"
    assert any("ReportMaterializer" in f.message for f in change.findings)


def test_editing_a_materializer_of_an_unrelated_type_stays_run(tmp_path: Path) -> None:
    after = project(**{"io_types/models.py": UNRELATED.replace("protocol=4", "protocol=5")})
    assert _diff(tmp_path, project(), after).decision.value == "run"


def test_a_materializer_of_a_base_class_serves_the_subclass(tmp_path: Path) -> None:
    # ZenML walks the output type's MRO: DetailedReport is written by ReportMaterializer
    steps = STEPS.replace("import TrainingReport", "import DetailedReport").replace(
        "-> TrainingReport:", "-> DetailedReport:").replace("return TrainingReport(", "return DetailedReport(")
    assert "io_types.materializer.ReportMaterializer" in _helpers(project(**{"steps.py": steps}), tmp_path)


def test_a_materializer_subclass_inherits_its_associated_types(tmp_path: Path) -> None:
    # no ASSOCIATED_TYPES in this file: the class inherits them and ZenML registers it too
    sub = """
        from io_types.materializer import ReportMaterializer

        class CompressedReportMaterializer(ReportMaterializer):
            def save(self, report) -> None:
                super().save(report)
    """
    helpers = _helpers(project(**{"io_types/compressed.py": sub}), tmp_path)
    assert "io_types.compressed.CompressedReportMaterializer" in helpers
    assert "io_types.materializer.ReportMaterializer" in helpers


def test_a_class_that_only_mentions_a_materializer_is_not_one(tmp_path: Path) -> None:
    other = """
        from io_types.materializer import ReportMaterializer

        class Registry:
            kinds = [ReportMaterializer]
    """
    assert "io_types.other.Registry" not in _helpers(project(**{"io_types/other.py": other}), tmp_path)


# ------------------------------------------------------------------ the cache: a census, not every file
def test_a_new_materializer_in_a_file_that_had_none_invalidates_the_cached_step(tmp_path: Path) -> None:
    files = project()
    del files["io_types/materializer.py"]
    files["io_types/late.py"] = "VALUE = 1\n"
    root = write_tree(tmp_path / "tree", files)
    first = scan_tree(root, cache=AnalysisCache(tmp_path / "cache", Config()))
    (root / "io_types" / "late.py").write_text(write_tree(tmp_path / "src", {"m.py": MATERIALIZER})
                                              .joinpath("m.py").read_text(encoding="utf-8"), encoding="utf-8")
    store = AnalysisCache(tmp_path / "cache", Config())
    second = scan_tree(root, cache=store)
    assert store.misses >= 1
    assert first.pipelines[0].fingerprint != second.pipelines[0].fingerprint
    assert "io_types.late.ReportMaterializer" in [h.name for h in second.pipelines[0].steps[0].helpers]
    assert second.pipelines == scan_tree(root, cache=False).pipelines


def test_an_edit_to_a_file_without_materializers_reruns_no_pipeline(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "tree", project(**{"notes.py": "X = 1\n"}))
    scan_tree(root, cache=AnalysisCache(tmp_path / "cache", Config()))
    (root / "notes.py").write_text("X = 2\n", encoding="utf-8")
    store = AnalysisCache(tmp_path / "cache", Config())
    scan_tree(root, cache=store)
    assert store.misses == 0


# ------------------------------------------------------------------ a dynamic materializer
DYNAMIC = MATERIALIZER.replace(
    '                json.dump({"accuracy": report.accuracy}, handle)',
    '                # every field the report has\n'
    '                json.dump({k: getattr(report, k) for k in ("accuracy", "rows")}, handle)')


def test_a_cosmetic_edit_of_a_step_whose_materializer_is_dynamic_stays_run(tmp_path: Path) -> None:
    # zenml-projects 9e2690a0: imports sorted and a docstring reflowed in the step
    before = project(**{"io_types/materializer.py": DYNAMIC})
    steps = STEPS.replace("    from zenml import step\n\n    from reports import TrainingReport\n",
                          "    from reports import TrainingReport\n    from zenml import step\n")
    steps = steps.replace("-> TrainingReport:\n", '-> TrainingReport:\n        """The report."""\n')
    change = _diff(tmp_path, before, {**before, "steps.py": steps})
    assert change.decision.value == "run", [(f.rule, f.message) for f in change.findings]
    pipeline = only_pipeline(scan_tree(tmp_path / "head"))
    assert pipeline.steps[0].dynamic  # still conservative about the materializer itself


def test_a_comment_or_quote_edit_inside_the_dynamic_materializer_stays_run(tmp_path: Path) -> None:
    before = project(**{"io_types/materializer.py": DYNAMIC})
    edited = DYNAMIC.replace("# every field the report has", "# the fields").replace('"rows"', "'rows'")
    assert _diff(tmp_path, before, {**before, "io_types/materializer.py": edited}).decision.value == "run"


def test_a_formatter_splitting_a_line_of_the_dynamic_materializer_stays_run(tmp_path: Path) -> None:
    """zenml-projects 71e6c3b9 (``black`` over omni-reader): a dict split over lines, with
    the trailing comma the formatter adds, in a helper reading fields by ``getattr``."""
    before = project(**{"io_types/materializer.py": DYNAMIC})
    edited = DYNAMIC.replace(
        '                json.dump({k: getattr(report, k) for k in ("accuracy", "rows")}, handle)',
        '                json.dump(\n'
        '                    {k: getattr(report, k) for k in ("accuracy", "rows",)},\n'
        '                    handle,\n'
        '                )')
    assert edited != DYNAMIC
    change = _diff(tmp_path, before, {**before, "io_types/materializer.py": edited})
    assert change.decision.value == "run", [(f.rule, f.message) for f in change.findings]


def test_a_trailing_comma_that_makes_a_tuple_in_the_dynamic_materializer_is_a_version(tmp_path: Path) -> None:
    """The near miss: ``("accuracy")`` is a string, ``("accuracy",)`` a tuple of one."""
    narrow = DYNAMIC.replace('("accuracy", "rows")', '("accuracy")')
    before = project(**{"io_types/materializer.py": narrow})
    after = {**before, "io_types/materializer.py": narrow.replace('("accuracy")', '("accuracy",)')}
    assert _diff(tmp_path, before, after).decision.value == "version"


@pytest.mark.parametrize("edit", [
    ('"rows")', '"rows", "extra")'),  # what getattr reads
    ("getattr(report, k)", "str(getattr(report, k))"),
    ('"w") as handle', '"a") as handle'),
])
def test_a_change_inside_the_dynamic_materializer_is_still_a_version(tmp_path: Path, edit: tuple[str, str]) -> None:
    before = project(**{"io_types/materializer.py": DYNAMIC})
    after = {**before, "io_types/materializer.py": DYNAMIC.replace(*edit)}
    assert after["io_types/materializer.py"] != DYNAMIC
    assert _diff(tmp_path, before, after).decision.value == "version"


def test_a_dynamic_step_body_itself_still_folds_its_own_code(tmp_path: Path) -> None:
    """All of it but its layout: a changed literal is a version, the same value written
    another way (0.5 / 0.50) is not."""
    dynamic_step = STEPS.replace("return TrainingReport(accuracy=0.5, rows=rows)",
                                 "return getattr(TrainingReport, 'from_rows', TrainingReport)(accuracy=0.5, rows=rows)")
    before = project(**{"steps.py": dynamic_step})
    changed = {**before, "steps.py": dynamic_step.replace("accuracy=0.5", "accuracy=0.6")}
    assert _diff(tmp_path / "changed", before, changed).decision.value == "version"
    respelled = {**before, "steps.py": dynamic_step.replace("accuracy=0.5", "accuracy=0.50")}
    assert _diff(tmp_path / "respelled", before, respelled).decision.value == "run"
