"""Broken files no pipeline reaches are warnings; reached ones stop ``check`` and ``lock``."""

from __future__ import annotations

from pathlib import Path

import pytest

from pvcheck.analyzer import scan_tree
from pvcheck.analyzer.discovery import SourceFile
from pvcheck.analyzer.reached import _imports
from pvcheck.cli import main
from pvcheck.config import Config
from pvcheck.model import Diagnostic, Severity
from tests.gitrepo import churn_repo

# a notebook export that uses the project's helpers and ZenML's client but defines no step;
# the last cell was saved half-typed
SCRATCH = '''from zenml.client import Client

from utils.io import read_table as rt

runs = Client().list_pipeline_runs(size=5)
frame = rt("warehouse://customers")
frame.groupby("plan"(
'''

# a helper module that no longer parses, in no package
LEGACY = '''"""Old warehouse reader, kept for the backfill; mentions zenml only in this docstring."""
import pandas as pd


def read_legacy(uri: str) -> pd.DataFrame
    return pd.read_csv(uri)
'''

ONEOFF_PIPELINE = '''from zenml import pipeline


@pipeline
def backfill(:
    pass
'''


def errors_of(diagnostics: tuple[Diagnostic, ...], path: str) -> list[Diagnostic]:
    return [d for d in diagnostics if d.path == path and d.severity == Severity.ERROR]


def warnings_of(diagnostics: tuple[Diagnostic, ...], path: str) -> list[Diagnostic]:
    return [d for d in diagnostics if d.path == path and d.severity == Severity.WARNING]


def test_broken_notebook_nobody_imports_is_a_warning(tmp_path: Path) -> None:
    repo = churn_repo(tmp_path, files={"notebooks/scratch.py": SCRATCH})
    project = scan_tree(repo.root)
    [warning] = warnings_of(project.diagnostics, "notebooks/scratch.py")
    assert warning.code == "PV001" and warning.line == 7
    assert "not reached by any pipeline" in warning.message
    assert not [d for d in project.diagnostics if d.severity == Severity.ERROR]
    assert {p.name for p in project.pipelines} == {"batch_features", "churn_training"}


def test_oversized_script_nobody_imports_is_a_warning(tmp_path: Path) -> None:
    repo = churn_repo(tmp_path, files={"scripts/oneoff.py": "ROWS = [\n" + "    (1, 2, 3),\n" * 200 + "]\n"})
    project = scan_tree(repo.root, Config(max_file_size=2000))
    [warning] = warnings_of(project.diagnostics, "scripts/oneoff.py")
    assert warning.code == "PV003" and "not reached by any pipeline" in warning.message


def test_oversized_file_imported_by_a_step_is_an_error(tmp_path: Path) -> None:
    repo = churn_repo(tmp_path, files={"lookup.py": "ROWS = [\n" + "    (1, 2, 3),\n" * 200 + "]\n"})
    repo.replace("steps/training.py", "import pandas as pd", "import pandas as pd\n\nimport lookup")
    project = scan_tree(repo.root, Config(max_file_size=2000))
    [error] = errors_of(project.diagnostics, "lookup.py")
    assert error.code == "PV003" and "not reached" not in error.message


def test_broken_module_a_helper_imports_is_an_error(tmp_path: Path) -> None:
    # steps/features.py uses utils.cleaning, which imports the broken top-level module
    repo = churn_repo(tmp_path, files={"legacy_io.py": LEGACY})
    repo.replace("utils/cleaning.py", "import pandas as pd", "import pandas as pd\n\nimport legacy_io as lio")
    project = scan_tree(repo.root)
    [error] = errors_of(project.diagnostics, "legacy_io.py")
    assert error.code == "PV001" and error.line == 5


def test_broken_module_nobody_imports_is_a_warning(tmp_path: Path) -> None:
    # the near-miss of the test above: the same file, no import of it
    repo = churn_repo(tmp_path, files={"legacy_io.py": LEGACY})
    project = scan_tree(repo.root)
    [warning] = warnings_of(project.diagnostics, "legacy_io.py")
    assert warning.code == "PV001"


def test_broken_file_in_a_package_reached_code_imports_from_is_an_error(tmp_path: Path) -> None:
    # utils/ is imported by the steps: a module of it may be loaded by name at run time
    repo = churn_repo(tmp_path, files={"utils/legacy.py": LEGACY})
    project = scan_tree(repo.root)
    assert [d.code for d in errors_of(project.diagnostics, "utils/legacy.py")] == ["PV001"]


def test_broken_file_with_a_pipeline_decorator_is_an_error(tmp_path: Path) -> None:
    repo = churn_repo(tmp_path, files={"scripts/oneoff.py": ONEOFF_PIPELINE})
    project = scan_tree(repo.root)
    assert [d.code for d in errors_of(project.diagnostics, "scripts/oneoff.py")] == ["PV001"]


def test_dynamic_import_in_reached_code_keeps_every_broken_file_an_error(tmp_path: Path) -> None:
    repo = churn_repo(tmp_path, files={"notebooks/scratch.py": SCRATCH})
    repo.replace("utils/io.py", "import pandas as pd", "import importlib\n\nimport pandas as pd")
    project = scan_tree(repo.root)
    assert [d.code for d in errors_of(project.diagnostics, "notebooks/scratch.py")] == ["PV001"]


def test_check_and_lock_pass_with_an_unreached_broken_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    repo = churn_repo(tmp_path, files={"notebooks/scratch.py": SCRATCH})
    monkeypatch.chdir(repo.root)
    assert main(["lock"]) == 0
    assert (repo.root / "pvcheck.lock").exists()
    repo.commit("lock")
    capsys.readouterr()
    assert main(["check"]) == 0
    assert "pvcheck: error" not in capsys.readouterr().err


def test_check_and_lock_fail_with_a_reached_broken_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    repo = churn_repo(tmp_path)
    monkeypatch.chdir(repo.root)
    assert main(["lock"]) == 0
    repo.commit("lock")
    before = (repo.root / "pvcheck.lock").read_bytes()
    repo.write("notebooks/scratch.py", SCRATCH)
    repo.write("utils/report.py", "from notebooks import scratch\n")  # a helper module now imports it
    repo.replace("steps/evaluation.py", "import pandas as pd", "import pandas as pd\n\nimport utils.report")
    capsys.readouterr()
    assert main(["check"]) == 2
    assert "notebooks/scratch.py:7" in capsys.readouterr().err
    assert main(["lock"]) == 2
    assert (repo.root / "pvcheck.lock").read_bytes() == before


def source(module: str, is_package: bool = False) -> SourceFile:
    path = module.replace(".", "/") + ("/__init__.py" if is_package else ".py")
    return SourceFile(path, Path(path), module, is_package, 0)


def test_imports_follow_packages_relative_and_parenthesised_forms() -> None:
    data = (b"import a.b as ab, c\nfrom .sibling import (x,\n    y)  # comment\nfrom .. import up\n"
            b"from pkg.mod import *\n    import indented\n")
    found = _imports(data, source("pkg.sub.mod"), {}, {"pkg.mod.one": source("pkg.mod.one")})
    assert {"a", "a.b", "c", "pkg.sub.sibling", "pkg.sub.sibling.x", "pkg.sub.sibling.y", "pkg", "pkg.up",
            "pkg.mod", "pkg.mod.one", "indented"} <= found
    assert "ab" not in found


def test_imports_of_an_orphan_package_name_its_files() -> None:
    found = _imports(b"from mypkg.utils import clean\n", source("run"), {"mypkg": "src"}, {})
    assert {"src.mypkg", "src.mypkg.utils", "src.mypkg.utils.clean"} <= found
    assert "src" not in found  # a folder, not a package: nothing there is loaded


# a pipeline in a module of its own that nothing imports (like a run script)
FLOW = '''from zenml import pipeline

from steps.ingest import load_customers
from steps.features import build_features


@pipeline
def quick_features():
    build_features(load_customers())
'''
# mid-edit: the decorator line was cut along with the signature
FLOW_BROKEN = '''from zenml import pipeline

from steps.ingest import load_customers
from steps.features import build_features


def quick_features(:
'''


def test_a_locked_pipeline_module_stays_an_error_when_its_decorator_is_gone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    repo = churn_repo(tmp_path, files={"flows.py": FLOW})
    monkeypatch.chdir(repo.root)
    assert main(["lock"]) == 0
    repo.commit("lock")
    before = (repo.root / "pvcheck.lock").read_bytes()
    assert b"quick_features" in before
    repo.write("flows.py", FLOW_BROKEN)
    # on its own, the file reaches nothing a pipeline runs: a warning
    assert [d.code for d in warnings_of(scan_tree(repo.root).diagnostics, "flows.py")] == ["PV001"]
    capsys.readouterr()
    # against the lock, which has its pipeline: an error, and the lock keeps the pipeline
    assert main(["lock"]) == 2
    assert "flows.py:7" in capsys.readouterr().err
    assert (repo.root / "pvcheck.lock").read_bytes() == before
    assert main(["check"]) == 2


def test_folders_above_an_orphan_package_are_no_package(tmp_path: Path) -> None:
    # a project template scanned from the repository's top: template/ is a folder, not a
    # package, so importing template/pipelines/ does not reach the runner script beside it
    repo = churn_repo(tmp_path, "template")
    repo.write("run.py", "from zenml.client import Client\n\nfrom pipelines import churn_training\n\n\ndef main(:\n")
    repo.write("pipelines/__init__.py", "from .training import churn_training\n")
    project = scan_tree(repo.top, Config(roots=(".",)))
    assert {p.name for p in project.pipelines} == {"batch_features", "churn_training"}
    assert [d.code for d in warnings_of(project.diagnostics, "template/run.py") if d.code != "PV020"] == ["PV001"]
