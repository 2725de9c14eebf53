"""Memos a history walk shares between the trees it scans: each must answer exactly what
a computation from nothing answers, for the inputs that differ as well as for those that
repeat (a memo keyed too coarsely would hand one tree another tree's answer)."""

from __future__ import annotations

from pathlib import Path

from pvcheck.analyzer.discovery import SourceFile
from pvcheck.analyzer.records import object_variant
from pvcheck.analyzer.sources import TreeState, census_key
from pvcheck.analyzer.units import Dependencies
from pvcheck.config import DEFAULT_COSMETIC_CALLS
from pvcheck.policies.sources import Definition
from pvcheck.policies.textdiff import classify


def _files(root: Path, contents: dict[str, bytes]) -> list[SourceFile]:
    return [SourceFile(path, root / path, path[:-3].replace("/", "."), False, len(data))
            for path, data in sorted(contents.items())]


def _census(root: Path, contents: dict[str, bytes], marker: str,
            markers: dict[tuple[bytes, str], bool] | None) -> str:
    return TreeState(root, _files(root, contents), contents, markers).census_state(census_key(marker))


def test_a_shared_census_memo_sees_a_file_gain_and_lose_the_marker(tmp_path: Path) -> None:
    shared: dict[tuple[bytes, str], bool] = {}
    before = {"steps/a.py": b"x = 1\n", "steps/b.py": b"class PandasMaterializer: ...\n"}
    gained = {"steps/a.py": b"from m import PandasMaterializer\n", "steps/b.py": before["steps/b.py"]}
    lost = {"steps/a.py": b"x = 1\n", "steps/b.py": b"class Other: ...\n"}
    states = []
    for contents in (before, gained, lost, before):
        fresh = _census(tmp_path, contents, "PandasMaterializer", None)
        assert _census(tmp_path, contents, "PandasMaterializer", shared) == fresh
        states.append(fresh)
    assert len({states[0], states[1], states[2]}) == 3  # every edit moved the census
    assert states[3] == states[0]
    # the memo is by content: the unchanged file was looked at once for this marker
    assert sum(1 for marker, _ in shared if marker == b"PandasMaterializer") == 4


def test_a_shared_census_memo_keeps_markers_apart(tmp_path: Path) -> None:
    shared: dict[tuple[bytes, str], bool] = {}
    contents = {"a.py": b"class Alpha: ...\n", "b.py": b"class Beta: ...\n"}
    alpha = _census(tmp_path, contents, "Alpha", shared)
    beta = _census(tmp_path, contents, "Beta", shared)
    assert alpha != beta
    assert alpha == _census(tmp_path, contents, "Alpha", None)
    assert beta == _census(tmp_path, contents, "Beta", None)


def _definition(text: str) -> Definition:
    return Definition("helpers.py", 1, tuple(text.splitlines()))


def test_classify_answers_per_helper_flag_whatever_was_asked_first() -> None:
    old = _definition("def scale(x: int) -> int:\n    return x * 2\n")
    new = _definition("def scale(x: float) -> float:\n    return x * 2\n")
    for order in ((False, True), (True, False)):
        answers = {helper: classify(old, new, DEFAULT_COSMETIC_CALLS, helper=helper) for helper in order}
        assert "annotations" in answers[True]
        assert "annotations" not in answers[False]


def test_classify_answers_per_import_aliases() -> None:
    old = _definition("def train(x):\n    return x\n")
    new = _definition("def train(x):\n    bar.write('training')\n    return x\n")  # tqdm.write, if bar is tqdm
    for order in ((True, False), (False, True)):
        answers = {aliased: classify(old, new, DEFAULT_COSMETIC_CALLS, {"bar": "tqdm.tqdm"} if aliased else {})
                   for aliased in order}
        assert answers[True] == ["logging"]
        assert answers[False] == []


def test_an_object_variant_keeps_what_the_encoded_one_keeps() -> None:
    deps = Dependencies(modules={"steps.a": "steps/a.py:1"}, attachments={"t": "digest"})
    variant = object_variant(["pipeline"], ["diagnostic"], deps, True)
    assert variant == {"deps": deps.to_json(), "diagnostics": ["diagnostic"], "payload": ["pipeline"],
                       "decoded": True}
    assert object_variant(["pipeline"], [], deps, False) is None  # a failed unit is never kept
    assert object_variant(["pipeline"], [], Dependencies(attachments={"t": "uncacheable"}), True) is None


def _full_check(tree: TreeState, variant: dict) -> bool:
    deps = variant["deps"]
    return tree.modules_as_recorded(deps["m"]) and tree.files_as_recorded(deps["f"]) \
        and (deps["l"] is None or deps["l"] == tree.file_list_state())


def test_records_checked_against_what_changed_since_the_previous_tree_agree_with_a_full_check(
        tmp_path: Path) -> None:
    import random

    rng = random.Random(14)
    paths = [f"pkg/m{i}.py" for i in range(6)]
    contents = {path: b"x = 0\n" for path in paths[:4]}
    variants: list[dict] = []
    previous: TreeState | None = None
    shortcut_used = 0
    for _ in range(300):
        contents = dict(contents)
        for _ in range(rng.randint(0, 2)):  # edit, revert to an old text, add or delete a file
            path = rng.choice(paths)
            roll = rng.random()
            if roll < 0.1 and path in contents and len(contents) > 1:
                del contents[path]
            else:
                contents[path] = f"x = {rng.randint(0, 3)}\n".encode()
        tree = TreeState(tmp_path, _files(tmp_path, contents), contents, None, previous)
        for variant in variants:
            expected = _full_check(TreeState(tmp_path, _files(tmp_path, contents), contents), variant)
            held_before = variant.get("held_in")
            assert tree.records_hold(variant) == expected
            shortcut_used += held_before == previous.token if previous is not None else 0
        # a new variant recording some modules and files of this tree, sometimes the file list
        chosen = rng.sample(paths, 2)
        variants.append({"deps": {
            "m": {path[:-3].replace("/", "."): tree.module_state(path[:-3].replace("/", ".")) for path in chosen},
            "f": {chosen[0]: tree.file_state(chosen[0])},
            "l": tree.file_list_state() if rng.random() < 0.2 else None}})
        variants = variants[-40:]
        previous = tree
    assert shortcut_used > 1000  # the comparison with the previous tree really answered


def test_a_census_carried_from_the_previous_tree_agrees_with_one_from_nothing(
        tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A tree finds a census's files from the previous tree's answer and the files whose
    state differs since; files gaining and losing the marker, files added and deleted,
    markers asked in any order: always what a tree from nothing finds."""
    import random

    carried = []
    original = TreeState._carried

    def counting(self, marker):  # type: ignore[no-untyped-def]
        found = original(self, marker)
        carried.append(found is not None)
        return found

    monkeypatch.setattr(TreeState, "_carried", counting)
    rng = random.Random(7)
    paths = [f"pkg/m{i}.py" for i in range(8)]
    texts = [b"x = 1\n", b"class Alpha: ...\n", b"from m import Beta\n", b"Alpha = Beta = 2\n"]
    contents = {path: rng.choice(texts) for path in paths[:6]}
    shared: dict[tuple[bytes, str], bool] = {}
    previous: TreeState | None = None
    for _ in range(200):
        contents = dict(contents)
        for _ in range(rng.randint(0, 2)):
            path = rng.choice(paths)
            if rng.random() < 0.1 and path in contents and len(contents) > 1:
                del contents[path]
            else:
                contents[path] = rng.choice(texts)
        tree = TreeState(tmp_path, _files(tmp_path, contents), contents, shared, previous)
        for marker in rng.sample(["Alpha", "Beta", "Gamma"], rng.randint(1, 3)):
            fresh = TreeState(tmp_path, _files(tmp_path, contents), contents)
            assert tree.census_state(census_key(marker)) == fresh.census_state(census_key(marker))
        previous = tree
    assert carried.count(True) > 100 and carried.count(False) > 10  # both ways were taken


def test_a_tree_keeps_at_most_the_one_before_it(tmp_path: Path) -> None:
    # trees nobody asks anything of (no candidate file) must not chain a whole walk's
    # contents in memory
    contents = {"a.py": b"x = 1\n"}
    first = TreeState(tmp_path, _files(tmp_path, contents), contents)
    second = TreeState(tmp_path, _files(tmp_path, contents), contents, None, first)
    third = TreeState(tmp_path, _files(tmp_path, contents), contents, None, second)
    assert third._previous is second and second._previous is None
