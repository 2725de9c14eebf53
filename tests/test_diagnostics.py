"""Bad files become diagnostics with path and line; the rest of the tree is still analyzed."""

from __future__ import annotations

import os

from pvcheck.analyzer import scan_tree
from pvcheck.config import Config
from pvcheck.model import Severity
from tests.conftest import MINIMAL_PROJECT, write_tree

GOOD = MINIMAL_PROJECT


def scan_with(tmp_path, extra_files=None, extra_bytes=None, config=None):
    root = write_tree(tmp_path / "proj", {**GOOD, **(extra_files or {})})
    for name, data in (extra_bytes or {}).items():
        (root / name).write_bytes(data)
    return root, scan_tree(root, config)


def codes(project):
    return {(d.code, d.path, d.line) for d in project.diagnostics}


def test_syntax_error_is_located_and_rest_is_analyzed(tmp_path):
    _, project = scan_with(tmp_path, {"broken.py": "import zenml\n\ndef f(:\n    pass\n"})
    assert ("PV001", "broken.py", 3) in codes(project)
    assert [p.name for p in project.pipelines] == ["p"]


def test_a_jinja_template_is_named_as_one(tmp_path):
    """ZenML's project templates (copier) hold Python with Jinja in it: the syntax error says
    the file is a template to render; an ordinary syntax error (near-miss) does not."""
    _, project = scan_with(tmp_path, {
        "template/pipelines/training.py": "from zenml import pipeline\n\n@pipeline\n"
                                          "def {{product_name}}_training():\n    pass\n",
        "template/run.py": "from zenml import pipeline\n{%- if deploy %}\nfrom pipelines import deploy\n{%- endif %}\n",
        "broken.py": "import zenml\n\ndef f(:\n    pass\n",
    })
    hints = {d.path: d.hint for d in project.diagnostics if d.code == "PV001"}
    assert "Jinja template" in hints["template/pipelines/training.py"] and "Jinja template" in hints["template/run.py"]
    assert "Jinja" not in hints["broken.py"]


def test_undecodable_file_names_its_line(tmp_path):
    _, project = scan_with(tmp_path, extra_bytes={"latin.py": b"# zenml\nx = 'caf\xe9'\n"})
    assert ("PV002", "latin.py", 2) in codes(project)
    assert [p.name for p in project.pipelines] == ["p"]


def test_declared_encoding_is_honoured(tmp_path):
    data = b"# -*- coding: latin-1 -*-\nfrom zenml import step\n\n@step\ndef s() -> str:\n    return 'caf\xe9'\n"
    _, project = scan_with(tmp_path, extra_bytes={"latin.py": data})
    assert not [d for d in project.diagnostics if d.path == "latin.py"]


def test_binary_file(tmp_path):
    _, project = scan_with(tmp_path, extra_bytes={"blob.py": b"zenml\x00\x01\x02"})
    assert ("PV002", "blob.py", 0) in codes(project)


def test_file_over_size_limit(tmp_path):
    _, project = scan_with(tmp_path, {"big.py": "x = 1\n" * 100}, config=Config(max_file_size=200))
    assert ("PV003", "big.py", 0) in codes(project)
    assert [p.name for p in project.pipelines] == ["p"]


def test_symlink_loop(tmp_path):
    root, _ = scan_with(tmp_path)
    (root / "pkg").mkdir()
    os.symlink(root / "pkg", root / "pkg" / "again")
    project = scan_tree(root)
    assert any(d.code == "PV004" for d in project.diagnostics)
    assert [p.name for p in project.pipelines] == ["p"]


def test_hidden_folders_and_virtualenvs_are_skipped(tmp_path):
    root, _ = scan_with(tmp_path, {
        ".hidden/flow.py": GOOD["flow.py"],
        "venv/lib/flow.py": GOOD["flow.py"],
        "myenv/pyvenv.cfg": "home = /usr\n",
        "myenv/lib/flow.py": GOOD["flow.py"],
        "build/flow.py": GOOD["flow.py"],
    })
    project = scan_tree(root)
    assert [p.path for p in project.pipelines] == ["flow.py"]


def test_configured_excludes(tmp_path):
    root, _ = scan_with(tmp_path, {"legacy/flow.py": GOOD["flow.py"]})
    assert len(scan_tree(root).pipelines) == 2
    assert len(scan_tree(root, Config(exclude=("legacy/**",))).pipelines) == 1


def test_unresolved_name_in_step_is_a_warning_and_dynamic(tmp_path):
    _, project = scan_with(tmp_path, {"steps.py": """
        from zenml import step

        @step
        def load() -> int:
            return undefined_thing + 1
    """})
    step = project.pipelines[0].steps[0]
    assert step.dynamic
    assert ("PV011", "steps.py", 5) in codes(project)
    assert all(d.severity is Severity.WARNING for d in project.diagnostics)


def test_getattr_in_helper_makes_step_dynamic(tmp_path):
    _, project = scan_with(tmp_path, {"steps.py": """
        from zenml import step

        def pick(obj, name):
            return getattr(obj, name)

        @step
        def load() -> int:
            return pick(1, "real")
    """})
    assert project.pipelines[0].steps[0].dynamic
    assert ("PV010", "steps.py", 4) in codes(project)


def test_nothing_is_executed(tmp_path):
    marker = tmp_path / "executed"
    _, project = scan_with(tmp_path, {"steps.py": f"""
        import pathlib
        pathlib.Path({str(marker)!r}).write_text("ran")
        raise SystemExit("imported!")
        from zenml import step

        @step
        def load() -> int:
            return 1
    """})
    assert not marker.exists()
    assert project.pipelines[0].steps[0].id == "load"
