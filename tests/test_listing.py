"""A history walk's scans take the last listing with the edited files read again
(pvcheck.analyzer.listing): it must be what reading the folder from nothing finds."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pvcheck.analyzer import listing as listing_module
from pvcheck.analyzer.listing import Listing, ListingMemo, read_listing
from pvcheck.config import Config
from pvcheck.history import walk
from pvcheck.output.history_report import history_json

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _same(found: Listing, fresh: Listing) -> None:
    assert found.roots == fresh.roots
    assert found.files == fresh.files
    assert found.projects == fresh.projects
    assert found.contents == fresh.contents
    assert found.diagnostics == fresh.diagnostics
    assert found.lines == fresh.lines


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    shutil.copytree(FIXTURES / "zenml_churn", root)
    return root


def test_an_edit_noted_is_read_again_and_the_rest_is_kept(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = Config(max_file_size=2_000)
    memo = ListingMemo()
    first = memo.listing(tree, config)
    edited = "steps/ingest.py"
    grown = "utils/cleaning.py"
    (tree / edited).write_text((tree / edited).read_text() + "\n# a longer file, with more lines\n")
    (tree / grown).write_text((tree / grown).read_text() + "#" * 3_000 + "\n")  # now over max_file_size
    (tree / "data.sql").write_text("select 1\n")  # not a source file: nothing to read again
    memo.note([(edited, True), (grown, True)])
    walked: list[Path] = []
    monkeypatch.setattr(listing_module, "discover", lambda root, *a, **k: walked.append(root) or [])
    second = memo.listing(tree, config)
    assert not walked  # the folders were not walked again
    monkeypatch.undo()
    _same(second, read_listing(tree, config))
    assert second.contents[edited] != first.contents[edited]
    assert second.contents[grown] is None and "over the limit" in second.problems[grown].message
    assert first.contents[grown] is not None  # the first listing is left as it was

    (tree / grown).write_text("X = 1\n")  # under the limit again: the problem goes
    memo.note([(grown, True)])
    third = memo.listing(tree, config)
    _same(third, read_listing(tree, config))
    assert grown not in third.problems


def test_a_nul_byte_edited_in_is_the_same_diagnostic_as_from_nothing(tree: Path) -> None:
    memo = ListingMemo()
    memo.listing(tree, Config())
    (tree / "steps/ingest.py").write_bytes(b"x = 1\x00\n")
    memo.note([("steps/ingest.py", True)])
    found = memo.listing(tree, Config())
    _same(found, read_listing(tree, Config()))
    assert found.contents["steps/ingest.py"] is None


@pytest.mark.parametrize("change", ["added", "deleted", "project file"])
def test_what_changes_the_walk_or_the_roots_reads_the_folder_again(tree: Path, change: str) -> None:
    (tree / "pyproject.toml").write_text('[project]\nname = "churn"\n')
    (tree / "lib" / "shared").mkdir(parents=True)
    (tree / "lib" / "shared" / "__init__.py").write_text("SEED = 1\n")
    memo = ListingMemo()
    before = memo.listing(tree, Config())
    if change == "added":
        (tree / "steps/extra.py").write_text("Y = 2\n")
        noted = [("steps/extra.py", False)]
    elif change == "deleted":
        (tree / "steps/ingest.py").unlink()
        noted = [("steps/ingest.py", False)]
    else:  # lib/ becomes a source root: the same files get other module names
        (tree / "pyproject.toml").write_text('[project]\nname = "churn"\n\n'
                                             '[tool.setuptools.packages.find]\nwhere = ["lib", "."]\n')
        noted = [("pyproject.toml", True)]
    memo.note(noted)
    found = memo.listing(tree, Config())
    _same(found, read_listing(tree, Config()))
    assert found.files != before.files


def test_another_folder_or_configuration_reads_again(tree: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(FIXTURES / "zenml_churn", other)
    (other / "steps/ingest.py").write_text("V = 5\n")
    memo = ListingMemo()
    memo.listing(tree, Config())
    assert memo.listing(other, Config()).contents["steps/ingest.py"] == b"V = 5\n"
    (other / "utils/cleaning.py").write_text("U = 6\n")  # unnoted, but another configuration
    assert memo.listing(other, Config(exclude=("notebooks/**",))).contents["utils/cleaning.py"] == b"U = 6\n"


def test_a_history_that_grows_a_file_over_the_limit_is_the_same_with_and_without_reuse(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "zenml_churn", root)
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], check=True)
    cleaning = root / "utils" / "cleaning.py"
    original = cleaning.read_text()
    for number, text in enumerate([original, original + "#" * 5_000 + "\n", original + "\n# back\n",
                                   original.replace("def ", "def  ", 1)]):
        cleaning.write_text(text)
        subprocess.run([*git, "add", "-A"], check=True)
        subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", f"edit {number}"], check=True)
    config = Config(max_file_size=len(original) + 1_000)
    reused = history_json(walk(root, config))
    assert reused == history_json(walk(root, config, reuse=False, cache=False))
    assert "no longer uses helper utils.cleaning.drop_inactive" in reused  # over the limit at edit 1
