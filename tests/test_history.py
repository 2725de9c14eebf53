"""``pvcheck history``: replayed decisions and versions, churn, formats, the SVG timeline."""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pvcheck.cli import main
from pvcheck.history import walk
from pvcheck.output.history_report import churn_line, history_json, history_markdown, history_text
from pvcheck.output.progress import Progress
from pvcheck.output.timeline_svg import LINEAGE, RAW, RUN, VERSION, timeline_svg

REPO = Path(__file__).resolve().parent.parent

_spec = importlib.util.spec_from_file_location("history_repo", REPO / "benchmarks" / "history_repo.py")
history_repo = importlib.util.module_from_spec(_spec)
sys.modules["history_repo"] = history_repo  # dataclasses look their module up there
_spec.loader.exec_module(history_repo)  # type: ignore[union-attr]

#: every kind of edit once, a pipeline rewritten, and a body change after the rewrite
SCRIPT = ["comment", "body", "docs", "print", "config", "helper", "rename_local", "reformat", "default",
          "add_step", "remove_step", "replace", "body"]


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    target = tmp_path_factory.mktemp("history") / "repo"
    expected = history_repo.generate(target, pipelines=2, seed=3, script=SCRIPT)
    return target, expected, walk(target)


def test_every_commit_gets_the_expected_decision_and_version(scripted):
    _, expected, history = scripted
    got = {entry.index: {e.pipeline: e for e in entry.events} for entry in history.entries}
    for commit in expected["commits"]:
        events = got.get(commit["index"], {})
        for name, want in commit["pipelines"].items():
            event = events.get(name)
            assert event is not None, (commit, "no event")
            assert (event.decision.value, event.lineage, event.version) == \
                (want["decision"], want["lineage"], want["version"]), (commit, event)
        for name, event in events.items():
            # other pipelines may show up (a shared file changed) but only as runs
            if name not in commit["pipelines"]:
                assert event.decision.value == "run" and not event.new_version, (commit, event)


def test_summary_counts_versions_lineages_and_raw_source_churn(scripted):
    _, expected, history = scripted
    summaries = {s.name: s for s in history.summaries}
    assert set(summaries) == set(expected["final"])
    for name, final in expected["final"].items():
        s = summaries[name]
        assert s.versions == final["versions_made"], name
        assert s.raw_versions == final["raw_versions"], name
        assert s.lineages == final["lineage"], name
        wanted = f"v{final['version']}" if final["lineage"] == 1 else f"L{final['lineage']} v{final['version']}"
        assert s.final == wanted
    total_raw = sum(s.raw_versions for s in history.summaries)
    total = sum(s.versions for s in history.summaries)
    assert total_raw > total  # the point of the exercise: raw hashing over-versions


def test_commits_that_change_no_analyzed_file_are_not_analyzed(scripted):
    _, expected, history = scripted
    docs = [c["index"] for c in expected["commits"] if c["kind"] == "docs"]
    assert docs and all(entry.index not in docs for entry in history.entries)
    assert history.commits_walked == len(SCRIPT) + 1
    # each distinct set of sources is analyzed once: a step added then removed again is a revert
    assert history.commits_analyzed == len({c["sources"] for c in expected["commits"]}) < history.commits_walked


def test_text_json_markdown(scripted):
    _, _, history = scripted
    text = history_text(history)
    assert text.splitlines()[0].split() == ["commit", "pipeline", "decision", "version", "raw-source", "why"]
    assert churn_line(history) in text
    assert "pipeline  " in text and "raw-source versions" in text
    data = json.loads(history_json(history))
    assert data["schema"] == "pvcheck.history/1"
    assert data["commits_walked"] == len(SCRIPT) + 1
    assert {s["pipeline"] for s in data["summary"]} == {s.name for s in history.summaries}
    assert all({"commit", "pipelines"} <= set(c) for c in data["commits"])
    markdown = history_markdown(history)
    assert markdown.startswith("## pvcheck history")
    assert "| pipeline | commits | runs | versions (pvcheck) |" in markdown
    assert markdown.count("\n| `") >= len(history.summaries) + sum(len(e.events) for e in history.entries)


def test_svg_timeline_marks_runs_versions_and_lineages(scripted):
    _, _, history = scripted
    svg = timeline_svg(history)
    root = ET.fromstring(svg)  # well-formed XML
    ns = {"s": "http://www.w3.org/2000/svg"}
    circles = root.findall(".//s:circle", ns)
    diamonds = [p for p in root.findall(".//s:polygon", ns) if p.get("fill") == LINEAGE]
    raw_ticks = [r for r in root.findall(".//s:rect", ns) if r.get("fill") == RAW]
    events = [e for entry in history.entries for e in entry.events]
    legend = 1  # each kind of mark appears once in the legend
    assert len(diamonds) - legend == sum(1 for e in events if e.new_version and e.version == 1)
    assert sum(1 for c in circles if c.get("fill") == VERSION) - legend == \
        sum(1 for e in events if e.new_version and e.version != 1)
    assert sum(1 for c in circles if c.get("fill") == RUN) - legend == sum(1 for e in events if not e.new_version)
    assert len(raw_ticks) - legend == sum(1 for e in events if e.raw_changed)
    texts = "".join(root.itertext())
    for summary in history.summaries:
        assert summary.name in texts


# ------------------------------------------------------------------ small hand-made repositories


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def _commit(repo: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", message)
    return _git(repo, "rev-parse", "HEAD").strip()


STEPS_V1 = """
from zenml import step

@step
def load() -> int:
    return 1

@step
def train(x: int) -> int:
    return x + 1
"""
PIPE = """
from zenml import pipeline
from steps import load, train

@pipeline(name="demo")
def demo():
    train(load())
"""


@pytest.fixture
def small_repo(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    project = repo / "proj"
    first = _commit(repo, {"proj/steps.py": STEPS_V1, "proj/pipe.py": PIPE}, "first")
    _commit(repo, {"proj/steps.py": STEPS_V1.replace("x + 1", "x + 2")}, "body")
    _commit(repo, {"proj/steps.py": STEPS_V1}, "revert")
    _commit(repo, {"README.md": "docs\n"}, "docs outside the project")
    return repo, project, first


def test_reverted_tree_reuses_the_model_and_subfolder_paths(small_repo):
    _, project, _ = small_repo
    history = walk(project)
    assert history.commits_walked == 4
    assert history.commits_analyzed == 2  # first and body; the revert is the first tree again
    labels = [(entry.events[0].decision.value, entry.events[0].label) for entry in history.entries]
    assert labels == [("pipeline", "v1"), ("version", "v2"), ("version", "v1")]  # the revert: back to v1
    assert history.summaries[0].raw_versions == 2  # the raw text came back to a hash seen before
    assert "steps.py" in history.entries[1].events[0].reason  # project-relative, not proj/steps.py


def test_cli_history_since_pipeline_and_formats(small_repo, capsys, tmp_path):
    _, project, first = small_repo
    assert main(["history", "--repo", str(project), "--since", "HEAD~2", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.splitlines()[1].split()[1:4] == ["demo", "pipeline", "v1"]  # starts fresh at --since
    assert "pvcheck made 2 versions where raw-source hashing made 2, over 3 commits" in out
    svg = tmp_path / "t.svg"
    assert main(["history", "--repo", str(project), "--format", "svg", "-o", str(svg), "--quiet"]) == 0
    assert ET.parse(svg).getroot().tag.endswith("svg")
    assert main(["history", "--repo", str(project), "--pipeline", "demo", "--format", "json", "--quiet"]) == 0
    assert [s["pipeline"] for s in json.loads(capsys.readouterr().out)["summary"]] == ["demo"]


def test_cli_history_errors_are_one_line(small_repo, capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("PVCHECK_DEBUG", raising=False)
    _, project, _ = small_repo
    assert main(["history", "--repo", str(project), "--pipeline", "nope", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no pipeline named 'nope'" in err
    plain = tmp_path / "plain"
    plain.mkdir()
    assert main(["history", "--repo", str(plain), "--quiet"]) == 2
    assert "not a git repository" in capsys.readouterr().err
    assert main(["history", "--repo", str(project), "--since", "no-such-rev", "--quiet"]) == 2
    assert "unknown git revision" in capsys.readouterr().err
    assert main(["history", "--repo", str(project), "--quiet", "-o", str(tmp_path / "no" / "such" / "t.txt")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write" in err


# ------------------------------------------------------------------ progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal_and_not_when_quiet():
    terminal = _Terminal()
    with Progress(3, "history", stream=terminal, interval=0) as progress:
        for commit in ("a", "b", "c"):
            progress.advance(commit)
    text = terminal.getvalue()
    assert "\rhistory: 3/3 (100%) c" in text and text.endswith("\r")  # drawn, then erased
    quiet = _Terminal()
    with Progress(3, "history", stream=quiet, quiet=True, interval=0) as progress:
        progress.advance()
    assert quiet.getvalue() == ""
    piped = io.StringIO()
    with Progress(3, "history", stream=piped, interval=0) as progress:
        progress.advance()
    assert piped.getvalue() == ""


def test_the_why_column_is_a_finding_never_the_commit_subject_alone() -> None:
    from pvcheck.history import PipelineEvent
    from pvcheck.model import Decision, Status
    from pvcheck.output.history_report import _why

    version = PipelineEvent("p", Status.MODIFIED, Decision.VERSION, 1, 2, True, True,
                            reason="step train body changed at steps/train.py:4")
    assert _why(version, "tidy up") == "step train body changed at steps/train.py:4"
    removed = PipelineEvent("p", Status.REMOVED, None, 1, None, False, True)
    assert _why(removed, "tidy up") == "no longer in the code"
    untouched = PipelineEvent("p", Status.UNCHANGED, Decision.RUN, 1, 2, False, False)
    assert _why(untouched, "tidy up").startswith("nothing in its reach changed")


def test_files_read_by_path_and_pins_are_part_of_the_replayed_history(tmp_path):
    """A commit that changes only a file a step reads (a SQL query), a pinned requirement or
    a component spec is a new version in history as in `pvcheck diff`; one that changes
    only a file nothing reads (docs) is not analysed at all."""
    import shutil

    from tests.conftest import FIXTURES
    from tests.gitrepo import Repo

    repo = Repo(tmp_path / "repo")
    shutil.copytree(FIXTURES / "kfp_vertex", repo.root, dirs_exist_ok=True)
    repo.write("components/query.py", textwrap.dedent("""
        from pathlib import Path

        from kfp import dsl

        @dsl.component
        def extract(table: str) -> str:
            return (Path(__file__).parent / "extract.sql").read_text().format(table=table)
        """))
    repo.write("components/extract.sql", "select * from {table}\n")
    repo.replace("pipelines/retrain.py", "    checked = validate(table=table)\n",
                 "    checked = validate(table=table)\n    extract(table=table)\n")
    repo.replace("pipelines/retrain.py", "from components.features", "from components.query import extract\n"
                 "from components.features")
    repo.commit("initial")
    repo.replace("components/extract.sql", "select *", "select customer_id, tenure_months")
    repo.commit("narrower query")
    repo.replace("requirements.txt", "components==2.17.0", "components==2.18.0")
    repo.commit("prebuilt components 2.18")
    repo.replace("README.md", "A small", "A tiny")
    repo.commit("docs")
    history = walk(repo.root)
    events = [(entry.subject, [(e.decision.value, e.version) for e in entry.events]) for entry in history.entries]
    assert events == [("initial", [("pipeline", 1)]), ("narrower query", [("version", 2)]),
                      ("prebuilt components 2.18", [("version", 3)])]
    assert (history.commits_walked, history.commits_analyzed) == (4, 3)


def test_pipelines_sharing_a_name_keep_a_row_each(tmp_path):
    """A collection of projects, each with its own ``training_pipeline``: one row per
    pipeline (named with its file while the name is shared), each with its own versions;
    the row a pipeline had before another took its name goes on."""
    import shutil

    from tests.conftest import FIXTURES
    from tests.gitrepo import Repo

    repo = Repo(tmp_path / "repo")
    shutil.copytree(FIXTURES / "zenml_collection", repo.root, dirs_exist_ok=True)
    fraud = repo.root / "fraud_detection"
    held = tmp_path / "fraud_detection"
    shutil.move(str(fraud), str(held))
    repo.replace("churn-forecast/pipelines/training.py", "def churn_training(", "def training_pipeline(")
    repo.commit("churn project")
    shutil.move(str(held), str(fraud))
    repo.replace("fraud_detection/pipelines/training.py", "def fraud_training(", "def training_pipeline(")
    repo.commit("fraud project, same pipeline name")
    repo.replace("churn-forecast/utils/features.py", 'select_dtypes("number")', 'select_dtypes("float")')
    repo.commit("churn helper")
    repo.replace("fraud_detection/utils/features.py", '"amount_7d"', '"amount_30d"')
    repo.commit("fraud helper")

    history = walk(repo.root)
    churn, fraud_row = "training_pipeline [churn-forecast/pipelines/training.py]", \
        "training_pipeline [fraud_detection/pipelines/training.py]"
    summaries = {s.name: s for s in history.summaries}
    assert set(summaries) == {churn, fraud_row}
    # the churn row began before the name was shared: all four commits are its (the later
    # ones through the name-collision finding), the fraud row's the last three
    assert (summaries[churn].versions, summaries[churn].commits) == (2, 4)
    assert (summaries[fraud_row].versions, summaries[fraud_row].commits) == (2, 3)
    events = [[(e.pipeline, e.label) for e in entry.events if e.new_version] for entry in history.entries]
    # each event under the row's name at the time: the churn pipeline's first alone
    assert events == [[("training_pipeline", "v1")], [(fraud_row, "v1")], [(churn, "v2")], [(fraud_row, "v2")]]
    # --pipeline NAME selects every pipeline of that name
    assert {s.name for s in walk(repo.root, pipeline="training_pipeline").summaries} == {churn, fraud_row}
