"""Collections of independent projects scanned from their root (``fixtures/zenml_collection``):
each project imports its own ``steps``, ``pipelines`` and ``utils`` absolutely, and both
projects have packages of those names. The graphs must be the ones each project gives
scanned alone, an edit in one project must version only that project's pipeline, and
trees that are not collections must read every import as before."""

from __future__ import annotations

import shutil
from pathlib import Path

from pvcheck.analyzer import scan_tree
from pvcheck.analyzer.discovery import SourceFile, discover
from pvcheck.analyzer.subprojects import rebase, with_subprojects
from pvcheck.model import Project
from tests.conftest import FIXTURES, only_pipeline, write_tree

COLLECTION = FIXTURES / "zenml_collection"


def graph(pipeline):
    return ([(s.id, s.function, s.path) for s in pipeline.steps],
            [(e.source, e.target, e.kind, e.output, e.input) for e in pipeline.edges])


def codes(project: Project) -> list[str]:
    return sorted(d.code for d in project.diagnostics)


def copy(tmp_path: Path) -> Path:
    root = tmp_path / "collection"
    shutil.copytree(COLLECTION, root)
    return root


def test_each_project_has_its_own_graph():
    project = scan_tree(COLLECTION)
    churn = only_pipeline(project, "churn_training")
    assert graph(churn) == (
        [("load_customers", "churn-forecast.steps.load.load_customers", "churn-forecast/steps/load.py"),
         ("train_model", "churn-forecast.steps.train.train_model", "churn-forecast/steps/train.py"),
         ("evaluate", "churn-forecast.steps.evaluate.evaluate", "churn-forecast/steps/evaluate.py")],
        [("load_customers", "train_model", "data", "output", "customers"),
         ("train_model", "evaluate", "data", "output", "model"),
         ("load_customers", "evaluate", "data", "output", "customers")],
    )
    fraud = only_pipeline(project, "fraud_training")
    assert graph(fraud) == (
        [("load_transactions", "fraud_detection.steps.load.load_transactions", "fraud_detection/steps/load.py"),
         ("train_model", "fraud_detection.steps.train.train_model", "fraud_detection/steps/train.py"),
         ("report", "fraud_detection.steps.train.report", "fraud_detection/steps/train.py")],
        [("load_transactions", "train_model", "data", "output", "transactions"),
         ("train_model", "report", "data", "output", "model"),
         ("load_transactions", "report", "data", "output", "transactions")],
    )
    # every absolute import found its own project's package: nothing is left unfollowed or unrooted
    assert codes(project) == []
    assert churn.coverage["calls_not_followed"] == [] and fraud.coverage["calls_not_followed"] == []
    helpers = {h.name for s in churn.steps for h in s.helpers}
    assert {"churn-forecast.utils.cleaning.drop_inactive", "churn-forecast.utils.features.numeric"} <= helpers
    assert not any(h.startswith("fraud_detection.") for h in helpers)
    fraud_helpers = {h.name for s in fraud.steps for h in s.helpers}
    assert "fraud_detection.plotting.curves.precision_recall" in fraud_helpers  # its own plotting package


def test_graphs_equal_those_of_each_project_scanned_alone():
    together = scan_tree(COLLECTION)
    for folder, name in (("churn-forecast", "churn_training"), ("fraud_detection", "fraud_training")):
        alone = only_pipeline(scan_tree(COLLECTION / folder), name)
        inside = only_pipeline(together, name)
        # the same code is reached; names carry the project's folder (two projects both have
        # ``utils.features``), so fingerprints by name differ and those by content do not
        assert [(s.id, f"{folder}/{s.path}", s.line, s.content_fingerprint) for s in alone.steps] == \
            [(s.id, s.path, s.line, s.content_fingerprint) for s in inside.steps]
        assert [sorted((f"{folder}.{h.name}", f"{folder}/{h.path}", h.line) for h in s.helpers) for s in alone.steps] == \
            [sorted((h.name, h.path, h.line) for h in s.helpers) for s in inside.steps]
        assert [(e.source, e.target, e.output, e.input) for e in alone.edges] == \
            [(e.source, e.target, e.output, e.input) for e in inside.edges]
        assert inside.config == alone.config


def test_a_helper_edited_in_one_project_versions_only_its_pipeline(tmp_path):
    root = copy(tmp_path)
    before = scan_tree(root)
    features = root / "fraud_detection" / "utils" / "features.py"
    features.write_text(features.read_text().replace('"amount_7d"', '"amount_30d"'))
    after = scan_tree(root)
    assert only_pipeline(after, "fraud_training").fingerprint != only_pipeline(before, "fraud_training").fingerprint
    assert only_pipeline(after, "churn_training").fingerprint == only_pipeline(before, "churn_training").fingerprint


def test_a_package_of_another_project_is_not_on_this_ones_path(tmp_path):
    """churn-forecast has a ``monitoring/`` package of its own (no root holds it); fraud_detection
    imports the installed ``monitoring``. From fraud_detection it is third-party, not that
    folder: editing it changes only churn's pipeline, and no PV020 sends the user there."""
    root = copy(tmp_path)
    write_tree(root, {
        "churn-forecast/monitoring/__init__.py": "def track(frame):\n    return len(frame)\n",
        "churn-forecast/steps/load.py": (COLLECTION / "churn-forecast/steps/load.py").read_text().replace(
            "return drop_inactive(frame)", "monitoring.track(frame)\n    return drop_inactive(frame)").replace(
            "import pandas as pd\n", "import monitoring\nimport pandas as pd\n"),
        "fraud_detection/steps/load.py": (COLLECTION / "fraud_detection/steps/load.py").read_text().replace(
            "return drop_refunds", "monitoring.track(None)\n    return drop_refunds").replace(
            "import pandas as pd\n", "import monitoring\nimport pandas as pd\n"),
    })
    before = scan_tree(root)
    assert codes(before) == []
    monitoring = root / "churn-forecast" / "monitoring" / "__init__.py"
    monitoring.write_text(monitoring.read_text().replace("len(frame)", "len(frame) + 0"))
    after = scan_tree(root)
    assert only_pipeline(after, "churn_training").fingerprint != only_pipeline(before, "churn_training").fingerprint
    assert only_pipeline(after, "fraud_training").fingerprint == only_pipeline(before, "fraud_training").fingerprint


def test_near_miss_without_project_files_folders_are_packages_no_root_holds(tmp_path):
    """Without a project file the folders are not sub-projects: the imports are followed
    as packages no root holds, one folder per name, each reported (PV020) as before."""
    root = copy(tmp_path)
    (root / "churn-forecast" / "requirements.txt").unlink()
    (root / "fraud_detection" / "pyproject.toml").unlink()
    project = scan_tree(root)
    assert "PV020" in codes(project)
    fraud = only_pipeline(project, "fraud_training")
    assert all(not s.function.startswith("fraud_detection.steps") for s in fraud.steps)


def test_near_miss_imports_a_root_resolves_are_read_as_before(tmp_path):
    """An ordinary project whose tool folder has its own requirements.txt: every import
    there resolves from the scanned root, so nothing is re-read and the fingerprints are
    those of the same tree without the project file."""
    files = {
        "steps/__init__.py": "",
        "steps/train.py": "from zenml import step\nfrom utils.features import scale\n\n\n"
                          "@step\ndef train(x: int) -> int:\n    return scale(x)\n",
        "utils/__init__.py": "",
        "utils/features.py": "def scale(x):\n    return x * 2\n",
        "tools/report/run.py": "from zenml import pipeline\nfrom steps.train import train\nimport helpers\n\n\n"
                               "@pipeline\ndef nightly():\n    train(helpers.VALUE)\n",
        "tools/report/helpers/__init__.py": "VALUE = 3\n",
    }
    plain = scan_tree(write_tree(tmp_path / "plain", files))
    marked = scan_tree(write_tree(tmp_path / "marked", {**files, "tools/report/requirements.txt": "zenml\n"}))
    assert only_pipeline(marked, "nightly").fingerprint == only_pipeline(plain, "nightly").fingerprint
    assert [s.function for s in only_pipeline(marked, "nightly").steps] == ["steps.train.train"]
    # the package only the tool folder holds is the tool's own (PV020 without the project file)
    assert "PV020" in codes(plain) and "PV020" not in codes(marked)


def test_a_folder_that_is_a_source_root_is_not_rebased(tmp_path):
    root = write_tree(tmp_path, {
        "pyproject.toml": '[tool.uv.workspace]\nmembers = ["packages/*"]\n',
        "packages/core/pyproject.toml": "[project]\nname = 'core'\n",
        "packages/core/core/__init__.py": "",
        "packages/core/core/io.py": "import helpers\n",
        "packages/core/helpers.py": "",
    })
    projects: set[str] = set()
    files = discover(root, ("packages/core", "."), (), None, projects)
    assert "packages/core" in projects
    assert all(not f.subprojects for f in with_subprojects(files, projects))


def test_nearest_project_wins_and_own_names_are_never_rebased():
    def file(path: str, module: str) -> SourceFile:
        return SourceFile(path, Path(path), module, path.endswith("__init__.py"), 1)
    files = [file("outer/steps/__init__.py", "outer.steps"), file("outer/inner/steps/__init__.py", "outer.inner.steps"),
             file("outer/inner/run.py", "outer.inner.run"), file("outer/run.py", "outer.run"),
             file("outer/outer/__init__.py", "outer.outer")]
    marked = {f.path: f for f in with_subprojects(files, {"outer", "outer/inner"})}
    inner = marked["outer/inner/run.py"].subprojects
    assert rebase(inner, "steps.load") == "outer.inner.steps.load"
    assert rebase(marked["outer/run.py"].subprojects, "steps.load") == "outer.steps.load"
    # ``outer`` is the file's own first name (its module is outer.run): never re-read
    assert rebase(marked["outer/run.py"].subprojects, "outer.run.main") == "outer.run.main"
    assert rebase(inner, "pandas.read_csv") == "pandas.read_csv"


def test_a_package_added_to_one_project_leaves_the_other_projects_files_as_they_were(tmp_path):
    """Each file carries only the other projects' packages it imports: a commit adding a
    package to churn-forecast changes no state of fraud_detection's files (the history and
    the caches keep their results), while a fraud file importing that name is kept from it."""
    root = copy(tmp_path)

    def layout() -> dict[str, tuple]:
        projects: set[str] = set()
        files = discover(root, (".",), (), None, projects)
        contents = {f.path: f.absolute.read_bytes() for f in files}
        return {f.path: f.subprojects for f in with_subprojects(files, projects, contents)}

    before = layout()
    write_tree(root, {"churn-forecast/reports/__init__.py": "def summary():\n    return 1\n"})
    after = layout()
    assert {p: s for p, s in after.items() if p.startswith("fraud_detection/")} == \
        {p: s for p, s in before.items() if p.startswith("fraud_detection/")}
    write_tree(root, {"fraud_detection/steps/report.py": "import reports\n"})
    assert rebase(layout()["fraud_detection/steps/report.py"], "reports.summary") == "fraud_detection.reports.summary"


FRAME_MATERIALIZER = '''\
import pandas as pd
from zenml.materializers.base_materializer import BaseMaterializer


class FrameMaterializer(BaseMaterializer):
    ASSOCIATED_TYPES = (pd.DataFrame,)

    def load(self, data_type):
        return pd.read_parquet(self.uri + "/frame.parquet")

    def save(self, frame):
        frame.to_parquet(self.uri + "/frame.parquet")
'''


def _steps_with(project: Project, helper: str) -> dict[str, list[str]]:
    return {p.name: sorted(s.id for s in p.steps if any(h.name == helper for h in s.helpers))
            for p in project.pipelines}


def test_a_materializer_registers_in_its_own_project_only(tmp_path):
    """ZenML registers a materializer when its module is imported: in a collection, by its
    own project's code, never by another project's. Editing one project's materializer for
    ``pd.DataFrame`` versions that project's pipeline; the other project's steps, which
    return ``pd.DataFrame`` too, do not have it in their reach."""
    root = copy(tmp_path)
    (root / "churn-forecast" / "materializers").mkdir()
    (root / "churn-forecast" / "materializers" / "__init__.py").write_text("", encoding="utf-8")
    (root / "churn-forecast" / "materializers" / "frames.py").write_text(FRAME_MATERIALIZER, encoding="utf-8")
    helper = "churn-forecast.materializers.frames.FrameMaterializer"
    before = scan_tree(root)
    assert _steps_with(before, helper) == {"churn_training": ["load_customers"], "fraud_training": []}
    path = root / "churn-forecast" / "materializers" / "frames.py"
    path.write_text(path.read_text(encoding="utf-8").replace("frame.parquet", "frame.pq"), encoding="utf-8")
    after = scan_tree(root)
    assert only_pipeline(after, "churn_training").fingerprint != only_pipeline(before, "churn_training").fingerprint
    assert only_pipeline(after, "fraud_training").fingerprint == only_pipeline(before, "fraud_training").fingerprint


def test_a_materializer_of_no_project_registers_for_every_project(tmp_path):
    """A materializer in a package of the collection's root (no project holds it) is seen
    from every project: the scope narrows only what another project holds."""
    root = copy(tmp_path)
    (root / "shared_io").mkdir()
    (root / "shared_io" / "__init__.py").write_text("", encoding="utf-8")
    (root / "shared_io" / "frames.py").write_text(FRAME_MATERIALIZER, encoding="utf-8")
    project = scan_tree(root)
    assert _steps_with(project, "shared_io.frames.FrameMaterializer") == {
        "churn_training": ["load_customers"], "fraud_training": ["load_transactions"]}
