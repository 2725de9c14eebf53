"""pvcheck never imports, executes or evaluates the code it analyzes.

A booby-trapped project: importing any of its modules, applying its decorators,
evaluating its default arguments, constructing its YAML, loading its would-be plug-ins
or shadowing pvcheck's own dependencies writes a marker file (or raises). After
``pvcheck scan``/``diff`` -- the script and ``python -m pvcheck``, run from inside the
project, on folders and on git revisions -- no marker exists and nothing crashed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import pvcheck
from pvcheck.analyzer import runconfig
from pvcheck.config import Config
from pvcheck.model import Diagnostic
from tests.conftest import write_tree
from tests.gitrepo import GIT_ENV, PVCHECK, git


def _trap(markers: Path, name: str) -> str:
    """A statement that leaves ``markers/name`` behind when it runs."""
    return f"open({str(markers / name)!r}, 'w').write('executed')"


def _project(root: Path, markers: Path) -> Path:
    markers.mkdir(parents=True, exist_ok=True)
    files = {
        "pkg/__init__.py": f"""
            {_trap(markers, "package_init")}
            raise RuntimeError("pvcheck imported the package")
        """,
        "pkg/helpers.py": f"""
            {_trap(markers, "helper_module")}


            def scale(x):
                return x * 2
        """,
        "pkg/steps.py": f"""
            import os
            {_trap(markers, "step_module")}
            from zenml import step

            from pkg.helpers import scale


            def announce(function):
                {_trap(markers, "decorator_body")}
                return function


            @announce
            @step(settings={{"marker": os.system("touch {markers / 'decorator_argument'}")}})
            def load(n: int = len(open({str(markers / 'default_argument')!r}, "w").name)) -> int:
                return scale(n)


            raise SystemExit("pvcheck imported the steps")
        """,
        "pkg/flow.py": f"""
            from zenml import pipeline

            from pkg.steps import load

            {_trap(markers, "pipeline_module")}


            @pipeline(name="trapped")
            def trapped():
                load()
        """,
        "run.py": f"""
            from pkg.flow import trapped

            {_trap(markers, "run_module")}
            trapped.with_options(config_path="configs/run.yaml")()
        """,
        "configs/run.yaml": f"""
            enable_cache: false
            extra: !!python/object/apply:os.system ["touch {markers / 'yaml_constructed'}"]
        """,
        # modules named like pvcheck's own dependencies, and like framework or policy plug-ins
        **{f"{name}.py": _trap(markers, f"shadow_{name}") + "\n"
           for name in ("yaml", "typing", "tokenize", "tomllib", "tomli", "deepdiff", "dataclasses", "json",
                        "prefect", "dagster", "kfp", "evil_policy", "evil_framework")},
        "libcst/__init__.py": _trap(markers, "shadow_libcst") + "\n",
        "radon/__init__.py": _trap(markers, "shadow_radon") + "\n",
        "airflow/__init__.py": _trap(markers, "shadow_airflow") + "\n",
        # installation metadata that would register those modules as plug-ins if the project
        # folder were on the import path
        "trap-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: trap\nVersion: 0.1\n",
        "trap-0.1.dist-info/entry_points.txt": "[pvcheck.policies]\ntrap = evil_policy:Policy\n\n"
                                               "[pvcheck.frameworks]\ntrap = evil_framework:Framework\n",
    }
    return write_tree(root, files)


def _no_markers(markers: Path) -> None:
    assert sorted(p.name for p in markers.iterdir()) == []


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("PVCHECK_DEBUG", "PYTHONPATH")}
    env["PVCHECK_CACHE_DIR"] = str(cwd.parent / "cache")
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, env=env)
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    return done


SCRIPT = [str(PVCHECK)]
MODULE = [sys.executable, "-m", "pvcheck"]


@pytest.mark.parametrize("launcher", [SCRIPT, MODULE], ids=["script", "python -m"])
def test_scan_from_inside_the_project_runs_none_of_it(tmp_path: Path, launcher: list[str]) -> None:
    markers = tmp_path / "markers"
    root = _project(tmp_path / "proj", markers)
    done = _run([*launcher, "scan", "--format", "json", "."], root)
    _no_markers(markers)
    data = json.loads(done.stdout)
    assert [p["name"] for p in data["pipelines"]] == ["trapped"]
    assert [s["id"] for s in data["pipelines"][0]["steps"]] == ["load"]
    refused = [d for d in data["diagnostics"] if d["path"] == "configs/run.yaml"]
    assert [(d["code"], d["line"]) for d in refused] == [("PV014", 2)]
    assert done.returncode == 2 and "configs/run.yaml:2: PV014" in done.stderr


@pytest.mark.parametrize("launcher", [SCRIPT, MODULE], ids=["script", "python -m"])
def test_diff_of_folders_and_revisions_runs_none_of_it(tmp_path: Path, launcher: list[str]) -> None:
    markers = tmp_path / "markers"
    base = _project(tmp_path / "base", markers)
    root = _project(tmp_path / "proj", markers)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    subprocess.run(["git", "-C", str(root), "commit", "-q", "-m", "trap"], check=True, capture_output=True,
                   env={**os.environ, **GIT_ENV})
    helpers = root / "pkg" / "helpers.py"
    helpers.write_text(helpers.read_text().replace("x * 2", "x * 3"))

    folders = _run([*launcher, "diff", str(base), ".", "--format", "json"], root)
    revision = _run([*launcher, "diff", "HEAD", "--format", "json"], root)
    _no_markers(markers)
    for done in (folders, revision):
        [row] = json.loads(done.stdout)["pipelines"]
        assert (row["name"], row["decision"]) == ("trapped", "version")  # the helper's change was seen
        assert done.returncode == 2  # the refused YAML is an error, reported after the report


def test_library_scan_runs_none_of_it(tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    root = _project(tmp_path / "proj", markers)
    project = pvcheck.scan(root, cache=False)
    _no_markers(markers)
    assert [p.name for p in project.pipelines] == ["trapped"]
    assert "pkg" not in sys.modules and "evil_policy" not in sys.modules


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/new:os.system ['touch {marker}']",
    "!!python/object:os.PathLike {{}}",
    "!!python/name:os.system",
    "!!python/module:os",
    "!!python/tuple [1, 2]",
    "!!binary aGVsbG8=\nother: !!python/object/apply:subprocess.call [['touch', '{marker}']]",
])
def test_yaml_python_tags_are_refused_and_nothing_is_constructed(tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "constructed"
    root = write_tree(tmp_path / "proj", {"run.yaml": "enable_cache: true\nvalue: " + tag.format(marker=marker)
                                          + "\n"})
    found: list[Diagnostic] = []
    loaded = runconfig.load(root, "flow.py", "run.yaml", 3, lambda *args, **kw: found.append(Diagnostic(*args, **kw)))
    assert loaded is None and not marker.exists()
    assert [(d.code, d.path, d.line) for d in found] == [("PV014", "run.yaml", 2 + tag.count("\n"))]
    assert "!!python/object" in found[0].hint


def test_yaml_alias_bombs_and_recursion_are_refused(tmp_path: Path) -> None:
    laughs = ["a: &a [" + ", ".join(["lol"] * 10) + "]"]
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        laughs.append(f"{level}: &{level} [" + ", ".join([f"*{previous}"] * 10) + "]")
    root = write_tree(tmp_path / "proj", {"bomb.yaml": "\n".join(laughs) + "\n",  # 10**9 values
                                          "loop.yaml": "steps: &s\n  again: *s\n",
                                          "deep.yaml": "a: " + "[" * 5000 + "]" * 5000 + "\n",
                                          "fine.yaml": "a: &a [1, 2]\nb: *a\n"})
    for name in ("bomb.yaml", "loop.yaml", "deep.yaml"):
        found: list[Diagnostic] = []
        assert runconfig.load(root, "", name, 0, lambda *a, **k: found.append(Diagnostic(*a, **k))) is None
        assert [(d.code, d.path) for d in found] == [("PV014", name)], found
    fine = runconfig.load(root, "", "fine.yaml", 0, lambda *a, **k: pytest.fail(str(a)))
    assert fine is not None and fine.pipeline == {"a": [1, 2], "b": [1, 2]}


@pytest.mark.parametrize("reference", ["../outside.yaml", "../../outside.yaml", "{absolute}", "link.yaml",
                                       "configs/../../outside.yaml", "linked_dir/outside.yaml"])
def test_run_config_outside_the_root_is_refused_unread(tmp_path: Path, reference: str) -> None:
    marker = tmp_path / "constructed"
    outside = tmp_path / "outside.yaml"
    outside.write_text(f"enable_cache: false\nx: !!python/object/apply:os.system ['touch {marker}']\n")
    (tmp_path / "nested").mkdir()
    shutil.copy(outside, tmp_path / "nested" / "outside.yaml")
    root = write_tree(tmp_path / "nested" / "proj", {"steps.py": "from zenml import step\n\n@step\ndef load() -> "
                                                     "int:\n    return 1\n", "flow.py": f"""
        from zenml import pipeline
        from steps import load

        @pipeline(config_path={reference.format(absolute=outside)!r})
        def p():
            load()
    """})
    os.symlink(outside, root / "link.yaml")
    os.symlink(tmp_path, root / "linked_dir")
    project = pvcheck.scan(root, cache=False)
    assert not marker.exists()
    refused = [d for d in project.diagnostics if d.code == "PV013"]
    assert [(d.path, d.line) for d in refused] == [("flow.py", 4)], project.diagnostics
    assert not [d for d in project.diagnostics if d.code == "PV014"]  # never even parsed
    assert [p.name for p in project.pipelines] == ["p"]


def test_configured_run_config_outside_the_root_is_refused(tmp_path: Path) -> None:
    (tmp_path / "outside.yaml").write_text("enable_cache: false\n")
    root = write_tree(tmp_path / "proj", {"steps.py": "from zenml import step\n\n@step\ndef load() -> int:\n"
                                          "    return 1\n",
                                          "flow.py": "from zenml import pipeline\nfrom steps import load\n\n"
                                                     "@pipeline\ndef p():\n    load()\n"})
    project = pvcheck.scan(root, Config(run_configs={"p": ("../outside.yaml",)}), cache=False)
    assert [d.code for d in project.diagnostics] == ["PV013"]
    assert project.pipelines[0].config.get("enable_cache") is None
