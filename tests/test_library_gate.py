"""The gate and the lock as library calls (``pvcheck.check``, ``pvcheck.lock``): what the
CLI and the GitHub Action share, usable without a command line."""

from __future__ import annotations

from pathlib import Path

from pvcheck.check import check_project
from pvcheck.lock import lock_project
from pvcheck.model import Decision
from tests.gitrepo import COSMETIC, SEMANTIC, churn_repo


def test_lock_then_check_then_a_semantic_edit_makes_the_lock_stale(tmp_path: Path) -> None:
    repo = churn_repo(tmp_path)
    first = lock_project(repo.root)
    assert first.written and not first.errors
    assert {c.name: c.after.version for c in first.changes if c.after} == {"batch_features": 1, "churn_training": 1}
    assert check_project(repo.root).passed

    repo.replace("steps/features.py", *COSMETIC)
    cosmetic = check_project(repo.root)
    assert cosmetic.passed
    assert all(b.decision is Decision.RUN for b in cosmetic.gate.bumps)

    repo.replace("steps/features.py", *SEMANTIC)
    stale = check_project(repo.root)
    assert not stale.passed
    bump = next(b for b in stale.gate.bumps if b.pipeline == "churn_training")
    assert (bump.before, bump.after, bump.decision) == (1, 2, Decision.VERSION)
    assert bump.to_json() == {"pipeline": "churn_training", "from": 1, "to": 2, "decision": "version",
                              "summary": bump.summary}
    assert stale.gate.problems[0].path == "steps/features.py"

    again = lock_project(repo.root)
    assert again.written
    assert check_project(repo.root).passed
    assert not lock_project(repo.root).written  # up to date: nothing to write


def test_fail_on_version_against_a_base_revision(tmp_path: Path) -> None:
    repo = churn_repo(tmp_path)
    base = repo.commit("base")
    repo.replace("steps/features.py", *SEMANTIC)
    result = check_project(repo.root, base=base, fail_on="version")
    assert not result.passed
    assert result.gate.against == f"revision {base}"
    assert any("--fail-on version" in p.message for p in result.gate.problems)


def test_a_file_that_does_not_parse_keeps_the_lock_unwritten(tmp_path: Path) -> None:
    repo = churn_repo(tmp_path)
    repo.write("steps/broken.py", "from zenml import step\n\n\n@step\ndef broken(:\n")
    result = lock_project(repo.root)
    assert result.errors and not result.written
    assert not (repo.root / "pvcheck.lock").exists()


def test_a_cosmetic_edit_does_not_change_the_lock_file(tmp_path: Path) -> None:
    repo = churn_repo(tmp_path)
    assert lock_project(repo.root).written
    before = (repo.root / "pvcheck.lock").read_bytes()
    # lines move in every module the pipelines use: a header comment, blank lines, a reformat
    for relative in ("steps/features.py", "pipelines/training.py", "utils/cleaning.py"):
        repo.write(relative, "# Copyright the churn team.\n\n\n" + repo.read(relative))
    repo.replace("steps/features.py", *COSMETIC)
    result = lock_project(repo.root)
    assert not result.written
    assert (repo.root / "pvcheck.lock").read_bytes() == before
    assert b"line = " not in before


def test_a_revert_is_back_to_the_earlier_version_not_a_new_one(tmp_path: Path) -> None:
    repo = churn_repo(tmp_path)
    lock_project(repo.root)
    original = repo.read("steps/features.py")
    repo.replace("steps/features.py", *SEMANTIC)
    second = lock_project(repo.root)
    churn = next(c for c in second.changes if c.name == "churn_training")
    assert (churn.before.version, churn.after.version) == (1, 2)
    repo.write("steps/features.py", original)  # the edit reverted
    back = lock_project(repo.root)
    churn = next(c for c in back.changes if c.name == "churn_training")
    assert churn.after.version == 1 and churn.reverted
    assert "v2 -> back to v1" in churn.describe()
    assert "earlier_versions" in (repo.root / "pvcheck.lock").read_text(encoding="utf-8")
    # a further, new change takes a number no earlier version has
    repo.replace("steps/features.py", "test_size=test_size, random_state", "test_size=test_size * 2, random_state")
    after = next(c for c in lock_project(repo.root).changes if c.name == "churn_training")
    assert after.after.version == 3 and not after.reverted
    assert check_project(repo.root).passed


def test_settings_alone_never_bump_a_version(tmp_path: Path) -> None:
    """Adding run_configs (with docker settings!), an exclude or a root changes what
    pvcheck reads, not the code: no version moves; the lock just records them."""
    repo = churn_repo(tmp_path)
    lock_project(repo.root)
    repo.write("configs/extra.yaml", "settings:\n  docker:\n    parent_image: python:3.12-slim\n")
    repo.write("notebooks/explore.py", "from zenml import pipeline\n")
    repo.write("pvcheck.toml", 'exclude = ["notebooks/**"]\n\n[run_configs]\nbatch_features = ["configs/extra.yaml"]\n')
    from pvcheck.config import load_config

    config = load_config(repo.root / "pvcheck.toml")
    result = check_project(repo.root, config=config)
    assert result.passed, result.gate.problems
    assert {b.pipeline: (b.before, b.after) for b in result.gate.bumps} == {"batch_features": (1, 1),
                                                                             "churn_training": (1, 1)}
    assert "settings changed" in result.gate.hint
    relocked = lock_project(repo.root, config=config)
    assert relocked.written and not any(c.bumped for c in relocked.changes)
    again = check_project(repo.root, config=config)
    assert again.passed and not again.gate.hint
    # near-miss: a real code change made together with a settings change still bumps
    repo.replace("steps/features.py", *SEMANTIC)
    config = config.with_overrides(exclude=("notebooks/**", "docs/**"))
    bumped = check_project(repo.root, config=config)
    assert not bumped.passed
    assert next(b for b in bumped.gate.bumps if b.pipeline == "churn_training").after == 2


def test_an_environment_change_is_a_new_version_even_with_the_code_unchanged(tmp_path: Path) -> None:
    """A version is known by its code fingerprint; a change a version owes to an
    environment key (a pinned package, a base image) keeps that fingerprint, and must
    still take a new number, never the current one or an earlier one of equal code."""
    import shutil

    from tests.conftest import FIXTURES

    root = tmp_path / "kfp_vertex"
    shutil.copytree(FIXTURES / "kfp_vertex", root)

    def relock(path: str, old: str, new: str) -> tuple[int, int]:
        target = root / path
        target.write_text(target.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
        change = next(c for c in lock_project(root).changes if c.name == "churn-retrain")
        assert change.decision is Decision.VERSION
        return change.before.version, change.after.version

    lock_project(root)
    assert relock("requirements.txt", "components==2.17.0", "components==2.18.0") == (1, 2)
    assert relock("utils/images.py", "python:3.11-slim", "python:3.12-slim") == (2, 3)
    # back to v2's image: v2 and v3 have the same code, so the code cannot tell which
    # environment is v2's; a new number is the safe answer
    assert relock("utils/images.py", "python:3.12-slim", "python:3.11-slim") == (3, 4)
    # near miss: a code change undone is still "back to" the version of that code
    assert relock("components/features.py", '["tenure_months"] > 0', '["tenure_months"] > 1') == (4, 5)
    assert relock("components/features.py", '["tenure_months"] > 1', '["tenure_months"] > 0') == (5, 4)
