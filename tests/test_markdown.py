"""The markdown report (``diff``/``check --format markdown``) and its committed example."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import pvcheck
from pvcheck.cli import main
from pvcheck.model import Decision, Finding, Pipeline, PipelineChange, Report, Status, Step
from pvcheck.output.markdown import MAX_GRAPH_STEPS, cell, code, headline, markdown_report
from pvcheck.output.report import RenderContext, render_report
from tests.mermaid_grammar import check

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
import make_examples  # noqa: E402
import render_mermaid  # noqa: E402

_MERMAID = re.compile(r"^```mermaid\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _pipeline(name: str, ids: list[str]) -> Pipeline:
    steps = tuple(Step(id=i, function=f"m.{i}", name=i, path="s.py", line=1, fingerprint=f"fp1:{i}") for i in ids)
    return Pipeline(name=name, framework="zenml", function=f"m.{name}", module="m", path="p.py", line=3,
                    steps=steps, fingerprint=f"fp1:{name}{len(ids)}")


def test_committed_example_is_up_to_date():
    committed = make_examples.REPORT.read_text(encoding="utf-8")
    assert make_examples.example_report() == committed, \
        "docs/examples/report.md is stale: run `python scripts/make_examples.py --png` and commit it"


def test_example_shows_versions_graphs_and_findings():
    text = make_examples.REPORT.read_text(encoding="utf-8")
    assert "| `churn_training` | modified | v1 | v2 | **version** |" in text
    assert "| `churn_scoring` | modified | v1 | v1 | run |" in text
    blocks = _MERMAID.findall(text)
    assert len(blocks) == 2
    for block in blocks:
        check(block)
    training = blocks[1]
    assert re.search(r'\["<b>train_model</b>.*code changed</i>"\]', training)
    assert re.search(r'\(\["<b>report</b>.*removed</i>"\]\)', training)
    assert "| **version** | PV401 | `train_model` | `steps/model.py:8` |" in text
    assert make_examples.PNG.is_file() and make_examples.PNG.stat().st_size > 10_000


def test_summary_table_and_sections_only_for_changed_pipelines():
    same = _pipeline("same", ["a"])
    old, new = _pipeline("grown", ["a"]), _pipeline("grown", ["a", "b"])
    report = Report((
        PipelineChange("same", "zenml", "p.py", Status.UNCHANGED, Decision.RUN, same, same),
        PipelineChange("grown", "zenml", "p.py", Status.MODIFIED, Decision.VERSION, old, new,
                       (Finding("PV403", "structural", Decision.VERSION, "step b added", "p.py", 5, "b"),), 1.0,
                       {"a": "a"}),
        PipelineChange("gone", "zenml", "g.py", Status.REMOVED, None, _pipeline("gone", ["x"]), None),
    ))
    text = markdown_report(report)
    assert text.startswith("## pvcheck: 1 new version, 1 run, 1 removed\n")
    assert "| pipeline | status | base | head | decision |" in text  # no versions known: fingerprints
    assert "| `same` | unchanged | `same1` | `same1` | run |" in text
    assert "| `gone` | removed | `gone1` | — | — |" in text
    assert "### `same`" not in text and "### `grown`: version" in text and "### `gone`: removed" in text
    for block in _MERMAID.findall(text):
        check(block)


def test_versions_label_the_table_and_headings():
    old, new = _pipeline("p", ["a"]), _pipeline("p", ["a", "b"])
    report = Report((PipelineChange("p", "zenml", "p.py", Status.MODIFIED, Decision.VERSION, old, new,
                                    step_matches={"a": "a"}),))
    text = markdown_report(report, versions={"p": (3, 4)})
    assert "| pipeline | status | old version | new version | decision |" in text
    assert "| `p` | modified | v3 | v4 | **version** |" in text
    assert "### `p`: version (v3 → v4)" in text
    assert "No findings." in text


def test_cells_and_code_spans_are_escaped():
    assert cell("a|b<script>\nc") == "a\\|b&lt;script> c"
    assert code("x`y") == "``x`y``"
    assert code("a|b") == "`a\\|b`" and code("a|b", table=False) == "`a|b`"
    finding = Finding("PV401", "structural", Decision.VERSION, "changed `x | y` <img src=q>", "s.py", 2, "a")
    old, new = _pipeline("p", ["a"]), _pipeline("p", ["a"])
    text = markdown_report(Report((PipelineChange("p", "zenml", "p.py", Status.MODIFIED, Decision.VERSION, old, new,
                                                  (finding,), step_matches={"a": "a"}),)))
    row = next(line for line in text.splitlines() if line.startswith("| **version** | PV401"))
    assert row.count(" | ") == 4 and "<img" not in row  # five cells, no raw HTML


def test_huge_graphs_are_left_out_with_a_pointer():
    ids = [f"s{i}" for i in range(MAX_GRAPH_STEPS + 1)]
    old, new = _pipeline("big", ids[:-1]), _pipeline("big", ids)
    change = PipelineChange("big", "zenml", "p.py", Status.MODIFIED, Decision.VERSION, old, new)
    text = markdown_report(Report((change,)))
    assert "```mermaid" not in text and "pvcheck graph --pipeline big" in text


def test_headline_counts():
    assert headline(Report()) == "pvcheck: no pipelines"


def test_registered_as_the_markdown_report_format():
    report = pvcheck.diff(make_examples.BASE, make_examples.HEAD)
    text = render_report(report, "markdown", RenderContext(versions={"churn_training": (1, 2)}))
    assert "```mermaid" in text and "| `churn_training` | modified | v1 | v2 | **version** |" in text


def test_cli_diff_markdown(capsys):
    code_ = main(["diff", str(make_examples.BASE), str(make_examples.HEAD), "--format", "markdown"])
    out = capsys.readouterr().out
    assert code_ == 0
    blocks = _MERMAID.findall(out)
    assert len(blocks) == 2
    for block in blocks:
        check(block)


@pytest.mark.skipif(render_mermaid.find_chromium() is None or render_mermaid.find_mermaid_js() is None,
                    reason="needs chromium and mermaid.min.js (PVCHECK_MERMAID_JS)")
def test_real_mermaid_renders_the_example(tmp_path):
    text = make_examples.REPORT.read_text(encoding="utf-8")
    png = tmp_path / "example.png"
    result = render_mermaid.render(render_mermaid.diagrams_in(text), render_mermaid.find_mermaid_js(),
                                   render_mermaid.find_chromium(), png)
    assert result["errors"] == [] and result["rendered"] == 2
    assert png.stat().st_size > 10_000
