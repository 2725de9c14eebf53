"""Property tests on the bundled fixture (SPEC §3): random cosmetic edits of its steps and
helpers (and pipelines) never change a fingerprint and always decide ``run``; random semantic edits (a
literal, an operator, a dropped statement, in a step or in a helper a step uses) always
change the fingerprint of every step that runs the edited code and decide at least
``version`` -- also when cosmetic edits are made on top.

The edits are libcst transformations (see ``tests/source_edits.py``), chosen by hypothesis.
"""

from __future__ import annotations

import functools
import random
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pvcheck.analyzer import scan_tree
from pvcheck.model import Decision, Project, Step
from pvcheck.policies import compare
from tests.conftest import FIXTURES
from tests.source_edits import (
    COSMETIC_KINDS,
    Site,
    apply_semantic,
    cosmetic,
    definitions_using,
    semantic_sites,
    step_modules_and_helpers,
)

SOURCE = FIXTURES / "zenml_churn"
PROPERTY = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@functools.lru_cache(maxsize=1)
def _baseline() -> Project:
    return scan_tree(SOURCE)


def _steps(project: Project) -> list[Step]:
    return [step for pipeline in project.pipelines for step in pipeline.steps]


@functools.lru_cache(maxsize=1)
def _edited_code() -> dict[str, set[str]]:
    """file -> top-level names in it that steps run (step functions, helpers, constants)."""
    return {module.replace(".", "/") + ".py": names
            for module, names in step_modules_and_helpers(_steps(_baseline())).items()}


def _scan(tmp_path: Path, edits: dict[str, str]) -> Project:
    root = tmp_path / "tree"
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(SOURCE, root)
    for path, text in edits.items():
        (root / path).write_text(text, encoding="utf-8")
    return scan_tree(root)


def _fingerprints(project: Project) -> dict[tuple[str, str], tuple[str, str, str]]:
    return {(pipeline.name, step.id): (step.fingerprint, step.signature_fingerprint, step.config_fingerprint)
            for pipeline in project.pipelines for step in pipeline.steps}


# the steps' and helpers' files, and the pipelines, the re-exports and run.py as well
COSMETIC_TARGETS = sorted(p.relative_to(SOURCE).as_posix() for p in SOURCE.rglob("*.py") if p.stat().st_size)


@st.composite
def cosmetic_edits(draw: st.DrawFn) -> dict[str, str]:
    """Some of the fixture's files, each with some kinds of cosmetic edits."""
    files = draw(st.lists(st.sampled_from(COSMETIC_TARGETS), min_size=1, unique=True), label="files")
    edits = {}
    for path in files:
        kinds = draw(st.lists(st.sampled_from(COSMETIC_KINDS), min_size=1, max_size=len(COSMETIC_KINDS),
                              unique=True), label=f"kinds {path}")
        seed = draw(st.integers(0, 2**32 - 1), label=f"seed {path}")
        edits[path] = cosmetic((SOURCE / path).read_text(encoding="utf-8"), random.Random(seed), kinds)
    return edits


@PROPERTY
@given(cosmetic_edits())
def test_cosmetic_edits_keep_fingerprints_and_decide_run(tmp_path: Path, edits: dict[str, str]) -> None:
    base = _baseline()
    head = _scan(tmp_path, edits)
    assert head.diagnostics == base.diagnostics
    assert _fingerprints(head) == _fingerprints(base)
    assert [p.fingerprint for p in head.pipelines] == [p.fingerprint for p in base.pipelines]
    report = compare(base, head)
    assert {c.name: c.decision for c in report.pipelines} == {p.name: Decision.RUN for p in base.pipelines}


@st.composite
def semantic_edits(draw: st.DrawFn) -> tuple[str, Site, dict[str, str]]:
    """One semantic edit in code a step runs, sometimes with cosmetic edits on top."""
    path = draw(st.sampled_from(sorted(_edited_code())), label="file")
    source = (SOURCE / path).read_text(encoding="utf-8")
    sites = semantic_sites(source, _edited_code()[path])
    site = draw(st.sampled_from(sites), label="site")
    edited = apply_semantic(source, site)
    if draw(st.booleans(), label="cosmetic on top"):
        kinds = draw(st.lists(st.sampled_from(COSMETIC_KINDS), min_size=1, unique=True), label="kinds")
        edited = cosmetic(edited, random.Random(draw(st.integers(0, 2**32 - 1), label="seed")), kinds)
    return path, site, {path: edited}


@PROPERTY
@given(semantic_edits())
def test_semantic_edits_change_fingerprints_and_decide_version(tmp_path: Path,
                                                               edit: tuple[str, Site, dict[str, str]]) -> None:
    path, site, edits = edit
    base = _baseline()
    head = _scan(tmp_path, edits)
    module = path[: -len(".py")].replace("/", ".")
    affected = definitions_using(_steps(base), module, site.definition)
    assert affected, site

    before, after = _fingerprints(base), _fingerprints(head)
    changed = {key for key in before if before[key] != after.get(key)}
    runs_it = {(p.name, s.id) for p in base.pipelines for s in p.steps if s.function in affected}
    assert runs_it <= changed, f"{site} in {path}: unchanged {sorted(runs_it - changed)}"

    report = compare(base, head)
    decisions = {c.name: c.decision for c in report.pipelines}
    for pipeline_name, _ in runs_it:
        decision = decisions[pipeline_name]
        assert decision is not None and decision >= Decision.VERSION, (site, report.pipelines)


def test_every_file_offers_semantic_edits() -> None:
    """The premise: each file with step code has literals, operators or statements to edit,
    and every kind of edit occurs somewhere."""
    kinds = set()
    for path, names in _edited_code().items():
        sites = semantic_sites((SOURCE / path).read_text(encoding="utf-8"), names)
        assert sites, path
        kinds.update(site.kind for site in sites)
    assert kinds == {"literal", "operator", "statement"}
