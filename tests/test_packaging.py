"""The distribution as the package index sees it: our own name, one version, bounded
dependencies where fingerprints depend on them."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pvcheck

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_the_distribution_name_is_ours_and_the_command_stays_pvcheck() -> None:
    # "pvcheck" on the package index is an unrelated project
    assert PROJECT["name"] == "pvcheck-ml"
    assert PROJECT["scripts"] == {"pvcheck": "pvcheck.cli:main"}


def test_one_source_for_the_version() -> None:
    assert "version" not in PROJECT and "version" in PROJECT["dynamic"]
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert setuptools["dynamic"]["version"] == {"attr": "pvcheck.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", pvcheck.__version__)


def test_libcst_has_an_upper_bound() -> None:
    # fingerprints are built from libcst's node layout: a new major release is taken
    # only once tested
    libcst = next(d for d in PROJECT["dependencies"] if d.startswith("libcst"))
    assert "<" in libcst


def test_licence_is_a_pep639_expression_and_extras_split() -> None:
    assert PROJECT["license"] == "Apache-2.0"
    extras = PROJECT["optional-dependencies"]
    assert {"test", "integrations", "all"} <= set(extras)
    assert not any(name.split(">")[0].startswith(("prefect", "dagster", "zenml", "flytekit"))
                   for name in extras["test"])
    assert extras["all"] == ["pvcheck-ml[test,integrations]"]


def test_references_to_the_distribution_use_its_name() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install 'pvcheck[" not in readme and "pip install pvcheck " not in readme
    from pvcheck.output import sarif
    assert sarif.INFORMATION_URI.endswith("/pvcheck-ml/")
    plugin = tomllib.loads((ROOT / "tests" / "plugin_pkg" / "pyproject.toml").read_text(encoding="utf-8"))
    assert plugin["project"]["dependencies"] == ["pvcheck-ml"]
