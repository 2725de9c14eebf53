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
    assert [(f.rule, f.step, f.decision) for f in plugin_findings] == [("STR001", "train_model", Decision.VERSION)]
    assert plugin_findings[0].path == "steps/training.py"


def test_plugin_rules_obey_per_rule_overrides(installed_plugin: Path) -> None:
    assert training(yaml_value_report(Config(rules={"STR001": "off"}))).decision is Decision.RUN
    assert training(yaml_value_report(Config(rules={"STR001": "pipeline"}))).decision is Decision.PIPELINE


def test_dotted_path_in_config_loads_a_policy_that_is_not_installed() -> None:
    source = str(PLUGIN / "src")
    sys.path.insert(0, source)
    try:
        config = Config(plugins=(f"{MODULE}:StrictTrainingConfig",))
        assert "strict-training-config" not in [ep.name for ep in plugin_entry_points()]
        change = training(yaml_value_report(config))
        assert change.decision is Decision.VERSION
        assert "STR001" in {f.rule for f in change.findings}
    finally:
        _forget_plugin(source)


@pytest.mark.parametrize("dotted", ["no_such_module_anywhere:Policy", "pvcheck.policies:NoSuchClass", "justaname",
                                    "pvcheck.model:Decision"])
def test_bad_plugin_paths_are_configuration_errors_naming_the_plugin(dotted: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_policies(Config(plugins=(dotted,)))
    assert dotted in str(caught.value)


# --- rule namespaces, overrides that name nothing, plug-ins turned off by name -------------

def _policy_module(monkeypatch: pytest.MonkeyPatch, **classes: type) -> str:
    import types
    module = types.ModuleType("namespace_policy_module")
    for name, cls in classes.items():
        setattr(module, name, cls)
    monkeypatch.setitem(sys.modules, "namespace_policy_module", module)
    return "namespace_policy_module"


def _plugin_policy(name: str, prefix: str, *rule_ids: str) -> type:
    from pvcheck.policies import Policy, Rule

    rules = tuple(Rule(rule_id, name, "a team rule", Decision.VERSION) for rule_id in rule_ids)
    return type(name.title().replace("-", ""), (Policy,), {
        "name": name, "rule_prefix": prefix, "rules": rules, "evaluate": lambda self, comparison, config: ()})


def test_a_plugin_rule_in_its_own_namespace_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    module = _policy_module(monkeypatch, Team=_plugin_policy("team", "ACME", "ACME001", "ACME002"))
    assert "team" in [p.name for p in load_policies(Config(plugins=(f"{module}:Team",)))]


@pytest.mark.parametrize("prefix, rule_id, message", [
    ("PV", "PV401", "no rule prefix of its own"),          # cannot take over pvcheck's namespace
    ("", "ACME001", "no rule prefix of its own"),          # a plug-in must declare one
    ("ACME", "PV999", "outside its namespace"),           # ids under the declared prefix only
    ("ACME", "ACME01", "outside its namespace"),          # three digits
])
def test_plugin_rule_ids_outside_their_namespace_are_refused(monkeypatch: pytest.MonkeyPatch, prefix: str,
                                                              rule_id: str, message: str) -> None:
    module = _policy_module(monkeypatch, Team=_plugin_policy("team", prefix, rule_id))
    with pytest.raises(ConfigError, match=message):
        load_policies(Config(plugins=(f"{module}:Team",)))


def test_two_plugins_cannot_share_a_rule_id(monkeypatch: pytest.MonkeyPatch) -> None:
    module = _policy_module(monkeypatch, A=_plugin_policy("team-a", "ACME", "ACME001"),
                            B=_plugin_policy("team-b", "ACME", "ACME001"))
    with pytest.raises(ConfigError, match="'ACME001' of policy 'team-b' is already taken by 'team-a'"):
        load_policies(Config(plugins=(f"{module}:A", f"{module}:B")))


def test_an_override_naming_no_rule_is_an_error_with_its_line(tmp_path: Path) -> None:
    from pvcheck.config import load_config

    config_file = tmp_path / "pvcheck.toml"
    config_file.write_text('continuity_threshold = 0.5\n\n[rules]\nPV104 = "version"\nPV499 = "run"\n',
                           encoding="utf-8")
    config = load_config(config_file)
    with pytest.raises(ConfigError) as caught:
        load_policies(config)
    assert "no rule 'PV499'" in str(caught.value) and caught.value.one_line().count(":5") == 1
    assert load_policies(Config(rules={"PV104": "version", "PV098": "pipeline"}))  # real ids are fine


def test_a_plugin_policy_can_be_turned_off_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    module = _policy_module(monkeypatch, Team=_plugin_policy("team", "ACME", "ACME001"))
    names = [p.name for p in load_policies(Config(plugins=(f"{module}:Team",), disabled_policies=("team",)))]
    assert "team" not in names and "cosmetic" in names
    assert "cosmetic" not in [p.name for p in load_policies(Config(disabled_policies=("cosmetic",)))]
    with pytest.raises(ConfigError, match="unknown policy 'nobody'"):
        load_policies(Config(disabled_policies=("nobody",)))
