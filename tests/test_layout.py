"""The layout shows the design (issue 11): which layer may import which, checked on the
source text (nothing is imported to find out)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from pvcheck.analyzer.frameworks.base import load_frameworks
from pvcheck.config import load_config
from pvcheck.errors import ConfigError

PACKAGE = Path(__file__).resolve().parent.parent / "pvcheck"


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function, absolute names."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_imported_modules_sees_lazy_imports(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from pvcheck.analyzer import scan_tree\n", encoding="utf-8")
    assert "pvcheck.analyzer" in imported_modules(source)


def test_the_configuration_layer_depends_on_no_analyzer_or_policy() -> None:
    inside = sorted(m for m in imported_modules(PACKAGE / "config.py")
                    if m.startswith(("pvcheck.analyzer", "pvcheck.policies")))
    assert inside == []


def test_the_analyzer_package_is_a_face() -> None:
    face = (PACKAGE / "analyzer" / "__init__.py").read_text(encoding="utf-8")
    assert len(face.splitlines()) < 40
    tree = ast.parse(face)
    assert not [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    from pvcheck.analyzer import scan_tree
    from pvcheck.analyzer.scan import scan_tree as engine_scan_tree
    assert scan_tree is engine_scan_tree


def test_an_unknown_framework_is_reported_by_the_registry_at_the_setting(tmp_path: Path) -> None:
    config_file = tmp_path / "pvcheck.toml"
    config_file.write_text("roots = ['.']\n\nframeworks = ['zenml', 'kedro2', 'flow3']\n", encoding="utf-8")
    config = load_config(config_file)  # reading names no framework: the registry judges them
    assert config.frameworks == ("zenml", "kedro2", "flow3")
    with pytest.raises(ConfigError) as caught:
        load_frameworks(config.frameworks, config)
    assert caught.value.one_line().startswith(f"{config_file}:3: unknown framework 'kedro2'")
    assert "use one of: airflow, " in caught.value.one_line()


def test_known_frameworks_load_without_complaint(tmp_path: Path) -> None:
    config_file = tmp_path / "pvcheck.toml"
    config_file.write_text("frameworks = ['zenml', 'kfp']\n", encoding="utf-8")
    config = load_config(config_file)
    assert [f.name for f in load_frameworks(config.frameworks, config)] == ["kfp", "zenml"]


#: Built-in frameworks written on the public plug-in surface only, and what else each may
#: import from pvcheck, with the reason. A framework's own companion modules (its code split
#: in files) are its own, not pvcheck's.
PLUGIN_ONLY: dict[str, dict[str, str]] = {
    "zenml": {"pvcheck.analyzer.frameworks.materializers": "ZenML's own: the materializers a step runs"},
    "prefect": {"pvcheck.analyzer.frameworks.prefect_branches": "Prefect's own: if/for over flow parameters"},
    "kfp": {"pvcheck.analyzer.pipeline_calls": "task methods (.after, .set_*) read CallGraphBuilder's own-code "
                                               "masks, which are internal to it",
            "pvcheck.analyzer.frameworks.kfp_loaded": "KFP's own: components loaded from YAML or made by a call",
            "pvcheck.analyzer.frameworks.kfp_interface": "KFP's own: task names and component outputs"},
    "kfp_loaded": {"pvcheck.analyzer.reach": "a spec file's path is computed exactly as file reads' paths are",
                   "pvcheck.analyzer.frameworks.kfp_interface": "KFP's own: a wrapped function's outputs, as a "
                                                                "component's"},
    "kfp_interface": {},
    "flyte": {"pvcheck.analyzer.frameworks.flyte_v2": "Flyte's own: flyte-sdk 2",
              "pvcheck.analyzer.frameworks.flyte_imperative": "Flyte's own: imperative workflows",
              "pvcheck.analyzer.frameworks.flyte_graph": "Flyte's own: the workflow graph builder"},
    # Airflow and Dagster account for their pipeline bodies with the call-graph builder's
    # own-code masks (pvcheck.analyzer.pipeline_calls), which stay internal to it
    "airflow": {"pvcheck.analyzer.pipeline_calls": "DAG bodies are accounted for with CallGraphBuilder's own-code "
                                                   "masks, which are internal to it",
                "pvcheck.analyzer.frameworks.airflow_static": "Airflow's own: ids known statically, DAG helpers"},
    "airflow_static": {},
    "kedro": {"pvcheck.analyzer.frameworks.kedro_conf": "Kedro's own: conf/ environments and parameters",
              "pvcheck.analyzer.frameworks.kedro_eval": "Kedro's own: pipeline expressions evaluated statically"},
    "kedro_conf": {},
    "kedro_eval": {},
    "metaflow": {"pvcheck.analyzer.frameworks.metaflow_config": "Metaflow's own: Config values"},
    "metaflow_config": {},
    "dagster": {"pvcheck.analyzer.pipeline_calls": "job bodies are accounted for with CallGraphBuilder's own-code "
                                                   "masks, which are internal to it",
                "pvcheck.analyzer.discovery": "code locations read the tree's file list (SourceFile)",
                "pvcheck.analyzer.frameworks.dagster_checks": "Dagster's own: asset checks in their asset's reach",
                "pvcheck.analyzer.frameworks.dagster_factories": "Dagster's own: asset factories",
                "pvcheck.analyzer.frameworks.dagster_locations": "Dagster's own: code locations",
                "pvcheck.analyzer.frameworks.dagster_resources": "Dagster's own: resources bound in Definitions",
                "pvcheck.analyzer.frameworks.dagster_scope": "Dagster's own: what each pipeline depends on"},
}


def pvcheck_imports(path: Path) -> set[str]:
    """The pvcheck modules ``path`` imports names from (``from pvcheck.x import y``: pvcheck.x)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level and node.module.startswith("pvcheck"):
            if node.module == "pvcheck.analyzer":  # from pvcheck.analyzer import pipeline_calls
                found.update(f"pvcheck.analyzer.{alias.name}" for alias in node.names)
            else:
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("pvcheck"))
    return found


@pytest.mark.parametrize("name", sorted(PLUGIN_ONLY))
def test_builtin_frameworks_import_pvcheck_only_through_the_plugin_surface(name: str) -> None:
    imported = pvcheck_imports(PACKAGE / "analyzer" / "frameworks" / f"{name}.py")
    assert "pvcheck.plugin" in imported
    assert imported - {"pvcheck.plugin", "pvcheck.diagnostics"} == set(PLUGIN_ONLY[name])  # the public catalogue


def test_pvcheck_imports_catches_an_internal_import(tmp_path: Path) -> None:
    source = tmp_path / "fw.py"
    source.write_text("from pvcheck.plugin import Framework\nfrom pvcheck.analyzer import fastmeta\n"
                      "def f():\n    from pvcheck.analyzer.context import merge\n", encoding="utf-8")
    assert pvcheck_imports(source) == {"pvcheck.plugin", "pvcheck.analyzer.fastmeta", "pvcheck.analyzer.context"}


def test_the_plugin_surface_does_not_load_the_policies_for_a_framework() -> None:
    # a scan imports the frameworks, and with them pvcheck.plugin: the policy half of the
    # surface is imported only when asked for (measured: ~16 ms per process otherwise)
    import subprocess
    import sys

    code = ("import sys, pvcheck.analyzer.frameworks.zenml, pvcheck.plugin as p\n"
            "assert not [m for m in sys.modules if m.startswith('pvcheck.policies')], 'policies loaded'\n"
            "from pvcheck.policies.base import Policy\nassert p.Policy is Policy\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=PACKAGE.parent, timeout=120)
    assert done.returncode == 0, done.stderr


def test_the_guide_lists_every_public_name() -> None:
    import pvcheck.plugin as plugin

    guide = (PACKAGE.parent / "docs" / "plugins.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| `(\w+)` \|", guide, re.M)
    assert listed and sorted(listed) == sorted(plugin.__all__)
