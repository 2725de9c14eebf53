"""``pvcheck history`` reuses analysis from commit to commit (pvcheck.analyzer.incremental):
the results must be exactly those of scanning every commit on its own."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from pvcheck.analyzer import incremental, scan_tree
from pvcheck.analyzer.cache import MemoryCache
from pvcheck.analyzer.incremental import session
from pvcheck.config import Config
from pvcheck.history import walk
from pvcheck.output.history_report import history_json
from pvcheck.output.scan import scan_json

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"

_spec = importlib.util.spec_from_file_location("history_repo", REPO / "benchmarks" / "history_repo.py")
history_repo = importlib.util.module_from_spec(_spec)
sys.modules["history_repo"] = history_repo  # dataclasses look their module up there
_spec.loader.exec_module(history_repo)  # type: ignore[union-attr]

Edit = Callable[[Path], None]


def _replace(relative: str, old: str, new: str) -> Edit:
    def edit(root: Path) -> None:
        path = root / relative
        text = path.read_text()
        assert old in text, (relative, old)
        path.write_text(text.replace(old, new, 1))
    return edit


def _write(relative: str, text: str) -> Edit:
    def edit(root: Path) -> None:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return edit


def _remove(relative: str) -> Edit:
    return lambda root: (root / relative).unlink()


def _restore(fixture: str, relative: str) -> Edit:
    """Put a fixture's file back as the fixture has it."""
    return lambda root: shutil.copyfile(FIXTURES / fixture / relative, root / relative)


#: Per fixture, edits applied one after the other; after each, the tree is scanned with
#: the session and without anything kept, and the two must agree byte for byte.
EDITS: dict[str, list[Edit]] = {
    "zenml_churn": [
        _replace("utils/cleaning.py", "return ", "return 1 and "),  # a helper in another module
        _replace("configs/training.yaml", "max_iter: 300", "max_iter: 500"),  # a run config value
        _write("utils/extra.py", "def unused():\n    return 2\n"),  # a file added: the file list changes
        _write("vendor/pandas/__init__.py", "def read_csv(path):\n    return path\n"),  # a package no root holds
        _remove("vendor/pandas/__init__.py"),
        _replace("steps/training.py", "def ", "def (", ),  # a syntax error ...
        _replace("steps/training.py", "def (", "def "),  # ... and its fix: the tree is back to an earlier state
        _remove("utils/extra.py"),
        _remove("utils/metrics.py"),  # names steps import are gone
    ],
    "dagster_locations": [
        _replace("sales/utils/money.py", "round(amount / (1 + VAT), 2)", "round(amount / (1 + VAT), 3)"),
        _write("platform_proj/defs/ingest/defs.yaml", "type: dagster_dbt.DbtProjectComponent\n"),  # a YAML component
        _write("platform_proj/defs/ingest/defs.yaml", "type: dagster_sling.SlingReplicationComponent\n"),
        _remove("platform_proj/defs/ingest/defs.yaml"),
        _write("marketing/assets/extra.py", "from dagster import asset\n\n\n@asset\ndef leads():\n    return 1\n"),
        _replace("sales/assets/customers.py", 'AssetIn("clean_orders")', 'AssetIn("raw_orders")'),  # an upstream key
        _replace("sales/assets/customers.py", "deps=[customers]", "deps=[]"),
        _replace("sales/assets/orders.py", '@dg.asset(group_name="sales")\ndef raw_orders',
                 '@dg.asset(group_name="sales", key_prefix=["erp"])\ndef raw_orders'),  # a key others name
        _remove("marketing/assets/campaigns.py"),
        # what a job depends on is its code location's (pvcheck.analyzer.frameworks.dagster_scope)
        _write("platform_proj/defs/ingest/clicks.py",
               'import dagster as dg\n\n\n@dg.asset(group_name="ingest")\ndef clicks():\n    return 2\n'),
        _replace("platform_proj/defs/ingest/clicks.py", 'group_name="ingest"', 'group_name="other"'),
        _write("platform_proj/defs/ingest/notes.py", "ROWS = [1, 2]\n"),  # a module with no asset ...
        _write("platform_proj/defs/ingest/notes.py",  # ... gains one
               'import dagster as dg\n\n\n@dg.asset(group_name="ingest")\ndef notes():\n    return 3\n'),
        _write("sales/extra_defs.py", "from dagster import Definitions\n\nfrom sales.jobs import sales_refresh\n\n"
                                      "defs = Definitions(jobs=[sales_refresh])\n"),  # another location lists a job
    ],
    # the asset registry keeps each asset module's part (pvcheck.analyzer.frameworks.dagster):
    # edits of one asset module, of a factory in another module, and diagnostics that come and go
    "dagster_factories": [
        _replace("warehouse/assets/tables.py", 'make_copy("orders")', 'make_copy("orders", schema="erp")'),
        _replace("warehouse/factories.py", 'key_prefix=[schema]', 'key_prefix=[schema, "v2"]'),  # the factory's module
        _replace("warehouse/factories.py", 'return select_all(f"{schema}.{table}", limit)',
                 'return select_all(f"{schema}.{table}", limit + 1)'),  # the body the made assets share
        _replace("warehouse/assets/tables.py", 'make_copy(table="items", limit=500)',
                 'make_copy(table=TABLE, limit=500)'),  # a value known only at run time: PV010 ...
        _replace("warehouse/assets/tables.py", 'make_copy(table=TABLE, limit=500)',
                 'make_copy(table="items", limit=500)'),  # ... and gone again
        _replace("warehouse/components.py", "def build_defs", "def build_definitions"),  # no component any more
        _remove("warehouse/assets/tables.py"),
    ],
    # workspace files are parsed once per index while their bytes stay
    "dagster_workspace": [
        _replace("workspace.yaml", "location_name: team_a", "location_name: team_alpha"),
        _replace("workspace.yaml", "relative_path: team_b/repo.py", "relative_path: scratch/adhoc.py"),
        _remove("workspace.yaml"),
        _write("workspace.yaml", "load_from:\n  - python_module:\n      module_name: team_b.repo\n"),
    ],
    # sub-projects (pvcheck.analyzer.subprojects): a project file that comes and goes changes
    # how every import of that project reads
    "zenml_collection": [
        _replace("churn-forecast/utils/features.py", "return ", "return 0 or "),
        _remove("churn-forecast/requirements.txt"),  # no longer a sub-project: packages no root holds
        _write("churn-forecast/setup.cfg", "[metadata]\nname = churn\n"),  # a sub-project again
        _remove("fraud_detection/plotting/curves.py"),  # the other project's package goes
        _write("churn-forecast/plotting/__init__.py", "def bar(values):\n    return values\n"),  # now its own
        _replace("fraud_detection/utils/features.py", '"amount_7d"', '"amount_30d"'),
        _remove("fraud_detection/pyproject.toml"),  # its ``steps`` is now the first folder holding one
        _write("fraud_detection/pyproject.toml", "[project]\nname = 'fraud'\n"),  # and its own again
    ],
    # a census (pvcheck.analyzer.index.ProjectIndex.census) is no look-up of the files it
    # finds: a materializer that comes back must be found again, and change the steps it saves
    "changes/reach_materializer_named/before": [
        _remove("materializers/report.py"),
        _restore("changes/reach_materializer_named/before", "materializers/report.py"),
        _write("utils/notes.py", "ROWS = 1\n"),  # a module with no materializer ...
        _write("utils/notes.py", "from zenml.materializers.base_materializer import BaseMaterializer\n\n"
                                 "from utils.report import TrainingReport\n\n\n"
                                 "class NotesMaterializer(BaseMaterializer):\n"
                                 "    ASSOCIATED_TYPES = (TrainingReport,)\n\n"
                                 "    def save(self, report: TrainingReport) -> None:\n"
                                 "        print(report)\n"),  # ... gains one: same file list, new bytes
    ],
    "prefect_etl": [
        _replace("utils/dates.py", "def ", "def _unused():\n    return 0\n\n\ndef "),
        _replace("utils/cleaning.py", "return ", "return 0 or "),
        _remove("tasks/load.py"),
    ],
}


def _fresh(root: Path) -> str:
    """A scan from nothing: outside the active session (inside one, a scan without a
    cache would still get the session's index and what it remembered)."""
    saved, incremental._ACTIVE = incremental._ACTIVE, None
    try:
        return scan_json(scan_tree(root, Config(), cache=False))
    finally:
        incremental._ACTIVE = saved


@pytest.mark.parametrize("fixture", sorted(EDITS))
def test_scans_in_a_session_equal_scans_from_nothing(tmp_path: Path, fixture: str) -> None:
    root = tmp_path / "tree"
    shutil.copytree(FIXTURES / fixture, root)
    config = Config()
    store = MemoryCache(config)
    with session() as shared:
        assert scan_json(scan_tree(root, config, cache=store)) == _fresh(root)
        for number, edit in enumerate(EDITS[fixture]):
            edit(root)
            assert scan_json(scan_tree(root, config, cache=store)) == _fresh(root), f"after edit {number}"
        assert shared.index is not None and shared.index.kept > 0  # something was carried over


def test_unchanged_modules_are_not_parsed_again_and_changed_ones_are(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    shutil.copytree(FIXTURES / "zenml_churn", root)
    config = Config()
    store = MemoryCache(config)
    with session() as shared:
        scan_tree(root, config, cache=store)
        index = shared.index
        assert index is not None
        before = {name: module for name, module in index._modules.items() if module is not None}
        assert {"utils.cleaning", "steps.training"} <= set(before)
        _replace("utils/cleaning.py", "return ", "return 1 and ")(root)
        scan_tree(root, config, cache=store)
        assert index._modules.get("steps.training") is before["steps.training"]  # same bytes: same tree
        assert index._modules.get("utils.cleaning") is not before["utils.cleaning"]  # new bytes: parsed again
        assert index.dropped > 0 and index.kept > 0


def test_a_step_whose_reach_changed_keeps_its_own_body_while_its_module_stays(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A step's facts are made again when a helper it reaches changes; its own canonical
    body (and the files it reads, its complexity) are not, while nothing it names changed.
    Near-miss: a step naming a constant of the edited module is canonicalized again."""
    from pvcheck.analyzer.canonical import Canonicalizer

    made: list[str] = []
    original = Canonicalizer.function_body

    def counted(self: Canonicalizer, node):  # type: ignore[no-untyped-def]
        made.append(node.name.value)
        return original(self, node)

    monkeypatch.setattr(Canonicalizer, "function_body", counted)
    root = tmp_path / "tree"
    shutil.copytree(FIXTURES / "zenml_churn", root)
    config = Config()
    store = MemoryCache(config)
    with session():
        before = _pipeline(scan_json(scan_tree(root, config, cache=store)), "churn_training")
        assert "build_features" in made
        made.clear()
        # build_features -> utils.cleaning.encode_plan -> utils.constants.PLAN_CODES
        _replace("utils/constants.py", '"enterprise": 2', '"enterprise": 3')(root)
        after_text = scan_json(scan_tree(root, config, cache=store))
        canonicalized = list(made)  # not what the scan from nothing makes
        assert after_text == _fresh(root)
    after = _pipeline(after_text, "churn_training")
    steps = {s["id"]: s for s in before["steps"]}
    changed = {s["function"].rpartition(".")[2] for s in after["steps"]
               if s["fingerprint"] != steps[s["id"]]["fingerprint"]}
    assert "build_features" in changed  # its facts were made again, with the new constant
    assert "build_features" not in canonicalized  # ... from the body kept since the first scan
    assert "split_dataset" in canonicalized  # it names utils.constants.RANDOM_STATE itself


def test_history_with_reuse_is_byte_for_byte_the_history_without(tmp_path: Path) -> None:
    target = tmp_path / "repo"
    history_repo.generate(target, commits=30, pipelines=2, seed=11)
    reused = history_json(walk(target))
    fresh = history_json(walk(target, reuse=False, cache=False))
    assert reused == fresh
    assert reused.count('"decision"') > 20


@pytest.mark.parametrize("fixture", ["dagster_factories", "dagster_locations", "dagster_workspace", "zenml_churn",
                                     "zenml_collection"])
def test_history_of_the_edits_is_the_same_with_and_without_reuse(tmp_path: Path, fixture: str) -> None:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / fixture, root)
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], check=True)
    for number, edit in enumerate([lambda _: None, *EDITS[fixture]]):
        edit(root)
        subprocess.run([*git, "add", "-A"], check=True)
        subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", f"edit {number}"], check=True)
    assert history_json(walk(root)) == history_json(walk(root, reuse=False, cache=False))


def test_memory_cache_reuses_a_unit_only_while_the_packages_of_its_names_stay(tmp_path: Path) -> None:
    """A package no root holds (an orphan) appearing under a name a step used as
    third-party changes what the name is: the unit must run again (near-miss: an orphan
    package of another name leaves it cached)."""
    root = tmp_path / "tree"
    shutil.copytree(FIXTURES / "zenml_churn", root)
    config = Config()
    store = MemoryCache(config)
    with session():
        scan_tree(root, config, cache=store)
        misses = store.misses
        _write("vendor/unrelated_pkg/__init__.py", "X = 1\n")(root)
        scan_tree(root, config, cache=store)
        assert store.misses == misses  # nothing named unrelated_pkg: every unit reused
        _write("vendor/pandas/__init__.py", "def read_csv(path):\n    return path\n")(root)
        assert scan_json(scan_tree(root, config, cache=store)) == _fresh(root)
        assert store.misses > misses


def _pipeline(text: str, name: str) -> dict:
    import json

    return next(p for p in json.loads(text)["pipelines"] if p["name"] == name)


def _pipelines_units_run(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the pipelines units the session runs from now on, in order."""
    ran: list[str] = []
    original = incremental.IncrementalRunner.run

    def run(self, unit, attachments=None):  # type: ignore[no-untyped-def]
        if unit.kind == "pipelines":
            ran.append(unit.path)
        return original(self, unit, attachments)

    monkeypatch.setattr(incremental.IncrementalRunner, "run", run)
    return ran


def test_an_asset_job_depends_on_its_own_code_location_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A job's pipelines unit is reused while nothing of its code location changes (an
    edit to another location's asset, near-miss: it re-runs that location's own job),
    and runs again when an asset it selects changes or an asset joins its group."""
    root = tmp_path / "tree"
    shutil.copytree(FIXTURES / "dagster_locations", root)
    ran = _pipelines_units_run(monkeypatch)
    config = Config()
    store = MemoryCache(config)
    jobs, name = "platform_proj/defs/jobs.py", "platform_ingest"
    with session():
        first = scan_json(scan_tree(root, config, cache=store))
        assert jobs in ran
        before = _pipeline(first, name)
        assert sorted(s["id"] for s in before["steps"]) == ["platform/events", "platform/sessions"]

        ran.clear()  # another location's asset: not this job's
        _replace("sales/assets/orders.py", '"amount": 30.0', '"amount": 31.0')(root)
        after = scan_json(scan_tree(root, config, cache=store))
        assert after == _fresh(root)
        assert "sales/jobs.py" in ran and jobs not in ran
        assert _pipeline(after, name) == before

        ran.clear()  # an asset it selects
        _replace("platform_proj/defs/ingest/events.py", "return [1, 2, 3]", "return [1, 2, 3, 4]")(root)
        after = scan_json(scan_tree(root, config, cache=store))
        assert after == _fresh(root)
        assert jobs in ran and "sales/jobs.py" not in ran
        assert _pipeline(after, name)["fingerprint"] != before["fingerprint"]

        ran.clear()  # a new asset in the group it selects
        _write("platform_proj/defs/ingest/clicks.py",
               'import dagster as dg\n\n\n@dg.asset(group_name="ingest")\ndef clicks():\n    return 2\n')(root)
        after = scan_json(scan_tree(root, config, cache=store))
        assert after == _fresh(root)
        assert jobs in ran
        assert "clicks" in [s["id"] for s in _pipeline(after, name)["steps"]]



#: An asset module's own ``Definitions`` (each module of dagster-open-platform's defs package has one).
_OWN_DEFINITIONS = '\n\n@dg.definitions\ndef defs() -> dg.Definitions:\n    return dg.Definitions(assets=[audit_log])\n'
#: A ``Definitions`` in the package whose list is resolved among every asset of the tree (an
#: external asset's key): the project's location no longer has a record of its own.
_BY_KEY = ('import dagster as dg\n\nraw_clicks = dg.AssetSpec(key=["platform", "raw_clicks"])\n\n\n'
           '@dg.definitions\ndef defs() -> dg.Definitions:\n    return dg.Definitions(assets=[raw_clicks])\n')


@pytest.mark.parametrize("own_definitions", [False, True])
@pytest.mark.parametrize("by_key", [False, True])
def test_an_asset_module_of_a_dg_project_depends_on_the_package_its_location_loads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own_definitions: bool, by_key: bool) -> None:
    """An asset module of a dg project's ``defs`` package needs of its location only that it
    loads the module's assets (and a ``Definitions`` of its own, the assets it lists): an
    edit to another asset module of the location leaves its unit reused, whether or not
    the location's record stands on its own. Near-miss: an edit to the module that makes
    the location (it no longer loads the folder) runs it again."""
    root = tmp_path / "tree"
    shutil.copytree(FIXTURES / "dagster_locations", root)
    audit = "platform_proj/defs/ingest/audit.py"
    _write(audit, 'import dagster as dg\n\n\n@dg.asset(group_name="audit")\ndef audit_log():\n    return 1\n'
           + (_OWN_DEFINITIONS if own_definitions else ""))(root)
    if by_key:
        _write("platform_proj/defs/raw.py", _BY_KEY)(root)
    ran = _pipelines_units_run(monkeypatch)
    config = Config()
    store = MemoryCache(config)
    module = "platform_proj.defs.ingest.audit"
    with session():
        first = scan_json(scan_tree(root, config, cache=store))
        assert audit in ran
        assert (module in [p["name"] for p in json.loads(first)["pipelines"]]) is own_definitions

        ran.clear()  # another asset module of the same location
        _replace("platform_proj/defs/ingest/events.py", "return [1, 2, 3]", "return [1, 2, 3, 4]")(root)
        assert scan_json(scan_tree(root, config, cache=store)) == _fresh(root)
        assert "platform_proj/defs/jobs.py" in ran and "platform_proj/defs/ingest/events.py" in ran
        assert audit not in ran

        ran.clear()  # the location no longer loads the defs folder
        _replace("platform_proj/definitions.py", "return dg.load_from_defs_folder(path_within_project=Path(__file__).parent.parent)",
                 "return dg.Definitions(assets=[])")(root)
        after = scan_json(scan_tree(root, config, cache=store))
        assert after == _fresh(root)
        assert audit in ran
        assert module in [p["name"] for p in json.loads(after)["pipelines"]]  # its assets: a pipeline of their own


def test_a_package_added_to_a_workspace_leaves_the_other_units_cached(tmp_path: Path) -> None:
    """A new member of a uv workspace adds a source root. The roots only name modules,
    so the units that do not name the new package are reused (every unit ran again:
    783 of 40 commits' 1,494 unit runs on mortenoh/prefect-examples). Near-miss: a flow
    that imported the package's name while no root held it (third-party) runs again,
    and reads its helper now; every scan equals one from nothing."""
    root = tmp_path / "tree"
    shutil.copytree(FIXTURES / "prefect_etl", root)
    _write("pyproject.toml", "[project]\nname = 'etl'\n\n[tool.uv.workspace]\nmembers = ['packages/*']\n")(root)
    _replace("tasks/transform.py", "import prefect as pf\n", "import prefect as pf\nfrom geo_codes import region as geo\n")(root)
    _replace("tasks/transform.py", "if row[\"region\"] == region", "if geo(row[\"region\"]) == region")(root)
    config = Config()
    store = MemoryCache(config)
    with session():
        first = scan_json(scan_tree(root, config, cache=store))
        assert first == _fresh(root)
        runs = store.misses
        assert runs > 2
        _write("packages/billing/pyproject.toml", "[project]\nname = 'billing'\n")(root)  # nothing imports it
        _write("packages/billing/src/billing/__init__.py", "RATE = 0.2\n")(root)
        assert scan_json(scan_tree(root, config, cache=store)) == _fresh(root)
        assert store.misses == runs  # no unit names billing: all reused

        _write("packages/geo/pyproject.toml", "[project]\nname = 'geo-codes'\n")(root)  # a name a task imports
        _write("packages/geo/src/geo_codes/__init__.py", "def region(code):\n    return code[:2]\n")(root)
        after = scan_json(scan_tree(root, config, cache=store))
        assert after == _fresh(root)
        assert store.misses > runs
        name = "daily-orders-etl"  # the helper is project code now: part of the fingerprint
        assert _pipeline(after, name)["fingerprint"] != _pipeline(first, name)["fingerprint"]


def test_source_trees_trust_equal_content_ids_and_read_the_rest(tmp_path: Path) -> None:
    from pvcheck.policies.sources import SourceTree

    old, new = tmp_path / "old", tmp_path / "new"
    for folder, text in ((old, "x = 1\n"), (new, "x = 2\n")):
        folder.mkdir()
        (folder / "a.py").write_text(text)
        (folder / "b.py").write_bytes(b"y = 1\n" if folder is old else b"y = 1\r\n")
    assert SourceTree(old, {"a.py": "1"}).same_text("a.py", SourceTree(new, {"a.py": "1"}))  # not read
    assert not SourceTree(old, {"a.py": "1"}).same_text("a.py", SourceTree(new, {"a.py": "2"}))
    assert not SourceTree(old).same_text("a.py", SourceTree(new))
    assert SourceTree(old, {"b.py": "1"}).same_text("b.py", SourceTree(new, {"b.py": "2"}))  # other ids, same text
    assert SourceTree(old, {}).same_text("b.py", SourceTree(new, {}))


def test_history_reports_the_same_with_and_without_content_ids(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Blob ids only spare reading unchanged files: the comparisons are the same without them."""
    from pvcheck import policies

    target = tmp_path / "repo"
    history_repo.generate(target, commits=25, pipelines=2, seed=5)
    with_ids = history_json(walk(target))
    original = policies.compare
    monkeypatch.setattr(policies, "compare", lambda base, head, config=None, **_: original(base, head, config))
    assert history_json(walk(target)) == with_ids
