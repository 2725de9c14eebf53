"""The analysis cache: warm results identical to cold ones, exact invalidation, robustness."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from pathlib import Path

import pytest

import pvcheck
from pvcheck.analyzer import scan_tree
from pvcheck.analyzer.cache import AnalysisCache
from pvcheck.analyzer.serialize import decode, encode
from pvcheck.config import Config
from pvcheck.model import Project

from tests.conftest import FIXTURES, write_tree

TWO_PIPELINES = {
    "steps/__init__.py": "",
    "steps/a.py": """
        from zenml import step
        from utils.a import helper_a

        @step
        def step_a(x: int = 1) -> int:
            return helper_a(x)
        """,
    "steps/b.py": """
        from zenml import step
        from utils.b import helper_b

        @step
        def step_b(x: int = 2) -> int:
            return helper_b(x)
        """,
    "utils/__init__.py": "",
    "utils/a.py": """
        def helper_a(x):
            return x + 1
        """,
    "utils/b.py": """
        def helper_b(x):
            return x * 2
        """,
    "pipelines/pa.py": """
        from zenml import pipeline
        from steps.a import step_a

        @pipeline
        def pipe_a():
            step_a()
        """,
    "pipelines/pb.py": """
        from zenml import pipeline
        from steps.b import step_b

        @pipeline
        def pipe_b():
            step_b()
        """,
}


def _same(a: Project, b: Project) -> None:
    assert a.to_json(full=True) == b.to_json(full=True)
    assert a.pipelines == b.pipelines  # every field, not only what JSON shows
    assert a.diagnostics == b.diagnostics
    assert (a.files_scanned, a.lines_scanned) == (b.files_scanned, b.lines_scanned)


def _copy_fixture(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target


@pytest.mark.parametrize("fixture", ["zenml_churn", "zenml_recsys"])
def test_warm_scan_is_identical_to_cold_and_parses_nothing(tmp_path: Path, fixture: str) -> None:
    root = _copy_fixture(tmp_path, fixture)
    uncached = scan_tree(root, cache=False)
    cold_store = AnalysisCache(tmp_path / "cache", Config())
    cold = scan_tree(root, cache=cold_store)
    assert cold_store.hits == 0 and cold_store.writes > 0
    warm_store = AnalysisCache(tmp_path / "cache", Config())
    warm = scan_tree(root, cache=warm_store)
    # the whole scan is reused: no unit is even looked at
    assert (warm_store.scan_hits, warm_store.hits, warm_store.misses, warm_store.writes) == (1, 0, 0, 0)
    _same(uncached, cold)
    _same(cold, warm)
    # without the whole-scan entry, every unit comes from the cache
    for stored_scan in (tmp_path / "cache").rglob("scans/*.json"):
        stored_scan.unlink()
    unit_store = AnalysisCache(tmp_path / "cache", Config())
    _same(cold, scan_tree(root, cache=unit_store))
    assert unit_store.misses == 0 and unit_store.hits > 0 and unit_store.scan_hits == 0


def test_a_warm_scan_does_not_import_libcst(tmp_path: Path) -> None:
    root = _copy_fixture(tmp_path, "zenml_churn")
    env = dict(os.environ, PVCHECK_CACHE_DIR=str(tmp_path / "cache"))
    script = ("import sys, pvcheck; p = pvcheck.scan(sys.argv[1]); "
              "print(len(p.pipelines), 'libcst' in sys.modules)")
    cold = subprocess.run([sys.executable, "-c", script, str(root)], env=env, capture_output=True, text=True,
                          check=True)
    warm = subprocess.run([sys.executable, "-c", script, str(root)], env=env, capture_output=True, text=True,
                          check=True)
    assert cold.stdout.split() == ["2", "True"]
    assert warm.stdout.split() == ["2", "False"]


def _units_run(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    from pvcheck.analyzer.units import UnitRunner

    ran: list[tuple[str, str]] = []
    original = UnitRunner.run

    def run(self, unit, attachments=None):  # type: ignore[no-untyped-def]
        ran.append((unit.kind, unit.path))
        return original(self, unit, attachments)

    monkeypatch.setattr(UnitRunner, "run", run)
    return ran


def test_files_that_cannot_define_a_pipeline_get_no_pipelines_unit(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    files = dict(TWO_PIPELINES)
    files["steps/broken.py"] = "from zenml import step\n\n@step\ndef f(:\n    pass\n"
    files["pipelines/aliased.py"] = (
        "from zenml import step, pipeline as defines\nfrom steps.a import step_a\n\n"
        "@defines\ndef aliased():\n    step_a()\n")
    root = write_tree(tmp_path / "tree", files)
    ran = _units_run(monkeypatch)
    project = scan_tree(root, cache=False, jobs=1)
    # step modules do not mention the decorator's name: no pipelines unit for them; every
    # file still has its attachments unit, and with it its parse diagnostics
    assert sorted(path for kind, path in ran if kind == "pipelines") == [
        "pipelines/aliased.py", "pipelines/pa.py", "pipelines/pb.py"]
    assert {path for kind, path in ran if kind == "attachments"} >= {"steps/a.py", "steps/broken.py"}
    assert [p.name for p in project.pipelines] == ["aliased", "pipe_a", "pipe_b"]
    assert [(d.code, d.path) for d in project.diagnostics] == [("PV001", "steps/broken.py")]


def test_editing_a_helper_reruns_exactly_the_pipelines_that_use_it(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_tree(tmp_path / "tree", TWO_PIPELINES)
    before = scan_tree(root, cache=AnalysisCache(tmp_path / "cache", Config()))
    (root / "utils" / "a.py").write_text("def helper_a(x):\n    return x + 2\n", encoding="utf-8")
    ran = _units_run(monkeypatch)
    after = scan_tree(root, cache=AnalysisCache(tmp_path / "cache", Config()), jobs=1)
    # steps/a.py's attachments unit looked up helper_a (is it a pipeline called with
    # parameters?), so it runs again too; of the pipelines, only pipe_a's module
    assert [path for kind, path in ran if kind == "pipelines"] == ["pipelines/pa.py"]
    assert [path for kind, path in ran if kind == "attachments"] == ["steps/a.py"]
    _same(after, scan_tree(root, cache=False))
    fingerprints = {p.name: p.fingerprint for p in before.pipelines}
    assert after.pipelines[0].name == "pipe_a" and after.pipelines[0].fingerprint != fingerprints["pipe_a"]
    assert after.pipelines[1].name == "pipe_b" and after.pipelines[1].fingerprint == fingerprints["pipe_b"]


def test_an_unused_helper_edit_reruns_nothing(tmp_path: Path) -> None:
    files = dict(TWO_PIPELINES)
    files["utils/c.py"] = "def unused():\n    return 1\n"
    root = write_tree(tmp_path / "tree", files)
    scan_tree(root, cache=AnalysisCache(tmp_path / "cache", Config()))
    (root / "utils" / "c.py").write_text("def unused():\n    return 2\n", encoding="utf-8")
    store = AnalysisCache(tmp_path / "cache", Config())
    scan_tree(root, cache=store)
    assert store.misses == 0


def test_a_module_appearing_where_a_name_was_absent_invalidates(tmp_path: Path) -> None:
    files = dict(TWO_PIPELINES)
    files["steps/a.py"] = """
        from zenml import step
        from helpers import magic

        @step
        def step_a(x: int = 1) -> int:
            return magic(x)
        """
    root = write_tree(tmp_path / "tree", files)
    first = scan_tree(root, cache=AnalysisCache(tmp_path / "cache", Config()))
    (root / "helpers.py").write_text("def magic(x):\n    return x\n", encoding="utf-8")
    store = AnalysisCache(tmp_path / "cache", Config())
    second = scan_tree(root, cache=store)
    assert store.misses >= 1
    _same(second, scan_tree(root, cache=False))
    assert first.pipelines[0].fingerprint != second.pipelines[0].fingerprint
    assert [h.name for h in second.pipelines[0].steps[0].helpers] == ["helpers.magic"]


def test_a_run_config_edit_is_seen(tmp_path: Path) -> None:
    root = _copy_fixture(tmp_path, "zenml_churn")
    scan_tree(root, cache=AnalysisCache(tmp_path / "cache", Config()))
    config = root / "configs" / "training.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("max_iter: 300", "max_iter: 500"),
                      encoding="utf-8")
    warm = scan_tree(root, cache=AnalysisCache(tmp_path / "cache", Config()))
    _same(warm, scan_tree(root, cache=False))
    train = next(s for p in warm.pipelines for s in p.steps if s.id == "train_model")
    assert train.config["parameters"]["max_iter"] == 500


def test_another_configuration_does_not_share_entries(tmp_path: Path) -> None:
    root = _copy_fixture(tmp_path, "zenml_churn")
    scan_tree(root, cache=AnalysisCache(tmp_path / "cache", Config()))
    other = Config(cosmetic_calls=())
    store = AnalysisCache(tmp_path / "cache", other)
    result = scan_tree(root, other, cache=store)
    assert store.hits == 0
    _same(result, scan_tree(root, other, cache=False))


def _unit_rows(cache: Path) -> list[tuple[str, str]]:
    [database] = cache.rglob("units.sqlite")
    with closing(sqlite3.connect(database)) as connection:
        return connection.execute("SELECT key, entry FROM units ORDER BY key").fetchall()


def _set_unit_rows(cache: Path, rows: list[tuple[str, str]]) -> None:
    [database] = cache.rglob("units.sqlite")
    with closing(sqlite3.connect(database)) as connection, connection:
        connection.executemany("UPDATE units SET entry = ? WHERE key = ?", [(entry, key) for key, entry in rows])


def test_corrupt_entries_are_ignored_and_rebuilt(tmp_path: Path) -> None:
    root = _copy_fixture(tmp_path, "zenml_churn")
    cache = tmp_path / "cache"
    cold = scan_tree(root, cache=AnalysisCache(cache, Config()))
    for snapshot in cache.rglob("*.json"):
        snapshot.write_bytes(b"{not json")
    # files whose units are ZenML's only first: the bad payloads below replace exactly those
    # units, so each is looked at (the order must not hang on how keys hash)
    zenml_only = {f"{kind}:zenml:pvcheck.analyzer.frameworks.zenml:ZenML" for kind in ("attachments", "pipelines")}
    keys = [key for key, entry in sorted(_unit_rows(cache), key=lambda row: (
        not set(json.loads(row[1]).get("units", {})) <= zenml_only, row[0]))]
    assert len(keys) >= 5
    garbage = ["", "{not json", '{"format": 1, "key": "x", "units": [1, 2]}', "\x00\xff" * 10,
               json.dumps({"format": 1, "key": "", "units": {"u": [{"deps": {"m": {}, "f": {}, "l": None, "r": [],
                                                                            "a": {}},
                                                                   "diagnostics": [], "payload": [{"$c": "os"}]}]}})]
    rows = [(key, garbage[number % len(garbage)]) for number, key in enumerate(keys)]
    # corrupt entries that still parse, with the right key and dependencies that hold:
    # a class that may not appear, a payload of the wrong type, a malformed attachment
    bad_payloads = [[{"$c": "Pipeline", "$a": [{"$c": "os.system", "$a": []}]}], [{"$t": [1]}],
                    [{"$c": "ConfigAttachment", "$a": [3, {}, {}, {}]}], [{"$c": "Step", "$a": []}], "nope"]
    for number, payload in enumerate(bad_payloads):
        key = keys[number]
        variant = {"deps": {"m": {}, "f": {}, "l": None, "r": [], "a": {}}, "diagnostics": [], "payload": payload}
        units = {f"{kind}:zenml:pvcheck.analyzer.frameworks.zenml:ZenML": [variant]
                 for kind in ("attachments", "pipelines")}
        rows[number] = (key, json.dumps({"format": 1, "key": key, "units": units}))
    _set_unit_rows(cache, rows)
    store = AnalysisCache(cache, Config())
    rebuilt = scan_tree(root, cache=store)
    _same(cold, rebuilt)
    assert store.hits == 0
    # the three bad payloads that decode (a tuple, a malformed attachment, a string) were
    # looked at (every file has an attachments unit) and refused; a class that may not
    # appear and a Step without fields do not decode at all, so those entries count as
    # missing (a pipelines unit of the same file may add to the count: that depends on
    # which files the keys, which change with pvcheck's own code, put first)
    assert len(store._rejected) >= 3
    for _, entry in _unit_rows(cache):
        json.loads(entry)  # every entry was rewritten whole
    warm = AnalysisCache(cache, Config())
    _same(cold, scan_tree(root, cache=warm))
    assert warm.scan_hits == 1


def test_a_damaged_database_is_replaced(tmp_path: Path) -> None:
    root = _copy_fixture(tmp_path, "zenml_churn")
    cache = tmp_path / "cache"
    cold = scan_tree(root, cache=AnalysisCache(cache, Config()))
    [database] = cache.rglob("units.sqlite")
    for leftover in database.parent.glob("units.sqlite-*"):
        leftover.unlink()
    database.write_bytes(b"this is not a SQLite database" * 100)
    shutil.rmtree(database.parent / "scans")
    store = AnalysisCache(cache, Config())
    _same(cold, scan_tree(root, cache=store))
    assert store.hits == 0 and store.writes > 0
    warm = AnalysisCache(cache, Config())
    shutil.rmtree(database.parent / "scans")
    _same(cold, scan_tree(root, cache=warm))
    assert warm.misses == 0 and warm.hits > 0


def test_entries_unused_for_a_month_are_deleted_when_the_cache_is_next_written(tmp_path: Path) -> None:
    from pvcheck.analyzer.cache import MAX_UNUSED_DAYS, _today

    root = write_tree(tmp_path / "tree", TWO_PIPELINES)
    cache = tmp_path / "cache"
    scan_tree(root, cache=AnalysisCache(cache, Config()), jobs=1)
    [database] = cache.rglob("units.sqlite")
    long_ago = _today() - MAX_UNUSED_DAYS - 1
    with closing(sqlite3.connect(database)) as connection, connection:
        connection.execute("UPDATE units SET used = ?", (long_ago,))  # every entry a month old...
        connection.execute("INSERT INTO units VALUES ('gone', '{}', ?)", (long_ago,))  # ...and one of a deleted file
        connection.execute("INSERT INTO units VALUES ('recent', '{}', ?)", (long_ago + 2,))
    shutil.rmtree(database.parent / "scans")
    (root / "utils" / "a.py").write_text("def helper_a(x):\n    return x + 2\n", encoding="utf-8")
    scan_tree(root, cache=AnalysisCache(cache, Config()), jobs=1)  # reads most entries, writes a few
    with closing(sqlite3.connect(database)) as connection:
        used = dict(connection.execute("SELECT key, used FROM units").fetchall())
    assert "gone" not in used and used["recent"] == long_ago + 2
    assert len(used) == 5 and all(day == _today() for key, day in used.items() if key != "recent")


def test_a_database_of_another_layout_is_replaced(tmp_path: Path) -> None:
    root = _copy_fixture(tmp_path, "zenml_churn")
    database = tmp_path / "cache" / "v1" / "units.sqlite"
    database.parent.mkdir(parents=True)
    with closing(sqlite3.connect(database)) as connection, connection:
        connection.execute("CREATE TABLE units (key TEXT PRIMARY KEY, entry TEXT NOT NULL)")
        connection.execute("INSERT INTO units VALUES ('old', '{}')")
    store = AnalysisCache(tmp_path / "cache", Config())
    _same(scan_tree(root, cache=False), scan_tree(root, cache=store))
    assert store.writes > 0
    with closing(sqlite3.connect(database)) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(units)")]
        keys = [row[0] for row in connection.execute("SELECT key FROM units")]
    assert columns == ["key", "entry", "used"] and "old" not in keys


def test_an_unwritable_cache_folder_only_costs_speed(tmp_path: Path) -> None:
    root = _copy_fixture(tmp_path, "zenml_churn")
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be", encoding="utf-8")
    store = AnalysisCache(blocker, Config())
    _same(scan_tree(root, cache=False), scan_tree(root, cache=store))
    assert store.writes == 0


def test_two_processes_writing_at_once_do_not_corrupt_it(tmp_path: Path) -> None:
    root = _copy_fixture(tmp_path, "zenml_churn")
    env = dict(os.environ, PVCHECK_CACHE_DIR=str(tmp_path / "cache"), PVCHECK_JOBS="1")
    script = textwrap.dedent("""
        import sys, pvcheck
        for _ in range(3):
            pvcheck.scan(sys.argv[1])
        """)
    processes = [subprocess.Popen([sys.executable, "-c", script, str(root)], env=env) for _ in range(2)]
    assert [p.wait(timeout=600) for p in processes] == [0, 0]
    for entry in sorted((tmp_path / "cache").rglob("*.json")):
        json.loads(entry.read_bytes())
    [database] = (tmp_path / "cache").rglob("units.sqlite")
    with closing(sqlite3.connect(database)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    for _, entry in _unit_rows(tmp_path / "cache"):
        json.loads(entry)
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.name.startswith(".tmp-")]
    store = AnalysisCache(tmp_path / "cache", Config())
    _same(scan_tree(root, cache=False), scan_tree(root, cache=store))
    assert store.misses == 0


def test_no_cache_writes_nothing(tmp_path: Path) -> None:
    root = _copy_fixture(tmp_path, "zenml_churn")
    cache_dir = tmp_path / "cache"
    env = dict(os.environ, PVCHECK_CACHE_DIR=str(cache_dir))
    result = subprocess.run([sys.executable, "-m", "pvcheck", "scan", str(root), "--no-cache", "--format", "json"],
                            env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["pipelines"]
    assert not cache_dir.exists()
    subprocess.run([sys.executable, "-m", "pvcheck", "scan", str(root), "--format", "json"], env=env,
                   capture_output=True, check=True)
    assert list(cache_dir.rglob("*.json"))


def test_the_api_uses_the_cache_folder_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _copy_fixture(tmp_path, "zenml_churn")
    monkeypatch.setenv("PVCHECK_CACHE_DIR", str(tmp_path / "env-cache"))
    pvcheck.scan(root)
    assert list((tmp_path / "env-cache").rglob("*.json"))
    pvcheck.scan(root, cache=False)


def test_default_cache_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from pvcheck.analyzer.cache import default_directory

    monkeypatch.delenv("PVCHECK_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_directory() == tmp_path / "xdg" / "pvcheck"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_directory() == tmp_path / "home" / ".cache" / "pvcheck"


@pytest.mark.parametrize("fixture", ["zenml_churn", "zenml_recsys"])
def test_serialized_models_round_trip_exactly(fixture: str) -> None:
    project = scan_tree(FIXTURES / fixture, cache=False)
    for pipeline in project.pipelines:
        text = json.dumps(encode(pipeline))
        assert decode(json.loads(text)) == pipeline
    assert tuple(decode(json.loads(json.dumps(encode(project.diagnostics))))) == project.diagnostics


def test_decoding_refuses_anything_but_model_classes() -> None:
    for bad in ({"$c": "Popen", "$a": []}, {"$c": "Step", "$a": [1]}, {"$e": "Path", "$v": "x"},
                {"$x": 1}, {"$d": [1]}, {"$t": 3}, {"$c": "Edge", "$a": {"source": "a"}},
                {"$c": "ConfigAttachment", "$a": ["x", {}, {}]}, {"$c": "Edge", "$f": [["source", "a"]]}):
        with pytest.raises(ValueError):
            decode(bad)
    assert decode({"plain": {"$t": [1, {"$d": [["$t", 2]]}]}}) == {"plain": (1, {"$t": 2})}


def test_cached_attachments_know_every_field_of_config_attachment() -> None:
    # cached attachments are checked without importing the framework layer; a field added
    # to ConfigAttachment must be added to that check too, or attachments are never reused
    import dataclasses

    from pvcheck.analyzer.frameworks.base import ConfigAttachment
    from pvcheck.analyzer.serialize import _DEFERRED

    assert _DEFERRED["ConfigAttachment"] == tuple(f.name for f in dataclasses.fields(ConfigAttachment))
    attachment = ConfigAttachment("pkg.steps.train", {"x": (1, 2)}, {"x": ("run.py", 3)}, {"train": {"a": 1}})
    deferred = decode(json.loads(json.dumps(encode(attachment))))
    assert deferred.target == "pkg.steps.train" and deferred.real() == attachment
    assert encode(deferred) == encode(attachment)


def test_enums_that_are_also_strings_come_back_as_enums() -> None:
    from pvcheck.model import Diagnostic, Severity

    diagnostic = Diagnostic("PV001", Severity.ERROR, "syntax error", "a.py", 2, "fix it")
    back = decode(json.loads(json.dumps(encode(diagnostic))))
    assert back == diagnostic and type(back.severity) is Severity


def test_whole_scans_are_reused_only_while_valid_and_only_a_few_are_kept(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from pvcheck.analyzer import cache as cache_module

    monkeypatch.setattr(cache_module, "MAX_SCANS", 2)
    roots = []
    for number in range(3):
        files = dict(TWO_PIPELINES)
        files["utils/b.py"] = f"def helper_b(x):\n    return x * {number + 2}\n"
        roots.append(write_tree(tmp_path / f"tree{number}", files))
        scan_tree(roots[-1], cache=AnalysisCache(tmp_path / "cache", Config()))
    scans = sorted((tmp_path / "cache").rglob("scans/*.json"))
    assert len(scans) == 2
    # a stored scan that parses but holds the wrong things is ignored
    for stored in scans:
        data = json.loads(stored.read_bytes())
        data["pipelines"] = [{"$t": [1]}]
        stored.write_text(json.dumps(data), encoding="utf-8")
    store = AnalysisCache(tmp_path / "cache", Config())
    _same(scan_tree(roots[2], cache=False), scan_tree(roots[2], cache=store))
    assert store.scan_hits == 0 and store.misses == 0  # its units were still good
