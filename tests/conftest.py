"""Shared test helpers: build small trees on disk and scan them."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import textwrap
from pathlib import Path
from typing import Mapping

import pytest

from pvcheck.analyzer import scan_tree
from pvcheck.config import Config
from pvcheck.model import Decision, Pipeline, Project

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
#: The smallest healthy ZenML project: one step, one pipeline that calls it.
MINIMAL_PROJECT = {
    "steps.py": """
        from zenml import step

        @step
        def load() -> int:
            return 1
    """,
    "flow.py": """
        from zenml import pipeline
        from steps import load

        @pipeline
        def p():
            load()
    """,
}

# a bug in pvcheck must fail the test, not turn into a PV099 diagnostic
os.environ.setdefault("PVCHECK_DEBUG", "1")

# the analysis cache of a test run: never the user's, and shared by every test, so that
# results served from it are exercised too (tests of the cache itself use their own)
if not os.environ.get("PVCHECK_CACHE_DIR"):
    os.environ["PVCHECK_CACHE_DIR"] = tempfile.mkdtemp(prefix="pvcheck-test-cache-")
    atexit.register(shutil.rmtree, os.environ["PVCHECK_CACHE_DIR"], True)


def write_tree(root: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def only_decision(root: Path, base: Mapping[str, str], head: Mapping[str, str]) -> Decision:
    """The decision ``compare`` makes for the one pipeline of two trees written under ``root``."""
    from pvcheck.policies import compare

    models = [scan_tree(write_tree(root / side, files), Config(), cache=False)
              for side, files in (("base", base), ("head", head))]
    (change,) = compare(models[0], models[1], Config()).pipelines
    assert change.decision is not None
    return change.decision


def scan_files(root: Path, files: Mapping[str, str], config: Config | None = None) -> Project:
    return scan_tree(write_tree(root, files), config)


def only_pipeline(project: Project, name: str | None = None) -> Pipeline:
    pipelines = [p for p in project.pipelines if name is None or p.name == name]
    assert len(pipelines) == 1, [p.name for p in project.pipelines]
    return pipelines[0]


@pytest.fixture
def tree(tmp_path: Path):
    """``tree(files)`` writes files under a fresh folder and returns the scanned project."""
    counter = {"n": 0}

    def make(files: Mapping[str, str], config: Config | None = None) -> Project:
        counter["n"] += 1
        return scan_files(tmp_path / f"t{counter['n']}", files, config)

    return make
