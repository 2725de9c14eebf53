"""A step's reach beyond definitions: module-level effects and repository files read.

The change cases ``fixtures/changes/reach_*`` show the decisions; these tests pin what
counts as an effect, how read paths resolve, the PV022 diagnostics, and that the
analysis cache and ``code_version`` notice an edited data file.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from pvcheck.analyzer import scan_tree
from pvcheck.analyzer.cache import AnalysisCache
from pvcheck.analyzer.functions import TreeFunctions
from pvcheck.config import Config
from pvcheck.model import Project, Step

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "changes"

PIPELINE = '''\
from zenml import pipeline

from steps.work import produce


@pipeline
def reach_pipeline():
    produce()
'''


def _project(root: Path, steps: str, **files: str) -> Path:
    """A small ZenML project: ``steps/work.py`` defines step ``produce``; ``files`` are extra
    files by path (``utils/x.py`` as ``utils__x_dot_py``)."""
    tree = {"pipelines/flow.py": PIPELINE, "steps/__init__.py": "", "steps/work.py": textwrap.dedent(steps),
            "utils/__init__.py": ""}
    tree.update({k.replace("__", "/").replace("_dot_", "."): textwrap.dedent(v) for k, v in files.items()})
    for path, text in tree.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    return root


def _step(project: Project) -> Step:
    [pipeline] = project.pipelines
    return pipeline.step("produce")


def _reach(project: Project, kind: str) -> list[str]:
    return [h.name for h in _step(project).helpers if h.kind == kind]


STEP_USING_HELPER = '''\
from zenml import step

from utils.helper import compute


@step
def produce() -> int:
    return compute()
'''


@pytest.mark.parametrize("statement, effect", [
    ("np.random.seed(42)", True),
    ("torch.manual_seed(0)", True),
    ('pd.set_option("display.width", 200)', True),
    ('CONFIG["lr"] = 0.1', True),
    ('CONFIG.update(lr=0.1)', True),
    ("Holder.value = 3", True),
    ("holder = Holder()", True),  # a repo-local class instantiated at import time
    ("for key in list(CONFIG):\n    CONFIG[key] = 0", True),
    ("MODEL = build()", True),  # a repo-local function runs at import time
    ("@register\ndef plugin():\n    return 1", True),
    ("assert CONFIG", True),
    ("del CONFIG['lr']", True),
    ("try:\n    import torch\nexcept ImportError:\n    torch = None", False),
    ("try:\n    import torch\nexcept ImportError:\n    CONFIG['lr'] = 0", True),
    ('print("loaded", CONFIG)', False),
    ('logging.basicConfig(level=logging.INFO)', False),
    ('"""a docstring"""', False),
    ("LIMIT = 10", False),
    ("LIMIT: int = int('10')", False),
    ("import json", False),
    ("def unused():\n    return 2", False),
    ('if __name__ == "__main__":\n    np.random.seed(1)', False),
])
def test_what_is_a_module_level_effect(tmp_path: Path, statement: str, effect: bool) -> None:
    helper = '''\
        import logging

        import numpy as np
        import pandas as pd
        import torch

        CONFIG = {"lr": 0.01}


        class Holder:
            value = 1


        def register(function):
            return function


        def build():
            return 1


        def compute() -> float:
            return CONFIG["lr"]
        '''
    project = scan_tree(_project(tmp_path, STEP_USING_HELPER,
                                 utils__helper_dot_py=textwrap.dedent(helper) + "\n\n" + statement + "\n"))
    effects = _reach(project, "effects")
    assert bool(effects) is effect, effects
    assert not [d for d in project.diagnostics if d.code != "PV022"]


def test_effects_of_every_module_of_the_reach_count_and_others_do_not(tmp_path: Path) -> None:
    root = _project(tmp_path, STEP_USING_HELPER,
                    utils__helper_dot_py="from utils.deep import scale\n\n\ndef compute():\n    return scale(2)\n",
                    utils__deep_dot_py="import random\n\nrandom.seed(3)\n\n\ndef scale(x):\n    return x * 2\n",
                    utils__other_dot_py="import random\n\nrandom.seed(4)\n")
    assert _reach(scan_tree(root), "effects") == ["utils.deep.<effects>#000"]
    before = _step(scan_tree(root)).fingerprint
    (root / "utils" / "other.py").write_text("import random\n\nrandom.seed(5)\n", encoding="utf-8")
    assert _step(scan_tree(root)).fingerprint == before  # not in the reach
    (root / "utils" / "deep.py").write_text("import random\n\nrandom.seed(4)\n\n\ndef scale(x):\n    return x * 2\n",
                                           encoding="utf-8")
    assert _step(scan_tree(root)).fingerprint != before


READER = '''\
import json
import os
from pathlib import Path

import pandas as pd
import yaml
from zenml import step

from utils.paths import SCHEMA

HERE = Path(__file__).parent


@step
def produce(extra: str = "x.csv") -> int:
    query = (HERE / "sql" / "q.sql").read_text()
    schema = json.load(open(SCHEMA))
    frame = pd.read_csv(os.path.join(os.path.dirname(__file__), "..", "data", "rows.csv"))
    settings = yaml.safe_load(open("configs/settings.yaml"))
    remote = pd.read_parquet(f"s3://bucket/{extra}")
    with open("out/result.txt", "w") as handle:
        handle.write(query)
    return len(frame) + len(schema) + len(settings) + len(remote)
'''


def test_files_read_by_computable_paths(tmp_path: Path) -> None:
    root = _project(tmp_path, READER, utils__paths_dot_py="from pathlib import Path\n\n"
                    "SCHEMA = Path(__file__).parent.parent / \"schemas\" / \"s.json\"\n",
                    steps__sql__q_dot_sql="SELECT 1;\n", schemas__s_dot_json="{}\n", data__rows_dot_csv="a\n1\n",
                    configs__settings_dot_yaml="a: 1\n")
    project = scan_tree(root)
    # relative to the module's folder when built from __file__, else to the scanned root;
    # a URL is no repository file, and a file opened for writing is not read
    assert _reach(project, "file") == ["file:configs/settings.yaml", "file:data/rows.csv", "file:schemas/s.json",
                                       "file:steps/sql/q.sql"]
    assert not project.diagnostics
    before = _step(project).fingerprint
    for path in ("steps/sql/q.sql", "schemas/s.json", "data/rows.csv", "configs/settings.yaml"):
        (root / path).write_text((root / path).read_text() + "-- edited\n", encoding="utf-8")
        after = _step(scan_tree(root)).fingerprint
        assert after != before, path
        before = after
    (root / "out").mkdir()
    (root / "out" / "result.txt").write_text("written by the step", encoding="utf-8")
    assert _step(scan_tree(root)).fingerprint == before


def test_a_path_that_cannot_be_computed_or_lies_outside_is_a_diagnostic(tmp_path: Path) -> None:
    steps = '''\
    from pathlib import Path

    import pandas as pd
    from zenml import step


    @step
    def produce(name: str = "daily", path: str = "data.csv") -> int:
        query = open(f"queries/{name}.sql").read()
        notes = Path("/etc/hostname").read_text()
        frame = pd.read_csv(path)  # data handed in, like any input: no diagnostic
        return len(query) + len(notes) + len(frame)
    '''
    project = scan_tree(_project(tmp_path, steps))
    found = sorted((d.code, d.path, d.line) for d in project.diagnostics)
    assert found == [("PV022", "steps/work.py", 9), ("PV022", "steps/work.py", 10)]
    messages = " ".join(d.message for d in project.diagnostics)
    assert "step 'produce'" in messages and "open(...)" in messages and "/etc/hostname" in messages


def test_a_missing_file_is_fingerprinted_as_absent(tmp_path: Path) -> None:
    steps = '''\
    from zenml import step


    @step
    def produce() -> int:
        return len(open("data/later.txt").read())
    '''
    root = _project(tmp_path, steps)
    before = scan_tree(root)
    assert _reach(before, "file") == ["file:data/later.txt"] and not before.diagnostics
    (root / "data").mkdir()
    (root / "data" / "later.txt").write_text("now here\n", encoding="utf-8")
    assert _step(scan_tree(root)).fingerprint != _step(before).fingerprint


def test_fingerprints_do_not_depend_on_where_the_tree_is(tmp_path: Path) -> None:
    first = shutil.copytree(CASES / "reach_sql_changed" / "before", tmp_path / "a")
    second = shutil.copytree(CASES / "reach_sql_changed" / "before", tmp_path / "deeper" / "b")
    assert [p.fingerprint for p in scan_tree(first).pipelines] == [p.fingerprint for p in scan_tree(second).pipelines]


def test_the_cache_is_invalidated_when_a_read_file_changes(tmp_path: Path) -> None:
    root = shutil.copytree(CASES / "reach_sql_changed" / "before", tmp_path / "project")
    cache = tmp_path / "cache"
    cold = scan_tree(root, cache=AnalysisCache(cache, Config()))
    warm_store = AnalysisCache(cache, Config())
    assert scan_tree(root, cache=warm_store).pipelines == cold.pipelines
    assert warm_store.scan_hits == 1
    # a file nothing reads: the whole-scan snapshot still holds
    (root / "queries" / "unused.sql").write_text("SELECT 3;\n", encoding="utf-8")
    unrelated = AnalysisCache(cache, Config())
    assert scan_tree(root, cache=unrelated).pipelines == cold.pipelines and unrelated.scan_hits == 1
    # the file a step reads: neither the snapshot nor the unit that read it may be reused
    sql = root / "queries" / "features.sql"
    sql.write_text(sql.read_text(encoding="utf-8").replace(">= 30", ">= 90"), encoding="utf-8")
    store = AnalysisCache(cache, Config())
    cached = scan_tree(root, cache=store)
    assert store.scan_hits == 0 and store.misses >= 1
    fresh = scan_tree(root)
    assert cached.pipelines == fresh.pipelines
    assert cached.pipelines[0].fingerprint != cold.pipelines[0].fingerprint


def test_code_version_notices_an_edited_data_file(tmp_path: Path) -> None:
    root = shutil.copytree(CASES / "reach_sql_changed" / "before", tmp_path / "project")
    functions = TreeFunctions(root)
    printed = functions.function("steps.ingest", "load_features")
    assert "file:queries/features.sql" in [h.name for h in printed.helpers]
    assert functions.unchanged()
    (root / "queries" / "features.sql").write_text("SELECT 1;\n", encoding="utf-8")
    assert not functions.unchanged()
    assert TreeFunctions(root).function("steps.ingest", "load_features").fingerprint != printed.fingerprint


def test_scan_coverage_lists_the_files_the_reach_reads() -> None:
    from pvcheck.analyzer import scan_tree

    root = Path(__file__).resolve().parent.parent / "fixtures" / "changes" / "reach_sql_changed" / "after"
    [pipeline] = scan_tree(root).pipelines
    assert pipeline.coverage["files_read"] == ["queries/features.sql", "schemas/features.json"]
    unread = Path(__file__).resolve().parent.parent / "fixtures" / "changes" / "reach_unread_file_changed" / "after"
    assert all("README.md" not in p.coverage["files_read"] for p in scan_tree(unread).pipelines)


PASSER = '''\
import os

from omegaconf import OmegaConf
from transformers import AutoTokenizer
from zenml import step

from utils.io import load_lookup

LOOKUP = "data/lookup.json"


@step
def produce() -> int:
    lookup = load_lookup(LOOKUP)
    settings = OmegaConf.load("configs/model.yaml")
    tokenizer = AutoTokenizer.from_pretrained("org/tokenizer-small", revision="main")
    text = open("notes/readme.txt", encoding="utf-8").read().encode("utf-8")
    if os.path.exists("reports/last.csv"):
        os.remove("reports/last.csv")
    with open("reports/out.txt", "w") as handle:
        handle.write(str(settings))
    return len(lookup) + len(tokenizer.vocab) + len(text)
'''


def _passer(root: Path) -> Path:
    return _project(root, PASSER,
                    utils__io_dot_py="import json\n\n\ndef load_lookup(path):\n"
                                     "    with open(path) as handle:\n        return json.load(handle)\n",
                    data__lookup_dot_json="{}\n", configs__model_dot_yaml="C: 1\n", notes__readme_dot_txt="hi\n",
                    reports__last_dot_csv="a\n", reports__out_dot_txt="old\n")


def test_a_repository_file_passed_to_any_call_is_read(tmp_path: Path) -> None:
    """A path handed to a repo helper that reads its parameter, or to a library loader
    pvcheck does not list, names a file the step depends on (a missed version before)."""
    root = _passer(tmp_path)
    project = scan_tree(root)
    assert _reach(project, "file") == ["file:configs/model.yaml", "file:data/lookup.json", "file:notes/readme.txt"]
    assert not project.diagnostics
    before = _step(project).fingerprint
    for path in ("data/lookup.json", "configs/model.yaml"):
        (root / path).write_text((root / path).read_text() + "# edited\n", encoding="utf-8")
        after = _step(scan_tree(root)).fingerprint
        assert after != before, path
        before = after


def test_near_misses_of_passed_paths_read_nothing(tmp_path: Path) -> None:
    """A file only checked, removed or written, a string that names no file of the tree
    (a model id, an encoding) and a write-mode open: none of them is a read."""
    root = _passer(tmp_path)
    before = _step(scan_tree(root)).fingerprint
    for path in ("reports/last.csv", "reports/out.txt"):
        (root / path).write_text("edited\n", encoding="utf-8")
    assert _step(scan_tree(root)).fingerprint == before


def test_a_passed_path_that_names_no_file_yet_is_watched_by_the_cache(tmp_path: Path) -> None:
    """No file there: nothing is fingerprinted, but the path is a dependency of the cached
    result, so a file that appears there later is read (and its edits are versions)."""
    root = _passer(tmp_path)
    (root / "configs" / "model.yaml").unlink()
    cache = tmp_path / "cache"
    cold = scan_tree(root, cache=AnalysisCache(cache, Config()))
    assert "file:configs/model.yaml" not in _reach(cold, "file")
    (root / "configs" / "model.yaml").write_text("C: 2\n", encoding="utf-8")
    warm = scan_tree(root, cache=AnalysisCache(cache, Config()))
    assert "file:configs/model.yaml" in _reach(warm, "file")
    assert _step(warm).fingerprint != _step(cold).fingerprint
    assert warm.pipelines == scan_tree(root).pipelines


UPLOADER = '''\
from huggingface_hub import HfApi
from zenml import step

from utils.hub import upload_all

SHIPPED = ["app/serve.py", "app/requirements.txt"]


@step(enable_cache=False)
def produce() -> int:
    api = HfApi()
    files = {"app/main.py": "main.py", "app/README.md": "README.md"}
    upload_all(api, files)
    upload_all(api, {name: name for name in SHIPPED})
    api.upload_folder(folder_path="app", repo_id="org/space")
    for name in SHIPPED:
        api.upload_file(path_or_fileobj=name, path_in_repo=name, repo_id="org/space")
    return len(files)
'''


def test_paths_in_a_container_passed_to_a_call_are_read(tmp_path: Path) -> None:
    """A dict or list of repository files handed to an uploader (a repo helper that loops
    over it, or a loop over a constant list): each file is read; the folder is not."""
    root = _project(tmp_path, UPLOADER,
                    utils__hub_dot_py="def upload_all(api, files):\n    for local, remote in files.items():\n"
                                      "        api.upload_file(path_or_fileobj=local, path_in_repo=remote)\n",
                    app__main_dot_py="print('hi')\n", app__README_dot_md="# app\n", app__serve_dot_py="x = 1\n",
                    app__requirements_dot_txt="gradio\n")
    project = scan_tree(root)
    assert _reach(project, "file") == ["file:app/README.md", "file:app/main.py", "file:app/requirements.txt",
                                       "file:app/serve.py"]
    before = _step(project).fingerprint
    for path in ("app/main.py", "app/serve.py"):
        (root / path).write_text("print('hello')\n", encoding="utf-8")
        after = _step(scan_tree(root)).fingerprint
        assert after != before, path
        before = after


LOCATOR = '''\
from dagster import file_relative_path
from zenml import step

from utils.sql import run_sql


@step
def produce() -> int:
    query = open(file_relative_path(__file__, "sql/merge.sql"), encoding="utf-8").read()
    return run_sql(query, file_relative_path(__file__, "sql/cleanup.sql"))
'''


def test_a_module_locating_files_by_its_own_path_does_not_read_itself(tmp_path: Path) -> None:
    """``file_relative_path(__file__, "q.sql")`` is a path built next to the module: the
    SQL file is read, the module's own file is not (a comment there stays cosmetic)."""
    root = _project(tmp_path, LOCATOR, utils__sql_dot_py="def run_sql(query, after):\n    return len(query)\n",
                    steps__sql__merge_dot_sql="MERGE 1;\n", steps__sql__cleanup_dot_sql="DELETE 1;\n")
    project = scan_tree(root)
    assert _reach(project, "file") == ["file:steps/sql/cleanup.sql", "file:steps/sql/merge.sql"]
    before = _step(project).fingerprint
    work = root / "steps" / "work.py"
    work.write_text(work.read_text(encoding="utf-8") + "# a comment\n", encoding="utf-8")
    assert _step(scan_tree(root)).fingerprint == before


RUNNER = '''\
import os
import subprocess

from zenml import step

TRAINER = "scripts/train.py"


@step
def produce(epochs: int = 3) -> int:
    subprocess.run(f"python {TRAINER} --epochs {epochs}", shell=True, check=True)
    subprocess.run(["bash", "scripts/prepare.sh", "--fast"], check=True)
    os.system("python scripts/report.py > reports/out.txt")
    print("python scripts/unused.py is not run here")
    return epochs
'''


def test_scripts_a_step_runs_by_command_line_are_read(tmp_path: Path) -> None:
    """Each word of a command line a step runs (subprocess, os.system) that names a file of
    the tree is read: the script is the step's code. A sentence printed is no command."""
    root = _project(tmp_path, RUNNER, scripts__train_dot_py="print('train')\n",
                    scripts__prepare_dot_sh="echo prep\n", scripts__report_dot_py="print('r')\n",
                    scripts__unused_dot_py="print('u')\n", reports__out_dot_txt="old\n")
    project = scan_tree(root)
    assert _reach(project, "file") == ["file:scripts/prepare.sh", "file:scripts/report.py",
                                       "file:scripts/train.py"]
    before = _step(project).fingerprint
    (root / "scripts" / "train.py").write_text("print('train harder')\n", encoding="utf-8")
    after = _step(scan_tree(root)).fingerprint
    assert after != before
    (root / "scripts" / "unused.py").write_text("print('changed')\n", encoding="utf-8")
    assert _step(scan_tree(root)).fingerprint == after
