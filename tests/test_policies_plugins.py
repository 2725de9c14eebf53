"""Third-party policies: a plugin package installed with pip (entry point group
``pvcheck.policies``) and a dotted path in ``Config.plugins``, working end to end."""

from __future__ import annotations

import base64
import hashlib
import importlib
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Iterator

import pytest

from pvcheck.analyzer import scan_tree
from pvcheck.config import Config
from pvcheck.errors import ConfigError
from pvcheck.model import Decision, Report
from pvcheck.policies import compare, load_policies
from pvcheck.policies.registry import plugin_entry_points

PLUGIN = Path(__file__).resolve().parent / "plugin_pkg"
CASE = Path(__file__).resolve().parent.parent / "fixtures" / "changes" / "yaml_value"
MODULE = "pvcheck_strict_training"


def build_wheel(out: Path) -> Path:
    """A wheel of tests/plugin_pkg, built by hand: the test must not need network access
    or the ``wheel`` package, and a wheel is only a zip with metadata."""
    name, version = "pvcheck_strict_training", "1.0.0"
    dist_info = f"{name}-{version}.dist-info"
    files: dict[str, bytes] = {}
    for source in sorted((PLUGIN / "src" / MODULE).glob("*.py")):
        files[f"{MODULE}/{source.name}"] = source.read_bytes()
    files[f"{dist_info}/METADATA"] = (
        "Metadata-Version: 2.1\nName: pvcheck-strict-training\nVersion: 1.0.0\n"
        "Summary: A third-party pvcheck policy\n").encode()
    files[f"{dist_info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: pvcheck-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{dist_info}/entry_points.txt"] = (
        "[pvcheck.policies]\nstrict-training-config = pvcheck_strict_training:StrictTrainingConfig\n").encode()
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = out / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


def _forget_plugin(path: str) -> None:
    while path in sys.path:
        sys.path.remove(path)
    for module in [m for m in sys.modules if m == MODULE or m.startswith(MODULE + ".")]:
        del sys.modules[module]
    importlib.invalidate_caches()


@pytest.fixture
def installed_plugin(tmp_path: Path) -> Iterator[Path]:
    """The plugin package pip-installed into a private folder that is on sys.path."""
    pytest.importorskip("pip")
    wheel = build_wheel(tmp_path)
    target = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--disable-pip-version-check",
         "--target", str(target), str(wheel)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (target / MODULE / "__init__.py").is_file()
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    try:
        yield target
    finally:
        _forget_plugin(str(target))


def yaml_value_report(config: Config | None = None) -> Report:
    return compare(scan_tree(CASE / "before"), scan_tree(CASE / "after"), config)


def training(report: Report):  # type: ignore[no-untyped-def]
    return next(c for c in report.pipelines if c.name == "churn_training")


def test_without_the_plugin_a_yaml_value_is_a_run() -> None:
    assert "strict-training-config" not in [p.name for p in load_policies(Config())]
    change = training(yaml_value_report())
    assert change.decision is Decision.RUN
    assert {f.rule for f in change.findings} == {"PV202"}


def test_pip_installed_plugin_is_found_through_its_entry_point_and_decides(installed_plugin: Path) -> None:
    assert "strict-training-config" in [ep.name for ep in plugin_entry_points()]
    assert "strict-training-config" in [p.name for p in load_policies(Config())]
    change = training(yaml_value_report())
    assert change.decision is Decision.VERSION
    plugin_findings = [f for f in change.findings if f.policy == "strict-training-config"]
    assert [(f.rule, f.step, f.decision) for f in plugin_findings] == [("PV901", "train_model", Decision.VERSION)]
    assert plugin_findings[0].path == "steps/training.py"


def test_plugin_rules_obey_per_rule_overrides(installed_plugin: Path) -> None:
    assert training(yaml_value_report(Config(rules={"PV901": "off"}))).decision is Decision.RUN
    assert training(yaml_value_report(Config(rules={"PV901": "pipeline"}))).decision is Decision.PIPELINE


def test_dotted_path_in_config_loads_a_policy_that_is_not_installed() -> None:
    source = str(PLUGIN / "src")
    sys.path.insert(0, source)
    try:
        config = Config(plugins=(f"{MODULE}:StrictTrainingConfig",))
        assert "strict-training-config" not in [ep.name for ep in plugin_entry_points()]
        change = training(yaml_value_report(config))
        assert change.decision is Decision.VERSION
        assert "PV901" in {f.rule for f in change.findings}
    finally:
        _forget_plugin(source)


@pytest.mark.parametrize("dotted", ["no_such_module_anywhere:Policy", "pvcheck.policies:NoSuchClass", "justaname",
                                    "pvcheck.model:Decision"])
def test_bad_plugin_paths_are_configuration_errors_naming_the_plugin(dotted: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_policies(Config(plugins=(dotted,)))
    assert dotted in str(caught.value)
