"""The analysis cache is keyed by the code of installed framework plug-ins: editing a
plug-in's source never serves the graphs its old code made (issue 11)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from pvcheck.analyzer.cache import plugin_digest
from tests.conftest import FIXTURES

ROOT = Path(__file__).resolve().parent.parent
GUIDE_FRAMEWORK = ROOT / "tests" / "plugin_guide" / "toyflow.py"
SCAN = ("import pvcheck, sys; project = pvcheck.scan(sys.argv[1], cache=True); "
        "print(sorted({s.kind for p in project.pipelines for s in p.steps}))")


def install(site: Path) -> Path:
    """The guide's framework as an installed package ``toyflow_pv`` with its entry point."""
    package = site / "toyflow_pv"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    shutil.copy(GUIDE_FRAMEWORK, package / "framework.py")
    info = site / "toyflow_pv-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toyflow-pv\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[pvcheck.frameworks]\ntoyflow = toyflow_pv.framework:ToyFlow\n")
    return package / "framework.py"


def kinds(site: Path, cache: Path) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]), "PVCHECK_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-c", SCAN, str(FIXTURES / "toyflow_sales")], env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_editing_an_installed_plugin_invalidates_cached_graphs(tmp_path: Path) -> None:
    site = tmp_path / "site"
    source = install(site)
    cache = tmp_path / "cache"
    assert kinds(site, cache) == "['task']"
    assert kinds(site, cache) == "['task']"  # served from the cache
    assert any(cache.rglob("*.sqlite"))
    source.write_text(source.read_text().replace('self.name, "task",', 'self.name, "job",'))
    assert kinds(site, cache) == "['job']"  # the edited plug-in ran, not the old graphs


def test_the_digest_follows_the_plugin_source_and_not_its_location(tmp_path: Path) -> None:
    first = install(tmp_path / "a").parent.parent
    second = install(tmp_path / "b").parent.parent
    spec = [("toyflow", "toyflow_pv.framework:ToyFlow", "toyflow-pv 0.1")]
    sys.path.insert(0, str(first))
    try:
        at_first = plugin_digest(spec)
    finally:
        sys.path.remove(str(first))
    sys.path.insert(0, str(second))
    try:
        at_second = plugin_digest(spec)
        package_init = second / "toyflow_pv" / "__init__.py"
        package_init.write_text("RETRIES = 3\n")  # a sibling module of the plug-in changed
        edited = plugin_digest(spec)
    finally:
        sys.path.remove(str(second))
    assert at_first == at_second
    assert edited != at_second
    assert "toyflow_pv" not in sys.modules  # located, never imported


def test_builtin_frameworks_add_nothing() -> None:
    assert plugin_digest([("zenml", "pvcheck.analyzer.frameworks.zenml:ZenML", "")]) == plugin_digest([])
