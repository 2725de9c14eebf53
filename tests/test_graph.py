"""``pvcheck graph``, the Mermaid and DOT renderers, and how changed steps are classified."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pvcheck.cli import main
from pvcheck.model import Decision, Edge, Finding, Pipeline, PipelineChange, Status, Step
from pvcheck.output.dot import dot, pipeline_dot, quote
from pvcheck.output.mermaid import escape, mermaid, pipeline_mermaid
from pvcheck.output.step_graph import StepStatus, change_graph, plain_graph

from tests.mermaid_grammar import MermaidSyntaxError, check

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
EXAMPLE = REPO / "docs" / "examples" / "churn_pr"


def only_pipeline(project, name: str) -> Pipeline:
    (pipeline,) = [p for p in project.pipelines if p.name == name]
    return pipeline


def _pipeline(step_ids: list[str], edges: list[tuple[str, str, str]] = (), name: str = "p") -> Pipeline:
    steps = tuple(Step(id=s, function=f"pkg.steps.{s}", name=s, path="steps.py", line=1,
                       body_fingerprint=f"fp1:{s}", fingerprint=f"fp1:{s}") for s in step_ids)
    edge_objects = tuple(Edge(a, b, kind, "out" if kind == "data" else None, "inp" if kind == "data" else None)
                         for a, b, kind in edges)
    return Pipeline(name=name, framework="zenml", function=f"pkg.{name}", module="pkg", path="pipe.py", line=1,
                    steps=steps, edges=edge_objects)


@pytest.fixture(scope="module")
def example():
    import pvcheck

    base, head = pvcheck.scan(EXAMPLE / "base"), pvcheck.scan(EXAMPLE / "head")
    return only_pipeline(base, "churn_training"), only_pipeline(head, "churn_training")


def _example_change(example, findings=(), matches=None) -> PipelineChange:
    base, head = example
    if matches is None:
        matches = {"load_customers": "load_customers", "build_features": "make_features",
                   "split_dataset": "split_dataset", "train_model": "train_model", "evaluate_model": "evaluate_model"}
    return PipelineChange("churn_training", "zenml", head.path, Status.MODIFIED, Decision.VERSION, base, head,
                          tuple(findings), 5 / 6, matches)


# ------------------------------------------------------------------ classification


def test_change_graph_classifies_every_kind_of_step_change(example):
    graph = change_graph(_example_change(example))
    status = {node.id: node.status for node in graph.nodes}
    assert status == {
        "load_customers": StepStatus.UNCHANGED,
        "make_features": StepStatus.RENAMED,
        "validate_features": StepStatus.ADDED,
        "split_dataset": StepStatus.UNCHANGED,  # rewired input: shown on the edges, not as config
        "train_model": StepStatus.BODY,
        "evaluate_model": StepStatus.CONFIG,  # enable_cache=False added
        "report": StepStatus.REMOVED,
    }
    renamed = next(n for n in graph.nodes if n.id == "make_features")
    assert renamed.renamed_from == "build_features" and "was build_features" in renamed.notes


def test_change_graph_edges_added_and_removed(example):
    graph = change_graph(_example_change(example))
    ids = {n.key: n.id for n in graph.nodes}
    by_status = {(ids[e.source], ids[e.target], e.status) for e in graph.edges}
    assert ("make_features", "validate_features", StepStatus.ADDED) in by_status
    assert ("validate_features", "split_dataset", StepStatus.ADDED) in by_status
    # the old edge build_features -> split_dataset, renamed end mapped to the head id
    assert ("make_features", "split_dataset", StepStatus.REMOVED) in by_status
    assert ("evaluate_model", "report", StepStatus.REMOVED) in by_status
    assert ("load_customers", "make_features", StepStatus.UNCHANGED) in by_status


def test_findings_naming_a_step_mark_it_even_when_prints_agree(example):
    base, head = example
    finding = Finding("PV410", "structural", Decision.VERSION, "dynamic code", "steps/data.py", 8,
                      step="load_customers")
    graph = change_graph(_example_change(example, [finding]))
    assert next(n for n in graph.nodes if n.id == "load_customers").status is StepStatus.BODY


def test_matches_completed_by_invocation_id_when_policies_give_none(example):
    base, _ = example
    change = PipelineChange("churn_training", "zenml", base.path, Status.UNCHANGED, Decision.RUN, base, base)
    graph = change_graph(change)
    assert {n.status for n in graph.nodes} == {StepStatus.UNCHANGED}
    assert {e.status for e in graph.edges} == {StepStatus.UNCHANGED}


def test_removed_step_key_cannot_collide_with_a_head_step():
    base = _pipeline(["a", "b"], [("a", "b", "data")])
    head = _pipeline(["a", "b (removed)", "c"], [("a", "c", "data")])
    change = PipelineChange("p", "zenml", "pipe.py", Status.MODIFIED, Decision.VERSION, base, head,
                            step_matches={"a": "a"})
    graph = change_graph(change)
    keys = [n.key for n in graph.nodes]
    assert len(keys) == len(set(keys)) == 4
    removed = next(n for n in graph.nodes if n.status is StepStatus.REMOVED)
    assert removed.id == "b" and removed.key != "b (removed)"
    check(mermaid([graph]))


def test_added_and_removed_pipelines_share_their_fate():
    pipeline = _pipeline(["a", "b"], [("a", "b", "order")])
    added = change_graph(PipelineChange("p", "zenml", "pipe.py", Status.ADDED, Decision.PIPELINE, None, pipeline))
    removed = change_graph(PipelineChange("p", "zenml", "pipe.py", Status.REMOVED, None, pipeline, None))
    assert {n.status for n in added.nodes} == {StepStatus.ADDED}
    assert {n.status for n in removed.nodes} == {StepStatus.REMOVED}
    assert {e.status for e in removed.edges} == {StepStatus.REMOVED}


# ------------------------------------------------------------------ mermaid


def test_mermaid_plain_graph_of_the_fixture():
    import pvcheck

    project = pvcheck.scan(FIXTURES / "zenml_churn")
    pipeline = only_pipeline(project, "batch_features")
    text = pipeline_mermaid(pipeline)
    counts = check(text)
    assert counts == {"nodes": 4, "links": len(pipeline.edges), "subgraphs": 0}
    assert '"<b>load_fresh</b><br/>steps.ingest.load_customers"' in text
    assert re.search(r'-->\|"output → customers"\|', text)
    assert text.count("-.->") == sum(1 for e in pipeline.edges if e.kind == "order")
    assert "Legend" not in text  # nothing compared: no legend


def test_mermaid_several_pipelines_one_subgraph_each():
    import pvcheck

    project = pvcheck.scan(FIXTURES / "zenml_churn")
    text = pipeline_mermaid(project.pipelines)
    counts = check(text)
    assert counts["subgraphs"] == len(project.pipelines) >= 2
    assert counts["nodes"] == sum(len(p.steps) for p in project.pipelines)


def test_mermaid_change_graph_styles_and_legend(example):
    text = mermaid([change_graph(_example_change(example))])
    check(text)
    for status in ("added", "removed", "body", "config", "renamed"):
        assert f"classDef {status} " in text
    # the legend: one line under the graph, naming the statuses the picture shows
    [legend] = re.findall(r'^  legend\["(.*)"\]$', text, re.MULTILINE)
    assert "🟩 added" in legend and "🟥 removed" in legend and "🟨 code changed" in legend and "·" in legend
    assert re.search(r"^  s\d+ ~~~ legend$", text, re.MULTILINE)
    assert "subgraph legend" not in text
    assert re.search(r"^  class \S*s6\S* removed$", text, re.MULTILINE)  # report, the removed step
    styled = [int(i) for i in re.findall(r"^  linkStyle (\d+) ", text, re.MULTILINE)]
    assert len(styled) == 4  # two edges added, two removed


HOSTILE_IDS = ['end', 'say "hi"', "a#b;c", "<script>x</script>", "pipe|line", "`tick`", "o", "x-1",
               "graph", "ünïcödé", "semi;colon", "per%%cent", "new\nline"]


def test_mermaid_escapes_hostile_names():
    pipeline = _pipeline(HOSTILE_IDS, [(HOSTILE_IDS[i], HOSTILE_IDS[i + 1], "data" if i % 2 else "order")
                                       for i in range(len(HOSTILE_IDS) - 1)], name='we"ird|name#1')
    base = _pipeline(HOSTILE_IDS[:3])
    change = PipelineChange(pipeline.name, "zenml", "pipe.py", Status.MODIFIED, Decision.VERSION, base, pipeline)
    for text in (pipeline_mermaid(pipeline), mermaid([plain_graph(pipeline), plain_graph(base)]),
                 mermaid([change_graph(change)])):
        check(text)
        assert "<script>" not in text


def test_escape_uses_mermaid_entity_codes():
    assert escape('a"b') == "a#quot;b"
    assert escape("#1") == "#35;1"
    assert escape("<b>") == "#lt;b#gt;"
    assert escape("x|y") == "x#124;y"


def test_grammar_checker_rejects_broken_output():
    good = 'flowchart TD\n  s0["a"]\n  s1["b"]\n  s0 --> s1\n'
    check(good)
    for broken in (
        good.replace('"a"', '"a"b"'),  # raw quote
        good.replace("s0 --> s1", "s0 --> s9"),  # undeclared node
        good.replace("s1[", "end["),  # keyword as id
        good + "  linkStyle 3 stroke:#f00\n",  # no such link
        good + "  subgraph g[\"x\"]\n",  # unbalanced
        good.replace('"b"', '"<img src=x>"'),  # raw tag
    ):
        with pytest.raises(MermaidSyntaxError):
            check(broken)


# ------------------------------------------------------------------ dot


def test_dot_quotes_everything():
    assert quote('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    pipeline = _pipeline(HOSTILE_IDS, [(HOSTILE_IDS[0], HOSTILE_IDS[1], "data"),
                                       (HOSTILE_IDS[1], HOSTILE_IDS[2], "order")])
    text = pipeline_dot(pipeline)
    # every statement line is balanced in its unescaped quotes
    for line in text.splitlines():
        assert len(re.findall(r'(?<!\\)"', line.replace("\\\\", ""))) % 2 == 0, line
    assert text.count(" -> ") == 2 and "style=dashed" in text


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")
def test_dot_output_is_accepted_by_graphviz(example):
    pipeline = _pipeline(HOSTILE_IDS, [(HOSTILE_IDS[i], HOSTILE_IDS[i + 1], "data") for i in range(4)])
    for text in (pipeline_dot(pipeline), dot([change_graph(_example_change(example)), plain_graph(pipeline)])):
        result = subprocess.run(["dot", "-Tsvg"], input=text.encode(), capture_output=True, timeout=60)
        assert result.returncode == 0, result.stderr.decode()
        assert b"<svg" in result.stdout


# ------------------------------------------------------------------ command line


def test_cli_graph_mermaid_one_pipeline(capsys):
    code = main(["graph", str(FIXTURES / "zenml_churn"), "--pipeline", "churn_training"])
    out = capsys.readouterr().out
    assert code == 0
    counts = check(out)
    assert counts["nodes"] == 9 and counts["subgraphs"] == 0


def test_cli_graph_all_pipelines_by_default(capsys):
    assert main(["graph", str(FIXTURES / "zenml_churn")]) == 0
    assert check(capsys.readouterr().out)["subgraphs"] >= 2


def test_cli_graph_dot_json_text(capsys):
    path = str(FIXTURES / "zenml_churn")
    assert main(["graph", path, "--pipeline", "batch_features", "--format", "dot"]) == 0
    assert capsys.readouterr().out.startswith('digraph "batch_features" {')
    assert main(["graph", path, "--pipeline", "batch_features", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "pvcheck.graph/1"
    assert [s["id"] for s in data["pipelines"][0]["steps"]][:2] == ["load_fresh", "load_customers"]
    assert {"source": "load_fresh", "target": "load_customers", "kind": "order"}.items() <= \
        data["pipelines"][0]["edges"][0].items()
    assert main(["graph", path, "--pipeline", "batch_features", "--format", "text"]) == 0
    assert "build_features_2  steps.features.build_features  <- load_customers.output" in capsys.readouterr().out


def test_cli_graph_unknown_pipeline_is_one_line_exit_2(monkeypatch, capsys):
    monkeypatch.delenv("PVCHECK_DEBUG", raising=False)  # errors as users see them
    assert main(["graph", str(FIXTURES / "zenml_churn"), "--pipeline", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no pipeline named 'nope'" in err and "batch_features, churn_training" in err


def test_cli_graph_missing_path(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("PVCHECK_DEBUG", raising=False)  # errors as users see them
    assert main(["graph", str(tmp_path / "missing")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_cli_graph_folder_without_pipelines(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("PVCHECK_DEBUG", raising=False)  # errors as users see them
    (tmp_path / "m.py").write_text("x = 1\n")
    assert main(["graph", str(tmp_path)]) == 2
    assert "no pipelines found" in capsys.readouterr().err


# ------------------------------------------------------------------ real Mermaid (needs chromium)

sys.path.insert(0, str(REPO / "scripts"))
import render_mermaid  # noqa: E402

_CHROMIUM = render_mermaid.find_chromium()
_MERMAID_JS = render_mermaid.find_mermaid_js()


@pytest.mark.skipif(_CHROMIUM is None or _MERMAID_JS is None,
                    reason="needs chromium and mermaid.min.js (PVCHECK_MERMAID_JS)")
def test_real_mermaid_accepts_every_form_we_write(example, tmp_path):
    import pvcheck

    project = pvcheck.scan(FIXTURES / "zenml_churn")
    hostile = _pipeline(HOSTILE_IDS, [(HOSTILE_IDS[i], HOSTILE_IDS[i + 1], "data" if i % 2 else "order")
                                      for i in range(len(HOSTILE_IDS) - 1)], name='we"ird|name#1')
    base = _pipeline(HOSTILE_IDS[:4], [(HOSTILE_IDS[0], HOSTILE_IDS[3], "data")])
    hostile_change = PipelineChange(hostile.name, "zenml", "p.py", Status.MODIFIED, Decision.VERSION, base, hostile)
    diagrams = [
        pipeline_mermaid(project.pipelines),
        mermaid([change_graph(_example_change(example))]),
        mermaid([change_graph(hostile_change)]),
        mermaid([plain_graph(hostile), change_graph(hostile_change)], "LR"),
        mermaid([plain_graph(_pipeline([]))]),
    ]
    result = render_mermaid.render(diagrams, _MERMAID_JS, _CHROMIUM)
    assert result["errors"] == [] and result["rendered"] == len(diagrams)


# ------------------------------------------------------------------ --base against a real comparison


def test_real_comparison_classifies_steps(example):
    import pvcheck

    report = pvcheck.diff(EXAMPLE / "base", EXAMPLE / "head")
    change = next(c for c in report.pipelines if c.name == "churn_training")
    status = {n.id: n.status for n in change_graph(change).nodes}
    # split_dataset has a PV404 finding (its input was rewired): an edge change, not a code change
    assert status["split_dataset"] is StepStatus.UNCHANGED
    assert status["train_model"] is StepStatus.BODY and status["evaluate_model"] is StepStatus.CONFIG
    assert status["make_features"] is StepStatus.RENAMED
    assert status["validate_features"] is StepStatus.ADDED and status["report"] is StepStatus.REMOVED


def test_cli_graph_base_revision(tmp_path, capsys):
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE / "base", repo)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], check=True)
    for folder in ("steps", "pipelines"):
        shutil.rmtree(repo / folder)
        shutil.copytree(EXAMPLE / "head" / folder, repo / folder)
    assert main(["graph", str(repo), "--base", "HEAD", "--pipeline", "churn_training"]) == 0
    out = capsys.readouterr().out
    check(out)
    assert re.search(r"^  class s4 body$", out, re.MULTILINE)  # train_model
    assert re.search(r'^  legend\[".*🟨 code changed.*"\]$', out, re.MULTILINE)
    assert main(["graph", str(repo), "--base", "HEAD", "--format", "text"]) == 0
    text = capsys.readouterr().out
    assert "train_model" in text and "[code changed]" in text and "[removed]" in text
