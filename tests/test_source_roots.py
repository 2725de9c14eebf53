"""Source roots detected from the project's layout; imports of a package no root holds.

Each detection is checked on both sides: the declaration that makes a folder a root,
and a near-miss that does not (a package named ``src``, a declaration of a folder that
does not exist, explicit ``roots`` in the configuration).
"""

from __future__ import annotations

from pathlib import Path

from pvcheck.analyzer import scan_tree
from pvcheck.analyzer.roots import detect_roots, order_roots
from pvcheck.config import Config
from pvcheck.model import Diagnostic
from tests.conftest import only_pipeline, write_tree

HELPER = "def scale(x):\n    return x * 2\n"
STEP = """
    from zenml import step
    from {package}.utils.features import scale

    @step
    def train(x: int) -> int:
        return scale(x)
"""
PIPELINE = """
    from zenml import pipeline
    from {package}.steps import train

    @pipeline
    def churn_training():
        train(1)
"""


def package_files(folder: str, package: str = "churn") -> dict[str, str]:
    """A small package at ``folder/package`` with a step, a helper and a re-exporting __init__."""
    prefix = f"{folder}/{package}" if folder else package
    return {
        f"{prefix}/__init__.py": "",
        f"{prefix}/utils/__init__.py": "",
        f"{prefix}/utils/features.py": HELPER,
        f"{prefix}/steps/__init__.py": "from .train import train\n",
        f"{prefix}/steps/train.py": STEP.format(package=package),
    }


def roots_of(tmp_path: Path, files: dict[str, str]) -> tuple[str, ...]:
    return detect_roots(write_tree(tmp_path, files))


def test_src_folder_holding_packages(tmp_path):
    assert roots_of(tmp_path, package_files("src")) == ("src", ".")


def test_src_package_is_not_a_root(tmp_path):
    # ``src`` with an __init__ is a package imported as ``src.churn``: the root stays "."
    files = {**package_files("src"), "src/__init__.py": ""}
    assert roots_of(tmp_path, files) == (".",)


def test_src_without_packages_is_not_a_root(tmp_path):
    assert roots_of(tmp_path, {"src/script.py": "print(1)\n"}) == (".",)


def test_setuptools_find_where(tmp_path):
    files = {**package_files("python"),
             "pyproject.toml": '[tool.setuptools.packages.find]\nwhere = ["python"]\n'}
    assert roots_of(tmp_path, files) == ("python", ".")


def test_setuptools_find_where_of_missing_folder_is_ignored(tmp_path):
    files = {**package_files(""), "pyproject.toml": '[tool.setuptools.packages.find]\nwhere = ["nowhere"]\n'}
    assert roots_of(tmp_path, files) == (".",)


def test_setuptools_package_dir(tmp_path):
    files = {**package_files("lib"), "pyproject.toml": '[tool.setuptools]\npackage-dir = {"" = "lib"}\n'}
    assert roots_of(tmp_path, files) == ("lib", ".")
    named = {**package_files("code"), "pyproject.toml": '[tool.setuptools.package-dir]\nchurn = "code/churn"\n'}
    assert roots_of(tmp_path / "named", named) == ("code", ".")


def test_poetry_packages_from(tmp_path):
    files = {**package_files("source"),
             "pyproject.toml": '[tool.poetry]\nname = "churn"\npackages = [{include = "churn", from = "source"}]\n'}
    assert roots_of(tmp_path, files) == ("source", ".")
    plain = {**package_files(""), "pyproject.toml": '[tool.poetry]\npackages = [{include = "churn"}]\n'}
    assert roots_of(tmp_path / "plain", plain) == (".",)


def test_hatch_wheel_packages(tmp_path):
    files = {**package_files("pkgs"),
             "pyproject.toml": '[tool.hatch.build.targets.wheel]\npackages = ["pkgs/churn"]\n'}
    assert roots_of(tmp_path, files) == ("pkgs", ".")


def test_dagster_module_name_and_dg_root_module(tmp_path):
    files = {**package_files("src"), "pyproject.toml": '[tool.dagster]\nmodule_name = "churn.definitions"\n'
                                                        'code_location_name = "churn"\n'}
    assert roots_of(tmp_path, files) == ("src", ".")
    flat = {**package_files(""), "pyproject.toml": '[tool.dg.project]\nroot_module = "churn"\n'}
    assert roots_of(tmp_path / "flat", flat) == (".",)
    # a module the tree does not hold names no folder
    missing = {**package_files("app"), "pyproject.toml": '[tool.dagster]\nmodule_name = "other.defs"\n'}
    assert roots_of(tmp_path / "missing", missing) == (".",)


def test_dagster_working_directory(tmp_path):
    files = {**package_files("orchestration"),
             "pyproject.toml": '[tool.dagster]\nmodule_name = "churn"\nworking_directory = "orchestration"\n'}
    assert roots_of(tmp_path, files) == ("orchestration", ".")


def test_uv_workspace_members(tmp_path):
    files = {
        "pyproject.toml": '[tool.uv.workspace]\nmembers = ["packages/*"]\nexclude = ["packages/legacy"]\n',
        **package_files("packages/core/src", "core"),
        "packages/core/pyproject.toml": '[project]\nname = "core"\n',
        **package_files("packages/flat", "flat"),
        **package_files("packages/legacy/src", "legacy"),
    }
    assert roots_of(tmp_path, files) == ("packages/core/src", "packages/flat", ".")


def test_most_specific_root_wins():
    assert order_roots([".", "src", "packages/core/src", "src"]) == ("packages/core/src", "src", ".")


def test_detected_src_layout_names_modules_below_src(tmp_path):
    write_tree(tmp_path, {**package_files("src"), "run.py": PIPELINE.format(package="churn")})
    project = scan_tree(tmp_path)
    pipeline = only_pipeline(project)
    assert [(s.id, s.function) for s in pipeline.steps] == [("train", "churn.steps.train.train")]
    assert [h.name for h in pipeline.steps[0].helpers] == ["churn.utils.features.scale"]
    assert not [d for d in project.diagnostics if d.code == "PV020"]


def test_explicit_roots_win(tmp_path):
    write_tree(tmp_path, {**package_files("src"), "run.py": PIPELINE.format(package="churn")})
    project = scan_tree(tmp_path, Config(roots=(".",)))
    # the package is followed under its folder's name, and each import of it is reported
    pipeline = only_pipeline(project)
    assert [s.function for s in pipeline.steps] == ["src.churn.steps.train.train"]
    assert [h.name for h in pipeline.steps[0].helpers] == ["src.churn.utils.features.scale"]
    pv020 = sorted((d.path, d.line) for d in project.diagnostics if d.code == "PV020")
    assert pv020 == [("run.py", 2), ("src/churn/steps/train.py", 2)]
    assert all(d.hint == "add 'src' to roots in [tool.pvcheck]" for d in project.diagnostics if d.code == "PV020")


def test_orphan_package_in_undeclared_folder(tmp_path):
    write_tree(tmp_path, {**package_files("code"), "run.py": PIPELINE.format(package="churn")})
    project = scan_tree(tmp_path)
    assert [s.function for s in only_pipeline(project).steps] == ["code.churn.steps.train.train"]
    diagnostic = next(d for d in project.diagnostics if d.code == "PV020" and d.path == "run.py")
    assert diagnostic.line == 2
    assert "code/churn/" in diagnostic.message and diagnostic.hint == "add 'code' to roots in [tool.pvcheck]"


def test_third_party_import_is_not_an_orphan(tmp_path):
    """Near-miss: a name no folder of the tree holds, and a package the root holds, are not reported."""
    write_tree(tmp_path, {**package_files(""), "run.py": PIPELINE.format(package="churn"),
                          "other.py": "import numpy\nfrom churn import steps\n"})
    project = scan_tree(tmp_path)
    assert [s.function for s in only_pipeline(project).steps] == ["churn.steps.train.train"]
    assert not [d for d in project.diagnostics if d.code == "PV020"]


def test_unreadable_pyproject_is_a_diagnostic(tmp_path):
    write_tree(tmp_path, {**package_files("src"), "pyproject.toml": "[tool.setuptools\n"})
    diagnostics: list[Diagnostic] = []
    assert detect_roots(tmp_path, diagnostics) == ("src", ".")  # the src/ convention still holds
    assert [(d.code, d.path, d.line) for d in diagnostics] == [("PV021", "pyproject.toml", 1)]


def test_cache_sees_a_package_appear_in_an_undeclared_folder(tmp_path):
    """A unit cached while ``churn`` looked third-party is not reused once ``code/churn/``
    exists: the cache is keyed by the tree's orphan packages."""
    from pvcheck.analyzer.cache import AnalysisCache

    files = package_files("code")
    step_only = {path: text for path, text in files.items() if "/steps/" in path}
    root = write_tree(tmp_path / "tree", {"run.py": PIPELINE.format(package="app"),
                                          **{p.replace("code/churn", "app"): t for p, t in step_only.items()}})
    store = AnalysisCache(tmp_path / "cache", Config())
    first = only_pipeline(scan_tree(root, cache=store)).steps[0]
    assert first.helpers == ()  # churn.utils is nobody's package yet: third-party
    write_tree(root, {p: t for p, t in files.items() if "/utils/" in p or p.endswith("churn/__init__.py")})
    warm = only_pipeline(scan_tree(root, cache=AnalysisCache(tmp_path / "cache", Config()))).steps[0]
    cold = only_pipeline(scan_tree(root, cache=False)).steps[0]
    assert [h.name for h in warm.helpers] == [h.name for h in cold.helpers] == ["code.churn.utils.features.scale"]
    assert warm.fingerprint == cold.fingerprint != first.fingerprint
